//! Storage of orders, their journal, fills and requestIDs (PostgreSQL or SQLite). Every change
//! is written with its journal row and its outbox event (`oms.order.v1`, `oms.fill.v1`) in one
//! transaction, so the store and the bus never disagree.

use broker::ClientOrderId;
use common::bus::Envelope;
use common::bus::topics::{OMS_FILL, OMS_ORDER};
use common::store::{Db, Outbox, Timestamp, Tx};
use market::{Price, Quantity, Symbol};
use proto::oms::v1 as pb;
use time::{Date, OffsetDateTime};

use crate::algo::{Algo, Kind as AlgoKind, Status as AlgoStatus};
use crate::conditional::{
    Conditional, Kind as ConditionalKind, Status as ConditionalStatus, Trail,
};
use crate::domain::{self, Change, Fill, NewOrder, Order, Pending, Status};

/// What storing or reading orders can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database.
    #[error(transparent)]
    Store(#[from] common::store::Error),
    /// Someone else changed the order since it was read (a second OMS on the same store).
    #[error("order {0} was changed by someone else; read it again")]
    Conflict(String),
    /// A stored row this version cannot read (a bug or a manual edit).
    #[error("stored order {id}: {what}")]
    Corrupt {
        /// The row.
        id: String,
        /// What is wrong.
        what: String,
    },
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

const SOURCE: &str = "oms";

const COLUMNS: &str = "id, client_id, account, symbol, side, order_type, price, quantity, status, \
    pending, filled, filled_value, reconciled_open, request_day, request_id, broker_order_id, \
    confirmed, reject_reason, strategy, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    client_id: String,
    account: String,
    symbol: String,
    side: String,
    order_type: String,
    price: Option<i64>,
    quantity: i64,
    status: String,
    pending: Option<String>,
    filled: i64,
    filled_value: i64,
    reconciled_open: i64,
    request_day: String,
    request_id: i64,
    broker_order_id: Option<String>,
    confirmed: bool,
    reject_reason: Option<String>,
    strategy: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
}

impl Row {
    fn into_order(self) -> Result<Order, Error> {
        let id = self.id.clone();
        let bad = |what: String| Error::Corrupt {
            id: id.clone(),
            what,
        };
        let count = |what: &str, v: i64| {
            u64::try_from(v)
                .map(Quantity::new)
                .map_err(|_| bad(format!("{what} {v}")))
        };
        let _ = self.request_day;
        Ok(Order {
            client_id: self.client_id,
            account: self.account,
            symbol: Symbol::parse(&self.symbol).map_err(|e| bad(format!("symbol: {e}")))?,
            side: domain::parse_side(&self.side).map_err(&bad)?,
            order_type: domain::parse_order_type(&self.order_type).map_err(&bad)?,
            price: self
                .price
                .map(Price::new)
                .transpose()
                .map_err(|e| bad(format!("price: {e}")))?,
            quantity: count("quantity", self.quantity)?,
            status: Status::parse(&self.status)
                .ok_or_else(|| bad(format!("status {}", self.status)))?,
            pending: self
                .pending
                .as_deref()
                .map(serde_json::from_str::<Pending>)
                .transpose()
                .map_err(|e| bad(format!("pending: {e}")))?,
            filled: count("filled", self.filled)?,
            filled_value: i128::from(self.filled_value),
            reconciled_open: count("reconciled_open", self.reconciled_open)?,
            request_id: u32::try_from(self.request_id)
                .ok()
                .and_then(|n| ClientOrderId::new(n).ok())
                .ok_or_else(|| bad(format!("request_id {}", self.request_id)))?,
            broker_order_id: self.broker_order_id,
            confirmed: self.confirmed,
            reject_reason: self.reject_reason,
            strategy: self.strategy,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
            version: self.version,
            id: self.id,
        })
    }
}

fn day_key(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn qty(q: Quantity) -> i64 {
    i64::try_from(q.units()).unwrap_or(i64::MAX)
}

fn pending_json(p: Option<Pending>) -> Option<String> {
    p.and_then(|p| serde_json::to_string(&p).ok())
}

use common::bus::proto_time as timestamp;

/// An order as the APIs and events show it.
pub fn order_pb(o: &Order) -> pb::Order {
    pb::Order {
        id: o.id.clone(),
        client_id: o.client_id.clone(),
        account: o.account.clone(),
        symbol: o.symbol.to_string(),
        side: o.side.name().to_owned(),
        order_type: o.order_type.to_string(),
        price: o.price.map_or(0, Price::units),
        quantity: o.quantity.units(),
        status: o.status.as_str().to_owned(),
        pending: o.pending.map(|p| p.name().to_owned()).unwrap_or_default(),
        filled: o.filled.units(),
        avg_price: o.avg_price().unwrap_or(0),
        request_id: o.request_id.get(),
        broker_order_id: o.broker_order_id.clone().unwrap_or_default(),
        reject_reason: o.reject_reason.clone().unwrap_or_default(),
        strategy: o.strategy.clone().unwrap_or_default(),
        created_at: Some(timestamp(o.created_at)),
        updated_at: Some(timestamp(o.updated_at)),
        version: u64::try_from(o.version).unwrap_or(0),
    }
}

/// Gives out the next requestID of `day` inside `tx`.
async fn next_request_id(tx: &mut Tx, day: Date) -> Result<ClientOrderId, Error> {
    let last: i64 = common::on_engine!(tx.conn(), |c| sqlx::query_scalar(
        "INSERT INTO oms_request_ids (day, last) VALUES ($1, 1) ON CONFLICT (day) \
         DO UPDATE SET last = oms_request_ids.last + 1 RETURNING last"
    )
    .bind(day_key(day))
    .fetch_one(&mut *c)
    .await)?;
    u32::try_from(last)
        .ok()
        .and_then(|n| ClientOrderId::new(n).ok())
        .ok_or_else(|| Error::Corrupt {
            id: format!("requestIDs of {day}"),
            what: format!("{last} is past SSI's 8 digits"),
        })
}

async fn record_action(
    tx: &mut Tx,
    day: Date,
    request_id: ClientOrderId,
    order_id: &str,
    kind: &str,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO oms_actions (day, request_id, order_id, kind) VALUES ($1, $2, $3, $4)"
    )
    .bind(day_key(day))
    .bind(i64::from(request_id.get()))
    .bind(order_id)
    .bind(kind)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

async fn journal(tx: &mut Tx, order: &Order, change: &Change) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO oms_order_events (order_id, seq, kind, from_status, to_status, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&order.id)
    .bind(order.version)
    .bind(change.kind)
    .bind(change.from.as_str())
    .bind(change.to.as_str())
    .bind(&change.detail)
    .bind(Timestamp::from(order.updated_at))
    .execute(&mut *c)
    .await
    .map(drop))?;
    let event = pb::OrderEvent {
        kind: change.kind.to_owned(),
        from_status: change.from.as_str().to_owned(),
        to_status: change.to.as_str().to_owned(),
        detail: change.detail.clone(),
        at: Some(timestamp(order.updated_at)),
        order: Some(order_pb(order)),
    };
    Outbox::enqueue(
        tx,
        OMS_ORDER.static_name(),
        &Envelope::new(SOURCE, &order.account, &event),
    )
    .await?;
    Ok(())
}

/// What [`create`] found or made.
#[derive(Debug)]
pub enum Created {
    /// A new order, stored with its requestID.
    New(Order),
    /// The order already placed with this client id.
    Existing(Order),
}

/// Stores a new order under the next requestID of `day`, unless `request.client_id` was used
/// before (then answers that order).
pub async fn create(
    db: &Db,
    request: NewOrder,
    day: Date,
    now: OffsetDateTime,
) -> Result<Created, Error> {
    let mut tx = db.begin().await?;
    if let Some(existing) = by_client_id_in(&mut tx, &request.client_id).await? {
        tx.rollback().await?;
        return Ok(Created::Existing(existing));
    }
    let request_id = next_request_id(&mut tx, day).await?;
    let id = domain::order_id(day, request_id);
    let (order, change) = Order::create(request, id, request_id, now);
    common::on_engine!(tx.conn(), |c| sqlx::query(&format!(
        "INSERT INTO oms_orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    ))
    .bind(&order.id)
    .bind(&order.client_id)
    .bind(&order.account)
    .bind(order.symbol.as_str())
    .bind(order.side.name())
    .bind(order.order_type.to_string())
    .bind(order.price.map(Price::units))
    .bind(qty(order.quantity))
    .bind(order.status.as_str())
    .bind(pending_json(order.pending))
    .bind(qty(order.filled))
    .bind(0_i64)
    .bind(0_i64)
    .bind(day_key(day))
    .bind(i64::from(request_id.get()))
    .bind(order.broker_order_id.as_deref())
    .bind(order.confirmed)
    .bind(order.reject_reason.as_deref())
    .bind(order.strategy.as_deref())
    .bind(Timestamp::from(order.created_at))
    .bind(Timestamp::from(order.updated_at))
    .bind(order.version)
    .execute(&mut *c)
    .await
    .map(drop))?;
    record_action(&mut tx, day, request_id, &order.id, "place").await?;
    journal(&mut tx, &order, &change).await?;
    tx.commit().await?;
    Ok(Created::New(order))
}

async fn update(tx: &mut Tx, order: &Order, previous_version: i64) -> Result<(), Error> {
    let filled_value = i64::try_from(order.filled_value).map_err(|_| Error::Corrupt {
        id: order.id.clone(),
        what: format!("filled value {} out of range", order.filled_value),
    })?;
    let n = common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE oms_orders SET price = $2, quantity = $3, status = $4, pending = $5, \
         filled = $6, filled_value = $7, reconciled_open = $8, broker_order_id = $9, \
         confirmed = $10, reject_reason = $11, updated_at = $12, version = $13 \
         WHERE id = $1 AND version = $14"
    )
    .bind(&order.id)
    .bind(order.price.map(Price::units))
    .bind(qty(order.quantity))
    .bind(order.status.as_str())
    .bind(pending_json(order.pending))
    .bind(qty(order.filled))
    .bind(filled_value)
    .bind(qty(order.reconciled_open))
    .bind(order.broker_order_id.as_deref())
    .bind(order.confirmed)
    .bind(order.reject_reason.as_deref())
    .bind(Timestamp::from(order.updated_at))
    .bind(order.version)
    .bind(previous_version)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if n != 1 {
        return Err(Error::Conflict(order.id.clone()));
    }
    Ok(())
}

/// Stores `order` (read at `previous_version`) after `change`, with its journal row and event.
pub async fn save(
    db: &Db,
    order: &Order,
    previous_version: i64,
    change: Option<&Change>,
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    update(&mut tx, order, previous_version).await?;
    if let Some(change) = change {
        journal(&mut tx, order, change).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Gives out a requestID of `day` for an amend or cancel of `order_id`, recorded as such.
pub async fn new_action(
    db: &Db,
    day: Date,
    order_id: &str,
    kind: &str,
) -> Result<ClientOrderId, Error> {
    let mut tx = db.begin().await?;
    let id = next_request_id(&mut tx, day).await?;
    record_action(&mut tx, day, id, order_id, kind).await?;
    tx.commit().await?;
    Ok(id)
}

/// The order a requestID of `day` was used for.
pub async fn action_order(
    db: &Db,
    day: Date,
    request_id: ClientOrderId,
) -> Result<Option<String>, Error> {
    Ok(common::on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT order_id FROM oms_actions WHERE day = $1 AND request_id = $2"
    )
    .bind(day_key(day))
    .bind(i64::from(request_id.get()))
    .fetch_optional(p)
    .await)?)
}

/// Whether `order_id` already has the fill `fill_id`.
pub async fn has_fill(db: &Db, order_id: &str, fill_id: &str) -> Result<bool, Error> {
    let n: i64 = common::on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM oms_fills WHERE order_id = $1 AND id = $2"
    )
    .bind(order_id)
    .bind(fill_id)
    .fetch_one(p)
    .await)?;
    Ok(n > 0)
}

/// Stores a fill (of which `counted` added to the order) with the order after it, the order's
/// change, and the events, in one transaction. Answers `false` (and stores nothing) when the
/// fill was stored before.
pub async fn save_fill(
    db: &Db,
    order: &Order,
    previous_version: i64,
    fill: &Fill,
    counted: Quantity,
    change: Option<&Change>,
) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let inserted = common::on_engine!(tx.conn(), |c| {
        sqlx::query(
        "INSERT INTO oms_fills (order_id, id, client_id, account, symbol, side, price, quantity, \
         counted, reconciled, strategy, time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12) ON CONFLICT (order_id, id) DO NOTHING"
    )
    .bind(&order.id)
    .bind(&fill.id)
    .bind(&order.client_id)
    .bind(&order.account)
    .bind(order.symbol.as_str())
    .bind(order.side.name())
    .bind(fill.price.units())
    .bind(qty(fill.quantity))
    .bind(qty(counted))
    .bind(fill.reconciled)
    .bind(order.strategy.as_deref())
    .bind(Timestamp::from(fill.time))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    update(&mut tx, order, previous_version).await?;
    if let Some(change) = change {
        journal(&mut tx, order, change).await?;
    }
    if counted.units() > 0 {
        let event = pb::Fill {
            id: fill.id.clone(),
            order_id: order.id.clone(),
            account: order.account.clone(),
            symbol: order.symbol.to_string(),
            side: order.side.name().to_owned(),
            price: fill.price.units(),
            quantity: counted.units(),
            time: Some(timestamp(fill.time)),
            reconciled: fill.reconciled,
            strategy: order.strategy.clone().unwrap_or_default(),
            client_id: order.client_id.clone(),
        };
        Outbox::enqueue(
            &mut tx,
            OMS_FILL.static_name(),
            &Envelope::new(SOURCE, &order.account, &event),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn by_client_id_in(tx: &mut Tx, client_id: &str) -> Result<Option<Order>, Error> {
    let row: Option<Row> = common::on_engine!(tx.conn(), |c| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM oms_orders WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(&mut *c)
    .await)?;
    row.map(Row::into_order).transpose()
}

/// One order by id.
pub async fn get(db: &Db, id: &str) -> Result<Option<Order>, Error> {
    let row: Option<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM oms_orders WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?;
    row.map(Row::into_order).transpose()
}

/// One order by the caller's client id.
pub async fn by_client_id(db: &Db, client_id: &str) -> Result<Option<Order>, Error> {
    let row: Option<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM oms_orders WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(p)
    .await)?;
    row.map(Row::into_order).transpose()
}

/// Every order that can still trade, oldest first.
pub async fn open_orders(db: &Db) -> Result<Vec<Order>, Error> {
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM oms_orders \
         WHERE status IN ('pending_new', 'new', 'partially_filled') ORDER BY created_at, id"
    ))
    .fetch_all(p)
    .await)?;
    rows.into_iter().map(Row::into_order).collect()
}

/// Orders newest first, of one account and/or symbol (empty: all), at most `limit`.
pub async fn list(
    db: &Db,
    account: &str,
    symbol: &str,
    open_only: bool,
    limit: u32,
) -> Result<Vec<Order>, Error> {
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM oms_orders WHERE ($1 = '' OR account = $1) \
         AND ($2 = '' OR symbol = $2) \
         AND ($3 = 0 OR status IN ('pending_new', 'new', 'partially_filled')) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(account)
    .bind(symbol)
    .bind(i64::from(open_only))
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    rows.into_iter().map(Row::into_order).collect()
}

#[derive(sqlx::FromRow)]
struct FillRow {
    order_id: String,
    id: String,
    client_id: String,
    account: String,
    symbol: String,
    side: String,
    price: i64,
    counted: i64,
    reconciled: bool,
    strategy: Option<String>,
    time: Timestamp,
}

/// Fills that counted, newest first, of one account and/or order (empty: all).
pub async fn fills(
    db: &Db,
    account: &str,
    order_id: &str,
    limit: u32,
) -> Result<Vec<pb::Fill>, Error> {
    let rows: Vec<FillRow> = common::on_engine!(db.pool(), |p| {
        sqlx::query_as(
            "SELECT order_id, id, client_id, account, symbol, side, price, counted, reconciled, \
         strategy, time \
         FROM oms_fills WHERE counted > 0 AND ($1 = '' OR account = $1) \
         AND ($2 = '' OR order_id = $2) ORDER BY time DESC, order_id, id LIMIT $3",
        )
        .bind(account)
        .bind(order_id)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| pb::Fill {
            id: r.id,
            order_id: r.order_id,
            account: r.account,
            symbol: r.symbol,
            side: r.side,
            price: r.price,
            quantity: u64::try_from(r.counted).unwrap_or(0),
            time: Some(timestamp(r.time.into())),
            reconciled: r.reconciled,
            strategy: r.strategy.unwrap_or_default(),
            client_id: r.client_id,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    kind: String,
    from_status: String,
    to_status: String,
    detail: String,
    at: Timestamp,
}

/// The journal of one order, oldest first.
pub async fn events(db: &Db, order_id: &str) -> Result<Vec<pb::OrderEvent>, Error> {
    let rows: Vec<EventRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT kind, from_status, to_status, detail, at FROM oms_order_events \
         WHERE order_id = $1 ORDER BY seq"
    )
    .bind(order_id)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|r| pb::OrderEvent {
            kind: r.kind,
            from_status: r.from_status,
            to_status: r.to_status,
            detail: r.detail,
            at: Some(timestamp(r.at.into())),
            order: None,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct LedgerRow {
    symbol: String,
    side: String,
    price: i64,
    counted: i64,
    strategy: Option<String>,
    time: Timestamp,
}

/// Every fill of `account` that counted, oldest first, as the ledger reads them.
pub async fn account_fills(
    db: &Db,
    account: &str,
) -> Result<Vec<crate::ledger::LedgerFill>, Error> {
    account_fills_since(db, account, OffsetDateTime::UNIX_EPOCH).await
}

/// [`account_fills`] from `since` on.
pub async fn account_fills_since(
    db: &Db,
    account: &str,
    since: OffsetDateTime,
) -> Result<Vec<crate::ledger::LedgerFill>, Error> {
    let rows: Vec<LedgerRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT symbol, side, price, counted, strategy, time FROM oms_fills \
         WHERE account = $1 AND counted > 0 AND time >= $2 ORDER BY time, order_id, id"
    )
    .bind(account)
    .bind(Timestamp::from(since))
    .fetch_all(p)
    .await)?;
    rows.into_iter()
        .map(|r| {
            let bad = |what: String| Error::Corrupt {
                id: format!("a fill of {account}"),
                what,
            };
            Ok(crate::ledger::LedgerFill {
                symbol: Symbol::parse(&r.symbol).map_err(|e| bad(e.to_string()))?,
                side: domain::parse_side(&r.side).map_err(bad)?,
                price: Price::new(r.price).map_err(|e| bad(e.to_string()))?,
                quantity: Quantity::new(u64::try_from(r.counted).unwrap_or(0)),
                time: r.time.into(),
                strategy: r.strategy,
            })
        })
        .collect()
}

// ----- conditional orders ------------------------------------------------------------------

const CONDITIONAL_COLUMNS: &str = "client_id, account, symbol, side, kind, trigger_price, \
    limit_price, trail_amount, trail_bps, quantity, oco_group, strategy, status, extreme, \
    fired_at_price, placed, detail, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ConditionalRow {
    client_id: String,
    account: String,
    symbol: String,
    side: String,
    kind: String,
    trigger_price: Option<i64>,
    limit_price: Option<i64>,
    trail_amount: Option<i64>,
    trail_bps: Option<i64>,
    quantity: i64,
    oco_group: Option<String>,
    strategy: Option<String>,
    status: String,
    extreme: Option<i64>,
    fired_at_price: Option<i64>,
    placed: bool,
    detail: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl ConditionalRow {
    fn into_conditional(self) -> Result<(Conditional, bool), Error> {
        let id = self.client_id.clone();
        let bad = |what: String| Error::Corrupt {
            id: id.clone(),
            what,
        };
        let trail = match (self.trail_amount, self.trail_bps) {
            (Some(a), _) => Some(Trail::Amount(a)),
            (None, Some(b)) => Some(Trail::Bps(
                u32::try_from(b).map_err(|_| bad(format!("trail_bps {b}")))?,
            )),
            (None, None) => None,
        };
        Ok((
            Conditional {
                symbol: Symbol::parse(&self.symbol).map_err(|e| bad(e.to_string()))?,
                side: domain::parse_side(&self.side).map_err(&bad)?,
                kind: ConditionalKind::parse(&self.kind)
                    .ok_or_else(|| bad(format!("kind {:?}", self.kind)))?,
                status: ConditionalStatus::parse(&self.status)
                    .ok_or_else(|| bad(format!("status {:?}", self.status)))?,
                quantity: u64::try_from(self.quantity)
                    .map_err(|_| bad(format!("quantity {}", self.quantity)))?,
                client_id: self.client_id,
                account: self.account,
                trigger_price: self.trigger_price,
                limit_price: self.limit_price,
                trail,
                oco_group: self.oco_group,
                strategy: self.strategy,
                extreme: self.extreme,
                fired_at_price: self.fired_at_price,
                detail: self.detail,
                created_at: self.created_at.into(),
                updated_at: self.updated_at.into(),
            },
            self.placed,
        ))
    }
}

/// Stores a new conditional order, unless its client id was used before (then answers the
/// stored one).
pub async fn create_conditional(db: &Db, c: &Conditional) -> Result<Conditional, Error> {
    let (amount, bps) = match c.trail {
        Some(Trail::Amount(a)) => (Some(a), None),
        Some(Trail::Bps(b)) => (None, Some(i64::from(b))),
        None => (None, None),
    };
    let mut tx = db.begin().await?;
    common::on_engine!(tx.conn(), |x| sqlx::query(&format!(
        "INSERT INTO oms_conditionals ({CONDITIONAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
         $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
         ON CONFLICT (client_id) DO NOTHING"
    ))
    .bind(&c.client_id)
    .bind(&c.account)
    .bind(c.symbol.as_str())
    .bind(c.side.name())
    .bind(c.kind.as_str())
    .bind(c.trigger_price)
    .bind(c.limit_price)
    .bind(amount)
    .bind(bps)
    .bind(i64::try_from(c.quantity).unwrap_or(i64::MAX))
    .bind(c.oco_group.as_deref())
    .bind(c.strategy.as_deref())
    .bind(c.status.as_str())
    .bind(c.extreme)
    .bind(c.fired_at_price)
    .bind(false)
    .bind(&c.detail)
    .bind(Timestamp::from(c.created_at))
    .bind(Timestamp::from(c.updated_at))
    .execute(&mut *x)
    .await
    .map(drop))?;
    let stored = conditional_in(&mut tx, &c.client_id).await?;
    tx.commit().await?;
    stored
        .map(|(c, _)| c)
        .ok_or_else(|| Error::Conflict(c.client_id.clone()))
}

async fn conditional_in(
    tx: &mut Tx,
    client_id: &str,
) -> Result<Option<(Conditional, bool)>, Error> {
    let row: Option<ConditionalRow> = common::on_engine!(tx.conn(), |x| sqlx::query_as(&format!(
        "SELECT {CONDITIONAL_COLUMNS} FROM oms_conditionals WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(&mut *x)
    .await)?;
    row.map(ConditionalRow::into_conditional).transpose()
}

/// One conditional order and whether its child order is stored.
pub async fn conditional(db: &Db, client_id: &str) -> Result<Option<(Conditional, bool)>, Error> {
    let mut tx = db.begin().await?;
    let c = conditional_in(&mut tx, client_id).await?;
    tx.commit().await?;
    Ok(c)
}

/// Conditional orders, newest first, filtered by account and status (`""`: any).
pub async fn conditionals(
    db: &Db,
    account: &str,
    status: &str,
    limit: u32,
) -> Result<Vec<(Conditional, bool)>, Error> {
    let rows: Vec<ConditionalRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {CONDITIONAL_COLUMNS} FROM oms_conditionals \
             WHERE ($1 = '' OR account = $1) AND ($2 = '' OR status = $2) \
             ORDER BY created_at DESC, client_id LIMIT $3"
    ))
    .bind(account)
    .bind(status)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    rows.into_iter()
        .map(ConditionalRow::into_conditional)
        .collect()
}

/// Ends conditional `client_id` if it is still active: `triggered` (by a trade at `price`) or
/// `cancelled`; the other active members of its OCO group are cancelled with it. Answers the
/// conditional as ended and the client ids of the members cancelled, or `None` when it was not
/// active (it fired or was cancelled before: nothing changes). The guard on `status` makes a
/// firing happen once, whoever tries.
pub async fn end_conditional(
    db: &Db,
    client_id: &str,
    fired_at: Option<i64>,
    detail: &str,
    now: OffsetDateTime,
) -> Result<Option<(Conditional, Vec<String>)>, Error> {
    let status = if fired_at.is_some() {
        ConditionalStatus::Triggered
    } else {
        ConditionalStatus::Cancelled
    };
    let mut tx = db.begin().await?;
    let n = common::on_engine!(tx.conn(), |x| sqlx::query(
        "UPDATE oms_conditionals SET status = $2, fired_at_price = $3, detail = $4, \
         updated_at = $5 WHERE client_id = $1 AND status = 'active'"
    )
    .bind(client_id)
    .bind(status.as_str())
    .bind(fired_at)
    .bind(detail)
    .bind(Timestamp::from(now))
    .execute(&mut *x)
    .await
    .map(|r| r.rows_affected()))?;
    if n != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let Some((ended, _)) = conditional_in(&mut tx, client_id).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let mut siblings = Vec::new();
    if let Some(group) = &ended.oco_group {
        siblings = common::on_engine!(tx.conn(), |x| sqlx::query_scalar(
            "SELECT client_id FROM oms_conditionals WHERE account = $1 AND oco_group = $2 \
             AND status = 'active' AND client_id <> $3 ORDER BY client_id"
        )
        .bind(&ended.account)
        .bind(group)
        .bind(client_id)
        .fetch_all(&mut *x)
        .await)?;
        let why = format!("OCO group {group}: {client_id} {}", status.as_str());
        for s in &siblings {
            common::on_engine!(tx.conn(), |x| sqlx::query(
                "UPDATE oms_conditionals SET status = 'cancelled', detail = $2, updated_at = $3 \
                 WHERE client_id = $1 AND status = 'active'"
            )
            .bind(s)
            .bind(&why)
            .bind(Timestamp::from(now))
            .execute(&mut *x)
            .await
            .map(drop))?;
        }
    }
    tx.commit().await?;
    Ok(Some((ended, siblings)))
}

/// Records a trailing stop's new extreme.
pub async fn set_extreme(db: &Db, client_id: &str, extreme: i64) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE oms_conditionals SET extreme = $2 WHERE client_id = $1 AND status = 'active'"
    )
    .bind(client_id)
    .bind(extreme)
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// Records that the child order of a fired conditional is stored (with what became of it).
pub async fn mark_placed(db: &Db, client_id: &str, detail: &str) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE oms_conditionals SET placed = $2, detail = $3 WHERE client_id = $1"
    )
    .bind(client_id)
    .bind(true)
    .bind(detail)
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// Active conditionals, and fired ones whose child order is not stored yet.
pub async fn live_conditionals(db: &Db) -> Result<Vec<(Conditional, bool)>, Error> {
    let rows: Vec<ConditionalRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {CONDITIONAL_COLUMNS} FROM oms_conditionals \
             WHERE status = 'active' OR (status = 'triggered' AND placed = $1) \
             ORDER BY created_at, client_id"
    ))
    .bind(false)
    .fetch_all(p)
    .await)?;
    rows.into_iter()
        .map(ConditionalRow::into_conditional)
        .collect()
}

// ----- algorithmic orders ------------------------------------------------------------------

const ALGO_COLUMNS: &str = "client_id, account, symbol, side, kind, price, quantity, slices, \
    start_at, end_at, display, strategy, next_slice, status, detail, created_at, updated_at, \
    weights";

#[derive(sqlx::FromRow)]
struct AlgoRow {
    client_id: String,
    account: String,
    symbol: String,
    side: String,
    kind: String,
    price: i64,
    quantity: i64,
    slices: Option<i64>,
    start_at: Option<Timestamp>,
    end_at: Option<Timestamp>,
    display: Option<i64>,
    strategy: Option<String>,
    next_slice: i64,
    status: String,
    detail: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    weights: Option<String>,
}

impl AlgoRow {
    fn into_algo(self) -> Result<Algo, Error> {
        let id = self.client_id.clone();
        let bad = |what: String| Error::Corrupt {
            id: id.clone(),
            what,
        };
        let count = |what: &str, v: i64| {
            u64::try_from(v).map_err(|_| Error::Corrupt {
                id: id.clone(),
                what: format!("{what} {v}"),
            })
        };
        Ok(Algo {
            symbol: Symbol::parse(&self.symbol).map_err(|e| bad(e.to_string()))?,
            side: domain::parse_side(&self.side).map_err(&bad)?,
            kind: AlgoKind::parse(&self.kind)
                .ok_or_else(|| bad(format!("kind {:?}", self.kind)))?,
            status: AlgoStatus::parse(&self.status)
                .ok_or_else(|| bad(format!("status {:?}", self.status)))?,
            quantity: count("quantity", self.quantity)?,
            slices: self
                .slices
                .map(|s| u32::try_from(s).map_err(|_| bad(format!("slices {s}"))))
                .transpose()?,
            display: self.display.map(|d| count("display", d)).transpose()?,
            weights: match self.weights.as_deref() {
                None | Some("") => Vec::new(),
                Some(w) => serde_json::from_str(w).map_err(|e| bad(format!("weights: {e}")))?,
            },
            next_slice: u32::try_from(self.next_slice)
                .map_err(|_| bad(format!("next_slice {}", self.next_slice)))?,
            client_id: self.client_id,
            account: self.account,
            price: self.price,
            start_at: self.start_at.map(Into::into),
            end_at: self.end_at.map(Into::into),
            strategy: self.strategy,
            detail: self.detail,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

async fn algo_in(tx: &mut Tx, client_id: &str) -> Result<Option<Algo>, Error> {
    let row: Option<AlgoRow> = common::on_engine!(tx.conn(), |x| sqlx::query_as(&format!(
        "SELECT {ALGO_COLUMNS} FROM oms_algos WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(&mut *x)
    .await)?;
    row.map(AlgoRow::into_algo).transpose()
}

/// Stores a new parent order, unless its client id was used before (then answers the stored
/// one).
pub async fn create_algo(db: &Db, a: &Algo) -> Result<Algo, Error> {
    let mut tx = db.begin().await?;
    common::on_engine!(tx.conn(), |x| sqlx::query(&format!(
        "INSERT INTO oms_algos ({ALGO_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (client_id) DO NOTHING"
    ))
    .bind(&a.client_id)
    .bind(&a.account)
    .bind(a.symbol.as_str())
    .bind(a.side.name())
    .bind(a.kind.as_str())
    .bind(a.price)
    .bind(i64::try_from(a.quantity).unwrap_or(i64::MAX))
    .bind(a.slices.map(i64::from))
    .bind(a.start_at.map(Timestamp::from))
    .bind(a.end_at.map(Timestamp::from))
    .bind(a.display.map(|d| i64::try_from(d).unwrap_or(i64::MAX)))
    .bind(a.strategy.as_deref())
    .bind(i64::from(a.next_slice))
    .bind(a.status.as_str())
    .bind(&a.detail)
    .bind(Timestamp::from(a.created_at))
    .bind(Timestamp::from(a.updated_at))
    .bind((!a.weights.is_empty()).then(|| serde_json::to_string(&a.weights).unwrap_or_default()))
    .execute(&mut *x)
    .await
    .map(drop))?;
    let stored = algo_in(&mut tx, &a.client_id).await?;
    tx.commit().await?;
    stored.ok_or_else(|| Error::Conflict(a.client_id.clone()))
}

/// One parent order.
pub async fn algo(db: &Db, client_id: &str) -> Result<Option<Algo>, Error> {
    let mut tx = db.begin().await?;
    let a = algo_in(&mut tx, client_id).await?;
    tx.commit().await?;
    Ok(a)
}

/// Parent orders, newest first, by account and status (`""`: any).
pub async fn algos(db: &Db, account: &str, status: &str, limit: u32) -> Result<Vec<Algo>, Error> {
    let rows: Vec<AlgoRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {ALGO_COLUMNS} FROM oms_algos WHERE ($1 = '' OR account = $1) \
         AND ($2 = '' OR status = $2) ORDER BY created_at DESC, client_id LIMIT $3"
    ))
    .bind(account)
    .bind(status)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    rows.into_iter().map(AlgoRow::into_algo).collect()
}

/// Records a parent's progress if it is still active (a cancellation wins): answers whether it
/// was.
pub async fn algo_progress(
    db: &Db,
    client_id: &str,
    next_slice: u32,
    status: AlgoStatus,
    detail: &str,
    now: OffsetDateTime,
) -> Result<bool, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE oms_algos SET next_slice = $2, status = $3, detail = $4, updated_at = $5 \
         WHERE client_id = $1 AND status = 'active'"
    )
    .bind(client_id)
    .bind(i64::from(next_slice))
    .bind(status.as_str())
    .bind(detail)
    .bind(Timestamp::from(now))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// One day's net asset value of an account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NavRow {
    /// Broker sub-account.
    pub account: String,
    /// YYYY-MM-DD, Vietnam.
    pub day: String,
    /// Cash, VND.
    pub cash: i64,
    /// Positions at the last trade price, VND.
    pub holdings: i64,
    /// cash + holdings.
    pub nav: i64,
    /// RFC 3339 of the valuation.
    pub valued_at: String,
}

/// Keeps `row` as its day's NAV (a later valuation of the same day replaces it).
pub async fn save_nav(db: &Db, row: &NavRow) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "INSERT INTO oms_nav (account, day, cash, holdings, nav, valued_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account, day) DO UPDATE SET \
         cash = excluded.cash, holdings = excluded.holdings, nav = excluded.nav, \
         valued_at = excluded.valued_at"
    )
    .bind(&row.account)
    .bind(&row.day)
    .bind(row.cash)
    .bind(row.holdings)
    .bind(row.nav)
    .bind(&row.valued_at)
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// The account's NAV from `from` to `to` (YYYY-MM-DD, both included), oldest first.
pub async fn nav(db: &Db, account: &str, from: &str, to: &str) -> Result<Vec<NavRow>, Error> {
    let rows: Vec<NavRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT account, day, cash, holdings, nav, valued_at FROM oms_nav \
         WHERE account = $1 AND day >= $2 AND day <= $3 ORDER BY day"
    )
    .bind(account)
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await)?;
    Ok(rows)
}
