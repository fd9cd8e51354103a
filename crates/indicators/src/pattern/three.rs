//! Three-candle patterns.

use super::candle::Setting::{
    BodyDoji, BodyLong, BodyShort, Equal, Far, Near, ShadowLong, ShadowShort, ShadowVeryShort,
};
use super::candle::{Candles, body_gap_down, body_gap_up, gap_down, gap_up, max_period};
use super::define_pattern;

define_pattern! {
    /// CDL2CROWS: long white, black gapping up, black opening in the second body and
    /// closing in the first (-100).
    Cdl2Crows, "CDL2CROWS", "Two Crows",
    lookback: max_period(&[BodyLong]) + 2,
    totals: [(BodyLong, 2)],
    two_crows
}

fn two_crows(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.white()
        && b2.body() > c.avg(BodyLong, 2)
        && b1.black()
        && body_gap_up(&b1, &b2)
        && b.black()
        && b.o < b1.o
        && b.o > b1.c
        && b.c > b2.o
        && b.c < b2.c
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDL3BLACKCROWS: after a white candle, three declining black candles opening in
    /// the prior body with no lower shadow (-100).
    Cdl3BlackCrows, "CDL3BLACKCROWS", "Three Black Crows",
    lookback: max_period(&[ShadowVeryShort]) + 3,
    totals: [(ShadowVeryShort, 2), (ShadowVeryShort, 1), (ShadowVeryShort, 0)],
    three_black_crows
}

fn three_black_crows(c: &Candles) -> i32 {
    let (b3, b2, b1, b) = (c.bar(3), c.bar(2), c.bar(1), c.bar(0));
    if b3.white()
        && b2.black()
        && b1.black()
        && b.black()
        && b1.o < b2.o
        && b1.o > b2.c
        && b.o < b1.o
        && b.o > b1.c
        && b3.h > b2.c
        && b2.c > b1.c
        && b1.c > b.c
        && b2.lower_shadow() < c.avg(ShadowVeryShort, 2)
        && b1.lower_shadow() < c.avg(ShadowVeryShort, 1)
        && b.lower_shadow() < c.avg(ShadowVeryShort, 0)
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDL3INSIDE: a harami confirmed by a third candle closing beyond the first's open
    /// (+100 up, -100 down).
    Cdl3Inside, "CDL3INSIDE", "Three Inside Up/Down",
    lookback: max_period(&[BodyShort, BodyLong]) + 2,
    totals: [(BodyLong, 2), (BodyShort, 1)],
    three_inside
}

fn three_inside(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b1.c.max(b1.o) < b2.c.max(b2.o)
        && b1.c.min(b1.o) > b2.c.min(b2.o)
        && ((b2.white() && b.black() && b.c < b2.o) || (b2.black() && b.white() && b.c > b2.o))
        && b2.body() > c.avg(BodyLong, 2)
        && b1.body() <= c.avg(BodyShort, 1)
    {
        -b2.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDL3OUTSIDE: an engulfing confirmed by a third candle closing further (+100 up,
    /// -100 down).
    Cdl3Outside, "CDL3OUTSIDE", "Three Outside Up/Down",
    lookback: 3,
    totals: [],
    three_outside
}

fn three_outside(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if (b1.white() && b2.black() && b1.c > b2.o && b1.o < b2.c && b.c > b1.c)
        || (b1.black() && b2.white() && b1.o > b2.c && b1.c < b2.o && b.c < b1.c)
    {
        b1.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDL3STARSINSOUTH: three shrinking black candles with rising lows, the last a
    /// small marubozu inside the second's range (+100).
    Cdl3StarsInSouth, "CDL3STARSINSOUTH", "Three Stars In The South",
    lookback: max_period(&[ShadowVeryShort, ShadowLong, BodyLong, BodyShort]) + 2,
    totals: [(BodyLong, 2), (ShadowVeryShort, 1), (ShadowVeryShort, 0), (BodyShort, 0)],
    three_stars_in_south
}

fn three_stars_in_south(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.black()
        && b1.black()
        && b.black()
        && b2.body() > c.avg(BodyLong, 2)
        && b2.lower_shadow() > c.avg(ShadowLong, 2)
        && b1.body() < b2.body()
        && b1.o > b2.c
        && b1.o <= b2.h
        && b1.l < b2.c
        && b1.l >= b2.l
        && b1.lower_shadow() > c.avg(ShadowVeryShort, 1)
        && b.body() < c.avg(BodyShort, 0)
        && b.lower_shadow() < c.avg(ShadowVeryShort, 0)
        && b.upper_shadow() < c.avg(ShadowVeryShort, 0)
        && b.l > b1.l
        && b.h < b1.h
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDL3WHITESOLDIERS: three rising white candles opening in or near the prior body,
    /// with no upper shadows and none far shorter than the prior (+100).
    Cdl3WhiteSoldiers, "CDL3WHITESOLDIERS", "Three Advancing White Soldiers",
    lookback: max_period(&[ShadowVeryShort, BodyShort, Far, Near]) + 2,
    totals: [
        (ShadowVeryShort, 2), (ShadowVeryShort, 1), (ShadowVeryShort, 0),
        (Near, 2), (Near, 1), (Far, 2), (Far, 1), (BodyShort, 0),
    ],
    three_white_soldiers
}

fn three_white_soldiers(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.white()
        && b2.upper_shadow() < c.avg(ShadowVeryShort, 2)
        && b1.white()
        && b1.upper_shadow() < c.avg(ShadowVeryShort, 1)
        && b.white()
        && b.upper_shadow() < c.avg(ShadowVeryShort, 0)
        && b.c > b1.c
        && b1.c > b2.c
        && b1.o > b2.o
        && b1.o <= b2.c + c.avg(Near, 2)
        && b.o > b1.o
        && b.o <= b1.c + c.avg(Near, 1)
        && b1.body() > b2.body() - c.avg(Far, 2)
        && b.body() > b1.body() - c.avg(Far, 1)
        && b.body() > c.avg(BodyShort, 0)
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLABANDONEDBABY: long candle, a doji gapping away (shadows included), then an
    /// opposite candle gapping back and closing `penetration` into the first body
    /// (±100 by the third's color).
    CdlAbandonedBaby, "CDLABANDONEDBABY", "Abandoned Baby",
    penetration: 0.3,
    lookback: max_period(&[BodyDoji, BodyLong, BodyShort]) + 2,
    totals: [(BodyLong, 2), (BodyDoji, 1), (BodyShort, 0)],
    abandoned_baby
}

fn abandoned_baby(c: &Candles, penetration: f64) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.body() > c.avg(BodyLong, 2)
        && b1.body() <= c.avg(BodyDoji, 1)
        && b.body() > c.avg(BodyShort, 0)
        && ((b2.white()
            && b.black()
            && b.c < b2.c - b2.body() * penetration
            && gap_up(&b1, &b2)
            && gap_down(&b, &b1))
            || (b2.black()
                && b.white()
                && b.c > b2.c + b2.body() * penetration
                && gap_down(&b1, &b2)
                && gap_up(&b, &b1)))
    {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLADVANCEBLOCK: three rising white candles losing strength (shrinking bodies or
    /// growing upper shadows) (-100).
    CdlAdvanceBlock, "CDLADVANCEBLOCK", "Advance Block",
    lookback: max_period(&[ShadowLong, ShadowShort, Far, Near, BodyLong]) + 2,
    totals: [
        (ShadowShort, 2), (ShadowShort, 1), (ShadowShort, 0),
        (Near, 2), (Near, 1), (Far, 2), (Far, 1), (BodyLong, 2),
    ],
    advance_block
}

fn advance_block(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.white()
        && b1.white()
        && b.white()
        && b.c > b1.c
        && b1.c > b2.c
        && b1.o > b2.o
        && b1.o <= b2.c + c.avg(Near, 2)
        && b.o > b1.o
        && b.o <= b1.c + c.avg(Near, 1)
        && b2.body() > c.avg(BodyLong, 2)
        && b2.upper_shadow() < c.avg(ShadowShort, 2)
        && ((b1.body() < b2.body() - c.avg(Far, 2) && b.body() < b1.body() + c.avg(Near, 1))
            || (b.body() < b1.body() - c.avg(Far, 1))
            || (b.body() < b1.body()
                && b1.body() < b2.body()
                && (b.upper_shadow() > c.avg(ShadowShort, 0)
                    || b1.upper_shadow() > c.avg(ShadowShort, 1)))
            || (b.body() < b1.body() && b.upper_shadow() > c.avg(ShadowLong, 0)))
    {
        -100
    } else {
        0
    }
}

/// Evening/morning (doji) star: long first candle, small (or doji) star gapping away,
/// then a real body of the other color closing `penetration` into the first body.
/// `star` is the star's size setting; `sign` is -1 for evening, +1 for morning.
fn star(c: &Candles, penetration: f64, star: super::candle::Setting, sign: i32) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    let shape = b2.body() > c.avg(BodyLong, 2)
        && b1.body() <= c.avg(star, 1)
        && b.body() > c.avg(BodyShort, 0);
    let evening = sign < 0
        && b2.white()
        && body_gap_up(&b1, &b2)
        && b.black()
        && b.c < b2.c - b2.body() * penetration;
    let morning = sign > 0
        && b2.black()
        && body_gap_down(&b1, &b2)
        && b.white()
        && b.c > b2.c + b2.body() * penetration;
    if shape && (evening || morning) {
        sign * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLEVENINGDOJISTAR: long white, doji gapping up, black closing `penetration`
    /// into the first body (-100).
    CdlEveningDojiStar, "CDLEVENINGDOJISTAR", "Evening Doji Star",
    penetration: 0.3,
    lookback: max_period(&[BodyDoji, BodyLong, BodyShort]) + 2,
    totals: [(BodyLong, 2), (BodyDoji, 1), (BodyShort, 0)],
    evening_doji_star
}

fn evening_doji_star(c: &Candles, penetration: f64) -> i32 {
    star(c, penetration, BodyDoji, -1)
}

define_pattern! {
    /// CDLEVENINGSTAR: long white, short body gapping up, black closing `penetration`
    /// into the first body (-100).
    CdlEveningStar, "CDLEVENINGSTAR", "Evening Star",
    penetration: 0.3,
    lookback: max_period(&[BodyShort, BodyLong]) + 2,
    totals: [(BodyLong, 2), (BodyShort, 1), (BodyShort, 0)],
    evening_star
}

fn evening_star(c: &Candles, penetration: f64) -> i32 {
    star(c, penetration, BodyShort, -1)
}

define_pattern! {
    /// CDLMORNINGDOJISTAR: long black, doji gapping down, white closing `penetration`
    /// into the first body (+100).
    CdlMorningDojiStar, "CDLMORNINGDOJISTAR", "Morning Doji Star",
    penetration: 0.3,
    lookback: max_period(&[BodyDoji, BodyLong, BodyShort]) + 2,
    totals: [(BodyLong, 2), (BodyDoji, 1), (BodyShort, 0)],
    morning_doji_star
}

fn morning_doji_star(c: &Candles, penetration: f64) -> i32 {
    star(c, penetration, BodyDoji, 1)
}

define_pattern! {
    /// CDLMORNINGSTAR: long black, short body gapping down, white closing `penetration`
    /// into the first body (+100).
    CdlMorningStar, "CDLMORNINGSTAR", "Morning Star",
    penetration: 0.3,
    lookback: max_period(&[BodyShort, BodyLong]) + 2,
    totals: [(BodyLong, 2), (BodyShort, 1), (BodyShort, 0)],
    morning_star
}

fn morning_star(c: &Candles, penetration: f64) -> i32 {
    star(c, penetration, BodyShort, 1)
}

define_pattern! {
    /// CDLGAPSIDESIDEWHITE: two similar white candles side by side after a gap (+100
    /// after an up gap, -100 after a down gap).
    CdlGapSideSideWhite, "CDLGAPSIDESIDEWHITE", "Up/Down-gap side-by-side white lines",
    lookback: max_period(&[Near, Equal]) + 2,
    totals: [(Near, 1), (Equal, 1)],
    gap_side_side_white
}

fn gap_side_side_white(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    let near = c.avg(Near, 1);
    let eq = c.avg(Equal, 1);
    if ((body_gap_up(&b1, &b2) && body_gap_up(&b, &b2))
        || (body_gap_down(&b1, &b2) && body_gap_down(&b, &b2)))
        && b1.white()
        && b.white()
        && b.body() >= b1.body() - near
        && b.body() <= b1.body() + near
        && b.o >= b1.o - eq
        && b.o <= b1.o + eq
    {
        if body_gap_up(&b1, &b2) { 100 } else { -100 }
    } else {
        0
    }
}

define_pattern! {
    /// CDLIDENTICAL3CROWS: three declining black candles, each opening at the prior
    /// close, with no lower shadows (-100).
    CdlIdentical3Crows, "CDLIDENTICAL3CROWS", "Identical Three Crows",
    lookback: max_period(&[ShadowVeryShort, Equal]) + 2,
    totals: [
        (ShadowVeryShort, 2), (ShadowVeryShort, 1), (ShadowVeryShort, 0),
        (Equal, 2), (Equal, 1),
    ],
    identical_three_crows
}

fn identical_three_crows(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    let eq2 = c.avg(Equal, 2);
    let eq1 = c.avg(Equal, 1);
    if b2.black()
        && b2.lower_shadow() < c.avg(ShadowVeryShort, 2)
        && b1.black()
        && b1.lower_shadow() < c.avg(ShadowVeryShort, 1)
        && b.black()
        && b.lower_shadow() < c.avg(ShadowVeryShort, 0)
        && b2.c > b1.c
        && b1.c > b.c
        && b1.o <= b2.c + eq2
        && b1.o >= b2.c - eq2
        && b.o <= b1.c + eq1
        && b.o >= b1.c - eq1
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLSTALLEDPATTERN: two long rising white candles, then a small one riding on the
    /// second's shoulder (-100).
    CdlStalledPattern, "CDLSTALLEDPATTERN", "Stalled Pattern",
    lookback: max_period(&[BodyLong, BodyShort, ShadowVeryShort, Near]) + 2,
    totals: [
        (BodyLong, 2), (BodyLong, 1), (BodyShort, 0), (ShadowVeryShort, 1),
        (Near, 2), (Near, 1),
    ],
    stalled_pattern
}

fn stalled_pattern(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.white()
        && b1.white()
        && b.white()
        && b.c > b1.c
        && b1.c > b2.c
        && b2.body() > c.avg(BodyLong, 2)
        && b1.body() > c.avg(BodyLong, 1)
        && b1.upper_shadow() < c.avg(ShadowVeryShort, 1)
        && b1.o > b2.o
        && b1.o <= b2.c + c.avg(Near, 2)
        && b.body() < c.avg(BodyShort, 0)
        && b.o >= b1.c - b.body() - c.avg(Near, 1)
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLSTICKSANDWICH: black, white trading above its close, black closing at the
    /// first close (+100).
    CdlStickSandwich, "CDLSTICKSANDWICH", "Stick Sandwich",
    lookback: max_period(&[Equal]) + 2,
    totals: [(Equal, 2)],
    stick_sandwich
}

fn stick_sandwich(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    let eq = c.avg(Equal, 2);
    if b2.black() && b1.white() && b.black() && b1.l > b2.c && b.c <= b2.c + eq && b.c >= b2.c - eq
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLTASUKIGAP: a body gap, then a candle of the other color closing into but not
    /// across it, the two last bodies of near size (±100 by the second's color).
    CdlTasukiGap, "CDLTASUKIGAP", "Tasuki Gap",
    lookback: max_period(&[Near]) + 2,
    totals: [(Near, 1)],
    tasuki_gap
}

fn tasuki_gap(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    let near = c.avg(Near, 1);
    if (body_gap_up(&b1, &b2)
        && b1.white()
        && b.black()
        && b.o < b1.c
        && b.o > b1.o
        && b.c < b1.o
        && b.c > b2.c.max(b2.o)
        && (b1.body() - b.body()).abs() < near)
        || (body_gap_down(&b1, &b2)
            && b1.black()
            && b.white()
            && b.o < b1.o
            && b.o > b1.c
            && b.c > b1.o
            && b.c < b2.c.min(b2.o)
            && (b1.body() - b.body()).abs() < near)
    {
        b1.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLTRISTAR: three dojis, the middle one gapping away (-100 at a top, +100 at a
    /// bottom). TA-Lib compares all three with the first doji's average.
    CdlTristar, "CDLTRISTAR", "Tristar Pattern",
    lookback: max_period(&[BodyDoji]) + 2,
    totals: [(BodyDoji, 2)],
    tristar
}

fn tristar(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    let doji = c.avg(BodyDoji, 2);
    if b2.body() <= doji && b1.body() <= doji && b.body() <= doji {
        let mut out = 0;
        if body_gap_up(&b1, &b2) && b.o.max(b.c) < b1.o.max(b1.c) {
            out = -100;
        }
        if body_gap_down(&b1, &b2) && b.o.min(b.c) > b1.o.min(b1.c) {
            out = 100;
        }
        out
    } else {
        0
    }
}

define_pattern! {
    /// CDLUNIQUE3RIVER: long black, black harami with a lower low, small white opening
    /// above that low (+100).
    CdlUnique3River, "CDLUNIQUE3RIVER", "Unique 3 River",
    lookback: max_period(&[BodyShort, BodyLong]) + 2,
    totals: [(BodyLong, 2), (BodyShort, 0)],
    unique_three_river
}

fn unique_three_river(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.body() > c.avg(BodyLong, 2)
        && b2.black()
        && b1.black()
        && b1.c > b2.c
        && b1.o <= b2.o
        && b1.l < b2.l
        && b.body() < c.avg(BodyShort, 0)
        && b.white()
        && b.o > b1.l
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLUPSIDEGAP2CROWS: long white, small black gapping up, black engulfing it and
    /// closing above the first close (-100).
    CdlUpsideGap2Crows, "CDLUPSIDEGAP2CROWS", "Upside Gap Two Crows",
    lookback: max_period(&[BodyShort, BodyLong]) + 2,
    totals: [(BodyLong, 2), (BodyShort, 1)],
    upside_gap_two_crows
}

fn upside_gap_two_crows(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.white()
        && b2.body() > c.avg(BodyLong, 2)
        && b1.black()
        && b1.body() <= c.avg(BodyShort, 1)
        && body_gap_up(&b1, &b2)
        && b.black()
        && b.o > b1.o
        && b.c < b1.c
        && b.c > b2.c
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLXSIDEGAP3METHODS: two candles of one color with a body gap, then one of the
    /// other color opening in the second body and closing in the first (±100 by the
    /// first's color).
    CdlXSideGap3Methods, "CDLXSIDEGAP3METHODS", "Upside/Downside Gap Three Methods",
    lookback: 2,
    totals: [],
    x_side_gap_three_methods
}

fn x_side_gap_three_methods(c: &Candles) -> i32 {
    let (b2, b1, b) = (c.bar(2), c.bar(1), c.bar(0));
    if b2.color() == b1.color()
        && b1.color() == -b.color()
        && b.o < b1.c.max(b1.o)
        && b.o > b1.c.min(b1.o)
        && b.c < b2.c.max(b2.o)
        && b.c > b2.c.min(b2.o)
        && ((b2.white() && body_gap_up(&b1, &b2)) || (b2.black() && body_gap_down(&b1, &b2)))
    {
        b2.color() * 100
    } else {
        0
    }
}
