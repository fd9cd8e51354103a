use market::SecurityStatus;
use time::macros::datetime;

use super::*;
use crate::types::OrderRequest;

const CASH: i64 = 10_000_000_000;

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn px(u: i64) -> Price {
    Price::new(u).unwrap()
}

fn acct(s: &str) -> AccountId {
    AccountId::new(s)
}

fn listing(
    rules: &MarketRules,
    s: &str,
    ex: market::Exchange,
    kind: InstrumentKind,
    r: i64,
) -> Listing {
    Listing {
        security: Security {
            symbol: sym(s),
            exchange: ex,
            kind,
            status: SecurityStatus::Normal,
            limits: Some(
                rules
                    .price_limits(ex, kind, px(r), LimitCase::Normal)
                    .unwrap(),
            ),
            awaiting_first_match: false,
        },
        foreign_room: None,
    }
}

/// HOSE `FPT` (ref 100,000: 93,000..107,000, tick 100), HNX `SHS` (ref 20,000:
/// 18,000..22,000), UPCoM `BSR` (ref 20,000), future `VN30F2506` (1,300.0 points);
/// accounts A, B, C with 10bn VND and 100,000 settled shares of each stock.
fn engine_with(config: EngineConfig) -> Engine {
    let rules = MarketRules::default();
    let cal = rules.calendar().unwrap();
    let mut e = Engine::new(rules.clone(), cal, config);
    use market::Exchange::*;
    e.list(listing(&rules, "FPT", Hose, InstrumentKind::Stock, 100_000))
        .unwrap();
    e.list(listing(&rules, "SHS", Hnx, InstrumentKind::Stock, 20_000))
        .unwrap();
    e.list(listing(&rules, "BSR", Upcom, InstrumentKind::Stock, 20_000))
        .unwrap();
    e.list(listing(
        &rules,
        "VN30F2506",
        HnxDeriv,
        InstrumentKind::IndexFuture,
        13_000,
    ))
    .unwrap();
    for a in ["A", "B", "C"] {
        e.open_account(
            acct(a),
            market::InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::new(CASH),
        )
        .unwrap();
        for s in ["FPT", "SHS", "BSR"] {
            e.seed_position(&acct(a), sym(s), Quantity::new(100_000), Vnd::ZERO)
                .unwrap();
        }
    }
    e
}

fn engine() -> Engine {
    engine_with(EngineConfig::default())
}

/// 2 June 2025 (a Monday) at hh:mm, Vietnam time.
fn at(e: &mut Engine, h: u8, m: u8) {
    let t = datetime!(2025-06-02 00:00 +7)
        .replace_hour(h)
        .unwrap()
        .replace_minute(m)
        .unwrap();
    e.advance_to(t).unwrap();
}

fn req(a: &str, s: &str, side: Side, t: OrderType, price: Option<i64>, q: u64) -> OrderRequest {
    OrderRequest {
        account: acct(a),
        symbol: sym(s),
        board: Board::Main,
        side,
        order_type: t,
        price: price.map(px),
        quantity: Quantity::new(q),
    }
}

fn lo(e: &mut Engine, a: &str, s: &str, side: Side, price: i64, q: u64) -> OrderId {
    e.submit(req(a, s, side, OrderType::Lo, Some(price), q))
        .unwrap()
}

fn trades(events: &[EventRecord]) -> Vec<(u64, u64, i64, u64)> {
    events
        .iter()
        .filter_map(|r| {
            if let Event::Trade(t) = &r.event {
                Some((
                    t.buy_order.0,
                    t.sell_order.0,
                    t.price.units(),
                    t.quantity.units(),
                ))
            } else {
                None
            }
        })
        .collect()
}

fn status(e: &Engine, id: OrderId) -> OrderStatus {
    e.order(id).unwrap().status
}

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

fn events_of(e: &mut Engine) -> Vec<Event> {
    e.drain_events().into_iter().map(|r| r.event).collect()
}

fn rejected_with(r: Result<OrderId, Error>, v: &Violation) -> bool {
    match r {
        Err(Error::Rejected {
            reason: RejectReason::Rules { violations },
            ..
        }) => violations.contains(v),
        Ok(_) | Err(_) => false,
    }
}

#[test]
fn depth_aggregates_levels_best_first_and_stops_at_the_limit() {
    let mut e = engine();
    at(&mut e, 10, 0);
    for i in 0..12 {
        lo(&mut e, "A", "FPT", Side::Buy, 99_000 - i * 100, 100);
        lo(&mut e, "A", "FPT", Side::Buy, 99_000 - i * 100, 200);
    }
    lo(&mut e, "B", "FPT", Side::Sell, 100_000, 300);
    let d = e.depth(sym("FPT"), Board::Main, 10).unwrap();
    assert_eq!(d.bids.len(), 10);
    assert_eq!(d.bids[0].price, px(99_000));
    assert_eq!(d.bids[0].quantity, Quantity::new(300));
    assert_eq!(d.bids[0].orders, 2);
    assert_eq!(d.bids[9].price, px(98_100));
    assert_eq!(d.asks.len(), 1);
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
fn quantity_decrease_keeps_priority_price_change_and_increase_lose_it() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let a1 = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 300);
    let b1 = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    assert_eq!(
        e.amend(a1, Amendment::Quantity(Quantity::new(200)))
            .unwrap(),
        Priority::Kept
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 100);
    assert_eq!(e.order(a1).unwrap().filled.units(), 100, "A still first");
    assert_eq!(
        e.amend(a1, Amendment::Quantity(Quantity::new(300)))
            .unwrap(),
        Priority::Lost
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 100);
    assert_eq!(status(&e, b1), OrderStatus::Filled, "B moved ahead of A");
    let b2 = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    assert_eq!(
        e.amend(a1, Amendment::Price(px(98_900))).unwrap(),
        Priority::Lost
    );
    assert_eq!(
        e.amend(a1, Amendment::Price(px(99_000))).unwrap(),
        Priority::Lost
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 100);
    assert_eq!(
        status(&e, b2),
        OrderStatus::Filled,
        "price change re-queues A"
    );
}

#[test]
fn amending_to_a_crossing_price_matches_at_once() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    let b = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    e.amend(b, Amendment::Price(px(100_000))).unwrap();
    assert_eq!(status(&e, b), OrderStatus::Filled);
}

#[test]
fn amendments_must_pass_the_band_and_below_filled_is_refused() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let b = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 200);
    lo(&mut e, "A", "FPT", Side::Sell, 99_000, 100);
    assert!(matches!(
        e.amend(b, Amendment::Price(px(108_000))),
        Err(Error::ChangeRefused {
            reason: ChangeRejection::Rules { .. },
            ..
        })
    ));
    assert!(matches!(
        e.amend(b, Amendment::Quantity(Quantity::new(100))),
        Err(Error::ChangeRefused {
            reason: ChangeRejection::Window { .. },
            ..
        })
    ));
}

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
fn cancel_releases_holds_and_is_blocked_in_call_auctions() {
    let mut e = engine();
    at(&mut e, 9, 5);
    let ato = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
    assert!(matches!(
        e.cancel(ato),
        Err(Error::ChangeRefused {
            reason: ChangeRejection::Window { .. },
            ..
        })
    ));
    at(&mut e, 9, 20);
    let bp_before = e.buying_power(&acct("A")).unwrap();
    e.cancel(ato).unwrap();
    let bp_after = e.buying_power(&acct("A")).unwrap();
    assert_eq!(bp_after, Vnd::new(CASH));
    assert!(bp_after > bp_before);
    assert!(e.cancel(ato).is_err(), "already cancelled");
}

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
fn max_sell_qty_splits_round_and_odd_lots() {
    let mut e = engine();
    e.seed_position(&acct("A"), sym("FPT"), Quantity::new(50), Vnd::ZERO)
        .unwrap();
    at(&mut e, 10, 0);
    let m = |b| {
        e.max_sell_qty(&acct("A"), sym("FPT"), b, None)
            .unwrap()
            .units()
    };
    assert_eq!(m(Board::Main), 100_000);
    assert_eq!(m(Board::OddLot), 50);
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
fn put_through_executes_without_matching_and_leaves_the_last_price() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let small = e.put_through(PutThroughDeal {
        buyer: acct("B"),
        seller: acct("A"),
        symbol: sym("FPT"),
        price: px(100_001),
        quantity: Quantity::new(10_000),
    });
    assert!(small.is_err(), "below the HOSE minimum of 20,000");
    e.put_through(PutThroughDeal {
        buyer: acct("B"),
        seller: acct("A"),
        symbol: sym("FPT"),
        price: px(100_001),
        quantity: Quantity::new(20_001),
    })
    .unwrap();
    let inst = e.instrument(sym("FPT")).unwrap();
    assert_eq!(inst.put_through.volume, Quantity::new(20_001));
    assert_eq!(inst.main.last_price, None);
    let b = e.account(&acct("B")).unwrap();
    assert_eq!(
        b.positions.get(&sym("FPT")).unwrap().total(),
        Quantity::new(120_001)
    );
    at(&mut e, 12, 0);
    assert!(
        e.put_through(PutThroughDeal {
            buyer: acct("B"),
            seller: acct("A"),
            symbol: sym("FPT"),
            price: px(100_000),
            quantity: Quantity::new(20_000),
        })
        .is_err(),
        "no put-through in the break"
    );
}

fn restricted_engine() -> Engine {
    let mut e = engine();
    let rules = MarketRules::default();
    let mut l = listing(
        &rules,
        "ROS",
        market::Exchange::Hose,
        InstrumentKind::Stock,
        5_000,
    );
    l.security.status = SecurityStatus::Restricted;
    e.list(l).unwrap();
    for a in ["A", "B"] {
        e.seed_position(&acct(a), sym("ROS"), Quantity::new(10_000), Vnd::ZERO)
            .unwrap();
    }
    e
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

#[test]
fn time_may_not_go_backwards() {
    let mut e = engine();
    at(&mut e, 10, 0);
    assert!(matches!(
        e.advance_to(datetime!(2025-06-02 09:00 +7)),
        Err(Error::TimeWentBackwards { .. })
    ));
}

fn script(e: &mut Engine) -> Vec<EventRecord> {
    at(e, 9, 0);
    lo(e, "A", "FPT", Side::Sell, 100_000, 300);
    e.submit(req("B", "FPT", Side::Buy, OrderType::Ato, None, 200))
        .unwrap();
    at(e, 9, 30);
    lo(e, "C", "FPT", Side::Buy, 100_100, 200);
    let _ = e.submit(req("C", "FPT", Side::Buy, OrderType::Mtl, None, 100));
    at(e, 14, 31);
    e.submit(req("A", "FPT", Side::Sell, OrderType::Atc, None, 100))
        .unwrap();
    e.advance_to(datetime!(2025-06-03 10:00 +7)).unwrap();
    e.drain_events()
}

#[test]
fn same_inputs_give_the_same_events() {
    let a = script(&mut engine());
    let b = script(&mut engine());
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn a_restored_snapshot_continues_exactly_like_the_original() {
    let mut e = engine();
    at(&mut e, 9, 5);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 300);
    e.submit(req("B", "FPT", Side::Buy, OrderType::Ato, None, 200))
        .unwrap();
    lo(&mut e, "C", "SHS", Side::Buy, 19_000, 100);
    let text = serde_json::to_string(e.state()).unwrap();
    let state: EngineState = serde_json::from_str(&text).unwrap();
    let rules = MarketRules::default();
    let mut r = Engine::from_state(rules.clone(), rules.calendar().unwrap(), state);
    assert_eq!(r.state(), e.state());
    for x in [&mut e, &mut r] {
        at(x, 10, 0);
        lo(x, "C", "FPT", Side::Buy, 100_000, 100);
    }
    assert_eq!(e.drain_events(), r.drain_events());
    assert_eq!(e.state(), r.state());
}

#[test]
fn only_final_orders_can_be_forgotten_and_ids_are_never_reused() {
    let mut e = engine();
    at(&mut e, 9, 20);
    let resting = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
    assert!(matches!(e.forget(resting), Err(Error::StillWorking(id)) if id == resting));
    e.cancel(resting).unwrap();
    let forgotten = e.forget(resting).unwrap();
    assert_eq!(forgotten.id, resting);
    assert!(e.order(resting).is_none());
    assert!(e.orders().all(|o| o.id != resting));
    assert!(matches!(e.forget(resting), Err(Error::UnknownOrder(_))));
    let next = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
    assert!(next > resting, "a forgotten id is not handed out again");

    // The snapshot no longer carries it, and a restored engine keeps counting from there.
    let json = serde_json::to_string(e.state()).unwrap();
    let state: EngineState = serde_json::from_str(&json).unwrap();
    let calendar = e.rules().calendar().unwrap();
    let mut restored = Engine::from_state(e.rules().clone(), calendar, state);
    assert!(restored.order(resting).is_none());
    assert_eq!(
        restored.order(next).map(|o| o.status),
        Some(OrderStatus::Queued)
    );
    let after = restored
        .submit(req("A", "FPT", Side::Buy, OrderType::Lo, Some(99_000), 100))
        .unwrap();
    assert!(after > next);
}
