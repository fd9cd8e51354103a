//! A small neural network: a multilayer perceptron (ReLU hidden layers, one linear output)
//! regressing the label on standardised features, trained on the CPU with candle's tensors,
//! autograd and AdamW.
//!
//! Built for daily returns, which are mostly noise: inputs are standardised with the training
//! mean and deviation (missing values become the mean, outliers are clipped at ±5σ), labels are
//! standardised and clipped at ±4σ (one fat-tailed day must not steer the weights), and training
//! stops early: the last tenth of the rows given (the latest dates, as [`crate::train`] and the
//! walk-forward pass them) is held out, and the weights of the epoch with the lowest held-out
//! error are kept. Seeded: weights start from [`crate::synthetic::noise`], batches are shuffled
//! by it, so the same rows and parameters give the same network.

use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};

use crate::linear::FitError;

/// How the network is shaped and trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetParams {
    /// Units per hidden layer, 1 to 256.
    pub width: usize,
    /// Hidden layers, 1 to 4.
    pub layers: usize,
    /// Passes over the training rows, 1 to 500 (early stopping may keep an earlier one).
    pub epochs: usize,
    /// AdamW's step size, (0, 1].
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay, 0 to 1.
    pub weight_decay: f64,
    /// Rows per gradient step, 16 to 65,536.
    pub batch: usize,
    /// Seed of the initial weights and the shuffling.
    pub seed: u64,
}

impl Default for NetParams {
    fn default() -> Self {
        Self {
            width: 32,
            layers: 2,
            epochs: 20,
            learning_rate: 0.003,
            weight_decay: 0.0001,
            batch: 1024,
            seed: 0,
        }
    }
}

impl NetParams {
    /// Checks the numbers.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=256).contains(&self.width) {
            return Err("width must be 1 to 256".into());
        }
        if !(1..=4).contains(&self.layers) {
            return Err("layers must be 1 to 4".into());
        }
        if !(1..=500).contains(&self.epochs) {
            return Err("epochs must be 1 to 500".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err("learning_rate must be in (0, 1]".into());
        }
        if !(0.0..=1.0).contains(&self.weight_decay) {
            return Err("weight_decay must be 0 to 1".into());
        }
        if !(16..=65_536).contains(&self.batch) {
            return Err("batch must be 16 to 65536".into());
        }
        Ok(())
    }
}

/// One dense layer: `outputs × inputs` weights (row-major) and a bias per output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// Weights, row `o` holding output `o`'s.
    pub weight: Vec<f32>,
    /// Biases.
    pub bias: Vec<f32>,
}

/// A trained network and the scaling around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Net {
    /// How it was shaped and trained.
    pub net: NetParams,
    /// Training mean of each feature (what a missing value becomes).
    pub mean: Vec<f64>,
    /// Training deviation of each feature (0: constant in training, not used).
    pub scale: Vec<f64>,
    /// Mean and deviation of the training labels (the output is in their units).
    pub label_mean: f64,
    /// See `label_mean`.
    pub label_scale: f64,
    /// Hidden layers, then the output layer.
    pub layers: Vec<Layer>,
    /// The epoch whose weights were kept (1-based).
    pub epoch: usize,
}

/// Clip of standardised inputs and labels.
const INPUT_CLIP: f64 = 5.0;
const LABEL_CLIP: f64 = 4.0;

fn net_error(e: candle_core::Error) -> FitError {
    FitError::Shape(format!("neural network: {e}"))
}

/// Mean and deviation of each column over finite values.
fn moments(rows: &[&[f64]], width: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; width];
    let mut scale = vec![0.0; width];
    for j in 0..width {
        let (n, sum, squares) = rows
            .iter()
            .map(|r| r[j])
            .filter(|v| v.is_finite())
            .fold((0usize, 0.0, 0.0), |(n, s, q), v| (n + 1, s + v, q + v * v));
        if n > 0 {
            let m = sum / n as f64;
            mean[j] = m;
            let var = (squares / n as f64 - m * m).max(0.0);
            scale[j] = if var > 1e-24 { var.sqrt() } else { 0.0 };
        }
    }
    (mean, scale)
}

impl Net {
    /// Fits a network to `y` (rows whose label is NaN are skipped).
    pub fn fit(rows: &[&[f64]], y: &[f64], params: NetParams) -> Result<Self, FitError> {
        params
            .check()
            .map_err(|e| FitError::Shape(format!("neural network: {e}")))?;
        let crate::linear::Labelled {
            rows: used,
            labels,
            width,
        } = crate::linear::labelled(rows, y)?;
        let (mean, scale) = moments(&used, width);
        let n = labels.len() as f64;
        let label_mean = labels.iter().sum::<f64>() / n;
        let label_var = labels.iter().map(|v| (v - label_mean).powi(2)).sum::<f64>() / n;
        let label_scale = if label_var > 1e-24 {
            label_var.sqrt()
        } else {
            1.0
        };
        let mut net = Net {
            net: params,
            mean,
            scale,
            label_mean,
            label_scale,
            layers: Vec::new(),
            epoch: 0,
        };
        let x = net.inputs(&used);
        let t: Vec<f32> = labels
            .iter()
            .map(|v| ((v - label_mean) / label_scale).clamp(-LABEL_CLIP, LABEL_CLIP) as f32)
            .collect();
        net.train(&x, &t, width).map_err(net_error)?;
        Ok(net)
    }

    /// Standardised, imputed, clipped inputs, row-major.
    fn inputs(&self, rows: &[&[f64]]) -> Vec<f32> {
        let mut x = Vec::with_capacity(rows.len() * self.mean.len());
        for r in rows {
            for (j, v) in r.iter().enumerate() {
                let s = self.scale.get(j).copied().unwrap_or(0.0);
                let z = if v.is_finite() && s > 0.0 {
                    ((v - self.mean[j]) / s).clamp(-INPUT_CLIP, INPUT_CLIP)
                } else {
                    0.0
                };
                x.push(z as f32);
            }
        }
        x
    }

    /// AdamW on mean squared error over shuffled batches, keeping the best held-out epoch.
    fn train(&mut self, x: &[f32], t: &[f32], width: usize) -> candle_core::Result<()> {
        let p = self.net;
        let dev = Device::Cpu;
        let rows = t.len();
        let held = if rows >= 50 { rows / 10 } else { 0 };
        let fit_rows = rows - held;
        let mut noise = crate::synthetic::noise(p.seed ^ 0x9e37_79b9_7f4a_7c15);
        // He-uniform weights for the ReLU layers, a smaller start for the output.
        let mut vars: Vec<(Var, Var)> = Vec::new();
        let mut inputs = width;
        for k in 0..=p.layers {
            let outputs = if k == p.layers { 1 } else { p.width };
            let limit = if k == p.layers {
                (1.0 / inputs as f64).sqrt()
            } else {
                (6.0 / inputs as f64).sqrt()
            };
            let w: Vec<f32> = (0..outputs * inputs)
                .map(|_| (2.0 * limit * noise()) as f32)
                .collect();
            let w = Var::from_tensor(&Tensor::from_vec(w, (outputs, inputs), &dev)?)?;
            let b = Var::from_tensor(&Tensor::zeros(outputs, candle_core::DType::F32, &dev)?)?;
            vars.push((w, b));
            inputs = outputs;
        }
        let mut opt = AdamW::new(
            vars.iter()
                .flat_map(|(w, b)| [w.clone(), b.clone()])
                .collect(),
            ParamsAdamW {
                lr: p.learning_rate,
                weight_decay: p.weight_decay,
                ..ParamsAdamW::default()
            },
        )?;
        let forward = |vars: &[(Var, Var)], input: &Tensor| -> candle_core::Result<Tensor> {
            let mut h = input.clone();
            for (k, (w, b)) in vars.iter().enumerate() {
                h = h
                    .matmul(&w.as_tensor().t()?)?
                    .broadcast_add(b.as_tensor())?;
                if k + 1 < vars.len() {
                    h = h.relu()?;
                }
            }
            Ok(h)
        };
        let held_x = Tensor::from_slice(&x[fit_rows * width..], (held, width), &dev)?;
        let held_t = Tensor::from_slice(&t[fit_rows..], (held, 1), &dev)?;
        let mut order: Vec<usize> = (0..fit_rows).collect();
        let mut best = f32::INFINITY;
        let (mut bx, mut bt) = (Vec::new(), Vec::new());
        for epoch in 1..=p.epochs {
            // Fisher–Yates with the seeded noise.
            for i in (1..order.len()).rev() {
                let j = (((noise() + 0.5) * (i + 1) as f64) as usize).min(i);
                order.swap(i, j);
            }
            for chunk in order.chunks(p.batch) {
                bx.clear();
                bt.clear();
                for &r in chunk {
                    bx.extend_from_slice(&x[r * width..(r + 1) * width]);
                    bt.push(t[r]);
                }
                let input = Tensor::from_slice(&bx, (chunk.len(), width), &dev)?;
                let target = Tensor::from_slice(&bt, (chunk.len(), 1), &dev)?;
                let loss = candle_nn::loss::mse(&forward(&vars, &input)?, &target)?;
                opt.backward_step(&loss)?;
            }
            let error = if held > 0 {
                candle_nn::loss::mse(&forward(&vars, &held_x)?, &held_t)?.to_scalar::<f32>()?
            } else {
                0.0
            };
            if error < best || (held == 0 && epoch == p.epochs) || self.layers.is_empty() {
                best = error;
                self.epoch = epoch;
                self.layers = vars
                    .iter()
                    .map(|(w, b)| {
                        let (outputs, inputs) = w.as_tensor().dims2()?;
                        Ok(Layer {
                            inputs,
                            outputs,
                            weight: w.as_tensor().flatten_all()?.to_vec1()?,
                            bias: b.as_tensor().to_vec1()?,
                        })
                    })
                    .collect::<candle_core::Result<_>>()?;
            }
        }
        Ok(())
    }

    /// Predictions of many rows, in the labels' units.
    pub fn predict_rows(&self, rows: &[&[f64]]) -> Vec<f64> {
        if rows.is_empty() {
            return Vec::new();
        }
        match self.forward(rows) {
            Ok(out) => out
                .into_iter()
                .map(|v| self.label_mean + f64::from(v) * self.label_scale)
                .collect(),
            // Only a corrupt artefact (layers that do not chain) gets here.
            Err(_) => vec![f64::NAN; rows.len()],
        }
    }

    fn forward(&self, rows: &[&[f64]]) -> candle_core::Result<Vec<f32>> {
        let dev = Device::Cpu;
        let width = self.mean.len();
        if rows.iter().any(|r| r.len() != width) {
            return Err(candle_core::Error::Msg(format!(
                "rows must have {width} features"
            )));
        }
        let mut h = Tensor::from_vec(self.inputs(rows), (rows.len(), width), &dev)?;
        for (k, l) in self.layers.iter().enumerate() {
            let w = Tensor::from_slice(&l.weight, (l.outputs, l.inputs), &dev)?;
            let b = Tensor::from_slice(&l.bias, l.outputs, &dev)?;
            h = h.matmul(&w.t()?)?.broadcast_add(&b)?;
            if k + 1 < self.layers.len() {
                h = h.relu()?;
            }
        }
        h.flatten_all()?.to_vec1()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// y = |x0| − x1² + noise: a shape no line fits.
    fn data(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut u = crate::synthetic::noise(seed);
        let rows: Vec<Vec<f64>> = (0..n).map(|_| vec![4.0 * u(), 4.0 * u(), u()]).collect();
        let y = rows
            .iter()
            .map(|r| r[0].abs() - r[1] * r[1] + 0.1 * u())
            .collect();
        (rows, y)
    }

    fn mse(p: &[f64], y: &[f64]) -> f64 {
        p.iter().zip(y).map(|(p, y)| (p - y).powi(2)).sum::<f64>() / p.len() as f64
    }

    #[test]
    fn a_network_learns_a_curve_a_line_cannot_and_repeats_itself() {
        let (rows, y) = data(6000, 0x5eed_1234_abcd_0001);
        let rows: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let params = NetParams {
            epochs: 60,
            batch: 128,
            learning_rate: 0.01,
            ..NetParams::default()
        };
        let net = Net::fit(&rows[..5000], &y[..5000], params).unwrap();
        let p = net.predict_rows(&rows[5000..]);
        let mean = y[5000..].iter().sum::<f64>() / 1000.0;
        let variance = y[5000..].iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 1000.0;
        assert!(
            mse(&p, &y[5000..]) < 0.1 * variance,
            "{} vs {variance}",
            mse(&p, &y[5000..])
        );
        assert!(net.epoch >= 1 && net.epoch <= 60);
        // Seeded: the same rows give the same network.
        assert_eq!(Net::fit(&rows[..5000], &y[..5000], params).unwrap(), net);
        // Another seed starts elsewhere.
        let other = NetParams { seed: 1, ..params };
        assert_ne!(Net::fit(&rows[..5000], &y[..5000], other).unwrap(), net);
        // A round trip through JSON predicts bit for bit.
        let back: Net = serde_json::from_str(&serde_json::to_string(&net).unwrap()).unwrap();
        assert_eq!(back.predict_rows(&rows[5000..]), p);
    }

    #[test]
    fn missing_values_are_the_mean_and_bad_input_is_refused_by_name() {
        let (mut rows, y) = data(300, 7);
        for r in rows.iter_mut().step_by(5) {
            r[2] = f64::NAN;
        }
        let rows: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let params = NetParams {
            epochs: 3,
            ..NetParams::default()
        };
        let net = Net::fit(&rows, &y, params).unwrap();
        assert!(net.predict_rows(&rows).iter().all(|p| p.is_finite()));
        assert!(net.predict_rows(&[&[1.0, 2.0][..]])[0].is_nan());
        for (bad, needle) in [
            (NetParams { width: 0, ..params }, "width"),
            (
                NetParams {
                    layers: 5,
                    ..params
                },
                "layers",
            ),
            (
                NetParams {
                    epochs: 0,
                    ..params
                },
                "epochs",
            ),
            (
                NetParams {
                    learning_rate: f64::NAN,
                    ..params
                },
                "learning_rate",
            ),
            (
                NetParams {
                    weight_decay: 2.0,
                    ..params
                },
                "weight_decay",
            ),
            (NetParams { batch: 1, ..params }, "batch"),
        ] {
            let e = Net::fit(&rows, &y, bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        assert!(matches!(
            Net::fit(&rows, &vec![f64::NAN; 300], params),
            Err(FitError::Empty)
        ));
        assert!(
            Net::fit(&rows[..2], &y, params)
                .unwrap_err()
                .to_string()
                .contains("2 rows but 300 labels")
        );
    }
}
