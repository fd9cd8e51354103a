//! The oms service. Order management: orders placed, amended and cancelled through the broker
//! exactly once, their life and fills stored and published.
//!
//! Every order is stored with its SSI requestID before it is sent, and every resend (after a
//! timeout, a lost answer or a restart) uses the same requestID, which the broker refuses as a
//! duplicate: nothing is placed twice. The broker's account stream moves orders through the
//! state machine of [`domain`]; on start and after every stream gap the OMS reconciles with the
//! broker's order book (fills the stream missed are taken from it) before it accepts orders.
//! Every change is stored with its journal row and its event (`oms.order.v1`, `oms.fill.v1`)
//! in one transaction. REST `/api/oms/v1/...` and gRPC `qts.oms.v1.OmsService` place, amend,
//! cancel and list orders, fills and journals, and read the broker's positions and cash.
//! Start at [`App`]; the rules are in [`domain`], the use cases in [`service`].

pub mod algo;
mod app;
pub mod conditional;
pub mod domain;
mod grpc;
mod http;
pub mod ledger;
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
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[6];
