//! Momentum indicators: oscillators, directional movement, rates of change.

mod dm;
mod rsi;

pub use dm::{Adx, Adxr, Dx, MinusDi, MinusDm, PlusDi, PlusDm};
pub use rsi::Rsi;
