use market::{Board, Exchange, InstrumentKind, MarketRules};
use proptest::prelude::*;

use super::*;

fn p(u: i64) -> Price {
    Price::new(u).unwrap()
}

fn o(id: u64, side: Side, limit: i64, qty: u64) -> AuctionOrder {
    AuctionOrder {
        order: OrderId(id),
        side,
        limit: p(limit),
        seq: id,
        quantity: Quantity::new(qty),
    }
}

const PLAIN: AuctionRules = AuctionRules {
    minimise_imbalance: false,
};

#[test]
fn price_maximises_matched_volume_and_fills_better_priced_orders_first() {
    // Cumulative: 10,300 -> min(300,150)=150; 10,400 -> min(300,250)=250; 10,500 -> 100.
    let book = [
        o(1, Side::Buy, 10_500, 100),
        o(2, Side::Buy, 10_400, 200),
        o(3, Side::Sell, 10_300, 150),
        o(4, Side::Sell, 10_400, 100),
    ];
    let u = discover(&book, p(10_000), &PLAIN).unwrap();
    assert_eq!((u.price, u.volume), (p(10_400), Quantity::new(250)));
    assert_eq!(u.imbalance, Quantity::new(50));
    let alloc = allocate(&book, u.price, u.volume);
    let q = |b, s| {
        alloc
            .iter()
            .filter(|a| a.buy == OrderId(b) && a.sell == OrderId(s))
            .map(|a| a.quantity.units())
            .sum::<u64>()
    };
    // The 10,500 buy and the 10,300 sell (better than the price) fill completely.
    assert_eq!(q(1, 3), 100);
    assert_eq!(q(2, 3), 50);
    assert_eq!(q(2, 4), 100);
    assert_eq!(alloc.len(), 3);
}

#[test]
fn volume_ties_go_to_the_price_closest_to_the_last_price() {
    let book = [o(1, Side::Buy, 10_500, 100), o(2, Side::Sell, 10_000, 100)];
    let at = |base| discover(&book, p(base), &PLAIN).map(|u| u.price.units());
    assert_eq!(
        at(10_200),
        Some(10_200),
        "the last price itself is in the range"
    );
    assert_eq!(at(9_000), Some(10_000));
    assert_eq!(at(11_000), Some(10_500));
}

#[test]
fn minimise_imbalance_is_an_optional_step_before_closeness() {
    // Volume 100 from 10,200 to 10,500; imbalance 100 at 10,200-10,300, 50 above.
    let book = [
        o(1, Side::Buy, 10_500, 100),
        o(2, Side::Buy, 10_300, 100),
        o(3, Side::Sell, 10_200, 100),
        o(4, Side::Sell, 10_400, 50),
    ];
    let plain = discover(&book, p(10_000), &PLAIN).unwrap();
    assert_eq!(plain.price, p(10_200));
    let with = discover(
        &book,
        p(10_000),
        &AuctionRules {
            minimise_imbalance: true,
        },
    )
    .unwrap();
    assert_eq!((with.price, with.imbalance), (p(10_400), Quantity::new(50)));
}

#[test]
fn no_cross_means_no_auction_price() {
    let book = [o(1, Side::Buy, 10_000, 100), o(2, Side::Sell, 10_100, 100)];
    assert_eq!(discover(&book, p(10_050), &PLAIN), None);
    assert_eq!(discover(&[], p(10_050), &PLAIN), None);
}

#[test]
fn earlier_ceiling_lo_keeps_priority_over_later_ato_at_the_same_limit() {
    // Reference §3.4: the ATO buy's implied limit equals the ceiling; time decides.
    let book = [
        o(1, Side::Buy, 21_400, 100),
        o(2, Side::Buy, 21_400, 100),
        o(3, Side::Sell, 21_000, 100),
    ];
    let u = discover(&book, p(20_000), &PLAIN).unwrap();
    let alloc = allocate(&book, u.price, u.volume);
    assert_eq!(alloc.len(), 1);
    assert_eq!(alloc[0].buy, OrderId(1));
}

fn hose_ticks() -> (
    impl Fn(Price) -> Option<Price>,
    impl Fn(Price) -> Option<Price>,
) {
    let rules = MarketRules::default();
    let r2 = rules.clone();
    (
        move |x| {
            rules
                .ticks
                .tick_up(Exchange::Hose, InstrumentKind::Stock, Board::Main, x)
        },
        move |x| {
            r2.ticks
                .tick_down(Exchange::Hose, InstrumentKind::Stock, Board::Main, x)
        },
    )
}

fn inputs(bid: Option<i64>, ask: Option<i64>, mb: u64, ms: u64) -> ImpliedInputs {
    // HOSE stock, reference 20,000: band ±7% -> 18,600 .. 21,400, tick 50.
    ImpliedInputs {
        best_bid: bid.map(p),
        best_ask: ask.map(p),
        last_or_reference: p(20_000),
        reference: p(20_000),
        ceiling: p(21_400),
        floor: p(18_600),
        market_buy: Quantity::new(mb),
        market_sell: Quantity::new(ms),
    }
}

#[test]
fn implied_ato_price_is_best_bid_plus_a_tick_but_not_below_best_ask_or_reference() {
    let (up, down) = hose_ticks();
    // buy = max(20,100 + 50, best ask 20,300, ref 20,000) = 20,300;
    // sell = min(20,300 - 50, best bid 20,100, ref 20,000) = 20,000.
    let (b, s) = implied_prices(&inputs(Some(20_100), Some(20_300), 100, 100), &up, &down);
    assert_eq!((b.units(), s.units()), (20_300, 20_000));
    // A bid at the ceiling: +1 tick is capped at the ceiling.
    let (b, _) = implied_prices(&inputs(Some(21_400), None, 100, 0), &up, &down);
    assert_eq!(b.units(), 21_400);
    // Only a low bid and no ask: buy = max(bid + tick, reference).
    let (b, s) = implied_prices(&inputs(Some(19_000), None, 100, 100), &up, &down);
    assert_eq!((b.units(), s.units()), (20_000, 19_000));
}

#[test]
fn with_only_market_orders_the_price_moves_one_tick_toward_the_heavier_side() {
    let (up, down) = hose_ticks();
    let at = |mb, ms| implied_prices(&inputs(None, None, mb, ms), &up, &down);
    assert_eq!(at(500, 200), (p(20_050), p(20_050)));
    assert_eq!(at(200, 500), (p(19_950), p(19_950)));
    assert_eq!(at(300, 300), (p(20_000), p(20_000)));
}

fn arb_orders() -> impl Strategy<Value = Vec<AuctionOrder>> {
    prop::collection::vec((any::<bool>(), 90i64..110, 1u64..20), 0..40).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (buy, lvl, q))| AuctionOrder {
                order: OrderId(i as u64),
                side: if buy { Side::Buy } else { Side::Sell },
                limit: p(lvl * 100),
                seq: i as u64,
                quantity: Quantity::new(q * 100),
            })
            .collect()
    })
}

fn volume_at(orders: &[AuctionOrder], price: Price) -> u64 {
    let b: u64 = orders
        .iter()
        .filter(|o| o.side == Side::Buy && o.limit >= price)
        .map(|o| o.quantity.units())
        .sum();
    let s: u64 = orders
        .iter()
        .filter(|o| o.side == Side::Sell && o.limit <= price)
        .map(|o| o.quantity.units())
        .sum();
    b.min(s)
}

proptest! {
    #[test]
    fn prop_auction_price_has_maximal_volume(orders in arb_orders(), base in 90i64..110) {
        let base = p(base * 100);
        let best = (8_000..=12_000)
            .step_by(100)
            .map(|x| volume_at(&orders, p(x)))
            .max()
            .unwrap_or(0);
        match discover(&orders, base, &PLAIN) {
            None => prop_assert_eq!(best, 0),
            Some(u) => {
                prop_assert_eq!(u.volume.units(), best);
                prop_assert_eq!(volume_at(&orders, u.price), best);
            }
        }
    }

    #[test]
    fn prop_allocation_matches_volume_and_respects_limits(orders in arb_orders(), base in 90i64..110) {
        if let Some(u) = discover(&orders, p(base * 100), &PLAIN) {
            let alloc = allocate(&orders, u.price, u.volume);
            let total: u64 = alloc.iter().map(|a| a.quantity.units()).sum();
            prop_assert_eq!(total, u.volume.units());
            for a in &alloc {
                let b = orders.iter().find(|o| o.order == a.buy).unwrap();
                let s = orders.iter().find(|o| o.order == a.sell).unwrap();
                prop_assert!(b.limit >= u.price && s.limit <= u.price);
            }
            for o in &orders {
                let got: u64 = alloc
                    .iter()
                    .filter(|a| a.buy == o.order || a.sell == o.order)
                    .map(|a| a.quantity.units())
                    .sum();
                prop_assert!(got <= o.quantity.units());
            }
        }
    }
}
