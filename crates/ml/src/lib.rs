//! The machine learning behind the prediction service: a feature pipeline over a panel of
//! daily bars (many symbols, one row per date) that runs incrementally as each date's bars
//! arrive and identically in batch (batch is the incremental pipeline replayed), labels as
//! forward returns, a check that no feature uses data from after its date, models (ridge,
//! gradient-boosted trees and a small neural network, [`model`]), training in one call ([`train`]), and walk-forward
//! validation with purged, embargoed splits scored by IC, rank IC, ICIR and hit
//! rate.
//!
//! Start with [`Panel`], [`features::Pipeline`] (or [`features::batch`]), [`labels::forward_returns`]
//! and [`validate::walk_forward`]. Does not own: where bars come from (the historical service,
//! `qts backtest`'s sources), serving predictions, or trading on them.

pub mod days;
pub mod features;
pub mod labels;
pub mod leak;
pub mod linear;
pub mod model;
pub mod net;
mod panel;
pub mod registry;
pub mod select;
mod stats;
pub mod synthetic;
pub mod train;
pub mod validate;

pub use panel::{Panel, PanelError};
