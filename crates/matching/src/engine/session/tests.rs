use market::order::Amendment;
use market::{Board, OrderType, Phase, Quantity, Side, Violation, Vnd};
use time::macros::datetime;

use crate::engine::test_support::{
    CASH, acct, at, engine, lo, px, rejected_with, req, status, sym,
};
use crate::error::Error;
use crate::types::{OrderStatus, PutThroughDeal};

#[test]
fn no_entry_amend_or_cancel_in_the_lunch_break_and_no_matching() {
    let mut e = engine();
    at(&mut e, 11, 0);
    let s = lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    at(&mut e, 12, 0);
    let r = e.submit(req(
        "B",
        "FPT",
        Side::Buy,
        OrderType::Lo,
        Some(100_000),
        100,
    ));
    assert!(rejected_with(
        r,
        &Violation::MarketNotOpen {
            board: Board::Main,
            phase: Phase::Break
        }
    ));
    assert!(e.cancel(s).is_err());
    assert!(e.amend(s, Amendment::Price(px(100_100))).is_err());
    at(&mut e, 13, 0);
    assert_eq!(
        status(&e, s),
        OrderStatus::Queued,
        "rests through the break"
    );
    lo(&mut e, "B", "FPT", Side::Buy, 100_000, 100);
    assert_eq!(status(&e, s), OrderStatus::Filled);
}

#[test]
fn day_end_expires_everything_and_rolls_the_reference_to_the_close() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 103_000, 100);
    lo(&mut e, "B", "FPT", Side::Buy, 103_000, 100);
    let u = lo(&mut e, "A", "BSR", Side::Sell, 21_000, 100);
    lo(&mut e, "B", "BSR", Side::Buy, 21_000, 100);
    lo(&mut e, "C", "BSR", Side::Sell, 20_000, 300);
    lo(&mut e, "B", "BSR", Side::Buy, 20_000, 100);
    let late = lo(&mut e, "B", "BSR", Side::Buy, 19_000, 100);
    at(&mut e, 14, 50);
    assert_eq!(
        status(&e, late),
        OrderStatus::Queued,
        "UPCoM trades until 15:00"
    );
    assert_eq!(status(&e, u), OrderStatus::Filled);
    e.advance_to(datetime!(2025-06-03 08:00 +7)).unwrap();
    assert_eq!(status(&e, late), OrderStatus::Expired);
    let lim = e.instrument(sym("FPT")).unwrap().security.limits.unwrap();
    assert_eq!(lim.reference, px(103_000));
    // UPCoM: VWAP of (21,000 x 100, 20,000 x 100) = 20,500.
    let lim = e.instrument(sym("BSR")).unwrap().security.limits.unwrap();
    assert_eq!(lim.reference, px(20_500));
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.volume,
        Quantity::ZERO
    );
}

#[test]
fn futures_open_at_0845_and_hold_initial_margin() {
    let mut e = engine();
    e.advance_to(datetime!(2025-06-02 08:50 +7)).unwrap();
    let f = "VN30F2506";
    lo(&mut e, "A", f, Side::Sell, 13_000, 2);
    e.submit(req("B", f, Side::Buy, OrderType::Ato, None, 1))
        .unwrap();
    at(&mut e, 9, 0);
    let b = e.account(&acct("B")).unwrap();
    let pos = b.futures.get(&sym(f)).unwrap();
    assert_eq!(pos.net, 1);
    assert_eq!(pos.margin, Vnd::new(22_100_000));
    let a = e.account(&acct("A")).unwrap();
    assert_eq!(a.futures.get(&sym(f)).unwrap().net, -1);
    // Futures fee: 4,000 broker + 2,700 exchange + PIT 0.1% x 130m x 17% / 2 = 11,050.
    assert_eq!(b.cash, Vnd::new(CASH - 4_000 - 2_700 - 11_050));
    assert_eq!(
        e.buying_power(&acct("B")).unwrap(),
        Vnd::new(CASH - 17_750 - 22_100_000)
    );
}

#[test]
fn time_may_not_go_backwards() {
    let mut e = engine();
    at(&mut e, 10, 0);
    assert!(matches!(
        e.advance_to(datetime!(2025-06-02 09:00 +7)),
        Err(Error::TimeWentBackwards { .. })
    ));
}

#[test]
fn the_upcom_reference_counts_round_lot_continuous_matches_only() {
    let mut e = engine();
    at(&mut e, 10, 0);
    // Round-lot continuous: 100 @ 21,000 and 300 @ 20,000 -> VWAP 20,250 -> 20,300 (tick 100).
    lo(&mut e, "A", "BSR", Side::Sell, 21_000, 100);
    lo(&mut e, "B", "BSR", Side::Buy, 21_000, 100);
    lo(&mut e, "A", "BSR", Side::Sell, 20_000, 300);
    lo(&mut e, "B", "BSR", Side::Buy, 20_000, 300);
    // An odd-lot match and a put-through deal far from it do not count (reference §5.3).
    let mut odd = req("A", "BSR", Side::Sell, OrderType::Lo, Some(22_000), 50);
    odd.board = Board::OddLot;
    e.submit(odd.clone()).unwrap();
    odd.account = acct("B");
    odd.side = Side::Buy;
    e.submit(odd).unwrap();
    e.put_through(PutThroughDeal {
        buyer: acct("C"),
        seller: acct("A"),
        symbol: sym("BSR"),
        price: px(18_000),
        quantity: Quantity::new(50_000),
    })
    .unwrap();
    let inst = e.instrument(sym("BSR")).unwrap();
    assert_eq!(inst.odd_lot.volume, Quantity::new(50));
    assert_eq!(inst.put_through.volume, Quantity::new(50_000));
    assert_eq!(inst.main.last_price, Some(px(20_000)));
    e.advance_to(datetime!(2025-06-03 08:00 +7)).unwrap();
    let lim = e.instrument(sym("BSR")).unwrap().security.limits.unwrap();
    assert_eq!(lim.reference, px(20_300), "the VWAP, not the close 20,000");
    // UPCoM's ±15% band around it, from `market`.
    assert_eq!((lim.floor, lim.ceiling), (px(17_300), px(23_300)));
}
