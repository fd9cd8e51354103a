//! The three tasks of ingestion:
//! - [`follow_references`]: keeps the securities master data publishes
//!   (`masterdata.security.v1`) in memory;
//! - [`run_feed`]: follows the market calendar, connects the broker's stream, and publishes
//!   every message as received to `market.raw.v1` (reconnecting with backoff, reporting gaps);
//! - [`run_normaliser`]: reads `market.raw.v1` (live or from `qts replay`), validates,
//!   enriches, de-duplicates and publishes to the normalised topics, rejected messages to
//!   `market.rejected.v1`; offsets are committed only after the outputs are published, so a
//!   crash loses nothing (a redelivered message is dropped as a duplicate or published again
//!   identically).

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use anyhow::Context;
use broker::{MarketData, MarketEvent, Subscription};
use common::bus::topics::{MARKET_RAW, MARKET_REJECTED, MASTERDATA_SECURITY};
use common::bus::{Envelope, SharedBus};
use common::shutdown::CancellationToken;
use futures::StreamExt;
use proto::market::v1 as pb;
use proto::market::v1::feed_state::State;

use crate::domain::{Channel, Normaliser, Outcome, Reference, parse_day, to_time, to_timestamp};
use crate::feed::{Recorder, Schedule, Window, key};
use crate::settings::{FeedSettings, NormaliseSettings};
use crate::state::Shared;

/// The producing service's name on envelopes.
pub(crate) const SOURCE: &str = "ingestion";

/// Publishes `message` to `topic`, retrying a failing bus with backoff until it is stored or
/// the service stops (`Ok(false)`): a market-data message is never dropped for a bus outage.
/// A message the bus refuses for what it is (wrong type, too large) is an error.
pub async fn publish<M: prost::Message + prost::Name>(
    bus: &SharedBus,
    topic: &str,
    key: &str,
    message: &M,
    token: &CancellationToken,
) -> anyhow::Result<bool> {
    publish_all(bus, &[(topic, Envelope::new(SOURCE, key, message))], token).await
}

/// Publishes `batch` in order, many events in flight ([`common::bus::publish_all`]): retried
/// while the bus is unavailable, `Ok(false)` when the service stops meanwhile.
pub async fn publish_all(
    bus: &SharedBus,
    batch: &[(&str, Envelope)],
    token: &CancellationToken,
) -> anyhow::Result<bool> {
    common::bus::publish_all(bus.as_ref(), batch, token)
        .await
        .map_err(|err| {
            let topic = batch.get(err.stored).map_or("", |(t, _)| *t);
            anyhow::Error::new(err).context(format!("publish to {topic}"))
        })
}

/// Keeps `shared.references` up to date from `masterdata.security.v1`, read from its start by
/// a group of this instance's own (every instance needs every security). It never commits:
/// the references live in memory, so every start reads the topic from its start again, and a
/// group with no committed offsets leaves nothing behind on the broker when the instance goes.
pub async fn follow_references(
    bus: SharedBus,
    shared: Arc<Shared>,
    group: String,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = bus
        .subscribe(&group, &[MASTERDATA_SECURITY.static_name()])
        .await
        .context("subscribe to master data")?;
    loop {
        let delivery = tokio::select! {
            () = token.cancelled() => return Ok(()),
            d = sub.poll(Duration::from_millis(200)) => d,
        };
        let delivery = match delivery {
            Ok(Some(d)) => d,
            Ok(None) => {
                // Nothing more to read: what master data published so far is all here.
                let mut refs = shared
                    .references
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                if refs.settled_day() != refs.latest_day() {
                    refs.settle();
                    drop(refs);
                    shared.references_changed.notify_waiters();
                }
                continue;
            }
            Err(err) => {
                tracing::warn!(error = %common::error::chain(&err), "master data poll failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        match delivery
            .envelope
            .decode::<pb::Security>()
            .map_err(|e| e.to_string())
            .and_then(|s| Reference::from_security(&s).map(|r| (s.symbol, r)))
        {
            Ok((symbol, reference)) => {
                shared
                    .references
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .upsert(&symbol, reference);
                shared.references_changed.notify_waiters();
            }
            Err(err) => tracing::warn!(error = %err, "ignoring a master-data security"),
        }
    }
}

/// Why a connection of the feed ended.
enum Ended {
    /// The service stops.
    Stopping,
    /// The day's window closed (after the last session and the linger).
    Closed,
    /// The stream gave up: reconnect after the backoff.
    Failed,
}

/// Follows the calendar: connected from before the first session to after the last of each
/// trading day, publishing every received message to `market.raw.v1`.
pub async fn run_feed(
    market_data: Arc<dyn MarketData>,
    subscription: Subscription,
    schedule: Schedule,
    settings: FeedSettings,
    bus: SharedBus,
    shared: Arc<Shared>,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let source = format!("fastconnect-{}", market_data.generation());
    let mut recorder = Recorder::new(source);
    let min_backoff = Duration::from_millis(settings.reconnect_min_ms);
    let max_backoff = Duration::from_millis(settings.reconnect_max_ms);
    let mut backoff = min_backoff;
    let clock = shared.clock;
    let raw = MARKET_RAW.static_name();
    loop {
        let until = match schedule.window(clock.now()) {
            Window::Closed { until, .. } => {
                shared.set_feed("waiting", Some(until));
                // Looked at again at least every minute (a simulated clock may jump).
                let wait = clock.wall_until(until).min(Duration::from_secs(60));
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(wait) => continue,
                }
            }
            Window::Open { until, .. } => until,
        };
        shared.set_feed("connecting", Some(until));
        let stream = match market_data.stream(subscription.clone()).await {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(error = %common::error::chain(&err), retry_in = ?backoff, "feed connect failed");
                shared.set_feed("reconnecting", Some(until));
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(max_backoff);
                continue;
            }
        };
        let connected = recorder.state(State::Connected, "subscribed", clock.now());
        if !publish(&bus, raw, recorder.source(), &connected, &token).await? {
            return Ok(());
        }
        shared.set_feed("connected", Some(until));
        tracing::info!(source = recorder.source(), until = %until, "feed connected");
        let close = tokio::time::sleep(clock.wall_until(until));
        tokio::pin!(close);
        // What arrived together goes to the bus together (many in flight, in order).
        let mut stream = stream.ready_chunks(settings.batch_max);
        let mut batch: Vec<(&str, Envelope)> = Vec::with_capacity(settings.batch_max);
        let ended = loop {
            let items = tokio::select! {
                () = token.cancelled() => break Ended::Stopping,
                () = &mut close => break Ended::Closed,
                items = stream.next() => items,
            };
            let now = clock.now();
            let Some(items) = items else {
                // The stream gave up: a gap; reconnect after the backoff.
                shared.metrics.gaps.inc();
                let gap = recorder.state(State::Gap, "the stream ended", now);
                if !publish(&bus, raw, recorder.source(), &gap, &token).await? {
                    return Ok(());
                }
                shared.set_feed("reconnecting", Some(until));
                break Ended::Failed;
            };
            batch.clear();
            for item in items {
                let event = match item {
                    Ok(event) => event,
                    Err(err) => {
                        // A payload the adapter could not read: a reject with the reason.
                        shared
                            .metrics
                            .rejected
                            .with_label_values(&["bad_value"])
                            .inc();
                        let reject = pb::FeedReject {
                            event: None,
                            reason: "bad_value".to_owned(),
                            detail: common::error::chain(&err).to_string(),
                            at: Some(to_timestamp(now)),
                        };
                        batch.push((
                            MARKET_REJECTED.static_name(),
                            Envelope::new(SOURCE, "", &reject),
                        ));
                        continue;
                    }
                };
                match &event {
                    MarketEvent::Gap { .. } => shared.metrics.gaps.inc(),
                    MarketEvent::Reconnected => shared.metrics.reconnects.inc(),
                    MarketEvent::Trade { .. }
                    | MarketEvent::Quote { .. }
                    | MarketEvent::Index { .. }
                    | MarketEvent::ForeignRoom { .. }
                    | MarketEvent::Bar(_)
                    | MarketEvent::Status { .. } => {}
                }
                let raw_event = recorder.event(event, now);
                if let Some(channel) = Channel::of(&raw_event) {
                    shared
                        .metrics
                        .received
                        .with_label_values(&[channel.as_str()])
                        .inc();
                }
                batch.push((raw, Envelope::new(SOURCE, key(&raw_event), &raw_event)));
            }
            shared.message_at(now);
            if !publish_all(&bus, &batch, &token).await? {
                return Ok(());
            }
            backoff = min_backoff;
        };
        drop(stream);
        match ended {
            Ended::Stopping => {
                let stopped = recorder.state(State::Disconnected, "the service stops", clock.now());
                // Best effort: the token is cancelled, so a bus outage is not waited out.
                let _ = bus
                    .publish(raw, &Envelope::new(SOURCE, recorder.source(), &stopped))
                    .await;
                shared.set_feed("closed", None);
                return Ok(());
            }
            Ended::Failed => {
                shared.metrics.reconnects.inc();
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(max_backoff);
            }
            Ended::Closed => {
                let why = "the market closed";
                let closed = recorder.state(State::Disconnected, why, clock.now());
                if !publish(&bus, raw, recorder.source(), &closed, &token).await? {
                    return Ok(());
                }
                shared.set_feed("closed", None);
                tracing::info!("feed disconnected: {why}");
            }
        }
    }
}

/// What is done once a batch's outputs are stored.
enum Effect {
    /// A normalised message went out: counted and folded into the snapshots.
    Published {
        channel: &'static str,
        day: String,
        message: Box<crate::domain::Normalised>,
        raw_time: time::OffsetDateTime,
    },
    /// A reject went out: counted by reason.
    Rejected(&'static str),
}

/// What a batch of raw messages becomes: the outputs to publish (in order), what to do after,
/// and the raw offsets it handles.
#[derive(Default)]
struct Batch {
    out: Vec<(&'static str, Envelope)>,
    effects: Vec<Effect>,
    offsets: Vec<(String, i32, i64)>,
}

impl Batch {
    fn reject(&mut self, key: &str, reject: &pb::FeedReject) {
        self.out.push((
            MARKET_REJECTED.static_name(),
            Envelope::new(SOURCE, key, reject),
        ));
        self.effects.push(Effect::Rejected("bad_value"));
    }
}

/// Reads `market.raw.v1` and publishes what it becomes. Messages ready together are handled
/// together (up to `batch_max`): their outputs go to the bus in one batch, then their offsets
/// are committed, so a crash loses nothing.
pub async fn run_normaliser(
    bus: SharedBus,
    shared: Arc<Shared>,
    mut normaliser: Normaliser,
    settings: NormaliseSettings,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = bus
        .subscribe("ingestion.normalise", &[MARKET_RAW.static_name()])
        .await
        .context("subscribe to the raw feed")?;
    let mut pending: Vec<(String, i32, i64)> = Vec::new();
    let mut since_commit = 0u32;
    // The trading day whose master data the feed has already waited for.
    let mut gated_day = String::new();
    loop {
        let first = tokio::select! {
            () = token.cancelled() => {
                commit(&mut *sub, &mut pending).await;
                return Ok(());
            }
            d = sub.poll(Duration::from_millis(200)) => d,
        };
        let mut batch = Batch::default();
        let mut idle = false;
        let mut polled = Some(first);
        while let Some(result) = polled.take() {
            let delivery = match result {
                Ok(Some(d)) => d,
                Ok(None) => {
                    idle = true;
                    break;
                }
                Err(common::bus::Error::Malformed {
                    topic,
                    partition,
                    offset,
                    reason,
                }) => {
                    // Not an envelope: reject it with its position, then go past it.
                    batch.reject(
                        "",
                        &pb::FeedReject {
                            event: None,
                            reason: "bad_value".to_owned(),
                            detail: format!(
                                "record {topic}/{partition}@{offset} is not an envelope: {reason}"
                            ),
                            at: Some(to_timestamp(shared.clock.now())),
                        },
                    );
                    batch.offsets.push((topic, partition, offset));
                    polled = next_in_batch(&mut *sub, &batch, settings.batch_max).await;
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %common::error::chain(&err), "raw feed poll failed");
                    if batch.offsets.is_empty() {
                        tokio::select! {
                            () = token.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_millis(200)) => {}
                        }
                    }
                    break;
                }
            };
            let position = (delivery.topic.clone(), delivery.partition, delivery.offset);
            match delivery.envelope.decode::<pb::FeedEvent>() {
                Ok(event) => {
                    // Once per trading day (not per message): hold until master data has
                    // settled. Nothing of the batch is published or committed if it stops.
                    if event.trading_day != gated_day {
                        if !await_references(&shared, &event, &settings, &token).await {
                            commit(&mut *sub, &mut pending).await;
                            return Ok(());
                        }
                        gated_day.clone_from(&event.trading_day);
                    }
                    normalise(&shared, &mut normaliser, event, &delivery, &mut batch);
                }
                Err(err) => batch.reject(
                    &delivery.envelope.key,
                    &pb::FeedReject {
                        event: None,
                        reason: "bad_value".to_owned(),
                        detail: format!(
                            "{}/{}@{}: {}",
                            delivery.topic,
                            delivery.partition,
                            delivery.offset,
                            common::error::chain(&err)
                        ),
                        at: Some(to_timestamp(shared.clock.now())),
                    },
                ),
            }
            batch.offsets.push(position);
            polled = next_in_batch(&mut *sub, &batch, settings.batch_max).await;
        }
        if !publish_all(&bus, &batch.out, &token).await? {
            return Ok(());
        }
        for effect in batch.effects {
            match effect {
                Effect::Published {
                    channel,
                    day,
                    message,
                    raw_time,
                } => {
                    shared.metrics.published.with_label_values(&[channel]).inc();
                    shared.fold(&day, &message);
                    let waited = time::OffsetDateTime::now_utc() - raw_time;
                    shared
                        .metrics
                        .pipeline_lag
                        .observe(waited.as_seconds_f64().max(0.0));
                }
                Effect::Rejected(reason) => {
                    shared.metrics.rejected.with_label_values(&[reason]).inc();
                }
            }
        }
        for (topic, partition, offset) in batch.offsets {
            remember(&mut pending, topic, partition, offset);
            since_commit += 1;
        }
        if idle || since_commit >= settings.commit_every {
            commit(&mut *sub, &mut pending).await;
            since_commit = 0;
        }
    }
}

/// The next message of the batch if one is ready now and the batch has room.
async fn next_in_batch(
    sub: &mut dyn common::bus::Subscription,
    batch: &Batch,
    batch_max: usize,
) -> Option<Result<Option<common::bus::Delivery>, common::bus::Error>> {
    if batch.offsets.len() >= batch_max {
        return None;
    }
    match sub.poll(Duration::ZERO).await {
        // Nothing ready: the batch is complete (not idle: more may come at once).
        Ok(None) => None,
        other => Some(other),
    }
}

/// Validates one raw event into the batch: its normalised message, its reject or nothing
/// (a duplicate, counted at once).
fn normalise(
    shared: &Shared,
    normaliser: &mut Normaliser,
    event: pb::FeedEvent,
    delivery: &common::bus::Delivery,
    batch: &mut Batch,
) {
    let outcome = {
        let refs = shared
            .references
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        normaliser.process(&event, &refs)
    };
    let channel = Channel::of(&event).map_or("feed", Channel::as_str);
    match outcome {
        Outcome::Publish(message) => {
            if let crate::domain::Normalised::Trade(t) = &message
                && let Some(at) = t.exchange_time
            {
                let lag = shared.clock.now() - to_time(at);
                shared.metrics.lag.observe(lag.as_seconds_f64().max(0.0));
            }
            batch.out.push((message.topic(), message.envelope(SOURCE)));
            batch.effects.push(Effect::Published {
                channel,
                day: event.trading_day,
                message: Box::new(message),
                raw_time: delivery.envelope.time,
            });
        }
        Outcome::Reject(reason, detail) => {
            let key = key(&event).to_owned();
            let reject = pb::FeedReject {
                event: Some(event),
                reason: reason.as_str().to_owned(),
                detail,
                at: Some(to_timestamp(shared.clock.now())),
            };
            batch.out.push((
                MARKET_REJECTED.static_name(),
                Envelope::new(SOURCE, key, &reject),
            ));
            batch.effects.push(Effect::Rejected(reason.as_str()));
        }
        Outcome::Duplicate => {
            shared
                .metrics
                .duplicates
                .with_label_values(&[channel])
                .inc();
        }
    }
}

/// Holds the feed until every security master data published for the event's trading day
/// has been read (or the wait runs out); `false` when the service stops meanwhile.
async fn await_references(
    shared: &Shared,
    event: &pb::FeedEvent,
    settings: &NormaliseSettings,
    token: &CancellationToken,
) -> bool {
    let Ok(day) = parse_day(&event.trading_day) else {
        return true;
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(settings.reference_wait_secs);
    let mut warned = false;
    loop {
        let latest = shared
            .references
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .settled_day();
        if latest.is_some_and(|d| d >= day) || tokio::time::Instant::now() >= deadline {
            return true;
        }
        if !warned {
            tracing::info!(%day, ?latest, "holding the feed until master data publishes the trading day");
            warned = true;
        }
        tokio::select! {
            () = token.cancelled() => return false,
            () = shared.references_changed.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

pub(crate) fn remember(
    pending: &mut Vec<(String, i32, i64)>,
    topic: String,
    partition: i32,
    offset: i64,
) {
    match pending
        .iter_mut()
        .find(|(t, p, _)| *t == topic && *p == partition)
    {
        Some(entry) => entry.2 = entry.2.max(offset),
        None => pending.push((topic, partition, offset)),
    }
}

pub(crate) async fn commit(
    sub: &mut dyn common::bus::Subscription,
    pending: &mut Vec<(String, i32, i64)>,
) {
    for (topic, partition, offset) in pending.drain(..) {
        if let Err(err) = sub.commit_offset(&topic, partition, offset).await {
            // A rebalance took the partition: its new owner starts from the last commit and
            // drops what this instance already published as duplicates.
            tracing::debug!(topic, partition, error = %common::error::chain(&err), "commit");
        }
    }
}
