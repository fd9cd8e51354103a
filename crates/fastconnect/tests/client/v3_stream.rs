//! v3 stream against the fake: subscriptions per channel, frame splitting under 4 096
//! bytes, typed messages, heartbeat, reconnect with resubscription and a gap event, server
//! rejection, socket limit.

use std::time::Duration;

use fastconnect::v3::stream::Payload;
use fastconnect::v3::{Client, StreamEvent, Topic};
use serde_json::json;
use tokio::sync::mpsc::Receiver;

use crate::fake_ssi::eventually;
use crate::v3_fake::{FakeV3, v3_client, v3_config};

async fn next(events: &mut Receiver<StreamEvent>) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
}

/// The next event that is not an ack.
async fn next_non_ack(events: &mut Receiver<StreamEvent>) -> StreamEvent {
    loop {
        match next(events).await {
            StreamEvent::Ack { .. } => {}
            other => return other,
        }
    }
}

#[tokio::test]
async fn subscriptions_go_per_channel_and_messages_arrive_typed() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let topics = vec![
        Topic::trade("ssi").unwrap(),
        Topic::quote("SSI").unwrap(),
        Topic::market_flag(),
        Topic::orders("1234561").unwrap(),
    ];
    let (handle, mut events) = client.stream().connect(topics).unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    eventually("subscriptions", || fake.subscribed("TRADING").len() == 1).await;
    assert_eq!(
        fake.subscribed("DATA"),
        ["trade.SSI", "quote.SSI", "market.flag"]
    );
    assert_eq!(fake.subscribed("TRADING"), ["order.1234561"]);
    let auth = fake
        .state
        .ws_connects
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(auth, 1);

    fake.push(json!({"channel": "DATA", "topic": "trade.SSI", "data": {"t": "09:15:01", "s": "SSI", "p": "25,350", "q": 100, "si": "B", "v": 1000}}));
    match next_non_ack(&mut events).await {
        StreamEvent::Message { topic, payload, .. } => {
            assert_eq!(topic, "trade.SSI");
            match *payload {
                Payload::Trade(t) => assert_eq!(t.price.unwrap().to_string(), "25350"),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    fake.push(json!({"channel": "TRADING", "topic": "order.1234561", "data": {"eventType": "orderEvent", "orderId": "9", "orderStatus": "QU", "price": "25350"}}));
    match next_non_ack(&mut events).await {
        StreamEvent::Message { payload, .. } => {
            assert!(matches!(*payload, Payload::Order(ref o) if o.order_status == "QU"));
        }
        other => panic!("{other:?}"),
    }
    fake.push(json!({"channel": "DATA", "topic": "quote.SSI", "data": {"bids": "garbage"}}));
    assert!(matches!(
        next_non_ack(&mut events).await,
        StreamEvent::Undecodable { .. }
    ));
    handle.shutdown();
    eventually("socket closed", || fake.open_sockets() == 0).await;
}

#[tokio::test]
async fn long_topic_lists_are_split_into_frames_under_4096_bytes() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let topics: Vec<Topic> = (0..700)
        .map(|i| Topic::trade(&format!("S{i:04}")).unwrap())
        .collect();
    let (handle, mut events) = client.stream().connect(topics.clone()).unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    eventually("all topics", || fake.subscribed("DATA").len() == 700).await;
    let sizes = fake.ws_raw_sizes();
    assert!(sizes.len() >= 3, "{sizes:?}");
    assert!(sizes.iter().all(|s| *s <= 4_000), "{sizes:?}");
    let expected: Vec<String> = topics.iter().map(ToString::to_string).collect();
    assert_eq!(fake.subscribed("DATA"), expected);
    // Later subscriptions through the handle are split too.
    let more: Vec<Topic> = (0..400)
        .map(|i| Topic::quote(&format!("Q{i:04}")).unwrap())
        .collect();
    handle.subscribe(more).await.unwrap();
    eventually("quotes", || fake.subscribed("DATA").len() == 1_100).await;
    assert!(fake.ws_raw_sizes().iter().all(|s| *s <= 4_000));
}

#[tokio::test]
async fn a_drop_reconnects_resubscribes_everything_and_reports_a_gap() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let (handle, mut events) = client
        .stream()
        .connect(vec![
            Topic::trade("SSI").unwrap(),
            Topic::orders("1234561").unwrap(),
        ])
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    handle
        .subscribe(vec![Topic::quote("FPT").unwrap()])
        .await
        .unwrap();
    handle
        .unsubscribe(vec![Topic::trade("SSI").unwrap()])
        .await
        .unwrap();
    eventually("unsubscribe", || {
        fake.ws_frames()
            .iter()
            .any(|f| f["method"] == "unsubscribe")
    })
    .await;
    let before = fake.ws_frames().len();

    fake.drop_sockets();
    match next_non_ack(&mut events).await {
        StreamEvent::Disconnected { .. } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        next_non_ack(&mut events).await,
        StreamEvent::Connected { reconnect: true }
    );
    match next_non_ack(&mut events).await {
        StreamEvent::Gap { from, to, .. } => assert!(from <= to),
        other => panic!("{other:?}"),
    }
    eventually("resubscription", || fake.ws_frames().len() >= before + 2).await;
    let resent = &fake.ws_frames()[before..];
    let data: Vec<&str> = resent
        .iter()
        .filter(|f| f["channel"] == "DATA")
        .flat_map(|f| {
            f["topics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
        })
        .collect();
    let trading: Vec<&str> = resent
        .iter()
        .filter(|f| f["channel"] == "TRADING")
        .flat_map(|f| {
            f["topics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
        })
        .collect();
    assert_eq!(data, ["quote.FPT"]);
    assert_eq!(trading, ["order.1234561"]);
    assert_eq!(
        fake.state
            .ws_connects
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[tokio::test]
async fn subscriptions_made_while_disconnected_are_sent_on_reconnect() {
    let fake = FakeV3::start().await;
    let mut config = v3_config(&fake);
    config.stream.reconnect_initial_ms = 300;
    config.stream.reconnect_max_ms = 300;
    let client = Client::new(config).unwrap();
    let (handle, mut events) = client
        .stream()
        .connect(vec![Topic::trade("SSI").unwrap()])
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    fake.drop_sockets();
    assert!(matches!(
        next_non_ack(&mut events).await,
        StreamEvent::Disconnected { .. }
    ));
    // Answered at once, during the backoff.
    tokio::time::timeout(
        Duration::from_millis(200),
        handle.subscribe(vec![Topic::quote("FPT").unwrap()]),
    )
    .await
    .expect("no wait for the reconnect")
    .unwrap();
    assert_eq!(
        next_non_ack(&mut events).await,
        StreamEvent::Connected { reconnect: true }
    );
    eventually("resubscription", || {
        fake.subscribed("DATA")
            .ends_with(&["trade.SSI".to_owned(), "quote.FPT".to_owned()])
    })
    .await;
}

#[tokio::test]
async fn heartbeats_are_sent_and_pongs_swallowed() {
    let fake = FakeV3::start().await;
    let mut config = v3_config(&fake);
    config.stream.heartbeat_interval_ms = 50;
    let client = Client::new(config).unwrap();
    let (_handle, mut events) = client
        .stream()
        .connect(vec![Topic::trade("SSI").unwrap()])
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    eventually("pings", || {
        fake.ws_frames()
            .iter()
            .filter(|f| f["method"] == "ping_pong" && f["channel"] == "HEARTBEAT")
            .count()
            >= 3
    })
    .await;
    // Only the subscribe ack reached the consumer: pongs are not events.
    assert!(matches!(
        next(&mut events).await,
        StreamEvent::Ack { ok: true, .. }
    ));
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn a_silent_socket_is_replaced() {
    let fake = FakeV3::start().await;
    let mut config = v3_config(&fake);
    config.stream.heartbeat_interval_ms = 60_000;
    config.stream.idle_timeout_ms = 300;
    let client = Client::new(config).unwrap();
    let (_handle, mut events) = client.stream().connect(vec![]).unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    match next_non_ack(&mut events).await {
        StreamEvent::Disconnected { reason } => assert!(reason.contains("idle"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        next_non_ack(&mut events).await,
        StreamEvent::Connected { reconnect: true }
    );
}

#[tokio::test]
async fn a_server_rejection_after_accept_leads_to_a_reconnect() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    fake.reject_next_socket(json!({"code": 500, "msg": "try later"}));
    let (_handle, mut events) = client
        .stream()
        .connect(vec![Topic::trade("SSI").unwrap()])
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    match next_non_ack(&mut events).await {
        StreamEvent::Disconnected { reason } => assert!(reason.contains("try later"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        next_non_ack(&mut events).await,
        StreamEvent::Connected { reconnect: true }
    );
    assert!(matches!(
        next_non_ack(&mut events).await,
        StreamEvent::Gap { .. }
    ));
}

#[tokio::test]
async fn the_socket_is_cycled_before_the_token_expires() {
    let fake = FakeV3::start().await;
    // 61 s tokens, cycled 60 s before expiry: after about one second. A 0 s REST refresh
    // margin: the stream itself must ask for a token that outlives its cycle lead.
    fake.state
        .lifetime_secs
        .store(61, std::sync::atomic::Ordering::SeqCst);
    let mut config = v3_config(&fake);
    config.http.token_refresh_margin_secs = 0;
    let client = Client::new(config).unwrap();
    let (_handle, mut events) = client
        .stream()
        .connect(vec![Topic::trade("SSI").unwrap()])
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    match next_non_ack(&mut events).await {
        StreamEvent::Disconnected { reason } => assert_eq!(reason, "token cycle"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        next_non_ack(&mut events).await,
        StreamEvent::Connected { reconnect: true }
    );
    assert!(
        matches!(next_non_ack(&mut events).await, StreamEvent::Gap { ref reason, .. } if reason == "token cycle")
    );
}

#[tokio::test]
async fn at_most_ten_sockets_per_client() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let mut open = Vec::new();
    for _ in 0..10 {
        open.push(client.stream().connect(vec![]).unwrap());
    }
    let err = client.stream().connect(vec![]).unwrap_err();
    assert!(
        matches!(err, fastconnect::Error::InvalidRequest(_)),
        "{err:?}"
    );
    let (handle, _events) = open.pop().unwrap();
    drop(handle);
    eventually("a slot frees", || client.stream().connect(vec![]).is_ok()).await;
}

#[tokio::test]
async fn an_unusable_session_fails_the_stream_for_good() {
    let fake = FakeV3::start().await;
    let mut config = v3_config(&fake);
    config.auto_data_login = false;
    let client = Client::new(config).unwrap();
    let (_handle, mut events) = client.stream().connect(vec![]).unwrap();
    match next(&mut events).await {
        StreamEvent::Failed { error } => assert!(error.contains("login"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(events.recv().await.is_none());
}

#[tokio::test]
async fn rest_and_stream_run_over_tls_when_the_self_signed_certificate_is_trusted() {
    let fake = FakeV3::start_tls().await;
    let mut config = v3_config(&fake);
    assert!(config.api_url.starts_with("https://localhost:"));
    assert!(config.stream_url.starts_with("wss://localhost:"));

    // Not trusted: REST and the stream both fail on the certificate.
    let untrusting = Client::new(config.clone()).unwrap();
    let err = untrusting.login_data_only().await.unwrap_err();
    assert!(
        matches!(err, fastconnect::Error::Transport { .. }),
        "{err:?}"
    );

    config.extra_ca_pem = Some(crate::v3_fake::TLS_CERT.to_owned());
    let client = Client::new(config).unwrap();
    fake.enqueue(
        "GET",
        "/api/v3/data/indexList",
        crate::fake_ssi::Canned::json(
            json!([{"index": "VN30", "indexName": "VN30", "board": "HOSE"}]),
        ),
    );
    assert_eq!(client.data().index_list(None).await.unwrap().len(), 1);
    let (_handle, mut events) = client
        .stream()
        .connect(vec![Topic::trade("SSI").unwrap()])
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    eventually("subscription over wss", || {
        fake.subscribed("DATA") == ["trade.SSI"]
    })
    .await;
    fake.push(json!({"channel": "DATA", "topic": "trade.SSI", "data": {"s": "SSI", "p": "25350", "q": 100}}));
    match next_non_ack(&mut events).await {
        StreamEvent::Message { payload, .. } => {
            assert!(matches!(*payload, Payload::Trade(ref t) if t.quantity == Some(100)));
        }
        other => panic!("{other:?}"),
    }

    // A stream without the certificate fails its TLS handshake and says why (REST on a
    // plain fake, so that only the stream's TLS is in question).
    let plain = FakeV3::start().await;
    let mut untrusting_config = v3_config(&plain);
    untrusting_config.stream_url = fake.stream_url();
    let untrusting = Client::new(untrusting_config).unwrap();
    let (_handle, mut events) = untrusting.stream().connect(vec![]).unwrap();
    match next(&mut events).await {
        StreamEvent::Disconnected { reason } => {
            assert!(reason.contains("invalid peer certificate"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn list_subscriptions_reports_the_server_view() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let (handle, mut events) = client.stream().connect(vec![]).unwrap();
    assert_eq!(
        next(&mut events).await,
        StreamEvent::Connected { reconnect: false }
    );
    handle.list_subscriptions().unwrap();
    assert_eq!(
        next_non_ack(&mut events).await,
        StreamEvent::Subscriptions {
            trading: vec![],
            data: vec![]
        }
    );
    eventually("list frame", || {
        fake.ws_frames()
            .iter()
            .any(|f| f["method"] == "list_subscription")
    })
    .await;
}

#[test]
fn an_extra_ca_without_a_certificate_is_a_config_error() {
    let mut config = fastconnect::v3::Config::new("k", "s".to_owned().into());
    config.extra_ca_pem = Some("-----BEGIN NOTHING-----\n-----END NOTHING-----".to_owned());
    assert!(matches!(
        Client::new(config),
        Err(fastconnect::Error::Config(_))
    ));
}
