//! Every function, by name: its [`Spec`], a constructor from (name, params) returning a
//! boxed [`Indicator`], and the [`State`] enum that carries any indicator's snapshot.
//!
//! Adding a function is one line in the `registry!` list below (see `DESIGN.md`).

use serde::{Deserialize, Serialize};

use crate::indicator::{Indicator, Streaming};
use crate::{Error, Params, Spec};
use crate::{cycle, math, momentum, overlap, pattern, price, statistic, volatility, volume};

macro_rules! registry {
    ($($variant:ident => $ty:ty,)*) => {
        /// The whole state of any registered indicator (parameters included), as returned
        /// by [`Indicator::snapshot`]. Serialise it with any serde format to persist a
        /// stream; restore it into an indicator of the same function.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[allow(clippy::large_enum_variant, reason = "snapshots are rare and short-lived")]
        pub enum State {
            $(
                #[doc = concat!("State of `", stringify!($ty), "`.")]
                $variant($ty),
            )*
        }

        impl State {
            /// The function this snapshot belongs to.
            pub fn function(&self) -> &'static str {
                match self {
                    $(State::$variant(_) => <$ty as Streaming>::SPEC.name,)*
                }
            }

            /// A live indicator continuing from this snapshot.
            pub fn into_indicator(self) -> Box<dyn Indicator> {
                match self {
                    $(State::$variant(v) => Box::new(v),)*
                }
            }
        }

        $(
            impl From<$ty> for State {
                fn from(v: $ty) -> Self {
                    State::$variant(v)
                }
            }

            impl TryFrom<State> for $ty {
                type Error = Error;

                fn try_from(state: State) -> Result<Self, Error> {
                    let found = state.function();
                    if let State::$variant(v) = state {
                        Ok(v)
                    } else {
                        Err(Error::StateMismatch {
                            expected: <$ty as Streaming>::SPEC.name,
                            found,
                        })
                    }
                }
            }
        )*

        static SPECS: &[&Spec] = &[$(<$ty as Streaming>::SPEC,)*];

        fn construct(spec: &'static Spec, params: &Params) -> Result<Box<dyn Indicator>, Error> {
            $(
                if std::ptr::eq(spec, <$ty as Streaming>::SPEC) {
                    return Ok(Box::new(<$ty as Streaming>::from_params(params)?));
                }
            )*
            Err(Error::UnknownFunction(spec.name.to_owned()))
        }
    };
}

registry! {
    // --- overlap studies ---
    Sma => overlap::Sma,
    Ema => overlap::Ema,
    Wma => overlap::Wma,
    Dema => overlap::Dema,
    Tema => overlap::Tema,
    Trima => overlap::Trima,
    Kama => overlap::Kama,
    T3 => overlap::T3,
    Ma => overlap::Ma,
    Mavp => overlap::Mavp,
    Bbands => overlap::Bbands,
    MidPoint => overlap::MidPoint,
    MidPrice => overlap::MidPrice,
    Sar => overlap::Sar,
    SarExt => overlap::SarExt,
    // --- momentum ---
    Adx => momentum::Adx,
    Adxr => momentum::Adxr,
    Dx => momentum::Dx,
    MinusDi => momentum::MinusDi,
    MinusDm => momentum::MinusDm,
    PlusDi => momentum::PlusDi,
    PlusDm => momentum::PlusDm,
    Rsi => momentum::Rsi,
    Stoch => momentum::Stoch,
    StochF => momentum::StochF,
    StochRsi => momentum::StochRsi,
    Willr => momentum::Willr,
    Macd => momentum::Macd,
    MacdExt => momentum::MacdExt,
    MacdFix => momentum::MacdFix,
    Apo => momentum::Apo,
    Ppo => momentum::Ppo,
    Aroon => momentum::Aroon,
    AroonOsc => momentum::AroonOsc,
    Bop => momentum::Bop,
    Cci => momentum::Cci,
    Cmo => momentum::Cmo,
    Mfi => momentum::Mfi,
    Mom => momentum::Mom,
    Roc => momentum::Roc,
    Rocp => momentum::Rocp,
    Rocr => momentum::Rocr,
    Rocr100 => momentum::Rocr100,
    Trix => momentum::Trix,
    UltOsc => momentum::UltOsc,
    // --- volume ---
    Ad => volume::Ad,
    AdOsc => volume::AdOsc,
    Obv => volume::Obv,
    Vwap => volume::Vwap,
    SessionVwap => volume::SessionVwap,
    // --- price transforms ---
    AvgPrice => price::AvgPrice,
    MedPrice => price::MedPrice,
    TypPrice => price::TypPrice,
    WclPrice => price::WclPrice,
    // --- math operators ---
    Max => math::Max,
    Min => math::Min,
    Sum => math::Sum,
    // --- statistics ---
    Beta => statistic::Beta,
    Correl => statistic::Correl,
    LinearReg => statistic::LinearReg,
    LinearRegAngle => statistic::LinearRegAngle,
    LinearRegIntercept => statistic::LinearRegIntercept,
    LinearRegSlope => statistic::LinearRegSlope,
    StdDev => statistic::StdDev,
    Tsf => statistic::Tsf,
    Var => statistic::Var,
    // --- volatility ---
    Atr => volatility::Atr,
    Natr => volatility::Natr,
    TRange => volatility::TRange,
    // --- cycle indicators (and the HT-based overlap studies) ---
    HtDcPeriod => cycle::HtDcPeriod,
    HtDcPhase => cycle::HtDcPhase,
    HtPhasor => cycle::HtPhasor,
    HtSine => cycle::HtSine,
    HtTrendMode => cycle::HtTrendMode,
    HtTrendline => cycle::HtTrendline,
    Mama => cycle::Mama,
    // --- candlestick patterns ---
    Cdl2Crows => pattern::Cdl2Crows,
    Cdl3BlackCrows => pattern::Cdl3BlackCrows,
    Cdl3Inside => pattern::Cdl3Inside,
    Cdl3LineStrike => pattern::Cdl3LineStrike,
    Cdl3Outside => pattern::Cdl3Outside,
    Cdl3StarsInSouth => pattern::Cdl3StarsInSouth,
    Cdl3WhiteSoldiers => pattern::Cdl3WhiteSoldiers,
    CdlAbandonedBaby => pattern::CdlAbandonedBaby,
    CdlAdvanceBlock => pattern::CdlAdvanceBlock,
    CdlBeltHold => pattern::CdlBeltHold,
    CdlBreakaway => pattern::CdlBreakaway,
    CdlClosingMarubozu => pattern::CdlClosingMarubozu,
    CdlConcealBabySwall => pattern::CdlConcealBabySwall,
    CdlCounterAttack => pattern::CdlCounterAttack,
    CdlDarkCloudCover => pattern::CdlDarkCloudCover,
    CdlDoji => pattern::CdlDoji,
    CdlDojiStar => pattern::CdlDojiStar,
    CdlDragonflyDoji => pattern::CdlDragonflyDoji,
    CdlEngulfing => pattern::CdlEngulfing,
    CdlEveningDojiStar => pattern::CdlEveningDojiStar,
    CdlEveningStar => pattern::CdlEveningStar,
    CdlGapSideSideWhite => pattern::CdlGapSideSideWhite,
    CdlGravestoneDoji => pattern::CdlGravestoneDoji,
    CdlHammer => pattern::CdlHammer,
    CdlHangingMan => pattern::CdlHangingMan,
    CdlHarami => pattern::CdlHarami,
    CdlHaramiCross => pattern::CdlHaramiCross,
    CdlHighWave => pattern::CdlHighWave,
    CdlHikkake => pattern::CdlHikkake,
    CdlHikkakeMod => pattern::CdlHikkakeMod,
    CdlHomingPigeon => pattern::CdlHomingPigeon,
    CdlIdentical3Crows => pattern::CdlIdentical3Crows,
    CdlInNeck => pattern::CdlInNeck,
    CdlInvertedHammer => pattern::CdlInvertedHammer,
    CdlKicking => pattern::CdlKicking,
    CdlKickingByLength => pattern::CdlKickingByLength,
    CdlLadderBottom => pattern::CdlLadderBottom,
    CdlLongLeggedDoji => pattern::CdlLongLeggedDoji,
    CdlLongLine => pattern::CdlLongLine,
    CdlMarubozu => pattern::CdlMarubozu,
    CdlMatchingLow => pattern::CdlMatchingLow,
    CdlMatHold => pattern::CdlMatHold,
    CdlMorningDojiStar => pattern::CdlMorningDojiStar,
    CdlMorningStar => pattern::CdlMorningStar,
    CdlOnNeck => pattern::CdlOnNeck,
    CdlPiercing => pattern::CdlPiercing,
    CdlRickshawMan => pattern::CdlRickshawMan,
    CdlRiseFall3Methods => pattern::CdlRiseFall3Methods,
    CdlSeparatingLines => pattern::CdlSeparatingLines,
    CdlShootingStar => pattern::CdlShootingStar,
    CdlShortLine => pattern::CdlShortLine,
    CdlSpinningTop => pattern::CdlSpinningTop,
    CdlStalledPattern => pattern::CdlStalledPattern,
    CdlStickSandwich => pattern::CdlStickSandwich,
    CdlTakuri => pattern::CdlTakuri,
    CdlTasukiGap => pattern::CdlTasukiGap,
    CdlThrusting => pattern::CdlThrusting,
    CdlTristar => pattern::CdlTristar,
    CdlUnique3River => pattern::CdlUnique3River,
    CdlUpsideGap2Crows => pattern::CdlUpsideGap2Crows,
    CdlXSideGap3Methods => pattern::CdlXSideGap3Methods,
}

/// Every registered function's spec, in registry order (grouped as TA-Lib groups them).
pub fn specs() -> &'static [&'static Spec] {
    SPECS
}

/// The spec of the function called `name` (case-insensitive).
pub fn spec(name: &str) -> Result<&'static Spec, Error> {
    SPECS
        .iter()
        .copied()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| Error::UnknownFunction(name.to_owned()))
}

/// Builds the function called `name` from (parameter, value) pairs; missing parameters
/// take TA-Lib's defaults. This is how the TA service configures indicators from TOML.
///
/// ```
/// let mut rsi = indicators::build("rsi", &[("timeperiod", 3.0)]).unwrap();
/// let mut out = [0.0];
/// for close in [10.0, 11.0, 10.5, 11.5] {
///     rsi.update(&[close], &mut out);
/// }
/// assert!((out[0] - 80.0).abs() < 1e-9); // gains 2/3, losses 0.5/3
/// ```
pub fn build(name: &str, params: &[(&str, f64)]) -> Result<Box<dyn Indicator>, Error> {
    let spec = spec(name)?;
    let params = Params::resolve(spec, params)?;
    construct(spec, &params)
}

/// Builds from already checked parameters.
pub fn build_with(params: &Params) -> Result<Box<dyn Indicator>, Error> {
    construct(params.spec(), params)
}
