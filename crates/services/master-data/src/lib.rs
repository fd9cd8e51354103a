//! The master-data service. Master data: securities, indices, calendars.
//!
//! State: skeleton. It serves the shared runtime (HTTP `/api/master-data/v1/info`, OpenAPI and Swagger
//! UI, gRPC `qts.master_data.v1.MasterDataService/GetInfo` and health, admin `/live` `/ready` `/metrics`,
//! lifecycle events); its own behaviour comes with the issue that builds it.
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the
//! API tests (`tests/api`) start.

mod app;
mod grpc;
pub mod settings;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[7];
