//! RSI: Wilder's relative strength index.

use serde::{Deserialize, Serialize};

use crate::util::{BLOCK, Decay4, block, is_zero};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// RSI: 100 · avg gain / (avg gain + avg loss), Wilder-smoothed, seeded with the plain
/// averages of the first `period` changes. Lookback `period`; 0 when nothing moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    period: usize,
    /// Bars seen, capped at `period + 1` (seeding done).
    seen: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// An RSI over `period` bars (2..=100000).
    pub fn new(period: usize) -> Result<Self, Error> {
        let p = Params::resolve(Self::SPEC, &[("timeperiod", period as f64)])?;
        Self::from_params(&p)
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        Rsi {
            period: period.max(1),
            seen: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let p = self.period as f64;
        if self.seen == 0 {
            self.seen = 1;
            self.prev = x;
            return f64::NAN;
        }
        let diff = x - self.prev;
        self.prev = x;
        if self.seen <= self.period {
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            self.seen += 1;
            if self.seen <= self.period {
                return f64::NAN;
            }
            self.loss /= p;
            self.gain /= p;
        } else {
            smooth(&mut self.gain, &mut self.loss, diff, p);
        }
        value(self.gain, self.loss)
    }

    /// Batch over one series, appending to `out`: `next` through the seed, then
    /// [`smooth`]'s two recurrences four bars per step ([`Decay4`]; equal to streaming
    /// up to rounding) and [`value`], a block of [`BLOCK`] bars at a time, on local
    /// copies of the state.
    fn batch_series(&mut self, input: &[f64], out: &mut Vec<f64>) {
        // At least one bar through `next`, so every later bar's previous value is in the
        // slice.
        let head = input
            .len()
            .min((self.period + 1).saturating_sub(self.seen).max(1));
        let (first, rest) = input.split_at(head);
        out.extend(first.iter().map(|&x| self.next(x)));
        if rest.is_empty() {
            return;
        }
        let (mut gain, mut loss) = (self.gain, self.loss);
        let (keep, take) = weights(self.period as f64);
        let decay = Decay4::new(keep);
        // Bar i's move is input[i] − input[i − 1].
        let prevs = input.get(head.saturating_sub(1)..).unwrap_or_default();
        let n = rest.len().min(prevs.len());
        let (x4, x1) = rest.split_at(n - n % 4);
        let (p4, p1) = prevs.split_at(n - n % 4);
        out.reserve(n);
        // A block at a time: the scaled moves (a vectorised loop), the two recurrences
        // side by side, then the RSI values (vectorised divisions).
        let (mut ups, mut downs, mut gains, mut losses) = (block(), block(), block(), block());
        let mut rsi = [0.0; BLOCK];
        for (xs, ps) in x4.chunks(BLOCK).zip(p4.chunks(BLOCK)) {
            let moves = ups
                .as_flattened_mut()
                .iter_mut()
                .zip(downs.as_flattened_mut());
            for ((up, down), (&x, &p)) in moves.zip(xs.iter().zip(ps)) {
                let (u, d) = split(x - p);
                (*up, *down) = (u * take, d * take);
            }
            let quads = gains.iter_mut().zip(&mut losses).take(xs.len() / 4);
            for ((g, l), (u, d)) in quads.zip(ups.iter().zip(&downs)) {
                *g = decay.step(gain, *u);
                *l = decay.step(loss, *d);
                (gain, loss) = (g[3], l[3]);
            }
            let values = rsi
                .iter_mut()
                .zip(gains.as_flattened().iter().zip(losses.as_flattened()));
            for (r, (&g, &l)) in values {
                *r = value(g, l);
            }
            out.extend_from_slice(rsi.get(..xs.len()).unwrap_or_default());
        }
        for (&x, &prev) in x1.iter().zip(p1) {
            step(&mut gain, &mut loss, x - prev, keep, take);
            out.push(value(gain, loss));
        }
        let prev = input.last().copied().unwrap_or(self.prev);
        (self.prev, self.gain, self.loss) = (prev, gain, loss);
    }
}

/// One Wilder step of the average gain and loss: `avg · (p − 1)/p + move · 1/p`. TA-Lib
/// computes `(avg · (p − 1) + move) / p` (0.8: `· (1/p)`); this form keeps one multiply
/// and one add on the dependency chain from bar to bar (twice as fast in batch) and
/// differs from it by rounding only (last-ulp level, see DESIGN.md).
#[inline(always)]
fn smooth(gain: &mut f64, loss: &mut f64, diff: f64, p: f64) {
    let (keep, take) = weights(p);
    step(gain, loss, diff, keep, take);
}

/// The Wilder weights of a period: what the average keeps, what the new move adds.
#[inline(always)]
fn weights(p: f64) -> (f64, f64) {
    ((p - 1.0) / p, 1.0 / p)
}

/// [`smooth`] with the weights computed once (the batch loop hoists them).
#[inline(always)]
fn step(gain: &mut f64, loss: &mut f64, diff: f64, keep: f64, take: f64) {
    let (up, down) = split(diff);
    *loss = *loss * keep + down * take;
    *gain = *gain * keep + up * take;
}

/// A price move as (gain, loss), both ≥ 0. Branch-free: a price move is up or down
/// about half the time.
#[inline(always)]
fn split(diff: f64) -> (f64, f64) {
    if diff < 0.0 {
        (0.0, -diff)
    } else {
        (diff, 0.0)
    }
}

/// RSI from the average gain and loss; 0 when nothing moved.
#[inline(always)]
fn value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    // Divided whatever the total (0/0 is a NaN that is then dropped): a select instead
    // of a branch, which lets a batch loop pair the divisions.
    let rsi = 100.0 * (gain / total);
    if is_zero(total) { 0.0 } else { rsi }
}

impl Streaming for Rsi {
    const SPEC: &'static Spec = &Spec {
        name: "RSI",
        group: Group::Momentum,
        description: "Relative Strength Index",
        inputs: &[Input::Real],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Self::unchecked(p.usize("timeperiod")?))
    }

    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.next(input[0]);
    }

    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        if let ([input], [out]) = (inputs, outputs) {
            self.batch_series(input, out);
        }
    }
}
