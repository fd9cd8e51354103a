//! Feature selection as a QUBO: keep the `k` features whose relevance to the label (absolute
//! correlation) is highest once their redundancy with each other (absolute correlation between
//! features) is paid for, solved exactly for up to 20 features and by tabu search above.

use qubo::{Params, Solver};

use crate::stats::pearson;

/// How many features to keep and what redundancy costs (0: by relevance alone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selection {
    /// Features to keep.
    pub k: usize,
    /// Weight of the average redundancy against the relevance.
    pub alpha: f64,
}

/// The columns of `rows` to keep for predicting `y` (rows with a NaN label are skipped; NaN
/// features are left out of each correlation), ascending.
pub fn choose(rows: &[&[f64]], y: &[f64], selection: Selection) -> Result<Vec<usize>, String> {
    let f = rows.first().map_or(0, |r| r.len());
    if selection.k == 0 || selection.k > f {
        return Err(format!("cannot keep {} of {f} features", selection.k));
    }
    let column = |j: usize| rows.iter().map(move |r| r[j]);
    let relevance: Vec<f64> = (0..f)
        .map(|j| correlation(column(j), y.iter().copied()).abs())
        .collect();
    let mut redundancy = vec![0.0; f * f];
    for i in 0..f {
        for j in i + 1..f {
            redundancy[i * f + j] = correlation(column(i), column(j)).abs();
        }
    }
    let q = qubo::select::features(&relevance, &redundancy, selection.k, selection.alpha)
        .map_err(|e| e.to_string())?;
    let solver = if f <= 20 { Solver::Exact } else { Solver::Tabu };
    let solved = qubo::solve(&q, solver, &Params::default()).map_err(|e| e.to_string())?;
    Ok((0..f).filter(|&j| solved.x[j] == 1).collect())
}

/// Pearson correlation over the pairs where both are finite; 0 when undefined.
fn correlation(a: impl Iterator<Item = f64>, b: impl Iterator<Item = f64>) -> f64 {
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .unzip();
    if x.len() < 3 {
        return 0.0;
    }
    pearson(&x, &y).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keeps_the_informative_features_and_drops_a_near_copy() {
        // y = a + b; c is a near copy of a; d is noise.
        let data: Vec<[f64; 4]> = (0..200)
            .map(|i| {
                let (a, b) = (((i * 37) % 101) as f64, ((i * 53) % 97) as f64);
                [
                    a,
                    b,
                    a + ((i * 7) % 3) as f64 * 0.01,
                    ((i * 91) % 89) as f64,
                ]
            })
            .collect();
        let y: Vec<f64> = data.iter().map(|r| r[0] + r[1]).collect();
        let rows: Vec<&[f64]> = data.iter().map(|r| r.as_slice()).collect();
        // By relevance alone the copy is as good as the original…
        let greedy = choose(&rows, &y, Selection { k: 2, alpha: 0.0 }).unwrap();
        assert_eq!(greedy, [0, 2]);
        // …but it brings nothing new.
        let chosen = choose(&rows, &y, Selection { k: 2, alpha: 1.0 }).unwrap();
        assert!(chosen == [0, 1] || chosen == [1, 2], "{chosen:?}");
        assert!(choose(&rows, &y, Selection { k: 5, alpha: 1.0 }).is_err());
    }
}
