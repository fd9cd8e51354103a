//! BBANDS, MIDPOINT, MIDPRICE.

use serde::{Deserialize, Serialize};

use super::AnyMa;
use crate::drive_updates;
use crate::momentum::HighLow;
use crate::statistic::{VarCore, stddev, var_step};
use crate::util::BLOCK;

use super::sma_step;
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

    /// With the default SMA: `update` until both windows are full of this series, then
    /// `sma_step`, `var_step` and the bands, the trailing value read from the slice, a
    /// block of `BLOCK` bars at a time (bit for bit `update`'s values and state). Other
    /// averages take the per-bar loop.
    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        let period = self.var.period;
        let plain = matches!(&self.ma, AnyMa::Sma(m) if m.period == period) && self.skip == 0;
        let ([input], [o_up, o_mid, o_down], true) = (inputs, &mut *outputs, plain) else {
            drive_updates(self, inputs, outputs);
            return;
        };
        let (first, rest) = input.split_at(input.len().min(period));
        let mut bar = [f64::NAN; 3];
        for &x in first {
            self.update(&[x], &mut bar);
            o_up.push(bar[0]);
            o_mid.push(bar[1]);
            o_down.push(bar[2]);
        }
        let (AnyMa::Sma(sma), Some(shift)) = (&mut self.ma, self.var.shift) else {
            return;
        };
        if rest.is_empty() {
            return;
        }
        let inv = 1.0 / period as f64;
        let (mut sum, mut sum1, mut sum2) = (sma.sum, self.var.sum1, self.var.sum2);
        let (up, down) = (self.up, self.down);
        // Bar i's trailing value (the oldest after pushing it) is input[i + 1 - period].
        let trailing = input.get(1..).unwrap_or_default();
        // A block at a time: the running sums (serial), then the deviations and bands
        // (independent per bar: vectorised roots), each output appended once per block.
        let (mut mid, mut var) = ([0.0; BLOCK], [0.0; BLOCK]);
        let (mut upper, mut lower) = ([0.0; BLOCK], [0.0; BLOCK]);
        for (xs, olds) in rest.chunks(BLOCK).zip(trailing.chunks(BLOCK)) {
            let sums = mid.iter_mut().zip(var.iter_mut());
            for ((mid, var), (&x, &old)) in sums.zip(xs.iter().zip(olds)) {
                *mid = sma_step(&mut sum, x, old, inv);
                *var = var_step(&mut sum1, &mut sum2, x - shift, old - shift, inv);
            }
            let bands = upper.iter_mut().zip(lower.iter_mut());
            for ((u, l), (&mid, &var)) in bands.zip(mid.iter().zip(&var)) {
                let sd = stddev(var);
                (*u, *l) = (mid + sd * up, mid - sd * down);
            }
            let m = xs.len();
            o_up.extend_from_slice(upper.get(..m).unwrap_or_default());
            o_mid.extend_from_slice(mid.get(..m).unwrap_or_default());
            o_down.extend_from_slice(lower.get(..m).unwrap_or_default());
        }
        (sma.sum, self.var.sum1, self.var.sum2) = (sum, sum1, sum2);
        sma.window.push_all(rest);
        self.var.window.push_all(rest);
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
