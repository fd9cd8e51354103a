use market::limits::{PreviousSession, Vwap};

use super::*;
use crate::universe::UniverseSize;

pub(super) fn generator(seed: u64) -> Generator {
    let calendar = TradingCalendar::embedded().unwrap();
    let today = Date::from_calendar_date(2025, time::Month::June, 10).unwrap();
    let size = UniverseSize {
        hose: 40,
        hnx: 20,
        upcom: 30,
    };
    let universe = Universe::generate(seed, size, &calendar, today);
    Generator::new(
        seed,
        MarketRules::default(),
        calendar,
        universe,
        today,
        60,
        5,
    )
}

#[test]
fn every_trade_is_on_tick_inside_the_band_and_in_round_lots() {
    let g = generator(3);
    let rules = MarketRules::default();
    for i in 0..g.universe().instruments().len() {
        let inst = g.universe().instrument(i).unwrap().clone();
        for day in [1, 30, 60] {
            let tape = g.tape(i, day).unwrap();
            assert!(!tape.trades.is_empty());
            let lot = rules.lots.round_lot(inst.exchange);
            for t in &tape.trades {
                let p = Price::new(t.price).unwrap();
                assert!(
                    tape.limits.contains(p),
                    "{} {} outside band",
                    inst.symbol,
                    t.price
                );
                assert!(
                    rules.is_on_tick(inst.exchange, inst.kind, Board::Main, p),
                    "{} {} off tick",
                    inst.symbol,
                    t.price
                );
                assert_eq!(t.volume % lot, 0);
                let phase = g.phase(inst.exchange, inst.kind, tape.date, t.secs);
                assert!(
                    phase.is_open() || t.phase != Phase::Continuous,
                    "{} trade at {} during {phase}",
                    inst.symbol,
                    t.secs
                );
            }
        }
    }
}

#[test]
fn the_last_print_is_the_close_and_tomorrows_reference_off_upcom() {
    let g = generator(4);
    for i in 0..g.universe().instruments().len() {
        let s = g.summary(i, 10).unwrap();
        assert_eq!(s.close, g.close(i, 10));
        assert_eq!(g.previous_close(i, 11), s.close);
        if g.universe().instrument(i).unwrap().exchange != Exchange::Upcom {
            assert_eq!(g.reference(i, 11), s.close);
        }
        assert!(s.low <= s.open && s.open <= s.high);
        assert!(s.low <= s.close && s.close <= s.high);
    }
}

#[test]
fn upcom_references_are_the_previous_days_continuous_vwap_on_tick() {
    let g = generator(4);
    let rules = MarketRules::default();
    let mut differs_from_close = 0;
    let mut checked = 0;
    for (i, inst) in g.universe().instruments().iter().enumerate() {
        if inst.exchange != Exchange::Upcom {
            continue;
        }
        for day in [0, 1, 17, 59] {
            let tape = g.tape(i, day).unwrap();
            // Σ price × volume / Σ volume of yesterday's continuous prints, by hand.
            let (mut value, mut volume) = (0i128, 0i128);
            for t in tape.trades.iter().filter(|t| t.phase == Phase::Continuous) {
                value += i128::from(t.price) * i128::from(t.volume);
                volume += i128::from(t.volume);
            }
            assert!(volume > 0);
            let vwap = value as f64 / volume as f64;
            let reference = g.reference(i, day + 1);
            // Exactly `market`'s rule over that tape...
            let previous = PreviousSession {
                reference: tape.limits.reference,
                close: tape.trades.last().and_then(|t| Price::new(t.price).ok()),
                continuous: Vwap::from_totals(value, volume),
            };
            assert_eq!(
                rules
                    .next_reference(inst.exchange, inst.kind, &previous)
                    .unwrap()
                    .units(),
                reference
            );
            // ... which is the VWAP to the nearest tick.
            let tick = rules
                .tick_size(
                    inst.exchange,
                    inst.kind,
                    Board::Main,
                    Price::new(reference).unwrap(),
                )
                .units();
            assert_eq!(
                reference % tick,
                0,
                "{} day {day}: {reference} off tick",
                inst.symbol
            );
            assert!(
                (reference as f64 - vwap).abs() <= tick as f64 / 2.0,
                "{} day {day}: reference {reference}, VWAP {vwap}",
                inst.symbol
            );
            // Tomorrow's band is UPCoM's ±15% around it.
            let limits = g.limits(i, day + 1).unwrap();
            assert_eq!(limits.reference.units(), reference);
            assert_eq!(
                limits,
                rules
                    .price_limits(
                        inst.exchange,
                        inst.kind,
                        limits.reference,
                        LimitCase::Normal
                    )
                    .unwrap()
            );
            assert_eq!(g.tape(i, day + 1).unwrap().limits, limits);
            differs_from_close += usize::from(reference != tape.trades.last().unwrap().price);
            checked += 1;
        }
    }
    assert!(checked >= 100, "{checked} UPCoM days checked");
    assert!(
        differs_from_close * 2 > checked,
        "the VWAP is not the close: {differs_from_close} of {checked} differ"
    );
}

#[test]
fn generation_is_deterministic_for_a_seed() {
    let a = generator(11);
    let b = generator(11);
    let c = generator(12);
    assert_eq!(a.tape(5, 20).unwrap(), b.tape(5, 20).unwrap());
    assert_ne!(a.tape(5, 20).unwrap(), c.tape(5, 20).unwrap());
}

#[test]
fn index_value_starts_at_its_base() {
    let g = generator(2);
    let (pos, def) = g.universe().index("VN30").unwrap();
    let base = g.index_value(pos, |m| g.universe().instrument(m).unwrap().base_price);
    assert!((base - def.base_value).abs() < 0.01);
}
