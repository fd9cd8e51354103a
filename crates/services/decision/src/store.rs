//! Storage of decisions and of strategies switched on or off (PostgreSQL or SQLite).

use common::store::{Db, Error, Timestamp};
use proto::decision::v1 as pb;
use time::OffsetDateTime;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    strategy: String,
    symbol: String,
    signal_id: String,
    side: String,
    quantity: i64,
    price: i64,
    reason: String,
    status: String,
    order_id: String,
    detail: String,
    at: Timestamp,
}

fn to_pb(r: Row) -> pb::Decision {
    let at: OffsetDateTime = r.at.into();
    pb::Decision {
        id: r.id,
        strategy: r.strategy,
        symbol: r.symbol,
        signal_id: r.signal_id,
        side: r.side,
        quantity: u64::try_from(r.quantity).unwrap_or(0),
        price: r.price,
        reason: r.reason,
        status: r.status,
        order_id: r.order_id,
        detail: r.detail,
        at: Some(common::bus::proto_time(at)),
    }
}

const COLUMNS: &str =
    "id, strategy, symbol, signal_id, side, quantity, price, reason, status, order_id, detail, at";

/// The decision with this id (a redelivered signal finds it).
pub async fn get(db: &Db, id: &str) -> Result<Option<pb::Decision>, Error> {
    let row: Option<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM decisions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?;
    Ok(row.map(to_pb))
}

/// Writes a rule evaluation's `rule.evaluation.v1` event (through the outbox): the rule
/// service keeps it.
pub async fn evaluation(db: &Db, event: &proto::rule::v1::RuleEvaluation) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    common::store::Outbox::enqueue(
        &mut tx,
        common::bus::topics::RULE_EVALUATION.static_name(),
        &common::bus::Envelope::new("decision", &event.owner, event),
    )
    .await?;
    tx.commit().await
}

/// Stores a decision, or its new outcome.
pub async fn put(db: &Db, d: &pb::Decision, at: OffsetDateTime) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(&format!(
        "INSERT INTO decisions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12) ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         order_id = excluded.order_id, detail = excluded.detail"
    ))
    .bind(&d.id)
    .bind(&d.strategy)
    .bind(&d.symbol)
    .bind(&d.signal_id)
    .bind(&d.side)
    .bind(i64::try_from(d.quantity).unwrap_or(i64::MAX))
    .bind(d.price)
    .bind(&d.reason)
    .bind(&d.status)
    .bind(&d.order_id)
    .bind(&d.detail)
    .bind(Timestamp::from(at))
    .execute(p)
    .await
    .map(drop))
    .map_err(Error::from)
}

/// Decisions newest first, of one strategy (empty: all).
pub async fn list(db: &Db, strategy: &str, limit: u32) -> Result<Vec<pb::Decision>, Error> {
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM decisions WHERE ($1 = '' OR strategy = $1) \
         ORDER BY at DESC, id DESC LIMIT $2"
    ))
    .bind(strategy)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    Ok(rows.into_iter().map(to_pb).collect())
}

/// Strategies switched through the API: id and enabled.
pub async fn switched(db: &Db) -> Result<Vec<(String, bool)>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT id, enabled FROM decision_strategy_state"
    )
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}

/// Strategy parameters set through the API: id and JSON.
pub async fn params(db: &Db) -> Result<Vec<(String, String)>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT id, params FROM decision_strategy_params"
    )
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}

/// Records a strategy's parameters (JSON).
pub async fn save_params(db: &Db, id: &str, params: &str, at: OffsetDateTime) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "INSERT INTO decision_strategy_params (id, params, at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET params = excluded.params, at = excluded.at"
    )
    .bind(id)
    .bind(params)
    .bind(Timestamp::from(at))
    .execute(p)
    .await
    .map(drop))
    .map_err(Error::from)
}

/// Records a strategy switched on or off.
pub async fn switch(db: &Db, id: &str, enabled: bool, at: OffsetDateTime) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "INSERT INTO decision_strategy_state (id, enabled, at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, at = excluded.at"
    )
    .bind(id)
    .bind(enabled)
    .bind(Timestamp::from(at))
    .execute(p)
    .await
    .map(drop))
    .map_err(Error::from)
}
