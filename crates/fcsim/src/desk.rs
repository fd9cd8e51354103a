//! The trading desk: the broker on its own thread, fed commands over a channel, persisting
//! through the store.
//!
//! HTTP handlers parse and check a request on the runtime, then send the desk a
//! [`Command`] (or a read-only closure) and await the answer. The desk takes whatever is
//! queued (group commit), applies the commands one after the other, appends their journal
//! records in one write (plus `fdatasync` with `journal_fsync`), and only then answers and
//! publishes their stream notices. Queries run between batches, so they only ever see
//! durable state. If the write fails, every command of the batch answers "not saved" and
//! the broker is rebuilt from disk (snapshot and journal), so an order is either
//! acknowledged and durable or not applied at all.
//!
//! Nothing here blocks a runtime worker: a save costs the size of the change (one journal
//! record), and the snapshot that folds the journal is written at start-up, at a clean stop
//! and when the journal passes `snapshot_journal_bytes`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use market::{MarketRules, TradingCalendar};
use matching::{Engine, EngineConfig};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::broker::{Applied, Broker, BrokerError, Command, NoticeLog, Outcome, Parts};
use crate::clock::Clock;
use crate::live::LiveDays;
use crate::store::{Loaded, MarketKey, SnapshotRef, Store, StoreError};
use crate::tape::Generator;

/// With a data directory, a tick is journaled at least this often (wall time) even when
/// nothing changed, so a crashed simulator's clock resumes close to where it was.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);
/// Most commands applied between two journal writes.
const MAX_BATCH: usize = 512;
/// Commands waiting for the desk before senders wait too.
const QUEUE: usize = 4096;

/// One journal record: a command and the instant it was applied at, with the notifyID
/// counter after it (replay checks it).
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    cmd: Command,
    notify: i64,
}

/// Why the desk did not answer with the broker's verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DeskError {
    /// The broker refused the command.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The change could not be made durable: it was not applied.
    #[error("not saved: {0}")]
    NotSaved(String),
    /// The trading state cannot be used (stopped, or the store is broken).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

type Reader = Box<dyn FnOnce(&Broker) + Send>;

enum Job {
    Apply {
        cmd: Command,
        reply: oneshot::Sender<Result<Outcome, DeskError>>,
    },
    Read(Reader),
    Snapshot(oneshot::Sender<Result<(), DeskError>>),
    Stop(oneshot::Sender<Result<(), DeskError>>),
    #[cfg(test)]
    FailHook(oneshot::Sender<Option<Arc<std::sync::atomic::AtomicBool>>>),
}

/// What the broker is rebuilt from after a failed write.
struct Rebuild {
    /// The journal file (for error messages).
    journal: PathBuf,
    generator: Arc<Generator>,
    live: Arc<LiveDays>,
    log: Arc<NoticeLog>,
    rules: MarketRules,
    calendar: TradingCalendar,
    retention_days: u32,
    cash_advance_fee_ppm_per_day: u32,
}

impl Rebuild {
    fn parts(&self) -> Parts {
        Parts {
            generator: self.generator.clone(),
            live: self.live.clone(),
            log: self.log.clone(),
            retention_days: self.retention_days,
            cash_advance_fee_ppm_per_day: self.cash_advance_fee_ppm_per_day,
        }
    }

    /// The broker of `loaded`: its snapshot (or a fresh engine), then its journal records
    /// replayed. Returns the broker and the instant of the last change.
    fn restore(&self, loaded: Loaded) -> Result<(Broker, Option<OffsetDateTime>), StoreError> {
        let journal = &self.journal;
        let (engine, state, mut at) = match loaded.snapshot {
            Some(s) => (
                Engine::from_state(self.rules.clone(), self.calendar.clone(), s.engine),
                Some(s.broker),
                Some(s.saved_at),
            ),
            None => (
                Engine::new(
                    self.rules.clone(),
                    self.calendar.clone(),
                    EngineConfig {
                        roll_reference: false,
                        ..EngineConfig::default()
                    },
                ),
                None,
                None,
            ),
        };
        let mut broker = Broker::new(engine, self.parts(), state);
        for record in loaded.records {
            let bad = |reason: String| StoreError::Replay {
                path: journal.to_owned(),
                seq: record.seq,
                reason,
            };
            let entry: Entry = serde_json::from_slice(&record.payload)
                .map_err(|e| bad(format!("not a record this simulator reads ({e})")))?;
            let mut cmd = entry.cmd;
            let Applied { .. } = broker.apply(entry.at, &mut cmd, true);
            if broker.next_notify() != entry.notify {
                return Err(bad(format!(
                    "replaying it gives notifyID {} where it gave {}: the engine behaves differently from the simulator that wrote it (upgrade only after a clean stop, which folds the journal into the snapshot)",
                    broker.next_notify(),
                    entry.notify
                )));
            }
            at = Some(entry.at);
        }
        broker.publish();
        Ok((broker, at))
    }
}

/// What a desk starts from.
pub(crate) struct Start {
    pub(crate) generator: Arc<Generator>,
    pub(crate) live: Arc<LiveDays>,
    pub(crate) rules: MarketRules,
    pub(crate) calendar: TradingCalendar,
    pub(crate) retention_days: u32,
    pub(crate) cash_advance_fee_ppm_per_day: u32,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) market: MarketKey,
    pub(crate) journal_fsync: bool,
    pub(crate) snapshot_journal_bytes: u64,
}

/// A broker restored (or fresh) and not running yet: open accounts on it, then
/// [`Opened::spawn`] it.
pub(crate) struct Opened {
    pub(crate) broker: Broker,
    store: Option<Store>,
    rebuild: Rebuild,
    /// The simulated instant of the last durable change (`None`: a fresh start).
    pub(crate) resumed_at: Option<OffsetDateTime>,
    snapshot_journal_bytes: u64,
}

impl Opened {
    /// Restores the broker of `start.data_dir` (snapshot, then journal), or a fresh one.
    pub(crate) fn open(start: Start) -> Result<Self, StoreError> {
        let rebuild = Rebuild {
            journal: start
                .data_dir
                .as_ref()
                .map(|d| d.join(crate::store::JOURNAL_FILE))
                .unwrap_or_default(),
            generator: start.generator,
            live: start.live,
            log: Arc::new(NoticeLog::default()),
            rules: start.rules,
            calendar: start.calendar,
            retention_days: start.retention_days,
            cash_advance_fee_ppm_per_day: start.cash_advance_fee_ppm_per_day,
        };
        let (store, loaded) = match &start.data_dir {
            Some(dir) => {
                let (store, loaded) = Store::open(dir, start.market, start.journal_fsync)?;
                (Some(store), loaded)
            }
            None => (
                None,
                Loaded {
                    snapshot: None,
                    records: Vec::new(),
                },
            ),
        };
        let (broker, resumed_at) = rebuild.restore(loaded)?;
        Ok(Self {
            broker,
            store,
            rebuild,
            resumed_at,
            snapshot_journal_bytes: start.snapshot_journal_bytes,
        })
    }

    /// Writes a snapshot of the opened state (folding the journal in) and starts the
    /// desk's thread; the simulated clock is `clock`.
    pub(crate) fn spawn(self, clock: Clock) -> Result<Desk, StoreError> {
        let log = self.rebuild.log.clone();
        let mut worker = Worker {
            broker: self.broker,
            store: self.store,
            rebuild: self.rebuild,
            clock,
            last_at: clock.now(),
            last_record: Instant::now(),
            poisoned: None,
            snapshot_journal_bytes: self.snapshot_journal_bytes,
        };
        worker.broker.publish();
        worker.snapshot()?;
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("fcsim-desk".to_owned())
            .spawn(move || worker.run(rx))
            .map_err(|error| StoreError::Dir {
                path: PathBuf::from("<desk thread>"),
                error,
            })?;
        Ok(Desk { tx, log })
    }
}

/// The handle of the desk's thread. Dropping every handle stops it (with a snapshot).
#[derive(Debug)]
pub(crate) struct Desk {
    tx: mpsc::Sender<Job>,
    log: Arc<NoticeLog>,
}

fn gone() -> DeskError {
    DeskError::Unavailable("the simulator's trading desk has stopped".to_owned())
}

impl Desk {
    /// The published stream notices.
    pub(crate) fn log(&self) -> &Arc<NoticeLog> {
        &self.log
    }

    /// Applies `cmd` now and answers once it is durable.
    pub(crate) async fn apply(&self, cmd: Command) -> Result<Outcome, DeskError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Apply { cmd, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Runs `f` over the broker between two batches (durable state only).
    pub(crate) async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Broker) -> R + Send + 'static,
    ) -> Result<R, DeskError> {
        let (reply, answer) = oneshot::channel();
        let job: Reader = Box::new(move |b: &Broker| {
            let _ = reply.send(f(b));
        });
        self.tx.send(Job::Read(job)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }

    /// Writes a snapshot now (folding the journal in).
    pub(crate) async fn snapshot(&self) -> Result<(), DeskError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Snapshot(reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Moves the broker to now, writes a final snapshot, releases the data directory and
    /// stops the thread. Later calls answer [`DeskError::Unavailable`].
    pub(crate) async fn stop(&self) -> Result<(), DeskError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job::Stop(reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Test hook: journal writes fail while the flag is set (`None` without a store).
    #[cfg(test)]
    pub(crate) async fn fail_writes(&self) -> Option<Arc<std::sync::atomic::AtomicBool>> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job::FailHook(reply)).await.ok()?;
        answer.await.ok().flatten()
    }
}

/// Where a command's answer goes, and what it will be once the batch is durable.
type Waiting = (
    oneshot::Sender<Result<Outcome, DeskError>>,
    Result<Outcome, BrokerError>,
);

#[derive(Default)]
struct Batch {
    records: Vec<Vec<u8>>,
    replies: Vec<Waiting>,
    /// A record could not be encoded: the batch is not durable.
    broken: Option<String>,
}

struct Worker {
    broker: Broker,
    store: Option<Store>,
    rebuild: Rebuild,
    clock: Clock,
    /// Commands are stamped with non-decreasing instants.
    last_at: OffsetDateTime,
    /// Wall time of the last journal record.
    last_record: Instant,
    /// Why the trading state is unusable (a failed write that could not be rolled back).
    poisoned: Option<String>,
    snapshot_journal_bytes: u64,
}

impl Worker {
    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.blocking_recv() {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let mut batch = Batch::default();
            for job in jobs {
                match job {
                    Job::Apply { cmd, reply } => self.apply(cmd, reply, &mut batch),
                    Job::Read(f) => {
                        self.flush(&mut batch);
                        f(&self.broker);
                    }
                    Job::Snapshot(reply) => {
                        self.flush(&mut batch);
                        let _ = reply.send(
                            self.snapshot()
                                .map_err(|e| DeskError::NotSaved(e.to_string())),
                        );
                    }
                    Job::Stop(reply) => {
                        self.flush(&mut batch);
                        let _ = reply.send(self.stop());
                        return;
                    }
                    #[cfg(test)]
                    Job::FailHook(reply) => {
                        let _ = reply.send(self.store.as_ref().map(Store::fail_writes));
                    }
                }
            }
            self.flush(&mut batch);
        }
        // Every handle is gone without a stop: save as a stop would.
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, "fcsim: trading state not saved at shutdown");
        }
    }

    fn stop(&mut self) -> Result<(), DeskError> {
        if let Some(why) = &self.poisoned {
            self.store = None;
            return Err(DeskError::Unavailable(why.clone()));
        }
        let mut batch = Batch::default();
        let (reply, _) = oneshot::channel();
        self.apply(
            Command::Tick {
                requote: false,
                prune_before: None,
            },
            reply,
            &mut batch,
        );
        self.flush(&mut batch);
        let saved = self
            .snapshot()
            .map_err(|e| DeskError::NotSaved(e.to_string()));
        // Releases the lock.
        self.store = None;
        self.poisoned = Some("the simulator has stopped".to_owned());
        saved
    }

    fn apply(
        &mut self,
        mut cmd: Command,
        reply: oneshot::Sender<Result<Outcome, DeskError>>,
        batch: &mut Batch,
    ) {
        if let Some(why) = &self.poisoned {
            let _ = reply.send(Err(DeskError::Unavailable(why.clone())));
            return;
        }
        let at = self.clock.now().max(self.last_at);
        self.last_at = at;
        let tick = matches!(cmd, Command::Tick { .. });
        let applied = self.broker.apply(at, &mut cmd, false);
        let checkpoint = tick && self.last_record.elapsed() >= CHECKPOINT_EVERY;
        if self.store.is_some() && (applied.changed || checkpoint) {
            let entry = Entry {
                at,
                cmd,
                notify: self.broker.next_notify(),
            };
            match serde_json::to_vec(&entry) {
                Ok(bytes) => batch.records.push(bytes),
                Err(e) => batch.broken = Some(format!("cannot encode a journal record: {e}")),
            }
        }
        batch.replies.push((reply, applied.result));
    }

    /// Makes the batch durable, then answers and publishes; on failure answers "not
    /// saved" and rolls the broker back to what is on disk.
    fn flush(&mut self, batch: &mut Batch) {
        let batch = std::mem::take(batch);
        if batch.replies.is_empty() && batch.records.is_empty() {
            return;
        }
        let written = match (&mut self.store, batch.broken) {
            (_, Some(why)) => Err(why),
            (Some(store), None) if !batch.records.is_empty() => {
                store.append(&batch.records).map_err(|e| {
                    if matches!(e, StoreError::JournalStuck { .. }) {
                        self.poisoned = Some(e.to_string());
                    }
                    e.to_string()
                })
            }
            (Some(_) | None, None) => Ok(()),
        };
        match written {
            Ok(()) => {
                if !batch.records.is_empty() {
                    self.last_record = Instant::now();
                }
                self.broker.publish();
                for (reply, result) in batch.replies {
                    let _ = reply.send(result.map_err(DeskError::from));
                }
                let big = self
                    .store
                    .as_ref()
                    .is_some_and(|s| s.journal_bytes() >= self.snapshot_journal_bytes);
                if big && let Err(e) = self.snapshot() {
                    tracing::error!(error = %e, "fcsim: snapshot not written; the journal keeps growing");
                }
            }
            Err(why) => {
                tracing::error!(error = %why, "fcsim: trading state not saved; the requests are not acknowledged and not applied");
                for (reply, _) in batch.replies {
                    let _ = reply.send(Err(DeskError::NotSaved(why.clone())));
                }
                self.roll_back();
            }
        }
    }

    /// Rebuilds the broker from disk after a failed write.
    fn roll_back(&mut self) {
        let Some(store) = &self.store else {
            return;
        };
        let restored = store
            .reload()
            .and_then(|loaded| self.rebuild.restore(loaded));
        match restored {
            Ok((broker, _)) => {
                self.broker = broker;
                tracing::warn!("fcsim: trading state rolled back to what is on disk");
            }
            Err(e) => {
                let why = format!("the trading state could not be rolled back: {e}");
                tracing::error!(error = %why, "fcsim: trading state unusable until restart");
                self.poisoned = Some(why);
            }
        }
    }

    /// Writes a snapshot holding every journal record (a no-op without a store).
    fn snapshot(&mut self) -> Result<(), StoreError> {
        let Some(store) = &mut self.store else {
            return Ok(());
        };
        let saved_at = self.broker.synced().unwrap_or(self.last_at);
        let broker = &self.broker;
        let seq = store.seq();
        let market = store.market().clone();
        let log = broker.log().clone();
        log.with(|notices| {
            store.snapshot(&SnapshotRef {
                format: crate::store::format(),
                market: &market,
                saved_at,
                journal_seq: seq,
                engine: broker.engine.state(),
                broker: broker.state_ref(notices),
            })
        })
    }
}
