//! Durable FC Trading state: one JSON snapshot file in the configured data directory.
//!
//! The snapshot holds the whole `matching::Engine` state (orders, books, accounts,
//! positions) and the broker's own state (order metadata, market-maker quotes, the
//! trading-stream notices with their `notifyID`s, used `requestID`s), plus the simulated
//! instant it was taken at. The broker writes it before it answers a trading request and
//! before it publishes a stream notice, so whatever a client has seen survives a crash.
//!
//! A save writes `trading-state.json.tmp` and renames it over `trading-state.json`
//! (atomic on POSIX): a crash mid-write leaves the previous complete snapshot in place and
//! a torn temp file, which the next start removes. There is no `fsync`: the state survives
//! a process crash or kill, not a power loss or kernel crash.

use std::path::{Path, PathBuf};

use matching::EngineState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::broker::{BrokerState, BrokerStateRef};

/// Name of the snapshot file inside the data directory.
pub const STATE_FILE: &str = "trading-state.json";
/// Name of the temporary file a save writes before renaming it over [`STATE_FILE`].
pub const TEMP_FILE: &str = "trading-state.json.tmp";
/// Snapshot format version.
const FORMAT: u32 = 2;

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
    /// The state file exists but could not be read.
    #[error("cannot read the simulator state file {path}: {error}")]
    Read {
        /// The state file.
        path: PathBuf,
        /// Cause (shown in the message, so not also a `source`: logs print the message).
        error: std::io::Error,
    },
    /// The state file is not a snapshot this simulator wrote.
    #[error(
        "the simulator state file {path} is corrupt ({error}); move it away to start from the configured accounts"
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// Cause (shown in the message).
        error: serde_json::Error,
    },
    /// The state file has another format version.
    #[error("the simulator state file {path} has format {found}, this simulator reads {FORMAT}")]
    Format {
        /// The state file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The state file belongs to another generated market.
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
    /// The snapshot could not be encoded.
    #[error("cannot encode the simulator state: {0}")]
    Encode(serde_json::Error),
    /// The snapshot could not be written.
    #[error("cannot write the simulator state file {path}: {error}")]
    Write {
        /// The file being written or renamed.
        path: PathBuf,
        /// Cause (shown in the message, so not also a `source`: logs print the message).
        error: std::io::Error,
    },
}

/// Which generated market a snapshot belongs to (seed, start, universe size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MarketKey {
    pub(crate) seed: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) start: OffsetDateTime,
    /// HOSE, HNX, UPCoM stocks.
    pub(crate) universe: [usize; 3],
}

impl std::fmt::Display for MarketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [hose, hnx, upcom] = self.universe;
        write!(
            f,
            "seed {} start {} universe {hose}/{hnx}/{upcom}",
            self.seed, self.start
        )
    }
}

/// What a save writes (borrowed, so saving clones nothing).
#[derive(Serialize)]
pub(crate) struct SnapshotRef<'a> {
    pub(crate) format: u32,
    pub(crate) market: &'a MarketKey,
    /// Simulated instant of the snapshot (the broker's last clock sync).
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) saved_at: OffsetDateTime,
    pub(crate) engine: &'a EngineState,
    pub(crate) broker: BrokerStateRef<'a>,
}

/// What a start reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Snapshot {
    pub(crate) format: u32,
    pub(crate) market: MarketKey,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) saved_at: OffsetDateTime,
    pub(crate) engine: EngineState,
    pub(crate) broker: BrokerState,
}

/// The snapshot file of one data directory.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    temp: PathBuf,
    market: MarketKey,
}

impl Store {
    /// Opens `dir` (creating it), removes a torn temp file left by a crash mid-save, and
    /// reads the snapshot if there is one. A snapshot that cannot be read, decoded or that
    /// belongs to another market is an error naming the file, never a fresh start.
    pub(crate) fn open(
        dir: &Path,
        market: MarketKey,
    ) -> Result<(Self, Option<Snapshot>), StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::Dir {
            path: dir.to_owned(),
            error,
        })?;
        let path = dir.join(STATE_FILE);
        let temp = dir.join(TEMP_FILE);
        match std::fs::remove_file(&temp) {
            Ok(()) => tracing::warn!(
                file = %temp.display(),
                "fcsim: removed a partly written state file left by a crash; the last complete save is used"
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(StoreError::Dir { path: temp, error }),
        }
        let snapshot = match std::fs::read(&path) {
            Ok(bytes) => {
                let snap: Snapshot =
                    serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
                        path: path.clone(),
                        error,
                    })?;
                if snap.format != FORMAT {
                    return Err(StoreError::Format {
                        path,
                        found: snap.format,
                    });
                }
                if snap.market != market {
                    return Err(StoreError::Mismatch {
                        path,
                        saved: snap.market.to_string(),
                        configured: market.to_string(),
                    });
                }
                Some(snap)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(StoreError::Read { path, error }),
        };
        Ok((Self { path, temp, market }, snapshot))
    }

    /// The market this store belongs to.
    pub(crate) fn market(&self) -> &MarketKey {
        &self.market
    }

    /// Writes `snapshot` to the temp file and renames it over the state file.
    pub(crate) fn save(&self, snapshot: &SnapshotRef<'_>) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(snapshot).map_err(StoreError::Encode)?;
        std::fs::write(&self.temp, bytes).map_err(|error| StoreError::Write {
            path: self.temp.clone(),
            error,
        })?;
        std::fs::rename(&self.temp, &self.path).map_err(|error| StoreError::Write {
            path: self.path.clone(),
            error,
        })
    }
}

/// The format version a save writes.
pub(crate) const fn format() -> u32 {
    FORMAT
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key() -> MarketKey {
        MarketKey {
            seed: 1,
            start: datetime!(2025-06-10 10:00 +7),
            universe: [40, 10, 10],
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "fcsim-store-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_empty_directory_has_no_snapshot() {
        let dir = temp_dir("empty");
        let (_, snap) = Store::open(&dir, key()).unwrap();
        assert!(snap.is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_naming_the_file() {
        let dir = temp_dir("corrupt");
        std::fs::write(dir.join(STATE_FILE), b"{\"format\":1,\"market\":").unwrap();
        let err = Store::open(&dir, key()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&dir.join(STATE_FILE).display().to_string()),
            "{text}"
        );
        // The file is left alone for the user to inspect.
        assert!(dir.join(STATE_FILE).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_empty_state_file_is_corrupt_too() {
        let dir = temp_dir("zero");
        std::fs::write(dir.join(STATE_FILE), b"").unwrap();
        let err = Store::open(&dir, key()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_state_file_of_another_market_is_refused() {
        let dir = temp_dir("mismatch");
        let engine = matching::Engine::new(
            market::MarketRules::default(),
            market::MarketRules::default().calendar().unwrap(),
            matching::EngineConfig::default(),
        );
        let other = MarketKey { seed: 2, ..key() };
        let (store, _) = Store::open(&dir, other.clone()).unwrap();
        let broker = BrokerState::default();
        store
            .save(&SnapshotRef {
                format: FORMAT,
                market: &other,
                saved_at: datetime!(2025-06-10 10:00 +7),
                engine: engine.state(),
                broker: broker.as_ref(),
            })
            .unwrap();
        let err = Store::open(&dir, key()).unwrap_err();
        assert!(matches!(err, StoreError::Mismatch { .. }), "{err:?}");
        assert!(err.to_string().contains("seed 2"), "{err}");
        // The same market reads it back.
        let (_, snap) = Store::open(&dir, other).unwrap();
        assert!(snap.is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_torn_temp_file_from_a_crash_mid_save_does_not_break_start() {
        let dir = temp_dir("torn");
        let engine = matching::Engine::new(
            market::MarketRules::default(),
            market::MarketRules::default().calendar().unwrap(),
            matching::EngineConfig::default(),
        );
        let (store, _) = Store::open(&dir, key()).unwrap();
        let broker = BrokerState::default();
        store
            .save(&SnapshotRef {
                format: FORMAT,
                market: &key(),
                saved_at: datetime!(2025-06-10 10:05 +7),
                engine: engine.state(),
                broker: broker.as_ref(),
            })
            .unwrap();
        // A crash in the middle of the next save leaves half a file next to the state.
        std::fs::write(dir.join(TEMP_FILE), b"{\"format\":1,\"mark").unwrap();
        let (_, snap) = Store::open(&dir, key()).unwrap();
        let snap = snap.expect("the last complete save");
        assert_eq!(snap.saved_at, datetime!(2025-06-10 10:05 +7));
        assert!(!dir.join(TEMP_FILE).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
