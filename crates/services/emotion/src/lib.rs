//! The emotion service. Market sentiment from news and social text.
//!
//! Collectors ([`collect`]) read the configured news feeds (RSS, Atom, JSON Feed; over HTTP or
//! from files) and integrations push posts (`POST /v1/items`, gRPC `SubmitItems`). Each item is
//! read ([`service::Emotion::ingest`]): language detected, linked to the tickers it mentions
//! (master data's securities, `masterdata.security.v1`), checked against earlier items for
//! near-duplicates, scored with the finance lexicons of the `text` crate, stored, and — unless
//! it repeats an earlier one — published with its score and the time-decayed sentiment of each
//! ticker it mentions and of the market (`news.item.v1`, `sentiment.item.v1`,
//! `sentiment.series.v1`, through the outbox). REST `/api/emotion/v1/...` and gRPC query items,
//! scores and series. Start at [`App`].

mod app;
pub mod collect;
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
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[14];
