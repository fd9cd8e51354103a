//! The prediction service. Prediction: ML and quantum-inspired models.
//!
//! State: partial. Besides the shared runtime (HTTP `/api/prediction/v1/info`, OpenAPI and
//! Swagger UI, gRPC `qts.prediction.v1.PredictionService/GetInfo` and health, admin `/live`
//! `/ready` `/metrics`, lifecycle events) it serves portfolio optimisation (`POST
//! /v1/portfolio` and gRPC `OptimisePortfolio`: the `qubo` crate's solvers, judged by branch
//! and bound and the continuous optimum), and predictions ([`predictor`]): it backfills the
//! universe's daily bars through the historical service, trains a ridge model or
//! gradient-boosted trees on the `ml` features (scored walk-forward, saved in a crash-safe
//! registry, retrained on schedule), predicts each symbol from the last complete close and
//! publishes the predictions to `prediction.signal.v1` each trading day for the decision
//! engine; `/v1/predictions` and `/v1/models` (train, evaluate, list, promote) over REST and
//! gRPC. Neural and reinforcement-learning models are not built yet.
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the
//! API tests (`tests/api`) start.

mod app;
mod grpc;
mod http;
pub mod metrics;
pub mod predictor;
pub mod service;
pub mod settings;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[3];
