use market::limits::{PreviousSession, Vwap};

use super::*;
use crate::universe::{Liquidity, UniverseSize};

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
            if inst.liquidity != Liquidity::Illiquid {
                assert!(!tape.trades.is_empty(), "{} day {day}", inst.symbol);
            }
            assert!(tape.trades.windows(2).all(|w| w[0].secs <= w[1].secs));
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
            let reference = g.reference(i, day + 1);
            if volume == 0 {
                // Nothing traded: the reference carries over (§5.3).
                assert_eq!(reference, g.reference(i, day), "{} day {day}", inst.symbol);
                continue;
            }
            let vwap = value as f64 / volume as f64;
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
    assert!(checked >= 60, "{checked} UPCoM days checked");
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

#[test]
fn the_daily_summary_is_the_summary_of_the_tape() {
    let g = generator(6);
    for i in 0..g.universe().instruments().len() {
        for day in [0, 13, 40] {
            let tape = g.tape(i, day).unwrap();
            assert_eq!(g.summary(i, day).unwrap(), summarize(&tape));
            assert_eq!(g.summary(i, day).unwrap().close, g.close(i, day));
        }
    }
}

#[test]
fn illiquid_names_skip_days_and_liquid_names_trade_every_day() {
    let g = generator(7);
    let (mut illiquid_days, mut illiquid_empty) = (0, 0);
    for (i, inst) in g.universe().instruments().iter().enumerate() {
        for day in 0..g.days().len() {
            let s = g.summary(i, day).unwrap();
            match inst.liquidity {
                Liquidity::Liquid | Liquidity::Mid => {
                    assert!(s.volume > 0, "{} day {day} did not trade", inst.symbol)
                }
                Liquidity::Illiquid => {
                    illiquid_days += 1;
                    if s.volume == 0 {
                        illiquid_empty += 1;
                        // No trade: every price is the reference.
                        let r = s.limits.reference.units();
                        assert_eq!((s.open, s.high, s.low, s.close), (r, r, r, r));
                    }
                }
            }
        }
    }
    let share = f64::from(illiquid_empty) / f64::from(illiquid_days);
    assert!(
        (0.1..0.8).contains(&share),
        "{share} of illiquid days without a trade"
    );
}

/// Every (instrument, day) whose close sits at a limit the day's latent price went beyond.
fn locked_days(g: &Generator) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    for i in 0..g.universe().instruments().len() {
        for day in 0..g.days().len() {
            let p = g.day_prices(i, day).unwrap();
            let limits = g.limits(i, day).unwrap();
            let target = (p.reference as f64).ln() + f64::from(p.target);
            if p.trades > 20 && p.close == limits.ceiling.units() && target > (p.close as f64).ln()
            {
                out.push((i, day, true));
            }
            if p.trades > 20 && p.close == limits.floor.units() && target < (p.close as f64).ln() {
                out.push((i, day, false));
            }
        }
    }
    out
}

#[test]
fn a_locked_limit_day_trades_only_at_the_limit_with_a_queue_and_no_other_side() {
    let g = generator(8);
    let locked = locked_days(&g);
    assert!(
        locked.iter().any(|l| l.2) && locked.iter().any(|l| !l.2),
        "{} locked days",
        locked.len()
    );
    for &(i, day, up) in &locked {
        let tape = g.tape(i, day).unwrap();
        let limit = if up {
            tape.limits.ceiling.units()
        } else {
            tape.limits.floor.units()
        };
        let continuous: Vec<&Trade> = tape
            .trades
            .iter()
            .filter(|t| t.phase == Phase::Continuous)
            .collect();
        // The day ends with a run of trades at the limit: buyers may lift the last asks at
        // the ceiling (sellers hit the last bids at the floor) before it locks; once the
        // queue forms, every trade is the other side hitting it.
        let run: Vec<&&Trade> = continuous
            .iter()
            .rev()
            .take_while(|t| t.price == limit)
            .collect();
        assert!(!run.is_empty(), "{i} day {day} never reached the limit");
        let side = if up { Aggressor::Sell } else { Aggressor::Buy };
        let locked: Vec<&&&Trade> = run.iter().rev().skip_while(|t| t.side != side).collect();
        assert!(!locked.is_empty(), "{i} day {day}: no trade hit the queue");
        assert!(locked.iter().all(|t| t.side == side), "{i} day {day}");
        assert_eq!(tape.trades.last().unwrap().price, limit);
        let k = tape.trades.len() - 1;
        let (bids, asks) = g.quote_book(&tape, k, 3);
        let (queue, other) = if up { (&bids, &asks) } else { (&asks, &bids) };
        assert!(
            other.is_empty(),
            "nothing to match at the limit: {bids:?} {asks:?}"
        );
        assert_eq!(queue[0].0, limit);
        let normal = queue.get(1).map_or(0, |l| l.1);
        assert!(queue[0].1 > normal, "a queue at the limit: {queue:?}");
    }
}

#[test]
fn quoted_spreads_are_a_tick_for_liquid_names_and_wider_for_illiquid_ones() {
    let g = generator(9);
    let rules = MarketRules::default();
    let (mut liquid, mut illiquid) = (Vec::new(), Vec::new());
    for (i, inst) in g.universe().instruments().iter().enumerate() {
        if inst.kind != InstrumentKind::Stock {
            continue;
        }
        for day in [5, 25, 45] {
            let tape = g.tape(i, day).unwrap();
            for k in (0..tape.trades.len()).step_by(7) {
                let (bids, asks) = g.quote_book(&tape, k, 3);
                let (Some(b), Some(a)) = (bids.first(), asks.first()) else {
                    continue;
                };
                assert!(b.0 < a.0, "{} crossed: {bids:?} {asks:?}", inst.symbol);
                for (p, v) in bids.iter().chain(&asks) {
                    assert!(tape.limits.contains(Price::new(*p).unwrap()));
                    assert_eq!(v % 100, 0);
                }
                let tick = rules
                    .tick_size(
                        inst.exchange,
                        inst.kind,
                        Board::Main,
                        Price::new(b.0).unwrap(),
                    )
                    .units();
                let ticks = (a.0 - b.0) / tick;
                match inst.liquidity {
                    Liquidity::Liquid => liquid.push(ticks),
                    Liquidity::Illiquid => illiquid.push(ticks),
                    Liquidity::Mid => {}
                }
            }
        }
    }
    assert!(!liquid.is_empty() && !illiquid.is_empty());
    assert!(liquid.iter().all(|t| *t == 1), "liquid spreads: {liquid:?}");
    let wide = illiquid.iter().filter(|t| **t >= 2).count();
    assert!(wide * 2 > illiquid.len(), "illiquid spreads: {illiquid:?}");
}

#[test]
fn trades_crowd_the_open_and_the_close_and_none_print_at_lunch() {
    let g = generator(10);
    let day = 30;
    let (mut edge, mut middle) = (0u64, 0u64);
    for i in 0..g.universe().instruments().len() {
        let inst = g.universe().instrument(i).unwrap();
        if inst.exchange != Exchange::Hose {
            continue;
        }
        for t in g.tape(i, day).unwrap().trades {
            assert!(!(41_400..46_800).contains(&t.secs), "a trade at lunch");
            if t.phase != Phase::Continuous {
                continue;
            }
            // HOSE: continuous 09:15-11:30 and 13:00-14:30.
            if (33_300..35_100).contains(&t.secs) || (50_400..52_200).contains(&t.secs) {
                edge += 1;
            } else if (37_800..41_400).contains(&t.secs) || (46_800..48_600).contains(&t.secs) {
                middle += 1;
            }
        }
    }
    // Per minute: 60 edge minutes, 90 middle minutes.
    let ratio = (edge as f64 / 60.0) / (middle as f64 / 90.0);
    assert!(ratio > 1.5, "edge/middle trade rate {ratio}");
}

#[test]
fn futures_follow_the_vn30_index_of_their_constituents() {
    let g = generator(11);
    let (vn30, _) = g.universe().index("VN30").unwrap();
    let futures: Vec<usize> = (0..g.universe().instruments().len())
        .filter(|&i| g.universe().instrument(i).unwrap().kind == InstrumentKind::IndexFuture)
        .collect();
    assert!(!futures.is_empty());
    for day in 0..g.days().len() {
        let index = g.index_value(vn30, |m| g.close(m, day));
        for &f in &futures {
            let close = g.close(f, day) as f64 / 10.0;
            let limits = g.limits(f, day).unwrap();
            let clipped = g.close(f, day) == limits.ceiling.units()
                || g.close(f, day) == limits.floor.units();
            if g.summary(f, day).unwrap().volume > 0 && !clipped {
                assert!(
                    (close / index - 1.0).abs() < 0.015,
                    "day {day}: future {close} vs index {index}"
                );
            }
        }
    }
}

#[test]
fn a_market_sell_off_takes_most_stocks_down_together() {
    let g = generator(12);
    let worst = (0..g.days().len())
        .min_by(|a, b| g.path.market[*a].total_cmp(&g.path.market[*b]))
        .unwrap();
    let best = (0..g.days().len())
        .max_by(|a, b| g.path.market[*a].total_cmp(&g.path.market[*b]))
        .unwrap();
    let moves = |day: usize| -> (usize, usize) {
        let mut down_up = (0, 0);
        for (i, inst) in g.universe().instruments().iter().enumerate() {
            if inst.kind != InstrumentKind::Stock || inst.exchange == Exchange::Upcom {
                continue;
            }
            let (before, after) = (g.previous_close(i, day), g.close(i, day));
            if g.summary(i, day).unwrap().volume == 0 {
                continue;
            }
            if after < before {
                down_up.0 += 1;
            } else if after > before {
                down_up.1 += 1;
            }
        }
        down_up
    };
    let (down, up) = moves(worst);
    assert!(down > 3 * up, "worst market day: {down} down, {up} up");
    let (down, up) = moves(best);
    assert!(up > 3 * down, "best market day: {down} down, {up} up");
}

#[test]
fn a_model_outside_its_domain_is_refused() {
    let calendar = TradingCalendar::embedded().unwrap();
    let today = Date::from_calendar_date(2025, time::Month::June, 10).unwrap();
    let size = UniverseSize {
        hose: 5,
        hnx: 0,
        upcom: 0,
    };
    let mut model = MarketModel::default();
    model.regimes.calm_to_turbulent = 1.5;
    let universe = Universe::generate_with(1, size, &calendar, today, &model);
    let err = Generator::with_model(
        1,
        MarketRules::default(),
        calendar,
        universe,
        today,
        10,
        1,
        model,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("regimes.calm_to_turbulent"),
        "{err}"
    );
}

/// A market of `stocks` HOSE stocks only under `model`, `history` trading days before
/// 2025-06-10 and `horizon` after.
fn hose_market(
    seed: u64,
    stocks: usize,
    history: u32,
    horizon: u32,
    model: MarketModel,
) -> Generator {
    let calendar = TradingCalendar::embedded().unwrap();
    let today = Date::from_calendar_date(2025, time::Month::June, 10).unwrap();
    let size = UniverseSize {
        hose: stocks,
        hnx: 0,
        upcom: 0,
    };
    let universe = Universe::generate_with(seed, size, &calendar, today, &model);
    Generator::with_model(
        seed,
        MarketRules::default(),
        calendar,
        universe,
        today,
        history,
        horizon,
        model,
    )
    .unwrap()
}

#[test]
fn a_model_changes_the_market_and_the_default_model_is_the_default_market() {
    let calendar = TradingCalendar::embedded().unwrap();
    let today = Date::from_calendar_date(2025, time::Month::June, 10).unwrap();
    let size = UniverseSize {
        hose: 10,
        hnx: 0,
        upcom: 0,
    };
    let build = |model: MarketModel| hose_market(3, 10, 30, 1, model);
    let plain = Generator::new(
        3,
        MarketRules::default(),
        calendar.clone(),
        Universe::generate(3, size, &calendar, today),
        today,
        30,
        1,
    );
    let default = build(MarketModel::default());
    assert_eq!(plain.tape(2, 20).unwrap(), default.tape(2, 20).unwrap());
    let mut calm = MarketModel::default();
    calm.market.vol = 0.001;
    calm.regimes.calm_to_turbulent = 0.0;
    let calm = build(calm);
    assert_ne!(calm.tape(2, 20).unwrap(), default.tape(2, 20).unwrap());
}

#[test]
fn turbulent_regimes_bring_wilder_days_more_limit_days_and_more_co_movement() {
    // Ground truth from the generator's own regime path, over four years of the 30
    // VN30 names (the client-side measure of the same facts is `stats`).
    let calendar = TradingCalendar::embedded().unwrap();
    let today = Date::from_calendar_date(2025, time::Month::June, 10).unwrap();
    let size = UniverseSize {
        hose: 30,
        hnx: 0,
        upcom: 0,
    };
    let universe = Universe::generate(5, size, &calendar, today);
    let g = Generator::new(
        5,
        MarketRules::default(),
        calendar,
        universe,
        today,
        1_000,
        0,
    );
    #[derive(Default)]
    struct Tally {
        days: f64,
        abs: f64,
        comovement: f64,
        limits: f64,
    }
    let (mut calm, mut turbulent) = (Tally::default(), Tally::default());
    for day in 1..g.days().len() {
        let rets: Vec<f64> = (0..30)
            .map(|i| (g.close(i, day) as f64 / g.close(i, day - 1) as f64).ln())
            .collect();
        let (sum, squares): (f64, f64) = (rets.iter().sum(), rets.iter().map(|x| x * x).sum());
        let limits = (0..30)
            .filter(|&i| {
                let l = g.limits(i, day).unwrap();
                g.close(i, day) == l.ceiling.units() || g.close(i, day) == l.floor.units()
            })
            .count();
        let t = if g.turbulent(day) {
            &mut turbulent
        } else {
            &mut calm
        };
        t.days += 1.0;
        t.abs += rets.iter().map(|x| x.abs()).sum::<f64>() / 30.0;
        t.comovement += (sum * sum - squares) / (29.0 * squares.max(1e-12));
        t.limits += limits as f64 / 30.0;
    }
    assert!(turbulent.days > 50.0 && calm.days > 200.0);
    let per_day = |t: &Tally| (t.abs / t.days, t.comovement / t.days, t.limits / t.days);
    let (calm_abs, calm_co, calm_limits) = per_day(&calm);
    let (wild_abs, wild_co, wild_limits) = per_day(&turbulent);
    assert!(wild_abs > 1.5 * calm_abs, "|r| {wild_abs} vs {calm_abs}");
    assert!(
        wild_co > calm_co + 0.05,
        "co-movement {wild_co} vs {calm_co}"
    );
    assert!(
        wild_limits > 3.0 * calm_limits,
        "limit days {wild_limits} vs {calm_limits}"
    );
}

#[test]
fn a_planted_reversal_shows_as_negative_lag_one_autocorrelation_and_is_off_by_default() {
    // Pooled lag-one autocorrelation of the close-to-close log returns of every stock.
    let autocorrelation = |planted: f64| {
        let mut model = MarketModel::default();
        model.stock.planted_reversal = planted;
        let g = hose_market(5, 30, 500, 0, model);
        let (mut xy, mut xx) = (0.0, 0.0);
        for i in 0..g.universe().instruments().len() {
            let r: Vec<f64> = (1..g.days().len())
                .map(|d| (g.close(i, d) as f64 / g.close(i, d - 1) as f64).ln())
                .collect();
            let mean = r.iter().sum::<f64>() / r.len() as f64;
            for w in r.windows(2) {
                xy += (w[0] - mean) * (w[1] - mean);
                xx += (w[0] - mean).powi(2);
            }
        }
        xy / xx
    };
    let off = autocorrelation(0.0);
    let on = autocorrelation(0.3);
    assert!(
        off.abs() < 0.05,
        "no planted signal, yet lag-one autocorrelation {off}"
    );
    assert!(
        on < -0.15,
        "planted reversal 0.3, lag-one autocorrelation {on}"
    );
    let mut bad = MarketModel::default();
    bad.stock.planted_reversal = 0.7;
    assert!(bad.validate().is_err());
}
