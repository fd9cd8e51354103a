//! Every metric the ingestion service emits (prefix `ingestion_`).

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::domain::{Channel, RejectReason};

/// The service's metrics; the status API reads its counters back from here.
#[derive(Clone)]
pub struct Metrics {
    /// Raw messages received from the broker, by channel (`rate()` gives messages/s).
    pub received: IntCounterVec,
    /// Normalised messages published, by channel.
    pub published: IntCounterVec,
    /// Raw messages rejected, by reason.
    pub rejected: IntCounterVec,
    /// Duplicates dropped, by channel.
    pub duplicates: IntCounterVec,
    /// Stream reconnects.
    pub reconnects: IntCounter,
    /// Gaps (events may have been missed).
    pub gaps: IntCounter,
    /// 1 while the feed is connected.
    pub connected: IntGauge,
    /// Market-clock seconds from a trade's exchange time to its normalised publication.
    pub lag: Histogram,
    /// Wall seconds from a raw message's publication to its normalised publication.
    pub pipeline_lag: Histogram,
}

impl Metrics {
    /// Registers every metric in `registry`, with every label value present from the start.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let vec = |name: &str, help: &str, label: &str| {
            IntCounterVec::new(Opts::new(name, help), &[label])
        };
        let buckets = vec![
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        let m = Self {
            received: vec(
                "ingestion_feed_messages_total",
                "Raw market-data messages received from the broker",
                "channel",
            )?,
            published: vec(
                "ingestion_published_total",
                "Normalised market-data messages published",
                "channel",
            )?,
            rejected: vec(
                "ingestion_rejected_total",
                "Raw messages that failed validation (sent to market.rejected.v1)",
                "reason",
            )?,
            duplicates: vec(
                "ingestion_duplicates_total",
                "Raw messages dropped as duplicates",
                "channel",
            )?,
            reconnects: IntCounter::new("ingestion_reconnects_total", "Feed reconnects")?,
            gaps: IntCounter::new(
                "ingestion_gaps_total",
                "Feed gaps (events may have been missed)",
            )?,
            connected: IntGauge::new("ingestion_feed_connected", "1 while the feed is connected")?,
            lag: Histogram::with_opts(
                HistogramOpts::new(
                    "ingestion_lag_seconds",
                    "Market-clock seconds from a trade's exchange time to its publication",
                )
                .buckets(buckets.clone()),
            )?,
            pipeline_lag: Histogram::with_opts(
                HistogramOpts::new(
                    "ingestion_pipeline_lag_seconds",
                    "Seconds from a raw message's publication to its normalised publication",
                )
                .buckets(buckets),
            )?,
        };
        for c in Channel::ALL {
            m.received.with_label_values(&[c.as_str()]);
            m.published.with_label_values(&[c.as_str()]);
            m.duplicates.with_label_values(&[c.as_str()]);
        }
        for r in RejectReason::ALL {
            m.rejected.with_label_values(&[r.as_str()]);
        }
        registry.register(Box::new(m.received.clone()))?;
        registry.register(Box::new(m.published.clone()))?;
        registry.register(Box::new(m.rejected.clone()))?;
        registry.register(Box::new(m.duplicates.clone()))?;
        registry.register(Box::new(m.reconnects.clone()))?;
        registry.register(Box::new(m.gaps.clone()))?;
        registry.register(Box::new(m.connected.clone()))?;
        registry.register(Box::new(m.lag.clone()))?;
        registry.register(Box::new(m.pipeline_lag.clone()))?;
        Ok(m)
    }
}
