//! Every metric the historical service emits.

use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

/// The service's own metrics.
#[derive(Clone)]
pub struct Metrics {
    trades: IntCounterVec,
    bars: IntCounterVec,
    batch_seconds: Histogram,
    batch_size: Histogram,
    backfill_rows: IntCounter,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let trades = IntCounterVec::new(
            Opts::new(
                "historical_trades_total",
                "Trades consumed, by outcome (counted, duplicate, late, rejected)",
            ),
            &["outcome"],
        )?;
        let bars = IntCounterVec::new(
            Opts::new(
                "historical_bars_closed_total",
                "One-minute bars closed, by what closed them (trade, clock)",
            ),
            &["by"],
        )?;
        let batch_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "historical_batch_duration_seconds",
                "Time to apply and store one batch of trades",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        )?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("historical_batch_size", "Deliveries per batch").buckets(vec![
                1.0, 10.0, 100.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
            ]),
        )?;
        let backfill_rows = IntCounter::new(
            "historical_backfill_rows_total",
            "Rows written by backfill jobs",
        )?;
        registry.register(Box::new(trades.clone()))?;
        registry.register(Box::new(bars.clone()))?;
        registry.register(Box::new(batch_seconds.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(backfill_rows.clone()))?;
        Ok(Self {
            trades,
            bars,
            batch_seconds,
            batch_size,
            backfill_rows,
        })
    }

    /// Metrics registered nowhere (tools and tests).
    pub fn unregistered() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "a fresh registry has none of these names"
        )]
        Self::register(&Registry::new()).expect("fresh registry")
    }

    pub(crate) fn observe_batch(&self, size: usize, took: Duration) {
        self.batch_size.observe(size as f64);
        self.batch_seconds.observe(took.as_secs_f64());
    }

    pub(crate) fn count_trades(&self, counted: u64, duplicate: u64, late: u64, rejected: u64) {
        for (outcome, n) in [
            ("counted", counted),
            ("duplicate", duplicate),
            ("late", late),
            ("rejected", rejected),
        ] {
            if n > 0 {
                self.trades.with_label_values(&[outcome]).inc_by(n);
            }
        }
    }

    pub(crate) fn count_bars(&self, by_trade: u64, by_clock: u64) {
        self.bars.with_label_values(&["trade"]).inc_by(by_trade);
        self.bars.with_label_values(&["clock"]).inc_by(by_clock);
    }

    pub(crate) fn count_backfill_rows(&self, n: u64) {
        self.backfill_rows.inc_by(n);
    }
}
