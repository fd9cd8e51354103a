use super::*;
use crate::config::{DEMO_CASH_ACCOUNT, DEMO_TRADING_CONSUMER_ID};
use market::MarketRules;
use matching::EngineConfig;
use time::macros::datetime;

#[test]
fn wire_prices_convert_to_units_or_are_refused() {
    assert_eq!(to_units(InstrumentKind::Stock, 23_450.0), Some(23_450));
    assert_eq!(to_units(InstrumentKind::IndexFuture, 1_320.5), Some(13_205));
    assert_eq!(to_units(InstrumentKind::IndexFuture, 1_320.55), None);
    assert_eq!(to_units(InstrumentKind::Stock, 23_450.5), None);
    assert_eq!(to_units(InstrumentKind::Stock, f64::NAN), None);
}

#[test]
fn engine_statuses_map_to_ssi_codes() {
    assert_eq!(status_code(OrderStatus::Queued, 0), "QU");
    assert_eq!(status_code(OrderStatus::PartiallyFilled, 100), "PF");
    assert_eq!(status_code(OrderStatus::Filled, 100), "FF");
    assert_eq!(status_code(OrderStatus::Cancelled, 0), "CL");
    assert_eq!(status_code(OrderStatus::Cancelled, 100), "FFPC");
    assert_eq!(status_code(OrderStatus::Expired, 0), "EX");
    assert_eq!(status_code(OrderStatus::Rejected, 0), "RJ");
}

#[test]
fn entry_rejections_map_to_ssi_error_codes() {
    let unknown = RejectReason::UnknownSecurity {
        symbol: Symbol::parse("ZZZ").unwrap(),
    };
    assert_eq!(reject_code(&unknown), "ORD001");
    let bp = RejectReason::InsufficientBuyingPower {
        required: Vnd::new(2),
        available: Vnd::new(1),
    };
    assert_eq!(reject_code(&bp), "ORD040");
    assert_eq!(
        change_code(&ChangeRejection::UnknownOrder { order: OrderId(7) }),
        "ORD013"
    );
}

#[test]
fn refused_amendments_carry_the_codes_of_new_orders() {
    use market::Violation as V;
    use market::order::ChangeViolation as W;
    let p = |u| Price::new(u).unwrap();
    for (violation, code) in [
        (
            V::PriceAboveCeiling {
                price: p(107_100),
                ceiling: p(107_000),
            },
            "ORD003",
        ),
        (
            V::PriceBelowFloor {
                price: p(92_900),
                floor: p(93_000),
            },
            "ORD002",
        ),
        (
            V::PriceOffTick {
                price: p(99_050),
                tick: p(100),
            },
            "ORD004",
        ),
        (
            V::NotRoundLot {
                quantity: Quantity::new(150),
                round_lot: 100,
            },
            "ORD005",
        ),
    ] {
        let violations = market::Violations(vec![violation]);
        let amend = ChangeRejection::Rules {
            violations: violations.clone(),
        };
        let entry = RejectReason::Rules { violations };
        assert_eq!(change_code(&amend), code, "{amend}");
        assert_eq!(reject_code(&entry), code, "{entry}");
    }
    let bp = ChangeRejection::InsufficientBuyingPower {
        required: Vnd::new(2),
        available: Vnd::new(1),
    };
    assert_eq!(change_code(&bp), "ORD040");
    let window = |violation| change_code(&ChangeRejection::Window { violation });
    assert_eq!(
        window(W::PhaseBlocksChanges {
            phase: market::Phase::Break
        }),
        "ORD011"
    );
    assert_eq!(window(W::NoChange), "ORD014");
    assert_eq!(
        window(W::BelowFilled {
            requested: Quantity::new(100),
            filled: Quantity::new(200)
        }),
        "ORD031"
    );
    assert_eq!(window(W::PloIsFinal), "ORD012");
}

fn config() -> crate::SimConfig {
    crate::SimConfig {
        start: datetime!(2025-06-10 10:00 +7),
        universe: crate::UniverseSize {
            hose: 40,
            hnx: 5,
            upcom: 5,
        },
        history_days: 5,
        retention_days: 1,
        ..crate::SimConfig::demo()
    }
}

/// A fresh broker over a small market, started at `config().start`.
fn broker() -> Broker {
    let c = config();
    let rules = MarketRules::default();
    let calendar = rules.calendar().unwrap();
    let (today, _) = TradingCalendar::local(c.start);
    let universe = crate::universe::Universe::generate(c.seed, c.universe, &calendar, today);
    let generator = Arc::new(Generator::new(
        c.seed,
        rules.clone(),
        calendar.clone(),
        universe,
        today,
        c.history_days,
        60,
    ));
    let engine = Engine::new(
        rules,
        calendar,
        EngineConfig {
            roll_reference: false,
            ..EngineConfig::default()
        },
    );
    let parts = Parts {
        live: Arc::new(LiveDays::new(generator.clone())),
        generator,
        log: Arc::new(NoticeLog::default()),
        retention_days: c.retention_days,
        cash_advance_fee_ppm_per_day: c.cash_advance_fee_ppm_per_day,
    };
    let mut b = Broker::new(engine, parts, None);
    b.start_at(c.start, &c.trading_consumers).unwrap();
    b.publish();
    b
}

/// A HOSE stock and its floor on the start day.
fn stock(b: &Broker) -> (String, i64) {
    let g = &b.generator;
    let day = g.day_index(config().start.date()).unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == market::Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    (x.symbol.clone(), g.limits(i, day).unwrap().floor.units())
}

fn order(symbol: &str, price: Option<i64>, request: &str, order_type: OrderType) -> Command {
    order_on(Side::Buy, symbol, price, request, order_type)
}

fn order_on(
    side: Side,
    symbol: &str,
    price: Option<i64>,
    request: &str,
    order_type: OrderType,
) -> Command {
    Command::NewOrder(NewOrder {
        consumer: DEMO_TRADING_CONSUMER_ID.to_owned(),
        account: DEMO_CASH_ACCOUNT.to_owned(),
        symbol: symbol.to_owned(),
        market: "VN".to_owned(),
        side,
        order_type,
        price,
        quantity: 100,
        board: Board::Main,
        channel: "TA".to_owned(),
        request_id: request.to_owned(),
        reject_in_response: false,
    })
}

fn published(b: &Broker) -> Vec<Notice> {
    b.log().with(|n| n.iter().cloned().collect())
}

#[test]
fn replaying_the_applied_commands_rebuilds_the_same_state_and_notices() {
    let mut live = broker();
    let (symbol, floor) = stock(&live);
    let t0 = config().start;
    let mut applied = Vec::new();
    let mut run = |b: &mut Broker, at: OffsetDateTime, mut cmd: Command| {
        let out = b.apply(at, &mut cmd, false);
        applied.push((at, cmd));
        out.result
    };
    let resting = run(
        &mut live,
        t0,
        order(&symbol, Some(floor), "1", OrderType::Lo),
    );
    let Ok(Outcome::Order(id)) = resting else {
        panic!("{resting:?}")
    };
    run(
        &mut live,
        t0 + time::Duration::seconds(5),
        order(&symbol, None, "2", OrderType::Mtl),
    )
    .unwrap();
    for s in [10, 20, 30] {
        run(
            &mut live,
            t0 + time::Duration::seconds(s),
            Command::Tick {
                requote: true,
                prune_before: None,
            },
        )
        .unwrap();
    }
    run(
        &mut live,
        t0 + time::Duration::seconds(40),
        Command::Change(Change {
            consumer: DEMO_TRADING_CONSUMER_ID.to_owned(),
            account: DEMO_CASH_ACCOUNT.to_owned(),
            order_id: id.0,
            request_id: "3".to_owned(),
            modify: Some(Modify {
                price: 0.0,
                quantity: 200,
            }),
        }),
    )
    .unwrap();
    let dup = run(
        &mut live,
        t0 + time::Duration::seconds(41),
        order(&symbol, Some(floor), "3", OrderType::Lo),
    );
    assert!(matches!(dup, Err(BrokerError::Duplicate(_))), "{dup:?}");
    // Cash and stock movements replay too (the stock transfer rebuilds the engine).
    run(
        &mut live,
        t0 + time::Duration::seconds(50),
        order_on(Side::Sell, "SSI", None, "4", OrderType::Mtl),
    )
    .unwrap();
    run(
        &mut live,
        t0 + time::Duration::seconds(51),
        Command::CashAdvance(cash::CashAdvance {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            amount: 1_000,
            receive: 0,
        }),
    )
    .unwrap();
    run(
        &mut live,
        t0 + time::Duration::seconds(52),
        Command::CashTransfer(cash::CashTransfer {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            beneficiary: crate::config::DEMO_DERIVATIVES_ACCOUNT.to_owned(),
            amount: 5_000_000,
            remark: String::new(),
        }),
    )
    .unwrap();
    run(
        &mut live,
        t0 + time::Duration::seconds(53),
        Command::StockTransfer(cash::StockTransfer {
            account: DEMO_CASH_ACCOUNT.to_owned(),
            beneficiary: crate::config::DEMO_DERIVATIVES_ACCOUNT.to_owned(),
            symbol: "SSI".to_owned(),
            quantity: 300,
        }),
    )
    .unwrap();
    live.publish();
    assert!(live.next_notify() >= 5, "QU, match, FF, QU, amend");

    let mut replayed = broker();
    for (at, mut cmd) in applied {
        replayed.apply(at, &mut cmd, true);
    }
    replayed.publish();
    assert_eq!(replayed.next_notify(), live.next_notify());
    assert_eq!(published(&replayed), published(&live));
    assert_eq!(replayed.engine.state(), live.engine.state());
    assert_eq!(replayed.ledger, live.ledger);
}

#[test]
fn an_advance_is_taken_back_when_the_sale_settles() {
    let mut b = broker();
    let t0 = config().start;
    let account = AccountId::new(DEMO_CASH_ACCOUNT);
    let cash = |b: &Broker| b.engine.account(&account).unwrap().cash.amount();
    let mut sell = order_on(Side::Sell, "SSI", None, "1", OrderType::Mtl);
    b.apply(t0, &mut sell, false).result.unwrap();
    let before = cash(&b);
    let net: i64 = b.ledger.sales().iter().map(|s| s.net).sum();
    assert!(net > 0);
    let mut advance = Command::CashAdvance(cash::CashAdvance {
        account: DEMO_CASH_ACCOUNT.to_owned(),
        amount: net / 2,
        receive: 0,
    });
    let Ok(Outcome::Transaction(_)) = b.apply(t0, &mut advance, false).result else {
        panic!("advance refused");
    };
    let fee = b.ledger.advances()[0].fee;
    assert!(fee > 0);
    assert_eq!(cash(&b), before + net / 2 - fee);
    assert_eq!(b.advanced(&account), net / 2);
    // T+2 13:00: the engine credits the whole proceeds, the broker takes the advance back.
    let mut tick = Command::Tick {
        requote: false,
        prune_before: None,
    };
    b.apply(datetime!(2025-06-12 13:30 +7), &mut tick, false);
    assert_eq!(cash(&b), before + net - fee);
    assert_eq!(b.advanced(&account), 0);
    // Settled, and older than the one-day retention: gone from the ledger.
    assert!(b.ledger.advances().is_empty());
}

#[test]
fn retention_drops_old_final_orders_and_notices_but_keeps_working_ones() {
    let mut b = broker();
    let (symbol, floor) = stock(&b);
    let t0 = config().start;
    let mut filled = order(&symbol, None, "1", OrderType::Mtl);
    b.apply(t0, &mut filled, false).result.unwrap();
    let mut resting = order(&symbol, Some(floor), "2", OrderType::Lo);
    b.apply(t0, &mut resting, false).result.unwrap();
    b.publish();
    assert_eq!(b.sizes().client_orders, 2);
    let notices = b.sizes().notices;
    assert!(notices >= 4);
    // Two days later (retention 1 day): the filled order and the first day's notices go;
    // the resting order expired at the end of its day, so it goes too, with its notices.
    let mut tick = Command::Tick {
        requote: true,
        prune_before: None,
    };
    let later = datetime!(2025-06-12 10:00 +7);
    let out = b.apply(later, &mut tick, false);
    b.publish();
    assert!(out.changed);
    let Command::Tick { prune_before, .. } = tick else {
        unreachable!()
    };
    assert_eq!(prune_before, Some(time::macros::date!(2025 - 06 - 11)));
    let sizes = b.sizes();
    assert_eq!(sizes.client_orders, 0, "{sizes:?}");
    assert_eq!(sizes.working, 0);
    assert!(
        published(&b)
            .iter()
            .all(|n| n.date >= time::macros::date!(2025 - 06 - 11))
    );
    // The next tick on the same day cuts nothing.
    let mut again = Command::Tick {
        requote: true,
        prune_before: None,
    };
    b.apply(later + time::Duration::seconds(1), &mut again, false);
    assert!(matches!(
        again,
        Command::Tick {
            prune_before: None,
            ..
        }
    ));
}

fn fco(kind: fco::FcoKind, side: Side, stop: f64, operator: fco::Operator) -> Command {
    let start = config().start;
    Command::FcoPlace(Box::new(fco::FcoRequest {
        consumer: DEMO_TRADING_CONSUMER_ID.to_owned(),
        account: DEMO_CASH_ACCOUNT.to_owned(),
        kind,
        symbol: "SSI".to_owned(),
        side,
        quantity: 100,
        price: None,
        price_text: "MTL".to_owned(),
        price_slip: 0.0,
        from: start,
        to: start + time::Duration::hours(3),
        stop_price: stop,
        operator,
        active_price: 0.0,
        trailing_amount: 0.0,
        tp_active_price: 0.0,
        sl_active_price: 0.0,
        tp_price: None,
        sl_price: None,
    }))
}

#[test]
fn fcos_trigger_on_ticks_replay_exactly_and_expire_then_go_with_retention() {
    let mut live = broker();
    let t0 = config().start;
    let mut applied = Vec::new();
    let mut run = |b: &mut Broker, at: OffsetDateTime, mut cmd: Command| {
        let out = b.apply(at, &mut cmd, false);
        // What the desk journals: every command that changed the state.
        if out.changed {
            applied.push((at, cmd));
        }
        out.result
    };
    // Holds at once (any price >= 1): triggered on the next tick, its buy fills.
    let fired = run(
        &mut live,
        t0,
        fco(
            fco::FcoKind::Stop,
            Side::Buy,
            1.0,
            fco::Operator::GreaterOrEqual,
        ),
    );
    assert_eq!(fired, Ok(Outcome::Transaction("1".to_owned())));
    // Never holds (no price below 1): waits, then expires after its window.
    run(
        &mut live,
        t0,
        fco(fco::FcoKind::Stop, Side::Sell, 1.0, fco::Operator::Lesser),
    )
    .unwrap();
    for s in [1, 2, 3] {
        run(
            &mut live,
            t0 + time::Duration::seconds(s),
            Command::Tick {
                requote: true,
                prune_before: None,
            },
        )
        .unwrap();
    }
    let status = |b: &Broker, id: u64| {
        b.fcos_of(DEMO_TRADING_CONSUMER_ID)
            .find(|f| f.id == id)
            .map(|f| f.status.clone())
    };
    assert_eq!(status(&live, 1).as_deref(), Some("FIS"));
    assert_eq!(status(&live, 2).as_deref(), Some("WAIT"));
    let child = live.fcos.get(&1).unwrap().children[0].order;
    assert_eq!(live.engine.order(child).unwrap().filled.units(), 100);
    run(
        &mut live,
        t0 + time::Duration::hours(4),
        Command::Tick {
            requote: true,
            prune_before: None,
        },
    )
    .unwrap();
    assert_eq!(status(&live, 2).as_deref(), Some("EXP"));
    // A cancel of a final FCO is refused.
    let again = run(
        &mut live,
        t0 + time::Duration::hours(4),
        Command::FcoCancel {
            consumer: DEMO_TRADING_CONSUMER_ID.to_owned(),
            id: 2,
        },
    );
    assert!(matches!(again, Err(BrokerError::Refused(_))), "{again:?}");
    live.publish();

    let mut replayed = broker();
    for (at, mut cmd) in applied {
        replayed.apply(at, &mut cmd, true);
    }
    replayed.publish();
    assert_eq!(replayed.fcos, live.fcos);
    assert_eq!(replayed.next_fco, live.next_fco);
    assert_eq!(replayed.engine.state(), live.engine.state());

    // Two days later (retention 1 day) the finished FCOs are dropped.
    let mut tick = Command::Tick {
        requote: true,
        prune_before: None,
    };
    live.apply(datetime!(2025-06-12 10:00 +7), &mut tick, false);
    assert!(live.fcos.is_empty());
}
