use super::*;
use crate::session::TimeOfDay;
use time::macros::date;

use Exchange::{Hnx, HnxDeriv, Hose, Upcom};
use InstrumentKind::{Bond, IndexFuture, Stock};
use OrderType::{Atc, Ato, Lo, Mak, Mok, Mtl, Plo};

fn types(e: Exchange, b: Board, k: InstrumentKind, p: Phase) -> Vec<OrderType> {
    accepted_order_types(e, b, k, p).to_vec()
}

#[test]
fn order_type_matrix_round_lot_matches_reference_3_2() {
    let m = Board::Main;
    assert_eq!(types(Hose, m, Stock, Phase::OpeningAuction), vec![Lo, Ato]);
    assert_eq!(types(Hose, m, Stock, Phase::Continuous), vec![Lo, Mtl]);
    assert_eq!(types(Hose, m, Stock, Phase::ClosingAuction), vec![Lo, Atc]);
    assert_eq!(types(Hnx, m, Stock, Phase::OpeningAuction), vec![]);
    assert_eq!(
        types(Hnx, m, Stock, Phase::Continuous),
        vec![Lo, Mtl, Mok, Mak]
    );
    assert_eq!(types(Hnx, m, Stock, Phase::ClosingAuction), vec![Lo, Atc]);
    assert_eq!(types(Hnx, m, Stock, Phase::PloCollection), vec![Plo]);
    assert_eq!(types(Hnx, m, Stock, Phase::PloMatching), vec![Plo]);
    assert_eq!(types(Upcom, m, Stock, Phase::Continuous), vec![Lo]);
    assert_eq!(types(Upcom, m, Stock, Phase::ClosingAuction), vec![]);
    assert_eq!(
        types(HnxDeriv, m, IndexFuture, Phase::OpeningAuction),
        vec![Lo, Ato]
    );
    assert_eq!(
        types(HnxDeriv, m, IndexFuture, Phase::Continuous),
        vec![Lo, Mtl, Mok, Mak]
    );
    assert_eq!(
        types(HnxDeriv, m, IndexFuture, Phase::ClosingAuction),
        vec![Lo, Atc]
    );
    assert_eq!(types(Hose, m, Stock, Phase::PeriodicAuction(3)), vec![Lo]);
    assert_eq!(types(Hose, m, Stock, Phase::PutThroughOnly), vec![]);
    for p in [Phase::Break, Phase::Closed, Phase::PreOpen, Phase::Halted] {
        for e in Exchange::ALL {
            assert!(types(e, m, Stock, p).is_empty(), "{e} {p}");
        }
    }
}

#[test]
fn odd_lots_and_put_through_are_lo_only() {
    for e in [Hose, Hnx, Upcom] {
        for p in [
            Phase::OpeningAuction,
            Phase::Continuous,
            Phase::ClosingAuction,
        ] {
            assert_eq!(types(e, Board::OddLot, Stock, p), vec![Lo]);
        }
        assert_eq!(types(e, Board::OddLot, Stock, Phase::PloCollection), vec![]);
        assert_eq!(
            types(e, Board::PutThrough, Stock, Phase::PutThrough),
            vec![Lo]
        );
        assert_eq!(
            types(e, Board::PutThrough, Stock, Phase::PutThroughAfterHours),
            vec![Lo]
        );
        assert_eq!(
            types(e, Board::PutThrough, Stock, Phase::Continuous),
            vec![]
        );
    }
    assert_eq!(
        types(HnxDeriv, Board::OddLot, IndexFuture, Phase::Continuous),
        vec![]
    );
    assert_eq!(types(Hnx, Board::Main, Bond, Phase::Continuous), vec![Lo]);
    assert!(is_accepted(
        Hose,
        Board::Main,
        Stock,
        Phase::Continuous,
        Mtl
    ));
    assert!(!is_accepted(
        Hose,
        Board::Main,
        Stock,
        Phase::Continuous,
        Mok
    ));
}

#[test]
fn order_type_codes_parse_and_mp_maps_to_mtl() {
    for t in OrderType::ALL {
        assert_eq!(t.code().parse::<OrderType>(), Ok(t));
    }
    assert_eq!("mp".parse::<OrderType>(), Ok(Mtl));
    assert!("GTC".parse::<OrderType>().is_err());
    assert!(Lo.carries_price());
    assert!(!Plo.carries_price());
    assert!(Mak.is_market() && !Ato.is_market());
}

fn lo(price: i64, qty: u64) -> Order {
    Order {
        side: Side::Buy,
        order_type: Lo,
        board: Board::Main,
        price: Some(Price::new(price).unwrap()),
        quantity: Quantity::new(qty),
    }
}

fn state(phase: Phase, time: TimeOfDay, end: Option<TimeOfDay>) -> SessionState {
    SessionState {
        date: date!(2025 - 06 - 02),
        time,
        trading_day: true,
        phase,
        phase_end: end,
    }
}

fn continuous() -> SessionState {
    state(
        Phase::Continuous,
        TimeOfDay::hm(10, 0),
        Some(TimeOfDay::hm(11, 30)),
    )
}

#[test]
fn amendments_change_price_xor_quantity() {
    let o = lo(50_000, 1_000);
    let p = |u| Some(Price::new(u).unwrap());
    assert_eq!(
        classify_amendment(&o, p(50_100), Quantity::new(1_000)),
        Ok(Amendment::Price(Price::new(50_100).unwrap()))
    );
    assert_eq!(
        classify_amendment(&o, p(50_000), Quantity::new(500)),
        Ok(Amendment::Quantity(Quantity::new(500)))
    );
    assert_eq!(
        classify_amendment(&o, p(50_100), Quantity::new(500)),
        Err(ChangeViolation::PriceAndQuantity)
    );
    assert_eq!(
        classify_amendment(&o, p(50_000), Quantity::new(1_000)),
        Err(ChangeViolation::NoChange)
    );
    let atc = Order {
        order_type: Atc,
        price: None,
        ..o
    };
    assert_eq!(
        classify_amendment(&atc, None, Quantity::new(1_000)),
        Err(ChangeViolation::NoChange)
    );
}

#[test]
fn priority_is_lost_on_price_change_or_increase_and_kept_on_decrease() {
    let o = lo(50_000, 1_000);
    let s = continuous();
    let amend = |a| check_amend(&o, Quantity::new(200), a, &s, 5);
    assert_eq!(
        amend(Amendment::Price(Price::new(49_900).unwrap())),
        Ok(Priority::Lost)
    );
    assert_eq!(
        amend(Amendment::Quantity(Quantity::new(1_500))),
        Ok(Priority::Lost)
    );
    assert_eq!(
        amend(Amendment::Quantity(Quantity::new(500))),
        Ok(Priority::Kept)
    );
    assert_eq!(
        amend(Amendment::Quantity(Quantity::new(200))),
        Err(ChangeViolation::BelowFilled {
            requested: Quantity::new(200),
            filled: Quantity::new(200)
        })
    );
    assert_eq!(
        amend(Amendment::Quantity(Quantity::new(1_000))),
        Err(ChangeViolation::NoChange)
    );
    assert_eq!(
        amend(Amendment::Price(Price::new(50_000).unwrap())),
        Err(ChangeViolation::NoChange)
    );
}

#[test]
fn no_changes_in_auctions_break_or_outside_hours() {
    let o = lo(50_000, 1_000);
    for phase in [
        Phase::OpeningAuction,
        Phase::ClosingAuction,
        Phase::Break,
        Phase::Closed,
        Phase::PreOpen,
        Phase::Halted,
        Phase::PloCollection,
        Phase::PutThroughOnly,
    ] {
        let s = state(phase, TimeOfDay::hm(10, 0), None);
        assert_eq!(
            check_cancel(&o, Quantity::ZERO, &s, 5),
            Err(ChangeViolation::PhaseBlocksChanges { phase })
        );
    }
    assert_eq!(check_cancel(&o, Quantity::ZERO, &continuous(), 5), Ok(()));
}

#[test]
fn periodic_auction_blocks_changes_in_its_last_five_minutes() {
    let o = lo(50_000, 1_000);
    let end = Some(TimeOfDay::hm(9, 30));
    let at = |s: u32| state(Phase::PeriodicAuction(1), TimeOfDay::from_seconds(s), end);
    let t = |h: u32, m: u32, s: u32| h * 3600 + m * 60 + s;
    assert_eq!(
        check_cancel(&o, Quantity::ZERO, &at(t(9, 24, 59)), 5),
        Ok(())
    );
    assert_eq!(
        check_cancel(&o, Quantity::ZERO, &at(t(9, 25, 0)), 5),
        Err(ChangeViolation::PeriodicAuctionBlackout {
            number: 1,
            blackout_minutes: 5
        })
    );
    assert!(check_cancel(&o, Quantity::ZERO, &at(t(9, 29, 59)), 5).is_err());
}

#[test]
fn plo_and_executed_put_through_are_final() {
    let plo = Order {
        order_type: Plo,
        price: None,
        ..lo(50_000, 1_000)
    };
    let s = state(Phase::PloMatching, TimeOfDay::hm(14, 56), None);
    assert_eq!(
        check_cancel(&plo, Quantity::ZERO, &s, 5),
        Err(ChangeViolation::PloIsFinal)
    );
    let pt = Order {
        board: Board::PutThrough,
        ..lo(50_000, 20_000)
    };
    let s = state(Phase::PutThrough, TimeOfDay::hm(10, 0), None);
    assert_eq!(check_cancel(&pt, Quantity::ZERO, &s, 5), Ok(()));
    assert_eq!(
        check_cancel(&pt, Quantity::new(20_000), &s, 5),
        Err(ChangeViolation::PutThroughExecuted)
    );
    let o = lo(50_000, 1_000);
    assert_eq!(
        check_cancel(&o, Quantity::new(1_000), &continuous(), 5),
        Err(ChangeViolation::FullyFilled {
            filled: Quantity::new(1_000),
            quantity: Quantity::new(1_000)
        })
    );
}

#[test]
fn mtl_offsets_are_configurable_per_exchange() {
    let r = OrderRules::default();
    assert_eq!(r.mtl_offset_ticks(Hose), 1);
    assert_eq!(r.mtl_offset_ticks(Hnx), 1);
    assert_eq!(r.mtl_offset_ticks(Upcom), 0);
    let pre_krx = OrderRules {
        mtl_offset_ticks_hnx: 0,
        ..OrderRules::default()
    };
    assert_eq!(pre_krx.mtl_offset_ticks(Hnx), 0);
}

fn band(ceiling: i64) -> PriceLimits {
    PriceLimits {
        reference: Price::new(ceiling - 3_400).unwrap(),
        ceiling: Price::new(ceiling).unwrap(),
        floor: Price::new(ceiling - 6_800).unwrap(),
    }
}

#[test]
fn funding_price_is_the_own_price_else_the_ceiling_per_reference_3_1() {
    let limits = Some(band(52_400));
    let limit = Price::new(50_000).unwrap();
    assert_eq!(funding_price(Some(limit), limits), Some(limit));
    assert_eq!(
        funding_price(None, limits),
        Some(Price::new(52_400).unwrap())
    );
    // A priced order needs no band; an unpriced one does.
    assert_eq!(funding_price(Some(limit), None), Some(limit));
    assert_eq!(funding_price(None, None), None);
}

#[test]
fn day_orders_end_when_the_board_leaves_its_last_matching_phase_per_reference_3_1() {
    use crate::session::SessionRules;
    let sessions = SessionRules::default();
    let day = date!(2025 - 06 - 06);
    let key = |exchange, board, kind| crate::session::SessionKey {
        exchange,
        board,
        kind,
        restricted: false,
    };
    // (timetable, the phase that ends day orders, the phase just before it).
    let cases = [
        (
            key(Hose, Board::Main, Stock),
            Phase::PutThroughOnly,
            Phase::ClosingAuction,
        ),
        (
            key(Hose, Board::OddLot, Stock),
            Phase::PutThroughOnly,
            Phase::ClosingAuction,
        ),
        (
            key(Hnx, Board::Main, Stock),
            Phase::PloCollection,
            Phase::ClosingAuction,
        ),
        (
            key(Hnx, Board::OddLot, Stock),
            Phase::PutThroughOnly,
            Phase::ClosingAuction,
        ),
        (
            key(Upcom, Board::Main, Stock),
            Phase::Closed,
            Phase::Continuous,
        ),
        (
            key(HnxDeriv, Board::Main, IndexFuture),
            Phase::Closed,
            Phase::ClosingAuction,
        ),
    ];
    for (k, ends, before) in cases {
        let tt = sessions.timetable(&k, day).unwrap();
        let last = tt
            .segments
            .iter()
            .rev()
            .find(|s| !s.phase.ends_day_orders());
        assert_eq!(last.map(|s| s.phase), Some(before), "{k:?}");
        let next = tt
            .segments
            .iter()
            .find(|s| last.is_some_and(|l| s.start == l.end))
            .map_or(Phase::Closed, |s| s.phase);
        assert_eq!(next, ends, "{k:?}");
        for t in OrderType::ALL {
            if t != Plo {
                assert!(order_expires(t, ends), "{t} {k:?}");
                assert!(!order_expires(t, before), "{t} {k:?}");
            }
        }
    }
    for p in [
        Phase::PreOpen,
        Phase::OpeningAuction,
        Phase::Continuous,
        Phase::Break,
        Phase::PeriodicAuction(15),
        Phase::ClosingAuction,
        Phase::Halted,
    ] {
        assert!(!p.ends_day_orders(), "{p}");
        assert!(!order_expires(Lo, p), "{p}");
    }
}

#[test]
fn plo_orders_expire_at_the_end_of_the_plo_session_per_reference_2_3() {
    assert!(!order_expires(Plo, Phase::ClosingAuction));
    assert!(!order_expires(Plo, Phase::PloCollection));
    assert!(!order_expires(Plo, Phase::PloMatching));
    assert!(order_expires(Plo, Phase::Closed));
    assert!(order_expires(Lo, Phase::PloCollection));
}

#[test]
fn plo_trades_do_not_count_towards_the_close_per_reference_3_4() {
    assert!(!trade_sets_close(Phase::PloCollection));
    assert!(!trade_sets_close(Phase::PloMatching));
    for p in [
        Phase::OpeningAuction,
        Phase::Continuous,
        Phase::PeriodicAuction(1),
        Phase::ClosingAuction,
        Phase::PutThrough,
        Phase::PutThroughAfterHours,
    ] {
        assert!(trade_sets_close(p), "{p}");
    }
}

#[test]
fn closing_price_is_the_atc_else_the_last_trade_else_carried_per_reference_3_4() {
    let p = |u| Price::new(u).unwrap();
    assert_eq!(
        closing_price(Some(p(50_100)), Some(p(49_900))),
        Some(p(50_100))
    );
    assert_eq!(closing_price(None, Some(p(49_900))), Some(p(49_900)));
    assert_eq!(closing_price(None, None), None);
    assert_eq!(carried_close(Some(p(50_100)), p(48_000)), p(50_100));
    assert_eq!(carried_close(None, p(48_000)), p(48_000));
}

#[test]
fn sides_and_order_types_read_their_api_names() {
    for side in [Side::Buy, Side::Sell] {
        assert_eq!(Side::parse(side.name()), Some(side));
    }
    assert_eq!(Side::parse(" B "), Some(Side::Buy));
    assert_eq!(Side::parse("s"), Some(Side::Sell));
    assert_eq!(Side::parse("hold"), None);
    for t in OrderType::ALL {
        assert_eq!(
            OrderType::from_code(&t.code().to_ascii_lowercase()),
            Some(t)
        );
    }
    // The retired HOSE code is read by FromStr (feeds), not taken from a client.
    assert_eq!(OrderType::from_code("MP"), None);
    assert_eq!("MP".parse::<OrderType>().ok(), Some(OrderType::Mtl));
}
