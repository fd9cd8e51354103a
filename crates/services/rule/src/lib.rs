//! The rule service. Dynamic business rules.
//!
//! Owns the rule sets (crates/rules `RuleSetDoc`: CEL rules and decision tables for `order`,
//! `decision` or `alert` targets) and their versions: written as drafts, submitted for review, approved
//! into activity (four eyes when `[rule] four_eyes`), rolled back or retired in one call, each
//! step stored with who and when. A document is type-checked and cost-bounded when saved and
//! again before activation. The active version of every set is pushed on the compacted topic
//! `rule.set.v1` in the activation's transaction; the risk service, the decision engine and
//! the TA service (alerts) follow it (`rules::Rules`) and evaluate locally, so a change applies to the next order with
//! no restart and no network hop on the order path. They report every evaluation on
//! `rule.evaluation.v1`; this service keeps them: the refused ones are the audit trail, and a
//! what-if replays a draft on them against the active version.
//! Start at [`App`]; the use cases are in [`service`].

mod app;
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
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[8];
