//! Training a model from a panel in one call, and predicting with a saved one: the steps `qts ml
//! evaluate` and the prediction service share. [`train`] scores the recipe walk-forward (purged,
//! embargoed) for honest out-of-sample metrics, then fits the model to keep on every date whose
//! label is known; [`predict`] scores one date's cross-section with a saved model.

use serde::{Deserialize, Serialize};

use crate::linear::FitError;
use crate::model::{Model, ModelKind, TreeParams};
use crate::net::NetParams;
use crate::registry::Artefact;
use crate::validate::{WalkForward, walk_forward_with};
use crate::{Panel, features, labels};

/// How a model is trained: the label, the penalty and the walk-forward that scores it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Label horizon, in dates (forward return from one close to the close `horizon` later).
    pub horizon: usize,
    /// Ridge penalty on standardised features.
    pub lambda: f64,
    /// Dates of each walk-forward test block.
    pub test_dates: usize,
    /// Dates before the first test block.
    pub min_train_dates: usize,
    /// Dates dropped after the purge, before each test block.
    pub embargo: usize,
    /// The model: `ridge` (default), `gbt` or `mlp`.
    #[serde(default)]
    pub model: ModelKind,
    /// How the gradient-boosted trees grow (`gbt` only).
    #[serde(default)]
    pub trees: TreeParams,
    /// How the neural network is shaped and trained (`mlp` only).
    #[serde(default)]
    pub net: NetParams,
}

impl Default for Recipe {
    fn default() -> Self {
        Self {
            horizon: 1,
            lambda: 0.01,
            test_dates: 50,
            min_train_dates: 250,
            embargo: 1,
            model: ModelKind::Ridge,
            trees: TreeParams::default(),
            net: NetParams::default(),
        }
    }
}

/// Why a model could not be trained or used.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The recipe's numbers are out of range.
    #[error("{0}")]
    Recipe(String),
    /// Too few dates for the walk-forward.
    #[error(
        "{dates} dates of bars; the walk-forward needs more than {needed} (min_train_dates + horizon + embargo)"
    )]
    TooFewDates {
        /// Dates in the panel.
        dates: usize,
        /// What the recipe needs, exclusive.
        needed: usize,
    },
    /// The model could not be fitted.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// A saved model was trained on other features than the pipeline computes.
    #[error("model {version} was trained on features {saved:?}; this pipeline computes {now:?}")]
    Features {
        /// The model's version.
        version: u32,
        /// Its features.
        saved: Vec<String>,
        /// The pipeline's.
        now: Vec<String>,
    },
}

impl Recipe {
    /// The most dates a horizon may span.
    pub const MAX_HORIZON: usize = 60;

    /// Checks the numbers.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |what: &str| Err(TrainError::Recipe(what.to_owned()));
        if !(1..=Self::MAX_HORIZON).contains(&self.horizon) {
            return bad("horizon must be 1 to 60 dates");
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0 && self.lambda <= 1e6) {
            return bad("lambda must be a number from 0 to 1e6");
        }
        if !(1..=1000).contains(&self.test_dates) {
            return bad("test_dates must be 1 to 1000");
        }
        if !(5..=5000).contains(&self.min_train_dates) {
            return bad("min_train_dates must be 5 to 5000");
        }
        if self.embargo > 60 {
            return bad("embargo must be at most 60 dates");
        }
        if let Err(e) = self.trees.check() {
            return Err(TrainError::Recipe(format!("trees: {e}")));
        }
        if let Err(e) = self.net.check() {
            return Err(TrainError::Recipe(format!("net: {e}")));
        }
        Ok(())
    }

    /// Fits this recipe's model to `rows` and `y`.
    pub fn fit(&self, rows: &[&[f64]], y: &[f64]) -> Result<Model, FitError> {
        Model::fit(self.model, rows, y, self.lambda, self.trees, self.net)
    }

    /// The walk-forward split of this recipe (expanding window).
    pub fn split(&self) -> WalkForward {
        WalkForward {
            train_dates: None,
            test_dates: self.test_dates,
            horizon: self.horizon,
            embargo: self.embargo,
            min_train_dates: self.min_train_dates,
        }
    }
}

/// What a prediction says once ranked in its day's cross-section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// In the top share: buy.
    Long,
    /// In the bottom share: leave.
    Exit,
    /// Neither.
    Hold,
}

impl Call {
    /// The signal name strategies follow: `prediction_long`, `prediction_exit`,
    /// `prediction_hold`.
    pub fn name(self) -> &'static str {
        match self {
            Call::Long => "prediction_long",
            Call::Exit => "prediction_exit",
            Call::Hold => "prediction_hold",
        }
    }

    /// +1, -1 or 0.
    pub fn direction(self) -> i32 {
        match self {
            Call::Long => 1,
            Call::Exit => -1,
            Call::Hold => 0,
        }
    }
}

/// One prediction ranked among its day's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// 0 (lowest score) to 1 (highest).
    pub percentile: f64,
    /// 1 for the highest score.
    pub rank: usize,
    /// Predictions ranked that day.
    pub of: usize,
    /// Long, exit or hold.
    pub call: Call,
}

impl Ranked {
    /// The prediction in words, as the prediction service publishes it and `qts backtest
    /// --registry` trades it: `model 3 predicts +0.400% over 1 day(s) from the 2025-06-09
    /// close: rank 2 of 30`.
    pub fn describe(&self, version: u32, horizon: usize, score: f64, date: &str) -> String {
        format!(
            "model {version} predicts {:+.3}% over {horizon} day(s) from the {date} close: rank {} of {}",
            score * 100.0,
            self.rank,
            self.of
        )
    }
}

/// Ranks one day's predictions (NaN: none for that symbol): the top `long` share (rounded up)
/// is [`Call::Long`], the bottom `exit` share [`Call::Exit`], the rest [`Call::Hold`]; ties
/// keep column order.
pub fn rank_day(scores: &[f64], long: f64, exit: f64) -> Vec<Option<Ranked>> {
    let mut order: Vec<usize> = (0..scores.len())
        .filter(|&s| scores[s].is_finite())
        .collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    let m = order.len();
    let top = (((m as f64) * long).ceil() as usize).min(m);
    let bottom = ((m as f64) * exit).ceil() as usize;
    let mut out = vec![None; scores.len()];
    for (i, &s) in order.iter().enumerate() {
        let call = if i >= m - top {
            Call::Long
        } else if i < bottom {
            Call::Exit
        } else {
            Call::Hold
        };
        out[s] = Some(Ranked {
            percentile: if m > 1 {
                i as f64 / (m - 1) as f64
            } else {
                0.5
            },
            rank: m - i,
            of: m,
            call,
        });
    }
    out
}

/// Scores `recipe` walk-forward on `panel`, then fits the model to keep on every date whose
/// label is known: an unsaved artefact (version 0) created at `created` (Unix seconds) with the
/// out-of-sample scores as its metrics.
pub fn train(panel: &Panel, recipe: &Recipe, created: i64) -> Result<Artefact, TrainError> {
    recipe.check()?;
    let dates = panel.dates().len();
    let needed = recipe.min_train_dates + recipe.horizon + recipe.embargo;
    if dates <= needed {
        return Err(TrainError::TooFewDates { dates, needed });
    }
    let f = features::batch(panel);
    let y = labels::forward_returns(panel, recipe.horizon);
    let (_, scores) = walk_forward_with(&f, &y, &recipe.split(), None, &|rows, y| {
        recipe.fit(rows, y)
    })?;
    let symbols = panel.symbols().len();
    let last = dates - recipe.horizon;
    let (rows, targets): (Vec<&[f64]>, Vec<f64>) = (0..last)
        .flat_map(|d| (0..symbols).map(move |s| (d, s)))
        .filter(|&(d, s)| {
            y[d * symbols + s].is_finite() && f.row(d, s).iter().any(|v| v.is_finite())
        })
        .map(|(d, s)| (f.row(d, s), y[d * symbols + s]))
        .unzip();
    let model = recipe.fit(&rows, &targets)?;
    Ok(Artefact {
        version: 0,
        created,
        model,
        features: f.names().to_vec(),
        horizon: recipe.horizon,
        trained_on: (panel.dates()[0], panel.dates()[last - 1]),
        metrics: Some(scores),
        recipe: Some(*recipe),
    })
}

/// The saved model's predictions for every date of `panel` (dates × symbols, NaN where a symbol
/// has no features that date).
pub fn predict(artefact: &Artefact, panel: &Panel) -> Result<Vec<f64>, TrainError> {
    let f = features::batch(panel);
    if f.names() != artefact.features.as_slice() {
        return Err(TrainError::Features {
            version: artefact.version,
            saved: artefact.features.clone(),
            now: f.names().to_vec(),
        });
    }
    let (dates, symbols) = (panel.dates().len(), panel.symbols().len());
    let mut out = vec![f64::NAN; dates * symbols];
    let (at, rows): (Vec<usize>, Vec<&[f64]>) = (0..dates * symbols)
        .map(|i| (i, f.row(i / symbols, i % symbols)))
        .filter(|(_, row)| row.iter().any(|v| v.is_finite()))
        .unzip();
    for (i, p) in at.into_iter().zip(artefact.model.predict_rows(&rows)) {
        out[i] = p;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A panel whose next return is minus half of the last one, plus noise.
    fn reverting(dates: usize, symbols: usize) -> Panel {
        crate::synthetic::reverting(
            (0..dates as i64).collect(),
            symbols,
            0.5,
            0x2545_f491_4f6c_dd1d,
        )
    }

    #[test]
    fn a_trained_model_scores_out_of_sample_and_predicts_what_it_learned() {
        let panel = reverting(160, 20);
        let recipe = Recipe {
            min_train_dates: 60,
            test_dates: 20,
            ..Recipe::default()
        };
        let a = train(&panel, &recipe, 7).unwrap();
        let scores = a.metrics.unwrap();
        assert!(scores.ic > 0.3, "{scores:?}");
        assert_eq!(a.trained_on, (0, 158));
        assert_eq!(a.recipe, Some(recipe));
        let p = predict(&a, &panel).unwrap();
        // The last date: the biggest riser is predicted to fall most.
        let last = &p[159 * 20..];
        let rise = |s: usize| panel.closes(159)[s] / panel.closes(158)[s];
        let (top, bottom) = (0..20).fold((0, 0), |(t, b), s| {
            (
                if rise(s) > rise(t) { s } else { t },
                if rise(s) < rise(b) { s } else { b },
            )
        });
        assert!(last[top] < last[bottom], "{last:?}");
    }

    #[test]
    fn bad_recipes_and_short_panels_are_refused_by_name() {
        let panel = reverting(40, 5);
        let err = train(&panel, &Recipe::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("40 dates of bars") && err.contains("252"),
            "{err}"
        );
        let bad = Recipe {
            horizon: 0,
            ..Recipe::default()
        };
        assert!(
            train(&panel, &bad, 0)
                .unwrap_err()
                .to_string()
                .contains("horizon")
        );
        let bad = Recipe {
            lambda: f64::NAN,
            ..Recipe::default()
        };
        assert!(
            train(&panel, &bad, 0)
                .unwrap_err()
                .to_string()
                .contains("lambda")
        );
    }
}
