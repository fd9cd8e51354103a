//! The moving averages and TA-Lib's MAType switch over them.

use serde::{Deserialize, Serialize};

use crate::cycle::Mama;
use crate::util::{BLOCK, Decay4, Ring, block, is_zero};
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
    /// 7: MESA adaptive (MAMA with fastlimit 0.5, slowlimit 0.05; the period is
    /// ignored).
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
/// period 1 is the identity whatever the type, and MAMA ignores any other period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AnyMa {
    /// Period 1: the input itself.
    Identity,
    /// Simple.
    Sma(Sma),
    /// Exponential.
    Ema(Ema),
    /// Weighted.
    Wma(Wma),
    /// Double exponential.
    Dema(Dema),
    /// Triple exponential.
    Tema(Tema),
    /// Triangular.
    Trima(Trima),
    /// Kaufman adaptive.
    Kama(Kama),
    /// MESA adaptive (its MAMA output), fastlimit 0.5, slowlimit 0.05.
    Mama(Box<Mama>),
    /// Tillson T3, volume factor 0.7.
    T3(T3),
}

impl AnyMa {
    /// A moving average of `kind` over `period` bars (period >= 1; not range-checked:
    /// callers check their own parameters). Every type is available; the `Result` is
    /// kept for types that may need checks of their own.
    pub fn new(kind: MaType, period: usize) -> Result<Self, Error> {
        if period <= 1 {
            return Ok(AnyMa::Identity);
        }
        Ok(match kind {
            MaType::Sma => AnyMa::Sma(Sma::unchecked(period)),
            MaType::Ema => AnyMa::Ema(Ema::unchecked(period)),
            MaType::Wma => AnyMa::Wma(Wma::unchecked(period)),
            MaType::Dema => AnyMa::Dema(Dema::unchecked(period)),
            MaType::Tema => AnyMa::Tema(Tema::unchecked(period)),
            MaType::Trima => AnyMa::Trima(Trima::unchecked(period)),
            MaType::Kama => AnyMa::Kama(Kama::unchecked(period)),
            MaType::T3 => AnyMa::T3(T3::unchecked(period, 0.7)),
            MaType::Mama => AnyMa::Mama(Box::new(Mama::unchecked(0.5, 0.05))),
        })
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        match self {
            AnyMa::Identity => 0,
            AnyMa::Sma(m) => m.lookback(),
            AnyMa::Ema(m) => m.lookback(),
            AnyMa::Wma(m) => m.lookback(),
            AnyMa::Dema(m) => m.lookback(),
            AnyMa::Tema(m) => m.lookback(),
            AnyMa::Trima(m) => m.lookback(),
            AnyMa::Kama(m) => m.lookback(),
            AnyMa::Mama(m) => m.lookback(),
            AnyMa::T3(m) => m.lookback(),
        }
    }

    /// The EMA, once seeded (a batch loop's steady state); `None` for other types.
    #[inline]
    pub(crate) fn seeded_ema(&mut self) -> Option<&mut Ema> {
        if let AnyMa::Ema(e) = self {
            return e.seeded().then_some(e);
        }
        None
    }

    /// Consumes one value; NaN until `lookback` values were consumed.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        match self {
            AnyMa::Identity => x,
            AnyMa::Sma(m) => m.next(x),
            AnyMa::Ema(m) => m.next(x),
            AnyMa::Wma(m) => m.next(x),
            AnyMa::Dema(m) => m.next(x),
            AnyMa::Tema(m) => m.next(x),
            AnyMa::Trima(m) => m.next(x),
            AnyMa::Kama(m) => m.next(x),
            AnyMa::Mama(m) => m.next(x).0,
            AnyMa::T3(m) => m.next(x),
        }
    }
}

/// A moving average that ignores its first `skip` inputs. TA-Lib computes the inner
/// averages of MACD, APO/PPO and MAVP from a later start index than the outer
/// function's first bar, which changes where EMA-style averages are seeded. (MAMA's
/// odd/even bars follow the array index in TA-Lib, but which parity comes first does
/// not change its numbers: see `cycle/hilbert.rs`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Delayed {
    skip: usize,
    ma: AnyMa,
}

impl Delayed {
    pub(crate) fn new(ma: AnyMa, skip: usize) -> Self {
        Delayed { skip, ma }
    }

    /// The inner average when it is a seeded EMA past the skip (a batch loop's steady
    /// state), else `None`.
    #[inline]
    pub(crate) fn seeded_ema(&mut self) -> Option<&mut Ema> {
        if self.skip > 0 {
            return None;
        }
        self.ma.seeded_ema()
    }

    #[inline]
    pub(crate) fn next(&mut self, x: f64) -> f64 {
        if self.skip > 0 {
            self.skip -= 1;
            return f64::NAN;
        }
        self.ma.next(x)
    }
}

const fn period_spec(default: i64) -> [ParamSpec; 1] {
    [ParamSpec::int("timeperiod", default, 2, 100_000)]
}

/// SMA: simple moving average. Lookback `period - 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    pub(crate) period: usize,
    pub(super) window: Ring,
    pub(super) sum: f64,
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
        self.next_with(x, 1.0 / self.period as f64)
    }

    /// [`Sma::next`] with `inv` = 1 / period computed by the caller (a batch loop hoists
    /// the division out).
    #[inline(always)]
    pub(crate) fn next_with(&mut self, x: f64, inv: f64) -> f64 {
        self.window.push(x);
        if self.window.is_full() {
            sma_step(&mut self.sum, x, self.window.oldest(), inv)
        } else {
            self.sum += x;
            f64::NAN
        }
    }

    /// Batch over one series, appending to `out`: `next` until the window is full of
    /// this series, then [`sma_step`] with the trailing value read from the slice.
    fn batch_series(&mut self, input: &[f64], out: &mut Vec<f64>) {
        let head = input.len().min(self.period);
        let (first, rest) = input.split_at(head);
        out.extend(first.iter().map(|&x| self.next(x)));
        if rest.is_empty() {
            return;
        }
        // Bar i's trailing value (the oldest after pushing it) is input[i + 1 - period].
        let (mut sum, inv) = (self.sum, 1.0 / self.period as f64);
        let trailing = input.get(1..).unwrap_or_default();
        out.extend(
            rest.iter()
                .zip(trailing)
                .map(|(&x, &old)| sma_step(&mut sum, x, old, inv)),
        );
        self.sum = sum;
        self.window.push_all(rest);
    }
}

/// One SMA bar on a full window: the new value `x` joins the running sum of the other
/// `period − 1` values, the mean is taken (`inv` = 1 / period), then the trailing value
/// `old` (the oldest of the window that includes `x`) leaves.
///
/// TA-Lib adds `x`, divides by the period, then subtracts `old`: two adds on the
/// dependency chain from bar to bar, and a division whose throughput (one per ~4 cycles)
/// bounds a batch loop as much as the chain. Here the sum moves by `x − old` in one add
/// (the difference is computed off the chain), and the mean is a multiply by the
/// reciprocal: the same numbers up to rounding (≤ 1 ulp for the product, ~1e-16 relative
/// per bar for the sum), about twice as fast in batch.
#[inline(always)]
pub(crate) fn sma_step(sum: &mut f64, x: f64, old: f64, inv: f64) -> f64 {
    let total = *sum + x;
    *sum += x - old;
    total * inv
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

    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        if let ([input], [out]) = (inputs, outputs) {
            self.batch_series(input, out);
        }
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
            self.value = ema_step(self.value, x, self.k);
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

    /// Whether the seed is done, so each value is one [`ema_step`].
    #[inline]
    pub(crate) fn seeded(&self) -> bool {
        self.seen >= self.period
    }

    /// The smoothing factor and the current average (meaningful once [`Ema::seeded`]),
    /// for a batch loop that keeps them in registers.
    #[inline]
    pub(crate) fn steady(&self) -> (f64, f64) {
        (self.k, self.value)
    }

    /// Stores the average a batch loop computed with [`ema_step`].
    #[inline]
    pub(crate) fn set_value(&mut self, value: f64) {
        self.value = value;
    }

    /// Batch over one series, appending to `out`: `next` through the seed, then the
    /// recurrence `value = (1 − k) · value + k · x` four bars per step ([`Decay4`]: the
    /// same values as [`ema_step`] up to rounding, a quarter of its latency per bar), a
    /// block of [`BLOCK`] bars at a time (`k · x` for the block, then the recurrence).
    fn batch_series(&mut self, input: &[f64], out: &mut Vec<f64>) {
        let head = input.len().min(self.period.saturating_sub(self.seen));
        let (first, rest) = input.split_at(head);
        out.extend(first.iter().map(|&x| self.next(x)));
        if rest.is_empty() {
            return;
        }
        let (k, mut value) = self.steady();
        let decay = Decay4::new(1.0 - k);
        let (body, tail) = rest.split_at(rest.len() - rest.len() % 4);
        let (mut u, mut y) = (block(), block());
        out.reserve(rest.len());
        for xs in body.chunks(BLOCK) {
            for (u, &x) in u.as_flattened_mut().iter_mut().zip(xs) {
                *u = k * x;
            }
            let (u, y) = (&u, y.get_mut(..xs.len() / 4).unwrap_or_default());
            value = decay.run(value, u, y);
            out.extend_from_slice(y.as_flattened());
        }
        for &x in tail {
            value = ema_step(value, x, k);
            out.push(value);
        }
        self.value = value;
    }
}

/// One seeded EMA bar, TA-Lib's `(x − prev) · k + prev`.
#[inline(always)]
pub(crate) fn ema_step(prev: f64, x: f64, k: f64) -> f64 {
    (x - prev) * k + prev
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

    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        if let ([input], [out]) = (inputs, outputs) {
            self.batch_series(input, out);
        }
    }
}

macro_rules! single_input_streaming {
    ($ty:ident, $name:literal, $desc:literal, $params:expr, $build:expr) => {
        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::Overlap,
                description: $desc,
                inputs: &[Input::Real],
                params: $params,
                outputs: &["real"],
            };

            fn from_params(p: &Params) -> Result<Self, Error> {
                $build(p)
            }

            fn lookback(&self) -> usize {
                $ty::lookback(self)
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                out[0] = self.next(input[0]);
            }
        }
    };
}

/// WMA: linearly weighted moving average (weights 1..=period, newest heaviest).
/// Lookback `period - 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wma {
    period: usize,
    window: Ring,
    seen: usize,
    /// Plain sum of the window (TA-Lib's `periodSub`).
    sub: f64,
    /// Weighted sum (TA-Lib's `periodSum`).
    sum: f64,
    trailing: f64,
}

impl Wma {
    pub(crate) fn unchecked(period: usize) -> Self {
        Wma {
            period,
            window: Ring::new(period),
            seen: 0,
            sub: 0.0,
            sum: 0.0,
            trailing: 0.0,
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        self.window.push(x);
        if self.seen + 1 < self.period {
            self.seen += 1;
            self.sub += x;
            self.sum += x * self.seen as f64;
            return f64::NAN;
        }
        self.sub += x;
        self.sub -= self.trailing;
        self.sum += x * self.period as f64;
        self.trailing = self.window.oldest();
        let divider = (self.period * (self.period + 1)) >> 1;
        let out = self.sum / divider as f64;
        self.sum -= self.sub;
        out
    }
}

single_input_streaming!(
    Wma,
    "WMA",
    "Weighted Moving Average",
    &period_spec(30),
    |p: &Params| { Ok(Wma::unchecked(p.usize("timeperiod")?)) }
);

/// DEMA: 2 · EMA − EMA(EMA). Lookback `2 · (period - 1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dema {
    e1: Ema,
    e2: Ema,
}

impl Dema {
    pub(crate) fn unchecked(period: usize) -> Self {
        Dema {
            e1: Ema::unchecked(period),
            e2: Ema::unchecked(period),
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        2 * self.e1.lookback()
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.e1.next(x);
        if a.is_nan() {
            return f64::NAN;
        }
        let b = self.e2.next(a);
        (2.0 * a) - b
    }
}

single_input_streaming!(
    Dema,
    "DEMA",
    "Double Exponential Moving Average",
    &period_spec(30),
    |p: &Params| { Ok(Dema::unchecked(p.usize("timeperiod")?)) }
);

/// TEMA: 3 · EMA − 3 · EMA(EMA) + EMA(EMA(EMA)). Lookback `3 · (period - 1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tema {
    e1: Ema,
    e2: Ema,
    e3: Ema,
}

impl Tema {
    pub(crate) fn unchecked(period: usize) -> Self {
        Tema {
            e1: Ema::unchecked(period),
            e2: Ema::unchecked(period),
            e3: Ema::unchecked(period),
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        3 * self.e1.lookback()
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.e1.next(x);
        if a.is_nan() {
            return f64::NAN;
        }
        let b = self.e2.next(a);
        if b.is_nan() {
            return f64::NAN;
        }
        let c = self.e3.next(b);
        c + ((3.0 * a) - (3.0 * b))
    }
}

single_input_streaming!(
    Tema,
    "TEMA",
    "Triple Exponential Moving Average",
    &period_spec(30),
    |p: &Params| { Ok(Tema::unchecked(p.usize("timeperiod")?)) }
);

/// TRIMA: triangular moving average, the SMA of an SMA (periods ⌈n/2⌉ and ⌊n/2⌋+1).
/// Lookback `period - 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trima {
    period: usize,
    a: Sma,
    b: Sma,
}

impl Trima {
    pub(crate) fn unchecked(period: usize) -> Self {
        let (pa, pb) = if period % 2 == 1 {
            (period.div_ceil(2), period.div_ceil(2))
        } else {
            (period / 2, period / 2 + 1)
        };
        Trima {
            period,
            a: Sma::unchecked(pa),
            b: Sma::unchecked(pb),
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let a = self.a.next(x);
        if a.is_nan() {
            return f64::NAN;
        }
        self.b.next(a)
    }
}

single_input_streaming!(
    Trima,
    "TRIMA",
    "Triangular Moving Average",
    &period_spec(30),
    |p: &Params| { Ok(Trima::unchecked(p.usize("timeperiod")?)) }
);

/// KAMA: Kaufman adaptive moving average (fast 2, slow 30), starting from the previous
/// bar's price. Lookback `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kama {
    period: usize,
    /// The last `period + 1` inputs.
    window: Ring,
    seen: usize,
    sum_roc1: f64,
    trailing: f64,
    value: f64,
}

impl Kama {
    pub(crate) fn unchecked(period: usize) -> Self {
        Kama {
            period,
            window: Ring::new(period + 1),
            seen: 0,
            sum_roc1: 0.0,
            trailing: 0.0,
            value: 0.0,
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        self.period
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        const CONST_MAX: f64 = 2.0 / (30.0 + 1.0);
        const CONST_DIFF: f64 = 2.0 / (2.0 + 1.0) - CONST_MAX;
        let prev = self.window.get(0);
        self.window.push(x);
        if self.seen < self.period {
            if self.seen > 0 {
                self.sum_roc1 += (prev - x).abs();
            }
            self.seen += 1;
            return f64::NAN;
        }
        let trailing_new = self.window.oldest();
        if self.seen == self.period {
            self.sum_roc1 += (prev - x).abs();
            self.value = prev;
            self.seen += 1;
        } else {
            self.sum_roc1 -= (self.trailing - trailing_new).abs();
            self.sum_roc1 += (x - prev).abs();
        }
        let period_roc = x - trailing_new;
        self.trailing = trailing_new;
        let er = if self.sum_roc1 <= period_roc || is_zero(self.sum_roc1) {
            1.0
        } else {
            (period_roc / self.sum_roc1).abs()
        };
        let mut sc = (er * CONST_DIFF) + CONST_MAX;
        sc *= sc;
        self.value = ((x - self.value) * sc) + self.value;
        self.value
    }
}

single_input_streaming!(
    Kama,
    "KAMA",
    "Kaufman Adaptive Moving Average",
    &period_spec(30),
    |p: &Params| { Ok(Kama::unchecked(p.usize("timeperiod")?)) }
);

/// One stage of T3's chain: seeded with the mean of its first `period` inputs, then
/// `k · x + (1 − k) · e` (TA-Lib's form for T3, not EMA's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct T3Stage {
    seen: usize,
    value: f64,
}

/// T3: Tillson's generalized DEMA applied three times (six chained EMAs), volume factor
/// `vfactor`. Lookback `6 · (period - 1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T3 {
    period: usize,
    k: f64,
    one_minus_k: f64,
    c: [f64; 4],
    stages: [T3Stage; 6],
}

impl T3 {
    pub(crate) fn unchecked(period: usize, v: f64) -> Self {
        let k = 2.0 / (period as f64 + 1.0);
        let t = v * v;
        let c1 = 0.0 - t * v;
        let c2 = 3.0 * (t - c1);
        let c3 = (0.0 - 6.0) * t - 3.0 * (v - c1);
        let c4 = 1.0 + 3.0 * v - c1 + 3.0 * t;
        let stage = T3Stage {
            seen: 0,
            value: 0.0,
        };
        T3 {
            period,
            k,
            one_minus_k: 1.0 - k,
            c: [c1, c2, c3, c4],
            stages: [
                stage.clone(),
                stage.clone(),
                stage.clone(),
                stage.clone(),
                stage.clone(),
                stage,
            ],
        }
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        6 * (self.period - 1)
    }

    /// Consumes one value.
    #[inline]
    pub fn next(&mut self, x: f64) -> f64 {
        let n = self.period;
        let mut v = x;
        for s in &mut self.stages {
            if s.seen >= n {
                s.value = self.k * v + self.one_minus_k * s.value;
                v = s.value;
                continue;
            }
            s.value = if s.seen == 0 { v } else { s.value + v };
            s.seen += 1;
            if s.seen < n {
                return f64::NAN;
            }
            s.value /= n as f64;
            v = s.value;
        }
        let [c1, c2, c3, c4] = self.c;
        let [_, _, e3, e4, e5, e6] = &self.stages;
        c1 * e6.value + c2 * e5.value + c3 * e4.value + c4 * e3.value
    }
}

impl Streaming for T3 {
    const SPEC: &'static Spec = &Spec {
        name: "T3",
        group: Group::Overlap,
        description: "Triple Exponential Moving Average (T3)",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("timeperiod", 5, 1, 100_000),
            ParamSpec::real("vfactor", 0.7, 0.0, 1.0),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(T3::unchecked(p.usize("timeperiod")?, p.real("vfactor")?))
    }

    fn lookback(&self) -> usize {
        T3::lookback(self)
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = if self.period <= 1 {
            input[0]
        } else {
            self.next(input[0])
        };
    }
}

/// MA: TA-Lib's moving average of any [`MaType`]; period 1 returns the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ma {
    ma: AnyMa,
}

impl Streaming for Ma {
    const SPEC: &'static Spec = &Spec {
        name: "MA",
        group: Group::Overlap,
        description: "Moving average",
        inputs: &[Input::Real],
        params: &[
            ParamSpec::int("timeperiod", 30, 1, 100_000),
            ParamSpec::matype("matype", 0),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(Ma {
            ma: AnyMa::new(p.matype("matype")?, p.usize("timeperiod")?)?,
        })
    }

    fn lookback(&self) -> usize {
        self.ma.lookback()
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.ma.next(input[0]);
    }
}

/// MAVP: moving average with a per-bar period (second input, clamped to
/// `minperiod..=maxperiod`). Keeps one average per possible period, each started where
/// TA-Lib starts it, so an update costs O(maxperiod − minperiod). Lookback: that of the
/// `maxperiod` average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mavp {
    min: usize,
    lookback: usize,
    mas: Vec<Delayed>,
}

impl Streaming for Mavp {
    const SPEC: &'static Spec = &Spec {
        name: "MAVP",
        group: Group::Overlap,
        description: "Moving average with variable period",
        inputs: &[Input::Real, Input::Periods],
        params: &[
            ParamSpec::int("minperiod", 2, 2, 100_000),
            ParamSpec::int("maxperiod", 30, 2, 100_000),
            ParamSpec::matype("matype", 0),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let (min, max) = (p.usize("minperiod")?, p.usize("maxperiod")?);
        if min > max {
            return Err(Error::ParamConflict {
                function: "MAVP",
                reason: "minperiod must not exceed maxperiod",
            });
        }
        let kind = p.matype("matype")?;
        let lookback = AnyMa::new(kind, max)?.lookback();
        let mut mas = Vec::with_capacity(max - min + 1);
        for period in min..=max {
            let ma = AnyMa::new(kind, period)?;
            let skip = lookback - ma.lookback();
            mas.push(Delayed::new(ma, skip));
        }
        Ok(Mavp { min, lookback, mas })
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let x = input[0];
        // TA-Lib truncates the period to an integer, then clamps it.
        let max = self.min + self.mas.len() - 1;
        let wanted = input[1] as i64;
        let period = (wanted.max(self.min as i64) as usize).min(max);
        let mut result = f64::NAN;
        for (i, ma) in self.mas.iter_mut().enumerate() {
            let v = ma.next(x);
            if i + self.min == period {
                result = v;
            }
        }
        out[0] = result;
    }
}
