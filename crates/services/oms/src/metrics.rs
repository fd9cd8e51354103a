//! Every metric the oms service emits (`oms_*`), registered in the registry `App::build` makes.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Order requests, by result (`placed`, `existing`, `refused`).
    pub requests: IntCounterVec,
    /// Calls to the broker, by call (`place`, `amend`, `cancel`, `find`, `order_book`) and
    /// result (`ok`, `rejected`, `duplicate`, `unknown`).
    pub broker_calls: IntCounterVec,
    /// Order changes stored and published, by kind (`created`, `accepted`, `filled`, ...).
    pub changes: IntCounterVec,
    /// What the account stream delivered, by what became of it (`applied`, `stale`,
    /// `duplicate_fill`, `unknown_order`, `illegal`, `error`, `gap`).
    pub stream: IntCounterVec,
    /// Reconciliations with the broker's order book, by result (`ok`, `error`).
    pub reconciliations: IntCounterVec,
    /// Orders that can still trade.
    pub open_orders: IntGauge,
    /// Wall time from an order request to the broker's answer to the placement.
    pub place_seconds: Histogram,
    /// From a fill at the exchange (the broker's time of it) to the OMS storing it, on the
    /// service clock (market time under a simulated clock).
    pub fill_seconds: Histogram,
    /// Account snapshots for `oms.account.v1`, by result (`published`, `failed`).
    pub account_snapshots: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            requests: IntCounterVec::new(
                Opts::new("oms_order_requests_total", "Order requests, by result"),
                &["result"],
            )?,
            broker_calls: IntCounterVec::new(
                Opts::new(
                    "oms_broker_calls_total",
                    "Calls to the broker, by call and result",
                ),
                &["call", "result"],
            )?,
            changes: IntCounterVec::new(
                Opts::new(
                    "oms_order_changes_total",
                    "Order changes stored and published, by kind",
                ),
                &["kind"],
            )?,
            stream: IntCounterVec::new(
                Opts::new(
                    "oms_stream_events_total",
                    "Account stream events, by what became of them",
                ),
                &["result"],
            )?,
            reconciliations: IntCounterVec::new(
                Opts::new(
                    "oms_reconciliations_total",
                    "Reconciliations with the broker's order book, by result",
                ),
                &["result"],
            )?,
            open_orders: IntGauge::new("oms_open_orders", "Orders that can still trade")?,
            place_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "oms_place_seconds",
                    "Wall time from an order request to the broker's answer",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ]),
            )?,
            fill_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "oms_fill_seconds",
                    "From a fill at the exchange (the broker's time) to the OMS storing it",
                )
                .buckets(vec![
                    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                ]),
            )?,
            account_snapshots: IntCounterVec::new(
                Opts::new(
                    "oms_account_snapshots_total",
                    "Account snapshots published on oms.account.v1, by result",
                ),
                &["result"],
            )?,
        };
        // Every result shows from the start (a dashboard reads the failures).
        for result in ["published", "failed"] {
            m.account_snapshots.with_label_values(&[result]);
        }
        for c in [
            &m.requests,
            &m.broker_calls,
            &m.changes,
            &m.stream,
            &m.reconciliations,
            &m.account_snapshots,
        ] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(m.open_orders.clone()))?;
        registry.register(Box::new(m.place_seconds.clone()))?;
        registry.register(Box::new(m.fill_seconds.clone()))?;
        Ok(m)
    }
}
