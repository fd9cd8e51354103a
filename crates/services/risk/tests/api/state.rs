//! The state the checks need, read from the bus: securities from master data, order ends and
//! fills from the OMS (each fill once, however often delivered).

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{OMS_FILL, OMS_ORDER};
use proto::oms::v1 as oms_pb;
use serde_json::{Value, json};

use crate::helpers::{publish_ssi, spawn_app_with};

async fn post(url: String, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn order(client_id: &str, status: &str) -> oms_pb::OrderEvent {
    oms_pb::OrderEvent {
        kind: "status".into(),
        order: Some(oms_pb::Order {
            client_id: client_id.into(),
            account: "0001001".into(),
            symbol: "SSI".into(),
            status: status.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn checks_count_open_orders_and_fills_from_the_bus() {
    let app = spawn_app_with(&[
        ("RISK__CLOCK__START", "2025-06-10T10:00:00+07:00"),
        ("RISK__CLOCK__SPEED", "1"),
        ("RISK__DEFAULT_LIMITS__MAX_OPEN_ORDERS", "1"),
    ])
    .await;
    let bus = app.app.bus.clone();
    publish_ssi(&bus).await;
    let check = |id: &str| {
        json!({"client_id": id, "account": "0001001", "symbol": "SSI", "side": "buy",
               "price": 25_000, "quantity": 100})
    };
    let url = app.app.http_url("/api/risk/v1/check");
    // Until it has read the bus: 503.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let first = loop {
        let (code, v) = post(url.clone(), check("a")).await;
        if code == 200 {
            break v;
        }
        assert_eq!(code, 503, "{v}");
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(first["accepted"], true, "{first}");
    // A dry run says what a check would (the open-order limit is reached) and counts nothing.
    let mut dry = check("b");
    dry["dry_run"] = json!(true);
    let (_, preview) = post(url.clone(), dry).await;
    assert_eq!(
        preview["rejections"][0]["rule"], "max_open_orders",
        "{preview}"
    );
    let (_, second) = post(url.clone(), check("b")).await;
    assert_eq!(
        second["rejections"][0]["rule"], "max_open_orders",
        "{second}"
    );

    // "a" fills (delivered twice) and ends: its slot is free and the exposure is the fill's.
    let fill = oms_pb::Fill {
        id: "n1".into(),
        order_id: "20250610-00000001".into(),
        client_id: "a".into(),
        account: "0001001".into(),
        symbol: "SSI".into(),
        side: "buy".into(),
        price: 25_000,
        quantity: 100,
        ..Default::default()
    };
    for _ in 0..2 {
        bus.publish(
            OMS_FILL.static_name(),
            &Envelope::new("oms", "0001001", &fill),
        )
        .await
        .unwrap();
    }
    bus.publish(
        OMS_ORDER.static_name(),
        &Envelope::new("oms", "0001001", &order("a", "filled")),
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let e: Value = reqwest::get(app.app.http_url("/api/risk/v1/exposure/0001001"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if e["open_orders"] == 0 {
            // 2,500,000 at cost plus the 0.15 % buy fee, once.
            assert_eq!(e["exposure"], 2_503_750, "{e}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{e}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut dry = check("c");
    dry["dry_run"] = json!(true);
    for _ in 0..2 {
        let (_, preview) = post(url.clone(), dry.clone()).await;
        assert_eq!(preview["accepted"], true, "{preview}");
    }
    let (_, third) = post(url, check("c")).await;
    assert_eq!(third["accepted"], true, "{third}");
}

#[tokio::test]
async fn bad_requests_and_scopes_are_refused_with_reasons() {
    let app = spawn_app_with(&[]).await;
    let (code, e) = post(
        app.app.http_url("/api/risk/v1/check"),
        json!({"client_id": "x", "account": "1", "symbol": "SSI", "side": "hold", "quantity": 1}),
    )
    .await;
    assert_eq!(code, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("side"), "{e}");
    let r = reqwest::Client::new()
        .put(app.app.http_url("/api/risk/v1/kill-switches/desk/x"))
        .json(&json!({"actor": "ops", "engaged": true, "reason": "r"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = reqwest::Client::new()
        .put(app.app.http_url("/api/risk/v1/kill-switches/global/-"))
        .json(&json!({"actor": "ops", "engaged": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a reason is required");
    let r = reqwest::Client::new()
        .put(app.app.http_url("/api/risk/v1/limits/strategy/ma"))
        .json(&json!({"actor": "ops", "limits": {"fat_finger_bps": 0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
