//! Simulated quantum annealing: path-integral Monte Carlo of the transverse-field Ising model.
//!
//! `P` Trotter replicas of the state each feel the problem scaled by `s` and are bound to their
//! neighbours in imaginary time by `J⊥(s) = −½ ln tanh(g·(1 − s))`, the Suzuki–Trotter image of
//! a transverse field that falls to zero as `s` runs from 0 to 1 (OpenJij's `H(s) = s·Hp +
//! (1 − s)·Γ·Hd`). Early on the replicas wander independently; at the end they are locked
//! together. Each replica keeps its local fields, so a flip costs one row update as in SA.

use crate::model::Qubo;
use crate::sa::beta_range;
use crate::solve::{self, Best, Error, Params, Sample, Schedule, State, Stop};

/// Trotter replicas.
const SLICES: usize = 16;
/// Sweeps (of every replica) of one read when neither sweeps nor a time limit are given.
const SWEEPS: usize = 250;
/// `β·Γ/P` at the start: large, so the replicas start almost independent.
const G0: f64 = 3.0;
/// The largest replica coupling; past it the replicas are locked anyway.
const JPERP_MAX: f64 = 50.0;

pub(crate) fn anneal(q: &Qubo, p: &Params, stop: &Stop) -> Result<(Sample, usize), Error> {
    let n = q.len();
    let (hot, cold) = beta_range(q);
    // Per-replica inverse temperature of the problem term: near the cold end of the SA range
    // (tuned on dense and Max-Cut models; colder freezes the replicas, warmer never settles).
    let beta = hot * (cold / hot).powf(0.9);
    solve::reads(q, p, stop, true, |_, rng| {
        let schedule = Schedule::new(p, SWEEPS, stop);
        let mut slices: Vec<State> = (0..SLICES).map(|_| State::random(q, rng)).collect();
        let mut best = Best::of(&slices[0]);
        let mut done = 0;
        while let Some(f) = schedule.at(done) {
            let s = 0.02 + 0.98 * f;
            let jperp = (-0.5 * (G0 * (1.0 - s)).tanh().ln()).min(JPERP_MAX);
            let b = beta * s;
            for k in 0..SLICES {
                let (up, down) = ((k + 1) % SLICES, (k + SLICES - 1) % SLICES);
                for i in 0..n {
                    let spin = |x: u8| if x == 1 { 1.0 } else { -1.0 };
                    let me = spin(slices[k].x[i]);
                    let around = spin(slices[up].x[i]) + spin(slices[down].x[i]);
                    let d = b * slices[k].delta(i) + 2.0 * jperp * me * around;
                    if d <= 0.0 || (d < 40.0 && rng.unit() < (-d).exp()) {
                        slices[k].flip(q, i);
                    }
                }
                best.offer(&slices[k]);
            }
            done += 1;
            if stop.offer(best.0.energy) || stop.now() {
                break;
            }
        }
        best.polished(q, stop)
    })
}
