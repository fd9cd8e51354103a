use super::*;
use time::macros::datetime;

fn key() -> MarketKey {
    MarketKey {
        seed: 1,
        start: datetime!(2025-06-10 10:00 +7),
        universe: [40, 10, 10],
        model: model_fingerprint(&MarketModel::default()),
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

fn engine() -> matching::Engine {
    matching::Engine::new(
        market::MarketRules::default(),
        market::MarketRules::default().calendar().unwrap(),
        matching::EngineConfig::default(),
    )
}

fn snapshot(store: &mut Store, market: &MarketKey, at: OffsetDateTime) {
    let engine = engine();
    let broker = BrokerState::default();
    let seq = store.seq();
    store
        .snapshot(&SnapshotRef {
            format: FORMAT,
            market,
            saved_at: at,
            journal_seq: seq,
            engine: engine.state(),
            broker: broker.as_ref(),
        })
        .unwrap();
}

fn payloads(n: std::ops::Range<u32>) -> Vec<Vec<u8>> {
    n.map(|i| format!("{{\"record\":{i}}}").into_bytes())
        .collect()
}

#[test]
fn an_empty_directory_has_no_snapshot_and_no_journal() {
    let dir = temp_dir("empty");
    let (store, loaded) = Store::open(&dir, key(), false).unwrap();
    assert!(loaded.snapshot.is_none());
    assert!(loaded.records.is_empty());
    assert_eq!(store.seq(), 0);
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_corrupt_state_file_is_an_error_naming_the_file() {
    let dir = temp_dir("corrupt");
    std::fs::write(dir.join(STATE_FILE), b"{\"format\":3,\"market\":").unwrap();
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&dir.join(STATE_FILE).display().to_string()),
        "{text}"
    );
    // The file is left alone for the user to inspect, and the lock is released.
    assert!(dir.join(STATE_FILE).exists());
    assert!(!dir.join(LOCK_FILE).exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_empty_state_file_is_corrupt_and_an_old_format_is_named() {
    let dir = temp_dir("zero");
    std::fs::write(dir.join(STATE_FILE), b"").unwrap();
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    std::fs::write(dir.join(STATE_FILE), b"{\"format\":1}").unwrap();
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(
        matches!(err, StoreError::Format { found: 1, .. }),
        "{err:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_state_file_of_another_market_is_refused() {
    let dir = temp_dir("mismatch");
    let other = MarketKey { seed: 2, ..key() };
    let (mut store, _) = Store::open(&dir, other.clone(), false).unwrap();
    snapshot(&mut store, &other, datetime!(2025-06-10 10:00 +7));
    drop(store);
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(matches!(err, StoreError::Mismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("seed 2"), "{err}");
    // The same market reads it back.
    let (_, loaded) = Store::open(&dir, other, false).unwrap();
    assert!(loaded.snapshot.is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_state_file_of_another_market_model_is_refused() {
    let dir = temp_dir("model");
    let mut model = MarketModel::default();
    model.regimes.calm_to_turbulent = 0.02;
    let custom = MarketKey {
        model: model_fingerprint(&model),
        ..key()
    };
    assert!(custom.model.starts_with("custom-"), "{custom}");
    assert_eq!(model_fingerprint(&model), custom.model, "stable");
    let (mut store, _) = Store::open(&dir, custom.clone(), false).unwrap();
    snapshot(&mut store, &custom, datetime!(2025-06-10 10:00 +7));
    drop(store);
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(matches!(err, StoreError::Mismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("custom-"), "{err}");
    let (_, loaded) = Store::open(&dir, custom, false).unwrap();
    assert!(loaded.snapshot.is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_snapshot_written_before_the_model_was_recorded_ran_the_default_model() {
    let old: MarketKey = serde_json::from_str(
        r#"{"seed": 1, "start": "2025-06-10T10:00:00+07:00", "universe": [40, 10, 10]}"#,
    )
    .unwrap();
    assert_eq!(old, key());
}

#[test]
fn a_torn_temp_file_from_a_crash_mid_snapshot_does_not_break_start() {
    let dir = temp_dir("torn");
    let (mut store, _) = Store::open(&dir, key(), false).unwrap();
    snapshot(&mut store, &key(), datetime!(2025-06-10 10:05 +7));
    drop(store);
    // A crash in the middle of the next snapshot leaves half a file next to the state.
    std::fs::write(dir.join(TEMP_FILE), b"{\"format\":3,\"mark").unwrap();
    let (_, loaded) = Store::open(&dir, key(), false).unwrap();
    let snap = loaded.snapshot.expect("the last complete snapshot");
    assert_eq!(snap.saved_at, datetime!(2025-06-10 10:05 +7));
    assert!(!dir.join(TEMP_FILE).exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn journal_records_come_back_in_order_and_a_snapshot_folds_them_in() {
    let dir = temp_dir("journal");
    let (mut store, _) = Store::open(&dir, key(), true).unwrap();
    store.append(&payloads(0..3)).unwrap();
    store.append(&payloads(3..5)).unwrap();
    drop(store);
    let (mut store, loaded) = Store::open(&dir, key(), true).unwrap();
    let seqs: Vec<u64> = loaded.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(loaded.records[4].payload, b"{\"record\":4}");
    // A snapshot holds records 1..=5 and empties the journal; numbering goes on.
    snapshot(&mut store, &key(), datetime!(2025-06-10 10:05 +7));
    assert_eq!(store.journal_bytes(), 0);
    store.append(&payloads(5..6)).unwrap();
    drop(store);
    let (_, loaded) = Store::open(&dir, key(), true).unwrap();
    assert_eq!(loaded.snapshot.unwrap().journal_seq, 5);
    assert_eq!(loaded.records.len(), 1);
    assert_eq!(loaded.records[0].seq, 6);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_journal_tail_is_cut_and_writing_goes_on_after_it() {
    let dir = temp_dir("torn-tail");
    let (mut store, _) = Store::open(&dir, key(), false).unwrap();
    store.append(&payloads(0..3)).unwrap();
    drop(store);
    let path = dir.join(JOURNAL_FILE);
    let len = std::fs::metadata(&path).unwrap().len();
    // A crash in the middle of writing the third record.
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 5).unwrap();
    drop(f);
    let (mut store, loaded) = Store::open(&dir, key(), false).unwrap();
    assert_eq!(loaded.records.len(), 2);
    assert_eq!(store.seq(), 2);
    store.append(&payloads(3..4)).unwrap();
    drop(store);
    let (_, loaded) = Store::open(&dir, key(), false).unwrap();
    let seqs: Vec<u64> = loaded.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(loaded.records[2].payload, b"{\"record\":3}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_last_record_with_a_bad_checksum_is_a_torn_tail() {
    let dir = temp_dir("bad-last");
    let (mut store, _) = Store::open(&dir, key(), false).unwrap();
    store.append(&payloads(0..2)).unwrap();
    drop(store);
    let path = dir.join(JOURNAL_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let (_, loaded) = Store::open(&dir, key(), false).unwrap();
    assert_eq!(loaded.records.len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_damaged_record_in_the_middle_is_reported_not_dropped() {
    let dir = temp_dir("damaged");
    let (mut store, _) = Store::open(&dir, key(), false).unwrap();
    store.append(&payloads(0..3)).unwrap();
    drop(store);
    let path = dir.join(JOURNAL_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let before = bytes.clone();
    // A byte of the second record's payload flips.
    let second = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"FCJ1")
        .nth(1)
        .unwrap()
        .0;
    bytes[second + 22] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&dir, key(), false).unwrap_err();
    let StoreError::JournalDamaged { offset, .. } = &err else {
        panic!("expected JournalDamaged, got {err:?}");
    };
    assert_eq!(*offset, second as u64);
    assert!(err.to_string().contains(JOURNAL_FILE), "{err}");
    // Nothing was cut: the file is as it was, for the user to repair.
    assert_eq!(std::fs::read(&path).unwrap().len(), before.len());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_gap_in_the_numbering_is_damage() {
    let path = PathBuf::from("j.log");
    let mut bytes = Vec::new();
    journal::encode(1, b"{}", &mut bytes);
    journal::encode(3, b"{}", &mut bytes);
    let err = journal::parse(&path, &bytes).unwrap_err();
    assert!(matches!(err, StoreError::JournalDamaged { .. }), "{err:?}");
}

#[test]
fn a_failed_append_leaves_the_journal_as_it_was() {
    let dir = temp_dir("fail");
    let (mut store, _) = Store::open(&dir, key(), false).unwrap();
    store.append(&payloads(0..2)).unwrap();
    let len = store.journal_bytes();
    let fail = store.fail_writes();
    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(store.append(&payloads(2..4)).is_err());
    assert_eq!(store.seq(), 2);
    assert_eq!(
        std::fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len(),
        len,
        "the half-written frames were cut back"
    );
    fail.store(false, std::sync::atomic::Ordering::SeqCst);
    store.append(&payloads(2..3)).unwrap();
    drop(store);
    let (_, loaded) = Store::open(&dir, key(), false).unwrap();
    let seqs: Vec<u64> = loaded.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_second_store_on_the_same_directory_is_refused_until_the_first_is_gone() {
    let dir = temp_dir("lock");
    let (first, _) = Store::open(&dir, key(), false).unwrap();
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&std::process::id().to_string()),
        "{err}"
    );
    drop(first);
    let (second, _) = Store::open(&dir, key(), false).unwrap();
    drop(second);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_lock_of_a_dead_simulator_is_taken_over() {
    let dir = temp_dir("stale");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(dir.join(LOCK_FILE), format!("{dead}\n")).unwrap();
    let (store, _) = Store::open(&dir, key(), false).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap().trim(),
        std::process::id().to_string()
    );
    drop(store);
    assert!(!dir.join(LOCK_FILE).exists());
    // A lock with this process's pid that no simulator here holds (a container restarted
    // with the same pid) is stale too.
    std::fs::write(dir.join(LOCK_FILE), format!("{}\n", std::process::id())).unwrap();
    let (store, _) = Store::open(&dir, key(), false).unwrap();
    drop(store);
    // A lock of a live process is not.
    std::fs::write(dir.join(LOCK_FILE), "1\n").unwrap();
    let err = Store::open(&dir, key(), false).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
