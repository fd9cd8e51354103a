//! What the monitoring service exports about the fleet (on its own admin `/metrics`; every
//! series names the service or group it is about, so Prometheus keeps the label with
//! `honor_labels`).

use prometheus::{GaugeVec, IntGaugeVec, Opts, Registry};

/// The fleet's gauges.
#[derive(Clone)]
pub struct Metrics {
    /// 1 when the service's last `/ready` answered 200, else 0.
    pub ready: IntGaugeVec,
    /// Seconds the last probe took.
    pub probe_seconds: GaugeVec,
    /// Instances ready, from lifecycle events.
    pub instances: IntGaugeVec,
    /// Events not yet committed, by group and topic.
    pub lag: IntGaugeVec,
    /// Members connected, by group.
    pub members: IntGaugeVec,
}

impl Metrics {
    /// Creates and registers them.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            ready: IntGaugeVec::new(
                Opts::new(
                    "qts_fleet_service_ready",
                    "1 when the service's /ready answered 200 at the last probe",
                ),
                &["service"],
            )?,
            probe_seconds: GaugeVec::new(
                Opts::new(
                    "qts_fleet_probe_seconds",
                    "How long the last /ready probe took",
                ),
                &["service"],
            )?,
            instances: IntGaugeVec::new(
                Opts::new(
                    "qts_fleet_instances",
                    "Instances of the service ready, from system.lifecycle.v1",
                ),
                &["service"],
            )?,
            lag: IntGaugeVec::new(
                Opts::new(
                    "qts_bus_consumer_lag_messages",
                    "Events published and not yet committed by the consumer group",
                ),
                &["group", "topic"],
            )?,
            members: IntGaugeVec::new(
                Opts::new(
                    "qts_bus_consumer_members",
                    "Members of the consumer group connected now",
                ),
                &["group"],
            )?,
        };
        registry.register(Box::new(m.ready.clone()))?;
        registry.register(Box::new(m.probe_seconds.clone()))?;
        registry.register(Box::new(m.instances.clone()))?;
        registry.register(Box::new(m.lag.clone()))?;
        registry.register(Box::new(m.members.clone()))?;
        Ok(m)
    }
}
