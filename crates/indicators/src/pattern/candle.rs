//! TA-Lib's candle settings and the running totals every pattern keeps.
//!
//! A pattern compares a candle's parts (real body, shadows, high-low range) with the
//! average of the same measure over the previous `period` candles. TA-Lib keeps one
//! running total per (setting, candle of the pattern): it sums the first window once,
//! then after every output adds the newest range and subtracts the oldest
//! (`total += new - old`). [`Candles`] reproduces that bit for bit: the first window is
//! summed oldest to newest when the first output bar arrives, then [`Candles::roll`]
//! slides every window by one bar.

use serde::{Deserialize, Serialize};

/// What a setting measures on a candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeType {
    /// |close - open|.
    RealBody,
    /// high - low.
    HighLow,
    /// Upper plus lower shadow (averaged, then halved).
    Shadows,
}

/// TA-Lib's candle settings with their default range type, averaging period and factor
/// (`TA_RestoreCandleDefaultSettings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Setting {
    /// Real body longer than the average body of the 10 previous candles.
    BodyLong,
    /// Real body longer than 3 times the average body of the 10 previous candles.
    BodyVeryLong,
    /// Real body shorter than the average body of the 10 previous candles.
    BodyShort,
    /// Real body shorter than 10% of the average high-low range of the 10 previous candles.
    BodyDoji,
    /// Shadow longer than the candle's own real body.
    ShadowLong,
    /// Shadow longer than 2 times the candle's own real body.
    ShadowVeryLong,
    /// Shadow shorter than half the average shadow sum of the 10 previous candles.
    ShadowShort,
    /// Shadow shorter than 10% of the average high-low range of the 10 previous candles.
    ShadowVeryShort,
    /// Distance within 20% of the average high-low range of the 5 previous candles.
    Near,
    /// Distance beyond 60% of the average high-low range of the 5 previous candles.
    Far,
    /// Distance within 5% of the average high-low range of the 5 previous candles.
    Equal,
}

impl Setting {
    const fn range_type(self) -> RangeType {
        match self {
            Setting::BodyLong
            | Setting::BodyVeryLong
            | Setting::BodyShort
            | Setting::ShadowLong
            | Setting::ShadowVeryLong => RangeType::RealBody,
            Setting::BodyDoji
            | Setting::ShadowVeryShort
            | Setting::Near
            | Setting::Far
            | Setting::Equal => RangeType::HighLow,
            Setting::ShadowShort => RangeType::Shadows,
        }
    }

    /// Candles averaged (0: the candle's own range).
    pub(crate) const fn period(self) -> usize {
        match self {
            Setting::BodyLong
            | Setting::BodyVeryLong
            | Setting::BodyShort
            | Setting::BodyDoji
            | Setting::ShadowShort
            | Setting::ShadowVeryShort => 10,
            Setting::ShadowLong | Setting::ShadowVeryLong => 0,
            Setting::Near | Setting::Far | Setting::Equal => 5,
        }
    }

    const fn factor(self) -> f64 {
        match self {
            Setting::BodyLong | Setting::BodyShort | Setting::ShadowLong | Setting::ShadowShort => {
                1.0
            }
            Setting::BodyVeryLong => 3.0,
            Setting::BodyDoji | Setting::ShadowVeryShort => 0.1,
            Setting::ShadowVeryLong => 2.0,
            Setting::Near => 0.2,
            Setting::Far => 0.6,
            Setting::Equal => 0.05,
        }
    }

    const fn divisor(self) -> f64 {
        match self.range_type() {
            RangeType::Shadows => 2.0,
            RangeType::RealBody | RangeType::HighLow => 1.0,
        }
    }
}

/// The largest period of `settings` (TA-Lib's lookbacks are this plus the pattern's
/// candles minus one).
pub(crate) const fn max_period(settings: &[Setting]) -> usize {
    let mut max = 0;
    let mut i = 0;
    while i < settings.len() {
        let p = settings[i].period();
        if p > max {
            max = p;
        }
        i += 1;
    }
    max
}

/// One OHLC bar with TA-Lib's candle measures (`TA_REALBODY`, `TA_UPPERSHADOW`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Bar {
    /// Open.
    pub(crate) o: f64,
    /// High.
    pub(crate) h: f64,
    /// Low.
    pub(crate) l: f64,
    /// Close.
    pub(crate) c: f64,
}

impl Bar {
    /// |close - open|.
    #[inline]
    pub(crate) fn body(&self) -> f64 {
        (self.c - self.o).abs()
    }

    /// High minus the top of the real body.
    #[inline]
    pub(crate) fn upper_shadow(&self) -> f64 {
        self.h - if self.c >= self.o { self.c } else { self.o }
    }

    /// Bottom of the real body minus the low.
    #[inline]
    pub(crate) fn lower_shadow(&self) -> f64 {
        (if self.c >= self.o { self.o } else { self.c }) - self.l
    }

    /// High minus low.
    #[inline]
    pub(crate) fn hl(&self) -> f64 {
        self.h - self.l
    }

    /// 1 for white (close >= open), -1 for black.
    #[inline]
    pub(crate) fn color(&self) -> i32 {
        if self.c >= self.o { 1 } else { -1 }
    }

    /// Close >= open.
    #[inline]
    pub(crate) fn white(&self) -> bool {
        self.c >= self.o
    }

    /// Close < open.
    #[inline]
    pub(crate) fn black(&self) -> bool {
        self.c < self.o
    }

    /// max(open, close).
    #[inline]
    pub(crate) fn top(&self) -> f64 {
        self.o.max(self.c)
    }

    /// min(open, close).
    #[inline]
    pub(crate) fn bottom(&self) -> f64 {
        self.o.min(self.c)
    }

    /// The measure `s` averages (`TA_CANDLERANGE`).
    #[inline]
    fn range(&self, s: Setting) -> f64 {
        match s.range_type() {
            RangeType::RealBody => self.body(),
            RangeType::HighLow => self.hl(),
            RangeType::Shadows => self.upper_shadow() + self.lower_shadow(),
        }
    }
}

/// `TA_REALBODYGAPUP(b2, b1)`: b2's body entirely above b1's.
#[inline]
pub(crate) fn body_gap_up(b2: &Bar, b1: &Bar) -> bool {
    b2.bottom() > b1.top()
}

/// `TA_REALBODYGAPDOWN(b2, b1)`: b2's body entirely below b1's.
#[inline]
pub(crate) fn body_gap_down(b2: &Bar, b1: &Bar) -> bool {
    b2.top() < b1.bottom()
}

/// `TA_CANDLEGAPUP(b2, b1)`: b2's low above b1's high.
#[inline]
pub(crate) fn gap_up(b2: &Bar, b1: &Bar) -> bool {
    b2.l > b1.h
}

/// `TA_CANDLEGAPDOWN(b2, b1)`: b2's high below b1's low.
#[inline]
pub(crate) fn gap_down(b2: &Bar, b1: &Bar) -> bool {
    b2.h < b1.l
}

/// A running total of one setting's range over the `period` candles before the candle
/// `back` bars ago.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Total {
    setting: Setting,
    back: usize,
    sum: f64,
}

/// The last `lookback + 1` bars of a pattern and its running totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Candles {
    lookback: usize,
    /// Bar index where the first windows are summed (TA-Lib's loop start).
    start: usize,
    /// Bars consumed.
    seen: usize,
    /// Ring of the last `lookback + 1` bars; `head` is the next slot to write.
    bars: Vec<Bar>,
    head: usize,
    totals: Vec<Total>,
}

impl Candles {
    /// A pattern with TA-Lib's `lookback` keeping a total per `(setting, back)`: the
    /// average of `setting` over the candles before the candle `back` bars ago.
    /// Settings with period 0 need no total (they use the candle's own range).
    pub(crate) fn new(lookback: usize, totals: &[(Setting, usize)]) -> Self {
        Self::with_start(lookback, lookback, totals)
    }

    /// Like [`Candles::new`] for patterns whose TA-Lib loop starts `lookback - start`
    /// bars before the first output (HIKKAKEMOD): the totals are summed at bar `start`
    /// and must be rolled after every bar from there on.
    pub(crate) fn with_start(lookback: usize, start: usize, totals: &[(Setting, usize)]) -> Self {
        Candles {
            lookback,
            start,
            seen: 0,
            bars: vec![Bar::default(); lookback + 1],
            head: 0,
            totals: totals
                .iter()
                .filter(|(s, _)| s.period() > 0)
                .map(|&(setting, back)| Total {
                    setting,
                    back,
                    sum: 0.0,
                })
                .collect(),
        }
    }

    /// TA-Lib's lookback.
    pub(crate) fn lookback(&self) -> usize {
        self.lookback
    }

    /// Bars consumed so far (the newest bar's index is `seen() - 1`).
    pub(crate) fn seen(&self) -> usize {
        self.seen
    }

    /// Takes one bar (`input` = open, high, low, close). True when it is an output bar
    /// (index >= lookback). Bar `start` sums the initial windows.
    pub(crate) fn push(&mut self, input: &[f64]) -> bool {
        let bar = Bar {
            o: input[0],
            h: input[1],
            l: input[2],
            c: input[3],
        };
        let cap = self.bars.len();
        if let Some(slot) = self.bars.get_mut(self.head) {
            *slot = bar;
        }
        self.head = (self.head + 1) % cap;
        self.seen += 1;
        let today = self.seen - 1;
        if today == self.start {
            // TA-Lib: for i in [start - period, start): total += range(i - back).
            let start = self.start;
            let mut totals = std::mem::take(&mut self.totals);
            for t in &mut totals {
                let p = t.setting.period();
                let mut sum = 0.0;
                for k in (0..p).rev() {
                    sum += self.bar(t.back + 1 + k).range(t.setting);
                }
                debug_assert!(t.back + p <= start, "window before the first bar");
                t.sum = sum;
            }
            self.totals = totals;
        }
        today >= self.lookback
    }

    /// The bar `back` bars before the newest (`bar(0)` is the newest).
    #[inline]
    pub(crate) fn bar(&self, back: usize) -> Bar {
        let cap = self.bars.len();
        if back >= cap {
            return Bar::default();
        }
        self.bars
            .get((self.head + cap - 1 - back) % cap)
            .copied()
            .unwrap_or_default()
    }

    /// `TA_CANDLEAVERAGE(setting, total, i - back)`: the threshold `setting` gives for
    /// the candle `back` bars ago.
    #[inline]
    pub(crate) fn avg(&self, s: Setting, back: usize) -> f64 {
        let p = s.period();
        let base = if p == 0 {
            self.bar(back).range(s)
        } else {
            // Settings of one range type and period keep identical totals.
            let total = self.totals.iter().find(|t| {
                t.back == back
                    && t.setting.range_type() == s.range_type()
                    && t.setting.period() == p
            });
            debug_assert!(total.is_some(), "no total for {s:?} at {back}");
            total.map_or(0.0, |t| t.sum) / p as f64
        };
        s.factor() * base / s.divisor()
    }

    /// After an output: every window slides one bar (`total += new - old`).
    #[inline]
    pub(crate) fn roll(&mut self) {
        let mut totals = std::mem::take(&mut self.totals);
        for t in &mut totals {
            let p = t.setting.period();
            let new = self.bar(t.back).range(t.setting);
            let old = self.bar(t.back + p).range(t.setting);
            t.sum += new - old;
        }
        self.totals = totals;
    }
}
