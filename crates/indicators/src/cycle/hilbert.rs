//! The machinery every Hilbert-transform function shares, as TA-Lib's C code runs it
//! (`ta_HT_*.c`, `ta_MAMA.c`, the `HILBERT_*` macros of `ta_utility.h`), one bar at a
//! time:
//!
//! 1. a 4-bar WMA price smoother seeded like TA-Lib (`periodWMASum`/`periodWMASub`,
//!    the trailing value starting at 0 and lagging three bars);
//! 2. Ehlers' Hilbert transform on alternating odd/even ring buffers (`hilbertIdx`
//!    advances on even bars only), giving the detrender, the in-phase (`I1`, the
//!    detrender three bars back) and quadrature (`Q1`) components;
//! 3. the homodyne discriminator that smooths the dominant cycle period.
//!
//! The `mul_add`s are where the golden data's TA-Lib build fuses a multiply-add (one
//! rounding); with them every HT_* function and MAMA matches it bit for bit.
//!
//! TA-Lib picks the odd or even rings by the bar's index in its input array. Which
//! parity comes first does not change the numbers: each ring is a pure delay (a slot is
//! read back three same-parity bars, i.e. six bars, after it was written, whatever
//! `hilbertIdx` is), so the transform is `x[t]`, `x[t-2]`, `x[t-4]`, `x[t-6]` either way
//! and an inner MAMA started at an odd index (MACDEXT) needs no offset. We count parity
//! from our first bar.

use serde::{Deserialize, Serialize};

use crate::util::Ring;

const A: f64 = 0.0962;
const B: f64 = 0.5769;

/// Capacity of TA-Lib's `smoothPrice` ring in the DC-phase functions.
pub(crate) const SMOOTH_PRICE_SIZE: usize = 50;

/// TA-Lib's `rad2Deg`, `180 / (4 · atan(1))` (equal to `45 / atan(1)` bit for bit).
#[inline]
pub(crate) fn rad2deg() -> f64 {
    45.0 / 1.0_f64.atan()
}

/// TA-Lib's 4-bar weighted moving average of the price (weights 1, 2, 3, 4 over 10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PriceWma {
    seen: usize,
    sub: f64,
    sum: f64,
    trailing: f64,
    /// The last three inputs, oldest first.
    last: [f64; 3],
}

impl PriceWma {
    fn new() -> Self {
        PriceWma {
            seen: 0,
            sub: 0.0,
            sum: 0.0,
            trailing: 0.0,
            last: [0.0; 3],
        }
    }

    /// Consumes one price; the smoothed value from the fourth price on.
    #[inline]
    fn next(&mut self, x: f64) -> Option<f64> {
        let out = match self.seen {
            0 => {
                self.sub = x;
                self.sum = x;
                None
            }
            1 => {
                self.sub += x;
                self.sum += x * 2.0;
                None
            }
            2 => {
                self.sub += x;
                self.sum += x * 3.0;
                None
            }
            _ => {
                // DO_PRICE_WMA: the trailing value lags the new price by four bars (0.0
                // at first), then becomes the price three bars back.
                self.sub += x;
                self.sub -= self.trailing;
                self.sum += x * 4.0;
                self.trailing = self.last[0];
                let smoothed = self.sum * 0.1;
                self.sum -= self.sub;
                Some(smoothed)
            }
        };
        self.seen = self.seen.saturating_add(1);
        self.last = [self.last[1], self.last[2], x];
        out
    }
}

/// One Hilbert FIR (`DO_HILBERT_TRANSFORM`): separate three-slot rings and one-bar
/// memories for odd and even bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stage {
    ring: [[f64; 3]; 2],
    prev: [f64; 2],
    prev_input: [f64; 2],
}

impl Stage {
    fn new() -> Self {
        Stage {
            ring: [[0.0; 3]; 2],
            prev: [0.0; 2],
            prev_input: [0.0; 2],
        }
    }

    /// `parity` 0 = even bar, 1 = odd bar; `idx` is `hilbertIdx` (0..3).
    #[inline]
    fn step(&mut self, input: f64, parity: usize, idx: usize, adjusted_prev_period: f64) -> f64 {
        let p = parity & 1;
        let idx = idx % 3;
        let temp = A * input;
        let mut v = -self.ring[p][idx];
        self.ring[p][idx] = temp;
        v += temp;
        v -= self.prev[p];
        self.prev[p] = B * self.prev_input[p];
        v += self.prev[p];
        self.prev_input[p] = input;
        v * adjusted_prev_period
    }
}

/// What one bar of the transform yields (from the first bar of TA-Lib's main loop on).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HtBar {
    /// The 4-bar WMA of the price.
    pub(crate) smoothed: f64,
    /// In-phase component: the detrender three bars back (`I1ForEvenPrev3` or
    /// `I1ForOddPrev3`).
    pub(crate) i1: f64,
    /// Quadrature component `Q1`.
    pub(crate) q1: f64,
    /// The smoothed dominant cycle period (`smoothPeriod`) after this bar.
    pub(crate) smooth_period: f64,
}

/// Steps 1 to 3 above: price smoother, Hilbert transform, period discriminator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Hilbert {
    /// Price-WMA bars before the main loop starts (TA-Lib: 3 + 9 or 3 + 34).
    warmup: usize,
    /// Whether the next bar is odd (it picks the odd or even rings).
    odd: bool,
    /// Bars consumed so far.
    seen: usize,
    wma: PriceWma,
    hilbert_idx: usize,
    detrender: Stage,
    q1: Stage,
    ji: Stage,
    jq: Stage,
    period: f64,
    smooth_period: f64,
    prev_i2: f64,
    prev_q2: f64,
    re: f64,
    im: f64,
    i1_for_odd_prev2: f64,
    i1_for_odd_prev3: f64,
    i1_for_even_prev2: f64,
    i1_for_even_prev3: f64,
    rad2deg: f64,
}

impl Hilbert {
    /// A fresh transform whose main loop starts after `warmup` price-WMA bars (12 for the
    /// lookback-32 functions, 37 for the lookback-63 ones).
    pub(crate) fn new(warmup: usize) -> Self {
        Hilbert {
            warmup,
            odd: false,
            seen: 0,
            wma: PriceWma::new(),
            hilbert_idx: 0,
            detrender: Stage::new(),
            q1: Stage::new(),
            ji: Stage::new(),
            jq: Stage::new(),
            period: 0.0,
            smooth_period: 0.0,
            prev_i2: 0.0,
            prev_q2: 0.0,
            re: 0.0,
            im: 0.0,
            i1_for_odd_prev2: 0.0,
            i1_for_odd_prev3: 0.0,
            i1_for_even_prev2: 0.0,
            i1_for_even_prev3: 0.0,
            rad2deg: rad2deg(),
        }
    }

    /// Bars consumed so far.
    #[inline]
    pub(crate) fn seen(&self) -> usize {
        self.seen
    }

    /// Consumes one price; `None` during the warm-up.
    #[inline]
    pub(crate) fn next(&mut self, price: f64) -> Option<HtBar> {
        let parity = usize::from(self.odd);
        self.odd = !self.odd;
        self.seen = self.seen.saturating_add(1);
        let smoothed = self.wma.next(price)?;
        if self.seen <= self.warmup {
            return None;
        }
        let adjusted_prev_period = self.period.mul_add(0.075, 0.54);
        let idx = self.hilbert_idx;
        let detrender = self
            .detrender
            .step(smoothed, parity, idx, adjusted_prev_period);
        let q1 = self.q1.step(detrender, parity, idx, adjusted_prev_period);
        let i1 = if parity == 0 {
            self.i1_for_even_prev3
        } else {
            self.i1_for_odd_prev3
        };
        let ji = self.ji.step(i1, parity, idx, adjusted_prev_period);
        let jq = self.jq.step(q1, parity, idx, adjusted_prev_period);
        if parity == 0 {
            self.hilbert_idx += 1;
            if self.hilbert_idx == 3 {
                self.hilbert_idx = 0;
            }
        }
        let q2 = (q1 + ji).mul_add(0.2, 0.8 * self.prev_q2);
        let i2 = (i1 - jq).mul_add(0.2, 0.8 * self.prev_i2);
        if parity == 0 {
            self.i1_for_odd_prev3 = self.i1_for_odd_prev2;
            self.i1_for_odd_prev2 = detrender;
        } else {
            self.i1_for_even_prev3 = self.i1_for_even_prev2;
            self.i1_for_even_prev2 = detrender;
        }

        // Homodyne discriminator: the period for the next bar.
        let re = 0.2 * i2.mul_add(self.prev_i2, q2 * self.prev_q2);
        self.re = self.re.mul_add(0.8, re);
        let im = 0.2 * ((i2 * self.prev_q2) - (q2 * self.prev_i2));
        self.im = self.im.mul_add(0.8, im);
        self.prev_q2 = q2;
        self.prev_i2 = i2;
        let prev = self.period;
        let mut period = prev;
        if self.im != 0.0 && self.re != 0.0 {
            period = 360.0 / ((self.im / self.re).atan() * self.rad2deg);
        }
        let upper = 1.5 * prev;
        if period > upper {
            period = upper;
        }
        let lower = 0.67 * prev;
        if period < lower {
            period = lower;
        }
        period = period.clamp(6.0, 50.0);
        // The clamps above keep it finite even if atan underflowed to 0.
        self.period = period.mul_add(0.2, 0.8 * prev);
        self.smooth_period = self.smooth_period.mul_add(0.67, 0.33 * self.period);

        Some(HtBar {
            smoothed,
            i1,
            q1,
            smooth_period: self.smooth_period,
        })
    }
}

/// The dominant cycle phase of TA-Lib's HT_DCPHASE, HT_SINE and HT_TRENDMODE: a DFT of
/// the last `smoothPeriod` smoothed prices (a rescan of up to 50 values per bar, as
/// TA-Lib does), with the phase kept across bars (a zero imaginary part adjusts the
/// previous phase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DcPhase {
    /// The last 50 smoothed prices (TA-Lib's zero-initialised `smoothPrice` ring).
    smooth_price: Ring,
    phase: f64,
    rad2deg: f64,
    deg2rad_by_360: f64,
}

impl DcPhase {
    pub(crate) fn new() -> Self {
        let quarter = 1.0_f64.atan();
        DcPhase {
            smooth_price: Ring::new(SMOOTH_PRICE_SIZE),
            phase: 0.0,
            rad2deg: 45.0 / quarter,
            deg2rad_by_360: quarter * 8.0,
        }
    }

    /// TA-Lib's `deg2Rad`, `1 / rad2Deg`.
    #[inline]
    pub(crate) fn deg2rad(&self) -> f64 {
        1.0 / self.rad2deg
    }

    /// The newest smoothed price.
    #[inline]
    pub(crate) fn current_smoothed(&self) -> f64 {
        self.smooth_price.get(0)
    }

    /// Records this bar's smoothed price and returns the new DC phase in degrees.
    #[inline]
    pub(crate) fn next(&mut self, bar: &HtBar) -> f64 {
        self.smooth_price.push(bar.smoothed);
        let smooth_period = bar.smooth_period;
        let dc_period_int = (smooth_period + 0.5) as usize;
        let n = dc_period_int as f64;
        let mut real_part = 0.0;
        let mut imag_part = 0.0;
        for i in 0..dc_period_int {
            let angle = (i as f64 * self.deg2rad_by_360) / n;
            let v = self.smooth_price.get(i);
            real_part += angle.sin() * v;
            imag_part += angle.cos() * v;
        }
        let abs_imag = imag_part.abs();
        if abs_imag > 0.0 {
            self.phase = (real_part / imag_part).atan() * self.rad2deg;
        } else if abs_imag <= 0.01 {
            if real_part < 0.0 {
                self.phase -= 90.0;
            } else if real_part > 0.0 {
                self.phase += 90.0;
            }
        }
        self.phase += 90.0;
        // Compensate for the one-bar lag of the weighted moving average.
        self.phase += 360.0 / smooth_period;
        if imag_part < 0.0 {
            self.phase += 180.0;
        }
        if self.phase > 315.0 {
            self.phase -= 360.0;
        }
        self.phase
    }
}

/// HT_TRENDLINE's instantaneous trendline: the mean of the last `smoothPeriod` raw
/// prices (a rescan of up to 50, as TA-Lib does), then a 4-3-2-1 weighting of that mean
/// over four bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Trendline {
    /// The last 50 raw prices.
    prices: Ring,
    i_trend1: f64,
    i_trend2: f64,
    i_trend3: f64,
}

impl Trendline {
    pub(crate) fn new() -> Self {
        Trendline {
            prices: Ring::new(SMOOTH_PRICE_SIZE),
            i_trend1: 0.0,
            i_trend2: 0.0,
            i_trend3: 0.0,
        }
    }

    /// Records a raw price; call for every bar, warm-up included.
    #[inline]
    pub(crate) fn push(&mut self, price: f64) {
        self.prices.push(price);
    }

    /// The trendline for the bar just pushed, given the bar's smoothed period.
    #[inline]
    pub(crate) fn next(&mut self, smooth_period: f64) -> f64 {
        let dc_period_int = (smooth_period + 0.5) as usize;
        let mut mean = 0.0;
        for i in 0..dc_period_int {
            mean += self.prices.get(i);
        }
        if dc_period_int > 0 {
            mean /= dc_period_int as f64;
        }
        let line = (4.0 * mean + 3.0 * self.i_trend1 + 2.0 * self.i_trend2 + self.i_trend3) / 10.0;
        self.i_trend3 = self.i_trend2;
        self.i_trend2 = self.i_trend1;
        self.i_trend1 = mean;
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Vec<f64> {
        (0..200)
            .map(|i| 100.0 + (i as f64 * 0.3).sin() * 5.0 + (i % 7) as f64 * 0.1)
            .collect()
    }

    #[test]
    fn which_parity_comes_first_does_not_change_the_transform() {
        let mut even_first = Hilbert::new(12);
        let mut odd_first = Hilbert::new(12);
        odd_first.odd = true;
        for x in prices() {
            assert_eq!(even_first.next(x), odd_first.next(x));
        }
    }

    #[test]
    fn the_main_loop_starts_after_the_warmup() {
        let mut ht = Hilbert::new(12);
        let firsts: Vec<bool> = prices()
            .iter()
            .take(14)
            .map(|&x| ht.next(x).is_some())
            .collect();
        assert!(firsts[..12].iter().all(|s| !s));
        assert!(firsts[12..].iter().all(|s| *s));
    }
}
