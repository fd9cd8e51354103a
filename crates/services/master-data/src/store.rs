//! Storage of master data (migrations in `migrations/`, numbered from 1000): SQL in, domain
//! types out. Every statement is the same on PostgreSQL and SQLite ([`common::on_engine!`]).

use std::collections::BTreeMap;

use common::on_engine;
use common::store::{Db, Error, Timestamp, Tx};
use market::limits::PriceLimits;
use market::{Exchange, Price, Symbol};
use time::Date;
use time::macros::format_description;

use crate::domain::{
    AuditEntry, DayBand, Field, Index, Security, kind_name, parse_kind, parse_status, status_name,
};

#[derive(sqlx::FromRow)]
struct Row {
    symbol: String,
    exchange: String,
    kind: String,
    name: String,
    name_en: String,
    sector: String,
    status: String,
    lot_size: i64,
    listed_shares: i64,
    foreign_room: Option<i64>,
    trading_day: String,
    reference: i64,
    ceiling: i64,
    floor: i64,
    band_derived: bool,
    pinned: String,
    updated_at: Timestamp,
}

const COLUMNS: &str = "symbol, exchange, kind, name, name_en, sector, status, lot_size, \
    listed_shares, foreign_room, trading_day, reference, ceiling, floor, band_derived, pinned, \
    updated_at";

/// `YYYY-MM-DD`.
pub(crate) fn format_day(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_day(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

fn corrupt(what: String) -> Error {
    Error::Database(sqlx::Error::Decode(what.into()))
}

impl Row {
    fn into_domain(self, indexes: Vec<String>) -> Result<Security, Error> {
        let bad =
            |what: &str, v: &str| corrupt(format!("md_securities.{what} {v:?} of {}", self.symbol));
        let band = if self.trading_day.is_empty() || self.reference <= 0 {
            None
        } else {
            let day = parse_day(&self.trading_day)
                .ok_or_else(|| bad("trading_day", &self.trading_day))?;
            let price = |v: i64| Price::new(v).map_err(|_| bad("band", &v.to_string()));
            Some(DayBand {
                day,
                limits: PriceLimits {
                    reference: price(self.reference)?,
                    ceiling: price(self.ceiling)?,
                    floor: price(self.floor)?,
                },
                derived: self.band_derived,
            })
        };
        Ok(Security {
            symbol: Symbol::parse(&self.symbol).map_err(|_| bad("symbol", &self.symbol))?,
            exchange: self
                .exchange
                .parse::<Exchange>()
                .map_err(|_| bad("exchange", &self.exchange))?,
            kind: parse_kind(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
            status: parse_status(&self.status).ok_or_else(|| bad("status", &self.status))?,
            pinned: self.pinned.split(',').filter_map(Field::parse).collect(),
            lot_size: u64::try_from(self.lot_size).unwrap_or(0),
            listed_shares: u64::try_from(self.listed_shares).unwrap_or(0),
            foreign_room: self.foreign_room.and_then(|v| u64::try_from(v).ok()),
            name: self.name,
            name_en: self.name_en,
            sector: self.sector,
            band,
            indexes,
            updated_at: self.updated_at.get(),
        })
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Inserts or replaces `s`.
pub(crate) async fn upsert(tx: &mut Tx, s: &Security) -> Result<(), Error> {
    let pinned: Vec<&str> = s.pinned.iter().map(|f| f.as_str()).collect();
    let (day, reference, ceiling, floor, derived) = match &s.band {
        Some(b) => (
            format_day(b.day),
            b.limits.reference.units(),
            b.limits.ceiling.units(),
            b.limits.floor.units(),
            b.derived,
        ),
        None => (String::new(), 0, 0, 0, false),
    };
    let sql = format!(
        "INSERT INTO md_securities ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (symbol) DO UPDATE SET exchange = excluded.exchange, kind = excluded.kind, \
         name = excluded.name, name_en = excluded.name_en, sector = excluded.sector, \
         status = excluded.status, lot_size = excluded.lot_size, \
         listed_shares = excluded.listed_shares, foreign_room = excluded.foreign_room, \
         trading_day = excluded.trading_day, reference = excluded.reference, \
         ceiling = excluded.ceiling, floor = excluded.floor, \
         band_derived = excluded.band_derived, pinned = excluded.pinned, \
         updated_at = excluded.updated_at"
    );
    Ok(on_engine!(tx.conn(), |c| sqlx::query(&sql)
        .bind(s.symbol.as_str())
        .bind(s.exchange.ssi_code())
        .bind(kind_name(s.kind))
        .bind(&s.name)
        .bind(&s.name_en)
        .bind(&s.sector)
        .bind(status_name(s.status))
        .bind(i64_of(s.lot_size))
        .bind(i64_of(s.listed_shares))
        .bind(s.foreign_room.map(i64_of))
        .bind(&day)
        .bind(reference)
        .bind(ceiling)
        .bind(floor)
        .bind(derived)
        .bind(pinned.join(","))
        .bind(Timestamp::from(s.updated_at))
        .execute(c)
        .await
        .map(drop))?)
}

/// symbol → its index codes.
pub(crate) async fn memberships(db: &Db) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let rows: Vec<(String, String)> = on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT symbol, index_code FROM md_index_members ORDER BY symbol, index_code"
    )
    .fetch_all(p)
    .await)?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (symbol, code) in rows {
        out.entry(symbol).or_default().push(code);
    }
    Ok(out)
}

async fn members_of(db: &Db, symbol: &str) -> Result<Vec<String>, Error> {
    on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT index_code FROM md_index_members WHERE symbol = $1 ORDER BY index_code"
    )
    .bind(symbol)
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}

/// One security.
pub(crate) async fn get(db: &Db, symbol: &str) -> Result<Option<Security>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM md_securities WHERE symbol = $1");
    let row: Option<Row> = on_engine!(db.pool(), |p| sqlx::query_as(&sql)
        .bind(symbol)
        .fetch_optional(p)
        .await)?;
    match row {
        Some(row) => {
            let indexes = members_of(db, symbol).await?;
            row.into_domain(indexes).map(Some)
        }
        None => Ok(None),
    }
}

/// Locks `symbol`'s row for the rest of `tx` by writing it first (a row lock on PostgreSQL,
/// the write lock on SQLite, so a read-then-write transaction never fails to upgrade); false
/// when there is no such row.
pub(crate) async fn lock(tx: &mut Tx, symbol: &str) -> Result<bool, Error> {
    let done = on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE md_securities SET symbol = symbol WHERE symbol = $1"
    )
    .bind(symbol)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// One security inside `tx`.
pub(crate) async fn get_in(tx: &mut Tx, symbol: &str) -> Result<Option<Security>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM md_securities WHERE symbol = $1");
    let row: Option<Row> = on_engine!(tx.conn(), |c| sqlx::query_as(&sql)
        .bind(symbol)
        .fetch_optional(c)
        .await)?;
    let indexes: Vec<String> = on_engine!(tx.conn(), |c| sqlx::query_scalar(
        "SELECT index_code FROM md_index_members WHERE symbol = $1 ORDER BY index_code"
    )
    .bind(symbol)
    .fetch_all(c)
    .await)?;
    row.map(|r| r.into_domain(indexes)).transpose()
}

/// Every stored security.
pub(crate) async fn all(db: &Db) -> Result<BTreeMap<String, Security>, Error> {
    let members = memberships(db).await?;
    let sql = format!("SELECT {COLUMNS} FROM md_securities");
    let rows: Vec<Row> = on_engine!(db.pool(), |p| sqlx::query_as(&sql).fetch_all(p).await)?;
    let mut out = BTreeMap::new();
    for row in rows {
        let indexes = members.get(&row.symbol).cloned().unwrap_or_default();
        let s = row.into_domain(indexes)?;
        out.insert(s.symbol.as_str().to_owned(), s);
    }
    Ok(out)
}

/// A page of securities: SQL `filters` (each with `$n` placeholders bound to `binds`, in
/// order), ordered by symbol, after `after`, at most `limit`.
pub(crate) async fn page(
    db: &Db,
    filters: &[String],
    binds: &[String],
    limit: u32,
) -> Result<Vec<Security>, Error> {
    let mut sql = format!("SELECT {COLUMNS} FROM md_securities");
    if !filters.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&filters.join(" AND "));
    }
    sql.push_str(&format!(" ORDER BY symbol LIMIT {limit}"));
    let rows: Vec<Row> = on_engine!(db.pool(), |p| {
        let mut q = sqlx::query_as(&sql);
        for b in binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(p).await
    })?;
    let members = memberships(db).await?;
    rows.into_iter()
        .map(|row| {
            let indexes = members.get(&row.symbol).cloned().unwrap_or_default();
            row.into_domain(indexes)
        })
        .collect()
}

/// Replaces every index and its members.
pub(crate) async fn replace_indexes(tx: &mut Tx, indexes: &[Index]) -> Result<(), Error> {
    let now = Timestamp::now();
    on_engine!(tx.conn(), |c| sqlx::query("DELETE FROM md_index_members")
        .execute(c)
        .await
        .map(drop))?;
    on_engine!(tx.conn(), |c| sqlx::query("DELETE FROM md_indexes")
        .execute(c)
        .await
        .map(drop))?;
    for i in indexes {
        on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO md_indexes (code, name, exchange, updated_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(&i.code)
        .bind(&i.name)
        .bind(&i.exchange)
        .bind(now)
        .execute(c)
        .await
        .map(drop))?;
        for m in &i.members {
            on_engine!(tx.conn(), |c| sqlx::query(
                "INSERT INTO md_index_members (index_code, symbol) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING"
            )
            .bind(&i.code)
            .bind(m)
            .execute(c)
            .await
            .map(drop))?;
        }
    }
    Ok(())
}

/// Every index (optionally of one exchange) with its members.
pub(crate) async fn indexes(db: &Db, exchange: Option<&str>) -> Result<Vec<Index>, Error> {
    let rows: Vec<(String, String, String)> = on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT code, name, exchange FROM md_indexes ORDER BY code"
    )
    .fetch_all(p)
    .await)?;
    let members: Vec<(String, String)> = on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT index_code, symbol FROM md_index_members ORDER BY index_code, symbol"
    )
    .fetch_all(p)
    .await)?;
    let mut by_index: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (code, symbol) in members {
        by_index.entry(code).or_default().push(symbol);
    }
    Ok(rows
        .into_iter()
        .filter(|(_, _, e)| exchange.is_none_or(|x| x == e))
        .map(|(code, name, exchange)| Index {
            members: by_index.remove(&code).unwrap_or_default(),
            code,
            name,
            exchange,
        })
        .collect())
}

/// Appends an audit entry.
pub(crate) async fn audit(
    tx: &mut Tx,
    symbol: &str,
    actor: &str,
    before: &serde_json::Value,
    after: &serde_json::Value,
    reason: &str,
) -> Result<(), Error> {
    Ok(on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO md_audit (symbol, actor, at, before_json, after_json, reason) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(symbol)
    .bind(actor)
    .bind(Timestamp::now())
    .bind(before.to_string())
    .bind(after.to_string())
    .bind(reason)
    .execute(c)
    .await
    .map(drop))?)
}

/// The newest `limit` audit entries of `symbol`.
pub(crate) async fn audit_trail(
    db: &Db,
    symbol: &str,
    limit: u32,
) -> Result<Vec<AuditEntry>, Error> {
    let rows: Vec<(i64, String, String, Timestamp, String, String, String)> =
        on_engine!(db.pool(), |p| sqlx::query_as(
            "SELECT id, symbol, actor, at, before_json, after_json, reason FROM md_audit \
             WHERE symbol = $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(symbol)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
    rows.into_iter()
        .map(|(id, symbol, actor, at, before, after, reason)| {
            let json = |t: &str| {
                serde_json::from_str(t).map_err(|e| corrupt(format!("md_audit {id}: {e}")))
            };
            Ok(AuditEntry {
                before: json(&before)?,
                after: json(&after)?,
                id,
                symbol,
                actor,
                at: at.get(),
                reason,
            })
        })
        .collect()
}

/// Records a finished sync of `day`.
pub(crate) async fn record_sync(
    tx: &mut Tx,
    day: Date,
    securities: u32,
    changed: u32,
    derived: u32,
) -> Result<(), Error> {
    Ok(on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO md_sync_runs (trading_day, finished_at, securities, changed, derived) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trading_day) DO UPDATE SET \
         finished_at = excluded.finished_at, securities = excluded.securities, \
         changed = excluded.changed, derived = excluded.derived"
    )
    .bind(format_day(day))
    .bind(Timestamp::now())
    .bind(i64::from(securities))
    .bind(i64::from(changed))
    .bind(i64::from(derived))
    .execute(c)
    .await
    .map(drop))?)
}

/// The latest trading day a sync finished for.
pub(crate) async fn last_synced_day(db: &Db) -> Result<Option<Date>, Error> {
    let day: Option<String> = on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT MAX(trading_day) FROM md_sync_runs"
    )
    .fetch_one(p)
    .await)?;
    Ok(day.as_deref().and_then(parse_day))
}
