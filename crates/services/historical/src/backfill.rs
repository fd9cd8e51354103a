//! Backfills through the broker: daily and intraday OHLCV, daily index values, daily stock
//! prices, and gap repair (missing minutes re-fetched, existing ones kept).
//!
//! A job is split into units (one kind, one symbol or index, one window of days). Each unit's
//! rows and its "done" mark commit in one transaction, so an interrupted job, started again
//! (by the service at start-up, or by `qts backfill` with the same job id), skips what is done.
//! Requests are spaced to `requests_per_second`; rate limits and outages are retried with
//! backoff, `max_attempts` times per request.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use broker::{BarsQuery, MarketData, Resolution as BrokerResolution};
use common::error::{Classify, Kind, chain};
use common::shutdown::CancellationToken;
use market::{Symbol, TradingCalendar};
use serde::{Deserialize, Serialize};
use time::Date;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::domain::{Bar, vn_date, vn_midnight};
use crate::metrics::Metrics;
use crate::service::{Error, parse_symbol};
use crate::settings::BackfillSettings;
use crate::store::{self, DailyPrice, IndexPoint, JobRow, OnConflict, Store};

/// What a backfill fetches.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BackfillKind {
    /// Daily OHLCV bars of the symbols.
    Daily,
    /// One-minute OHLCV bars of the symbols.
    Intraday,
    /// Daily values of the indexes.
    Index,
    /// Daily stock price rows (reference, band, prices, volume, foreign room) of the symbols.
    Price,
    /// Minutes missing within sessions, re-fetched from the broker (existing bars are kept).
    Repair,
}

impl BackfillKind {
    fn as_str(self) -> &'static str {
        match self {
            BackfillKind::Daily => "daily",
            BackfillKind::Intraday => "intraday",
            BackfillKind::Index => "index",
            BackfillKind::Price => "price",
            BackfillKind::Repair => "repair",
        }
    }
}

/// A backfill request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackfillRequest {
    /// What to fetch.
    pub kinds: Vec<BackfillKind>,
    /// Tickers (for daily, intraday, price, repair).
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Index codes (for index).
    #[serde(default)]
    pub indexes: Vec<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub to: String,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Unit {
    kind: BackfillKind,
    code: String,
    from: Date,
    to: Date,
}

impl Unit {
    fn key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.kind.as_str(),
            self.code,
            self.from,
            self.to
        )
    }
}

/// A checked request: its units.
fn plan(req: &BackfillRequest, window_days: u32) -> Result<Vec<Unit>, Error> {
    let from = crate::service::parse_date(&req.from, "from")?;
    let to = crate::service::parse_date(&req.to, "to")?;
    if from > to {
        return Err(Error::Invalid(format!("from {from} is after to {to}")));
    }
    if (to - from).whole_days() > 366 * 20 {
        return Err(Error::RangeTooLarge {
            days: (to - from).whole_days(),
            resolution: "backfill".into(),
            max: 366 * 20,
        });
    }
    if req.kinds.is_empty() {
        return Err(Error::Invalid(
            "no kinds (daily, intraday, index, price, repair)".into(),
        ));
    }
    let symbols = req
        .symbols
        .iter()
        .map(|s| parse_symbol(s))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let indexes = req
        .indexes
        .iter()
        .map(|s| parse_symbol(s))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let kinds: BTreeSet<BackfillKind> = req.kinds.iter().copied().collect();
    let mut units = Vec::new();
    for kind in kinds {
        let codes = if kind == BackfillKind::Index {
            &indexes
        } else {
            &symbols
        };
        if codes.is_empty() {
            return Err(Error::Invalid(format!(
                "{} backfill needs {}",
                kind.as_str(),
                if kind == BackfillKind::Index {
                    "indexes"
                } else {
                    "symbols"
                }
            )));
        }
        for code in codes {
            let mut a = from;
            while a <= to {
                let b = (a + time::Duration::days(i64::from(window_days) - 1)).min(to);
                units.push(Unit {
                    kind,
                    code: code.clone(),
                    from: a,
                    to: b,
                });
                match b.next_day() {
                    Some(n) => a = n,
                    None => break,
                }
            }
        }
    }
    Ok(units)
}

/// Spaces requests to a rate.
struct Pace {
    interval: Duration,
    next: Mutex<tokio::time::Instant>,
}

impl Pace {
    fn new(per_second: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second.max(0.001)),
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Progress of a running job, for a progress bar.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// The backfill runner.
#[derive(Clone)]
pub struct Backfills {
    store: Store,
    broker: Option<Arc<dyn MarketData>>,
    calendar: Arc<TradingCalendar>,
    settings: BackfillSettings,
    pace: Arc<Pace>,
    metrics: Metrics,
    token: CancellationToken,
    /// Jobs a runner of this process is running. A job is run by one runner at a time: the
    /// service resumes every `running` job as it starts, and a job started at that moment is
    /// one of them (two runners recorded the same unit twice and failed the job).
    active: Arc<std::sync::Mutex<HashSet<Uuid>>>,
}

/// A runner's hold on a job; the job is free again when it is dropped.
struct Claim {
    active: Arc<std::sync::Mutex<HashSet<Uuid>>>,
    id: Uuid,
}

impl Claim {
    /// The hold on `id`, unless another runner of this process has it.
    fn take(active: &Arc<std::sync::Mutex<HashSet<Uuid>>>, id: Uuid) -> Option<Self> {
        let mut held = active.lock().ok()?;
        held.insert(id).then(|| Self {
            active: active.clone(),
            id,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut held) = self.active.lock() {
            held.remove(&self.id);
        }
    }
}

/// A unit failed for good.
#[derive(Debug, thiserror::Error)]
enum UnitError {
    #[error("broker")]
    Broker(#[from] broker::Error),
    #[error("storage")]
    Store(#[from] store::Error),
    #[error("stopped")]
    Stopped,
}

impl Backfills {
    /// A runner; without a broker every start answers [`Error::NoBroker`].
    pub fn new(
        store: Store,
        broker: Option<Arc<dyn MarketData>>,
        calendar: Arc<TradingCalendar>,
        settings: BackfillSettings,
        metrics: Metrics,
        token: CancellationToken,
    ) -> Self {
        let pace = Arc::new(Pace::new(settings.requests_per_second));
        Self {
            store,
            broker,
            calendar,
            settings,
            pace,
            metrics,
            token,
            active: Arc::default(),
        }
    }

    /// Checks and records a job; returns it without running it.
    pub async fn create(&self, req: &BackfillRequest) -> Result<JobRow, Error> {
        if self.broker.is_none() {
            return Err(Error::NoBroker);
        }
        let units = plan(req, self.settings.window_days)?;
        let id = Uuid::now_v7();
        let text = serde_json::to_string(req).map_err(|e| Error::Invalid(e.to_string()))?;
        self.store
            .create_job(id, &text, i64::try_from(units.len()).unwrap_or(i64::MAX))
            .await?;
        self.job(id).await
    }

    /// Checks, records and starts a job in the background.
    pub async fn start(&self, req: &BackfillRequest) -> Result<JobRow, Error> {
        let job = self.create(req).await?;
        self.spawn(job.id);
        Ok(job)
    }

    /// A job's stored progress.
    pub async fn job(&self, id: Uuid) -> Result<JobRow, Error> {
        self.store
            .job(id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_string()))
    }

    /// Starts every job left running by an earlier process.
    pub async fn resume_all(&self) -> Result<usize, Error> {
        if self.broker.is_none() {
            return Ok(0);
        }
        let jobs = self.store.running_jobs().await?;
        for j in &jobs {
            tracing::info!(job = %j.id, done = j.done_units, total = j.total_units, "resuming backfill");
            self.spawn(j.id);
        }
        Ok(jobs.len())
    }

    fn spawn(&self, id: Uuid) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(err) = this.run(id, None).await {
                tracing::warn!(job = %id, error = %chain(&err), "backfill stopped");
            }
        });
    }

    /// Runs job `id` to its end (or until the runner's token is cancelled, leaving it
    /// `running` to resume), skipping units already done. Returns the final row.
    pub async fn run(&self, id: Uuid, progress: Option<Progress>) -> Result<JobRow, Error> {
        let broker = self.broker.clone().ok_or(Error::NoBroker)?;
        let Some(_claim) = Claim::take(&self.active, id) else {
            // Another runner of this process has it (a job started as the service resumed
            // its running jobs): it carries on, this one answers where it stands.
            return self.job(id).await;
        };
        let job = self.job(id).await?;
        let req: BackfillRequest = serde_json::from_str(&job.request)
            .map_err(|e| Error::Invalid(format!("stored request of job {id}: {e}")))?;
        let units = plan(&req, self.settings.window_days)?;
        // The days whose minute bars the job writes (to vacuum their partitions at the end).
        let minute_days = units
            .iter()
            .filter(|u| u.kind == BackfillKind::Intraday || u.kind == BackfillKind::Repair)
            .fold(None, |acc: Option<(Date, Date)>, u| {
                Some(acc.map_or((u.from, u.to), |(a, b)| (a.min(u.from), b.max(u.to))))
            });
        let done = self.store.done_units(id).await?;
        let total = units.len() as u64;
        let mut finished = done.len() as u64;
        if let Some(p) = &progress {
            p(finished, total);
        }
        for unit in units {
            let key = unit.key();
            if done.contains(&key) {
                continue;
            }
            match self.unit(broker.as_ref(), id, &unit, &key).await {
                Ok(rows) => {
                    self.metrics.count_backfill_rows(rows);
                    finished += 1;
                    if let Some(p) = &progress {
                        p(finished, total);
                    }
                }
                Err(UnitError::Stopped) => return self.job(id).await,
                Err(err) => {
                    let text = format!("{key}: {}", chain(&err));
                    self.store.finish_job(id, "failed", Some(&text)).await?;
                    tracing::warn!(job = %id, error = %text, "backfill failed");
                    return self.job(id).await;
                }
            }
        }
        if let Some((from, to)) = minute_days {
            // Before "done": a caller that waits for the job then reads index-only scans.
            let (from, to) = (vn_midnight(from), vn_midnight(to) + time::Duration::days(1));
            match self.store.vacuum_minute_bars(from, to).await {
                Ok(parts) => tracing::debug!(job = %id, ?parts, "vacuumed the minute bars written"),
                // Maintenance only: the bars are stored; autovacuum gets to them later.
                Err(err) => {
                    tracing::warn!(job = %id, error = %chain(&err), "vacuum of the minute bars failed");
                }
            }
        }
        self.store.finish_job(id, "done", None).await?;
        self.job(id).await
    }

    /// Calls the broker with pacing and retries.
    async fn call<T, F, Fut>(&self, f: F) -> Result<T, UnitError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = broker::Result<T>>,
    {
        let mut attempt = 0u32;
        loop {
            if self.token.is_cancelled() {
                return Err(UnitError::Stopped);
            }
            self.pace.wait().await;
            match f().await {
                Ok(v) => return Ok(v),
                Err(err)
                    if matches!(err.kind(), Kind::ResourceExhausted | Kind::Unavailable)
                        && attempt + 1 < self.settings.max_attempts =>
                {
                    attempt += 1;
                    let delay = Duration::from_millis(
                        self.settings
                            .retry_backoff_ms
                            .saturating_mul(1 << attempt.min(10))
                            .min(60_000),
                    );
                    tracing::warn!(attempt, retry_in_ms = delay.as_millis() as u64, error = %chain(&err), "broker request failed; will retry");
                    tokio::select! {
                        () = self.token.cancelled() => return Err(UnitError::Stopped),
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    async fn unit(
        &self,
        broker: &dyn MarketData,
        job: Uuid,
        unit: &Unit,
        key: &str,
    ) -> Result<u64, UnitError> {
        let symbol =
            || Symbol::parse(&unit.code).map_err(|e| broker::Error::Invalid(e.to_string()));
        let bars = |resolution| {
            let q = symbol().map(|symbol| BarsQuery {
                symbol,
                resolution,
                from: unit.from,
                to: unit.to,
            });
            async move { broker.bars(&q?).await }
        };
        let mut tx = self.store.db().begin().await.map_err(store::Error::from)?;
        let rows = match unit.kind {
            BackfillKind::Daily => {
                let got = self.call(|| bars(BrokerResolution::Day1)).await?;
                let got: Vec<Bar> = got
                    .iter()
                    .map(|b| Bar {
                        start: vn_midnight(vn_date(b.time)),
                        ..bar_of(b, 86_400)
                    })
                    .collect();
                store::upsert_daily_bars(&mut tx, &got).await?
            }
            BackfillKind::Intraday => {
                let got = self.call(|| bars(BrokerResolution::Minute1)).await?;
                let got: Vec<Bar> = got.iter().map(|b| bar_of(b, 60)).collect();
                store::upsert_minute_bars(&mut tx, &got, OnConflict::Update).await?
            }
            BackfillKind::Repair => {
                let gaps = crate::service::gaps(
                    &self.store,
                    &self.calendar,
                    &unit.code,
                    unit.from,
                    unit.to,
                )
                .await
                .map_err(|e| match e {
                    Error::Store(s) => UnitError::Store(s),
                    other @ (Error::Invalid(_)
                    | Error::RangeTooLarge { .. }
                    | Error::NotFound(_)
                    | Error::NoBroker) => {
                        UnitError::Broker(broker::Error::Invalid(other.to_string()))
                    }
                })?;
                let mut n = 0;
                for day in gaps {
                    let q = BarsQuery {
                        symbol: symbol()?,
                        resolution: BrokerResolution::Minute1,
                        from: day.day,
                        to: day.day,
                    };
                    let got = self.call(|| broker.bars(&q)).await?;
                    let missing: BTreeSet<_> = day.missing.iter().copied().collect();
                    let got: Vec<Bar> = got
                        .iter()
                        .map(|b| bar_of(b, 60))
                        .filter(|b| missing.contains(&b.start))
                        .collect();
                    n += store::upsert_minute_bars(&mut tx, &got, OnConflict::Keep).await?;
                }
                n
            }
            BackfillKind::Index => {
                let got = self
                    .call(|| broker.index_history(&unit.code, unit.from, unit.to))
                    .await?;
                let points: Vec<IndexPoint> = got
                    .into_iter()
                    .map(|p| IndexPoint {
                        index: unit.code.clone(),
                        day: p.date,
                        value: p.value.0,
                    })
                    .collect();
                store::upsert_index_points(&mut tx, &points).await?
            }
            BackfillKind::Price => {
                let mut rows = Vec::new();
                let mut day = unit.from;
                while day <= unit.to {
                    if self.calendar.is_trading_day(day) {
                        let got = self
                            .call(|| async move { broker.snapshot(symbol()?, day).await })
                            .await;
                        match got {
                            Ok(s) => rows.push(DailyPrice {
                                symbol: unit.code.clone(),
                                day: Some(s.date),
                                reference: s.reference.map(|p| p.units()),
                                ceiling: s.ceiling.map(|p| p.units()),
                                floor: s.floor.map(|p| p.units()),
                                open: s.open.map(|p| p.units()),
                                high: s.high.map(|p| p.units()),
                                low: s.low.map(|p| p.units()),
                                close: s.close.map(|p| p.units()),
                                volume: s.volume.and_then(|q| i64::try_from(q.units()).ok()),
                                foreign_room: s
                                    .foreign_room
                                    .and_then(|q| i64::try_from(q.units()).ok()),
                            }),
                            // No row that day (not listed yet, suspended): nothing to store.
                            Err(UnitError::Broker(e)) if e.kind() == Kind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                    match day.next_day() {
                        Some(n) => day = n,
                        None => break,
                    }
                }
                store::upsert_daily_prices(&mut tx, &rows).await?
            }
        };
        store::mark_unit_done(&mut tx, job, key, rows).await?;
        tx.commit().await.map_err(store::Error::from)?;
        Ok(rows)
    }
}

fn bar_of(b: &broker::Bar, seconds: u32) -> Bar {
    Bar {
        symbol: b.symbol.as_str().to_owned(),
        start: b.time.to_offset(time::UtcOffset::UTC),
        seconds,
        open: b.open.units(),
        high: b.high.units(),
        low: b.low.units(),
        close: b.close.units(),
        volume: i64::try_from(b.volume.units()).unwrap_or(i64::MAX),
        trades: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_held_by_one_runner_at_a_time() {
        let active = Arc::default();
        let id = Uuid::now_v7();
        let first = Claim::take(&active, id).unwrap();
        assert!(
            Claim::take(&active, id).is_none(),
            "a second runner stands back"
        );
        assert!(
            Claim::take(&active, Uuid::now_v7()).is_some(),
            "other jobs are free"
        );
        drop(first);
        assert!(
            Claim::take(&active, id).is_some(),
            "free again once the runner ends"
        );
    }

    #[test]
    fn a_request_is_split_into_windows_per_kind_and_symbol() {
        let req = BackfillRequest {
            kinds: vec![BackfillKind::Daily, BackfillKind::Index],
            symbols: vec!["ssi".into(), "FPT".into()],
            indexes: vec!["VN30".into()],
            from: "2025-01-01".into(),
            to: "2025-03-01".into(),
        };
        let units = plan(&req, 30).unwrap();
        // 60 days in 30-day windows: 2025-01-01..01-30, 01-31..03-01 → 2 windows.
        assert_eq!(units.len(), 2 * 2 + 2);
        assert_eq!(units[0].key(), "daily:FPT:2025-01-01:2025-01-30");
        assert!(
            units
                .iter()
                .any(|u| u.key() == "index:VN30:2025-01-31:2025-03-01")
        );
    }

    #[test]
    fn bad_requests_are_refused_with_the_reason() {
        let mut req = BackfillRequest {
            kinds: vec![BackfillKind::Daily],
            symbols: vec![],
            indexes: vec![],
            from: "2025-02-01".into(),
            to: "2025-01-01".into(),
        };
        assert!(plan(&req, 30).unwrap_err().to_string().contains("after"));
        req.to = "2025-03-01".into();
        assert!(
            plan(&req, 30)
                .unwrap_err()
                .to_string()
                .contains("needs symbols")
        );
        req.from = "yesterday".into();
        assert!(
            plan(&req, 30)
                .unwrap_err()
                .to_string()
                .contains("not a date")
        );
    }
}
