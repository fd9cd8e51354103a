//! The trading stream's published notices: what the hub sends, indexed by `notifyID`.
//!
//! The broker numbers notices 1, 2, 3… and hands them over only once the change that made
//! them is durable ([`NoticeLog::publish`]); hub connections read them here without going
//! through the broker. Ids are contiguous, so a cursor is found by arithmetic, and the
//! first notice of a day by binary search: replay never scans from the start. Old days
//! are dropped by the retention rule ([`NoticeLog::prune_before`]).

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use time::Date;
use tokio::sync::watch;

/// One message of the trading stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Notice {
    pub(crate) id: i64,
    pub(crate) date: Date,
    pub(crate) consumer: Arc<str>,
    /// The `Broadcast` argument: `{"type":..,"data":..}` as a JSON string.
    pub(crate) payload: Arc<str>,
}

/// Published notices, shared by the broker (writer) and hub connections (readers).
#[derive(Debug)]
pub(crate) struct NoticeLog {
    notices: RwLock<VecDeque<Notice>>,
    /// The newest published notifyID.
    latest: watch::Sender<i64>,
}

impl Default for NoticeLog {
    fn default() -> Self {
        Self {
            notices: RwLock::new(VecDeque::new()),
            latest: watch::channel(0).0,
        }
    }
}

impl NoticeLog {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, VecDeque<Notice>> {
        self.notices
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, VecDeque<Notice>> {
        self.notices
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces everything (start-up and roll-back): `notices` and the newest id ever
    /// handed out (notices may have been pruned).
    pub(crate) fn reset(&self, notices: VecDeque<Notice>, latest: i64) {
        *self.write() = notices;
        self.latest.send_replace(latest);
    }

    /// Publishes `fresh` (ids following the newest) and wakes the hub connections.
    pub(crate) fn publish(&self, fresh: Vec<Notice>) {
        let Some(last) = fresh.last().map(|n| n.id) else {
            return;
        };
        self.write().extend(fresh);
        self.latest.send_replace(last);
    }

    /// The newest published notifyID (0 before the first).
    pub(crate) fn latest(&self) -> i64 {
        *self.latest.borrow()
    }

    /// A receiver woken at each publication.
    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    /// At most `limit` payloads for `consumer` after notifyID `after` (`None`: every notice
    /// of `today`), and the id of the last notice looked at (the next cursor).
    pub(crate) fn after(
        &self,
        consumer: &str,
        after: Option<i64>,
        today: Date,
        limit: usize,
    ) -> (Vec<Arc<str>>, Option<i64>) {
        let log = self.read();
        let start = match (after, log.front()) {
            (_, None) => return (Vec::new(), after),
            (Some(n), Some(first)) => usize::try_from(n.saturating_add(1) - first.id).unwrap_or(0),
            (None, Some(_)) => log.partition_point(|m| m.date < today),
        };
        let mut last = after;
        let mut out = Vec::new();
        for m in log.range(start.min(log.len())..) {
            if out.len() == limit {
                break;
            }
            last = Some(m.id);
            if &*m.consumer == consumer && (after.is_some() || m.date == today) {
                out.push(m.payload.clone());
            }
        }
        (out, last)
    }

    /// Drops the notices of days before `date`; returns how many.
    pub(crate) fn prune_before(&self, date: Date) -> usize {
        let mut log = self.write();
        let n = log.partition_point(|m| m.date < date);
        log.drain(..n);
        n
    }

    /// Runs `f` over the published notices (snapshots).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&VecDeque<Notice>) -> R) -> R {
        f(&self.read())
    }

    /// Number of notices held.
    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn notice(id: i64, date: Date, consumer: &str) -> Notice {
        Notice {
            id,
            date,
            consumer: consumer.into(),
            payload: format!("{{\"n\":{id}}}").into(),
        }
    }

    #[test]
    fn a_cursor_is_found_by_id_and_a_day_by_date() {
        let log = NoticeLog::default();
        let (d1, d2) = (date!(2025 - 06 - 09), date!(2025 - 06 - 10));
        log.publish(vec![
            notice(1, d1, "a"),
            notice(2, d1, "b"),
            notice(3, d2, "a"),
            notice(4, d2, "a"),
        ]);
        assert_eq!(log.latest(), 4);
        let (today, last) = log.after("a", None, d2, 100);
        assert_eq!(today.len(), 2);
        assert_eq!(last, Some(4));
        let (after_one, _) = log.after("a", Some(1), d2, 100);
        assert_eq!(&*after_one[0], "{\"n\":3}");
        let (nothing, last) = log.after("a", Some(4), d2, 100);
        assert!(nothing.is_empty());
        assert_eq!(last, Some(4));
        // Another consumer's notices are never handed out.
        let (b, _) = log.after("b", Some(0), d2, 100);
        // A limit stops at the last notice handed out; the rest follows from there.
        let (first, cursor) = log.after("a", Some(0), d2, 1);
        assert_eq!((first.len(), cursor), (1, Some(1)));
        let (rest, _) = log.after("a", cursor, d2, 100);
        assert_eq!(rest.len(), 2);
        assert_eq!(b.len(), 1);
        assert_eq!(log.prune_before(d2), 2);
        assert_eq!(log.len(), 2);
        // After pruning, a cursor from before the oldest kept notice gets what is kept.
        let (kept, _) = log.after("a", Some(1), d2, 100);
        assert_eq!(kept.len(), 2);
        assert_eq!(log.latest(), 4);
    }
}
