//! QUBO and Ising models and the quantum-inspired solvers that minimise them on classical
//! hardware: simulated annealing, simulated quantum annealing (path-integral Monte Carlo),
//! simulated bifurcation (ballistic and discrete), parallel tempering, tabu search, and an
//! exhaustive solver for ground truth.
//!
//! Start with [`Qubo::from_json`] (or [`Builder`]) and [`solve`]. Every solver is seeded: with
//! no time limit and no target, the same seed gives the same answer on any number of threads.
//! A time limit or a target energy stops a solve early; with a time limit and no sweep count,
//! the annealers stretch their schedule over the time given. [`portfolio`] builds the portfolio
//! selection QUBO (K of N securities in whole lots) with the answers to hold a solver's against,
//! [`select`] the feature-selection QUBO (relevance minus redundancy), and [`instances`] the
//! seeded benchmark models.

mod exact;
pub mod instances;
mod model;
pub mod portfolio;
mod sa;
mod sb;
pub mod select;
mod solve;
mod sqa;
mod tabu;

pub use model::{Builder, Error as ModelError, Ising, MAX_VARIABLES, Qubo, QuboJson};
pub use solve::{EXACT_MAX, Error, Params, Solved, Solver};

/// Minimises `q` with `solver`.
pub fn solve(q: &Qubo, solver: Solver, p: &Params) -> Result<Solved, Error> {
    let stop = solve::Stop::new(p);
    let (best, reads) = match solver {
        Solver::Sa => sa::anneal(q, p, &stop)?,
        Solver::Pt => sa::tempering(q, p, &stop)?,
        Solver::Sqa => sqa::anneal(q, p, &stop)?,
        Solver::Sb => sb::bifurcate(q, p, &stop, false)?,
        Solver::Dsb => sb::bifurcate(q, p, &stop, true)?,
        Solver::Tabu => tabu::search(q, p, &stop)?,
        Solver::Exact => exact::search(q, p, &stop)?,
    };
    let energy = q.energy(&best.x);
    Ok(Solved {
        reached_target: stop.reached(energy),
        energy,
        x: best.x,
        solver,
        reads,
        elapsed: stop.elapsed(),
    })
}
