//! The rule service's decision rule sets judge every decision before it is sent: a refusal is
//! recorded with the rule that refused it and never sent; a `quantity_factor` scales a buy in
//! whole lots; each evaluation is reported on `rule.evaluation.v1`.

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{MARKET_TRADE, RULE_EVALUATION, TA_SIGNAL};
use common::service::testing::spawn;
use serde_json::{Value, json};

async fn post(url: String, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

#[tokio::test]
async fn decision_rule_sets_refuse_and_scale_decisions_before_they_are_sent() {
    let rule = spawn::<rule::App>(&[]).await.unwrap();
    let doc = json!({
        "name": "strategy-filters", "target": "decision",
        "rules": [{"id": "no_aaa_buys", "condition": "decision.symbol == 'AAA' && decision.side == 'buy'",
                   "message": "no buys of {{decision.symbol}} on {{signal.name}}"}],
        "tables": [{"id": "size", "inputs": ["decision.symbol"], "rows": [
            {"when": ["'BBB'"], "action": "set", "values": {"quantity_factor": "0.5"}}]}]
    });
    post(rule.http_url("/api/rule/v1/sets"), doc).await;
    for step in ["submit", "approve"] {
        post(
            rule.http_url(&format!(
                "/api/rule/v1/sets/strategy-filters/versions/1/{step}"
            )),
            json!({}),
        )
        .await;
    }
    // The decision engine loads the active sets at start; its OMS is not there (decisions it
    // lets through fail to send, and are recorded with their quantity).
    let decision = spawn::<decision::App>(&[
        ("DECISION__PEERS__RULE", rule.grpc_url().as_str()),
        ("DECISION__PEERS__OMS", "http://127.0.0.1:9"),
        ("DECISION__DECISION__OMS_TIMEOUT_MS", "200"),
        ("DECISION__DECISION__ENABLE_ALL", "true"),
    ])
    .await
    .unwrap();
    let bus = decision.bus.clone();
    let mut reported = bus
        .subscribe("test.evaluations", &[RULE_EVALUATION.static_name()])
        .await
        .unwrap();
    for symbol in ["AAA", "BBB"] {
        let trade = proto::market::v1::Trade {
            symbol: symbol.into(),
            price: 20_000,
            quantity: 100,
            ..Default::default()
        };
        bus.publish(
            MARKET_TRADE.static_name(),
            &Envelope::new("test", symbol, &trade),
        )
        .await
        .unwrap();
    }
    let signal = |symbol: &str| proto::ta::v1::Signal {
        id: format!("{symbol}-1D-1-golden_cross"),
        symbol: symbol.into(),
        timeframe: "1D".into(),
        kind: "crossover".into(),
        name: "golden_cross".into(),
        direction: 1,
        value: 1.0,
        detail: "sma50 crossed above sma200".into(),
        ..Default::default()
    };
    // Until both are decided at a price (the trades are read on another topic).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let list = loop {
        for symbol in ["AAA", "BBB"] {
            bus.publish(
                TA_SIGNAL.static_name(),
                &Envelope::new("ta", symbol, &signal(symbol)),
            )
            .await
            .unwrap();
        }
        let list: Value = reqwest::get(decision.http_url("/api/decision/v1/decisions"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let priced = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["price"] == 20_000)
            .count();
        if priced >= 2 {
            break list;
        }
        assert!(tokio::time::Instant::now() < deadline, "{list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let of = |symbol: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["symbol"] == symbol)
            .cloned()
            .unwrap()
    };
    let aaa = of("AAA");
    assert_eq!(aaa["status"], "refused", "{aaa}");
    assert_eq!(
        aaa["detail"],
        "rule strategy-filters/no_aaa_buys: no buys of AAA on golden_cross"
    );
    // 5 % of 1,000,000,000 VND at 20,000 is 2,500 shares; halved in whole lots: 1,200.
    let bbb = of("BBB");
    assert_eq!(bbb["quantity"], 1_200, "{bbb}");
    assert_ne!(bbb["status"], "refused", "{bbb}");
    assert!(
        bbb["reason"]
            .as_str()
            .unwrap()
            .contains("× 0.5 by the rule sets"),
        "{bbb}"
    );
    // Both evaluations reported, the refusal with what the rule saw.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let d = reported
            .poll(Duration::from_secs(10))
            .await
            .unwrap()
            .unwrap();
        seen.push(
            d.envelope
                .decode::<proto::rule::v1::RuleEvaluation>()
                .unwrap(),
        );
    }
    let refused = seen.iter().find(|e| !e.allowed).unwrap();
    assert_eq!(refused.service, "decision");
    assert_eq!(refused.owner, "ma-cross");
    assert_eq!(refused.rejections[0].rule, "no_aaa_buys");
    let inputs: Value = serde_json::from_str(&refused.inputs_json).unwrap();
    assert_eq!(inputs["signal"]["name"], "golden_cross");
    assert_eq!(inputs["decision"]["price"], 20_000);
}
