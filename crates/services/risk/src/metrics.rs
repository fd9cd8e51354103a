//! Every metric the risk service emits (`risk_*`), registered in the registry `App::build` makes.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Checks, by result (`accepted`, `rejected`, `unavailable`).
    pub checks: IntCounterVec,
    /// Broken rules, by rule.
    pub rejections: IntCounterVec,
    /// Kill switches engaged and released.
    pub kill_switches: IntCounterVec,
    /// Bus events applied, by kind (`security`, `fill`, `order_ended`, `duplicate_fill`,
    /// `malformed`).
    pub events: IntCounterVec,
    /// Time one check takes inside the engine.
    pub check_seconds: Histogram,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            checks: IntCounterVec::new(
                Opts::new("risk_checks_total", "Pre-trade checks, by result"),
                &["result"],
            )?,
            rejections: IntCounterVec::new(
                Opts::new(
                    "risk_rejections_total",
                    "Rules broken by checked orders, by rule",
                ),
                &["rule"],
            )?,
            kill_switches: IntCounterVec::new(
                Opts::new(
                    "risk_kill_switch_changes_total",
                    "Kill switches engaged and released",
                ),
                &["change"],
            )?,
            events: IntCounterVec::new(
                Opts::new(
                    "risk_events_total",
                    "Bus events applied to the risk state, by kind",
                ),
                &["kind"],
            )?,
            check_seconds: Histogram::with_opts(
                HistogramOpts::new("risk_check_seconds", "Time one check takes in the engine")
                    .buckets(vec![1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3]),
            )?,
        };
        for c in [&m.checks, &m.rejections, &m.kill_switches, &m.events] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(m.check_seconds.clone()))?;
        Ok(m)
    }
}
