//! Predictions: the daily bars of the universe (backfilled through the historical service),
//! the promoted model of the registry (trained when none is, retrained on schedule), one
//! prediction per symbol from the last complete close, published each trading day to
//! `prediction.signal.v1` for the decision engine, and the model calls of the API.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use common::bus::topics::PREDICTION_SIGNAL;
use common::bus::{Envelope, SharedBus};
use common::error::{Classify, Kind};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use market::calendar::{TradingCalendar, VN_OFFSET};
use market::session::TimeOfDay;
use ml::Panel;
use ml::registry::{Artefact, Registry, RegistryError};
use ml::train::{Recipe, TrainError};
use proto::historical::v1 as hpb;
use proto::historical::v1::historical_service_client::HistoricalServiceClient;
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use proto::prediction::v1 as pb;
use time::{Date, OffsetDateTime, Time};
use tokio::sync::Semaphore;

use crate::metrics::Metrics;
use crate::settings::PredictionSettings;

/// After this local time a trading day's close is final (the last auctions end at 15:00).
const DAY_COMPLETE: TimeOfDay = TimeOfDay::hm(15, 0);
/// Predictions of a day are published until this local time (the ATC auction ends at 14:45).
const LAST_PUBLISH: TimeOfDay = TimeOfDay::hm(14, 45);
/// The most symbols one predictions call names.
pub const MAX_SYMBOLS: usize = 2000;

/// Why a prediction call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is out of range.
    #[error("{0}")]
    Invalid(String),
    /// No such model version.
    #[error("no model version {0}")]
    NotFound(u32),
    /// Nothing to answer from yet (no bars, no model).
    #[error("{0}")]
    NotReady(String),
    /// Another training is running.
    #[error("a model is being trained; retry shortly")]
    Busy,
    /// The model could not be trained or used.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The registry failed.
    #[error(transparent)]
    Registry(RegistryError),
    /// A peer (master data, historical) failed.
    #[error("{0}")]
    Peer(String),
    /// A worker thread failed.
    #[error("training task: {0}")]
    Task(String),
}

impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotFound(v) => Error::NotFound(v),
            e @ (RegistryError::Io { .. } | RegistryError::Corrupt { .. }) => Error::Registry(e),
        }
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) | Error::Train(_) => Kind::InvalidArgument,
            Error::NotFound(_) => Kind::NotFound,
            Error::NotReady(_) => Kind::FailedPrecondition,
            Error::Peer(_) => Kind::Unavailable,
            Error::Busy => Kind::ResourceExhausted,
            Error::Registry(_) | Error::Task(_) => Kind::Internal,
        }
    }
}

/// The latest predictions: one per symbol with features on the last complete date.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    /// The close predicted from.
    pub date: Date,
    /// The model.
    pub model_version: u32,
    /// By symbol.
    pub signals: Vec<pb::Signal>,
}

/// A saved model as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelView {
    /// The artefact (version 0: evaluated, not saved).
    pub artefact: Artefact,
    /// Whether it is the one predicting.
    pub promoted: bool,
}

/// A training request: unset numbers take the configured recipe.
#[derive(Debug, Clone, Default)]
pub struct TrainInput {
    /// Label horizon.
    pub horizon: Option<usize>,
    /// Ridge penalty.
    pub lambda: Option<f64>,
    /// Walk-forward test block.
    pub test_dates: Option<usize>,
    /// Dates before the first test block.
    pub min_train_dates: Option<usize>,
    /// Dates dropped after the purge.
    pub embargo: Option<usize>,
    /// `ridge` or `gbt`.
    pub model: Option<String>,
    /// Promote the new version.
    pub promote: bool,
    /// Evaluate only.
    pub dry_run: bool,
}

/// The day a panel date key stands for (`ml::days`).
pub fn date_of(key: i64) -> Date {
    ml::days::date(key).unwrap_or(Date::MIN)
}

/// A panel of daily closes and volumes from bars of many symbols (dates keyed by day, NaN
/// where a symbol has no bar), keeping only days up to `through`.
pub fn panel(
    symbols: &[String],
    bars: &[Vec<proto::market::v1::Bar>],
    through: Date,
) -> Result<Panel, String> {
    let day = |b: &proto::market::v1::Bar| {
        let start = b.start.as_ref()?;
        let at = OffsetDateTime::from_unix_timestamp(start.seconds).ok()?;
        Some(at.to_offset(VN_OFFSET).date())
    };
    let points = bars.iter().enumerate().flat_map(|(s, series)| {
        series.iter().filter_map(move |b| {
            let d = day(b).filter(|d| *d <= through)?;
            // A bar without a price still makes its date a row.
            let (close, volume) = if b.close > 0 {
                (b.close as f64, b.volume as f64)
            } else {
                (f64::NAN, f64::NAN)
            };
            Some((ml::days::key(d), s, close, volume))
        })
    });
    Panel::pivot(symbols.to_vec(), points).map_err(|e| e.to_string())
}

/// The predictions of `artefact` from the last date of `panel`: each symbol with features
/// that day, ranked; the top `long` share is `prediction_long`, the bottom `exit` share
/// `prediction_exit`, the rest `prediction_hold`.
pub fn signals(
    artefact: &Artefact,
    panel: &Panel,
    long: f64,
    exit: f64,
) -> Result<Vec<pb::Signal>, TrainError> {
    let Some(&last) = panel.dates().last() else {
        return Ok(Vec::new());
    };
    let n = panel.symbols().len();
    let predicted = ml::train::predict(artefact, panel)?;
    let day = &predicted[predicted.len() - n..];
    let date = ml::days::name(last);
    let mut out: Vec<pb::Signal> = ml::train::rank_day(day, long, exit)
        .into_iter()
        .enumerate()
        .filter_map(|(s, r)| Some((s, r?)))
        .map(|(s, r)| {
            let symbol = &panel.symbols()[s];
            pb::Signal {
                id: format!("prediction-{}-{date}-{symbol}", artefact.version),
                symbol: symbol.clone(),
                date: date.clone(),
                model_version: artefact.version,
                horizon: artefact.horizon as u32,
                score: day[s],
                percentile: r.percentile,
                name: r.call.name().to_owned(),
                direction: r.call.direction(),
                detail: r.describe(artefact.version, artefact.horizon, day[s], &date),
            }
        })
        .collect();
    out.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(out)
}

/// Where the bars come from: master data (the universe) and the historical service.
#[derive(Clone)]
pub struct Sources {
    master: MasterDataServiceClient<common::grpc::Channel>,
    historical: HistoricalServiceClient<common::grpc::Channel>,
}

impl Sources {
    /// Clients of master data and historical at their URLs (connected on first use).
    pub fn new(
        peers: &common::grpc::Connector,
        master_data: &str,
        historical: &str,
    ) -> anyhow::Result<Self> {
        let (connect, call) = (Duration::from_secs(5), Duration::from_secs(60));
        Ok(Self {
            master: MasterDataServiceClient::new(peers.channel(
                "master-data",
                master_data,
                connect,
                call,
            )?),
            historical: HistoricalServiceClient::new(peers.channel(
                "historical",
                historical,
                connect,
                call,
            )?)
            .max_decoding_message_size(64 << 20),
        })
    }

    async fn universe(&self, settings: &PredictionSettings) -> Result<Vec<String>, String> {
        if !settings.universe.is_empty() {
            return Ok(settings.universe.clone());
        }
        let index = self
            .master
            .clone()
            .get_index(proto::master_data::v1::GetIndexRequest {
                code: settings.index.clone(),
            })
            .await
            .map_err(|s| format!("master data, index {}: {}", settings.index, s.message()))?
            .into_inner();
        if index.members.len() < 3 {
            return Err(format!(
                "index {} has {} constituents; predictions need at least 3",
                settings.index,
                index.members.len()
            ));
        }
        Ok(index.members)
    }

    /// Backfills daily bars of `symbols` from `from` to `to` and waits for the job.
    async fn backfill(
        &self,
        symbols: &[String],
        from: Date,
        to: Date,
        timeout: Duration,
        token: &CancellationToken,
    ) -> Result<(), String> {
        let mut client = self.historical.clone();
        let job = client
            .start_backfill(hpb::StartBackfillRequest {
                kinds: vec!["daily".to_owned()],
                symbols: symbols.to_vec(),
                indexes: Vec::new(),
                from: from.to_string(),
                to: to.to_string(),
            })
            .await
            .map_err(|s| format!("historical, backfill: {}", s.message()))?
            .into_inner();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut job = job;
        while job.state == "running" {
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "the backfill of daily bars ({}) took longer than {timeout:?}",
                    job.id
                ));
            }
            tokio::select! {
                () = token.cancelled() => return Err("stopped".to_owned()),
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            job = client
                .get_backfill(hpb::GetBackfillRequest { id: job.id.clone() })
                .await
                .map_err(|s| format!("historical, backfill {}: {}", job.id, s.message()))?
                .into_inner();
        }
        if job.state == "done" {
            Ok(())
        } else {
            Err(format!("the backfill of daily bars failed: {}", job.error))
        }
    }

    /// Daily bars of `symbols` from `from` to `to`.
    async fn daily(
        &self,
        symbols: &[String],
        from: Date,
        to: Date,
    ) -> Result<Vec<Vec<proto::market::v1::Bar>>, String> {
        let mut out = Vec::with_capacity(symbols.len());
        for symbol in symbols {
            let bars = self
                .historical
                .clone()
                .get_bars(hpb::GetBarsRequest {
                    symbol: symbol.clone(),
                    resolution: "1D".to_owned(),
                    from: from.to_string(),
                    to: to.to_string(),
                })
                .await
                .map_err(|s| format!("historical, daily bars of {symbol}: {}", s.message()))?
                .into_inner()
                .bars;
            out.push(bars);
        }
        Ok(out)
    }
}

#[derive(Default)]
struct State {
    universe: Vec<String>,
    panel: Option<Panel>,
    latest: Option<Latest>,
    published: Option<Date>,
}

struct Inner {
    settings: PredictionSettings,
    recipe: Recipe,
    registry: Registry,
    state: RwLock<State>,
    training: Semaphore,
    clock: MarketClock,
    calendar: Arc<TradingCalendar>,
    sources: Option<Sources>,
    bus: SharedBus,
    metrics: Metrics,
}

/// The predictions and models of the service.
#[derive(Clone)]
pub struct Predictor {
    inner: Arc<Inner>,
}

impl Predictor {
    /// A predictor reading bars through `sources` (none: only what [`Predictor::set_panel`]
    /// gives it), keeping models in `registry`, publishing to `bus`.
    #[expect(clippy::too_many_arguments, reason = "the service's parts, wired once")]
    pub fn new(
        settings: PredictionSettings,
        recipe: Recipe,
        registry: Registry,
        clock: MarketClock,
        calendar: Arc<TradingCalendar>,
        sources: Option<Sources>,
        bus: SharedBus,
        metrics: Metrics,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                recipe,
                registry,
                state: RwLock::default(),
                training: Semaphore::new(1),
                clock,
                calendar,
                sources,
                bus,
                metrics,
            }),
        }
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest predictions, of `symbols` (empty: all).
    pub fn predictions(&self, symbols: &[String]) -> Result<Latest, Error> {
        if symbols.len() > MAX_SYMBOLS {
            return Err(Error::Invalid(format!(
                "{} symbols asked; at most {MAX_SYMBOLS}",
                symbols.len()
            )));
        }
        for s in symbols {
            market::Symbol::parse(s).map_err(|e| Error::Invalid(format!("symbol {s:?}: {e}")))?;
        }
        let state = self.state();
        let mut latest = state.latest.clone().ok_or_else(|| {
            Error::NotReady(
                "no predictions yet: the history is loading or no model is promoted".to_owned(),
            )
        })?;
        if !symbols.is_empty() {
            latest.signals.retain(|s| symbols.contains(&s.symbol));
        }
        Ok(latest)
    }

    /// Every saved version, oldest first.
    pub fn models(&self) -> Result<Vec<ModelView>, Error> {
        let r = &self.inner.registry;
        let current = r.current()?.map(|a| a.version);
        r.versions()?
            .into_iter()
            .map(|v| {
                Ok(ModelView {
                    artefact: r.load(v)?,
                    promoted: current == Some(v),
                })
            })
            .collect()
    }

    /// Trains on the bars held (see [`TrainInput`]).
    pub async fn train(&self, input: TrainInput) -> Result<ModelView, Error> {
        let base = self.inner.recipe;
        let recipe = Recipe {
            horizon: input.horizon.unwrap_or(base.horizon),
            lambda: input.lambda.unwrap_or(base.lambda),
            test_dates: input.test_dates.unwrap_or(base.test_dates),
            min_train_dates: input.min_train_dates.unwrap_or(base.min_train_dates),
            embargo: input.embargo.unwrap_or(base.embargo),
            model: match &input.model {
                Some(m) => m.parse().map_err(Error::Invalid)?,
                None => base.model,
            },
            trees: base.trees,
            net: base.net,
        };
        recipe.check()?;
        if input.promote && input.dry_run {
            return Err(Error::Invalid(
                "a dry run saves nothing to promote".to_owned(),
            ));
        }
        let panel = self.state().panel.clone().ok_or_else(|| {
            Error::NotReady("no daily bars held yet: the history is loading".to_owned())
        })?;
        let _permit = self.inner.training.try_acquire().map_err(|_| Error::Busy)?;
        let trained = self.train_on(panel, recipe, &input).await;
        let outcome = match &trained {
            Err(_) => "failed",
            Ok(_) if input.dry_run => "evaluated",
            Ok(_) if input.promote => "promoted",
            Ok(_) => "saved",
        };
        self.inner
            .metrics
            .trainings
            .with_label_values(&["api", outcome])
            .inc();
        trained
    }

    async fn train_on(
        &self,
        panel: Panel,
        recipe: Recipe,
        input: &TrainInput,
    ) -> Result<ModelView, Error> {
        let saving = (!input.dry_run).then(|| self.inner.registry.clone());
        let artefact = fit(panel.clone(), recipe, saving).await?;
        if input.dry_run {
            return Ok(ModelView {
                artefact,
                promoted: false,
            });
        }
        tracing::info!(version = artefact.version, "model trained");
        if input.promote {
            self.inner.registry.promote(artefact.version)?;
            self.predict(&panel)?;
        }
        Ok(ModelView {
            artefact,
            promoted: input.promote,
        })
    }

    /// Makes `version` the one predicting and predicts with it from the bars held.
    pub fn promote(&self, version: u32) -> Result<ModelView, Error> {
        let artefact = self.inner.registry.load(version)?;
        // Bound first: the state's lock is not held while predicting.
        let panel = self.state().panel.clone();
        if let Some(panel) = &panel {
            // Refused before promotion when it cannot predict from this pipeline's features.
            signals(&artefact, panel, 0.5, 0.5)?;
        }
        self.inner.registry.promote(version)?;
        tracing::info!(version, "model promoted");
        if let Some(panel) = &panel {
            self.predict(panel)?;
        }
        Ok(ModelView {
            artefact,
            promoted: true,
        })
    }

    /// Holds `panel` as the service's bars and predicts from it with the promoted model.
    pub fn set_panel(&self, panel: Panel) -> Result<(), Error> {
        self.state_mut().panel = Some(panel.clone());
        self.predict(&panel)
    }

    /// Predicts from `panel` with the promoted model (none: no predictions).
    fn predict(&self, panel: &Panel) -> Result<(), Error> {
        let Some(artefact) = self.inner.registry.current()? else {
            return Ok(());
        };
        let m = &self.inner.metrics;
        m.model_version.set(i64::from(artefact.version));
        m.model_ic.set(artefact.metrics.map_or(f64::NAN, |s| s.ic));
        let s = &self.inner.settings;
        let signals = signals(&artefact, panel, s.long_fraction, s.exit_fraction)?;
        let latest = panel.dates().last().map(|&d| Latest {
            date: date_of(d),
            model_version: artefact.version,
            signals,
        });
        let mut state = self.state_mut();
        if state.latest.as_ref().map(|l| (l.date, l.model_version))
            != latest.as_ref().map(|l| (l.date, l.model_version))
        {
            // New predictions are published again, even on a day already published.
            state.published = None;
        }
        state.latest = latest;
        Ok(())
    }

    /// The last date whose close is final at `now`.
    fn complete_through(&self, now: OffsetDateTime) -> Date {
        let (today, time) = TradingCalendar::local(now);
        if self.inner.calendar.is_trading_day(today) && time >= DAY_COMPLETE {
            today
        } else {
            self.inner
                .calendar
                .previous_trading_day(today)
                .unwrap_or_else(|| today.previous_day().unwrap_or(today))
        }
    }

    /// Loads the bars through the last complete close when the held ones end earlier, trains
    /// and promotes a model when none is or when one is due, and predicts.
    pub async fn refresh(&self, token: &CancellationToken) -> Result<(), Error> {
        let sources =
            self.inner.sources.clone().ok_or_else(|| {
                Error::NotReady("no historical service to read bars from".to_owned())
            })?;
        let through = self.complete_through(self.inner.clock.now());
        let held_through = self
            .state()
            .panel
            .as_ref()
            .and_then(|p| p.dates().last().copied())
            .map(date_of);
        if held_through != Some(through) {
            let s = &self.inner.settings;
            let universe = if self.state().universe.is_empty() {
                let u = sources.universe(s).await.map_err(Error::Peer)?;
                self.state_mut().universe.clone_from(&u);
                u
            } else {
                self.state().universe.clone()
            };
            let from = through - time::Duration::days(i64::from(s.history_days));
            sources
                .backfill(
                    &universe,
                    from,
                    through,
                    Duration::from_secs(s.backfill_timeout_s),
                    token,
                )
                .await
                .map_err(Error::Peer)?;
            let bars = sources
                .daily(&universe, from, through)
                .await
                .map_err(Error::Peer)?;
            let panel = panel(&universe, &bars, through).map_err(Error::Peer)?;
            tracing::info!(
                symbols = universe.len(),
                dates = panel.dates().len(),
                through = %through,
                "daily bars loaded"
            );
            self.state_mut().panel = Some(panel);
        }
        self.retrain_if_due().await?;
        let panel = self.state().panel.clone();
        if let Some(panel) = panel {
            self.predict(&panel)?;
        }
        Ok(())
    }

    /// Trains when no model is promoted, or when the held bars have `retrain_every_days`
    /// labelled dates beyond the promoted model's training data (the newest `horizon` dates
    /// have no label yet).
    async fn retrain_if_due(&self) -> Result<(), Error> {
        let Some(panel) = self.state().panel.clone() else {
            return Ok(());
        };
        let current = self.inner.registry.current()?;
        let s = &self.inner.settings;
        let due = match &current {
            None => true,
            Some(a) => {
                let newer = panel
                    .dates()
                    .iter()
                    .filter(|&&d| d > a.trained_on.1)
                    .count();
                s.retrain_every_days > 0 && newer >= s.retrain_every_days as usize + a.horizon
            }
        };
        if !due {
            return Ok(());
        }
        let Ok(_permit) = self.inner.training.try_acquire() else {
            return Ok(());
        };
        let trainings = &self.inner.metrics.trainings;
        let artefact = match fit(panel, self.inner.recipe, Some(self.inner.registry.clone())).await
        {
            Ok(a) => a,
            Err(e) => {
                trainings.with_label_values(&["scheduled", "failed"]).inc();
                return Err(e);
            }
        };
        let ic = artefact.metrics.map_or(f64::NAN, |m| m.ic);
        let promote = current.is_none() || ic >= s.promote_min_ic;
        trainings
            .with_label_values(&["scheduled", if promote { "promoted" } else { "saved" }])
            .inc();
        if promote {
            self.inner.registry.promote(artefact.version)?;
            tracing::info!(version = artefact.version, ic, "model trained and promoted");
        } else {
            tracing::warn!(
                version = artefact.version,
                ic,
                min = s.promote_min_ic,
                "retrained model not promoted: its out-of-sample IC is below prediction.promote_min_ic"
            );
        }
        Ok(())
    }

    /// Publishes the latest predictions if they are for today's session and not yet published
    /// (never in shadow mode: `prediction.publish = false`).
    async fn publish_due(&self, token: &CancellationToken) -> Result<(), Error> {
        if !self.inner.settings.publish {
            return Ok(());
        }
        let now = self.inner.clock.now();
        let (today, time) = TradingCalendar::local(now);
        let (h, m) = self.inner.settings.publish_at().map_err(Error::Invalid)?;
        let window = TimeOfDay::hm(u32::from(h), u32::from(m))..LAST_PUBLISH;
        if !self.inner.calendar.is_trading_day(today) || !window.contains(&time) {
            return Ok(());
        }
        let latest = {
            let state = self.state();
            match &state.latest {
                Some(l) if l.date < today && state.published != Some(today) => l.clone(),
                _ => return Ok(()),
            }
        };
        let batch: Vec<(&str, Envelope)> = latest
            .signals
            .iter()
            .map(|s| {
                (
                    PREDICTION_SIGNAL.static_name(),
                    Envelope::new(crate::SPEC.name, s.symbol.clone(), s),
                )
            })
            .collect();
        let stored = common::bus::publish_all(self.inner.bus.as_ref(), &batch, token)
            .await
            .map_err(|e| Error::Peer(format!("publish predictions: {}", e.error)))?;
        if stored {
            self.inner.metrics.published.inc_by(batch.len() as u64);
            self.state_mut().published = Some(today);
            tracing::info!(
                date = %latest.date,
                model = latest.model_version,
                signals = batch.len(),
                "predictions published"
            );
        }
        Ok(())
    }

    /// The next market instant worth waking at: today's publish time if still ahead, else the
    /// next trading day's.
    fn next_wake(&self, now: OffsetDateTime) -> OffsetDateTime {
        let (h, m) = self.inner.settings.publish_at().unwrap_or((9, 20));
        let at = |d: Date| {
            d.with_time(Time::from_hms(h, m, 0).unwrap_or(Time::MIDNIGHT))
                .assume_offset(VN_OFFSET)
        };
        let (today, _) = TradingCalendar::local(now);
        if self.inner.calendar.is_trading_day(today) && at(today) > now {
            return at(today);
        }
        let next = self
            .inner
            .calendar
            .next_trading_day(today)
            .unwrap_or_else(|| today.next_day().unwrap_or(today));
        at(next)
    }

    /// The daily loop: refresh, publish when due, sleep until the next publish time; failures
    /// are retried with backoff. Runs until `token` is cancelled.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        let mut backoff = Duration::from_secs(1);
        loop {
            let done = match self.refresh(&token).await {
                Ok(()) => self.publish_due(&token).await,
                Err(e) => Err(e),
            };
            let wait = match done {
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    let next = self.next_wake(self.inner.clock.now());
                    // At least a second of wall time; at most an hour between checks.
                    self.inner
                        .clock
                        .wall_until(next)
                        .clamp(Duration::from_secs(1), Duration::from_secs(3600))
                }
                Err(e) => {
                    self.inner.metrics.refresh_failures.inc();
                    tracing::warn!("predictions: {e}; retrying in {backoff:?}");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    wait
                }
            };
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Trains off the async threads; unless `dry_run`, saves the artefact there too (the registry
/// writes and syncs files) and answers it with its version.
async fn fit(panel: Panel, recipe: Recipe, registry: Option<Registry>) -> Result<Artefact, Error> {
    let created = OffsetDateTime::now_utc().unix_timestamp();
    tokio::task::spawn_blocking(move || {
        let mut artefact = ml::train::train(&panel, &recipe, created)?;
        if let Some(r) = registry {
            artefact.version = r.save(artefact.clone())?;
        }
        Ok(artefact)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A panel of `dates` trading days from 2025-01-02 (keyed by Julian day), each symbol's
    /// next return minus half its last one (a reversal a ridge model finds) plus noise.
    fn panel_of(dates: usize, symbols: usize) -> Panel {
        let calendar = TradingCalendar::embedded().unwrap();
        let mut days = vec![time::macros::date!(2025 - 01 - 02)];
        while days.len() < dates {
            days.push(calendar.next_trading_day(*days.last().unwrap()).unwrap());
        }
        let keys = days.iter().map(|d| i64::from(d.to_julian_day())).collect();
        ml::synthetic::reverting(keys, symbols, 0.5, 0x9e37_79b9_7f4a_7c15)
    }

    /// The registry's versions and whether each is promoted.
    fn listed(p: &Predictor) -> Vec<(u32, bool)> {
        p.models()
            .unwrap()
            .iter()
            .map(|m| (m.artefact.version, m.promoted))
            .collect()
    }

    fn predictor(dir: &std::path::Path, retrain_every_days: u32, promote_min_ic: f64) -> Predictor {
        let settings = PredictionSettings {
            enabled: true,
            publish: true,
            universe: Vec::new(),
            index: "VN30".into(),
            history_days: 400,
            publish_at: "09:20".into(),
            long_fraction: 0.2,
            exit_fraction: 0.1,
            retrain_every_days,
            promote_min_ic,
            registry: String::new(),
            backfill_timeout_s: 60,
        };
        let recipe = Recipe {
            min_train_dates: 60,
            test_dates: 20,
            ..Recipe::default()
        };
        Predictor::new(
            settings,
            recipe,
            Registry::open(dir).unwrap(),
            MarketClock::wall(),
            Arc::new(TradingCalendar::embedded().unwrap()),
            None,
            Arc::new(common::bus::embedded::EmbeddedBus::in_memory(1000)),
            Metrics::register(&prometheus::Registry::new()).unwrap(),
        )
    }

    #[test]
    fn predictions_rank_the_last_close_into_long_exit_and_hold() {
        let panel = panel_of(120, 20);
        let recipe = Recipe {
            min_train_dates: 60,
            test_dates: 20,
            ..Recipe::default()
        };
        let mut a = ml::train::train(&panel, &recipe, 0).unwrap();
        a.version = 4;
        let s = signals(&a, &panel, 0.2, 0.1).unwrap();
        assert_eq!(s.len(), 20);
        let count = |n: &str| s.iter().filter(|x| x.name == n).count();
        assert_eq!(
            (
                count("prediction_long"),
                count("prediction_exit"),
                count("prediction_hold")
            ),
            (4, 2, 14)
        );
        let last = ml::days::name(*panel.dates().last().unwrap());
        for x in &s {
            assert_eq!(x.id, format!("prediction-4-{last}-{}", x.symbol));
            let (direction, percentiles) = match x.name.as_str() {
                "prediction_long" => (1, 0.8..=1.0),
                "prediction_exit" => (-1, 0.0..=0.1),
                _ => (0, 0.1..=0.8),
            };
            assert_eq!(x.direction, direction, "{x:?}");
            assert!(percentiles.contains(&x.percentile), "{x:?}");
        }
        // Percentiles follow the scores.
        let mut by_score = s.clone();
        by_score.sort_by(|a, b| a.score.total_cmp(&b.score));
        assert!(
            by_score
                .windows(2)
                .all(|w| w[0].percentile < w[1].percentile)
        );
        assert_eq!(
            (by_score[0].percentile, by_score[19].percentile),
            (0.0, 1.0)
        );
    }

    #[test]
    fn a_symbol_without_a_bar_on_the_last_day_gets_no_prediction() {
        let full = panel_of(100, 5);
        let mut close: Vec<f64> = (0..100).flat_map(|d| full.closes(d).to_vec()).collect();
        close[99 * 5 + 2] = f64::NAN;
        let mut volume = vec![1e5; 500];
        volume[99 * 5 + 2] = f64::NAN;
        let panel = Panel::new(
            full.symbols().to_vec(),
            full.dates().to_vec(),
            close,
            volume,
        )
        .unwrap();
        let recipe = Recipe {
            min_train_dates: 50,
            test_dates: 20,
            ..Recipe::default()
        };
        let a = ml::train::train(&panel, &recipe, 0).unwrap();
        let s = signals(&a, &panel, 0.2, 0.2).unwrap();
        assert_eq!(
            s.iter().map(|x| x.symbol.as_str()).collect::<Vec<_>>(),
            ["S00", "S01", "S03", "S04"]
        );
    }

    #[tokio::test]
    async fn the_first_model_is_promoted_and_retraining_waits_for_enough_new_dates() {
        let dir = tempfile::tempdir().unwrap();
        let p = predictor(dir.path(), 5, 0.0);
        assert!(matches!(p.predictions(&[]), Err(Error::NotReady(_))));
        p.set_panel(panel_of(150, 20)).unwrap();
        p.retrain_if_due().await.unwrap();
        let models = p.models().unwrap();
        assert_eq!(models.len(), 1);
        assert!(models[0].promoted);
        p.set_panel(panel_of(150, 20)).unwrap();
        assert_eq!(p.predictions(&[]).unwrap().model_version, 1);
        // The model was trained through the 149th date (the 150th had no label yet). Four more
        // dates make four new labelled dates: not due.
        p.set_panel(panel_of(154, 20)).unwrap();
        p.retrain_if_due().await.unwrap();
        assert_eq!(p.models().unwrap().len(), 1);
        // Five: retrained, and promoted (its out-of-sample IC is positive).
        p.set_panel(panel_of(155, 20)).unwrap();
        p.retrain_if_due().await.unwrap();
        assert_eq!(listed(&p), [(1, false), (2, true)]);
        let models = p.models().unwrap();
        assert!(models[1].artefact.trained_on.1 > models[0].artefact.trained_on.1);
        p.set_panel(panel_of(155, 20)).unwrap();
        let latest = p.predictions(&[]).unwrap();
        assert_eq!((latest.model_version, latest.signals.len()), (2, 20));
        assert!(matches!(
            p.predictions(&["not one".into()]),
            Err(Error::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn a_retrain_below_the_promotion_floor_is_saved_but_not_promoted() {
        let dir = tempfile::tempdir().unwrap();
        // An IC of 0.99 out of sample is out of reach: only the first model is promoted.
        let p = predictor(dir.path(), 1, 0.99);
        p.set_panel(panel_of(150, 20)).unwrap();
        p.retrain_if_due().await.unwrap();
        p.set_panel(panel_of(160, 20)).unwrap();
        p.retrain_if_due().await.unwrap();
        assert_eq!(listed(&p), [(1, true), (2, false)]);
    }
}
