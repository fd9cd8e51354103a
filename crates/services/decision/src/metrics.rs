//! Every metric the decision service emits (`decision_*`), registered in the registry
//! `App::build` makes.

use prometheus::{IntCounterVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Decisions, by outcome (`sent`, `rejected`, `failed`, `repeated`).
    pub decisions: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            decisions: IntCounterVec::new(
                Opts::new("decision_decisions_total", "Strategy decisions, by outcome"),
                &["outcome"],
            )?,
        };
        registry.register(Box::new(m.decisions.clone()))?;
        Ok(m)
    }
}
