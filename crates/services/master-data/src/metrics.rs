//! Every metric the master-data service emits (`master_data_*`), registered in the registry
//! `App::build` makes.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Syncs by result (`ok`, `error`).
    pub syncs: IntCounterVec,
    /// How long a sync took.
    pub sync_seconds: Histogram,
    /// Securities published by the latest syncs and edits.
    pub published: IntCounterVec,
    /// Bands derived with `market`'s rules (the broker had none for the day yet).
    pub derived: IntCounter,
    /// The trading day of the latest sync, as YYYYMMDD.
    pub synced_day: IntGauge,
    /// Cache lookups by result (`hit`, `miss`).
    pub lookups: IntCounterVec,
    /// Change events applied to the cache (entries dropped).
    pub invalidations: IntCounter,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            syncs: IntCounterVec::new(
                Opts::new(
                    "master_data_syncs_total",
                    "Syncs from the broker, by result",
                ),
                &["result"],
            )?,
            sync_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "master_data_sync_seconds",
                    "Duration of a sync from the broker",
                )
                .buckets(vec![0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0]),
            )?,
            published: IntCounterVec::new(
                Opts::new(
                    "master_data_securities_published_total",
                    "Securities written to masterdata.security.v1, by cause (sync, edit)",
                ),
                &["cause"],
            )?,
            derived: IntCounter::new(
                "master_data_bands_derived_total",
                "Day bands derived with market's rules because the broker had none yet",
            )?,
            synced_day: IntGauge::new(
                "master_data_synced_trading_day",
                "Trading day of the latest successful sync, as YYYYMMDD",
            )?,
            lookups: IntCounterVec::new(
                Opts::new(
                    "master_data_cache_lookups_total",
                    "Lookups of one security, by cache result (hit, miss)",
                ),
                &["result"],
            )?,
            invalidations: IntCounter::new(
                "master_data_cache_invalidations_total",
                "Change events on masterdata.security.v1 applied to the cache",
            )?,
        };
        registry.register(Box::new(m.syncs.clone()))?;
        registry.register(Box::new(m.sync_seconds.clone()))?;
        registry.register(Box::new(m.published.clone()))?;
        registry.register(Box::new(m.derived.clone()))?;
        registry.register(Box::new(m.synced_day.clone()))?;
        // Both results exist from the start, at 0.
        for result in ["hit", "miss"] {
            let _ = m.lookups.with_label_values(&[result]);
        }
        registry.register(Box::new(m.lookups.clone()))?;
        registry.register(Box::new(m.invalidations.clone()))?;
        Ok(m)
    }
}
