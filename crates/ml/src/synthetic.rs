//! A generated panel with a known signal, for tests and examples: each symbol's next daily log
//! return is `-reversal ×` its last one plus uniform noise (±1%). Cheap and exact, where
//! `fcsim`'s market is realistic and slow.

use crate::Panel;

/// Uniform noise in [-0.5, 0.5) from a seeded xorshift generator.
pub fn noise(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// `symbols` symbols `S00`, `S01`, ... over the date keys `dates`, starting at 20,000 with a
/// constant volume.
pub fn reverting(dates: Vec<i64>, symbols: usize, reversal: f64, seed: u64) -> Panel {
    let mut noise = noise(seed);
    let n = dates.len();
    let mut close = vec![20_000.0; symbols];
    let mut last = vec![0.0; symbols];
    for d in 1..n {
        for s in 0..symbols {
            let r = -reversal * last[s] + 0.02 * noise();
            last[s] = r;
            close.push(close[(d - 1) * symbols + s] * r.exp());
        }
    }
    let names = (0..symbols).map(|s| format!("S{s:02}")).collect();
    // The shapes agree and every close is positive: the panel is valid by construction.
    Panel::new(names, dates, close, vec![1e5; n * symbols])
        .unwrap_or_else(|e| unreachable!("a generated panel is valid: {e}"))
}
