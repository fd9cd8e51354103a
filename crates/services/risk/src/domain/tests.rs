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
