//! The prediction service. Prediction: ML and quantum-inspired models.
//!
//! State: partial. Besides the shared runtime (HTTP `/api/prediction/v1/info`, OpenAPI and
//! Swagger UI, gRPC `qts.prediction.v1.PredictionService/GetInfo` and health, admin `/live`
//! `/ready` `/metrics`, lifecycle events) it serves portfolio optimisation
//! (`POST /v1/portfolio` and gRPC `OptimisePortfolio`: the `qubo` crate's solvers, judged by branch and bound and the
//! continuous optimum). Predictions, training and the signal topic are not built yet (the
//! models are in the `ml` crate).
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the
//! API tests (`tests/api`) start.

mod app;
mod grpc;
mod http;
pub mod service;
pub mod settings;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[3];
