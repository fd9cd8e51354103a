//! The market-wide part of the generated market: the calm/turbulent regime of every day,
//! the market factor (GARCH(1,1) volatility, Student-t shocks, sell-off and rally jumps)
//! and one factor per sector. Stocks add their own shocks on top (`tape.rs`). A pure
//! function of the seed and the day's position, computed once, day by day.

use super::params::MarketModel;
use crate::rng::Rng;
use crate::universe::Sector;

/// Keeps the market-wide draws apart from any instrument's (instrument coordinates are
/// positions, far below this).
const MARKET_STREAM: u64 = 0x4d4b_545f_4641_4354;

/// GARCH variances are capped at this multiple of their long-run level, so a string of
/// extreme shocks cannot make a day's volatility absurd.
pub(super) const GARCH_CAP: f64 = 20.0;

/// Every day's regime and factor shocks.
#[derive(Debug, Clone, Default)]
pub(super) struct MarketPath {
    /// Whether day `d` is turbulent.
    pub(super) turbulent: Vec<bool>,
    /// Market factor return of day `d` (log).
    pub(super) market: Vec<f64>,
    /// Sector factor returns of day `d`, by [`Sector::index`].
    pub(super) sectors: Vec<[f64; Sector::ALL.len()]>,
    /// Day `d`'s factor volatility multiplier: regime scale × √(GARCH variance).
    pub(super) factor_scale: Vec<f64>,
}

impl MarketPath {
    /// Generates `days` days for `seed` under `model`.
    pub(super) fn generate(seed: u64, days: usize, model: &MarketModel) -> Self {
        let m = &model.market;
        let r = &model.regimes;
        let mut path = Self {
            turbulent: Vec::with_capacity(days),
            market: Vec::with_capacity(days),
            sectors: Vec::with_capacity(days),
            factor_scale: Vec::with_capacity(days),
        };
        let mut start = Rng::new(seed, MARKET_STREAM, u64::MAX, 0);
        let mut turbulent = start.unit() < turbulent_share(model);
        let mut h = 1.0;
        for day in 0..days {
            let mut rng = Rng::new(seed, MARKET_STREAM, day as u64, 0);
            if day > 0 {
                let switch = if turbulent {
                    r.turbulent_to_calm
                } else {
                    r.calm_to_turbulent
                };
                if rng.unit() < switch {
                    turbulent = !turbulent;
                }
            }
            let regime = if turbulent { r.factor_scale } else { 1.0 };
            let jump_scale = if turbulent { r.jump_scale } else { 1.0 };
            let scale = regime * f64::sqrt(h);
            let z = student(&mut rng, model.stock.tail_dof);
            let jump = if rng.unit() < (m.jump_prob * jump_scale).min(1.0) {
                let sign = if rng.unit() < m.selloff_share {
                    -1.0
                } else {
                    1.0
                };
                sign * m.jump_size * (0.6 + 0.8 * rng.unit())
            } else {
                0.0
            };
            let shock = m.vol * scale * z + jump;
            let mut sectors = [0.0; Sector::ALL.len()];
            for (slot, &sector) in sectors.iter_mut().zip(Sector::ALL.iter()) {
                let vol = model.sectors.of(sector).factor_vol;
                *slot = vol * scale * student(&mut rng, model.stock.tail_dof);
            }
            path.turbulent.push(turbulent);
            path.market.push(shock);
            path.sectors.push(sectors);
            path.factor_scale.push(scale);
            let standardized = if m.vol * regime > 0.0 {
                shock / (m.vol * regime)
            } else {
                0.0
            };
            h = ((1.0 - m.garch_alpha - m.garch_beta)
                + m.garch_alpha * standardized * standardized
                + m.garch_beta * h)
                .min(GARCH_CAP);
        }
        path
    }
}

/// Long-run share of turbulent days of the regime chain.
pub(super) fn turbulent_share(model: &MarketModel) -> f64 {
    let r = &model.regimes;
    let total = r.calm_to_turbulent + r.turbulent_to_calm;
    if total > 0.0 {
        r.calm_to_turbulent / total
    } else {
        0.0
    }
}

/// A standard normal draw (Box–Muller; unbounded, unlike [`Rng::normal`], because the tails
/// are the point here).
pub(super) fn gauss(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.unit(); // (0, 1]: ln is finite
    let u2 = rng.unit();
    f64::sqrt(-2.0 * u1.ln()) * (std::f64::consts::TAU * u2).cos()
}

/// A Student-t draw with `dof` degrees of freedom, scaled to unit variance (`dof > 2`;
/// above 1000 it is Gaussian).
pub(super) fn student(rng: &mut Rng, dof: f64) -> f64 {
    let z = gauss(rng);
    if dof.is_nan() || dof <= 2.0 || dof > 1_000.0 {
        return z;
    }
    let chi2 = 2.0 * gamma(rng, dof / 2.0);
    if chi2 <= 0.0 {
        return z;
    }
    z / f64::sqrt(chi2 / dof) * f64::sqrt((dof - 2.0) / dof)
}

/// A Gamma(`shape`, 1) draw for `shape ≥ 1` (Marsaglia and Tsang, 2000).
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / f64::sqrt(9.0 * d);
    // Accepts ~98% of the time; the bound only keeps a pathological stream finite.
    for _ in 0..64 {
        let x = gauss(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = 1.0 - rng.unit();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
    d
}

/// A Poisson draw with mean `lambda` (exact below 30, normal approximation above).
pub(super) fn poisson(rng: &mut Rng, lambda: f64) -> u32 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda >= 30.0 {
        return (lambda + lambda.sqrt() * gauss(rng)).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut product = rng.unit();
    let mut count = 0;
    while product > limit && count < 1_000 {
        product *= rng.unit();
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> (f64, f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let kurt = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n / (var * var) - 3.0;
        (mean, var, kurt)
    }

    #[test]
    fn student_draws_have_unit_variance_and_fat_tails() {
        let mut rng = Rng::new(1, 2, 3, 4);
        let xs: Vec<f64> = (0..200_000).map(|_| student(&mut rng, 6.0)).collect();
        let (mean, var, kurt) = moments(&xs);
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.03, "{var}");
        // t(6): excess kurtosis 6/(6-4) = 3.
        assert!((2.0..4.5).contains(&kurt), "{kurt}");
        let gaussian: Vec<f64> = (0..200_000).map(|_| gauss(&mut rng)).collect();
        let (_, var, kurt) = moments(&gaussian);
        assert!((var - 1.0).abs() < 0.02 && kurt.abs() < 0.1, "{var} {kurt}");
    }

    #[test]
    fn poisson_draws_have_their_mean() {
        let mut rng = Rng::new(9, 9, 9, 9);
        for lambda in [0.3, 2.0, 12.0, 80.0] {
            let n = 50_000;
            let sum: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, lambda))).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < 0.03 * lambda + 0.01,
                "{lambda}: {mean}"
            );
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }

    #[test]
    fn regimes_alternate_and_turbulent_days_are_wilder() {
        let model = MarketModel::default();
        let path = MarketPath::generate(3, 5_000, &model);
        let turbulent = path.turbulent.iter().filter(|t| **t).count();
        let share = turbulent as f64 / 5_000.0;
        assert!((0.05..0.4).contains(&share), "{share}");
        let abs_mean = |want: bool| {
            let xs: Vec<f64> = path
                .market
                .iter()
                .zip(&path.turbulent)
                .filter(|(_, t)| **t == want)
                .map(|(x, _)| x.abs())
                .collect();
            xs.iter().sum::<f64>() / xs.len() as f64
        };
        assert!(abs_mean(true) > 1.5 * abs_mean(false));
        let again = MarketPath::generate(3, 5_000, &model);
        assert_eq!(path.market, again.market);
    }
}
