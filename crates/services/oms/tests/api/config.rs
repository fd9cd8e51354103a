//! The OMS follows its configuration live: the flag `orders.accept` of `oms/prod`, published on
//! `config.changed.v1` (as the config service does), pauses and resumes new orders without a
//! restart. The config service itself is tested in its own crate (`tests/api/remote.rs`).

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::CONFIG_CHANGED;
use proto::config::v1 as pb;

use crate::helpers::{TestApp, limit, market, spawn_trading, start_sim};

async fn publish(app: &TestApp, environment: &str, version: u64, accept: bool) {
    let doc = pb::ConfigDocument {
        service: "oms".into(),
        environment: environment.into(),
        version,
        values_json: "{}".into(),
        flags: [(
            "orders.accept".to_owned(),
            pb::Flag {
                enabled: accept,
                rollout_percent: None,
            },
        )]
        .into(),
        ..Default::default()
    };
    let event = pb::ConfigChanged {
        document: Some(doc),
    };
    app.app
        .bus
        .publish(
            CONFIG_CHANGED.static_name(),
            &Envelope::new("config", format!("oms/{environment}"), &event),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_orders_accept_flag_pauses_and_resumes_new_orders_live() {
    let sim = start_sim(market()).await;
    let app = spawn_trading(&sim, &[]).await;
    let (symbol, band) = sim.hose_stock();
    let price = band.floor.units();

    // Another environment's document is not the OMS's.
    publish(&app, "paper", 1, false).await;
    publish(&app, "prod", 1, false).await;
    let mut refused = None;
    for i in 0..100 {
        let (status, body) = app
            .place(&limit(&format!("p-{i}"), symbol, "buy", price, 100))
            .await;
        if status == 422 {
            refused = Some(body);
            break;
        }
        assert_eq!(status, 201, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("the pause arrives");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("orders.accept"), "{message}");

    publish(&app, "prod", 2, true).await;
    let mut placed = false;
    for i in 0..100 {
        let (status, body) = app
            .place(&limit(&format!("r-{i}"), symbol, "buy", price, 100))
            .await;
        if status == 201 {
            placed = true;
            break;
        }
        assert_eq!(status, 422, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(placed, "the resume arrives");
}
