//! The consumer loop every service uses to handle events from the bus.
//!
//! For each message: poll → a span continuing the producer's trace
//! ([`Delivery::span`](crate::bus::Delivery::span)) → in one transaction, inbox de-duplication
//! ([`Inbox`]) and the handler's own writes → commit the transaction → commit the offset. So a
//! redelivered message (at-least-once) is handled once, and the handler's writes and the
//! "handled" mark commit together or not at all.
//!
//! A failing handler is retried with exponential backoff; after `max_attempts` (or at once, if
//! the handler [rejects](HandleError::Reject) the message, or the record is not an envelope) the
//! message goes to the dead-letter topic [`SYSTEM_DEADLETTER`] as a
//! `qts.events.v1.DeadLetter` (reason, original topic, partition, offset, error chain, original
//! envelope) and its offset is committed: a poison message never blocks the ones behind it and
//! never disappears. An unreachable database or bus is not the message's fault: that is retried
//! without limit and never dead-letters anything.
//!
//! On cancellation the loop finishes the message in hand (its handler run and commits), then
//! stops; a message still waiting for a retry is left uncommitted and comes back on the next
//! start.
//!
//! ```no_run
//! use common::consumer::{Consumer, HandleError, handler_fn};
//! # async fn f(bus: common::bus::SharedBus, db: common::store::Db, token: common::shutdown::CancellationToken) -> Result<(), common::consumer::Error> {
//! let consumer = Consumer::new(
//!     "risk.lifecycle",
//!     &["system.lifecycle.v1"],
//!     handler_fn(|delivery, tx| {
//!         Box::pin(async move {
//!             let event: proto::events::v1::ServiceLifecycle =
//!                 delivery.envelope.decode().map_err(HandleError::reject)?;
//!             common::on_engine!(tx.conn(), |c| {
//!                 sqlx::query("INSERT INTO seen (service) VALUES ($1)")
//!                     .bind(&event.service)
//!                     .execute(c)
//!                     .await
//!                     .map(drop)
//!             })?;
//!             Ok(())
//!         })
//!     }),
//! );
//! consumer.run(bus, db, token).await
//! # }
//! ```

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::topics::SYSTEM_DEADLETTER;
use crate::bus::{Delivery, Envelope, SharedBus, Subscription};
use crate::error::chain;
use crate::retry::Backoff;
use crate::settings::ConsumerSettings;
use crate::store::{Db, Inbox, Tx};

/// Any error a handler returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a handler did not handle a message.
#[derive(Debug)]
pub enum HandleError {
    /// Worth retrying (the default for `?`): retried with backoff, dead-lettered after
    /// `max_attempts`.
    Retry(BoxError),
    /// Will never succeed (e.g. the payload does not decode): dead-lettered at once.
    Reject(BoxError),
}

impl HandleError {
    /// A failure worth retrying.
    pub fn retry(err: impl Into<BoxError>) -> Self {
        Self::Retry(err.into())
    }

    /// A message that will never be handled.
    pub fn reject(err: impl Into<BoxError>) -> Self {
        Self::Reject(err.into())
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandleError {
    fn from(err: E) -> Self {
        Self::Retry(Box::new(err))
    }
}

/// What handles a consumer's messages. Write into the database through `tx` only: it commits
/// with the inbox mark, or not at all.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles one message.
    async fn handle(&self, delivery: &Delivery, tx: &mut Tx) -> Result<(), HandleError>;
}

/// A [`Handler`] made from a closure (see [`handler_fn`]).
pub struct FnHandler<F>(F);

/// A handler from a closure returning a boxed future:
/// `handler_fn(|delivery, tx| Box::pin(async move { ... }))`.
pub fn handler_fn<F>(f: F) -> FnHandler<F>
where
    F: for<'a> Fn(&'a Delivery, &'a mut Tx) -> BoxFuture<'a, Result<(), HandleError>>
        + Send
        + Sync
        + 'static,
{
    FnHandler(f)
}

#[async_trait]
impl<F> Handler for FnHandler<F>
where
    F: for<'a> Fn(&'a Delivery, &'a mut Tx) -> BoxFuture<'a, Result<(), HandleError>>
        + Send
        + Sync
        + 'static,
{
    async fn handle(&self, delivery: &Delivery, tx: &mut Tx) -> Result<(), HandleError> {
        (self.0)(delivery, tx).await
    }
}

/// Why the loop could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Joining the group failed (e.g. a topic does not exist).
    #[error("consumer {consumer} cannot subscribe")]
    Subscribe {
        /// Consumer (group) name.
        consumer: String,
        /// Why.
        #[source]
        source: crate::bus::Error,
    },
}

/// Retry policy of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerPolicy {
    /// Handler runs before a message is dead-lettered.
    pub max_attempts: u32,
    /// Delay between runs (and between retries of an unreachable database or bus).
    pub backoff: Backoff,
}

impl Default for ConsumerPolicy {
    /// The values of `[consumer]` in the shared `default.toml`.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff: Backoff::from_millis(100, 30_000),
        }
    }
}

impl From<&ConsumerSettings> for ConsumerPolicy {
    fn from(s: &ConsumerSettings) -> Self {
        Self {
            max_attempts: s.max_attempts.max(1),
            backoff: Backoff::from_millis(s.retry_backoff_ms, s.max_backoff_ms),
        }
    }
}

/// The consumer metrics of one service: fleet-wide names with `service`, `consumer`, `topic`
/// and `outcome` (`handled`, `duplicate`, `dead_lettered`) labels, all from fixed sets.
#[derive(Clone)]
pub struct ConsumerMetrics {
    service: String,
    messages: IntCounterVec,
    failures: IntCounterVec,
    duration: HistogramVec,
    poll_errors: IntCounterVec,
}

impl ConsumerMetrics {
    /// Creates the consumer metrics for `service` and registers them in `registry` (once per
    /// service; every consumer of the service shares them).
    pub fn register(service: &str, registry: &Registry) -> Result<Self, prometheus::Error> {
        let messages = IntCounterVec::new(
            Opts::new(
                "qts_consumer_messages_total",
                "Messages consumed, by outcome (handled, duplicate, dead_lettered)",
            ),
            &["service", "consumer", "topic", "outcome"],
        )?;
        let failures = IntCounterVec::new(
            Opts::new(
                "qts_consumer_handler_failures_total",
                "Handler runs that failed (each is retried or dead-lettered)",
            ),
            &["service", "consumer", "topic"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "qts_consumer_handle_duration_seconds",
                "Time to handle one message (inbox, handler, commit), per attempt",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["service", "consumer", "topic"],
        )?;
        let poll_errors = IntCounterVec::new(
            Opts::new(
                "qts_consumer_poll_errors_total",
                "Failed polls or commits against the bus (retried)",
            ),
            &["service", "consumer"],
        )?;
        registry.register(Box::new(messages.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(poll_errors.clone()))?;
        Ok(Self {
            service: service.to_owned(),
            messages,
            failures,
            duration,
            poll_errors,
        })
    }
}

/// How a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Handled,
    Duplicate,
    DeadLettered,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// Why one attempt failed.
enum Failure {
    /// The database (begin, inbox, commit) failed: not the message's fault.
    Store(crate::store::Error),
    /// The handler failed.
    Handler(HandleError),
}

/// The consumer cancelled while a message waited: it stays uncommitted.
struct Stopped;

/// A consumer: a group name (also its inbox name and its key on the dead-letter topic), the
/// topics it reads and its handler.
pub struct Consumer<H> {
    name: String,
    topics: Vec<String>,
    handler: H,
    policy: ConsumerPolicy,
    metrics: Option<ConsumerMetrics>,
    poll_timeout: Duration,
}

impl<H: Handler> Consumer<H> {
    /// A consumer `name` (e.g. `risk.orders`: unique in the fleet) of `topics`, with the
    /// default policy and no metrics.
    pub fn new(name: impl Into<String>, topics: &[&str], handler: H) -> Self {
        Self {
            name: name.into(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            handler,
            policy: ConsumerPolicy::default(),
            metrics: None,
            poll_timeout: Duration::from_secs(1),
        }
    }

    /// Uses the service's `[consumer]` settings.
    pub fn with_settings(mut self, settings: &ConsumerSettings) -> Self {
        self.policy = ConsumerPolicy::from(settings);
        self
    }

    /// Uses this policy.
    pub fn with_policy(mut self, policy: ConsumerPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Records metrics (see [`ConsumerMetrics::register`]).
    pub fn with_metrics(mut self, metrics: ConsumerMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Joins the group and handles messages until `token` is cancelled. Fails only if it
    /// cannot subscribe; every later failure is retried or dead-lettered.
    pub async fn run(self, bus: SharedBus, db: Db, token: CancellationToken) -> Result<(), Error> {
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        let mut sub =
            bus.subscribe(&self.name, &topics)
                .await
                .map_err(|source| Error::Subscribe {
                    consumer: self.name.clone(),
                    source,
                })?;
        tracing::info!(consumer = %self.name, topics = ?self.topics, "consuming");
        // Every series of this consumer exists from the start, at 0: a dashboard shows "none
        // yet" rather than nothing, and rates start from a known value.
        if let Some(m) = &self.metrics {
            for topic in &self.topics {
                for outcome in [Outcome::Handled, Outcome::Duplicate, Outcome::DeadLettered] {
                    let _ = m.messages.with_label_values(&[
                        &m.service,
                        &self.name,
                        topic,
                        outcome.as_str(),
                    ]);
                }
                let _ = m
                    .failures
                    .with_label_values(&[&m.service, &self.name, topic]);
                let _ = m
                    .duration
                    .with_label_values(&[&m.service, &self.name, topic]);
            }
            let _ = m.poll_errors.with_label_values(&[&m.service, &self.name]);
        }
        let mut poll_failures = 0u32;
        loop {
            let polled = tokio::select! {
                biased;
                () = token.cancelled() => break,
                polled = sub.poll(self.poll_timeout) => polled,
            };
            let flow = match polled {
                Ok(None) => Ok(()),
                Ok(Some(delivery)) => {
                    poll_failures = 0;
                    self.process(sub.as_mut(), &bus, &db, delivery, &token)
                        .await
                }
                Err(crate::bus::Error::Malformed {
                    topic,
                    partition,
                    offset,
                    reason,
                    ..
                }) => {
                    poll_failures = 0;
                    self.malformed(
                        sub.as_mut(),
                        &bus,
                        &topic,
                        partition,
                        offset,
                        &reason,
                        &token,
                    )
                    .await
                }
                Err(crate::bus::Error::NotAssigned { .. }) => Ok(()),
                Err(err) => {
                    poll_failures = poll_failures.saturating_add(1);
                    self.count_poll_error();
                    tracing::warn!(consumer = %self.name, error = %chain(&err), "poll failed; will retry");
                    pause(&token, self.policy.backoff.delay(poll_failures)).await
                }
            };
            if flow.is_err() {
                break;
            }
        }
        tracing::info!(consumer = %self.name, "stopped consuming");
        Ok(())
    }

    /// Handles one message to its end (handled, duplicate or dead-lettered) and commits it.
    async fn process(
        &self,
        sub: &mut dyn Subscription,
        bus: &SharedBus,
        db: &Db,
        delivery: Delivery,
        token: &CancellationToken,
    ) -> Result<(), Stopped> {
        let span = delivery.span();
        let mut runs = 0u32;
        let mut waits = 0u32;
        let outcome = loop {
            let started = std::time::Instant::now();
            let result = self.attempt(db, &delivery).instrument(span.clone()).await;
            self.observe(&delivery.topic, started.elapsed());
            let failure = match result {
                Ok(outcome) => break outcome,
                Err(failure) => failure,
            };
            waits = waits.saturating_add(1);
            let (counted, error) = match failure {
                Failure::Store(err) => (false, Box::new(err) as BoxError),
                Failure::Handler(HandleError::Reject(err)) => {
                    runs += 1;
                    self.count_failure(&delivery.topic);
                    self.dead_letter(bus, &delivery, "rejected", err.as_ref(), runs, token)
                        .instrument(span.clone())
                        .await?;
                    break Outcome::DeadLettered;
                }
                Failure::Handler(HandleError::Retry(err)) => (!unavailable(err.as_ref()), err),
            };
            if counted {
                runs += 1;
                self.count_failure(&delivery.topic);
                if runs >= self.policy.max_attempts {
                    self.dead_letter(
                        bus,
                        &delivery,
                        "retries_exhausted",
                        error.as_ref(),
                        runs,
                        token,
                    )
                    .instrument(span.clone())
                    .await?;
                    break Outcome::DeadLettered;
                }
            }
            let delay = self.policy.backoff.delay(waits);
            span.in_scope(|| {
                tracing::warn!(
                    consumer = %self.name,
                    attempt = runs,
                    counted,
                    retry_in_ms = delay.as_millis() as u64,
                    error = %chain(error.as_ref()),
                    "handling failed; will retry"
                );
            });
            pause(token, delay).await?;
        };
        self.count(&delivery.topic, outcome);
        self.commit(sub, &delivery.topic, delivery.partition, delivery.offset)
            .await;
        Ok(())
    }

    /// One attempt: inbox check, handler, commit, all in one transaction.
    async fn attempt(&self, db: &Db, delivery: &Delivery) -> Result<Outcome, Failure> {
        let mut tx = db.begin().await.map_err(Failure::Store)?;
        let first = Inbox::first_time(&mut tx, &self.name, &delivery.envelope.id)
            .await
            .map_err(Failure::Store)?;
        if !first {
            tracing::debug!("already handled; skipping");
            return Ok(Outcome::Duplicate);
        }
        self.handler
            .handle(delivery, &mut tx)
            .await
            .map_err(Failure::Handler)?;
        tx.commit().await.map_err(Failure::Store)?;
        Ok(Outcome::Handled)
    }

    /// A record that is not an envelope: dead-lettered with its position, then committed.
    #[allow(clippy::too_many_arguments)]
    async fn malformed(
        &self,
        sub: &mut dyn Subscription,
        bus: &SharedBus,
        topic: &str,
        partition: i32,
        offset: i64,
        reason: &str,
        token: &CancellationToken,
    ) -> Result<(), Stopped> {
        let record = proto::events::v1::DeadLetter {
            consumer: self.name.clone(),
            topic: topic.to_owned(),
            partition,
            offset,
            reason: "malformed".to_owned(),
            error: format!("record is not an envelope: {reason}"),
            attempts: 0,
            envelope: Vec::new(),
            at: Some(now_proto()),
        };
        self.publish_dead_letter(bus, record, token).await?;
        self.count(topic, Outcome::DeadLettered);
        self.commit(sub, topic, partition, offset).await;
        Ok(())
    }

    async fn dead_letter(
        &self,
        bus: &SharedBus,
        delivery: &Delivery,
        reason: &str,
        error: &(dyn std::error::Error + Send + Sync + 'static),
        attempts: u32,
        token: &CancellationToken,
    ) -> Result<(), Stopped> {
        let record = proto::events::v1::DeadLetter {
            consumer: self.name.clone(),
            topic: delivery.topic.clone(),
            partition: delivery.partition,
            offset: delivery.offset,
            reason: reason.to_owned(),
            error: chain(error).to_string(),
            attempts,
            envelope: delivery.envelope.to_bytes(),
            at: Some(now_proto()),
        };
        self.publish_dead_letter(bus, record, token).await
    }

    /// Publishes to the dead-letter topic, retrying until it is stored or the loop stops (then
    /// the message stays uncommitted and comes back: it is never lost).
    async fn publish_dead_letter(
        &self,
        bus: &SharedBus,
        record: proto::events::v1::DeadLetter,
        token: &CancellationToken,
    ) -> Result<(), Stopped> {
        tracing::error!(
            consumer = %self.name,
            topic = %record.topic,
            partition = record.partition,
            offset = record.offset,
            reason = %record.reason,
            attempts = record.attempts,
            error = %record.error,
            "message dead-lettered to {}", SYSTEM_DEADLETTER.name
        );
        let envelope = Envelope::new(&self.name, self.name.clone(), &record);
        let mut failures = 0u32;
        loop {
            match bus.publish(&SYSTEM_DEADLETTER.name, &envelope).await {
                Ok(_) => return Ok(()),
                Err(err) => {
                    failures = failures.saturating_add(1);
                    self.count_poll_error();
                    tracing::warn!(consumer = %self.name, error = %chain(&err), "cannot publish the dead letter; will retry");
                    pause(token, self.policy.backoff.delay(failures)).await?;
                }
            }
        }
    }

    /// Commits an offset. A failed commit loses nothing: the message comes back and the inbox
    /// recognises it.
    async fn commit(&self, sub: &mut dyn Subscription, topic: &str, partition: i32, offset: i64) {
        match sub.commit_offset(topic, partition, offset).await {
            Ok(()) => {}
            Err(crate::bus::Error::NotAssigned { .. }) => {
                tracing::debug!(consumer = %self.name, topic, partition, offset, "partition moved before commit; it will be redelivered");
            }
            Err(err) => {
                self.count_poll_error();
                tracing::warn!(consumer = %self.name, topic, partition, offset, error = %chain(&err), "commit failed; the message will be redelivered");
            }
        }
    }

    fn count(&self, topic: &str, outcome: Outcome) {
        if let Some(m) = &self.metrics {
            m.messages
                .with_label_values(&[&m.service, &self.name, topic, outcome.as_str()])
                .inc();
        }
    }

    fn count_failure(&self, topic: &str) {
        if let Some(m) = &self.metrics {
            m.failures
                .with_label_values(&[&m.service, &self.name, topic])
                .inc();
        }
    }

    fn count_poll_error(&self) {
        if let Some(m) = &self.metrics {
            m.poll_errors
                .with_label_values(&[&m.service, &self.name])
                .inc();
        }
    }

    fn observe(&self, topic: &str, took: Duration) {
        if let Some(m) = &self.metrics {
            m.duration
                .with_label_values(&[&m.service, &self.name, topic])
                .observe(took.as_secs_f64());
        }
    }
}

/// Waits `delay`, or stops early if the loop is cancelled.
async fn pause(token: &CancellationToken, delay: Duration) -> Result<(), Stopped> {
    tokio::select! {
        biased;
        () = token.cancelled() => Err(Stopped),
        () = tokio::time::sleep(delay) => Ok(()),
    }
}

/// The database could not be reached: not the message's fault, so it must not count towards
/// dead-lettering (an outage would otherwise dead-letter every message).
fn unavailable(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(sqlx_err) = e.downcast_ref::<sqlx::Error>()
            && matches!(
                sqlx_err,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Tls(_)
            )
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn now_proto() -> prost_types::Timestamp {
    crate::bus::proto_time(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("handler step")]
    struct Step(#[source] sqlx::Error);

    #[test]
    fn an_unreachable_database_anywhere_in_the_chain_is_not_the_messages_fault() {
        assert!(unavailable(&Step(sqlx::Error::PoolTimedOut)));
        assert!(unavailable(&sqlx::Error::PoolClosed));
        assert!(!unavailable(&Step(sqlx::Error::RowNotFound)));
        assert!(!unavailable(&std::fmt::Error));
    }

    #[test]
    fn question_mark_retries_and_reject_is_explicit() {
        let e: HandleError = std::fmt::Error.into();
        assert!(matches!(e, HandleError::Retry(_)));
        assert!(matches!(
            HandleError::reject("bad payload"),
            HandleError::Reject(_)
        ));
    }
}
