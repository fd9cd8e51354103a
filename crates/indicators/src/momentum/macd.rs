//! Moving-average oscillators: MACD, MACDEXT, MACDFIX, APO, PPO.
//!
//! In the MACDs TA-Lib computes the faster average from a later start than the slower
//! one (both begin where the slower one's first value falls), which moves where an EMA
//! is seeded; `Delayed` reproduces that. APO and PPO start both at the first bar.

use serde::{Deserialize, Serialize};

use crate::overlap::{AnyMa, Delayed, Ema, MaType, ema_step};
use crate::util::{BLOCK, Decay4, block, is_zero};
use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

/// MACD line, signal and histogram from a fast and a slow average and a signal average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MacdCore {
    fast: Delayed,
    slow: Delayed,
    signal: AnyMa,
    lookback: usize,
}

impl MacdCore {
    fn new(fast: AnyMa, slow: AnyMa, signal: AnyMa) -> Self {
        let largest = fast.lookback().max(slow.lookback());
        let (fl, sl) = (fast.lookback(), slow.lookback());
        MacdCore {
            lookback: largest + signal.lookback(),
            fast: Delayed::new(fast, largest - fl),
            slow: Delayed::new(slow, largest - sl),
            signal,
        }
    }

    #[inline]
    fn next(&mut self, x: f64, out: &mut [f64]) {
        let f = self.fast.next(x);
        let s = self.slow.next(x);
        out[0] = f64::NAN;
        out[1] = f64::NAN;
        out[2] = f64::NAN;
        if f.is_nan() || s.is_nan() {
            return;
        }
        let macd = f - s;
        let signal = self.signal.next(macd);
        if !signal.is_nan() {
            out[0] = macd;
            out[1] = signal;
            out[2] = macd - signal;
        }
    }

    /// The three averages once all are seeded EMAs (the steady state of MACD and
    /// MACDFIX), else `None`.
    #[inline]
    fn seeded_emas(&mut self) -> Option<(&mut Ema, &mut Ema, &mut Ema)> {
        let signal = self.signal.seeded_ema()?;
        Some((self.fast.seeded_ema()?, self.slow.seeded_ema()?, signal))
    }

    /// Batch over one series into the three outputs: `next` until the three EMAs are
    /// seeded, then their recurrences four bars per step ([`Decay4`]; equal to
    /// streaming up to rounding), signal included, in one pass on local copies of the
    /// averages.
    /// Other average types stay on `next` throughout.
    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        let ([input], [o_macd, o_signal, o_hist]) = (inputs, outputs) else {
            return;
        };
        let mut bar = [f64::NAN; 3];
        let mut head = 0;
        for &x in input.iter() {
            if self.seeded_emas().is_some() {
                break;
            }
            self.next(x, &mut bar);
            o_macd.push(bar[0]);
            o_signal.push(bar[1]);
            o_hist.push(bar[2]);
            head += 1;
        }
        let rest = input.get(head..).unwrap_or_default();
        let Some((fast, slow, signal)) = self.seeded_emas() else {
            return;
        };
        let ((kf, mut f), (ks, mut s), (kg, mut g)) =
            (fast.steady(), slow.steady(), signal.steady());
        // The three EMAs four bars per step (`Decay4`: `ema_step`'s recurrence, rounded
        // differently); the signal's inputs are the four MACD values just computed.
        let (df, ds, dg) = (
            Decay4::new(1.0 - kf),
            Decay4::new(1.0 - ks),
            Decay4::new(1.0 - kg),
        );
        let (body, tail) = rest.split_at(rest.len() - rest.len() % 4);
        o_macd.reserve(rest.len());
        o_signal.reserve(rest.len());
        o_hist.reserve(rest.len());
        // A block at a time: scaled inputs, the fast and slow recurrences, the MACD line
        // and its scaled values, the signal's recurrence, the histogram.
        let (mut uf, mut us, mut fs, mut ss) = (block(), block(), block(), block());
        let (mut macd, mut ug, mut gs) = (block(), block(), block());
        let mut hist = [0.0; BLOCK];
        for xs in body.chunks(BLOCK) {
            let (m, q) = (xs.len(), xs.len() / 4);
            for ((uf, us), &x) in uf
                .as_flattened_mut()
                .iter_mut()
                .zip(us.as_flattened_mut())
                .zip(xs)
            {
                (*uf, *us) = (kf * x, ks * x);
            }
            let quads = fs.iter_mut().zip(&mut ss).take(q);
            for ((fo, so), (uf, us)) in quads.zip(uf.iter().zip(&us)) {
                *fo = df.step(f, *uf);
                *so = ds.step(s, *us);
                (f, s) = (fo[3], so[3]);
            }
            let lines = macd
                .as_flattened_mut()
                .iter_mut()
                .zip(ug.as_flattened_mut());
            for ((m, u), (&f, &s)) in lines.zip(fs.as_flattened().iter().zip(ss.as_flattened())) {
                *m = f - s;
                *u = kg * *m;
            }
            g = dg.run(g, &ug, gs.get_mut(..q).unwrap_or_default());
            let diffs = hist
                .iter_mut()
                .zip(macd.as_flattened().iter().zip(gs.as_flattened()));
            for (h, (&m, &g)) in diffs {
                *h = m - g;
            }
            o_macd.extend_from_slice(macd.as_flattened().get(..m).unwrap_or_default());
            o_signal.extend_from_slice(gs.as_flattened().get(..m).unwrap_or_default());
            o_hist.extend_from_slice(hist.get(..m).unwrap_or_default());
        }
        for &x in tail {
            f = ema_step(f, x, kf);
            s = ema_step(s, x, ks);
            let macd = f - s;
            g = ema_step(g, macd, kg);
            o_macd.push(macd);
            o_signal.push(g);
            o_hist.push(macd - g);
        }
        fast.set_value(f);
        slow.set_value(s);
        signal.set_value(g);
    }
}

const MACD_OUT: &[&str] = &["macd", "macdsignal", "macdhist"];

fn ordered(fast: usize, slow: usize) -> (usize, usize) {
    if slow < fast {
        (slow, fast)
    } else {
        (fast, slow)
    }
}

/// MACD: EMA(fast) − EMA(slow), its EMA(signal), and their difference.
/// Lookback `slow − 1 + signal − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Macd {
    core: MacdCore,
}

impl Streaming for Macd {
    const SPEC: &'static Spec = &Spec {
        name: "MACD",
        group: Group::Momentum,
        description: "Moving Average Convergence/Divergence",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("fastperiod", 12, 2, 100_000),
            ParamSpec::int("slowperiod", 26, 2, 100_000),
            ParamSpec::int("signalperiod", 9, 1, 100_000),
        ],
        outputs: MACD_OUT,
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let (fast, slow) = ordered(p.usize("fastperiod")?, p.usize("slowperiod")?);
        Ok(Macd {
            core: MacdCore::new(
                AnyMa::Ema(Ema::unchecked(fast)),
                AnyMa::Ema(Ema::unchecked(slow)),
                AnyMa::Ema(Ema::unchecked(p.usize("signalperiod")?)),
            ),
        })
    }

    fn lookback(&self) -> usize {
        self.core.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        self.core.next(input[0], out);
    }

    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        self.core.batch_into(inputs, outputs);
    }
}

/// MACDFIX: MACD 12/26 with TA-Lib's fixed smoothing factors 0.15 and 0.075.
/// Lookback `25 + signal − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MacdFix {
    core: MacdCore,
}

impl Streaming for MacdFix {
    const SPEC: &'static Spec = &Spec {
        name: "MACDFIX",
        group: Group::Momentum,
        description: "Moving Average Convergence/Divergence Fix 12/26",
        inputs: &[Input::Real],
        params: &[ParamSpec::int("signalperiod", 9, 1, 100_000)],
        outputs: MACD_OUT,
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(MacdFix {
            core: MacdCore::new(
                AnyMa::Ema(Ema::with_k(12, 0.15)),
                AnyMa::Ema(Ema::with_k(26, 0.075)),
                AnyMa::Ema(Ema::unchecked(p.usize("signalperiod")?)),
            ),
        })
    }

    fn lookback(&self) -> usize {
        self.core.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        self.core.next(input[0], out);
    }

    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        self.core.batch_into(inputs, outputs);
    }
}

/// MACDEXT: MACD with a moving-average type for each of the three averages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MacdExt {
    core: MacdCore,
}

impl Streaming for MacdExt {
    const SPEC: &'static Spec = &Spec {
        name: "MACDEXT",
        group: Group::Momentum,
        description: "MACD with controllable MA type",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("fastperiod", 12, 2, 100_000),
            ParamSpec::matype("fastmatype", 0),
            ParamSpec::int("slowperiod", 26, 2, 100_000),
            ParamSpec::matype("slowmatype", 0),
            ParamSpec::int("signalperiod", 9, 1, 100_000),
            ParamSpec::matype("signalmatype", 0),
        ],
        outputs: MACD_OUT,
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let mut fast = (p.usize("fastperiod")?, p.matype("fastmatype")?);
        let mut slow = (p.usize("slowperiod")?, p.matype("slowmatype")?);
        if slow.0 < fast.0 {
            std::mem::swap(&mut fast, &mut slow);
        }
        Ok(MacdExt {
            core: MacdCore::new(
                AnyMa::new(fast.1, fast.0)?,
                AnyMa::new(slow.1, slow.0)?,
                AnyMa::new(p.matype("signalmatype")?, p.usize("signalperiod")?)?,
            ),
        })
    }

    fn lookback(&self) -> usize {
        self.core.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        self.core.next(input[0], out);
    }
}

/// Fast and slow averages of one type, both from the first bar (unlike MACD, TA-Lib's
/// APO/PPO do not delay the fast average).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PriceOsc {
    fast: AnyMa,
    slow: AnyMa,
    lookback: usize,
}

impl PriceOsc {
    fn new(p: &Params) -> Result<Self, Error> {
        let (fast, slow) = ordered(p.usize("fastperiod")?, p.usize("slowperiod")?);
        let kind: MaType = p.matype("matype")?;
        let fast = AnyMa::new(kind, fast)?;
        let slow = AnyMa::new(kind, slow)?;
        Ok(PriceOsc {
            lookback: slow.lookback(),
            fast,
            slow,
        })
    }

    /// (fast, slow), NaN before both are defined.
    #[inline]
    fn next(&mut self, x: f64) -> (f64, f64) {
        (self.fast.next(x), self.slow.next(x))
    }
}

const PO_PARAMS: &[ParamSpec] = &[
    ParamSpec::int("fastperiod", 12, 2, 100_000),
    ParamSpec::int("slowperiod", 26, 2, 100_000),
    ParamSpec::matype("matype", 1),
];

/// APO: fast MA − slow MA (EMA by default, as in TA-Lib 0.6+). Lookback: the slow MA's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Apo {
    po: PriceOsc,
}

impl Streaming for Apo {
    const SPEC: &'static Spec = &Spec {
        name: "APO",
        group: Group::Momentum,
        description: "Absolute Price Oscillator",
        inputs: &[Input::Real],
        params: PO_PARAMS,
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Apo {
            po: PriceOsc::new(p)?,
        })
    }

    fn lookback(&self) -> usize {
        self.po.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let (f, s) = self.po.next(input[0]);
        out[0] = f - s;
    }
}

/// PPO: 100 · (fast MA − slow MA) / slow MA, 0 when the slow MA is 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ppo {
    po: PriceOsc,
}

impl Streaming for Ppo {
    const SPEC: &'static Spec = &Spec {
        name: "PPO",
        group: Group::Momentum,
        description: "Percentage Price Oscillator",
        inputs: &[Input::Real],
        params: PO_PARAMS,
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Ppo {
            po: PriceOsc::new(p)?,
        })
    }

    fn lookback(&self) -> usize {
        self.po.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let (f, s) = self.po.next(input[0]);
        out[0] = if f.is_nan() || s.is_nan() {
            f64::NAN
        } else if is_zero(s) {
            0.0
        } else {
            ((f - s) / s) * 100.0
        };
    }
}
