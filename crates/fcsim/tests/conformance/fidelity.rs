//! Fidelity to the exchanges and to SSI where a client can see it: UPCoM reference prices
//! (vn-market-rules §5.3) in FC Data and in order entry, and refused `ModifyOrder`s
//! (ssi-fastconnect §5.4, §7.5): NewOrder's error codes, and no change to the order.

use std::time::Duration;

use fastconnect::data::DailyStockPriceQuery;
use fastconnect::trading::{ModifyOrder, NewOrder, RequestId};
use fastconnect::{
    Decimal, OrderStatus, OrderType, ResumeFrom, Side, TradingClient, TradingEvent, TradingEvents,
    TradingMarket, TradingSubscription,
};
use fcsim::config::{DEMO_CASH_ACCOUNT, DEMO_PIN};
use market::limits::{LimitCase, PreviousSession, Vwap};
use market::tick::Rounding;
use market::{Board, Exchange, InstrumentKind, MarketRules, Price};

use crate::helpers::{TestSim, data_client, spawn_with, trading_client, trading_config};

fn rid(n: u32) -> Option<RequestId> {
    Some(RequestId::new(n).unwrap())
}

fn units(d: Option<Decimal>) -> i64 {
    d.and_then(|d| d.to_i64_exact()).unwrap()
}

/// The smallest on-tick price above `price`, and the largest below it.
fn ticks_around(rules: &MarketRules, exchange: Exchange, price: i64) -> (i64, i64) {
    let stock = InstrumentKind::Stock;
    let up = rules.round_to_tick(
        exchange,
        stock,
        Board::Main,
        Price::new(price + 1).unwrap(),
        Rounding::Up,
    );
    let down = rules.round_to_tick(
        exchange,
        stock,
        Board::Main,
        Price::new(price - 1).unwrap(),
        Rounding::Down,
    );
    (up.unwrap().units(), down.unwrap().units())
}

/// Events of `events` up to and including the first that satisfies `pred`.
async fn until(
    events: &mut TradingEvents,
    what: &str,
    pred: impl Fn(&TradingEvent) -> bool,
) -> Vec<TradingEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(e)) => {
                let done = pred(&e);
                seen.push(e);
                if done {
                    return seen;
                }
            }
            Ok(None) => panic!("stream closed waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}; saw {seen:?}"),
        }
    }
}

fn unique(e: &TradingEvent) -> Option<&str> {
    if let TradingEvent::Order(o) = e {
        o.unique_id.as_deref()
    } else if let TradingEvent::OrderError(o) = e {
        o.unique_id.as_deref()
    } else {
        None
    }
}

async fn error_code(events: &mut TradingEvents, request: u32) -> String {
    let id = request.to_string();
    let seen = until(events, &format!("orderError of {request}"), |e| {
        matches!(e, TradingEvent::OrderError(_)) && unique(e) == Some(id.as_str())
    })
    .await;
    match seen.last() {
        Some(TradingEvent::OrderError(e)) => e.error_code.clone().unwrap(),
        other => panic!("{other:?}"),
    }
}

/// A logged-in client and its trading stream (keep the subscription alive).
async fn logged_in(t: &TestSim) -> (TradingClient, TradingSubscription, TradingEvents) {
    let client = trading_client(t);
    client
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let (sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    until(&mut events, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    (client, sub, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upcom_limits_come_from_the_previous_days_vwap_in_fc_data_and_in_order_entry() {
    let t = spawn_with(trading_config()).await;
    let g = t.sim.generator();
    let rules = MarketRules::default();
    let today = t.sim.now().to_offset(market::calendar::VN_OFFSET).date();
    let day = g.day_index(today).unwrap();
    let yesterday = g.days()[day - 1];
    // A UPCoM stock whose band today differs from one around yesterday's close.
    let (symbol, old_ceiling) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .filter(|(_, x)| x.exchange == Exchange::Upcom)
        .find_map(|(i, x)| {
            let close = Price::new(g.previous_close(i, day)).unwrap();
            let old = rules
                .price_limits(Exchange::Upcom, x.kind, close, LimitCase::Normal)
                .unwrap();
            (old.ceiling != g.limits(i, day).unwrap().ceiling)
                .then(|| (x.symbol.clone(), old.ceiling.units()))
        })
        .expect("a UPCoM stock whose VWAP and close give different bands");

    // FC Data: today's RefPrice is `market`'s rule over yesterday's matched value and
    // volume (UPCoM trades continuously only), not yesterday's close.
    let rows = data_client(&t)
        .all(&DailyStockPriceQuery {
            symbol: Some(symbol.clone()),
            market: None,
            from: yesterday,
            to: today,
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = |date| rows.iter().find(|r| r.trading_date == date).unwrap();
    let (before, now) = (row(yesterday), row(today));
    let value = before.total_match_val.unwrap().mantissa();
    let volume = i128::from(before.total_match_vol.unwrap());
    let previous = PreviousSession {
        reference: Price::new(units(before.ref_price)).unwrap(),
        close: Some(Price::new(units(before.close_price)).unwrap()),
        continuous: Vwap::from_totals(value, volume),
    };
    let reference = rules
        .next_reference(Exchange::Upcom, InstrumentKind::Stock, &previous)
        .unwrap();
    assert_eq!(units(now.ref_price), reference.units());
    assert_ne!(units(now.ref_price), units(before.close_price));
    let band = rules
        .price_limits(
            Exchange::Upcom,
            InstrumentKind::Stock,
            reference,
            LimitCase::Normal,
        )
        .unwrap();
    let ceiling = units(now.ceiling_price);
    assert_eq!(ceiling, band.ceiling.units());
    assert_eq!(units(now.floor_price), band.floor.units());
    assert_ne!(ceiling, old_ceiling);

    // FC Trading takes a buy at that ceiling and refuses one tick above it (ORD003).
    let (client, _sub, mut events) = logged_in(&t).await;
    let (above, _) = ticks_around(&rules, Exchange::Upcom, ceiling);
    for (request, price) in [(6001, ceiling), (6002, above)] {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(price),
            100,
        );
        o.request_id = rid(request);
        client.new_order(o).await.unwrap();
    }
    let first = until(&mut events, "6001 queued", |e| unique(e) == Some("6001")).await;
    assert!(
        matches!(first.last(), Some(TradingEvent::Order(o)) if o.order_status == Some(OrderStatus::Queued)),
        "{first:?}"
    );
    assert_eq!(error_code(&mut events, 6002).await, "ORD003");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_modify_carries_new_order_codes_and_leaves_the_order_unchanged() {
    let t = spawn_with(trading_config()).await;
    let g = t.sim.generator();
    let rules = MarketRules::default();
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
    let symbol = x.symbol.clone();
    let limits = g.limits(i, day).unwrap();
    let (floor, ceiling) = (limits.floor.units(), limits.ceiling.units());
    let (above_ceiling, _) = ticks_around(&rules, Exchange::Hose, ceiling);
    let (_, below_floor) = ticks_around(&rules, Exchange::Hose, floor);
    let (client, _sub, mut events) = logged_in(&t).await;

    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        200,
    );
    o.request_id = rid(5001);
    client.new_order(o).await.unwrap();
    let queued = until(&mut events, "5001 queued", |e| unique(e) == Some("5001")).await;
    let Some(TradingEvent::Order(queued)) = queued.last() else {
        panic!("{queued:?}")
    };
    let order_id = queued.order_id.clone();
    let book_item = |book: &fastconnect::trading::OrderBook| {
        book.orders
            .iter()
            .find(|o| o.order_id == order_id)
            .cloned()
            .unwrap()
    };
    let before = book_item(&client.order_book(DEMO_CASH_ACCOUNT).await.unwrap());
    let modify = |request: u32, price: i64, quantity: u64| ModifyOrder {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        instrument_id: symbol.clone(),
        market: TradingMarket::Vn,
        side: Side::Buy,
        order_type: OrderType::Lo,
        order_id: order_id.clone(),
        price: Decimal::from_i64(price),
        quantity,
        request_id: rid(request),
        code: None,
    };

    // Each refusal names the broken rule as NewOrder would. 5002 to 5004 also raise the
    // quantity to 300, which must not happen when the price is refused.
    for (request, price, quantity, code) in [
        (5002, above_ceiling, 300, "ORD003"),
        (5003, below_floor, 300, "ORD002"),
        (5004, floor + 1, 300, "ORD004"),
        (5005, floor, 250, "ORD005"),
    ] {
        client
            .modify_order(modify(request, price, quantity))
            .await
            .unwrap();
        assert_eq!(error_code(&mut events, request).await, code, "{request}");
    }
    let after = book_item(&client.order_book(DEMO_CASH_ACCOUNT).await.unwrap());
    assert_eq!(after.quantity, Some(200));
    assert_eq!(after.price, Some(Decimal::from_i64(floor)));
    assert_eq!(after.order_status, Some(OrderStatus::Queued));
    assert_eq!(
        after.unique_id.as_deref(),
        Some("5001"),
        "no refused request id"
    );
    assert_eq!(after.modified_time, before.modified_time);

    // A valid modify goes through, and no order event of a refused request came before it.
    client.modify_order(modify(5006, floor, 300)).await.unwrap();
    let seen = until(&mut events, "5006 amended", |e| {
        matches!(e, TradingEvent::Order(_)) && unique(e) == Some("5006")
    })
    .await;
    let refused = ["5002", "5003", "5004", "5005"];
    assert!(
        !seen.iter().any(|e| matches!(e, TradingEvent::Order(_))
            && unique(e).is_some_and(|u| refused.contains(&u))),
        "{seen:?}"
    );
    let Some(TradingEvent::Order(amended)) = seen.last() else {
        panic!("{seen:?}")
    };
    assert_eq!(amended.quantity, Some(300));
    let now = book_item(&client.order_book(DEMO_CASH_ACCOUNT).await.unwrap());
    assert_eq!(now.quantity, Some(300));
    assert_eq!(now.unique_id.as_deref(), Some("5006"));
}
