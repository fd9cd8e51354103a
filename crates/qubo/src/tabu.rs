//! Tabu search: take the best single flip that is not tabu (or that beats the best so far),
//! forbid flipping it back for a while, restart when the search stalls.

use crate::model::Qubo;
use crate::solve::{self, Best, Error, Params, Sample, State, Stop};

/// Moves without a new best, per variable, before a read ends.
const STALL_PER_VARIABLE: usize = 100;

pub(crate) fn search(q: &Qubo, p: &Params, stop: &Stop) -> Result<(Sample, usize), Error> {
    let n = q.len();
    // dwave-samplers' tenure: min(20, n/4).
    let tenure = (n / 4).clamp(1, 20);
    let stall = p
        .sweeps
        .unwrap_or(STALL_PER_VARIABLE)
        .saturating_mul(n)
        .max(1000);
    solve::reads(q, p, stop, false, |_, rng| {
        let mut s = State::random(q, rng);
        let mut best = Best::of(&s);
        let mut tabu_until = vec![0usize; n];
        let mut since_best = 0;
        let mut step = 0usize;
        while since_best < stall {
            step += 1;
            let mut pick = (f64::INFINITY, usize::MAX);
            // Ties go to a random one of the tied moves (reservoir of one), so restarts differ.
            let mut ties = 0;
            for (i, &until) in tabu_until.iter().enumerate() {
                let d = s.delta(i);
                let allowed = until < step || s.energy + d < best.0.energy - 1e-12;
                if !allowed {
                    continue;
                }
                if d < pick.0 {
                    pick = (d, i);
                    ties = 1;
                } else if d == pick.0 {
                    ties += 1;
                    if rng.below(ties) == 0 {
                        pick.1 = i;
                    }
                }
            }
            if pick.1 == usize::MAX {
                // Every move is tabu: let the oldest go.
                tabu_until.iter_mut().for_each(|t| *t = 0);
                continue;
            }
            s.flip(q, pick.1);
            tabu_until[pick.1] = step + tenure;
            if s.energy < best.0.energy - 1e-12 {
                best.offer(&s);
                since_best = 0;
                if stop.offer(s.energy) {
                    break;
                }
            } else {
                since_best += 1;
            }
            if step.is_multiple_of(64) && stop.now() {
                break;
            }
        }
        best.polished(q, stop)
    })
}
