use super::*;
use crate::investor::{InvestorKind, Residency};
use crate::limits::LimitCase;
use crate::session::TimeOfDay;
use proptest::prelude::*;
use time::macros::date;

fn p(u: i64) -> Price {
    Price::new(u).unwrap()
}

fn hose_stock(reference: i64) -> Security {
    let rules = MarketRules::default();
    Security {
        symbol: Symbol::parse("FPT").unwrap(),
        exchange: Exchange::Hose,
        kind: InstrumentKind::Stock,
        status: SecurityStatus::Normal,
        limits: rules
            .price_limits(
                Exchange::Hose,
                InstrumentKind::Stock,
                p(reference),
                LimitCase::Normal,
            )
            .ok(),
        awaiting_first_match: false,
    }
}

fn future() -> Security {
    let rules = MarketRules::default();
    Security {
        symbol: Symbol::parse("41I1G6000").unwrap(),
        exchange: Exchange::HnxDeriv,
        kind: InstrumentKind::IndexFuture,
        status: SecurityStatus::Normal,
        limits: rules
            .price_limits(
                Exchange::HnxDeriv,
                InstrumentKind::IndexFuture,
                p(13_000),
                LimitCase::Normal,
            )
            .ok(),
        awaiting_first_match: false,
    }
}

/// Monday 2 June 2025 at `h:m`, in `phase`.
fn at(phase: Phase, h: u32, m: u32) -> SessionState {
    SessionState {
        date: date!(2025 - 06 - 02),
        time: TimeOfDay::hm(h, m),
        trading_day: true,
        phase,
        phase_end: None,
    }
}

fn lo(side: Side, price: i64, qty: u64) -> Order {
    Order {
        side,
        order_type: OrderType::Lo,
        board: Board::Main,
        price: Some(p(price)),
        quantity: Quantity::new(qty),
    }
}

fn check(order: &Order, sec: &Security, s: &SessionState) -> Result<(), Violations> {
    let rules = MarketRules::default();
    validate_order(
        order,
        sec,
        s,
        &OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL),
    )
}

fn errs(r: Result<(), Violations>) -> Vec<Violation> {
    r.err().map(|v| v.0).unwrap_or_default()
}

#[test]
fn a_plain_hose_limit_order_in_continuous_trading_is_valid() {
    let sec = hose_stock(49_000);
    assert_eq!(
        check(
            &lo(Side::Buy, 50_000, 1_000),
            &sec,
            &at(Phase::Continuous, 10, 0)
        ),
        Ok(())
    );
    // Exactly at ceiling and floor.
    assert_eq!(
        check(
            &lo(Side::Buy, 52_400, 100),
            &sec,
            &at(Phase::Continuous, 10, 0)
        ),
        Ok(())
    );
    assert_eq!(
        check(
            &lo(Side::Sell, 45_600, 100),
            &sec,
            &at(Phase::Continuous, 10, 0)
        ),
        Ok(())
    );
}

#[test]
fn every_violation_is_reported_with_its_numbers() {
    let sec = hose_stock(49_000);
    // Off tick (52,450 needs a 100 tick), above ceiling, not a round lot, over the maximum.
    let o = lo(Side::Buy, 52_450, 500_050);
    let v = errs(check(&o, &sec, &at(Phase::Continuous, 10, 0)));
    assert_eq!(
        v,
        vec![
            Violation::PriceOffTick {
                price: p(52_450),
                tick: p(100)
            },
            Violation::PriceAboveCeiling {
                price: p(52_450),
                ceiling: p(52_400)
            },
            Violation::NotRoundLot {
                quantity: Quantity::new(500_050),
                round_lot: 100
            },
            Violation::QuantityAboveMaximum {
                quantity: Quantity::new(500_050),
                max: 500_000
            },
        ]
    );
    let msg = Violations(v).to_string();
    assert!(msg.contains("52450") && msg.contains("500000"), "{msg}");
}

#[test]
fn band_edges_one_tick_outside_are_rejected() {
    let sec = hose_stock(49_000);
    let s = at(Phase::Continuous, 10, 0);
    assert_eq!(
        errs(check(&lo(Side::Buy, 52_500, 100), &sec, &s)),
        vec![Violation::PriceAboveCeiling {
            price: p(52_500),
            ceiling: p(52_400)
        }]
    );
    assert_eq!(
        errs(check(&lo(Side::Sell, 45_550, 100), &sec, &s)),
        vec![Violation::PriceBelowFloor {
            price: p(45_550),
            floor: p(45_600)
        }]
    );
}

#[test]
fn max_quantity_boundary_is_inclusive() {
    let sec = hose_stock(20_000);
    let s = at(Phase::Continuous, 10, 0);
    assert_eq!(check(&lo(Side::Buy, 20_000, 500_000), &sec, &s), Ok(()));
    assert!(
        errs(check(&lo(Side::Buy, 20_000, 500_100), &sec, &s)).contains(
            &Violation::QuantityAboveMaximum {
                quantity: Quantity::new(500_100),
                max: 500_000
            }
        )
    );
}

#[test]
fn session_and_order_type_matrix_is_enforced() {
    let sec = hose_stock(49_000);
    let mtl = Order {
        order_type: OrderType::Mtl,
        price: None,
        ..lo(Side::Buy, 1, 100)
    };
    assert_eq!(check(&mtl, &sec, &at(Phase::Continuous, 10, 0)), Ok(()));
    assert_eq!(
        errs(check(&mtl, &sec, &at(Phase::OpeningAuction, 9, 5))),
        vec![Violation::OrderTypeNotAccepted {
            order_type: OrderType::Mtl,
            exchange: Exchange::Hose,
            board: Board::Main,
            phase: Phase::OpeningAuction
        }]
    );
    assert_eq!(
        errs(check(
            &lo(Side::Buy, 50_000, 100),
            &sec,
            &at(Phase::Break, 12, 0)
        )),
        vec![Violation::MarketNotOpen {
            board: Board::Main,
            phase: Phase::Break
        }]
    );
    let ato = Order {
        order_type: OrderType::Ato,
        price: None,
        ..mtl
    };
    assert_eq!(check(&ato, &sec, &at(Phase::OpeningAuction, 9, 5)), Ok(()));
    let ato_with_price = Order {
        price: Some(p(50_000)),
        ..ato
    };
    assert_eq!(
        errs(check(
            &ato_with_price,
            &sec,
            &at(Phase::OpeningAuction, 9, 5)
        )),
        vec![Violation::PriceNotAllowed {
            order_type: OrderType::Ato
        }]
    );
    let lo_no_price = Order {
        price: None,
        ..lo(Side::Buy, 1, 100)
    };
    assert_eq!(
        errs(check(&lo_no_price, &sec, &at(Phase::Continuous, 10, 0))),
        vec![Violation::PriceRequired {
            order_type: OrderType::Lo
        }]
    );
}

#[test]
fn odd_lot_board_takes_1_to_99_lo_only() {
    let sec = hose_stock(49_000);
    let s = at(Phase::Continuous, 10, 0);
    let odd = |q| Order {
        board: Board::OddLot,
        ..lo(Side::Buy, 50_000, q)
    };
    assert_eq!(check(&odd(1), &sec, &s), Ok(()));
    assert_eq!(check(&odd(99), &sec, &s), Ok(()));
    assert_eq!(
        errs(check(&odd(100), &sec, &s)),
        vec![Violation::OddLotTooLarge {
            quantity: Quantity::new(100),
            max: 99
        }]
    );
    assert_eq!(
        errs(check(&odd(0), &sec, &s)),
        vec![Violation::ZeroQuantity]
    );
    let odd_mtl = Order {
        order_type: OrderType::Mtl,
        price: None,
        ..odd(50)
    };
    assert!(matches!(
        errs(check(&odd_mtl, &sec, &s)).as_slice(),
        [Violation::OrderTypeNotAccepted { .. }]
    ));
}

#[test]
fn put_through_has_minimum_no_tick_and_own_window() {
    let sec = hose_stock(49_000);
    let pt = |q, price| Order {
        board: Board::PutThrough,
        ..lo(Side::Buy, price, q)
    };
    let s = at(Phase::PutThrough, 10, 0);
    assert_eq!(check(&pt(20_000, 50_001), &sec, &s), Ok(()));
    // Not a round lot is fine; 19,999 is below the HOSE minimum.
    assert_eq!(
        errs(check(&pt(19_999, 50_001), &sec, &s)),
        vec![Violation::BelowPutThroughMinimum {
            quantity: Quantity::new(19_999),
            min: 20_000
        }]
    );
    assert_eq!(
        errs(check(&pt(20_000, 52_401), &sec, &s)),
        vec![Violation::PriceAboveCeiling {
            price: p(52_401),
            ceiling: p(52_400)
        }]
    );
    // Above the matching maximum is fine for put-through deals.
    assert_eq!(check(&pt(600_000, 50_000), &sec, &s), Ok(()));
    assert_eq!(
        check(
            &pt(20_000, 50_000),
            &sec,
            &at(Phase::PutThroughAfterHours, 14, 50)
        ),
        Ok(())
    );
}

#[test]
fn restricted_hose_stocks_only_trade_round_lots_in_call_auctions() {
    let sec = Security {
        status: SecurityStatus::Restricted,
        ..hose_stock(49_000)
    };
    assert_eq!(
        check(
            &lo(Side::Buy, 50_000, 100),
            &sec,
            &at(Phase::PeriodicAuction(3), 9, 50)
        ),
        Ok(())
    );
    assert_eq!(
        errs(check(
            &lo(Side::Buy, 50_000, 100),
            &sec,
            &at(Phase::Continuous, 10, 0)
        )),
        vec![Violation::RestrictedOutsideCallAuction {
            phase: Phase::Continuous
        }]
    );
    let odd = Order {
        board: Board::OddLot,
        ..lo(Side::Buy, 50_000, 10)
    };
    assert!(
        errs(check(&odd, &sec, &at(Phase::PeriodicAuction(3), 9, 50))).contains(
            &Violation::RestrictedRoundLotOnly {
                board: Board::OddLot
            }
        )
    );
}

#[test]
fn restricted_hnx_stocks_trade_fridays_only() {
    let rules = MarketRules::default();
    let sec = Security {
        exchange: Exchange::Hnx,
        status: SecurityStatus::Restricted,
        limits: rules
            .price_limits(
                Exchange::Hnx,
                InstrumentKind::Stock,
                p(20_000),
                LimitCase::Normal,
            )
            .ok(),
        ..hose_stock(20_000)
    };
    let monday = at(Phase::Continuous, 10, 0);
    let friday = SessionState {
        date: date!(2025 - 06 - 06),
        ..monday
    };
    assert_eq!(check(&lo(Side::Buy, 20_000, 100), &sec, &friday), Ok(()));
    assert_eq!(
        errs(check(&lo(Side::Buy, 20_000, 100), &sec, &monday)),
        vec![Violation::RestrictedWeekday {
            exchange: Exchange::Hnx,
            weekday: 1
        }]
    );
}

#[test]
fn suspended_and_delisted_securities_are_rejected() {
    for status in [SecurityStatus::Suspended, SecurityStatus::Delisted] {
        let sec = Security {
            status,
            ..hose_stock(49_000)
        };
        assert_eq!(
            errs(check(
                &lo(Side::Buy, 50_000, 100),
                &sec,
                &at(Phase::Continuous, 10, 0)
            )),
            vec![Violation::SecurityNotTradable { status }]
        );
    }
    for status in [SecurityStatus::Warning, SecurityStatus::Controlled] {
        let sec = Security {
            status,
            ..hose_stock(49_000)
        };
        assert_eq!(
            check(
                &lo(Side::Buy, 50_000, 100),
                &sec,
                &at(Phase::Continuous, 10, 0)
            ),
            Ok(())
        );
    }
}

#[test]
fn first_day_blocks_odd_lot_and_put_through_until_a_match() {
    let sec = Security {
        awaiting_first_match: true,
        ..hose_stock(49_000)
    };
    let odd = Order {
        board: Board::OddLot,
        ..lo(Side::Buy, 50_000, 10)
    };
    assert_eq!(
        errs(check(&odd, &sec, &at(Phase::Continuous, 10, 0))),
        vec![Violation::BlockedUntilFirstMatch {
            board: Board::OddLot
        }]
    );
    assert_eq!(
        check(
            &lo(Side::Buy, 50_000, 100),
            &sec,
            &at(Phase::Continuous, 10, 0)
        ),
        Ok(())
    );
}

#[test]
fn plo_needs_a_closing_price_and_the_plo_window() {
    let rules = MarketRules::default();
    let sec = Security {
        exchange: Exchange::Hnx,
        limits: rules
            .price_limits(
                Exchange::Hnx,
                InstrumentKind::Stock,
                p(20_000),
                LimitCase::Normal,
            )
            .ok(),
        ..hose_stock(20_000)
    };
    let plo = Order {
        order_type: OrderType::Plo,
        price: None,
        ..lo(Side::Buy, 1, 100)
    };
    let s = at(Phase::PloCollection, 14, 50);
    assert_eq!(check(&plo, &sec, &s), Ok(()));
    let mut ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);
    ctx.has_closing_price = false;
    assert_eq!(
        errs(validate_order(&plo, &sec, &s, &ctx)),
        vec![Violation::NoClosingPrice]
    );
    assert!(matches!(
        errs(check(&plo, &sec, &at(Phase::Continuous, 10, 0))).as_slice(),
        [Violation::OrderTypeNotAccepted { .. }]
    ));
}

#[test]
fn market_orders_need_a_resting_opposite_order() {
    let rules = MarketRules::default();
    let sec = hose_stock(49_000);
    let mut ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);
    ctx.opposite_side_empty = true;
    let s = at(Phase::Continuous, 10, 0);
    let mtl = Order {
        order_type: OrderType::Mtl,
        price: None,
        ..lo(Side::Buy, 1, 100)
    };
    assert_eq!(
        errs(validate_order(&mtl, &sec, &s, &ctx)),
        vec![Violation::NoOppositeOrders {
            order_type: OrderType::Mtl
        }]
    );
    // A limit order may rest on an empty book.
    assert_eq!(
        validate_order(&lo(Side::Buy, 50_000, 100), &sec, &s, &ctx),
        Ok(())
    );
}

#[test]
fn opposite_orders_in_the_same_call_auction_are_rejected() {
    let rules = MarketRules::default();
    let sec = hose_stock(49_000);
    let mut ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);
    ctx.opposite_order_in_auction = true;
    let o = lo(Side::Sell, 50_000, 100);
    assert_eq!(
        errs(validate_order(
            &o,
            &sec,
            &at(Phase::ClosingAuction, 14, 35),
            &ctx
        )),
        vec![Violation::OppositeOrderInAuction {
            phase: Phase::ClosingAuction
        }]
    );
    assert_eq!(
        validate_order(&o, &sec, &at(Phase::Continuous, 10, 0), &ctx),
        Ok(())
    );
}

#[test]
fn account_checks_cash_sellable_and_foreign_room() {
    let rules = MarketRules::default();
    let sec = hose_stock(49_000);
    let s = at(Phase::Continuous, 10, 0);
    let mut ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);
    ctx.buying_power = Some(Vnd::new(5_000_000));
    ctx.sellable = Some(Quantity::new(100));
    assert_eq!(
        validate_order(&lo(Side::Buy, 50_000, 100), &sec, &s, &ctx),
        Ok(())
    );
    assert_eq!(
        errs(validate_order(&lo(Side::Buy, 50_000, 200), &sec, &s, &ctx)),
        vec![Violation::InsufficientBuyingPower {
            required: Vnd::new(10_000_000),
            available: Vnd::new(5_000_000)
        }]
    );
    // A market order is funded at the ceiling.
    let mtl = Order {
        order_type: OrderType::Mtl,
        price: None,
        ..lo(Side::Buy, 1, 100)
    };
    assert_eq!(
        errs(validate_order(&mtl, &sec, &s, &ctx)),
        vec![Violation::InsufficientBuyingPower {
            required: Vnd::new(5_240_000),
            available: Vnd::new(5_000_000)
        }]
    );
    assert_eq!(
        errs(validate_order(&lo(Side::Sell, 50_000, 200), &sec, &s, &ctx)),
        vec![Violation::InsufficientSellable {
            requested: Quantity::new(200),
            sellable: Quantity::new(100)
        }]
    );
    let mut foreign = ctx;
    foreign.investor = InvestorProfile {
        residency: Residency::Foreign,
        ..InvestorProfile::DOMESTIC_INDIVIDUAL
    };
    foreign.foreign_room = Some(Quantity::ZERO);
    assert_eq!(
        errs(validate_order(
            &lo(Side::Buy, 50_000, 100),
            &sec,
            &s,
            &foreign
        )),
        vec![Violation::ForeignRoomExceeded {
            requested: Quantity::new(100),
            available: Quantity::ZERO
        }]
    );
    // Non-prefunding foreign institution skips the cash check, not the room check.
    foreign.investor.kind = InvestorKind::Institution;
    foreign.investor.non_prefunding = true;
    foreign.foreign_room = Some(Quantity::new(1_000));
    assert_eq!(
        validate_order(&lo(Side::Buy, 50_000, 1_000), &sec, &s, &foreign),
        Ok(())
    );
}

#[test]
fn futures_orders_check_contract_limits_and_positions() {
    let rules = MarketRules::default();
    let sec = future();
    let s = at(Phase::Continuous, 10, 0);
    assert_eq!(check(&lo(Side::Buy, 13_001, 500), &sec, &s), Ok(()));
    assert_eq!(
        errs(check(&lo(Side::Buy, 13_001, 501), &sec, &s)),
        vec![Violation::QuantityAboveMaximum {
            quantity: Quantity::new(501),
            max: 500
        }]
    );
    assert_eq!(
        errs(check(&lo(Side::Buy, 13_911, 1), &sec, &s)),
        vec![Violation::PriceAboveCeiling {
            price: p(13_911),
            ceiling: p(13_910)
        }]
    );
    let odd = Order {
        board: Board::OddLot,
        ..lo(Side::Buy, 13_000, 1)
    };
    assert!(
        errs(check(&odd, &sec, &s)).contains(&Violation::BoardNotAvailable {
            exchange: Exchange::HnxDeriv,
            board: Board::OddLot,
            kind: InstrumentKind::IndexFuture
        })
    );
    let mut ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);
    ctx.futures_position = Some(4_900);
    assert_eq!(
        validate_order(&lo(Side::Buy, 13_000, 100), &sec, &s, &ctx),
        Ok(())
    );
    assert_eq!(
        errs(validate_order(&lo(Side::Buy, 13_000, 101), &sec, &s, &ctx)),
        vec![Violation::PositionLimitExceeded {
            resulting: 5_001,
            limit: 5_000
        }]
    );
    // Reducing an over-limit position is always allowed.
    ctx.futures_position = Some(6_000);
    assert_eq!(
        validate_order(&lo(Side::Sell, 13_000, 100), &sec, &s, &ctx),
        Ok(())
    );
    // Margin: 1 contract at 1,300.0 needs 17% of 130m = 22.1m.
    ctx.futures_position = Some(0);
    ctx.buying_power = Some(Vnd::new(22_000_000));
    assert_eq!(
        errs(validate_order(&lo(Side::Buy, 13_000, 1), &sec, &s, &ctx)),
        vec![Violation::InsufficientBuyingPower {
            required: Vnd::new(22_100_000),
            available: Vnd::new(22_000_000)
        }]
    );
    // Futures may be sold short.
    ctx.buying_power = None;
    assert_eq!(
        validate_order(&lo(Side::Sell, 13_000, 10), &sec, &s, &ctx),
        Ok(())
    );
}

#[test]
fn hose_bonds_trade_put_through_only_without_band() {
    let sec = Security {
        kind: InstrumentKind::Bond,
        limits: None,
        ..hose_stock(100_000)
    };
    let pt = Order {
        board: Board::PutThrough,
        ..lo(Side::Buy, 101_234, 10)
    };
    assert_eq!(check(&pt, &sec, &at(Phase::PutThrough, 10, 0)), Ok(()));
    assert!(
        errs(check(
            &lo(Side::Buy, 101_200, 100),
            &sec,
            &at(Phase::PutThrough, 10, 0)
        ))
        .contains(&Violation::BoardNotAvailable {
            exchange: Exchange::Hose,
            board: Board::Main,
            kind: InstrumentKind::Bond
        })
    );
}

#[test]
fn upcom_accepts_lo_only() {
    let rules = MarketRules::default();
    let sec = Security {
        exchange: Exchange::Upcom,
        limits: rules
            .price_limits(
                Exchange::Upcom,
                InstrumentKind::Stock,
                p(20_000),
                LimitCase::Normal,
            )
            .ok(),
        ..hose_stock(20_000)
    };
    let s = at(Phase::Continuous, 14, 50);
    assert_eq!(check(&lo(Side::Buy, 23_000, 100), &sec, &s), Ok(()));
    for t in [
        OrderType::Mtl,
        OrderType::Mok,
        OrderType::Mak,
        OrderType::Atc,
    ] {
        let o = Order {
            order_type: t,
            price: None,
            ..lo(Side::Buy, 1, 100)
        };
        assert!(matches!(
            errs(check(&o, &sec, &s)).as_slice(),
            [Violation::OrderTypeNotAccepted { .. }]
        ));
    }
}

#[test]
fn violations_serialise_with_a_rule_tag() {
    let v = Violation::PriceOffTick {
        price: p(52_450),
        tick: p(100),
    };
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(
        json,
        r#"{"rule":"price_off_tick","price":52450,"tick":100}"#
    );
    assert_eq!(serde_json::from_str::<Violation>(&json).unwrap(), v);
}

fn arb_order() -> impl Strategy<Value = (Order, i64)> {
    (
        prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        prop::sample::select(OrderType::ALL.to_vec()),
        prop::sample::select(Board::ALL.to_vec()),
        1_000i64..200_000,
        0u64..600_000,
        0u64..3,
    )
        .prop_map(|(side, order_type, board, reference, qty, price_mode)| {
            let rules = MarketRules::default();
            let lim = rules
                .price_limits(
                    Exchange::Hose,
                    InstrumentKind::Stock,
                    p(reference),
                    LimitCase::Normal,
                )
                .unwrap();
            let price = match price_mode {
                0 => None,
                1 => Some(lim.ceiling),
                _ => Some(lim.floor),
            };
            (
                Order {
                    side,
                    order_type,
                    board,
                    price,
                    quantity: Quantity::new(qty),
                },
                reference,
            )
        })
}

proptest! {
    #[test]
    fn prop_valid_orders_stay_valid_after_serde_round_trip((order, reference) in arb_order(), phase_idx in 0usize..6) {
        let phase = [Phase::OpeningAuction, Phase::Continuous, Phase::ClosingAuction, Phase::PutThrough, Phase::Break, Phase::PeriodicAuction(2)][phase_idx];
        let sec = hose_stock(reference);
        let s = at(phase, 10, 0);
        let before = check(&order, &sec, &s);
        let order2: Order = serde_json::from_str(&serde_json::to_string(&order).unwrap()).unwrap();
        let sec2: Security = serde_json::from_str(&serde_json::to_string(&sec).unwrap()).unwrap();
        let s2: SessionState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(order2, order);
        prop_assert_eq!(check(&order2, &sec2, &s2), before);
    }

    #[test]
    fn prop_limit_prices_at_the_band_edges_never_break_tick_or_band(reference in 1_000i64..200_000, lots in 1u64..50) {
        let sec = hose_stock(reference);
        let lim = sec.limits.unwrap();
        let s = at(Phase::Continuous, 10, 0);
        for price in [lim.ceiling, lim.floor] {
            let r = check(&lo(Side::Buy, price.units(), lots * 100), &sec, &s);
            prop_assert_eq!(r, Ok(()));
        }
    }

    #[test]
    fn prop_every_reported_violation_is_distinct(order in arb_order(), phase_idx in 0usize..4) {
        let (order, reference) = order;
        let phase = [Phase::Closed, Phase::Continuous, Phase::ClosingAuction, Phase::PutThrough][phase_idx];
        let v = errs(check(&order, &hose_stock(reference), &at(phase, 10, 0)));
        for (i, a) in v.iter().enumerate() {
            prop_assert!(!v[i + 1..].contains(a));
        }
    }
}
