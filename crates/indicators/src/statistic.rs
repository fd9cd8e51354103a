//! Statistic functions: VAR, STDDEV, BETA, CORREL, LINEARREG, LINEARREG_SLOPE,
//! LINEARREG_INTERCEPT, LINEARREG_ANGLE, TSF.

use serde::{Deserialize, Serialize};

use crate::util::{Ring, is_zero};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// Rolling population variance from running sums of deviations from a shift (the
/// first value seen), so the subtraction does not cancel two ~mean² quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct VarCore {
    pub(crate) period: usize,
    pub(crate) window: Ring,
    pub(crate) shift: Option<f64>,
    pub(crate) sum1: f64,
    pub(crate) sum2: f64,
}

impl VarCore {
    pub(crate) fn new(period: usize) -> Self {
        VarCore {
            period,
            window: Ring::new(period),
            shift: None,
            sum1: 0.0,
            sum2: 0.0,
        }
    }

    /// Variance of the last `period` values, NaN before that.
    #[inline]
    pub(crate) fn next(&mut self, x: f64) -> f64 {
        let shift = *self.shift.get_or_insert(x);
        self.window.push(x);
        if !self.window.is_full() {
            self.sum1 += x - shift;
            self.sum2 += (x - shift) * (x - shift);
            return f64::NAN;
        }
        let inv = 1.0 / self.period as f64;
        let t = self.window.oldest() - shift;
        var_step(&mut self.sum1, &mut self.sum2, x - shift, t, inv)
    }
}

/// One bar of a full window: the variance of the window whose newest shifted value is
/// `d` (`inv` = 1 / period), with `sum1`, `sum2` the sums of the other `period − 1`
/// shifted values and their squares; then the shifted oldest value `t` leaves the sums.
/// TA-Lib adds `d`, takes the variance, then subtracts `t`; here each sum moves by
/// `d − t` (`d² − t²`) in one add computed off the chain from bar to bar (one add of
/// latency per bar instead of two). The variance of the bar is the same; the sums differ
/// by rounding only.
#[inline(always)]
pub(crate) fn var_step(sum1: &mut f64, sum2: &mut f64, d: f64, t: f64, inv: f64) -> f64 {
    let (full1, full2) = (*sum1 + d, *sum2 + d * d);
    *sum1 += d - t;
    *sum2 += d * d - t * t;
    let mean1 = full1 * inv;
    full2 * inv - mean1 * mean1
}

/// Standard deviation from a variance: 0 where TA-Lib's `TA_IS_ZERO_OR_NEG` holds. The
/// root is taken either way (NaN for a negative variance, then dropped): a select, not
/// a branch, so a batch loop vectorises it.
#[inline]
pub(crate) fn stddev(var: f64) -> f64 {
    let sd = var.sqrt();
    if var < 0.000_000_000_000_01 { 0.0 } else { sd }
}

/// VAR: population variance over `period` bars (`nbdev` is accepted and, as in TA-Lib,
/// ignored). Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Var {
    core: VarCore,
}

impl Streaming for Var {
    const SPEC: &'static Spec = &Spec {
        name: "VAR",
        group: Group::Statistic,
        description: "Variance",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("timeperiod", 5, 1, 100_000),
            ParamSpec::real("nbdev", 1.0, -3.0e37, 3.0e37),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Var {
            core: VarCore::new(p.usize("timeperiod")?),
        })
    }

    fn lookback(&self) -> usize {
        self.core.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.core.next(input[0]);
    }
}

/// STDDEV: population standard deviation times `nbdev`. Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StdDev {
    core: VarCore,
    nbdev: f64,
}

impl Streaming for StdDev {
    const SPEC: &'static Spec = &Spec {
        name: "STDDEV",
        group: Group::Statistic,
        description: "Standard Deviation",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("timeperiod", 5, 2, 100_000),
            ParamSpec::real("nbdev", 1.0, -3.0e37, 3.0e37),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(StdDev {
            core: VarCore::new(p.usize("timeperiod")?),
            nbdev: p.real("nbdev")?,
        })
    }

    fn lookback(&self) -> usize {
        self.core.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let v = self.core.next(input[0]);
        out[0] = if v.is_nan() {
            f64::NAN
        } else if self.nbdev == 1.0 {
            stddev(v)
        } else {
            stddev(v) * self.nbdev
        };
    }
}

/// BETA: slope of `real1`'s bar-to-bar returns regressed on `real0`'s, over `period`
/// returns. Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beta {
    period: usize,
    last: Option<(f64, f64)>,
    xs: Ring,
    ys: Ring,
    s_xx: f64,
    s_x: f64,
    s_xy: f64,
    s_y: f64,
}

fn ret(now: f64, last: f64) -> f64 {
    if is_zero(last) {
        0.0
    } else {
        (now - last) / last
    }
}

impl Streaming for Beta {
    const SPEC: &'static Spec = &Spec {
        name: "BETA",
        group: Group::Statistic,
        description: "Beta",
        inputs: &[Input::Real0, Input::Real1],
        params: &[ParamSpec::int("timeperiod", 5, 1, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(Beta {
            period,
            last: None,
            xs: Ring::new(period),
            ys: Ring::new(period),
            s_xx: 0.0,
            s_x: 0.0,
            s_xy: 0.0,
            s_y: 0.0,
        })
    }

    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        let (px, py) = (input[0], input[1]);
        let Some((lx, ly)) = self.last.replace((px, py)) else {
            return;
        };
        let (x, y) = (ret(px, lx), ret(py, ly));
        self.xs.push(x);
        self.ys.push(y);
        self.s_xx += x * x;
        self.s_x += x;
        self.s_xy += x * y;
        self.s_y += y;
        if !self.xs.is_full() {
            return;
        }
        let n = self.period as f64;
        let den = n * self.s_xx - self.s_x * self.s_x;
        out[0] = if is_zero(den) {
            0.0
        } else {
            (n * self.s_xy - self.s_x * self.s_y) / den
        };
        let (tx, ty) = (self.xs.oldest(), self.ys.oldest());
        self.s_xx -= tx * tx;
        self.s_x -= tx;
        self.s_xy -= tx * ty;
        self.s_y -= ty;
    }
}

/// CORREL: Pearson correlation of two series over `period` bars. Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correl {
    period: usize,
    xs: Ring,
    ys: Ring,
    sum_x: f64,
    sum_y: f64,
    sum_x2: f64,
    sum_y2: f64,
    sum_xy: f64,
}

impl Streaming for Correl {
    const SPEC: &'static Spec = &Spec {
        name: "CORREL",
        group: Group::Statistic,
        description: "Pearson's Correlation Coefficient (r)",
        inputs: &[Input::Real0, Input::Real1],
        params: &[ParamSpec::int("timeperiod", 30, 1, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(Correl {
            period,
            xs: Ring::new(period),
            ys: Ring::new(period),
            sum_x: 0.0,
            sum_y: 0.0,
            sum_x2: 0.0,
            sum_y2: 0.0,
            sum_xy: 0.0,
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let (x, y) = (input[0], input[1]);
        if let (Some(tx), Some(ty)) = (self.xs.push(x), self.ys.push(y)) {
            self.sum_x -= tx;
            self.sum_x2 -= tx * tx;
            self.sum_xy -= tx * ty;
            self.sum_y -= ty;
            self.sum_y2 -= ty * ty;
        }
        self.sum_x += x;
        self.sum_x2 += x * x;
        self.sum_xy += x * y;
        self.sum_y += y;
        self.sum_y2 += y * y;
        if !self.xs.is_full() {
            out[0] = f64::NAN;
            return;
        }
        let n = self.period as f64;
        let t = (self.sum_x2 - ((self.sum_x * self.sum_x) / n))
            * (self.sum_y2 - ((self.sum_y * self.sum_y) / n));
        out[0] = if t < 0.000_000_000_000_01 {
            0.0
        } else {
            (self.sum_xy - ((self.sum_x * self.sum_y) / n)) / t.sqrt()
        };
    }
}

/// Which value of the least-squares line over the window a LINEARREG function outputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum RegOut {
    /// The line at the newest bar.
    Value,
    /// The slope per bar.
    Slope,
    /// The line at the oldest bar.
    Intercept,
    /// The slope as an angle in degrees.
    Angle,
    /// The line one bar past the newest (time series forecast).
    Forecast,
}

/// Least squares over the last `period` values (x = 0 for the oldest), rescanning the
/// window each bar as TA-Lib does (O(period) per bar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LinReg {
    period: usize,
    window: Ring,
    what: RegOut,
}

impl LinReg {
    #[inline]
    fn next(&mut self, x: f64) -> f64 {
        self.window.push(x);
        if !self.window.is_full() {
            return f64::NAN;
        }
        let n = self.period as f64;
        let sum_x = n * (n - 1.0) * 0.5;
        let sum_x_sqr = n * (n - 1.0) * (2.0 * n - 1.0) / 6.0;
        let divisor = sum_x * sum_x - n * sum_x_sqr;
        let mut sum_xy = 0.0;
        let mut sum_y = 0.0;
        // TA-Lib weights the oldest value period-1 and the newest 0, oldest first.
        for (i, v) in (0..self.period).rev().zip(self.window.iter()) {
            sum_y += v;
            sum_xy += i as f64 * v;
        }
        let m = (n * sum_xy - sum_x * sum_y) / divisor;
        let b = (sum_y - m * sum_x) / n;
        match self.what {
            RegOut::Value => b + m * (n - 1.0),
            RegOut::Slope => m,
            RegOut::Intercept => b,
            RegOut::Angle => m.atan() * (180.0 / std::f64::consts::PI),
            RegOut::Forecast => b + m * n,
        }
    }
}

macro_rules! linreg_fn {
    ($ty:ident, $name:literal, $desc:literal, $what:expr) => {
        #[doc = concat!($name, ": ", $desc, " of the least-squares line over `period` bars.")]
        #[doc = " Lookback `period − 1`."]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            reg: LinReg,
        }

        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::Statistic,
                description: $desc,
                inputs: &[Input::Real],
                params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
                outputs: &["real"],
            };

            fn from_params(p: &Params) -> Result<Self, Error> {
                let period = p.usize("timeperiod")?;
                Ok($ty {
                    reg: LinReg {
                        period,
                        window: Ring::new(period),
                        what: $what,
                    },
                })
            }

            fn lookback(&self) -> usize {
                self.reg.period - 1
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                out[0] = self.reg.next(input[0]);
            }
        }
    };
}

linreg_fn!(
    LinearReg,
    "LINEARREG",
    "Linear Regression (value at the newest bar)",
    RegOut::Value
);
linreg_fn!(
    LinearRegSlope,
    "LINEARREG_SLOPE",
    "Linear Regression Slope",
    RegOut::Slope
);
linreg_fn!(
    LinearRegIntercept,
    "LINEARREG_INTERCEPT",
    "Linear Regression Intercept",
    RegOut::Intercept
);
linreg_fn!(
    LinearRegAngle,
    "LINEARREG_ANGLE",
    "Linear Regression Angle (degrees)",
    RegOut::Angle
);
linreg_fn!(
    Tsf,
    "TSF",
    "Time Series Forecast (one bar ahead)",
    RegOut::Forecast
);
