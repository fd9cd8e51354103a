//! Storage of signals (PostgreSQL or SQLite): written with their outbox rows in one
//! transaction, listed newest first.

use common::bus::Envelope;
use common::bus::topics::TA_SIGNAL;
use common::store::{Db, Outbox, Timestamp};
use proto::ta::v1 as pb;
use time::OffsetDateTime;

/// What storing or reading signals can fail with.
pub type Error = common::store::Error;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    symbol: String,
    timeframe: String,
    bar_start: Timestamp,
    kind: String,
    name: String,
    direction: i32,
    value: f64,
    detail: String,
}

/// A signal's bar start as stored.
fn bar_start(s: &pb::Signal) -> OffsetDateTime {
    s.bar_start
        .as_ref()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.seconds).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Stores `signals` (a signal already stored, from a redelivered bar, is skipped) and queues
/// the new ones for `ta.signal.v1`, in one transaction. Returns how many were new.
pub async fn record(db: &Db, source: &str, signals: &[pb::Signal]) -> Result<u64, Error> {
    if signals.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let now = Timestamp::now();
    let mut new = 0;
    for s in signals {
        let inserted = common::on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO ta_signals (id, symbol, timeframe, bar_start, kind, name, direction, \
             value, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO NOTHING"
        )
        .bind(&s.id)
        .bind(&s.symbol)
        .bind(&s.timeframe)
        .bind(Timestamp::from(bar_start(s)))
        .bind(&s.kind)
        .bind(&s.name)
        .bind(s.direction)
        .bind(s.value)
        .bind(&s.detail)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if inserted == 1 {
            Outbox::enqueue(
                &mut tx,
                TA_SIGNAL.static_name(),
                &Envelope::new(source, &s.symbol, s),
            )
            .await?;
            new += 1;
        }
    }
    tx.commit().await?;
    Ok(new)
}

/// Signals newest first, of one symbol and/or kind (empty: all), at most `limit`.
pub async fn list(db: &Db, symbol: &str, kind: &str, limit: u32) -> Result<Vec<pb::Signal>, Error> {
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT id, symbol, timeframe, bar_start, kind, name, direction, value, detail \
         FROM ta_signals WHERE ($1 = '' OR symbol = $1) AND ($2 = '' OR kind = $2) \
         ORDER BY bar_start DESC, id LIMIT $3"
    )
    .bind(symbol)
    .bind(kind)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|r| pb::Signal {
            id: r.id,
            symbol: r.symbol,
            timeframe: r.timeframe,
            bar_start: Some(crate::service::timestamp(r.bar_start.into())),
            kind: r.kind,
            name: r.name,
            direction: r.direction,
            value: r.value,
            detail: r.detail,
        })
        .collect())
}
