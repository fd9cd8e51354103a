//! The v3 adapter end to end through the broker traits, against the simulator's v3 side in
//! process (plain HTTP and `ws://` on the trading port, the demo v3 key), beside v2 on the
//! same market and accounts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use broker::v3::V3Trading;
use broker::{
    AccountEvent, AmendRequest, BarsQuery, CancelRequest, ConditionalKind, ConditionalOrder,
    ConditionalRequest, ConditionalState, Error, EventStream, Generation, MarketEvent, OrderKey,
    OrderRequest, OrderStatus, Resolution, Settings, Subscription, Trading, Trigger,
};
use common_error::Classify as _;
use fcsim::SimConfig;
use fcsim::config::{
    DEMO_CASH_ACCOUNT, DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN,
    DEMO_PRIVATE_KEY_XML_B64, DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
    DEMO_V3_API_KEY, DEMO_V3_API_SECRET,
};
use futures::StreamExt as _;
use market::order::Amendment;
use market::{Exchange, OrderType, Price, Quantity, Side, Symbol};
use time::macros::{date, datetime};

use support::{
    Proxy, TestSim, assert_bands, hose_stock, id, instrument, listed, pre_open_config, spawn_with,
    trading_config, universe,
};

/// 20 s before HOSE's opening print, 30× real time: trades and quotes flow at once.
fn market_config() -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 09:14:40 +7),
        speed: 30.0,
        universe: universe(),
        history_days: 30,
        ..SimConfig::demo()
    }
}

/// The settings a deployment would write for the simulator's v3 (its plain-HTTP side).
fn v3_settings(t: &TestSim) -> Settings {
    v3_settings_at(&t.trading_url)
}

/// [`v3_settings`] for the simulator's v3 at `url`.
fn v3_settings_at(url: &str) -> Settings {
    let ws = url.replace("http://", "ws://");
    let text = format!(
        "generation = \"v3\"\napi_key = \"{DEMO_V3_API_KEY}\"\napi_secret = \"{DEMO_V3_API_SECRET}\"\n\
         api_url = \"{}\"\nstream_url = \"{ws}/ws/v3\"\nprivate_key = \"{DEMO_PRIVATE_KEY_XML_B64}\"\n\
         [http]\nrate_limits = []\n[stream]\nreconnect_initial_ms = 50\nreconnect_max_ms = 500\n",
        url
    );
    toml::from_str(&text).unwrap()
}

fn v2_settings(t: &TestSim) -> Settings {
    let text = format!(
        "generation = \"v2\"\n\
         [data]\nconsumer_id = \"{DEMO_DATA_CONSUMER_ID}\"\nconsumer_secret = \"{DEMO_DATA_CONSUMER_SECRET}\"\n\
         url = \"{d}\"\nhub_url = \"{d}\"\n[data.http]\nrate_limits = []\n\
         [trading]\nconsumer_id = \"{DEMO_TRADING_CONSUMER_ID}\"\nconsumer_secret = \"{DEMO_TRADING_CONSUMER_SECRET}\"\n\
         private_key = \"{DEMO_PRIVATE_KEY_XML_B64}\"\npin = \"{DEMO_PIN}\"\nurl = \"{tr}\"\nhub_url = \"{tr}\"\n\
         [trading.http]\nrate_limits = []\n",
        d = t.data_url,
        tr = t.trading_url,
    );
    toml::from_str(&text).unwrap()
}

/// A v3 broker whose trading session has the OTP the simulator sent, asking `orderBook` for
/// the simulated day.
async fn v3_trading(t: &TestSim) -> (broker::Broker, V3Trading) {
    v3_trading_at(t, &t.trading_url).await
}

/// [`v3_trading`] through the v3 side at `url`.
async fn v3_trading_at(t: &TestSim, url: &str) -> (broker::Broker, V3Trading) {
    let b = broker::connect(v3_settings_at(url)).unwrap();
    assert_eq!(b.generation, Generation::V3);
    let client = b.v3_client.clone().unwrap();
    client.request_otp().await.unwrap();
    let otp = t.sim.pending_v3_otp(DEMO_V3_API_KEY).unwrap();
    client.login_otp(&otp.into()).await.unwrap();
    let sim = t.sim.clone();
    let trading = V3Trading::new(&client)
        .unwrap()
        .with_trading_day(move || sim.now().date());
    (b, trading)
}

/// A HOSE stock of the universe and today's floor.
fn limit(symbol: Symbol, price: Price, qty: u64, n: u32) -> OrderRequest {
    OrderRequest {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        symbol,
        side: Side::Buy,
        order_type: OrderType::Lo,
        price: Some(price),
        quantity: Quantity::new(qty),
        client_order_id: id(n),
    }
}

async fn next_where(
    events: &mut EventStream<AccountEvent>,
    what: &str,
    pred: impl Fn(&AccountEvent) -> bool,
) -> AccountEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(e))) if pred(&e) => return e,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("stream error waiting for {what}: {e}"),
            Ok(None) => panic!("stream closed waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn order_with(e: &AccountEvent, n: u32, pred: impl Fn(&broker::OrderState) -> bool) -> bool {
    matches!(e, AccountEvent::Order(o) if o.client_order_id == Some(id(n)) && pred(o))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fills_and_queries_through_the_v3_adapter() {
    let t = spawn_with(trading_config()).await;
    let (b, trading) = v3_trading(&t).await;
    assert!(b.trading.is_some(), "a private key makes a trading broker");
    let mut events = trading.account_events(DEMO_CASH_ACCOUNT).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    let cash_before = trading
        .balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap()
        .cash
        .unwrap();

    // A resting limit buy: acknowledged with SSI's order id, working on the stream.
    let ack = trading
        .place(&limit(symbol, floor, 200, 5001))
        .await
        .unwrap();
    let order_id = ack.order_id.clone().expect("v3 answers the order id");
    next_where(&mut events, "5001 working", |e| {
        order_with(e, 5001, |o| o.status == OrderStatus::New)
    })
    .await;

    // The same id again: one order, found by its id.
    let err = trading
        .place(&limit(symbol, floor, 200, 5001))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Duplicate { client_order_id, .. } if client_order_id == id(5001)),
        "{err}"
    );
    assert_eq!(err.kind(), common_error::Kind::AlreadyExists);
    let found = trading
        .find_order(DEMO_CASH_ACCOUNT, id(5001))
        .await
        .unwrap()
        .expect("the order is in today's book");
    assert_eq!(found.order_id, order_id);
    assert_eq!(found.price, Some(floor));
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(
        book.iter()
            .filter(|o| o.client_order_id == Some(id(5001)))
            .count(),
        1
    );

    // Amend the quantity, then cancel; both arrive on the stream.
    let key = OrderKey {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        order_id: order_id.clone(),
        symbol,
        side: Side::Buy,
        order_type: OrderType::Lo,
        price: Some(floor),
        quantity: Quantity::new(200),
    };
    trading
        .amend(&AmendRequest {
            order: key.clone(),
            change: Amendment::Quantity(Quantity::new(300)),
            client_order_id: id(5002),
        })
        .await
        .unwrap();
    next_where(&mut events, "5001 amended", |e| {
        order_with(e, 5001, |o| o.quantity == Quantity::new(300))
    })
    .await;
    trading
        .cancel(&CancelRequest {
            order: key,
            client_order_id: id(5003),
        })
        .await
        .unwrap();
    next_where(&mut events, "5001 cancelled", |e| {
        order_with(e, 5001, |o| o.cancelled == Quantity::new(300))
    })
    .await;

    // A marketable buy fills: a fill event, cash down, shares held.
    trading
        .place(&OrderRequest {
            order_type: OrderType::Mtl,
            price: None,
            ..limit(symbol, floor, 100, 5004)
        })
        .await
        .unwrap();
    let fill = next_where(
        &mut events,
        "fill of 5004",
        |e| matches!(e, AccountEvent::Fill(f) if f.client_order_id == Some(id(5004))),
    )
    .await;
    let AccountEvent::Fill(fill) = fill else {
        unreachable!()
    };
    assert_eq!(fill.quantity, Quantity::new(100));
    assert!(fill.price >= floor, "{fill:?}");
    let after = trading.balance(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(after.cash.unwrap() < cash_before, "{after:?}");
    let positions = trading.positions(DEMO_CASH_ACCOUNT).await.unwrap();
    let held = positions.iter().find(|p| p.symbol == symbol).unwrap();
    assert!(held.quantity >= Quantity::new(100), "{held:?}");
    let max = trading
        .max_quantities(DEMO_CASH_ACCOUNT, symbol, floor)
        .await
        .unwrap();
    assert!(max.max_buy > Quantity::ZERO, "{max:?}");

    // The same market and accounts behind v2: the v3 orders are in v2's book.
    let v2 = broker::connect(v2_settings(&t)).unwrap().trading.unwrap();
    let v2_book = v2.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(
        v2_book.iter().any(|o| o.order_id == order_id),
        "{v2_book:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_orders_are_held_by_the_v3_broker() {
    let t = spawn_with(trading_config()).await;
    let (_b, trading) = v3_trading(&t).await;
    assert!(trading.conditional_support().broker_held);
    let (symbol, floor) = hose_stock(&t);
    let now = t.sim.now();
    let from = time::PrimitiveDateTime::new(now.date(), time::macros::time!(09:00));
    let to = from + time::Duration::days(7);
    let fco_id = trading
        .place_conditional(&ConditionalRequest {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            symbol,
            side: Side::Buy,
            quantity: Quantity::new(100),
            from,
            to,
            kind: ConditionalKind::StopLimit {
                trigger: Trigger::AtOrBelow(floor),
                limit: floor,
            },
        })
        .await
        .unwrap();
    assert!(!fco_id.is_empty());
    trading
        .cancel_conditional(DEMO_CASH_ACCOUNT, &fco_id)
        .await
        .unwrap();
    // Cancelling it twice is refused by the broker.
    let err = trading
        .cancel_conditional(DEMO_CASH_ACCOUNT, &fco_id)
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
}

/// A HOSE stock of the universe and today's floor and ceiling.
fn hose_band(t: &TestSim) -> (Symbol, Price, Price) {
    let (symbol, band) = instrument(t, |x| {
        x.exchange == market::Exchange::Hose && x.kind == market::InstrumentKind::Stock
    });
    (symbol, band.floor, band.ceiling)
}

/// A conditional buy of 100 over a week from today 09:00.
fn conditional(t: &TestSim, symbol: Symbol, kind: ConditionalKind) -> ConditionalRequest {
    let from = time::PrimitiveDateTime::new(t.sim.now().date(), time::macros::time!(09:00));
    ConditionalRequest {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        symbol,
        side: Side::Buy,
        quantity: Quantity::new(100),
        from,
        to: from + time::Duration::days(7),
        kind,
    }
}

/// Polls the conditional orders of the demo account until `id` satisfies `pred`.
async fn conditional_until(
    trading: &V3Trading,
    id: &str,
    what: &str,
    pred: impl Fn(&ConditionalOrder) -> bool,
) -> ConditionalOrder {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let list = trading.conditional_orders(DEMO_CASH_ACCOUNT).await.unwrap();
        let found = list.iter().find(|c| c.id == id);
        if let Some(c) = found.filter(|c| pred(c)) {
            return c.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "conditional order {id} never {what}: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtd_trailing_stop_limit_and_bull_bear_are_listed_with_their_state_and_cancelled() {
    let t = spawn_with(trading_config()).await;
    let (_b, trading) = v3_trading(&t).await;
    let (symbol, floor, ceiling) = hose_band(&t);
    // GTD: its limit buy at the floor is placed at once and rests.
    let gtd_kind = ConditionalKind::Gtd { limit: floor };
    // A trailing stop-limit buy activates when the price falls to its activation price:
    // the floor, which the market is above, so it waits.
    let trailing_kind = ConditionalKind::TrailingStopLimit {
        activation: floor,
        trail: 100,
    };
    // Bull/bear: the entry buy at the floor is placed at once and rests.
    let bull_bear_kind = ConditionalKind::BullBear {
        entry: floor,
        take_profit: ceiling,
        take_profit_limit: Some(ceiling),
        stop_loss: floor,
        stop_loss_limit: None,
    };
    let mut ids = Vec::new();
    for kind in [&gtd_kind, &trailing_kind, &bull_bear_kind] {
        let id = trading
            .place_conditional(&conditional(&t, symbol, kind.clone()))
            .await
            .unwrap();
        assert!(!id.is_empty());
        ids.push(id);
    }
    let [gtd, trailing, bull_bear] = [&ids[0], &ids[1], &ids[2]];

    let held = conditional_until(&trading, gtd, "placed its order", |c| {
        c.state == ConditionalState::Triggered && c.children.len() == 1
    })
    .await;
    assert_eq!(held.kind.as_ref(), Some(&gtd_kind));
    assert_eq!(
        (held.symbol, held.side, held.quantity),
        (symbol, Side::Buy, Quantity::new(100))
    );
    let child = &held.children[0];
    assert_eq!(
        (child.side, child.price, child.quantity, child.attached),
        (Side::Buy, Some(floor), Quantity::new(100), false)
    );
    // The child is an ordinary order of the account.
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(
        book.iter().any(|o| o.order_id == child.order_id),
        "{book:?}"
    );
    let gtd_child = child.order_id.clone();

    let held = conditional_until(&trading, trailing, "waits", |c| {
        c.state == ConditionalState::Active
    })
    .await;
    assert_eq!(held.kind.as_ref(), Some(&trailing_kind));
    assert!(held.children.is_empty(), "{held:?}");
    assert_eq!(held.filled, Quantity::ZERO);

    let held = conditional_until(&trading, bull_bear, "placed its entry", |c| {
        c.state == ConditionalState::Triggered && c.children.len() == 1
    })
    .await;
    assert_eq!(held.kind.as_ref(), Some(&bull_bear_kind));
    assert_eq!(
        (held.children[0].price, held.children[0].attached),
        (Some(floor), false)
    );

    // Cancelled: each is terminated, and the working child orders with it.
    for id in &ids {
        trading
            .cancel_conditional(DEMO_CASH_ACCOUNT, id)
            .await
            .unwrap();
    }
    for id in &ids {
        let done = conditional_until(&trading, id, "was cancelled", |c| {
            c.state == ConditionalState::Cancelled
        })
        .await;
        assert!(done.state.is_final());
        assert!(
            done.children
                .iter()
                .all(|c| c.status == OrderStatus::Cancelled),
            "{done:?}"
        );
    }
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let order = book.iter().find(|o| o.order_id == gtd_child).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);

    let history = trading
        .conditional_history(DEMO_CASH_ACCOUNT, gtd)
        .await
        .unwrap();
    let states: Vec<&ConditionalState> = history.iter().map(|s| &s.state).collect();
    assert_eq!(
        states,
        [
            &ConditionalState::Active,
            &ConditionalState::Triggered,
            &ConditionalState::Triggered,
            &ConditionalState::Cancelled,
        ]
    );
    assert!(history.iter().all(|s| s.time.is_some()), "{history:?}");
    let history = trading
        .conditional_history(DEMO_CASH_ACCOUNT, trailing)
        .await
        .unwrap();
    assert_eq!(
        history.last().map(|s| &s.state),
        Some(&ConditionalState::Cancelled)
    );
    // An unknown id is the broker's refusal, not an empty history.
    assert!(
        trading
            .conditional_history(DEMO_CASH_ACCOUNT, "999999")
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_stop_limit_triggers_on_the_generated_market() {
    let t = spawn_with(SimConfig {
        speed: 20.0,
        ..trading_config()
    })
    .await;
    let (_b, trading) = v3_trading(&t).await;
    let (symbol, _floor, ceiling) = hose_band(&t);
    // A buy activates when the price is at or below its activation price (the ceiling: at
    // once), then triggers when the price rises one VND above its lowest since: a limit buy
    // at the price that triggered it (as the conformance tests of fcsim pick it).
    let kind = ConditionalKind::TrailingStopLimit {
        activation: ceiling,
        trail: 1,
    };
    let id = trading
        .place_conditional(&conditional(&t, symbol, kind.clone()))
        .await
        .unwrap();
    let fired = conditional_until(&trading, &id, "triggered", |c| {
        matches!(
            c.state,
            ConditionalState::Triggered | ConditionalState::Finished
        ) && !c.children.is_empty()
    })
    .await;
    assert_eq!(fired.kind, Some(kind));
    let child = &fired.children[0];
    assert_eq!((child.side, child.attached), (Side::Buy, false));
    assert!(child.price.is_some_and(|p| p <= ceiling), "{child:?}");
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let order = book.iter().find(|o| o.order_id == child.order_id).unwrap();
    assert_eq!(order.price, child.price);

    let history = trading
        .conditional_history(DEMO_CASH_ACCOUNT, &id)
        .await
        .unwrap();
    let triggered = history
        .iter()
        .find(|s| s.state == ConditionalState::Triggered)
        .unwrap();
    assert!(
        triggered
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("Triggered at ")),
        "{history:?}"
    );
    assert!(
        history.iter().any(|s| s
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("Activated at "))),
        "{history:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_market_data_bars_snapshots_and_the_stream() {
    let t = spawn_with(market_config()).await;
    let b = broker::connect(v3_settings(&t)).unwrap();
    assert!(b.trading.is_some());
    let data = b.market_data;
    assert_eq!(data.generation(), Generation::V3);
    let ssi = Symbol::parse("SSI").unwrap();

    let listed = data.securities(Exchange::Hose).await.unwrap();
    assert!(listed.iter().any(|s| s.symbol == ssi), "{listed:?}");

    let daily = data
        .bars(&BarsQuery {
            symbol: ssi,
            resolution: Resolution::Day1,
            from: date!(2025 - 06 - 02),
            to: date!(2025 - 06 - 06),
        })
        .await
        .unwrap();
    assert_eq!(daily.len(), 5, "{daily:?}");
    assert!(daily.windows(2).all(|w| w[0].time < w[1].time));
    assert!(daily.iter().all(|b| b.low <= b.close && b.close <= b.high));

    let snap = data.snapshot(ssi, date!(2025 - 06 - 09)).await.unwrap();
    assert_eq!(snap.date, date!(2025 - 06 - 09));
    let close = snap.close.unwrap();
    let (floor, ceiling) = (snap.floor.unwrap(), snap.ceiling.unwrap());
    assert!(floor <= close && close <= ceiling, "{snap:?}");
    assert!(snap.volume.unwrap() > Quantity::ZERO, "{snap:?}");
    let june_9 = data
        .bars(&BarsQuery {
            symbol: ssi,
            resolution: Resolution::Day1,
            from: date!(2025 - 06 - 09),
            to: date!(2025 - 06 - 09),
        })
        .await
        .unwrap();
    assert_eq!(june_9[0].close, close, "bars agree with the summary");

    let vn30 = data
        .index_history("VN30", date!(2025 - 06 - 02), date!(2025 - 06 - 06))
        .await
        .unwrap();
    assert_eq!(vn30.len(), 5, "{vn30:?}");
    assert!(vn30.iter().all(|p| p.index == "VN30" && p.value.0 > 0));

    // One market behind both generations: v2 reads the same bars and index values.
    let v2 = broker::connect(v2_settings(&t)).unwrap().market_data;
    let v2_daily = v2
        .bars(&BarsQuery {
            symbol: ssi,
            resolution: Resolution::Day1,
            from: date!(2025 - 06 - 02),
            to: date!(2025 - 06 - 06),
        })
        .await
        .unwrap();
    let ohlcv = |b: &broker::Bar| (b.time.date(), b.open, b.high, b.low, b.close, b.volume);
    assert_eq!(
        v2_daily.iter().map(ohlcv).collect::<Vec<_>>(),
        daily.iter().map(ohlcv).collect::<Vec<_>>()
    );
    let v2_snap = v2.snapshot(ssi, date!(2025 - 06 - 09)).await.unwrap();
    assert_eq!(
        (
            v2_snap.reference,
            v2_snap.ceiling,
            v2_snap.floor,
            v2_snap.close
        ),
        (snap.reference, snap.ceiling, snap.floor, snap.close)
    );
    let v2_vn30 = v2
        .index_history("VN30", date!(2025 - 06 - 02), date!(2025 - 06 - 06))
        .await
        .unwrap();
    assert_eq!(
        v2_vn30
            .iter()
            .map(|p| (p.date, p.value))
            .collect::<Vec<_>>(),
        vn30.iter().map(|p| (p.date, p.value)).collect::<Vec<_>>()
    );

    let mut events = data
        .stream(Subscription {
            symbols: vec![ssi],
            ..Subscription::default()
        })
        .await
        .unwrap();
    let (mut trades, mut quotes) = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while trades < 3 || quotes < 3 {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("stream timed out")
            .expect("stream ended")
            .expect("event maps");
        match event {
            MarketEvent::Trade {
                symbol, quantity, ..
            } => {
                assert_eq!(symbol, ssi);
                assert!(quantity > Quantity::ZERO);
                trades += 1;
            }
            MarketEvent::Quote { symbol, .. } => {
                assert_eq!(symbol, ssi);
                quotes += 1;
            }
            MarketEvent::Status { .. } => {}
            other @ (MarketEvent::Index { .. }
            | MarketEvent::ForeignRoom { .. }
            | MarketEvent::Bar(_)
            | MarketEvent::Gap { .. }
            | MarketEvent::Reconnected) => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_v3_socket_is_a_gap_to_reconcile() {
    let t = spawn_with(trading_config()).await;
    let proxy = Proxy::start(&t.trading_url).await;
    let (_b, trading) = v3_trading_at(&t, &proxy.url).await;
    let mut events = trading.account_events(DEMO_CASH_ACCOUNT).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    trading
        .place(&limit(symbol, floor, 100, 6001))
        .await
        .unwrap();
    next_where(&mut events, "6001 working", |e| {
        order_with(e, 6001, |o| o.status == OrderStatus::New)
    })
    .await;

    proxy.cut();
    let gap = next_where(&mut events, "the gap", |e| {
        matches!(e, AccountEvent::Gap { .. })
    })
    .await;
    assert!(matches!(gap, AccountEvent::Gap { .. }));
    // What the gap asks for: the book has every order, and the stream carries new ones.
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(book.iter().any(|o| o.client_order_id == Some(id(6001))));
    trading
        .place(&limit(symbol, floor, 100, 6002))
        .await
        .unwrap();
    next_where(&mut events, "6002 after the gap", |e| {
        order_with(e, 6002, |o| o.status == OrderStatus::New)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_reference_data_and_bands_agree_with_v2_before_the_open() {
    let t = spawn_with(pre_open_config()).await;
    let data = broker::connect(v3_settings(&t)).unwrap().market_data;
    let v2 = broker::connect(v2_settings(&t)).unwrap().market_data;
    let today = date!(2025 - 06 - 10);

    for exchange in [Exchange::Hose, Exchange::Hnx, Exchange::Upcom] {
        let details = data.security_details(exchange).await.unwrap();
        let expected = listed(&t, exchange);
        assert_eq!(details.len(), expected.len(), "{exchange}");
        let v2_details = v2.security_details(exchange).await.unwrap();
        for d in &details {
            let other = v2_details.iter().find(|o| o.symbol == d.symbol).unwrap();
            assert_eq!(
                (d.exchange, d.kind, d.lot_size, d.listed_shares),
                (
                    other.exchange,
                    other.kind,
                    other.lot_size,
                    other.listed_shares
                ),
                "{}",
                d.symbol
            );
        }
    }
    // v3 lists no derivatives board; the contracts come with the daily list.
    let err = data.security_details(Exchange::HnxDeriv).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");

    for exchange in Exchange::ALL {
        let prices = data.daily_prices(exchange, today).await.unwrap();
        assert_bands(&t, exchange, today, &prices);
        assert!(
            prices
                .iter()
                .all(|p| p.close.is_none() && p.volume.is_none())
        );
    }
    assert!(
        data.daily_prices(Exchange::Hose, date!(2025 - 06 - 11))
            .await
            .unwrap()
            .is_empty()
    );

    let indexes = data.indexes(Exchange::Hose).await.unwrap();
    assert!(
        indexes
            .iter()
            .any(|i| i.code == "VN30" && i.exchange == Some(Exchange::Hose))
    );
    assert_eq!(
        data.index_components("VN30").await.unwrap(),
        v2.index_components("VN30").await.unwrap()
    );
}
