//! The agent's honesty tests: on a generated market with a planted one-day reversal it learns a
//! policy that makes money after costs on dates it never saw, trading, and beats every random
//! policy of its form; on a random walk it learns to (all but) stay out — nothing it could trade
//! pays its fees and tax. Every episode goes through the backtest's matching engine, fees, sale
//! tax, lots and T+2. (Random policies lose to costs on either market: beating them alone proves
//! little, which is why the random walk is the control.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backtest::Config;
use rl::cem::{self, Settings};
use rl::{Judged, Market};
use time::Date;

fn market(reversal: f64, seed: u64) -> Market {
    let rules = market::MarketRules::default();
    let calendar = rules.calendar().unwrap();
    let first = Date::from_calendar_date(2016, time::Month::January, 4).unwrap();
    let bars =
        backtest::data::synthetic(30, 450, first, seed, reversal, &rules, &calendar).unwrap();
    Market::new(bars, Config::fleet().unwrap()).unwrap()
}

fn settings() -> Settings {
    Settings {
        population: 16,
        elite: 4,
        generations: 8,
        threads: 2,
        ..Settings::default()
    }
}

/// Trains on the first 300 dates and judges on the rest.
fn learn(m: &Market) -> (cem::Trained, Judged) {
    let dates = m.dates();
    let s = settings();
    let trained = cem::train(m, dates[1], dates[299], &s).unwrap();
    let judged = rl::judge(m, &trained.policy, dates[300], dates[449], 16, &s).unwrap();
    (trained, judged)
}

#[test]
fn a_planted_reversal_is_traded_out_of_sample() {
    let m = market(0.2, 3);
    let (trained, judged) = learn(&m);
    let (mean, sd) = judged.random_moments();
    eprintln!(
        "planted: train {:+.4}, generations {:?}\ntest agent {:+.4} (sharpe {:.2}, fills {}), random {mean:+.4} ± {sd:.4}, beats {}/{}, market {:+.4}",
        trained.train_return,
        trained.generations,
        judged.agent.total_return,
        judged.agent.sharpe,
        judged.agent.trades,
        judged.beaten(),
        judged.random.len(),
        judged.market
    );
    assert!(trained.generations.len() == 8 && trained.episodes == 8 * 16 + 1);
    let agent = &judged.agent;
    assert!(agent.total_return > 0.0 && agent.trades >= 20, "{agent:?}");
    assert_eq!(judged.beaten(), judged.random.len());
    // The search improved on its start.
    let (first, last) = (&trained.generations[0], &trained.generations[7]);
    assert!(last.elite > first.elite, "{first:?} {last:?}");
}

#[test]
fn a_random_walk_teaches_nothing_that_lasts() {
    for seed in [3, 4] {
        let m = market(0.0, seed);
        let (trained, judged) = learn(&m);
        let (mean, sd) = judged.random_moments();
        eprintln!(
            "walk {seed}: train {:+.4}\ntest agent {:+.4} (sharpe {:.2}, fills {}), random {mean:+.4} ± {sd:.4}, beats {}/{}, market {:+.4}",
            trained.train_return,
            judged.agent.total_return,
            judged.agent.sharpe,
            judged.agent.trades,
            judged.beaten(),
            judged.random.len(),
            judged.market
        );
        assert!(
            judged.agent.total_return.abs() < 0.002,
            "seed {seed}: {:?}",
            judged.agent
        );
    }
}

#[test]
fn the_search_is_seeded_and_bad_settings_are_refused_by_name() {
    let m = market(0.2, 5);
    let dates = m.dates();
    let s = Settings {
        population: 4,
        elite: 2,
        generations: 2,
        ..Settings::default()
    };
    let a = cem::train(&m, dates[1], dates[60], &s).unwrap();
    let b = cem::train(&m, dates[1], dates[60], &Settings { threads: 1, ..s }).unwrap();
    assert_eq!(a.policy, b.policy);
    assert_eq!(a.generations, b.generations);
    for (bad, needle) in [
        (Settings { population: 2, ..s }, "population"),
        (Settings { elite: 5, ..s }, "elite"),
        (
            Settings {
                generations: 0,
                ..s
            },
            "generations",
        ),
        (Settings { sigma: 0.0, ..s }, "sigma"),
        (Settings { threads: 0, ..s }, "threads"),
    ] {
        let e = cem::train(&m, dates[1], dates[60], &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{e}");
    }
    let e = cem::train(&m, dates[60], dates[1], &s)
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty"), "{e}");
}
