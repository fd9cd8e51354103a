//! Live one-minute bars from `market.trade.v1`.
//!
//! The loop polls a batch of deliveries, applies them to the per-symbol builders, closes the
//! bars a later minute's trade or the market clock (bar end + grace) closes, and in ONE
//! transaction stores the closed bars, enqueues them for `market.bar.v1` (outbox), and saves the
//! builders' state (open bars, last cumulative volumes). Only then are the bus offsets
//! committed. So a crash anywhere loses no trade (uncommitted offsets are redelivered) and counts
//! none twice (a redelivered trade's cumulative volume is not above the saved one; one without a
//! cumulative volume is recognised by the inbox, recorded in the same transaction).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use common::bus::topics::{MARKET_BAR, MARKET_TRADE, SYSTEM_DEADLETTER};
use common::bus::{Delivery, Envelope, SharedBus, Subscription};
use common::error::chain;
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::{Db, Inbox, Outbox, Tx};
use time::OffsetDateTime;

use crate::domain::{Applied, Bar, SymbolState, Trade};
use crate::metrics::Metrics;
use crate::store::{self, OnConflict, Store};

/// The consumer group (and inbox name) of the bar builder.
pub const CONSUMER: &str = "historical.bars";

/// How the loop batches and when it closes bars.
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// Market time after a bar's end before the clock closes it.
    pub grace: Duration,
    /// Deliveries per transaction at most.
    pub batch: usize,
    /// How long a poll waits for the first delivery of a batch.
    pub poll_timeout: Duration,
}

/// The live bar builder.
pub struct LiveBars {
    db: Db,
    bus: SharedBus,
    clock: MarketClock,
    config: LiveConfig,
    metrics: Metrics,
    states: HashMap<String, SymbolState>,
    /// The newest exchange time seen: the market's "now" when the clock is on another day
    /// (a replay of a recorded day, a backlog), so bars close by event time and a replay
    /// builds the same bars whatever the wall clock says.
    watermark: Option<OffsetDateTime>,
}

/// A trade payload that cannot be a trade.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadTrade(String);

/// Checks and converts a `qts.market.v1.Trade`.
fn trade_of(envelope: &Envelope) -> Result<Trade, BadTrade> {
    let t: proto::market::v1::Trade = envelope
        .decode()
        .map_err(|e| BadTrade(chain(&e).to_string()))?;
    if t.symbol.trim().is_empty() {
        return Err(BadTrade("empty symbol".into()));
    }
    if t.price <= 0 {
        return Err(BadTrade(format!("price {} is not positive", t.price)));
    }
    let quantity = i64::try_from(t.quantity)
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| BadTrade(format!("quantity {} is out of range", t.quantity)))?;
    let total_volume = i64::try_from(t.total_volume)
        .map_err(|_| BadTrade(format!("total_volume {} is out of range", t.total_volume)))?;
    let at = t
        .exchange_time
        .ok_or_else(|| BadTrade("no exchange_time".into()))?;
    let time = OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanos),
    )
    .map_err(|e| BadTrade(format!("exchange_time: {e}")))?;
    Ok(Trade {
        symbol: t.symbol,
        price: t.price,
        quantity,
        total_volume,
        time,
    })
}

/// The `market.bar.v1` payload of a closed bar.
pub fn bar_proto(b: &Bar) -> proto::market::v1::Bar {
    proto::market::v1::Bar {
        symbol: b.symbol.clone(),
        start: Some(prost_types::Timestamp {
            seconds: b.start.unix_timestamp(),
            nanos: 0,
        }),
        seconds: b.seconds,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: u64::try_from(b.volume).unwrap_or(0),
        trades: u32::try_from(b.trades).unwrap_or(u32::MAX),
    }
}

/// What one batch did (for metrics and tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct BatchOutcome {
    counted: u64,
    duplicates: u64,
    late: u64,
    rejected: u64,
    closed_by_trade: u64,
    closed_by_clock: u64,
}

impl LiveBars {
    /// A builder over `db` and `bus`, scheduling by `clock`.
    pub fn new(
        db: Db,
        bus: SharedBus,
        clock: MarketClock,
        config: LiveConfig,
        metrics: Metrics,
    ) -> Self {
        Self {
            db,
            bus,
            clock,
            config,
            metrics,
            states: HashMap::new(),
            watermark: None,
        }
    }

    /// The instant bars close by: the market clock when it is on the data's trading day,
    /// else the newest exchange time seen.
    fn now(&self) -> OffsetDateTime {
        let clock = self.clock.now();
        match self.watermark {
            Some(w) if crate::domain::vn_date(w) != crate::domain::vn_date(clock) => w,
            _ => clock,
        }
    }

    /// Consumes until `token` is cancelled; the batch in hand is finished first.
    pub async fn run(mut self, token: CancellationToken) -> anyhow::Result<()> {
        let mut sub = self
            .bus
            .subscribe(CONSUMER, &[MARKET_TRADE.name.as_ref()])
            .await
            .map_err(|e| anyhow::anyhow!("subscribe to {}: {}", MARKET_TRADE.name, chain(&e)))?;
        self.reload(&token).await;
        tracing::info!(
            consumer = CONSUMER,
            symbols = self.states.len(),
            "building live bars"
        );
        let mut failures = 0u32;
        while !token.is_cancelled() {
            let wait = self.next_wait();
            let first = tokio::select! {
                biased;
                () = token.cancelled() => break,
                polled = sub.poll(wait) => polled,
            };
            let mut batch: Vec<Delivery> = Vec::new();
            let mut malformed: Vec<(String, i32, i64, String)> = Vec::new();
            let mut polled = Some(first);
            while let Some(result) = polled.take() {
                match result {
                    Ok(Some(d)) => batch.push(d),
                    Ok(None) => break,
                    Err(common::bus::Error::Malformed {
                        topic,
                        partition,
                        offset,
                        reason,
                        ..
                    }) => malformed.push((topic, partition, offset, reason)),
                    Err(common::bus::Error::NotAssigned { .. }) => {}
                    Err(err) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(consumer = CONSUMER, error = %chain(&err), "poll failed; will retry");
                        let delay = backoff(failures);
                        tokio::select! {
                            () = token.cancelled() => {}
                            () = tokio::time::sleep(delay) => {}
                        }
                        break;
                    }
                }
                if batch.len() + malformed.len() >= self.config.batch {
                    break;
                }
                polled = Some(sub.poll(Duration::ZERO).await);
            }
            for (topic, partition, offset, reason) in &malformed {
                self.dead_letter(
                    token.clone(),
                    topic,
                    *partition,
                    *offset,
                    "malformed",
                    reason,
                    None,
                )
                .await;
            }
            // The batch is retried until it commits (or the loop stops, leaving its offsets
            // uncommitted: it comes back on the next start).
            let mut attempt = 0u32;
            loop {
                let started = std::time::Instant::now();
                match self.handle(&batch, token.clone()).await {
                    Ok(outcome) => {
                        failures = 0;
                        self.metrics.observe_batch(batch.len(), started.elapsed());
                        self.metrics.count_trades(
                            outcome.counted,
                            outcome.duplicates,
                            outcome.late,
                            outcome.rejected,
                        );
                        self.metrics
                            .count_bars(outcome.closed_by_trade, outcome.closed_by_clock);
                        break;
                    }
                    Err(err) => {
                        attempt = attempt.saturating_add(1);
                        tracing::warn!(consumer = CONSUMER, deliveries = batch.len(), error = %chain(err.as_ref()), "storing a batch failed; will retry");
                        tokio::select! {
                            () = token.cancelled() => {}
                            () = tokio::time::sleep(backoff(attempt)) => {}
                        }
                        if token.is_cancelled() {
                            return Ok(());
                        }
                        // The failed attempt changed the builders in memory: start again from
                        // what was committed.
                        self.reload(&token).await;
                    }
                }
            }
            let mut last: BTreeMap<(String, i32), i64> = BTreeMap::new();
            for d in &batch {
                let e = last
                    .entry((d.topic.clone(), d.partition))
                    .or_insert(d.offset);
                *e = (*e).max(d.offset);
            }
            for (topic, partition, offset, _) in &malformed {
                let e = last.entry((topic.clone(), *partition)).or_insert(*offset);
                *e = (*e).max(*offset);
            }
            for ((topic, partition), offset) in last {
                commit(sub.as_mut(), &topic, partition, offset).await;
            }
        }
        tracing::info!(consumer = CONSUMER, "stopped building live bars");
        Ok(())
    }

    /// Reloads the committed builder state, retrying until the database answers.
    async fn reload(&mut self, token: &CancellationToken) {
        let store = Store::new(self.db.clone());
        let mut attempt = 0u32;
        loop {
            match store.load_live_state().await {
                Ok(states) => {
                    self.states = states;
                    return;
                }
                Err(err) => {
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(error = %chain(&err), "cannot load the live bar state; will retry");
                    tokio::select! {
                        () = token.cancelled() => return,
                        () = tokio::time::sleep(backoff(attempt)) => {}
                    }
                }
            }
        }
    }

    /// How long to wait for trades before the clock closes the next bar.
    fn next_wait(&self) -> Duration {
        let grace = to_time(self.config.grace);
        let due = self
            .states
            .values()
            .filter_map(|s| s.open.as_ref().map(|b| b.end() + grace))
            .min();
        if self.now() != self.clock.now() {
            // By event time: only trades (or an idle poll) move it.
            return self.config.poll_timeout;
        }
        match due {
            Some(due) => self.clock.wall_until(due).min(self.config.poll_timeout),
            None => self.config.poll_timeout,
        }
    }

    /// Applies a batch and commits its effects in one transaction.
    async fn handle(
        &mut self,
        batch: &[Delivery],
        token: CancellationToken,
    ) -> Result<BatchOutcome, Box<dyn std::error::Error + Send + Sync>> {
        let mut out = BatchOutcome::default();
        let mut tx = self.db.begin().await?;
        let mut closed: Vec<Bar> = Vec::new();
        let mut late: Vec<Bar> = Vec::new();
        let mut touched: HashSet<String> = HashSet::new();
        for d in batch {
            let trade = match trade_of(&d.envelope) {
                Ok(t) => t,
                Err(bad) => {
                    out.rejected += 1;
                    self.dead_letter(
                        token.clone(),
                        &d.topic,
                        d.partition,
                        d.offset,
                        "rejected",
                        &bad.0,
                        Some(&d.envelope),
                    )
                    .await;
                    continue;
                }
            };
            if trade.total_volume == 0
                && !Inbox::first_time(&mut tx, CONSUMER, &d.envelope.id).await?
            {
                out.duplicates += 1;
                continue;
            }
            self.watermark = Some(self.watermark.map_or(trade.time, |w| w.max(trade.time)));
            let state = self.states.entry(trade.symbol.clone()).or_default();
            let before = closed.len();
            match state.apply(&trade, &mut closed) {
                Applied::Counted => out.counted += 1,
                Applied::Duplicate => out.duplicates += 1,
                Applied::Late => {
                    out.late += 1;
                    tracing::debug!(symbol = %trade.symbol, time = %trade.time, "late trade: merged into its closed bar");
                    let minute = crate::domain::minute_of(trade.time);
                    match late
                        .iter_mut()
                        .find(|b| b.symbol == trade.symbol && b.start == minute)
                    {
                        Some(bar) => bar.absorb(&trade),
                        None => late.push(Bar::opened_by(&trade, minute)),
                    }
                }
            }
            out.closed_by_trade += (closed.len() - before) as u64;
            touched.insert(trade.symbol);
        }
        // An idle poll (no trade for `poll_timeout`) lets the market clock close what is due
        // even when bars otherwise close by event time: the end of a replayed day.
        let now = if batch.is_empty() {
            self.clock.now().max(self.now())
        } else {
            self.now()
        };
        let grace = to_time(self.config.grace);
        for (symbol, state) in &mut self.states {
            if let Some(bar) = state.close_due(now, grace) {
                closed.push(bar);
                out.closed_by_clock += 1;
                touched.insert(symbol.clone());
            }
        }
        if touched.is_empty() {
            tx.rollback().await?;
            return Ok(out);
        }
        write_closed(&mut tx, &closed).await?;
        if !late.is_empty() {
            // Late trades add to their stored bar (after this batch's own closes), and the
            // amended bar is published again: the latest per (symbol, start) is the bar.
            store::upsert_minute_bars(&mut tx, &late, OnConflict::Merge).await?;
            let mut amended = Vec::with_capacity(late.len());
            for bar in &late {
                if let Some(stored) = store::minute_bar_in(&mut tx, &bar.symbol, bar.start).await? {
                    amended.push(stored);
                }
            }
            publish_bars(&mut tx, &amended).await?;
        }
        let changed: Vec<(String, SymbolState)> = touched
            .into_iter()
            .filter_map(|s| self.states.get(&s).map(|st| (s, st.clone())))
            .collect();
        store::save_live_state(&mut tx, &changed).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Publishes a dead letter for a record we cannot use (retried until stored or stopped).
    #[allow(clippy::too_many_arguments)]
    async fn dead_letter(
        &self,
        token: CancellationToken,
        topic: &str,
        partition: i32,
        offset: i64,
        reason: &str,
        error: &str,
        envelope: Option<&Envelope>,
    ) {
        tracing::error!(
            consumer = CONSUMER,
            topic,
            partition,
            offset,
            reason,
            error,
            "trade dead-lettered"
        );
        let record = proto::events::v1::DeadLetter {
            consumer: CONSUMER.to_owned(),
            topic: topic.to_owned(),
            partition,
            offset,
            reason: reason.to_owned(),
            error: error.to_owned(),
            attempts: 1,
            envelope: envelope.map(Envelope::to_bytes).unwrap_or_default(),
            at: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        };
        let dead = Envelope::new(crate::SPEC.name, CONSUMER, &record);
        let mut attempt = 0u32;
        while !token.is_cancelled() {
            match self.bus.publish(&SYSTEM_DEADLETTER.name, &dead).await {
                Ok(_) => return,
                Err(err) => {
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(error = %chain(&err), "cannot publish a dead letter; will retry");
                    tokio::select! {
                        () = token.cancelled() => {}
                        () = tokio::time::sleep(backoff(attempt)) => {}
                    }
                }
            }
        }
    }
}

/// Stores closed one-minute bars and enqueues them for `market.bar.v1`.
pub async fn write_closed(tx: &mut Tx, closed: &[Bar]) -> Result<(), store::Error> {
    if closed.is_empty() {
        return Ok(());
    }
    store::upsert_minute_bars(tx, closed, OnConflict::Update).await?;
    publish_bars(tx, closed).await
}

/// Enqueues `bars` for `market.bar.v1` in the caller's transaction.
async fn publish_bars(tx: &mut Tx, bars: &[Bar]) -> Result<(), store::Error> {
    if bars.is_empty() {
        return Ok(());
    }
    let envelopes: Vec<Envelope> = bars
        .iter()
        .map(|b| Envelope::new(crate::SPEC.name, b.symbol.clone(), &bar_proto(b)))
        .collect();
    let topic: &str = &MARKET_BAR.name;
    // Collected first: an iterator adaptor held across the await would make the future not
    // `Send` for every lifetime.
    let events: Vec<(&str, &Envelope)> = envelopes.iter().map(|e| (topic, e)).collect();
    Outbox::enqueue_many(tx, events).await?;
    Ok(())
}

async fn commit(sub: &mut dyn Subscription, topic: &str, partition: i32, offset: i64) {
    if let Err(err) = sub.commit_offset(topic, partition, offset).await {
        // Nothing is lost: the trades come back and are recognised as duplicates.
        tracing::warn!(consumer = CONSUMER, topic, partition, offset, error = %chain(&err), "offset commit failed; the trades will be redelivered");
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(8)).min(30_000))
}

fn to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}
