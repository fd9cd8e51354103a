//! Alert rule sets (the rule service's sets of target `alert`) judged on every closed bar: a
//! rule raises its alert on the bar where its condition becomes true — not again while it
//! stays true — as a stored `alert` signal naming the set and rule, with its message.

use std::time::Duration;

use common::bus::Envelope;
use common::service::testing::spawn;
use historical::domain::Bar;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::helpers::TestApp;

async fn post(url: String, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn bar(i: i64, close: i64) -> proto::market::v1::Bar {
    let start = datetime!(2025-06-09 02:15 UTC) + time::Duration::minutes(i);
    let b = Bar {
        symbol: "FPT".into(),
        start,
        seconds: 60,
        open: close - 50,
        high: close + 60,
        low: close - 60,
        close,
        volume: 1_000,
        trades: 4,
    };
    proto::market::v1::Bar {
        symbol: b.symbol,
        start: Some(prost_types::Timestamp {
            seconds: b.start.unix_timestamp(),
            nanos: 0,
        }),
        seconds: 60,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: 1_000,
        trades: 4,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_rule_fires_on_the_bar_its_condition_becomes_true_and_not_while_it_holds() {
    let rule = spawn::<rule::App>(&[]).await.unwrap();
    let base = rule.http_url("/api/rule/v1/sets");
    // A rule that refuses is not an alert: the set is refused with the reason.
    let r = reqwest::Client::new()
        .post(&base)
        .json(&json!({"name": "bad", "target": "alert",
                      "rules": [{"id": "x", "condition": "bar.close > 0"}]}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("an alert rule raises an alert with warn"),
        "{body}"
    );
    post(
        base,
        json!({"name": "house-alerts", "target": "alert",
               "rules": [{"id": "rsi_overbought", "action": "warn",
                          "condition": "bar.timeframe == '1m' && 'rsi14' in ind && ind['rsi14'] > 70.0",
                          "message": "{{bar.symbol}} RSI above 70 at {{bar.time}} (close {{bar.close}})"}]}),
    )
    .await;
    for step in ["submit", "approve"] {
        post(
            rule.http_url(&format!("/api/rule/v1/sets/house-alerts/versions/1/{step}")),
            json!({}),
        )
        .await;
    }
    // No historical service: the symbol starts cold.
    let ta = TestApp::spawn(&[
        ("TA__PEERS__HISTORICAL", "http://127.0.0.1:9"),
        ("TA__PEERS__RULE", rule.grpc_url().as_str()),
    ])
    .await;
    // Closes rise for 20 bars and fall for 20, three times: the RSI goes above 70 and stays
    // there for several bars on each rise.
    let mut batch = Vec::new();
    for i in 0..120 {
        let swing = if (i / 20) % 2 == 0 {
            i % 20
        } else {
            20 - i % 20
        };
        batch.push((
            "market.bar.v1",
            Envelope::new("historical", "FPT", &bar(i, 100_000 + swing * 500)),
        ));
    }
    ta.app.bus.publish_batch(&batch).await.unwrap();
    // Redelivered: nothing new.
    ta.app.bus.publish_batch(&batch[100..]).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (alerts, left) = loop {
        let latest = ta.get_json("/api/ta/v1/latest/FPT", 200).await;
        let done = latest
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["timeframe"] == "1m" && s["bar_start"] == "2025-06-09T04:14:00Z");
        let alerts = ta
            .get_json("/api/ta/v1/signals?symbol=FPT&kind=alert&limit=1000", 200)
            .await;
        let levels = ta
            .get_json("/api/ta/v1/signals?symbol=FPT&kind=level&limit=1000", 200)
            .await;
        if done && !alerts.as_array().unwrap().is_empty() {
            break (alerts, levels);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no alerts: {latest}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let starts = |v: &Value, name: &str| -> Vec<String> {
        let mut s: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["name"] == name && s["timeframe"] == "1m")
            .map(|s| s["bar_start"].as_str().unwrap().to_owned())
            .collect();
        s.sort();
        s
    };
    let raised = starts(&alerts, "house-alerts/rsi_overbought");
    let left = starts(&left, "rsi14_left_overbought");
    // Each rise raises the alert once; the RSI leaves overbought before the next one.
    assert!(raised.len() >= 2, "{raised:?} / {left:?}");
    for (i, at) in raised.iter().enumerate() {
        assert!(
            left.iter().any(|l| l > at),
            "raised at {at} but never left: {left:?}"
        );
        if let Some(next) = raised.get(i + 1) {
            assert!(
                left.iter().any(|l| l > at && l < next),
                "raised again at {next} without leaving since {at}: {left:?}"
            );
        }
    }
    let first = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["bar_start"] == raised[0].as_str())
        .unwrap();
    assert_eq!(first["kind"], "alert");
    assert_eq!(first["direction"], 0);
    let detail = first["detail"].as_str().unwrap();
    assert!(detail.starts_with("FPT RSI above 70 at "), "{detail}");
    let ids: std::collections::HashSet<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), alerts.as_array().unwrap().len());
    assert!(
        ta.metrics()
            .await
            .contains("ta_signals_total{kind=\"alert\"}"),
        "alerts are counted"
    );
}
