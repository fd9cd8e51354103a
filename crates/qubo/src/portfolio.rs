//! Portfolio selection as a QUBO: choose `K` of `N` securities, each bought with an equal share
//! of the budget in whole lots, maximising expected return minus `λ`·variance — and the answers
//! to hold a QUBO solver's against: the continuous mean-variance optimum (an upper bound on
//! every whole-lot portfolio) and a branch-and-bound search that proves the best `K`-subset
//! when it finishes in time.

use std::time::{Duration, Instant};

use crate::model::{Builder, Error, Qubo};
use crate::solve::Rng;

/// What can be bought: expected returns and their covariance (per period, e.g. daily), prices
/// and lot sizes.
#[derive(Debug, Clone)]
pub struct Universe {
    /// Tickers, by index.
    pub names: Vec<String>,
    /// Expected return of each security over one period.
    pub mean: Vec<f64>,
    /// Covariance of the returns, row-major `n × n`.
    pub cov: Vec<f64>,
    /// Price of one share (VND).
    pub price: Vec<f64>,
    /// Shares per lot (100 on HOSE/HNX/UPCoM).
    pub lot: Vec<u64>,
}

/// Why a universe or a problem is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PortfolioError {
    /// Sizes of the inputs disagree, or there are too few periods.
    #[error("{0}")]
    Shape(String),
    /// Fewer securities are affordable in whole lots than must be chosen.
    #[error(
        "only {affordable} securities cost one lot or less of the budget share ({share:.0}); cannot choose {k}"
    )]
    Unaffordable {
        /// Securities whose lot fits in `budget / k`.
        affordable: usize,
        /// `budget / k`.
        share: f64,
        /// Securities to choose.
        k: usize,
    },
}

impl Universe {
    /// Sample mean and covariance of aligned return series (one `Vec` per security, equal
    /// lengths, at least two periods).
    pub fn from_returns(
        names: Vec<String>,
        returns: &[Vec<f64>],
        price: Vec<f64>,
        lot: Vec<u64>,
    ) -> Result<Self, PortfolioError> {
        let n = names.len();
        if returns.len() != n || price.len() != n || lot.len() != n || n == 0 {
            return Err(PortfolioError::Shape(format!(
                "{n} names, {} return series, {} prices, {} lots",
                returns.len(),
                price.len(),
                lot.len()
            )));
        }
        let t = returns[0].len();
        if t < 2 {
            return Err(PortfolioError::Shape(format!(
                "{} has {t} returns; at least two are needed",
                names[0]
            )));
        }
        if let Some(i) = (0..n).find(|&i| returns[i].len() != t) {
            return Err(PortfolioError::Shape(format!(
                "{} has {} returns, the first security {t}; the series must be aligned",
                names[i],
                returns[i].len()
            )));
        }
        if let Some(i) = (0..n).find(|&i| returns[i].iter().any(|r| !r.is_finite())) {
            return Err(PortfolioError::Shape(format!(
                "{} has a return that is not a finite number",
                names[i]
            )));
        }
        if let Some(i) = (0..n).find(|&i| price[i].is_nan() || price[i] <= 0.0 || lot[i] == 0) {
            return Err(PortfolioError::Shape(format!(
                "{}: price and lot must be positive",
                names[i]
            )));
        }
        let mean: Vec<f64> = returns
            .iter()
            .map(|r| r.iter().sum::<f64>() / t as f64)
            .collect();
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in i..n {
                let c = (0..t)
                    .map(|k| (returns[i][k] - mean[i]) * (returns[j][k] - mean[j]))
                    .sum::<f64>()
                    / (t - 1) as f64;
                cov[i * n + j] = c;
                cov[j * n + i] = c;
            }
        }
        Ok(Self {
            names,
            mean,
            cov,
            price,
            lot,
        })
    }

    /// A seeded market for benchmarks: daily returns from three factors (market, size, value)
    /// plus idiosyncratic noise, expected returns spread around 0.05% a day, prices 5,000 to
    /// 100,000 VND in lots of 100.
    pub fn factor_model(n: usize, seed: u64) -> Self {
        let mut rng = Rng::for_read(seed, 1);
        let mut normal = || {
            // Box–Muller.
            let (u, v) = (rng.unit().max(1e-300), rng.unit());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let factor_vol = [0.012, 0.006, 0.005];
        let loadings: Vec<[f64; 3]> = (0..n)
            .map(|_| [0.6 + 0.4 * normal().abs(), normal() * 0.8, normal() * 0.8])
            .collect();
        let idio: Vec<f64> = (0..n).map(|_| 0.01 + 0.01 * normal().abs()).collect();
        let mean: Vec<f64> = (0..n).map(|_| 0.0005 + 0.0006 * normal()).collect();
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let mut c: f64 = (0..3)
                    .map(|f| loadings[i][f] * loadings[j][f] * factor_vol[f] * factor_vol[f])
                    .sum();
                if i == j {
                    c += idio[i] * idio[i];
                }
                cov[i * n + j] = c;
            }
        }
        let mut rng = Rng::for_read(seed, 2);
        let price = (0..n)
            .map(|_| (50.0 + rng.unit() * 950.0).round() * 100.0)
            .collect();
        Self {
            names: (0..n).map(|i| format!("S{i:04}")).collect(),
            mean,
            cov,
            price,
            lot: vec![100; n],
        }
    }

    /// Number of securities.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What to choose: `k` securities, `budget` VND, risk aversion `λ`.
#[derive(Debug, Clone, Copy)]
pub struct Problem {
    /// Securities to hold.
    pub k: usize,
    /// Money to invest (VND).
    pub budget: f64,
    /// `λ` in `return − λ·variance`.
    pub risk_aversion: f64,
}

/// A chosen portfolio and how it scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Indices into the universe, ascending.
    pub chosen: Vec<usize>,
    /// Shares bought of each chosen security (whole lots).
    pub shares: Vec<u64>,
    /// Fraction of the budget in each chosen security.
    pub weights: Vec<f64>,
    /// Expected return of the budget over one period.
    pub expected_return: f64,
    /// Variance of that return.
    pub variance: f64,
    /// `expected_return − λ·variance`: what the selection maximises.
    pub objective: f64,
}

/// The QUBO of a problem over the affordable securities.
#[derive(Debug, Clone)]
pub struct Model {
    /// Minimise this: `−objective + A·(Σx − k)²`.
    pub qubo: Qubo,
    /// Universe index of each QUBO variable.
    pub index: Vec<usize>,
    /// The penalty `A`: larger than anything one more or one fewer security can gain.
    pub penalty: f64,
    weights: Vec<f64>,
    problem: Problem,
}

/// Fraction of the budget a security takes when bought with `budget / k` in whole lots.
fn lot_weight(u: &Universe, p: &Problem, i: usize) -> (u64, f64) {
    let share = p.budget / p.k as f64;
    let lot_cost = u.price[i] * u.lot[i] as f64;
    let lots = (share / lot_cost).floor();
    let shares = lots as u64 * u.lot[i];
    (shares, shares as f64 * u.price[i] / p.budget)
}

impl Model {
    /// Builds the QUBO; securities whose one lot costs more than `budget / k` are left out.
    pub fn new(u: &Universe, p: &Problem) -> Result<Self, PortfolioError> {
        if p.k == 0
            || p.budget.is_nan()
            || p.budget <= 0.0
            || p.risk_aversion.is_nan()
            || p.risk_aversion < 0.0
        {
            return Err(PortfolioError::Shape(
                "k must be at least 1, the budget positive and the risk aversion at least 0".into(),
            ));
        }
        let n = u.len();
        let (index, weights): (Vec<usize>, Vec<f64>) = (0..n)
            .filter_map(|i| {
                let (_, w) = lot_weight(u, p, i);
                (w > 0.0).then_some((i, w))
            })
            .unzip();
        let m = index.len();
        if m < p.k {
            return Err(PortfolioError::Unaffordable {
                affordable: m,
                share: p.budget / p.k as f64,
                k: p.k,
            });
        }
        let c = |a: usize, b: usize| {
            p.risk_aversion * weights[a] * weights[b] * u.cov[index[a] * n + index[b]]
        };
        // What adding or removing one security can move the objective of a k-subset: its own
        // terms and its k largest pair terms. A penalty above that makes every k-subset cheaper
        // than its neighbours with k ± 1, and no larger than needed, so single flips can still
        // pass between subsets at the temperatures that tell their objectives apart.
        let mut reach: f64 = 0.0;
        let mut pairs = Vec::with_capacity(m);
        for a in 0..m {
            let own = (c(a, a) - u.mean[index[a]] * weights[a]).abs();
            pairs.clear();
            pairs.extend((0..m).filter(|&b| b != a).map(|b| 2.0 * c(a, b).abs()));
            let top = p.k.min(pairs.len());
            if top > 0 && top < pairs.len() {
                pairs.select_nth_unstable_by(top - 1, |x, y| y.total_cmp(x));
            }
            reach = reach.max(own + pairs[..top].iter().sum::<f64>());
        }
        let penalty = 1.5 * reach.max(1e-12);
        let mut b = Builder::new(m).map_err(|e: Error| PortfolioError::Shape(e.to_string()))?;
        let k = p.k as f64;
        b.offset(penalty * k * k);
        for a in 0..m {
            let r = u.mean[index[a]] * weights[a];
            b.linear(a, -r + c(a, a) + penalty * (1.0 - 2.0 * k));
            for bb in a + 1..m {
                b.quadratic(a, bb, 2.0 * c(a, bb) + 2.0 * penalty);
            }
        }
        Ok(Self {
            qubo: b.build(),
            index,
            penalty,
            weights,
            problem: *p,
        })
    }

    /// The selection a QUBO state stands for, or `None` unless it chooses exactly `k`.
    pub fn selection(&self, u: &Universe, x: &[u8]) -> Option<Selection> {
        let chosen: Vec<usize> = (0..x.len()).filter(|&a| x[a] != 0).collect();
        (chosen.len() == self.problem.k).then(|| self.score(u, &chosen))
    }

    fn score(&self, u: &Universe, vars: &[usize]) -> Selection {
        let n = u.len();
        let mut chosen: Vec<(usize, usize)> = vars.iter().map(|&a| (self.index[a], a)).collect();
        chosen.sort_unstable();
        let expected_return = chosen
            .iter()
            .map(|&(i, a)| u.mean[i] * self.weights[a])
            .sum();
        let mut variance = 0.0;
        for &(i, a) in &chosen {
            for &(j, b) in &chosen {
                variance += self.weights[a] * self.weights[b] * u.cov[i * n + j];
            }
        }
        Selection {
            shares: chosen
                .iter()
                .map(|&(i, _)| lot_weight(u, &self.problem, i).0)
                .collect(),
            weights: chosen.iter().map(|&(_, a)| self.weights[a]).collect(),
            chosen: chosen.iter().map(|&(i, _)| i).collect(),
            expected_return,
            variance,
            objective: expected_return - self.problem.risk_aversion * variance,
        }
    }

    /// The best `k`-subset by depth-first branch and bound, starting from `incumbent` (a
    /// heuristic's answer, for pruning). Returns the best found and whether the search
    /// finished (then it is proven optimal) before `time_limit`.
    pub fn branch_and_bound(
        &self,
        u: &Universe,
        incumbent: Option<&Selection>,
        time_limit: Duration,
    ) -> (Option<Selection>, bool) {
        let m = self.index.len();
        let n = u.len();
        let k = self.problem.k;
        // Minimise g(S) = Σ_{a∈S} d_a + Σ_{a≠b∈S} c_ab, c_ab = λ·w_a·w_b·Σ_ab, d_a = c_aa − r_a.
        let c: Vec<f64> = (0..m * m)
            .map(|ab| {
                let (a, b) = (ab / m, ab % m);
                self.problem.risk_aversion
                    * self.weights[a]
                    * self.weights[b]
                    * u.cov[self.index[a] * n + self.index[b]]
            })
            .collect();
        let d: Vec<f64> = (0..m)
            .map(|a| c[a * m + a] - u.mean[self.index[a]] * self.weights[a])
            .collect();
        let min_pair = (0..m)
            .flat_map(|a| (0..m).filter(move |&b| b != a).map(move |b| (a, b)))
            .map(|(a, b)| c[a * m + b])
            .fold(f64::INFINITY, f64::min);
        let min_pair = if min_pair.is_finite() { min_pair } else { 0.0 };
        // Most promising first: variables by their value alone.
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
        let best: (f64, Vec<usize>) = match incumbent {
            Some(s) => {
                let vars: Vec<usize> = s
                    .chosen
                    .iter()
                    .filter_map(|i| self.index.iter().position(|x| x == i))
                    .collect();
                let g = vars.iter().map(|&a| d[a]).sum::<f64>()
                    + vars
                        .iter()
                        .flat_map(|&a| vars.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
                        .map(|(a, b)| c[a * m + b])
                        .sum::<f64>();
                (g + 1e-12 * g.abs(), Vec::new())
            }
            None => (f64::INFINITY, Vec::new()),
        };
        let mut search = Search {
            order,
            k,
            m,
            c,
            min_pair,
            gain: d,
            set: Vec::with_capacity(k),
            best,
            scratch: Vec::with_capacity(m),
            nodes: 0,
            finished: true,
            started: Instant::now(),
            time_limit,
        };
        search.dive(0, 0.0);
        let (best, finished) = (search.best, search.finished);
        let found = if best.1.is_empty() {
            incumbent.cloned()
        } else {
            Some(self.score(u, &best.1))
        };
        (found, finished)
    }
}

/// What a selection is held against: the best `k`-subset the branch and bound found (proven
/// optimal when it finished in time) and the continuous mean-variance optimum (an upper
/// bound), with the time each took.
#[derive(Debug, Clone)]
pub struct Yardstick {
    /// The best `k`-subset found.
    pub best: Option<Selection>,
    /// Whether the branch and bound finished, so `best` is optimal.
    pub proven: bool,
    /// The continuous optimum's objective.
    pub bound: f64,
    /// Time of the branch and bound.
    pub search_time: Duration,
    /// Time of the continuous optimum.
    pub bound_time: Duration,
}

impl Yardstick {
    /// How far `s` falls short of the best subset, as a share of it (0: the best).
    pub fn gap(&self, s: &Selection) -> Option<f64> {
        self.best
            .as_ref()
            .map(|b| (b.objective - s.objective) / b.objective.abs().max(1e-300))
    }

    /// How far `s` falls short of the continuous optimum, as a share of it.
    pub fn gap_to_bound(&self, s: &Selection) -> f64 {
        (self.bound - s.objective) / self.bound.abs().max(1e-300)
    }
}

impl Model {
    /// The yardstick of this problem: the branch and bound (seeded with `incumbent`, the best
    /// answer at hand) for at most `time_limit`, and the continuous optimum.
    pub fn yardstick(
        &self,
        u: &Universe,
        incumbent: Option<&Selection>,
        time_limit: Duration,
    ) -> Yardstick {
        let started = Instant::now();
        let (best, proven) = self.branch_and_bound(u, incumbent, time_limit);
        let search_time = started.elapsed();
        let started = Instant::now();
        let (_, bound) = continuous(u, self.problem.risk_aversion);
        Yardstick {
            best,
            proven,
            bound,
            search_time,
            bound_time: started.elapsed(),
        }
    }
}

/// Depth-first branch and bound over `k`-subsets (see [`Model::branch_and_bound`]).
struct Search {
    /// Variables, most promising first.
    order: Vec<usize>,
    k: usize,
    m: usize,
    /// `c[a·m + b] = λ·w_a·w_b·Σ_ab`.
    c: Vec<f64>,
    /// The smallest `c` between two different variables.
    min_pair: f64,
    /// What adding each variable costs given the set so far.
    gain: Vec<f64>,
    set: Vec<usize>,
    best: (f64, Vec<usize>),
    scratch: Vec<f64>,
    nodes: u64,
    finished: bool,
    started: Instant,
    time_limit: Duration,
}

impl Search {
    /// Extends the set with variables from `order[from..]`; `g` is the set's cost so far.
    fn dive(&mut self, from: usize, g: f64) {
        self.nodes += 1;
        if self.nodes.is_multiple_of(4096) && self.started.elapsed() >= self.time_limit {
            self.finished = false;
        }
        if !self.finished {
            return;
        }
        let need = self.k - self.set.len();
        if need == 0 {
            if g < self.best.0 {
                self.best = (g, self.set.clone());
            }
            return;
        }
        let left = self.order.len() - from;
        if left < need {
            return;
        }
        // Bound: the `need` cheapest additions now, plus the cheapest pairs among them.
        self.scratch.clear();
        self.scratch
            .extend(self.order[from..].iter().map(|&a| self.gain[a]));
        let (low, nth, _) = self
            .scratch
            .select_nth_unstable_by(need - 1, f64::total_cmp);
        let cheapest = low.iter().sum::<f64>() + *nth;
        let pairs = (need * (need - 1)) as f64 * self.min_pair;
        if g + cheapest + pairs >= self.best.0 {
            return;
        }
        for at in from..=self.order.len() - need {
            let a = self.order[at];
            let added = self.gain[a];
            self.set.push(a);
            for at_b in at + 1..self.order.len() {
                let b = self.order[at_b];
                self.gain[b] += 2.0 * self.c[a * self.m + b];
            }
            self.dive(at + 1, g + added);
            for at_b in at + 1..self.order.len() {
                let b = self.order[at_b];
                self.gain[b] -= 2.0 * self.c[a * self.m + b];
            }
            self.set.pop();
            if !self.finished {
                return;
            }
        }
    }
}

/// The continuous optimum of `μᵀw − λ·wᵀΣw` over long-only weights with `Σw ≤ 1` (cash
/// allowed, no lots, no cardinality): an upper bound on every selection's objective.
/// Accelerated projected gradient (FISTA) until the weights stop moving.
pub fn continuous(u: &Universe, risk_aversion: f64) -> (Vec<f64>, f64) {
    let n = u.len();
    let grad = |w: &[f64], out: &mut [f64]| {
        for ((o, row), mean) in out.iter_mut().zip(u.cov.chunks_exact(n)).zip(&u.mean) {
            let sw: f64 = row.iter().zip(w).map(|(c, w)| c * w).sum();
            *o = mean - 2.0 * risk_aversion * sw;
        }
    };
    // Lipschitz constant of the gradient: 2λ·(largest eigenvalue of Σ), by power iteration.
    let mut v = vec![1.0 / (n as f64).sqrt(); n];
    let mut eig = 0.0;
    for _ in 0..100 {
        let next: Vec<f64> = (0..n)
            .map(|i| {
                u.cov[i * n..(i + 1) * n]
                    .iter()
                    .zip(&v)
                    .map(|(c, v)| c * v)
                    .sum()
            })
            .collect();
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        eig = norm;
        v = next.into_iter().map(|x| x / norm).collect();
    }
    let objective = |w: &[f64]| {
        let ret: f64 = w.iter().zip(&u.mean).map(|(w, m)| w * m).sum();
        let mut var = 0.0;
        for i in 0..n {
            var += w[i]
                * u.cov[i * n..(i + 1) * n]
                    .iter()
                    .zip(w)
                    .map(|(c, w)| c * w)
                    .sum::<f64>();
        }
        ret - risk_aversion * var
    };
    let lipschitz = 2.0 * risk_aversion * eig;
    if lipschitz <= 0.0 {
        // No risk term: everything in the best security, if it expects a gain.
        let mut w = vec![0.0; n];
        if let Some(i) = (0..n).max_by(|&a, &b| u.mean[a].total_cmp(&u.mean[b]))
            && u.mean[i] > 0.0
        {
            w[i] = 1.0;
        }
        let o = objective(&w);
        return (w, o);
    }
    let step = 1.0 / lipschitz;
    let mut w = vec![0.0; n];
    let mut y = w.clone();
    let mut t: f64 = 1.0;
    let mut g = vec![0.0; n];
    for _ in 0..20_000 {
        grad(&y, &mut g);
        let mut next: Vec<f64> = y.iter().zip(&g).map(|(y, g)| y + step * g).collect();
        project(&mut next);
        let moved: f64 = next.iter().zip(&w).map(|(a, b)| (a - b).abs()).sum();
        let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        y = next
            .iter()
            .zip(&w)
            .map(|(n, w)| n + (t - 1.0) / t_next * (n - w))
            .collect();
        w = next;
        t = t_next;
        if moved < 1e-13 {
            break;
        }
    }
    let o = objective(&w);
    (w, o)
}

/// Euclidean projection onto `{w ≥ 0, Σw ≤ 1}`.
fn project(w: &mut [f64]) {
    w.iter_mut().for_each(|x| *x = x.max(0.0));
    if w.iter().sum::<f64>() <= 1.0 {
        return;
    }
    // Onto the simplex: subtract the threshold θ that makes the positive parts sum to 1.
    let mut sorted: Vec<f64> = w.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let (mut sum, mut theta) = (0.0, 0.0);
    for (k, v) in sorted.iter().enumerate() {
        sum += v;
        let t = (sum - 1.0) / (k + 1) as f64;
        if *v - t > 0.0 {
            theta = t;
        }
    }
    w.iter_mut().for_each(|x| *x = (*x - theta).max(0.0));
}

#[cfg(test)]
mod tests;
