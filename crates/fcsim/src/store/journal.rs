//! The append-only journal: one framed record per state change since the last snapshot.
//!
//! Frame: the magic `FCJ1`, the record's sequence number (u64 LE), the payload length
//! (u32 LE), a CRC-32 of sequence number and payload (u32 LE), then the payload (JSON).
//! Records are numbered 1, 2, 3… across snapshots; a snapshot names the last record it
//! contains, so records at or before it are skipped on replay.
//!
//! Reading tells a torn tail (the last write of a crash: a frame cut short, or a last
//! frame whose checksum fails) from damage in the middle (a bad frame followed by a good
//! one, or a gap in the numbering). A torn tail is cut off with a warning: nobody was told
//! about it (answers go out after the write). Damage in the middle is an error naming the
//! file and offset: the records after it cannot be trusted, and dropping them silently
//! would lose acknowledged orders.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::StoreError;

const MAGIC: &[u8; 4] = b"FCJ1";
const HEADER: usize = 4 + 8 + 4 + 4;
/// A record longer than this is taken for garbage.
const MAX_RECORD: usize = 64 << 20;

/// One record read back: its number and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRecord {
    pub(crate) seq: u64,
    pub(crate) payload: Vec<u8>,
}

/// Encodes one frame.
pub(crate) fn encode(seq: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(payload);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(payload);
}

/// A frame that checks out at `at`: its record and its end.
fn frame_at(bytes: &[u8], at: usize) -> Option<(RawRecord, usize)> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    if header.get(..4)? != MAGIC {
        return None;
    }
    let seq = u64::from_le_bytes(header.get(4..12)?.try_into().ok()?);
    let len = usize::try_from(u32::from_le_bytes(header.get(12..16)?.try_into().ok()?)).ok()?;
    let crc = u32::from_le_bytes(header.get(16..20)?.try_into().ok()?);
    if len > MAX_RECORD {
        return None;
    }
    let end = at.checked_add(HEADER)?.checked_add(len)?;
    let payload = bytes.get(at + HEADER..end)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_le_bytes());
    hasher.update(payload);
    (hasher.finalize() == crc).then(|| {
        (
            RawRecord {
                seq,
                payload: payload.to_vec(),
            },
            end,
        )
    })
}

/// Whether any good frame starts after `from` (damage in the middle rather than a torn
/// tail).
fn good_frame_after(bytes: &[u8], from: usize) -> bool {
    let mut at = from;
    while let Some(k) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(MAGIC.len()).position(|w| w == MAGIC))
    {
        if frame_at(bytes, at + k).is_some() {
            return true;
        }
        at += k + 1;
    }
    false
}

/// What reading a journal found.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) records: Vec<RawRecord>,
    /// Length of the good prefix; a torn tail after it is to be cut.
    pub(crate) good_len: u64,
    /// Bytes of torn tail after the good prefix.
    pub(crate) torn: u64,
}

/// Parses a whole journal file's bytes.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Read, StoreError> {
    let mut records: Vec<RawRecord> = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        match frame_at(bytes, at) {
            Some((record, end)) => {
                if let Some(prev) = records.last()
                    && record.seq != prev.seq.saturating_add(1)
                {
                    return Err(StoreError::JournalDamaged {
                        path: path.to_owned(),
                        offset: at as u64,
                        reason: format!(
                            "record {} follows record {}: records are missing",
                            record.seq, prev.seq
                        ),
                    });
                }
                records.push(record);
                at = end;
            }
            None if good_frame_after(bytes, at + 1) => {
                return Err(StoreError::JournalDamaged {
                    path: path.to_owned(),
                    offset: at as u64,
                    reason: format!(
                        "a damaged record after record {} is followed by {} more bytes holding good records",
                        records.last().map_or(0, |r| r.seq),
                        bytes.len() - at
                    ),
                });
            }
            None => break,
        }
    }
    Ok(Read {
        records,
        good_len: at as u64,
        torn: (bytes.len() - at) as u64,
    })
}

/// The open journal file.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
    fsync: bool,
    /// Test hook: writes fail while set.
    #[cfg(test)]
    pub(crate) fail_writes: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Journal {
    /// Opens (creating) the journal at `path`, reads its records and cuts a torn tail.
    pub(crate) fn open(path: &Path, fsync: bool) -> Result<(Self, Vec<RawRecord>), StoreError> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|error| StoreError::Read {
                path: path.to_owned(),
                error,
            })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|error| StoreError::Read {
                path: path.to_owned(),
                error,
            })?;
        let read = parse(path, &bytes)?;
        if read.torn > 0 {
            tracing::warn!(
                file = %path.display(),
                bytes = read.torn,
                after_record = read.records.last().map_or(0, |r| r.seq),
                "fcsim: cut a partly written journal record left by a crash (it was never acknowledged)"
            );
            file.set_len(read.good_len)
                .map_err(|error| StoreError::Write {
                    path: path.to_owned(),
                    error,
                })?;
        }
        Ok((
            Self {
                path: path.to_owned(),
                file,
                len: read.good_len,
                fsync,
                #[cfg(test)]
                fail_writes: std::sync::Arc::default(),
            },
            read.records,
        ))
    }

    /// Bytes in the journal.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `frames` (already encoded) in one write, then `fdatasync`s when configured.
    /// On failure the file is cut back to where it was, so a later append never follows a
    /// partial frame.
    pub(crate) fn append(&mut self, frames: &[u8]) -> Result<(), StoreError> {
        let written = self.write(frames);
        if let Err(error) = written {
            let restored = self.file.set_len(self.len);
            return Err(match restored {
                Ok(()) => StoreError::Write {
                    path: self.path.clone(),
                    error,
                },
                Err(cut) => StoreError::JournalStuck {
                    path: self.path.clone(),
                    error,
                    cut,
                },
            });
        }
        self.len += frames.len() as u64;
        Ok(())
    }

    fn write(&mut self, frames: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if self.fail_writes.load(std::sync::atomic::Ordering::SeqCst) {
            // Half a write, as a full disk would leave it.
            let _ = self
                .file
                .write_all(frames.get(..frames.len() / 2).unwrap_or_default());
            return Err(std::io::Error::other("injected journal write failure"));
        }
        self.file.write_all(frames)?;
        if self.fsync {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Empties the journal (after a snapshot holding all its records was written).
    pub(crate) fn clear(&mut self) -> Result<(), StoreError> {
        self.file.set_len(0).map_err(|error| StoreError::Write {
            path: self.path.clone(),
            error,
        })?;
        if self.fsync {
            self.file.sync_all().map_err(|error| StoreError::Write {
                path: self.path.clone(),
                error,
            })?;
        }
        self.len = 0;
        Ok(())
    }

    /// Reads the records back from disk (to roll back after a failed append).
    pub(crate) fn reread(&self) -> Result<Vec<RawRecord>, StoreError> {
        let bytes = std::fs::read(&self.path).map_err(|error| StoreError::Read {
            path: self.path.clone(),
            error,
        })?;
        Ok(parse(&self.path, &bytes)?.records)
    }
}
