//! The historical service: the market's bars, stored and queryable.
//!
//! Owns: one-minute bars built live from `market.trade.v1` (duplicates dropped, closed by the
//! next minute's trade or by the market clock, stored and published to `market.bar.v1` through
//! the outbox, crash-safe: [`live`]); the bar store on PostgreSQL (typed columns, monthly range
//! partitions, `COPY` upserts) or SQLite ([`store`]); queries with session-aware resampling
//! (1m → 5m, 15m, 30m, 1h, 1D; no bar spans the lunch break or two days), latest bars, index
//! history, daily prices, gaps and CSV export over gRPC and REST ([`service`]); backfills through
//! the broker, resumable, rate-limited, with gap repair ([`backfill`]), started by themselves
//! after a feed gap ([`gaps`]); and the `qts backfill`,
//! `qts export` and `qts bench bars` tools ([`cli`]).
//! Does not own: the feed (ingestion), exchange rules (`market`: sessions, lunch break,
//! calendar), the broker protocol (`broker`).
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the API
//! tests (`tests/api`) start; [`live::LiveBars`] is the consumer.

mod app;
pub mod backfill;
pub mod cli;
pub mod domain;
pub mod gaps;
mod grpc;
mod http;
pub mod live;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod store;

pub use app::{App, market_data};
pub use http::bars_csv;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[1];

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};
