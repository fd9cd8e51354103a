//! The in-process bus used by `qts up`: Kafka's semantics without a broker.
//!
//! Each partition keeps its newest `retention_per_partition` records in memory, a cache that
//! consumers keeping up read from. In memory only ([`EmbeddedBus::in_memory`]) that window is
//! all there is: a consumer group below it resumes at its start, with a warning. Persisted, a
//! group below the window reads the retained segment files instead (see *Lagging consumers*);
//! only what retention deleted from disk is skipped. A group committed beyond the end (the log
//! lost its tail) resumes at the end.
//!
//! # Persistence
//!
//! With a directory ([`EmbeddedBus::persistent`], [`EmbeddedBus::open`]) every record is also
//! appended to a segment file of its partition, and committed offsets to the group's commit
//! log; the on-disk format is described in `embedded/disk.rs`. The directory is locked
//! (`bus.lock`, an OS advisory lock holding the owner's pid): a second bus on the same
//! directory, in this process or another, fails with [`Error::Locked`] naming the directory and
//! the pid.
//!
//! - **No blocking on async workers.** One writer thread does all file I/O. `publish` assigns
//!   the offset under its partition's lock (so appends to a partition stay ordered and offsets
//!   unique), queues the record and awaits the writer; concurrent publishes are written in one
//!   batch. A record becomes visible to consumers once it is written, so a consumer never
//!   commits an offset that a crash could take back. Only the subscribers of the topic that
//!   changed are woken.
//! - **Durability.** `publish` returns once the event is written to the OS: a process crash
//!   loses nothing. Files are fsynced [`DiskOptions::fsync_interval`] later at most (default
//!   1 s, like Redis' `appendfsync everysec`), so a power cut can lose that much; a zero
//!   interval fsyncs each batch before answering. A commit holds in memory at once and is
//!   queued for the writer without waiting (committing every event stays cheap); a crash
//!   before the writer's next batch loses it, which only delivers those events again.
//! - **Segments and retention.** A partition's active segment is closed at
//!   [`DiskOptions::segment_bytes`]; closed segments are deleted whole, oldest first, while the
//!   partition holds more than [`DiskOptions::retention_bytes`] or once older than
//!   [`DiskOptions::retention`]. A restart reads only the retained segments, newest first, until
//!   the in-memory window is full; the older ones stay on disk for lagging consumers. Offsets
//!   continue across restarts and deletions: each record stores its offset and each segment is
//!   named by its first.
//! - **Lagging consumers.** Whatever is retained on disk is delivered (at least once) to every
//!   group that has not committed it. A member whose position is below the in-memory window
//!   reads the partition's segment files in offset order, in batches of at most 1,024 records
//!   or 1 MiB of encoded events (one batch per assigned partition held at a time), on a
//!   blocking thread with no lock held, each batch going on where the last stopped (it reads
//!   the segment files itself: the writer is never involved); it reads only what is already
//!   written, then joins the window without a gap or a duplicate. A position below the oldest
//!   retained record, or inside a segment that retention deleted meanwhile, skips to the
//!   oldest retained record with a warning (at most every 10 s). Records missing from the
//!   segments (quarantined, or whose write failed) are skipped by offset; damaged bytes in a
//!   segment the replay did not scan are logged and skipped the same way, not quarantined.
//! - **Nothing lost on replay.** On start, a record that fails its checksum or does not decode
//!   is reported (path, byte position, offsets), its bytes are moved to
//!   `quarantine/<topic>/<partition>/offset-<n>.damaged`, and the scan resynchronises on the
//!   next valid record, which keeps its offset. Only an incomplete last record of the newest
//!   segment (a crash in the middle of an append) is cut. A length header is checked against
//!   [`MAX_EVENT_BYTES`] and the rest of the file before anything is read.
//! - **Older logs.** A `topics/<topic>/<partition>.log` written before segments existed is
//!   migrated into segments on first open (offsets kept), and a `groups/<group>.json` of
//!   committed offsets into the group's commit log.
//!
//! Group membership is rebalanced eagerly as in Kafka: when a member joins or leaves, every
//! member restarts its partitions from the group's committed offsets.

mod disk;
mod writer;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{Notify, oneshot};

pub use disk::{DiskOptions, MAX_EVENT_BYTES};

use super::{
    BatchError, Delivery, Envelope, Error, EventBus, GroupOffsets, Offsets, Position, Subscription,
    TopicSpec, partition_for,
};
use writer::{Job, WriterHandle};

/// The in-process bus. Cheap to clone; clones share the same topics and groups.
#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

struct Inner {
    /// Topics and groups: held briefly, never across I/O or an await.
    state: Mutex<State>,
    /// Records kept in memory per partition (persisted buses read older ones from disk).
    window: usize,
    /// Files, when persisted.
    disk: Option<Disk>,
    /// Serialises topic creation, which opens files outside `state`.
    creating: tokio::sync::Mutex<()>,
}

struct Disk {
    dir: PathBuf,
    opts: DiskOptions,
    /// Dropped before `_lock`: the writer finishes (and fsyncs) before the directory is free.
    writer: WriterHandle,
    next_id: AtomicUsize,
    _lock: std::fs::File,
}

#[derive(Default)]
struct State {
    topics: HashMap<String, Arc<TopicState>>,
    groups: HashMap<String, GroupState>,
    next_member: u64,
}

/// A topic: its partitions and the subscribers to wake when one of them grows.
struct TopicState {
    spec: TopicSpec,
    partitions: Vec<Partition>,
    round_robin: AtomicU64,
    /// Member id -> its wake-up.
    waiters: Mutex<HashMap<u64, Arc<Notify>>>,
}

impl TopicState {
    fn wake(&self) {
        for notify in lock(&self.waiters).values() {
            notify.notify_one();
        }
    }
}

struct Partition {
    mem: Mutex<Mem>,
    /// The writer's id for this partition's log (persisted buses only).
    disk_id: usize,
}

/// A record in memory.
#[derive(Clone)]
enum Stored {
    /// In-memory buses keep the envelope as published: nothing to encode or decode.
    Decoded(Arc<Envelope>),
    /// Persisted buses keep the encoded envelope they wrote (one buffer, shared with the
    /// writer, less than half the memory of the decoded form), decoded on delivery.
    Encoded(Bytes),
}

/// The in-memory window of a partition.
struct Mem {
    /// Offset of `slots[0]`.
    base: i64,
    /// `None` where a record is missing: quarantined on replay, or its write failed.
    slots: VecDeque<Option<Stored>>,
    /// Offset the next publish gets.
    next: i64,
    /// Records below this offset are stored and may be delivered.
    visible: i64,
}

impl Mem {
    /// A window over replayed records (offset ascending, all below `next`) of at most `window`.
    fn replayed(records: Vec<(i64, Bytes)>, next: i64, window: usize) -> Self {
        let base = records
            .first()
            .map_or(next, |(o, _)| *o)
            .max(next - window as i64);
        let mut slots: VecDeque<Option<Stored>> = VecDeque::new();
        for (offset, body) in records {
            if offset < base {
                continue;
            }
            while base + (slots.len() as i64) < offset {
                slots.push_back(None);
            }
            slots.push_back(Some(Stored::Encoded(body)));
        }
        while base + (slots.len() as i64) < next {
            slots.push_back(None);
        }
        Self {
            base,
            slots,
            next,
            visible: next,
        }
    }

    /// Appends at `self.next`, dropping the oldest record beyond `window`.
    fn push(&mut self, record: Stored, window: usize) -> i64 {
        let offset = self.next;
        self.slots.push_back(Some(record));
        self.next += 1;
        while self.slots.len() > window {
            self.slots.pop_front();
            self.base += 1;
        }
        offset
    }

    fn tombstone(&mut self, offset: i64) {
        if offset >= self.base
            && let Some(slot) = self.slots.get_mut((offset - self.base) as usize)
        {
            *slot = None;
        }
    }
}

struct Member {
    topics: Vec<String>,
    notify: Arc<Notify>,
}

#[derive(Default)]
struct GroupState {
    /// Member id -> what it consumes. Ordered, so assignment is deterministic.
    members: BTreeMap<u64, Member>,
    committed: HashMap<(String, i32), i64>,
    /// Bumped on every join and leave; members compare it without taking `state`.
    generation: Arc<AtomicU64>,
}

impl GroupState {
    /// Partitions of `member`: partition p of a topic goes to the (p mod n)-th member that
    /// consumes that topic.
    fn assignment(
        &self,
        member: u64,
        topics: &HashMap<String, Arc<TopicState>>,
    ) -> Vec<(String, i32)> {
        let mut out = Vec::new();
        let Some(mine) = self.members.get(&member) else {
            return out;
        };
        for topic in &mine.topics {
            let consumers: Vec<u64> = self
                .members
                .iter()
                .filter(|(_, m)| m.topics.contains(topic))
                .map(|(id, _)| *id)
                .collect();
            let Some(rank) = consumers.iter().position(|id| *id == member) else {
                continue;
            };
            let partitions = topics.get(topic).map_or(0, |t| t.partitions.len());
            for p in 0..partitions {
                if p % consumers.len() == rank {
                    out.push((topic.clone(), p as i32));
                }
            }
        }
        out
    }

    /// Whether `partition` of `topic` is assigned to `member` (as [`Self::assignment`] would
    /// say, without building the list: this runs on every commit).
    fn owns(
        &self,
        member: u64,
        topic: &str,
        partition: i32,
        topics: &HashMap<String, Arc<TopicState>>,
    ) -> bool {
        let consumes = |m: &Member| m.topics.iter().any(|t| t == topic);
        if !self.members.get(&member).is_some_and(consumes) {
            return false;
        }
        let count = self.members.values().filter(|m| consumes(m)).count();
        let rank = self
            .members
            .iter()
            .filter(|(_, m)| consumes(m))
            .position(|(id, _)| *id == member)
            .unwrap_or(usize::MAX);
        let partitions = topics.get(topic).map_or(0, |t| t.partitions.len());
        usize::try_from(partition).is_ok_and(|p| p < partitions && p % count.max(1) == rank)
    }

    /// A member joined or left: every member restarts from the committed offsets.
    fn rebalance(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for m in self.members.values() {
            m.notify.notify_one();
        }
    }
}

/// Locks a mutex, recovering it if a thread panicked while holding it: every critical
/// section leaves the state consistent between statements, and stopping the bus would lose
/// more than going on.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl EmbeddedBus {
    /// A bus that keeps everything in memory only.
    pub fn in_memory(retention_per_partition: usize) -> Self {
        Self::build(None, retention_per_partition)
    }

    /// A bus persisted under `dir` with the default [`DiskOptions`].
    pub fn persistent(dir: &Path, retention_per_partition: usize) -> Result<Self, Error> {
        Self::persistent_with(dir, retention_per_partition, DiskOptions::default())
    }

    /// A bus persisted under `dir` (created if missing, then locked); existing logs are
    /// replayed as topics are created.
    pub fn persistent_with(
        dir: &Path,
        retention_per_partition: usize,
        opts: DiskOptions,
    ) -> Result<Self, Error> {
        for sub in ["topics", "groups"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| Error::Storage(disk::at(&path, e)))?;
        }
        let lock = disk::lock_dir(dir)?;
        let writer = WriterHandle::start(dir.to_owned(), opts)
            .map_err(|e| Error::Storage(disk::at(dir, e)))?;
        Ok(Self::build(
            Some(Disk {
                dir: dir.to_owned(),
                opts,
                writer,
                next_id: AtomicUsize::new(0),
                _lock: lock,
            }),
            retention_per_partition,
        ))
    }

    /// The bus `[bus.embedded]` describes: persisted under `{data_dir}/bus` when `persist` is
    /// set, in memory otherwise.
    pub fn open(
        settings: &common_settings::EmbeddedBusSettings,
        data_dir: &Path,
    ) -> Result<Self, Error> {
        if settings.persist {
            Self::persistent_with(
                &data_dir.join("bus"),
                settings.retention_per_partition,
                DiskOptions::from(settings),
            )
        } else {
            Ok(Self::in_memory(settings.retention_per_partition))
        }
    }

    fn build(disk: Option<Disk>, window: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                window: window.max(1),
                disk,
                creating: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    fn topic(&self, name: &str) -> Result<Arc<TopicState>, Error> {
        self.lock()
            .topics
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))
    }

    /// Opens (or, in memory, creates) the partitions of `spec`.
    async fn open_topic(&self, spec: &TopicSpec) -> Result<Arc<TopicState>, Error> {
        let window = self.inner.window;
        let Some(disk) = &self.inner.disk else {
            let partitions = (0..spec.partitions)
                .map(|_| Partition {
                    mem: Mutex::new(Mem::replayed(Vec::new(), 0, window)),
                    disk_id: 0,
                })
                .collect();
            return Ok(Arc::new(TopicState {
                spec: spec.clone(),
                partitions,
                round_robin: AtomicU64::new(0),
                waiters: Mutex::new(HashMap::new()),
            }));
        };
        let (dir, opts, name, count) = (
            disk.dir.clone(),
            disk.opts,
            spec.name.to_string(),
            spec.partitions,
        );
        let opened = tokio::task::spawn_blocking(move || {
            (0..count)
                .map(|p| disk::open_partition(&dir, &name, p, window, opts))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
        .map_err(Error::Storage)?;
        let mut logs = Vec::new();
        let mut partitions = Vec::new();
        for o in opened {
            let id = disk.next_id.fetch_add(1, Ordering::Relaxed);
            partitions.push(Partition {
                mem: Mutex::new(Mem::replayed(o.records, o.next, window)),
                disk_id: id,
            });
            logs.push((id, o.log));
        }
        let topic = Arc::new(TopicState {
            spec: spec.clone(),
            partitions,
            round_robin: AtomicU64::new(0),
            waiters: Mutex::new(HashMap::new()),
        });
        for (p, (id, log)) in logs.into_iter().enumerate() {
            disk.writer.send(Job::Register {
                id,
                log,
                topic: topic.clone(),
                partition: p,
            })?;
        }
        Ok(topic)
    }
}

/// An event queued on the embedded bus: stored already (memory only) or once the writer
/// acknowledges it.
enum Ack {
    Now,
    Writer(oneshot::Receiver<std::io::Result<()>>),
}

impl Ack {
    async fn wait(self) -> Result<(), Error> {
        match self {
            Ack::Now => Ok(()),
            Ack::Writer(answer) => answer
                .await
                .map_err(|_| Error::Task("the bus writer has stopped".to_owned()))?
                .map_err(Error::Storage),
        }
    }
}

impl EmbeddedBus {
    /// Refuses an event whose payload type is not its topic's.
    fn check_payload(&self, topic: &str, envelope: &Envelope) -> Result<Arc<TopicState>, Error> {
        let t = self.topic(topic)?;
        if envelope.event_type != t.spec.payload {
            return Err(Error::WrongPayload {
                topic: topic.to_owned(),
                expected: t.spec.payload.to_string(),
                actual: envelope.event_type.clone(),
            });
        }
        Ok(t)
    }

    /// Gives `envelope` its partition and offset and queues it for the writer, without
    /// waiting: calls in sequence are stored (and delivered) in that sequence.
    fn enqueue(&self, topic: &str, envelope: &Envelope) -> Result<(Position, Ack), Error> {
        let t = self.check_payload(topic, envelope)?;
        let n = t.partitions.len() as i32;
        let partition = if envelope.key.is_empty() {
            let turn = t.round_robin.fetch_add(1, Ordering::Relaxed) + 1;
            (turn % n as u64) as i32
        } else {
            partition_for(envelope.key.as_bytes(), n)
        };
        let part = t
            .partitions
            .get(partition as usize)
            .ok_or_else(|| Error::Task(format!("partition {partition} of {topic} missing")))?;
        let window = self.inner.window;
        let Some(disk) = &self.inner.disk else {
            if envelope.payload.len() > MAX_EVENT_BYTES {
                return Err(too_large(envelope.payload.len()));
            }
            let offset = {
                let mut mem = lock(&part.mem);
                let offset = mem.push(Stored::Decoded(Arc::new(envelope.clone())), window);
                mem.visible = mem.next;
                offset
            };
            t.wake();
            return Ok((Position { partition, offset }, Ack::Now));
        };
        let body = Bytes::from(envelope.to_bytes());
        if body.len() > MAX_EVENT_BYTES {
            return Err(too_large(body.len()));
        }
        let (done, answer) = oneshot::channel();
        let offset = {
            // Offset and queue order are decided together, so the writer appends a
            // partition's records in offset order.
            let mut mem = lock(&part.mem);
            let offset = mem.push(Stored::Encoded(body.clone()), window);
            disk.writer.send(Job::Append {
                id: part.disk_id,
                offset,
                body,
                done,
            })?;
            offset
        };
        Ok((Position { partition, offset }, Ack::Writer(answer)))
    }
}

#[async_trait]
impl EventBus for EmbeddedBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), Error> {
        let _creating = self.inner.creating.lock().await;
        for spec in topics {
            spec.validate()?;
            if let Some(existing) = self.lock().topics.get(spec.name.as_ref()) {
                let n = existing.partitions.len() as i32;
                if n != spec.partitions {
                    return Err(Error::PartitionMismatch {
                        topic: spec.name.to_string(),
                        existing: n,
                        wanted: spec.partitions,
                    });
                }
                continue;
            }
            let topic = self.open_topic(spec).await?;
            self.lock().topics.insert(spec.name.to_string(), topic);
        }
        Ok(())
    }

    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<Position, Error> {
        let (position, stored) = self.enqueue(topic, envelope)?;
        stored.wait().await?;
        Ok(position)
    }

    async fn publish_batch(&self, batch: &[(&str, Envelope)]) -> Result<Vec<Position>, BatchError> {
        // Everything is queued first (offsets and write order fixed in batch order), then the
        // acknowledgements are awaited: one writer round trip for the whole batch.
        let mut queued = Vec::with_capacity(batch.len());
        let mut failed = None;
        for (topic, envelope) in batch {
            match self.enqueue(topic, envelope) {
                Ok(q) => queued.push(q),
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            }
        }
        let mut positions = Vec::with_capacity(queued.len());
        for (position, stored) in queued {
            if let Err(error) = stored.wait().await {
                return Err(BatchError {
                    stored: positions.len(),
                    error,
                });
            }
            positions.push(position);
        }
        match failed {
            Some(error) => Err(BatchError {
                stored: positions.len(),
                error,
            }),
            None => Ok(positions),
        }
    }

    async fn subscribe(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<Box<dyn Subscription>, Error> {
        super::check_group_name(group)?;
        {
            let state = self.lock();
            for t in topics {
                if !state.topics.contains_key(*t) {
                    return Err(Error::UnknownTopic((*t).to_owned()));
                }
            }
        }
        let loaded = match &self.inner.disk {
            Some(disk) if !self.lock().groups.contains_key(group) => {
                let (groups, name) = (disk.dir.join("groups"), group.to_owned());
                let committed =
                    tokio::task::spawn_blocking(move || disk::read_committed(&groups, &name))
                        .await
                        .map_err(|e| Error::Task(e.to_string()))?
                        .map_err(Error::Storage)?;
                Some(committed)
            }
            Some(_) | None => None,
        };
        let notify = Arc::new(Notify::new());
        let mut state = self.lock();
        let mut handles = Vec::new();
        for t in topics {
            let topic = state
                .topics
                .get(*t)
                .cloned()
                .ok_or_else(|| Error::UnknownTopic((*t).to_owned()))?;
            handles.push(topic);
        }
        state.next_member += 1;
        let member = state.next_member;
        let g = state
            .groups
            .entry(group.to_owned())
            .or_insert_with(|| GroupState {
                committed: loaded.unwrap_or_default(),
                ..GroupState::default()
            });
        g.members.insert(
            member,
            Member {
                topics: topics.iter().map(|t| (*t).to_owned()).collect(),
                notify: notify.clone(),
            },
        );
        g.rebalance();
        let generation = g.generation.clone();
        drop(state);
        for topic in &handles {
            lock(&topic.waiters).insert(member, notify.clone());
        }
        Ok(Box::new(EmbeddedSubscription {
            bus: self.clone(),
            group: group.to_owned(),
            member,
            topics: handles,
            group_generation: generation,
            generation: 0,
            assigned: Vec::new(),
            cursor: 0,
            notify,
        }))
    }

    async fn offsets(&self, topic: &str) -> Result<Vec<Offsets>, Error> {
        let t = self
            .lock()
            .topics
            .get(topic)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(topic.to_owned()))?;
        Ok(t.partitions
            .iter()
            .map(|p| {
                let mem = lock(&p.mem);
                Offsets {
                    first: mem.base.min(mem.visible),
                    next: mem.visible,
                }
            })
            .collect())
    }

    async fn groups(&self) -> Result<Vec<GroupOffsets>, Error> {
        let state = self.lock();
        let mut out = Vec::new();
        for (name, g) in &state.groups {
            let mut topics: BTreeSet<&str> = g
                .members
                .values()
                .flat_map(|m| m.topics.iter().map(String::as_str))
                .collect();
            topics.extend(g.committed.keys().map(|(t, _)| t.as_str()));
            let mut committed = Vec::new();
            for topic in topics {
                let partitions = state.topics.get(topic).map_or(0, |t| t.partitions.len());
                for p in 0..i32::try_from(partitions).unwrap_or(i32::MAX) {
                    let at = g.committed.get(&(topic.to_owned(), p)).copied();
                    committed.push((topic.to_owned(), p, at));
                }
            }
            out.push(GroupOffsets {
                group: name.clone(),
                members: u32::try_from(g.members.len()).unwrap_or(u32::MAX),
                committed,
            });
        }
        out.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(out)
    }

    fn kind(&self) -> &'static str {
        "embedded"
    }
}

fn too_large(size: usize) -> Error {
    Error::Invalid {
        what: "event size (the embedded bus stores at most 8 MiB per event)",
        value: size.to_string(),
    }
}

/// A partition assigned to a member, and the next offset to hand out.
struct Assigned {
    topic: Arc<TopicState>,
    partition: i32,
    /// The next offset to fetch (from memory or disk); `backlog` holds what was fetched from
    /// disk below it and is handed out first.
    next: i64,
    /// Records read from disk, not yet handed out (one bounded batch at most).
    backlog: VecDeque<(i64, Envelope)>,
    /// Where the last disk read stopped.
    cursor: Option<disk::Cursor>,
    /// Events skipped because they were gone before it read them, since the last warning.
    lost: i64,
    /// When that warning was logged.
    warned: Option<std::time::Instant>,
}

impl Assigned {
    /// Counts events skipped by `skipped` and warns, at most every [`LAG_WARNING_EVERY`].
    fn fell_behind(&mut self, skipped: i64, group: &str, why: &'static str) {
        self.lost += skipped;
        if self.lost > 0
            && self
                .warned
                .is_none_or(|at| at.elapsed() >= LAG_WARNING_EVERY)
        {
            tracing::warn!(topic = %self.topic.spec.name, partition = self.partition,
                lost = self.lost, group = %group, "consumer fell behind retention: {why}");
            self.lost = 0;
            self.warned = Some(std::time::Instant::now());
        }
    }
}

/// What a member does next.
#[expect(
    clippy::large_enum_variant,
    reason = "moved straight into poll's answer; boxing would allocate per event"
)]
enum Next {
    /// Hand this out.
    Deliver(Delivery),
    /// Read assigned partition `idx` from disk: offsets `from..limit`.
    Read { idx: usize, from: i64, limit: i64 },
    /// Nothing to hand out until a publish or a rebalance.
    Idle,
}

/// A consumer that keeps falling behind is told at most this often.
const LAG_WARNING_EVERY: Duration = Duration::from_secs(10);

/// A member of a consumer group on the embedded bus. Dropping it leaves the group.
struct EmbeddedSubscription {
    bus: EmbeddedBus,
    group: String,
    member: u64,
    /// The topics it consumes (to unregister its wake-up).
    topics: Vec<Arc<TopicState>>,
    group_generation: Arc<AtomicU64>,
    /// Group generation `assigned` belongs to.
    generation: u64,
    assigned: Vec<Assigned>,
    cursor: usize,
    notify: Arc<Notify>,
}

impl EmbeddedSubscription {
    /// Eager rebalance: restart every assigned partition from the committed offset.
    fn rebalance(&mut self) {
        let state = self.bus.lock();
        let Some(group) = state.groups.get(&self.group) else {
            self.assigned.clear();
            return;
        };
        self.generation = group.generation.load(Ordering::Acquire);
        let mut assignment = group.assignment(self.member, &state.topics);
        assignment.sort();
        self.assigned = assignment
            .into_iter()
            .filter_map(|(name, partition)| {
                let topic = state.topics.get(&name)?.clone();
                let committed = group
                    .committed
                    .get(&(name.clone(), partition))
                    .copied()
                    .unwrap_or(0);
                let end = topic
                    .partitions
                    .get(partition as usize)
                    .map_or(0, |p| lock(&p.mem).next);
                let next = if committed > end {
                    tracing::warn!(topic = %name, partition, committed, end, group = %self.group,
                        "committed offset is beyond the end of the log (it lost its tail); resuming at the end");
                    end
                } else {
                    committed
                };
                Some(Assigned {
                    topic,
                    partition,
                    next,
                    backlog: VecDeque::new(),
                    cursor: None,
                    lost: 0,
                    warned: None,
                })
            })
            .collect();
    }

    fn try_next(&mut self) -> Result<Next, Error> {
        if self.group_generation.load(Ordering::Acquire) != self.generation {
            self.rebalance();
        }
        let persisted = self.bus.inner.disk.is_some();
        let n = self.assigned.len();
        for i in 0..n {
            let idx = (self.cursor + i) % n;
            let a = &mut self.assigned[idx];
            if let Some((offset, envelope)) = a.backlog.pop_front() {
                self.cursor = (idx + 1) % n;
                return Ok(Next::Deliver(Delivery {
                    topic: a.topic.spec.name.to_string(),
                    partition: a.partition,
                    offset,
                    envelope,
                }));
            }
            let topic = a.topic.clone();
            let Some(part) = topic.partitions.get(a.partition as usize) else {
                continue;
            };
            let mem = lock(&part.mem);
            if a.next < mem.base {
                if persisted {
                    // Below the window: the rest is on disk, up to what is written.
                    let limit = mem.base.min(mem.visible);
                    if a.next < limit {
                        self.cursor = idx;
                        return Ok(Next::Read {
                            idx,
                            from: a.next,
                            limit,
                        });
                    }
                    continue;
                }
                let skipped = mem.base - a.next;
                a.next = mem.base;
                a.fell_behind(
                    skipped,
                    &self.group,
                    "events left the in-memory window before it read them",
                );
            }
            while a.next < mem.visible {
                let offset = a.next;
                a.next += 1;
                if let Some(Some(record)) = mem.slots.get((offset - mem.base) as usize) {
                    let record = record.clone();
                    drop(mem);
                    let topic = a.topic.spec.name.to_string();
                    let partition = a.partition;
                    self.cursor = (idx + 1) % n;
                    let envelope = match record {
                        Stored::Decoded(envelope) => envelope.as_ref().clone(),
                        // Checked when published or replayed; a failure here is reported
                        // with its position, and the next poll goes on after it.
                        Stored::Encoded(body) => {
                            Envelope::from_bytes(&body).map_err(|reason| Error::Malformed {
                                topic: topic.clone(),
                                partition,
                                offset,
                                reason,
                            })?
                        }
                    };
                    return Ok(Next::Deliver(Delivery {
                        topic,
                        partition,
                        offset,
                        envelope,
                    }));
                }
            }
        }
        Ok(Next::Idle)
    }

    /// Reads the next batch of assigned partition `idx` below the in-memory window from its
    /// segment files, on a blocking thread: no lock is held and no async worker waits on the
    /// disk meanwhile. Cancel-safe: nothing changes until the batch is in.
    async fn read_disk(&mut self, idx: usize, from: i64, limit: i64) -> Result<(), Error> {
        let (Some(disk), Some(a)) = (&self.bus.inner.disk, self.assigned.get(idx)) else {
            return Ok(());
        };
        let dir = disk
            .dir
            .join("topics")
            .join(a.topic.spec.name.as_ref())
            .join(a.partition.to_string());
        let cursor = a.cursor;
        let batch = tokio::task::spawn_blocking(move || {
            disk::read_batch(&dir, from, limit, cursor, disk::READ_MAX)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
        .map_err(Error::Storage)?;
        let Some(a) = self.assigned.get_mut(idx) else {
            return Ok(());
        };
        if a.next != from {
            return Ok(());
        }
        a.fell_behind(
            batch.gone,
            &self.group,
            "retention deleted events from disk before it read them",
        );
        a.next = batch.next;
        a.cursor = batch.cursor;
        a.backlog = batch.records.into();
        if a.backlog.is_empty() && a.next <= from {
            // `read_batch` always makes progress; should it not, going on at `limit` beats
            // reading the same place forever.
            tracing::error!(topic = %a.topic.spec.name, partition = a.partition, from, limit,
                "reading the bus log from disk made no progress; going on at the in-memory window");
            a.next = limit;
        }
        Ok(())
    }
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Delivery>, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.try_next()? {
                Next::Deliver(d) => return Ok(Some(d)),
                Next::Read { idx, from, limit } => {
                    self.read_disk(idx, from, limit).await?;
                    continue;
                }
                Next::Idle => {}
            }
            // A wake-up between `try_next` and here is kept as a permit, so none is missed.
            if tokio::time::timeout_at(deadline, self.notify.notified())
                .await
                .is_err()
            {
                return Ok(None);
            }
        }
    }

    async fn commit_offset(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), Error> {
        let mut state = self.bus.lock();
        let State { groups, topics, .. } = &mut *state;
        let not_assigned = || Error::NotAssigned {
            topic: topic.to_owned(),
            partition,
        };
        let group = groups.get_mut(&self.group).ok_or_else(not_assigned)?;
        if !group.owns(self.member, topic, partition, topics) {
            return Err(not_assigned());
        }
        group
            .committed
            .insert((topic.to_owned(), partition), offset + 1);
        if let Some(disk) = &self.bus.inner.disk {
            // Queued under the lock, so the log keeps the order of the commits. Not awaited:
            // the commit holds from now on in this process; on disk it lands with the writer's
            // next batch, and losing it in a crash only redelivers events (at least once).
            disk.writer.send(Job::Commit {
                group: self.group.clone(),
                topic: topic.to_owned(),
                partition,
                next: offset + 1,
            })?;
        }
        Ok(())
    }

    fn assignment(&self) -> Result<Vec<(String, i32)>, Error> {
        let state = self.bus.lock();
        Ok(state
            .groups
            .get(&self.group)
            .map(|g| g.assignment(self.member, &state.topics))
            .unwrap_or_default())
    }
}

impl Drop for EmbeddedSubscription {
    fn drop(&mut self) {
        for topic in &self.topics {
            lock(&topic.waiters).remove(&self.member);
        }
        let mut state = self.bus.lock();
        if let Some(g) = state.groups.get_mut(&self.group) {
            g.members.remove(&self.member);
            g.rebalance();
        }
    }
}
