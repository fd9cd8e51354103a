//! Properties of continuous matching over random order flow (reference §3.4 price-time
//! priority, §5 bands, §8 fees): no trade outside the band, the book is never crossed,
//! fills take the opposite side strictly in priority order (FIFO within a level),
//! bought = sold, and money is conserved up to fees and tax.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use market::limits::LimitCase;
use market::order::Amendment;
use market::{
    Board, Exchange, InstrumentKind, InvestorProfile, MarketRules, OrderType, Price, Quantity,
    Security, SecurityStatus, Side, Symbol, Vnd,
};
use matching::{
    AccountId, Engine, EngineConfig, Event, Listing, OrderId, OrderRequest, SelfTradePrevention,
};
use proptest::prelude::*;
use time::macros::datetime;

const ACCOUNTS: [&str; 4] = ["A", "B", "C", "D"];
const CASH: i64 = 50_000_000_000;
const SHARES: u64 = 1_000_000;

#[derive(Clone, Debug)]
enum Op {
    Lo {
        acct: usize,
        buy: bool,
        tick: i64,
        lots: u64,
    },
    Mtl {
        acct: usize,
        buy: bool,
        lots: u64,
    },
    Cancel(usize),
    AmendPrice(usize, i64),
    AmendQty(usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4usize, any::<bool>(), -30i64..30, 1u64..10)
            .prop_map(|(acct, buy, tick, lots)| Op::Lo { acct, buy, tick, lots }),
        1 => (0..4usize, any::<bool>(), 1u64..10).prop_map(|(acct, buy, lots)| Op::Mtl { acct, buy, lots }),
        2 => (0..500usize).prop_map(Op::Cancel),
        1 => (0..500usize, -30i64..30).prop_map(|(i, t)| Op::AmendPrice(i, t)),
        1 => (0..500usize, 1u64..10).prop_map(|(i, l)| Op::AmendQty(i, l)),
    ]
}

fn sym() -> Symbol {
    Symbol::parse("FPT").unwrap()
}

fn setup(stp: SelfTradePrevention) -> Engine {
    let rules = MarketRules::default();
    let cal = rules.calendar().unwrap();
    let mut e = Engine::new(
        rules.clone(),
        cal,
        EngineConfig {
            self_trade: stp,
            ..EngineConfig::default()
        },
    );
    let limits = rules
        .price_limits(
            Exchange::Hose,
            InstrumentKind::Stock,
            Price::new(100_000).unwrap(),
            LimitCase::Normal,
        )
        .unwrap();
    e.list(Listing {
        security: Security {
            symbol: sym(),
            exchange: Exchange::Hose,
            kind: InstrumentKind::Stock,
            status: SecurityStatus::Normal,
            limits: Some(limits),
            awaiting_first_match: false,
        },
        foreign_room: None,
    })
    .unwrap();
    for a in ACCOUNTS {
        let id = AccountId::new(a);
        e.open_account(
            id.clone(),
            InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::new(CASH),
        )
        .unwrap();
        e.seed_position(&id, sym(), Quantity::new(SHARES), Vnd::ZERO)
            .unwrap();
    }
    e.advance_to(datetime!(2025-06-02 10:00 +7)).unwrap();
    e
}

fn money(e: &Engine) -> i64 {
    e.accounts()
        .map(|a| {
            a.cash.amount()
                + a.receivable_total().unwrap().amount()
                + a.fees_paid.amount()
                + a.tax_paid.amount()
        })
        .sum()
}

fn shares(e: &Engine) -> u64 {
    e.accounts()
        .map(|a| a.positions.get(&sym()).map_or(0, |p| p.total().units()))
        .sum()
}

fn run(ops: Vec<Op>, stp: SelfTradePrevention) -> Result<(), TestCaseError> {
    let mut e = setup(stp);
    let money0 = money(&e);
    let (mut bought, mut sold) = (0u64, 0u64);
    let mut ids: Vec<OrderId> = Vec::new();
    for op in ops {
        // Priority queue of the side an incoming order of each side would hit.
        let queue = |e: &Engine, side: Side| -> Vec<OrderId> {
            e.instrument(sym())
                .unwrap()
                .main
                .book
                .priced(side)
                .map(|x| x.order)
                .collect()
        };
        let (incoming_side, before) = match &op {
            Op::Lo { buy, .. } | Op::Mtl { buy, .. } => {
                let s = if *buy { Side::Buy } else { Side::Sell };
                let opp = if *buy { Side::Sell } else { Side::Buy };
                (Some(s), queue(&e, opp))
            }
            Op::Cancel(_) | Op::AmendPrice(..) | Op::AmendQty(..) => (None, Vec::new()),
        };
        let result = match op {
            Op::Lo {
                acct,
                buy,
                tick,
                lots,
            } => e
                .submit(OrderRequest {
                    account: AccountId::new(ACCOUNTS[acct]),
                    symbol: sym(),
                    board: Board::Main,
                    side: if buy { Side::Buy } else { Side::Sell },
                    order_type: OrderType::Lo,
                    price: Price::new(100_000 + tick * 100).ok(),
                    quantity: Quantity::new(lots * 100),
                })
                .map(|id| ids.push(id)),
            Op::Mtl { acct, buy, lots } => e
                .submit(OrderRequest {
                    account: AccountId::new(ACCOUNTS[acct]),
                    symbol: sym(),
                    board: Board::Main,
                    side: if buy { Side::Buy } else { Side::Sell },
                    order_type: OrderType::Mtl,
                    price: None,
                    quantity: Quantity::new(lots * 100),
                })
                .map(|id| ids.push(id)),
            Op::Cancel(i) if !ids.is_empty() => e.cancel(ids[i % ids.len()]),
            Op::AmendPrice(i, t) if !ids.is_empty() => e
                .amend(
                    ids[i % ids.len()],
                    Amendment::Price(Price::new(100_000 + t * 100).unwrap()),
                )
                .map(|_| ()),
            Op::AmendQty(i, l) if !ids.is_empty() => e
                .amend(
                    ids[i % ids.len()],
                    Amendment::Quantity(Quantity::new(l * 100)),
                )
                .map(|_| ()),
            Op::Cancel(_) | Op::AmendPrice(..) | Op::AmendQty(..) => Ok(()),
        };
        // Rejections are legitimate (e.g. MTL into an empty book, amend of a filled order).
        let _ = result;
        let mut hit: Vec<OrderId> = Vec::new();
        for r in e.drain_events() {
            match r.event {
                Event::Trade(t) => {
                    prop_assert!(t.price >= Price::new(93_000).unwrap());
                    prop_assert!(t.price <= Price::new(107_000).unwrap());
                    if let Some(side) = incoming_side {
                        prop_assert_eq!(t.aggressor, Some(side));
                        let resting = match side {
                            Side::Buy => t.sell_order,
                            Side::Sell => t.buy_order,
                        };
                        if hit.last() != Some(&resting) {
                            hit.push(resting);
                        }
                    }
                }
                Event::OrderFilled(f) => match f.side {
                    Side::Buy => bought += f.quantity.units(),
                    Side::Sell => sold += f.quantity.units(),
                },
                Event::OrderAccepted { .. }
                | Event::OrderRejected { .. }
                | Event::OrderAmended { .. }
                | Event::AmendRejected { .. }
                | Event::CancelRejected { .. }
                | Event::OrderCancelled { .. }
                | Event::MtlConverted { .. }
                | Event::OrderExpired { .. }
                | Event::PhaseChanged { .. }
                | Event::AuctionUncrossed { .. }
                | Event::ClosingPrice { .. }
                | Event::ReferenceRolled { .. } => {}
            }
        }
        // Price-time priority: the resting orders hit are a prefix of the queue, in order
        // (with CancelResting, self-trade cancellations may be skipped in between).
        if stp != SelfTradePrevention::CancelResting {
            prop_assert!(hit.len() <= before.len());
            prop_assert_eq!(&before[..hit.len()], &hit[..]);
        } else {
            let mut pos = 0usize;
            for h in &hit {
                let found = before[pos..].iter().position(|x| x == h);
                prop_assert!(found.is_some());
                pos += found.unwrap_or(0) + 1;
            }
        }
        let d = e.depth(sym(), Board::Main, 1).unwrap();
        if let (Some(b), Some(a)) = (d.bids.first(), d.asks.first()) {
            prop_assert!(b.price < a.price, "crossed book {:?} / {:?}", b, a);
        }
        prop_assert_eq!(bought, sold);
        prop_assert_eq!(money(&e), money0);
        prop_assert_eq!(shares(&e), SHARES * ACCOUNTS.len() as u64);
    }
    // Cancelling everything releases every hold.
    for id in ids {
        let _ = e.cancel(id);
    }
    for a in e.accounts() {
        prop_assert_eq!(a.held, Vnd::ZERO);
        prop_assert_eq!(
            a.positions.get(&sym()).map_or(0, |p| p.sell_hold.units()),
            0
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_continuous_matching_invariants(ops in prop::collection::vec(op(), 1..200)) {
        run(ops, SelfTradePrevention::CancelIncoming)?;
    }

    #[test]
    fn prop_invariants_hold_with_cancel_resting_prevention(ops in prop::collection::vec(op(), 1..120)) {
        run(ops, SelfTradePrevention::CancelResting)?;
    }

    #[test]
    fn prop_invariants_hold_without_prevention(ops in prop::collection::vec(op(), 1..120)) {
        run(ops, SelfTradePrevention::Off)?;
    }
}
