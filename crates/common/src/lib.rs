//! The shared runtime of every QTS service.
//!
//! Owns: the service skeleton in [`server`], the Prometheus [`metrics`], graceful [`shutdown`],
//! relational [`store`] (typed PostgreSQL and SQLite pools, outbox, inbox and the outbox relay),
//! the [`consumer`] loop (inbox de-duplication, retries, dead letters), the [`cache`] (Redis and
//! in-memory), the Kafka [`bus`] implementation, secrets at rest ([`crypto`]: AES-256-GCM under
//! a master key), the [`remote_config`] client (a service's configuration and flags from the
//! config service, live) and the edge of [`error`] handling (`ApiError`).
//! Does not own: any service's behaviour or any exchange rule (see the `market` crate).
//!
//! The light parts live in their own crates, re-exported here under their old names, so that a
//! domain crate can use them without linking axum, tonic, sqlx, redis or librdkafka:
//! `common-error` ([`error`]: `Kind`, `Classify`, `chain`), `common-settings` ([`settings`],
//! [`registry`]), `common-telemetry` ([`telemetry`]) and `common-bus` ([`bus`]: the envelope, the
//! trait, topics, the embedded bus). Dependencies point down: this crate uses those, never the
//! reverse.
//!
//! Start at [`service::Service`]: what a service is to its `main`, to `qts up` and to its tests.
//! Its `build` gets its [`settings::Settings`] and connected [`server::Backends`] and binds a
//! [`server::Host`] with its HTTP and gRPC routes.

pub mod auth;
pub mod bus;
pub mod cache;
pub mod consumer;
pub mod crypto;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod remote_config;
pub mod retry;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod ssi_tokens;
pub mod store;
pub mod telemetry;

pub use common_settings as settings;
pub use common_settings::registry;
