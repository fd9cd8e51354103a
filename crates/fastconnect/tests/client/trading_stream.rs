//! FC Trading streaming: NotifyID header, replay on reconnect, resume after a restart.

use std::sync::atomic::Ordering;
use std::time::Duration;

use fastconnect::{ResumeFrom, TradingClient, TradingEvent, TradingEvents};
use serde_json::json;

use crate::fake_ssi::{FakeSsi, TRADING_HUB, eventually};
use crate::helpers::{trading_client, trading_config};

async fn next(events: &mut TradingEvents) -> TradingEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("stream open")
}

/// The next event carrying a notifyID.
async fn next_id(events: &mut TradingEvents) -> i64 {
    loop {
        let event = next(events).await;
        if let TradingEvent::Malformed { error, payload } = &event {
            panic!("malformed {error}: {payload}");
        }
        if let Some(id) = event.notify_id() {
            return id;
        }
    }
}

fn order_event(fake: &FakeSsi, status: &str) -> i64 {
    fake.trading_event(
        "orderEvent",
        json!({"orderID": "12626539", "instrumentID": "SSI", "uniqueID": "12345678", "buySell": "B",
            "orderType": "LO", "price": 23500.0, "quantity": 100, "marketID": "VN", "account": "0001231",
            "osQty": 100, "filledQty": 0, "orderStatus": status, "origRequestID": "12345678",
            "inputTime": "1683189939000", "modifiedTime": "1683189939000", "isForceSell": "F", "isShortSell": "F"}),
    )
}

#[tokio::test]
async fn the_first_connection_replays_the_day_and_events_are_typed() {
    let fake = FakeSsi::start().await;
    order_event(&fake, "RS");
    order_event(&fake, "QU");
    fake.trading_event(
        "orderMatchEvent",
        json!({"orderID": "12626539", "instrumentID": "SSI", "uniqueID": "12345678", "buySell": "B",
            "matchPrice": 23500.0, "matchQty": 100, "account": "0001231", "matchTime": "1683189940000"}),
    );
    let client = trading_client(&fake);
    let (sub, mut events) = client.stream(None).unwrap();
    assert!(matches!(next(&mut events).await, TradingEvent::Connected));
    let connect = &fake.hub_requests("/connect")[0];
    assert_eq!(connect.header("notifyid").as_deref(), Some("0"));
    assert!(
        connect
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    assert_eq!(
        connect.query["connectionData"],
        r#"[{"name":"BroadcastHubV2"}]"#
    );
    assert_eq!(connect.query["clientProtocol"], "1.3");

    let TradingEvent::Order(first) = next(&mut events).await else {
        panic!("expected an order event")
    };
    assert_eq!(first.notify_id, 1);
    assert_eq!(
        first.order_status,
        Some(fastconnect::OrderStatus::ReadyToSend)
    );
    assert_eq!(next_id(&mut events).await, 2);
    let TradingEvent::Match(fill) = next(&mut events).await else {
        panic!("expected a fill")
    };
    assert_eq!(fill.match_qty, 100);
    eventually("cursor advanced", || sub.last_notify_id() == Some(3)).await;

    fake.trading_event(
        "orderError",
        json!({"message": "Price 30000 exceeds ceiling price 25000!", "errorCode": "ERR500", "uniqueID": "12345679"}),
    );
    let TradingEvent::OrderError(e) = next(&mut events).await else {
        panic!("expected an order error")
    };
    assert_eq!(e.error_code.as_deref(), Some("ERR500"));
}

#[tokio::test]
async fn a_reconnect_resumes_after_the_last_delivered_notify_id() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    let (sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    assert!(matches!(next(&mut events).await, TradingEvent::Connected));
    assert_eq!(
        fake.hub_requests("/connect")[0]
            .header("notifyid")
            .as_deref(),
        Some("-1")
    );
    eventually("socket open", || fake.hub_sockets(TRADING_HUB) == 1).await;
    order_event(&fake, "RS");
    order_event(&fake, "QU");
    assert_eq!(next_id(&mut events).await, 1);
    assert_eq!(next_id(&mut events).await, 2);
    eventually("cursor", || sub.last_notify_id() == Some(2)).await;

    fake.drop_hub_connections();
    // Events while we are away.
    order_event(&fake, "PF");
    order_event(&fake, "FF");
    assert!(matches!(
        next(&mut events).await,
        TradingEvent::Disconnected { .. }
    ));
    assert!(matches!(next(&mut events).await, TradingEvent::Connected));
    let second = &fake.hub_requests("/connect")[1];
    assert_eq!(second.header("notifyid").as_deref(), Some("2"));
    assert_eq!(next_id(&mut events).await, 3);
    assert_eq!(next_id(&mut events).await, 4);
}

#[tokio::test]
async fn replayed_duplicates_are_dropped() {
    let fake = FakeSsi::start().await;
    fake.state.replay_everything.store(true, Ordering::SeqCst);
    for status in ["RS", "QU", "PF"] {
        order_event(&fake, status);
    }
    let client = trading_client(&fake);
    let (_sub, mut events) = client.stream(Some(ResumeFrom::After(2))).unwrap();
    // The misbehaving server resends 1..=3; only 3 is new.
    assert_eq!(next_id(&mut events).await, 3);
    order_event(&fake, "FF");
    assert_eq!(next_id(&mut events).await, 4);
}

#[tokio::test]
async fn a_restarted_client_resumes_from_the_cursor_file() {
    let fake = FakeSsi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("notify-id.json");
    let config = || {
        let mut c = trading_config(&fake);
        c.notify_id_file = Some(cursor.clone());
        c
    };
    order_event(&fake, "RS");
    order_event(&fake, "QU");
    {
        let client = TradingClient::new(config()).unwrap();
        let (sub, mut events) = client.stream(None).unwrap();
        assert_eq!(next_id(&mut events).await, 1);
        assert_eq!(next_id(&mut events).await, 2);
        eventually("cursor persisted", || {
            std::fs::read_to_string(&cursor).is_ok_and(|s| s.contains("\"notify_id\":2"))
        })
        .await;
        sub.shutdown();
    }
    eventually("first socket closed", || fake.hub_sockets(TRADING_HUB) == 0).await;
    // Events while the process is down.
    order_event(&fake, "PF");
    let client = TradingClient::new(config()).unwrap();
    let (sub, mut events) = client.stream(None).unwrap();
    assert_eq!(next_id(&mut events).await, 3);
    assert_eq!(sub.last_notify_id(), Some(3));
    let connects = fake.hub_requests("/connect");
    assert_eq!(
        connects.last().unwrap().header("notifyid").as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn malformed_trading_payloads_are_reported_and_skipped() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    assert!(matches!(next(&mut events).await, TradingEvent::Connected));
    eventually("socket open", || fake.hub_sockets(TRADING_HUB) == 1).await;
    fake.trading_event(
        "orderEvent",
        json!({"orderID": "1", "instrumentID": "SSI", "buySell": "Q"}),
    );
    fake.trading_event("brandNewEvent", json!({}));
    order_event(&fake, "QU");
    assert!(matches!(
        next(&mut events).await,
        TradingEvent::Malformed { .. }
    ));
    assert!(matches!(
        next(&mut events).await,
        TradingEvent::Malformed { .. }
    ));
    assert_eq!(next_id(&mut events).await, 3);
}
