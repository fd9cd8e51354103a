use market::{Board, OrderType, Phase, Quantity, Side, Violation, Vnd};

use crate::engine::test_support::{
    CASH, acct, at, engine, events_of, lo, px, rejected_with, req, restricted_engine, status, sym,
    trades,
};
use crate::error::Error;
use crate::types::{CancelReason, ChangeRejection, Event, OrderStatus};

#[test]
fn opening_auction_uncrosses_at_one_price_and_cancels_ato_leftovers() {
    let mut e = engine();
    at(&mut e, 9, 0);
    let s1 = lo(&mut e, "A", "FPT", Side::Sell, 100_000, 300);
    let b1 = lo(&mut e, "B", "FPT", Side::Buy, 100_500, 100);
    let ato_b = e
        .submit(req("C", "FPT", Side::Buy, OrderType::Ato, None, 100))
        .unwrap();
    let lo_b = lo(&mut e, "C", "FPT", Side::Buy, 99_000, 100);
    assert!(
        trades(&e.drain_events()).is_empty(),
        "no matching during the call"
    );
    at(&mut e, 9, 15);
    let ev = e.drain_events();
    // Implied ATO buy = max(best bid 100,500 + 100, best ask 100,000, ref 100,000) = 100,600.
    // Volume: at 100,000 buys 200 (100,500 LO + ATO) vs sells 300 -> 200; max.
    let t = trades(&ev);
    assert_eq!(t.iter().map(|x| x.3).sum::<u64>(), 200);
    assert!(t.iter().all(|x| x.2 == 100_000));
    assert!(ev.iter().any(|r| r.event
        == Event::AuctionUncrossed {
            symbol: sym("FPT"),
            board: Board::Main,
            phase: Phase::OpeningAuction,
            price: Some(px(100_000)),
            volume: Quantity::new(200)
        }));
    assert_eq!(status(&e, b1), OrderStatus::Filled);
    assert_eq!(status(&e, ato_b), OrderStatus::Filled);
    assert_eq!(e.order(s1).unwrap().remaining().units(), 100);
    assert_eq!(
        status(&e, lo_b),
        OrderStatus::Queued,
        "LO carries into continuous"
    );
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.phase,
        Phase::Continuous
    );
}

#[test]
fn unmatched_ato_is_cancelled_after_the_auction() {
    let mut e = engine();
    at(&mut e, 9, 0);
    let a = e
        .submit(req("C", "FPT", Side::Buy, OrderType::Ato, None, 100))
        .unwrap();
    at(&mut e, 9, 15);
    let ev = events_of(&mut e);
    assert!(ev.contains(&Event::OrderCancelled {
        order: a,
        account: acct("C"),
        symbol: sym("FPT"),
        cancelled: Quantity::new(100),
        filled: Quantity::ZERO,
        reason: CancelReason::AuctionRemainder
    }));
    assert_eq!(e.buying_power(&acct("C")).unwrap(), Vnd::new(CASH));
}

#[test]
fn closing_auction_fixes_the_close_and_day_orders_expire_after_it() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 101_000, 100);
    lo(&mut e, "B", "FPT", Side::Buy, 101_000, 100);
    let rest = lo(&mut e, "B", "FPT", Side::Buy, 95_000, 100);
    at(&mut e, 14, 35);
    let atc = e
        .submit(req("C", "FPT", Side::Buy, OrderType::Atc, None, 200))
        .unwrap();
    lo(&mut e, "A", "FPT", Side::Sell, 102_000, 100);
    at(&mut e, 14, 45);
    let inst = e.instrument(sym("FPT")).unwrap();
    assert_eq!(inst.closing_price, Some(px(102_000)));
    assert_eq!(e.order(atc).unwrap().filled.units(), 100);
    assert_eq!(
        status(&e, atc),
        OrderStatus::Cancelled,
        "ATC remainder cancelled"
    );
    assert_eq!(
        status(&e, rest),
        OrderStatus::Expired,
        "LO valid until the end of ATC"
    );
    assert!(e.instrument(sym("FPT")).unwrap().main.book.is_empty());
}

#[test]
fn no_atc_trade_means_the_last_continuous_trade_is_the_close() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 101_000, 100);
    lo(&mut e, "B", "FPT", Side::Buy, 101_000, 100);
    at(&mut e, 14, 46);
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().closing_price,
        Some(px(101_000))
    );
}

#[test]
fn hnx_plo_collects_then_matches_at_the_close_and_expires_at_three() {
    let mut e = engine();
    at(&mut e, 14, 40);
    let early = e.submit(req("C", "SHS", Side::Buy, OrderType::Plo, None, 100));
    assert!(early.is_err(), "PLO is not accepted in the ATC");
    lo(&mut e, "A", "SHS", Side::Sell, 20_500, 100);
    lo(&mut e, "B", "SHS", Side::Buy, 20_500, 100);
    at(&mut e, 14, 50);
    assert_eq!(
        e.instrument(sym("SHS")).unwrap().closing_price,
        Some(px(20_500))
    );
    let pb = e
        .submit(req("C", "SHS", Side::Buy, OrderType::Plo, None, 300))
        .unwrap();
    let ps = e
        .submit(req("A", "SHS", Side::Sell, OrderType::Plo, None, 100))
        .unwrap();
    assert_eq!(e.order(pb).unwrap().price, Some(px(20_500)));
    assert_eq!(
        status(&e, ps),
        OrderStatus::Queued,
        "collection: no matching"
    );
    assert!(e.cancel(pb).is_err(), "PLO cannot be cancelled");
    at(&mut e, 14, 55);
    assert_eq!(status(&e, ps), OrderStatus::Filled);
    let ps2 = e
        .submit(req("B", "SHS", Side::Sell, OrderType::Plo, None, 100))
        .unwrap();
    assert_eq!(
        status(&e, ps2),
        OrderStatus::Filled,
        "continuous PLO matching"
    );
    let inst = e.instrument(sym("SHS")).unwrap();
    assert_eq!(inst.main.last_price, Some(px(20_500)));
    assert_eq!(
        inst.closing_price,
        Some(px(20_500)),
        "PLO does not move the close"
    );
    at(&mut e, 15, 0);
    let o = e.order(pb).unwrap();
    assert_eq!((o.status, o.filled.units()), (OrderStatus::Expired, 200));
}

#[test]
fn plo_needs_a_closing_price() {
    let mut e = engine();
    at(&mut e, 14, 50);
    let r = e.submit(req("C", "SHS", Side::Buy, OrderType::Plo, None, 100));
    assert!(rejected_with(r, &Violation::NoClosingPrice));
}

#[test]
fn restricted_hose_stocks_trade_in_periodic_auctions_with_a_blackout() {
    let mut e = restricted_engine();
    at(&mut e, 9, 16);
    assert_eq!(
        e.instrument(sym("ROS")).unwrap().main.phase,
        Phase::PeriodicAuction(1)
    );
    let s = lo(&mut e, "A", "ROS", Side::Sell, 5_000, 200);
    lo(&mut e, "B", "ROS", Side::Buy, 5_100, 100);
    assert!(trades(&e.drain_events()).is_empty());
    at(&mut e, 9, 26);
    assert!(
        matches!(
            e.cancel(s),
            Err(Error::ChangeRefused {
                reason: ChangeRejection::Window { .. },
                ..
            })
        ),
        "last 5 minutes of the PCA"
    );
    at(&mut e, 9, 30);
    let ev = e.drain_events();
    // Volume 100 anywhere in 5,000..5,100; closest to the reference 5,000.
    assert_eq!(trades(&ev), vec![(s.0 + 1, s.0, 5_000, 100)]);
    assert_eq!(
        e.order(s).unwrap().remaining().units(),
        100,
        "LO stays for PCA2"
    );
    assert!(e.cancel(s).is_ok());
}
