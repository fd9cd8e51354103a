use market::foreign::ForeignRoom;
use market::{
    Board, InstrumentKind, MarketRules, OrderType, Phase, Quantity, Side, Violation, Vnd,
};

use crate::engine::Engine;
use crate::engine::test_support::{
    CASH, acct, at, engine, events_of, listing, lo, px, rejected_with, req, sym,
};
use crate::error::Error;
use crate::types::{Event, RejectReason};

#[test]
fn hose_takes_no_mok_or_mak_and_upcom_only_lo() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    lo(&mut e, "A", "BSR", Side::Sell, 20_000, 100);
    for (s, t) in [
        ("FPT", OrderType::Mok),
        ("FPT", OrderType::Mak),
        ("BSR", OrderType::Mtl),
    ] {
        let r = e.submit(req("C", s, Side::Buy, t, None, 100));
        assert!(
            matches!(r, Err(Error::Rejected { reason: RejectReason::Rules { ref violations }, .. })
                if violations.as_slice().iter().any(|v| matches!(v, Violation::OrderTypeNotAccepted { .. }))),
            "{s} {t}: {r:?}"
        );
    }
}

#[test]
fn prices_outside_the_band_or_off_tick_are_rejected() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let r = e.submit(req(
        "A",
        "FPT",
        Side::Buy,
        OrderType::Lo,
        Some(107_100),
        100,
    ));
    assert!(rejected_with(
        r,
        &Violation::PriceAboveCeiling {
            price: px(107_100),
            ceiling: px(107_000)
        }
    ));
    let r = e.submit(req(
        "A",
        "FPT",
        Side::Sell,
        OrderType::Lo,
        Some(92_900),
        100,
    ));
    assert!(rejected_with(
        r,
        &Violation::PriceBelowFloor {
            price: px(92_900),
            floor: px(93_000)
        }
    ));
    let r = e.submit(req(
        "A",
        "FPT",
        Side::Buy,
        OrderType::Lo,
        Some(100_050),
        100,
    ));
    assert!(rejected_with(
        r,
        &Violation::PriceOffTick {
            price: px(100_050),
            tick: px(100)
        }
    ));
    // Rejections are events with the order's id and leave nothing in the book.
    let ev = events_of(&mut e);
    assert_eq!(
        ev.iter()
            .filter(|x| matches!(x, Event::OrderRejected { .. }))
            .count(),
        3
    );
    assert!(e.instrument(sym("FPT")).unwrap().main.book.is_empty());
}

#[test]
fn one_account_may_not_enter_both_sides_in_the_same_call_auction() {
    let mut e = engine();
    at(&mut e, 9, 0);
    lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
    let r = e.submit(req(
        "A",
        "FPT",
        Side::Sell,
        OrderType::Lo,
        Some(101_000),
        100,
    ));
    assert!(rejected_with(
        r,
        &Violation::OppositeOrderInAuction {
            phase: Phase::OpeningAuction
        }
    ));
    // Carried over from continuous trading: allowed in the ATC.
    at(&mut e, 14, 0);
    lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    at(&mut e, 14, 31);
    assert!(
        e.submit(req(
            "B",
            "FPT",
            Side::Sell,
            OrderType::Lo,
            Some(101_000),
            100
        ))
        .is_ok()
    );
}

#[test]
fn buying_power_must_cover_fees_and_max_buy_qty_agrees() {
    let mut e = engine();
    e.open_account(
        acct("P"),
        market::InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::new(10_015_000),
    )
    .unwrap();
    e.open_account(
        acct("Q"),
        market::InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::new(10_014_999),
    )
    .unwrap();
    at(&mut e, 10, 0);
    let q = |e: &Engine, a: &str| {
        e.max_buy_qty(&acct(a), sym("FPT"), Board::Main, Some(px(100_000)))
            .unwrap()
            .units()
    };
    assert_eq!(q(&e, "P"), 100);
    assert_eq!(q(&e, "Q"), 0);
    assert_eq!(
        e.max_buy_qty(&acct("Q"), sym("FPT"), Board::OddLot, Some(px(100_000)))
            .unwrap()
            .units(),
        99
    );
    let r = e.submit(req(
        "Q",
        "FPT",
        Side::Buy,
        OrderType::Lo,
        Some(100_000),
        100,
    ));
    assert!(matches!(
        r,
        Err(Error::Rejected {
            reason: RejectReason::InsufficientBuyingPower { .. },
            ..
        })
    ));
    lo(&mut e, "P", "FPT", Side::Buy, 100_000, 100);
    assert_eq!(e.buying_power(&acct("P")).unwrap(), Vnd::ZERO);
    // 10bn at 93,000 + 0.15%: 107,300 shares; 100bn would be capped at 500,000 (§6).
    let max_a = |e: &Engine| {
        e.max_buy_qty(&acct("A"), sym("FPT"), Board::Main, Some(px(93_000)))
            .unwrap()
            .units()
    };
    assert_eq!(max_a(&e), 107_300);
    e.deposit(&acct("A"), Vnd::new(90_000_000_000)).unwrap();
    assert_eq!(max_a(&e), 500_000);
}

#[test]
fn halted_instruments_take_no_orders_and_skip_their_auction() {
    let mut e = engine();
    at(&mut e, 10, 0);
    e.set_halted(sym("FPT"), true).unwrap();
    let r = e.submit(req(
        "A",
        "FPT",
        Side::Buy,
        OrderType::Lo,
        Some(100_000),
        100,
    ));
    assert!(r.is_err());
    e.set_halted(sym("FPT"), false).unwrap();
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.phase,
        Phase::Continuous
    );
}

#[test]
fn foreign_buys_reserve_room_at_entry_and_release_it_on_cancel() {
    let mut e = engine();
    let rules = MarketRules::default();
    let mut l = listing(
        &rules,
        "VCB",
        market::Exchange::Hose,
        InstrumentKind::Stock,
        60_000,
    );
    l.foreign_room = Some(ForeignRoom {
        total: Quantity::new(10_000),
        current: Quantity::new(1_000),
    });
    e.list(l).unwrap();
    let foreign = market::InvestorProfile {
        residency: market::investor::Residency::Foreign,
        ..market::InvestorProfile::DOMESTIC_INDIVIDUAL
    };
    e.open_account(acct("F"), foreign, Vnd::new(CASH)).unwrap();
    at(&mut e, 10, 0);
    let o = lo(&mut e, "F", "VCB", Side::Buy, 60_000, 800);
    let room = |e: &Engine| {
        e.instrument(sym("VCB"))
            .unwrap()
            .foreign_room
            .unwrap()
            .current
            .units()
    };
    assert_eq!(room(&e), 200);
    assert!(
        e.submit(req("F", "VCB", Side::Buy, OrderType::Lo, Some(60_000), 300))
            .is_err()
    );
    e.cancel(o).unwrap();
    assert_eq!(room(&e), 1_000);
}
