//! Every metric the notification service emits (`notification_*`), registered in the registry
//! `App::build` makes.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Delivery attempts by channel and result (`sent`, `retry`, `dead`, `rate_limited`).
    pub deliveries: IntCounterVec,
    /// Deliveries waiting (pending or held), by channel.
    pub queue: IntGaugeVec,
    /// Events taken in, by kind and outcome (`notified`, `grouped`, `duplicate`, `unrouted`).
    pub events: IntCounterVec,
    /// Time of one delivery attempt, by channel.
    pub latency: HistogramVec,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            deliveries: IntCounterVec::new(
                Opts::new(
                    "notification_deliveries_total",
                    "Delivery attempts by channel and result (sent, retry, dead, rate_limited)",
                ),
                &["channel", "result"],
            )?,
            queue: IntGaugeVec::new(
                Opts::new(
                    "notification_queue_depth",
                    "Deliveries waiting (pending or held in quiet hours), by channel",
                ),
                &["channel"],
            )?,
            events: IntCounterVec::new(
                Opts::new(
                    "notification_events_total",
                    "Events taken in, by kind and outcome (notified, grouped, duplicate, unrouted)",
                ),
                &["kind", "outcome"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "notification_delivery_seconds",
                    "Time of one delivery attempt, by channel",
                )
                .buckets(vec![
                    0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]),
                &["channel"],
            )?,
        };
        // Every channel's results exist from the start, at 0.
        for channel in ["email", "telegram", "webhook", "sms", "inbox"] {
            for result in ["sent", "retry", "dead", "rate_limited"] {
                let _ = m.deliveries.with_label_values(&[channel, result]);
            }
        }
        registry.register(Box::new(m.deliveries.clone()))?;
        registry.register(Box::new(m.queue.clone()))?;
        registry.register(Box::new(m.events.clone()))?;
        registry.register(Box::new(m.latency.clone()))?;
        Ok(m)
    }
}
