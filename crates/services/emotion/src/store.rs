//! Storage of collected items with their scores (PostgreSQL or SQLite); an item and the events
//! it publishes are written in one transaction (the outbox), so the store and the bus agree.

use common::bus::Envelope;
use common::store::{Db, Error, Outbox, Timestamp, Tx};
use proto::emotion::v1 as pb;
use time::OffsetDateTime;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    source: String,
    guid: String,
    url: String,
    title: String,
    body: String,
    author: String,
    lang: String,
    symbols: String,
    published: Timestamp,
    collected: Timestamp,
    duplicate_of: String,
    compound: f64,
    positive: f64,
    negative: f64,
    intensity: f64,
    label: String,
    hits: String,
}

const COLUMNS: &str = "id, source, guid, url, title, body, author, lang, symbols, published, \
                       collected, duplicate_of, compound, positive, negative, intensity, label, hits";

/// A stored item and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The item.
    pub item: pb::NewsItem,
    /// Its sentiment.
    pub sentiment: pb::Sentiment,
}

fn to_scored(r: Row) -> Scored {
    let published: OffsetDateTime = r.published.into();
    let collected: OffsetDateTime = r.collected.into();
    let hits: Vec<(String, f64)> = serde_json::from_str(&r.hits).unwrap_or_default();
    Scored {
        sentiment: pb::Sentiment {
            compound: r.compound,
            label: r.label,
            intensity: r.intensity,
            positive: r.positive,
            negative: r.negative,
            lang: if r.lang == "vi" { "vi" } else { "en" }.to_owned(),
            hits: hits
                .into_iter()
                .map(|(term, valence)| pb::Hit { term, valence })
                .collect(),
        },
        item: pb::NewsItem {
            id: r.id,
            source: r.source,
            guid: r.guid,
            url: r.url,
            title: r.title,
            body: r.body,
            lang: r.lang,
            symbols: r
                .symbols
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            published: Some(common::bus::proto_time(published)),
            collected: Some(common::bus::proto_time(collected)),
            duplicate_of: r.duplicate_of,
            author: r.author,
        },
    }
}

/// The id of the item from `source` with id `guid` there, if stored.
pub async fn find_guid(db: &Db, source: &str, guid: &str) -> Result<Option<String>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT id FROM news_items WHERE source = $1 AND guid = $2"
    )
    .bind(source)
    .bind(guid)
    .fetch_optional(p)
    .await)
    .map_err(Error::from)
}

/// The original item whose folded words hash to `key`, if any.
pub async fn find_key(db: &Db, key: i64) -> Result<Option<String>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT id FROM news_items WHERE exact_key = $1 AND duplicate_of = '' LIMIT 1"
    )
    .bind(key)
    .fetch_optional(p)
    .await)
    .map_err(Error::from)
}

/// One item to store, and the events it publishes.
pub struct NewItem<'a> {
    /// The item with its score.
    pub scored: &'a Scored,
    /// Hash of its folded words.
    pub exact_key: i64,
    /// `(topic, event)` to publish with it.
    pub events: Vec<(&'static str, Envelope)>,
}

/// Stores an item, its tickers and its events at once; `false` when an item of the same source
/// and id was there already (nothing written).
pub async fn put(db: &Db, new: NewItem<'_>) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let written = insert(&mut tx, &new).await?;
    if !written {
        tx.rollback().await?;
        return Ok(false);
    }
    let mut events: Vec<(&str, &Envelope)> = Vec::with_capacity(new.events.len());
    for (topic, envelope) in &new.events {
        events.push((topic, envelope));
    }
    Outbox::enqueue_many(&mut tx, events).await?;
    tx.commit().await?;
    Ok(true)
}

async fn insert(tx: &mut Tx, new: &NewItem<'_>) -> Result<bool, Error> {
    let (item, s) = (&new.scored.item, &new.scored.sentiment);
    let time = |t: &Option<prost_types::Timestamp>| {
        Timestamp::from(
            t.as_ref()
                .and_then(common::bus::time_of)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    };
    let hits: Vec<(&str, f64)> = s
        .hits
        .iter()
        .map(|h| (h.term.as_str(), h.valence))
        .collect();
    let hits = serde_json::to_string(&hits).unwrap_or_else(|_| "[]".to_owned());
    let symbols = item.symbols.join(",");
    let published = time(&item.published);
    let inserted = common::on_engine!(tx.conn(), |c| {
        sqlx::query(&format!(
        "INSERT INTO news_items ({COLUMNS}, exact_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (source, guid) DO NOTHING"
    ))
    .bind(&item.id)
    .bind(&item.source)
    .bind(&item.guid)
    .bind(&item.url)
    .bind(&item.title)
    .bind(&item.body)
    .bind(&item.author)
    .bind(&item.lang)
    .bind(&symbols)
    .bind(published)
    .bind(time(&item.collected))
    .bind(&item.duplicate_of)
    .bind(s.compound)
    .bind(s.positive)
    .bind(s.negative)
    .bind(s.intensity)
    .bind(&s.label)
    .bind(&hits)
    .bind(new.exact_key)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if inserted == 0 {
        return Ok(false);
    }
    for symbol in &item.symbols {
        common::on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO news_item_symbols (symbol, published, item_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING"
        )
        .bind(symbol)
        .bind(published)
        .bind(&item.id)
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    Ok(true)
}

/// One item by id.
pub async fn get(db: &Db, id: &str) -> Result<Option<Scored>, Error> {
    let row: Option<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM news_items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?;
    Ok(row.map(to_scored))
}

/// Filters of a list of items.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only items mentioning this ticker.
    pub symbol: Option<String>,
    /// Only this language.
    pub lang: Option<String>,
    /// Only this label.
    pub label: Option<String>,
    /// Only items published before this.
    pub before: Option<OffsetDateTime>,
    /// Only items published at or after this.
    pub since: Option<OffsetDateTime>,
    /// Near-duplicates too.
    pub duplicates: bool,
    /// At most this many.
    pub limit: u32,
}

/// Items, newest first.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Scored>, Error> {
    let mut sql = format!("SELECT {COLUMNS} FROM news_items WHERE 1 = 1");
    let mut n = 0;
    let mut arg = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if f.symbol.is_some() {
        arg(
            &mut sql,
            " AND id IN (SELECT item_id FROM news_item_symbols WHERE symbol = ?)",
        );
    }
    if f.lang.is_some() {
        arg(&mut sql, " AND lang = ?");
    }
    if f.label.is_some() {
        arg(&mut sql, " AND label = ?");
    }
    if f.before.is_some() {
        arg(&mut sql, " AND published < ?");
    }
    if f.since.is_some() {
        arg(&mut sql, " AND published >= ?");
    }
    if !f.duplicates {
        sql.push_str(" AND duplicate_of = ''");
    }
    arg(&mut sql, " ORDER BY published DESC, id DESC LIMIT ?");
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| {
        let mut q = sqlx::query_as(&sql);
        if let Some(s) = &f.symbol {
            q = q.bind(s);
        }
        if let Some(l) = &f.lang {
            q = q.bind(l);
        }
        if let Some(l) = &f.label {
            q = q.bind(l);
        }
        if let Some(b) = f.before {
            q = q.bind(Timestamp::from(b));
        }
        if let Some(s) = f.since {
            q = q.bind(Timestamp::from(s));
        }
        q.bind(i64::from(f.limit)).fetch_all(p).await
    })?;
    Ok(rows.into_iter().map(to_scored).collect())
}

/// What the series and the near-duplicate window are rebuilt from at start: original items
/// published at or after `since`, oldest first, at most `limit` (the newest ones).
pub async fn since(db: &Db, since: OffsetDateTime, limit: u32) -> Result<Vec<Scored>, Error> {
    let mut items = list(
        db,
        &Filter {
            since: Some(since),
            limit,
            ..Filter::default()
        },
    )
    .await?;
    items.reverse();
    Ok(items)
}
