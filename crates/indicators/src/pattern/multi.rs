//! Four- and five-candle patterns, and the hikkake family (which remembers a pattern
//! until it is confirmed).

use serde::{Deserialize, Serialize};

use super::candle::Setting::{BodyLong, BodyShort, Near, ShadowVeryShort};
use super::candle::{Bar, Candles, body_gap_down, body_gap_up, max_period};
use super::{OHLC, define_pattern};
use crate::{Error, Group, Params, Spec, Streaming};

define_pattern! {
    /// CDL3LINESTRIKE: three soldiers (crows), then an opposite candle opening beyond
    /// the third close and closing beyond the first open (±100 by the third's color).
    Cdl3LineStrike, "CDL3LINESTRIKE", "Three-Line Strike",
    lookback: max_period(&[Near]) + 3,
    totals: [(Near, 3), (Near, 2)],
    three_line_strike
}

fn three_line_strike(c: &Candles) -> i32 {
    let (b3, b2, b1, b) = (c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    let near3 = c.avg(Near, 3);
    let near2 = c.avg(Near, 2);
    if b3.color() == b2.color()
        && b2.color() == b1.color()
        && b.color() == -b1.color()
        && b2.o >= b3.o.min(b3.c) - near3
        && b2.o <= b3.o.max(b3.c) + near3
        && b1.o >= b2.o.min(b2.c) - near2
        && b1.o <= b2.o.max(b2.c) + near2
        && ((b1.white() && b1.c > b2.c && b2.c > b3.c && b.o > b1.c && b.c < b3.o)
            || (b1.black() && b1.c < b2.c && b2.c < b3.c && b.o < b1.c && b.c > b3.o))
    {
        b1.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLBREAKAWAY: long candle, a gap, three candles extending the move, then an
    /// opposite candle closing inside the gap (±100 by the last color).
    CdlBreakaway, "CDLBREAKAWAY", "Breakaway",
    lookback: max_period(&[BodyLong]) + 4,
    totals: [(BodyLong, 4)],
    breakaway
}

fn breakaway(c: &Candles) -> i32 {
    let (b4, b3, b2, b1, b) = (c.bar(4), c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    if b4.body() > c.avg(BodyLong, 4)
        && b4.color() == b3.color()
        && b3.color() == b1.color()
        && b1.color() == -b.color()
        && ((b4.black()
            && body_gap_down(&b3, &b4)
            && b2.h < b3.h
            && b2.l < b3.l
            && b1.h < b2.h
            && b1.l < b2.l
            && b.c > b3.o
            && b.c < b4.c)
            || (b4.white()
                && body_gap_up(&b3, &b4)
                && b2.h > b3.h
                && b2.l > b3.l
                && b1.h > b2.h
                && b1.l > b2.l
                && b.c < b3.o
                && b.c > b4.c))
    {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLCONCEALBABYSWALL: two black marubozu, a black candle gapping down with an
    /// upper shadow into the prior body, then a black candle engulfing it (+100).
    CdlConcealBabySwall, "CDLCONCEALBABYSWALL", "Concealing Baby Swallow",
    lookback: max_period(&[ShadowVeryShort]) + 3,
    totals: [(ShadowVeryShort, 3), (ShadowVeryShort, 2), (ShadowVeryShort, 1)],
    conceal_baby_swallow
}

fn conceal_baby_swallow(c: &Candles) -> i32 {
    let (b3, b2, b1, b) = (c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    if b3.black()
        && b2.black()
        && b1.black()
        && b.black()
        && b3.lower_shadow() < c.avg(ShadowVeryShort, 3)
        && b3.upper_shadow() < c.avg(ShadowVeryShort, 3)
        && b2.lower_shadow() < c.avg(ShadowVeryShort, 2)
        && b2.upper_shadow() < c.avg(ShadowVeryShort, 2)
        && body_gap_down(&b1, &b2)
        && b1.upper_shadow() > c.avg(ShadowVeryShort, 1)
        && b1.h > b2.c
        && b.h > b1.h
        && b.l < b1.l
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLLADDERBOTTOM: three declining black candles, a black one with an upper
    /// shadow, then a white candle gapping above its high (+100).
    CdlLadderBottom, "CDLLADDERBOTTOM", "Ladder Bottom",
    lookback: max_period(&[ShadowVeryShort]) + 4,
    totals: [(ShadowVeryShort, 1)],
    ladder_bottom
}

fn ladder_bottom(c: &Candles) -> i32 {
    let (b4, b3, b2, b1, b) = (c.bar(4), c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    if b4.black()
        && b3.black()
        && b2.black()
        && b4.o > b3.o
        && b3.o > b2.o
        && b4.c > b3.c
        && b3.c > b2.c
        && b1.black()
        && b1.upper_shadow() > c.avg(ShadowVeryShort, 1)
        && b.white()
        && b.o > b1.o
        && b.c > b1.h
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLMATHOLD: long white, three small falling candles holding within its body
    /// (less than `penetration` into it), then a white candle closing at a new high
    /// (+100).
    CdlMatHold, "CDLMATHOLD", "Mat Hold",
    penetration: 0.5,
    lookback: max_period(&[BodyShort, BodyLong]) + 4,
    totals: [(BodyLong, 4), (BodyShort, 3), (BodyShort, 2), (BodyShort, 1)],
    mat_hold
}

fn mat_hold(c: &Candles, penetration: f64) -> i32 {
    let (b4, b3, b2, b1, b) = (c.bar(4), c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    if b4.body() > c.avg(BodyLong, 4)
        && b3.body() < c.avg(BodyShort, 3)
        && b2.body() < c.avg(BodyShort, 2)
        && b1.body() < c.avg(BodyShort, 1)
        && b4.white()
        && b3.black()
        && b.white()
        && body_gap_up(&b3, &b4)
        && b2.o.min(b2.c) < b4.c
        && b1.o.min(b1.c) < b4.c
        && b2.o.min(b2.c) > b4.c - b4.body() * penetration
        && b1.o.min(b1.c) > b4.c - b4.body() * penetration
        && b2.c.max(b2.o) < b3.o
        && b1.c.max(b1.o) < b2.c.max(b2.o)
        && b.o > b1.c
        && b.c > b3.h.max(b2.h).max(b1.h)
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLRISEFALL3METHODS: long candle, three small opposite candles within its range
    /// moving against it, then a long candle of the first color closing beyond the
    /// first close (±100 by the first's color).
    CdlRiseFall3Methods, "CDLRISEFALL3METHODS", "Rising/Falling Three Methods",
    lookback: max_period(&[BodyShort, BodyLong]) + 4,
    totals: [
        (BodyLong, 4), (BodyShort, 3), (BodyShort, 2), (BodyShort, 1), (BodyLong, 0),
    ],
    rise_fall_three_methods
}

fn rise_fall_three_methods(c: &Candles) -> i32 {
    let (b4, b3, b2, b1, b) = (c.bar(4), c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    let k = f64::from(b4.color());
    if b4.body() > c.avg(BodyLong, 4)
        && b3.body() < c.avg(BodyShort, 3)
        && b2.body() < c.avg(BodyShort, 2)
        && b1.body() < c.avg(BodyShort, 1)
        && b.body() > c.avg(BodyLong, 0)
        && b4.color() == -b3.color()
        && b3.color() == b2.color()
        && b2.color() == b1.color()
        && b1.color() == -b.color()
        && b3.o.min(b3.c) < b4.h
        && b3.o.max(b3.c) > b4.l
        && b2.o.min(b2.c) < b4.h
        && b2.o.max(b2.c) > b4.l
        && b1.o.min(b1.c) < b4.h
        && b1.o.max(b1.c) > b4.l
        && b2.c * k < b3.c * k
        && b1.c * k < b2.c * k
        && b.o * k > b1.c * k
        && b.c * k > b4.c * k
    {
        100 * b4.color()
    } else {
        0
    }
}

/// The hikkake's memory: the bar index of the last pattern (0: none pending), its
/// result, and the high and low of the inside bar before it (the confirmation levels).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
struct Pending {
    idx: usize,
    result: i32,
    high: f64,
    low: f64,
}

impl Pending {
    /// TA-Lib's step: a new pattern at bar `i` (`found` = its result) replaces the
    /// pending one; otherwise a close beyond the inside bar within 3 bars confirms it.
    /// Returns the output of bar `i`.
    fn step(&mut self, i: usize, found: Option<i32>, inside: &Bar, today: &Bar) -> i32 {
        if let Some(result) = found {
            *self = Pending {
                idx: i,
                result,
                high: inside.h,
                low: inside.l,
            };
            result
        } else if i <= self.idx + 3
            && ((self.result > 0 && today.c > self.high) || (self.result < 0 && today.c < self.low))
        {
            self.idx = 0;
            self.result + if self.result > 0 { 100 } else { -100 }
        } else {
            0
        }
    }
}

/// CDLHIKKAKE: an inside bar, then a bar breaking out of it (+100 after a false
/// break down, -100 after a false break up); a close beyond the inside bar within 3
/// bars confirms it (+200 / -200). A new hikkake overrides a confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdlHikkake {
    c: Candles,
    pending: Pending,
}

impl Streaming for CdlHikkake {
    const SPEC: &'static Spec = &Spec {
        name: "CDLHIKKAKE",
        group: Group::Pattern,
        description: "Hikkake Pattern",
        inputs: OHLC,
        params: &[],
        outputs: &["integer"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(CdlHikkake {
            c: Candles::new(5, &[]),
            pending: Pending::default(),
        })
    }

    fn lookback(&self) -> usize {
        self.c.lookback()
    }

    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let output = self.c.push(input);
        let i = self.c.seen() - 1;
        // TA-Lib scans from three bars before the first output, outputs aside.
        let mut r = 0;
        if i + 3 >= self.c.lookback() {
            let (b2, b1, b) = (self.c.bar(2), self.c.bar(1), self.c.bar(0));
            let found = (b1.h < b2.h
                && b1.l > b2.l
                && ((b.h < b1.h && b.l < b1.l) || (b.h > b1.h && b.l > b1.l)))
                .then_some(if b.h < b1.h { 100 } else { -100 });
            r = self.pending.step(i, found, &b1, &b);
        }
        out[0] = if output { f64::from(r) } else { f64::NAN };
    }
}

/// CDLHIKKAKEMOD: the hikkake after two nested inside bars, the second closing near
/// its low (high) for a bullish (bearish) setup; confirmed like CDLHIKKAKE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdlHikkakeMod {
    c: Candles,
    pending: Pending,
}

/// Bars TA-Lib scans (and rolls its Near total) before the first HIKKAKEMOD output.
const HIKKAKEMOD_PRESCAN: usize = 3;

impl Streaming for CdlHikkakeMod {
    const SPEC: &'static Spec = &Spec {
        name: "CDLHIKKAKEMOD",
        group: Group::Pattern,
        description: "Modified Hikkake Pattern",
        inputs: OHLC,
        params: &[],
        outputs: &["integer"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        let lookback = max_period(&[Near]).max(1) + 5;
        Ok(CdlHikkakeMod {
            c: Candles::with_start(lookback, lookback - HIKKAKEMOD_PRESCAN, &[(Near, 2)]),
            pending: Pending::default(),
        })
    }

    fn lookback(&self) -> usize {
        self.c.lookback()
    }

    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let output = self.c.push(input);
        let i = self.c.seen() - 1;
        let mut r = 0;
        if i + HIKKAKEMOD_PRESCAN >= self.c.lookback() {
            let c = &self.c;
            let (b3, b2, b1, b) = (c.bar(3), c.bar(2), c.bar(1), c.bar(0));
            let near = c.avg(Near, 2);
            let found = (b2.h < b3.h
                && b2.l > b3.l
                && b1.h < b2.h
                && b1.l > b2.l
                && ((b.h < b1.h && b.l < b1.l && b2.c <= b2.l + near)
                    || (b.h > b1.h && b.l > b1.l && b2.c >= b2.h - near)))
                .then_some(if b.h < b1.h { 100 } else { -100 });
            r = self.pending.step(i, found, &b1, &b);
            self.c.roll();
        }
        out[0] = if output { f64::from(r) } else { f64::NAN };
    }
}
