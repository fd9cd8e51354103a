//! The use cases: [`Analysis`] keeps the configured indicators of every symbol and timeframe
//! from the closed one-minute bars on `market.bar.v1` (warming a symbol up from the historical
//! service when it is first seen), publishes a snapshot to `ta.indicator.v1` after every closed
//! bar and stores and publishes signals (`ta.signal.v1`, through the outbox); [`Compute`] runs
//! any function over stored bars.
//!
//! Active rule sets of target `alert` (from the rule service, followed live) are evaluated on
//! every closed bar with its indicator values: a rule whose condition becomes true on a bar
//! raises an alert, stored and published as a signal of kind `alert` named `<set>/<rule>`
//! (the notification service tells the symbol's watchers). It fires on the edge, not on every
//! bar while the condition holds; a warmed-up symbol seeds the state from its last history bar,
//! so a restart does not raise again what was already true.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use common::bus::topics::{MARKET_BAR, TA_INDICATOR};
use common::bus::{Envelope, SharedBus};
use common::settings::clock::MarketClock;
use common::shutdown::CancellationToken;
use common::store::Db;
use futures::StreamExt;
use market::TradingCalendar;
use market::bars::{DayShape, Resolution, vn_date, vn_midnight};
use proto::historical::v1::GetBarsRequest;
use proto::historical::v1::historical_service_client::HistoricalServiceClient;
use proto::market::v1 as market_pb;
use proto::ta::v1 as pb;
use time::{Date, OffsetDateTime};

use crate::domain::{Bar, Rollup, Signal, Studies, StudySet, Update};
use crate::metrics::Metrics;
use crate::settings::{AnalysisSettings, ComputeSettings};

/// The producing service's name on envelopes.
pub(crate) const SOURCE: &str = "ta";

/// A refused request or an unavailable dependency.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the message says how.
    #[error("{0}")]
    Invalid(String),
    /// The historical service did not answer.
    #[error("historical service: {0}")]
    Historical(String),
    /// Storage failed.
    #[error("storage")]
    Store(#[from] common::store::Error),
}

impl common::error::Classify for Error {
    fn kind(&self) -> common::error::Kind {
        use common::error::Kind;
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::Historical(_) => Kind::Unavailable,
            Error::Store(e) => e.kind(),
        }
    }
}

/// Reads bars from the historical service.
#[derive(Clone)]
pub struct History {
    client: HistoricalServiceClient<common::grpc::Channel>,
}

impl History {
    /// A client of the historical service at `url` (connected on first use).
    pub fn new(peers: &common::grpc::Connector, url: &str) -> anyhow::Result<Self> {
        let channel = peers.channel(
            "historical",
            url,
            Duration::from_secs(5),
            Duration::from_secs(60),
        )?;
        Ok(Self {
            client: HistoricalServiceClient::new(channel).max_decoding_message_size(256 << 20),
        })
    }

    /// Bars of `symbol` at `resolution` from `from` to `to` (as the historical API takes them).
    pub async fn bars(
        &self,
        symbol: &str,
        resolution: Resolution,
        from: &str,
        to: &str,
    ) -> Result<Vec<Bar>, Error> {
        let response = self
            .client
            .clone()
            .get_bars(GetBarsRequest {
                symbol: symbol.to_owned(),
                resolution: resolution.as_str().to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            })
            .await
            .map_err(|s| {
                let code = s.code();
                if matches!(code, tonic::Code::InvalidArgument | tonic::Code::NotFound) {
                    Error::Invalid(s.message().to_owned())
                } else {
                    Error::Historical(format!("{code}: {}", s.message()))
                }
            })?;
        Ok(response
            .into_inner()
            .bars
            .iter()
            .filter_map(from_proto)
            .collect())
    }
}

/// A bar from the bus or the historical API (`None` without a start).
pub(crate) fn from_proto(b: &market_pb::Bar) -> Option<Bar> {
    let start = b.start.as_ref()?;
    Some(Bar {
        symbol: b.symbol.clone(),
        start: OffsetDateTime::from_unix_timestamp(start.seconds).ok()?,
        seconds: b.seconds,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
        trades: b.trades,
    })
}

pub(crate) use common::bus::proto_time as timestamp;

fn to_proto(b: &Bar) -> market_pb::Bar {
    market_pb::Bar {
        symbol: b.symbol.clone(),
        start: Some(timestamp(b.start)),
        seconds: b.seconds,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
        trades: b.trades,
    }
}

/// Everything kept for one symbol.
struct Symbol {
    /// One per configured timeframe, in order.
    frames: Vec<Frame>,
}

struct Frame {
    resolution: Resolution,
    studies: Studies,
    /// For timeframes above one minute.
    rollup: Option<Rollup>,
    /// Which alert rules held at the last bars.
    alerts: Alerts,
}

/// The alert rules (`<set>/<rule>`) true at the last bar and at the one before it, so a
/// correction of the last bar compares with the same predecessor.
#[derive(Debug, Default)]
struct Alerts {
    /// The last bar's start and close.
    last: Option<(OffsetDateTime, i64)>,
    /// The close of the bar before it.
    prev_close: Option<i64>,
    /// True before the last bar.
    before: BTreeSet<String>,
    /// True at the last bar.
    now: BTreeSet<String>,
}

/// What a batch of bars produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Snapshots to publish (in order).
    pub snapshots: Vec<pb::IndicatorSnapshot>,
    /// Signals to store and publish.
    pub signals: Vec<pb::Signal>,
}

/// The latest snapshots by symbol, one per timeframe (the analysis writes, the API reads).
pub type Latest = Arc<RwLock<HashMap<String, Vec<pb::IndicatorSnapshot>>>>;

/// The whole market's indicators.
pub struct Analysis {
    timeframes: Vec<Resolution>,
    settings: AnalysisSettings,
    shape: DayShape,
    calendar: Arc<TradingCalendar>,
    history: Option<History>,
    symbols: HashMap<String, Symbol>,
    /// The trading day whose open buckets were closed last.
    closed_day: Option<Date>,
    closer: Closer,
}

/// What closing a bar needs (kept apart from the symbols, which it updates).
struct Closer {
    set: StudySet,
    latest: Latest,
    metrics: Metrics,
    /// The active rule sets (those of target `alert` are read).
    rules: rules::Rules,
}

impl Analysis {
    /// An analysis of `set` over `timeframes`; `history` warms symbols up (none: they start
    /// cold); the alert rule sets of `rules` are evaluated on every closed bar.
    pub fn new(
        (set, rules): (StudySet, rules::Rules),
        timeframes: Vec<Resolution>,
        settings: AnalysisSettings,
        calendar: Arc<TradingCalendar>,
        history: Option<History>,
        metrics: Metrics,
    ) -> Self {
        let today = vn_date(OffsetDateTime::now_utc());
        Self {
            shape: DayShape::hose(&calendar, today),
            timeframes,
            settings,
            calendar,
            history,
            symbols: HashMap::new(),
            closed_day: None,
            closer: Closer {
                set,
                latest: Arc::default(),
                metrics,
                rules,
            },
        }
    }

    /// The latest snapshots by symbol, shared with the API.
    pub fn latest(&self) -> Latest {
        self.closer.latest.clone()
    }

    fn fresh_symbol(&self) -> Symbol {
        Symbol {
            frames: self
                .timeframes
                .iter()
                .map(|&resolution| Frame {
                    resolution,
                    studies: self.closer.set.start(),
                    rollup: (resolution != Resolution::M1)
                        .then(|| Rollup::new(resolution, self.shape.clone())),
                    alerts: Alerts::default(),
                })
                .collect(),
        }
    }

    /// Warms up the symbols of `bars` not seen yet (up to `warmup_concurrency` at once).
    pub async fn warm_up(&mut self, bars: &[Bar]) {
        let mut first: HashMap<&str, &Bar> = HashMap::new();
        for b in bars {
            if !self.symbols.contains_key(&b.symbol) {
                first.entry(b.symbol.as_str()).or_insert(b);
            }
        }
        if first.is_empty() {
            return;
        }
        let firsts: Vec<Bar> = first.into_values().cloned().collect();
        let history = self.history.clone();
        let (timeframes, warmup) = (self.timeframes.clone(), self.settings.warmup_bars);
        let jobs = firsts.into_iter().map(move |bar| {
            let (history, timeframes) = (history.clone(), timeframes.clone());
            async move {
                let got = match &history {
                    Some(h) => fetch_history(h, &bar, &timeframes, warmup).await,
                    None => Ok(Warmup {
                        series: vec![Vec::new(); timeframes.len()],
                        today: Vec::new(),
                    }),
                };
                (bar.symbol, bar.start, got)
            }
        });
        let fetched: Vec<_> = futures::stream::iter(jobs)
            .buffer_unordered(self.settings.warmup_concurrency)
            .collect()
            .await;
        let warmup = self.settings.warmup_bars;
        for (symbol, first_start, got) in fetched {
            let mut state = self.fresh_symbol();
            match got {
                Ok(w) => {
                    self.closer.metrics.warmups.with_label_values(&["ok"]).inc();
                    for (frame, bars) in state.frames.iter_mut().zip(&w.series) {
                        let closed = warm_frame(
                            frame,
                            &self.closer.set,
                            bars,
                            &w.today,
                            first_start,
                            warmup,
                        );
                        self.closer.seed_alerts(frame, closed);
                    }
                }
                Err(err) => {
                    self.closer
                        .metrics
                        .warmups
                        .with_label_values(&["error"])
                        .inc();
                    tracing::warn!(symbol, error = %err, "warm-up failed; the symbol starts cold");
                }
            }
            self.symbols.insert(symbol, state);
        }
    }

    /// Applies closed one-minute bars (warm them up first with [`Analysis::warm_up`]).
    pub fn apply(&mut self, bars: &[Bar], out: &mut Output) {
        for bar in bars {
            let Some(state) = self.symbols.get_mut(&bar.symbol) else {
                continue;
            };
            for frame in &mut state.frames {
                let closed = match &mut frame.rollup {
                    None => vec![bar.clone()],
                    Some(rollup) => rollup.push(bar),
                };
                for b in closed {
                    self.closer.close(frame, &b, out);
                }
            }
        }
    }

    /// Closes the open buckets of the market clock's day once its last session ended
    /// `close_after_minutes` ago (the last hour, the day). Only the clock's own day closes this
    /// way: a replay of an earlier day closes its buckets by event time, as later bars arrive.
    pub fn close_days(&mut self, now: OffsetDateTime, out: &mut Output) {
        let day = vn_date(now);
        let day_end = vn_midnight(day) + time::Duration::seconds(i64::from(self.day_end_seconds()));
        let due = day_end + time::Duration::minutes(i64::from(self.settings.close_after_minutes));
        if now < due || self.closed_day.is_some_and(|d| d >= day) {
            return;
        }
        self.closed_day = Some(day);
        for state in self.symbols.values_mut() {
            for frame in &mut state.frames {
                if let Some(b) = frame.rollup.as_mut().and_then(|r| r.close_day(day_end)) {
                    self.closer.close(frame, &b, out);
                }
            }
        }
    }

    /// Seconds from local midnight to the end of the day's last session (HOSE).
    fn day_end_seconds(&self) -> u32 {
        self.calendar
            .sessions()
            .hose
            .main
            .segments
            .last()
            .map_or(15 * 3600, |s| s.end.seconds())
    }
}

impl Closer {
    /// Feeds a closed bar of `frame`'s timeframe to its studies.
    fn close(&self, frame: &mut Frame, bar: &Bar, out: &mut Output) {
        let (values, signals) = match frame.studies.apply(&self.set, bar) {
            Update::Applied { values, signals } => (values, signals),
            Update::Corrected { values, signals } => {
                self.metrics.corrections.inc();
                (values, signals)
            }
            Update::Ignored => return,
        };
        let timeframe = frame.resolution.as_str();
        self.metrics.bars.with_label_values(&[timeframe]).inc();
        self.alert(frame, bar, &values, out);
        let snapshot = pb::IndicatorSnapshot {
            symbol: bar.symbol.clone(),
            timeframe: timeframe.to_owned(),
            bar: Some(to_proto(bar)),
            values: values
                .into_iter()
                .map(|(id, value)| pb::IndicatorValue { id, value })
                .collect(),
        };
        {
            let mut latest = self.latest.write().unwrap_or_else(PoisonError::into_inner);
            let entry = latest.entry(bar.symbol.clone()).or_default();
            match entry.iter_mut().find(|s| s.timeframe == snapshot.timeframe) {
                Some(slot) => *slot = snapshot.clone(),
                None => entry.push(snapshot.clone()),
            }
        }
        out.snapshots.push(snapshot);
        for s in signals {
            self.metrics.signals.with_label_values(&[s.kind]).inc();
            out.signals.push(signal(bar, timeframe, s));
        }
    }
}

impl Closer {
    /// The alert rules true on `bar` of `timeframe` with `values`, its predecessor closing at
    /// `prev_close`, as `(<set>/<rule>, message)` (none when no alert set is active).
    fn holding(
        &self,
        (bar, timeframe): (&Bar, &str),
        prev_close: Option<i64>,
        values: &[(String, f64)],
    ) -> Vec<(String, String)> {
        if !self.rules.any(rules::Target::Alert) {
            return Vec::new();
        }
        let start = bar.start.to_offset(market::calendar::VN_OFFSET);
        let change_pct = match prev_close {
            Some(p) if p != 0 => (bar.close - p) as f64 * 100.0 / p as f64,
            _ => 0.0,
        };
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let inputs = rules::Inputs::new(
            rules::Target::Alert,
            [
                (
                    "bar",
                    rules::fields([
                        ("symbol", bar.symbol.as_str().into()),
                        ("timeframe", timeframe.into()),
                        (
                            "time",
                            format!("{:02}:{:02}", start.hour(), start.minute()).into(),
                        ),
                        ("open", bar.open.into()),
                        ("high", bar.high.into()),
                        ("low", bar.low.into()),
                        ("close", bar.close.into()),
                        ("volume", int(bar.volume).into()),
                        ("prev_close", prev_close.unwrap_or(0).into()),
                        ("change_pct", change_pct.into()),
                    ]),
                ),
                (
                    "ind",
                    values
                        .iter()
                        .map(|(id, v)| (id.clone().into(), rules::FieldValue::Double(*v)))
                        .collect(),
                ),
                ("now", rules::now_fields(bar.end())),
            ],
        );
        match inputs {
            Ok(inputs) => self
                .rules
                .evaluate(&inputs)
                .warnings
                .into_iter()
                .map(|f| (format!("{}/{}", f.set, f.rule), f.message))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "building the alert rule sets' inputs");
                Vec::new()
            }
        }
    }

    /// Raises the alerts that became true on `bar` (a new bar, or a correction of the last).
    fn alert(&self, frame: &mut Frame, bar: &Bar, values: &[(String, f64)], out: &mut Output) {
        let a = &mut frame.alerts;
        match a.last {
            Some((start, _)) if start == bar.start => {}
            last => {
                a.prev_close = last.map(|(_, close)| close);
                a.before = std::mem::take(&mut a.now);
            }
        }
        a.last = Some((bar.start, bar.close));
        let timeframe = frame.resolution.as_str();
        let holding = self.holding((bar, timeframe), a.prev_close, values);
        a.now = holding.iter().map(|(name, _)| name.clone()).collect();
        for (name, message) in holding {
            if a.before.contains(&name) {
                continue;
            }
            self.metrics.signals.with_label_values(&["alert"]).inc();
            out.signals.push(signal(
                bar,
                timeframe,
                Signal {
                    kind: "alert",
                    name,
                    direction: 0,
                    value: bar.close as f64,
                    detail: message,
                },
            ));
        }
    }

    /// Seeds `frame`'s alert state from the last of the history bars it was warmed with, so
    /// the first live bar raises only what became true on it.
    fn seed_alerts(&self, frame: &mut Frame, closed: &[Bar]) {
        let Some(last) = closed.last() else {
            return;
        };
        let prev_close = closed.len().checked_sub(2).map(|i| closed[i].close);
        let values: Vec<(String, f64)> = frame
            .studies
            .values(&self.set)
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let timeframe = frame.resolution.as_str();
        let a = &mut frame.alerts;
        a.last = Some((last.start, last.close));
        a.prev_close = prev_close;
        a.now = self
            .holding((last, timeframe), prev_close, &values)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
    }
}

fn signal(bar: &Bar, timeframe: &str, s: Signal) -> pb::Signal {
    pb::Signal {
        // Deterministic: the same bar read again makes the same id.
        id: crate::domain::signal_id(&bar.symbol, timeframe, bar.start, &s.name),
        symbol: bar.symbol.clone(),
        timeframe: timeframe.to_owned(),
        bar_start: Some(timestamp(bar.start)),
        kind: s.kind.to_owned(),
        name: s.name,
        direction: s.direction,
        value: s.value,
        detail: s.detail,
    }
}

/// What a symbol's warm-up read: each timeframe's bars (as the historical service resamples
/// them) and the one-minute bars of the first bar's day.
struct Warmup {
    series: Vec<Vec<Bar>>,
    today: Vec<Bar>,
}

/// Reads the history `bar`'s symbol needs: for each timeframe enough calendar days to hold
/// `warmup` bars (4.5 trading hours a day, five days in seven, room for holidays), and the
/// minutes of `bar`'s day.
async fn fetch_history(
    history: &History,
    bar: &Bar,
    timeframes: &[Resolution],
    warmup: usize,
) -> Result<Warmup, Error> {
    let day = vn_date(bar.start);
    let mut series = Vec::new();
    for &r in timeframes {
        let per_day = (16_200 / r.seconds()).max(1) as usize;
        let days = (warmup.div_ceil(per_day) * 7).div_ceil(5) + 10;
        let from = day - time::Duration::days(i64::try_from(days).unwrap_or(i64::MAX));
        series.push(
            history
                .bars(&bar.symbol, r, &from.to_string(), &day.to_string())
                .await?,
        );
    }
    let today = match timeframes.iter().position(|r| *r == Resolution::M1) {
        Some(i) => series[i]
            .iter()
            .filter(|m| vn_date(m.start) == day)
            .cloned()
            .collect(),
        None => {
            history
                .bars(
                    &bar.symbol,
                    Resolution::M1,
                    &day.to_string(),
                    &day.to_string(),
                )
                .await?
        }
    };
    Ok(Warmup { series, today })
}

/// Applies one timeframe's history before `first` (the symbol's first live bar): its last
/// `warmup` closed bars into the studies, and for a larger timeframe the minutes of the bucket
/// `first` falls in into the roll-up (the bucket is still open).
fn warm_frame<'a>(
    frame: &mut Frame,
    set: &StudySet,
    series: &'a [Bar],
    today: &[Bar],
    first: OffsetDateTime,
    warmup: usize,
) -> &'a [Bar] {
    let bucket = frame
        .rollup
        .as_ref()
        .map_or(first, |r| r.bucket_start(first));
    // The historical service answers in time order.
    let closed = &series[..series.partition_point(|b| b.start < bucket)];
    frame
        .studies
        .warm(set, &closed[closed.len().saturating_sub(warmup)..]);
    if let Some(rollup) = &mut frame.rollup {
        for m in today
            .iter()
            .filter(|m| m.start >= bucket && m.start < first)
        {
            let _ = rollup.push(m);
        }
    }
    closed
}

/// Consumes `market.bar.v1` into `analysis` until `token` is cancelled: a batch of bars is
/// warmed up, applied, its snapshots published and its signals stored (with their outbox rows)
/// before its offsets are committed, so a crash loses nothing (a redelivered bar is ignored
/// or, after a restart, applied once to the state warmed up from the bars before it).
pub async fn run(
    mut analysis: Analysis,
    bus: SharedBus,
    db: Db,
    clock: MarketClock,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = bus
        .subscribe("ta.bars", &[MARKET_BAR.static_name()])
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "subscribe to {}: {}",
                MARKET_BAR.name,
                common::error::chain(&e)
            )
        })?;
    let batch_max = analysis.settings.batch_max;
    loop {
        let first = tokio::select! {
            () = token.cancelled() => return Ok(()),
            polled = sub.poll(Duration::from_millis(500)) => polled,
        };
        let mut deliveries = Vec::new();
        let mut polled = Some(first);
        while let Some(result) = polled.take() {
            match result {
                Ok(Some(d)) => deliveries.push(d),
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = %common::error::chain(&err), "bar poll failed");
                    if deliveries.is_empty() {
                        tokio::select! {
                            () = token.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                    }
                    break;
                }
            }
            if deliveries.len() < batch_max {
                polled = match sub.poll(Duration::ZERO).await {
                    Ok(None) => None,
                    other => Some(other),
                };
            }
        }
        let mut bars = Vec::with_capacity(deliveries.len());
        for d in &deliveries {
            match d
                .envelope
                .decode::<market_pb::Bar>()
                .ok()
                .as_ref()
                .and_then(from_proto)
            {
                Some(b) => bars.push(b),
                None => {
                    analysis.closer.metrics.malformed.inc();
                    tracing::warn!(
                        offset = d.offset,
                        partition = d.partition,
                        "ignoring a bar that does not decode"
                    );
                }
            }
        }
        analysis.warm_up(&bars).await;
        let mut out = Output::default();
        analysis.apply(&bars, &mut out);
        analysis.close_days(clock.now(), &mut out);
        if !publish(&bus, &db, &out, &token).await? {
            return Ok(());
        }
        let mut last: HashMap<(String, i32), i64> = HashMap::new();
        for d in &deliveries {
            last.insert((d.topic.clone(), d.partition), d.offset);
        }
        for ((topic, partition), offset) in last {
            if let Err(err) = sub.commit_offset(&topic, partition, offset).await {
                tracing::debug!(topic, partition, error = %common::error::chain(&err), "commit");
            }
        }
    }
}

/// Publishes the snapshots and stores the signals of `out` (retrying an unavailable bus or
/// database until done or cancelled: `Ok(false)`).
async fn publish(
    bus: &SharedBus,
    db: &Db,
    out: &Output,
    token: &CancellationToken,
) -> anyhow::Result<bool> {
    let batch: Vec<(&str, Envelope)> = out
        .snapshots
        .iter()
        .map(|s| {
            (
                TA_INDICATOR.static_name(),
                Envelope::new(SOURCE, &s.symbol, s),
            )
        })
        .collect();
    if !common::bus::publish_all(bus.as_ref(), &batch, token).await? {
        return Ok(false);
    }
    let mut backoff = Duration::from_millis(100);
    loop {
        match crate::store::record(db, SOURCE, &out.signals).await {
            Ok(_) => return Ok(true),
            Err(err) => {
                tracing::warn!(error = %common::error::chain(&err), "storing signals failed; retrying");
                tokio::select! {
                    () = token.cancelled() => return Ok(false),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Computations over stored bars.
#[derive(Clone)]
pub struct Compute {
    history: Option<History>,
    settings: ComputeSettings,
}

/// A computation's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// TA-Lib's name.
    pub function: String,
    /// Output names.
    pub outputs: Vec<String>,
    /// Bars before the first defined value.
    pub lookback: usize,
    /// Bar starts.
    pub times: Vec<OffsetDateTime>,
    /// One series per output, aligned with `times` (NaN inside the lookback).
    pub values: Vec<Vec<f64>>,
}

impl Compute {
    /// Computations reading bars from `history`.
    pub fn new(history: Option<History>, settings: ComputeSettings) -> Self {
        Self { history, settings }
    }

    /// The most signals a listing returns.
    pub fn max_signals(&self) -> u32 {
        self.settings.max_signals
    }

    /// `function` with `params` over `symbol`'s bars at `resolution` from `from` to `to`.
    pub async fn run(
        &self,
        symbol: &str,
        resolution: &str,
        from: &str,
        to: &str,
        function: &str,
        params: &[(String, f64)],
    ) -> Result<Computed, Error> {
        let resolution: Resolution = resolution
            .parse()
            .map_err(|e: market::bars::UnknownResolution| Error::Invalid(e.to_string()))?;
        let pairs: Vec<(&str, f64)> = params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let mut indicator =
            indicators::build(function, &pairs).map_err(|e| Error::Invalid(e.to_string()))?;
        let spec = indicator.spec();
        let history = self
            .history
            .as_ref()
            .ok_or_else(|| Error::Historical("no historical service configured".to_owned()))?;
        let bars = history.bars(symbol, resolution, from, to).await?;
        if bars.len() > self.settings.max_bars {
            return Err(Error::Invalid(format!(
                "{} bars in the range; at most {} per request",
                bars.len(),
                self.settings.max_bars
            )));
        }
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(spec.inputs.len());
        for input in spec.inputs {
            let column = crate::domain::column(*input).ok_or_else(|| {
                Error::Invalid(format!(
                    "{} needs a {} series, which bars do not carry",
                    spec.name,
                    input.name()
                ))
            })?;
            columns.push(bars.iter().map(column).collect());
        }
        let inputs: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
        let values = indicator
            .batch(&inputs)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Computed {
            function: spec.name.to_owned(),
            outputs: spec.outputs.iter().map(|s| (*s).to_owned()).collect(),
            lookback: indicator.lookback(),
            times: bars.iter().map(|b| b.start).collect(),
            values,
        })
    }
}
