//! Use cases: portfolio optimisation (choose K securities in whole lots as a QUBO, with the
//! proven best subset and the continuous bound to judge the answer by).

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::error::{Classify, Kind};
use qubo::portfolio::{Model, PortfolioError, Problem, Universe};
use qubo::{Params, Solver};
use tokio::sync::Semaphore;

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
    /// Another optimisation is running.
    #[error("another portfolio optimisation is running; retry shortly")]
    Busy,
    /// The optimisation's thread failed.
    #[error("optimisation task: {0}")]
    Task(String),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) | Error::Portfolio(_) | Error::Solver(_) => Kind::InvalidArgument,
            Error::Busy => Kind::ResourceExhausted,
            Error::Task(_) => Kind::Internal,
        }
    }
}

/// What a caller asks for, before defaults and checks.
#[derive(Debug, Clone)]
pub struct Input {
    /// The candidates.
    pub securities: Vec<Security>,
    /// How many to hold.
    pub k: usize,
    /// Money to invest (VND).
    pub budget: f64,
    /// Default 5.
    pub risk_aversion: Option<f64>,
    /// A solver's name; default `tabu`.
    pub solver: Option<String>,
    /// Default 1,000; at most [`MAX_TIME_LIMIT_MS`].
    pub time_limit_ms: Option<u64>,
    /// Default 0.
    pub seed: Option<u64>,
}

/// Runs optimisations one at a time (each may use every core for its time limit), off the
/// async threads.
#[derive(Debug, Clone)]
pub struct Optimiser {
    running: Arc<Semaphore>,
}

impl Default for Optimiser {
    fn default() -> Self {
        Self {
            running: Arc::new(Semaphore::new(1)),
        }
    }
}

impl Optimiser {
    /// Checks `input`, then optimises; [`Error::Busy`] while another runs.
    pub async fn optimise(&self, input: Input) -> Result<Answer, Error> {
        let solver: Solver = input
            .solver
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("tabu")
            .parse()
            .map_err(Error::Invalid)?;
        let time_limit_ms = input.time_limit_ms.unwrap_or(1000);
        if !(1..=MAX_TIME_LIMIT_MS).contains(&time_limit_ms) {
            return Err(Error::Invalid(format!(
                "time_limit_ms {time_limit_ms}: 1 to {MAX_TIME_LIMIT_MS}"
            )));
        }
        let request = Request {
            securities: input.securities,
            k: input.k,
            budget: input.budget,
            risk_aversion: input.risk_aversion.unwrap_or(5.0),
            solver,
            time_limit: Duration::from_millis(time_limit_ms),
            seed: input.seed.unwrap_or(0),
        };
        let _permit = self
            .running
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy)?;
        tokio::task::spawn_blocking(move || optimise(&request))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
    }
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
    /// Short of the best objective, as a share of it (0: the best).
    pub gap: Option<f64>,
    /// The continuous mean-variance optimum: an upper bound.
    pub bound: f64,
    /// The solver.
    pub solver: Solver,
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
    // Alignment and finite returns are checked, naming the security, by `from_returns`.
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
    let judge = model.yardstick(&universe, chosen.as_ref(), r.time_limit);
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
        gap: chosen.as_ref().and_then(|c| judge.gap(c)),
        best_objective: judge.best.map(|b| b.objective),
        proven: judge.proven,
        bound: judge.bound,
        solver: r.solver,
        solver_ms,
    })
}
