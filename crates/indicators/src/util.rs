//! Small building blocks shared by many functions: a fixed ring buffer and TA-Lib's
//! float conventions.

use serde::{Deserialize, Serialize};

/// TA-Lib's `TA_IS_ZERO`: |v| < 1e-14. Divisions guarded by it output 0 instead.
#[inline]
pub(crate) fn is_zero(v: f64) -> bool {
    -0.000_000_000_000_01 < v && v < 0.000_000_000_000_01
}

/// A ring of the last `cap` values; `push` returns the value that fell out once full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Ring {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl Ring {
    /// An empty ring holding up to `cap` values (at least 1).
    pub(crate) fn new(cap: usize) -> Self {
        Ring {
            buf: vec![0.0; cap.max(1)],
            head: 0,
            len: 0,
        }
    }

    /// The most values it holds.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether the ring holds `cap` values.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Appends `v`; when full, the oldest value is dropped and returned.
    #[inline]
    pub(crate) fn push(&mut self, v: f64) -> Option<f64> {
        let cap = self.buf.len();
        let slot = self.buf.get_mut(self.head)?;
        let old = *slot;
        *slot = v;
        self.head += 1;
        if self.head == cap {
            self.head = 0;
        }
        if self.len == cap {
            Some(old)
        } else {
            self.len += 1;
            None
        }
    }

    /// Appends every value of `values` in order: the same state as `push` on each, but
    /// only the last `capacity` values are written (a batch loop's catch-up).
    pub(crate) fn push_all(&mut self, values: &[f64]) {
        let cap = self.buf.len();
        let skip = values.len().saturating_sub(cap);
        if skip > 0 {
            // Each skipped push moves the head one slot and fills the ring further; the
            // slots it would write are all overwritten by the last `cap` pushes.
            self.head = (self.head + skip) % cap;
            self.len = (self.len + skip).min(cap);
        }
        for &v in values.get(skip..).unwrap_or_default() {
            self.push(v);
        }
    }

    /// The value `back` steps before the newest (`get(0)` is the newest); 0.0 if absent.
    #[inline]
    pub(crate) fn get(&self, back: usize) -> f64 {
        if back >= self.len {
            return 0.0;
        }
        let cap = self.buf.len();
        // head + cap - 1 - back lies in [0, 2 cap): one compare instead of a division.
        let mut idx = self.head + cap - 1 - back;
        if idx >= cap {
            idx -= cap;
        }
        self.buf.get(idx).copied().unwrap_or(0.0)
    }

    /// The oldest value held (0.0 when empty).
    #[inline]
    pub(crate) fn oldest(&self) -> f64 {
        if self.len == self.buf.len() {
            // Full: the next slot to write holds the oldest value.
            self.buf.get(self.head).copied().unwrap_or(0.0)
        } else {
            self.buf.first().copied().unwrap_or(0.0)
        }
    }

    /// Values from oldest to newest.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len).rev().map(move |b| self.get(b))
    }
}

/// TA-Lib's running window extreme: it remembers the index of the extreme and rescans
/// the window only when that index falls out. On ties, a new bar takes over (`>=`),
/// while a rescan keeps the oldest (`>`) unless `rescan_latest` (AROON's `>=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Extreme {
    max: bool,
    rescan_latest: bool,
    /// Absolute bar index of the extreme; `None` before the first full window.
    idx: Option<usize>,
    value: f64,
}

impl Extreme {
    /// Tracks the maximum (`max`) or minimum.
    pub(crate) fn new(max: bool, rescan_latest: bool) -> Self {
        Extreme {
            max,
            rescan_latest,
            idx: None,
            value: 0.0,
        }
    }

    /// Whether `v` beats `best` for a maximum (`MAX`) or a minimum; `ties` counts equal
    /// values as better. A compile-time direction, so the rescan loop has no branch on it.
    #[inline(always)]
    fn better<const MAX: bool>(v: f64, best: f64, ties: bool) -> bool {
        if MAX {
            v > best || (ties && v == best)
        } else {
            v < best || (ties && v == best)
        }
    }

    /// Forgets the extreme, so the next update rescans its window (a replay from here
    /// reaches the state of an uninterrupted tracker within one window: see
    /// `momentum::stoch`'s batch).
    pub(crate) fn forget(&mut self) {
        self.idx = None;
    }

    /// Updates with the full `window` whose newest value (at absolute index `today`)
    /// was just pushed. Returns the extreme value and its absolute index.
    #[inline]
    pub(crate) fn update(&mut self, window: &Ring, today: usize) -> (f64, usize) {
        self.update_with(window.len, today, |back| window.get(back))
    }

    /// [`Extreme::update`] over a full window of `w` values read by `get(back)` (`get(0)`
    /// is the newest, at absolute index `today`): a ring when streaming, a slice in batch.
    #[inline]
    pub(crate) fn update_with(
        &mut self,
        w: usize,
        today: usize,
        get: impl Fn(usize) -> f64,
    ) -> (f64, usize) {
        if self.max {
            self.update_as::<true>(w, today, get)
        } else {
            self.update_as::<false>(w, today, get)
        }
    }

    /// [`Extreme::update_with`] for a known direction (`MAX` = `self.max`).
    #[inline(always)]
    fn update_as<const MAX: bool>(
        &mut self,
        w: usize,
        today: usize,
        get: impl Fn(usize) -> f64,
    ) -> (f64, usize) {
        let trailing = today + 1 - w;
        let x = get(0);
        match self.idx {
            Some(idx) if idx >= trailing => {
                if Self::better::<MAX>(x, self.value, true) {
                    self.idx = Some(today);
                    self.value = x;
                }
            }
            Some(_) | None => {
                let mut best = get(w - 1);
                let mut best_idx = trailing;
                for k in 1..w {
                    let v = get(w - 1 - k);
                    if Self::better::<MAX>(v, best, self.rescan_latest) {
                        best = v;
                        best_idx = trailing + k;
                    }
                }
                self.idx = Some(best_idx);
                self.value = best;
            }
        }
        (self.value, self.idx.unwrap_or(today))
    }
}

/// Runs the first-order recurrence `y[n] = b · y[n−1] + u[n]` (EMA, Wilder smoothing)
/// four bars per step, for batch loops.
///
/// One bar at a time, each value waits for the previous one: a multiply and an add on the
/// dependency chain per bar, which bounds the loop however wide the CPU is. Unrolled by
/// hand, the same recurrence gives, with `P1 = u1` and `Pj = b · P(j−1) + uj`,
///
/// ```text
/// y1 = b·y0 + P1,  y2 = b²·y0 + P2,  y3 = b³·y0 + P3,  y4 = b⁴·y0 + P4
/// ```
///
/// where the `Pj` do not depend on `y0`: only `y4 = b⁴·y0 + P4` (one multiply, one add)
/// is on the chain from block to block, a quarter of the latency per bar; the rest runs
/// in parallel. It is the same recurrence, not an approximation: the values differ from
/// the bar-by-bar ones by rounding only. With `0 ≤ b < 1` each block adds a few ulps and
/// damps the error it inherits by `b⁴`, so the difference stays within a few ulps ·
/// 1/(1 − b⁴) (about 20 ulps for EMA(30), ~1e-12 relative for a period of 100,000),
/// far inside the golden tests' 1e-9 against TA-Lib. The streaming `update` keeps the
/// bar-by-bar form, so a batch and a stream of the same bars agree to that precision,
/// not bit for bit (tests/golden/consistency.rs, `APPROX`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decay4 {
    b: f64,
    b2: f64,
    b3: f64,
    b4: f64,
}

impl Decay4 {
    /// The powers of the decay factor `b` (what the average keeps of itself per bar).
    pub(crate) fn new(b: f64) -> Self {
        let b2 = b * b;
        Decay4 {
            b,
            b2,
            b3: b2 * b,
            b4: b2 * b2,
        }
    }

    /// The four values after `y` (the value before them), given the four inputs `u`.
    #[inline(always)]
    pub(crate) fn step(&self, y: f64, u: [f64; 4]) -> [f64; 4] {
        let Decay4 { b, b2, b3, b4 } = *self;
        let p2 = b * u[0] + u[1];
        let p3 = b * p2 + u[2];
        let p4 = b * p3 + u[3];
        [b * y + u[0], b2 * y + p2, b3 * y + p3, b4 * y + p4]
    }

    /// The recurrence from `y` over the blocks of inputs `u`, values into `out` (as many
    /// blocks as both hold); returns the last value (`y` if there is none).
    #[inline(always)]
    pub(crate) fn run(&self, mut y: f64, u: &[[f64; 4]], out: &mut [[f64; 4]]) -> f64 {
        for (o, u) in out.iter_mut().zip(u) {
            *o = self.step(y, *u);
            y = o[3];
        }
        y
    }
}

/// Bars per block of a batch loop that stages values in arrays on the stack: the
/// independent per-bar work (true ranges, scaled inputs, divisions) runs as plain loops
/// over a block, which the compiler vectorises, and the recurrence runs over the block
/// in between; each output is appended once per block. A multiple of 4 ([`Decay4`]);
/// 32 bars keep a few arrays in L1 and measured best (64 and 16 were slower).
pub(crate) const BLOCK: usize = 32;

/// An empty block of [`BLOCK`] values, as groups of four.
pub(crate) const fn block() -> [[f64; 4]; BLOCK / 4] {
    [[0.0; 4]; BLOCK / 4]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay4_is_four_steps_of_the_recurrence() {
        let d = Decay4::new(0.9);
        let u = [1.0, -2.0, 0.5, 3.0];
        let mut y = 7.0;
        let four = d.step(y, u);
        for (v, ui) in four.iter().zip(u) {
            y = 0.9 * y + ui;
            assert!((v - y).abs() <= 1e-14 * y.abs().max(1.0), "{v} {y}");
        }
    }

    #[test]
    fn ring_returns_the_value_that_falls_out() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        assert_eq!(r.push(2.0), None);
        assert_eq!(r.push(3.0), None);
        assert!(r.is_full());
        assert_eq!(r.push(4.0), Some(1.0));
        assert_eq!(r.get(0), 4.0);
        assert_eq!(r.oldest(), 2.0);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
    }

    #[test]
    fn push_all_leaves_the_state_of_pushing_one_by_one() {
        for start in 0..5 {
            for n in 0..12 {
                let values: Vec<f64> = (0..n).map(|v| v as f64 + 0.5).collect();
                let mut one = Ring::new(4);
                for v in 0..start {
                    one.push(-(v as f64));
                }
                let mut all = one.clone();
                for &v in &values {
                    one.push(v);
                }
                all.push_all(&values);
                assert_eq!(one, all, "start {start} n {n}");
            }
        }
    }
}
