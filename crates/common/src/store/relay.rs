//! The outbox relay: the background task `Host` runs beside every service. It publishes
//! committed outbox rows, dead-letters the ones that cannot be published, prunes published
//! outbox rows and old inbox rows, and reports all of it as metrics.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Db, Error, Inbox, Outbox, RelayPolicy, RelayStep, Timestamp};
use crate::bus::SharedBus;
use crate::error::chain;
use crate::retry::Backoff;
use crate::settings::{InboxSettings, OutboxSettings};

/// Rows deleted per pruning statement.
const PRUNE_BATCH: i64 = 1_000;

/// The relay's metrics, fleet-wide names with a `service` label (bounded: `reason` is
/// `undecodable` or `refused`, `table` is `outbox` or `inbox`).
#[derive(Clone)]
pub struct RelayMetrics {
    published: IntCounter,
    dead_undecodable: IntCounter,
    dead_refused: IntCounter,
    retries: IntCounter,
    pending: IntGauge,
    lag: Gauge,
    pruned_outbox: IntCounter,
    pruned_inbox: IntCounter,
}

impl RelayMetrics {
    /// Creates the relay metrics for `service` and registers them in `registry`.
    pub fn register(service: &str, registry: &Registry) -> Result<Self, prometheus::Error> {
        let published = IntCounterVec::new(
            Opts::new(
                "qts_outbox_published_total",
                "Outbox events published to the bus",
            ),
            &["service"],
        )?;
        let dead = IntCounterVec::new(
            Opts::new(
                "qts_outbox_dead_lettered_total",
                "Outbox rows moved to qts_outbox_dead, by reason (undecodable, refused)",
            ),
            &["service", "reason"],
        )?;
        let retries = IntCounterVec::new(
            Opts::new(
                "qts_outbox_publish_failures_total",
                "Failed attempts to publish an outbox row (each is retried or dead-lettered)",
            ),
            &["service"],
        )?;
        let pending = prometheus::IntGaugeVec::new(
            Opts::new(
                "qts_outbox_pending",
                "Outbox rows committed but not yet published",
            ),
            &["service"],
        )?;
        let lag = prometheus::GaugeVec::new(
            Opts::new(
                "qts_outbox_lag_seconds",
                "Age of the oldest unpublished outbox row (0 when none)",
            ),
            &["service"],
        )?;
        let pruned = IntCounterVec::new(
            Opts::new(
                "qts_store_pruned_rows_total",
                "Rows deleted after their retention period, by table (outbox, inbox)",
            ),
            &["service", "table"],
        )?;
        registry.register(Box::new(published.clone()))?;
        registry.register(Box::new(dead.clone()))?;
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(pending.clone()))?;
        registry.register(Box::new(lag.clone()))?;
        registry.register(Box::new(pruned.clone()))?;
        Ok(Self {
            published: published.with_label_values(&[service]),
            dead_undecodable: dead.with_label_values(&[service, "undecodable"]),
            dead_refused: dead.with_label_values(&[service, "refused"]),
            retries: retries.with_label_values(&[service]),
            pending: pending.with_label_values(&[service]),
            lag: lag.with_label_values(&[service]),
            pruned_outbox: pruned.with_label_values(&[service, "outbox"]),
            pruned_inbox: pruned.with_label_values(&[service, "inbox"]),
        })
    }

    fn record(&self, step: &RelayStep) {
        self.published.inc_by(step.published as u64);
        self.dead_undecodable.inc_by(step.undecodable as u64);
        self.dead_refused.inc_by(step.refused as u64);
        if step.retry_after.is_some() {
            self.retries.inc();
        }
    }
}

/// The outbox relay of one service's database.
pub struct Relay {
    db: Db,
    outbox: Outbox,
    bus: SharedBus,
    policy: RelayPolicy,
    poll_interval: Duration,
    outbox_retention: Duration,
    inbox_retention: Duration,
    prune_interval: Duration,
    metrics: RelayMetrics,
}

impl Relay {
    /// A relay publishing `db`'s outbox to `bus`.
    pub fn new(
        db: Db,
        bus: SharedBus,
        outbox: &OutboxSettings,
        inbox: &InboxSettings,
        metrics: RelayMetrics,
    ) -> Self {
        Self {
            outbox: Outbox::new(db.clone()),
            db,
            bus,
            policy: RelayPolicy::from(outbox),
            poll_interval: Duration::from_millis(outbox.poll_interval_ms.max(1)),
            outbox_retention: Duration::from_secs(outbox.retention_secs),
            inbox_retention: Duration::from_secs(inbox.retention_secs),
            prune_interval: Duration::from_secs(outbox.prune_interval_secs.max(1)),
            metrics,
        }
    }

    /// Relays until `token` is cancelled, then returns after the row in hand. Woken at once by
    /// commits in this process ([`Tx::commit`](super::Tx::commit)), and every poll interval
    /// for rows written elsewhere. Prunes at start and every prune interval. Failures are
    /// logged and retried with backoff; this never gives up.
    pub async fn run(self, token: CancellationToken) {
        let wake: Arc<tokio::sync::Notify> = self.db.outbox_written().clone();
        let errors = Backoff::new(
            Duration::from_millis(100),
            self.poll_interval.max(Duration::from_secs(5)),
        );
        let mut failures = 0u32;
        let mut next_prune = Instant::now();
        let mut gauges_at = Instant::now();
        while !token.is_cancelled() {
            if Instant::now() >= next_prune {
                self.prune().await;
                next_prune = Instant::now() + self.prune_interval;
            }
            let wait = match self
                .outbox
                .relay_once(self.bus.as_ref(), &self.policy, Some(&token))
                .await
            {
                Ok(step) => {
                    failures = 0;
                    self.metrics.record(&step);
                    if let Some(delay) = step.retry_after {
                        self.gauges().await;
                        Some(delay)
                    } else if step.more {
                        // Under sustained load, still refresh the gauges about once a second.
                        if gauges_at.elapsed() >= Duration::from_secs(1) {
                            self.gauges().await;
                            gauges_at = Instant::now();
                        }
                        continue;
                    } else {
                        self.gauges().await;
                        None
                    }
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(error = %chain(&err), "outbox relay pass failed; will retry");
                    Some(errors.delay(failures))
                }
            };
            let idle = wait.unwrap_or(self.poll_interval);
            tokio::select! {
                biased;
                () = token.cancelled() => break,
                // A retry waits its full delay: a commit must not shorten a backoff.
                () = wake.notified(), if wait.is_none() => {}
                () = tokio::time::sleep(idle) => {}
                () = tokio::time::sleep_until(next_prune) => {}
            }
        }
        tracing::debug!("outbox relay stopped");
    }

    async fn gauges(&self) {
        match self.outbox.pending().await {
            Ok(n) => self.metrics.pending.set(n),
            Err(err) => tracing::debug!(error = %chain(&err), "cannot count pending outbox rows"),
        }
        match self.outbox.oldest_pending().await {
            Ok(Some(at)) => self.metrics.lag.set(at.elapsed().as_secs_f64()),
            Ok(None) => self.metrics.lag.set(0.0),
            Err(err) => tracing::debug!(error = %chain(&err), "cannot read the oldest outbox row"),
        }
    }

    /// Deletes published outbox rows and inbox records older than their retention.
    pub async fn prune(&self) {
        match self.prune_once().await {
            Ok((outbox, inbox)) => {
                self.metrics.pruned_outbox.inc_by(outbox);
                self.metrics.pruned_inbox.inc_by(inbox);
                if outbox + inbox > 0 {
                    tracing::debug!(outbox, inbox, "pruned rows past their retention");
                }
            }
            Err(err) => tracing::warn!(error = %chain(&err), "pruning outbox and inbox failed"),
        }
    }

    async fn prune_once(&self) -> Result<(u64, u64), Error> {
        let now = Timestamp::now();
        let outbox = self
            .outbox
            .prune(now.saturating_sub(self.outbox_retention), PRUNE_BATCH)
            .await?;
        let inbox = Inbox::prune(
            &self.db,
            now.saturating_sub(self.inbox_retention),
            PRUNE_BATCH,
        )
        .await?;
        Ok((outbox, inbox))
    }
}
