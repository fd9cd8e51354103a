//! One data directory, one simulator: `fcsim.lock` holds the owner's pid.
//!
//! The file is created exclusively (`O_EXCL`). A lock whose pid no longer runs (a
//! simulator killed with `kill -9`) is stale and taken over, with a warning in the log. A
//! lock holding this very process's pid is stale unless a simulator of this process holds
//! it (containers restart with the same pid). Liveness is read from `/proc`; where there is
//! no `/proc`, every lock counts as live and the error says which file to remove.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::StoreError;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "fcsim.lock";

/// Lock files held by simulators of this process.
fn held() -> &'static Mutex<HashSet<PathBuf>> {
    static HELD: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    HELD.get_or_init(|| Mutex::new(HashSet::new()))
}

fn held_set() -> std::sync::MutexGuard<'static, HashSet<PathBuf>> {
    held()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether process `pid` runs (`true` when it cannot be told).
fn alive(pid: u32, path: &Path) -> bool {
    if pid == std::process::id() {
        return held_set().contains(path);
    }
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The held lock; dropping it removes the file.
#[derive(Debug)]
pub(crate) struct DirLock {
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock of `dir` (which must exist).
    pub(crate) fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let dir = dir.canonicalize().map_err(|error| StoreError::Dir {
            path: dir.to_owned(),
            error,
        })?;
        let path = dir.join(LOCK_FILE);
        // Two attempts: the second follows the removal of a stale lock.
        for _ in 0..2 {
            let mut set = held_set();
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let written = writeln!(file, "{}", std::process::id());
                    if let Err(error) = written {
                        let _ = std::fs::remove_file(&path);
                        return Err(StoreError::Lock { path, error });
                    }
                    set.insert(path.clone());
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    drop(set);
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let Ok(pid) = text.trim().parse::<u32>() else {
                        // A lock being written this instant, or garbage: leave it to the user.
                        return Err(StoreError::Locked {
                            path,
                            owner: text.trim().to_owned(),
                        });
                    };
                    if alive(pid, &path) {
                        return Err(StoreError::Locked {
                            path,
                            owner: pid.to_string(),
                        });
                    }
                    tracing::warn!(
                        file = %path.display(),
                        pid,
                        "fcsim: taking over the lock of a simulator that no longer runs"
                    );
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(error) => return Err(StoreError::Lock { path, error }),
                    }
                }
                Err(error) => return Err(StoreError::Lock { path, error }),
            }
        }
        Err(StoreError::Locked {
            owner: std::fs::read_to_string(&path)
                .unwrap_or_default()
                .trim()
                .to_owned(),
            path,
        })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let mut set = held_set();
        let ours = std::fs::read_to_string(&self.path)
            .is_ok_and(|t| t.trim() == std::process::id().to_string());
        if ours && let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(file = %self.path.display(), error = %e, "fcsim: lock file not removed");
        }
        set.remove(&self.path);
    }
}
