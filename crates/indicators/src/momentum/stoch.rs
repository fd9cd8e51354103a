//! Stochastics: STOCH, STOCHF, STOCHRSI, and WILLR, all on TA-Lib's window extremes.

use serde::{Deserialize, Serialize};

use super::Rsi;
use crate::overlap::AnyMa;
use crate::util::{Extreme, Ring};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

const HLC: &[Input] = &[Input::High, Input::Low, Input::Close];

/// Highest high and lowest low of the last `period` bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct HighLow {
    highs: Ring,
    lows: Ring,
    hi: Extreme,
    lo: Extreme,
    today: usize,
}

impl HighLow {
    pub(crate) fn new(period: usize) -> Self {
        HighLow {
            highs: Ring::new(period),
            lows: Ring::new(period),
            hi: Extreme::new(true, false),
            lo: Extreme::new(false, false),
            today: 0,
        }
    }

    /// (highest, lowest) once `period` bars were seen.
    #[inline]
    pub(crate) fn next(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        self.highs.push(high);
        self.lows.push(low);
        let today = self.today;
        self.today += 1;
        if !self.highs.is_full() {
            return None;
        }
        let (lowest, _) = self.lo.update(&self.lows, today);
        let (highest, _) = self.hi.update(&self.highs, today);
        Some((highest, lowest))
    }
}

/// Fast %K: 100 · (close − lowest low) / (highest high − lowest low), 0 on a flat window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FastK {
    window: HighLow,
}

impl FastK {
    fn new(period: usize) -> Self {
        FastK {
            window: HighLow::new(period),
        }
    }

    #[inline]
    fn next(&mut self, high: f64, low: f64, close: f64) -> f64 {
        match self.window.next(high, low) {
            Some((highest, lowest)) => {
                let diff = (highest - lowest) / 100.0;
                if diff != 0.0 {
                    (close - lowest) / diff
                } else {
                    0.0
                }
            }
            None => f64::NAN,
        }
    }
}

/// STOCH: slow stochastic, %K smoothed by `slowk_matype`, %D smoothing that.
/// Lookback `fastk − 1` + the two averages' lookbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stoch {
    fastk: FastK,
    slowk: AnyMa,
    slowd: AnyMa,
    lookback: usize,
}

impl Streaming for Stoch {
    const SPEC: &'static Spec = &Spec {
        name: "STOCH",
        group: Group::Momentum,
        description: "Stochastic",
        inputs: HLC,
        params: &[
            ParamSpec::int("fastk_period", 5, 1, 100_000),
            ParamSpec::int("slowk_period", 3, 1, 100_000),
            ParamSpec::matype("slowk_matype", 0),
            ParamSpec::int("slowd_period", 3, 1, 100_000),
            ParamSpec::matype("slowd_matype", 0),
        ],
        outputs: &["slowk", "slowd"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let fastk = p.usize("fastk_period")?;
        let slowk = AnyMa::new(p.matype("slowk_matype")?, p.usize("slowk_period")?)?;
        let slowd = AnyMa::new(p.matype("slowd_matype")?, p.usize("slowd_period")?)?;
        Ok(Stoch {
            lookback: fastk - 1 + slowk.lookback() + slowd.lookback(),
            fastk: FastK::new(fastk),
            slowk,
            slowd,
        })
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        out[1] = f64::NAN;
        let k = self.fastk.next(input[0], input[1], input[2]);
        if k.is_nan() {
            return;
        }
        let slowk = self.slowk.next(k);
        if slowk.is_nan() {
            return;
        }
        let slowd = self.slowd.next(slowk);
        if !slowd.is_nan() {
            out[0] = slowk;
            out[1] = slowd;
        }
    }

    /// `update` over the three slices on a local copy of the state, written back at the
    /// end: no per-bar copies into stack buffers.
    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        let ([high, low, close], [o_k, o_d]) = (inputs, outputs) else {
            return;
        };
        let mut st = self.clone();
        let mut out = [f64::NAN; 2];
        for ((&h, &l), &c) in high.iter().zip(*low).zip(*close) {
            st.update(&[h, l, c], &mut out);
            o_k.push(out[0]);
            o_d.push(out[1]);
        }
        *self = st;
    }
}

/// STOCHF: fast stochastic, %K and its `fastd_matype` average %D.
/// Lookback `fastk − 1` + the %D average's lookback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StochF {
    fastk: FastK,
    fastd: AnyMa,
    lookback: usize,
}

impl StochF {
    fn build(p: &Params) -> Result<Self, Error> {
        let fastk = p.usize("fastk_period")?;
        let fastd = AnyMa::new(p.matype("fastd_matype")?, p.usize("fastd_period")?)?;
        Ok(StochF {
            lookback: fastk - 1 + fastd.lookback(),
            fastk: FastK::new(fastk),
            fastd,
        })
    }

    #[inline]
    fn next(&mut self, high: f64, low: f64, close: f64, out: &mut [f64]) {
        out[0] = f64::NAN;
        out[1] = f64::NAN;
        let k = self.fastk.next(high, low, close);
        if k.is_nan() {
            return;
        }
        let d = self.fastd.next(k);
        if !d.is_nan() {
            out[0] = k;
            out[1] = d;
        }
    }
}

impl Streaming for StochF {
    const SPEC: &'static Spec = &Spec {
        name: "STOCHF",
        group: Group::Momentum,
        description: "Stochastic Fast",
        inputs: HLC,
        params: &[
            ParamSpec::int("fastk_period", 5, 1, 100_000),
            ParamSpec::int("fastd_period", 3, 1, 100_000),
            ParamSpec::matype("fastd_matype", 0),
        ],
        outputs: &["fastk", "fastd"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Self::build(p)
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        self.next(input[0], input[1], input[2], out);
    }
}

/// STOCHRSI: the fast stochastic of RSI. Lookback: RSI's + STOCHF's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StochRsi {
    rsi: Rsi,
    stochf: StochF,
    lookback: usize,
}

impl Streaming for StochRsi {
    const SPEC: &'static Spec = &Spec {
        name: "STOCHRSI",
        group: Group::Momentum,
        description: "Stochastic Relative Strength Index",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("timeperiod", 14, 2, 100_000),
            ParamSpec::int("fastk_period", 5, 1, 100_000),
            ParamSpec::int("fastd_period", 3, 1, 100_000),
            ParamSpec::matype("fastd_matype", 0),
        ],
        outputs: &["fastk", "fastd"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        let stochf = StochF::build(p)?;
        Ok(StochRsi {
            lookback: period + stochf.lookback,
            rsi: Rsi::unchecked(period),
            stochf,
        })
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let r = self.rsi.next(input[0]);
        if r.is_nan() {
            out[0] = f64::NAN;
            out[1] = f64::NAN;
            return;
        }
        self.stochf.next(r, r, r, out);
    }
}

/// WILLR: Williams' %R, −100 · (highest high − close) / (highest high − lowest low).
/// Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Willr {
    period: usize,
    window: HighLow,
}

impl Streaming for Willr {
    const SPEC: &'static Spec = &Spec {
        name: "WILLR",
        group: Group::Momentum,
        description: "Williams' %R",
        inputs: HLC,
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(Willr {
            period,
            window: HighLow::new(period),
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = match self.window.next(input[0], input[1]) {
            Some((highest, lowest)) => {
                let diff = (highest - lowest) / (-100.0);
                if diff != 0.0 {
                    (highest - input[2]) / diff
                } else {
                    0.0
                }
            }
            None => f64::NAN,
        };
    }
}
