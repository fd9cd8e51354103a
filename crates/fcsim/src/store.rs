//! Durable FC Trading state in the configured data directory: a snapshot, an append-only
//! journal of what changed since, and a lock file.
//!
//! - `trading-state.json`: the whole `matching::Engine` state (orders, books, accounts,
//!   positions) and the broker's own state (order metadata, market-maker quotes, stream
//!   notices with their `notifyID`s, used `requestID`s, cash and stock transactions), the
//!   simulated instant it was taken at, and the number of the last journal record it holds.
//!   Written at start-up, at a clean stop and when the journal grows past
//!   `snapshot_journal_bytes`: to `trading-state.json.tmp`, `fsync`ed, then renamed over
//!   the snapshot (atomic on POSIX), so a crash mid-write leaves the previous snapshot.
//! - `trading-journal.log`: one record per change (a client action or a tick that changed
//!   something), appended before anything about it is answered or published
//!   (`store/journal.rs`). A save costs the size of the change, not of the day.
//! - `fcsim.lock`: the pid of the simulator using the directory (`store/lock.rs`).
//!
//! Replay on start: the snapshot, then the journal records after it, through the same
//! broker code that applied them the first time (the engine is deterministic).

pub(crate) mod journal;
pub(crate) mod lock;

use std::path::{Path, PathBuf};

use matching::EngineState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::broker::{BrokerState, BrokerStateRef};
use crate::tape::MarketModel;
pub use lock::LOCK_FILE;

/// Name of the snapshot file inside the data directory.
pub const STATE_FILE: &str = "trading-state.json";
/// Name of the temporary file a snapshot is written to before it is renamed.
pub const TEMP_FILE: &str = "trading-state.json.tmp";
/// Name of the journal file inside the data directory.
pub const JOURNAL_FILE: &str = "trading-journal.log";
/// Snapshot format version.
const FORMAT: u32 = 3;
/// The previous version (the whole state saved before every answer, no journal), still
/// read: its snapshot holds no journal record.
const FORMAT_2: u32 = 2;

/// Why the durable state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or cleaned.
    #[error("simulator data directory {path}: {error}")]
    Dir {
        /// The directory or file concerned.
        path: PathBuf,
        /// Cause (shown in the message, so not also a `source`: logs print the message).
        error: std::io::Error,
    },
    /// Another simulator uses the data directory.
    #[error(
        "the simulator data directory is in use by process {owner} (lock file {path}); stop that simulator, or remove the lock file if it no longer runs"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Its content: the owner's pid.
        owner: String,
    },
    /// The lock file could not be written or removed.
    #[error("cannot take the simulator lock file {path}: {error}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Cause (shown in the message).
        error: std::io::Error,
    },
    /// A state file exists but could not be read.
    #[error("cannot read the simulator state file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause (shown in the message, so not also a `source`: logs print the message).
        error: std::io::Error,
    },
    /// The snapshot is not one this simulator wrote.
    #[error(
        "the simulator state file {path} is corrupt ({error}); move it away to start from the configured accounts"
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// Cause (shown in the message).
        error: serde_json::Error,
    },
    /// The snapshot has another format version.
    #[error(
        "the simulator state file {path} has format {found}, this simulator reads {FORMAT_2} and {FORMAT}"
    )]
    Format {
        /// The state file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The state belongs to another generated market.
    #[error(
        "the simulator state file {path} was made for {saved}, but this configuration is {configured}; use another data directory"
    )]
    Mismatch {
        /// The state file.
        path: PathBuf,
        /// The market it was made for.
        saved: String,
        /// The configured market.
        configured: String,
    },
    /// A journal record in the middle of the journal is damaged.
    #[error(
        "the simulator journal {path} is damaged at byte {offset}: {reason}; nothing was dropped: restore the file or move the data directory away"
    )]
    JournalDamaged {
        /// The journal.
        path: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What was found.
        reason: String,
    },
    /// A journal record could not be replayed.
    #[error("the simulator journal {path}, record {seq}: {reason}")]
    Replay {
        /// The journal.
        path: PathBuf,
        /// The record.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// The journal has records the snapshot does not reach.
    #[error(
        "the simulator journal {path} starts at record {first} but the snapshot ends at record {snapshot}: records are missing"
    )]
    JournalGap {
        /// The journal.
        path: PathBuf,
        /// First record in the journal.
        first: u64,
        /// Last record in the snapshot.
        snapshot: u64,
    },
    /// The state could not be encoded.
    #[error("cannot encode the simulator state: {0}")]
    Encode(serde_json::Error),
    /// A state file could not be written.
    #[error("cannot write the simulator state file {path}: {error}")]
    Write {
        /// The file being written or renamed.
        path: PathBuf,
        /// Cause (shown in the message, so not also a `source`: logs print the message).
        error: std::io::Error,
    },
    /// A failed journal write could not be cut back: the journal ends in a partial record.
    #[error(
        "cannot write the simulator journal {path} ({error}) nor cut the partial record back ({cut})"
    )]
    JournalStuck {
        /// The journal.
        path: PathBuf,
        /// Why the write failed.
        error: std::io::Error,
        /// Why the cut failed.
        cut: std::io::Error,
    },
}

/// Which generated market a snapshot belongs to (seed, start, universe size, model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MarketKey {
    pub(crate) seed: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) start: OffsetDateTime,
    /// HOSE, HNX, UPCoM stocks.
    pub(crate) universe: [usize; 3],
    /// [`model_fingerprint`] of the market model's parameters (a snapshot written before
    /// the model was recorded ran the default model).
    #[serde(default = "default_model")]
    pub(crate) model: String,
}

fn default_model() -> String {
    "default".to_owned()
}

/// Names a market model in a snapshot: `default`, or a 64-bit FNV-1a hash of the model's
/// JSON (compared as a string, so no float is parsed back).
pub(crate) fn model_fingerprint(model: &MarketModel) -> String {
    if *model == MarketModel::default() {
        return default_model();
    }
    let json = serde_json::to_vec(model).unwrap_or_default();
    let hash = json.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("custom-{hash:016x}")
}

impl std::fmt::Display for MarketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [hose, hnx, upcom] = self.universe;
        write!(
            f,
            "seed {} start {} universe {hose}/{hnx}/{upcom} model {}",
            self.seed, self.start, self.model
        )
    }
}

/// What a snapshot writes (borrowed, so saving clones nothing).
#[derive(Serialize)]
pub(crate) struct SnapshotRef<'a> {
    pub(crate) format: u32,
    pub(crate) market: &'a MarketKey,
    /// Simulated instant of the snapshot (the broker's last clock sync).
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) saved_at: OffsetDateTime,
    /// The last journal record the snapshot holds.
    pub(crate) journal_seq: u64,
    pub(crate) engine: &'a EngineState,
    pub(crate) broker: BrokerStateRef<'a>,
}

/// What a start reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Snapshot {
    pub(crate) market: MarketKey,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) saved_at: OffsetDateTime,
    /// Absent in format 2.
    #[serde(default)]
    pub(crate) journal_seq: u64,
    pub(crate) engine: EngineState,
    pub(crate) broker: BrokerState,
}

/// What a data directory holds: the snapshot and the journal records after it.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) snapshot: Option<Snapshot>,
    pub(crate) records: Vec<journal::RawRecord>,
}

/// The state files of one data directory, locked for this simulator.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    temp: PathBuf,
    dir: PathBuf,
    market: MarketKey,
    journal: journal::Journal,
    /// Number of the last record written (journal or snapshot).
    seq: u64,
    // Dropped last: the lock is released once everything is written.
    _lock: lock::DirLock,
}

fn read_snapshot(path: &Path, market: &MarketKey) -> Result<Option<Snapshot>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(StoreError::Read {
                path: path.to_owned(),
                error,
            });
        }
    };
    // The format first, so another version is reported as such, not as corrupt.
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    let version: Version = serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
        path: path.to_owned(),
        error,
    })?;
    if version.format != FORMAT && version.format != FORMAT_2 {
        return Err(StoreError::Format {
            path: path.to_owned(),
            found: version.format,
        });
    }
    let snap: Snapshot = serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
        path: path.to_owned(),
        error,
    })?;
    if snap.market != *market {
        return Err(StoreError::Mismatch {
            path: path.to_owned(),
            saved: snap.market.to_string(),
            configured: market.to_string(),
        });
    }
    Ok(Some(snap))
}

impl Store {
    /// Opens `dir` (creating it), takes its lock, removes a torn temp file left by a crash
    /// mid-snapshot, reads the snapshot and the journal records after it (cutting a torn
    /// journal tail). A snapshot that cannot be read or belongs to another market, or a
    /// journal damaged in the middle, is an error naming the file, never a fresh start.
    pub(crate) fn open(
        dir: &Path,
        market: MarketKey,
        fsync: bool,
    ) -> Result<(Self, Loaded), StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::Dir {
            path: dir.to_owned(),
            error,
        })?;
        let lock = lock::DirLock::acquire(dir)?;
        let path = dir.join(STATE_FILE);
        let temp = dir.join(TEMP_FILE);
        match std::fs::remove_file(&temp) {
            Ok(()) => tracing::warn!(
                file = %temp.display(),
                "fcsim: removed a partly written state file left by a crash; the last complete snapshot is used"
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(StoreError::Dir { path: temp, error }),
        }
        let snapshot = read_snapshot(&path, &market)?;
        let journal_path = dir.join(JOURNAL_FILE);
        let (journal, records) = journal::Journal::open(&journal_path, fsync)?;
        let base = snapshot.as_ref().map_or(0, |s| s.journal_seq);
        let records = after(&journal_path, base, records)?;
        let seq = records.last().map_or(base, |r| r.seq);
        Ok((
            Self {
                path,
                temp,
                dir: dir.to_owned(),
                market,
                journal,
                seq,
                _lock: lock,
            },
            Loaded { snapshot, records },
        ))
    }

    /// Reads the directory again (snapshot and journal), to roll memory back to what is
    /// on disk after a failed write.
    pub(crate) fn reload(&self) -> Result<Loaded, StoreError> {
        let snapshot = read_snapshot(&self.path, &self.market)?;
        let base = snapshot.as_ref().map_or(0, |s| s.journal_seq);
        let records = after(&self.dir.join(JOURNAL_FILE), base, self.journal.reread()?)?;
        Ok(Loaded { snapshot, records })
    }

    /// The market this store belongs to.
    pub(crate) fn market(&self) -> &MarketKey {
        &self.market
    }

    /// Number of the last record written.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Bytes in the journal.
    pub(crate) fn journal_bytes(&self) -> u64 {
        self.journal.len()
    }

    /// Appends `payloads` as the next journal records, in one write.
    pub(crate) fn append(&mut self, payloads: &[Vec<u8>]) -> Result<(), StoreError> {
        if payloads.is_empty() {
            return Ok(());
        }
        let mut frames = Vec::with_capacity(payloads.iter().map(|p| p.len() + 32).sum());
        for (k, p) in payloads.iter().enumerate() {
            journal::encode(self.seq + 1 + k as u64, p, &mut frames);
        }
        self.journal.append(&frames)?;
        self.seq += payloads.len() as u64;
        Ok(())
    }

    /// Writes `snapshot` (which must hold every record up to [`Store::seq`]) and empties
    /// the journal.
    pub(crate) fn snapshot(&mut self, snapshot: &SnapshotRef<'_>) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(snapshot).map_err(StoreError::Encode)?;
        let write = |path: &Path| -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = std::fs::File::create(path)?;
            f.write_all(&bytes)?;
            f.sync_all()
        };
        write(&self.temp).map_err(|error| StoreError::Write {
            path: self.temp.clone(),
            error,
        })?;
        std::fs::rename(&self.temp, &self.path).map_err(|error| StoreError::Write {
            path: self.path.clone(),
            error,
        })?;
        // The rename must be on disk before the journal it replaces is emptied.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        self.journal.clear()
    }

    /// Test hook: journal writes fail while the flag is set.
    #[cfg(test)]
    pub(crate) fn fail_writes(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.journal.fail_writes.clone()
    }
}

/// The records after `base`; the first must be `base + 1`.
fn after(
    path: &Path,
    base: u64,
    records: Vec<journal::RawRecord>,
) -> Result<Vec<journal::RawRecord>, StoreError> {
    let records: Vec<_> = records.into_iter().filter(|r| r.seq > base).collect();
    if let Some(first) = records.first()
        && first.seq != base + 1
    {
        return Err(StoreError::JournalGap {
            path: path.to_owned(),
            first: first.seq,
            snapshot: base,
        });
    }
    Ok(records)
}

/// The format version a snapshot writes.
pub(crate) const fn format() -> u32 {
    FORMAT
}

#[cfg(test)]
mod tests;
