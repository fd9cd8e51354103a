//! Overlap studies: moving averages (SMA, EMA, WMA, DEMA, TEMA, TRIMA, KAMA, T3, MA,
//! MAVP), BBANDS, SAR, SAREXT, MIDPOINT, MIDPRICE. MAMA and HT_TRENDLINE live in
//! [`crate::cycle`].

mod bands;
mod ma;
mod sar;

pub use bands::{Bbands, MidPoint, MidPrice};
pub use ma::{AnyMa, Dema, Ema, Kama, Ma, MaType, Mavp, Sma, T3, Tema, Trima, Wma};
pub(crate) use ma::{Delayed, ema_step, sma_step};
pub use sar::{Sar, SarExt};
