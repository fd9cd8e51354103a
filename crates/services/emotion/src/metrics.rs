//! Every metric the emotion service emits (`emotion_*`), registered in the registry `App::build`
//! makes.

use prometheus::{Gauge, IntCounterVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Items taken in, by outcome (`new`, `duplicate`, `known`, `rejected`).
    pub items: IntCounterVec,
    /// Feed reads, by result (`ok`, `failed`).
    pub reads: IntCounterVec,
    /// The market's time-decayed sentiment after the last item (−1 … +1).
    pub market: Gauge,
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            items: IntCounterVec::new(
                Opts::new("emotion_items_total", "Items taken in, by outcome"),
                &["outcome"],
            )?,
            reads: IntCounterVec::new(
                Opts::new("emotion_feed_reads_total", "Feed reads, by result"),
                &["result"],
            )?,
            market: Gauge::new(
                "emotion_market_sentiment",
                "The market's time-decayed sentiment after the last item, -1 to +1",
            )?,
        };
        registry.register(Box::new(m.items.clone()))?;
        registry.register(Box::new(m.reads.clone()))?;
        registry.register(Box::new(m.market.clone()))?;
        Ok(m)
    }
}
