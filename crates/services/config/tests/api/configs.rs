//! Configuration documents: versions, history, diff, rollback, validation, concurrency, the
//! event of each change, gRPC GetConfig, a restart and PostgreSQL.

use std::time::Duration;

use common::bus::topics::CONFIG_CHANGED;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_with};

async fn change_flow(app: &TestApp) {
    // Nothing saved yet: 404, the service runs on its defaults.
    let none = app.get_config("oms/prod").await;
    assert_eq!(none.status, 404, "{}", none.text);

    let v1 = app
        .put_config(
            "oms/prod",
            json!({"expected_version": 0, "values": {"orders.max_per_minute": 60, "venue": {"hose": true}},
                   "flags": {"orders.accept": {"enabled": true}}, "comment": "first"}),
        )
        .await;
    assert_eq!(v1.status, 200, "{}", v1.text);
    assert_eq!(v1.body["version"], 1);
    assert_eq!(v1.body["changed_by"], "anonymous");
    let v2 = app
        .put_config(
            "oms/prod",
            json!({"expected_version": 1, "values": {"orders.max_per_minute": 30},
                   "flags": {"orders.accept": {"enabled": false}, "algo.twap": {"enabled": true, "rollout_percent": 10}},
                   "comment": "slow down"}),
        )
        .await;
    assert_eq!(v2.status, 200, "{}", v2.text);
    assert_eq!(v2.body["version"], 2);

    // A change based on an old version is refused, nothing is overwritten.
    let stale = app
        .put_config("oms/prod", json!({"expected_version": 1, "values": {}}))
        .await;
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert!(
        stale.body["message"]
            .as_str()
            .unwrap()
            .contains("current version is 2")
    );

    let current = app.get_config("oms/prod").await;
    assert_eq!(current.body["version"], 2);
    assert_eq!(current.body["values"]["orders.max_per_minute"], 30);
    assert_eq!(current.body["flags"]["algo.twap"]["rollout_percent"], 10);

    let history = app.call("GET", "/v1/configs/oms/prod/versions", None).await;
    let versions: Vec<(u64, String)> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["comment"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![(2, "slow down".to_owned()), (1, "first".to_owned())]
    );
    let page = app
        .call(
            "GET",
            "/v1/configs/oms/prod/versions?before=2&limit=1",
            None,
        )
        .await;
    assert_eq!(page.body.as_array().unwrap().len(), 1);
    assert_eq!(page.body[0]["version"], 1);

    let diff = app
        .call("GET", "/v1/configs/oms/prod/diff?from=1&to=2", None)
        .await;
    assert_eq!(diff.status, 200, "{}", diff.text);
    let changes: Vec<(String, String, String)> = diff
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["key"].as_str().unwrap().to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "value".into(),
                "orders.max_per_minute".into(),
                "changed".into()
            ),
            ("value".into(), "venue".into(), "removed".into()),
            ("flag".into(), "algo.twap".into(), "added".into()),
            ("flag".into(), "orders.accept".into(), "changed".into()),
        ]
    );

    // Rollback in one call: version 3 equal to version 1.
    let back = app
        .call(
            "POST",
            "/v1/configs/oms/prod/rollback",
            Some(json!({"to_version": 1, "expected_version": 2})),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.body["version"], 3);
    assert_eq!(back.body["rolled_back_from"], 1);
    assert_eq!(back.body["comment"], "rollback to version 1");
    assert_eq!(back.body["values"], v1.body["values"]);
    assert_eq!(back.body["flags"], v1.body["flags"]);
    let same = app
        .call("GET", "/v1/configs/oms/prod/diff?from=1&to=3", None)
        .await;
    assert_eq!(same.body, json!([]));
    let old = app
        .call("GET", "/v1/configs/oms/prod/versions/2", None)
        .await;
    assert_eq!(old.body["values"]["orders.max_per_minute"], 30);
    let missing = app
        .call(
            "POST",
            "/v1/configs/oms/prod/rollback",
            Some(json!({"to_version": 9})),
        )
        .await;
    assert_eq!(missing.status, 404);

    let list = app.call("GET", "/v1/configs", None).await;
    assert_eq!(list.body[0]["service"], "oms");
    assert_eq!(list.body[0]["version"], 3);
}

#[tokio::test]
async fn changes_make_versions_with_history_diff_and_rollback() {
    let app = spawn_app().await;
    change_flow(&app).await;
    app.app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_documents_get_clear_errors() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "oms/prod",
            json!({"expected_version": 0, "values": {"Bad Key": 1}}),
            "key \"Bad Key\"",
        ),
        (
            "oms/prod",
            json!({"expected_version": 0, "values": {"x": null}}),
            "null",
        ),
        (
            "oms/prod",
            json!({"expected_version": 0, "flags": {"f": {"enabled": true, "rollout_percent": 101}}}),
            "rollout_percent",
        ),
        (
            "oms/prod",
            json!({"expected_version": 0, "flags": {"f": {"on": true}}}),
            "request body",
        ),
        ("oms/prod", json!({"values": {}}), "expected_version"),
        (
            "oms/prod",
            json!({"expected_version": 0, "values": {"x": "y".repeat(17_000)}}),
            "bytes",
        ),
        (
            "oms/prod",
            json!({"expected_version": 0, "comment": "c".repeat(501)}),
            "comment",
        ),
        (
            "nosuch/prod",
            json!({"expected_version": 0}),
            "not a service",
        ),
        ("oms/PROD", json!({"expected_version": 0}), "environment"),
    ];
    for (scope, body, says) in cases {
        let a = app.put_config(scope, body.clone()).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        assert_eq!(a.body["code"], "invalid_argument");
        assert!(
            a.body["message"].as_str().unwrap().contains(says),
            "{body}: {}",
            a.text
        );
    }
    let many: serde_json::Map<String, Value> =
        (0..300).map(|i| (format!("k{i}"), json!(i))).collect();
    let a = app
        .put_config("oms/prod", json!({"expected_version": 0, "values": many}))
        .await;
    assert_eq!(a.status, 400);
    let a = app
        .call("GET", "/v1/configs/oms/prod/versions?limit=0", None)
        .await;
    assert_eq!(a.status, 400);
    let a = app
        .call("GET", "/v1/configs/oms/prod/diff?from=x", None)
        .await;
    assert_eq!(a.status, 400);
    // Nothing was saved.
    assert_eq!(app.get_config("oms/prod").await.status, 404);
}

#[tokio::test]
async fn every_version_is_published_on_config_changed_keyed_by_scope() {
    let app = spawn_app().await;
    let mut sub = app
        .app
        .bus
        .subscribe("test.config", &[CONFIG_CHANGED.static_name()])
        .await
        .unwrap();
    for v in 0..2 {
        let a = app
            .put_config(
                "risk/paper",
                json!({"expected_version": v, "values": {"n": v}}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.len() < 2 && tokio::time::Instant::now() < deadline {
        if let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
            assert_eq!(d.envelope.key, "risk/paper");
            let e: proto::config::v1::ConfigChanged = d.envelope.decode().unwrap();
            let doc = e.document.unwrap();
            assert_eq!(doc.values_json, format!("{{\"n\":{}}}", doc.version - 1));
            seen.push(doc.version);
        }
    }
    assert_eq!(seen, vec![1, 2]);
}

#[tokio::test]
async fn grpc_get_config_answers_the_current_document() {
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;
    let request = || proto::config::v1::GetConfigRequest {
        service: "oms".into(),
        environment: "prod".into(),
    };
    let none = grpc.get_config(request()).await.unwrap_err();
    assert_eq!(none.code(), tonic::Code::NotFound);
    app.put_config(
        "oms/prod",
        json!({"expected_version": 0, "values": {"a": [1, 2]}, "flags": {"f": {"enabled": true, "rollout_percent": 50}}}),
    )
    .await;
    let doc = grpc.get_config(request()).await.unwrap().into_inner();
    assert_eq!(doc.version, 1);
    assert_eq!(doc.values_json, r#"{"a":[1,2]}"#);
    assert_eq!(doc.flags["f"].rollout_percent, Some(50));
    let bad = grpc
        .get_config(proto::config::v1::GetConfigRequest {
            service: "oms".into(),
            environment: "".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn versions_and_secrets_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let app = spawn_with(&[("CONFIG__DATA_DIR", &dir)]).await;
    app.put_config(
        "oms/prod",
        json!({"expected_version": 0, "values": {"a": 1}}),
    )
    .await;
    let s = app
        .call("PUT", "/v1/secrets/oms/pin", Some(json!({"value": "1234"})))
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    app.app.stop().await.unwrap();

    let again = spawn_with(&[("CONFIG__DATA_DIR", &dir)]).await;
    assert_eq!(again.get_config("oms/prod").await.body["values"]["a"], 1);
    let list = again.call("GET", "/v1/secrets", None).await;
    assert_eq!(list.body[0]["name"], "pin");
    assert_eq!(list.body[0]["version"], 1);
}

#[tokio::test]
async fn on_postgresql_the_same_flow_holds() {
    use common::service::testing::{fresh_database, server};
    let Some(pg) = server("TEST_DATABASE_URL") else {
        return;
    };
    let db = fresh_database(&pg, "config").await.unwrap();
    let app = spawn_with(&[("CONFIG__DATABASE__URL", &db)]).await;
    let info: Value = app.get_info().await.json().await.unwrap();
    assert_eq!(info["backends"]["database"], "postgres");
    change_flow(&app).await;
    let s = app
        .call(
            "PUT",
            "/v1/secrets/oms/pin",
            Some(json!({"value": "pg-secret-9911"})),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let rows: Vec<(Vec<u8>,)> = match app.app.db.pool() {
        common::store::PerEngine::Postgres(p) => {
            sqlx::query_as("SELECT sealed FROM config_secrets")
                .fetch_all(p)
                .await
                .unwrap()
        }
        common::store::PerEngine::Sqlite(_) => unreachable!(),
    };
    assert!(!rows[0].0.windows(14).any(|w| w == b"pg-secret-9911"));
    let audit = app.call("GET", "/v1/audit", None).await;
    assert_eq!(audit.body[0]["action"], "secret.set");
}
