//! QTS's own FastConnect v3 client (`fastconnect::v3`) against the simulator's v3, over
//! TLS for both REST and the stream, trusting the simulator's certificate: two sides written
//! independently from SSI's SDK must agree on the wire.

use std::time::Duration;

use fastconnect::v3::{
    CancelOrder, Client, Config, Modification, ModifyOrder, NewOrder, OhlcQuery, OrderBookQuery,
    OrderRef, Payload, StreamEvent, TimeFrame, Topic,
};
use fastconnect::{Decimal, OrderType, Side};
use fcsim::config::{
    DEMO_CASH_ACCOUNT, DEMO_PRIVATE_KEY_XML_B64, DEMO_V3_API_KEY, DEMO_V3_API_SECRET,
};
use market::{Exchange, InstrumentKind};
use time::macros::datetime;
use tokio::sync::mpsc::Receiver;

use super::helpers::{TestSim, first_instrument, spawn_with, temp_data_dir, trading_config};

/// Serves v3 over TLS for `t` and returns a client of the demo key trusting its certificate.
async fn tls_client(t: &TestSim) -> (Client, tokio_util::sync::CancellationToken) {
    let dir = temp_data_dir("v3-client");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cancel = tokio_util::sync::CancellationToken::new();
    {
        let (sim, file, cancel) = (t.sim.clone(), dir.join("cert.pem"), cancel.clone());
        tokio::spawn(async move { fcsim::serve_v3_tls(sim, listener, &file, cancel).await });
    }
    let mut config = Config::new(DEMO_V3_API_KEY, DEMO_V3_API_SECRET.to_owned().into());
    config.api_url = format!("https://localhost:{port}");
    config.stream_url = format!("wss://localhost:{port}/ws/v3");
    config.private_key = Some(DEMO_PRIVATE_KEY_XML_B64.to_owned().into());
    config.extra_ca_pem = Some(t.sim.v3_cert_pem().to_owned());
    (Client::new(config).unwrap(), cancel)
}

/// The first HOSE stock and its floor price in VND.
fn hose_stock(t: &TestSim) -> (String, i64) {
    let (symbol, band) = first_instrument(t, |x| {
        x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock
    });
    (symbol, band.floor.units())
}

/// The next order event of `client_request_id` that `pred` accepts.
async fn order_event(
    events: &mut Receiver<StreamEvent>,
    client_request_id: &str,
    pred: impl Fn(&fastconnect::v3::stream::OrderEvent) -> bool,
) -> fastconnect::v3::stream::OrderEvent {
    let wait = async {
        while let Some(event) = events.recv().await {
            if let StreamEvent::Message { payload, .. } = event
                && let Payload::Order(o) = *payload
                && o.client_request_id == client_request_id
                && pred(&o)
            {
                return o;
            }
        }
        panic!("stream ended");
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("order event within 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v3_client_logs_in_reads_data_trades_and_streams_against_the_simulator() {
    let t = spawn_with(trading_config()).await;
    let (client, cancel) = tls_client(&t).await;

    // Market data over https with a data-only session opened on first use.
    let indices = client.data().index_list(None).await.unwrap();
    assert!(indices.iter().any(|i| i.index == "VN30"), "{indices:?}");
    let (symbol, floor) = hose_stock(&t);
    let bars = client
        .data()
        .ohlc_all(&OhlcQuery {
            symbol: symbol.clone(),
            from: datetime!(2025-06-02 09:00),
            to: datetime!(2025-06-06 15:00),
            time_frame: TimeFrame::D1,
        })
        .await
        .unwrap();
    assert_eq!(bars.len(), 5, "five trading days: {bars:?}");
    for b in &bars {
        assert!(b.low.unwrap() <= b.high.unwrap(), "{b:?}");
    }

    // Trading scope with the OTP the simulator sent.
    client.request_otp().await.unwrap();
    let otp = t.sim.pending_v3_otp(DEMO_V3_API_KEY).unwrap();
    let session = client.login_otp(&otp.into()).await.unwrap();
    assert_eq!(session.scope, fastconnect::v3::Scope::Trading);
    let trading = client.trading().unwrap();

    // The order stream over wss, open before the order.
    let (stream, mut events) = client
        .stream()
        .connect(vec![Topic::orders(DEMO_CASH_ACCOUNT).unwrap()])
        .unwrap();
    // Subscribed once the server acknowledges the topic.
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = events.recv().await {
            if let StreamEvent::Ack { ok, .. } = event {
                assert!(ok, "the order topic is ours");
                return;
            }
        }
    })
    .await
    .expect("subscription acknowledged within 20 s");

    let order = NewOrder {
        account_no: DEMO_CASH_ACCOUNT.to_owned(),
        symbol: symbol.clone(),
        side: Side::Buy,
        quantity: 100,
        price: Some(Decimal::from_i64(floor)),
        order_type: OrderType::Lo,
        client_request_id: Some(fastconnect::v3::ClientRequestId::new("qtsV3client1").unwrap()),
    };
    let ack = trading.place_order(&order).await.unwrap();
    assert_eq!(ack.client_request_id, "qtsV3client1");
    assert!(!ack.order_id.is_empty(), "{ack:?}");
    order_event(&mut events, "qtsV3client1", |_| true).await;

    // A retry with the same clientRequestId is a duplicate, not a second order.
    let err = trading.place_order(&order).await.unwrap_err();
    assert!(err.is_duplicate_request(), "{err}");

    // Modify the price one tick up, then cancel; both show on the stream and in the book.
    let tick_up = floor + if floor < 10_000 { 10 } else { 50 };
    trading
        .modify_order(&ModifyOrder {
            account_no: DEMO_CASH_ACCOUNT.to_owned(),
            target: OrderRef::OrderId(ack.order_id.clone()),
            change: Modification::Price(Decimal::from_i64(tick_up)),
            client_modify_id: None,
        })
        .await
        .unwrap();
    let moved = order_event(&mut events, "qtsV3client1", |o| {
        Decimal::parse(&o.price).ok().and_then(|p| p.to_i64_exact()) == Some(tick_up)
    })
    .await;
    assert_eq!(moved.quantity, Some(100));
    trading
        .cancel_order(&CancelOrder {
            account_no: DEMO_CASH_ACCOUNT.to_owned(),
            target: OrderRef::ClientRequestId(
                fastconnect::v3::ClientRequestId::new("qtsV3client1").unwrap(),
            ),
            client_cancel_id: None,
        })
        .await
        .unwrap();
    order_event(&mut events, "qtsV3client1", |o| o.cancel_qty == Some(100)).await;

    let today = t.sim.now().to_offset(market::calendar::VN_OFFSET).date();
    let book = trading
        .order_book_all(&OrderBookQuery {
            account_no: DEMO_CASH_ACCOUNT.to_owned(),
            from: today,
            to: today,
            symbol: None,
            order_status: None,
        })
        .await
        .unwrap();
    let ours: Vec<_> = book
        .iter()
        .filter(|o| o.client_request_id == "qtsV3client1")
        .collect();
    assert_eq!(ours.len(), 1, "one order for one clientRequestId: {book:?}");
    assert_eq!(ours[0].cancel_qty, Some(100), "{:?}", ours[0]);
    assert_eq!(ours[0].symbol, symbol);

    // Buying power and balances answer for the account.
    let balance = trading.account_balance(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(!format!("{balance:?}").is_empty());

    stream.shutdown();
    cancel.cancel();
    t.stop().await;
}
