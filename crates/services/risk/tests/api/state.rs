//! The state the checks need, read from the bus: securities from master data, order ends and
//! fills from the OMS (each fill once, however often delivered).

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{OMS_ACCOUNT, OMS_FILL, OMS_ORDER};
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
    // Until it has read the bus: 503; then, once the security is in, a dry run (which counts
    // nothing) is accepted.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut probe = check("probe");
        probe["dry_run"] = json!(true);
        let (code, v) = post(url.clone(), probe).await;
        if code == 200 && v["accepted"] == true {
            break;
        }
        assert!(code == 503 || code == 200, "{code} {v}");
        assert!(tokio::time::Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, first) = post(url.clone(), check("a")).await;
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

/// The broker's view of the account from the OMS (`oms.account.v1`): buying power and sellable
/// quantities, less what was accepted since, refuse what the broker would.
#[tokio::test]
async fn buying_power_and_sellable_quantities_follow_the_brokers_view() {
    let app = spawn_app_with(&[
        ("RISK__CLOCK__START", "2025-06-10T10:00:00+07:00"),
        ("RISK__CLOCK__SPEED", "1"),
    ])
    .await;
    let bus = app.app.bus.clone();
    publish_ssi(&bus).await;
    let url = app.app.http_url("/api/risk/v1/check");
    let check = |id: &str, side: &str, quantity: u64| {
        json!({"client_id": id, "account": "0001001", "symbol": "SSI", "side": side,
               "price": 25_000, "quantity": quantity, "dry_run": true})
    };
    let snapshot = oms_pb::AccountSnapshot {
        account: "0001001".into(),
        at: Some(common::bus::proto_time(
            time::macros::datetime!(2025-06-10 10:00:00 +7),
        )),
        cash: Some(9_000_000),
        buying_power: Some(5_000_000),
        positions: vec![oms_pb::BrokerPosition {
            symbol: "SSI".into(),
            quantity: 300,
            sellable: 200,
            short: 0,
        }],
    };
    bus.publish(
        OMS_ACCOUNT.static_name(),
        &Envelope::new("oms", "0001001", &snapshot),
    )
    .await
    .unwrap();
    // Once read: 300 × 25,000 is above 5,000,000; 300 shares above the 200 sellable.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let (code, v) = post(url.clone(), check("b", "buy", 300)).await;
        if code == 200 && v["accepted"] == false {
            break v;
        }
        assert!(tokio::time::Instant::now() < deadline, "{code} {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        refused["rejections"][0]["rule"], "buying_power",
        "{refused}"
    );
    let message = refused["rejections"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("5000000 VND of buying power left") && message.contains("7500000"),
        "{message}"
    );
    let (_, fits) = post(url.clone(), check("b2", "buy", 200)).await;
    assert_eq!(fits["accepted"], true, "{fits}");
    let (_, sale) = post(url.clone(), check("s", "sell", 300)).await;
    assert_eq!(sale["rejections"][0]["rule"], "sellable", "{sale}");
    let (_, sale) = post(url, check("s2", "sell", 200)).await;
    assert_eq!(sale["accepted"], true, "{sale}");
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

/// A restarted risk service under a steady feed — a trade every 10 ms, so no poll is ever quiet
/// — checks orders as soon as it has read what the bus held when it subscribed, not after its
/// catch-up deadline (two minutes here), and not before: every security then on the bus is in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steady_feed_does_not_hold_the_checks_back() {
    use std::sync::Arc;

    use common::bus::SharedBus;
    use common::bus::embedded::EmbeddedBus;
    use common::bus::topics::{MARKET_INDEX, MARKET_STATUS, MARKET_TRADE, MASTERDATA_SECURITY};
    use common::shutdown::CancellationToken;

    let bus: SharedBus = Arc::new(EmbeddedBus::in_memory(100_000));
    bus.create_topics(&[
        MASTERDATA_SECURITY,
        MARKET_TRADE,
        MARKET_INDEX,
        MARKET_STATUS,
        OMS_ORDER,
        OMS_FILL,
        OMS_ACCOUNT,
    ])
    .await
    .unwrap();
    for i in 0..300 {
        crate::helpers::publish_security(&bus, &format!("S{i:03}")).await;
    }
    let feed = {
        let bus = bus.clone();
        tokio::spawn(async move {
            loop {
                let trade = proto::market::v1::Trade {
                    symbol: "S000".into(),
                    price: 25_000,
                    quantity: 100,
                    ..Default::default()
                };
                let _ = bus
                    .publish(
                        MARKET_TRADE.static_name(),
                        &Envelope::new("test", "S000", &trade),
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // The feed is flowing before the service starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let registry = prometheus::Registry::new();
    let db = common::store::Db::connect("sqlite::memory:", 1, Duration::from_secs(5))
        .await
        .unwrap();
    let engine = risk::domain::Engine::new(
        market::MarketRules::default(),
        market::TradingCalendar::embedded().unwrap(),
        risk::domain::Limits::default(),
    );
    let risk = risk::service::Risk::new(
        (engine, rules::Rules::fixed([])),
        db,
        common::settings::MarketClock::wall(),
        risk::metrics::Metrics::register(&registry).unwrap(),
        4096,
    );
    let token = CancellationToken::new();
    let follower = tokio::spawn(risk.clone().follow(
        bus.clone(),
        "risk.state.steady".into(),
        Duration::from_secs(120),
        token.clone(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !risk.caught_up() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not caught up after 20 s of a steady feed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let securities = registry
        .gather()
        .iter()
        .filter(|f| f.name() == "risk_events_total")
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| m.get_label().iter().any(|l| l.value() == "security"))
        .map(|m| m.get_counter().get_value())
        .sum::<f64>();
    assert!(securities >= 300.0, "{securities} securities read");
    token.cancel();
    follower.await.unwrap().unwrap();
    feed.abort();
}
