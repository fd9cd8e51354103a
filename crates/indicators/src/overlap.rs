//! Overlap studies: moving averages (SMA, EMA, WMA, DEMA, TEMA, TRIMA, KAMA, T3, MA,
//! MAVP), BBANDS, SAR, SAREXT, MIDPOINT, MIDPRICE. MAMA and HT_TRENDLINE live in
//! [`crate::cycle`].

mod bands;
mod ma;
mod sar;

pub use bands::{Bbands, MidPoint, MidPrice};
pub(crate) use ma::Delayed;
pub use ma::{AnyMa, Dema, Ema, Kama, Ma, MaType, Mavp, Sma, T3, Tema, Trima, Wma};
pub use sar::{Sar, SarExt};
