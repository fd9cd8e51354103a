//! The monitor: positions marked by the trades on the bus, today's drawdown past its limit
//! refusing what adds to a position, a halt refusing every order, and each alert published on
//! `risk.event.v1` once.

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{MARKET_STATUS, MARKET_TRADE, OMS_FILL, RISK_EVENT};
use proto::market::v1 as market_pb;
use proto::oms::v1 as oms_pb;
use proto::risk::v1 as pb;
use serde_json::{Value, json};

use crate::helpers::{publish_ssi, spawn_app_with};

fn at(secs: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        // 2025-06-10 10:00:00 +07:00.
        seconds: 1_749_524_400 + secs,
        nanos: 0,
    }
}

/// A check's verdict, once the service has caught up with the bus.
async fn check(app: &crate::helpers::TestApp, id: &str, side: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = reqwest::Client::new()
            .post(app.app.http_url("/api/risk/v1/check"))
            .json(
                &json!({"client_id": id, "account": "0001001", "symbol": "SSI",
                   "side": side, "price": 25_000, "quantity": 100}),
            )
            .send()
            .await
            .unwrap();
        if r.status() != 503 {
            return r.json().await.unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "never caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn drawdown_and_halts_are_watched_and_alerted_once() {
    let app = spawn_app_with(&[
        ("RISK__CLOCK__START", "2025-06-10T10:00:10+07:00"),
        ("RISK__CLOCK__SPEED", "1"),
        ("RISK__DEFAULT_LIMITS__MAX_DRAWDOWN", "100000"),
        ("RISK__MONITOR__INTERVAL_MS", "100"),
    ])
    .await;
    let bus = app.app.bus.clone();
    let mut events = bus
        .subscribe("test.alerts", &[RISK_EVENT.static_name()])
        .await
        .unwrap();
    publish_ssi(&bus).await;
    let fill = oms_pb::Fill {
        id: "n1".into(),
        order_id: "20250610-00000001".into(),
        client_id: "a".into(),
        account: "0001001".into(),
        symbol: "SSI".into(),
        side: "buy".into(),
        price: 25_000,
        quantity: 100,
        time: Some(at(0)),
        ..Default::default()
    };
    bus.publish(
        OMS_FILL.static_name(),
        &Envelope::new("oms", "0001001", &fill),
    )
    .await
    .unwrap();
    // Up 1,000 then down to 24,950: 105,000 below the day's high.
    for (secs, price) in [(1, 26_000), (2, 24_950)] {
        let trade = market_pb::Trade {
            symbol: "SSI".into(),
            price,
            quantity: 100,
            exchange_time: Some(at(secs)),
            ..Default::default()
        };
        bus.publish(
            MARKET_TRADE.static_name(),
            &Envelope::new("ingestion", "SSI", &trade),
        )
        .await
        .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let book = loop {
        let m: Value = reqwest::get(app.app.http_url("/api/risk/v1/monitor"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if m["books"][0]["worst_drawdown_today"] == 105_000 {
            break m["books"][0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(book["positions"][0]["mark"], 2_495_000, "{book}");
    assert_eq!(book["usage"][0]["limit"], "max_drawdown", "{book}");
    let v = check(&app, "b1", "buy").await;
    assert_eq!(v["rejections"][0]["rule"], "max_drawdown", "{v}");
    assert_eq!(check(&app, "s1", "sell").await["accepted"], true);

    // A halt: every order refused, the holder alerted.
    let status = market_pb::SecurityStatus {
        symbol: "SSI".into(),
        status: "H".into(),
        received_at: Some(at(3)),
    };
    bus.publish(
        MARKET_STATUS.static_name(),
        &Envelope::new("ingestion", "SSI", &status),
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for n in 0.. {
        let v = check(&app, &format!("s-{n}"), "sell").await;
        if v["rejections"][0]["rule"] == "halted" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Each alert once, however many passes the monitor makes.
    let mut kinds = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(kinds.contains(&"drawdown_breached".to_owned())
        && kinds.contains(&"halted_holding".to_owned()))
    {
        assert!(tokio::time::Instant::now() < deadline, "{kinds:?}");
        if let Some(d) = events.poll(Duration::from_millis(100)).await.unwrap() {
            let e = d.envelope.decode::<pb::RiskEvent>().unwrap();
            if e.actor == "monitor" {
                kinds.push(e.kind);
            }
        }
    }
    // Ten more passes.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    while let Some(d) = events.poll(Duration::from_millis(100)).await.unwrap() {
        let e = d.envelope.decode::<pb::RiskEvent>().unwrap();
        if e.actor == "monitor" {
            kinds.push(e.kind);
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["drawdown_breached", "halted_holding"]);
    // The same alert again (another instance, a restart) is not published twice.
    let again = risk::domain::monitor::Alert {
        id: "2025-06-10:drawdown_breached:account:0001001".to_owned(),
        kind: "drawdown_breached",
        scope: risk::domain::Scope::Account("0001001".to_owned()),
        detail: "again".to_owned(),
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(!risk::store::alert(&app.app.db, &again, now).await.unwrap());
    let audit: Value = reqwest::get(app.app.http_url("/api/risk/v1/audit"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(
        text.contains("drawdown_breached") && text.contains("halted_holding"),
        "{audit}"
    );
}
