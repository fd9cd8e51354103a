use proptest::prelude::*;

use super::*;
use crate::MarketRules;

fn p(u: i64) -> Price {
    Price::new(u).unwrap()
}

fn limits(ex: Exchange, kind: InstrumentKind, reference: i64, case: LimitCase) -> PriceLimits {
    LimitRules::default()
        .price_limits(&TickRules::default(), ex, kind, p(reference), case)
        .unwrap()
}

fn stock(ex: Exchange, reference: i64) -> (i64, i64) {
    let l = limits(ex, InstrumentKind::Stock, reference, LimitCase::Normal);
    (l.ceiling.units(), l.floor.units())
}

#[test]
fn worked_example_hose_ref_49000() {
    // Reference §5.2: 52,430 -> tick 100 -> 52,400; 45,570 -> tick 50 -> 45,600.
    assert_eq!(stock(Exchange::Hose, 49_000), (52_400, 45_600));
}

#[test]
fn worked_example_hose_ref_9980() {
    // Reference §5.2: 10,678.6 -> 10,650; 9,281.4 -> 9,290.
    assert_eq!(stock(Exchange::Hose, 9_980), (10_650, 9_290));
}

#[test]
fn normal_bands_per_exchange() {
    assert_eq!(stock(Exchange::Hose, 50_000), (53_500, 46_500));
    assert_eq!(stock(Exchange::Hnx, 20_000), (22_000, 18_000));
    assert_eq!(stock(Exchange::Upcom, 20_000), (23_000, 17_000));
    // HNX 10% of 12,345 -> 13,579.5 down to 13,500; 11,110.5 up to 11,200.
    assert_eq!(stock(Exchange::Hnx, 12_345), (13_500, 11_200));
}

#[test]
fn wide_bands_for_first_day_resumption_and_ex_rights() {
    for case in [
        LimitCase::FirstTradingDay,
        LimitCase::Resumption,
        LimitCase::ExRightsWide,
    ] {
        let h = limits(Exchange::Hose, InstrumentKind::Stock, 10_000, case);
        assert_eq!((h.ceiling.units(), h.floor.units()), (12_000, 8_000));
        let n = limits(Exchange::Hnx, InstrumentKind::Stock, 10_000, case);
        assert_eq!((n.ceiling.units(), n.floor.units()), (13_000, 7_000));
        let u = limits(Exchange::Upcom, InstrumentKind::Stock, 10_000, case);
        assert_eq!((u.ceiling.units(), u.floor.units()), (14_000, 6_000));
    }
}

#[test]
fn hnx_corner_case_limit_equal_to_reference_moves_one_tick() {
    // 500 +10% = 550 -> rounds down to 500 = ref -> 600; 450 -> 500 = ref -> 400.
    assert_eq!(stock(Exchange::Hnx, 500), (600, 400));
}

#[test]
fn hnx_reference_of_one_tick_has_floor_equal_to_reference() {
    // Reference §5.2: ref one tick (100) -> ceiling = ref + 1 tick, floor = ref.
    assert_eq!(stock(Exchange::Hnx, 100), (200, 100));
    assert_eq!(stock(Exchange::Hose, 10), (20, 10));
}

#[test]
fn corner_case_can_be_switched_off_per_exchange() {
    let rules = LimitRules {
        reference_corner_case: vec![Exchange::Hnx],
        ..LimitRules::default()
    };
    let l = rules
        .price_limits(
            &TickRules::default(),
            Exchange::Upcom,
            InstrumentKind::Stock,
            p(300),
            LimitCase::Normal,
        )
        .unwrap();
    // 300 × 1.15 = 345 -> 300; 255 -> 300: without the corner case both equal the reference.
    assert_eq!((l.ceiling.units(), l.floor.units()), (300, 300));
}

#[test]
fn futures_band_is_seven_percent_rounded_toward_reference() {
    let l = limits(
        Exchange::HnxDeriv,
        InstrumentKind::IndexFuture,
        13_000,
        LimitCase::Normal,
    );
    assert_eq!((l.ceiling.units(), l.floor.units()), (13_910, 12_090));
    // 1,234.5 -> 1,320.915 down to 1,320.9; 1,148.085 up to 1,148.1.
    let l = limits(
        Exchange::HnxDeriv,
        InstrumentKind::IndexFuture,
        12_345,
        LimitCase::Normal,
    );
    assert_eq!((l.ceiling.units(), l.floor.units()), (13_209, 11_481));
    let away = LimitRules {
        futures_rounding: FuturesLimitRounding::AwayFromReference,
        ..LimitRules::default()
    };
    let l = away
        .price_limits(
            &TickRules::default(),
            Exchange::HnxDeriv,
            InstrumentKind::IndexFuture,
            p(12_345),
            LimitCase::Normal,
        )
        .unwrap();
    assert_eq!((l.ceiling.units(), l.floor.units()), (13_210, 11_480));
}

#[test]
fn bonds_have_no_band_and_cw_limits_are_derived() {
    let r = LimitRules::default();
    let t = TickRules::default();
    assert_eq!(
        r.price_limits(
            &t,
            Exchange::Hose,
            InstrumentKind::Bond,
            p(100_000),
            LimitCase::Normal
        ),
        Err(Error::NoBand(InstrumentKind::Bond))
    );
    assert_eq!(
        r.price_limits(
            &t,
            Exchange::Hose,
            InstrumentKind::CoveredWarrant,
            p(1_000),
            LimitCase::Normal
        ),
        Err(Error::DerivedFromUnderlying)
    );
}

#[test]
fn covered_warrant_limits_follow_the_underlying_over_the_ratio() {
    let r = LimitRules::default();
    let t = TickRules::default();
    let u = limits(
        Exchange::Hose,
        InstrumentKind::Stock,
        49_000,
        LimitCase::Normal,
    );
    // Underlying moves +3,400 / -3,400; ratio 4:1 -> ±850.
    let cw = covered_warrant_limits(&r, &t, p(1_000), &u, Ratio::new(4, 1).unwrap()).unwrap();
    assert_eq!((cw.ceiling.units(), cw.floor.units()), (1_850, 150));
    // Ratio 3:1 -> 1,133.33: ceiling 2,133.33 down to 2,130; floor negative -> 10 VND.
    let cw = covered_warrant_limits(&r, &t, p(1_000), &u, Ratio::new(3, 1).unwrap()).unwrap();
    assert_eq!((cw.ceiling.units(), cw.floor.units()), (2_130, 10));
    // Floor rounds up to the 10-VND tick: 5,000 - 3,400/3 = 3,866.67 -> 3,870.
    let cw = covered_warrant_limits(&r, &t, p(5_000), &u, Ratio::new(3, 1).unwrap()).unwrap();
    assert_eq!(cw.floor.units(), 3_870);
    assert_eq!(
        covered_warrant_limits(&r, &t, p(1_000), &u, Ratio::ZERO),
        Err(Error::ZeroRatio)
    );
}

#[test]
fn ex_rights_reference_applies_the_formula() {
    let r = LimitRules::default();
    let t = TickRules::default();
    let cash_and_bonus = CorporateAction {
        cash_dividend: Vnd::new(1_000),
        rights_price: Vnd::ZERO,
        rights_ratio: Ratio::ZERO,
        stock_ratio: Ratio::new(1, 5).unwrap(),
    };
    // (30,000 - 1,000) / 1.2 = 24,166.67 -> nearest 50-VND tick 24,150.
    assert_eq!(
        ex_rights_reference(
            &r,
            &t,
            Exchange::Hose,
            InstrumentKind::Stock,
            p(30_000),
            &cash_and_bonus
        ),
        Ok(p(24_150))
    );
    let rights = CorporateAction {
        cash_dividend: Vnd::ZERO,
        rights_price: Vnd::new(10_000),
        rights_ratio: Ratio::new(1, 2).unwrap(),
        stock_ratio: Ratio::ZERO,
    };
    // (20,000 + 10,000 × 0.5) / 1.5 = 16,666.67 -> 16,650.
    assert_eq!(
        ex_rights_reference(
            &r,
            &t,
            Exchange::Hose,
            InstrumentKind::Stock,
            p(20_000),
            &rights
        ),
        Ok(p(16_650))
    );
    let wipe_out = CorporateAction {
        cash_dividend: Vnd::new(30_000),
        ..cash_and_bonus
    };
    assert!(
        ex_rights_reference(
            &r,
            &t,
            Exchange::Hose,
            InstrumentKind::Stock,
            p(30_000),
            &wipe_out
        )
        .is_err()
    );
}

#[test]
fn split_reference_scales_by_the_ratio() {
    let r = LimitRules::default();
    let t = TickRules::default();
    assert_eq!(
        split_reference(
            &r,
            &t,
            Exchange::Hose,
            InstrumentKind::Stock,
            p(60_000),
            Ratio::new(2, 1).unwrap()
        ),
        Ok(p(30_000))
    );
    // 1-for-10 consolidation on HNX.
    assert_eq!(
        split_reference(
            &r,
            &t,
            Exchange::Hnx,
            InstrumentKind::Stock,
            p(1_200),
            Ratio::new(1, 10).unwrap()
        ),
        Ok(p(12_000))
    );
}

#[test]
fn upcom_reference_is_the_vwap_or_carries_over() {
    let r = LimitRules::default();
    let t = TickRules::default();
    let trades = [
        (p(10_000), Quantity::new(100)),
        (p(10_500), Quantity::new(300)),
    ];
    // (1,000,000 + 3,150,000) / 400 = 10,375 -> nearest 100 -> 10,400.
    assert_eq!(upcom_reference(&r, &t, &trades, p(9_000)), Ok(p(10_400)));
    assert_eq!(upcom_reference(&r, &t, &[], p(9_000)), Ok(p(9_000)));
}

#[test]
fn next_reference_is_the_close_on_hose_hnx_and_futures_and_carries_without_one() {
    let r = LimitRules::default();
    let t = TickRules::default();
    // A VWAP far from the close must not matter where the close is the basis.
    let continuous: Vwap = [(p(30_000), Quantity::new(1_000))].into_iter().collect();
    for (ex, kind) in [
        (Exchange::Hose, InstrumentKind::Stock),
        (Exchange::Hnx, InstrumentKind::Stock),
        (Exchange::HnxDeriv, InstrumentKind::IndexFuture),
    ] {
        assert_eq!(r.reference_basis(ex), ReferenceBasis::Close);
        let traded = PreviousSession {
            reference: p(20_000),
            close: Some(p(21_000)),
            continuous,
        };
        assert_eq!(r.next_reference(&t, ex, kind, &traded), Ok(p(21_000)));
        let quiet = PreviousSession {
            close: None,
            ..traded
        };
        assert_eq!(r.next_reference(&t, ex, kind, &quiet), Ok(p(20_000)));
    }
}

#[test]
fn next_reference_on_upcom_is_the_continuous_vwap_on_tick_not_the_close() {
    let r = LimitRules::default();
    let t = TickRules::default();
    assert_eq!(
        r.reference_basis(Exchange::Upcom),
        ReferenceBasis::ContinuousVwap
    );
    // (10,000 × 100 + 10,500 × 300 + 10,600 × 100) / 500 = 10,420 -> nearest 100 -> 10,400,
    // though the close was 10,600.
    let continuous: Vwap = [
        (p(10_000), Quantity::new(100)),
        (p(10_500), Quantity::new(300)),
        (p(10_600), Quantity::new(100)),
    ]
    .into_iter()
    .collect();
    assert_eq!((continuous.value(), continuous.volume()), (5_210_000, 500));
    assert_eq!(Vwap::from_totals(5_210_000, 500), continuous);
    let previous = PreviousSession {
        reference: p(9_800),
        close: Some(p(10_600)),
        continuous,
    };
    let up = Exchange::Upcom;
    let stock = InstrumentKind::Stock;
    assert_eq!(r.next_reference(&t, up, stock, &previous), Ok(p(10_400)));
    assert_eq!(
        MarketRules::default().next_reference(up, stock, &previous),
        Ok(p(10_400))
    );
    // Nothing matched continuously: the previous reference carries, not the close.
    let quiet = PreviousSession {
        continuous: Vwap::EMPTY,
        ..previous
    };
    assert_eq!(r.next_reference(&t, up, stock, &quiet), Ok(p(9_800)));
    // The rounding is configurable (§5.3 [U]).
    let down = LimitRules {
        reference_rounding: Rounding::Down,
        ..LimitRules::default()
    };
    assert_eq!(down.next_reference(&t, up, stock, &previous), Ok(p(10_400)));
    let up_rounding = LimitRules {
        reference_rounding: Rounding::Up,
        ..LimitRules::default()
    };
    assert_eq!(
        up_rounding.next_reference(&t, up, stock, &previous),
        Ok(p(10_500))
    );
}

#[test]
fn a_reference_below_a_few_ticks_has_no_band() {
    // 1 đồng, below HOSE's 10-đồng tick: no ceiling on tick exists; refused, not made up.
    let l = LimitRules::default().price_limits(
        &TickRules::default(),
        Exchange::Hose,
        InstrumentKind::Stock,
        p(1),
        LimitCase::Normal,
    );
    assert!(
        matches!(l, Err(crate::limits::Error::NoPositivePrice(_))),
        "{l:?}"
    );
}

proptest! {
    #[test]
    fn prop_ceiling_ge_reference_ge_floor_and_on_tick(
        // From 1,000 đồng: near one tick the band can be narrower than a tick (1 đồng has
        // none at all: `a_reference_below_a_few_ticks_has_no_band`).
        reference in 1_000i64..500_000,
        ex in 0usize..4,
        case in 0usize..4,
    ) {
        let exchange = Exchange::ALL[ex];
        let kind = if exchange == Exchange::HnxDeriv { InstrumentKind::IndexFuture } else { InstrumentKind::Stock };
        let case = [LimitCase::Normal, LimitCase::FirstTradingDay, LimitCase::Resumption, LimitCase::ExRightsWide][case];
        let t = TickRules::default();
        let r = LimitRules::default();
        let l = r.price_limits(&t, exchange, kind, p(reference), case).unwrap();
        prop_assert!(l.ceiling > l.reference);
        prop_assert!(l.reference >= l.floor);
        prop_assert!(t.is_on_tick(exchange, kind, Board::Main, l.ceiling));
        prop_assert!(t.is_on_tick(exchange, kind, Board::Main, l.floor));
        let bps = i128::from(r.band_bps(exchange, case));
        let corner_ceiling = t.tick_up(exchange, kind, Board::Main, l.reference);
        prop_assert!(
            i128::from(l.ceiling.units()) * 10_000 <= i128::from(reference) * (10_000 + bps)
                || Some(l.ceiling) == corner_ceiling
        );
        let corner_floor = t.tick_down(exchange, kind, Board::Main, l.reference);
        prop_assert!(
            i128::from(l.floor.units()) * 10_000 >= i128::from(reference) * (10_000 - bps)
                || Some(l.floor) == corner_floor
                || l.floor == l.reference
        );
    }

    #[test]
    fn prop_cw_limits_bracket_the_reference(cw_ref in 10i64..50_000, u_ref in 1_000i64..200_000, w in 1u64..20, s in 1u64..3) {
        let t = TickRules::default();
        let r = LimitRules::default();
        let u = r.price_limits(&t, Exchange::Hose, InstrumentKind::Stock, p(u_ref), LimitCase::Normal).unwrap();
        let cw_ref = t.round_units(Exchange::Hose, InstrumentKind::CoveredWarrant, Board::Main, cw_ref, Rounding::Down).unwrap();
        let l = covered_warrant_limits(&r, &t, cw_ref, &u, Ratio::new(w, s).unwrap()).unwrap();
        prop_assert!(l.ceiling >= l.reference);
        prop_assert!(l.floor <= l.reference);
        prop_assert!(l.floor.units() >= 10);
    }
}

proptest! {
    #[test]
    fn prop_rounding_a_price_inside_the_band_stays_on_tick_and_inside(
        reference in 100i64..300_000,
        frac in 0u32..=1_000,
        ex in 0usize..3,
        dir in 0usize..3,
    ) {
        let exchange = Exchange::ALL[ex];
        let t = TickRules::default();
        let lim = LimitRules::default()
            .price_limits(&t, exchange, InstrumentKind::Stock, p(reference), LimitCase::Normal)
            .unwrap();
        let span = lim.ceiling.units() - lim.floor.units();
        let raw = lim.floor.units() + span * i64::from(frac) / 1_000;
        let rounding = [Rounding::Down, Rounding::Up, Rounding::Nearest][dir];
        let q = t
            .round_units(exchange, InstrumentKind::Stock, Board::Main, raw, rounding)
            .unwrap();
        prop_assert!(t.is_on_tick(exchange, InstrumentKind::Stock, Board::Main, q));
        prop_assert!(lim.contains(q), "{q} outside [{}, {}]", lim.floor, lim.ceiling);
    }
}
