//! Two-candle patterns.

use super::candle::Setting::{BodyDoji, BodyLong, BodyShort, Equal, ShadowVeryShort};
use super::candle::{Bar, Candles, body_gap_down, body_gap_up, gap_down, gap_up, max_period};
use super::define_pattern;

define_pattern! {
    /// CDLCOUNTERATTACK: two long candles of opposite colors closing at the same level
    /// (±100 by the second's color).
    CdlCounterAttack, "CDLCOUNTERATTACK", "Counterattack",
    lookback: max_period(&[Equal, BodyLong]) + 1,
    totals: [(Equal, 1), (BodyLong, 1), (BodyLong, 0)],
    counter_attack
}

fn counter_attack(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    let eq = c.avg(Equal, 1);
    if b1.color() == -b.color()
        && b1.body() > c.avg(BodyLong, 1)
        && b.body() > c.avg(BodyLong, 0)
        && b.c <= b1.c + eq
        && b.c >= b1.c - eq
    {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLDARKCLOUDCOVER: long white, then black opening above its high and closing
    /// deep (by `penetration` of the body) into it (-100).
    CdlDarkCloudCover, "CDLDARKCLOUDCOVER", "Dark Cloud Cover",
    penetration: 0.5,
    lookback: max_period(&[BodyLong]) + 1,
    totals: [(BodyLong, 1)],
    dark_cloud_cover
}

fn dark_cloud_cover(c: &Candles, penetration: f64) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b1.white()
        && b1.body() > c.avg(BodyLong, 1)
        && b.black()
        && b.o > b1.h
        && b.c > b1.o
        && b.c < b1.c - b1.body() * penetration
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLDOJISTAR: long candle, then a doji gapping away from its body (-100 after
    /// white, +100 after black).
    CdlDojiStar, "CDLDOJISTAR", "Doji Star",
    lookback: max_period(&[BodyDoji, BodyLong]) + 1,
    totals: [(BodyLong, 1), (BodyDoji, 0)],
    doji_star
}

fn doji_star(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b1.body() > c.avg(BodyLong, 1)
        && b.body() <= c.avg(BodyDoji, 0)
        && ((b1.white() && body_gap_up(&b, &b1)) || (b1.black() && body_gap_down(&b, &b1)))
    {
        -b1.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLENGULFING: a body engulfing the prior opposite-colored body (±100 by color;
    /// ±80 when an end of the bodies coincides).
    CdlEngulfing, "CDLENGULFING", "Engulfing Pattern",
    lookback: 2,
    totals: [],
    engulfing
}

fn engulfing(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    let white_engulfs = b.color() == 1
        && b1.color() == -1
        && ((b.c >= b1.o && b.o < b1.c) || (b.c > b1.o && b.o <= b1.c));
    let black_engulfs = b.color() == -1
        && b1.color() == 1
        && ((b.o >= b1.c && b.c < b1.o) || (b.o > b1.c && b.c <= b1.o));
    if white_engulfs || black_engulfs {
        if b.o != b1.c && b.c != b1.o {
            b.color() * 100
        } else {
            b.color() * 80
        }
    } else {
        0
    }
}

/// Harami and harami cross: long first body containing the second; `second` is the
/// second candle's size setting (short body or doji).
fn harami_with(c: &Candles, second: super::candle::Setting) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b1.body() > c.avg(BodyLong, 1) && b.body() <= c.avg(second, 0) {
        if b.c.max(b.o) < b1.c.max(b1.o) && b.c.min(b.o) > b1.c.min(b1.o) {
            -b1.color() * 100
        } else if b.c.max(b.o) <= b1.c.max(b1.o) && b.c.min(b.o) >= b1.c.min(b1.o) {
            -b1.color() * 80
        } else {
            0
        }
    } else {
        0
    }
}

define_pattern! {
    /// CDLHARAMI: long candle, then a short body inside it (±100 against the first's
    /// color; ±80 when an end of the bodies coincides).
    CdlHarami, "CDLHARAMI", "Harami Pattern",
    lookback: max_period(&[BodyShort, BodyLong]) + 1,
    totals: [(BodyLong, 1), (BodyShort, 0)],
    harami
}

fn harami(c: &Candles) -> i32 {
    harami_with(c, BodyShort)
}

define_pattern! {
    /// CDLHARAMICROSS: long candle, then a doji inside its body (±100 against the
    /// first's color; ±80 when an end of the bodies coincides).
    CdlHaramiCross, "CDLHARAMICROSS", "Harami Cross Pattern",
    lookback: max_period(&[BodyDoji, BodyLong]) + 1,
    totals: [(BodyLong, 1), (BodyDoji, 0)],
    harami_cross
}

fn harami_cross(c: &Candles) -> i32 {
    harami_with(c, BodyDoji)
}

define_pattern! {
    /// CDLHOMINGPIGEON: long black, then a short black body inside it (+100).
    CdlHomingPigeon, "CDLHOMINGPIGEON", "Homing Pigeon",
    lookback: max_period(&[BodyShort, BodyLong]) + 1,
    totals: [(BodyLong, 1), (BodyShort, 0)],
    homing_pigeon
}

fn homing_pigeon(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b1.black()
        && b.black()
        && b1.body() > c.avg(BodyLong, 1)
        && b.body() <= c.avg(BodyShort, 0)
        && b.o < b1.o
        && b.c > b1.c
    {
        100
    } else {
        0
    }
}

/// Long black, then white opening below its low: in-neck, on-neck and thrusting.
fn black_then_white_below(c: &Candles, b1: &Bar, b: &Bar) -> bool {
    b1.black() && b1.body() > c.avg(BodyLong, 1) && b.white() && b.o < b1.l
}

define_pattern! {
    /// CDLINNECK: long black, then white opening below its low and closing just into
    /// its body (-100).
    CdlInNeck, "CDLINNECK", "In-Neck Pattern",
    lookback: max_period(&[Equal, BodyLong]) + 1,
    totals: [(Equal, 1), (BodyLong, 1)],
    in_neck
}

fn in_neck(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if black_then_white_below(c, &b1, &b) && b.c <= b1.c + c.avg(Equal, 1) && b.c >= b1.c {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLONNECK: long black, then white opening below its low and closing at its low
    /// (-100).
    CdlOnNeck, "CDLONNECK", "On-Neck Pattern",
    lookback: max_period(&[Equal, BodyLong]) + 1,
    totals: [(Equal, 1), (BodyLong, 1)],
    on_neck
}

fn on_neck(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    let eq = c.avg(Equal, 1);
    if black_then_white_below(c, &b1, &b) && b.c <= b1.l + eq && b.c >= b1.l - eq {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLPIERCING: long black, then long white opening below its low and closing above
    /// its midpoint (+100).
    CdlPiercing, "CDLPIERCING", "Piercing Pattern",
    lookback: max_period(&[BodyLong]) + 1,
    totals: [(BodyLong, 1), (BodyLong, 0)],
    piercing
}

fn piercing(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b1.black()
        && b1.body() > c.avg(BodyLong, 1)
        && b.white()
        && b.body() > c.avg(BodyLong, 0)
        && b.o < b1.l
        && b.c < b1.o
        && b.c > b1.c + b1.body() * 0.5
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLTHRUSTING: long black, then white opening below its low and closing into its
    /// body but below the midpoint (-100).
    CdlThrusting, "CDLTHRUSTING", "Thrusting Pattern",
    lookback: max_period(&[Equal, BodyLong]) + 1,
    totals: [(Equal, 1), (BodyLong, 1)],
    thrusting
}

fn thrusting(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if black_then_white_below(c, &b1, &b)
        && b.c > b1.c + c.avg(Equal, 1)
        && b.c <= b1.c + b1.body() * 0.5
    {
        -100
    } else {
        0
    }
}

/// Two opposite marubozu with a gap between them.
fn kicking_shape(c: &Candles) -> bool {
    let (b1, b) = (c.bar(1), c.bar(0));
    let vs1 = c.avg(ShadowVeryShort, 1);
    let vs0 = c.avg(ShadowVeryShort, 0);
    b1.color() == -b.color()
        && b1.body() > c.avg(BodyLong, 1)
        && b1.upper_shadow() < vs1
        && b1.lower_shadow() < vs1
        && b.body() > c.avg(BodyLong, 0)
        && b.upper_shadow() < vs0
        && b.lower_shadow() < vs0
        && ((b1.black() && gap_up(&b, &b1)) || (b1.white() && gap_down(&b, &b1)))
}

define_pattern! {
    /// CDLKICKING: marubozu, then an opposite marubozu gapping away (±100 by the
    /// second's color).
    CdlKicking, "CDLKICKING", "Kicking",
    lookback: max_period(&[ShadowVeryShort, BodyLong]) + 1,
    totals: [(ShadowVeryShort, 1), (ShadowVeryShort, 0), (BodyLong, 1), (BodyLong, 0)],
    kicking
}

fn kicking(c: &Candles) -> i32 {
    if kicking_shape(c) {
        c.bar(0).color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLKICKINGBYLENGTH: kicking, bull or bear by the longer marubozu (±100).
    CdlKickingByLength, "CDLKICKINGBYLENGTH",
    "Kicking - bull/bear determined by the longer marubozu",
    lookback: max_period(&[ShadowVeryShort, BodyLong]) + 1,
    totals: [(ShadowVeryShort, 1), (ShadowVeryShort, 0), (BodyLong, 1), (BodyLong, 0)],
    kicking_by_length
}

fn kicking_by_length(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if kicking_shape(c) {
        if b.body() > b1.body() {
            b.color() * 100
        } else {
            b1.color() * 100
        }
    } else {
        0
    }
}

define_pattern! {
    /// CDLMATCHINGLOW: two black candles closing at the same level (+100).
    CdlMatchingLow, "CDLMATCHINGLOW", "Matching Low",
    lookback: max_period(&[Equal]) + 1,
    totals: [(Equal, 1)],
    matching_low
}

fn matching_low(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    let eq = c.avg(Equal, 1);
    if b1.black() && b.black() && b.c <= b1.c + eq && b.c >= b1.c - eq {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLSEPARATINGLINES: opposite colors opening at the same level, the second a long
    /// belt hold (±100 by the second's color).
    CdlSeparatingLines, "CDLSEPARATINGLINES", "Separating Lines",
    lookback: max_period(&[ShadowVeryShort, BodyLong, Equal]) + 1,
    totals: [(ShadowVeryShort, 0), (BodyLong, 0), (Equal, 1)],
    separating_lines
}

fn separating_lines(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    let eq = c.avg(Equal, 1);
    let vs = c.avg(ShadowVeryShort, 0);
    if b1.color() == -b.color()
        && b.o <= b1.o + eq
        && b.o >= b1.o - eq
        && b.body() > c.avg(BodyLong, 0)
        && ((b.white() && b.lower_shadow() < vs) || (b.black() && b.upper_shadow() < vs))
    {
        b.color() * 100
    } else {
        0
    }
}
