//! `common::remote_config` against the real service: a service fetches its document at start
//! and follows `config.changed.v1`; without the config service it runs on defaults, unless the
//! configuration is required.

use std::time::Duration;

use common::grpc::Connector;
use common::remote_config::{RemoteConfig, RemoteConfigSettings};
use common::shutdown::CancellationToken;
use serde_json::json;

use crate::helpers::spawn_app;

fn settings(required: bool) -> RemoteConfigSettings {
    RemoteConfigSettings {
        enabled: true,
        environment: "prod".into(),
        required,
        fetch_timeout_ms: 1_000,
    }
}

#[tokio::test]
async fn a_service_fetches_its_configuration_at_start_and_follows_changes_live() {
    let app = spawn_app().await;
    let a = app
        .put_config(
            "oms/prod",
            json!({"expected_version": 0, "values": {"limit": 5}, "flags": {"orders.accept": {"enabled": true}}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    // Another service's and another environment's changes are not ours.
    app.put_config(
        "risk/prod",
        json!({"expected_version": 0, "values": {"limit": 99}}),
    )
    .await;

    let (remote, follower) = RemoteConfig::start(
        "oms",
        "i-1",
        &settings(true),
        (&Connector::anonymous(), &app.app.grpc_url()),
        &app.app.bus,
    )
    .await
    .unwrap();
    let first = remote.current();
    assert_eq!(first.version, 1);
    assert_eq!(first.value::<u32>("limit"), Some(5));
    assert!(first.flag("orders.accept", false));
    let token = CancellationToken::new();
    let task = tokio::spawn(follower.unwrap().run(token.clone()));

    let mut changes = remote.subscribe();
    app.put_config(
        "oms/paper",
        json!({"expected_version": 0, "flags": {"orders.accept": {"enabled": true}}}),
    )
    .await;
    app.put_config(
        "oms/prod",
        json!({"expected_version": 1, "values": {"limit": 7}, "flags": {"orders.accept": {"enabled": false}}}),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            changes.changed().await.unwrap();
            if changes.borrow().version == 2 {
                break;
            }
        }
    })
    .await
    .expect("the change arrives");
    let now = remote.current();
    assert_eq!(now.value::<u32>("limit"), Some(7));
    assert!(!now.flag("orders.accept", true));

    // A rollback arrives the same way.
    app.call(
        "POST",
        "/v1/configs/oms/prod/rollback",
        Some(json!({"to_version": 1})),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while remote.current().version != 3 {
            changes.changed().await.unwrap();
        }
    })
    .await
    .expect("the rollback arrives");
    assert!(remote.current().flag("orders.accept", false));
    token.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn without_the_config_service_a_service_runs_on_defaults_unless_required() {
    let app = spawn_app().await;
    let nowhere = "http://127.0.0.1:1";
    let anonymous = Connector::anonymous();
    let (remote, follower) = RemoteConfig::start(
        "oms",
        "i-2",
        &settings(false),
        (&anonymous, nowhere),
        &app.app.bus,
    )
    .await
    .unwrap();
    assert_eq!(remote.current().version, 0);
    assert!(remote.current().flag("orders.accept", true), "the default");
    assert!(follower.is_some(), "it still follows the topic");
    let e = RemoteConfig::start(
        "oms",
        "i-3",
        &settings(true),
        (&anonymous, nowhere),
        &app.app.bus,
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("fetching the configuration of oms"),
        "{e}"
    );

    // Nothing saved yet is not a failure: the defaults, even when required.
    let (remote, _) = RemoteConfig::start(
        "oms",
        "i-4",
        &settings(true),
        (&Connector::anonymous(), &app.app.grpc_url()),
        &app.app.bus,
    )
    .await
    .unwrap();
    assert_eq!(remote.current().version, 0);
}
