//! Every metric the prediction service emits (`prediction_*`), registered in the registry
//! `App::build` makes.

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Predictions published to `prediction.signal.v1`.
    pub published: IntCounter,
    /// Models trained, by how (`scheduled`, `api`) and outcome (`promoted`, `saved`,
    /// `evaluated`, `failed`).
    pub trainings: IntCounterVec,
    /// Refreshes (bars loaded, model checked, predictions made) that failed.
    pub refresh_failures: IntCounter,
    /// The promoted model's version (0: none).
    pub model_version: IntGauge,
    /// The promoted model's out-of-sample IC (NaN when unknown).
    pub model_ic: Gauge,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            published: IntCounter::new(
                "prediction_published_total",
                "Predictions published to prediction.signal.v1",
            )?,
            trainings: IntCounterVec::new(
                Opts::new(
                    "prediction_trainings_total",
                    "Models trained, by how and outcome",
                ),
                &["how", "outcome"],
            )?,
            refresh_failures: IntCounter::new(
                "prediction_refresh_failures_total",
                "Refreshes of bars, model and predictions that failed (retried with backoff)",
            )?,
            model_version: IntGauge::new(
                "prediction_model_version",
                "The promoted model's version (0: none)",
            )?,
            model_ic: Gauge::new(
                "prediction_model_ic",
                "The promoted model's out-of-sample information coefficient",
            )?,
        };
        registry.register(Box::new(m.published.clone()))?;
        registry.register(Box::new(m.trainings.clone()))?;
        registry.register(Box::new(m.refresh_failures.clone()))?;
        registry.register(Box::new(m.model_version.clone()))?;
        registry.register(Box::new(m.model_ic.clone()))?;
        Ok(m)
    }
}
