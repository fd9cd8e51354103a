//! Candlestick patterns (CDL*): outputs 0, ±100 or ±200 as `f64`, as TA-Lib does.
//!
//! Every pattern is a `Candles` (`pattern/candle.rs`: the last bars plus TA-Lib's running totals of
//! each candle setting) and a detection function over the newest bars, written after
//! TA-Lib's `ta_CDL*.c` with the same comparisons in the same order, so thresholds match
//! bit for bit. Candle settings are TA-Lib's defaults.

mod candle;
mod multi;
mod single;
mod three;
mod two;

pub use multi::{
    Cdl3LineStrike, CdlBreakaway, CdlConcealBabySwall, CdlHikkake, CdlHikkakeMod, CdlLadderBottom,
    CdlMatHold, CdlRiseFall3Methods,
};
pub use single::{
    CdlBeltHold, CdlClosingMarubozu, CdlDoji, CdlDragonflyDoji, CdlGravestoneDoji, CdlHammer,
    CdlHangingMan, CdlHighWave, CdlInvertedHammer, CdlLongLeggedDoji, CdlLongLine, CdlMarubozu,
    CdlRickshawMan, CdlShootingStar, CdlShortLine, CdlSpinningTop, CdlTakuri,
};
pub use three::{
    Cdl2Crows, Cdl3BlackCrows, Cdl3Inside, Cdl3Outside, Cdl3StarsInSouth, Cdl3WhiteSoldiers,
    CdlAbandonedBaby, CdlAdvanceBlock, CdlEveningDojiStar, CdlEveningStar, CdlGapSideSideWhite,
    CdlIdentical3Crows, CdlMorningDojiStar, CdlMorningStar, CdlStalledPattern, CdlStickSandwich,
    CdlTasukiGap, CdlTristar, CdlUnique3River, CdlUpsideGap2Crows, CdlXSideGap3Methods,
};
pub use two::{
    CdlCounterAttack, CdlDarkCloudCover, CdlDojiStar, CdlEngulfing, CdlHarami, CdlHaramiCross,
    CdlHomingPigeon, CdlInNeck, CdlKicking, CdlKickingByLength, CdlMatchingLow, CdlOnNeck,
    CdlPiercing, CdlSeparatingLines, CdlThrusting,
};

/// Open, high, low, close: the inputs of every pattern.
const OHLC: &[crate::Input] = &[
    crate::Input::Open,
    crate::Input::High,
    crate::Input::Low,
    crate::Input::Close,
];

/// Declares a pattern type: the struct (its [`candle::Candles`], plus the penetration
/// when it has one) and its `Streaming` impl calling `$detect` on every output bar.
macro_rules! define_pattern {
    (
        $(#[$doc:meta])*
        $ty:ident, $name:literal, $desc:literal,
        lookback: $lookback:expr,
        totals: [$(($set:ident, $back:literal)),* $(,)?],
        $detect:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $ty {
            c: $crate::pattern::candle::Candles,
        }

        impl $crate::Streaming for $ty {
            const SPEC: &'static $crate::Spec = &$crate::Spec {
                name: $name,
                group: $crate::Group::Pattern,
                description: $desc,
                inputs: $crate::pattern::OHLC,
                params: &[],
                outputs: &["integer"],
            };

            fn from_params(_: &$crate::Params) -> Result<Self, $crate::Error> {
                Ok($ty {
                    c: $crate::pattern::candle::Candles::new(
                        $lookback,
                        &[$(($crate::pattern::candle::Setting::$set, $back)),*],
                    ),
                })
            }

            fn lookback(&self) -> usize {
                self.c.lookback()
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                out[0] = if self.c.push(input) {
                    let r = $detect(&self.c);
                    self.c.roll();
                    f64::from(r)
                } else {
                    f64::NAN
                };
            }
        }
    };
    (
        $(#[$doc:meta])*
        $ty:ident, $name:literal, $desc:literal,
        penetration: $pen:literal,
        lookback: $lookback:expr,
        totals: [$(($set:ident, $back:literal)),* $(,)?],
        $detect:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $ty {
            c: $crate::pattern::candle::Candles,
            penetration: f64,
        }

        impl $crate::Streaming for $ty {
            const SPEC: &'static $crate::Spec = &$crate::Spec {
                name: $name,
                group: $crate::Group::Pattern,
                description: $desc,
                inputs: $crate::pattern::OHLC,
                params: &[$crate::ParamSpec::real("penetration", $pen, 0.0, 3.0e37)],
                outputs: &["integer"],
            };

            fn from_params(p: &$crate::Params) -> Result<Self, $crate::Error> {
                Ok($ty {
                    c: $crate::pattern::candle::Candles::new(
                        $lookback,
                        &[$(($crate::pattern::candle::Setting::$set, $back)),*],
                    ),
                    penetration: p.real("penetration")?,
                })
            }

            fn lookback(&self) -> usize {
                self.c.lookback()
            }

            #[inline]
            fn update(&mut self, input: &[f64], out: &mut [f64]) {
                out[0] = if self.c.push(input) {
                    let r = $detect(&self.c, self.penetration);
                    self.c.roll();
                    f64::from(r)
                } else {
                    f64::NAN
                };
            }
        }
    };
}

pub(crate) use define_pattern;
