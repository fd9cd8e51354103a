//! The ingestion service: the broker's live market-data feed into the event bus.
//!
//! Owns: following the market calendar and the broker's stream (whole market: trades,
//! quotes, odd lots, indexes, foreign room, bars, status), publishing every message as
//! received (`market.raw.v1`), and turning the raw feed — live, or a recorded day from
//! `qts replay` — into validated, enriched, de-duplicated messages on the normalised topics
//! (`market.trade.v1`, `market.quote.v1`, ...), rejects with their reason on
//! `market.rejected.v1`; the latest snapshot of every symbol (REST/gRPC); the feed's status
//! and metrics.
//! Does not own: the wire protocol (`fastconnect`, behind `broker`), exchange rules
//! (`market`), securities (master data, read from `masterdata.security.v1`), bars
//! (historical builds them from the trade topic).
//!
//! Start at [`App`]; the rules are in [`domain`], the tasks in [`service`], the raw feed and
//! the calendar in [`feed`] (also used by `qts record`), day files in [`record`].

mod app;
pub mod domain;
pub mod feed;
mod grpc;
pub mod http;
pub mod metrics;
pub mod record;
pub mod service;
pub mod settings;
pub mod state;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[0];
