//! MAMA: Ehlers' MESA adaptive moving average and its following average FAMA.

use serde::{Deserialize, Serialize};

use super::hilbert::{Hilbert, rad2deg};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// Price-WMA bars before MAMA's main loop (3 + 9).
const WARMUP: usize = 12;
const LOOKBACK: usize = 32;

/// MAMA: an EMA whose factor follows the rate of change of the Hilbert phase, between
/// `slowlimit` and `fastlimit`; FAMA follows MAMA with half that factor. Lookback 32.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mama {
    fast_limit: f64,
    slow_limit: f64,
    ht: Hilbert,
    prev_phase: f64,
    mama: f64,
    fama: f64,
    rad2deg: f64,
}

impl Mama {
    /// A MAMA with TA-Lib's limits (each 0.01..=0.99).
    pub fn new(fast_limit: f64, slow_limit: f64) -> Result<Self, Error> {
        let p = Params::resolve(
            Self::SPEC,
            &[("fastlimit", fast_limit), ("slowlimit", slow_limit)],
        )?;
        Self::from_params(&p)
    }

    pub(crate) fn unchecked(fast_limit: f64, slow_limit: f64) -> Self {
        Mama {
            fast_limit,
            slow_limit,
            ht: Hilbert::new(WARMUP),
            prev_phase: 0.0,
            mama: 0.0,
            fama: 0.0,
            rad2deg: rad2deg(),
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        LOOKBACK
    }

    /// Consumes one value: `(mama, fama)`, NaN for the first 32.
    #[inline]
    pub fn next(&mut self, x: f64) -> (f64, f64) {
        let Some(bar) = self.ht.next(x) else {
            return (f64::NAN, f64::NAN);
        };
        let phase = if bar.i1 != 0.0 {
            (bar.q1 / bar.i1).atan() * self.rad2deg
        } else {
            0.0
        };
        let mut delta_phase = self.prev_phase - phase;
        self.prev_phase = phase;
        if delta_phase < 1.0 {
            delta_phase = 1.0;
        }
        let mut alpha = if delta_phase > 1.0 {
            let a = self.fast_limit / delta_phase;
            if a < self.slow_limit {
                self.slow_limit
            } else {
                a
            }
        } else {
            self.fast_limit
        };
        self.mama = self.mama.mul_add(1.0 - alpha, alpha * x);
        alpha *= 0.5;
        self.fama = self.fama.mul_add(1.0 - alpha, alpha * self.mama);
        if self.ht.seen() > LOOKBACK {
            (self.mama, self.fama)
        } else {
            (f64::NAN, f64::NAN)
        }
    }
}

impl Streaming for Mama {
    const SPEC: &'static Spec = &Spec {
        name: "MAMA",
        group: Group::Overlap,
        description: "MESA Adaptive Moving Average",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::real("fastlimit", 0.5, 0.01, 0.99),
            ParamSpec::real("slowlimit", 0.05, 0.01, 0.99),
        ],
        outputs: &["mama", "fama"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Self::unchecked(p.real("fastlimit")?, p.real("slowlimit")?))
    }

    fn lookback(&self) -> usize {
        LOOKBACK
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        (out[0], out[1]) = self.next(input[0]);
    }
}

#[cfg(test)]
mod tests {
    use crate::overlap::{AnyMa, MaType};
    use crate::{Streaming, cycle::Mama};

    #[test]
    fn mama_as_an_ma_type_ignores_the_period() {
        let xs: Vec<f64> = (0..120).map(|i| 50.0 + (i as f64 * 0.2).cos()).collect();
        let want = Mama::new(0.5, 0.05).unwrap().batch(&[&xs]).unwrap();
        for period in [2, 10, 30] {
            let mut ma = AnyMa::new(MaType::Mama, period).unwrap();
            assert_eq!(ma.lookback(), 32);
            for (i, x) in xs.iter().enumerate() {
                let got = ma.next(*x);
                assert!(got.to_bits() == want[0][i].to_bits() || (got.is_nan() && i < 32));
            }
        }
    }
}
