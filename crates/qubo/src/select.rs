//! Feature selection as a QUBO (minimum redundancy, maximum relevance): choose exactly `k` of
//! `n` features maximising `Σ relevanceᵢ − α/(k − 1) · Σ_{i<j} redundancyᵢⱼ` over the chosen,
//! e.g. |correlation| with the label and between features.

use crate::model::{Builder, Qubo};

/// Why a selection model could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectError {
    /// Sizes disagree or a value is not finite.
    #[error("{0}")]
    Shape(String),
}

/// The QUBO of choosing `k` of `relevance.len()` features; `redundancy` is row-major `n × n`
/// (only `i < j` is read). Its ground state chooses exactly `k`, and there the energy is minus
/// the objective.
pub fn features(
    relevance: &[f64],
    redundancy: &[f64],
    k: usize,
    alpha: f64,
) -> Result<Qubo, SelectError> {
    let n = relevance.len();
    if redundancy.len() != n * n {
        return Err(SelectError::Shape(format!(
            "{n} relevances need an {n} × {n} redundancy matrix, not {} values",
            redundancy.len()
        )));
    }
    if k == 0 || k > n {
        return Err(SelectError::Shape(format!(
            "cannot choose {k} of {n} features"
        )));
    }
    if !alpha.is_finite() || alpha < 0.0 {
        return Err(SelectError::Shape(format!(
            "alpha {alpha} must be a finite number ≥ 0"
        )));
    }
    if let Some(at) = relevance
        .iter()
        .chain(redundancy)
        .position(|v| !v.is_finite())
    {
        return Err(SelectError::Shape(format!(
            "value {at} is not a finite number"
        )));
    }
    let scale = if k > 1 { alpha / (k - 1) as f64 } else { 0.0 };
    let pair = |i: usize, j: usize| scale * redundancy[i.min(j) * n + i.max(j)];
    // As for portfolios: the penalty beats what one feature more or fewer can change.
    let mut reach: f64 = 0.0;
    let mut pairs = Vec::with_capacity(n);
    for (i, r) in relevance.iter().enumerate() {
        pairs.clear();
        pairs.extend((0..n).filter(|&j| j != i).map(|j| pair(i, j).abs()));
        let top = k.min(pairs.len());
        if top > 0 && top < pairs.len() {
            pairs.select_nth_unstable_by(top - 1, |x, y| y.total_cmp(x));
        }
        reach = reach.max(r.abs() + pairs[..top].iter().sum::<f64>());
    }
    let penalty = 1.5 * reach.max(1e-12);
    let kf = k as f64;
    let mut b = Builder::new(n).map_err(|e| SelectError::Shape(e.to_string()))?;
    b.offset(penalty * kf * kf);
    for (i, r) in relevance.iter().enumerate() {
        b.linear(i, -r + penalty * (1.0 - 2.0 * kf));
        for j in i + 1..n {
            b.quadratic(i, j, pair(i, j) + 2.0 * penalty);
        }
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Params, Solver, solve};

    #[test]
    fn the_ground_state_trades_relevance_against_redundancy() {
        // Features 0 and 1 are the most relevant but near copies of each other; 2 is less
        // relevant and independent. Choosing two: {0, 2} beats {0, 1} once redundancy counts.
        let relevance = [0.9, 0.85, 0.6, 0.1];
        let mut redundancy = vec![0.0; 16];
        redundancy[1] = 0.95; // (0, 1)
        redundancy[2 * 4 + 3] = 0.2;
        let pick = |alpha| {
            let q = features(&relevance, &redundancy, 2, alpha).unwrap();
            solve(&q, Solver::Exact, &Params::default()).unwrap()
        };
        assert_eq!(pick(0.0).x, [1, 1, 0, 0]);
        let chosen = pick(1.0);
        assert_eq!(chosen.x, [1, 0, 1, 0]);
        assert!((chosen.energy + (0.9 + 0.6)).abs() < 1e-12);
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(features(&[1.0], &[0.0; 4], 1, 1.0).is_err());
        assert!(features(&[1.0, 2.0], &[0.0; 4], 3, 1.0).is_err());
        assert!(features(&[1.0, f64::NAN], &[0.0; 4], 1, 1.0).is_err());
        assert!(features(&[1.0, 2.0], &[0.0; 4], 1, -1.0).is_err());
    }
}
