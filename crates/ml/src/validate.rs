//! Walk-forward validation with purged, embargoed splits, and the scores of a signal: IC
//! (Pearson correlation of prediction and realised return across symbols, per date), rank IC
//! (Spearman), ICIR (mean over standard deviation of the daily IC), the t-statistic of the
//! mean IC over non-overlapping dates, and the hit rate.

use std::ops::Range;

use crate::features::{Features, ranks};
use crate::linear::{FitError, Ridge};
use crate::model::Model;
use crate::select::{Selection, choose};
use crate::stats::{mean, pearson, stdev};

/// How to split dates into training and test blocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkForward {
    /// Dates of each training window; `None` trains on everything before (expanding).
    pub train_dates: Option<usize>,
    /// Dates of each test block.
    pub test_dates: usize,
    /// The label's horizon: a training date's label reaches `horizon` dates ahead, so the
    /// last `horizon` dates before a test block are purged from its training set.
    pub horizon: usize,
    /// Further dates dropped between training and test (serial correlation beyond the label).
    pub embargo: usize,
    /// The fewest training dates a fold may have.
    pub min_train_dates: usize,
}

/// One fold: train on `train`, predict `test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Training dates.
    pub train: Range<usize>,
    /// Test dates.
    pub test: Range<usize>,
}

impl WalkForward {
    /// The folds over `dates` dates: consecutive test blocks, each trained on the dates that
    /// end `horizon + embargo` dates before it.
    pub fn folds(&self, dates: usize) -> Vec<Fold> {
        let gap = self.horizon + self.embargo;
        let test = self.test_dates.max(1);
        let mut out = Vec::new();
        let mut start = self.min_train_dates + gap;
        while start < dates {
            let end = (start + test).min(dates);
            let train_end = start - gap;
            let train_start = self.train_dates.map_or(0, |t| train_end.saturating_sub(t));
            out.push(Fold {
                train: train_start..train_end,
                test: start..end,
            });
            start = end;
        }
        out
    }
}

/// How well a signal predicted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    /// Dates scored (with at least three symbols having a prediction and a label).
    pub dates: usize,
    /// Mean daily IC.
    #[serde(with = "nan_as_null")]
    pub ic: f64,
    /// Standard deviation of the daily IC.
    #[serde(with = "nan_as_null")]
    pub ic_std: f64,
    /// `ic / ic_std`.
    #[serde(with = "nan_as_null")]
    pub icir: f64,
    /// t-statistic of the mean IC over every `horizon`-th date (their labels do not overlap).
    #[serde(with = "nan_as_null")]
    pub t_stat: f64,
    /// Mean daily rank IC.
    #[serde(with = "nan_as_null")]
    pub rank_ic: f64,
    /// Share of (date, symbol) pairs where the prediction's side of the day's average is the
    /// realised return's side.
    #[serde(with = "nan_as_null")]
    pub hit_rate: f64,
}

/// NaN (a score with too few dates) as JSON `null`, which JSON has and NaN is not.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Scores `prediction` against `label` (both row-major dates × symbols) over `dates`.
pub fn score(
    prediction: &[f64],
    label: &[f64],
    symbols: usize,
    dates: Range<usize>,
    horizon: usize,
) -> Scores {
    let mut ics = Vec::new();
    let mut rank_ics = Vec::new();
    let mut kept_dates = Vec::new();
    let (mut hits, mut tries) = (0usize, 0usize);
    for d in dates {
        let pairs: Vec<(usize, f64, f64)> = (0..symbols)
            .map(|s| (s, prediction[d * symbols + s], label[d * symbols + s]))
            .filter(|(_, p, l)| p.is_finite() && l.is_finite())
            .collect();
        if pairs.len() < 3 {
            continue;
        }
        let p: Vec<f64> = pairs.iter().map(|x| x.1).collect();
        let l: Vec<f64> = pairs.iter().map(|x| x.2).collect();
        let Some(ic) = pearson(&p, &l) else { continue };
        let rp = ranks(&pairs.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>());
        let rl = ranks(&pairs.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>());
        let by_symbol = |r: &[(usize, f64)]| {
            let mut v: Vec<(usize, f64)> = r.to_vec();
            v.sort_by_key(|x| x.0);
            v.into_iter().map(|x| x.1).collect::<Vec<f64>>()
        };
        let rank_ic = pearson(&by_symbol(&rp), &by_symbol(&rl)).unwrap_or(0.0);
        let (mp, ml) = (mean(p.iter().copied()), mean(l.iter().copied()));
        for (a, b) in p.iter().zip(&l) {
            if *a != mp && *b != ml {
                tries += 1;
                hits += usize::from((*a > mp) == (*b > ml));
            }
        }
        ics.push(ic);
        rank_ics.push(rank_ic);
        kept_dates.push(d);
    }
    let ic = mean(ics.iter().copied());
    let ic_std = stdev(ics.iter().copied());
    // Non-overlapping labels: every `horizon`-th scored date.
    let spaced: Vec<f64> = ics.iter().step_by(horizon.max(1)).copied().collect();
    let t_stat = mean(spaced.iter().copied())
        / (stdev(spaced.iter().copied()) / (spaced.len() as f64).sqrt());
    Scores {
        dates: ics.len(),
        ic,
        ic_std,
        icir: ic / ic_std,
        t_stat,
        rank_ic: mean(rank_ics.iter().copied()),
        hit_rate: if tries == 0 {
            f64::NAN
        } else {
            hits as f64 / tries as f64
        },
    }
}

/// Out-of-sample predictions of ridge models trained fold by fold (on the features `select`
/// keeps, chosen on each fold's training rows), and their scores over the test dates.
pub fn walk_forward(
    features: &Features,
    label: &[f64],
    split: &WalkForward,
    lambda: f64,
    select: Option<Selection>,
) -> Result<(Vec<f64>, Scores), FitError> {
    walk_forward_with(features, label, split, select, &|rows, y| {
        Ok(Model::Ridge(Ridge::fit(rows, y, lambda)?))
    })
}

/// Trains a model on rows and their labels.
pub type Fit<'a> = &'a dyn Fn(&[&[f64]], &[f64]) -> Result<Model, FitError>;

/// [`walk_forward`] with any model: `fit` trains one on a fold's rows and labels.
pub fn walk_forward_with(
    features: &Features,
    label: &[f64],
    split: &WalkForward,
    select: Option<Selection>,
    fit: Fit<'_>,
) -> Result<(Vec<f64>, Scores), FitError> {
    let (dates, symbols) = (features.dates(), features.symbols());
    let mut prediction = vec![f64::NAN; dates * symbols];
    let folds = split.folds(dates);
    for fold in &folds {
        let mut rows: Vec<&[f64]> = Vec::new();
        let mut y = Vec::new();
        for d in fold.train.clone() {
            for s in 0..symbols {
                let row = features.row(d, s);
                if label[d * symbols + s].is_finite() && row.iter().any(|v| v.is_finite()) {
                    rows.push(row);
                    y.push(label[d * symbols + s]);
                }
            }
        }
        let columns: Vec<usize> = match select {
            Some(selection) => choose(&rows, &y, selection).map_err(FitError::Select)?,
            None => (0..features.names().len()).collect(),
        };
        let project = |row: &[f64]| columns.iter().map(|&c| row[c]).collect::<Vec<f64>>();
        let kept: Vec<Vec<f64>> = rows.iter().map(|r| project(r)).collect();
        let kept: Vec<&[f64]> = kept.iter().map(Vec::as_slice).collect();
        let model = fit(&kept, &y)?;
        let mut at = Vec::new();
        let mut test: Vec<Vec<f64>> = Vec::new();
        for d in fold.test.clone() {
            for s in 0..symbols {
                let row = features.row(d, s);
                if row.iter().any(|v| v.is_finite()) {
                    at.push(d * symbols + s);
                    test.push(project(row));
                }
            }
        }
        let test: Vec<&[f64]> = test.iter().map(Vec::as_slice).collect();
        for (i, p) in at.into_iter().zip(model.predict_rows(&test)) {
            prediction[i] = p;
        }
    }
    let tested = folds.first().map_or(dates, |f| f.test.start)..dates;
    let scores = score(&prediction, label, symbols, tested, split.horizon);
    Ok((prediction, scores))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn folds_purge_the_label_horizon_and_the_embargo() {
        let split = WalkForward {
            train_dates: None,
            test_dates: 10,
            horizon: 5,
            embargo: 2,
            min_train_dates: 20,
        };
        let folds = split.folds(50);
        assert_eq!(
            folds[0],
            Fold {
                train: 0..20,
                test: 27..37
            }
        );
        assert_eq!(
            folds[1],
            Fold {
                train: 0..30,
                test: 37..47
            }
        );
        assert_eq!(
            folds[2],
            Fold {
                train: 0..40,
                test: 47..50
            }
        );
        // No training label (date t reaches t + 5) reaches into its test block.
        for f in &folds {
            assert!(f.train.end - 1 + split.horizon < f.test.start);
        }
        let rolling = WalkForward {
            train_dates: Some(15),
            ..split
        };
        assert_eq!(rolling.folds(50)[1].train, 15..30);
    }

    #[test]
    fn a_perfect_signal_scores_one_and_its_opposite_minus_one() {
        let (dates, symbols) = (30, 5);
        let label: Vec<f64> = (0..dates * symbols)
            .map(|i| ((i * 37) % 17) as f64 - 8.0)
            .collect();
        let s = score(&label, &label, symbols, 0..dates, 1);
        assert!((s.ic - 1.0).abs() < 1e-12 && (s.rank_ic - 1.0).abs() < 1e-12);
        assert_eq!(s.hit_rate, 1.0);
        let opposite: Vec<f64> = label.iter().map(|x| -x).collect();
        let s = score(&opposite, &label, symbols, 0..dates, 1);
        assert!((s.ic + 1.0).abs() < 1e-12 && s.hit_rate == 0.0);
    }
}
