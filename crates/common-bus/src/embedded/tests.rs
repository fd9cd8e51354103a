//! The persisted embedded bus against damaged, torn, old-format, expired and shared files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use proto::events::v1::ServiceLifecycle;

use super::disk::testing::{SEGMENT_HEADER, legacy_record, segment_record};
use super::*;

const PAYLOAD: &str = "qts.events.v1.ServiceLifecycle";

fn event(n: usize) -> Envelope {
    let msg = ServiceLifecycle {
        service: "test".into(),
        instance_id: n.to_string(),
        version: "1".into(),
        state: 1,
        at: None,
    };
    Envelope::new("test", "k", &msg)
}

fn seq(d: &Delivery) -> usize {
    d.envelope
        .decode::<ServiceLifecycle>()
        .unwrap()
        .instance_id
        .parse()
        .unwrap()
}

fn spec(name: &str) -> TopicSpec {
    TopicSpec::new(name, PAYLOAD, 1)
}

async fn open(dir: &Path, opts: DiskOptions) -> EmbeddedBus {
    let bus = EmbeddedBus::persistent_with(dir, 10_000, opts).unwrap();
    bus.create_topics(&[spec("t")]).await.unwrap();
    bus
}

async fn publish(bus: &EmbeddedBus, range: std::ops::Range<usize>) -> Vec<i64> {
    let mut offsets = Vec::new();
    for n in range {
        offsets.push(bus.publish("t", &event(n)).await.unwrap().offset);
    }
    offsets
}

/// Everything a new group gets: (offset, sequence number) in delivery order.
async fn read_all(bus: &EmbeddedBus, group: &str) -> Vec<(i64, usize)> {
    let mut sub = bus.subscribe(group, &["t"]).await.unwrap();
    let mut out = Vec::new();
    while let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
        out.push((d.offset, seq(&d)));
    }
    out
}

fn partition_dir(dir: &Path) -> PathBuf {
    dir.join("topics").join("t").join("0")
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(partition_dir(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    out.sort();
    out
}

fn first_segment(dir: &Path) -> PathBuf {
    segments(dir).remove(0)
}

/// Byte ranges of the records of a segment, read through their length headers.
fn record_ranges(path: &Path) -> Vec<(usize, usize)> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + SEGMENT_HEADER <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        out.push((pos, pos + SEGMENT_HEADER + len));
        pos += SEGMENT_HEADER + len;
    }
    out
}

fn append(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

fn quarantined(dir: &Path) -> Vec<String> {
    let q = dir.join("quarantine").join("t").join("0");
    let mut names: Vec<String> = match std::fs::read_dir(q) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[tokio::test]
async fn a_flipped_byte_in_record_51_of_102_quarantines_it_and_keeps_the_other_101() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open(dir.path(), DiskOptions::default()).await;
        assert_eq!(publish(&bus, 0..102).await, (0..102).collect::<Vec<i64>>());
    }
    let seg = first_segment(dir.path());
    let ranges = record_ranges(&seg);
    assert_eq!(ranges.len(), 102);
    let (start, end) = ranges[50];
    let mut bytes = std::fs::read(&seg).unwrap();
    let original = bytes[start..end].to_vec();
    bytes[start + SEGMENT_HEADER + 10] ^= 0x01;
    let damaged = bytes[start..end].to_vec();
    std::fs::write(&seg, &bytes).unwrap();

    let bus = open(dir.path(), DiskOptions::default()).await;
    let got = read_all(&bus, "g").await;
    let expected: Vec<(i64, usize)> = (0..102)
        .filter(|n| *n != 50)
        .map(|n| (n as i64, n))
        .collect();
    assert_eq!(got, expected, "every intact record kept, at its own offset");
    assert_eq!(quarantined(dir.path()), vec!["offset-50.damaged"]);
    let moved = std::fs::read(dir.path().join("quarantine/t/0/offset-50.damaged")).unwrap();
    assert_eq!(moved, damaged, "the raw bytes are kept");
    assert_ne!(moved, original);
    assert_eq!(
        record_ranges(&seg).len(),
        101,
        "the damaged record left the segment"
    );
    assert_eq!(publish(&bus, 102..103).await, vec![102], "offsets continue");
    drop(bus);

    // A second start finds nothing more to repair and loses nothing.
    let bus = open(dir.path(), DiskOptions::default()).await;
    assert_eq!(read_all(&bus, "g2").await.len(), 102);
    assert_eq!(quarantined(dir.path()).len(), 1);
}

#[tokio::test]
async fn a_checksum_valid_record_that_does_not_decode_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open(dir.path(), DiskOptions::default()).await;
        publish(&bus, 0..10).await;
    }
    let seg = first_segment(dir.path());
    append(&seg, &segment_record(10, b"\xff\xfe not an envelope"));
    append(&seg, &segment_record(11, &event(11).to_bytes()));

    let bus = open(dir.path(), DiskOptions::default()).await;
    let got: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
    assert_eq!(got, (0..10).chain(11..12).collect::<Vec<i64>>());
    assert_eq!(quarantined(dir.path()), vec!["offset-10.damaged"]);
    assert_eq!(publish(&bus, 12..13).await, vec![12]);
}

#[tokio::test]
async fn a_torn_last_record_is_cut_and_offsets_continue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open(dir.path(), DiskOptions::default()).await;
        publish(&bus, 0..5).await;
    }
    let seg = first_segment(dir.path());
    let intact = std::fs::metadata(&seg).unwrap().len();
    let whole = segment_record(5, &event(5).to_bytes());
    append(&seg, &whole[..whole.len() / 2]);

    let bus = open(dir.path(), DiskOptions::default()).await;
    let got: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
    assert_eq!(got, (0..5).collect::<Vec<i64>>());
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), intact, "tail cut");
    assert!(
        quarantined(dir.path()).is_empty(),
        "a torn tail is not damage"
    );
    assert_eq!(publish(&bus, 5..6).await, vec![5]);
}

#[tokio::test]
async fn an_absurd_length_header_is_damage_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open(dir.path(), DiskOptions::default()).await;
        publish(&bus, 0..3).await;
    }
    let seg = first_segment(dir.path());
    // A header claiming 4 GiB, then one claiming 1 MiB (under the maximum, past the end of
    // the file), each followed by a valid record.
    for (offset, claimed) in [(3i64, u32::MAX), (5, 1 << 20)] {
        let mut bad = segment_record(offset, &event(offset as usize).to_bytes());
        bad[4..8].copy_from_slice(&claimed.to_le_bytes());
        append(&seg, &bad);
        append(
            &seg,
            &segment_record(offset + 1, &event(offset as usize + 1).to_bytes()),
        );
    }

    let bus = open(dir.path(), DiskOptions::default()).await;
    let got: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
    assert_eq!(got, vec![0, 1, 2, 4, 6]);
    assert_eq!(
        quarantined(dir.path()),
        vec!["offset-3.damaged", "offset-5.damaged"]
    );
}

#[tokio::test]
async fn a_log_from_before_segments_is_migrated_with_its_offsets_and_commits() {
    let dir = tempfile::tempdir().unwrap();
    let topic_dir = dir.path().join("topics").join("t");
    std::fs::create_dir_all(&topic_dir).unwrap();
    std::fs::create_dir_all(dir.path().join("groups")).unwrap();
    let mut legacy = Vec::new();
    for n in 0..20 {
        let mut record = legacy_record(&event(n).to_bytes());
        if n == 7 {
            let last = record.len() - 1;
            record[last] ^= 0x40;
        }
        legacy.extend_from_slice(&record);
    }
    legacy.extend_from_slice(&[9, 0, 0]); // torn tail
    std::fs::write(topic_dir.join("0.log"), &legacy).unwrap();
    std::fs::write(dir.path().join("groups").join("old.json"), br#"{"t/0":12}"#).unwrap();

    let bus = open(dir.path(), DiskOptions::default()).await;
    assert!(!topic_dir.join("0.log").exists(), "legacy log replaced");
    let all = read_all(&bus, "new").await;
    let expected: Vec<(i64, usize)> = (0..20).filter(|n| *n != 7).map(|n| (n as i64, n)).collect();
    assert_eq!(all, expected);
    assert_eq!(quarantined(dir.path()), vec!["offset-7.damaged"]);
    let resumed: Vec<i64> = read_all(&bus, "old").await.iter().map(|r| r.0).collect();
    assert_eq!(
        resumed,
        (12..20).collect::<Vec<i64>>(),
        "legacy commit honoured"
    );
    assert_eq!(publish(&bus, 20..21).await, vec![20]);
}

fn small() -> DiskOptions {
    DiskOptions {
        segment_bytes: 4 * 1024,
        retention_bytes: 16 * 1024,
        retention: Duration::from_secs(3600),
        fsync_interval: Duration::from_millis(10),
    }
}

fn total_bytes(dir: &Path) -> u64 {
    segments(dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[tokio::test]
async fn segments_roll_and_size_retention_deletes_whole_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let opts = small();
    let record = segment_record(0, &event(0).to_bytes()).len() as u64;
    {
        let bus = open(dir.path(), opts).await;
        {
            let mut sub = bus.subscribe("slow", &["t"]).await.unwrap();
            let d = sub.poll(Duration::from_millis(10)).await.unwrap();
            assert!(d.is_none());
            publish(&bus, 0..1).await;
            let d = sub.poll(Duration::from_secs(5)).await.unwrap().unwrap();
            sub.commit(&d).await.unwrap();
        }
        publish(&bus, 1..1000).await;
        let files = segments(dir.path());
        assert!(files.len() >= 4, "rolled into segments: {files:?}");
        assert!(
            total_bytes(dir.path()) <= opts.retention_bytes + opts.segment_bytes + record,
            "size retention: {} bytes",
            total_bytes(dir.path())
        );
        assert!(
            !files
                .iter()
                .any(|p| p.ends_with("00000000000000000000.seg")),
            "the oldest segment was deleted"
        );
    }
    let files = segments(dir.path());
    let oldest: i64 = files[0]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bus = open(dir.path(), opts).await;
    let replayed = read_all(&bus, "fresh").await;
    assert_eq!(
        replayed.first().unwrap().0,
        oldest,
        "a restart replays what is retained"
    );
    assert_eq!(replayed.last().unwrap().0, 999);
    assert_eq!(
        replayed.len() as i64,
        1000 - oldest,
        "every retained record, once"
    );
    // The group committed offset 0, far below the oldest retained: it resumes at the oldest.
    let resumed = read_all(&bus, "slow").await;
    assert_eq!(resumed.first().unwrap().0, oldest);
    assert_eq!(publish(&bus, 1000..1001).await, vec![1000]);
}

fn age(path: &Path, hours: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(hours * 3600))
        .unwrap();
}

#[tokio::test]
async fn segments_past_the_retention_age_are_deleted_at_start_and_offsets_continue() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DiskOptions {
        retention_bytes: 1 << 30,
        ..small()
    };
    {
        let bus = open(dir.path(), opts).await;
        publish(&bus, 0..200).await;
    }
    let files = segments(dir.path());
    assert!(files.len() >= 3);
    for old in &files[..2] {
        age(old, 2);
    }
    let second: i64 = files[2]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    {
        let bus = open(dir.path(), opts).await;
        let got = read_all(&bus, "g").await;
        assert_eq!(
            got.first().unwrap().0,
            second,
            "expired segments are not replayed"
        );
        assert_eq!(segments(dir.path()).len(), files.len() - 2);
    }
    // Everything expired: nothing is replayed, yet offsets go on.
    for f in segments(dir.path()) {
        age(&f, 2);
    }
    let bus = open(dir.path(), opts).await;
    assert!(read_all(&bus, "g2").await.is_empty());
    assert_eq!(segments(dir.path()).len(), 1);
    assert_eq!(publish(&bus, 200..201).await, vec![200]);
    assert_eq!(read_all(&bus, "g3").await, vec![(200, 200)]);
}

#[tokio::test]
async fn closed_segments_past_the_retention_age_are_deleted_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DiskOptions {
        retention_bytes: 1 << 30,
        retention: Duration::from_millis(300),
        ..small()
    };
    let bus = open(dir.path(), opts).await;
    publish(&bus, 0..200).await;
    assert!(segments(dir.path()).len() >= 3);
    // Readiness wait: the writer checks retention every second.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while segments(dir.path()).len() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "expired segments stayed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(publish(&bus, 200..201).await, vec![200]);
}

#[tokio::test]
async fn a_second_bus_on_the_same_directory_is_refused_until_the_first_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), DiskOptions::default()).await;
    publish(&first, 0..3).await;
    let err = match EmbeddedBus::persistent(dir.path(), 100) {
        Err(e) => e,
        Ok(_) => panic!("a second bus opened a locked directory"),
    };
    let text = err.to_string();
    assert!(matches!(err, Error::Locked { .. }), "{text}");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(text.contains(&std::process::id().to_string()), "{text}");
    assert_eq!(
        publish(&first, 3..4).await,
        vec![3],
        "the first keeps working"
    );
    drop(first);
    let again = open(dir.path(), DiskOptions::default()).await;
    assert_eq!(read_all(&again, "g").await.len(), 4, "no record lost");
}

#[tokio::test]
async fn commits_survive_a_restart_and_the_commit_log_compacts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open(dir.path(), DiskOptions::default()).await;
        publish(&bus, 0..3000).await;
        let mut sub = bus.subscribe("g", &["t"]).await.unwrap();
        for _ in 0..2500 {
            let d = sub.poll(Duration::from_secs(5)).await.unwrap().unwrap();
            sub.commit(&d).await.unwrap();
        }
        // Commits well past the compaction threshold, ending where the group got to.
        for _ in 0..disk::COMPACT_AFTER + 100 {
            sub.commit_offset("t", 0, 1000).await.unwrap();
        }
        sub.commit_offset("t", 0, 2499).await.unwrap();
    }
    let log = dir.path().join("groups").join("g.offsets");
    let size = std::fs::metadata(&log).unwrap().len() as usize;
    // Uncompacted, ~68,000 commit records of ~29 bytes would take ~2 MB.
    assert!(
        size < 100_000,
        "compacted: {size} bytes for {} commits",
        disk::COMPACT_AFTER + 2601
    );
    let bus = open(dir.path(), DiskOptions::default()).await;
    let rest: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
    assert_eq!(rest, (2500..3000).collect::<Vec<i64>>());
}

#[tokio::test]
async fn a_group_committed_beyond_a_lost_tail_resumes_at_the_new_end() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open(dir.path(), DiskOptions::default()).await;
        publish(&bus, 0..10).await;
        let mut sub = bus.subscribe("g", &["t"]).await.unwrap();
        sub.commit_offset("t", 0, 9).await.unwrap();
    }
    // A power cut took the last five records (written, not yet fsynced).
    let seg = first_segment(dir.path());
    let ranges = record_ranges(&seg);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(ranges[5].0 as u64)
        .unwrap();
    let bus = open(dir.path(), DiskOptions::default()).await;
    let mut sub = bus.subscribe("g", &["t"]).await.unwrap();
    assert!(
        sub.poll(Duration::from_millis(100))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(publish(&bus, 5..6).await, vec![5]);
    let d = sub.poll(Duration::from_secs(5)).await.unwrap().unwrap();
    assert_eq!((d.offset, seq(&d)), (5, 5), "the new record is not skipped");
}

#[tokio::test]
async fn publish_returns_once_the_record_is_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bus = open(dir.path(), DiskOptions::default()).await;
    for n in 0..20 {
        publish(&bus, n..n + 1).await;
        assert_eq!(record_ranges(&first_segment(dir.path())).len(), n + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_get_unique_ordered_offsets() {
    for fsync_interval in [Duration::ZERO, Duration::from_millis(1000)] {
        let dir = tempfile::tempdir().unwrap();
        let opts = DiskOptions {
            fsync_interval,
            ..DiskOptions::default()
        };
        let bus = open(dir.path(), opts).await;
        let mut tasks = Vec::new();
        for task in 0..8usize {
            let bus = bus.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..250 {
                    let n = task * 1000 + i;
                    mine.push((bus.publish("t", &event(n)).await.unwrap().offset, n));
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            let mine = t.await.unwrap();
            assert!(
                mine.windows(2).all(|w| w[0].0 < w[1].0),
                "a publisher's order kept"
            );
            all.extend(mine);
        }
        let offsets: BTreeSet<i64> = all.iter().map(|a| a.0).collect();
        assert_eq!(offsets, (0..2000).collect(), "unique and gap-free");
        all.sort_unstable();
        drop(bus);
        let bus = open(dir.path(), opts).await;
        assert_eq!(read_all(&bus, "g").await, all, "stored in offset order");
    }
}

#[tokio::test]
async fn a_publish_wakes_only_the_subscribers_of_its_topic() {
    let bus = EmbeddedBus::in_memory(100);
    bus.create_topics(&[spec("a"), spec("b")]).await.unwrap();
    let mut sub_a = bus.subscribe("ga", &["a"]).await.unwrap();
    let mut sub_b = bus.subscribe("gb", &["b"]).await.unwrap();
    // Use up the wake-ups of joining the groups.
    assert!(
        sub_a
            .poll(Duration::from_millis(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sub_b
            .poll(Duration::from_millis(1))
            .await
            .unwrap()
            .is_none()
    );
    let notify = |group: &str| {
        let state = bus.lock();
        let g = &state.groups[group];
        g.members.values().next().unwrap().notify.clone()
    };
    let (a, b) = (notify("ga"), notify("gb"));
    let woken = |n: &Arc<Notify>| {
        let n = n.clone();
        async move {
            tokio::time::timeout(Duration::ZERO, n.notified())
                .await
                .is_ok()
        }
    };
    assert!(!woken(&a).await && !woken(&b).await);
    bus.publish("b", &event(1)).await.unwrap();
    assert!(!woken(&a).await, "a subscriber of another topic slept on");
    assert!(woken(&b).await, "the topic's subscriber was woken");
    assert_eq!(
        seq(&sub_b.poll(Duration::from_secs(1)).await.unwrap().unwrap()),
        1
    );
}

#[test]
fn the_default_disk_options_are_the_defaults_of_default_toml() {
    let settings = common_settings::ServiceSettings::load_from(
        &common_settings::registry::SERVICES[0],
        "",
        &common_settings::Sources::default(),
    )
    .unwrap();
    assert_eq!(
        DiskOptions::from(&settings.bus.embedded),
        DiskOptions::default()
    );
}

#[tokio::test]
async fn the_commit_check_agrees_with_the_assignment() {
    let bus = EmbeddedBus::in_memory(100);
    bus.create_topics(&[
        TopicSpec::new("x", PAYLOAD, 5),
        TopicSpec::new("y", PAYLOAD, 3),
    ])
    .await
    .unwrap();
    let _a = bus.subscribe("g", &["x", "y"]).await.unwrap();
    let _b = bus.subscribe("g", &["x"]).await.unwrap();
    let _c = bus.subscribe("g", &["y", "x"]).await.unwrap();
    let state = bus.lock();
    let group = &state.groups["g"];
    for member in group.members.keys() {
        let assigned = group.assignment(*member, &state.topics);
        for (topic, partitions) in [("x", 5), ("y", 3), ("z", 2)] {
            for p in -1..partitions + 1 {
                assert_eq!(
                    group.owns(*member, topic, p, &state.topics),
                    assigned.contains(&(topic.to_owned(), p)),
                    "member {member}, {topic}/{p}"
                );
            }
        }
    }
}

#[test]
fn bad_embedded_bus_settings_are_all_listed() {
    let spec = &common_settings::registry::SERVICES[0];
    let prefix = spec.env_prefix();
    let env = [
        ("SEGMENT_MIB", "2000"),
        ("RETENTION_MIB_PER_PARTITION", "1"),
        ("RETENTION_HOURS", "0"),
        ("FSYNC_INTERVAL_MS", "600000"),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{prefix}__BUS__EMBEDDED__{k}"), v.to_owned()))
    .collect();
    let sources = common_settings::Sources {
        file: None,
        overlay: None,
        env,
    };
    let err = common_settings::ServiceSettings::load_from(spec, "", &sources)
        .unwrap_err()
        .to_string();
    for key in [
        "segment_mib",
        "retention_mib_per_partition",
        "retention_hours",
        "fsync_interval_ms",
    ] {
        assert!(err.contains(&format!("bus.embedded.{key}")), "{key}: {err}");
    }
}

// ---- consumers below the in-memory window read the segment files -------------------------

/// A persisted bus with a window of `window` events per partition and one topic "t".
async fn open_windowed(
    dir: &Path,
    window: usize,
    opts: DiskOptions,
    partitions: i32,
) -> EmbeddedBus {
    let bus = EmbeddedBus::persistent_with(dir, window, opts).unwrap();
    bus.create_topics(&[TopicSpec::new("t", PAYLOAD, partitions)])
        .await
        .unwrap();
    bus
}

/// Publishes events `range` keyed over seven symbols; returns (partition, offset, sequence).
async fn publish_keyed(bus: &EmbeddedBus, range: std::ops::Range<usize>) -> Vec<(i32, i64, usize)> {
    let mut out = Vec::new();
    for n in range {
        let mut e = event(n);
        e.key = format!("SYM{}", n % 7);
        let pos = bus.publish("t", &e).await.unwrap();
        out.push((pos.partition, pos.offset, n));
    }
    out
}

/// Polls `group` until nothing comes for a while, committing each delivery when asked;
/// returns (partition, offset, sequence) in delivery order.
async fn drain(bus: &EmbeddedBus, group: &str, commit: bool) -> Vec<(i32, i64, usize)> {
    let mut sub = bus.subscribe(group, &["t"]).await.unwrap();
    let mut out = Vec::new();
    while let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
        if commit {
            sub.commit(&d).await.unwrap();
        }
        out.push((d.partition, d.offset, seq(&d)));
    }
    out
}

/// Per partition, in delivery order: (offset, sequence).
fn per_partition(records: &[(i32, i64, usize)]) -> BTreeMap<i32, Vec<(i64, usize)>> {
    let mut out: BTreeMap<i32, Vec<(i64, usize)>> = BTreeMap::new();
    for (p, o, n) in records {
        out.entry(*p).or_default().push((*o, *n));
    }
    out
}

fn multi_segment() -> DiskOptions {
    DiskOptions {
        retention_bytes: 1 << 30,
        ..small()
    }
}

#[tokio::test]
async fn a_group_below_the_window_gets_every_retained_event_in_order_also_after_a_restart() {
    for opts in [DiskOptions::default(), multi_segment()] {
        let dir = tempfile::tempdir().unwrap();
        let published = {
            let bus = open_windowed(dir.path(), 10, opts, 3).await;
            let published = publish_keyed(&bus, 0..1000).await;
            let got = drain(&bus, "g", false).await;
            assert_eq!(got.len(), 1000, "{opts:?}: every event, none skipped");
            assert_eq!(
                per_partition(&got),
                per_partition(&published),
                "{opts:?}: in offset order per partition, from disk then memory"
            );
            published
        };
        if opts == multi_segment() {
            assert!(segments(dir.path()).len() > 3, "read across segments");
        }
        let bus = open_windowed(dir.path(), 10, opts, 3).await;
        let got = drain(&bus, "after-restart", false).await;
        assert_eq!(
            per_partition(&got),
            per_partition(&published),
            "{opts:?}: the replay keeps 10 per partition in memory, the rest comes from disk"
        );
    }
}

#[tokio::test]
async fn a_group_that_commits_while_reading_from_disk_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open_windowed(dir.path(), 10, multi_segment(), 1).await;
        publish(&bus, 0..1000).await;
        let mut sub = bus.subscribe("g", &["t"]).await.unwrap();
        for n in 0..500 {
            let d = sub.poll(Duration::from_secs(5)).await.unwrap().unwrap();
            assert_eq!((d.offset, seq(&d)), (n, n as usize));
            sub.commit(&d).await.unwrap();
        }
    }
    let bus = open_windowed(dir.path(), 10, multi_segment(), 1).await;
    let rest: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
    assert_eq!(rest, (500..1000).collect::<Vec<i64>>());
}

#[tokio::test]
async fn a_reader_racing_retention_skips_only_what_was_deleted() {
    let dir = tempfile::tempdir().unwrap();
    // 4 KiB segments, 16 KiB retained: a few segments of ~30 events each.
    let bus = open_windowed(dir.path(), 10, small(), 1).await;
    publish(&bus, 0..200).await;
    let oldest_then = segment_bases(dir.path())[0];
    assert!(
        oldest_then > 0,
        "retention deleted the first segments already"
    );
    let mut sub = bus.subscribe("g", &["t"]).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..5 {
        let d = sub.poll(Duration::from_secs(5)).await.unwrap().unwrap();
        got.push(d.offset);
    }
    assert_eq!(got, (oldest_then..oldest_then + 5).collect::<Vec<i64>>());
    // Retention deletes the segment being read, and the ones after it.
    publish(&bus, 200..500).await;
    let oldest_now = segment_bases(dir.path())[0];
    assert!(
        oldest_now > oldest_then + 60,
        "the segments being read are gone"
    );
    while let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
        assert_eq!(seq(&d), d.offset as usize);
        got.push(d.offset);
    }
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicate"
    );
    // What the reader had in hand (the rest of its segment) is delivered, then it skips to
    // the oldest retained record and misses nothing after it.
    let before: Vec<i64> = got.iter().copied().filter(|o| *o < oldest_now).collect();
    let after: Vec<i64> = got.iter().copied().filter(|o| *o >= oldest_now).collect();
    assert_eq!(
        before,
        (oldest_then..oldest_then + before.len() as i64).collect::<Vec<_>>()
    );
    assert!(
        (before.len() as i64) < oldest_now - oldest_then,
        "something was deleted before it was read"
    );
    assert_eq!(after, (oldest_now..500).collect::<Vec<i64>>());
}

fn segment_bases(dir: &Path) -> Vec<i64> {
    segments(dir)
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn damaged_records_outside_the_window_are_skipped_by_offset() {
    // One segment: the replay scans it whole and quarantines the record. Small segments: the
    // damaged one is older than the replayed window, so the consumer's read skips it.
    for (opts, quarantines) in [(DiskOptions::default(), true), (multi_segment(), false)] {
        let dir = tempfile::tempdir().unwrap();
        {
            let bus = open_windowed(dir.path(), 10, opts, 1).await;
            publish(&bus, 0..300).await;
        }
        let seg = first_segment(dir.path());
        let (start, _) = record_ranges(&seg)[20];
        let mut bytes = std::fs::read(&seg).unwrap();
        bytes[start + SEGMENT_HEADER + 10] ^= 0x01;
        std::fs::write(&seg, &bytes).unwrap();

        let bus = open_windowed(dir.path(), 10, opts, 1).await;
        let got: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
        let expected: Vec<i64> = (0..300).filter(|o| *o != 20).collect();
        assert_eq!(got, expected, "{opts:?}");
        assert_eq!(
            quarantined(dir.path()) == vec!["offset-20.damaged"],
            quarantines,
            "{opts:?}"
        );
    }
}

#[tokio::test]
async fn a_disk_read_is_a_bounded_batch_that_resumes_and_survives_deletion() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = open_windowed(dir.path(), 10, multi_segment(), 1).await;
        publish(&bus, 0..3000).await;
    }
    let part = partition_dir(dir.path());
    let bases = segment_bases(dir.path());
    // The default batch holds at most READ_MAX records.
    let big = DiskOptions {
        segment_bytes: 1 << 30,
        ..multi_segment()
    };
    let dir2 = tempfile::tempdir().unwrap();
    {
        let bus = open_windowed(dir2.path(), 10, big, 1).await;
        publish(&bus, 0..3000).await;
    }
    let batch =
        disk::read_batch(&partition_dir(dir2.path()), 0, 3000, None, disk::READ_MAX).unwrap();
    assert_eq!(batch.records.len(), disk::READ_MAX.records);
    assert_eq!(batch.next, disk::READ_MAX.records as i64);

    // Small batches resume where the last stopped, across segments.
    let max = disk::ReadMax {
        records: 7,
        bytes: 1 << 20,
    };
    let mut from = 0;
    let mut cursor = None;
    let mut offsets = Vec::new();
    while from < 200 {
        let batch = disk::read_batch(&part, from, 200, cursor, max).unwrap();
        assert!(batch.records.len() <= 7);
        assert_eq!(batch.gone, 0);
        for (offset, envelope) in &batch.records {
            assert_eq!(
                envelope.decode::<ServiceLifecycle>().unwrap().instance_id,
                offset.to_string()
            );
            offsets.push(*offset);
        }
        assert!(batch.next > from);
        (from, cursor) = (batch.next, batch.cursor);
    }
    assert_eq!(offsets, (0..200).collect::<Vec<i64>>());

    // The segment being read is deleted mid-way: the next batch skips to the next retained
    // offset and says how many were lost.
    let batch = disk::read_batch(&part, bases[1] + 2, 3000, None, max).unwrap();
    assert_eq!(batch.records[0].0, bases[1] + 2);
    std::fs::remove_file(segment_path_of(dir.path(), bases[0])).unwrap();
    std::fs::remove_file(segment_path_of(dir.path(), bases[1])).unwrap();
    let next = disk::read_batch(&part, batch.next, 3000, batch.cursor, max).unwrap();
    assert_eq!(next.gone, bases[2] - batch.next);
    assert_eq!(next.records[0].0, bases[2]);
    // Below `limit` only.
    let capped = disk::read_batch(&part, bases[2], bases[2] + 3, None, max).unwrap();
    let got: Vec<i64> = capped.records.iter().map(|r| r.0).collect();
    assert_eq!(got, (bases[2]..bases[2] + 3).collect::<Vec<i64>>());
    assert_eq!(capped.next, bases[2] + 3);
}

fn segment_path_of(dir: &Path, base: i64) -> PathBuf {
    partition_dir(dir).join(format!("{base:020}.seg"))
}

#[tokio::test]
async fn an_in_memory_group_below_the_window_resumes_at_its_start() {
    let bus = EmbeddedBus::in_memory(10);
    bus.create_topics(&[spec("t")]).await.unwrap();
    publish(&bus, 0..100).await;
    let got: Vec<i64> = read_all(&bus, "g").await.iter().map(|r| r.0).collect();
    assert_eq!(got, (90..100).collect::<Vec<i64>>(), "nothing else is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_reader_keeps_up_with_concurrent_appends_to_the_segment_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let bus = open_windowed(dir.path(), 5, multi_segment(), 2).await;
    let mut sub = bus.subscribe("g", &["t"]).await.unwrap();
    let producer = {
        let bus = bus.clone();
        tokio::spawn(async move {
            let mut published = Vec::new();
            for chunk in 0..40 {
                // Bursts of concurrent publishes, so the window moves past the reader.
                let batch = (chunk * 50..chunk * 50 + 50).map(|n| {
                    let bus = bus.clone();
                    async move {
                        let mut e = event(n);
                        e.key = format!("SYM{}", n % 7);
                        let pos = bus.publish("t", &e).await.unwrap();
                        (pos.partition, pos.offset, n)
                    }
                });
                for task in batch.map(tokio::spawn).collect::<Vec<_>>() {
                    published.push(task.await.unwrap());
                }
            }
            published
        })
    };
    let mut got = Vec::new();
    while got.len() < 2000 {
        let d = sub.poll(Duration::from_secs(10)).await.unwrap().unwrap();
        got.push((d.partition, d.offset, seq(&d)));
    }
    let mut published = producer.await.unwrap();
    published.sort_unstable();
    let mut by_offset = got.clone();
    by_offset.sort_unstable();
    assert_eq!(by_offset, published, "every event once");
    for (p, records) in per_partition(&got) {
        assert!(
            records.windows(2).all(|w| w[1].0 == w[0].0 + 1),
            "partition {p}: gap-free and in order"
        );
    }
}
