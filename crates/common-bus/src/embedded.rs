//! The in-process bus used by `qts up`: Kafka's semantics without a broker.
//!
//! Each partition is an append-only log; with persistence on, every record is appended to
//! `{dir}/topics/{topic}/{partition}.log` (length, CRC-32, envelope bytes) before `publish`
//! returns, and committed offsets go to `{dir}/groups/{group}.json` (written to a temporary file
//! and renamed). On start the logs are read back and a torn last record is cut off, so a crash
//! or restart loses no published event and no commit. Group membership is rebalanced eagerly
//! as in Kafka: when a member joins or leaves, every member restarts its partitions from the
//! group's committed offsets.
//!
//! Files are flushed to the OS on every write but not fsynced: a process crash loses nothing, a
//! power cut may lose the last writes. The log files grow without compaction; only the newest
//! `retention_per_partition` records are kept in memory and replayed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use super::{
    Delivery, Envelope, Error, EventBus, Position, Subscription, TopicSpec, partition_for,
};

/// The in-process bus. Cheap to clone; clones share the same topics and groups.
#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    dir: Option<PathBuf>,
    retention: usize,
}

#[derive(Default)]
struct State {
    topics: HashMap<String, TopicState>,
    groups: HashMap<String, GroupState>,
    next_member: u64,
    version: u64,
}

struct TopicState {
    spec: TopicSpec,
    partitions: Vec<PartitionLog>,
    round_robin: u64,
}

struct PartitionLog {
    /// Offset of `records[0]`.
    base: i64,
    records: VecDeque<Arc<Envelope>>,
    file: Option<File>,
}

impl PartitionLog {
    fn end(&self) -> i64 {
        self.base + self.records.len() as i64
    }
}

#[derive(Default)]
struct GroupState {
    /// Member id -> topics it consumes. Ordered, so assignment is deterministic.
    members: BTreeMap<u64, Vec<String>>,
    committed: HashMap<(String, i32), i64>,
    generation: u64,
}

impl GroupState {
    /// Partitions of `member`: partition p of a topic goes to the (p mod n)-th member that
    /// consumes that topic.
    fn assignment(&self, member: u64, topics: &HashMap<String, TopicState>) -> Vec<(String, i32)> {
        let mut out = Vec::new();
        let Some(mine) = self.members.get(&member) else {
            return out;
        };
        for topic in mine {
            let consumers: Vec<u64> = self
                .members
                .iter()
                .filter(|(_, t)| t.contains(topic))
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
}

impl EmbeddedBus {
    /// A bus that keeps everything in memory only.
    pub fn in_memory(retention_per_partition: usize) -> Self {
        Self::build(None, retention_per_partition)
    }

    /// A bus persisted under `dir` (created if missing); existing logs are replayed as topics
    /// are created.
    pub fn persistent(dir: &Path, retention_per_partition: usize) -> Result<Self, Error> {
        std::fs::create_dir_all(dir.join("topics"))?;
        std::fs::create_dir_all(dir.join("groups"))?;
        Ok(Self::build(Some(dir.to_owned()), retention_per_partition))
    }

    fn build(dir: Option<PathBuf>, retention: usize) -> Self {
        let (changed, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                changed,
                dir,
                retention: retention.max(1),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way that
        // matters more than stopping the bus would, so recover the guard.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bump(&self, state: &mut State) {
        state.version += 1;
        self.inner.changed.send_replace(state.version);
    }

    fn open_partition(&self, topic: &str, partition: i32) -> Result<PartitionLog, Error> {
        let Some(dir) = &self.inner.dir else {
            return Ok(PartitionLog {
                base: 0,
                records: VecDeque::new(),
                file: None,
            });
        };
        let topic_dir = dir.join("topics").join(topic);
        std::fs::create_dir_all(&topic_dir)?;
        let path = topic_dir.join(format!("{partition}.log"));
        let (records, total, good_len) = read_log(&path, self.inner.retention)?;
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        if file.metadata()?.len() != good_len {
            tracing::warn!(path = %path.display(), kept_bytes = good_len, "cutting torn tail of bus log");
            file.set_len(good_len)?;
        }
        let mut file = file;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0))?;
        Ok(PartitionLog {
            base: total - records.len() as i64,
            records,
            file: Some(file),
        })
    }

    fn load_group(&self, group: &str) -> Result<GroupState, Error> {
        let mut state = GroupState::default();
        let Some(dir) = &self.inner.dir else {
            return Ok(state);
        };
        let path = dir
            .join("groups")
            .join(format!("{}.json", file_name(group)));
        match std::fs::read(&path) {
            Ok(bytes) => {
                let saved: HashMap<String, i64> = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Storage(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", path.display()),
                    ))
                })?;
                for (k, offset) in saved {
                    if let Some((topic, p)) = k.rsplit_once('/')
                        && let Ok(p) = p.parse::<i32>()
                    {
                        state.committed.insert((topic.to_owned(), p), offset);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        Ok(state)
    }

    fn save_group(&self, group: &str, state: &GroupState) -> Result<(), Error> {
        let Some(dir) = &self.inner.dir else {
            return Ok(());
        };
        let saved: BTreeMap<String, i64> = state
            .committed
            .iter()
            .map(|((t, p), o)| (format!("{t}/{p}"), *o))
            .collect();
        let bytes =
            serde_json::to_vec(&saved).map_err(|e| Error::Storage(std::io::Error::other(e)))?;
        let path = dir
            .join("groups")
            .join(format!("{}.json", file_name(group)));
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }
}

/// Group names may hold characters a file name may not; keep them readable but safe.
fn file_name(group: &str) -> String {
    group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads a log: the newest `keep` records, the total count, and the length of the valid prefix.
fn read_log(path: &Path, keep: usize) -> Result<(VecDeque<Arc<Envelope>>, i64, u64), Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((VecDeque::new(), 0, 0)),
        Err(e) => return Err(e.into()),
    };
    let mut reader = BufReader::new(file);
    let mut records = VecDeque::new();
    let mut total = 0i64;
    let mut good = 0u64;
    loop {
        let mut header = [0u8; 8];
        if reader.read_exact(&mut header).is_err() {
            break;
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() || crc32fast::hash(&body) != crc {
            break;
        }
        let Ok(envelope) = Envelope::from_bytes(&body) else {
            break;
        };
        records.push_back(Arc::new(envelope));
        if records.len() > keep {
            records.pop_front();
        }
        total += 1;
        good += 8 + len as u64;
    }
    Ok((records, total, good))
}

fn append_record(file: &mut File, bytes: &[u8]) -> Result<(), Error> {
    let len = u32::try_from(bytes.len()).map_err(|_| Error::Invalid {
        what: "event size",
        value: bytes.len().to_string(),
    })?;
    let mut buf = Vec::with_capacity(8 + bytes.len());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    buf.extend_from_slice(bytes);
    file.write_all(&buf)?;
    file.flush()?;
    Ok(())
}

#[async_trait]
impl EventBus for EmbeddedBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), Error> {
        let mut state = self.lock();
        for spec in topics {
            spec.validate()?;
            if let Some(existing) = state.topics.get(spec.name.as_ref()) {
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
            let mut partitions = Vec::with_capacity(spec.partitions as usize);
            for p in 0..spec.partitions {
                partitions.push(self.open_partition(&spec.name, p)?);
            }
            state.topics.insert(
                spec.name.to_string(),
                TopicState {
                    spec: spec.clone(),
                    partitions,
                    round_robin: 0,
                },
            );
        }
        self.bump(&mut state);
        Ok(())
    }

    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<Position, Error> {
        let retention = self.inner.retention;
        let mut state = self.lock();
        let t = state
            .topics
            .get_mut(topic)
            .ok_or_else(|| Error::UnknownTopic(topic.to_owned()))?;
        if envelope.event_type != t.spec.payload {
            return Err(Error::WrongPayload {
                topic: topic.to_owned(),
                expected: t.spec.payload.to_string(),
                actual: envelope.event_type.clone(),
            });
        }
        let n = t.partitions.len() as i32;
        let partition = if envelope.key.is_empty() {
            t.round_robin += 1;
            (t.round_robin % n as u64) as i32
        } else {
            partition_for(envelope.key.as_bytes(), n)
        };
        let log = &mut t.partitions[partition as usize];
        if let Some(file) = &mut log.file {
            append_record(file, &envelope.to_bytes())?;
        }
        let offset = log.end();
        log.records.push_back(Arc::new(envelope.clone()));
        if log.records.len() > retention {
            log.records.pop_front();
            log.base += 1;
        }
        self.bump(&mut state);
        Ok(Position { partition, offset })
    }

    async fn subscribe(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<Box<dyn Subscription>, Error> {
        super::check_group_name(group)?;
        let loaded = {
            let state = self.lock();
            if state.groups.contains_key(group) {
                None
            } else {
                Some(self.load_group(group)?)
            }
        };
        let mut state = self.lock();
        for t in topics {
            if !state.topics.contains_key(*t) {
                return Err(Error::UnknownTopic((*t).to_owned()));
            }
        }
        state.next_member += 1;
        let member = state.next_member;
        let g = state
            .groups
            .entry(group.to_owned())
            .or_insert_with(|| loaded.unwrap_or_default());
        g.members
            .insert(member, topics.iter().map(|t| (*t).to_owned()).collect());
        g.generation += 1;
        self.bump(&mut state);
        Ok(Box::new(EmbeddedSubscription {
            bus: self.clone(),
            group: group.to_owned(),
            member,
            generation: 0,
            positions: HashMap::new(),
            cursor: 0,
            changed: self.inner.changed.subscribe(),
        }))
    }

    fn kind(&self) -> &'static str {
        "embedded"
    }
}

/// A member of a consumer group on the embedded bus. Dropping it leaves the group.
struct EmbeddedSubscription {
    bus: EmbeddedBus,
    group: String,
    member: u64,
    /// Group generation the positions below belong to.
    generation: u64,
    /// Next offset to hand out, per assigned partition.
    positions: HashMap<(String, i32), i64>,
    cursor: usize,
    changed: watch::Receiver<u64>,
}

impl EmbeddedSubscription {
    fn try_next(&mut self) -> Option<Delivery> {
        let bus = self.bus.clone();
        let state = bus.lock();
        let group = state.groups.get(&self.group)?;
        if group.generation != self.generation {
            // Eager rebalance: restart every assigned partition from the committed offset.
            self.generation = group.generation;
            self.positions = group
                .assignment(self.member, &state.topics)
                .into_iter()
                .map(|tp| {
                    let committed = group.committed.get(&tp).copied().unwrap_or(0);
                    (tp, committed)
                })
                .collect();
        }
        let mut keys: Vec<(String, i32)> = self.positions.keys().cloned().collect();
        keys.sort();
        if keys.is_empty() {
            return None;
        }
        for i in 0..keys.len() {
            let tp = &keys[(self.cursor + i) % keys.len()];
            let Some(log) = state
                .topics
                .get(&tp.0)
                .and_then(|t| t.partitions.get(tp.1 as usize))
            else {
                continue;
            };
            let pos = self.positions.get(tp).copied().unwrap_or(0);
            let pos = if pos < log.base {
                tracing::warn!(topic = %tp.0, partition = tp.1, lost = log.base - pos, "consumer fell behind retention");
                log.base
            } else {
                pos
            };
            if pos < log.end() {
                let idx = (pos - log.base) as usize;
                let envelope = log.records.get(idx)?.as_ref().clone();
                self.positions.insert(tp.clone(), pos + 1);
                self.cursor = (self.cursor + i + 1) % keys.len();
                return Some(Delivery {
                    topic: tp.0.clone(),
                    partition: tp.1,
                    offset: pos,
                    envelope,
                });
            }
        }
        None
    }
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Delivery>, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.changed.mark_unchanged();
            if let Some(d) = self.try_next() {
                return Ok(Some(d));
            }
            match tokio::time::timeout_at(deadline, self.changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return Ok(None),
            }
        }
    }

    async fn commit_offset(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), Error> {
        let bus = self.bus.clone();
        let mut state = bus.lock();
        let State { groups, topics, .. } = &mut *state;
        let group = groups
            .get_mut(&self.group)
            .ok_or_else(|| Error::NotAssigned {
                topic: topic.to_owned(),
                partition,
            })?;
        let tp = (topic.to_owned(), partition);
        if !group.assignment(self.member, topics).contains(&tp) {
            return Err(Error::NotAssigned {
                topic: topic.to_owned(),
                partition,
            });
        }
        group.committed.insert(tp, offset + 1);
        bus.save_group(&self.group, group)?;
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
        let bus = self.bus.clone();
        let mut state = bus.lock();
        if let Some(g) = state.groups.get_mut(&self.group) {
            g.members.remove(&self.member);
            g.generation += 1;
        }
        bus.bump(&mut state);
    }
}
