use super::*;
use proptest::prelude::*;

const H: Exchange = Exchange::Hose;
const ST: InstrumentKind = InstrumentKind::Stock;
const M: Board = Board::Main;

fn p(u: i64) -> Price {
    Price::new(u).unwrap()
}

#[test]
fn hose_stock_ticks_change_at_10000_and_50000() {
    let r = TickRules::default();
    assert_eq!(r.tick_units(H, ST, M, 9_990), 10);
    assert_eq!(r.tick_units(H, ST, M, 9_999), 10);
    assert_eq!(r.tick_units(H, ST, M, 10_000), 50);
    assert_eq!(r.tick_units(H, ST, M, 49_950), 50);
    assert_eq!(r.tick_units(H, ST, M, 49_999), 50);
    assert_eq!(r.tick_units(H, ST, M, 50_000), 100);
    assert_eq!(
        r.tick_units(H, InstrumentKind::FundCertificate, M, 60_000),
        100
    );
}

#[test]
fn flat_ticks_per_venue_and_kind() {
    let r = TickRules::default();
    assert_eq!(r.tick_units(H, InstrumentKind::Etf, M, 60_000), 10);
    assert_eq!(
        r.tick_units(H, InstrumentKind::CoveredWarrant, M, 60_000),
        10
    );
    assert_eq!(r.tick_units(Exchange::Hnx, ST, M, 5_000), 100);
    assert_eq!(
        r.tick_units(Exchange::Hnx, InstrumentKind::Etf, M, 15_000),
        1
    );
    assert_eq!(r.tick_units(Exchange::Upcom, ST, M, 15_000), 100);
    assert_eq!(
        r.tick_units(Exchange::Upcom, ST, Board::OddLot, 15_000),
        100
    );
    assert_eq!(r.tick_units(H, ST, Board::PutThrough, 52_345), 1);
    assert_eq!(r.tick_units(H, InstrumentKind::Bond, M, 100_123), 1);
    assert_eq!(
        r.tick_units(Exchange::HnxDeriv, InstrumentKind::IndexFuture, M, 13_001),
        1
    );
}

#[test]
fn on_tick_uses_the_band_of_the_quoted_price() {
    let r = TickRules::default();
    assert!(r.is_on_tick(H, ST, M, p(49_950)));
    assert!(r.is_on_tick(H, ST, M, p(50_000)));
    assert!(!r.is_on_tick(H, ST, M, p(50_050)));
    assert!(r.is_on_tick(H, ST, M, p(9_990)));
    assert!(!r.is_on_tick(H, ST, M, p(10_010)));
    assert!(!r.is_on_tick(H, ST, M, p(9_995)));
    assert!(!r.is_on_tick(Exchange::Hnx, ST, M, p(10_050)));
    assert!(r.is_on_tick(Exchange::Hnx, ST, Board::PutThrough, p(10_051)));
}

#[test]
fn rounding_crosses_bands_onto_valid_prices() {
    let r = TickRules::default();
    assert_eq!(
        r.round_units(H, ST, M, 49_990, Rounding::Up),
        Some(p(50_000))
    );
    assert_eq!(
        r.round_units(H, ST, M, 49_990, Rounding::Down),
        Some(p(49_950))
    );
    assert_eq!(
        r.round_units(H, ST, M, 9_995, Rounding::Up),
        Some(p(10_000))
    );
    assert_eq!(
        r.round_units(H, ST, M, 50_099, Rounding::Down),
        Some(p(50_000))
    );
    assert_eq!(
        r.round_units(H, ST, M, 52_450, Rounding::Nearest),
        Some(p(52_500))
    );
    assert_eq!(
        r.round_units(H, ST, M, 52_449, Rounding::Nearest),
        Some(p(52_400))
    );
    assert_eq!(r.round_units(H, ST, M, 5, Rounding::Down), None);
    assert_eq!(r.round_units(H, ST, M, 5, Rounding::Up), Some(p(10)));
}

#[test]
fn one_tick_up_and_down_respect_band_edges() {
    let r = TickRules::default();
    assert_eq!(r.tick_up(H, ST, M, p(49_950)), Some(p(50_000)));
    assert_eq!(r.tick_down(H, ST, M, p(50_000)), Some(p(49_950)));
    assert_eq!(r.tick_down(H, ST, M, p(10_000)), Some(p(9_990)));
    assert_eq!(r.tick_down(H, ST, M, p(10)), None);
}

#[test]
fn broken_band_tables_are_rejected() {
    assert_eq!(TickRules::default().validate(), Ok(()));
    let mut r = TickRules::default();
    r.hose_stock_bands[1].from = 10_025;
    assert!(r.validate().is_err());
    let mut r = TickRules::default();
    r.hose_stock_bands[0].from = 5;
    assert!(r.validate().is_err());
    let r = TickRules {
        upcom: 0,
        ..TickRules::default()
    };
    assert!(r.validate().is_err());
}

proptest! {
    #[test]
    fn prop_rounded_prices_are_on_tick(units in 1i64..2_000_000, dir in 0u8..3, ex in 0usize..4, k in 0usize..6) {
        let r = TickRules::default();
        let rounding = [Rounding::Down, Rounding::Up, Rounding::Nearest][usize::from(dir)];
        let (exchange, kind) = (Exchange::ALL[ex], InstrumentKind::ALL[k]);
        if let Some(q) = r.round_units(exchange, kind, M, units, rounding) {
            prop_assert!(r.is_on_tick(exchange, kind, M, q));
            match rounding {
                Rounding::Down => prop_assert!(q.units() <= units),
                Rounding::Up => prop_assert!(q.units() >= units),
                Rounding::Nearest => {}
            }
        }
    }

    #[test]
    fn prop_on_tick_prices_round_to_themselves(units in 1i64..2_000_000) {
        let r = TickRules::default();
        if let Ok(price) = Price::new(units)
            && r.is_on_tick(H, ST, M, price)
        {
            prop_assert_eq!(r.round(H, ST, M, price, Rounding::Down), Some(price));
            prop_assert_eq!(r.round(H, ST, M, price, Rounding::Up), Some(price));
        }
    }
}
