//! The monitoring service. Fleet monitoring: health, consumer lag, SLO status, alerts.
//!
//! It knows the fleet from the registry: every service's admin `/ready` is probed every
//! `fleet.probe_interval_ms` (at `fleet.targets`, or the service's Kubernetes Service), its
//! instances come from `system.lifecycle.v1`, every consumer group's lag is read from the bus
//! (committed offsets against the topics' ends), SLO status from Prometheus's recording rules
//! (`deploy/prometheus/rules/slo.yml`) and the alerts firing from Alertmanager's API, when
//! their URLs are set. It serves them over REST (`/v1/fleet`, `/v1/lag`, `/v1/alerts`; role
//! `ops`) and gRPC, a public status page (`/v1/status`, health only), Prometheus HTTP service
//! discovery on its admin port (`/sd`: every service's admin endpoint with its `service`
//! label) and exports `qts_fleet_service_ready`, `qts_fleet_instances`,
//! `qts_bus_consumer_lag_messages` and `qts_bus_consumer_members`, which the alert rules and
//! dashboards in `deploy/` read.
//! Start at [`App`] and [`watch::Watch`].

mod app;
mod grpc;
mod http;
pub mod metrics;
pub mod settings;
pub mod watch;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[16];
