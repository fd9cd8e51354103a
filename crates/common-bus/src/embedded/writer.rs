//! The writer thread: the only place the persisted bus writes files, so no async worker ever
//! blocks on the disk and no lock that publishers and consumers share is held while writing.
//!
//! Publishers send jobs over a channel and await a oneshot answer; commits are queued
//! without waiting. The thread
//! takes every job waiting at once (a batch), writes each partition's records with one
//! `write` call and each group's commits with another, then makes the records visible to
//! consumers, wakes the subscribers of the topics that changed and answers. With a zero
//! fsync interval it fsyncs the batch's files before answering (group commit); otherwise a
//! second thread, the syncer, fsyncs written files on the interval. Retention runs here too.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::TopicState;
use super::disk::{DiskLog, DiskOptions, GroupLog, SyncFile, copy_error};
use crate::Error;

/// How often age retention is checked when the bus is idle or busy.
const HOUSEKEEPING: Duration = Duration::from_secs(1);
/// Most jobs handled in one batch.
const MAX_BATCH: usize = 8192;

/// The answer to a job.
pub(super) type Done = oneshot::Sender<io::Result<()>>;

/// Work for the writer thread.
pub(super) enum Job {
    /// A partition was opened; its appends come with `id`.
    Register {
        id: usize,
        log: DiskLog,
        topic: Arc<TopicState>,
        partition: usize,
    },
    /// Store an envelope (already encoded) at `offset`.
    Append {
        id: usize,
        offset: i64,
        body: Bytes,
        done: Done,
    },
    /// Store a group's committed offset (the next offset it will consume). Nobody waits for
    /// it: the commit already holds in memory, and losing its record in a crash only means
    /// events are delivered again.
    Commit {
        group: String,
        topic: String,
        partition: i32,
        next: i64,
    },
}

/// The handle the bus keeps: dropping it stops the thread once every job sent is done, after
/// a final fsync.
pub(super) struct WriterHandle {
    tx: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl WriterHandle {
    /// Starts the writer (and, with a non-zero fsync interval, the syncer) for the bus at `root`.
    pub(super) fn start(root: PathBuf, opts: DiskOptions) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let syncer = if opts.fsync_interval.is_zero() {
            None
        } else {
            let (stx, srx) = mpsc::channel();
            let interval = opts.fsync_interval;
            let thread = std::thread::Builder::new()
                .name("qts-bus-sync".into())
                .spawn(move || sync_loop(&srx, interval))?;
            Some((stx, thread))
        };
        let writer = Writer {
            rx,
            groups_dir: root.join("groups"),
            logs: HashMap::new(),
            groups: HashMap::new(),
            syncer,
            last_housekeeping: Instant::now(),
        };
        let thread = std::thread::Builder::new()
            .name("qts-bus-writer".into())
            .spawn(move || writer.run())?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues a job.
    pub(super) fn send(&self, job: Job) -> Result<(), Error> {
        self.tx
            .as_ref()
            .and_then(|tx| tx.send(job).ok())
            .ok_or_else(|| Error::Task("the bus writer has stopped".to_owned()))
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the bus writer thread panicked");
        }
    }
}

struct Registered {
    log: DiskLog,
    topic: Arc<TopicState>,
    partition: usize,
}

struct Writer {
    rx: Receiver<Job>,
    groups_dir: PathBuf,
    logs: HashMap<usize, Registered>,
    groups: HashMap<String, GroupLog>,
    syncer: Option<(Sender<Arc<SyncFile>>, JoinHandle<()>)>,
    last_housekeeping: Instant,
}

/// One partition's appends of a batch, in offset order.
type Appends = Vec<(i64, Bytes, Done)>;

impl Writer {
    fn run(mut self) {
        loop {
            let first = match self.rx.recv_timeout(HOUSEKEEPING) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    self.housekeeping();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.process(batch);
            if self.last_housekeeping.elapsed() >= HOUSEKEEPING {
                self.housekeeping();
            }
        }
        self.shut_down();
    }

    fn process(&mut self, batch: Vec<Job>) {
        let mut order: Vec<usize> = Vec::new();
        let mut appends: HashMap<usize, Appends> = HashMap::new();
        let mut commits: Vec<(String, String, i32, i64)> = Vec::new();
        for job in batch {
            match job {
                Job::Register {
                    id,
                    log,
                    topic,
                    partition,
                } => {
                    self.logs.insert(
                        id,
                        Registered {
                            log,
                            topic,
                            partition,
                        },
                    );
                }
                Job::Append {
                    id,
                    offset,
                    body,
                    done,
                } => appends
                    .entry(id)
                    .or_insert_with(|| {
                        order.push(id);
                        Vec::new()
                    })
                    .push((offset, body, done)),
                Job::Commit {
                    group,
                    topic,
                    partition,
                    next,
                } => commits.push((group, topic, partition, next)),
            }
        }

        // Write.
        let mut written: Vec<Arc<SyncFile>> = Vec::new();
        let mut outcomes: Vec<(usize, Appends, io::Result<()>)> = Vec::new();
        for id in order {
            let jobs = appends.remove(&id).unwrap_or_default();
            let Some(reg) = self.logs.get_mut(&id) else {
                let e = io::Error::other(format!("bus partition {id} was never opened"));
                outcomes.push((id, jobs, Err(e)));
                continue;
            };
            let mut result = Ok(());
            for (offset, body, _) in &jobs {
                result = reg.log.push(*offset, body);
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                result = reg.log.flush();
            }
            written.extend(reg.log.take_written());
            outcomes.push((id, jobs, result));
        }
        let mut by_group: HashMap<String, Vec<(String, i32, i64)>> = HashMap::new();
        for (group, topic, partition, next) in commits {
            by_group
                .entry(group)
                .or_default()
                .push((topic, partition, next));
        }
        for (group, commits) in by_group {
            if let Err(e) = self.write_commits(&group, &commits) {
                tracing::error!(group = %group, error = %common_error::chain(&e),
                    "cannot store committed offsets; after a restart the group sees some events again");
            }
            if let Some(log) = self.groups.get_mut(&group) {
                written.extend(log.take_written());
            }
        }

        // Size retention of the partitions that grew.
        let now = SystemTime::now();
        for (id, _, _) in &outcomes {
            if let Some(reg) = self.logs.get_mut(id) {
                reg.log.enforce_retention(now);
            }
        }

        // Make durable: now (group commit) or by the syncer.
        let mut sync_error: Option<io::Error> = None;
        match &self.syncer {
            None => {
                for file in &written {
                    if let Err(e) = file.sync() {
                        sync_error.get_or_insert(e);
                    }
                }
            }
            Some((tx, _)) => {
                for file in written {
                    // The syncer only stops after this thread; a send cannot fail before.
                    let _ = tx.send(file);
                }
            }
        }

        // Publish: make the records visible, wake the topic's subscribers, answer.
        for (id, jobs, result) in outcomes {
            let result = match (&result, &sync_error) {
                (Ok(()), Some(e)) => Err(copy_error(e)),
                _ => result,
            };
            if let Some(reg) = self.logs.get(&id)
                && let Some(last) = jobs.last().map(|j| j.0)
                && let Some(partition) = reg.topic.partitions.get(reg.partition)
            {
                let mut mem = super::lock(&partition.mem);
                if result.is_err() {
                    for (offset, _, _) in &jobs {
                        mem.tombstone(*offset);
                    }
                }
                mem.visible = mem.visible.max(last + 1);
                drop(mem);
                reg.topic.wake();
            }
            if let Err(e) = &result {
                tracing::error!(error = %common_error::chain(&e), events = jobs.len(), "bus write failed");
            }
            for (_, _, done) in jobs {
                let answer = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(copy_error(e)),
                };
                let _ = done.send(answer);
            }
        }
    }

    fn write_commits(&mut self, group: &str, commits: &[(String, i32, i64)]) -> io::Result<()> {
        if !self.groups.contains_key(group) {
            let log = GroupLog::open(&self.groups_dir, group)?;
            self.groups.insert(group.to_owned(), log);
        }
        match self.groups.get_mut(group) {
            Some(log) => log.append(commits),
            None => Err(io::Error::other("commit log vanished")),
        }
    }

    /// Age (and size) retention of every partition.
    fn housekeeping(&mut self) {
        self.last_housekeeping = Instant::now();
        let now = SystemTime::now();
        for reg in self.logs.values_mut() {
            reg.log.enforce_retention(now);
        }
    }

    /// Last fsync of everything written, then the syncer stops.
    fn shut_down(&mut self) {
        for reg in self.logs.values() {
            if let Err(e) = reg.log.active_file().sync() {
                tracing::error!(error = %common_error::chain(&e), "final fsync of the bus log failed");
            }
        }
        for log in self.groups.values() {
            if let Err(e) = log.file().sync() {
                tracing::error!(error = %common_error::chain(&e), "final fsync of a commit log failed");
            }
        }
        if let Some((tx, thread)) = self.syncer.take() {
            drop(tx);
            if thread.join().is_err() {
                tracing::error!("the bus syncer thread panicked");
            }
        }
    }
}

/// The syncer: fsyncs every file written during the last interval, once per interval.
fn sync_loop(rx: &Receiver<Arc<SyncFile>>, interval: Duration) {
    let mut pending: Vec<Arc<SyncFile>> = Vec::new();
    let mut due = Instant::now() + interval;
    loop {
        match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
            Ok(file) => {
                pending.push(file);
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                sync_all(&mut pending);
                return;
            }
        }
        sync_all(&mut pending);
        due = Instant::now() + interval;
    }
}

fn sync_all(pending: &mut Vec<Arc<SyncFile>>) {
    for file in pending.drain(..) {
        if let Err(e) = file.sync() {
            // Already acknowledged: all that is left is to say so loudly.
            tracing::error!(error = %common_error::chain(&e), "fsync of the bus log failed; a power cut could lose recent events");
        }
    }
}
