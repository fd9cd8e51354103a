//! Wilder's parabolic SAR: SAR and SAREXT over one state machine.

use serde::{Deserialize, Serialize};

use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// Acceleration settings, already made coherent the way TA-Lib does (an initial or
/// step value above its maximum is lowered to the maximum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SarParams {
    start: f64,
    offset: f64,
    init_long: f64,
    step_long: f64,
    max_long: f64,
    init_short: f64,
    step_short: f64,
    max_short: f64,
    /// SAREXT reports short positions as negative values; SAR does not.
    signed: bool,
}

/// The running SAR. `prev` holds the previous bar's (high, low) once seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SarCore {
    p: SarParams,
    prev: Option<(f64, f64)>,
    started: bool,
    long: bool,
    af_long: f64,
    af_short: f64,
    ep: f64,
    sar: f64,
}

impl SarCore {
    fn new(p: SarParams) -> Self {
        SarCore {
            af_long: p.init_long,
            af_short: p.init_short,
            p,
            prev: None,
            started: false,
            long: true,
            ep: 0.0,
            sar: 0.0,
        }
    }

    #[inline]
    fn next(&mut self, high: f64, low: f64) -> f64 {
        let Some((mut prev_high, mut prev_low)) = self.prev else {
            self.prev = Some((high, low));
            return f64::NAN;
        };
        if !self.started {
            self.started = true;
            // Direction from the 1-period -DM of the first two bars, unless forced.
            self.long = if self.p.start == 0.0 {
                let diff_p = high - prev_high;
                let diff_m = prev_low - low;
                !(diff_m > 0.0 && diff_p < diff_m)
            } else {
                self.p.start > 0.0
            };
            if self.p.start == 0.0 {
                (self.ep, self.sar) = if self.long {
                    (high, prev_low)
                } else {
                    (low, prev_high)
                };
            } else {
                self.ep = if self.long { high } else { low };
                self.sar = self.p.start.abs();
            }
            // TA-Lib's first iteration uses today's bar as "yesterday".
            (prev_high, prev_low) = (high, low);
        }
        self.prev = Some((high, low));
        let p = &self.p;
        let sign = if p.signed { -1.0 } else { 1.0 };
        let out;
        if self.long {
            if low <= self.sar {
                self.long = false;
                self.sar = self.ep.max(prev_high).max(high);
                if p.offset != 0.0 {
                    self.sar += self.sar * p.offset;
                }
                out = sign * self.sar;
                self.af_short = p.init_short;
                self.ep = low;
                self.sar += self.af_short * (self.ep - self.sar);
                self.sar = self.sar.max(prev_high).max(high);
            } else {
                out = self.sar;
                if high > self.ep {
                    self.ep = high;
                    self.af_long += p.step_long;
                    if self.af_long > p.max_long {
                        self.af_long = p.max_long;
                    }
                }
                self.sar += self.af_long * (self.ep - self.sar);
                self.sar = self.sar.min(prev_low).min(low);
            }
        } else if high >= self.sar {
            self.long = true;
            self.sar = self.ep.min(prev_low).min(low);
            if p.offset != 0.0 {
                self.sar -= self.sar * p.offset;
            }
            out = self.sar;
            self.af_long = p.init_long;
            self.ep = high;
            self.sar += self.af_long * (self.ep - self.sar);
            self.sar = self.sar.min(prev_low).min(low);
        } else {
            out = sign * self.sar;
            if low < self.ep {
                self.ep = low;
                self.af_short += p.step_short;
                if self.af_short > p.max_short {
                    self.af_short = p.max_short;
                }
            }
            self.sar += self.af_short * (self.ep - self.sar);
            self.sar = self.sar.max(prev_high).max(high);
        }
        out
    }
}

/// SAR: parabolic stop and reverse. Lookback 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sar {
    core: SarCore,
}

impl Streaming for Sar {
    const SPEC: &'static Spec = &Spec {
        name: "SAR",
        group: Group::Overlap,
        description: "Parabolic SAR",
        inputs: &[Input::High, Input::Low],
        params: &[
            ParamSpec::real("acceleration", 0.02, 0.0, f64::MAX),
            ParamSpec::real("maximum", 0.2, 0.0, f64::MAX),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let max = p.real("maximum")?;
        let acc = p.real("acceleration")?.min(max);
        Ok(Sar {
            core: SarCore::new(SarParams {
                start: 0.0,
                offset: 0.0,
                init_long: acc,
                step_long: acc,
                max_long: max,
                init_short: acc,
                step_short: acc,
                max_short: max,
                signed: false,
            }),
        })
    }

    fn lookback(&self) -> usize {
        1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.core.next(input[0], input[1]);
    }
}

/// SAREXT: parabolic SAR with a forced start, an offset on reversal and separate long
/// and short accelerations; short positions are output as negative values. Lookback 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SarExt {
    core: SarCore,
}

impl Streaming for SarExt {
    const SPEC: &'static Spec = &Spec {
        name: "SAREXT",
        group: Group::Overlap,
        description: "Parabolic SAR - Extended",
        inputs: &[Input::High, Input::Low],
        params: &[
            ParamSpec::real("startvalue", 0.0, -3.0e37, 3.0e37),
            ParamSpec::real("offsetonreverse", 0.0, 0.0, f64::MAX),
            ParamSpec::real("accelerationinitlong", 0.02, 0.0, f64::MAX),
            ParamSpec::real("accelerationlong", 0.02, 0.0, f64::MAX),
            ParamSpec::real("accelerationmaxlong", 0.2, 0.0, f64::MAX),
            ParamSpec::real("accelerationinitshort", 0.02, 0.0, f64::MAX),
            ParamSpec::real("accelerationshort", 0.02, 0.0, f64::MAX),
            ParamSpec::real("accelerationmaxshort", 0.2, 0.0, f64::MAX),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let max_long = p.real("accelerationmaxlong")?;
        let max_short = p.real("accelerationmaxshort")?;
        Ok(SarExt {
            core: SarCore::new(SarParams {
                start: p.real("startvalue")?,
                offset: p.real("offsetonreverse")?,
                init_long: p.real("accelerationinitlong")?.min(max_long),
                step_long: p.real("accelerationlong")?.min(max_long),
                max_long,
                init_short: p.real("accelerationinitshort")?.min(max_short),
                step_short: p.real("accelerationshort")?.min(max_short),
                max_short,
                signed: true,
            }),
        })
    }

    fn lookback(&self) -> usize {
        1
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.core.next(input[0], input[1]);
    }
}
