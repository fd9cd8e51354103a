//! Momentum indicators: oscillators, directional movement, rates of change.

mod dm;
mod macd;
mod osc;
mod rsi;
mod stoch;

pub use dm::{Adx, Adxr, Dx, MinusDi, MinusDm, PlusDi, PlusDm};
pub use macd::{Apo, Macd, MacdExt, MacdFix, Ppo};
pub use osc::{Aroon, AroonOsc, Bop, Cci, Cmo, Mfi, Mom, Roc, Rocp, Rocr, Rocr100, Trix, UltOsc};
pub use rsi::Rsi;
pub(crate) use stoch::HighLow;
pub use stoch::{Stoch, StochF, StochRsi, Willr};
