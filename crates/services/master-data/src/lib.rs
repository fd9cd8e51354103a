//! The master-data service: the authoritative list of securities, indexes and the trading
//! calendar, and every security's trading rules.
//!
//! Owns:
//! - the securities of HOSE, HNX, UPCoM and the derivatives market with their details
//!   (exchange, kind, lot, listed shares, names, sector, status, index membership, foreign
//!   room) and each trading day's reference, ceiling and floor, synced from the broker
//!   (`broker::MarketData`, v2 or v3) before every trading day's first session by the market
//!   clock and on demand, stored in its own tables (`migrations/`, from 1000);
//! - publishing every changed security to `masterdata.security.v1` (`qts.market.v1.Security`,
//!   key symbol) through the transactional outbox, so ingestion validates and enriches the
//!   live feed from it;
//! - manual edits of name, sector and status with an audit trail (kept by later syncs);
//! - queries over gRPC (`qts.master_data.v1.MasterDataService`) and REST
//!   (`/api/master-data/v1/...`): filtered, paginated securities, indexes, the calendar and
//!   per-security trading rules, all rules from `crates/market`;
//! - the cache of hot lookups (`backends.cache`), invalidated by the change events.
//!
//! Does not own: exchange rules (`market`), the wire (`broker`, `fastconnect`), the live feed
//! (ingestion).
//!
//! Start at [`App`] (the `common::service::Service` impl `main`, `qts up` and `tests/api`
//! start), then [`service::MasterData`] (every use case) and `sync.rs` (what a sync reads and
//! derives, and when it runs).

mod app;
mod convert;
pub mod domain;
mod grpc;
mod http;
pub mod metrics;
pub mod rules;
pub mod service;
pub mod settings;
mod store;
mod sync;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[7];
