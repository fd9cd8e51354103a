//! Day files of the raw feed: what `qts record` writes and `qts replay` reads.
//!
//! One file per trading day, `<dir>/<YYYY-MM-DD>.qfeed.gz`, append-only: a sequence of gzip
//! members (each a flush, so a crash loses at most what was not flushed and a torn last member
//! is detected, never misread), which decompress to one stream: the magic `QTSFEED1`, then
//! records of a little-endian `u32` length and a `qts.market.v1.FeedEvent`. Appending to a day
//! that exists continues its stream.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use prost::Message;
use proto::market::v1 as pb;

/// The first bytes of a day's stream.
pub const MAGIC: &[u8; 8] = b"QTSFEED1";
/// The largest record accepted (a feed event is a few hundred bytes).
pub const MAX_RECORD: usize = 1 << 20;

/// What can go wrong with a day file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a feed recording, or a record is damaged.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The file of `day` (`YYYY-MM-DD`) in `dir`.
pub fn day_path(dir: &Path, day: &str) -> PathBuf {
    dir.join(format!("{day}.qfeed.gz"))
}

/// Appends raw feed events to day files, one per trading day.
pub struct DayWriter {
    dir: PathBuf,
    open: Option<(String, File)>,
    buffer: Vec<u8>,
    /// Events written since the day's file was opened.
    written: u64,
}

impl DayWriter {
    /// A writer into `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            open: None,
            buffer: Vec::new(),
            written: 0,
        })
    }

    /// Buffers one event (in its trading day's file); call [`DayWriter::flush`] to make it
    /// durable.
    pub fn write(&mut self, event: &pb::FeedEvent) -> Result<(), Error> {
        if self.open.as_ref().map(|(d, _)| d.as_str()) != Some(event.trading_day.as_str()) {
            self.flush()?;
            self.open_day(&event.trading_day)?;
        }
        let len = event.encoded_len();
        self.buffer
            .extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
        // Encoding into a Vec cannot run out of room.
        let _ = event.encode(&mut self.buffer);
        self.written += 1;
        Ok(())
    }

    /// Bytes buffered and not yet flushed.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Events written to the current day's file by this writer.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Compresses what is buffered into one gzip member, appends it and syncs the file.
    pub fn flush(&mut self) -> Result<(), Error> {
        let Some((day, file)) = &mut self.open else {
            return Ok(());
        };
        if self.buffer.is_empty() {
            return Ok(());
        }
        let path = day_path(&self.dir, day);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&self.buffer).map_err(io)?;
        let member = encoder.finish().map_err(io)?;
        file.write_all(&member).map_err(io)?;
        file.sync_data().map_err(io)?;
        self.buffer.clear();
        Ok(())
    }

    fn open_day(&mut self, day: &str) -> Result<(), Error> {
        if crate::domain::parse_day(day).is_err() {
            return Err(Error::Invalid {
                path: self.dir.clone(),
                reason: format!("event has no valid trading day: {day:?}"),
            });
        }
        let path = day_path(&self.dir, day);
        let fresh = !path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        if fresh {
            self.buffer.extend_from_slice(MAGIC);
        }
        self.open = Some((day.to_owned(), file));
        self.written = 0;
        Ok(())
    }
}

impl Drop for DayWriter {
    fn drop(&mut self) {
        if let Err(err) = self.flush() {
            tracing::error!(error = %err, "could not flush the feed recording");
        }
    }
}

/// Reads the events of one day file, in order. A torn tail (a crash during a flush) ends the
/// file with an error naming how many events were read.
pub struct DayReader {
    path: PathBuf,
    input: BufReader<MultiGzDecoder<File>>,
    read: u64,
    /// Set after the end or an error: nothing more is read.
    done: bool,
}

impl DayReader {
    /// Opens `path` and checks its magic.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut input = BufReader::new(MultiGzDecoder::new(file));
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic).map_err(|e| Error::Invalid {
            path: path.to_owned(),
            reason: format!("not a feed recording: {e}"),
        })?;
        if &magic != MAGIC {
            return Err(Error::Invalid {
                path: path.to_owned(),
                reason: "not a feed recording (no QTSFEED1 magic)".to_owned(),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            input,
            read: 0,
            done: false,
        })
    }

    fn invalid(&mut self, reason: String) -> Error {
        self.done = true;
        Error::Invalid {
            path: self.path.clone(),
            reason: format!("after {} events: {reason}", self.read),
        }
    }
}

impl Iterator for DayReader {
    type Item = Result<pb::FeedEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut len = [0u8; 4];
        match read_full(&mut self.input, &mut len) {
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(4) => {}
            Ok(_) => return Some(Err(self.invalid("torn record length".to_owned()))),
            Err(e) => return Some(Err(self.invalid(format!("damaged: {e}")))),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_RECORD {
            return Some(Err(self.invalid(format!("record of {len} bytes"))));
        }
        let mut body = vec![0u8; len];
        match read_full(&mut self.input, &mut body) {
            Ok(n) if n == len => {}
            Ok(_) => return Some(Err(self.invalid("torn record".to_owned()))),
            Err(e) => return Some(Err(self.invalid(format!("damaged: {e}")))),
        }
        match pb::FeedEvent::decode(body.as_slice()) {
            Ok(event) => {
                self.read += 1;
                Some(Ok(event))
            }
            Err(e) => Some(Err(self.invalid(format!("record does not decode: {e}")))),
        }
    }
}

/// Reads until `buf` is full or the stream ends; answers the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(day: &str, seq: u64, symbol: &str) -> pb::FeedEvent {
        pb::FeedEvent {
            source: "fastconnect-v2".into(),
            sequence: seq,
            received_at: Some(prost_types::Timestamp {
                seconds: 1_749_520_800 + i64::try_from(seq).unwrap(),
                nanos: 0,
            }),
            trading_day: day.into(),
            event: Some(pb::feed_event::Event::Trade(pb::Trade {
                symbol: symbol.into(),
                price: 25_000,
                quantity: 100,
                total_volume: 100 * seq,
                ..Default::default()
            })),
        }
    }

    #[test]
    fn events_come_back_in_order_across_flushes_restarts_and_days() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = DayWriter::new(dir.path()).unwrap();
        w.write(&event("2025-06-10", 1, "SSI")).unwrap();
        w.flush().unwrap();
        w.write(&event("2025-06-10", 2, "FPT")).unwrap();
        drop(w); // flushes
        // A restart appends to the same day.
        let mut w = DayWriter::new(dir.path()).unwrap();
        w.write(&event("2025-06-10", 3, "VNM")).unwrap();
        w.write(&event("2025-06-11", 1, "SSI")).unwrap();
        drop(w);
        let day: Vec<_> = DayReader::open(&day_path(dir.path(), "2025-06-10"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            day,
            vec![
                event("2025-06-10", 1, "SSI"),
                event("2025-06-10", 2, "FPT"),
                event("2025-06-10", 3, "VNM")
            ]
        );
        let next: Vec<_> = DayReader::open(&day_path(dir.path(), "2025-06-11"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(next.len(), 1);
    }

    #[test]
    fn a_torn_tail_is_reported_after_the_events_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = DayWriter::new(dir.path()).unwrap();
        for seq in 1..=3 {
            w.write(&event("2025-06-10", seq, "SSI")).unwrap();
            w.flush().unwrap();
        }
        drop(w);
        let path = day_path(dir.path(), "2025-06-10");
        let len = std::fs::metadata(&path).unwrap().len();
        // Cut the last member in half, as a crash during its write would.
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len - 20).unwrap();
        let results: Vec<_> = DayReader::open(&path).unwrap().collect();
        assert!(results[0].is_ok() && results[1].is_ok());
        let err = results[2].as_ref().unwrap_err().to_string();
        assert!(err.contains("after 2 events"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_recording_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.qfeed.gz");
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(b"hello world").unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let err = DayReader::open(&path).err().unwrap().to_string();
        assert!(err.contains("QTSFEED1"), "{err}");
        std::fs::write(&path, b"plain text").unwrap();
        assert!(DayReader::open(&path).is_err());
    }
}
