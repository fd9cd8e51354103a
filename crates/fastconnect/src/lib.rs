//! Client for SSI FastConnect v2 and v3 ([`v3`]), the API through which QTS trades the Vietnamese market.
//!
//! This crate owns the wire: FC Data (market data) and FC Trading (orders, accounts), each
//! over REST and over classic ASP.NET SignalR streaming. It turns SSI's loosely typed JSON
//! into exact Rust types ([`Decimal`] for money, `time` dates), signs orders, renews tokens,
//! rate-limits itself and reconnects streams. It does not own trading rules (price bands,
//! ticks, lots: `crates/market`) nor any persistence beyond the trading stream's NotifyID.
//!
//! Start at [`DataClient`] for market data and [`TradingClient`] for orders; both are built
//! from a serde config ([`DataConfig`], [`TradingConfig`]) whose defaults point at SSI's
//! production hosts. `docs/fastconnect.md` explains the set-up and the pitfalls handled.

pub mod codes;
pub mod config;
pub mod data;
pub mod decimal;
pub mod error;
mod http;
pub mod provider;
pub mod rate_limit;
mod signalr;
mod token;
pub mod trading;
pub mod v3;
pub mod wire;

pub use codes::{
    Exchange, OrderStatus, OrderType, SecurityType, Side, StopType, TradeSide, TradingMarket,
    TradingSession, TradingStatus,
};
pub use config::{DataConfig, HttpConfig, RateRule, StreamConfig, TradingConfig, TwoFactorType};
pub use data::{Channel, ChannelKind, DataClient, MarketEvent, MarketEvents, MarketSubscription};
pub use decimal::Decimal;
pub use error::{Error, ErrorKind, Result};
pub use provider::{IssuedToken, SharedTokenProvider, TokenKind, TokenProvider};
pub use trading::{ResumeFrom, TradingClient, TradingEvent, TradingEvents, TradingSubscription};
