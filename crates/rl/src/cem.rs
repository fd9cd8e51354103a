//! The cross-entropy method (Rubinstein 1999; as a policy search, Szita and Lőrincz 2006): sample
//! a population of policy parameters from independent Gaussians, play each through a whole
//! episode, refit the Gaussians to the best (the elite), repeat. Derivative-free, so the
//! episode can be the real pipeline — the matching engine's fills, the fees and tax, T+2, the
//! risk checks — rather than a differentiable stand-in. Extra noise added to the deviations
//! each generation (decaying) keeps the search from collapsing early, and the best policy found
//! so far is carried into every generation (elitism): the mean of a few elite policies can be
//! worse than each of them, so the search returns whichever of the final mean and the best found
//! did better on the training dates.
//!
//! Seeded and deterministic: episodes are played on several threads, but each candidate's
//! return depends only on its parameters, and they are ranked in draw order.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::env::{Market, RlError};
use crate::policy::Policy;

/// How the search runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Policies per generation, 4 to 1000.
    pub population: usize,
    /// The best this many refit the distribution (2 to population).
    pub elite: usize,
    /// Generations, 1 to 1000.
    pub generations: usize,
    /// Starting deviation of every parameter (the weights start at 1/inputs, enter at +2, exit
    /// at −1, patience at 0).
    pub sigma: f64,
    /// Extra deviation added each generation, shrinking linearly to 0 by the last.
    pub noise: f64,
    /// Seed of the draws.
    pub seed: u64,
    /// Threads playing episodes (at least 1).
    pub threads: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            population: 32,
            elite: 6,
            generations: 15,
            sigma: 0.5,
            noise: 0.1,
            seed: 1,
            threads: 2,
        }
    }
}

impl Settings {
    /// Checks the numbers.
    pub fn check(&self) -> Result<(), RlError> {
        let bad = |what: &str| Err(RlError::Input(what.to_owned()));
        if !(4..=1000).contains(&self.population) {
            return bad("population must be 4 to 1000");
        }
        if !(2..=self.population).contains(&self.elite) {
            return bad("elite must be 2 to the population");
        }
        if !(1..=1000).contains(&self.generations) {
            return bad("generations must be 1 to 1000");
        }
        if !(self.sigma > 0.0 && self.sigma <= 100.0) {
            return bad("sigma must be in (0, 100]");
        }
        if !(0.0..=100.0).contains(&self.noise) {
            return bad("noise must be 0 to 100");
        }
        if self.threads == 0 {
            return bad("threads must be at least 1");
        }
        Ok(())
    }
}

/// Standard normal draws (Box–Muller over `ml::synthetic::noise`).
pub(crate) struct Gaussian {
    uniform: Box<dyn FnMut() -> f64 + Send>,
    spare: Option<f64>,
}

impl Gaussian {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            uniform: Box::new(ml::synthetic::noise(seed)),
            spare: None,
        }
    }

    pub(crate) fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // noise() is in [-0.5, 0.5): map to (0, 1].
        let u1 = 0.5 - (self.uniform)();
        let u2 = (self.uniform)() + 0.5;
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

/// The starting means and deviations of `weights` weights and the three thresholds.
pub(crate) fn start(weights: usize, settings: &Settings) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![1.0 / weights.max(1) as f64; weights];
    mean.extend([2.0, -1.0, 0.0]);
    (mean, vec![settings.sigma; weights + 3])
}

/// Total returns of `policies` over `from ..= to`, in order, played on `threads` threads.
pub(crate) fn returns(
    market: &Market,
    policies: &[Policy],
    from: Date,
    to: Date,
    threads: usize,
) -> Result<Vec<f64>, RlError> {
    let chunk = policies.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = policies
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| {
                            market
                                .episode(p, from, to)
                                .map(|o| market.measure(&o).total_return)
                        })
                        .collect::<Result<Vec<f64>, RlError>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(policies.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|_| RlError::Input("an episode panicked".to_owned()))??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// One generation of the search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    /// The best return of the population.
    pub best: f64,
    /// The elite's mean return.
    pub elite: f64,
    /// The population's mean return.
    pub mean: f64,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The policy kept: the final mean of the distribution, or the best one played if that did
    /// better on the training dates.
    pub policy: Policy,
    /// Its return over the training dates.
    pub train_return: f64,
    /// Each generation.
    pub generations: Vec<Generation>,
    /// Episodes played.
    pub episodes: usize,
}

/// Searches for the policy with the highest total return over `from ..= to` (features scaled
/// by their moments over those dates only).
pub fn train(
    market: &Market,
    from: Date,
    to: Date,
    settings: &Settings,
) -> Result<Trained, RlError> {
    settings.check()?;
    market.check_span(from, to)?;
    let base = Policy::untrained(market.feature_names(), &market.rows_between(from, to));
    let (mut mean, mut sigma) = start(base.weights.len(), settings);
    let mut draw = Gaussian::new(settings.seed);
    let mut generations = Vec::with_capacity(settings.generations);
    let mut episodes = 0;
    // The best parameters played so far and their return (played again each generation: the
    // same parameters give the same return, so this only keeps them in the elite's reach).
    let mut best: Option<(Vec<f64>, f64)> = None;
    for g in 0..settings.generations {
        let mut thetas: Vec<Vec<f64>> = (0..settings.population)
            .map(|_| {
                mean.iter()
                    .zip(&sigma)
                    .map(|(m, s)| m + s * draw.next())
                    .collect()
            })
            .collect();
        if let (Some((theta, _)), Some(last)) = (&best, thetas.last_mut()) {
            last.clone_from(theta);
        }
        let policies: Vec<Policy> = thetas.iter().map(|t| base.with_parameters(t)).collect();
        let got = returns(market, &policies, from, to, settings.threads)?;
        episodes += got.len();
        let mut order: Vec<usize> = (0..got.len()).collect();
        order.sort_by(|&a, &b| got[b].total_cmp(&got[a]).then(a.cmp(&b)));
        if best.as_ref().is_none_or(|(_, r)| got[order[0]] > *r) {
            best = Some((thetas[order[0]].clone(), got[order[0]]));
        }
        let elite = &order[..settings.elite];
        let k = elite.len() as f64;
        let extra = settings.noise * (1.0 - g as f64 / settings.generations as f64);
        for j in 0..mean.len() {
            let m = elite.iter().map(|&i| thetas[i][j]).sum::<f64>() / k;
            let var = elite
                .iter()
                .map(|&i| (thetas[i][j] - m).powi(2))
                .sum::<f64>()
                / k;
            mean[j] = m;
            sigma[j] = (var + extra * extra).sqrt();
        }
        generations.push(Generation {
            best: got[order[0]],
            elite: elite.iter().map(|&i| got[i]).sum::<f64>() / k,
            mean: got.iter().sum::<f64>() / got.len() as f64,
        });
    }
    let policy = base.with_parameters(&mean);
    let mean_return = market
        .measure(&market.episode(&policy, from, to)?)
        .total_return;
    let (policy, train_return) = match best {
        Some((theta, r)) if r > mean_return => (base.with_parameters(&theta), r),
        Some(_) | None => (policy, mean_return),
    };
    Ok(Trained {
        policy,
        train_return,
        generations,
        episodes: episodes + 1,
    })
}
