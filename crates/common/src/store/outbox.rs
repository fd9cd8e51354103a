//! The transactional outbox: events written in the same transaction as the state change they
//! describe, published afterwards, in the order they were written, by the relay.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::copy::{TextRows, copy_in};
use super::{Db, Error, PerEngine, Timestamp, Tx};
use crate::bus::{Envelope, EventBus};
use crate::error::{Classify, Kind, chain};
use crate::retry::Backoff;
use crate::settings::OutboxSettings;

/// The transactional outbox of one database.
#[derive(Clone, Debug)]
pub struct Outbox {
    db: Db,
}

/// A pending row as the relay reads it.
#[derive(sqlx::FromRow)]
struct PendingRow {
    seq: i64,
    event_id: Uuid,
    topic: String,
    envelope: Vec<u8>,
    attempts: i32,
}

/// A row the relay gave up on, kept in `qts_outbox_dead`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadRow {
    /// Its position in the outbox.
    pub seq: i64,
    /// The event id (from the row, even if the envelope does not decode).
    pub event_id: Uuid,
    /// Where it was to go.
    pub topic: String,
    /// The stored envelope bytes, as written.
    pub envelope: Vec<u8>,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// When the relay gave up.
    pub dead_at: Timestamp,
    /// Failed publish attempts.
    pub attempts: i32,
    /// `undecodable` (the envelope does not decode) or `refused` (the bus refused it).
    pub reason: String,
    /// The last error with its whole cause chain.
    pub error: String,
}

/// How the relay publishes and when it gives up on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPolicy {
    /// Rows read per pass.
    pub batch: u32,
    /// Attempts before a refused row is dead-lettered.
    pub max_attempts: u32,
    /// Delay between attempts.
    pub backoff: Backoff,
}

impl From<&OutboxSettings> for RelayPolicy {
    fn from(s: &OutboxSettings) -> Self {
        Self {
            batch: s.batch_size.max(1),
            max_attempts: s.max_attempts.max(1),
            backoff: Backoff::from_millis(s.retry_backoff_ms, s.max_backoff_ms),
        }
    }
}

/// What one relay pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RelayStep {
    /// Rows published.
    pub published: usize,
    /// Rows moved to `qts_outbox_dead` whose envelope did not decode.
    pub undecodable: usize,
    /// Rows moved to `qts_outbox_dead` after the bus refused them `max_attempts` times.
    pub refused: usize,
    /// A row failed and stays at the head: wait this long before the next pass.
    pub retry_after: Option<Duration>,
    /// The last publish error (whole chain), when `retry_after` is set.
    pub error: Option<String>,
    /// The batch was full: more rows may be waiting.
    pub more: bool,
}

/// Rows per `INSERT` in a SQLite bulk enqueue (4 parameters each, far below SQLite's limit).
const SQLITE_ROWS_PER_INSERT: usize = 200;

/// Published rows are marked in one statement per this many (and before anything else the
/// pass does). A crash in between republishes at most this many rows: at least once, and
/// consumers de-duplicate on the event id.
const MARK_EVERY: usize = 64;

/// The bus said no for this event (unknown topic, wrong payload type, invalid): retrying will
/// not help by itself. Anything else (broker unreachable) fails every row alike.
fn refused(err: &crate::bus::Error) -> bool {
    matches!(
        err.kind(),
        Kind::InvalidArgument | Kind::NotFound | Kind::FailedPrecondition | Kind::AlreadyExists
    )
}

impl Outbox {
    /// The outbox on `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Records `envelope` for `topic` inside the caller's transaction: it is published if and
    /// only if the transaction commits (and the commit wakes this process's relay).
    pub async fn enqueue(tx: &mut Tx, topic: &str, envelope: &Envelope) -> Result<(), Error> {
        let bytes = envelope.to_bytes();
        let now = Timestamp::now();
        crate::on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO qts_outbox (event_id, topic, envelope, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(envelope.id)
        .bind(topic)
        .bind(&bytes)
        .bind(now)
        .execute(c)
        .await
        .map(drop))?;
        tx.wrote_outbox();
        Ok(())
    }

    /// Records many events at once, in order, inside the caller's transaction. On PostgreSQL
    /// this is one `COPY` (see [`copy`](super::copy)); on SQLite, prepared inserts. Returns the
    /// number of rows written.
    pub async fn enqueue_many<'a, I>(tx: &mut Tx, events: I) -> Result<u64, Error>
    where
        I: IntoIterator<Item = (&'a str, &'a Envelope)>,
    {
        let now = Timestamp::now();
        let written = match tx.conn() {
            PerEngine::Postgres(c) => {
                let mut rows = TextRows::new();
                for (topic, envelope) in events {
                    rows.uuid(envelope.id)
                        .text(topic)
                        .bytes(&envelope.to_bytes())
                        .timestamp(now)
                        .end_row();
                }
                if rows.rows() == 0 {
                    return Ok(0);
                }
                copy_in(
                    c,
                    "COPY qts_outbox (event_id, topic, envelope, created_at) FROM STDIN",
                    &rows,
                )
                .await?
            }
            PerEngine::Sqlite(c) => {
                // Multi-row INSERTs: SQLite has no COPY, and one statement per row costs a
                // round trip to its worker thread each.
                let mut n = 0;
                let mut events = events.into_iter().peekable();
                while events.peek().is_some() {
                    let mut query = sqlx::QueryBuilder::new(
                        "INSERT INTO qts_outbox (event_id, topic, envelope, created_at) ",
                    );
                    query.push_values(
                        events.by_ref().take(SQLITE_ROWS_PER_INSERT),
                        |mut row, (topic, envelope)| {
                            row.push_bind(envelope.id)
                                .push_bind(topic)
                                .push_bind(envelope.to_bytes())
                                .push_bind(now);
                        },
                    );
                    n += query.build().execute(&mut *c).await?.rows_affected();
                }
                n
            }
        };
        if written > 0 {
            tx.wrote_outbox();
        }
        Ok(written)
    }

    /// Events not yet published (dead-lettered rows excluded).
    pub async fn pending(&self) -> Result<i64, Error> {
        let n = crate::on_engine!(self.db.pool(), |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM qts_outbox WHERE published_at IS NULL"
        )
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// When the oldest pending event was enqueued (the relay's lag starts there).
    pub async fn oldest_pending(&self) -> Result<Option<Timestamp>, Error> {
        let at = crate::on_engine!(self.db.pool(), |p| sqlx::query_scalar::<_, Timestamp>(
            "SELECT created_at FROM qts_outbox WHERE published_at IS NULL ORDER BY seq LIMIT 1"
        )
        .fetch_optional(p)
        .await)?;
        Ok(at)
    }

    /// One relay pass: publishes up to `policy.batch` pending events in the order they were
    /// written and marks each published once the bus has stored it.
    ///
    /// A row whose envelope does not decode is moved to `qts_outbox_dead` at once. A row the
    /// bus refuses is retried (the pass stops and asks to wait, so later rows never overtake
    /// it) until it has failed `policy.max_attempts` times, then moved to `qts_outbox_dead` and
    /// the rows behind it go on. A bus that is unreachable fails every row alike, so that is
    /// retried without limit. Rows go to the bus in batches (runs of rows that decode, many in
    /// flight, in order); if `token` is cancelled, the pass stops after the batch in hand.
    pub async fn relay_once(
        &self,
        bus: &dyn EventBus,
        policy: &RelayPolicy,
        token: Option<&CancellationToken>,
    ) -> Result<RelayStep, Error> {
        let limit = i64::from(policy.batch.max(1));
        let rows = crate::on_engine!(self.db.pool(), |p| sqlx::query_as::<_, PendingRow>(
            "SELECT seq, event_id, topic, envelope, attempts FROM qts_outbox \
             WHERE published_at IS NULL ORDER BY seq LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await)?;
        let mut step = RelayStep {
            more: rows.len() as i64 == limit,
            ..RelayStep::default()
        };
        let mut published = Vec::with_capacity(MARK_EVERY);
        let mut next = 0;
        while next < rows.len() {
            if token.is_some_and(CancellationToken::is_cancelled) {
                step.more = true;
                break;
            }
            // The run of rows from `next` that decode goes to the bus as one batch (many in
            // flight, in order).
            let run: Vec<(&str, Envelope)> = rows[next..]
                .iter()
                .map_while(|row| {
                    Envelope::from_bytes(&row.envelope)
                        .ok()
                        .map(|e| (row.topic.as_str(), e))
                })
                .collect();
            if run.is_empty() {
                let row = &rows[next];
                next += 1;
                let reason = Envelope::from_bytes(&row.envelope)
                    .err()
                    .unwrap_or_default();
                step.published += self.mark_published(&mut published).await?;
                let error = format!("envelope does not decode: {reason}");
                self.dead_letter(row, "undecodable", &error, row.attempts)
                    .await?;
                step.undecodable += 1;
                continue;
            }
            let (stored, failure) = match bus.publish_batch(&run).await {
                Ok(_) => (run.len(), None),
                Err(e) => (e.stored, Some(e.error)),
            };
            published.extend(rows[next..next + stored].iter().map(|r| r.seq));
            next += stored;
            if published.len() >= MARK_EVERY {
                step.published += self.mark_published(&mut published).await?;
            }
            let Some(err) = failure else { continue };
            let row = &rows[next];
            step.published += self.mark_published(&mut published).await?;
            let attempts = row.attempts.saturating_add(1);
            let error = chain(&err).to_string();
            let spent = u32::try_from(attempts).unwrap_or(u32::MAX) >= policy.max_attempts;
            if refused(&err) && spent {
                self.dead_letter(row, "refused", &error, attempts).await?;
                step.refused += 1;
                next += 1;
                continue;
            }
            crate::on_engine!(self.db.pool(), |p| sqlx::query(
                "UPDATE qts_outbox SET attempts = $1, last_error = $2 WHERE seq = $3"
            )
            .bind(attempts)
            .bind(&error)
            .bind(row.seq)
            .execute(p)
            .await
            .map(drop))?;
            tracing::warn!(
                seq = row.seq,
                event_id = %row.event_id,
                topic = %row.topic,
                attempts,
                error = %error,
                "outbox row not published; will retry"
            );
            step.retry_after = Some(
                policy
                    .backoff
                    .delay(u32::try_from(attempts).unwrap_or(u32::MAX)),
            );
            step.error = Some(error);
            step.more = false;
            break;
        }
        step.published += self.mark_published(&mut published).await?;
        Ok(step)
    }

    /// Marks the rows `seqs` published (one statement) and empties the list.
    async fn mark_published(&self, seqs: &mut Vec<i64>) -> Result<usize, Error> {
        if seqs.is_empty() {
            return Ok(0);
        }
        let now = Timestamp::now();
        crate::on_engine!(self.db.pool(), |p| {
            let mut query = sqlx::QueryBuilder::new("UPDATE qts_outbox SET published_at = ");
            query.push_bind(now).push(" WHERE seq IN (");
            let mut list = query.separated(", ");
            for seq in seqs.iter() {
                list.push_bind(*seq);
            }
            list.push_unseparated(")");
            query.build().execute(p).await.map(drop)
        })?;
        let n = seqs.len();
        seqs.clear();
        Ok(n)
    }

    /// Moves a row to `qts_outbox_dead` in one transaction.
    async fn dead_letter(
        &self,
        row: &PendingRow,
        reason: &str,
        error: &str,
        attempts: i32,
    ) -> Result<(), Error> {
        tracing::error!(
            seq = row.seq,
            event_id = %row.event_id,
            topic = %row.topic,
            reason,
            attempts,
            error,
            "outbox row dead-lettered; it is kept in qts_outbox_dead"
        );
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        crate::on_engine!(tx.conn(), |c| {
            sqlx::query(
                "INSERT INTO qts_outbox_dead \
                 (seq, event_id, topic, envelope, created_at, dead_at, attempts, reason, error) \
                 SELECT seq, event_id, topic, envelope, created_at, $2, $3, $4, $5 \
                 FROM qts_outbox WHERE seq = $1",
            )
            .bind(row.seq)
            .bind(now)
            .bind(attempts)
            .bind(reason)
            .bind(error)
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM qts_outbox WHERE seq = $1")
                .bind(row.seq)
                .execute(&mut *c)
                .await
                .map(drop)
        })?;
        tx.commit().await
    }

    /// Rows the relay gave up on, oldest first.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadRow>, Error> {
        let rows = crate::on_engine!(self.db.pool(), |p| {
            sqlx::query_as::<_, DeadRow>(
            "SELECT seq, event_id, topic, envelope, created_at, dead_at, attempts, reason, error \
             FROM qts_outbox_dead ORDER BY seq LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await
        })?;
        Ok(rows)
    }

    /// Puts a dead-lettered row back at the end of the outbox (after its cause is fixed).
    /// Returns whether the row existed.
    pub async fn requeue(&self, seq: i64) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let moved = crate::on_engine!(tx.conn(), |c| {
            let n = sqlx::query(
                "INSERT INTO qts_outbox (event_id, topic, envelope, created_at) \
                 SELECT event_id, topic, envelope, created_at FROM qts_outbox_dead WHERE seq = $1",
            )
            .bind(seq)
            .execute(&mut *c)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM qts_outbox_dead WHERE seq = $1")
                .bind(seq)
                .execute(&mut *c)
                .await
                .map(|_| n)
        })?;
        if moved > 0 {
            tx.wrote_outbox();
        }
        tx.commit().await?;
        Ok(moved > 0)
    }

    /// Deletes published rows published before `before`, `batch` rows per statement so no
    /// statement holds locks for long. Pending and dead-lettered rows are never pruned.
    /// Returns how many were deleted.
    pub async fn prune(&self, before: Timestamp, batch: i64) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let n = crate::on_engine!(self.db.pool(), |p| sqlx::query(
                "DELETE FROM qts_outbox WHERE seq IN (SELECT seq FROM qts_outbox \
                 WHERE published_at IS NOT NULL AND published_at < $1 ORDER BY seq LIMIT $2)"
            )
            .bind(before)
            .bind(batch)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
            total += n;
            if n < u64::try_from(batch).unwrap_or(0) || n == 0 {
                return Ok(total);
            }
        }
    }
}
