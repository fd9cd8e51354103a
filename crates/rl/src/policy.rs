//! The agent's policy: a linear score of what it observes of a symbol (standardised), and three numbers
//! that turn it into trades — buy when flat and the score clears `enter`; sell when held and the
//! score, less `patience` per close held, falls below `exit`.

use ml::train::Call;
use serde::{Deserialize, Serialize};

/// Clip of standardised features.
const CLIP: f64 = 5.0;

/// A trading policy over a symbol's features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The features it reads, in order.
    pub features: Vec<String>,
    /// Their mean over the training dates (a missing value is the mean).
    pub mean: Vec<f64>,
    /// Their deviation over the training dates (0: constant, not read).
    pub scale: Vec<f64>,
    /// Weight of each standardised feature in the score.
    pub weights: Vec<f64>,
    /// Buy when flat and the score exceeds this.
    pub enter: f64,
    /// Sell when held and the score less `patience × closes held` falls below this.
    pub exit: f64,
    /// See `exit`.
    pub patience: f64,
}

impl Policy {
    /// A policy that never trades, scaling features by the moments of `rows`.
    pub fn untrained(features: &[String], rows: &[&[f64]]) -> Self {
        let width = features.len();
        let mut mean = vec![0.0; width];
        let mut scale = vec![0.0; width];
        for j in 0..width {
            let values: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.get(j).copied())
                .filter(|v| v.is_finite())
                .collect();
            if values.is_empty() {
                continue;
            }
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64;
            mean[j] = m;
            scale[j] = if var > 1e-24 { var.sqrt() } else { 0.0 };
        }
        Self {
            features: features.to_vec(),
            mean,
            scale,
            weights: vec![0.0; width],
            enter: f64::INFINITY,
            exit: f64::NEG_INFINITY,
            patience: 0.0,
        }
    }

    /// What the cross-entropy method searches: the weights, then enter, exit and patience.
    pub fn parameters(&self) -> Vec<f64> {
        let mut p = self.weights.clone();
        p.extend([self.enter, self.exit, self.patience]);
        p
    }

    /// This policy's scaling with other parameters (see [`Policy::parameters`]).
    pub fn with_parameters(&self, theta: &[f64]) -> Self {
        let n = self.weights.len();
        let at = |i: usize| theta.get(i).copied().unwrap_or(0.0);
        Self {
            weights: (0..n).map(at).collect(),
            enter: at(n),
            exit: at(n + 1),
            patience: at(n + 2),
            ..self.clone()
        }
    }

    /// The score of a feature row.
    pub fn score(&self, row: &[f64]) -> f64 {
        row.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((v, m), s), w)| {
                if v.is_finite() && *s > 0.0 {
                    w * ((v - m) / s).clamp(-CLIP, CLIP)
                } else {
                    0.0
                }
            })
            .sum()
    }

    /// The score, and a buy or sell when the policy wants one (nothing while a buy is open).
    pub fn decide(&self, row: &[f64], held: bool, buying: bool, age: u32) -> (f64, Option<Call>) {
        let score = self.score(row);
        let call = if held {
            (score - self.patience * f64::from(age) < self.exit).then_some(Call::Exit)
        } else if !buying && score > self.enter {
            Some(Call::Long)
        } else {
            None
        };
        (score, call)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_policy_buys_above_enter_and_sells_when_patience_runs_out() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let rows: Vec<&[f64]> = vec![&[0.0, 10.0], &[2.0, 10.0], &[-2.0, 10.0]];
        let p = Policy::untrained(&names, &rows);
        // b never varies: not read; a is standardised by its deviation (about 1.63).
        assert_eq!(p.scale[1], 0.0);
        assert_eq!(p.decide(&[2.0, 10.0], false, false, 0).1, None);
        let p = p.with_parameters(&[1.0, 5.0, 0.5, -0.5, 0.25]);
        assert_eq!(p.parameters(), vec![1.0, 5.0, 0.5, -0.5, 0.25]);
        let (score, call) = p.decide(&[2.0, 99.0], false, false, 0);
        assert!((score - 2.0 / p.scale[0]).abs() < 1e-12);
        assert_eq!(call, Some(Call::Long));
        // Not while its buy is open; a missing feature is the mean (score 0).
        assert_eq!(p.decide(&[2.0, 0.0], false, true, 0).1, None);
        assert_eq!(p.decide(&[f64::NAN, 0.0], false, false, 0), (0.0, None));
        // Held: kept while score − 0.25·age ≥ −0.5, sold after.
        assert_eq!(p.decide(&[0.0, 0.0], true, false, 2).1, None);
        assert_eq!(p.decide(&[0.0, 0.0], true, false, 3).1, Some(Call::Exit));
    }
}
