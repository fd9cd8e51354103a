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

/// What a replay published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Feed events published to `market.raw.v1`.
    pub events: u64,
    /// Securities published to `masterdata.security.v1`.
    pub securities: u64,
}

/// Most events a replay hands the bus at once.
const REPLAY_BATCH: usize = 500;

impl ReplayStats {
    /// Adds `event` to `batch` (a security to master data's topic, the rest to the raw feed)
    /// and counts it.
    fn add(&mut self, event: &pb::FeedEvent, batch: &mut Vec<(&str, common::bus::Envelope)>) {
        use common::bus::Envelope;
        use common::bus::topics::{MARKET_RAW, MASTERDATA_SECURITY};
        let source = crate::service::SOURCE;
        match &event.event {
            Some(pb::feed_event::Event::Security(s)) => {
                self.securities += 1;
                batch.push((
                    MASTERDATA_SECURITY.static_name(),
                    Envelope::new(source, &s.symbol, s),
                ));
            }
            _ => {
                self.events += 1;
                let key = crate::feed::key(event);
                batch.push((MARKET_RAW.static_name(), Envelope::new(source, key, event)));
            }
        }
    }
}

/// Publishes recorded days (files in the order given) into `bus`: securities to
/// `masterdata.security.v1`, everything else to `market.raw.v1`. With `speed`, each event
/// waits for its original time since the first one, `speed` times faster; without, as fast as
/// the bus takes them. Stops early (with what was published) when `token` is cancelled.
pub async fn replay(
    files: &[PathBuf],
    bus: &common::bus::SharedBus,
    speed: Option<f64>,
    token: &common::shutdown::CancellationToken,
) -> Result<ReplayStats, ReplayError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<pb::FeedEvent, Error>>(4096);
    let paths = files.to_vec();
    // Files are read on a blocking thread; the channel bounds what is read ahead.
    // Each file is read twice: its securities first (so master data is complete before the
    // day's first message, whatever their order in the file), then the feed.
    let reader = tokio::task::spawn_blocking(move || {
        for path in paths {
            for securities in [true, false] {
                let reader = match DayReader::open(&path) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                };
                for item in reader {
                    let is_security = matches!(
                        &item,
                        Ok(pb::FeedEvent {
                            event: Some(pb::feed_event::Event::Security(_)),
                            ..
                        })
                    );
                    if item.is_ok() && is_security != securities {
                        continue;
                    }
                    let failed = item.is_err();
                    if tx.blocking_send(item).is_err() || failed {
                        return;
                    }
                }
            }
        }
    });
    let mut stats = ReplayStats::default();
    let mut first: Option<time::OffsetDateTime> = None;
    let started = tokio::time::Instant::now();
    // When an event is due: with `speed`, its original time since the first, scaled.
    let mut due = |event: &pb::FeedEvent| {
        let is_security = matches!(event.event, Some(pb::feed_event::Event::Security(_)));
        match (speed, event.received_at, is_security) {
            (Some(speed), Some(at), false) => {
                let at = crate::domain::to_time(at);
                let t0 = *first.get_or_insert(at);
                let offset = ((at - t0).as_seconds_f64() / speed).max(0.0);
                Some(started + std::time::Duration::from_secs_f64(offset))
            }
            _ => None,
        }
    };
    // Events that are due together go to the bus together (many in flight, in order).
    let mut held = None;
    let mut batch: Vec<(&str, common::bus::Envelope)> = Vec::with_capacity(REPLAY_BATCH);
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => match rx.recv().await {
                Some(item) => item,
                None => break,
            },
        };
        let event = item?;
        if let Some(at) = due(&event) {
            tokio::select! {
                () = token.cancelled() => break,
                () = tokio::time::sleep_until(at) => {}
            }
        }
        if token.is_cancelled() {
            break;
        }
        batch.clear();
        let mut counts = ReplayStats::default();
        counts.add(&event, &mut batch);
        while batch.len() < REPLAY_BATCH {
            match rx.try_recv() {
                Ok(Ok(next)) if due(&next).is_none_or(|at| at <= tokio::time::Instant::now()) => {
                    counts.add(&next, &mut batch);
                }
                Ok(next) => {
                    held = Some(next);
                    break;
                }
                Err(_) => break,
            }
        }
        if !crate::service::publish_all(bus, &batch, token)
            .await
            .map_err(ReplayError::Bus)?
        {
            break;
        }
        stats.events += counts.events;
        stats.securities += counts.securities;
    }
    drop(rx);
    reader
        .await
        .map_err(|e| ReplayError::Bus(anyhow::anyhow!("reader task: {e}")))?;
    Ok(stats)
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A day file could not be read.
    #[error(transparent)]
    File(#[from] Error),
    /// The bus refused an event.
    #[error("publish: {0:#}")]
    Bus(anyhow::Error),
}

/// Writes what the fleet's feed publishes (`market.raw.v1`) and master data
/// (`masterdata.security.v1`, as security events) to day files in `dir` until `token` is
/// cancelled; flushes every `flush_every` and commits the bus offsets only after a flush, so a
/// crash loses nothing (a redelivered message is written again; the normaliser drops repeats).
pub async fn record_bus(
    bus: common::bus::SharedBus,
    dir: PathBuf,
    flush_every: std::time::Duration,
    token: common::shutdown::CancellationToken,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use common::bus::topics::{MARKET_RAW, MASTERDATA_SECURITY};
    let mut sub = bus
        .subscribe(
            "qts.record",
            &[MARKET_RAW.static_name(), MASTERDATA_SECURITY.static_name()],
        )
        .await
        .context("subscribe to the raw feed")?;
    let mut writer = DayWriter::new(&dir)?;
    let mut pending: Vec<(String, i32, i64)> = Vec::new();
    let mut last_flush = tokio::time::Instant::now();
    loop {
        let polled = tokio::select! {
            () = token.cancelled() => None,
            d = sub.poll(std::time::Duration::from_millis(200)) => Some(d),
        };
        let stopping = polled.is_none();
        match polled {
            Some(Ok(Some(d))) => {
                let event = if d.topic == MASTERDATA_SECURITY.static_name() {
                    d.envelope.decode::<pb::Security>().map(|s| pb::FeedEvent {
                        source: "master-data".to_owned(),
                        sequence: 0,
                        received_at: Some(crate::domain::to_timestamp(d.envelope.time)),
                        trading_day: s.trading_day.clone(),
                        event: Some(pb::feed_event::Event::Security(s)),
                    })
                } else {
                    d.envelope.decode::<pb::FeedEvent>()
                };
                match event {
                    Ok(e) if crate::domain::parse_day(&e.trading_day).is_ok() => {
                        writer.write(&e)?
                    }
                    Ok(e) => tracing::warn!(
                        day = e.trading_day,
                        "not recording an event without a trading day"
                    ),
                    Err(err) => {
                        tracing::warn!(error = %common::error::chain(&err), "not recording an undecodable event")
                    }
                }
                crate::service::remember(&mut pending, d.topic, d.partition, d.offset);
            }
            Some(Ok(None)) | None => {}
            Some(Err(err)) => {
                tracing::warn!(error = %common::error::chain(&err), "recorder poll failed");
            }
        }
        if stopping || last_flush.elapsed() >= flush_every {
            tokio::task::block_in_place(|| writer.flush())?;
            crate::service::commit(&mut *sub, &mut pending).await;
            last_flush = tokio::time::Instant::now();
        }
        if stopping {
            return Ok(());
        }
    }
}
