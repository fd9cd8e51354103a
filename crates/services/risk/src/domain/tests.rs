use market::validate::Security;
use market::{
    Exchange, InstrumentKind, MarketRules, OrderType, Price, PriceLimits, Quantity, SecurityStatus,
    Side, Symbol, TradingCalendar,
};
use time::OffsetDateTime;
use time::macros::{date, datetime};

use super::*;

/// Continuous trading on HOSE.
const NOW: OffsetDateTime = datetime!(2025-06-10 10:00 +7);

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn p(v: i64) -> Price {
    Price::new(v).unwrap()
}

fn engine(defaults: Limits) -> Engine {
    let mut e = Engine::new(
        MarketRules::default(),
        TradingCalendar::embedded().unwrap(),
        defaults,
    );
    e.set_security(SecurityInfo {
        security: Security {
            symbol: sym("SSI"),
            exchange: Exchange::Hose,
            kind: InstrumentKind::Stock,
            status: SecurityStatus::Normal,
            limits: Some(PriceLimits {
                reference: p(25_000),
                ceiling: p(26_750),
                floor: p(23_250),
            }),
            awaiting_first_match: false,
        },
        day: Some(date!(2025 - 06 - 10)),
    });
    e
}

fn buy(id: &str, price: i64, qty: u64) -> Check {
    Check {
        client_id: id.to_owned(),
        account: "0001001".to_owned(),
        strategy: None,
        symbol: sym("SSI"),
        side: Side::Buy,
        order_type: OrderType::Lo,
        price: Some(p(price)),
        quantity: Quantity::new(qty),
    }
}

fn rules(v: &Verdict) -> Vec<&'static str> {
    v.rejections.iter().map(|r| r.rule).collect()
}

#[test]
fn exchange_rules_come_from_market_every_violation_named() {
    let mut e = engine(Limits::default());
    assert!(e.check(&buy("a", 25_000, 100), NOW).accepted());
    // Off tick (HOSE 10k–50k ticks 50), above the ceiling, odd quantity on the main board.
    let v = e.check(&buy("b", 26_810, 150), NOW);
    assert!(v.rejections.len() >= 2, "{v:?}");
    assert!(rules(&v).iter().all(|r| *r == "exchange"), "{v:?}");
    let v = e.check(
        &Check {
            symbol: sym("XYZ"),
            ..buy("c", 25_000, 100)
        },
        NOW,
    );
    assert_eq!(rules(&v), ["unknown_security"]);
    // ATO outside the opening auction.
    let v = e.check(
        &Check {
            order_type: OrderType::Ato,
            price: None,
            ..buy("d", 25_000, 100)
        },
        NOW,
    );
    assert_eq!(rules(&v), ["exchange"], "{v:?}");
    // A band of another day is not used to accept anything.
    let mut e = engine(Limits::default());
    let mut info = *e.securities.get(&sym("SSI")).unwrap();
    info.day = Some(date!(2025 - 06 - 09));
    e.set_security(info);
    assert_eq!(rules(&e.check(&buy("e", 25_000, 100), NOW)), ["stale_band"]);
}

#[test]
fn each_order_limit_accepts_at_its_boundary_and_rejects_past_it() {
    let limits = Limits {
        max_order_quantity: Some(1_000),
        max_order_value: Some(25_000_000),
        fat_finger_bps: Some(400),
        ..Limits::default()
    };
    let mut e = engine(limits);
    assert!(e.check(&buy("q-ok", 25_000, 1_000), NOW).accepted());
    assert_eq!(
        rules(&e.check(&buy("q-no", 25_000, 1_100), NOW)),
        ["max_order_quantity", "max_order_value"]
    );
    assert!(e.check(&buy("v-ok", 25_000, 1_000), NOW).accepted());
    let v = e.check(&buy("v-no", 25_050, 1_000), NOW);
    assert_eq!(rules(&v), ["max_order_value"]);
    assert!(v.rejections[0].message.contains("25050000"), "{v:?}");
    // 400 bps from the reference 25,000 is 26,000: accepted; 26,050 is 420 bps: refused.
    assert!(e.check(&buy("f-ok", 26_000, 100), NOW).accepted());
    let v = e.check(&buy("f-no", 26_050, 100), NOW);
    assert_eq!(rules(&v), ["fat_finger"]);
    assert!(v.rejections[0].message.contains("the reference"), "{v:?}");
    // The last trade, once known, is the anchor.
    e.set_last(sym("SSI"), p(26_000));
    assert!(e.check(&buy("f-last", 26_050, 100), NOW).accepted());
}

#[test]
fn open_orders_rate_and_duplicates_count_what_was_accepted() {
    let mut e = engine(Limits {
        max_open_orders: Some(2),
        duplicate_window_secs: Some(5),
        ..Limits::default()
    });
    assert!(e.check(&buy("o1", 25_000, 100), NOW).accepted());
    assert_eq!(rules(&e.check(&buy("o2", 25_000, 100), NOW)), ["duplicate"]);
    assert!(e.check(&buy("o3", 25_050, 100), NOW).accepted());
    assert_eq!(
        rules(&e.check(&buy("o4", 25_100, 100), NOW)),
        ["max_open_orders"]
    );
    // The same client id again answers the first verdict and reserves nothing more.
    assert!(e.check(&buy("o3", 25_050, 100), NOW).accepted());
    assert_eq!(e.exposure("0001001").1, 2);
    e.order_ended("o1");
    e.order_ended("o1");
    assert_eq!(e.exposure("0001001").1, 1);
    assert!(e.check(&buy("o5", 25_100, 100), NOW).accepted());
    // Out of the window the same order is no duplicate.
    e.order_ended("o5");
    let later = NOW + time::Duration::seconds(6);
    assert!(e.check(&buy("o6", 25_000, 100), later).accepted());

    let mut e = engine(Limits {
        max_orders_per_minute: Some(2),
        ..Limits::default()
    });
    assert!(e.check(&buy("r1", 25_000, 100), NOW).accepted());
    assert!(e.check(&buy("r2", 25_050, 100), NOW).accepted());
    assert_eq!(
        rules(&e.check(&buy("r3", 25_100, 100), NOW)),
        ["max_orders_per_minute"]
    );
    let minute = NOW + time::Duration::seconds(60);
    assert!(e.check(&buy("r4", 25_100, 100), minute).accepted());
}

#[test]
fn a_preview_answers_the_verdict_and_counts_nothing() {
    let mut e = engine(Limits {
        max_open_orders: Some(1),
        duplicate_window_secs: Some(5),
        ..Limits::default()
    });
    // Off tick and over the open-order limit: named as a check would name them.
    assert_eq!(
        rules(&e.preview(&buy("p0", 25_010, 100), NOW, &mut |_| Vec::new())),
        ["exchange"]
    );
    // As often as the ticket asks: nothing is reserved, no client id used, no duplicate.
    for _ in 0..3 {
        assert!(
            e.preview(&buy("p1", 25_000, 100), NOW, &mut |_| Vec::new())
                .accepted()
        );
    }
    assert_eq!(e.exposure("0001001"), (0, 0, 0));
    assert!(e.check(&buy("p1", 25_000, 100), NOW).accepted());
    assert_eq!(e.exposure("0001001").1, 1);
    // After a real order, a preview sees its limits.
    let v = e.preview(&buy("p2", 25_050, 100), NOW, &mut |_| Vec::new());
    assert_eq!(rules(&v), ["max_open_orders"], "{v:?}");
    assert_eq!(e.exposure("0001001").1, 1);
    // And the client id it previewed is still free: a rejected preview is not remembered.
    e.order_ended("p1");
    assert!(e.check(&buy("p2", 25_050, 100), NOW).accepted());
}

#[test]
fn exposure_follows_reservations_and_fills_and_loss_stops_buying() {
    let mut e = engine(Limits {
        max_symbol_exposure: Some(5_000_000),
        max_daily_loss: Some(100_000),
        ..Limits::default()
    });
    // 2,500,000 reserved, then 2,500,000 more is exactly the limit.
    assert!(e.check(&buy("x1", 25_000, 100), NOW).accepted());
    assert!(e.check(&buy("x2", 25_000, 100), NOW).accepted());
    assert_eq!(
        rules(&e.check(&buy("x3", 25_000, 100), NOW)),
        ["max_symbol_exposure"]
    );
    // x2 is cancelled: its reservation goes.
    e.order_ended("x2");
    assert_eq!(e.exposure("0001001").0, 2_500_000);
    // x1 fills: the reservation becomes the position, at cost with the buy fee (0.15 %).
    e.filled(&FillEvent {
        client_id: "x1",
        account: "0001001",
        strategy: None,
        symbol: sym("SSI"),
        side: Side::Buy,
        price: p(25_000),
        quantity: Quantity::new(100),
        at: NOW,
    });
    e.order_ended("x1");
    assert_eq!(e.exposure("0001001").0, 2_500_000 + 3_750);
    // Sold at 23,250: loss = 2,500,000 + fees − proceeds after fee and tax.
    let sell = Check {
        side: Side::Sell,
        ..buy("s1", 23_250, 100)
    };
    assert!(e.check(&sell, NOW).accepted());
    e.filled(&FillEvent {
        client_id: "s1",
        account: "0001001",
        strategy: None,
        symbol: sym("SSI"),
        side: Side::Sell,
        price: p(23_250),
        quantity: Quantity::new(100),
        at: NOW,
    });
    let (exposure, _, realised) = e.exposure("0001001");
    assert_eq!(exposure, 0);
    let proceeds = 2_325_000 - 3_488 - 2_325;
    assert_eq!(realised, proceeds - 2_503_750);
    assert_eq!(
        rules(&e.check(&buy("x4", 25_000, 100), NOW)),
        ["max_daily_loss"]
    );
    let sell = Check {
        side: Side::Sell,
        ..buy("s2", 25_000, 100)
    };
    assert!(e.check(&sell, NOW).accepted(), "sells are still allowed");
    // A new day starts from zero.
    let tomorrow = datetime!(2025-06-11 10:00 +7);
    let mut info = *e.securities.get(&sym("SSI")).unwrap();
    info.day = Some(date!(2025 - 06 - 11));
    e.set_security(info);
    assert!(e.check(&buy("x5", 25_000, 100), tomorrow).accepted());
}

#[test]
fn kill_switches_stop_their_scope_only() {
    let mut e = engine(Limits::default());
    let with_strategy = |id: &str, s: &str| Check {
        strategy: Some(s.to_owned()),
        ..buy(id, 25_000, 100)
    };
    e.set_kill(&Scope::Strategy("ma".into()), Some("drawdown".into()));
    let v = e.check(&with_strategy("k1", "ma"), NOW);
    assert_eq!(rules(&v), ["kill_switch"]);
    assert!(v.rejections[0].message.contains("drawdown"), "{v:?}");
    assert!(e.check(&with_strategy("k2", "rsi"), NOW).accepted());
    e.set_kill(&Scope::Global, Some("exchange incident".into()));
    assert_eq!(
        rules(&e.check(&with_strategy("k3", "rsi"), NOW)),
        ["kill_switch"]
    );
    assert_eq!(e.kills().len(), 2);
    e.set_kill(&Scope::Global, None);
    e.set_kill(&Scope::Strategy("ma".into()), None);
    assert!(e.check(&with_strategy("k4", "ma"), NOW).accepted());
    assert!(e.kills().is_empty());
}

#[test]
fn strategy_limits_overlay_the_defaults_and_scopes_parse() {
    let mut e = engine(Limits {
        max_order_quantity: Some(1_000),
        ..Limits::default()
    });
    e.set_limits(
        Scope::Strategy("scalp".into()),
        Some(Limits {
            max_order_quantity: Some(200),
            ..Limits::default()
        }),
    );
    let c = Check {
        strategy: Some("scalp".into()),
        ..buy("l1", 25_000, 300)
    };
    assert_eq!(rules(&e.check(&c, NOW)), ["max_order_quantity"]);
    assert!(e.check(&buy("l2", 25_000, 300), NOW).accepted());
    assert_eq!(
        e.limits(&Scope::Strategy("scalp".into()))
            .max_order_quantity,
        Some(200)
    );
    assert_eq!(Scope::parse("global", ""), Ok(Scope::Global));
    assert_eq!(
        Scope::parse("account", "0001001"),
        Ok(Scope::Account("0001001".into()))
    );
    assert!(Scope::parse("account", "").is_err());
    assert!(Scope::parse("desk", "x").is_err());
    assert!(
        Limits {
            fat_finger_bps: Some(0),
            ..Limits::default()
        }
        .check()
        .is_err()
    );
}

#[test]
fn an_order_read_from_the_bus_counts_once_and_is_still_checked() {
    let mut e = engine(Limits {
        max_open_orders: Some(2),
        ..Limits::default()
    });
    // Created by the OMS before a restart of the risk service: counted, not decided.
    e.adopt(&buy("a1", 25_000, 100), NOW);
    e.adopt(&buy("a1", 25_000, 100), NOW);
    assert_eq!(e.exposure("0001001").1, 1);
    // The OMS asks about it (a resend after its own restart): checked, not counted again.
    let v = e.check(&buy("a1", 27_000, 100), NOW);
    assert_eq!(rules(&v), ["exchange"], "above the ceiling: {v:?}");
    assert!(e.check(&buy("a2", 25_000, 100), NOW).accepted());
    assert_eq!(e.exposure("0001001").1, 2);
    e.order_ended("a1");
    assert_eq!(e.exposure("0001001").1, 1);
}

fn fill(
    id: &str,
    symbol: &str,
    side: Side,
    price: i64,
    qty: u64,
    at: OffsetDateTime,
) -> FillEvent<'static> {
    FillEvent {
        client_id: Box::leak(id.to_owned().into_boxed_str()),
        account: "0001001",
        strategy: None,
        symbol: sym(symbol),
        side,
        price: p(price),
        quantity: Quantity::new(qty),
        at,
    }
}

fn kinds(alerts: &[monitor::Alert]) -> Vec<&'static str> {
    alerts.iter().map(|a| a.kind).collect()
}

#[test]
fn drawdown_from_the_marked_high_stops_adding_and_warns_then_alerts() {
    let mut e = engine(Limits {
        max_drawdown: Some(100_000),
        ..Limits::default()
    });
    assert!(e.check(&buy("d1", 25_000, 100), NOW).accepted());
    e.filled(&fill("d1", "SSI", Side::Buy, 25_000, 100, NOW));
    e.order_ended("d1");
    // Bought 100 at 25,000 with a 3,750 fee: P&L −3,750, the high stays 0.
    let m = e.monitor(NOW);
    assert_eq!(m.books[0].pnl_today, -3_750);
    assert_eq!(m.books[0].positions[0].mark, 2_500_000);
    // Up to 26,000 (+96,250), down to 25,050: 95,000 below the high, not yet past 100,000.
    e.trade(sym("SSI"), p(26_000), NOW + time::Duration::seconds(1));
    e.trade(sym("SSI"), p(25_050), NOW + time::Duration::seconds(2));
    let b = &e.monitor(NOW).books[0];
    assert_eq!(
        (b.peak_today, b.pnl_today, b.worst_drawdown_today),
        (96_250, 1_250, 95_000)
    );
    assert!(e.check(&buy("d2", 25_050, 100), NOW).accepted());
    e.order_ended("d2");
    assert_eq!(kinds(&e.alerts(NOW, 80)), ["drawdown_warning"]);
    // 25,000: 100,000 below the high is the limit itself, still accepted; 24,950 is past it.
    e.trade(sym("SSI"), p(25_000), NOW + time::Duration::seconds(3));
    assert!(e.check(&buy("d3", 25_000, 100), NOW).accepted());
    e.order_ended("d3");
    e.trade(sym("SSI"), p(24_950), NOW + time::Duration::seconds(4));
    let v = e.check(&buy("d4", 24_950, 100), NOW);
    assert_eq!(rules(&v), ["max_drawdown"]);
    assert!(v.rejections[0].message.contains("105000"), "{v:?}");
    // The position may still be reduced; recovering does not lift the day's breach.
    let sell = Check {
        side: Side::Sell,
        ..buy("d5", 24_950, 100)
    };
    assert!(e.check(&sell, NOW).accepted());
    e.trade(sym("SSI"), p(26_000), NOW + time::Duration::seconds(5));
    assert_eq!(
        rules(&e.check(&buy("d6", 26_000, 100), NOW)),
        ["max_drawdown"]
    );
    let alerts = e.alerts(NOW, 80);
    assert_eq!(kinds(&alerts), ["drawdown_breached"]);
    assert_eq!(alerts[0].id, "2025-06-10:drawdown_breached:account:0001001");
    // The next day counts from its own start.
    let tomorrow = NOW + time::Duration::days(1);
    e.trade(sym("SSI"), p(26_000), tomorrow);
    assert_eq!(e.monitor(tomorrow).books[0].worst_drawdown_today, 0);
    assert!(e.alerts(tomorrow, 80).is_empty());
}

fn future(e: &mut Engine) -> Symbol {
    let s = sym("VN30F2506");
    e.set_security(SecurityInfo {
        security: Security {
            symbol: s,
            exchange: Exchange::HnxDeriv,
            kind: InstrumentKind::IndexFuture,
            status: SecurityStatus::Normal,
            limits: Some(PriceLimits {
                reference: p(13_000),
                ceiling: p(13_910),
                floor: p(12_090),
            }),
            awaiting_first_match: false,
        },
        day: Some(date!(2025 - 06 - 10)),
    });
    s
}

#[test]
fn futures_use_margin_and_a_short_position_realises_on_the_cover() {
    // 1,300.0 points × 100,000 VND = 130,000,000 a contract; 17 % initial margin 22,100,000.
    let mut e = engine(Limits {
        max_margin: Some(50_000_000),
        ..Limits::default()
    });
    let f = future(&mut e);
    let short = |id: &str, qty| Check {
        symbol: f,
        side: Side::Sell,
        ..buy(id, 13_000, qty)
    };
    let v = e.check(&short("f0", 3), NOW);
    assert_eq!(rules(&v), ["max_margin"]);
    assert!(v.rejections[0].message.contains("66300000"), "{v:?}");
    assert!(e.check(&short("f1", 2), NOW).accepted());
    assert_eq!(e.monitor(NOW).books[0].margin_used, 44_200_000);
    assert_eq!(rules(&e.check(&short("f2", 1), NOW)), ["max_margin"]);
    // Futures are not stock exposure.
    assert_eq!(e.exposure("0001001").0, 0);
    e.filled(&fill("f1", "VN30F2506", Side::Sell, 13_000, 2, NOW));
    e.order_ended("f1");
    let b = &e.monitor(NOW).books[0];
    assert_eq!(b.positions[0].quantity, -2);
    assert_eq!(b.margin_used, 44_200_000);
    // A buy now reduces the short: no margin needed, none checked.
    let cover = Check {
        side: Side::Buy,
        ..short("f3", 1)
    };
    assert!(e.check(&cover, NOW).accepted());
    e.filled(&fill("f3", "VN30F2506", Side::Buy, 12_900, 1, NOW));
    e.order_ended("f3");
    let b = &e.monitor(NOW).books[0];
    assert_eq!(b.positions[0].quantity, -1);
    // Sold at 1,300.0 and bought back at 1,290.0: 10 points × 100,000 less both fills' fees.
    assert!(
        b.realised_today < 1_000_000 && b.realised_today > 900_000,
        "{b:?}"
    );
    // The last trade marks the short: 1,280.0 is 2,000,000 in its favour.
    e.trade(f, p(12_800), NOW);
    let b = &e.monitor(NOW).books[0];
    assert_eq!(b.positions[0].mark, -128_000_000);
    assert_eq!(b.unrealised, 2_000_000);
    assert_eq!(b.margin_used, 21_760_000);
}

#[test]
fn a_symbol_breaker_trips_on_a_fast_move_and_clears_after_its_cooldown() {
    let mut e = engine(Limits::default());
    e.set_breakers(monitor::Breakers {
        symbol_move_bps: 500,
        symbol_window_secs: 60,
        symbol_cooldown_secs: 120,
        ..monitor::Breakers::default()
    });
    let t = |s: i64| NOW + time::Duration::seconds(s);
    // 25,000 → 26,200 over two minutes is 480 bps within any minute: nothing.
    e.trade(sym("SSI"), p(25_000), t(0));
    e.trade(sym("SSI"), p(25_600), t(61));
    e.trade(sym("SSI"), p(26_200), t(122));
    assert!(e.check(&buy("b1", 26_200, 100), t(122)).accepted());
    // 26,200 → 24,900 within the minute: 522 bps.
    e.trade(sym("SSI"), p(24_900), t(150));
    let v = e.check(&buy("b2", 24_900, 100), t(151));
    assert_eq!(rules(&v), ["breaker"]);
    assert!(v.rejections[0].message.contains("522 bps"), "{v:?}");
    let alerts = e.alerts(t(151), 80);
    assert_eq!(kinds(&alerts), ["breaker_tripped"]);
    assert_eq!(alerts[0].scope, Scope::Global);
    // The cooldown ends 120 s after it tripped; the range that tripped it is forgotten.
    e.trade(sym("SSI"), p(24_950), t(271));
    assert!(e.check(&buy("b3", 24_950, 100), t(271)).accepted());
    let cleared = e.alerts(t(271), 80);
    assert_eq!(kinds(&cleared), ["breaker_cleared"]);
    assert_ne!(cleared[0].id, alerts[0].id);
}

#[test]
fn the_market_breaker_refuses_orders_that_add_until_the_index_recovers() {
    let mut e = engine(Limits::default());
    e.set_breakers(monitor::Breakers {
        market_index: "VNINDEX".to_owned(),
        market_drop_bps: 400,
        ..monitor::Breakers::default()
    });
    e.filled(&fill("h1", "SSI", Side::Buy, 25_000, 100, NOW));
    let today = NOW + time::Duration::days(1);
    // Yesterday closed at 1,250.00; today 1,200.01 is 399 bps down, 1,200.00 is 400.
    e.index_tick("VNINDEX", 125_000, NOW);
    e.index_tick("VN30", 100_000, today);
    e.index_tick("VNINDEX", 120_001, today);
    let mut info = *e.securities.get(&sym("SSI")).unwrap();
    info.day = Some(date!(2025 - 06 - 11));
    e.set_security(info);
    let buy_today = |id: &str| buy(id, 25_000, 100);
    assert!(e.check(&buy_today("m1"), today).accepted());
    e.order_ended("m1");
    e.index_tick("VNINDEX", 120_000, today);
    assert_eq!(rules(&e.check(&buy_today("m2"), today)), ["market_breaker"]);
    let sell = Check {
        side: Side::Sell,
        ..buy_today("m3")
    };
    assert!(e.check(&sell, today).accepted());
    assert_eq!(kinds(&e.alerts(today, 80)), ["market_breaker_tripped"]);
    // Back within 200 bps (1,225.01) clears it.
    e.index_tick("VNINDEX", 122_400, today);
    assert_eq!(rules(&e.check(&buy_today("m4"), today)), ["market_breaker"]);
    e.index_tick("VNINDEX", 122_501, today);
    assert!(e.check(&buy_today("m5"), today).accepted());
    assert_eq!(kinds(&e.alerts(today, 80)), ["market_breaker_cleared"]);
}

#[test]
fn a_halted_symbol_takes_no_order_and_its_holders_are_alerted() {
    let mut e = engine(Limits {
        max_exposure: Some(3_000_000),
        ..Limits::default()
    });
    e.filled(&fill("g1", "SSI", Side::Buy, 25_000, 100, NOW));
    assert_eq!(kinds(&e.alerts(NOW, 80)), ["exposure_warning"]);
    e.status(sym("SSI"), "H", NOW);
    let sell = |id: &str| Check {
        side: Side::Sell,
        ..buy(id, 25_000, 100)
    };
    let v = e.check(&sell("g2"), NOW);
    assert_eq!(rules(&v), ["halted"]);
    let alerts = e.alerts(NOW, 80);
    assert_eq!(kinds(&alerts), ["exposure_warning", "halted_holding"]);
    assert!(alerts[1].detail.contains("holds 100 of SSI"), "{alerts:?}");
    assert!(e.monitor(NOW).books[0].positions[0].halted);
    // Another status (the session resuming) lifts it.
    e.status(sym("SSI"), "LO", NOW);
    assert!(e.check(&sell("g3"), NOW).accepted());
}

#[test]
fn buying_power_and_sellable_quantity_come_from_the_brokers_view_less_orders_since() {
    let mut e = engine(Limits::default());
    let sell = |id: &str, qty| Check {
        side: Side::Sell,
        ..buy(id, 25_000, qty)
    };
    // No view of the account yet: left to the broker.
    assert!(e.check(&sell("s0", 100), NOW).accepted());
    let snapshot = |at, power| AccountSnapshot {
        account: "0001001".to_owned(),
        at,
        buying_power: Some(power),
        sellable: vec![(sym("SSI"), 500)],
    };
    let later = NOW + time::Duration::seconds(10);
    e.account_snapshot(snapshot(later, 10_000_000));
    // 400 × 25,000 = 10,000,000: exactly the buying power; 1 lot more is refused, with numbers.
    assert!(
        e.preview(&buy("b0", 25_000, 400), later, &mut |_| Vec::new())
            .accepted()
    );
    let v = e.check(&buy("b1", 25_000, 500), later);
    assert_eq!(rules(&v), ["buying_power"], "{v:?}");
    assert!(
        v.rejections[0]
            .message
            .contains("10000000 VND of buying power left")
            && v.rejections[0].message.contains("12500000"),
        "{v:?}"
    );
    // A buy accepted after the snapshot counts until the next one.
    assert!(e.check(&buy("b2", 25_000, 300), later).accepted());
    let v = e.check(&buy("b3", 25_000, 200), later);
    assert_eq!(rules(&v), ["buying_power"], "{v:?}");
    assert!(
        v.rejections[0]
            .message
            .contains("less 7500000 of buys since"),
        "{v:?}"
    );
    // Sellable: 500 at the broker; the order at NOW (before the snapshot) is in it already.
    assert!(e.check(&sell("s1", 500), later).accepted());
    let v = e.check(&sell("s2", 100), later);
    assert_eq!(rules(&v), ["sellable"], "{v:?}");
    assert!(v.rejections[0].message.contains("can sell 0 SSI"), "{v:?}");
    // The next snapshot counts what was accepted before it (less the grace), not after.
    let next = later + time::Duration::seconds(30);
    e.account_snapshot(snapshot(next, 2_500_000));
    assert!(e.check(&buy("b4", 25_000, 100), next).accepted());
    assert_eq!(
        rules(&e.check(&buy("b5", 25_000, 100), next)),
        ["buying_power"]
    );
    // A late, older snapshot changes nothing.
    e.account_snapshot(snapshot(later, 100_000_000));
    assert_eq!(
        rules(&e.check(&buy("b6", 25_000, 100), next)),
        ["buying_power"]
    );
    // Another account, and futures (margin, checked by the engine), are not judged by it.
    assert!(
        e.check(
            &Check {
                account: "0001002".to_owned(),
                ..buy("o1", 25_000, 1_000)
            },
            next
        )
        .accepted()
    );
    let f = future(&mut e);
    assert!(
        e.check(
            &Check {
                symbol: f,
                ..buy("f1", 13_000, 1)
            },
            next
        )
        .accepted()
    );
}
