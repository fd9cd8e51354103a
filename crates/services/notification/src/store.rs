//! Storage (PostgreSQL or SQLite): preferences and the accounts users follow, notifications with
//! the idempotency keys of the events behind them, and deliveries — the persisted queue, the
//! receipts and the dead letter in one table, so a restart resumes every pending delivery.

use common::store::{Db, Error, Timestamp, Tx};

/// A stored notification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    /// Its id.
    pub id: String,
    /// To whom.
    pub user_id: String,
    /// Its [`EventKind`](crate::domain::EventKind).
    pub kind: String,
    /// Its template.
    pub template: String,
    /// `info`, `warning`, `critical`.
    pub severity: String,
    /// `vi` or `en`.
    pub lang: String,
    /// The template's data (JSON).
    pub data: String,
    /// Events of the same group key merge into it while it is open.
    pub group_key: String,
    /// Until when it takes more of its group.
    pub open_until: Timestamp,
    /// When made.
    pub created_at: Timestamp,
    /// When its data last changed.
    pub updated_at: Timestamp,
}

const N_COLUMNS: &str = "id, user_id, kind, template, severity, lang, data, group_key, open_until, created_at, updated_at";

/// A stored delivery: one notification on one channel to one target.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Its id, the idempotency key the peer gets.
    pub id: String,
    /// Its notification.
    pub notification_id: String,
    /// To whom.
    pub user_id: String,
    /// Its [`Channel`](crate::domain::Channel).
    pub channel: String,
    /// An address, chat id, webhook name, phone, or `inbox`.
    pub target: String,
    /// Whether it ignores quiet hours and rate limits.
    pub critical: bool,
    /// `pending`, `held` (quiet hours), `sent`, `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it is due (pending, held), or claimed until (being sent).
    pub next_at: Timestamp,
    /// Why the last attempt failed (empty when none did).
    pub last_error: String,
    /// When made.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// When the peer took it.
    pub sent_at: Option<Timestamp>,
    /// When the user read it (inbox).
    pub read_at: Option<Timestamp>,
}

const D_COLUMNS: &str = "id, notification_id, user_id, channel, target, critical, status, attempts, \
    next_at, last_error, created_at, updated_at, sent_at, read_at";

/// A user's stored preferences document.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrefsRow {
    /// The user.
    pub user_id: String,
    /// Their name.
    pub username: String,
    /// JSON of the contacts and choices.
    pub doc: String,
    /// Whether they see every account.
    pub all_accounts: bool,
}

/// The preferences of `user_id` and the accounts they follow.
pub async fn prefs(tx: &mut Tx, user_id: &str) -> Result<Option<(PrefsRow, Vec<String>)>, Error> {
    let row: Option<PrefsRow> = common::on_engine!(tx.conn(), |c| sqlx::query_as(
        "SELECT user_id, username, doc, all_accounts FROM notif_preferences WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let accounts = follows(tx, user_id).await?;
    Ok(Some((row, accounts)))
}

async fn follows(tx: &mut Tx, user_id: &str) -> Result<Vec<String>, Error> {
    let accounts: Vec<String> = common::on_engine!(tx.conn(), |c| {
        sqlx::query_scalar(
        "SELECT account FROM notif_follows WHERE user_id = $1 AND account <> '*' ORDER BY account"
    )
    .bind(user_id)
    .fetch_all(c)
    .await
    })?;
    Ok(accounts)
}

/// Every user's preferences with the accounts they follow.
pub async fn all_prefs(tx: &mut Tx) -> Result<Vec<(PrefsRow, Vec<String>)>, Error> {
    let rows: Vec<PrefsRow> = common::on_engine!(tx.conn(), |c| sqlx::query_as(
        "SELECT user_id, username, doc, all_accounts FROM notif_preferences ORDER BY user_id"
    )
    .fetch_all(c)
    .await)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let a = follows(tx, &r.user_id).await?;
        out.push((r, a));
    }
    Ok(out)
}

/// The users following `account` (or every account), with their preferences.
pub async fn followers(tx: &mut Tx, account: &str) -> Result<Vec<(PrefsRow, Vec<String>)>, Error> {
    let rows: Vec<PrefsRow> = common::on_engine!(tx.conn(), |c| {
        sqlx::query_as(
        "SELECT p.user_id, p.username, p.doc, p.all_accounts FROM notif_preferences p \
         WHERE p.user_id IN (SELECT user_id FROM notif_follows WHERE account = $1 OR account = '*') \
         ORDER BY p.user_id"
    )
    .bind(account)
    .fetch_all(c)
    .await
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let a = follows(tx, &r.user_id).await?;
        out.push((r, a));
    }
    Ok(out)
}

/// Stores a user's preferences; with `accounts`, replaces the accounts they follow (`*` for
/// every account when `row.all_accounts`).
pub async fn put_prefs(
    tx: &mut Tx,
    row: &PrefsRow,
    accounts: Option<&[String]>,
    at: Timestamp,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO notif_preferences (user_id, username, doc, all_accounts, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
         username = excluded.username, doc = excluded.doc, all_accounts = excluded.all_accounts, \
         updated_at = excluded.updated_at"
    )
    .bind(&row.user_id)
    .bind(&row.username)
    .bind(&row.doc)
    .bind(row.all_accounts)
    .bind(at)
    .execute(c)
    .await
    .map(drop))?;
    if let Some(accounts) = accounts {
        common::on_engine!(tx.conn(), |c| sqlx::query(
            "DELETE FROM notif_follows WHERE user_id = $1"
        )
        .bind(&row.user_id)
        .execute(c)
        .await
        .map(drop))?;
        let mut all: Vec<&str> = accounts.iter().map(String::as_str).collect();
        if row.all_accounts {
            all.push("*");
        }
        for a in all {
            common::on_engine!(tx.conn(), |c| {
                sqlx::query(
                "INSERT INTO notif_follows (account, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            )
            .bind(a)
            .bind(&row.user_id)
            .execute(c)
            .await
            .map(drop)
            })?;
        }
    }
    Ok(())
}

/// Records that event `key` reached `user_id` as `notification_id`; `false` when it had already
/// (nothing written).
pub async fn claim_key(
    tx: &mut Tx,
    user_id: &str,
    key: &str,
    notification_id: &str,
) -> Result<bool, Error> {
    let done = common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO notif_keys (user_id, key, notification_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING"
    )
    .bind(user_id)
    .bind(key)
    .bind(notification_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// The notification of `user_id` in `group_key` still open at `now`.
pub async fn open_group(
    tx: &mut Tx,
    user_id: &str,
    group_key: &str,
    now: Timestamp,
) -> Result<Option<NotificationRow>, Error> {
    let q = format!(
        "SELECT {N_COLUMNS} FROM notif_notifications \
         WHERE user_id = $1 AND group_key = $2 AND open_until > $3 ORDER BY created_at DESC LIMIT 1"
    );
    let row = common::on_engine!(tx.conn(), |c| sqlx::query_as(&q)
        .bind(user_id)
        .bind(group_key)
        .bind(now)
        .fetch_optional(c)
        .await)?;
    Ok(row)
}

/// Stores a new notification.
pub async fn insert_notification(tx: &mut Tx, n: &NotificationRow) -> Result<(), Error> {
    let q = format!(
        "INSERT INTO notif_notifications ({N_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    common::on_engine!(tx.conn(), |c| sqlx::query(&q)
        .bind(&n.id)
        .bind(&n.user_id)
        .bind(&n.kind)
        .bind(&n.template)
        .bind(&n.severity)
        .bind(&n.lang)
        .bind(&n.data)
        .bind(&n.group_key)
        .bind(n.open_until)
        .bind(n.created_at)
        .bind(n.updated_at)
        .execute(c)
        .await
        .map(drop))?;
    Ok(())
}

/// Replaces a notification's data (a grouped event merged into it) and severity.
pub async fn update_data(
    tx: &mut Tx,
    id: &str,
    data: &str,
    severity: &str,
    at: Timestamp,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE notif_notifications SET data = $2, severity = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(id)
    .bind(data)
    .bind(severity)
    .bind(at)
    .execute(c)
    .await
    .map(drop))?;
    Ok(())
}

/// Queues a delivery; `false` when the same notification already goes to that target.
pub async fn insert_delivery(tx: &mut Tx, d: &DeliveryRow) -> Result<bool, Error> {
    let q = format!(
        "INSERT INTO notif_deliveries ({D_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING"
    );
    let n = common::on_engine!(tx.conn(), |c| sqlx::query(&q)
        .bind(&d.id)
        .bind(&d.notification_id)
        .bind(&d.user_id)
        .bind(&d.channel)
        .bind(&d.target)
        .bind(d.critical)
        .bind(&d.status)
        .bind(d.attempts)
        .bind(d.next_at)
        .bind(&d.last_error)
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(d.sent_at)
        .bind(d.read_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Raises a critical notification's deliveries: due now, not held.
pub async fn make_critical(
    tx: &mut Tx,
    notification_id: &str,
    now: Timestamp,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| {
        sqlx::query(
        "UPDATE notif_deliveries SET critical = $2, status = 'pending', next_at = $3, updated_at = $3 \
         WHERE notification_id = $1 AND status IN ('pending', 'held')"
    )
    .bind(notification_id)
    .bind(true)
    .bind(now)
    .execute(c)
    .await
    .map(drop)
    })?;
    Ok(())
}

/// Deliveries due at `now` (pending or held), oldest first.
pub async fn due(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<DeliveryRow>, Error> {
    let q = format!(
        "SELECT {D_COLUMNS} FROM notif_deliveries \
         WHERE status IN ('pending', 'held') AND next_at <= $1 ORDER BY next_at LIMIT $2"
    );
    let rows = common::on_engine!(db.pool(), |p| sqlx::query_as(&q)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    Ok(rows)
}

/// Claims a due delivery until `lease` (another worker, or this one after a crash, takes it
/// only after); `false` when someone else claimed it first.
pub async fn claim(db: &Db, d: &DeliveryRow, lease: Timestamp) -> Result<bool, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE notif_deliveries SET next_at = $3 WHERE id = $1 AND next_at = $2 \
         AND status IN ('pending', 'held')"
    )
    .bind(&d.id)
    .bind(d.next_at)
    .bind(lease)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records an attempt's outcome: `status` (`sent`, `pending` to retry at `next_at`, `dead`).
pub async fn finish(
    db: &Db,
    id: &str,
    status: &str,
    attempts: i64,
    next_at: Timestamp,
    error: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let sent_at = (status == "sent").then_some(now);
    common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE notif_deliveries SET status = $2, attempts = $3, next_at = $4, last_error = $5, \
         updated_at = $6, sent_at = COALESCE($7, sent_at) WHERE id = $1"
    )
    .bind(id)
    .bind(status)
    .bind(attempts)
    .bind(next_at)
    .bind(error)
    .bind(now)
    .bind(sent_at)
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// Puts a claimed delivery back, due at `next_at` (a rate limit), without counting an attempt.
pub async fn postpone(db: &Db, id: &str, next_at: Timestamp) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE notif_deliveries SET next_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(next_at)
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// Messages sent to `user_id` on `channel` since `since`, and the earliest of them.
pub async fn sent_since(
    db: &Db,
    user_id: &str,
    channel: &str,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>), Error> {
    let row: (i64, Option<Timestamp>) = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT COUNT(*), MIN(sent_at) FROM notif_deliveries \
         WHERE user_id = $1 AND channel = $2 AND status = 'sent' AND sent_at > $3"
    )
    .bind(user_id)
    .bind(channel)
    .bind(since)
    .fetch_one(p)
    .await)?;
    Ok(row)
}

/// A notification by id.
pub async fn notification(db: &Db, id: &str) -> Result<Option<NotificationRow>, Error> {
    let q = format!("SELECT {N_COLUMNS} FROM notif_notifications WHERE id = $1");
    let row = common::on_engine!(db.pool(), |p| sqlx::query_as(&q)
        .bind(id)
        .fetch_optional(p)
        .await)?;
    Ok(row)
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Of this notification.
    pub notification_id: Option<String>,
    /// To this user.
    pub user_id: Option<String>,
    /// In this status.
    pub status: Option<String>,
    /// On this channel.
    pub channel: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// Deliveries (receipts), newest first.
pub async fn deliveries(db: &Db, f: &DeliveryFilter) -> Result<Vec<DeliveryRow>, Error> {
    let q = format!(
        "SELECT {D_COLUMNS} FROM notif_deliveries WHERE \
         ($1 = '' OR notification_id = $1) AND ($2 = '' OR user_id = $2) AND \
         ($3 = '' OR status = $3) AND ($4 = '' OR channel = $4) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    );
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let rows = common::on_engine!(db.pool(), |p| sqlx::query_as(&q)
        .bind(s(&f.notification_id))
        .bind(s(&f.user_id))
        .bind(s(&f.status))
        .bind(s(&f.channel))
        .bind(f.limit)
        .fetch_all(p)
        .await)?;
    Ok(rows)
}

/// A delivery by id.
pub async fn delivery(db: &Db, id: &str) -> Result<Option<DeliveryRow>, Error> {
    let q = format!("SELECT {D_COLUMNS} FROM notif_deliveries WHERE id = $1");
    let row = common::on_engine!(db.pool(), |p| sqlx::query_as(&q)
        .bind(id)
        .fetch_optional(p)
        .await)?;
    Ok(row)
}

/// The inbox of `user_id`, newest first (only unread ones with `unread`).
pub async fn inbox(
    db: &Db,
    user_id: &str,
    unread: bool,
    limit: i64,
) -> Result<Vec<DeliveryRow>, Error> {
    let q = format!(
        "SELECT {D_COLUMNS} FROM notif_deliveries WHERE user_id = $1 AND channel = 'inbox' \
         AND status = 'sent' AND ($2 = 0 OR read_at IS NULL) ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    let rows = common::on_engine!(db.pool(), |p| sqlx::query_as(&q)
        .bind(user_id)
        .bind(i64::from(unread))
        .bind(limit)
        .fetch_all(p)
        .await)?;
    Ok(rows)
}

/// Unread inbox messages of `user_id`.
pub async fn unread(db: &Db, user_id: &str) -> Result<i64, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM notif_deliveries WHERE user_id = $1 AND channel = 'inbox' \
         AND status = 'sent' AND read_at IS NULL"
    )
    .bind(user_id)
    .fetch_one(p)
    .await)?;
    Ok(n)
}

/// Marks inbox messages of `user_id` read: one (`id`) or all; how many changed.
pub async fn mark_read(
    db: &Db,
    user_id: &str,
    id: Option<&str>,
    at: Timestamp,
) -> Result<u64, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE notif_deliveries SET read_at = $3 WHERE user_id = $1 AND channel = 'inbox' \
         AND read_at IS NULL AND ($2 = '' OR id = $2)"
    )
    .bind(user_id)
    .bind(id.unwrap_or(""))
    .bind(at)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n)
}

/// Deliveries waiting (pending or held), by channel.
pub async fn queue_depth(db: &Db) -> Result<Vec<(String, i64)>, Error> {
    let rows = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT channel, COUNT(*) FROM notif_deliveries WHERE status IN ('pending', 'held') \
         GROUP BY channel"
    )
    .fetch_all(p)
    .await)?;
    Ok(rows)
}

/// Drops the secrets (`params`) of a notification's data once it no longer needs them.
pub async fn scrub(db: &Db, id: &str, data: &str) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE notif_notifications SET data = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(data)
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// Deletes notifications made before `before` whose deliveries are all over (sent or dead),
/// with their deliveries and keys; how many notifications went.
pub async fn purge(db: &Db, before: Timestamp) -> Result<u64, Error> {
    const OLD: &str = "SELECT n.id FROM notif_notifications n WHERE n.created_at < $1 AND NOT EXISTS \
        (SELECT 1 FROM notif_deliveries d WHERE d.notification_id = n.id AND d.status IN ('pending', 'held'))";
    let mut tx = db.begin().await?;
    for table in ["notif_keys", "notif_deliveries"] {
        let q = format!("DELETE FROM {table} WHERE notification_id IN ({OLD})");
        common::on_engine!(tx.conn(), |c| sqlx::query(&q)
            .bind(before)
            .execute(c)
            .await
            .map(drop))?;
    }
    let q = format!("DELETE FROM notif_notifications WHERE id IN ({OLD})");
    let n = common::on_engine!(tx.conn(), |c| sqlx::query(&q)
        .bind(before)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}
