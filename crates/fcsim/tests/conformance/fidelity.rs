//! Fidelity to the exchanges and to SSI where a client can see it: UPCoM reference prices
//! (vn-market-rules §5.3) in FC Data and in order entry.

use std::time::Duration;

use fastconnect::data::DailyStockPriceQuery;
use fastconnect::trading::{NewOrder, RequestId};
use fastconnect::{
    Decimal, OrderStatus, ResumeFrom, Side, TradingClient, TradingEvent, TradingEvents,
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
