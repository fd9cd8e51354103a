//! The evaluations the services report: kept once each (the audit of refusals), and replayed by
//! a what-if against the active version.

use common::bus::Envelope;
use common::bus::topics::RULE_EVALUATION;
use proto::rule::v1 as pb;
use serde_json::{Value, json};

use crate::helpers::{TestApp, engines, spawn_with, until};

/// The `order` inputs of a buy of HPG worth `value` VND.
pub fn order_json(id: &str, value: i64) -> Value {
    json!({
        "order": {"id": id, "account": "0001001", "strategy": "", "symbol": "HPG", "side": "buy",
                  "type": "LO", "price": 25_000, "quantity": value / 25_000, "value": value},
        "security": {"symbol": "HPG", "exchange": "HOSE", "kind": "stock", "status": "normal",
                     "reference": 25_000, "ceiling": 26_750, "floor": 23_250},
        "account": {"id": "0001001", "exposure": 0, "symbol_exposure": 0, "position": 0,
                    "open_orders": 0, "realised_today": 0, "pnl_today": 0, "drawdown": 0},
        "market": {"last": 25_000, "change_pct": 0.0},
        "now": {"date": "2026-12-01", "time": "10:00", "minute": 600, "weekday": 2}
    })
}

/// A one-rule set of orders above `max` VND.
pub fn limits(max: i64) -> Value {
    json!({"name": "limits", "target": "order", "rules": [{
        "id": "max_value", "condition": format!("order.value > {max}"),
        "message": format!("above {max}")}]})
}

/// Saves `doc` as a new version, submits and approves it; its version.
pub async fn activate(app: &TestApp, doc: Value) -> i64 {
    let r = app.call("POST", "/v1/sets", Some(doc)).await;
    assert_eq!(r.status, 201, "{r:?}");
    let (name, v) = (
        r.body["name"].as_str().unwrap().to_owned(),
        r.body["version"].as_i64().unwrap(),
    );
    let r = app
        .call(
            "POST",
            &format!("/v1/sets/{name}/versions/{v}/submit"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .call(
            "POST",
            &format!("/v1/sets/{name}/versions/{v}/approve"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    v
}

fn evaluation(id: &str, value: i64, max: i64) -> pb::RuleEvaluation {
    let refused = value > max;
    pb::RuleEvaluation {
        id: format!("risk:{id}"),
        service: "risk".into(),
        target: "order".into(),
        subject: id.into(),
        owner: "0001001".into(),
        allowed: !refused,
        rejections: if refused {
            vec![pb::Finding {
                set: "limits".into(),
                version: 1,
                rule: "max_value".into(),
                action: "reject".into(),
                message: format!("above {max}"),
            }]
        } else {
            Vec::new()
        },
        warnings: Vec::new(),
        sets: vec!["limits@1".into()],
        inputs_json: order_json(id, value).to_string(),
        at: Some(common::bus::proto_time(time::OffsetDateTime::now_utc())),
    }
}

#[tokio::test]
async fn reported_evaluations_are_kept_once_and_a_what_if_replays_a_draft_on_them() {
    for (engine, env) in engines().await {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let app = spawn_with(&env).await;
        activate(&app, limits(1_000_000_000)).await;
        // Twelve orders of 100M to 1.2B; the first reported twice (a redelivery).
        for i in 1..=12 {
            let e = evaluation(&format!("c-{i}"), i * 100_000_000, 1_000_000_000);
            let times = if i == 1 { 2 } else { 1 };
            for _ in 0..times {
                app.app
                    .bus
                    .publish(
                        RULE_EVALUATION.static_name(),
                        &Envelope::new("risk", "0001001", &e),
                    )
                    .await
                    .unwrap();
            }
        }
        let all = until("12 evaluations kept", || async {
            let r = app
                .call("GET", "/v1/evaluations?refused=false&limit=100", None)
                .await;
            (r.body.as_array().map_or(0, Vec::len) == 12).then_some(r.body)
        })
        .await;
        assert_eq!(all[0]["subject"], "c-12", "{engine}: newest first");
        // The audit: the refusals, with what refused them and what the rule saw.
        let refused = app.call("GET", "/v1/evaluations", None).await.body;
        assert_eq!(refused.as_array().unwrap().len(), 2, "{engine}: {refused}");
        assert_eq!(refused[0]["rejections"][0]["rule"], "max_value");
        assert_eq!(refused[0]["inputs"]["order"]["value"], 1_200_000_000_i64);
        assert_eq!(refused[0]["sets"][0], "limits@1");
        let by_set = app
            .call("GET", "/v1/evaluations?refused=false&set=limits", None)
            .await;
        assert_eq!(by_set.body.as_array().unwrap().len(), 12);
        let other = app
            .call("GET", "/v1/evaluations?refused=false&set=limit", None)
            .await;
        assert_eq!(
            other.body.as_array().unwrap().len(),
            0,
            "a set's name is matched whole"
        );
        assert_eq!(
            app.call("GET", "/v1/evaluations?target=trades", None)
                .await
                .status,
            400
        );

        // A tighter draft, replayed on what was recorded, against the active version.
        let r = app
            .call("POST", "/v1/sets", Some(limits(500_000_000)))
            .await;
        let v = r.body["version"].as_i64().unwrap();
        let w = app
            .call(
                "POST",
                &format!("/v1/sets/limits/versions/{v}/what-if"),
                Some(json!({})),
            )
            .await;
        assert_eq!(w.status, 200, "{w:?}");
        let b = &w.body;
        assert_eq!(
            (
                b["evaluated"].as_u64(),
                b["compared_with"].as_i64(),
                b["newly_refused"].as_u64(),
                b["newly_allowed"].as_u64(),
                b["reasons_changed"].as_u64()
            ),
            (Some(12), Some(1), Some(5), Some(0), Some(2)),
            "{engine}: {b}"
        );
        assert_eq!(b["refusals_by_rule"]["max_value"], 7);
        let change = b["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["subject"] == "c-6")
            .unwrap();
        assert_eq!(change["before"], json!([]));
        assert_eq!(change["after"], json!(["max_value: above 500000000"]));
        // Given inputs instead of the record; bad ones are named.
        let w = app
            .call(
                "POST",
                &format!("/v1/sets/limits/versions/{v}/what-if"),
                Some(json!({"inputs": [order_json("x", 700_000_000)]})),
            )
            .await;
        assert_eq!(
            (
                w.body["evaluated"].as_u64(),
                w.body["newly_refused"].as_u64()
            ),
            (Some(1), Some(1))
        );
        let mut bad = order_json("y", 1);
        bad["order"]["value"] = json!("a lot");
        let w = app
            .call(
                "POST",
                &format!("/v1/sets/limits/versions/{v}/what-if"),
                Some(json!({"inputs": [order_json("x", 1), bad]})),
            )
            .await;
        assert_eq!(w.status, 400);
        assert!(
            w.body["message"]
                .as_str()
                .unwrap()
                .starts_with("inputs[1]: order.value"),
            "{w:?}"
        );
        // The active sets evaluated on inputs (an order ticket's preview).
        let e = app
            .call(
                "POST",
                "/v1/evaluate",
                Some(json!({"target": "order", "inputs": order_json("z", 1_500_000_000)})),
            )
            .await;
        assert_eq!(e.status, 200, "{e:?}");
        assert_eq!(e.body["rejections"][0]["message"], "above 1000000000");
        assert_eq!(e.body["sets"][0], "limits@1");
        app.app.stop().await.unwrap();
    }
}
