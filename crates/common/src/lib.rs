//! The shared runtime of every QTS service.
//!
//! Owns: layered [`settings`], [`telemetry`] (logs, traces, context propagation), Prometheus
//! [`metrics`], the one [`error`] classification, the service [`registry`], the service
//! skeleton in [`server`], graceful [`shutdown`], the [`bus`] (embedded and Kafka), relational
//! [`store`] (PostgreSQL and SQLite) and the [`cache`] (Redis and in-memory).
//! Does not own: any service's behaviour or any exchange rule (see the `market` crate).
//!
//! Start at [`server::Host`]: a service's `App::build` loads [`settings::ServiceSettings`],
//! connects [`server::Backends`], and binds a host with its HTTP and gRPC routes.

pub mod bus;
pub mod cache;
pub mod error;
pub mod metrics;
pub mod registry;
pub mod server;
pub mod settings;
pub mod shutdown;
pub mod store;
pub mod telemetry;
