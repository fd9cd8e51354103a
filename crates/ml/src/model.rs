//! The models a recipe can train: the ridge baseline ([`crate::linear::Ridge`]),
//! gradient-boosted trees ([`Boosted`], forust-ml's histogram GBM) and a small neural network
//! ([`Net`], candle), behind one [`Model`] that predicts, serialises into the registry and reads
//! artefacts saved before there was a choice.

use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Serialize};

use crate::linear::{FitError, Ridge};
use crate::net::{Net, NetParams};

/// Which model a recipe trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Ridge regression on standardised features.
    #[default]
    Ridge,
    /// Gradient-boosted regression trees.
    Gbt,
    /// A small neural network (multilayer perceptron).
    Mlp,
}

impl ModelKind {
    /// `ridge`, `gbt` or `mlp`.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Ridge => "ridge",
            ModelKind::Gbt => "gbt",
            ModelKind::Mlp => "mlp",
        }
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ridge" => Ok(ModelKind::Ridge),
            "gbt" => Ok(ModelKind::Gbt),
            "mlp" => Ok(ModelKind::Mlp),
            other => Err(format!(
                "unknown model {other:?} (expected ridge, gbt or mlp)"
            )),
        }
    }
}

/// How trees are grown: deliberately shallow, slow and many, with leaves of at least
/// `min_leaf` rows — daily returns are mostly noise, and a tree that fits it is worse than none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeParams {
    /// Trees (boosting rounds), 1 to 2000.
    pub trees: usize,
    /// Shrinkage of each tree, (0, 1].
    pub learning_rate: f64,
    /// Depth of each tree, 1 to 8.
    pub depth: usize,
    /// Fewest rows in a leaf (the hessian of squared loss is one per row).
    pub min_leaf: f64,
}

impl Default for TreeParams {
    fn default() -> Self {
        Self {
            trees: 200,
            learning_rate: 0.05,
            depth: 3,
            min_leaf: 200.0,
        }
    }
}

impl TreeParams {
    /// Checks the numbers.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=2000).contains(&self.trees) {
            return Err("trees must be 1 to 2000".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err("learning_rate must be in (0, 1]".into());
        }
        if !(1..=8).contains(&self.depth) {
            return Err("depth must be 1 to 8".into());
        }
        if !(self.min_leaf.is_finite() && self.min_leaf >= 0.0) {
            return Err("min_leaf must be a number ≥ 0".into());
        }
        Ok(())
    }
}

/// Gradient-boosted regression trees on squared loss (forust-ml: XGBoost's histogram
/// algorithm, with missing values (NaN) sent down their own branch). Seeded and
/// single-threaded: the same rows give the same trees.
#[derive(Serialize, Deserialize)]
pub struct Boosted {
    /// How it was grown.
    pub params: TreeParams,
    booster: GradientBooster,
}

impl Clone for Boosted {
    fn clone(&self) -> Self {
        // The booster is not `Clone`; its serialised form is exact (float round trip).
        let text = serde_json::to_string(self).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_else(|_| Self {
            params: self.params,
            booster: GradientBooster::default(),
        })
    }
}

impl std::fmt::Debug for Boosted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boosted")
            .field("params", &self.params)
            .field("trees", &self.booster.trees.len())
            .finish()
    }
}

impl PartialEq for Boosted {
    /// The same trees: what the registry's round trip must keep.
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
            && serde_json::to_string(&self.booster).ok()
                == serde_json::to_string(&other.booster).ok()
    }
}

/// Column-major copy of `rows` (perpetual's layout).
fn columns(rows: &[&[f64]], width: usize) -> Vec<f64> {
    let mut data = Vec::with_capacity(rows.len() * width);
    for j in 0..width {
        data.extend(rows.iter().map(|r| r.get(j).copied().unwrap_or(f64::NAN)));
    }
    data
}

impl Boosted {
    /// Fits trees to `y` (rows whose label is NaN are skipped).
    pub fn fit(rows: &[&[f64]], y: &[f64], params: TreeParams) -> Result<Self, FitError> {
        params
            .check()
            .map_err(|e| FitError::Shape(format!("gradient boosting: {e}")))?;
        let crate::linear::Labelled {
            rows: used,
            labels,
            width,
        } = crate::linear::labelled(rows, y)?;
        let data = columns(&used, width);
        let matrix = Matrix::new(&data, used.len(), width);
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::SquaredLoss)
            .set_iterations(params.trees)
            .set_learning_rate(params.learning_rate as f32)
            .set_max_depth(params.depth)
            .set_min_leaf_weight(params.min_leaf as f32)
            .set_parallel(false)
            .set_seed(0);
        booster
            .fit_unweighted(&matrix, &labels, None)
            .map_err(|e| FitError::Shape(format!("gradient boosting: {e}")))?;
        Ok(Self { params, booster })
    }

    /// Predictions of many rows at once.
    pub fn predict_rows(&self, rows: &[&[f64]]) -> Vec<f64> {
        let width = rows.first().map_or(0, |r| r.len());
        if rows.is_empty() {
            return Vec::new();
        }
        let data = columns(rows, width);
        self.booster
            .predict(&Matrix::new(&data, rows.len(), width), false)
    }
}

/// A fitted model of any kind. Serialised as the model itself (no tag), so artefacts saved
/// when ridge was the only model still read as ridge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Model {
    /// Ridge regression.
    Ridge(Ridge),
    /// Gradient-boosted trees (boxed: the booster is large).
    Boosted(Box<Boosted>),
    /// A neural network.
    Net(Box<Net>),
}

impl Model {
    /// Fits a model of `kind` (`lambda` is ridge's penalty, `trees` how trees grow, `net` how
    /// the network is shaped and trained).
    pub fn fit(
        kind: ModelKind,
        rows: &[&[f64]],
        y: &[f64],
        lambda: f64,
        trees: TreeParams,
        net: NetParams,
    ) -> Result<Self, FitError> {
        Ok(match kind {
            ModelKind::Ridge => Model::Ridge(Ridge::fit(rows, y, lambda)?),
            ModelKind::Gbt => Model::Boosted(Box::new(Boosted::fit(rows, y, trees)?)),
            ModelKind::Mlp => Model::Net(Box::new(Net::fit(rows, y, net)?)),
        })
    }

    /// Its kind.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Ridge(_) => ModelKind::Ridge,
            Model::Boosted(_) => ModelKind::Gbt,
            Model::Net(_) => ModelKind::Mlp,
        }
    }

    /// Predictions of many rows.
    pub fn predict_rows(&self, rows: &[&[f64]]) -> Vec<f64> {
        match self {
            Model::Ridge(r) => rows.iter().map(|row| r.predict(row)).collect(),
            Model::Boosted(b) => b.predict_rows(rows),
            Model::Net(n) => n.predict_rows(rows),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// y = x0 · x1 (an interaction no line fits: uncorrelated with each feature), x2 noise.
    fn data(n: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut u = crate::synthetic::noise(0x1234_5678_9abc_def1);
        let rows: Vec<Vec<f64>> = (0..n).map(|_| vec![u(), u(), u()]).collect();
        let y = rows.iter().map(|r| r[0] * r[1]).collect();
        (rows, y)
    }

    #[test]
    fn trees_fit_an_interaction_a_line_cannot_and_survive_a_round_trip() {
        let (rows, y) = data(4000);
        let rows: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let (train, test) = (&rows[..3000], &rows[3000..]);
        let mse = |m: &Model| {
            let p = m.predict_rows(test);
            p.iter()
                .zip(&y[3000..])
                .map(|(p, y)| (p - y).powi(2))
                .sum::<f64>()
                / p.len() as f64
        };
        let trees = TreeParams {
            min_leaf: 10.0,
            learning_rate: 0.1,
            depth: 4,
            ..TreeParams::default()
        };
        let net = NetParams::default();
        let gbt = Model::fit(ModelKind::Gbt, train, &y[..3000], 0.0, trees, net).unwrap();
        let ridge = Model::fit(ModelKind::Ridge, train, &y[..3000], 0.01, trees, net).unwrap();
        let variance = y[3000..].iter().map(|y| y * y).sum::<f64>() / 1000.0;
        assert!(
            mse(&gbt) < 0.3 * variance,
            "gbt {} vs {variance}",
            mse(&gbt)
        );
        assert!(mse(&ridge) > 0.8 * variance, "ridge {}", mse(&ridge));
        let text = serde_json::to_string(&gbt).unwrap();
        let back: Model = serde_json::from_str(&text).unwrap();
        assert_eq!(back.kind(), ModelKind::Gbt);
        assert_eq!(back.predict_rows(test), gbt.predict_rows(test));
        // A ridge model reads back as ridge, with or without a tag.
        let back: Model = serde_json::from_str(&serde_json::to_string(&ridge).unwrap()).unwrap();
        assert_eq!(back, ridge);
        // So does a network.
        let small = NetParams { epochs: 2, ..net };
        let mlp = Model::fit(ModelKind::Mlp, train, &y[..3000], 0.0, trees, small).unwrap();
        let back: Model = serde_json::from_str(&serde_json::to_string(&mlp).unwrap()).unwrap();
        assert_eq!(back.kind(), ModelKind::Mlp);
        assert_eq!(back.predict_rows(test), mlp.predict_rows(test));
        assert_eq!("mlp".parse::<ModelKind>(), Ok(ModelKind::Mlp));
        assert!(
            "svm"
                .parse::<ModelKind>()
                .unwrap_err()
                .contains("ridge, gbt or mlp")
        );
    }

    #[test]
    fn missing_features_are_predicted_and_bad_parameters_refused() {
        let (mut rows, y) = data(500);
        for r in rows.iter_mut().step_by(7) {
            r[1] = f64::NAN;
        }
        let rows: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let params = TreeParams::default();
        let gbt = Boosted::fit(&rows, &y, params).unwrap();
        assert!(gbt.predict_rows(&rows).iter().all(|p| p.is_finite()));
        assert_eq!(gbt.clone(), gbt);
        for (bad, needle) in [
            (TreeParams { trees: 0, ..params }, "trees"),
            (
                TreeParams {
                    learning_rate: f64::NAN,
                    ..params
                },
                "learning_rate",
            ),
            (TreeParams { depth: 9, ..params }, "depth"),
            (
                TreeParams {
                    min_leaf: -1.0,
                    ..params
                },
                "min_leaf",
            ),
        ] {
            let e = Boosted::fit(&rows, &y, bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        assert!(matches!(
            Boosted::fit(&rows, &vec![f64::NAN; 500], params),
            Err(FitError::Empty)
        ));
    }
}
