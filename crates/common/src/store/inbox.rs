//! The inbox: which events each consumer has handled, so a redelivered event is handled once.

use uuid::Uuid;

use super::{Db, Error, Timestamp, Tx};

/// Which events a consumer has handled (`qts_inbox`).
#[derive(Debug, Clone, Copy)]
pub struct Inbox;

impl Inbox {
    /// Records that `consumer` handles `event_id` inside the caller's transaction. Returns
    /// `false` when it was handled before: the caller then skips the work and commits the
    /// offset. A rolled-back transaction records nothing.
    pub async fn first_time(tx: &mut Tx, consumer: &str, event_id: &Uuid) -> Result<bool, Error> {
        let now = Timestamp::now();
        let inserted = crate::on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO qts_inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, event_id) DO NOTHING"
        )
        .bind(consumer)
        .bind(event_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Deletes records of events handled before `before`, `batch` rows per statement. Returns
    /// how many were deleted.
    pub async fn prune(db: &Db, before: Timestamp, batch: i64) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let n = crate::on_engine!(db.pool(), |p| {
                sqlx::query(
                "DELETE FROM qts_inbox WHERE (consumer, event_id) IN (SELECT consumer, event_id \
                 FROM qts_inbox WHERE processed_at < $1 LIMIT $2)"
            )
            .bind(before)
            .bind(batch)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            })?;
            total += n;
            if n == 0 || n < u64::try_from(batch).unwrap_or(0) {
                return Ok(total);
            }
        }
    }
}
