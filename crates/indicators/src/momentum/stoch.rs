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
            Some((highest, lowest)) => fast_k(highest, lowest, close),
            None => f64::NAN,
        }
    }
}

/// Fast %K of a close against its window's extremes, in TA-Lib's operations.
#[inline(always)]
fn fast_k(highest: f64, lowest: f64, close: f64) -> f64 {
    let diff = (highest - lowest) / 100.0;
    if diff != 0.0 {
        (close - lowest) / diff
    } else {
        0.0
    }
}

/// The steady state of a STOCH batch over three slices from bar `from` on (the window
/// of every bar lies in the slices: `from ≥ period − 1`): the window extremes, %K, then
/// the two averages (`slowk`, `slowd`: the same `next` calls as `update`, monomorphised
/// for the SMA). The caller's rings are caught up at the end.
///
/// The extremes: `update` keeps TA-Lib's trackers ([`Extreme`]: the index of the
/// extreme, a rescan of the window when it falls out), whose branches a random walk
/// mispredicts often. Only their *values* reach %K, and the value of a window's maximum
/// does not depend on which of equal values is remembered (equal doubles are the same
/// number; only +0 and −0 compare equal with different bits, and prices are not −0). So
/// for short windows (up to [`SCAN`] bars) the batch takes the extremes by a plain,
/// branch-free scan of the window, then leaves the trackers exactly as `update` would by
/// replaying them over the last `period + 1` bars from a forgotten state: a replay that
/// starts with a rescan at bar `s` holds the same index as the uninterrupted tracker by
/// bar `s + period` at the latest. (Both hold an index of the window's maximum, the
/// replay's never newer; a new bar that takes over sets both to it; when the replay's
/// index falls out it rescans to the oldest maximum, still no newer than the other's;
/// when the other's falls out, the replay's has too, and both rescan the same window.
/// The other's index at `s` falls out by `s + period`.) Longer windows run the trackers
/// on every bar, reading the window from the slices.
#[inline(always)]
fn stoch_steady(
    window: &mut HighLow,
    [high, low, close]: [&[f64]; 3],
    from: usize,
    mut slowk: impl FnMut(f64) -> f64,
    mut slowd: impl FnMut(f64) -> f64,
    o_k: &mut Vec<f64>,
    o_d: &mut Vec<f64>,
) {
    let w = window.highs.capacity();
    let n = close.len().min(high.len()).min(low.len());
    let today = window.today;
    let scan = w <= SCAN && n >= from + 2 * w;
    // Local copies of the trackers, so their state stays in registers.
    let (mut hi, mut lo) = (window.hi.clone(), window.lo.clone());
    for (i, &c) in close.iter().enumerate().take(n).skip(from) {
        let (highest, lowest) = if scan {
            let first = i + 1 - w;
            let (hs, ls) = (high.get(first..=i), low.get(first..=i));
            (
                extreme::<true>(hs.unwrap_or_default()),
                extreme::<false>(ls.unwrap_or_default()),
            )
        } else {
            let t = today + (i - from);
            let get = |s: &[f64], back: usize| s.get(i.wrapping_sub(back)).copied().unwrap_or(0.0);
            let (lowest, _) = lo.update_with(w, t, |back| get(low, back));
            let (highest, _) = hi.update_with(w, t, |back| get(high, back));
            (highest, lowest)
        };
        let (mut k, mut d) = (f64::NAN, f64::NAN);
        let sk = slowk(fast_k(highest, lowest, c));
        if !sk.is_nan() {
            let sd = slowd(sk);
            if !sd.is_nan() {
                (k, d) = (sk, sd);
            }
        }
        o_k.push(k);
        o_d.push(d);
    }
    if scan {
        // The replay over the last `w + 1` bars (n ≥ from + 2w, so their windows lie in
        // the slices).
        hi.forget();
        lo.forget();
        for i in n - w - 1..n {
            let t = today + (i - from);
            let get = |s: &[f64], back: usize| s.get(i.wrapping_sub(back)).copied().unwrap_or(0.0);
            lo.update_with(w, t, |back| get(low, back));
            hi.update_with(w, t, |back| get(high, back));
        }
    }
    (window.today, window.hi, window.lo) = (today + n.saturating_sub(from), hi, lo);
    let (highs, lows) = (high.get(from..n), low.get(from..n));
    window.highs.push_all(highs.unwrap_or_default());
    window.lows.push_all(lows.unwrap_or_default());
}

/// The longest window whose extremes a STOCH batch takes by scanning it.
const SCAN: usize = 16;

/// The maximum (`MAX`) or minimum of a window, scanned from the oldest value with `>`
/// (`<`), as `Extreme`'s rescan does; branch-free (`maxsd`/`minsd`).
#[inline(always)]
fn extreme<const MAX: bool>(window: &[f64]) -> f64 {
    let (&first, rest) = window.split_first().unwrap_or((&0.0, &[]));
    rest.iter().fold(first, |best, &v| {
        let better = if MAX { v > best } else { v < best };
        if better { v } else { best }
    })
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

    /// `update` for the first `fastk_period` bars, then `stoch_steady` with the
    /// window read from the slices (bit for bit `update`'s values and state).
    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        let ([high, low, close], [o_k, o_d]) = (inputs, outputs) else {
            return;
        };
        let n = close.len().min(high.len()).min(low.len());
        let head = n.min(self.fastk.window.highs.capacity());
        let mut out = [f64::NAN; 2];
        for ((&h, &l), &c) in high.iter().zip(*low).zip(*close).take(head) {
            self.update(&[h, l, c], &mut out);
            o_k.push(out[0]);
            o_d.push(out[1]);
        }
        if head == n {
            return;
        }
        o_k.reserve(n - head);
        o_d.reserve(n - head);
        let slices = [*high, *low, *close];
        let window = &mut self.fastk.window;
        match (&mut self.slowk, &mut self.slowd) {
            (AnyMa::Sma(k), AnyMa::Sma(d)) => {
                let (ik, id) = (1.0 / k.period as f64, 1.0 / d.period as f64);
                let (k, d) = (|x| k.next_with(x, ik), |x| d.next_with(x, id));
                stoch_steady(window, slices, head, k, d, o_k, o_d);
            }
            (k, d) => stoch_steady(window, slices, head, |x| k.next(x), |x| d.next(x), o_k, o_d),
        }
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
