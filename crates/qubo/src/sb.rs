//! Simulated bifurcation (Goto et al., Sci. Adv. 2019 and 2021), ballistic and discrete.
//!
//! Each spin is an oscillator `(xᵢ, yᵢ)`; the pump `a(t)` rises from 0 to `a₀` and the
//! oscillators bifurcate to `±1` under the coupling `c₀·J·x` (ballistic) or `c₀·J·sign(x)`
//! (discrete), with perfectly inelastic walls at `|x| = 1`. Fields `h` become couplings to one
//! extra spin whose sign is factored out at the end. A read is a batch of agents that share
//! each matrix product; the best agent's spins are polished by steepest descent.

use crate::model::{Couplings, Qubo};
use crate::solve::{self, Best, Error, Params, Sample, Schedule, State, Stop};

/// Steps of one read when neither sweeps nor a time limit are given.
const STEPS: usize = 1000;
/// Agents per read.
const AGENTS: usize = 16;
const A0: f32 = 1.0;
/// Discrete SB's coupling as a share of ballistic's `c₀`: with sign inputs the forces are
/// larger, and 0.7 found better cuts on Max-Cut graphs (n = 800 and 2,000) than Goto's 1.0.
const DSB_C0: f32 = 0.7;
/// Goto et al.'s time step, taken when it is stable (see [`time_step`]).
const DT: f32 = 1.25;

/// The coupling matrix of `E = −½ sᵀJs` (symmetric, zero diagonal), in f32.
enum Matrix {
    Dense {
        n: usize,
        w: Vec<f32>,
    },
    Sparse {
        start: Vec<usize>,
        col: Vec<u32>,
        w: Vec<f32>,
    },
}

impl Matrix {
    /// `out = J·v` for `m` agents stored spin-major (`v[i·m + a]`).
    fn product(&self, v: &[f32], m: usize, out: &mut [f32]) {
        out.iter_mut().for_each(|o| *o = 0.0);
        match self {
            Matrix::Dense { n, w } if m == AGENTS => {
                // Sixteen agents' sums stay in registers across the row.
                for (i, row) in w.chunks_exact(*n).enumerate() {
                    let mut sum = [0f32; AGENTS];
                    for (wij, vj) in row.iter().zip(v.chunks_exact(AGENTS)) {
                        for (s, vj) in sum.iter_mut().zip(vj) {
                            *s += wij * vj;
                        }
                    }
                    out[i * m..(i + 1) * m].copy_from_slice(&sum);
                }
            }
            Matrix::Dense { n, w } => {
                for (i, row) in w.chunks_exact(*n).enumerate() {
                    let o = &mut out[i * m..(i + 1) * m];
                    for (j, &wij) in row.iter().enumerate() {
                        for (o, vj) in o.iter_mut().zip(&v[j * m..(j + 1) * m]) {
                            *o += wij * vj;
                        }
                    }
                }
            }
            Matrix::Sparse { start, col, w } if m == AGENTS => {
                for i in 0..start.len() - 1 {
                    let mut sum = [0f32; AGENTS];
                    for k in start[i]..start[i + 1] {
                        let (j, wij) = (col[k] as usize, w[k]);
                        for (s, vj) in sum.iter_mut().zip(&v[j * m..(j + 1) * m]) {
                            *s += wij * vj;
                        }
                    }
                    out[i * m..(i + 1) * m].copy_from_slice(&sum);
                }
            }
            Matrix::Sparse { start, col, w } => {
                for i in 0..start.len() - 1 {
                    let o = &mut out[i * m..(i + 1) * m];
                    for k in start[i]..start[i + 1] {
                        let (j, wij) = (col[k] as usize, w[k]);
                        for (o, vj) in o.iter_mut().zip(&v[j * m..(j + 1) * m]) {
                            *o += wij * vj;
                        }
                    }
                }
            }
        }
    }
}

/// The SB matrix of `q`: spins `0..n` are the model's, spin `n` (when any field is non-zero)
/// carries the fields. Returns the matrix, its size and `c₀`.
fn matrix(q: &Qubo) -> (Matrix, usize) {
    let ising = q.to_ising();
    let n = q.len();
    let fields = ising.fields().iter().any(|h| *h != 0.0);
    let size = n + usize::from(fields);
    // E = Σ hᵢsᵢ + Σ_{i<j} Jᵢⱼsᵢsⱼ = −½ Σ_{ij} (−Jᵢⱼ)sᵢsⱼ − ... with sₙ = 1: hᵢsᵢsₙ.
    let matrix = match &ising.couplings {
        Couplings::Dense { .. } => {
            let mut w = vec![0f32; size * size];
            for i in 0..n {
                ising
                    .couplings
                    .for_each(i, |j, v| w[i * size + j] = -v as f32);
                if fields {
                    w[i * size + n] = -ising.fields()[i] as f32;
                    w[n * size + i] = -ising.fields()[i] as f32;
                }
            }
            Matrix::Dense { n: size, w }
        }
        Couplings::Sparse { .. } => {
            let mut start = vec![0usize];
            let (mut col, mut w) = (Vec::new(), Vec::new());
            for i in 0..n {
                ising.couplings.for_each(i, |j, v| {
                    col.push(j as u32);
                    w.push(-v as f32);
                });
                if fields && ising.fields()[i] != 0.0 {
                    col.push(n as u32);
                    w.push(-ising.fields()[i] as f32);
                }
                start.push(col.len());
            }
            if fields {
                for (i, h) in ising.fields().iter().enumerate() {
                    if *h != 0.0 {
                        col.push(i as u32);
                        w.push(-*h as f32);
                    }
                }
                start.push(col.len());
            }
            Matrix::Sparse { start, col, w }
        }
    };
    (matrix, size)
}

/// `c₀ = 0.5 / (σ·√N)`, σ the root mean square of the couplings (Goto et al. 2021).
fn c0(m: &Matrix, size: usize) -> f32 {
    let w = match m {
        Matrix::Dense { w, .. } | Matrix::Sparse { w, .. } => w,
    };
    let sum: f64 = w.iter().map(|v| f64::from(*v).powi(2)).sum();
    let count = size * size.saturating_sub(1);
    let sigma = (sum / count.max(1) as f64).sqrt();
    if sigma == 0.0 {
        1.0
    } else {
        (0.5 / (sigma * (size as f64).sqrt())) as f32
    }
}

/// The largest |eigenvalue| of the matrix, by power iteration (30 products of one vector).
fn spectral_radius(m: &Matrix, size: usize) -> f32 {
    let mut v: Vec<f32> = (0..size).map(|i| 1.0 + (i % 7) as f32 * 0.1).collect();
    let mut next = vec![0f32; size];
    let mut radius = 0.0;
    for _ in 0..30 {
        m.product(&v, 1, &mut next);
        let norm = next.iter().map(|x| x * x).sum::<f32>().sqrt();
        let before = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 || before == 0.0 {
            return 0.0;
        }
        radius = norm / before;
        for (v, n) in v.iter_mut().zip(&next) {
            *v = n / norm;
        }
    }
    radius
}

/// The symplectic Euler step is stable while `dt²·|μ| < 4` for every mode `μ` of
/// `c₀J − a₀`; a ferromagnetic mode of a Max-Cut graph (all weights of one sign) breaks
/// Goto et al.'s 1.25 and drives every spin to one side, so the step shrinks to stay inside.
fn time_step(c0: f32, radius: f32) -> f32 {
    DT.min(1.8 / (A0 + c0 * radius).sqrt())
}

pub(crate) fn bifurcate(
    q: &Qubo,
    p: &Params,
    stop: &Stop,
    discrete: bool,
) -> Result<(Sample, usize), Error> {
    let (matrix, size) = matrix(q);
    let c0 = c0(&matrix, size) * if discrete { DSB_C0 } else { 1.0 };
    let dt = time_step(c0, spectral_radius(&matrix, size));
    let n = q.len();
    let m = AGENTS;
    solve::reads(q, p, stop, false, |_, rng| {
        let schedule = Schedule::capped(p, STEPS, stop);
        let mut x: Vec<f32> = (0..size * m)
            .map(|_| (rng.unit() as f32 - 0.5) * 0.2)
            .collect();
        let mut y: Vec<f32> = (0..size * m)
            .map(|_| (rng.unit() as f32 - 0.5) * 0.2)
            .collect();
        let mut signs = vec![0f32; size * m];
        let mut force = vec![0f32; size * m];
        let mut done = 0;
        while let Some(f) = schedule.at(done) {
            let pump = A0 * f as f32;
            if discrete {
                for (s, v) in signs.iter_mut().zip(&x) {
                    *s = if *v >= 0.0 { 1.0 } else { -1.0 };
                }
                matrix.product(&signs, m, &mut force);
            } else {
                matrix.product(&x, m, &mut force);
            }
            for ((x, y), f) in x.iter_mut().zip(y.iter_mut()).zip(&force) {
                *y += dt * (-(A0 - pump) * *x + c0 * f);
                *x += dt * A0 * *y;
                if x.abs() > 1.0 {
                    *x = x.signum();
                    *y = 0.0;
                }
            }
            done += 1;
            if stop.now() {
                break;
            }
        }
        // Each agent's spins, the extra spin's sign factored out; keep the lowest.
        let mut best: Option<Sample> = None;
        for a in 0..m {
            let flip = size > n && x[n * m + a] < 0.0;
            let bits: Vec<u8> = (0..n)
                .map(|i| u8::from((x[i * m + a] >= 0.0) != flip))
                .collect();
            let energy = q.energy(&bits);
            if best.as_ref().is_none_or(|b| energy < b.energy) {
                best = Some(Sample { energy, x: bits });
            }
        }
        let best = best.unwrap_or_else(|| Sample {
            energy: q.energy(&vec![0; n]),
            x: vec![0; n],
        });
        let state = State::new(q, best.x);
        stop.offer(state.energy);
        Best::of(&state).polished(q, stop)
    })
}
