//! The oms service. Order management: orders, balances, positions, 2FA.
//!
//! State: skeleton. It serves the shared runtime (HTTP `/api/oms/v1/info`, OpenAPI and Swagger
//! UI, gRPC `qts.oms.v1.OmsService/GetInfo` and health, admin `/live` `/ready` `/metrics`,
//! lifecycle events); its own behaviour comes with the issue that builds it.
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the
//! API tests (`tests/api`) start.

mod app;
mod grpc;
pub mod settings;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[6];
