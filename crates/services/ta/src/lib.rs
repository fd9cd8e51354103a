//! The ta service. Technical analysis: indicators over bars.
//!
//! It keeps the configured indicators (any function of the `indicators` crate: TA-Lib's set,
//! VWAP) for every symbol and timeframe (1m from `market.bar.v1`, larger ones rolled up with the
//! exchange's session boundaries), warming each symbol up from the historical service when it is
//! first seen; after every closed bar it publishes a snapshot to `ta.indicator.v1` and stores and
//! publishes signals (crossovers, levels left, band breaks, candlestick patterns) to
//! `ta.signal.v1`. REST `/api/ta/v1/...` and gRPC `qts.ta.v1.TaService` compute any function over
//! stored bars, serve the latest values of a symbol and the signal history.
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the
//! API tests (`tests/api`) start; the rules are in [`domain`], the loop in [`service`].

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
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[2];
