//! Volatility: TRANGE, ATR, NATR.

use serde::{Deserialize, Serialize};

use crate::util::{BLOCK, Decay4, block, is_zero};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// True range of a bar against the previous close, in TA-Lib's order of comparisons.
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let v2 = (prev_close - high).abs();
    if v2 > greatest {
        greatest = v2;
    }
    let v3 = (low - prev_close).abs();
    if v3 > greatest {
        greatest = v3;
    }
    greatest
}

/// TRANGE: true range, max(high - low, |high - prev close|, |low - prev close|).
/// Lookback 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TRange {
    prev_close: Option<f64>,
}

impl TRange {
    /// Consumes one bar.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let out = match self.prev_close {
            Some(pc) => true_range(high, low, pc),
            None => f64::NAN,
        };
        self.prev_close = Some(close);
        out
    }
}

impl Streaming for TRange {
    const SPEC: &'static Spec = &Spec {
        name: "TRANGE",
        group: Group::Volatility,
        description: "True Range",
        inputs: &[Input::High, Input::Low, Input::Close],
        params: &[],
        outputs: &["real"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(TRange::default())
    }

    fn lookback(&self) -> usize {
        1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.next(input[0], input[1], input[2]);
    }
}

/// ATR: Wilder-smoothed true range, seeded with the plain average of the first `period`
/// true ranges. Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Atr {
    period: usize,
    tr: TRange,
    /// True ranges summed while seeding (count = bars seen - 1).
    seen: usize,
    value: f64,
}

impl Atr {
    /// An ATR over `period` bars (1..=100000).
    pub fn new(period: usize) -> Result<Self, Error> {
        let p = Params::resolve(Self::SPEC, &[("timeperiod", period as f64)])?;
        Self::from_params(&p)
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        Atr {
            period,
            tr: TRange::default(),
            seen: 0,
            value: 0.0,
        }
    }

    /// Consumes one bar.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let tr = self.tr.next(high, low, close);
        if self.period <= 1 {
            // TA-Lib: ATR(1) is TRANGE, lookback 1.
            return tr;
        }
        if self.seen == 0 {
            self.seen = 1;
            return f64::NAN;
        }
        let p = self.period as f64;
        if self.seen <= self.period {
            self.value += tr;
            self.seen += 1;
            if self.seen <= self.period {
                return f64::NAN;
            }
            self.value /= p;
            return self.value;
        }
        self.value = wilder(self.value, tr, p);
        self.value
    }

    /// Batch over high, low, close, appending to `out`: `next` through the seed, then
    /// [`true_range`] with the previous close read from the slice and [`wilder`]'s
    /// recurrence four bars per step ([`Decay4`]; equal to streaming up to rounding).
    fn batch_series<'a>(
        &mut self,
        high: &'a [f64],
        low: &'a [f64],
        close: &'a [f64],
        out: &mut Vec<f64>,
    ) {
        let len = close.len().min(high.len()).min(low.len());
        // At least one bar through `next`, so every later bar's previous close is in the
        // slice.
        let head = if self.period <= 1 {
            len
        } else {
            len.min((self.period + 1).saturating_sub(self.seen).max(1))
        };
        out.extend(
            high.iter()
                .zip(low)
                .zip(close)
                .take(head)
                .map(|((&h, &l), &c)| self.next(h, l, c)),
        );
        if head == len {
            return;
        }
        let p = self.period as f64;
        let (keep, take) = ((p - 1.0) / p, 1.0 / p);
        let decay = Decay4::new(keep);
        let mut value = self.value;
        // Bar i's previous close is close[i - 1]; the head already consumed bar 0.
        let tail = |s: &'a [f64], from: usize| s.get(from..).unwrap_or_default();
        let (high, low, prev_close) = (tail(high, head), tail(low, head), tail(close, head - 1));
        let n = high.len().min(low.len()).min(prev_close.len());
        let whole = n - n % 4;
        let (h4, h1) = high.split_at(whole);
        let (l4, l1) = low.split_at(whole);
        let (c4, c1) = prev_close.split_at(whole);
        out.reserve(n);
        // A block at a time: the scaled true ranges (a vectorised loop), then `wilder`'s
        // recurrence four bars per step (`Decay4`: the same recurrence, rounded
        // differently).
        let (mut u, mut atr) = (block(), block());
        for ((h, l), pc) in h4.chunks(BLOCK).zip(l4.chunks(BLOCK)).zip(c4.chunks(BLOCK)) {
            for (((u, &h), &l), &pc) in u.as_flattened_mut().iter_mut().zip(h).zip(l).zip(pc) {
                *u = true_range(h, l, pc) * take;
            }
            let atr = atr.get_mut(..h.len() / 4).unwrap_or_default();
            value = decay.run(value, &u, atr);
            out.extend_from_slice(atr.as_flattened());
        }
        for ((&h, &l), &pc) in h1.iter().zip(l1).zip(c1) {
            // `wilder` with its weights computed once.
            value = value * keep + true_range(h, l, pc) * take;
            out.push(value);
        }
        self.value = value;
        self.tr.prev_close = close.get(len - 1).copied();
    }
}

/// One Wilder smoothing step, `prev · (p − 1)/p + x · 1/p`. TA-Lib computes
/// `(prev · (p − 1) + x) / p` (0.8: `fma(prev, 1 − 1/p, x · (1/p))`); this form keeps one
/// multiply and one add on the chain from bar to bar instead of a division, and differs
/// by rounding only (last-ulp level, see DESIGN.md).
#[inline(always)]
pub(crate) fn wilder(prev: f64, x: f64, p: f64) -> f64 {
    prev * ((p - 1.0) / p) + x * (1.0 / p)
}

impl Streaming for Atr {
    const SPEC: &'static Spec = &Spec {
        name: "ATR",
        group: Group::Volatility,
        description: "Average True Range",
        inputs: &[Input::High, Input::Low, Input::Close],
        params: &[ParamSpec::int("timeperiod", 14, 1, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Self::unchecked(p.usize("timeperiod")?))
    }

    fn lookback(&self) -> usize {
        self.period.max(1)
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.next(input[0], input[1], input[2]);
    }

    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        if let ([high, low, close], [out]) = (inputs, outputs) {
            self.batch_series(high, low, close, out);
        }
    }
}

/// NATR: ATR as a percentage of the close (0 when the close is 0). Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Natr {
    atr: Atr,
}

impl Streaming for Natr {
    const SPEC: &'static Spec = &Spec {
        name: "NATR",
        group: Group::Volatility,
        description: "Normalized Average True Range",
        inputs: &[Input::High, Input::Low, Input::Close],
        params: &[ParamSpec::int("timeperiod", 14, 1, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Natr {
            atr: Atr::unchecked(p.usize("timeperiod")?),
        })
    }

    fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let atr = self.atr.next(input[0], input[1], input[2]);
        let close = input[2];
        out[0] = if atr.is_nan() {
            f64::NAN
        } else if is_zero(close) {
            0.0
        } else {
            (atr / close) * 100.0
        };
    }
}
