//! What every solver shares: parameters, stopping rules, reads spread over threads, and the
//! single-flip state the Monte Carlo solvers move through.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::model::Qubo;

/// A solver of [`solve`](crate::solve).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// Simulated annealing: Metropolis sweeps on a geometric inverse-temperature schedule.
    Sa,
    /// Simulated quantum annealing: path-integral Monte Carlo over Trotter replicas coupled by
    /// a transverse field that falls to zero.
    Sqa,
    /// Ballistic simulated bifurcation (Goto et al. 2021).
    Sb,
    /// Discrete simulated bifurcation (Goto et al. 2021): the coupling sees signs only.
    Dsb,
    /// Parallel tempering: replicas at fixed temperatures exchanging states.
    Pt,
    /// Tabu search: best non-tabu single flip, with aspiration and random restarts.
    Tabu,
    /// Exhaustive search in Gray-code order: the ground truth, up to [`EXACT_MAX`] variables.
    Exact,
}

/// The most variables the exact solver takes (2³² states).
pub const EXACT_MAX: usize = 32;

impl Solver {
    /// Every solver, in the order `qts qubo` lists them.
    pub const ALL: [Solver; 7] = [
        Solver::Sa,
        Solver::Sqa,
        Solver::Sb,
        Solver::Dsb,
        Solver::Pt,
        Solver::Tabu,
        Solver::Exact,
    ];

    /// Its name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Solver::Sa => "sa",
            Solver::Sqa => "sqa",
            Solver::Sb => "sb",
            Solver::Dsb => "dsb",
            Solver::Pt => "pt",
            Solver::Tabu => "tabu",
            Solver::Exact => "exact",
        }
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Solver {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bsb" => return Ok(Solver::Sb),
            "pimc" => return Ok(Solver::Sqa),
            _ => {}
        }
        Solver::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Solver::ALL.iter().map(|v| v.name()).collect();
                format!("unknown solver {s:?}; one of {}", names.join(", "))
            })
    }
}

/// How long and how hard to search. The defaults give a deterministic run for a seed.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// Seed of every read's generator (read `r` uses a generator derived from `seed` and `r`).
    pub seed: u64,
    /// Independent reads (restarts; agents for simulated bifurcation). Default: one per
    /// thread, or as many as fit in the time limit.
    pub reads: Option<usize>,
    /// Stop by then and return the best found. Without `sweeps` or `target`, the annealing
    /// solvers stretch their schedule over the time given instead of a number of sweeps.
    pub time_limit: Option<Duration>,
    /// Stop as soon as a state this low (or lower) is found.
    pub target: Option<f64>,
    /// Length of a read: sweeps (SA, PT, SQA), steps (SB) or stalled moves per variable (tabu).
    pub sweeps: Option<usize>,
    /// Threads; 0 for every core.
    pub threads: usize,
}

/// Why a solve could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The exact solver was given too many variables.
    #[error("the exact solver takes at most {EXACT_MAX} variables; this model has {0}")]
    TooLargeForExact(usize),
    /// `reads` or `sweeps` was zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

/// The best state a solver found.
#[derive(Debug, Clone)]
pub struct Solved {
    /// Its energy, evaluated afresh on the model.
    pub energy: f64,
    /// The state: one 0/1 per variable.
    pub x: Vec<u8>,
    /// Which solver found it.
    pub solver: Solver,
    /// Reads completed (or cut short by the time limit or the target).
    pub reads: usize,
    /// Wall time of the solve.
    pub elapsed: Duration,
    /// Whether a target was given and reached.
    pub reached_target: bool,
}

/// A state and its energy.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) energy: f64,
    pub(crate) x: Vec<u8>,
}

/// The seeded generator of one read.
pub(crate) struct Rng(Xoshiro256PlusPlus);

impl Rng {
    pub(crate) fn for_read(seed: u64, read: usize) -> Self {
        Self(Xoshiro256PlusPlus::seed_from_u64(
            seed ^ (read as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ))
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`).
    #[inline]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.0.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    pub(crate) fn bit(&mut self) -> u8 {
        (self.0.next_u64() >> 63) as u8
    }
}

/// When to stop: a deadline, a target energy, or another read having reached the target.
pub(crate) struct Stop {
    started: Instant,
    limit: Option<Duration>,
    target: Option<f64>,
    reached: AtomicBool,
}

impl Stop {
    pub(crate) fn new(p: &Params) -> Self {
        Self {
            started: Instant::now(),
            limit: p.time_limit,
            target: p.target,
            reached: AtomicBool::new(false),
        }
    }

    /// Whether the target was reached or the time is up.
    #[inline]
    pub(crate) fn now(&self) -> bool {
        self.reached.load(Ordering::Relaxed)
            || self.limit.is_some_and(|l| self.started.elapsed() >= l)
    }

    /// Whether the time is well past the limit (a tenth over): polishing gives up then.
    pub(crate) fn hard(&self) -> bool {
        self.limit
            .is_some_and(|l| self.started.elapsed() >= l + l / 10)
    }

    /// Records an energy found; true when it reaches the target.
    #[inline]
    pub(crate) fn offer(&self, energy: f64) -> bool {
        if self.reached(energy) {
            self.reached.store(true, Ordering::Relaxed);
        }
        self.reached.load(Ordering::Relaxed)
    }

    /// Whether `energy` is at the target (within a relative 1e-9).
    pub(crate) fn reached(&self, energy: f64) -> bool {
        self.target
            .is_some_and(|t| energy <= t + 1e-9 * t.abs().max(1.0))
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// How far through its schedule a read is: by sweeps counted, or by the clock when the solver
/// was given a time limit and no sweep count.
pub(crate) struct Schedule {
    sweeps: usize,
    budget: Option<(Instant, Duration)>,
    /// Whether the read also ends at `sweeps` when the time budget is longer.
    capped: bool,
}

impl Schedule {
    /// `default_sweeps` unless `p.sweeps` says otherwise; with a time limit and neither sweeps
    /// nor a target, each read gets an equal share of the time among the reads a thread will
    /// run. (With a target, short reads that restart until it is reached find it sooner than
    /// one long read that is still hot when the target would be in reach.)
    pub(crate) fn new(p: &Params, default_sweeps: usize, stop: &Stop) -> Self {
        let sweeps = p.sweeps.unwrap_or(default_sweeps).max(1);
        let budget = match (p.time_limit, p.sweeps, p.target) {
            (Some(limit), None, None) => {
                let threads = threads(p);
                let per_thread = p.reads.map_or(1, |r| r.div_ceil(threads)).max(1) as u32;
                let left = limit.saturating_sub(stop.elapsed());
                // A twentieth of the time is left for the final polish.
                Some((Instant::now(), (limit * 19 / 20 / per_thread).min(left)))
            }
            _ => None,
        };
        Self {
            sweeps,
            budget,
            capped: false,
        }
    }

    /// A read that ends at `default_sweeps` (or `p.sweeps`) or when the time left runs out,
    /// whichever comes first, its progress the further of the two; reads repeat until the
    /// time is up. For simulated bifurcation, whose runs gain little past a thousand steps
    /// but much from more agents.
    pub(crate) fn capped(p: &Params, default_sweeps: usize, stop: &Stop) -> Self {
        let sweeps = p.sweeps.unwrap_or(default_sweeps).max(1);
        let budget = p.time_limit.map(|limit| {
            let left = limit.saturating_sub(stop.elapsed());
            (Instant::now(), left * 19 / 20)
        });
        Self {
            sweeps,
            budget,
            capped: true,
        }
    }

    /// Progress in `[0, 1]` after `done` sweeps, or `None` when the read is over.
    #[inline]
    pub(crate) fn at(&self, done: usize) -> Option<f64> {
        let by_sweeps = done as f64 / (self.sweeps - 1).max(1) as f64;
        match self.budget {
            Some((from, budget)) => {
                let f = from.elapsed().as_secs_f64() / budget.as_secs_f64().max(1e-9);
                if self.capped {
                    (f < 1.0 && done < self.sweeps).then_some(f.max(by_sweeps))
                } else {
                    (f < 1.0).then_some(f)
                }
            }
            None => (done < self.sweeps).then_some(by_sweeps),
        }
    }
}

/// The number of threads a solve uses.
pub(crate) fn threads(p: &Params) -> usize {
    if p.threads > 0 {
        p.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Runs reads on `threads(p)` threads until `p.reads` are done (default: one per thread, or
/// unbounded with a time limit or a target, except one per thread when each read `stretches`
/// its schedule over the time limit) or `stop` says so, and keeps the best by energy, then by
/// read number, so the answer does not depend on which thread finished first.
pub(crate) fn reads(
    q: &Qubo,
    p: &Params,
    stop: &Stop,
    stretches: bool,
    read: impl Fn(usize, &mut Rng) -> Sample + Sync,
) -> Result<(Sample, usize), Error> {
    let threads = threads(p);
    let limit = match p.reads {
        Some(0) => return Err(Error::Zero("reads")),
        Some(r) => r,
        // A stretched schedule fills the time with one read per thread.
        None if stretches && p.time_limit.is_some() && p.sweeps.is_none() && p.target.is_none() => {
            threads
        }
        None if p.time_limit.is_some() || p.target.is_some() => usize::MAX,
        None => threads,
    };
    if p.sweeps == Some(0) {
        return Err(Error::Zero("sweeps"));
    }
    let next = AtomicUsize::new(0);
    let best: Mutex<Option<(f64, usize, Vec<u8>)>> = Mutex::new(None);
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(limit) {
            scope.spawn(|| {
                loop {
                    let r = next.fetch_add(1, Ordering::Relaxed);
                    if r >= limit || (r > 0 && stop.now()) {
                        break;
                    }
                    let mut rng = Rng::for_read(p.seed, r);
                    let s = read(r, &mut rng);
                    let energy = q.energy(&s.x);
                    stop.offer(energy);
                    done.fetch_add(1, Ordering::Relaxed);
                    let mut best = best.lock().unwrap_or_else(|e| e.into_inner());
                    let better = match &*best {
                        None => true,
                        Some((e, at, _)) => (energy, r) < (*e, *at),
                    };
                    if better {
                        *best = Some((energy, r, s.x));
                    }
                }
            });
        }
    });
    let (energy, _, x) = best
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or_else(|| (q.energy(&vec![0; q.len()]), 0, vec![0; q.len()]));
    Ok((Sample { energy, x }, done.into_inner()))
}

/// A 0/1 state with each variable's local field, so a flip's energy change is O(1) and the
/// flip itself one row of the coupling matrix.
#[derive(Clone)]
pub(crate) struct State {
    pub(crate) x: Vec<u8>,
    pub(crate) field: Vec<f64>,
    pub(crate) energy: f64,
}

impl State {
    pub(crate) fn new(q: &Qubo, x: Vec<u8>) -> Self {
        Self {
            field: q.fields(&x),
            energy: q.energy(&x),
            x,
        }
    }

    pub(crate) fn random(q: &Qubo, rng: &mut Rng) -> Self {
        Self::new(q, (0..q.len()).map(|_| rng.bit()).collect())
    }

    /// The energy change of flipping `i`.
    #[inline]
    pub(crate) fn delta(&self, i: usize) -> f64 {
        if self.x[i] == 0 {
            self.field[i]
        } else {
            -self.field[i]
        }
    }

    #[inline]
    pub(crate) fn flip(&mut self, q: &Qubo, i: usize) {
        let d = self.delta(i);
        self.x[i] ^= 1;
        let sign = if self.x[i] == 1 { 1.0 } else { -1.0 };
        q.couplings.add_row(i, sign, &mut self.field);
        self.energy += d;
    }

    /// One Metropolis sweep at inverse temperature `beta`, variables in order.
    #[inline]
    pub(crate) fn sweep(&mut self, q: &Qubo, beta: f64, rng: &mut Rng) {
        for i in 0..self.x.len() {
            let d = self.delta(i);
            if d <= 0.0 || (beta * d < 40.0 && rng.unit() < (-beta * d).exp()) {
                self.flip(q, i);
            }
        }
    }

    /// Steepest descent to a local minimum of single flips.
    pub(crate) fn descend(&mut self, q: &Qubo) {
        loop {
            let mut best = (0.0, usize::MAX);
            for i in 0..self.x.len() {
                let d = self.delta(i);
                if d < best.0 {
                    best = (d, i);
                }
            }
            if best.1 == usize::MAX || best.0 > -1e-12 * self.energy.abs().max(1.0) {
                return;
            }
            self.flip(q, best.1);
        }
    }

    /// Steepest descent over single flips and then pairs of flips, until neither improves: a
    /// pair move is what a constrained model (choose exactly k) needs to go from one feasible
    /// state to another, and single-flip annealing rarely makes it once cold. O(n²) per pass.
    pub(crate) fn descend_pairs(&mut self, q: &Qubo, stop: &Stop) {
        let n = self.x.len();
        let mut row = vec![0.0; n];
        let tolerance = |e: f64| 1e-12 * e.abs().max(1.0);
        loop {
            self.descend(q);
            if stop.hard() {
                return;
            }
            let mut best = (-tolerance(self.energy), None);
            for i in 0..n {
                let di = self.delta(i);
                let si = if self.x[i] == 0 { 1.0 } else { -1.0 };
                q.couplings.add_row(i, 1.0, &mut row);
                for (j, w) in row.iter().enumerate().skip(i + 1) {
                    let sj = if self.x[j] == 0 { 1.0 } else { -1.0 };
                    let d = di + self.delta(j) + si * sj * w;
                    if d < best.0 {
                        best = (d, Some((i, j)));
                    }
                }
                // Back to zeros exactly: (0 + w) − w = 0.
                q.couplings.add_row(i, -1.0, &mut row);
            }
            match best.1 {
                Some((i, j)) => {
                    self.flip(q, i);
                    self.flip(q, j);
                }
                None => return,
            }
        }
    }

    pub(crate) fn sample(&self) -> Sample {
        Sample {
            energy: self.energy,
            x: self.x.clone(),
        }
    }
}

/// The lowest state seen, copied only when it improves.
pub(crate) struct Best(pub(crate) Sample);

impl Best {
    pub(crate) fn of(s: &State) -> Self {
        Self(s.sample())
    }

    #[inline]
    pub(crate) fn offer(&mut self, s: &State) {
        if s.energy < self.0.energy {
            self.0.energy = s.energy;
            self.0.x.copy_from_slice(&s.x);
        }
    }

    /// The best state, polished by steepest descent over single and paired flips.
    pub(crate) fn polished(self, q: &Qubo, stop: &Stop) -> Sample {
        let mut s = State::new(q, self.0.x);
        s.descend_pairs(q, stop);
        s.sample()
    }
}
