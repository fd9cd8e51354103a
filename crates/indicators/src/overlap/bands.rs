//! BBANDS, MIDPOINT, MIDPRICE.

use serde::{Deserialize, Serialize};

use super::AnyMa;
use crate::momentum::HighLow;
use crate::statistic::{VarCore, stddev};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// BBANDS: moving average ± `nbdev` population standard deviations over `period` bars.
/// The deviation window starts where TA-Lib starts it (at the average's first value).
/// Lookback: the average's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bbands {
    ma: AnyMa,
    var: VarCore,
    /// Bars to skip before the variance starts (MA lookback − (period − 1)).
    skip: usize,
    up: f64,
    down: f64,
}

impl Streaming for Bbands {
    const SPEC: &'static Spec = &Spec {
        name: "BBANDS",
        group: Group::Overlap,
        description: "Bollinger Bands",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("timeperiod", 20, 2, 100_000),
            ParamSpec::real("nbdevup", 2.0, -3.0e37, 3.0e37),
            ParamSpec::real("nbdevdn", 2.0, -3.0e37, 3.0e37),
            ParamSpec::matype("matype", 0),
        ],
        outputs: &["upperband", "middleband", "lowerband"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        let ma = AnyMa::new(p.matype("matype")?, period)?;
        Ok(Bbands {
            skip: ma.lookback().saturating_sub(period - 1),
            ma,
            var: VarCore::new(period),
            up: p.real("nbdevup")?,
            down: p.real("nbdevdn")?,
        })
    }

    fn lookback(&self) -> usize {
        self.ma.lookback()
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let x = input[0];
        let mid = self.ma.next(x);
        let var = if self.skip > 0 {
            self.skip -= 1;
            f64::NAN
        } else {
            self.var.next(x)
        };
        if mid.is_nan() || var.is_nan() {
            out[0] = f64::NAN;
            out[1] = f64::NAN;
            out[2] = f64::NAN;
            return;
        }
        let sd = stddev(var);
        out[0] = mid + sd * self.up;
        out[1] = mid;
        out[2] = mid - sd * self.down;
    }
}

/// MIDPOINT: (highest + lowest) / 2 of one series over `period` bars.
/// Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MidPoint {
    period: usize,
    window: HighLow,
}

impl Streaming for MidPoint {
    const SPEC: &'static Spec = &Spec {
        name: "MIDPOINT",
        group: Group::Overlap,
        description: "MidPoint over period",
        inputs: &[Input::Real],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(MidPoint {
            period,
            window: HighLow::new(period),
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = match self.window.next(input[0], input[0]) {
            Some((hi, lo)) => (hi + lo) / 2.0,
            None => f64::NAN,
        };
    }
}

/// MIDPRICE: (highest high + lowest low) / 2 over `period` bars. Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MidPrice {
    period: usize,
    window: HighLow,
}

impl Streaming for MidPrice {
    const SPEC: &'static Spec = &Spec {
        name: "MIDPRICE",
        group: Group::Overlap,
        description: "Midpoint Price over period",
        inputs: &[Input::High, Input::Low],
        params: &[ParamSpec::int("timeperiod", 14, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let period = p.usize("timeperiod")?;
        Ok(MidPrice {
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
            Some((hi, lo)) => (hi + lo) / 2.0,
            None => f64::NAN,
        };
    }
}
