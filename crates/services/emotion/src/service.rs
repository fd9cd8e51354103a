//! The use cases: taking items in (read, deduplicated, linked, scored, stored and published),
//! the sentiment series, and the queries.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration as StdDuration;

use common::bus::topics::{MASTERDATA_SECURITY, NEWS_ITEM, SENTIMENT_ITEM, SENTIMENT_SERIES};
use common::bus::{Envelope, SharedBus};
use common::error::{Classify, Kind};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::Db;
use proto::emotion::v1 as pb;
use text::dedup::{self, Recent};
use text::{Lang, Lexicon, Linker};
use time::{Duration, OffsetDateTime};

use crate::collect::{Feed, published_at};
use crate::domain::{Incoming, MARKET, MAX_AUTHOR_CHARS, MAX_GUID_BYTES, MAX_URL_BYTES};
use crate::domain::{Outcome, Point, Series, Status};
use crate::metrics::Metrics;
use crate::settings::EmotionSettings;
use crate::store::{self, Filter, Scored};

/// Longest text scored on request, in characters.
pub const MAX_SCORE_CHARS: usize = 20_000;
/// Most items a list returns.
pub const MAX_LIST: u32 = 500;
/// How many half-lives of items the series are rebuilt from at start.
const REBUILD_HALF_LIVES: f64 = 10.0;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request that breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// Nothing of that name or id.
    #[error("{0}")]
    NotFound(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::NotFound(_) => Kind::NotFound,
            Error::Store(e) => e.kind(),
        }
    }
}

/// How a collector's reads went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    /// The source name its items are stored under.
    pub source: String,
    /// The feed's URL or path.
    pub feed: String,
    /// The last read.
    pub last_read: Option<OffsetDateTime>,
    /// The last read that worked.
    pub last_ok: Option<OffsetDateTime>,
    /// What went wrong with the last read (empty when it worked).
    pub last_error: String,
    /// Reads, and those that failed.
    pub reads: u64,
    /// Reads that failed.
    pub failures: u64,
    /// Items by what became of them.
    pub new: u64,
    /// Near-duplicates stored.
    pub duplicates: u64,
    /// Items seen before.
    pub known: u64,
    /// Items rejected.
    pub rejected: u64,
}

struct State {
    recent: Recent<String>,
    series: Series,
}

struct Inner {
    db: Db,
    lexicon: Lexicon,
    settings: EmotionSettings,
    clock: MarketClock,
    metrics: Metrics,
    linker: RwLock<Arc<Linker>>,
    securities: Mutex<BTreeMap<String, text::Security>>,
    securities_ready: tokio::sync::watch::Sender<bool>,
    /// Serialises intake: the duplicate checks and the series see every earlier item.
    state: tokio::sync::Mutex<State>,
    sources: Mutex<BTreeMap<String, SourceStatus>>,
}

/// The emotion service's behaviour; cheap to clone.
#[derive(Clone)]
pub struct Emotion {
    inner: Arc<Inner>,
}

impl Emotion {
    /// The service over `db`, with the shipped lexicons.
    pub fn new(
        db: Db,
        settings: EmotionSettings,
        clock: MarketClock,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let lexicon = Lexicon::embedded().map_err(|e| anyhow::anyhow!("the lexicons: {e}"))?;
        let state = State {
            recent: Recent::new(settings.dedup_window),
            series: Series::new(settings.half_life_hours),
        };
        Ok(Emotion {
            inner: Arc::new(Inner {
                db,
                lexicon,
                clock,
                metrics,
                linker: RwLock::new(Arc::new(Linker::default())),
                securities: Mutex::new(BTreeMap::new()),
                securities_ready: tokio::sync::watch::Sender::new(false),
                state: tokio::sync::Mutex::new(state),
                sources: Mutex::new(BTreeMap::new()),
                settings,
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &EmotionSettings {
        &self.inner.settings
    }

    /// Rebuilds the series and the near-duplicate window from the stored items.
    pub async fn restore(&self) -> Result<usize, Error> {
        let now = self.inner.clock.now();
        let h = self.inner.settings.half_life_hours;
        let horizon = Duration::seconds_f64(h * 3600.0 * REBUILD_HALF_LIVES).max(Duration::days(3));
        let items = store::since(&self.inner.db, now - horizon, 200_000).await?;
        let mut state = self.inner.state.lock().await;
        let keep_from = items.len().saturating_sub(self.inner.settings.dedup_window);
        for (i, s) in items.iter().enumerate() {
            let at = time_of(&s.item.published);
            for subject in subjects(&s.item) {
                state
                    .series
                    .add(subject, at, s.sentiment.compound, &s.item.id);
            }
            if i >= keep_from {
                let full = format!("{}\n{}", s.item.title, s.item.body);
                state.recent.insert(
                    s.item.id.clone(),
                    dedup::Signature::new(&full, s.item.symbols.clone()),
                );
            }
        }
        if let Some(p) = state.series.get(MARKET, now) {
            self.inner.metrics.market.set(p.value);
        }
        Ok(items.len())
    }

    /// The securities known, for linking (master data's, or set by a test).
    pub fn set_securities(&self, securities: Vec<text::Security>) {
        let mut map = self
            .inner
            .securities
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for s in securities {
            map.insert(s.symbol.clone(), s);
        }
        let list: Vec<text::Security> = map.values().cloned().collect();
        drop(map);
        *self
            .inner
            .linker
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(Linker::new(&list));
        self.inner.securities_ready.send_replace(true);
    }

    fn linker(&self) -> Arc<Linker> {
        self.inner
            .linker
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until master data's securities are in (or `securities_wait_secs` passed).
    pub async fn wait_for_securities(&self, token: &CancellationToken) {
        let mut ready = self.inner.securities_ready.subscribe();
        let wait = StdDuration::from_secs(self.inner.settings.securities_wait_secs);
        tokio::select! {
            () = token.cancelled() => {}
            _ = tokio::time::timeout(wait, ready.wait_for(|r| *r)) => {}
        }
    }

    /// Follows master data's securities (`masterdata.security.v1`, from the start, a group of
    /// this instance) for the linker, until `token` is cancelled.
    pub async fn follow_securities(
        self,
        bus: SharedBus,
        group: String,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut sub = bus
            .subscribe(&group, &[MASTERDATA_SECURITY.static_name()])
            .await
            .map_err(|e| {
                anyhow::anyhow!("subscribe to securities: {}", common::error::chain(&e))
            })?;
        let mut pending = Vec::new();
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = sub.poll(StdDuration::from_millis(500)) => p,
            };
            match polled {
                Ok(Some(d)) => {
                    if let Ok(s) = d.envelope.decode::<proto::market::v1::Security>() {
                        let names = if s.name.trim().is_empty() {
                            Vec::new()
                        } else {
                            vec![s.name]
                        };
                        pending.push(text::Security {
                            symbol: s.symbol,
                            names,
                        });
                    }
                    // a whole market arrives at start: relink in batches
                    if pending.len() >= 2000 {
                        self.set_securities(std::mem::take(&mut pending));
                    }
                }
                Ok(None) => {
                    // quiet: what came in is all there is for now
                    if !pending.is_empty() {
                        self.set_securities(std::mem::take(&mut pending));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %common::error::chain(&e), "securities poll failed");
                    tokio::time::sleep(StdDuration::from_millis(500)).await;
                }
            }
        }
    }

    /// Takes items in from `source`: each is rejected, known, stored as a near-duplicate, or
    /// stored, scored and published with the series it moves.
    pub async fn ingest(&self, source: &str, items: Vec<Incoming>) -> Result<Vec<Outcome>, Error> {
        if !crate::domain::valid_source(source) {
            return Err(Error::Invalid(format!(
                "source {source:?}: 1 to 64 of a-z, 0-9, '.', '_', '-'"
            )));
        }
        let linker = self.linker();
        let mut state = self.inner.state.lock().await;
        let mut outcomes = Vec::with_capacity(items.len());
        for incoming in items {
            let outcome = self.take(source, incoming, &linker, &mut state).await?;
            self.inner
                .metrics
                .items
                .with_label_values(&[outcome.status.as_str()])
                .inc();
            outcomes.push(outcome);
        }
        if let Some(p) = state.series.get(MARKET, self.inner.clock.now()) {
            self.inner.metrics.market.set(p.value);
        }
        Ok(outcomes)
    }

    async fn take(
        &self,
        source: &str,
        incoming: Incoming,
        linker: &Linker,
        state: &mut State,
    ) -> Result<Outcome, Error> {
        let title = text::feed::cut(incoming.title.trim(), text::feed::MAX_TITLE_CHARS);
        let body = text::feed::cut(incoming.body.trim(), text::feed::MAX_BODY_CHARS);
        let full = format!("{title}\n{body}");
        let guid = match incoming.guid.trim() {
            "" => format!("text-{:016x}", dedup::exact_key(&full)),
            g => g.to_owned(),
        };
        let rejected = |detail: &str| Outcome {
            guid: guid.clone(),
            status: Status::Rejected,
            item_id: String::new(),
            detail: detail.to_owned(),
        };
        if title.is_empty() && body.is_empty() {
            return Ok(rejected("no title and no text"));
        }
        if guid.len() > MAX_GUID_BYTES {
            return Ok(rejected("the id is longer than 512 bytes"));
        }
        if incoming.url.len() > MAX_URL_BYTES {
            return Ok(rejected("the URL is longer than 2048 bytes"));
        }
        if let Some(id) = store::find_guid(&self.inner.db, source, &guid).await? {
            return Ok(Outcome {
                guid,
                status: Status::Known,
                item_id: id,
                detail: String::new(),
            });
        }
        let detected = text::lang::detect(&full);
        let lang = match (detected, incoming.lang) {
            (Lang::Other, Some(declared)) => declared,
            (detected, _) => detected,
        };
        let mut symbols = linker.link(&full);
        for tag in incoming.tagged {
            let known = if linker.is_empty() {
                market::Symbol::parse(&tag).is_ok()
            } else {
                !linker.link(&format!("({tag})")).is_empty()
            };
            if known && !symbols.contains(&tag) {
                symbols.push(tag);
            }
        }
        symbols.sort();
        let key = i64::from_ne_bytes(dedup::exact_key(&full).to_ne_bytes());
        let signature = dedup::Signature::new(&full, symbols.clone());
        let duplicate_of = match store::find_key(&self.inner.db, key).await? {
            Some(id) => id,
            None => state.recent.find(&signature).cloned().unwrap_or_default(),
        };
        let score = self
            .inner
            .lexicon
            .score_parts(&[(&title, 2.0), (&body, 1.0)], lang);
        let collected = self.inner.clock.now();
        let published = published_at(incoming.published, collected);
        let id = uuid::Uuid::now_v7().to_string();
        let scored = Scored {
            item: pb::NewsItem {
                id: id.clone(),
                source: source.to_owned(),
                guid: guid.clone(),
                url: incoming.url,
                title,
                body,
                lang: lang.code().to_owned(),
                symbols,
                published: Some(common::bus::proto_time(published)),
                collected: Some(common::bus::proto_time(collected)),
                duplicate_of: duplicate_of.clone(),
                author: text::feed::cut(incoming.author.trim(), MAX_AUTHOR_CHARS),
            },
            sentiment: sentiment_pb(&score),
        };
        let original = duplicate_of.is_empty();
        let mut series = None;
        let mut events = Vec::new();
        if original {
            let partition = scored.item.symbols.first().map_or("market", String::as_str);
            events.push((
                NEWS_ITEM.static_name(),
                Envelope::new("emotion", partition, &scored.item),
            ));
            let item_sentiment = pb::ItemSentiment {
                item_id: id.clone(),
                symbols: scored.item.symbols.clone(),
                sentiment: Some(scored.sentiment.clone()),
                published: scored.item.published,
                title: scored.item.title.clone(),
                source: source.to_owned(),
            };
            events.push((
                SENTIMENT_ITEM.static_name(),
                Envelope::new("emotion", partition, &item_sentiment),
            ));
            let mut next = state.series.clone();
            for subject in subjects(&scored.item) {
                let p = next.add(subject, published, score.compound, &id);
                let point = point_pb(&p, next.half_life_hours());
                events.push((
                    SENTIMENT_SERIES.static_name(),
                    Envelope::new("emotion", subject, &point),
                ));
            }
            series = Some(next);
        }
        let written = store::put(
            &self.inner.db,
            store::NewItem {
                scored: &scored,
                exact_key: key,
                events,
            },
        )
        .await?;
        if !written {
            return Ok(Outcome {
                guid,
                status: Status::Known,
                item_id: String::new(),
                detail: "stored by another request meanwhile".to_owned(),
            });
        }
        if let Some(next) = series {
            state.series = next;
            state.recent.insert(id.clone(), signature);
        }
        Ok(Outcome {
            guid,
            status: if original {
                Status::New
            } else {
                Status::Duplicate
            },
            item_id: id,
            detail: if original {
                String::new()
            } else {
                format!("near-duplicate of {duplicate_of}")
            },
        })
    }

    /// The sentiment of `text` (`lang`: `None` to detect).
    pub fn score(&self, text: &str, lang: Option<Lang>) -> Result<text::Score, Error> {
        if text.trim().is_empty() {
            return Err(Error::Invalid("text: empty".to_owned()));
        }
        if text.chars().count() > MAX_SCORE_CHARS {
            return Err(Error::Invalid(format!(
                "text: longer than {MAX_SCORE_CHARS} characters"
            )));
        }
        let lang = lang.unwrap_or_else(|| text::lang::detect(text));
        Ok(self.inner.lexicon.score(text, lang))
    }

    /// Items, newest first (`limit` 0: 50; at most [`MAX_LIST`]).
    pub async fn items(&self, mut filter: Filter) -> Result<Vec<Scored>, Error> {
        if filter.limit > MAX_LIST {
            return Err(Error::Invalid(format!("limit: at most {MAX_LIST}")));
        }
        if filter.limit == 0 {
            filter.limit = 50;
        }
        if let Some(s) = &filter.symbol {
            let symbol = market::Symbol::parse(s)
                .map_err(|_| Error::Invalid(format!("symbol {s:?} is not a ticker")))?;
            filter.symbol = Some(symbol.to_string());
        }
        if let Some(l) = &filter.lang
            && !matches!(l.as_str(), "vi" | "en" | "und")
        {
            return Err(Error::Invalid(format!("lang {l:?}: vi, en or und")));
        }
        if let Some(l) = &filter.label
            && text::Label::parse(l).is_none()
        {
            return Err(Error::Invalid(format!(
                "label {l:?}: negative, neutral or positive"
            )));
        }
        Ok(store::list(&self.inner.db, &filter).await?)
    }

    /// One item.
    pub async fn item(&self, id: &str) -> Result<Scored, Error> {
        store::get(&self.inner.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no item {id:?}")))
    }

    /// The sentiment of a ticker or of the market now.
    pub async fn sentiment(&self, subject: &str) -> Result<Point, Error> {
        let subject = subject_of(subject)?;
        let state = self.inner.state.lock().await;
        state
            .series
            .get(&subject, self.inner.clock.now())
            .ok_or_else(|| Error::NotFound(format!("no item has mentioned {subject}")))
    }

    /// Every subject's sentiment now.
    pub async fn all_sentiment(&self) -> Vec<Point> {
        let state = self.inner.state.lock().await;
        state.series.subjects(self.inner.clock.now())
    }

    /// The half-life of the series, hours.
    pub fn half_life_hours(&self) -> f64 {
        self.inner.settings.half_life_hours
    }

    /// A subject's series over the last `hours`, every `step_minutes`: (time, value, weight).
    pub async fn history(
        &self,
        subject: &str,
        hours: u32,
        step_minutes: u32,
    ) -> Result<Vec<(OffsetDateTime, f64, f64)>, Error> {
        let subject = subject_of(subject)?;
        if !(1..=24 * 90).contains(&hours) {
            return Err(Error::Invalid("hours: 1 to 2160".to_owned()));
        }
        if !(1..=1440).contains(&step_minutes)
            || u64::from(hours) * 60 / u64::from(step_minutes) > 2000
        {
            return Err(Error::Invalid(
                "step_minutes: 1 to 1440, and at most 2000 points".to_owned(),
            ));
        }
        let now = self.inner.clock.now();
        let from = now - Duration::hours(i64::from(hours));
        let h = self.inner.settings.half_life_hours;
        let warm = Duration::seconds_f64(h * 3600.0 * REBUILD_HALF_LIVES);
        let items = store::list(
            &self.inner.db,
            &Filter {
                symbol: (subject != MARKET).then(|| subject.clone()),
                since: Some(from - warm),
                limit: 100_000,
                ..Filter::default()
            },
        )
        .await?;
        let points: Vec<(OffsetDateTime, f64)> = items
            .iter()
            .map(|s| (time_of(&s.item.published), s.sentiment.compound))
            .collect();
        Ok(crate::domain::history(
            &points,
            from,
            now,
            Duration::minutes(i64::from(step_minutes)),
            h,
        ))
    }

    /// Records how a read of `feed` went.
    pub fn fetched(&self, source: &str, feed: &Feed, result: Result<&[Outcome], String>) {
        let now = self.inner.clock.now();
        let mut sources = self
            .inner
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let s = sources.entry(source.to_owned()).or_default();
        s.source = source.to_owned();
        s.feed = match feed {
            Feed::Http(url) => url.clone(),
            Feed::File(p) => p.display().to_string(),
        };
        s.reads += 1;
        s.last_read = Some(now);
        match result {
            Ok(outcomes) => {
                self.inner.metrics.reads.with_label_values(&["ok"]).inc();
                s.last_ok = Some(now);
                s.last_error.clear();
                for o in outcomes {
                    match o.status {
                        Status::New => s.new += 1,
                        Status::Duplicate => s.duplicates += 1,
                        Status::Known => s.known += 1,
                        Status::Rejected => s.rejected += 1,
                    }
                }
            }
            Err(e) => {
                self.inner
                    .metrics
                    .reads
                    .with_label_values(&["failed"])
                    .inc();
                tracing::warn!(source, error = %e, "feed read failed");
                s.failures += 1;
                s.last_error = e;
            }
        }
    }

    /// How many securities the linker knows.
    pub fn securities(&self) -> usize {
        self.linker().len()
    }

    /// How each collector's reads went.
    pub fn sources(&self) -> Vec<SourceStatus> {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

/// The subjects an item counts for: its tickers and the market.
fn subjects(item: &pb::NewsItem) -> impl Iterator<Item = &str> {
    item.symbols
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(MARKET))
}

/// A subject as asked: `MARKET` (any case) or a ticker.
fn subject_of(s: &str) -> Result<String, Error> {
    if s.eq_ignore_ascii_case(MARKET) {
        return Ok(MARKET.to_owned());
    }
    market::Symbol::parse(s)
        .map(|s| s.to_string())
        .map_err(|_| Error::Invalid(format!("{s:?} is neither a ticker nor MARKET")))
}

fn time_of(t: &Option<prost_types::Timestamp>) -> OffsetDateTime {
    t.as_ref()
        .and_then(common::bus::time_of)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A score as the proto has it.
pub fn sentiment_pb(s: &text::Score) -> pb::Sentiment {
    pb::Sentiment {
        compound: s.compound,
        label: s.label.as_str().to_owned(),
        intensity: s.intensity,
        positive: s.positive,
        negative: s.negative,
        lang: if s.lang == Lang::Vi { "vi" } else { "en" }.to_owned(),
        hits: s
            .hits
            .iter()
            .map(|h| pb::Hit {
                term: h.term.clone(),
                valence: h.valence,
            })
            .collect(),
    }
}

/// A point as the proto has it.
pub fn point_pb(p: &Point, half_life_hours: f64) -> pb::SentimentPoint {
    pb::SentimentPoint {
        subject: p.subject.clone(),
        at: Some(common::bus::proto_time(p.at)),
        value: p.value,
        weight: p.weight,
        items_24h: p.items_24h,
        half_life_hours,
        last_item_id: p.last_item.clone(),
    }
}
