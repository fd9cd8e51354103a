//! Rule sets through the API: versions from draft to active with who and when (four eyes),
//! rolled back and retired in one call, each change on `rule.set.v1`; documents that do not
//! compile are refused naming every problem.

use std::time::Duration;

use common::bus::topics::RULE_SET;
use common::service::testing::Tokens;
use proto::rule::v1 as pb;
use serde_json::{Value, json};

use crate::helpers::{TestApp, engines, spawn_app, spawn_with_tokens};

fn limits(max_value: u64) -> Value {
    json!({
        "name": "limits",
        "target": "order",
        "description": format!("orders up to {max_value} VND"),
        "rules": [{"id": "max_value", "condition": format!("order.value > {max_value}"),
                   "message": format!("order value {{{{order.value}}}} above {max_value}")}]
    })
}

/// The next `rule.set.v1` events, as many as asked.
async fn changes(
    sub: &mut Box<dyn common::bus::Subscription>,
    n: usize,
) -> Vec<pb::RuleSetChanged> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        assert!(tokio::time::Instant::now() < deadline, "got {out:?}");
        if let Some(d) = sub.poll(Duration::from_millis(100)).await.unwrap() {
            out.push(d.envelope.decode::<pb::RuleSetChanged>().unwrap());
            sub.commit(&d).await.unwrap();
        }
    }
    out
}

async fn status_of(app: &TestApp, token: &str, version: u64) -> String {
    let v = app
        .call_as(
            Some(token),
            "GET",
            &format!("/v1/sets/limits/versions/{version}"),
            None,
        )
        .await;
    assert_eq!(v.status, 200, "{v:?}");
    v.body["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_rule_set_goes_from_draft_to_active_is_rolled_back_and_retired_with_who_and_when() {
    let tokens = Tokens::start().await.unwrap();
    let alice = tokens.token("alice", &["risk_officer"], &[]);
    let bob = tokens.token("bob", &["risk_officer"], &[]);
    let trader = tokens.token("tran", &["trader"], &["0001001"]);
    for (engine, env) in engines().await {
        let mut all: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.push(("RULE__RULE__FOUR_EYES", "true"));
        let app = spawn_with_tokens(&tokens, &all).await;
        let mut sub = app
            .app
            .bus
            .subscribe("test.rule.sets", &[RULE_SET.static_name()])
            .await
            .unwrap();
        let call =
            |token: &'static str, method: &'static str, path: String, body: Option<Value>| {
                let app = &app;
                let token = match token {
                    "alice" => alice.clone(),
                    "bob" => bob.clone(),
                    _ => trader.clone(),
                };
                async move { app.call_as(Some(&token), method, &path, body).await }
            };
        // Traders read rule sets; only risk officers write them.
        let r = call(
            "trader",
            "POST",
            "/v1/sets".into(),
            Some(limits(1_000_000_000)),
        )
        .await;
        assert_eq!(r.status, 403, "{engine}: {r:?}");
        let r = call(
            "alice",
            "POST",
            "/v1/sets".into(),
            Some(limits(1_000_000_000)),
        )
        .await;
        assert_eq!(r.status, 201, "{engine}: {r:?}");
        assert_eq!(
            (
                r.body["version"].as_i64(),
                r.body["status"].as_str(),
                r.body["author"].as_str()
            ),
            (Some(1), Some("draft"), Some("alice")),
            "{engine}"
        );
        let r = call(
            "alice",
            "PUT",
            "/v1/sets/limits/versions/1".into(),
            Some(limits(900_000_000)),
        )
        .await;
        assert_eq!(r.status, 200, "{engine}: {r:?}");
        // A draft is not approved before review.
        let r = call(
            "bob",
            "POST",
            "/v1/sets/limits/versions/1/approve".into(),
            None,
        )
        .await;
        assert_eq!(r.status, 422, "{engine}: {r:?}");
        assert!(
            r.body["message"].as_str().unwrap().contains("is draft"),
            "{r:?}"
        );
        let r = call(
            "alice",
            "POST",
            "/v1/sets/limits/versions/1/submit".into(),
            None,
        )
        .await;
        assert_eq!(
            (r.status, r.body["status"].as_str()),
            (200, Some("review")),
            "{r:?}"
        );
        // Four eyes: who wrote it does not approve it.
        let r = call(
            "alice",
            "POST",
            "/v1/sets/limits/versions/1/approve".into(),
            None,
        )
        .await;
        assert_eq!(r.status, 403, "{engine}: {r:?}");
        assert!(
            r.body["message"].as_str().unwrap().contains("four eyes"),
            "{r:?}"
        );
        let r = call(
            "bob",
            "POST",
            "/v1/sets/limits/versions/1/approve".into(),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{engine}: {r:?}");
        assert_eq!(
            (
                r.body["status"].as_str(),
                r.body["approved_by"].as_str(),
                r.body["submitted_by"].as_str()
            ),
            (Some("active"), Some("bob"), Some("alice"))
        );
        let first = changes(&mut sub, 1).await;
        assert_eq!(
            (first[0].version, first[0].revision, first[0].actor.as_str()),
            (1, 1, "bob")
        );
        assert!(first[0].document_json.contains("900000000"), "{first:?}");

        // Version 2: sent back once, then approved; version 1 is superseded.
        call(
            "alice",
            "POST",
            "/v1/sets".into(),
            Some(limits(500_000_000)),
        )
        .await;
        call(
            "alice",
            "POST",
            "/v1/sets/limits/versions/2/submit".into(),
            None,
        )
        .await;
        let r = call(
            "bob",
            "POST",
            "/v1/sets/limits/versions/2/send-back".into(),
            Some(json!({"comment": ""})),
        )
        .await;
        assert_eq!(r.status, 400, "{r:?}");
        let r = call(
            "bob",
            "POST",
            "/v1/sets/limits/versions/2/send-back".into(),
            Some(json!({"comment": "too tight for HPG"})),
        )
        .await;
        assert_eq!(
            (
                r.status,
                r.body["status"].as_str(),
                r.body["comment"].as_str()
            ),
            (200, Some("draft"), Some("too tight for HPG")),
            "{r:?}"
        );
        call(
            "alice",
            "POST",
            "/v1/sets/limits/versions/2/submit".into(),
            None,
        )
        .await;
        let r = call(
            "bob",
            "POST",
            "/v1/sets/limits/versions/2/approve".into(),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(status_of(&app, &bob, 1).await, "superseded");
        // An active version is not edited.
        let r = call(
            "alice",
            "PUT",
            "/v1/sets/limits/versions/2".into(),
            Some(limits(1)),
        )
        .await;
        assert_eq!(r.status, 422, "{r:?}");

        // Rolled back in one call: version 1 again; a second rollback has nowhere to go.
        let r = call("bob", "POST", "/v1/sets/limits/rollback".into(), None).await;
        assert_eq!(
            (r.status, r.body["version"].as_i64()),
            (200, Some(1)),
            "{r:?}"
        );
        assert_eq!(status_of(&app, &bob, 2).await, "rolled_back");
        let r = call("bob", "POST", "/v1/sets/limits/rollback".into(), None).await;
        assert_eq!(r.status, 422, "{r:?}");

        // What the services load at start.
        let mut request = tonic::Request::new(pb::ListActiveRequest {});
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {bob}").parse().unwrap());
        let sets = app
            .grpc()
            .await
            .list_active(request)
            .await
            .unwrap()
            .into_inner()
            .sets;
        assert_eq!(
            sets.iter()
                .map(|s| (s.name.as_str(), s.version, s.revision))
                .collect::<Vec<_>>(),
            [("limits", 1, 3)]
        );
        let r = call("trader", "GET", "/v1/sets".into(), None).await;
        assert_eq!(r.body[0]["active_version"], 1, "{r:?}");
        assert_eq!(r.body[0]["latest_version"], 2, "{r:?}");
        assert_eq!(
            r.body[0]["description"], "orders up to 900000000 VND",
            "{r:?}"
        );

        let r = call("bob", "POST", "/v1/sets/limits/retire".into(), None).await;
        assert_eq!(r.status, 204, "{r:?}");
        let r = call("bob", "POST", "/v1/sets/limits/retire".into(), None).await;
        assert_eq!(r.status, 422, "{r:?}");
        let later = changes(&mut sub, 3).await;
        assert_eq!(
            later
                .iter()
                .map(|c| (c.version, c.revision))
                .collect::<Vec<_>>(),
            [(2, 2), (1, 3), (0, 4)]
        );
        let h = call("trader", "GET", "/v1/sets/limits/history".into(), None).await;
        let said: Vec<(i64, &str, &str)> = h
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["version"].as_i64().unwrap(),
                    e["action"].as_str().unwrap(),
                    e["actor"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            said,
            [
                (1, "retired", "bob"),
                (2, "rolled_back", "bob"),
                (2, "activated", "bob"),
                (2, "submitted", "alice"),
                (2, "returned", "bob"),
                (2, "submitted", "alice"),
                (2, "created", "alice"),
                (1, "activated", "bob"),
                (1, "submitted", "alice"),
                (1, "edited", "alice"),
                (1, "created", "alice"),
            ],
            "{engine}"
        );
        app.app.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_document_that_does_not_compile_is_refused_naming_each_problem() {
    let app = spawn_app().await;
    let bad = json!({"name": "checks", "target": "order", "rules": [
        {"id": "a", "condition": "order.value > '1'"},
        {"id": "b", "condition": "order.symbl == 'HPG'"}
    ]});
    let r = app.call("POST", "/v1/validate", Some(bad.clone())).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["valid"], false);
    let at: Vec<&str> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_str().unwrap())
        .collect();
    assert_eq!(at, ["rules[0].condition", "rules[1].condition"], "{r:?}");
    let r = app.call("POST", "/v1/sets", Some(bad)).await;
    assert_eq!(r.status, 400, "{r:?}");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains("rules[0].condition: at column")
            && message.contains("int and string cannot be ordered")
            && message.contains("order has no field \"symbl\""),
        "{message}"
    );
    // An unknown field, a bad target: the JSON is refused naming it.
    let r = app
        .call(
            "POST",
            "/v1/sets",
            Some(json!({"name": "x", "target": "order", "rulez": []})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"].as_str().unwrap().contains("rulez"),
        "{r:?}"
    );
    let r = app
        .call(
            "POST",
            "/v1/sets",
            Some(json!({"name": "x", "target": "trades", "rules": []})),
        )
        .await;
    assert!(
        r.body["message"].as_str().unwrap().contains("trades"),
        "{r:?}"
    );
    // A set keeps its target and name.
    let good = json!({"name": "checks", "target": "order", "rules": [{"id": "a", "condition": "order.quantity > 100000"}]});
    assert_eq!(app.call("POST", "/v1/sets", Some(good)).await.status, 201);
    let other = json!({"name": "checks", "target": "decision", "rules": [{"id": "a", "condition": "decision.quantity > 1"}]});
    let r = app.call("POST", "/v1/sets", Some(other.clone())).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("keeps its target"),
        "{r:?}"
    );
    let r = app
        .call("PUT", "/v1/sets/checks/versions/1", Some(other))
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(app.call("GET", "/v1/sets/nope", None).await.status, 404);
    assert_eq!(
        app.call("GET", "/v1/sets/checks/versions/9", None)
            .await
            .status,
        404
    );
    // The schema an editor completes from.
    let s = app.call("GET", "/v1/schema", None).await;
    let order = &s.body[0];
    assert_eq!(order["target"], "order");
    assert_eq!(order["variables"][0]["fields"][8]["name"], "value");
    assert_eq!(order["variables"][0]["fields"][8]["type"], "int");
}
