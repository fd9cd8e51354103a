//! Math operators: rolling MAX, MIN and SUM.

use serde::{Deserialize, Serialize};

use crate::util::{Extreme, Ring};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

macro_rules! extreme_fn {
    ($ty:ident, $name:literal, $desc:literal, $max:expr) => {
        #[doc = concat!($name, ": ", $desc, " over `period` bars. Lookback `period − 1`.")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            window: Ring,
            ext: Extreme,
            today: usize,
        }

        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::MathOperator,
                description: $desc,
                inputs: &[Input::Real],
                params: &[ParamSpec::int("timeperiod", 30, 2, 100_000)],
                outputs: &["real"],
            };

            fn from_params(p: &Params) -> Result<Self, Error> {
                Ok($ty {
                    window: Ring::new(p.usize("timeperiod")?),
                    ext: Extreme::new($max, false),
                    today: 0,
                })
            }

            fn lookback(&self) -> usize {
                self.window.capacity() - 1
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                self.window.push(input[0]);
                let today = self.today;
                self.today += 1;
                out[0] = if self.window.is_full() {
                    self.ext.update(&self.window, today).0
                } else {
                    f64::NAN
                };
            }
        }
    };
}

extreme_fn!(Max, "MAX", "Highest value", true);
extreme_fn!(Min, "MIN", "Lowest value", false);

/// SUM: rolling sum over `period` bars. Lookback `period − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sum {
    window: Ring,
    total: f64,
}

impl Streaming for Sum {
    const SPEC: &'static Spec = &Spec {
        name: "SUM",
        group: Group::MathOperator,
        description: "Summation",
        inputs: &[Input::Real],
        params: &[ParamSpec::int("timeperiod", 30, 2, 100_000)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Sum {
            window: Ring::new(p.usize("timeperiod")?),
            total: 0.0,
        })
    }

    fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        self.total += input[0];
        self.window.push(input[0]);
        out[0] = if self.window.is_full() {
            let out = self.total;
            self.total -= self.window.oldest();
            out
        } else {
            f64::NAN
        };
    }
}
