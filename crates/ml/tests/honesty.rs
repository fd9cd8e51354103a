//! The two honesty tests: on the simulator's market with a planted, known signal the pipeline
//! finds it out of sample; on a pure random walk it finds nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fcsim::tape::{Generator, MarketModel};
use fcsim::universe::{Universe, UniverseSize};
use market::{MarketRules, TradingCalendar};
use ml::model::ModelKind;
use ml::select::Selection;
use ml::train::Recipe;
use ml::validate::{Scores, WalkForward, walk_forward, walk_forward_with};
use ml::{Panel, features, labels};
use time::Date;

/// Daily closes of 60 HOSE stocks over three years of the simulator's market.
fn market(planted_reversal: f64, mean_reversion: f64, seed: u64) -> Panel {
    let calendar = TradingCalendar::embedded().unwrap();
    let today = Date::from_calendar_date(2025, time::Month::June, 10).unwrap();
    let size = UniverseSize {
        hose: 60,
        hnx: 0,
        upcom: 0,
    };
    let mut model = MarketModel::default();
    model.stock.planted_reversal = planted_reversal;
    model.stock.mean_reversion = mean_reversion;
    let universe = Universe::generate_with(seed, size, &calendar, today, &model);
    let g = Generator::with_model(
        seed,
        MarketRules::default(),
        calendar,
        universe,
        today,
        750,
        0,
        model,
    )
    .unwrap();
    let symbols: Vec<String> = g
        .universe()
        .instruments()
        .iter()
        .map(|i| i.symbol.to_string())
        .collect();
    let n = symbols.len();
    let days = g.days().len();
    let close: Vec<f64> = (0..days)
        .flat_map(|d| (0..n).map(move |i| (d, i)))
        .map(|(d, i)| g.close(i, d) as f64)
        .collect();
    Panel::new(
        symbols,
        (0..days as i64).collect(),
        close,
        vec![f64::NAN; days * n],
    )
    .unwrap()
}

fn out_of_sample(p: &Panel, select: Option<Selection>) -> Scores {
    let f = features::batch(p);
    let y = labels::forward_returns(p, 1);
    let split = WalkForward {
        train_dates: None,
        test_dates: 50,
        horizon: 1,
        embargo: 1,
        min_train_dates: 250,
    };
    walk_forward(&f, &y, &split, 0.01, select).unwrap().1
}

/// The same walk-forward with gradient-boosted trees or the neural network (the recipe's
/// defaults).
fn out_of_sample_of(p: &Panel, model: ModelKind) -> Scores {
    let f = features::batch(p);
    let y = labels::forward_returns(p, 1);
    let recipe = Recipe {
        model,
        test_dates: 50,
        min_train_dates: 250,
        ..Recipe::default()
    };
    walk_forward_with(&f, &y, &recipe.split(), None, &|rows, y| {
        recipe.fit(rows, y)
    })
    .unwrap()
    .1
}

#[test]
fn a_planted_reversal_is_found_out_of_sample() {
    let planted = market(0.2, 0.002, 11);
    let s = out_of_sample(&planted, None);
    eprintln!("planted reversal 0.2: {s:?}");
    assert!(s.dates > 400, "{s:?}");
    assert!(s.ic > 0.1 && s.t_stat > 8.0, "{s:?}");
    assert!(s.rank_ic > 0.04 && s.hit_rate > 0.52, "{s:?}");
    // Four features chosen by the QUBO (relevance minus redundancy) on each training window
    // still carry the signal.
    let s = out_of_sample(&planted, Some(Selection { k: 4, alpha: 1.0 }));
    eprintln!("planted reversal 0.2, 4 features chosen by QUBO: {s:?}");
    assert!(s.ic > 0.1 && s.t_stat > 8.0, "{s:?}");
    // Gradient-boosted trees find it too.
    let s = out_of_sample_of(&planted, ModelKind::Gbt);
    eprintln!("planted reversal 0.2, gradient-boosted trees: {s:?}");
    assert!(s.ic > 0.1 && s.t_stat > 8.0, "{s:?}");
    // And the neural network.
    let s = out_of_sample_of(&planted, ModelKind::Mlp);
    eprintln!("planted reversal 0.2, neural network: {s:?}");
    assert!(s.ic > 0.1 && s.t_stat > 8.0, "{s:?}");
}

#[test]
fn a_random_walk_gives_no_signal() {
    for seed in [11, 12] {
        let walk = market(0.0, 0.0, seed);
        let s = out_of_sample(&walk, None);
        eprintln!("random walk, seed {seed}: {s:?}");
        assert!(s.dates > 400, "{s:?}");
        assert!(
            s.t_stat.abs() < 2.5 && s.ic.abs() < 0.02,
            "seed {seed}: {s:?}"
        );
        for model in [ModelKind::Gbt, ModelKind::Mlp] {
            let s = out_of_sample_of(&walk, model);
            eprintln!("random walk, seed {seed}, {}: {s:?}", model.name());
            assert!(
                s.t_stat.abs() < 2.5 && s.ic.abs() < 0.02,
                "seed {seed}, {}: {s:?}",
                model.name()
            );
        }
    }
}
