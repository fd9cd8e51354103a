//! `fcsim`: an offline simulator of SSI FastConnect v2 and v3.
//!
//! Owns a synthetic Vietnamese market (the whole HOSE/HNX/UPCoM universe, VN30 futures and
//! the main indices, with generated history and intraday trading that respects every rule
//! of `crates/market`) and serves it with SSI's own protocol: FC Data REST and its classic
//! ASP.NET SignalR hub, FC Trading REST (tokens, OTP, signed orders, queries) and its hub;
//! and FastConnect v3 beside it over the same broker and accounts (`v3`: auth with OTP,
//! Smart OTP and refresh tokens, data and trading REST, FCO, the `/ws/v3` stream, also over
//! TLS). SSI's SDKs and our `fastconnect` client cannot tell it from the real service.
//! Beside them, a simulated news site (`news`): Vietnamese and English headlines generated
//! from the market's own moves, served as an RSS feed on the FC Data port.
//!
//! Does not own exchange rules (`market`) nor the wire client (`fastconnect`).
//!
//! Start at [`SimConfig`] and [`serve`]; `docs/simulator.md` explains the model, the demo
//! credentials and what differs from SSI.
//!
//! Modules depend one way: market generation (`universe`, `tape`, `history`) → the live
//! day (`live`) and the news of the generated moves (`news`) → the broker and its store
//! (`broker`, `store`) → the trading desk that runs them on their own thread (`desk`) → the
//! simulator (`sim`, with `auth` and `quota`) → the HTTP and hub modules (`rest`,
//! `data_api`, `data_hub`, `trading_api`, `trading_hub`, over `http` and `signalr`; `v3`
//! over the same desk and the FC Data rows; `news_api` on the FC Data port) → the servers
//! (`server`).

pub mod auth;
mod broker;
pub mod clock;
pub mod config;
mod data_api;
pub mod data_hub;
mod desk;
mod history;
mod http;
mod live;
pub mod news;
mod news_api;
mod quota;
mod rest;
mod rng;
mod server;
mod signalr;
mod sim;
pub mod stats;
pub mod store;
pub mod tape;
mod trading_api;
pub mod trading_hub;
pub mod universe;
mod v3;

pub use broker::{MARKET_MAKER, Sizes};
pub use config::{ConfigError, SimConfig};
pub use news::{Lang, NewsItem, NewsKind, NewsQuery, Polarity};
pub use server::{Local, serve, serve_all, serve_trading, serve_v3_tls};
pub use sim::{Error, Simulator};
pub use store::StoreError;
pub use tape::{DaySummary, DayTape, Generator, MarketModel, Trade};
pub use universe::{IndexDef, Instrument, Liquidity, Sector, Universe, UniverseSize};
