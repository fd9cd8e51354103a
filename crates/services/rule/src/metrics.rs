//! Every metric the rule service emits (`rule_*`), registered in the registry `App::build`
//! makes.

use prometheus::{IntCounterVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Changes of the active versions, by kind (`activated`, `rolled_back`, `retired`).
    pub changes: IntCounterVec,
    /// Evaluations reported by the services, by service and verdict (`allowed`, `refused`).
    pub evaluations: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            changes: IntCounterVec::new(
                Opts::new(
                    "rule_set_changes_total",
                    "Changes of the active rule set versions, by kind",
                ),
                &["kind"],
            )?,
            evaluations: IntCounterVec::new(
                Opts::new(
                    "rule_evaluations_total",
                    "Rule evaluations reported by the services, by service and verdict",
                ),
                &["service", "verdict"],
            )?,
        };
        registry.register(Box::new(m.changes.clone()))?;
        registry.register(Box::new(m.evaluations.clone()))?;
        Ok(m)
    }
}
