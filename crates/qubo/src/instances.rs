//! Seeded benchmark instances: the same seed gives the same model everywhere (tests, `qts qubo
//! gen`, the side-by-side benchmark against the Python solvers).

use crate::model::{Builder, Error, Qubo};
use crate::solve::Rng;

/// Every pair and every variable weighted uniformly in `[−1, 1)`.
pub fn random_dense(n: usize, seed: u64) -> Result<Qubo, Error> {
    let mut rng = Rng::for_read(seed, 0);
    let mut b = Builder::new(n)?;
    for i in 0..n {
        b.linear(i, rng.unit() * 2.0 - 1.0);
        for j in i + 1..n {
            b.quadratic(i, j, rng.unit() * 2.0 - 1.0);
        }
    }
    Ok(b.build())
}

/// Max-Cut of a random graph (each edge present with probability `density`, weight 1, as the
/// G-set's random graphs): minimising the QUBO maximises the cut, and `−energy` is the cut.
pub fn max_cut(n: usize, density: f64, seed: u64) -> Result<Qubo, Error> {
    let mut rng = Rng::for_read(seed, 0);
    let mut b = Builder::new(n)?;
    for i in 0..n {
        for j in i + 1..n {
            if rng.unit() < density {
                // Cutting (i, j) gains 1: xᵢ + xⱼ − 2xᵢxⱼ.
                b.linear(i, -1.0).linear(j, -1.0).quadratic(i, j, 2.0);
            }
        }
    }
    Ok(b.build())
}
