//! The embedded bus on disk: record framing, segment files, scanning with resynchronisation,
//! quarantine of damaged records, migration of the pre-segment `<partition>.log` files, the
//! directory lock. Everything here is blocking I/O: it runs on the writer thread or in
//! `spawn_blocking`, never on an async worker.
//!
//! Layout under the bus directory:
//!
//! ```text
//! bus.lock                                   lock file holding the owner's pid
//! topics/<topic>/<partition>/<base>.seg      segments; <base> = first offset, 20 digits
//! groups/<group>.offsets                     committed offsets, an append-only log
//! quarantine/<topic>/<partition>/*.damaged   raw bytes of damaged records, named by offset
//! ```
//!
//! A record is a 20-byte header and the envelope (`qts.common.v1.Envelope`):
//!
//! ```text
//! magic "QBR1" | body length u32 LE | offset i64 LE | CRC-32 u32 LE | body
//! ```
//!
//! The CRC covers the length, the offset and the body. Storing the offset in every record is
//! what lets a damaged record be removed without renumbering the records after it, and the
//! magic is what a scan looks for to resynchronise after damage.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::{Envelope, Error};

/// Largest envelope (encoded) the embedded bus stores, and the largest length a record header
/// read from disk may claim: a header claiming more is damage, never an allocation.
pub const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// How the persisted log is cut into segments, how long it is kept and when it is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskOptions {
    /// A partition's active segment is closed, and a new one started, once it holds this many
    /// bytes. Retention deletes whole closed segments.
    pub segment_bytes: u64,
    /// Retention by size: the oldest closed segments of a partition are deleted while the
    /// partition's segments hold more than this.
    pub retention_bytes: u64,
    /// Retention by age: a closed segment whose last write is older than this is deleted.
    pub retention: Duration,
    /// Written records are fsynced at most this long after `publish` returned; zero fsyncs
    /// before `publish` (and `commit`) return, one fsync per batch of concurrent writes.
    pub fsync_interval: Duration,
}

impl Default for DiskOptions {
    /// The values of `[bus.embedded]` in `crates/common-settings/config/default.toml`.
    fn default() -> Self {
        Self {
            segment_bytes: 32 * 1024 * 1024,
            retention_bytes: 512 * 1024 * 1024,
            retention: Duration::from_secs(72 * 3600),
            fsync_interval: Duration::from_millis(1000),
        }
    }
}

impl From<&common_settings::EmbeddedBusSettings> for DiskOptions {
    fn from(s: &common_settings::EmbeddedBusSettings) -> Self {
        Self {
            segment_bytes: s.segment_mib.saturating_mul(1024 * 1024),
            retention_bytes: s.retention_mib_per_partition.saturating_mul(1024 * 1024),
            retention: Duration::from_secs(s.retention_hours.saturating_mul(3600)),
            fsync_interval: Duration::from_millis(s.fsync_interval_ms),
        }
    }
}

const SEGMENT_MAGIC: [u8; 4] = *b"QBR1";
const COMMIT_MAGIC: [u8; 4] = *b"QBC1";
const HEADER: u64 = 20;
const LEGACY_HEADER: u64 = 8;
/// Pending frames are written once they reach this size, so a batch never buffers much.
const FLUSH_BYTES: usize = 1024 * 1024;
/// Bytes read from a file at a time while scanning.
const READ_CHUNK: usize = 256 * 1024;

/// Appends one framed record to `out`. `body` must not exceed [`MAX_EVENT_BYTES`].
fn frame(out: &mut Vec<u8>, magic: [u8; 4], offset: i64, body: &[u8]) {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut head = [0u8; 12];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..].copy_from_slice(&offset.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    crc.update(body);
    out.extend_from_slice(&magic);
    out.extend_from_slice(&head);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(body);
}

/// Adds the path to an I/O error, keeping its kind.
pub(super) fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// An error for every waiter of a failed batch (`io::Error` is not `Clone`).
pub(super) fn copy_error(e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), e.to_string())
}

/// Which kind of file is scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// A segment: `QBR1` records.
    Segment,
    /// A group's committed offsets: `QBC1` records.
    Commits,
    /// The pre-segment `<partition>.log`: length u32, CRC-32 of the body u32, body; the
    /// offset of a record is its index.
    Legacy,
}

impl Format {
    fn header(self) -> u64 {
        match self {
            Format::Segment | Format::Commits => HEADER,
            Format::Legacy => LEGACY_HEADER,
        }
    }

    fn magic(self) -> Option<[u8; 4]> {
        match self {
            Format::Segment => Some(SEGMENT_MAGIC),
            Format::Commits => Some(COMMIT_MAGIC),
            Format::Legacy => None,
        }
    }
}

/// A sliding window over a file: holds at most one record (bounded by [`MAX_EVENT_BYTES`])
/// plus a read chunk, whatever the file's size.
struct Window {
    file: File,
    len: u64,
    /// File position of `buf[0]`; the file's cursor is always at `start + buf.len()`.
    start: u64,
    buf: Vec<u8>,
}

impl Window {
    fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            len,
            start: 0,
            buf: Vec::new(),
        })
    }

    /// Bytes `pos..pos + n`; the caller has checked that they lie within the file.
    fn get(&mut self, pos: u64, n: u64) -> io::Result<&[u8]> {
        let end = pos + n;
        let buf_end = self.start + self.buf.len() as u64;
        if pos < self.start || pos > buf_end {
            self.buf.clear();
            self.file.seek(SeekFrom::Start(pos))?;
            self.start = pos;
        } else if end > buf_end && pos > self.start {
            self.buf.drain(..(pos - self.start) as usize);
            self.start = pos;
        }
        let have = self.start + self.buf.len() as u64;
        if have < end {
            let want = (end - have).max(READ_CHUNK as u64).min(self.len - have) as usize;
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            if let Err(e) = self.file.read_exact(&mut self.buf[old..]) {
                self.buf.truncate(old);
                return Err(e);
            }
        }
        let from = (pos - self.start) as usize;
        Ok(&self.buf[from..from + n as usize])
    }
}

/// Why bytes at a position are not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Defect {
    /// The header or the body runs past the end of the file.
    Incomplete,
    /// No record magic.
    Magic,
    /// The length header claims more than [`MAX_EVENT_BYTES`].
    Length(u64),
    /// The checksum does not match.
    Crc,
    /// The checksum matches but the body does not decode.
    Undecodable(String),
    /// A valid record whose offset does not follow the previous one.
    Order(i64),
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Defect::Incomplete => f.write_str("record runs past the end of the file"),
            Defect::Magic => f.write_str("no record header"),
            Defect::Length(n) => write!(f, "length header claims {n} bytes"),
            Defect::Crc => f.write_str("checksum mismatch"),
            Defect::Undecodable(why) => write!(f, "checksum valid but body does not decode: {why}"),
            Defect::Order(o) => write!(f, "record claims offset {o}, out of order"),
        }
    }
}

enum Parsed<T> {
    Record {
        offset: i64,
        size: u64,
        value: T,
    },
    /// `size` is the record's size when its length header is plausible.
    Defect {
        defect: Defect,
        size: Option<u64>,
    },
}

/// Decodes (or just checks) the body of a record whose checksum is valid, given its offset.
pub(super) type Decode<'a, T> = &'a dyn Fn(i64, &[u8]) -> Result<T, String>;

/// Parses the record at `pos`; `index` is the offset a legacy record gets.
fn parse_at<T>(
    w: &mut Window,
    pos: u64,
    format: Format,
    index: i64,
    decode: Decode<'_, T>,
) -> io::Result<Parsed<T>> {
    let remaining = w.len - pos;
    let header = format.header();
    if let Some(magic) = format.magic() {
        let n = remaining.min(4);
        if w.get(pos, n)? != &magic[..n as usize] {
            return Ok(Parsed::Defect {
                defect: Defect::Magic,
                size: None,
            });
        }
    }
    if remaining < header {
        return Ok(Parsed::Defect {
            defect: Defect::Incomplete,
            size: None,
        });
    }
    let mut head = [0u8; HEADER as usize];
    head[..header as usize].copy_from_slice(w.get(pos, header)?);
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let (len, offset, crc, covered) = match format {
        Format::Legacy => (u64::from(word(0)), index, word(4), &head[..0]),
        Format::Segment | Format::Commits => {
            let mut o = [0u8; 8];
            o.copy_from_slice(&head[8..16]);
            (
                u64::from(word(4)),
                i64::from_le_bytes(o),
                word(16),
                &head[4..16],
            )
        }
    };
    if len > MAX_EVENT_BYTES as u64 {
        return Ok(Parsed::Defect {
            defect: Defect::Length(len),
            size: None,
        });
    }
    if header + len > remaining {
        return Ok(Parsed::Defect {
            defect: Defect::Incomplete,
            size: None,
        });
    }
    let body = w.get(pos + header, len)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(covered);
    hasher.update(body);
    let size = Some(header + len);
    if hasher.finalize() != crc {
        return Ok(Parsed::Defect {
            defect: Defect::Crc,
            size,
        });
    }
    match decode(offset, body) {
        Ok(value) => Ok(Parsed::Record {
            offset,
            size: header + len,
            value,
        }),
        Err(why) => Ok(Parsed::Defect {
            defect: Defect::Undecodable(why),
            size,
        }),
    }
}

/// What a scan does with each valid record: offset, body, decoded body.
pub(super) type OnRecord<'a, T> = &'a mut dyn FnMut(i64, &[u8], T) -> io::Result<()>;

/// Bytes of a file that are not a valid record, between two valid ones (or at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Damage {
    /// File position of the first damaged byte.
    pub(super) pos: u64,
    /// Number of damaged bytes.
    pub(super) len: u64,
    /// What is wrong with the first record of the region.
    pub(super) reason: String,
    /// The offset the damaged bytes start at (one past the last valid record).
    pub(super) first_offset: i64,
    /// The offset of the first valid record after them; `None` when they run to the end.
    pub(super) next_offset: Option<i64>,
}

impl Damage {
    /// The quarantine file name: the offsets the damaged bytes held.
    pub(super) fn file_name(&self) -> String {
        let lo = self.first_offset;
        match self.next_offset {
            Some(next) if next == lo + 1 => format!("offset-{lo}.damaged"),
            Some(next) if next > lo + 1 => format!("offsets-{lo}-{}.damaged", next - 1),
            Some(_) => format!("no-offset-before-{lo}.damaged"),
            None => format!("offsets-{lo}-and-later.damaged"),
        }
    }
}

/// What a scan found besides the valid records (which go to its callback).
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Damaged regions, to be quarantined.
    pub(super) damaged: Vec<Damage>,
    /// Where a torn last record starts, to be cut.
    pub(super) torn_at: Option<u64>,
    /// Offset of the last valid record.
    pub(super) last: Option<i64>,
    /// The offset the next record gets (legacy: the record count, damaged ones included).
    pub(super) next_index: i64,
    /// The file's length.
    pub(super) len: u64,
}

/// What [`Scanner::step`] found.
pub(super) enum Step<T> {
    /// A valid record.
    Record {
        offset: i64,
        /// File position of its header.
        pos: u64,
        /// File position and length of its body.
        body: (u64, u64),
        value: T,
    },
    /// Bytes that are not a valid record; the scanner has moved past them.
    Damaged(Damage),
    /// An incomplete last record (a crash, or an append in progress) starting here.
    Torn(u64),
    /// The end of the file (as long as it was when opened).
    End,
}

/// Reads the records of a file one at a time, from a record boundary on, resynchronising after
/// damage. Holds one record and a read chunk at most ([`Window`]).
pub(super) struct Scanner {
    w: Window,
    format: Format,
    allow_torn: bool,
    pos: u64,
    /// The lowest offset the next record may have (legacy: the offset it gets).
    expected: i64,
}

impl Scanner {
    /// Starts at `pos` (a record boundary) of `path`, where the next record's offset is at
    /// least `expected`. With `allow_torn`, an incomplete record followed by nothing valid is
    /// [`Step::Torn`], not damage.
    pub(super) fn open(
        path: &Path,
        format: Format,
        allow_torn: bool,
        pos: u64,
        expected: i64,
    ) -> io::Result<Self> {
        let w = Window::open(path)?;
        let pos = pos.min(w.len);
        Ok(Self {
            w,
            format,
            allow_torn,
            pos,
            expected,
        })
    }

    /// Where the next step starts.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// The lowest offset the next record may have.
    pub(super) fn expected(&self) -> i64 {
        self.expected
    }

    /// The file's length when it was opened.
    pub(super) fn len(&self) -> u64 {
        self.w.len
    }

    /// The bytes at `(position, length)`, as [`Step::Record::body`] gives them.
    pub(super) fn bytes(&mut self, (pos, n): (u64, u64)) -> io::Result<&[u8]> {
        self.w.get(pos, n)
    }

    /// The next record, damaged region, torn tail or the end. Records of segment and commit
    /// files must have offsets from `expected` on, increasing (commit records are not
    /// ordered). A damaged record is skipped by resynchronising on the next position holding
    /// a valid record.
    pub(super) fn step<T>(&mut self, decode: Decode<'_, T>) -> io::Result<Step<T>> {
        let len = self.w.len;
        if self.pos >= len {
            return Ok(Step::End);
        }
        let (pos, expected, format) = (self.pos, self.expected, self.format);
        // Commit records carry committed offsets of many partitions: no order to check.
        let ordered = format != Format::Commits;
        let header = format.header();
        let (defect, size) = match parse_at(&mut self.w, pos, format, expected, decode)? {
            Parsed::Record {
                offset,
                size,
                value,
            } if !ordered || offset >= expected => {
                if ordered {
                    self.expected = offset + 1;
                }
                self.pos = pos + size;
                return Ok(Step::Record {
                    offset,
                    pos,
                    body: (pos + header, size - header),
                    value,
                });
            }
            Parsed::Record { offset, size, .. } => (Defect::Order(offset), Some(size)),
            Parsed::Defect { defect, size } => (defect, size),
        };
        // A legacy record carries no offset: a damaged one is taken to hold exactly one.
        let resync_index = match format {
            Format::Legacy => expected + 1,
            Format::Segment | Format::Commits => expected,
        };
        match find_next(&mut self.w, pos, size, format, resync_index, decode)? {
            Some((next, next_offset)) => {
                self.expected = resync_index;
                self.pos = next;
                Ok(Step::Damaged(Damage {
                    pos,
                    len: next - pos,
                    reason: defect.to_string(),
                    first_offset: expected,
                    next_offset: Some(next_offset),
                }))
            }
            None if self.allow_torn && defect == Defect::Incomplete => {
                self.pos = len;
                Ok(Step::Torn(pos))
            }
            None => {
                self.expected = resync_index;
                self.pos = len;
                Ok(Step::Damaged(Damage {
                    pos,
                    len: len - pos,
                    reason: defect.to_string(),
                    first_offset: expected,
                    next_offset: None,
                }))
            }
        }
    }
}

/// Reads every record of `path` in order, handing valid ones to `on_record` and collecting
/// damage (see [`Scanner::step`]); records of segment and commit files must have offsets from
/// `first_offset` on. When nothing valid follows an incomplete record and `allow_torn` is set,
/// it is a torn tail (a crash in the middle of an append), which only the newest segment can
/// have.
pub(super) fn scan<T>(
    path: &Path,
    format: Format,
    allow_torn: bool,
    first_offset: i64,
    decode: Decode<'_, T>,
    on_record: OnRecord<'_, T>,
) -> io::Result<Scan> {
    let mut scanner = Scanner::open(path, format, allow_torn, 0, first_offset)?;
    let mut out = Scan {
        len: scanner.len(),
        next_index: first_offset,
        ..Scan::default()
    };
    loop {
        match scanner.step(decode)? {
            Step::Record {
                offset,
                body,
                value,
                ..
            } => {
                on_record(offset, scanner.bytes(body)?, value)?;
                out.last = Some(offset);
            }
            Step::Damaged(damage) => out.damaged.push(damage),
            Step::Torn(pos) => out.torn_at = Some(pos),
            Step::End => break,
        }
    }
    out.next_index = scanner.expected();
    Ok(out)
}

/// The first position after `pos` holding a valid record with an offset of at least
/// `min_offset`: first where the damaged record's own length says the next one starts, then
/// byte by byte.
fn find_next<T>(
    w: &mut Window,
    pos: u64,
    size: Option<u64>,
    format: Format,
    min_offset: i64,
    decode: Decode<'_, T>,
) -> io::Result<Option<(u64, i64)>> {
    let valid_at = |w: &mut Window, q: u64| -> io::Result<Option<i64>> {
        Ok(match parse_at(w, q, format, min_offset, decode)? {
            Parsed::Record { offset, .. } if offset >= min_offset => Some(offset),
            Parsed::Record { .. } | Parsed::Defect { .. } => None,
        })
    };
    if let Some(size) = size {
        let q = pos + size;
        if q < w.len
            && let Some(offset) = valid_at(w, q)?
        {
            return Ok(Some((q, offset)));
        }
    }
    for q in pos + 1..w.len {
        if let Some(offset) = valid_at(w, q)? {
            return Ok(Some((q, offset)));
        }
    }
    Ok(None)
}

/// Copies the damaged bytes into `dir` (written to a temporary name, fsynced, renamed), and
/// returns the file it wrote.
pub(super) fn quarantine(dir: &Path, src: &Path, damage: &Damage) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
    let dst = dir.join(damage.file_name());
    let tmp = dst.with_extension("damaged.tmp");
    let mut from = File::open(src).map_err(|e| at(src, e))?;
    from.seek(SeekFrom::Start(damage.pos))
        .map_err(|e| at(src, e))?;
    let mut to = File::create(&tmp).map_err(|e| at(&tmp, e))?;
    io::copy(&mut from.take(damage.len), &mut to).map_err(|e| at(&tmp, e))?;
    to.sync_all().map_err(|e| at(&tmp, e))?;
    std::fs::rename(&tmp, &dst).map_err(|e| at(&dst, e))?;
    sync_dir(dir);
    Ok(dst)
}

/// Rewrites `path` keeping only `keep` (byte ranges, in order), then restores its modification
/// time so age retention still sees when it was last appended to.
fn rewrite(path: &Path, keep: &[(u64, u64)], modified: SystemTime) -> io::Result<()> {
    let tmp = path.with_extension("seg.rewrite");
    let mut from = File::open(path).map_err(|e| at(path, e))?;
    let mut to = File::create(&tmp).map_err(|e| at(&tmp, e))?;
    for (start, end) in keep {
        from.seek(SeekFrom::Start(*start))
            .map_err(|e| at(path, e))?;
        io::copy(&mut (&mut from).take(end - start), &mut to).map_err(|e| at(&tmp, e))?;
    }
    to.set_modified(modified).map_err(|e| at(&tmp, e))?;
    to.sync_all().map_err(|e| at(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| at(path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Makes directory entries (new, renamed or deleted files) durable. Best effort: a failure
/// only weakens durability against a power cut, so it is logged, not returned.
pub(super) fn sync_dir(dir: &Path) {
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %common_error::chain(&e), "cannot fsync bus directory");
    }
}

/// A file the writer appends to and the syncer fsyncs. `dirty` is set by the writer after a
/// write and cleared by whoever fsyncs it next.
pub(super) struct SyncFile {
    pub(super) file: File,
    pub(super) path: PathBuf,
    pub(super) dirty: AtomicBool,
}

impl SyncFile {
    fn open_append(path: &Path, create_new: bool) -> io::Result<Arc<Self>> {
        let file = OpenOptions::new()
            .append(true)
            .create(create_new)
            .create_new(create_new)
            .open(path)
            .map_err(|e| at(path, e))?;
        Ok(Arc::new(Self {
            file,
            path: path.to_owned(),
            dirty: AtomicBool::new(false),
        }))
    }

    /// Fsyncs the file's data if it was written since the last fsync.
    pub(super) fn sync(&self) -> io::Result<()> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            self.file.sync_data().map_err(|e| at(&self.path, e))?;
        }
        Ok(())
    }
}

/// One segment file.
#[derive(Debug, Clone)]
struct Segment {
    base: i64,
    path: PathBuf,
    bytes: u64,
    modified: SystemTime,
}

fn segment_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.seg"))
}

/// The segments of one partition. Owned by the writer thread once the partition is open.
pub(super) struct DiskLog {
    dir: PathBuf,
    closed: VecDeque<Segment>,
    active: Segment,
    file: Arc<SyncFile>,
    /// Framed records not yet written.
    buf: Vec<u8>,
    opts: DiskOptions,
    /// Files written since the caller last collected them (for fsync).
    written: Vec<Arc<SyncFile>>,
}

impl DiskLog {
    /// An empty log in `dir` (created), starting at offset `base`.
    fn create(dir: &Path, base: i64, opts: DiskOptions) -> io::Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
        let path = segment_path(dir, base);
        let file = SyncFile::open_append(&path, true)?;
        sync_dir(dir);
        Ok(Self {
            dir: dir.to_owned(),
            closed: VecDeque::new(),
            active: Segment {
                base,
                path,
                bytes: 0,
                modified: SystemTime::now(),
            },
            file,
            buf: Vec::new(),
            opts,
            written: Vec::new(),
        })
    }

    /// Frames a record for the active segment, first closing it if it is full.
    pub(super) fn push(&mut self, offset: i64, body: &[u8]) -> io::Result<()> {
        let size = self.active.bytes + self.buf.len() as u64;
        if size > 0 && size >= self.opts.segment_bytes {
            self.flush()?;
            self.roll(offset)?;
        }
        frame(&mut self.buf, SEGMENT_MAGIC, offset, body);
        if self.buf.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the framed records to the OS. On failure the segment is cut back to its last
    /// complete write, so a later write never lands behind half a record.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = (&self.file.file).write_all(&self.buf);
        let n = self.buf.len() as u64;
        self.buf.clear();
        match result {
            Ok(()) => {
                self.active.bytes += n;
                self.active.modified = SystemTime::now();
                if !self.file.dirty.swap(true, Ordering::AcqRel) {
                    self.written.push(self.file.clone());
                }
                Ok(())
            }
            Err(e) => {
                if let Err(cut) = self.file.file.set_len(self.active.bytes) {
                    tracing::error!(path = %self.active.path.display(), error = %common_error::chain(&cut), "cannot cut a failed write from a bus segment");
                }
                Err(at(&self.active.path, e))
            }
        }
    }

    /// Closes the active segment and starts one whose first record has offset `base`.
    fn roll(&mut self, base: i64) -> io::Result<()> {
        let path = segment_path(&self.dir, base);
        let file = SyncFile::open_append(&path, true)?;
        sync_dir(&self.dir);
        let closed = std::mem::replace(
            &mut self.active,
            Segment {
                base,
                path,
                bytes: 0,
                modified: SystemTime::now(),
            },
        );
        self.closed.push_back(closed);
        self.file = file;
        Ok(())
    }

    /// Files written since the last call: what the next fsync has to cover.
    pub(super) fn take_written(&mut self) -> Vec<Arc<SyncFile>> {
        std::mem::take(&mut self.written)
    }

    /// The active segment's file.
    pub(super) fn active_file(&self) -> &Arc<SyncFile> {
        &self.file
    }

    /// Bytes in all segments of the partition.
    pub(super) fn bytes(&self) -> u64 {
        self.active.bytes + self.closed.iter().map(|s| s.bytes).sum::<u64>()
    }

    /// Deletes the oldest closed segments while the partition is over its size or they are
    /// older than the retention age. The active segment is never deleted.
    pub(super) fn enforce_retention(&mut self, now: SystemTime) {
        let mut total = self.bytes();
        while let Some(oldest) = self.closed.front() {
            let expired = now
                .duration_since(oldest.modified)
                .is_ok_and(|age| age > self.opts.retention);
            if !expired && total <= self.opts.retention_bytes {
                break;
            }
            match std::fs::remove_file(&oldest.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %oldest.path.display(), error = %common_error::chain(&e), "cannot delete an expired bus segment");
                    break;
                }
            }
            tracing::debug!(path = %oldest.path.display(), bytes = oldest.bytes, expired, "deleted bus segment");
            total -= oldest.bytes;
            self.closed.pop_front();
        }
    }
}

/// What opening a partition found: the newest records to keep in memory (offset ascending),
/// the next offset, and the log to append to.
pub(super) struct Opened {
    pub(super) records: Vec<(i64, Bytes)>,
    pub(super) next: i64,
    pub(super) log: DiskLog,
}

/// Opens partition `partition` of `topic` under the bus directory `root`: migrates a legacy
/// `<partition>.log`, applies retention, scans the newest segments (quarantining damage,
/// cutting a torn tail) and keeps the newest `window` records.
pub(super) fn open_partition(
    root: &Path,
    topic: &str,
    partition: i32,
    window: usize,
    opts: DiskOptions,
) -> io::Result<Opened> {
    let topic_dir = root.join("topics").join(topic);
    let dir = topic_dir.join(partition.to_string());
    let quarantine_dir = root
        .join("quarantine")
        .join(topic)
        .join(partition.to_string());
    migrate_legacy(&topic_dir, partition, &quarantine_dir, opts)?;
    std::fs::create_dir_all(&dir).map_err(|e| at(&dir, e))?;

    let mut segments = list_segments(&dir)?;
    if segments.is_empty() {
        let log = DiskLog::create(&dir, 0, opts)?;
        return Ok(Opened {
            records: Vec::new(),
            next: 0,
            log,
        });
    }
    let now = SystemTime::now();
    let expired = |s: &Segment| {
        now.duration_since(s.modified)
            .is_ok_and(|age| age > opts.retention)
    };
    // Retention: whole old segments go, oldest first; the newest is decided after its scan.
    let mut total: u64 = segments.iter().map(|s| s.bytes).sum();
    let mut delete = Vec::new();
    while segments.len() > 1 {
        let oldest = &segments[0];
        if !expired(oldest) && total <= opts.retention_bytes {
            break;
        }
        total -= oldest.bytes;
        delete.push(segments.remove(0));
    }

    // Scan newest first until the in-memory window is full. When even the newest segment
    // has expired it is scanned only for the next offset.
    let newest = segments.len() - 1;
    let all_expired = expired(&segments[newest]);
    let window = if all_expired { 0 } else { window };
    let mut records: VecDeque<(i64, Bytes)> = VecDeque::new();
    let mut next = 0;
    for i in (0..segments.len()).rev() {
        if i < newest && records.len() >= window {
            break;
        }
        let seg = &segments[i];
        let keep = window.saturating_sub(records.len());
        let mut found: VecDeque<(i64, Bytes)> = VecDeque::new();
        let scanned = scan(
            &seg.path,
            Format::Segment,
            i == newest,
            seg.base,
            &|_, body| Envelope::from_bytes(body).map(|_| ()),
            &mut |offset, body, ()| {
                if keep > 0 {
                    found.push_back((offset, Bytes::copy_from_slice(body)));
                    if found.len() > keep {
                        found.pop_front();
                    }
                }
                Ok(())
            },
        )
        .map_err(|e| at(&seg.path, e))?;
        repair(seg, &scanned, &quarantine_dir, topic, partition)?;
        if i == newest {
            next = scanned.last.map_or(seg.base, |o| o + 1);
        }
        while let Some(r) = found.pop_back() {
            records.push_front(r);
        }
    }
    if all_expired {
        // Everything has expired: start an empty segment at the next offset, so offsets
        // continue where they were.
        delete.append(&mut segments);
    }
    for seg in &delete {
        remove_segment(seg)?;
    }
    let Some(active) = segments.pop() else {
        let log = DiskLog::create(&dir, next, opts)?;
        return Ok(Opened {
            records: Vec::new(),
            next,
            log,
        });
    };
    let bytes = std::fs::metadata(&active.path)
        .map_err(|e| at(&active.path, e))?
        .len();
    let file = SyncFile::open_append(&active.path, false)?;
    let log = DiskLog {
        dir: dir.clone(),
        closed: segments.into(),
        active: Segment { bytes, ..active },
        file,
        buf: Vec::new(),
        opts,
        written: Vec::new(),
    };
    Ok(Opened {
        records: records.into(),
        next,
        log,
    })
}

fn remove_segment(seg: &Segment) -> io::Result<()> {
    match std::fs::remove_file(&seg.path) {
        Ok(()) => {
            tracing::info!(path = %seg.path.display(), "deleted bus segment past retention");
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(at(&seg.path, e)),
    }
}

/// The segments in `dir`, oldest first. Leftover temporary files of an interrupted repair are
/// removed.
fn list_segments(dir: &Path) -> io::Result<Vec<Segment>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| at(dir, e))? {
        let entry = entry.map_err(|e| at(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".rewrite") {
            std::fs::remove_file(&path).map_err(|e| at(&path, e))?;
            continue;
        }
        let Some(base) = name
            .strip_suffix(".seg")
            .and_then(|b| b.parse::<i64>().ok())
        else {
            continue;
        };
        let meta = entry.metadata().map_err(|e| at(&path, e))?;
        out.push(Segment {
            base,
            path,
            bytes: meta.len(),
            modified: meta.modified().map_err(|e| at(dir, e))?,
        });
    }
    out.sort_by_key(|s| s.base);
    Ok(out)
}

// ---- reading for a consumer below the in-memory window -------------------------------------

/// The most a consumer reads from disk at once: records, and bytes of their bodies. A member
/// holds at most one such batch per assigned partition, whatever the size of the segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReadMax {
    pub(super) records: usize,
    pub(super) bytes: usize,
}

/// What a consumer reads from disk at once (~1,000 market-data events).
pub(super) const READ_MAX: ReadMax = ReadMax {
    records: 1024,
    bytes: 1024 * 1024,
};

/// Where a consumer's previous batch stopped, so the next one goes on from there instead of
/// scanning its segment from the start. Valid for a read from `next` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cursor {
    /// Base offset of the segment.
    segment: i64,
    /// A record boundary in it.
    pos: u64,
    /// The lowest offset the record at `pos` may have.
    expected: i64,
    /// The offset the consumer goes on from.
    next: i64,
}

/// Records read from disk for a consumer below the in-memory window.
#[derive(Debug, Default)]
pub(super) struct Batch {
    /// Envelopes with offsets in `from..limit`, ascending.
    pub(super) records: Vec<(i64, Envelope)>,
    /// The offset the consumer goes on from (past `records` and anything skipped).
    pub(super) next: i64,
    /// Where on disk `next` is, for the next batch.
    pub(super) cursor: Option<Cursor>,
    /// Offsets from `from` on that were deleted by retention before they were read.
    pub(super) gone: i64,
}

/// The segments of a partition directory, oldest first, without touching anything (a
/// consumer lists them while the writer appends, rolls and deletes).
fn retained_segments(dir: &Path) -> io::Result<Vec<(i64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| at(dir, e))? {
        let entry = entry.map_err(|e| at(dir, e))?;
        let name = entry.file_name();
        if let Some(base) = name
            .to_string_lossy()
            .strip_suffix(".seg")
            .and_then(|b| b.parse::<i64>().ok())
        {
            out.push((base, entry.path()));
        }
    }
    out.sort_unstable_by_key(|s| s.0);
    Ok(out)
}

/// Reads the records of offsets `from..limit` of the partition in `dir`, in offset order, at
/// most `max` of them, for a consumer below the in-memory window. Every record below `limit`
/// must already be written (the caller takes `limit` from the visible end of the log).
///
/// Offsets no segment holds any longer (retention deleted it, even while a previous batch was
/// reading it) are skipped and counted in [`Batch::gone`]; records missing inside the retained
/// segments (quarantined on replay, or a write that failed) are skipped silently; damaged bytes
/// are logged and skipped, resynchronising as the replay does. A batch always makes progress:
/// it holds records or its `next` is past `from`.
pub(super) fn read_batch(
    dir: &Path,
    from: i64,
    limit: i64,
    cursor: Option<Cursor>,
    max: ReadMax,
) -> io::Result<Batch> {
    let mut attempt = 0;
    loop {
        let segments = retained_segments(dir)?;
        match read_segments(&segments, from, limit, cursor, max) {
            // Retention deleted a segment between the listing and its opening: list again.
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 8 => attempt += 1,
            other => return other,
        }
    }
}

fn read_segments(
    segments: &[(i64, PathBuf)],
    from: i64,
    limit: i64,
    cursor: Option<Cursor>,
    max: ReadMax,
) -> io::Result<Batch> {
    let mut out = Batch {
        next: from,
        ..Batch::default()
    };
    if from >= limit {
        return Ok(out);
    }
    // Where the previous batch stopped, if its segment is still there; otherwise the segment
    // holding `from`: the newest whose base is not above it.
    let mut resume = cursor.filter(|c| c.next == from).and_then(|c| {
        segments
            .iter()
            .position(|(base, _)| *base == c.segment)
            .map(|i| (i, c))
    });
    let start = resume
        .map(|(i, _)| i)
        .or_else(|| segments.iter().rposition(|(base, _)| *base <= from));
    let mut i = match start {
        Some(i) => i,
        None => {
            // Everything below the oldest retained segment is gone.
            let oldest = segments.first().map_or(limit, |s| s.0).min(limit);
            out.gone = oldest - from;
            out.next = oldest;
            if oldest >= limit {
                return Ok(out);
            }
            0
        }
    };
    let first = out.next;
    let mut bytes = 0usize;
    loop {
        let (base, path) = &segments[i];
        let last = i + 1 == segments.len();
        let (pos, expected) = match resume.take() {
            Some((_, c)) => (c.pos, c.expected),
            None => (0, *base),
        };
        let mut scanner = Scanner::open(path, Format::Segment, last, pos, expected)?;
        let stop = |scanner: &Scanner, pos: u64, next: i64| Cursor {
            segment: *base,
            pos,
            expected: scanner.expected(),
            next,
        };
        // Decodes only what is delivered; records before `first` (a read starting inside a
        // segment) are only checked.
        let decode = |offset: i64, body: &[u8]| {
            if offset < first || offset >= limit {
                Ok(None)
            } else {
                Envelope::from_bytes(body).map(Some)
            }
        };
        let tail = loop {
            if scanner.expected() >= limit {
                // Every record below `limit` has been read.
                out.next = limit;
                out.cursor = Some(stop(&scanner, scanner.pos(), limit));
                return Ok(out);
            }
            if out.records.len() >= max.records || bytes >= max.bytes {
                out.cursor = Some(stop(&scanner, scanner.pos(), out.next));
                return Ok(out);
            }
            match scanner.step(&decode)? {
                Step::Record {
                    offset,
                    pos,
                    body,
                    value,
                } => {
                    if offset >= limit {
                        // Offsets from `next` to `limit` are not on disk (failed writes).
                        out.next = limit;
                        out.cursor = Some(Cursor {
                            segment: *base,
                            pos,
                            expected: offset,
                            next: limit,
                        });
                        return Ok(out);
                    }
                    if let Some(envelope) = value {
                        bytes += body.1 as usize;
                        out.records.push((offset, envelope));
                        out.next = offset + 1;
                    }
                }
                Step::Damaged(d) => tracing::error!(
                    segment = %path.display(),
                    byte = d.pos,
                    bytes = d.len,
                    first_offset = d.first_offset,
                    next_valid_offset = ?d.next_offset,
                    reason = %d.reason,
                    "damaged bus record skipped while reading for a lagging consumer; the records after it are delivered"
                ),
                Step::Torn(at) => break at,
                Step::End => break scanner.pos(),
            }
        };
        if last {
            // The end of the log on disk: nothing else below `limit` is stored. Appends go on
            // from `tail` (an incomplete record there is one being written).
            out.next = limit;
            out.cursor = Some(stop(&scanner, tail, limit));
            return Ok(out);
        }
        i += 1;
        if !out.records.is_empty() {
            // One segment per batch at most: a batch never waits on two files.
            let next_base = segments[i].0;
            out.cursor = Some(Cursor {
                segment: next_base,
                pos: 0,
                expected: next_base,
                next: out.next,
            });
            return Ok(out);
        }
    }
}

/// Moves damaged regions of a scanned segment to quarantine and removes them (and a torn
/// tail) from the segment; the valid records keep their bytes and offsets.
fn repair(
    seg: &Segment,
    scanned: &Scan,
    quarantine_dir: &Path,
    topic: &str,
    partition: i32,
) -> io::Result<()> {
    for damage in &scanned.damaged {
        let moved = quarantine(quarantine_dir, &seg.path, damage)?;
        tracing::error!(
            topic, partition,
            segment = %seg.path.display(),
            byte = damage.pos,
            bytes = damage.len,
            first_offset = damage.first_offset,
            next_valid_offset = ?damage.next_offset,
            reason = %damage.reason,
            moved_to = %moved.display(),
            "damaged bus record moved to quarantine; the records after it are kept"
        );
    }
    if let Some(torn) = scanned.torn_at {
        tracing::warn!(
            topic, partition,
            segment = %seg.path.display(),
            byte = torn,
            bytes = scanned.len - torn,
            "cutting the torn last record of a bus segment (a crash during an append)"
        );
    }
    if scanned.damaged.is_empty() && scanned.torn_at.is_none() {
        return Ok(());
    }
    let end = scanned.torn_at.unwrap_or(scanned.len);
    let mut keep = Vec::new();
    let mut from = 0;
    for d in &scanned.damaged {
        if d.pos > from {
            keep.push((from, d.pos));
        }
        from = d.pos + d.len;
    }
    if end > from {
        keep.push((from, end));
    }
    rewrite(&seg.path, &keep, seg.modified)
}

/// Converts `<topic>/<partition>.log` (the format before segments: no offsets, no magic) into
/// segments, keeping each record's offset (its index). Written to `<partition>.migrating`
/// and renamed into place, so a crash during migration leaves the legacy file to start over.
fn migrate_legacy(
    topic_dir: &Path,
    partition: i32,
    quarantine_dir: &Path,
    opts: DiskOptions,
) -> io::Result<()> {
    let legacy = topic_dir.join(format!("{partition}.log"));
    let dir = topic_dir.join(partition.to_string());
    let tmp = topic_dir.join(format!("{partition}.migrating"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| at(&tmp, e))?;
    }
    if !legacy.exists() {
        return Ok(());
    }
    if dir.exists() {
        // The rename finished before a crash; only the legacy file was left.
        std::fs::remove_file(&legacy).map_err(|e| at(&legacy, e))?;
        return Ok(());
    }
    let mut log = DiskLog::create(&tmp, 0, opts)?;
    let mut count = 0u64;
    let scanned = scan(
        &legacy,
        Format::Legacy,
        true,
        0,
        &|_, body| Envelope::from_bytes(body).map(|_| ()),
        &mut |offset, body, ()| {
            count += 1;
            log.push(offset, body)
        },
    )
    .map_err(|e| at(&legacy, e))?;
    log.flush()?;
    for damage in &scanned.damaged {
        let moved = quarantine(quarantine_dir, &legacy, damage)?;
        tracing::error!(
            log = %legacy.display(), byte = damage.pos, bytes = damage.len,
            offset = damage.first_offset, reason = %damage.reason, moved_to = %moved.display(),
            "damaged record of a legacy bus log moved to quarantine; the records after it are kept"
        );
    }
    if let Some(torn) = scanned.torn_at {
        tracing::warn!(log = %legacy.display(), byte = torn, "dropping the torn last record of a legacy bus log");
    }
    for seg in log.closed.iter().chain(std::iter::once(&log.active)) {
        File::open(&seg.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| at(&seg.path, e))?;
    }
    sync_dir(&tmp);
    drop(log);
    std::fs::rename(&tmp, &dir).map_err(|e| at(&dir, e))?;
    sync_dir(topic_dir);
    std::fs::remove_file(&legacy).map_err(|e| at(&legacy, e))?;
    sync_dir(topic_dir);
    tracing::info!(log = %legacy.display(), records = count, segments = %dir.display(), "migrated legacy bus log to segments");
    Ok(())
}

// ---- committed offsets ----------------------------------------------------------------------

/// Committed offsets of one group: (topic, partition) -> next offset to consume.
pub(super) type Committed = HashMap<(String, i32), i64>;

/// Group names may hold characters a file name may not: keep them readable but safe.
pub(super) fn legacy_group_file(group: &str) -> String {
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

/// The commit log of `group`; a name that had to be changed gets its checksum appended so two
/// groups never share a file.
fn group_log_path(groups: &Path, group: &str) -> PathBuf {
    let safe = legacy_group_file(group);
    if safe == group {
        groups.join(format!("{safe}.offsets"))
    } else {
        groups.join(format!(
            "{safe}-{:08x}.offsets",
            crc32fast::hash(group.as_bytes())
        ))
    }
}

fn decode_commit_key(body: &[u8]) -> Result<(String, i32), String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let (topic, partition) = text.rsplit_once('/').ok_or("no partition")?;
    let partition = partition.parse::<i32>().map_err(|e| e.to_string())?;
    Ok((topic.to_owned(), partition))
}

/// Reads a group's committed offsets: the `.json` file of the format before segments, then
/// the commit log on top (last commit wins). Damaged commit records are skipped with a
/// warning: the group then resumes at an earlier commit and sees some events again.
pub(super) fn read_committed(groups: &Path, group: &str) -> io::Result<Committed> {
    let mut out = Committed::new();
    let json = groups.join(format!("{}.json", legacy_group_file(group)));
    match std::fs::read(&json) {
        Ok(bytes) => {
            let saved: BTreeMap<String, i64> = serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", json.display()),
                )
            })?;
            for (k, offset) in saved {
                if let Some((topic, p)) = k.rsplit_once('/')
                    && let Ok(p) = p.parse::<i32>()
                {
                    out.insert((topic.to_owned(), p), offset);
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(at(&json, e)),
    }
    let path = group_log_path(groups, group);
    if !path.exists() {
        return Ok(out);
    }
    let scanned = scan(
        &path,
        Format::Commits,
        true,
        i64::MIN,
        &|_, body| decode_commit_key(body),
        &mut |offset, _, key| {
            out.insert(key, offset);
            Ok(())
        },
    )
    .map_err(|e| at(&path, e))?;
    for d in &scanned.damaged {
        tracing::warn!(path = %path.display(), byte = d.pos, reason = %d.reason, "skipping a damaged commit record");
    }
    Ok(out)
}

/// Commit records appended before a group's log is rewritten as a snapshot: a consumer that
/// commits every event at 40,000 events/s compacts about once a second (each compaction
/// fsyncs), and the log stays below ~3 MB.
pub(super) const COMPACT_AFTER: usize = 1 << 16;

/// A group's commit log, owned by the writer thread.
pub(super) struct GroupLog {
    groups: PathBuf,
    group: String,
    path: PathBuf,
    file: Arc<SyncFile>,
    committed: Committed,
    /// Records appended since the last compaction.
    appended: usize,
    written: Vec<Arc<SyncFile>>,
}

impl GroupLog {
    /// Opens (and compacts) the commit log of `group`, folding in a legacy `.json` file.
    pub(super) fn open(groups: &Path, group: &str) -> io::Result<Self> {
        let committed = read_committed(groups, group)?;
        let path = group_log_path(groups, group);
        let file = write_snapshot(&path, &committed)?;
        let json = groups.join(format!("{}.json", legacy_group_file(group)));
        match std::fs::remove_file(&json) {
            Ok(()) => sync_dir(groups),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(at(&json, e)),
        }
        Ok(Self {
            groups: groups.to_owned(),
            group: group.to_owned(),
            path,
            file,
            committed,
            appended: 0,
            written: Vec::new(),
        })
    }

    /// Appends commits; compacts the log once it holds many superseded records.
    pub(super) fn append(&mut self, commits: &[(String, i32, i64)]) -> io::Result<()> {
        let mut buf = Vec::new();
        for (topic, partition, next) in commits {
            frame(
                &mut buf,
                COMMIT_MAGIC,
                *next,
                format!("{topic}/{partition}").as_bytes(),
            );
            self.committed.insert((topic.clone(), *partition), *next);
        }
        self.appended += commits.len();
        if self.appended > COMPACT_AFTER.max(8 * self.committed.len()) {
            let old =
                std::mem::replace(&mut self.file, write_snapshot(&self.path, &self.committed)?);
            // The snapshot was fsynced; the old file's pending fsync no longer matters.
            old.dirty.store(false, Ordering::Release);
            self.appended = 0;
            sync_dir(&self.groups);
            tracing::debug!(group = %self.group, "compacted commit log");
            return Ok(());
        }
        (&self.file.file)
            .write_all(&buf)
            .map_err(|e| at(&self.path, e))?;
        if !self.file.dirty.swap(true, Ordering::AcqRel) {
            self.written.push(self.file.clone());
        }
        Ok(())
    }

    /// Files written since the last call.
    pub(super) fn take_written(&mut self) -> Vec<Arc<SyncFile>> {
        std::mem::take(&mut self.written)
    }

    /// The log file.
    pub(super) fn file(&self) -> &Arc<SyncFile> {
        &self.file
    }
}

/// Writes every committed offset to `path` (temporary file, fsync, rename) and opens it for
/// appending.
fn write_snapshot(path: &Path, committed: &Committed) -> io::Result<Arc<SyncFile>> {
    let mut buf = Vec::new();
    let mut keys: Vec<_> = committed.iter().collect();
    keys.sort();
    for ((topic, partition), next) in keys {
        frame(
            &mut buf,
            COMMIT_MAGIC,
            *next,
            format!("{topic}/{partition}").as_bytes(),
        );
    }
    let tmp = path.with_extension("offsets.tmp");
    let mut f = File::create(&tmp).map_err(|e| at(&tmp, e))?;
    f.write_all(&buf).map_err(|e| at(&tmp, e))?;
    f.sync_all().map_err(|e| at(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| at(path, e))?;
    SyncFile::open_append(path, false)
}

// ---- the directory lock ---------------------------------------------------------------------

/// Takes the exclusive lock of the bus directory (an OS advisory lock on `bus.lock`, released
/// by the OS when the process ends, however it ends) and writes our pid into it.
pub(super) fn lock_dir(dir: &Path) -> Result<File, Error> {
    let path = dir.join("bus.lock");
    let storage = |e: io::Error| Error::Storage(at(&path, e));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(storage)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(storage)?;
            file.write_all(format!("{}\n", std::process::id()).as_bytes())
                .map_err(storage)?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = (&mut file).take(64).read_to_string(&mut holder);
            let holder = holder.trim();
            Err(Error::Locked {
                dir: dir.to_owned(),
                holder: if holder.is_empty() {
                    "unknown".to_owned()
                } else {
                    holder.to_owned()
                },
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(storage(e)),
    }
}

#[cfg(test)]
pub(super) mod testing {
    //! Writers of raw records, for tests that damage logs on purpose.
    use super::*;

    /// A segment record.
    pub(crate) fn segment_record(offset: i64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        frame(&mut out, SEGMENT_MAGIC, offset, body);
        out
    }

    /// A record of the format before segments.
    pub(crate) fn legacy_record(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    /// Size of a segment record's header.
    pub(crate) const SEGMENT_HEADER: usize = HEADER as usize;
}
