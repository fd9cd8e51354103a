//! What a function is: its name, group, inputs, parameters and outputs, and the checked
//! parameter values an indicator is built from.

use std::fmt;

use crate::Error;

/// TA-Lib's function groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Moving averages, bands, SAR, midpoints.
    Overlap,
    /// Oscillators and directional movement.
    Momentum,
    /// Volume-weighted accumulations (AD, ADOSC, OBV) and VWAP.
    Volume,
    /// ATR, NATR, TRANGE.
    Volatility,
    /// Per-bar price transforms (AVGPRICE, MEDPRICE, TYPPRICE, WCLPRICE).
    Price,
    /// Hilbert-transform cycle indicators (HT_*).
    Cycle,
    /// Rolling statistics and regressions.
    Statistic,
    /// Candlestick patterns (CDL*).
    Pattern,
    /// Rolling max/min/sum and element-wise arithmetic of two series.
    MathOperator,
}

impl Group {
    /// TA-Lib's display name of the group.
    pub fn name(self) -> &'static str {
        match self {
            Group::Overlap => "Overlap Studies",
            Group::Momentum => "Momentum Indicators",
            Group::Volume => "Volume Indicators",
            Group::Volatility => "Volatility Indicators",
            Group::Price => "Price Transform",
            Group::Cycle => "Cycle Indicators",
            Group::Statistic => "Statistic Functions",
            Group::Pattern => "Pattern Recognition",
            Group::MathOperator => "Math Operators",
        }
    }
}

/// One input series of a function, in the order [`crate::Indicator::update`] takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// Bar open.
    Open,
    /// Bar high.
    High,
    /// Bar low.
    Low,
    /// Bar close.
    Close,
    /// Bar volume.
    Volume,
    /// Any one series (TA-Lib's `real`); callers usually pass the close.
    Real,
    /// First of two free series (TA-Lib's `real0`, default high).
    Real0,
    /// Second of two free series (TA-Lib's `real1`, default low).
    Real1,
    /// Per-bar period of MAVP, as a number.
    Periods,
    /// Session id (e.g. the trading day as `yyyymmdd`): a change starts a new session.
    Session,
}

impl Input {
    /// The lower-case name used in the registry, the CLI and golden files.
    pub fn name(self) -> &'static str {
        match self {
            Input::Open => "open",
            Input::High => "high",
            Input::Low => "low",
            Input::Close => "close",
            Input::Volume => "volume",
            Input::Real => "real",
            Input::Real0 => "real0",
            Input::Real1 => "real1",
            Input::Periods => "periods",
            Input::Session => "session",
        }
    }

    /// The OHLCV column fed to this input by default (TA-Lib's abstract-API defaults:
    /// `real` is the close, `real0`/`real1` are high/low); others are their own column.
    pub fn default_column(self) -> &'static str {
        match self {
            Input::Real => "close",
            Input::Real0 => "high",
            Input::Real1 => "low",
            Input::Open
            | Input::High
            | Input::Low
            | Input::Close
            | Input::Volume
            | Input::Periods
            | Input::Session => self.name(),
        }
    }
}

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number (periods).
    Integer,
    /// Any real number in range.
    Real,
    /// TA-Lib's MAType 0..=8 (see [`crate::overlap::MaType`]).
    MaType,
}

/// One parameter: name, default and valid range (both ends inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// TA-Lib's name, lower-case without `optIn` (`timeperiod`, `nbdevup`, ...).
    pub name: &'static str,
    /// Integer, real or moving-average type.
    pub kind: ParamKind,
    /// TA-Lib's default.
    pub default: f64,
    /// Smallest valid value.
    pub min: f64,
    /// Largest valid value.
    pub max: f64,
}

impl ParamSpec {
    /// An integer parameter (periods are `2..=100_000` in most TA-Lib functions).
    pub const fn int(name: &'static str, default: i64, min: i64, max: i64) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::Integer,
            default: default as f64,
            min: min as f64,
            max: max as f64,
        }
    }

    /// A real parameter.
    pub const fn real(name: &'static str, default: f64, min: f64, max: f64) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::Real,
            default,
            min,
            max,
        }
    }

    /// A moving-average type parameter, `0..=8`.
    pub const fn matype(name: &'static str, default: u8) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::MaType,
            default: default as f64,
            min: 0.0,
            max: 8.0,
        }
    }
}

/// The static description of one function; the registry lists one per function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// TA-Lib's upper-case name (`SMA`, `CDLDOJI`), or ours where TA-Lib has none (`VWAP`).
    pub name: &'static str,
    /// The function group.
    pub group: Group,
    /// One line saying what it computes.
    pub description: &'static str,
    /// Input series, in update order.
    pub inputs: &'static [Input],
    /// Parameters, in TA-Lib's order.
    pub params: &'static [ParamSpec],
    /// Output names, TA-Lib's (`real`, `macd`, `macdsignal`, ...), in output order.
    pub outputs: &'static [&'static str],
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] (", self.name, self.group.name())?;
        for (i, input) in self.inputs.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{}", input.name())?;
        }
        write!(f, ")")?;
        for p in self.params {
            write!(f, " {}={}", p.name, p.default)?;
            match p.kind {
                ParamKind::Integer | ParamKind::MaType => {
                    write!(f, " [{}..={}]", p.min, p.max)?;
                }
                ParamKind::Real => write!(f, " [{:e}..={:e}]", p.min, p.max)?,
            }
        }
        write!(f, " -> {}", self.outputs.join(", "))
    }
}

/// Parameter values checked against a [`Spec`]: every parameter present, in range, and
/// integral where it must be. Indicators are built from this, never from raw input.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    spec: &'static Spec,
    values: Vec<f64>,
}

impl Params {
    /// Checks `given` (name, value) pairs against `spec`, filling defaults for the rest.
    /// Names are case-insensitive; an unknown name, a value out of range or a fractional
    /// integer is an error.
    pub fn resolve(spec: &'static Spec, given: &[(&str, f64)]) -> Result<Self, Error> {
        let mut values: Vec<f64> = spec.params.iter().map(|p| p.default).collect();
        for (name, value) in given {
            let idx = spec
                .params
                .iter()
                .position(|p| p.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| Error::UnknownParam {
                    function: spec.name,
                    param: (*name).to_owned(),
                })?;
            if let Some(slot) = values.get_mut(idx) {
                *slot = *value;
            }
        }
        for (p, v) in spec.params.iter().zip(&values) {
            let integral = matches!(p.kind, ParamKind::Integer | ParamKind::MaType);
            if integral && (!v.is_finite() || v.fract() != 0.0) {
                return Err(Error::ParamNotInteger {
                    function: spec.name,
                    param: p.name,
                    value: *v,
                });
            }
            if !(p.min..=p.max).contains(v) {
                return Err(Error::ParamOutOfRange {
                    function: spec.name,
                    param: p.name,
                    value: *v,
                    min: p.min,
                    max: p.max,
                });
            }
        }
        Ok(Params { spec, values })
    }

    /// The defaults of `spec`.
    pub fn defaults(spec: &'static Spec) -> Self {
        Params {
            spec,
            values: spec.params.iter().map(|p| p.default).collect(),
        }
    }

    /// The spec these values were checked against.
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// (name, value) pairs in the spec's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.spec
            .params
            .iter()
            .zip(&self.values)
            .map(|(p, v)| (p.name, *v))
    }

    fn value(&self, name: &str) -> Result<f64, Error> {
        self.spec
            .params
            .iter()
            .position(|p| p.name == name)
            .and_then(|i| self.values.get(i).copied())
            .ok_or_else(|| Error::UnknownParam {
                function: self.spec.name,
                param: name.to_owned(),
            })
    }

    /// A real parameter.
    pub fn real(&self, name: &str) -> Result<f64, Error> {
        self.value(name)
    }

    /// An integer parameter as a count (periods); negative integers read as 0.
    pub fn usize(&self, name: &str) -> Result<usize, Error> {
        // Checked integral and in range by `resolve`; ranges are far below 2^52.
        self.value(name)
            .map(|v| if v <= 0.0 { 0 } else { v as usize })
    }

    /// A moving-average type parameter.
    pub fn matype(&self, name: &str) -> Result<crate::overlap::MaType, Error> {
        let v = self.usize(name)?;
        crate::overlap::MaType::from_index(v).ok_or(Error::ParamOutOfRange {
            function: self.spec.name,
            param: "matype",
            value: v as f64,
            min: 0.0,
            max: 8.0,
        })
    }
}
