//! Every metric the ta service emits (`ta_*`), registered in the registry `App::build` makes.

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Bars closed into the studies, by timeframe.
    pub bars: IntCounterVec,
    /// Signals read off them, by kind.
    pub signals: IntCounterVec,
    /// Symbols warmed up from the historical service, by result (`ok`, `error`).
    pub warmups: IntCounterVec,
    /// Last bars replaced by a corrected one (a late trade).
    pub corrections: IntCounter,
    /// Deliveries on `market.bar.v1` that were not bars.
    pub malformed: IntCounter,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            bars: IntCounterVec::new(
                Opts::new(
                    "ta_bars_total",
                    "Bars closed into the indicators, by timeframe",
                ),
                &["timeframe"],
            )?,
            signals: IntCounterVec::new(
                Opts::new("ta_signals_total", "Signals read off closed bars, by kind"),
                &["kind"],
            )?,
            warmups: IntCounterVec::new(
                Opts::new(
                    "ta_warmups_total",
                    "Symbols warmed up from the historical service, by result",
                ),
                &["result"],
            )?,
            corrections: IntCounter::new(
                "ta_corrections_total",
                "Last bars replaced by a corrected bar (a late trade)",
            )?,
            malformed: IntCounter::new(
                "ta_malformed_bars_total",
                "Deliveries on market.bar.v1 that did not decode as bars",
            )?,
        };
        for c in [&m.bars, &m.signals, &m.warmups] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(m.corrections.clone()))?;
        registry.register(Box::new(m.malformed.clone()))?;
        Ok(m)
    }
}
