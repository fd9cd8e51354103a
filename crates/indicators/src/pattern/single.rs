//! One-candle patterns (some also look at the candle before for a gap or a level).

use super::candle::Setting::{
    BodyDoji, BodyLong, BodyShort, Near, ShadowLong, ShadowShort, ShadowVeryLong, ShadowVeryShort,
};
use super::candle::{Candles, body_gap_down, body_gap_up, max_period};
use super::define_pattern;

define_pattern! {
    /// CDLBELTHOLD: a long candle opening at its extreme (white with no lower shadow
    /// +100, black with no upper shadow -100).
    CdlBeltHold, "CDLBELTHOLD", "Belt-hold",
    lookback: max_period(&[BodyLong, ShadowVeryShort]),
    totals: [(BodyLong, 0), (ShadowVeryShort, 0)],
    belt_hold
}

fn belt_hold(c: &Candles) -> i32 {
    let b = c.bar(0);
    let vs = c.avg(ShadowVeryShort, 0);
    if b.body() > c.avg(BodyLong, 0)
        && ((b.white() && b.lower_shadow() < vs) || (b.black() && b.upper_shadow() < vs))
    {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLCLOSINGMARUBOZU: a long candle closing at its extreme (white with no upper
    /// shadow +100, black with no lower shadow -100).
    CdlClosingMarubozu, "CDLCLOSINGMARUBOZU", "Closing Marubozu",
    lookback: max_period(&[BodyLong, ShadowVeryShort]),
    totals: [(BodyLong, 0), (ShadowVeryShort, 0)],
    closing_marubozu
}

fn closing_marubozu(c: &Candles) -> i32 {
    let b = c.bar(0);
    let vs = c.avg(ShadowVeryShort, 0);
    if b.body() > c.avg(BodyLong, 0)
        && ((b.white() && b.upper_shadow() < vs) || (b.black() && b.lower_shadow() < vs))
    {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLDOJI: open quite equal to close (+100).
    CdlDoji, "CDLDOJI", "Doji",
    lookback: max_period(&[BodyDoji]),
    totals: [(BodyDoji, 0)],
    doji
}

fn doji(c: &Candles) -> i32 {
    if c.bar(0).body() <= c.avg(BodyDoji, 0) {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLDRAGONFLYDOJI: a doji with no upper and a long lower shadow (+100).
    CdlDragonflyDoji, "CDLDRAGONFLYDOJI", "Dragonfly Doji",
    lookback: max_period(&[BodyDoji, ShadowVeryShort]),
    totals: [(BodyDoji, 0), (ShadowVeryShort, 0)],
    dragonfly_doji
}

fn dragonfly_doji(c: &Candles) -> i32 {
    let b = c.bar(0);
    let vs = c.avg(ShadowVeryShort, 0);
    if b.body() <= c.avg(BodyDoji, 0) && b.upper_shadow() < vs && b.lower_shadow() > vs {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLGRAVESTONEDOJI: a doji with no lower and a long upper shadow (+100).
    CdlGravestoneDoji, "CDLGRAVESTONEDOJI", "Gravestone Doji",
    lookback: max_period(&[BodyDoji, ShadowVeryShort]),
    totals: [(BodyDoji, 0), (ShadowVeryShort, 0)],
    gravestone_doji
}

fn gravestone_doji(c: &Candles) -> i32 {
    let b = c.bar(0);
    let vs = c.avg(ShadowVeryShort, 0);
    if b.body() <= c.avg(BodyDoji, 0) && b.lower_shadow() < vs && b.upper_shadow() > vs {
        100
    } else {
        0
    }
}

/// Small body, long lower shadow, (almost) no upper shadow: hammer and hanging man.
fn hammer_shape(c: &Candles) -> bool {
    let b = c.bar(0);
    b.body() < c.avg(BodyShort, 0)
        && b.lower_shadow() > c.avg(ShadowLong, 0)
        && b.upper_shadow() < c.avg(ShadowVeryShort, 0)
}

define_pattern! {
    /// CDLHAMMER: small body, long lower shadow, no upper shadow, body near or below
    /// the prior low (+100).
    CdlHammer, "CDLHAMMER", "Hammer",
    lookback: max_period(&[BodyShort, ShadowLong, ShadowVeryShort, Near]) + 1,
    totals: [(BodyShort, 0), (ShadowVeryShort, 0), (Near, 1)],
    hammer
}

fn hammer(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if hammer_shape(c) && b.c.min(b.o) <= b1.l + c.avg(Near, 1) {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLHANGINGMAN: the hammer's shape with the body near or above the prior high
    /// (-100).
    CdlHangingMan, "CDLHANGINGMAN", "Hanging Man",
    lookback: max_period(&[BodyShort, ShadowLong, ShadowVeryShort, Near]) + 1,
    totals: [(BodyShort, 0), (ShadowVeryShort, 0), (Near, 1)],
    hanging_man
}

fn hanging_man(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if hammer_shape(c) && b.c.min(b.o) >= b1.h - c.avg(Near, 1) {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLHIGHWAVE: small body with very long shadows on both sides (±100 by color).
    CdlHighWave, "CDLHIGHWAVE", "High-Wave Candle",
    lookback: max_period(&[BodyShort, ShadowVeryLong]),
    totals: [(BodyShort, 0)],
    high_wave
}

fn high_wave(c: &Candles) -> i32 {
    let b = c.bar(0);
    let vl = c.avg(ShadowVeryLong, 0);
    if b.body() < c.avg(BodyShort, 0) && b.upper_shadow() > vl && b.lower_shadow() > vl {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLINVERTEDHAMMER: small body, long upper shadow, no lower shadow, body gapping
    /// down (+100).
    CdlInvertedHammer, "CDLINVERTEDHAMMER", "Inverted Hammer",
    lookback: max_period(&[BodyShort, ShadowLong, ShadowVeryShort]) + 1,
    totals: [(BodyShort, 0), (ShadowVeryShort, 0)],
    inverted_hammer
}

fn inverted_hammer(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b.body() < c.avg(BodyShort, 0)
        && b.upper_shadow() > c.avg(ShadowLong, 0)
        && b.lower_shadow() < c.avg(ShadowVeryShort, 0)
        && body_gap_down(&b, &b1)
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLLONGLEGGEDDOJI: a doji with one long shadow or two (+100).
    CdlLongLeggedDoji, "CDLLONGLEGGEDDOJI", "Long Legged Doji",
    lookback: max_period(&[BodyDoji, ShadowLong]),
    totals: [(BodyDoji, 0)],
    long_legged_doji
}

fn long_legged_doji(c: &Candles) -> i32 {
    let b = c.bar(0);
    let long = c.avg(ShadowLong, 0);
    if b.body() <= c.avg(BodyDoji, 0) && (b.lower_shadow() > long || b.upper_shadow() > long) {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLLONGLINE: long body with short shadows (±100 by color).
    CdlLongLine, "CDLLONGLINE", "Long Line Candle",
    lookback: max_period(&[BodyLong, ShadowShort]),
    totals: [(BodyLong, 0), (ShadowShort, 0)],
    long_line
}

fn long_line(c: &Candles) -> i32 {
    let b = c.bar(0);
    let short = c.avg(ShadowShort, 0);
    if b.body() > c.avg(BodyLong, 0) && b.upper_shadow() < short && b.lower_shadow() < short {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLMARUBOZU: long body with (almost) no shadows (±100 by color).
    CdlMarubozu, "CDLMARUBOZU", "Marubozu",
    lookback: max_period(&[BodyLong, ShadowVeryShort]),
    totals: [(BodyLong, 0), (ShadowVeryShort, 0)],
    marubozu
}

fn marubozu(c: &Candles) -> i32 {
    let b = c.bar(0);
    let vs = c.avg(ShadowVeryShort, 0);
    if b.body() > c.avg(BodyLong, 0) && b.upper_shadow() < vs && b.lower_shadow() < vs {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLRICKSHAWMAN: a long-legged doji whose body sits near the middle of the range
    /// (+100).
    CdlRickshawMan, "CDLRICKSHAWMAN", "Rickshaw Man",
    lookback: max_period(&[BodyDoji, ShadowLong, Near]),
    totals: [(BodyDoji, 0), (Near, 0)],
    rickshaw_man
}

fn rickshaw_man(c: &Candles) -> i32 {
    let b = c.bar(0);
    let long = c.avg(ShadowLong, 0);
    let near = c.avg(Near, 0);
    if b.body() <= c.avg(BodyDoji, 0)
        && b.lower_shadow() > long
        && b.upper_shadow() > long
        && b.o.min(b.c) <= b.l + b.hl() / 2.0 + near
        && b.o.max(b.c) >= b.l + b.hl() / 2.0 - near
    {
        100
    } else {
        0
    }
}

define_pattern! {
    /// CDLSHOOTINGSTAR: small body, long upper shadow, no lower shadow, body gapping
    /// up (-100).
    CdlShootingStar, "CDLSHOOTINGSTAR", "Shooting Star",
    lookback: max_period(&[BodyShort, ShadowLong, ShadowVeryShort]) + 1,
    totals: [(BodyShort, 0), (ShadowVeryShort, 0)],
    shooting_star
}

fn shooting_star(c: &Candles) -> i32 {
    let (b1, b) = (c.bar(1), c.bar(0));
    if b.body() < c.avg(BodyShort, 0)
        && b.upper_shadow() > c.avg(ShadowLong, 0)
        && b.lower_shadow() < c.avg(ShadowVeryShort, 0)
        && body_gap_up(&b, &b1)
    {
        -100
    } else {
        0
    }
}

define_pattern! {
    /// CDLSHORTLINE: short body with short shadows (±100 by color).
    CdlShortLine, "CDLSHORTLINE", "Short Line Candle",
    lookback: max_period(&[BodyShort, ShadowShort]),
    totals: [(BodyShort, 0), (ShadowShort, 0)],
    short_line
}

fn short_line(c: &Candles) -> i32 {
    let b = c.bar(0);
    let short = c.avg(ShadowShort, 0);
    if b.body() < c.avg(BodyShort, 0) && b.upper_shadow() < short && b.lower_shadow() < short {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLSPINNINGTOP: small body with shadows longer than the body (±100 by color).
    CdlSpinningTop, "CDLSPINNINGTOP", "Spinning Top",
    lookback: max_period(&[BodyShort]),
    totals: [(BodyShort, 0)],
    spinning_top
}

fn spinning_top(c: &Candles) -> i32 {
    let b = c.bar(0);
    if b.body() < c.avg(BodyShort, 0) && b.upper_shadow() > b.body() && b.lower_shadow() > b.body()
    {
        b.color() * 100
    } else {
        0
    }
}

define_pattern! {
    /// CDLTAKURI: a dragonfly doji with a very long lower shadow (+100).
    CdlTakuri, "CDLTAKURI", "Takuri (Dragonfly Doji with very long lower shadow)",
    lookback: max_period(&[BodyDoji, ShadowVeryShort, ShadowVeryLong]),
    totals: [(BodyDoji, 0), (ShadowVeryShort, 0)],
    takuri
}

fn takuri(c: &Candles) -> i32 {
    let b = c.bar(0);
    if b.body() <= c.avg(BodyDoji, 0)
        && b.upper_shadow() < c.avg(ShadowVeryShort, 0)
        && b.lower_shadow() > c.avg(ShadowVeryLong, 0)
    {
        100
    } else {
        0
    }
}
