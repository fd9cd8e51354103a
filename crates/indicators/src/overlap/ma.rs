//! The moving averages and TA-Lib's MAType switch over them.

use serde::{Deserialize, Serialize};

use crate::util::Ring;
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// TA-Lib's MAType, the `matype` parameter of MA, MAVP, BBANDS, MACDEXT, STOCH, APO, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaType {
    /// 0: simple.
    Sma,
    /// 1: exponential.
    Ema,
    /// 2: weighted.
    Wma,
    /// 3: double exponential.
    Dema,
    /// 4: triple exponential.
    Tema,
    /// 5: triangular.
    Trima,
    /// 6: Kaufman adaptive.
    Kama,
    /// 7: MESA adaptive (needs the Hilbert-transform MAMA; not available yet).
    Mama,
    /// 8: Tillson T3 with volume factor 0.7.
    T3,
}

impl MaType {
    /// The type with TA-Lib's number `i`.
    pub fn from_index(i: usize) -> Option<Self> {
        Some(match i {
            0 => MaType::Sma,
            1 => MaType::Ema,
            2 => MaType::Wma,
            3 => MaType::Dema,
            4 => MaType::Tema,
            5 => MaType::Trima,
            6 => MaType::Kama,
            7 => MaType::Mama,
            8 => MaType::T3,
            _ => return None,
        })
    }

    /// TA-Lib's short name.
    pub fn name(self) -> &'static str {
        match self {
            MaType::Sma => "SMA",
            MaType::Ema => "EMA",
            MaType::Wma => "WMA",
            MaType::Dema => "DEMA",
            MaType::Tema => "TEMA",
            MaType::Trima => "TRIMA",
            MaType::Kama => "KAMA",
            MaType::Mama => "MAMA",
            MaType::T3 => "T3",
        }
    }
}

/// A moving average of a runtime-chosen [`MaType`], as TA-Lib's `TA_MA` computes it:
/// period 1 is the identity whatever the type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AnyMa {
    /// Period 1: the input itself.
    Identity,
    /// Simple.
    Sma(Sma),
    /// Exponential.
    Ema(Ema),
}

impl AnyMa {
    /// A moving average of `kind` over `period` bars.
    pub fn new(kind: MaType, period: usize) -> Result<Self, Error> {
        if period == 1 {
            return Ok(AnyMa::Identity);
        }
        match kind {
            MaType::Sma => Ok(AnyMa::Sma(Sma::new(period)?)),
            MaType::Ema => Ok(AnyMa::Ema(Ema::new(period)?)),
            MaType::Wma
            | MaType::Dema
            | MaType::Tema
            | MaType::Trima
            | MaType::Kama
            | MaType::Mama
            | MaType::T3 => Err(Error::MaTypeUnavailable(kind as u8, kind.name())),
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        match self {
            AnyMa::Identity => 0,
            AnyMa::Sma(m) => m.lookback(),
            AnyMa::Ema(m) => m.lookback(),
        }
    }

    /// Consumes one value; NaN until `lookback` values were consumed.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        match self {
            AnyMa::Identity => x,
            AnyMa::Sma(m) => m.next(x),
            AnyMa::Ema(m) => m.next(x),
        }
    }
}

const fn period_spec(default: i64) -> [ParamSpec; 1] {
    [ParamSpec::int("timeperiod", default, 2, 100_000)]
}

/// SMA: simple moving average. Lookback `period - 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    period: usize,
    window: Ring,
    sum: f64,
}

impl Sma {
    /// An SMA over `period` bars (2..=100000).
    pub fn new(period: usize) -> Result<Self, Error> {
        let p = Params::resolve(Self::SPEC, &[("timeperiod", period as f64)])?;
        Self::from_params(&p)
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        Sma {
            period: period.max(1),
            window: Ring::new(period),
            sum: 0.0,
        }
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        // TA-Lib's order: add the new value, divide, then drop the trailing one.
        self.sum += x;
        self.window.push(x);
        if self.window.is_full() {
            let out = self.sum / self.period as f64;
            self.sum -= self.window.oldest();
            out
        } else {
            f64::NAN
        }
    }
}

impl Streaming for Sma {
    const SPEC: &'static Spec = &Spec {
        name: "SMA",
        group: Group::Overlap,
        description: "Simple Moving Average",
        inputs: &[Input::Real],
        params: &period_spec(30),
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Self::unchecked(p.usize("timeperiod")?))
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.next(input[0]);
    }
}

/// EMA: exponential moving average, k = 2 / (period + 1), seeded with the SMA of the
/// first `period` values (TA-Lib's default compatibility). Lookback `period - 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    period: usize,
    k: f64,
    seen: usize,
    /// Running sum while seeding, then the average.
    value: f64,
}

impl Ema {
    /// An EMA over `period` bars (2..=100000).
    pub fn new(period: usize) -> Result<Self, Error> {
        let p = Params::resolve(Self::SPEC, &[("timeperiod", period as f64)])?;
        Self::from_params(&p)
    }

    /// An EMA with TA-Lib's k = 2 / (period + 1), parameters unchecked (period >= 1).
    pub(crate) fn unchecked(period: usize) -> Self {
        Self::with_k(period, 2.0 / (period as f64 + 1.0))
    }

    /// An EMA seeded over `period` bars with smoothing factor `k` (MACDFIX uses fixed k).
    pub(crate) fn with_k(period: usize, k: f64) -> Self {
        Ema {
            period: period.max(1),
            k,
            seen: 0,
            value: 0.0,
        }
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        if self.seen >= self.period {
            self.value = (x - self.value) * self.k + self.value;
            return self.value;
        }
        self.seen += 1;
        self.value += x;
        if self.seen == self.period {
            self.value /= self.period as f64;
            self.value
        } else {
            f64::NAN
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }
}

impl Streaming for Ema {
    const SPEC: &'static Spec = &Spec {
        name: "EMA",
        group: Group::Overlap,
        description: "Exponential Moving Average",
        inputs: &[Input::Real],
        params: &period_spec(30),
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Self::unchecked(p.usize("timeperiod")?))
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.next(input[0]);
    }
}
