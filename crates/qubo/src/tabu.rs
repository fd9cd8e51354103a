//! Tabu search: take the best single flip that is not tabu (or that beats the best so far),
//! forbid flipping it back for a while; when the search stalls, restart from the read's best
//! state with a random share of it flipped (an elite restart, as in Palubeckis' multistart
//! tabu), until the read's restarts or the time are used up.

use crate::model::Qubo;
use crate::solve::{self, Best, Error, Params, Rng, Sample, State, Stop};

/// Moves without a new best, per variable, before a restart.
const STALL_PER_VARIABLE: usize = 10;
/// Restarts of one read when there is no time limit.
const RESTARTS: usize = 20;

pub(crate) fn search(q: &Qubo, p: &Params, stop: &Stop) -> Result<(Sample, usize), Error> {
    let n = q.len();
    // dwave-samplers' tenure: min(20, n/4).
    let tenure = (n / 4).clamp(1, 20);
    let stall = p
        .sweeps
        .unwrap_or(STALL_PER_VARIABLE)
        .saturating_mul(n)
        .max(1000);
    // With a time limit (and no target), one read per thread restarts until the time is up.
    let timed = p.time_limit.is_some() && p.target.is_none();
    solve::reads(q, p, stop, timed, |_, rng| {
        let mut s = State::random(q, rng);
        let mut best = Best::of(&s);
        let mut tabu_until = vec![0usize; n];
        let mut step = 0usize;
        let mut restarts = 0;
        loop {
            walk(
                q,
                &mut s,
                &mut best,
                &mut tabu_until,
                &mut step,
                tenure,
                stall,
                stop,
                rng,
            );
            restarts += 1;
            if stop.now() || (!timed && restarts >= RESTARTS) {
                break;
            }
            // Elite restart: the best state with between 5% and 20% of it flipped.
            let mut x = best.0.x.clone();
            let flips = (n / 20).max(1) + rng.below((3 * n / 20).max(1));
            for _ in 0..flips {
                x[rng.below(n)] ^= 1;
            }
            s = State::new(q, x);
            tabu_until.iter_mut().for_each(|t| *t = 0);
        }
        best.polished(q, stop)
    })
}

/// Tabu moves from `s` until `stall` moves pass without improving `best`, the target is
/// reached or the time is up.
#[allow(clippy::too_many_arguments)]
fn walk(
    q: &Qubo,
    s: &mut State,
    best: &mut Best,
    tabu_until: &mut [usize],
    step: &mut usize,
    tenure: usize,
    stall: usize,
    stop: &Stop,
    rng: &mut Rng,
) {
    let n = q.len();
    let mut since_best = 0;
    while since_best < stall {
        *step += 1;
        let mut pick = (f64::INFINITY, usize::MAX);
        // Ties go to a random one of the tied moves (reservoir of one), so restarts differ.
        let mut ties = 0;
        for (i, &until) in tabu_until.iter().enumerate() {
            let d = s.delta(i);
            let allowed = until < *step || s.energy + d < best.0.energy - 1e-12;
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
            // Every move is tabu: let them all go.
            tabu_until.iter_mut().for_each(|t| *t = 0);
            continue;
        }
        s.flip(q, pick.1);
        tabu_until[pick.1] = *step + tenure.min(n - 1);
        if s.energy < best.0.energy - 1e-12 {
            best.offer(s);
            since_best = 0;
            if stop.offer(s.energy) {
                return;
            }
        } else {
            since_best += 1;
        }
        if step.is_multiple_of(64) && stop.now() {
            return;
        }
    }
}
