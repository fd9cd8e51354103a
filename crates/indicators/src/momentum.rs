//! Momentum indicators: oscillators, directional movement, rates of change.

mod rsi;

pub use rsi::Rsi;
