//! FC Trading: `fastconnect::TradingClient` against the simulator — login, orders with
//! fills and account updates on the stream, every query, rejections, quotas, NotifyID.

use std::time::Duration;

use fastconnect::trading::{CancelOrder, ModifyOrder, NewOrder, RequestId, RequestSigner};
use fastconnect::{
    Decimal, Error, OrderStatus, OrderType, ResumeFrom, Side, TradingEvent, TradingEvents,
    TradingMarket,
};
use fcsim::SimConfig;
use fcsim::config::{DEMO_CASH_ACCOUNT, DEMO_DERIVATIVES_ACCOUNT, DEMO_PIN, RateRule};
use market::{Exchange, InstrumentKind};
use secrecy::SecretString;

use crate::helpers::{
    TestSim, spawn_with, trading_client, trading_client_with_key, trading_config,
};

fn pin() -> SecretString {
    DEMO_PIN.to_owned().into()
}

/// A HOSE stock of the test universe and today's (floor, ceiling) in VND.
fn hose_stock(t: &TestSim) -> (String, i64, i64) {
    let g = t.sim.generator();
    let day = g
        .day_index(t.sim.now().to_offset(market::calendar::VN_OFFSET).date())
        .unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    let l = g.limits(i, day).unwrap();
    (x.symbol.clone(), l.floor.units(), l.ceiling.units())
}

fn future(t: &TestSim) -> String {
    t.sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .find(|x| x.kind == InstrumentKind::IndexFuture)
        .unwrap()
        .symbol
        .clone()
}

async fn next_where(
    events: &mut TradingEvents,
    what: &str,
    pred: impl Fn(&TradingEvent) -> bool,
) -> TradingEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(e)) if pred(&e) => return e,
            Ok(Some(_)) => {}
            Ok(None) => panic!("stream closed waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn is_order(e: &TradingEvent, id: u32, status: OrderStatus) -> bool {
    matches!(e, TradingEvent::Order(o)
        if o.unique_id.as_deref() == Some(id.to_string().as_str()) && o.order_status == Some(status))
}

fn rid(n: u32) -> Option<RequestId> {
    Some(RequestId::new(n).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fill_amend_cancel_and_flow_back_on_the_stream() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    next_where(&mut events, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    let (symbol, floor, _) = hose_stock(&t);
    let cash_before = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap()
        .cash_bal
        .unwrap();

    // A marketable MTL buy fills against the market maker's generated ask.
    let mut buy = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::ZERO,
        100,
    );
    buy.order_type = OrderType::Mtl;
    buy.request_id = rid(1001);
    let ack = client.new_order(buy).await.unwrap();
    assert_eq!(ack.request_id.get(), 1001);
    assert_eq!(ack.request_data["instrumentID"], symbol.as_str());
    next_where(&mut events, "QU of 1001", |e| {
        is_order(e, 1001, OrderStatus::Queued)
    })
    .await;
    let fill = next_where(&mut events, "match of 1001", |e| {
        matches!(e, TradingEvent::Match(_))
    })
    .await;
    let TradingEvent::Match(m) = fill else {
        unreachable!()
    };
    assert_eq!(m.match_qty, 100);
    assert_eq!(m.account.as_deref(), Some(DEMO_CASH_ACCOUNT));
    next_where(&mut events, "FF of 1001", |e| {
        is_order(e, 1001, OrderStatus::Filled)
    })
    .await;

    // The fill shows in the account: cash down, shares bought (pending settlement).
    let cash_after = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    assert!(cash_after.cash_bal.unwrap() < cash_before, "{cash_after:?}");
    let positions = client.stock_position(DEMO_CASH_ACCOUNT).await.unwrap();
    let p = positions
        .stock_positions
        .iter()
        .find(|p| p.instrument_id == symbol)
        .expect("bought position");
    assert!(p.on_hand.unwrap() >= 100);

    // A limit buy at the floor rests, is amended (quantity up) and cancelled.
    let mut rest = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        200,
    );
    rest.request_id = rid(1002);
    client.new_order(rest).await.unwrap();
    let queued = next_where(&mut events, "QU of 1002", |e| {
        is_order(e, 1002, OrderStatus::Queued)
    })
    .await;
    let TradingEvent::Order(queued) = queued else {
        unreachable!()
    };
    let order_id = queued.order_id.clone();
    assert_eq!(queued.orig_request_id.as_deref(), Some("1002"));

    client
        .modify_order(ModifyOrder {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            instrument_id: symbol.clone(),
            market: TradingMarket::Vn,
            side: Side::Buy,
            order_type: OrderType::Lo,
            order_id: order_id.clone(),
            price: Decimal::from_i64(floor),
            quantity: 300,
            request_id: rid(1003),
            code: None,
        })
        .await
        .unwrap();
    let amended = next_where(
        &mut events,
        "amend event",
        |e| matches!(e, TradingEvent::Order(o) if o.unique_id.as_deref() == Some("1003")),
    )
    .await;
    let TradingEvent::Order(amended) = amended else {
        unreachable!()
    };
    assert_eq!(amended.quantity, Some(300));
    assert_eq!(amended.orig_request_id.as_deref(), Some("1002"));

    client
        .cancel_order(CancelOrder {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            instrument_id: symbol.clone(),
            market: TradingMarket::Vn,
            side: Side::Buy,
            order_id: order_id.clone(),
            request_id: rid(1004),
            code: None,
        })
        .await
        .unwrap();
    let cancelled = next_where(&mut events, "CL", |e| {
        is_order(e, 1004, OrderStatus::Cancelled)
    })
    .await;
    let TradingEvent::Order(cancelled) = cancelled else {
        unreachable!()
    };
    assert_eq!(cancelled.cancel_qty, Some(300));

    // The order book agrees with the stream.
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let o = book.orders.iter().find(|o| o.order_id == order_id).unwrap();
    assert_eq!(o.order_status, Some(OrderStatus::Cancelled));
    let filled = book
        .orders
        .iter()
        .find(|o| o.unique_id.as_deref() == Some("1001"))
        .unwrap();
    assert_eq!(filled.filled_qty, Some(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_endpoint_answers_from_the_engine() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor, _) = hose_stock(&t);
    let fut = future(&t);

    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(2001);
    client.new_order(o).await.unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    next_where(&mut events, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    let mut f = NewOrder::limit(
        DEMO_DERIVATIVES_ACCOUNT,
        &fut,
        TradingMarket::Vnfe,
        Side::Buy,
        Decimal::ZERO,
        1,
    );
    f.order_type = OrderType::Mtl;
    f.request_id = rid(2002);
    client.new_order(f).await.unwrap();

    let p = next_where(&mut events, "futures portfolio", |e| {
        matches!(e, TradingEvent::Portfolio(_))
    })
    .await;
    let TradingEvent::Portfolio(p) = p else {
        unreachable!()
    };
    assert_eq!(p.account.as_deref(), Some(DEMO_DERIVATIVES_ACCOUNT));
    assert_eq!(p.open.len(), 1);
    assert_eq!(p.open[0].instrument_id, fut);
    assert_eq!(p.open[0].net, Some(1));

    let today = t.sim.now().to_offset(market::calendar::VN_OFFSET).date();
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(book.orders.len(), 1);
    assert_eq!(book.orders[0].order_status, Some(OrderStatus::Queued));
    let history = client
        .order_history(DEMO_CASH_ACCOUNT, today, today)
        .await
        .unwrap();
    assert_eq!(history.orders.len(), 1);
    let audit = client.audit_order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(audit.orders.len(), 1);

    let max_buy = client
        .max_buy_qty(DEMO_CASH_ACCOUNT, &symbol, Decimal::from_i64(floor))
        .await
        .unwrap();
    assert!(max_buy.max_buy_qty > 0);
    assert!(max_buy.purchasing_power.unwrap() > Decimal::ZERO);
    let max_sell = client.max_sell_qty(DEMO_CASH_ACCOUNT, "SSI", None).await;
    // SSI is seeded in the demo accounts when it is in the universe.
    if t.sim.generator().universe().find("SSI").is_some() {
        assert_eq!(max_sell.unwrap().max_sell_qty, 10_000);
    }
    let cash = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    assert!(
        cash.cash_on_hold.unwrap() > Decimal::ZERO,
        "the resting buy holds cash"
    );
    let ppmmr = client.ppmmr_account(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(ppmmr.purchasing_power.unwrap() > Decimal::ZERO);
    client.stock_position(DEMO_CASH_ACCOUNT).await.unwrap();

    let deriv = client
        .deriv_position(DEMO_DERIVATIVES_ACCOUNT, true)
        .await
        .unwrap();
    let pos = deriv
        .open_position
        .iter()
        .find(|p| p.instrument_id == fut)
        .expect("futures position");
    assert_eq!(pos.net, Some(1));
    let bal = client
        .deriv_account_balance(DEMO_DERIVATIVES_ACCOUNT)
        .await
        .unwrap();
    assert!(bal.account_balance.is_some());

    // derNewOrder / derModifyOrder / derCancelOrder on a resting futures limit order.
    let (fi, fx) = t
        .sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.symbol == fut)
        .unwrap();
    let day = t.sim.generator().day_index(today).unwrap();
    let ffloor = t.sim.generator().limits(fi, day).unwrap().floor.units();
    let points = fcsim::tape::display_price(fx, ffloor);
    let mut rest = NewOrder::limit(
        DEMO_DERIVATIVES_ACCOUNT,
        &fut,
        TradingMarket::Vnfe,
        Side::Buy,
        points,
        1,
    );
    rest.request_id = rid(2003);
    client.new_order(rest).await.unwrap();
    let q = next_where(&mut events, "futures QU", |e| {
        is_order(e, 2003, OrderStatus::Queued)
    })
    .await;
    let TradingEvent::Order(q) = q else {
        unreachable!()
    };
    client
        .modify_order(ModifyOrder {
            account: DEMO_DERIVATIVES_ACCOUNT.to_owned(),
            instrument_id: fut.clone(),
            market: TradingMarket::Vnfe,
            side: Side::Buy,
            order_type: OrderType::Lo,
            order_id: q.order_id.clone(),
            price: points,
            quantity: 2,
            request_id: rid(2004),
            code: None,
        })
        .await
        .unwrap();
    next_where(&mut events, "futures amend", |e| {
        matches!(e, TradingEvent::Order(o) if o.unique_id.as_deref() == Some("2004") && o.quantity == Some(2))
    })
    .await;
    client
        .cancel_order(CancelOrder {
            account: DEMO_DERIVATIVES_ACCOUNT.to_owned(),
            instrument_id: fut.clone(),
            market: TradingMarket::Vnfe,
            side: Side::Buy,
            order_id: q.order_id.clone(),
            request_id: rid(2005),
            code: None,
        })
        .await
        .unwrap();
    next_where(&mut events, "futures CL", |e| {
        is_order(e, 2005, OrderStatus::Cancelled)
    })
    .await;

    let rules = client.rate_limit().await.unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].limit, 50);

    let err = client.order_book("9999991").await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("Account is not exist")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_ssi_errors_never_a_crash() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    next_where(&mut events, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    let (symbol, floor, ceiling) = hose_stock(&t);

    // Duplicate requestID.
    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(3001);
    client.new_order(o.clone()).await.unwrap();
    let err = client.new_order(o).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("Duplicate requestID")),
        "{err}"
    );

    // Above the ceiling: accepted for processing, rejected by the exchange rules on the stream.
    let mut high = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(ceiling + 1_000),
        100,
    );
    high.request_id = rid(3002);
    client.new_order(high).await.unwrap();
    let e = next_where(
        &mut events,
        "ORD003",
        |e| matches!(e, TradingEvent::OrderError(x) if x.unique_id.as_deref() == Some("3002")),
    )
    .await;
    let TradingEvent::OrderError(e) = e else {
        unreachable!()
    };
    assert_eq!(e.error_code.as_deref(), Some("ORD003"));

    // Off tick (HOSE steps are at least 10 VND).
    let mut odd = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor + 1),
        100,
    );
    odd.request_id = rid(3003);
    client.new_order(odd).await.unwrap();
    let e = next_where(
        &mut events,
        "ORD004",
        |e| matches!(e, TradingEvent::OrderError(x) if x.unique_id.as_deref() == Some("3003")),
    )
    .await;
    let TradingEvent::OrderError(e) = e else {
        unreachable!()
    };
    assert_eq!(e.error_code.as_deref(), Some("ORD004"));
    let audit = client.audit_order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let rejected = audit
        .orders
        .iter()
        .find(|o| o.unique_id.as_deref() == Some("3003"))
        .unwrap();
    assert_eq!(rejected.order_status, Some(OrderStatus::Rejected));
    assert!(rejected.last_error_event.is_some());

    // Unknown symbol.
    let mut unknown = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        "ZZZ",
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(10_000),
        100,
    );
    unknown.request_id = rid(3004);
    let err = client.new_order(unknown).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("ORD001")),
        "{err}"
    );

    // Wrong signing key.
    let other = include_str!("../fixtures/other_key.pem");
    let forger = trading_client_with_key(&t, other);
    forger.login(&pin(), true).await.unwrap();
    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(3005);
    let err = forger.new_order(o).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("Invalid signature")),
        "{err}"
    );

    // Raw bodies: malformed JSON and a bad enum, correctly signed.
    let token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let signer =
        RequestSigner::from_key(&fcsim::config::DEMO_PRIVATE_KEY_XML_B64.to_owned().into())
            .unwrap();
    let http = reqwest::Client::new();
    for (body, expect) in [
        (r#"{"account": "0001001", "#.to_owned(), "invalid"),
        (
            format!(
                r#"{{"account":"{DEMO_CASH_ACCOUNT}","requestID":"3006","instrumentID":"{symbol}","market":"VN","buySell":"X","orderType":"LO","price":{floor},"quantity":100}}"#
            ),
            "Buy Sell",
        ),
        (
            format!(
                r#"{{"account":"{DEMO_CASH_ACCOUNT}","requestID":"3007","instrumentID":"{symbol}","market":"VN","buySell":"B","orderType":"QQ","price":{floor},"quantity":100}}"#
            ),
            "Order Type",
        ),
        (
            format!(
                r#"{{"account":"{DEMO_CASH_ACCOUNT}","requestID":"abc","instrumentID":"{symbol}","market":"VN","buySell":"B","orderType":"LO","price":{floor},"quantity":100}}"#
            ),
            "Request ID",
        ),
    ] {
        let sig = signer.sign(body.as_bytes()).unwrap();
        let resp = http
            .post(format!("{}/api/v2/Trading/NewOrder", t.trading_url))
            .header("Authorization", format!("Bearer {token}"))
            .header("X-Signature", sig)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["status"], 400);
        assert!(v["data"].is_null());
        assert!(v["message"].as_str().unwrap().contains(expect), "{v}");
    }
    // Still serving.
    client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_breach_answers_429_with_retry_after() {
    let config = SimConfig {
        rate_limits: vec![RateRule {
            endpoint: "get:*".to_owned(),
            period: "1m".to_owned(),
            limit: 3,
        }],
        ..trading_config()
    };
    let t = spawn_with(config).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    for _ in 0..3 {
        client
            .cash_account_balance(DEMO_CASH_ACCOUNT)
            .await
            .unwrap();
    }
    let err = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap_err();
    let Error::RateLimited {
        message,
        retry_after,
        ..
    } = err
    else {
        panic!("expected RateLimited, got {err}");
    };
    assert_eq!(
        message,
        "API calls quota exceeded! maximum admitted 3 per 1m."
    );
    assert!(retry_after.unwrap() > Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_login_and_read_only_tokens() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    // A wrong PIN is refused.
    let err = client
        .login(&"000000".to_owned().into(), true)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { .. } | Error::Rejected { .. }),
        "{err}"
    );
    // A read-only token queries but cannot trade without a code.
    client.login_read_only().await.unwrap();
    client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let (symbol, floor, _) = hose_stock(&t);
    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(4001);
    let err = client.new_order(o.clone()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("Code is required")),
        "{err}"
    );
    o.code = Some(pin());
    client.new_order(o).await.unwrap();
    // OTP: GetOTP then AccessToken with twoFactorType 1; the OTP is single use.
    client.request_otp().await.unwrap();
    let otp = t
        .sim
        .pending_otp(fcsim::config::DEMO_TRADING_CONSUMER_ID)
        .unwrap();
    let otp_client = {
        let mut c = crate::helpers::trading_client(&t).config().clone();
        c.two_factor = fastconnect::TwoFactorType::Otp;
        fastconnect::TradingClient::new(c).unwrap()
    };
    otp_client.login(&otp.clone().into(), true).await.unwrap();
    assert!(otp_client.login(&otp.into(), true).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_id_resume_misses_nothing() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor, _) = hose_stock(&t);
    let place = |n: u32| {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(floor),
            100,
        );
        o.request_id = rid(n);
        o
    };
    client.new_order(place(5001)).await.unwrap();
    let (sub, mut events) = client.stream(Some(ResumeFrom::StartOfDay)).unwrap();
    let first = next_where(&mut events, "replayed 5001", |e| {
        is_order(e, 5001, OrderStatus::Queued)
    })
    .await;
    let seen = first.notify_id().unwrap();
    sub.shutdown();
    drop(events);

    // While no client listens, two more orders are placed.
    client.new_order(place(5002)).await.unwrap();
    client.new_order(place(5003)).await.unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::After(seen))).unwrap();
    let a = next_where(&mut events, "5002 after resume", |e| {
        matches!(e, TradingEvent::Order(_))
    })
    .await;
    assert!(is_order(&a, 5002, OrderStatus::Queued), "{a:?}");
    let b = next_where(&mut events, "5003 after resume", |e| {
        matches!(e, TradingEvent::Order(_))
    })
    .await;
    assert!(is_order(&b, 5003, OrderStatus::Queued), "{b:?}");
    assert!(b.notify_id().unwrap() > a.notify_id().unwrap());

    // -1: only what happens from now on.
    let (_sub2, mut fresh) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    next_where(&mut fresh, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    client.new_order(place(5004)).await.unwrap();
    let c = next_where(&mut fresh, "5004 only", |e| {
        matches!(e, TradingEvent::Order(_))
    })
    .await;
    assert!(is_order(&c, 5004, OrderStatus::Queued), "{c:?}");
}

/// Reads `Broadcast` arguments from a raw hub connection opened with `NotifyID: notify`.
async fn raw_hub(t: &TestSim, token: &str, notify: &str, want: usize) -> Vec<serde_json::Value> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let url = format!(
        "{}/v2.0/signalr/connect?transport=webSockets&clientProtocol=1.5&connectionToken=x&connectionData=%5B%7B%22name%22%3A%22BroadcastHubV2%22%7D%5D",
        t.trading_url.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut()
        .insert("NotifyID", notify.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut out = Vec::new();
    while out.len() < want {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("hub message")
            .unwrap()
            .unwrap();
        let Ok(text) = msg.into_text() else { continue };
        let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        for m in frame["M"].as_array().into_iter().flatten() {
            assert_eq!(m["H"], "BroadcastHubV2");
            assert_eq!(m["M"], "Broadcast");
            let arg: serde_json::Value = serde_json::from_str(m["A"][0].as_str().unwrap()).unwrap();
            out.push(arg);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_replays_by_notify_id_on_the_wire() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor, _) = hose_stock(&t);
    for n in [6001, 6002] {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(floor),
            100,
        );
        o.request_id = rid(n);
        client.new_order(o).await.unwrap();
    }
    let token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let all = raw_hub(&t, &token, "0", 2).await;
    assert_eq!(all[0]["type"], "orderEvent");
    assert_eq!(all[0]["data"]["uniqueID"], "6001");
    assert_eq!(all[1]["data"]["uniqueID"], "6002");
    let first = all[0]["data"]["notifyID"].as_i64().unwrap();
    let after = raw_hub(&t, &token, &first.to_string(), 1).await;
    assert_eq!(after[0]["data"]["uniqueID"], "6002");
    // A cursor from before a simulator restart (beyond the newest id) replays the day.
    let stale = raw_hub(&t, &token, "99999", 2).await;
    assert_eq!(stale[0]["data"]["uniqueID"], "6001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_every_endpoint_gets_an_envelope_and_the_server_stays_up() {
    let t = spawn_with(SimConfig {
        rate_limits: Vec::new(),
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let signer =
        RequestSigner::from_key(&fcsim::config::DEMO_PRIVATE_KEY_XML_B64.to_owned().into())
            .unwrap();
    let http = reqwest::Client::new();
    let bodies = [
        "",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "{\"account\": 5}",
        "{\"account\":\"0001001\",\"requestID\":\"1\",\"orderID\":\"99999999999\",\"marketID\":\"VN\",\"buySell\":\"B\",\"instrumentID\":\"SSI\",\"price\":1e308,\"quantity\":-1}",
        "{\"account\":\"0001001\",\"requestID\":\"2\",\"instrumentID\":\"\\u0000\",\"market\":\"VN\",\"buySell\":\"B\",\"orderType\":\"LO\",\"price\":\"abc\",\"quantity\":1.5}",
        "{\"consumerID\":[1],\"consumerSecret\":{},\"twoFactorType\":\"x\",\"isSave\":7}",
    ];
    let posts = [
        "NewOrder",
        "ModifyOrder",
        "CancelOrder",
        "derNewOrder",
        "derModifyOrder",
        "derCancelOrder",
        "AccessToken",
        "GetOTP",
        "NoSuchThing",
    ];
    for path in posts {
        for body in bodies {
            let sig = signer.sign(body.as_bytes()).unwrap();
            let resp = http
                .post(format!("{}/api/v2/Trading/{path}", t.trading_url))
                .header("Authorization", format!("Bearer {token}"))
                .header("X-Signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = resp.json().await.unwrap();
            assert_ne!(v["status"], 200, "{path} {body}: {v}");
            assert!(v["message"].is_string(), "{path} {body}: {v}");
        }
    }
    let gets = [
        "orderHistory?account=0001001&startDate=99/99/9999&endDate=x",
        "orderBook",
        "maxBuyQty?account=0001001&instrumentID=ZZZZ&price=-5",
        "maxBuyQty?account=0001001&instrumentID=SSI&price=abc",
        "maxSellQty?account=0001001",
        "derivPosition?account=0001008&querySummary=maybe",
        "cashAcctBal?account=%ZZ",
        "stockPosition?account=0001001%00",
    ];
    for q in gets {
        let resp = http
            .get(format!("{}/api/v2/Trading/{q}", t.trading_url))
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_ne!(v["status"], 200, "{q}: {v}");
    }
    client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_in_response_answers_rule_breaks_with_the_ssi_code() {
    let t = spawn_with(SimConfig {
        reject_in_response: true,
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor, ceiling) = hose_stock(&t);
    for (n, price, code) in [
        (7001, ceiling + 1_000, "ORD003"),
        (7002, floor + 1, "ORD004"),
    ] {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(price),
            100,
        );
        o.request_id = rid(n);
        let err = client.new_order(o).await.unwrap_err();
        assert!(
            matches!(&err, Error::Rejected { message, .. } if message.starts_with(code)),
            "{err}"
        );
    }
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(
        book.orders
            .iter()
            .all(|o| o.order_status == Some(OrderStatus::Rejected))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modify_order_with_a_negative_or_nan_price_is_refused_not_taken_as_unchanged() {
    let t = spawn_with(SimConfig {
        rate_limits: Vec::new(),
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor, _) = hose_stock(&t);
    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(9001);
    client.new_order(o).await.unwrap();
    let order = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap().orders[0].clone();
    let token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let signer =
        RequestSigner::from_key(&fcsim::config::DEMO_PRIVATE_KEY_XML_B64.to_owned().into())
            .unwrap();
    for (n, price, expect) in [
        (9002, "-5", "ORD006"),
        (9003, "\"NaN\"", "not a number"),
        (9004, "\"-Infinity\"", "not a number"),
        (9005, "\"inf\"", "not a number"),
    ] {
        let body = format!(
            r#"{{"account":"{DEMO_CASH_ACCOUNT}","requestID":"{n}","orderID":"{}","marketID":"VN","buySell":"B","instrumentID":"{symbol}","orderType":"LO","price":{price},"quantity":200}}"#,
            order.order_id
        );
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v2/Trading/ModifyOrder", t.trading_url))
            .header("Authorization", format!("Bearer {token}"))
            .header("X-Signature", signer.sign(body.as_bytes()).unwrap())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{price}");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["status"], 400, "{price}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(expect),
            "{price}: {v}"
        );
    }
    // The order is untouched (not even its quantity), and the request ids are still free.
    let after = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap().orders[0].clone();
    assert_eq!(after, order);
    client
        .modify_order(ModifyOrder {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            instrument_id: symbol.clone(),
            market: TradingMarket::Vn,
            side: Side::Buy,
            order_type: OrderType::Lo,
            order_id: order.order_id.clone(),
            price: Decimal::from_i64(floor),
            quantity: 200,
            request_id: rid(9002),
            code: None,
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_balance_counts_the_days_matched_buys_and_sells() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    next_where(&mut events, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    let (symbol, _, _) = hose_stock(&t);
    let before = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    assert_eq!(before.matched_buy_volume, Some(Decimal::ZERO));
    let mut buy = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::ZERO,
        100,
    );
    buy.order_type = OrderType::Mtl;
    buy.request_id = rid(9101);
    client.new_order(buy).await.unwrap();
    let mut sell = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        "SSI",
        TradingMarket::Vn,
        Side::Sell,
        Decimal::ZERO,
        100,
    );
    sell.order_type = OrderType::Mtl;
    sell.request_id = rid(9102);
    client.new_order(sell).await.unwrap();
    let mut values = Vec::new();
    for id in [9101, 9102] {
        let e = next_where(&mut events, "fill", |e| {
            matches!(e, TradingEvent::Match(m) if m.unique_id.as_deref() == Some(id.to_string().as_str()))
        })
        .await;
        let TradingEvent::Match(m) = e else {
            unreachable!()
        };
        values.push(Decimal::from_i64(
            m.match_price.to_i64_exact().unwrap() * m.match_qty,
        ));
    }
    let after = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    assert_eq!(after.matched_buy_volume, Some(values[0]), "{after:?}");
    assert_eq!(after.matched_sell_volume, Some(values[1]), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_replay_arrives_whole_in_rounds() {
    let t = spawn_with(SimConfig {
        rate_limits: Vec::new(),
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, _, ceiling) = hose_stock(&t);
    // 1,200 orders above the ceiling: one orderError each, more than two rounds of 512.
    for n in 0..1_200u32 {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(ceiling + 1_000),
            100,
        );
        o.request_id = rid(20_000 + n);
        client.new_order(o).await.unwrap();
    }
    let token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let all = raw_hub(&t, &token, "0", 1_200).await;
    let ids: Vec<i64> = all
        .iter()
        .map(|m| m["data"]["notifyID"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (1..=1_200).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_trade_only_on_a_derivatives_account_and_stocks_only_on_a_cash_account() {
    let t = spawn_with(trading_config()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor, _) = hose_stock(&t);
    let fut = future(&t);
    let mut on_cash = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &fut,
        TradingMarket::Vnfe,
        Side::Buy,
        Decimal::ZERO,
        1,
    );
    on_cash.order_type = OrderType::Mtl;
    on_cash.request_id = rid(2101);
    let err = client.new_order(on_cash).await.unwrap_err().to_string();
    assert!(err.contains("is a cash account"), "{err}");
    let mut on_derivatives = NewOrder::limit(
        DEMO_DERIVATIVES_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    on_derivatives.request_id = rid(2102);
    let err = client
        .new_order(on_derivatives)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is a derivatives account"), "{err}");
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(book.orders.is_empty(), "nothing applied: {book:?}");
    t.stop().await;
}
