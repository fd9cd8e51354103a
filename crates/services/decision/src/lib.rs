//! The decision service. Turns technical signals into orders.
//!
//! Strategies ([`domain::Strategy`]; the configured ones are [`domain::SignalFollower`]s:
//! moving-average crossover, RSI mean reversion, band breakout) read `ta.signal.v1`, decide
//! with what they hold and have open (rebuilt from the OMS's `oms.order.v1` / `oms.fill.v1`)
//! and the last trade (`market.trade.v1`), and send limit orders carrying their id through the
//! OMS (whose risk check applies). Every decision is stored with its reason before it is sent;
//! its OMS client id comes from the signal id, so a redelivered signal never orders twice.
//! The rule service's active rule sets of target `decision` judge each decision before it is
//! sent: a refusal is recorded as `refused` with the rule, a `quantity_factor` scales a buy.
//! REST `/api/decision/v1/...` and gRPC list and switch strategies and list decisions.
//! Start at [`App`].

mod app;
pub mod domain;
mod grpc;
mod http;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod store;

pub use app::App;

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[4];
