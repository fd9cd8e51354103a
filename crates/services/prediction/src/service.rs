//! Use cases: portfolio optimisation (choose K securities in whole lots as a QUBO, with the
//! proven best subset and the continuous bound to judge the answer by).

use std::time::{Duration, Instant};

use qubo::portfolio::{Model, PortfolioError, Problem, Universe, continuous};
use qubo::{Params, Solver};

/// The most securities one optimisation takes.
pub const MAX_SECURITIES: usize = 500;
/// The most return periods per security.
pub const MAX_PERIODS: usize = 1_000;
/// The longest a solver may run.
pub const MAX_TIME_LIMIT_MS: u64 = 10_000;

/// Why an optimisation was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is out of range.
    #[error("{0}")]
    Invalid(String),
    /// The problem cannot be built.
    #[error(transparent)]
    Portfolio(#[from] PortfolioError),
    /// The solver refused.
    #[error(transparent)]
    Solver(#[from] qubo::Error),
}

/// One security offered.
#[derive(Debug, Clone)]
pub struct Security {
    /// Ticker.
    pub symbol: String,
    /// Price of one share (VND).
    pub price: f64,
    /// Shares per lot.
    pub lot: u64,
    /// Its returns over past periods (aligned across securities, oldest first).
    pub returns: Vec<f64>,
}

/// What to optimise.
#[derive(Debug, Clone)]
pub struct Request {
    /// The candidates.
    pub securities: Vec<Security>,
    /// How many to hold.
    pub k: usize,
    /// Money to invest (VND).
    pub budget: f64,
    /// `λ` in `return − λ·variance`.
    pub risk_aversion: f64,
    /// The QUBO solver.
    pub solver: Solver,
    /// Its time, and the branch and bound's.
    pub time_limit: Duration,
    /// Its seed.
    pub seed: u64,
}

/// A chosen holding.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    /// Ticker.
    pub symbol: String,
    /// Shares to buy (whole lots).
    pub shares: u64,
    /// Share of the budget.
    pub weight: f64,
}

/// The answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// What the solver chose; empty if it found no K-subset.
    pub holdings: Vec<Holding>,
    /// Its `return − λ·variance` (per period).
    pub objective: Option<f64>,
    /// Its expected return per period.
    pub expected_return: Option<f64>,
    /// Its standard deviation per period.
    pub stdev: Option<f64>,
    /// The best K-subset's objective (proven when `proven`).
    pub best_objective: Option<f64>,
    /// Whether the branch and bound finished in time.
    pub proven: bool,
    /// The continuous mean-variance optimum: an upper bound.
    pub bound: f64,
    /// The solver's wall time.
    pub solver_ms: f64,
}

/// Optimises a portfolio: the QUBO solver's choice, judged by the branch and bound (seeded
/// with it) and the continuous optimum. CPU-bound: run it off the async threads.
pub fn optimise(r: &Request) -> Result<Answer, Error> {
    let n = r.securities.len();
    if !(2..=MAX_SECURITIES).contains(&n) {
        return Err(Error::Invalid(format!(
            "{n} securities; an optimisation takes 2 to {MAX_SECURITIES}"
        )));
    }
    let periods = r.securities[0].returns.len();
    if !(3..=MAX_PERIODS).contains(&periods) {
        return Err(Error::Invalid(format!(
            "{periods} returns per security; 3 to {MAX_PERIODS} are taken"
        )));
    }
    if let Some(s) = r.securities.iter().find(|s| s.returns.len() != periods) {
        return Err(Error::Invalid(format!(
            "{} has {} returns, the first security {periods}; the series must be aligned",
            s.symbol,
            s.returns.len()
        )));
    }
    if let Some(s) = r
        .securities
        .iter()
        .find(|s| s.returns.iter().any(|x| !x.is_finite()))
    {
        return Err(Error::Invalid(format!(
            "{} has a return that is not a finite number",
            s.symbol
        )));
    }
    let universe = Universe::from_returns(
        r.securities.iter().map(|s| s.symbol.clone()).collect(),
        &r.securities
            .iter()
            .map(|s| s.returns.clone())
            .collect::<Vec<_>>(),
        r.securities.iter().map(|s| s.price).collect(),
        r.securities.iter().map(|s| s.lot).collect(),
    )?;
    let problem = Problem {
        k: r.k,
        budget: r.budget,
        risk_aversion: r.risk_aversion,
    };
    let model = Model::new(&universe, &problem)?;
    let started = Instant::now();
    let solved = qubo::solve(
        &model.qubo,
        r.solver,
        &Params {
            seed: r.seed,
            time_limit: Some(r.time_limit),
            ..Params::default()
        },
    )?;
    let solver_ms = started.elapsed().as_secs_f64() * 1e3;
    let chosen = model.selection(&universe, &solved.x);
    let (best, proven) = model.branch_and_bound(&universe, chosen.as_ref(), r.time_limit);
    let (_, bound) = continuous(&universe, r.risk_aversion);
    Ok(Answer {
        holdings: chosen.as_ref().map_or_else(Vec::new, |c| {
            c.chosen
                .iter()
                .zip(&c.shares)
                .zip(&c.weights)
                .map(|((&i, &shares), &weight)| Holding {
                    symbol: universe.names[i].clone(),
                    shares,
                    weight,
                })
                .collect()
        }),
        objective: chosen.as_ref().map(|c| c.objective),
        expected_return: chosen.as_ref().map(|c| c.expected_return),
        stdev: chosen.as_ref().map(|c| c.variance.max(0.0).sqrt()),
        best_objective: best.map(|b| b.objective),
        proven,
        bound,
        solver_ms,
    })
}
