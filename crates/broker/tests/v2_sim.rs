//! The v2 adapter end to end through the broker traits, against the FastConnect simulator
//! in-process (the demo consumer, free ports).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use broker::{
    AccountEvent, AmendRequest, BarsQuery, CancelRequest, ConditionalKind, ConditionalRequest,
    Error, EventStream, Generation, MarketEvent, OrderKey, OrderRequest, OrderState, OrderStatus,
    Resolution, Settings, Subscription, Trigger, V2Settings,
};
use common_error::Classify as _;
use fastconnect::{DataConfig, HttpConfig, StreamConfig, TradingConfig};
use fcsim::SimConfig;
use fcsim::config::{
    DEMO_CASH_ACCOUNT, DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_DERIVATIVES_ACCOUNT,
    DEMO_PIN, DEMO_PRIVATE_KEY_XML_B64, DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
};
use futures::StreamExt as _;
use market::order::Amendment;
use market::{Exchange, InstrumentKind, OrderType, Price, Quantity, Side, Symbol};
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
        history_days: 60,
        ..SimConfig::demo()
    }
}

fn http() -> HttpConfig {
    HttpConfig {
        timeout_ms: 20_000,
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    }
}

fn stream() -> StreamConfig {
    StreamConfig {
        reconnect_initial_ms: 50,
        reconnect_max_ms: 500,
        connect_timeout_ms: 10_000,
        ..StreamConfig::default()
    }
}

/// The settings a deployment would write for this simulator, through `connect`.
fn connect(t: &TestSim) -> broker::Broker {
    connect_to(&t.data_url, &t.trading_url)
}

/// Like [`connect`], for given FC Data and FC Trading URLs.
fn connect_to(data_url: &str, trading_url: &str) -> broker::Broker {
    let mut data = DataConfig::new(
        DEMO_DATA_CONSUMER_ID,
        DEMO_DATA_CONSUMER_SECRET.to_owned().into(),
    );
    data.url = data_url.to_owned();
    data.hub_url = data_url.to_owned();
    data.http = http();
    data.stream = stream();
    let mut trading = TradingConfig::new(
        DEMO_TRADING_CONSUMER_ID,
        DEMO_TRADING_CONSUMER_SECRET.to_owned().into(),
        DEMO_PRIVATE_KEY_XML_B64.to_owned().into(),
    );
    trading.url = trading_url.to_owned();
    trading.hub_url = trading_url.to_owned();
    trading.pin = Some(DEMO_PIN.to_owned().into());
    trading.http = http();
    trading.stream = stream();
    let b = broker::connect(Settings::V2(V2Settings {
        tokens: broker::Tokens::Own,
        data,
        trading: Some(trading),
    }))
    .unwrap();
    assert_eq!(b.generation, Generation::V2);
    b
}

/// A HOSE stock of the universe and today's floor.
/// The first index future of the universe and today's (floor, ceiling), in tenths of a point.
fn future(t: &TestSim) -> (Symbol, Price, Price) {
    let (symbol, band) = instrument(t, |x| x.kind == InstrumentKind::IndexFuture);
    (symbol, band.floor, band.ceiling)
}

async fn next_market(events: &mut EventStream<MarketEvent>) -> MarketEvent {
    tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("market stream timed out")
        .expect("market stream ended")
        .expect("event maps")
}

async fn next_where(
    events: &mut EventStream<AccountEvent>,
    what: &str,
    pred: impl Fn(&AccountEvent) -> bool,
) -> AccountEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
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

fn order_of(e: &AccountEvent, action: u32, status: &OrderStatus) -> bool {
    matches!(e, AccountEvent::Order(o)
        if o.last_action_id == Some(id(action)) && &o.status == status)
}

fn into_order(e: AccountEvent) -> OrderState {
    let AccountEvent::Order(o) = e else {
        panic!("not an order event: {e:?}")
    };
    o
}

fn limit(symbol: Symbol, side: Side, price: Price, qty: u64, n: u32) -> OrderRequest {
    OrderRequest {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        symbol,
        side,
        order_type: OrderType::Lo,
        price: Some(price),
        quantity: Quantity::new(qty),
        client_order_id: id(n),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fills_positions_and_events_through_the_trait() {
    let t = spawn_with(trading_config()).await;
    let b = connect(&t);
    let trading = b.trading.clone().unwrap();
    assert_eq!(trading.generation(), Generation::V2);
    let mut events = trading.account_events(DEMO_CASH_ACCOUNT).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    let before = trading.balance(DEMO_CASH_ACCOUNT).await.unwrap();
    let cash_before = before.cash.unwrap();
    assert!(before.buying_power.unwrap().amount() > 0, "{before:?}");

    // A marketable MTL buy fills against the market maker's ask.
    let mtl = OrderRequest {
        order_type: OrderType::Mtl,
        price: None,
        ..limit(symbol, Side::Buy, floor, 100, 1001)
    };
    let ack = trading.place(&mtl).await.unwrap();
    assert_eq!(ack.client_order_id, id(1001));
    let working = into_order(
        next_where(&mut events, "1001 working", |e| {
            order_of(e, 1001, &OrderStatus::New)
        })
        .await,
    );
    assert_eq!(working.client_order_id, Some(id(1001)));
    assert_eq!((working.symbol, working.side), (symbol, Side::Buy));
    let fill = next_where(
        &mut events,
        "fill of 1001",
        |e| matches!(e, AccountEvent::Fill(f) if f.order_id == working.order_id),
    )
    .await;
    let AccountEvent::Fill(fill) = fill else {
        unreachable!()
    };
    assert_eq!(fill.quantity, Quantity::new(100));
    assert_eq!(fill.account, DEMO_CASH_ACCOUNT);
    assert!(fill.price >= floor);
    next_where(&mut events, "1001 filled", |e| {
        order_of(e, 1001, &OrderStatus::Filled)
    })
    .await;

    // Cash went down and the shares are held (pending settlement, so not yet sellable).
    let after = trading.balance(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(after.cash.unwrap() < cash_before, "{after:?}");
    let positions = trading.positions(DEMO_CASH_ACCOUNT).await.unwrap();
    let held = positions.iter().find(|p| p.symbol == symbol).unwrap();
    assert!(held.quantity >= Quantity::new(100), "{held:?}");
    assert!(held.sellable < held.quantity, "T+2: {held:?}");
    let max = trading
        .max_quantities(DEMO_CASH_ACCOUNT, symbol, floor)
        .await
        .unwrap();
    assert!(max.max_buy > Quantity::ZERO, "{max:?}");

    // A limit buy at the floor rests, is amended (quantity up) and cancelled.
    trading
        .place(&limit(symbol, Side::Buy, floor, 200, 1002))
        .await
        .unwrap();
    let resting = into_order(
        next_where(&mut events, "1002 working", |e| {
            order_of(e, 1002, &OrderStatus::New)
        })
        .await,
    );
    assert_eq!(resting.price, Some(floor));
    let key = OrderKey {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        order_id: resting.order_id.clone(),
        symbol,
        side: Side::Buy,
        order_type: OrderType::Lo,
        price: resting.price,
        quantity: resting.quantity,
    };
    trading
        .amend(&AmendRequest {
            order: key.clone(),
            change: Amendment::Quantity(Quantity::new(300)),
            client_order_id: id(1003),
        })
        .await
        .unwrap();
    let amended = into_order(
        next_where(
            &mut events,
            "1003 amend",
            |e| matches!(e, AccountEvent::Order(o) if o.last_action_id == Some(id(1003))),
        )
        .await,
    );
    assert_eq!(amended.quantity, Quantity::new(300));
    assert_eq!(amended.client_order_id, Some(id(1002)), "placing id kept");
    assert_eq!(amended.price, Some(floor));
    trading
        .cancel(&CancelRequest {
            order: OrderKey {
                quantity: Quantity::new(300),
                ..key
            },
            client_order_id: id(1004),
        })
        .await
        .unwrap();
    let cancelled = into_order(
        next_where(&mut events, "1004 cancelled", |e| {
            order_of(e, 1004, &OrderStatus::Cancelled)
        })
        .await,
    );
    assert_eq!(cancelled.cancelled, Quantity::new(300));

    // The order book agrees with the stream, and knows each order's placing id.
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let o = book
        .iter()
        .find(|o| o.order_id == resting.order_id)
        .unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.client_order_id, Some(id(1002)));
    assert_eq!(o.last_action_id, Some(id(1004)));
    let filled = book
        .iter()
        .find(|o| o.client_order_id == Some(id(1001)))
        .unwrap();
    assert_eq!(filled.filled, Quantity::new(100));
    assert_eq!(filled.status, OrderStatus::Filled);
    assert_eq!(
        trading
            .find_order(DEMO_CASH_ACCOUNT, id(1002))
            .await
            .unwrap()
            .map(|o| o.order_id),
        Some(resting.order_id.clone())
    );

    // Conditional orders are the OMS's on v2.
    assert!(!trading.conditional_support().broker_held);
    let err = trading
        .place_conditional(&ConditionalRequest {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            symbol,
            side: Side::Sell,
            quantity: Quantity::new(100),
            from: datetime!(2025-06-10 09:00),
            to: datetime!(2025-06-20 15:00),
            kind: ConditionalKind::Stop {
                trigger: Trigger::AtOrBelow(floor),
            },
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert_eq!(err.kind(), common_error::Kind::Unimplemented);
    // Also the kinds only FCO has, and the listing of held orders.
    for kind in [
        ConditionalKind::Gtd { limit: floor },
        ConditionalKind::TrailingStopLimit {
            activation: floor,
            trail: 100,
        },
        ConditionalKind::BullBear {
            entry: floor,
            take_profit: floor,
            take_profit_limit: None,
            stop_loss: floor,
            stop_loss_limit: Some(floor),
        },
    ] {
        let err = trading
            .place_conditional(&ConditionalRequest {
                account: DEMO_CASH_ACCOUNT.to_owned(),
                symbol,
                side: Side::Buy,
                quantity: Quantity::new(100),
                from: datetime!(2025-06-10 09:00),
                to: datetime!(2025-06-20 15:00),
                kind,
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    }
    let err = trading
        .conditional_orders(DEMO_CASH_ACCOUNT)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let err = trading
        .conditional_history(DEMO_CASH_ACCOUNT, "1")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_prices_travel_in_tenths_of_a_point() {
    let t = spawn_with(trading_config()).await;
    let trading = connect(&t).trading.unwrap();
    let mut events = trading
        .account_events(DEMO_DERIVATIVES_ACCOUNT)
        .await
        .unwrap();
    let (fut, floor, ceiling) = future(&t);
    let order = |n: u32| OrderRequest {
        account: DEMO_DERIVATIVES_ACCOUNT.to_owned(),
        symbol: fut,
        side: Side::Buy,
        order_type: OrderType::Mtl,
        price: None,
        quantity: Quantity::new(1),
        client_order_id: id(n),
    };
    trading.place(&order(3001)).await.unwrap();
    let fill = next_where(
        &mut events,
        "futures fill",
        |e| matches!(e, AccountEvent::Fill(f) if f.client_order_id == Some(id(3001))),
    )
    .await;
    let AccountEvent::Fill(fill) = fill else {
        unreachable!()
    };
    assert!(
        floor <= fill.price && fill.price <= ceiling,
        "{} not in {}..{} (tenths of a point)",
        fill.price,
        floor,
        ceiling
    );
    let positions = next_where(&mut events, "portfolio", |e| {
        matches!(e, AccountEvent::Positions(_))
    })
    .await;
    let AccountEvent::Positions(ps) = positions else {
        unreachable!()
    };
    assert_eq!(ps[0].symbol, fut);
    assert_eq!(ps[0].quantity, Quantity::new(1));
    let held = trading.positions(DEMO_DERIVATIVES_ACCOUNT).await.unwrap();
    assert_eq!(
        held.iter().find(|p| p.symbol == fut).unwrap().quantity,
        Quantity::new(1)
    );

    // A limit at the floor comes back at the floor, in the same units.
    trading
        .place(&OrderRequest {
            order_type: OrderType::Lo,
            price: Some(floor),
            ..order(3002)
        })
        .await
        .unwrap();
    let resting = into_order(
        next_where(&mut events, "futures LO working", |e| {
            order_of(e, 3002, &OrderStatus::New)
        })
        .await,
    );
    assert_eq!(resting.price, Some(floor));
    let balance = trading.balance(DEMO_DERIVATIVES_ACCOUNT).await.unwrap();
    assert!(balance.cash.is_some(), "{balance:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_order_id_twice_is_one_order() {
    let t = spawn_with(trading_config()).await;
    let b = connect(&t);
    let trading = b.trading.clone().unwrap();
    let (symbol, floor) = hose_stock(&t);
    let order = limit(symbol, Side::Buy, floor, 100, 2001);
    trading.place(&order).await.unwrap();
    // A retry after a lost answer: same id, same order.
    let err = trading.place(&order).await.unwrap_err();
    let Error::Duplicate {
        client_order_id, ..
    } = &err
    else {
        panic!("expected Duplicate, got {err}");
    };
    assert_eq!(*client_order_id, id(2001));
    assert_eq!(err.kind(), common_error::Kind::AlreadyExists);
    assert!(!err.is_retryable());

    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let mine: Vec<_> = book
        .iter()
        .filter(|o| o.last_action_id == Some(id(2001)))
        .collect();
    assert_eq!(mine.len(), 1, "{book:?}");
    let found = trading
        .find_order(DEMO_CASH_ACCOUNT, id(2001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.order_id, mine[0].order_id);
    assert_eq!(found.quantity, Quantity::new(100));
    let today = t.sim.now().to_offset(market::calendar::VN_OFFSET).date();
    let history = trading
        .order_history(DEMO_CASH_ACCOUNT, today, today)
        .await
        .unwrap();
    assert!(
        history.iter().any(|o| o.order_id == found.order_id),
        "{history:?}"
    );

    // A rule break (a price below the floor) is accepted for processing and refused on the
    // stream, as SSI does ...
    let mut events = trading.account_events(DEMO_CASH_ACCOUNT).await.unwrap();
    let below = Price::new(floor.units() - 1_000).unwrap();
    trading
        .place(&limit(symbol, Side::Buy, below, 100, 2002))
        .await
        .unwrap();
    let failed = next_where(&mut events, "2002 refused", |e| {
        matches!(e, AccountEvent::ActionFailed { client_order_id, .. }
            if *client_order_id == Some(id(2002)))
    })
    .await;
    let AccountEvent::ActionFailed { code, .. } = failed else {
        unreachable!()
    };
    assert_eq!(code.as_deref(), Some("ORD002"));
    // ... and, from a server that answers it in the response, it is Rejected, not Duplicate.
    let strict = spawn_with(SimConfig {
        reject_in_response: true,
        ..trading_config()
    })
    .await;
    let err = connect(&strict)
        .trading
        .unwrap()
        .place(&limit(symbol, Side::Buy, below, 100, 2002))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
    assert_eq!(err.kind(), common_error::Kind::FailedPrecondition);
    assert!(
        common_error::chain(&err).to_string().contains("ORD002"),
        "{}",
        common_error::chain(&err)
    );
    // Bad input never leaves the process.
    let err = trading
        .place(&OrderRequest {
            price: None,
            ..limit(symbol, Side::Buy, floor, 100, 2003)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_snapshots_and_index_history_hide_the_paging() {
    let t = spawn_with(market_config()).await;
    let data = connect(&t).market_data;
    let (symbol, _) = hose_stock(&t);

    let listed = data.securities(Exchange::Hose).await.unwrap();
    assert!(listed.iter().any(|s| s.symbol == symbol), "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|s| s.exchange.is_none() || s.exchange == Some(Exchange::Hose))
    );

    let snap = data.snapshot(symbol, date!(2025 - 06 - 09)).await.unwrap();
    assert_eq!(snap.date, date!(2025 - 06 - 09));
    let (floor, reference, ceiling) = (
        snap.floor.unwrap(),
        snap.reference.unwrap(),
        snap.ceiling.unwrap(),
    );
    assert!(floor < reference && reference < ceiling, "{snap:?}");
    let close = snap.close.unwrap();
    assert!(floor <= close && close <= ceiling, "{snap:?}");

    // 70 days: three of SSI's 30-day windows, stitched in order.
    let daily = data
        .bars(&BarsQuery {
            symbol,
            resolution: Resolution::Day1,
            from: date!(2025 - 04 - 01),
            to: date!(2025 - 06 - 09),
        })
        .await
        .unwrap();
    assert!(daily.len() > 40, "{}", daily.len());
    assert!(daily.windows(2).all(|w| w[0].time < w[1].time));
    assert!(daily.iter().all(|b| b.low <= b.open && b.open <= b.high));
    assert!(daily.iter().all(|b| b.low <= b.close && b.close <= b.high));
    let first = daily.first().unwrap().time.date();
    let last = daily.last().unwrap().time.date();
    assert!(
        first < date!(2025 - 04 - 10) && last == date!(2025 - 06 - 09),
        "{first} {last}"
    );
    let june_9 = daily.last().unwrap();
    assert_eq!(june_9.close, close, "bars agree with the snapshot");

    let minutes = data
        .bars(&BarsQuery {
            symbol,
            resolution: Resolution::Minute1,
            from: date!(2025 - 06 - 09),
            to: date!(2025 - 06 - 09),
        })
        .await
        .unwrap();
    assert!(minutes.len() > 100, "{}", minutes.len());
    assert!(
        minutes
            .iter()
            .all(|b| b.time.date() == date!(2025 - 06 - 09))
    );
    assert!(minutes.windows(2).all(|w| w[0].time < w[1].time));

    let vn30 = data
        .index_history("VN30", date!(2025 - 05 - 12), date!(2025 - 06 - 09))
        .await
        .unwrap();
    assert!(vn30.len() > 15, "{}", vn30.len());
    assert!(vn30.iter().all(|p| p.index == "VN30" && p.value.0 > 0));

    let err = data
        .bars(&BarsQuery {
            symbol,
            resolution: Resolution::Day1,
            from: date!(2025 - 06 - 09),
            to: date!(2025 - 06 - 01),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_market_stream_delivers_trades_quotes_and_index_values() {
    let t = spawn_with(market_config()).await;
    let data = connect(&t).market_data;
    let ssi = Symbol::parse("SSI").unwrap();
    let mut events = data
        .stream(Subscription {
            symbols: vec![ssi],
            indexes: vec!["VN30".to_owned()],
            foreign_room: true,
            bars: true,
            odd_lot: true,
            ..Subscription::default()
        })
        .await
        .unwrap();
    let (mut trades, mut quotes, mut index) = (0, 0, 0);
    let (mut rooms, mut bars, mut statuses, mut odd) = (0, 0, 0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while trades < 3 || quotes < 3 || index < 1 || rooms < 1 || bars < 1 || statuses < 1 || odd < 1
    {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("stream timed out")
            .expect("stream ended")
            .expect("event maps");
        match event {
            MarketEvent::Trade {
                symbol,
                quantity,
                time,
                ..
            } => {
                assert_eq!(symbol, ssi);
                assert!(
                    time.is_some_and(|t| t >= time::macros::time!(09:15)),
                    "{time:?}"
                );
                assert!(quantity > Quantity::ZERO);
                trades += 1;
            }
            MarketEvent::Quote {
                symbol,
                board,
                bids,
                asks,
            } => {
                assert_eq!(symbol, ssi);
                assert!(bids.len() <= 3 && asks.len() <= 3, "3 levels shown");
                if let (Some(bid), Some(ask)) = (bids.first(), asks.first()) {
                    assert!(bid.price < ask.price, "{bids:?} {asks:?}");
                }
                match board {
                    market::Board::Main => quotes += 1,
                    market::Board::OddLot => odd += 1,
                    market::Board::PutThrough => panic!("no put-through quotes"),
                }
            }
            MarketEvent::Index { index: code, value } => {
                assert_eq!(code, "VN30");
                assert!(value.0 > 0);
                index += 1;
            }
            MarketEvent::Status { symbol, status } => {
                assert_eq!(symbol, Some(ssi));
                assert!(!status.is_empty());
                statuses += 1;
            }
            MarketEvent::ForeignRoom {
                symbol,
                current_room,
                total_room,
            } => {
                assert_eq!(symbol, ssi);
                assert!(
                    current_room <= total_room,
                    "{current_room:?} {total_room:?}"
                );
                rooms += 1;
            }
            MarketEvent::Bar(bar) => {
                assert_eq!(bar.symbol, ssi);
                assert!(bar.low <= bar.close && bar.close <= bar.high, "{bar:?}");
                bars += 1;
            }
            other @ (MarketEvent::Gap { .. } | MarketEvent::Reconnected) => {
                panic!("unexpected {other:?}")
            }
        }
    }
    let err = data.stream(Subscription::default()).await.err().unwrap();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_market_streams_every_symbol_and_index() {
    let t = spawn_with(market_config()).await;
    let data = connect(&t).market_data;
    let mut events = data
        .stream(Subscription {
            all_symbols: true,
            all_indexes: true,
            ..Subscription::default()
        })
        .await
        .unwrap();
    let mut symbols = std::collections::HashSet::new();
    let mut indexes = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while symbols.len() < 5 || indexes.len() < 2 {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("stream timed out")
            .expect("stream ended")
            .expect("event maps");
        match event {
            MarketEvent::Trade { symbol, .. } => {
                symbols.insert(symbol);
            }
            MarketEvent::Index { index, .. } => {
                indexes.insert(index);
            }
            MarketEvent::Quote { .. } | MarketEvent::Status { .. } => {}
            other @ (MarketEvent::ForeignRoom { .. }
            | MarketEvent::Bar(_)
            | MarketEvent::Gap { .. }
            | MarketEvent::Reconnected) => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_a_gap_on_the_market_and_a_replay_on_the_account() {
    let t = spawn_with(market_config()).await;
    let data_proxy = Proxy::start(&t.data_url).await;
    let trading_proxy = Proxy::start(&t.trading_url).await;
    let b = connect_to(&data_proxy.url, &trading_proxy.url);
    let trading = b.trading.clone().unwrap();
    let ssi = Symbol::parse("SSI").unwrap();
    let mut market = b
        .market_data
        .stream(Subscription {
            symbols: vec![ssi],
            ..Subscription::default()
        })
        .await
        .unwrap();
    let mut account = trading.account_events(DEMO_CASH_ACCOUNT).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    trading
        .place(&limit(symbol, Side::Buy, floor, 100, 4001))
        .await
        .unwrap();
    next_where(&mut account, "4001 working", |e| {
        order_of(e, 4001, &OrderStatus::New)
    })
    .await;
    while !matches!(next_market(&mut market).await, MarketEvent::Trade { .. }) {}

    data_proxy.cut();
    trading_proxy.cut();

    // The market stream says what it may have missed, then that it is back, then trades.
    let mut seen = Vec::new();
    loop {
        let e = next_market(&mut market).await;
        let trade = matches!(e, MarketEvent::Trade { .. });
        if !matches!(e, MarketEvent::Quote { .. } | MarketEvent::Status { .. }) {
            seen.push(e);
        }
        if trade && seen.contains(&MarketEvent::Reconnected) {
            break;
        }
    }
    let gap = seen
        .iter()
        .position(|e| matches!(e, MarketEvent::Gap { .. }))
        .unwrap_or_else(|| panic!("no gap in {seen:?}"));
    let back = seen
        .iter()
        .position(|e| *e == MarketEvent::Reconnected)
        .unwrap();
    assert!(gap < back, "{seen:?}");

    // The account stream replays from where it stopped: it is back, with nothing twice.
    trading
        .place(&limit(symbol, Side::Buy, floor, 100, 4002))
        .await
        .unwrap();
    let mut after = Vec::new();
    loop {
        let e = next_where(&mut account, "events after the restart", |_| true).await;
        let done = order_of(&e, 4002, &OrderStatus::New);
        after.push(e);
        if done {
            break;
        }
    }
    assert!(after.contains(&AccountEvent::Reconnected), "{after:?}");
    assert!(
        !after
            .iter()
            .any(|e| matches!(e, AccountEvent::Order(o) if o.last_action_id == Some(id(4001)))),
        "replayed twice: {after:?}"
    );
    assert!(
        !after.iter().any(|e| matches!(e, AccountEvent::Gap { .. })),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_data_and_the_days_band_of_whole_exchanges_before_the_open() {
    let t = spawn_with(pre_open_config()).await;
    let data = connect(&t).market_data;
    let today = date!(2025 - 06 - 10);
    let rules = market::MarketRules::default();

    for exchange in Exchange::ALL {
        let details = data.security_details(exchange).await.unwrap();
        let expected = listed(&t, exchange);
        assert_eq!(details.len(), expected.len(), "{exchange}");
        for (_, x) in &expected {
            let d = details
                .iter()
                .find(|d| d.symbol.as_str() == x.symbol)
                .unwrap();
            assert_eq!(d.exchange, exchange);
            assert_eq!(d.kind, Some(x.kind), "{}", x.symbol);
            assert_eq!(d.lot_size, Some(rules.lots.round_lot(exchange)));
            assert_eq!(
                d.listed_shares,
                u64::try_from(x.listed_shares).ok().filter(|n| *n > 0)
            );
            assert_eq!(d.name.as_deref(), Some(x.name.as_str()));
            assert_eq!(d.isin.as_deref(), Some(x.isin.as_str()));
        }

        // The day's band is published before the first session; nothing has traded.
        let prices = data.daily_prices(exchange, today).await.unwrap();
        assert_bands(&t, exchange, today, &prices);
        assert!(
            prices.iter().all(|p| p.volume == Some(Quantity::ZERO)),
            "{prices:?}"
        );
        // The previous day is complete: every security has its close.
        let before = data
            .daily_prices(exchange, date!(2025 - 06 - 09))
            .await
            .unwrap();
        assert_bands(&t, exchange, date!(2025 - 06 - 09), &before);
    }
    // A day the broker has not published yet is empty, not an error.
    let tomorrow = data
        .daily_prices(Exchange::Hose, date!(2025 - 06 - 11))
        .await
        .unwrap();
    assert!(tomorrow.is_empty(), "{tomorrow:?}");

    let g = t.sim.generator();
    let indexes = data.indexes(Exchange::Hose).await.unwrap();
    let vn30 = indexes.iter().find(|i| i.code == "VN30").unwrap();
    assert_eq!(vn30.exchange, Some(Exchange::Hose));
    let members = data.index_components("VN30").await.unwrap();
    let (_, def) = g.universe().index("VN30").unwrap();
    let mut expected: Vec<String> = def
        .members
        .iter()
        .map(|&m| g.universe().instrument(m).unwrap().symbol.clone())
        .collect();
    expected.sort();
    assert_eq!(
        members
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect::<Vec<_>>(),
        expected
    );
    let err = data.index_components("NOPE").await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected { .. } | Error::NotFound(_)),
        "{err:?}"
    );
}
