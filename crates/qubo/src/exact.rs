//! Exhaustive search: every state in Gray-code order, so each step flips one variable and costs
//! one row update. The top bits are split across threads.

use std::sync::atomic::Ordering;

use crate::model::Qubo;
use crate::solve::{self, EXACT_MAX, Error, Params, Sample, State, Stop};

pub(crate) fn search(q: &Qubo, p: &Params, stop: &Stop) -> Result<(Sample, usize), Error> {
    let n = q.len();
    if n > EXACT_MAX {
        return Err(Error::TooLargeForExact(n));
    }
    // 2^split chunks, at least as many as threads, each a Gray-code walk of the low bits.
    let split = (solve::threads(p).next_power_of_two().trailing_zeros() as usize + 2).min(n);
    let low = n - split;
    let chunks = 1usize << split;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(chunks));
    std::thread::scope(|scope| {
        for _ in 0..solve::threads(p).min(chunks) {
            scope.spawn(|| {
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    if chunk >= chunks || (chunk > 0 && stop.now()) {
                        break;
                    }
                    let mut x = vec![0u8; n];
                    for b in 0..split {
                        x[low + b] = ((chunk >> b) & 1) as u8;
                    }
                    let mut s = State::new(q, x);
                    let mut best = (s.energy, 0u64);
                    for k in 1..(1u64 << low) {
                        s.flip(q, k.trailing_zeros() as usize);
                        if s.energy < best.0 {
                            best = (s.energy, k);
                        }
                        if k.is_multiple_of(1 << 14) && stop.now() {
                            break;
                        }
                    }
                    // Gray code of k: the low bits of the best state.
                    let gray = best.1 ^ (best.1 >> 1);
                    let mut x = s.x;
                    for (i, xi) in x.iter_mut().enumerate().take(low) {
                        *xi = ((gray >> i) & 1) as u8;
                    }
                    let energy = q.energy(&x);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((energy, chunk, x));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    // Lowest energy; among equal energies the first chunk, so the answer is deterministic.
    results.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let count = results.len();
    let (energy, _, x) = results
        .into_iter()
        .next()
        .unwrap_or_else(|| (q.energy(&vec![0; n]), 0, vec![0; n]));
    stop.offer(energy);
    Ok((Sample { energy, x }, count))
}
