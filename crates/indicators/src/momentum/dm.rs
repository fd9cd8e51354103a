//! Wilder's directional movement: PLUS_DM, MINUS_DM, PLUS_DI, MINUS_DI, DX, ADX, ADXR.
//! All share [`DmCore`]. TA-Lib smooths `x − x / n + today`; here `x · (n − 1)/n + today`:
//! the same up to rounding (last-ulp level, like `wilder`), without a division on the
//! dependency chain from bar to bar.

use serde::{Deserialize, Serialize};

use crate::util::{Ring, is_zero};
use crate::volatility::{true_range, wilder};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

const PERIOD: [ParamSpec; 1] = [ParamSpec::int("timeperiod", 14, 2, 100_000)];
const HLC: &[Input] = &[Input::High, Input::Low, Input::Close];
const HL: &[Input] = &[Input::High, Input::Low];

/// Smoothed +DM, -DM and TR over a period, with a counter of bars seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DmCore {
    period: usize,
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
}

impl DmCore {
    pub(crate) fn new(period: usize) -> Self {
        DmCore {
            period,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
        }
    }

    /// Consumes a bar. Returns `true` once the sums are smoothed (from bar `period` on);
    /// before that they accumulate (bars 1..period-1) and `false` is returned.
    #[inline]
    fn next(&mut self, high: f64, low: f64, close: f64) -> bool {
        let n = self.period as f64;
        if self.seen == 0 {
            self.seen = 1;
            self.prev_high = high;
            self.prev_low = low;
            self.prev_close = close;
            return false;
        }
        let diff_p = high - self.prev_high;
        let diff_m = self.prev_low - low;
        self.prev_high = high;
        self.prev_low = low;
        let tr = true_range(high, low, self.prev_close);
        self.prev_close = close;
        let smoothing = self.seen >= self.period;
        if smoothing {
            let keep = (n - 1.0) / n;
            self.minus_dm *= keep;
            self.plus_dm *= keep;
            self.tr *= keep;
        } else {
            self.seen += 1;
        }
        // At most one of the two moves counts. Both are added, the other times 0.0, which
        // the compiler cannot turn back into a branch (a move is up or down about half
        // the time, so a branch mispredicts often). The sums are ≥ +0, so adding ±0.0
        // leaves them bit for bit unchanged: the same values as TA-Lib's `if`s.
        let minus = (diff_m > 0.0) & (diff_p < diff_m);
        let plus = !minus & (diff_p > 0.0) & (diff_p > diff_m);
        self.minus_dm += diff_m * f64::from(u8::from(minus));
        self.plus_dm += diff_p * f64::from(u8::from(plus));
        self.tr += tr;
        smoothing
    }

    /// Bars consumed so far, capped at `period`.
    fn seen(&self) -> usize {
        self.seen
    }

    fn di(&self, dm: f64) -> f64 {
        if is_zero(self.tr) {
            0.0
        } else {
            100.0 * (dm / self.tr)
        }
    }

    /// DX of the current sums, or `None` where TA-Lib keeps the previous value.
    fn dx(&self) -> Option<f64> {
        if is_zero(self.tr) {
            return None;
        }
        let minus_di = 100.0 * (self.minus_dm / self.tr);
        let plus_di = 100.0 * (self.plus_dm / self.tr);
        let sum = minus_di + plus_di;
        if is_zero(sum) {
            None
        } else {
            Some(100.0 * ((minus_di - plus_di).abs() / sum))
        }
    }
}

macro_rules! dm_fn {
    ($ty:ident, $name:literal, $desc:literal, $field:ident) => {
        #[doc = concat!($name, ": ", $desc, ", Wilder-smoothed (the first value is the plain sum of ")]
        #[doc = "`period - 1` bars). Lookback `period - 1`."]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            core: DmCore,
        }

        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::Momentum,
                description: $desc,
                inputs: HL,
                params: &PERIOD,
                outputs: &["real"],
            };

            fn from_params(p: &Params) -> Result<Self, Error> {
                Ok($ty {
                    core: DmCore::new(p.usize("timeperiod")?),
                })
            }

            fn lookback(&self) -> usize {
                self.core.period - 1
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                // DM ignores the close; the high stands in so TR stays finite.
                self.core.next(input[0], input[1], input[0]);
                out[0] = if self.core.seen() >= self.core.period {
                    self.core.$field
                } else {
                    f64::NAN
                };
            }
        }
    };
}

dm_fn!(PlusDm, "PLUS_DM", "Plus Directional Movement", plus_dm);
dm_fn!(MinusDm, "MINUS_DM", "Minus Directional Movement", minus_dm);

macro_rules! di_fn {
    ($ty:ident, $name:literal, $desc:literal, $field:ident) => {
        #[doc = concat!($name, ": ", $desc, ", 100 · smoothed DM / smoothed TR. Lookback `period`.")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            core: DmCore,
        }

        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::Momentum,
                description: $desc,
                inputs: HLC,
                params: &PERIOD,
                outputs: &["real"],
            };

            fn from_params(p: &Params) -> Result<Self, Error> {
                Ok($ty {
                    core: DmCore::new(p.usize("timeperiod")?),
                })
            }

            fn lookback(&self) -> usize {
                self.core.period
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                out[0] = if self.core.next(input[0], input[1], input[2]) {
                    self.core.di(self.core.$field)
                } else {
                    f64::NAN
                };
            }
        }
    };
}

di_fn!(PlusDi, "PLUS_DI", "Plus Directional Indicator", plus_dm);
di_fn!(MinusDi, "MINUS_DI", "Minus Directional Indicator", minus_dm);

/// DX: 100 · |−DI − +DI| / (−DI + +DI); keeps the previous value when undefined.
/// Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dx {
    core: DmCore,
    prev: f64,
}

impl Streaming for Dx {
    const SPEC: &'static Spec = &Spec {
        name: "DX",
        group: Group::Momentum,
        description: "Directional Movement Index",
        inputs: HLC,
        params: &PERIOD,
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Dx {
            core: DmCore::new(p.usize("timeperiod")?),
            prev: 0.0,
        })
    }

    fn lookback(&self) -> usize {
        self.core.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = if self.core.next(input[0], input[1], input[2]) {
            if let Some(dx) = self.core.dx() {
                self.prev = dx;
            }
            self.prev
        } else {
            f64::NAN
        };
    }
}

/// ADX: Wilder-smoothed DX, seeded with the average of the first `period` DX values.
/// Lookback `2 · period - 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adx {
    core: DmCore,
    /// DX values summed while seeding.
    dx_seen: usize,
    value: f64,
}

impl Adx {
    pub(crate) fn unchecked(period: usize) -> Self {
        Adx {
            core: DmCore::new(period),
            dx_seen: 0,
            value: 0.0,
        }
    }

    /// Consumes one bar.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        if !self.core.next(high, low, close) {
            return f64::NAN;
        }
        let n = self.core.period;
        let dx = self.core.dx();
        if self.dx_seen < n {
            if let Some(dx) = dx {
                self.value += dx;
            }
            self.dx_seen += 1;
            if self.dx_seen < n {
                return f64::NAN;
            }
            self.value /= n as f64;
            return self.value;
        }
        if let Some(dx) = dx {
            // TA-Lib: `(value · (n − 1) + dx) / n`; `wilder` keeps the division off the
            // chain from bar to bar (the same up to rounding).
            self.value = wilder(self.value, dx, n as f64);
        }
        self.value
    }
}

impl Streaming for Adx {
    const SPEC: &'static Spec = &Spec {
        name: "ADX",
        group: Group::Momentum,
        description: "Average Directional Movement Index",
        inputs: HLC,
        params: &PERIOD,
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Self::unchecked(p.usize("timeperiod")?))
    }

    fn lookback(&self) -> usize {
        2 * self.core.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.next(input[0], input[1], input[2]);
    }

    /// `next` over the three slices on a local copy of the state (which the optimiser
    /// keeps in registers: a plain loop, everything inlined), written back at the end.
    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        if let ([high, low, close], [out]) = (inputs, outputs) {
            let mut adx = self.clone();
            let n = close.len().min(high.len()).min(low.len());
            out.reserve(n);
            for ((&h, &l), &c) in high.iter().zip(*low).zip(*close) {
                out.push(adx.next(h, l, c));
            }
            *self = adx;
        }
    }
}

/// ADXR: (ADX today + ADX `period - 1` bars ago) / 2. Lookback `3 · period - 2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adxr {
    adx: Adx,
    past: Ring,
}

impl Streaming for Adxr {
    const SPEC: &'static Spec = &Spec {
        name: "ADXR",
        group: Group::Momentum,
        description: "Average Directional Movement Index Rating",
        inputs: HLC,
        params: &PERIOD,
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let n = p.usize("timeperiod")?;
        Ok(Adxr {
            adx: Adx::unchecked(n),
            past: Ring::new(n),
        })
    }

    fn lookback(&self) -> usize {
        3 * self.adx.core.period - 2
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let adx = self.adx.next(input[0], input[1], input[2]);
        out[0] = f64::NAN;
        if adx.is_nan() {
            return;
        }
        self.past.push(adx);
        if self.past.is_full() {
            out[0] = (adx + self.past.oldest()) / 2.0;
        }
    }
}
