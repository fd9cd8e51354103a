//! Ridge regression on standardised features: the linear baseline every richer model must
//! beat. Missing values (NaN) are imputed with the training mean; a feature that never varies
//! in training gets no weight.

/// Why a model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// No row had a label and at least one feature.
    #[error("no training rows")]
    Empty,
    /// Rows of different lengths, or a label count that is not the row count.
    #[error("{0}")]
    Shape(String),
    /// The penalty is negative or not a number.
    #[error("the ridge penalty must be a finite number ≥ 0, not {0}")]
    Penalty(f64),
    /// Feature selection failed.
    #[error("feature selection: {0}")]
    Select(String),
}

/// What a model fits on: the rows whose label is finite, their labels, in order, and the width.
pub(crate) struct Labelled<'r> {
    pub(crate) rows: Vec<&'r [f64]>,
    pub(crate) labels: Vec<f64>,
    pub(crate) width: usize,
}

/// [`Labelled`] rows of `rows` and `y`, after the checks every model's fit makes: as many labels
/// as rows, rows of one length, something to fit.
pub(crate) fn labelled<'r>(rows: &[&'r [f64]], y: &[f64]) -> Result<Labelled<'r>, FitError> {
    if rows.len() != y.len() {
        return Err(FitError::Shape(format!(
            "{} rows but {} labels",
            rows.len(),
            y.len()
        )));
    }
    let width = rows.first().map_or(0, |r| r.len());
    if rows.iter().any(|r| r.len() != width) {
        return Err(FitError::Shape("rows of different lengths".into()));
    }
    let (used, labels): (Vec<&[f64]>, Vec<f64>) = rows
        .iter()
        .zip(y)
        .filter(|(_, y)| y.is_finite())
        .map(|(r, y)| (*r, *y))
        .unzip();
    if used.is_empty() || width == 0 {
        return Err(FitError::Empty);
    }
    Ok(Labelled {
        rows: used,
        labels,
        width,
    })
}

/// A fitted ridge regression.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ridge {
    /// The penalty, per row, on the standardised weights.
    pub lambda: f64,
    /// Training mean of each feature (imputed for NaN).
    pub mean: Vec<f64>,
    /// Training standard deviation of each feature (0: not used).
    pub scale: Vec<f64>,
    /// Weight of each standardised feature.
    pub weights: Vec<f64>,
    /// Mean of the training labels.
    pub intercept: f64,
}

impl Ridge {
    /// Minimises `Σ (y − ŷ)² / n + λ·|w|²` over standardised features. Rows whose label is
    /// NaN are skipped.
    pub fn fit(rows: &[&[f64]], y: &[f64], lambda: f64) -> Result<Self, FitError> {
        if !lambda.is_finite() || lambda < 0.0 {
            return Err(FitError::Penalty(lambda));
        }
        let Labelled {
            rows: used,
            labels,
            width: f,
        } = labelled(rows, y)?;
        let (mut mean, mut scale) = (vec![0.0; f], vec![0.0; f]);
        for j in 0..f {
            let values = used.iter().map(|r| r[j]).filter(|v| v.is_finite());
            let (sum, n) = values
                .clone()
                .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
            if n < 2 {
                continue;
            }
            mean[j] = sum / n as f64;
            let var = values.map(|v| (v - mean[j]).powi(2)).sum::<f64>() / (n - 1) as f64;
            scale[j] = var.sqrt();
        }
        let intercept = labels.iter().sum::<f64>() / used.len() as f64;
        let n = used.len() as f64;
        // Normal equations (XᵀX/n + λI) w = Xᵀy/n.
        let mut a = vec![0.0; f * f];
        let mut b = vec![0.0; f];
        let mut x = vec![0.0; f];
        for (row, label) in used.iter().zip(&labels) {
            standardise(row, &mean, &scale, &mut x);
            let target = label - intercept;
            for p in 0..f {
                b[p] += x[p] * target / n;
                for q in p..f {
                    a[p * f + q] += x[p] * x[q] / n;
                }
            }
        }
        for p in 0..f {
            for q in 0..p {
                a[p * f + q] = a[q * f + p];
            }
            // An unused feature's column is zero: the diagonal keeps the system solvable.
            a[p * f + p] += lambda.max(1e-12);
        }
        let weights = cholesky_solve(&mut a, &b, f).ok_or(FitError::Empty)?;
        Ok(Self {
            lambda,
            mean,
            scale,
            weights,
            intercept,
        })
    }

    /// The prediction for one row of features.
    pub fn predict(&self, row: &[f64]) -> f64 {
        let mut x = vec![0.0; self.weights.len()];
        standardise(row, &self.mean, &self.scale, &mut x);
        self.intercept + x.iter().zip(&self.weights).map(|(x, w)| x * w).sum::<f64>()
    }
}

fn standardise(row: &[f64], mean: &[f64], scale: &[f64], out: &mut [f64]) {
    for j in 0..out.len() {
        let v = row.get(j).copied().unwrap_or(f64::NAN);
        out[j] = if scale[j] > 0.0 && v.is_finite() {
            (v - mean[j]) / scale[j]
        } else {
            0.0
        };
    }
}

/// Solves `A w = b` for a symmetric positive definite `A` (overwritten by its factor).
fn cholesky_solve(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / d;
        }
    }
    let mut z = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| a[i * n + k] * z[k]).sum();
        z[i] = (b[i] - s) / a[i * n + i];
    }
    let mut w = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[k * n + i] * w[k]).sum();
        w[i] = (z[i] - s) / a[i * n + i];
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn recovers_a_linear_relation_and_ignores_constant_features() {
        // y = 2·x0 − x1 + 3, with a constant third feature and one NaN imputed.
        let data: Vec<[f64; 3]> = (0..50)
            .map(|i| [i as f64 * 0.1, ((i * 7) % 11) as f64, 5.0])
            .collect();
        let y: Vec<f64> = data.iter().map(|r| 2.0 * r[0] - r[1] + 3.0).collect();
        let rows: Vec<&[f64]> = data.iter().map(|r| r.as_slice()).collect();
        let m = Ridge::fit(&rows, &y, 0.0).unwrap();
        assert_eq!(m.weights[2], 0.0);
        for (r, y) in rows.iter().zip(&y) {
            assert!((m.predict(r) - y).abs() < 1e-6, "{} vs {y}", m.predict(r));
        }
        // A heavy penalty shrinks towards the mean.
        let shrunk = Ridge::fit(&rows, &y, 1e6).unwrap();
        assert!((shrunk.predict(rows[0]) - m.intercept).abs() < 1e-3);
    }

    #[test]
    fn bad_input_is_refused() {
        let r: [&[f64]; 2] = [&[1.0], &[2.0]];
        assert_eq!(
            Ridge::fit(&r, &[1.0], 0.1),
            Err(FitError::Shape("2 rows but 1 labels".into()))
        );
        assert_eq!(Ridge::fit(&r, &[f64::NAN; 2], 0.1), Err(FitError::Empty));
        assert_eq!(
            Ridge::fit(&r, &[1.0, 2.0], -1.0),
            Err(FitError::Penalty(-1.0))
        );
    }
}
