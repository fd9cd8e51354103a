//! Simulated annealing and parallel tempering: Metropolis sweeps over single flips.

use std::f64::consts::LN_2;

use crate::model::Qubo;
use crate::solve::{self, Best, Error, Params, Sample, Schedule, State, Stop};

/// Sweeps of one read when neither sweeps nor a time limit are given.
const SWEEPS: usize = 1000;
/// Temperatures of parallel tempering.
const REPLICAS: usize = 16;

/// The inverse temperatures an anneal runs between: hot enough that the largest flip is taken
/// half the time, cold enough that the smallest is taken 1% of the time (dwave-samplers' rule).
pub(crate) fn beta_range(q: &Qubo) -> (f64, f64) {
    let (largest, smallest) = q.flip_scales();
    let hot = LN_2 / largest;
    let cold = 100f64.ln() / smallest;
    (hot, cold.max(hot))
}

pub(crate) fn anneal(q: &Qubo, p: &Params, stop: &Stop) -> Result<(Sample, usize), Error> {
    let (hot, cold) = beta_range(q);
    solve::reads(q, p, stop, true, |_, rng| {
        let schedule = Schedule::new(p, SWEEPS, stop);
        let mut s = State::random(q, rng);
        let mut best = Best::of(&s);
        let mut done = 0;
        while let Some(f) = schedule.at(done) {
            let beta = hot * (cold / hot).powf(f);
            s.sweep(q, beta, rng);
            best.offer(&s);
            done += 1;
            if stop.offer(s.energy) || stop.now() {
                break;
            }
        }
        best.polished(q, stop)
    })
}

pub(crate) fn tempering(q: &Qubo, p: &Params, stop: &Stop) -> Result<(Sample, usize), Error> {
    let (hot, cold) = beta_range(q);
    let betas: Vec<f64> = (0..REPLICAS)
        .map(|k| hot * (cold / hot).powf(k as f64 / (REPLICAS - 1) as f64))
        .collect();
    solve::reads(q, p, stop, true, |_, rng| {
        let schedule = Schedule::new(p, SWEEPS, stop);
        let mut states: Vec<State> = (0..REPLICAS).map(|_| State::random(q, rng)).collect();
        // at[k]: the state now at temperature k; swapping entries swaps temperatures.
        let mut at: Vec<usize> = (0..REPLICAS).collect();
        let mut best = Best::of(&states[0]);
        let mut done = 0;
        while schedule.at(done).is_some() {
            for (k, &beta) in betas.iter().enumerate() {
                let s = &mut states[at[k]];
                s.sweep(q, beta, rng);
                best.offer(s);
            }
            for k in (done % 2..REPLICAS - 1).step_by(2) {
                let (a, b) = (&states[at[k]], &states[at[k + 1]]);
                let exponent = (betas[k] - betas[k + 1]) * (a.energy - b.energy);
                if exponent >= 0.0 || rng.unit() < exponent.exp() {
                    at.swap(k, k + 1);
                }
            }
            done += 1;
            if stop.offer(best.0.energy) || stop.now() {
                break;
            }
        }
        best.polished(q, stop)
    })
}
