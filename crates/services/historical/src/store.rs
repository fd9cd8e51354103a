//! Storage of bars, index values, daily prices, the live builder's state and backfill jobs,
//! on PostgreSQL (typed columns, monthly range partitions of the minute bars created on demand,
//! binary `COPY` straight into the table when every row is new, otherwise into a staging table
//! then `INSERT ... ON CONFLICT DO UPDATE`; a covering primary key read by index-only scans,
//! through binary `COPY ... TO STDOUT`, a range of several months as up to three month ranges
//! on as many pooled connections at once) and SQLite (the same tables and semantics, multi-row
//! upserts).

use std::collections::{BTreeSet, HashMap};

use common::error::{Classify, Kind};
use common::store::{Db, PerEngine, Timestamp, Tx};
use sqlx::{PgConnection, SqliteConnection};
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{Bar, SymbolState, vn_date, vn_midnight};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("historical store")]
    Database(#[from] sqlx::Error),
    /// The pool or transaction failed.
    #[error("historical store")]
    Store(#[from] common::store::Error),
    /// A stored value is out of range (a bug or a hand edit).
    #[error("stored value out of range: {0}")]
    Corrupt(String),
    /// A task reading part of a range failed (panicked or was cancelled).
    #[error("historical store: {0}")]
    Task(String),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Database(_) | Error::Store(_) => Kind::Unavailable,
            Error::Corrupt(_) | Error::Task(_) => Kind::Internal,
        }
    }
}

/// Rows per multi-row statement on SQLite (10 parameters each: far below its limit).
const SQLITE_ROWS: usize = 90;

fn ts(t: OffsetDateTime) -> Timestamp {
    Timestamp::from(t)
}

#[derive(sqlx::FromRow)]
struct BarRow {
    symbol: String,
    start: Timestamp,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
    trades: i32,
}

impl BarRow {
    fn into_bar(self, seconds: u32) -> Bar {
        Bar {
            symbol: self.symbol,
            start: self.start.get(),
            seconds,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
            trades: i64::from(self.trades),
        }
    }
}

/// Keeps the last of each `(symbol, start)`: one upsert statement may not touch a row twice.
fn unique_last(bars: &[Bar]) -> Vec<&Bar> {
    let mut seen: HashMap<(&str, OffsetDateTime), usize> = HashMap::with_capacity(bars.len());
    let mut out: Vec<&Bar> = Vec::with_capacity(bars.len());
    for b in bars {
        match seen.get(&(b.symbol.as_str(), b.start)) {
            Some(&i) => out[i] = b,
            None => {
                seen.insert((b.symbol.as_str(), b.start), out.len());
                out.push(b);
            }
        }
    }
    out
}

/// What an upsert does with a row that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Replace it (live bars, a backfill).
    Update,
    /// Keep it (gap repair fills only what is missing).
    Keep,
    /// Add to it: the new row holds trades that came after the stored bar's (a late trade):
    /// high and low widen, close becomes the new row's, volume and trades add up.
    Merge,
}

/// The month partition of `hist_bars_1m` holding `t`: name and bounds.
fn partition_of(t: OffsetDateTime) -> (String, String, String) {
    let (y, m) = (t.year(), t.month());
    let (ny, nm) = if m == Month::December {
        (y + 1, Month::January)
    } else {
        (y, m.next())
    };
    (
        format!("hist_bars_1m_y{y:04}m{:02}", m as u8),
        format!("{y:04}-{:02}-01 00:00:00+00", m as u8),
        format!("{ny:04}-{:02}-01 00:00:00+00", nm as u8),
    )
}

async fn ensure_partitions(c: &mut PgConnection, bars: &[&Bar]) -> Result<(), sqlx::Error> {
    // The distinct months first (a batch spans one or two), then their names.
    let months: BTreeSet<(i32, Month)> = bars
        .iter()
        .map(|b| (b.start.year(), b.start.month()))
        .collect();
    for (y, m) in months {
        let Ok(first) = Date::from_calendar_date(y, m, 1) else {
            continue;
        };
        let (name, from, to) = partition_of(first.midnight().assume_utc());
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(&name)
            .fetch_one(&mut *c)
            .await?;
        if exists.is_none() {
            // Two writers creating the same month would collide on the catalog: serialise
            // creators (only creators) on one advisory lock.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('hist_bars_1m partitions'))")
                .execute(&mut *c)
                .await?;
            sqlx::query(&format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF hist_bars_1m \
                 FOR VALUES FROM ('{from}') TO ('{to}')"
            ))
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

/// Microseconds from PostgreSQL's epoch (2000-01-01 UTC) to the Unix epoch's.
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// A field of a binary `COPY` row: its length, then its bytes.
fn binary_field(buf: &mut Vec<u8>, bytes: &[u8]) -> Result<(), sqlx::Error> {
    let len = i32::try_from(bytes.len())
        .map_err(|_| sqlx::Error::Encode(format!("COPY field of {} bytes", bytes.len()).into()))?;
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(bytes);
    Ok(())
}

/// `bars` as `COPY ... (FORMAT binary)` input: symbol (`text`), start (`timestamptz`, µs since
/// 2000-01-01 UTC), open, high, low, close, volume (`bigint`), trades (`integer`), big-endian.
/// The server stores these without parsing text (no timestamp or integer parsing per field).
fn minute_rows(bars: &[&Bar]) -> Result<Vec<u8>, sqlx::Error> {
    // Header: signature, flags (no OIDs), header extension length.
    const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
    let mut buf = Vec::with_capacity(HEADER.len() + 2 + bars.len() * 96);
    buf.extend_from_slice(HEADER);
    for b in bars {
        buf.extend_from_slice(&8i16.to_be_bytes());
        binary_field(&mut buf, b.symbol.as_bytes())?;
        let start = ts(b.start).unix_micros() - PG_EPOCH_UNIX_MICROS;
        binary_field(&mut buf, &start.to_be_bytes())?;
        for v in [b.open, b.high, b.low, b.close, b.volume] {
            binary_field(&mut buf, &v.to_be_bytes())?;
        }
        let trades = i32::try_from(b.trades)
            .map_err(|_| sqlx::Error::Encode(format!("{} trades in one bar", b.trades).into()))?;
        binary_field(&mut buf, &trades.to_be_bytes())?;
    }
    // Trailer: a field count of -1.
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(buf)
}

/// Runs `statement` (`COPY ... FROM STDIN (FORMAT binary)`) with `rows` as its input; on error
/// the `COPY` is aborted and nothing is stored.
async fn copy_in_binary(
    c: &mut PgConnection,
    statement: &str,
    rows: &[u8],
) -> Result<u64, sqlx::Error> {
    let mut copy = c.copy_in_raw(statement).await?;
    for chunk in rows.chunks(1 << 20) {
        if let Err(err) = copy.send(chunk).await {
            let _ = copy.abort("client failed to send the rows").await;
            return Err(err);
        }
    }
    copy.finish().await
}

/// Whether any of `bars`' symbols has a stored bar between that symbol's own first and last
/// start in `bars` (one index probe per symbol): when none has, every row is new. Per symbol,
/// not one box of all symbols × the batch's whole time range: a batch that holds the second
/// half of a symbol's day, after a batch that stored its first half, is still all new.
async fn any_stored(c: &mut PgConnection, bars: &[&Bar]) -> Result<bool, sqlx::Error> {
    let mut ranges: HashMap<&str, (OffsetDateTime, OffsetDateTime)> = HashMap::new();
    for b in bars {
        ranges
            .entry(b.symbol.as_str())
            .and_modify(|(lo, hi)| {
                *lo = (*lo).min(b.start);
                *hi = (*hi).max(b.start);
            })
            .or_insert((b.start, b.start));
    }
    if ranges.is_empty() {
        return Ok(false);
    }
    let mut symbols = Vec::with_capacity(ranges.len());
    let mut lows = Vec::with_capacity(ranges.len());
    let mut highs = Vec::with_capacity(ranges.len());
    for (symbol, (lo, hi)) in ranges {
        symbols.push(symbol);
        lows.push(lo);
        highs.push(hi);
    }
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) \
         AS b (symbol, lo, hi) WHERE EXISTS (SELECT 1 FROM hist_bars_1m h \
         WHERE h.symbol = b.symbol AND h.start >= b.lo AND h.start <= b.hi))",
    )
    .bind(&symbols)
    .bind(&lows)
    .bind(&highs)
    .fetch_one(&mut *c)
    .await
}

/// A primary-key (unique) violation: SQLSTATE 23505.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.code().as_deref() == Some("23505"))
}

async fn upsert_bars_pg(
    c: &mut PgConnection,
    bars: &[&Bar],
    on_conflict: OnConflict,
) -> Result<u64, sqlx::Error> {
    ensure_partitions(c, bars).await?;
    let rows = minute_rows(bars)?;
    // Rows that are all new need no staging: COPY straight into the table. A writer that
    // stores one of them meanwhile makes the COPY fail on the primary key; the savepoint
    // undoes it and the staged upsert below runs instead.
    if !any_stored(c, bars).await? {
        sqlx::query("SAVEPOINT hist_direct_copy")
            .execute(&mut *c)
            .await?;
        match copy_in_binary(
            c,
            "COPY hist_bars_1m (symbol, start, open, high, low, close, volume, trades) \
             FROM STDIN (FORMAT binary)",
            &rows,
        )
        .await
        {
            Ok(n) => {
                sqlx::query("RELEASE SAVEPOINT hist_direct_copy")
                    .execute(&mut *c)
                    .await?;
                return Ok(n);
            }
            Err(err) if is_unique_violation(&err) => {
                sqlx::query("ROLLBACK TO SAVEPOINT hist_direct_copy")
                    .execute(&mut *c)
                    .await?;
            }
            Err(err) => return Err(err),
        }
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS hist_stage_1m (symbol text, start timestamptz, \
         open bigint, high bigint, low bigint, close bigint, volume bigint, trades integer) \
         ON COMMIT DELETE ROWS",
    )
    .execute(&mut *c)
    .await?;
    copy_in_binary(
        c,
        "COPY hist_stage_1m (symbol, start, open, high, low, close, volume, trades) \
         FROM STDIN (FORMAT binary)",
        &rows,
    )
    .await?;
    let action = match on_conflict {
        OnConflict::Update => {
            "DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, \
             close = EXCLUDED.close, volume = EXCLUDED.volume, trades = EXCLUDED.trades"
        }
        OnConflict::Keep => "DO NOTHING",
        OnConflict::Merge => {
            "DO UPDATE SET high = GREATEST(hist_bars_1m.high, EXCLUDED.high), \
             low = LEAST(hist_bars_1m.low, EXCLUDED.low), close = EXCLUDED.close, \
             volume = hist_bars_1m.volume + EXCLUDED.volume, \
             trades = hist_bars_1m.trades + EXCLUDED.trades"
        }
    };
    let n = sqlx::query(&format!(
        "INSERT INTO hist_bars_1m (symbol, start, open, high, low, close, volume, trades) \
         SELECT symbol, start, open, high, low, close, volume, trades FROM hist_stage_1m \
         ON CONFLICT (symbol, start) {action}"
    ))
    .execute(&mut *c)
    .await?
    .rows_affected();
    sqlx::query("TRUNCATE hist_stage_1m")
        .execute(&mut *c)
        .await?;
    Ok(n)
}

async fn upsert_bars_sqlite(
    c: &mut SqliteConnection,
    bars: &[&Bar],
    on_conflict: OnConflict,
) -> Result<u64, sqlx::Error> {
    let action = match on_conflict {
        OnConflict::Update => {
            " ON CONFLICT (symbol, start) DO UPDATE SET open = excluded.open, high = excluded.high, \
             low = excluded.low, close = excluded.close, volume = excluded.volume, \
             trades = excluded.trades"
        }
        OnConflict::Keep => " ON CONFLICT (symbol, start) DO NOTHING",
        OnConflict::Merge => {
            " ON CONFLICT (symbol, start) DO UPDATE SET high = MAX(hist_bars_1m.high, excluded.high), \
             low = MIN(hist_bars_1m.low, excluded.low), close = excluded.close, \
             volume = hist_bars_1m.volume + excluded.volume, \
             trades = hist_bars_1m.trades + excluded.trades"
        }
    };
    let mut n = 0;
    for chunk in bars.chunks(SQLITE_ROWS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO hist_bars_1m (symbol, start, open, high, low, close, volume, trades) ",
        );
        q.push_values(chunk, |mut row, b| {
            row.push_bind(b.symbol.as_str())
                .push_bind(ts(b.start))
                .push_bind(b.open)
                .push_bind(b.high)
                .push_bind(b.low)
                .push_bind(b.close)
                .push_bind(b.volume)
                .push_bind(b.trades);
        });
        q.push(action);
        n += q.build().execute(&mut *c).await?.rows_affected();
    }
    Ok(n)
}

/// Upserts one-minute bars inside the caller's transaction; returns rows written.
pub async fn upsert_minute_bars(
    tx: &mut Tx,
    bars: &[Bar],
    on_conflict: OnConflict,
) -> Result<u64, Error> {
    let bars = unique_last(bars);
    if bars.is_empty() {
        return Ok(0);
    }
    Ok(match tx.conn() {
        PerEngine::Postgres(c) => upsert_bars_pg(c, &bars, on_conflict).await?,
        PerEngine::Sqlite(c) => upsert_bars_sqlite(c, &bars, on_conflict).await?,
    })
}

/// The stored one-minute bar of `symbol` at `start`, read inside the caller's transaction.
pub async fn minute_bar_in(
    tx: &mut Tx,
    symbol: &str,
    start: OffsetDateTime,
) -> Result<Option<Bar>, Error> {
    const Q: &str = "SELECT symbol, start, open, high, low, close, volume, trades FROM hist_bars_1m \
                     WHERE symbol = $1 AND start = $2";
    let row: Option<BarRow> = match tx.conn() {
        PerEngine::Postgres(c) => {
            sqlx::query_as(Q)
                .bind(symbol)
                .bind(ts(start))
                .fetch_optional(&mut *c)
                .await?
        }
        PerEngine::Sqlite(c) => {
            sqlx::query_as(Q)
                .bind(symbol)
                .bind(ts(start))
                .fetch_optional(&mut *c)
                .await?
        }
    };
    Ok(row.map(|r| r.into_bar(60)))
}

/// Upserts daily bars (start = 00:00 Vietnam time of the day).
pub async fn upsert_daily_bars(tx: &mut Tx, bars: &[Bar]) -> Result<u64, Error> {
    let mut n = 0;
    for chunk in unique_last(bars).chunks(SQLITE_ROWS) {
        n += common::on_engine!(tx.conn(), |c| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO hist_bars_1d (symbol, start, open, high, low, close, volume) ",
            );
            q.push_values(chunk, |mut row, b| {
                row.push_bind(b.symbol.as_str())
                    .push_bind(ts(b.start))
                    .push_bind(b.open)
                    .push_bind(b.high)
                    .push_bind(b.low)
                    .push_bind(b.close)
                    .push_bind(b.volume);
            });
            q.push(
                " ON CONFLICT (symbol, start) DO UPDATE SET open = EXCLUDED.open, \
                 high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, \
                 volume = EXCLUDED.volume",
            );
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(n)
}

/// One daily index value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPoint {
    /// Index code.
    pub index: String,
    /// Trading day.
    pub day: Date,
    /// Hundredths of a point.
    pub value: i64,
}

/// Upserts daily index values.
pub async fn upsert_index_points(tx: &mut Tx, points: &[IndexPoint]) -> Result<u64, Error> {
    let mut n = 0;
    for chunk in points.chunks(SQLITE_ROWS) {
        n += common::on_engine!(tx.conn(), |c| {
            let mut q =
                sqlx::QueryBuilder::new("INSERT INTO hist_index_daily (index_code, day, value) ");
            q.push_values(chunk, |mut row, p| {
                row.push_bind(p.index.as_str())
                    .push_bind(ts(vn_midnight(p.day)))
                    .push_bind(p.value);
            });
            q.push(" ON CONFLICT (index_code, day) DO UPDATE SET value = EXCLUDED.value");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(n)
}

/// The broker's daily price row of one symbol and day; `None` where it sent nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DailyPrice {
    /// Ticker.
    pub symbol: String,
    /// Trading day.
    pub day: Option<Date>,
    /// Reference price.
    pub reference: Option<i64>,
    /// Ceiling.
    pub ceiling: Option<i64>,
    /// Floor.
    pub floor: Option<i64>,
    /// Open.
    pub open: Option<i64>,
    /// High.
    pub high: Option<i64>,
    /// Low.
    pub low: Option<i64>,
    /// Close.
    pub close: Option<i64>,
    /// Matched volume.
    pub volume: Option<i64>,
    /// Foreign room left.
    pub foreign_room: Option<i64>,
}

/// Upserts daily price rows.
pub async fn upsert_daily_prices(tx: &mut Tx, rows: &[DailyPrice]) -> Result<u64, Error> {
    let mut n = 0;
    for r in rows {
        let Some(day) = r.day else { continue };
        n += common::on_engine!(tx.conn(), |c| {
            sqlx::query(
            "INSERT INTO hist_daily_prices (symbol, day, reference, ceiling, floor, open, high, \
             low, close, volume, foreign_room) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (symbol, day) DO UPDATE SET reference = EXCLUDED.reference, \
             ceiling = EXCLUDED.ceiling, floor = EXCLUDED.floor, open = EXCLUDED.open, \
             high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, \
             volume = EXCLUDED.volume, foreign_room = EXCLUDED.foreign_room"
        )
        .bind(r.symbol.as_str())
        .bind(ts(vn_midnight(day)))
        .bind(r.reference)
        .bind(r.ceiling)
        .bind(r.floor)
        .bind(r.open)
        .bind(r.high)
        .bind(r.low)
        .bind(r.close)
        .bind(r.volume)
        .bind(r.foreign_room)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(n)
}

/// Reads the stored data.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// The store on `db` (migrated with [`crate::MIGRATIONS`]).
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// `VACUUM (ANALYZE)` of the monthly partitions of `hist_bars_1m` holding `from..=to`
    /// (those that exist; PostgreSQL only, nothing on SQLite); returns the partitions done.
    /// A backfill runs it on the months it wrote: vacuum marks the new rows' pages all-visible,
    /// so a symbol's range is read from the covering primary key alone (an index-only scan of
    /// adjacent leaf pages, instead of one heap page per row where symbols interleave), and
    /// analyze gives the planner the partition's statistics (without them it sorts the
    /// year's rows instead of reading the partitions in order). Autovacuum does the same
    /// eventually, when it runs and its insert threshold is reached.
    pub async fn vacuum_minute_bars(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<String>, Error> {
        let Some(pool) = self.db.postgres() else {
            return Ok(Vec::new());
        };
        let mut done = Vec::new();
        let (mut y, mut m) = (from.year(), from.month());
        while (y, m as u8) <= (to.year(), to.month() as u8) {
            let Ok(first) = Date::from_calendar_date(y, m, 1) else {
                break;
            };
            let (name, _, _) = partition_of(first.midnight().assume_utc());
            let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                .bind(&name)
                .fetch_one(pool)
                .await?;
            if exists.is_some() {
                // VACUUM runs outside a transaction block: the simple protocol, on its own.
                sqlx::raw_sql(&format!("VACUUM (ANALYZE) {name}"))
                    .execute(pool)
                    .await?;
                done.push(name);
            }
            if m == Month::December {
                (y, m) = (y + 1, Month::January);
            } else {
                m = m.next();
            }
        }
        Ok(done)
    }

    /// One-minute bars of `symbol` with `from <= start < to`, oldest first, at most `limit`.
    pub async fn minute_bars(
        &self,
        symbol: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<Bar>, Error> {
        if let Some(pool) = self.db.postgres() {
            return minute_bars_pg(pool, symbol, from, to, limit).await;
        }
        let rows: Vec<BarRow> = common::on_engine!(self.db.pool(), |p| sqlx::query_as(
            "SELECT symbol, start, open, high, low, close, volume, trades FROM hist_bars_1m \
             WHERE symbol = $1 AND start >= $2 AND start < $3 ORDER BY start LIMIT $4"
        )
        .bind(symbol)
        .bind(ts(from))
        .bind(ts(to))
        .bind(limit)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|r| r.into_bar(60)).collect())
    }

    /// The symbols with one-minute bars on `day` (Vietnam time), sorted.
    pub async fn symbols_on(&self, day: time::Date) -> Result<Vec<String>, Error> {
        let from = crate::domain::vn_midnight(day);
        let to = from + time::Duration::days(1);
        let rows: Vec<(String,)> = common::on_engine!(self.db.pool(), |p| sqlx::query_as(
            "SELECT DISTINCT symbol FROM hist_bars_1m WHERE start >= $1 AND start < $2 \
             ORDER BY symbol"
        )
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Stored daily bars of `symbol` with `from <= start < to`, oldest first.
    pub async fn daily_bars(
        &self,
        symbol: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Bar>, Error> {
        let rows: Vec<BarRow> = common::on_engine!(self.db.pool(), |p| {
            sqlx::query_as(
            "SELECT symbol, start, open, high, low, close, volume, 0 AS trades FROM hist_bars_1d \
             WHERE symbol = $1 AND start >= $2 AND start < $3 ORDER BY start"
        )
        .bind(symbol)
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(|r| r.into_bar(86_400)).collect())
    }

    /// The latest stored one-minute bar of each symbol that has one.
    pub async fn latest_bars(&self, symbols: &[String]) -> Result<Vec<Bar>, Error> {
        let mut out = Vec::with_capacity(symbols.len());
        for s in symbols {
            let row: Option<BarRow> = common::on_engine!(self.db.pool(), |p| {
                sqlx::query_as(
                "SELECT symbol, start, open, high, low, close, volume, trades FROM hist_bars_1m \
                 WHERE symbol = $1 ORDER BY start DESC LIMIT 1"
            )
            .bind(s.as_str())
            .fetch_optional(p)
            .await
            })?;
            out.extend(row.map(|r| r.into_bar(60)));
        }
        Ok(out)
    }

    /// The start of every stored one-minute bar of `symbol` in `[from, to)`.
    pub async fn minute_starts(
        &self,
        symbol: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<BTreeSet<OffsetDateTime>, Error> {
        let rows: Vec<Timestamp> = common::on_engine!(self.db.pool(), |p| sqlx::query_scalar(
            "SELECT start FROM hist_bars_1m WHERE symbol = $1 AND start >= $2 AND start < $3"
        )
        .bind(symbol)
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(Timestamp::get).collect())
    }

    /// Daily values of `index` from `from` to `to` (inclusive), oldest first.
    pub async fn index_history(
        &self,
        index: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<IndexPoint>, Error> {
        let rows: Vec<(String, Timestamp, i64)> =
            common::on_engine!(self.db.pool(), |p| sqlx::query_as(
                "SELECT index_code, day, value FROM hist_index_daily \
                 WHERE index_code = $1 AND day >= $2 AND day <= $3 ORDER BY day"
            )
            .bind(index)
            .bind(ts(vn_midnight(from)))
            .bind(ts(vn_midnight(to)))
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(index, day, value)| IndexPoint {
                index,
                day: vn_date(day.get()),
                value,
            })
            .collect())
    }

    /// The stored daily price rows of `symbol` from `from` to `to` (inclusive).
    pub async fn daily_prices(
        &self,
        symbol: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<DailyPrice>, Error> {
        type Row = (
            String,
            Timestamp,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = common::on_engine!(self.db.pool(), |p| sqlx::query_as(
            "SELECT symbol, day, reference, ceiling, floor, open, high, low, close, volume, \
             foreign_room FROM hist_daily_prices WHERE symbol = $1 AND day >= $2 AND day <= $3 \
             ORDER BY day"
        )
        .bind(symbol)
        .bind(ts(vn_midnight(from)))
        .bind(ts(vn_midnight(to)))
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|r| DailyPrice {
                symbol: r.0,
                day: Some(vn_date(r.1.get())),
                reference: r.2,
                ceiling: r.3,
                floor: r.4,
                open: r.5,
                high: r.6,
                low: r.7,
                close: r.8,
                volume: r.9,
                foreign_room: r.10,
            })
            .collect())
    }

    /// Every symbol's live state, as the last committed batch left it.
    pub async fn load_live_state(&self) -> Result<HashMap<String, SymbolState>, Error> {
        #[derive(sqlx::FromRow)]
        struct Row {
            symbol: String,
            bar_start: Option<Timestamp>,
            open: i64,
            high: i64,
            low: i64,
            close: i64,
            volume: i64,
            trades: i32,
            last_closed: Option<Timestamp>,
            volume_day: Option<Timestamp>,
            last_total_volume: i64,
        }
        let rows: Vec<Row> = common::on_engine!(self.db.pool(), |p| sqlx::query_as(
            "SELECT symbol, bar_start, open, high, low, close, volume, trades, last_closed, \
             volume_day, last_total_volume FROM hist_live_state"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let open = r.bar_start.map(|start| Bar {
                    symbol: r.symbol.clone(),
                    start: start.get(),
                    seconds: 60,
                    open: r.open,
                    high: r.high,
                    low: r.low,
                    close: r.close,
                    volume: r.volume,
                    trades: i64::from(r.trades),
                });
                (
                    r.symbol,
                    SymbolState {
                        open,
                        last_closed: r.last_closed.map(Timestamp::get),
                        volume_day: r.volume_day.map(|d| vn_date(d.get())),
                        last_total_volume: r.last_total_volume,
                    },
                )
            })
            .collect())
    }
}

/// A SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Reads binary `COPY` output of the minute-bar query: the header, then rows of start
/// (`timestamptz`), open, high, low, close, volume (`bigint`) and trades (`integer`),
/// big-endian, then the trailer. Rows are parsed in place from the bytes received, without a
/// row object or a copy of each message.
struct BinaryBars<'a> {
    symbol: &'a str,
    header: bool,
    ended: bool,
    out: Vec<Bar>,
}

/// Bytes of one row: the field count, then each field's length and value.
const COPY_ROW: usize = 2 + 7 * 4 + 6 * 8 + 4;

/// The big-endian integer of `N` bytes at `at` (the caller checked the length).
fn be<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut v = [0u8; N];
    v.copy_from_slice(&data[at..at + N]);
    v
}

impl<'a> BinaryBars<'a> {
    fn new(symbol: &'a str, capacity: usize) -> Self {
        Self {
            symbol,
            header: false,
            ended: false,
            out: Vec::with_capacity(capacity),
        }
    }

    /// Parses what is complete in `data` (the header, rows, the trailer); returns the bytes
    /// used. Bytes after the trailer are ignored.
    fn feed(&mut self, data: &[u8]) -> Result<usize, Error> {
        /// Signature, flags, header extension length.
        const HEADER: usize = 11 + 4 + 4;
        let mut at = 0;
        if self.ended {
            return Ok(data.len());
        }
        if !self.header {
            if data.len() < HEADER {
                return Ok(0);
            }
            if !data.starts_with(b"PGCOPY\n\xff\r\n\0") {
                return Err(Error::Corrupt("not a binary COPY stream".into()));
            }
            let ext = usize::try_from(u32::from_be_bytes(be(data, 15))).unwrap_or(usize::MAX);
            let skip = HEADER.saturating_add(ext);
            if data.len() < skip {
                return Ok(0);
            }
            at = skip;
            self.header = true;
        }
        while let Some(count) = data.get(at..at + 2) {
            if count == (-1i16).to_be_bytes() {
                self.ended = true;
                return Ok(data.len());
            }
            if count != 7i16.to_be_bytes() {
                return Err(Error::Corrupt(format!("COPY row of {count:?} fields")));
            }
            let Some(row) = data.get(at..at + COPY_ROW) else {
                break;
            };
            self.row(row)?;
            at += COPY_ROW;
        }
        Ok(at)
    }

    /// One row of [`COPY_ROW`] bytes.
    fn row(&mut self, row: &[u8]) -> Result<(), Error> {
        let mut v = [0i64; 6];
        for (i, v) in v.iter_mut().enumerate() {
            let at = 2 + i * 12;
            if be::<4>(row, at) != 8i32.to_be_bytes() {
                return Err(Error::Corrupt(format!(
                    "COPY field of length {:?}",
                    &row[at..at + 4]
                )));
            }
            *v = i64::from_be_bytes(be(row, at + 4));
        }
        let at = 2 + 6 * 12;
        if be::<4>(row, at) != 4i32.to_be_bytes() {
            return Err(Error::Corrupt(format!(
                "COPY field of length {:?}",
                &row[at..at + 4]
            )));
        }
        let trades = i32::from_be_bytes(be(row, at + 4));
        // Whole seconds and the rest in i64 (no 128-bit division per row).
        let micros = v[0]
            .checked_add(PG_EPOCH_UNIX_MICROS)
            .ok_or_else(|| Error::Corrupt(format!("bar start {}", v[0])))?;
        let (secs, sub) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
        let start = OffsetDateTime::from_unix_timestamp(secs)
            .map_err(|e| Error::Corrupt(e.to_string()))?
            + time::Duration::microseconds(sub);
        self.out.push(Bar {
            symbol: self.symbol.to_owned(),
            start,
            seconds: 60,
            open: v[1],
            high: v[2],
            low: v[3],
            close: v[4],
            volume: v[5],
            trades: i64::from(trades),
        });
        Ok(())
    }
}

/// At most this many month ranges of one read run at once, each on its own pooled connection.
/// Measured on a 2-core machine (docs/performance.md): a year of minute bars p50 ~30 ms on one
/// connection, ~20 ms on two, ~1 ms less on three, four no faster than three.
const READ_PARTS: usize = 3;

/// `from..to` cut at the starts of months (the partitions of `hist_bars_1m`) into at most
/// `parts` consecutive ranges of about as many months each; one range when it lies within a
/// month.
fn month_ranges(
    from: OffsetDateTime,
    to: OffsetDateTime,
    parts: usize,
) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    // The month starts (UTC, as the partitions) strictly inside the range.
    let mut cuts = Vec::new();
    let utc = from.to_offset(time::UtcOffset::UTC);
    let (mut y, mut m) = (utc.year(), utc.month());
    loop {
        (y, m) = if m == Month::December {
            (y + 1, Month::January)
        } else {
            (y, m.next())
        };
        let Ok(first) = Date::from_calendar_date(y, m, 1) else {
            break;
        };
        let start = first.midnight().assume_utc();
        if start >= to {
            break;
        }
        cuts.push(start);
    }
    let parts = parts.clamp(1, cuts.len() + 1);
    // Part i ends at the cut after about (i + 1) / parts of the months.
    let mut out = Vec::with_capacity(parts);
    let mut lo = from;
    for i in 1..parts {
        let cut = cuts[(i * (cuts.len() + 1)) / parts - 1];
        out.push((lo, cut));
        lo = cut;
    }
    out.push((lo, to));
    out
}

/// About how many minute bars `from..to` can hold, to size the answer: 225 continuous
/// minutes a trading day, 5 trading days a week, at most `limit` (a guess, not a bound).
fn expected_bars(from: OffsetDateTime, to: OffsetDateTime, limit: i64) -> usize {
    let days = (to - from).whole_days().max(1);
    let guess = days.saturating_mul(225 * 5) / 7 + 225;
    usize::try_from(guess.min(limit).clamp(0, 1 << 20)).unwrap_or(0)
}

/// A range of one symbol's minute bars on PostgreSQL: one [`minute_bars_copy`] per month range
/// of [`month_ranges`], each its own task on its own pooled connection, concatenated in time
/// order and cut to `limit` (every range is read with the whole limit: the first `limit` bars
/// of the concatenation are the first `limit` of the whole range). The server's work and the
/// receiving of the rows are spread over several backends and runtime threads (a long range
/// is otherwise bound by one backend sending, and one task receiving, a message per row).
async fn minute_bars_pg(
    pool: &sqlx::PgPool,
    symbol: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Bar>, Error> {
    use tracing::Instrument;

    if from >= to || limit <= 0 {
        return Ok(Vec::new());
    }
    let ranges = month_ranges(from, to, READ_PARTS);
    // The first range's answer is sized for the whole: the others are appended to it.
    let whole = expected_bars(from, to, limit);
    if ranges.len() == 1 {
        return minute_bars_copy(pool, symbol, (from, to), limit, whole).await;
    }
    // Tasks take no connection from this one: with a pool smaller than the parts they wait
    // their turn instead of blocking each other. A task left running by an error here reads
    // its stream to the end and gives its connection back.
    let tasks: Vec<_> = ranges
        .into_iter()
        .enumerate()
        .map(|(i, (a, b))| {
            let (pool, symbol) = (pool.clone(), symbol.to_owned());
            let capacity = if i == 0 {
                whole
            } else {
                expected_bars(a, b, limit)
            };
            tokio::spawn(
                async move { minute_bars_copy(&pool, &symbol, (a, b), limit, capacity).await }
                    .in_current_span(),
            )
        })
        .collect();
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut out: Vec<Bar> = Vec::new();
    for task in tasks {
        let part = task
            .await
            .map_err(|e| Error::Task(format!("minute bars read: {e}")))??;
        if out.is_empty() {
            out = part;
        } else {
            out.extend(part);
        }
        if out.len() >= cap {
            out.truncate(cap);
            break;
        }
    }
    Ok(out)
}

/// A range of one symbol's minute bars on PostgreSQL through `COPY ... TO STDOUT (FORMAT
/// binary)`: fixed-width big-endian fields, parsed without a row object per bar and without
/// the server formatting text (several times faster than decoding rows for a year of bars).
/// The primary key holds every column (migration 1001), so the server reads a symbol's range
/// from the index alone where the visibility map allows (see [`Store::vacuum_minute_bars`]).
async fn minute_bars_copy(
    pool: &sqlx::PgPool,
    symbol: &str,
    (from, to): (OffsetDateTime, OffsetDateTime),
    limit: i64,
    capacity: usize,
) -> Result<Vec<Bar>, Error> {
    use futures::StreamExt;
    use time::format_description::well_known::Rfc3339;

    let bound = |t: OffsetDateTime| {
        t.format(&Rfc3339)
            .map_err(|e| Error::Corrupt(e.to_string()))
    };
    // COPY takes no parameters: the values are literals (the symbol quoted, the times RFC 3339).
    let sql = format!(
        "COPY (SELECT start, open, high, low, close, volume, trades \
         FROM hist_bars_1m WHERE symbol = {} AND start >= {}::timestamptz \
         AND start < {}::timestamptz ORDER BY start LIMIT {limit}) TO STDOUT (FORMAT binary)",
        literal(symbol),
        literal(&bound(from)?),
        literal(&bound(to)?),
    );
    let mut conn = pool.acquire().await?;
    let mut stream = conn.copy_out_raw(&sql).await?;
    let mut parser = BinaryBars::new(symbol, capacity);
    // Bytes of a row split between messages (the server sends a row per message: rarely used).
    let mut pending: Vec<u8> = Vec::new();
    let mut failed = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if failed.is_some() {
            // Read to the end: the connection goes back to the pool ready for its next query.
            continue;
        }
        let fed = if pending.is_empty() {
            parser
                .feed(&chunk)
                .map(|used| pending.extend_from_slice(&chunk[used..]))
        } else {
            pending.extend_from_slice(&chunk);
            parser
                .feed(&pending)
                .map(|used| drop(pending.drain(..used)))
        };
        if let Err(err) = fed {
            failed = Some(err);
        }
    }
    if let Some(err) = failed {
        return Err(err);
    }
    if !parser.ended {
        return Err(Error::Corrupt(
            "binary COPY stream without its trailer".into(),
        ));
    }
    Ok(parser.out)
}

/// Writes the live state of the given symbols inside the caller's transaction.
pub async fn save_live_state(tx: &mut Tx, states: &[(String, SymbolState)]) -> Result<(), Error> {
    for chunk in states.chunks(SQLITE_ROWS) {
        common::on_engine!(tx.conn(), |c| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO hist_live_state (symbol, bar_start, open, high, low, close, volume, \
                 trades, last_closed, volume_day, last_total_volume) ",
            );
            q.push_values(chunk, |mut row, (symbol, s)| {
                let b = s.open.as_ref();
                row.push_bind(symbol.as_str())
                    .push_bind(b.map(|b| ts(b.start)))
                    .push_bind(b.map_or(0, |b| b.open))
                    .push_bind(b.map_or(0, |b| b.high))
                    .push_bind(b.map_or(0, |b| b.low))
                    .push_bind(b.map_or(0, |b| b.close))
                    .push_bind(b.map_or(0, |b| b.volume))
                    .push_bind(b.map_or(0, |b| i32::try_from(b.trades).unwrap_or(i32::MAX)))
                    .push_bind(s.last_closed.map(ts))
                    .push_bind(s.volume_day.map(|d| ts(vn_midnight(d))))
                    .push_bind(s.last_total_volume);
            });
            q.push(
                " ON CONFLICT (symbol) DO UPDATE SET bar_start = EXCLUDED.bar_start, \
                 open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, \
                 close = EXCLUDED.close, volume = EXCLUDED.volume, trades = EXCLUDED.trades, \
                 last_closed = EXCLUDED.last_closed, volume_day = EXCLUDED.volume_day, \
                 last_total_volume = EXCLUDED.last_total_volume",
            );
            q.build().execute(c).await.map(drop)
        })?;
    }
    Ok(())
}

/// A backfill job's stored row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    /// Id.
    pub id: Uuid,
    /// The request, as JSON.
    pub request: String,
    /// `running`, `done`, `failed`.
    pub state: String,
    /// Units of work in the job.
    pub total_units: i64,
    /// Units finished.
    pub done_units: i64,
    /// Rows written so far.
    pub rows_written: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last progress.
    pub updated_at: Timestamp,
}

impl Store {
    /// Creates a job row.
    pub async fn create_job(&self, id: Uuid, request: &str, total: i64) -> Result<(), Error> {
        let now = Timestamp::now();
        common::on_engine!(self.db.pool(), |p| sqlx::query(
            "INSERT INTO hist_backfill_jobs (id, request, state, total_units, done_units, \
             rows_written, error, created_at, updated_at) \
             VALUES ($1, $2, 'running', $3, 0, 0, NULL, $4, $4)"
        )
        .bind(id)
        .bind(request)
        .bind(total)
        .bind(now)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }

    /// A job by id.
    pub async fn job(&self, id: Uuid) -> Result<Option<JobRow>, Error> {
        Ok(common::on_engine!(self.db.pool(), |p| sqlx::query_as(
            "SELECT id, request, state, total_units, done_units, rows_written, error, \
             created_at, updated_at FROM hist_backfill_jobs WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Jobs still running (to resume after a restart).
    pub async fn running_jobs(&self) -> Result<Vec<JobRow>, Error> {
        Ok(common::on_engine!(self.db.pool(), |p| sqlx::query_as(
            "SELECT id, request, state, total_units, done_units, rows_written, error, \
             created_at, updated_at FROM hist_backfill_jobs WHERE state = 'running' \
             ORDER BY created_at"
        )
        .fetch_all(p)
        .await)?)
    }

    /// Units of `job` already done.
    pub async fn done_units(&self, job: Uuid) -> Result<BTreeSet<String>, Error> {
        let rows: Vec<String> = common::on_engine!(self.db.pool(), |p| sqlx::query_scalar(
            "SELECT unit FROM hist_backfill_units WHERE job_id = $1"
        )
        .bind(job)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().collect())
    }

    /// Sets a job's final state.
    pub async fn finish_job(
        &self,
        id: Uuid,
        state: &str,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let now = Timestamp::now();
        common::on_engine!(self.db.pool(), |p| sqlx::query(
            "UPDATE hist_backfill_jobs SET state = $2, error = $3, updated_at = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(now)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }
}

/// Marks a unit of `job` done (inside the transaction that stored its rows) and counts it.
pub async fn mark_unit_done(tx: &mut Tx, job: Uuid, unit: &str, rows: u64) -> Result<(), Error> {
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    let now = Timestamp::now();
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO hist_backfill_units (job_id, unit, rows_written) VALUES ($1, $2, $3)"
    )
    .bind(job)
    .bind(unit)
    .bind(rows)
    .execute(&mut *c)
    .await
    .map(drop))?;
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE hist_backfill_jobs SET done_units = done_units + 1, \
         rows_written = rows_written + $2, updated_at = $3 WHERE id = $1"
    )
    .bind(job)
    .bind(rows)
    .bind(now)
    .execute(c)
    .await
    .map(drop))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn month_ranges_cut_at_utc_month_starts_into_consecutive_parts() {
        let (from, to) = (
            datetime!(2025-01-15 09:00 +7),
            datetime!(2026-01-10 00:00 UTC),
        );
        let r = month_ranges(from, to, 3);
        // 13 months (12 month starts inside): 4 + 4 + 5.
        assert_eq!(
            r,
            [
                (from, datetime!(2025-05-01 00:00 UTC)),
                (
                    datetime!(2025-05-01 00:00 UTC),
                    datetime!(2025-09-01 00:00 UTC)
                ),
                (datetime!(2025-09-01 00:00 UTC), to),
            ]
        );
        // Two months: two parts at most.
        let (from, to) = (
            datetime!(2025-03-20 00:00 UTC),
            datetime!(2025-04-20 00:00 UTC),
        );
        assert_eq!(
            month_ranges(from, to, 3),
            [
                (from, datetime!(2025-04-01 00:00 UTC)),
                (datetime!(2025-04-01 00:00 UTC), to)
            ]
        );
        // Exactly one month, or within one: one range.
        let (from, to) = (
            datetime!(2025-03-01 00:00 UTC),
            datetime!(2025-04-01 00:00 UTC),
        );
        assert_eq!(month_ranges(from, to, 3), [(from, to)]);
        assert_eq!(month_ranges(from, to, 1), [(from, to)]);
        // A bound in a negative offset: its UTC month decides (February 28 22:00 -5 is
        // March 1 03:00 UTC, after the start of March).
        let (from, to) = (
            datetime!(2025-02-28 22:00 -5),
            datetime!(2025-04-15 00:00 UTC),
        );
        assert_eq!(
            month_ranges(from, to, 3),
            [
                (from, datetime!(2025-04-01 00:00 UTC)),
                (datetime!(2025-04-01 00:00 UTC), to)
            ]
        );
    }

    #[test]
    fn binary_copy_rows_are_parsed_across_any_split_of_the_stream() {
        let bar = |i: i64| Bar {
            symbol: "SSI".into(),
            start: datetime!(2025-06-10 02:00 UTC) + time::Duration::minutes(i),
            seconds: 60,
            open: 1 + i,
            high: 2 + i,
            low: -3 - i,
            close: 4 + i,
            volume: 5 + i,
            trades: 6 + i,
        };
        let bars: Vec<Bar> = (0..5).map(bar).collect();
        // The COPY stream of these rows, as the query's columns (no symbol).
        let mut stream = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\x04abcd".to_vec();
        for b in &bars {
            stream.extend_from_slice(&7i16.to_be_bytes());
            let start = ts(b.start).unix_micros() - PG_EPOCH_UNIX_MICROS;
            for v in [start, b.open, b.high, b.low, b.close, b.volume] {
                stream.extend_from_slice(&8i32.to_be_bytes());
                stream.extend_from_slice(&v.to_be_bytes());
            }
            stream.extend_from_slice(&4i32.to_be_bytes());
            stream.extend_from_slice(&(b.trades as i32).to_be_bytes());
        }
        stream.extend_from_slice(&(-1i16).to_be_bytes());
        // Fed whole, and in pieces of every size (as minute_bars_copy feeds it).
        for size in 1..=stream.len() {
            let mut parser = BinaryBars::new("SSI", 0);
            let mut pending: Vec<u8> = Vec::new();
            for chunk in stream.chunks(size) {
                if pending.is_empty() {
                    let used = parser.feed(chunk).unwrap();
                    pending.extend_from_slice(&chunk[used..]);
                } else {
                    pending.extend_from_slice(chunk);
                    let used = parser.feed(&pending).unwrap();
                    pending.drain(..used);
                }
            }
            assert!(parser.ended, "pieces of {size}");
            assert_eq!(parser.out, bars, "pieces of {size}");
        }
        // A row of another shape is refused.
        let mut bad = stream.clone();
        bad[24] = 6;
        assert!(matches!(
            BinaryBars::new("SSI", 0).feed(&bad),
            Err(Error::Corrupt(_))
        ));
    }
}
