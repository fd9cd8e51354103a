use market::{Board, OrderType, Quantity, Side, Violation, Vnd};
use time::macros::datetime;

use crate::engine::test_support::{
    CASH, acct, at, engine, engine_with, events_of, lo, px, rejected_with, req, status, sym, trades,
};
use crate::engine::{EngineConfig, SelfTradePrevention};
use crate::types::{CancelReason, Event, OrderStatus};

#[test]
fn continuous_matching_is_price_then_time_at_the_resting_price() {
    let mut e = engine();
    at(&mut e, 9, 30);
    let s1 = lo(&mut e, "A", "FPT", Side::Sell, 101_000, 200);
    let s2 = lo(&mut e, "A", "FPT", Side::Sell, 100_500, 100);
    let s3 = lo(&mut e, "B", "FPT", Side::Sell, 100_500, 100);
    e.drain_events();
    let b = lo(&mut e, "C", "FPT", Side::Buy, 101_000, 300);
    let t = trades(&e.drain_events());
    // Best price first (100,500), earliest first within it, at the resting price.
    assert_eq!(
        t,
        vec![
            (b.0, s2.0, 100_500, 100),
            (b.0, s3.0, 100_500, 100),
            (b.0, s1.0, 101_000, 100)
        ]
    );
    assert_eq!(status(&e, s1), OrderStatus::PartiallyFilled);
    assert_eq!(status(&e, b), OrderStatus::Filled);
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.last_price,
        Some(px(101_000))
    );
}

#[test]
fn mtl_sweeps_then_converts_its_remainder_to_an_lo_one_tick_above_the_last_match() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_500, 100);
    lo(&mut e, "A", "FPT", Side::Sell, 100_600, 100);
    e.drain_events();
    let m = e
        .submit(req("C", "FPT", Side::Buy, OrderType::Mtl, None, 500))
        .unwrap();
    let ev = events_of(&mut e);
    assert!(ev.contains(&Event::MtlConverted {
        order: m,
        account: acct("C"),
        price: px(100_700)
    }));
    let o = e.order(m).unwrap();
    assert_eq!(
        (o.filled.units(), o.price, o.converted),
        (200, Some(px(100_700)), true)
    );
    let d = e.depth(sym("FPT"), Board::Main, 10).unwrap();
    assert_eq!(d.bids[0].price, px(100_700));
    assert_eq!(d.bids[0].quantity, Quantity::new(300));
    // The hold now funds 300 at 100,700 (+fees), not at the ceiling.
    let hold = e.account(&acct("C")).unwrap().hold_of(m);
    assert_eq!(hold, Vnd::new(300 * 100_700 + 300 * 100_700 * 15 / 10_000));
}

#[test]
fn mtl_that_last_matched_at_the_ceiling_converts_at_the_ceiling() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 107_000, 100);
    let m = e
        .submit(req("C", "FPT", Side::Buy, OrderType::Mtl, None, 200))
        .unwrap();
    assert_eq!(e.order(m).unwrap().price, Some(px(107_000)));
}

#[test]
fn market_orders_need_a_resting_opposite_order() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let r = e.submit(req("C", "FPT", Side::Buy, OrderType::Mtl, None, 100));
    assert!(rejected_with(
        r,
        &Violation::NoOppositeOrders {
            order_type: OrderType::Mtl
        }
    ));
}

#[test]
fn mok_fills_completely_or_is_cancelled_without_trading() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "SHS", Side::Sell, 20_100, 100);
    lo(&mut e, "B", "SHS", Side::Sell, 20_200, 100);
    e.drain_events();
    let k = e
        .submit(req("C", "SHS", Side::Buy, OrderType::Mok, None, 300))
        .unwrap();
    let ev = events_of(&mut e);
    assert!(ev.iter().all(|x| !matches!(x, Event::Trade(_))));
    assert_eq!(status(&e, k), OrderStatus::Cancelled);
    let k2 = e
        .submit(req("C", "SHS", Side::Buy, OrderType::Mok, None, 200))
        .unwrap();
    assert_eq!(status(&e, k2), OrderStatus::Filled);
    assert_eq!(
        e.order(k2).unwrap().filled_value,
        Vnd::new(100 * 20_100 + 100 * 20_200)
    );
}

#[test]
fn mak_fills_what_it_can_and_cancels_the_rest() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "SHS", Side::Buy, 19_900, 100);
    e.drain_events();
    let k = e
        .submit(req("C", "SHS", Side::Sell, OrderType::Mak, None, 300))
        .unwrap();
    let ev = events_of(&mut e);
    assert!(ev.contains(&Event::OrderCancelled {
        order: k,
        account: acct("C"),
        symbol: sym("SHS"),
        cancelled: Quantity::new(200),
        filled: Quantity::new(100),
        reason: CancelReason::ImmediateOrCancel
    }));
    assert!(e.instrument(sym("SHS")).unwrap().main.book.is_empty());
}

#[test]
fn odd_lots_match_only_on_their_own_board() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    let mut odd = req("C", "FPT", Side::Buy, OrderType::Lo, Some(100_000), 50);
    odd.board = Board::OddLot;
    let b = e.submit(odd.clone()).unwrap();
    assert_eq!(status(&e, b), OrderStatus::Queued);
    let mut odd_sell = odd.clone();
    odd_sell.account = acct("B");
    odd_sell.side = Side::Sell;
    odd_sell.quantity = Quantity::new(30);
    e.submit(odd_sell).unwrap();
    let o = e.order(b).unwrap();
    assert_eq!(
        (o.status, o.filled.units()),
        (OrderStatus::PartiallyFilled, 30)
    );
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().odd_lot.volume,
        Quantity::new(30)
    );
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.volume,
        Quantity::ZERO
    );
    // 150 on the odd-lot board is too large; 150 on the main board is not a round lot.
    odd.quantity = Quantity::new(150);
    assert!(e.submit(odd).is_err());
}

#[test]
fn self_trade_prevention_cancels_the_incoming_order_by_default() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let s = lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    let b = lo(&mut e, "A", "FPT", Side::Buy, 100_000, 100);
    assert_eq!(status(&e, b), OrderStatus::Cancelled);
    assert_eq!(status(&e, s), OrderStatus::Queued);
    let mut e = engine_with(EngineConfig {
        self_trade: SelfTradePrevention::CancelResting,
        ..EngineConfig::default()
    });
    at(&mut e, 10, 0);
    let s = lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    let b = lo(&mut e, "A", "FPT", Side::Buy, 100_000, 100);
    assert_eq!(status(&e, s), OrderStatus::Cancelled);
    assert_eq!(status(&e, b), OrderStatus::Queued);
}

#[test]
fn bought_shares_become_sellable_at_t_plus_2_afternoon() {
    let mut e = engine();
    e.open_account(
        acct("D"),
        market::InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::new(CASH),
    )
    .unwrap();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 1_000);
    lo(&mut e, "D", "FPT", Side::Buy, 100_000, 1_000);
    assert_eq!(e.sellable(&acct("D"), sym("FPT")).unwrap(), Quantity::ZERO);
    let r = e.submit(req(
        "D",
        "FPT",
        Side::Sell,
        OrderType::Lo,
        Some(100_000),
        100,
    ));
    assert!(rejected_with(
        r,
        &Violation::InsufficientSellable {
            requested: Quantity::new(100),
            sellable: Quantity::ZERO
        }
    ));
    e.advance_to(datetime!(2025-06-04 11:00 +7)).unwrap();
    assert_eq!(
        e.sellable(&acct("D"), sym("FPT")).unwrap(),
        Quantity::ZERO,
        "T+2 morning"
    );
    e.advance_to(datetime!(2025-06-04 13:00 +7)).unwrap();
    assert_eq!(
        e.sellable(&acct("D"), sym("FPT")).unwrap(),
        Quantity::new(1_000)
    );
    let s = e
        .submit(req(
            "D",
            "FPT",
            Side::Sell,
            OrderType::Lo,
            Some(100_000),
            1_000,
        ))
        .unwrap();
    assert_eq!(
        e.sellable(&acct("D"), sym("FPT")).unwrap(),
        Quantity::ZERO,
        "held by the sell"
    );
    e.cancel(s).unwrap();
    assert_eq!(
        e.sellable(&acct("D"), sym("FPT")).unwrap(),
        Quantity::new(1_000)
    );
}

#[test]
fn fills_charge_brokerage_and_the_sale_tax_and_proceeds_arrive_at_t_plus_2() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 1_000);
    lo(&mut e, "B", "FPT", Side::Buy, 100_000, 1_000);
    let b = e.account(&acct("B")).unwrap();
    // 100,000,000 gross + 0.15% brokerage.
    assert_eq!(b.cash, Vnd::new(CASH - 100_000_000 - 150_000));
    assert_eq!(b.fees_paid, Vnd::new(150_000));
    let a = e.account(&acct("A")).unwrap();
    assert_eq!(
        a.cash,
        Vnd::new(CASH),
        "sale cash not usable before T+2 13:00"
    );
    assert_eq!(
        a.receivable_total().unwrap(),
        Vnd::new(100_000_000 - 150_000 - 100_000)
    );
    assert_eq!(a.tax_paid, Vnd::new(100_000));
    e.advance_to(datetime!(2025-06-04 13:00 +7)).unwrap();
    let a = e.account(&acct("A")).unwrap();
    assert_eq!(a.cash, Vnd::new(CASH + 100_000_000 - 250_000));
    assert_eq!(a.receivable_total().unwrap(), Vnd::ZERO);
}
