//! `fcsim`: an offline simulator of SSI FastConnect v2.
//!
//! Owns a synthetic Vietnamese market (the whole HOSE/HNX/UPCoM universe, VN30 futures and
//! the main indices, with generated history and intraday trading that respects every rule
//! of `crates/market`) and serves it with SSI's own protocol: FC Data REST and its classic
//! ASP.NET SignalR hub, FC Trading REST (tokens, OTP, signed orders, queries) and its hub.
//! SSI's SDKs and our `fastconnect` client cannot tell it from the real service.
//!
//! Does not own exchange rules (`market`) nor the wire client (`fastconnect`).
//!
//! Start at [`SimConfig`] and [`serve`]; `docs/simulator.md` explains the model, the demo
//! credentials and what differs from SSI.

pub mod auth;
mod broker;
pub mod clock;
pub mod config;
mod data_api;
pub mod data_hub;
mod rest;
mod rng;
mod sim;
pub mod stats;
pub mod store;
pub mod tape;
mod trading_api;
pub mod trading_hub;
pub mod universe;

pub use broker::MARKET_MAKER;
pub use config::SimConfig;
pub use sim::{Error, Simulator, serve, serve_all, serve_trading};
pub use store::StoreError;
pub use tape::{DaySummary, DayTape, Generator, MarketModel, Trade};
pub use universe::{IndexDef, Instrument, Liquidity, Sector, Universe, UniverseSize};
