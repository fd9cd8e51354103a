//! Other oscillators: AROON, AROONOSC, BOP, CCI, CMO, MFI, MOM, the ROC family, TRIX,
//! ULTOSC.

use serde::{Deserialize, Serialize};

use crate::overlap::Ema;
use crate::util::{Extreme, Ring, is_zero};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

const HLC: &[Input] = &[Input::High, Input::Low, Input::Close];

/// Bars since the highest high and the lowest low of the last `period + 1` bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AroonCore {
    period: usize,
    highs: Ring,
    lows: Ring,
    hi: Extreme,
    lo: Extreme,
    today: usize,
}

impl AroonCore {
    fn new(period: usize) -> Self {
        AroonCore {
            period,
            highs: Ring::new(period + 1),
            lows: Ring::new(period + 1),
            hi: Extreme::new(true, true),
            lo: Extreme::new(false, true),
            today: 0,
        }
    }

    /// (today − index of the highest, today − index of the lowest), once full.
    #[inline]
    fn next(&mut self, high: f64, low: f64) -> Option<(usize, usize)> {
        self.highs.push(high);
        self.lows.push(low);
        let today = self.today;
        self.today += 1;
        if !self.highs.is_full() {
            return None;
        }
        let (_, lo_idx) = self.lo.update(&self.lows, today);
        let (_, hi_idx) = self.hi.update(&self.highs, today);
        Some((hi_idx, lo_idx))
    }
}

/// AROON: 100 · (period − bars since the extreme) / period, down then up.
/// Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aroon {
    core: AroonCore,
}

impl Streaming for Aroon {
    const SPEC: &'static Spec = &Spec {
        name: "AROON",
        group: Group::Momentum,
        description: "Aroon",
        inputs: &[Input::High, Input::Low],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["aroondown", "aroonup"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Aroon {
            core: AroonCore::new(p.usize("timeperiod")?),
        })
    }

    fn lookback(&self) -> usize {
        self.core.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let today = self.core.today;
        match self.core.next(input[0], input[1]) {
            Some((hi, lo)) => {
                let n = self.core.period as f64;
                let factor = 100.0 / n;
                out[0] = factor * (n - (today - lo) as f64);
                out[1] = factor * (n - (today - hi) as f64);
            }
            None => {
                out[0] = f64::NAN;
                out[1] = f64::NAN;
            }
        }
    }
}

/// AROONOSC: Aroon up − Aroon down, as 100 / period · (index of high − index of low).
/// Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AroonOsc {
    core: AroonCore,
}

impl Streaming for AroonOsc {
    const SPEC: &'static Spec = &Spec {
        name: "AROONOSC",
        group: Group::Momentum,
        description: "Aroon Oscillator",
        inputs: &[Input::High, Input::Low],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(AroonOsc {
            core: AroonCore::new(p.usize("timeperiod")?),
        })
    }

    fn lookback(&self) -> usize {
        self.core.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = match self.core.next(input[0], input[1]) {
            Some((hi, lo)) => {
                let factor = 100.0 / self.core.period as f64;
                factor * (hi as f64 - lo as f64)
            }
            None => f64::NAN,
        };
    }
}

/// BOP: balance of power, (C − O) / (H − L), 0 on a flat bar. Lookback 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bop;

impl Streaming for Bop {
    const SPEC: &'static Spec = &Spec {
        name: "BOP",
        group: Group::Momentum,
        description: "Balance Of Power",
        inputs: &[Input::Open, Input::High, Input::Low, Input::Close],
        params: &[],
        outputs: &["real"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(Bop)
    }

    fn lookback(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let range = input[1] - input[2];
        out[0] = if range < 0.000_000_000_000_01 {
            0.0
        } else {
            (input[3] - input[0]) / range
        };
    }
}

/// CCI: (typical price − its SMA) / (0.015 · mean absolute deviation), over `period`
/// bars (the deviation is a window scan, as in TA-Lib). Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cci {
    period: usize,
    window: Ring,
}

impl Streaming for Cci {
    const SPEC: &'static Spec = &Spec {
        name: "CCI",
        group: Group::Momentum,
        description: "Commodity Channel Index",
        inputs: HLC,
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(Cci {
            period,
            window: Ring::new(period),
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let tp = (input[0] + input[1] + input[2]) / 3.0;
        self.window.push(tp);
        if !self.window.is_full() {
            out[0] = f64::NAN;
            return;
        }
        let n = self.period as f64;
        let avg = self.window.iter().sum::<f64>() / n;
        let dev: f64 = self.window.iter().map(|v| (v - avg).abs()).sum();
        let diff = tp - avg;
        out[0] = if diff != 0.0 && dev != 0.0 {
            diff / (0.015 * (dev / n))
        } else {
            0.0
        };
    }
}

/// CMO: Chande momentum oscillator, 100 · (gains − losses) / (gains + losses),
/// Wilder-smoothed like RSI. Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cmo {
    period: usize,
    seen: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Streaming for Cmo {
    const SPEC: &'static Spec = &Spec {
        name: "CMO",
        group: Group::Momentum,
        description: "Chande Momentum Oscillator",
        inputs: &[Input::Real],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Cmo {
            period: p.usize("timeperiod")?,
            seen: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }

    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let x = input[0];
        let p = self.period as f64;
        out[0] = f64::NAN;
        if self.seen == 0 {
            self.seen = 1;
            self.prev = x;
            return;
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
                return;
            }
            self.loss /= p;
            self.gain /= p;
        } else {
            self.loss *= p - 1.0;
            self.gain *= p - 1.0;
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            self.loss /= p;
            self.gain /= p;
        }
        let total = self.gain + self.loss;
        out[0] = if is_zero(total) {
            0.0
        } else {
            100.0 * ((self.gain - self.loss) / total)
        };
    }
}

/// MFI: money flow index, 100 · positive flow / total flow of typical price · volume
/// over `period` bars (0 when the total is below 1). Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mfi {
    period: usize,
    prev: Option<f64>,
    pos: Ring,
    neg: Ring,
    pos_sum: f64,
    neg_sum: f64,
}

impl Streaming for Mfi {
    const SPEC: &'static Spec = &Spec {
        name: "MFI",
        group: Group::Momentum,
        description: "Money Flow Index",
        inputs: &[Input::High, Input::Low, Input::Close, Input::Volume],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(Mfi {
            period,
            prev: None,
            pos: Ring::new(period),
            neg: Ring::new(period),
            pos_sum: 0.0,
            neg_sum: 0.0,
        })
    }

    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        let tp = (input[0] + input[1] + input[2]) / 3.0;
        let Some(prev) = self.prev.replace(tp) else {
            return;
        };
        if self.pos.is_full() {
            self.pos_sum -= self.pos.oldest();
            self.neg_sum -= self.neg.oldest();
        }
        let diff = tp - prev;
        let flow = tp * input[3];
        let (p, n) = if diff < 0.0 {
            (0.0, flow)
        } else if diff > 0.0 {
            (flow, 0.0)
        } else {
            (0.0, 0.0)
        };
        self.pos.push(p);
        self.neg.push(n);
        self.pos_sum += p;
        self.neg_sum += n;
        if self.pos.is_full() {
            let total = self.pos_sum + self.neg_sum;
            out[0] = if total < 1.0 {
                0.0
            } else {
                100.0 * (self.pos_sum / total)
            };
        }
    }
}

/// The value `period` bars back, for MOM and the ROC family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lag {
    period: usize,
    window: Ring,
}

impl Lag {
    fn new(period: usize) -> Self {
        Lag {
            period,
            window: Ring::new(period + 1),
        }
    }

    #[inline]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        self.window.is_full().then(|| self.window.oldest())
    }
}

macro_rules! lag_fn {
    ($ty:ident, $name:literal, $desc:literal, $default:literal, |$x:ident, $prev:ident| $body:expr) => {
        #[doc = concat!($name, ": ", $desc, ". Lookback `period`.")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            lag: Lag,
        }

        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::Momentum,
                description: $desc,
                inputs: &[Input::Real],
                params: &[ParamSpec::int("timeperiod", $default, 1, 100_000)],
                outputs: &["real"],
            };

            fn from_params(p: &Params) -> Result<Self, Error> {
                Ok($ty {
                    lag: Lag::new(p.usize("timeperiod")?),
                })
            }

            fn lookback(&self) -> usize {
                self.lag.period
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                let $x = input[0];
                out[0] = match self.lag.next($x) {
                    Some($prev) => $body,
                    None => f64::NAN,
                };
            }
        }
    };
}

lag_fn!(
    Mom,
    "MOM",
    "Momentum, x − x(t − period)",
    10,
    |x, prev| x - prev
);
lag_fn!(
    Roc,
    "ROC",
    "Rate of change, ((x / x(t − period)) − 1) · 100",
    10,
    |x, prev| {
        if prev != 0.0 {
            ((x / prev) - 1.0) * 100.0
        } else {
            0.0
        }
    }
);
lag_fn!(
    Rocp,
    "ROCP",
    "Rate of change percentage, (x − x(t − period)) / x(t − period)",
    10,
    |x, prev| { if prev != 0.0 { (x - prev) / prev } else { 0.0 } }
);
lag_fn!(
    Rocr,
    "ROCR",
    "Rate of change ratio, x / x(t − period)",
    10,
    |x, prev| { if prev != 0.0 { x / prev } else { 0.0 } }
);
lag_fn!(
    Rocr100,
    "ROCR100",
    "Rate of change ratio ×100, (x / x(t − period)) · 100",
    10,
    |x, prev| { if prev != 0.0 { (x / prev) * 100.0 } else { 0.0 } }
);

/// TRIX: 1-bar rate of change (%) of a triple EMA. Lookback `3 · (period − 1) + 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trix {
    period: usize,
    e1: Ema,
    e2: Ema,
    e3: Ema,
    prev: Option<f64>,
}

impl Streaming for Trix {
    const SPEC: &'static Spec = &Spec {
        name: "TRIX",
        group: Group::Momentum,
        description: "1-day Rate-Of-Change (ROC) of a Triple Smooth EMA",
        inputs: &[Input::Real],
        params: &[ParamSpec::int("timeperiod", 30, 1, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(Trix {
            period,
            e1: Ema::unchecked(period),
            e2: Ema::unchecked(period),
            e3: Ema::unchecked(period),
            prev: None,
        })
    }

    fn lookback(&self) -> usize {
        3 * (self.period - 1) + 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        let a = self.e1.next(input[0]);
        if a.is_nan() {
            return;
        }
        let b = self.e2.next(a);
        if b.is_nan() {
            return;
        }
        let c = self.e3.next(b);
        if c.is_nan() {
            return;
        }
        if let Some(prev) = self.prev.replace(c) {
            out[0] = if prev != 0.0 {
                ((c / prev) - 1.0) * 100.0
            } else {
                0.0
            };
        }
    }
}

/// ULTOSC: Williams' ultimate oscillator, weights 4:2:1 on the shortest, middle and
/// longest period's buying-pressure / true-range ratio. Lookback: the longest period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UltOsc {
    periods: [usize; 3],
    prev_close: Option<f64>,
    bp: Ring,
    tr: Ring,
    a: [f64; 3],
    b: [f64; 3],
    today: usize,
}

impl Streaming for UltOsc {
    const SPEC: &'static Spec = &Spec {
        name: "ULTOSC",
        group: Group::Momentum,
        description: "Ultimate Oscillator",
        inputs: HLC,
        params: &[
            ParamSpec::int("timeperiod1", 7, 1, 100_000),
            ParamSpec::int("timeperiod2", 14, 1, 100_000),
            ParamSpec::int("timeperiod3", 28, 1, 100_000),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let mut periods = [
            p.usize("timeperiod1")?,
            p.usize("timeperiod2")?,
            p.usize("timeperiod3")?,
        ];
        periods.sort_unstable();
        Ok(UltOsc {
            periods,
            prev_close: None,
            bp: Ring::new(periods[2]),
            tr: Ring::new(periods[2]),
            a: [0.0; 3],
            b: [0.0; 3],
            today: 0,
        })
    }

    fn lookback(&self) -> usize {
        self.periods[2]
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        let (high, low, close) = (input[0], input[1], input[2]);
        let today = self.today;
        self.today += 1;
        let Some(pc) = self.prev_close.replace(close) else {
            return;
        };
        let true_low = low.min(pc);
        let bp = close - true_low;
        let mut tr = high - low;
        let t = (pc - high).abs();
        if t > tr {
            tr = t;
        }
        let t = (pc - low).abs();
        if t > tr {
            tr = t;
        }
        self.bp.push(bp);
        self.tr.push(tr);
        let longest = self.periods[2];
        for k in 0..3 {
            // Each sum starts `period` bars before the first output.
            if today + self.periods[k] > longest {
                self.a[k] += bp;
                self.b[k] += tr;
            }
        }
        if today < longest {
            return;
        }
        let mut output = 0.0;
        if !is_zero(self.b[0]) {
            output += 4.0 * (self.a[0] / self.b[0]);
        }
        if !is_zero(self.b[1]) {
            output += 2.0 * (self.a[1] / self.b[1]);
        }
        if !is_zero(self.b[2]) {
            output += self.a[2] / self.b[2];
        }
        for k in 0..3 {
            let back = self.periods[k] - 1;
            self.a[k] -= self.bp.get(back);
            self.b[k] -= self.tr.get(back);
        }
        out[0] = 100.0 * (output / 7.0);
    }
}
