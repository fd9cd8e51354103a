//! The use cases of master data: sync from the broker, queries, trading rules, manual edits.
//! Every change of a security is written with its event (`masterdata.security.v1`) in one
//! transaction through the outbox; hot lookups go through the cache, which the change events
//! invalidate ([`MasterData::invalidate`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::MASTERDATA_SECURITY;
use common::cache::SharedCache;
use common::error::{Classify, Kind};
use common::settings::clock::MarketClock;
use common::store::{Db, Outbox};
use market::{Exchange, MarketRules, Price, Symbol, TradingCalendar};
use time::{Date, OffsetDateTime};

use crate::domain::{
    AuditEntry, DEFAULT_PAGE, Edit, Field, Filter, Index, MAX_PAGE, PageRequest, Security,
    SyncReport, board_name, kind_name, status_name,
};
use crate::rules::{CalendarDay, HolidayView, TradingRules};
use crate::{store, sync};

/// What can go wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such security or index.
    #[error("{0} not found")]
    NotFound(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// A sync was asked for without a broker.
    #[error("no broker is configured: set the [broker] section (MASTER_DATA__BROKER__...) to sync")]
    NoBroker,
    /// The broker failed.
    #[error("broker sync failed")]
    Broker(#[source] broker::Error),
    /// Storage failed.
    #[error("master-data storage")]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::NotFound(_) => Kind::NotFound,
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::NoBroker => Kind::FailedPrecondition,
            Error::Broker(e) => e.kind(),
            Error::Store(e) => e.kind(),
        }
    }
}

/// Master data's state: storage, cache, broker, clock and the market's rules.
pub struct MasterData {
    db: Db,
    cache: SharedCache,
    broker: Option<Arc<dyn broker::MarketData>>,
    clock: MarketClock,
    rules: MarketRules,
    calendar: TradingCalendar,
    source: &'static str,
    cache_ttl: Duration,
    syncing: tokio::sync::Mutex<()>,
    metrics: crate::metrics::Metrics,
}

/// The cache key of a security.
pub(crate) fn cache_key(symbol: &str) -> String {
    format!("security:{symbol}")
}

fn normalize_symbol(text: &str) -> Result<Symbol, Error> {
    Symbol::parse(text.trim()).map_err(|e| Error::Invalid(format!("symbol {text:?}: {e}")))
}

impl MasterData {
    /// Master data over `db` and `cache`, syncing from `broker` when there is one.
    pub fn new(
        db: Db,
        cache: SharedCache,
        broker: Option<Arc<dyn broker::MarketData>>,
        clock: MarketClock,
        source: &'static str,
        cache_ttl: Duration,
        metrics: crate::metrics::Metrics,
    ) -> Result<Self, market::calendar::Error> {
        let rules = MarketRules::default();
        let calendar = rules.calendar()?;
        Ok(Self {
            db,
            cache,
            broker,
            clock,
            rules,
            calendar,
            source,
            cache_ttl,
            syncing: tokio::sync::Mutex::new(()),
            metrics,
        })
    }

    /// Whether a broker is configured.
    pub fn has_broker(&self) -> bool {
        self.broker.is_some()
    }

    /// The market's rules.
    pub fn rules(&self) -> &MarketRules {
        &self.rules
    }

    /// The trading calendar.
    pub fn calendar(&self) -> &TradingCalendar {
        &self.calendar
    }

    /// The market clock.
    pub fn clock(&self) -> &MarketClock {
        &self.clock
    }

    /// The market's trading day now, or the next one.
    pub fn current_trading_day(&self) -> Option<Date> {
        let (today, _) = TradingCalendar::local(self.clock.now());
        self.calendar.this_or_next_trading_day(today)
    }

    /// The latest trading day synced.
    pub async fn last_synced_day(&self) -> Result<Option<Date>, Error> {
        Ok(store::last_synced_day(&self.db).await?)
    }

    /// Syncs every exchange's securities, bands and indexes for `day` (default: the current
    /// trading day) and publishes every security whose record changed.
    #[tracing::instrument(skip_all, fields(day), err)]
    pub async fn sync(&self, day: Option<Date>) -> Result<SyncReport, Error> {
        let started = std::time::Instant::now();
        let result = self.sync_inner(day).await;
        self.metrics
            .sync_seconds
            .observe(started.elapsed().as_secs_f64());
        match &result {
            Ok(r) => {
                self.metrics.syncs.with_label_values(&["ok"]).inc();
                self.metrics
                    .published
                    .with_label_values(&["sync"])
                    .inc_by(u64::from(r.changed));
                self.metrics.derived.inc_by(u64::from(r.derived));
                let d = r.trading_day;
                self.metrics.synced_day.set(
                    i64::from(d.year()) * 10_000
                        + i64::from(u8::from(d.month())) * 100
                        + i64::from(d.day()),
                );
            }
            Err(_) => self.metrics.syncs.with_label_values(&["error"]).inc(),
        }
        result
    }

    async fn sync_inner(&self, day: Option<Date>) -> Result<SyncReport, Error> {
        let broker = self.broker.as_ref().ok_or(Error::NoBroker)?;
        let day = match day {
            Some(d) if !self.calendar.is_trading_day(d) => {
                return Err(Error::Invalid(format!("{d} is not a trading day")));
            }
            Some(d) => d,
            None => self
                .current_trading_day()
                .ok_or_else(|| Error::Invalid("no trading day ahead in the calendar".into()))?,
        };
        tracing::Span::current().record("day", tracing::field::display(day));
        let _one_at_a_time = self.syncing.lock().await;
        let fetched = sync::fetch(broker.as_ref(), &self.rules, &self.calendar, day)
            .await
            .map_err(Error::Broker)?;
        let existing = store::all(&self.db).await?;
        let mut members: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for index in &fetched.indexes {
            for m in &index.members {
                members
                    .entry(m.clone())
                    .or_default()
                    .push(index.code.clone());
            }
        }
        let now = OffsetDateTime::now_utc();
        let mut changed = Vec::new();
        let mut seen = BTreeSet::new();
        for inc in &fetched.securities {
            let key = inc.symbol.as_str().to_owned();
            seen.insert(key.clone());
            let old = existing.get(&key);
            let pinned = old.map(|o| o.pinned.clone()).unwrap_or_default();
            let keep = |f: Field| pinned.contains(&f);
            let mut indexes = members.get(&key).cloned().unwrap_or_default();
            indexes.sort();
            indexes.dedup();
            let record = Security {
                symbol: inc.symbol,
                exchange: inc.exchange,
                kind: inc.kind,
                name: match old {
                    Some(o) if keep(Field::Name) => o.name.clone(),
                    Some(o) => inc.name.clone().unwrap_or_else(|| o.name.clone()),
                    None => inc.name.clone().unwrap_or_default(),
                },
                name_en: inc
                    .name_en
                    .clone()
                    .or_else(|| old.map(|o| o.name_en.clone()))
                    .unwrap_or_default(),
                sector: match old {
                    Some(o) if keep(Field::Sector) => o.sector.clone(),
                    Some(o) => inc.sector.clone().unwrap_or_else(|| o.sector.clone()),
                    None => inc.sector.clone().unwrap_or_default(),
                },
                status: old.map_or(market::SecurityStatus::Normal, |o| o.status),
                lot_size: inc.lot_size,
                listed_shares: inc
                    .listed_shares
                    .or_else(|| old.map(|o| o.listed_shares))
                    .unwrap_or(0),
                foreign_room: inc
                    .foreign_room
                    .or_else(|| old.and_then(|o| o.foreign_room)),
                band: inc
                    .band
                    .or_else(|| old.and_then(|o| o.band).filter(|b| b.day == day)),
                indexes,
                pinned,
                updated_at: now,
            };
            if old.is_none_or(|o| o.differs(&record)) {
                changed.push(record);
            }
        }
        let mut warnings = fetched.warnings.clone();
        let unlisted = existing.keys().filter(|k| !seen.contains(*k)).count();
        if unlisted > 0 {
            warnings.push(format!(
                "{unlisted} stored securities are no longer listed by the broker (kept as they are)"
            ));
        }
        let envelopes: Vec<Envelope> = changed
            .iter()
            .map(|s| Envelope::new(self.source, s.symbol.as_str(), &crate::convert::to_proto(s)))
            .collect();
        let mut tx = self.db.begin().await?;
        for s in &changed {
            store::upsert(&mut tx, s).await?;
        }
        store::replace_indexes(&mut tx, &fetched.indexes).await?;
        let spec = MASTERDATA_SECURITY;
        let topic: &str = &spec.name;
        let events: Vec<(&str, &Envelope)> = envelopes.iter().map(|e| (topic, e)).collect();
        Outbox::enqueue_many(&mut tx, events).await?;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        store::record_sync(
            &mut tx,
            day,
            count(fetched.securities.len()),
            count(changed.len()),
            fetched.derived,
        )
        .await?;
        tx.commit().await?;
        for s in &changed {
            self.invalidate(s.symbol.as_str()).await;
        }
        let report = SyncReport {
            trading_day: day,
            securities: count(fetched.securities.len()),
            changed: count(changed.len()),
            derived: fetched.derived,
            indexes: count(fetched.indexes.len()),
            warnings,
        };
        tracing::info!(
            day = %day,
            securities = report.securities,
            changed = report.changed,
            derived = report.derived,
            indexes = report.indexes,
            warnings = report.warnings.len(),
            "synced"
        );
        Ok(report)
    }

    /// Drops `symbol` from the cache (a change event arrived or this instance wrote it).
    pub async fn invalidate(&self, symbol: &str) {
        if let Err(e) = self.cache.delete(&cache_key(symbol)).await {
            tracing::warn!(symbol, error = %common::error::chain(&e), "cache invalidation failed");
        }
        self.metrics.invalidations.inc();
    }

    /// One security: from the cache, else from storage (then cached).
    pub async fn security(&self, symbol: &str) -> Result<Security, Error> {
        let symbol = normalize_symbol(symbol)?;
        let key = cache_key(symbol.as_str());
        match self.cache.get(&key).await {
            Ok(Some(bytes)) => match serde_json::from_slice::<Security>(&bytes) {
                Ok(s) => {
                    self.metrics.lookups.with_label_values(&["hit"]).inc();
                    return Ok(s);
                }
                Err(e) => {
                    tracing::warn!(symbol = %symbol, error = %e, "cached security unreadable")
                }
            },
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(symbol = %symbol, error = %common::error::chain(&e), "cache read failed")
            }
        }
        self.metrics.lookups.with_label_values(&["miss"]).inc();
        let s = store::get(&self.db, symbol.as_str())
            .await?
            .ok_or_else(|| Error::NotFound(format!("security {symbol}")))?;
        if let Ok(bytes) = serde_json::to_vec(&s)
            && let Err(e) = self.cache.set(&key, &bytes, Some(self.cache_ttl)).await
        {
            tracing::warn!(symbol = %symbol, error = %common::error::chain(&e), "cache write failed");
        }
        Ok(s)
    }

    /// A page of securities matching `filter`, ordered by symbol; the cursor of the next page.
    pub async fn securities(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<(Vec<Security>, Option<String>), Error> {
        if page.limit == 0 || page.limit > MAX_PAGE {
            return Err(Error::Invalid(format!(
                "limit must be 1 to {MAX_PAGE} (default {DEFAULT_PAGE})"
            )));
        }
        let mut filters = Vec::new();
        let mut binds = Vec::new();
        let mut add = |sql: &str, value: String, binds: &mut Vec<String>| {
            binds.push(value);
            filters.push(sql.replace("$?", &format!("${}", binds.len())));
        };
        if let Some(e) = filter.exchange {
            add("exchange = $?", e.ssi_code().to_owned(), &mut binds);
        }
        if let Some(k) = filter.kind {
            add("kind = $?", kind_name(k).to_owned(), &mut binds);
        }
        if let Some(s) = filter.status {
            add("status = $?", status_name(s).to_owned(), &mut binds);
        }
        if let Some(s) = &filter.sector {
            add("sector = $?", s.clone(), &mut binds);
        }
        if let Some(i) = &filter.index {
            add(
                "symbol IN (SELECT symbol FROM md_index_members WHERE index_code = $?)",
                i.trim().to_ascii_uppercase(),
                &mut binds,
            );
        }
        if let Some(after) = &page.after {
            add("symbol > $?", after.clone(), &mut binds);
        }
        if let Some(board) = filter.board {
            // The (exchange, kind) pairs trading on the board, per `market`.
            let mut pairs = Vec::new();
            for e in Exchange::ALL {
                for k in market::InstrumentKind::ALL {
                    if crate::rules::trades_on(&self.rules, e, k, board) {
                        binds.push(format!("{}:{}", e.ssi_code(), kind_name(k)));
                        pairs.push(format!("${}", binds.len()));
                    }
                }
            }
            if pairs.is_empty() {
                tracing::debug!(board = board_name(board), "no security trades on the board");
                return Ok((Vec::new(), None));
            }
            filters.push(format!(
                "(exchange || ':' || kind) IN ({})",
                pairs.join(", ")
            ));
        }
        let rows = store::page(&self.db, &filters, &binds, page.limit).await?;
        let next = (rows.len() == page.limit as usize)
            .then(|| rows.last().map(|s| s.symbol.as_str().to_owned()))
            .flatten();
        Ok((rows, next))
    }

    /// Every index (optionally of one exchange) with its constituents.
    pub async fn indexes(&self, exchange: Option<Exchange>) -> Result<Vec<Index>, Error> {
        Ok(store::indexes(&self.db, exchange.map(|e| e.ssi_code())).await?)
    }

    /// One index.
    pub async fn index(&self, code: &str) -> Result<Index, Error> {
        let code = code.trim().to_ascii_uppercase();
        store::indexes(&self.db, None)
            .await?
            .into_iter()
            .find(|i| i.code == code)
            .ok_or_else(|| Error::NotFound(format!("index {code}")))
    }

    /// The calendar's answer for `date` (default: today by the market clock).
    pub fn calendar_day(&self, date: Option<Date>) -> CalendarDay {
        let date = date.unwrap_or_else(|| TradingCalendar::local(self.clock.now()).0);
        crate::rules::calendar_day(&self.rules, &self.calendar, date)
    }

    /// The holidays of `year`.
    pub fn holidays(&self, year: i32) -> Result<Vec<HolidayView>, Error> {
        if !(1990..=2100).contains(&year) {
            return Err(Error::Invalid(format!(
                "year {year} is outside 1990..=2100"
            )));
        }
        Ok(crate::rules::holidays(&self.calendar, year))
    }

    /// `symbol`'s trading rules now, with the tick at `price`.
    pub async fn trading_rules(
        &self,
        symbol: &str,
        price: Option<i64>,
    ) -> Result<TradingRules, Error> {
        let price = price
            .map(|p| Price::new(p).map_err(|e| Error::Invalid(format!("price {p}: {e}"))))
            .transpose()?;
        let s = self.security(symbol).await?;
        Ok(crate::rules::trading_rules(
            &self.rules,
            &self.calendar,
            &s,
            price,
            self.clock.now(),
        ))
    }

    /// Applies a manual edit: audited, published like a sync, pinned against later syncs.
    #[tracing::instrument(skip_all, fields(symbol = %symbol, actor = %edit.actor), err)]
    pub async fn edit(&self, symbol: &str, edit: Edit) -> Result<Security, Error> {
        let symbol = normalize_symbol(symbol)?;
        let actor = edit.actor.trim();
        if actor.is_empty() || actor.len() > 100 {
            return Err(Error::Invalid(
                "actor is required (1 to 100 characters)".into(),
            ));
        }
        if edit.reason.len() > 500 {
            return Err(Error::Invalid("reason is at most 500 characters".into()));
        }
        let text = |what: &str, v: &Option<String>, max: usize| -> Result<Option<String>, Error> {
            match v.as_deref().map(str::trim) {
                Some(t) if t.chars().count() > max => Err(Error::Invalid(format!(
                    "{what} is at most {max} characters"
                ))),
                Some(t) if t.chars().any(char::is_control) => {
                    Err(Error::Invalid(format!("{what} has control characters")))
                }
                Some(t) => Ok(Some(t.to_owned())),
                None => Ok(None),
            }
        };
        let name = text("name", &edit.name, 200)?;
        let sector = text("sector", &edit.sector, 100)?;
        if name.is_none() && sector.is_none() && edit.status.is_none() {
            return Err(Error::Invalid(
                "nothing to edit: give name, sector or status".into(),
            ));
        }
        let mut tx = self.db.begin().await?;
        if !store::lock(&mut tx, symbol.as_str()).await? {
            return Err(Error::NotFound(format!("security {symbol}")));
        }
        let old = store::get_in(&mut tx, symbol.as_str())
            .await?
            .ok_or_else(|| Error::NotFound(format!("security {symbol}")))?;
        let mut new = old.clone();
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        if let Some(n) = name.filter(|n| *n != old.name) {
            before.insert("name".into(), old.name.clone().into());
            after.insert("name".into(), n.clone().into());
            new.name = n;
            new.pinned.insert(Field::Name);
        }
        if let Some(s) = sector.filter(|s| *s != old.sector) {
            before.insert("sector".into(), old.sector.clone().into());
            after.insert("sector".into(), s.clone().into());
            new.sector = s;
            new.pinned.insert(Field::Sector);
        }
        if let Some(s) = edit.status.filter(|s| *s != old.status) {
            before.insert("status".into(), status_name(old.status).into());
            after.insert("status".into(), status_name(s).into());
            new.status = s;
            new.pinned.insert(Field::Status);
        }
        if after.is_empty() {
            tx.rollback().await?;
            return Ok(old);
        }
        new.updated_at = OffsetDateTime::now_utc();
        store::upsert(&mut tx, &new).await?;
        store::audit(
            &mut tx,
            symbol.as_str(),
            actor,
            &before.into(),
            &after.into(),
            edit.reason.trim(),
        )
        .await?;
        let envelope = Envelope::new(
            self.source,
            symbol.as_str(),
            &crate::convert::to_proto(&new),
        );
        Outbox::enqueue(&mut tx, &MASTERDATA_SECURITY.name, &envelope).await?;
        tx.commit().await?;
        self.metrics.published.with_label_values(&["edit"]).inc();
        self.invalidate(symbol.as_str()).await;
        Ok(new)
    }

    /// The newest `limit` manual edits of `symbol`.
    pub async fn audit(&self, symbol: &str, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::Invalid(format!("limit must be 1 to {MAX_PAGE}")));
        }
        let symbol = normalize_symbol(symbol)?;
        Ok(store::audit_trail(&self.db, symbol.as_str(), limit).await?)
    }
}

/// Drops cached securities as `masterdata.security.v1` reports them changed (this instance's
/// memory cache), reading in `group` without ever committing, until `token` is cancelled.
pub async fn follow_invalidations(
    md: Arc<MasterData>,
    bus: common::bus::SharedBus,
    group: String,
    token: common::shutdown::CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = bus
        .subscribe(&group, &[MASTERDATA_SECURITY.static_name()])
        .await
        .map_err(|e| anyhow::anyhow!("subscribe to master data: {}", common::error::chain(&e)))?;
    loop {
        let polled = tokio::select! {
            () = token.cancelled() => return Ok(()),
            polled = sub.poll(Duration::from_millis(500)) => polled,
        };
        match polled {
            Ok(Some(delivery)) => match delivery.envelope.decode::<proto::market::v1::Security>() {
                Ok(s) => md.invalidate(&s.symbol).await,
                Err(err) => {
                    tracing::warn!(offset = delivery.offset, error = %err, "ignoring a master-data event")
                }
            },
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %common::error::chain(&err), "master data poll failed");
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
        }
    }
}

/// Runs the daily sync by the market clock until `token` is cancelled: before each trading
/// day's first session (`lead_minutes` before it), and at once when today's was missed.
pub async fn run_schedule(
    md: Arc<MasterData>,
    lead_minutes: u32,
    retry: Duration,
    token: common::shutdown::CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let last = match md.last_synced_day().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %common::error::chain(&e), "reading the last sync failed");
                if wait(&token, retry).await {
                    return Ok(());
                }
                continue;
            }
        };
        let Some((day, at)) =
            sync::next_run(&md.rules, &md.calendar, md.clock.now(), last, lead_minutes)
        else {
            tracing::warn!("no trading day ahead in the calendar: the daily sync stops");
            token.cancelled().await;
            return Ok(());
        };
        tracing::info!(day = %day, at = %at, "next daily sync");
        if wait(&token, md.clock.wall_until(at)).await {
            return Ok(());
        }
        if let Err(e) = md.sync(Some(day)).await {
            tracing::warn!(day = %day, error = %common::error::chain(&e), "daily sync failed; retrying");
            if wait(&token, retry).await {
                return Ok(());
            }
        }
    }
}

/// Waits `d` (wall clock); true when cancelled first.
async fn wait(token: &common::shutdown::CancellationToken, d: Duration) -> bool {
    tokio::select! {
        () = token.cancelled() => true,
        () = tokio::time::sleep(d) => false,
    }
}
