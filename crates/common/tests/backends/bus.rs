//! One conformance suite, run against the embedded bus (in memory and persisted) and a real
//! Kafka-protocol broker.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use common::bus::embedded::EmbeddedBus;
use common::bus::kafka::KafkaBus;
use common::bus::{Envelope, Error, EventBus, SharedBus, Subscription, TopicSpec, partition_for};
use common::settings::KafkaSettings;
use proto::events::v1::ServiceLifecycle;

use crate::helpers::{server, unique};

const PAYLOAD: &str = "qts.events.v1.ServiceLifecycle";
const WAIT: Duration = Duration::from_secs(20);

fn event(n: usize, key: &str) -> Envelope {
    let msg = ServiceLifecycle {
        service: format!("svc-{n}"),
        instance_id: n.to_string(),
        version: "1".into(),
        state: 1,
        at: None,
    };
    Envelope::new("test", key, &msg)
}

fn seq(d: &common::bus::Delivery) -> usize {
    d.envelope
        .decode::<ServiceLifecycle>()
        .unwrap()
        .instance_id
        .parse()
        .unwrap()
}

async fn topic(bus: &dyn EventBus, partitions: i32) -> String {
    let name = unique("conf");
    bus.create_topics(&[TopicSpec::new(name.clone(), PAYLOAD, partitions)])
        .await
        .unwrap();
    name
}

/// Polls until `n` deliveries arrived (committing each if asked) or the wait runs out.
async fn take(sub: &mut dyn Subscription, n: usize, commit: bool) -> Vec<common::bus::Delivery> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while out.len() < n && tokio::time::Instant::now() < deadline {
        if let Some(d) = sub.poll(Duration::from_millis(500)).await.unwrap() {
            if commit {
                sub.commit(&d).await.unwrap();
            }
            out.push(d);
        }
    }
    out
}

/// Polls until the subscription has partitions assigned (Kafka joins groups asynchronously).
async fn until_assigned(subs: &mut [&mut Box<dyn Subscription>]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut all = true;
        for s in subs.iter_mut() {
            assert!(
                s.poll(Duration::from_millis(200)).await.unwrap().is_none(),
                "topic should be empty"
            );
            all &= !s.assignment().unwrap().is_empty();
        }
        if all {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no partitions assigned within {WAIT:?}"
        );
    }
}

pub async fn envelope_round_trips(bus: SharedBus) {
    let t = topic(bus.as_ref(), 1).await;
    let mut sent = event(1, "VNM");
    sent.trace_context.insert(
        "traceparent".into(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
    );
    let pos = bus.publish(&t, &sent).await.unwrap();
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
    let got = take(sub.as_mut(), 1, true).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].envelope, sent);
    assert_eq!(
        (got[0].partition, got[0].offset),
        (pos.partition, pos.offset)
    );
    assert_eq!(got[0].topic, t);
}

pub async fn one_key_stays_in_order_on_its_partition(bus: SharedBus) {
    let t = topic(bus.as_ref(), 4).await;
    let keys = ["VNM", "FPT", "HPG", "VN30F2512", "SSI", "MWG"];
    for n in 0..60 {
        let key = keys[n % keys.len()];
        let pos = bus.publish(&t, &event(n, key)).await.unwrap();
        assert_eq!(
            pos.partition,
            partition_for(key.as_bytes(), 4),
            "murmur2 partitioning"
        );
    }
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
    let got = take(sub.as_mut(), 60, true).await;
    assert_eq!(got.len(), 60);
    for d in &got {
        assert_eq!(d.partition, partition_for(d.envelope.key.as_bytes(), 4));
    }
    for seqs in in_key_order(&got).values() {
        assert_eq!(seqs.len(), 10);
    }
}

/// The sequence numbers of `got` by key, asserting each key's are in publishing order.
fn in_key_order(got: &[common::bus::Delivery]) -> HashMap<String, Vec<usize>> {
    let mut per_key: HashMap<String, Vec<usize>> = HashMap::new();
    for d in got {
        per_key
            .entry(d.envelope.key.clone())
            .or_default()
            .push(seq(d));
    }
    for (key, seqs) in &per_key {
        assert!(seqs.is_sorted(), "events of {key} out of order: {seqs:?}");
    }
    per_key
}

pub async fn a_batch_lands_in_order_and_a_bad_event_stops_it_where_it_is(bus: SharedBus) {
    let t = topic(bus.as_ref(), 4).await;
    let other = topic(bus.as_ref(), 1).await;
    let keys = ["VNM", "FPT", "HPG", "VN30F2512", "SSI"];
    // 1,000 events in one batch across two topics: each lands where `publish` would put it.
    let batch: Vec<(&str, Envelope)> = (0..1000)
        .map(|n| {
            let topic = if n % 10 == 9 {
                other.as_str()
            } else {
                t.as_str()
            };
            (topic, event(n, keys[n % keys.len()]))
        })
        .collect();
    let positions = bus.publish_batch(&batch).await.unwrap();
    assert_eq!(positions.len(), batch.len());
    for ((topic, e), pos) in batch.iter().zip(&positions) {
        let partitions = if *topic == t { 4 } else { 1 };
        assert_eq!(pos.partition, partition_for(e.key.as_bytes(), partitions));
    }
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
    let got = take(sub.as_mut(), 900, true).await;
    assert_eq!(got.len(), 900);
    in_key_order(&got);
    // A wrong payload in the middle: what is before it is stored, it is named by `stored`.
    let t2 = topic(bus.as_ref(), 1).await;
    let mut batch: Vec<(&str, Envelope)> = (0..5).map(|n| (t2.as_str(), event(n, "k"))).collect();
    batch[3].1 = Envelope::new("test", "k", &proto::common::v1::GetInfoRequest {});
    let err = bus.publish_batch(&batch).await.unwrap_err();
    assert_eq!(err.stored, 3, "{err}");
    assert!(
        matches!(err.error, Error::WrongPayload { .. }),
        "{}",
        err.error
    );
    let mut sub = bus.subscribe(&unique("g"), &[&t2]).await.unwrap();
    let got = take(sub.as_mut(), 3, true).await;
    assert_eq!(got.iter().map(seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(
        sub.poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_none(),
        "nothing after the bad event"
    );
}

pub async fn every_group_sees_every_event(bus: SharedBus) {
    let t = topic(bus.as_ref(), 2).await;
    for n in 0..20 {
        bus.publish(&t, &event(n, &format!("k{n}"))).await.unwrap();
    }
    for _ in 0..2 {
        let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
        let got: BTreeSet<usize> = take(sub.as_mut(), 20, true).await.iter().map(seq).collect();
        assert_eq!(got, (0..20).collect());
    }
}

pub async fn members_of_a_group_share_its_partitions(bus: SharedBus) {
    let t = topic(bus.as_ref(), 4).await;
    let group = unique("g");
    let mut a = bus.subscribe(&group, &[&t]).await.unwrap();
    let mut b = bus.subscribe(&group, &[&t]).await.unwrap();
    until_assigned(&mut [&mut a, &mut b]).await;
    // Let a late rebalance settle: both must hold a stable, disjoint, complete split.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (pa, pb) = (a.assignment().unwrap(), b.assignment().unwrap());
        let union: BTreeSet<_> = pa.iter().chain(pb.iter()).cloned().collect();
        if union.len() == 4 && pa.len() + pb.len() == 4 && !pa.is_empty() && !pb.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "assignment never settled: {pa:?} {pb:?}"
        );
        a.poll(Duration::from_millis(100)).await.unwrap();
        b.poll(Duration::from_millis(100)).await.unwrap();
    }
    for n in 0..40 {
        bus.publish(&t, &event(n, &format!("key-{n}")))
            .await
            .unwrap();
    }
    let mut seen: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.values().map(BTreeSet::len).sum::<usize>() < 40
        && tokio::time::Instant::now() < deadline
    {
        for (name, sub) in [("a", &mut a), ("b", &mut b)] {
            if let Some(d) = sub.poll(Duration::from_millis(100)).await.unwrap() {
                sub.commit(&d).await.unwrap();
                seen.entry(name).or_default().insert(seq(&d));
            }
        }
    }
    let all: BTreeSet<usize> = seen.values().flatten().copied().collect();
    assert_eq!(
        all,
        (0..40).collect(),
        "the group as a whole gets every event"
    );
    assert!(
        seen.get("a").is_some_and(|s| !s.is_empty())
            && seen.get("b").is_some_and(|s| !s.is_empty()),
        "both members get a share: {seen:?}"
    );
    assert!(
        seen["a"].is_disjoint(&seen["b"]),
        "no event goes to both members while the group is stable"
    );
}

pub async fn uncommitted_events_are_delivered_again(bus: SharedBus) {
    let t = topic(bus.as_ref(), 1).await;
    for n in 0..6 {
        bus.publish(&t, &event(n, "VNM")).await.unwrap();
    }
    let group = unique("g");
    {
        let mut first = bus.subscribe(&group, &[&t]).await.unwrap();
        let got = take(first.as_mut(), 6, false).await;
        assert_eq!(got.len(), 6);
        first.commit(&got[2]).await.unwrap(); // handled 0..=2, crashed before committing 3..=5
    }
    let mut second = bus.subscribe(&group, &[&t]).await.unwrap();
    let got: Vec<usize> = take(second.as_mut(), 3, true)
        .await
        .iter()
        .map(seq)
        .collect();
    assert_eq!(got, vec![3, 4, 5]);
    assert!(
        second
            .poll(Duration::from_millis(500))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_group_resumes_after_its_committed_offset(bus: SharedBus) {
    let t = topic(bus.as_ref(), 2).await;
    for n in 0..10 {
        bus.publish(&t, &event(n, &format!("k{n}"))).await.unwrap();
    }
    let group = unique("g");
    {
        let mut sub = bus.subscribe(&group, &[&t]).await.unwrap();
        assert_eq!(take(sub.as_mut(), 10, true).await.len(), 10);
    }
    let mut sub = bus.subscribe(&group, &[&t]).await.unwrap();
    until_assigned(&mut [&mut sub]).await;
    bus.publish(&t, &event(10, "k10")).await.unwrap();
    let got: Vec<usize> = take(sub.as_mut(), 1, true).await.iter().map(seq).collect();
    assert_eq!(got, vec![10]);
    assert!(
        sub.poll(Duration::from_millis(500))
            .await
            .unwrap()
            .is_none()
    );
}

/// The bus lists its groups with their members and committed offsets: with the topic's
/// offsets, how far behind a group is.
pub async fn groups_report_members_and_committed_offsets(bus: SharedBus) {
    let t = topic(bus.as_ref(), 2).await;
    for n in 0..10 {
        bus.publish(&t, &event(n, &format!("k{n}"))).await.unwrap();
    }
    let group = unique("g");
    let mut sub = bus.subscribe(&group, &[&t]).await.unwrap();
    assert_eq!(take(sub.as_mut(), 10, true).await.len(), 10);
    for n in 10..13 {
        bus.publish(&t, &event(n, &format!("k{n}"))).await.unwrap();
    }
    let lag = |groups: &[common::bus::GroupOffsets], offsets: &[common::bus::Offsets]| {
        let g = groups
            .iter()
            .find(|g| g.group == group)
            .expect("the group is listed");
        let mut lag = 0;
        for (topic, p, at) in &g.committed {
            if *topic == t {
                let o = offsets[usize::try_from(*p).unwrap()];
                lag += o.next - at.unwrap_or(o.first);
            }
        }
        (g.members, lag)
    };
    // Kafka's group listing follows the coordinator: ask until the member shows.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let groups = bus.groups().await.unwrap();
        let offsets = bus.offsets(&t).await.unwrap();
        let (members, behind) = lag(&groups, &offsets);
        if members == 1 && behind == 3 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "members {members}, lag {behind}: {groups:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A group that joins after hundreds of events gets every one of them, in order per partition
/// (the embedded bus with a small window reads the older ones from its segment files).
pub async fn a_late_group_gets_every_retained_event_in_order(bus: SharedBus) {
    let t = topic(bus.as_ref(), 3).await;
    let mut published: BTreeMap<i32, Vec<(i64, usize)>> = BTreeMap::new();
    for n in 0..300 {
        let pos = bus
            .publish(&t, &event(n, &format!("SYM{}", n % 11)))
            .await
            .unwrap();
        published
            .entry(pos.partition)
            .or_default()
            .push((pos.offset, n));
    }
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
    let mut got: BTreeMap<i32, Vec<(i64, usize)>> = BTreeMap::new();
    for d in take(sub.as_mut(), 300, true).await {
        got.entry(d.partition)
            .or_default()
            .push((d.offset, seq(&d)));
    }
    assert_eq!(got, published);
}

pub async fn bad_publishes_are_refused(bus: SharedBus) {
    let err = bus
        .publish(&unique("never-created"), &event(0, "k"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownTopic(_)), "{err}");
    let t = topic(bus.as_ref(), 1).await;
    let wrong = Envelope::new("test", "k", &proto::common::v1::GetInfoRequest {});
    let err = bus.publish(&t, &wrong).await.unwrap_err();
    assert!(matches!(err, Error::WrongPayload { .. }), "{err}");
    let err = bus
        .create_topics(&[TopicSpec::new("bad name!", PAYLOAD, 1)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let err = bus
        .create_topics(&[TopicSpec::new(t.clone(), PAYLOAD, 3)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PartitionMismatch { .. }), "{err}");
    assert!(bus.subscribe("", &[&t]).await.is_err(), "empty group name");
}

/// Every partition's offsets: nothing held on a new topic; after six events, a reader from the
/// start is done with a partition at its `next - 1`.
pub async fn offsets_say_where_a_reader_from_the_start_is_done(bus: SharedBus) {
    let t = topic(bus.as_ref(), 2).await;
    let empty = bus.offsets(&t).await.unwrap();
    assert_eq!(empty.len(), 2);
    assert!(empty.iter().all(|o| o.first == o.next), "{empty:?}");
    for n in 0..6 {
        bus.publish(&t, &event(n, &format!("key-{n}")))
            .await
            .unwrap();
    }
    let now = bus.offsets(&t).await.unwrap();
    assert_eq!(
        now.iter().map(|o| o.next - o.first).sum::<i64>(),
        6,
        "{now:?}"
    );
    let mut sub = bus.subscribe(&unique("offsets"), &[&t]).await.unwrap();
    let got = take(sub.as_mut(), 6, false).await;
    assert_eq!(got.len(), 6);
    for (p, o) in now.iter().enumerate() {
        let last = got
            .iter()
            .filter(|d| d.partition == p as i32)
            .map(|d| d.offset)
            .max();
        assert_eq!(
            last,
            (o.first < o.next).then_some(o.next - 1),
            "partition {p}"
        );
    }
    assert!(bus.offsets(&unique("absent")).await.is_err());
}

macro_rules! conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            conformance!(@case $make; envelope_round_trips, one_key_stays_in_order_on_its_partition,
                a_batch_lands_in_order_and_a_bad_event_stops_it_where_it_is,
                every_group_sees_every_event, members_of_a_group_share_its_partitions,
                uncommitted_events_are_delivered_again, a_group_resumes_after_its_committed_offset,
                a_late_group_gets_every_retained_event_in_order, bad_publishes_are_refused,
                offsets_say_where_a_reader_from_the_start_is_done,
                groups_report_members_and_committed_offsets);
        }
    };
    (@case $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let make = $make;
                let Some(bus) = make().await else { return };
                super::$case(bus).await;
            }
        )*
    };
}

conformance!(embedded_in_memory, || async {
    Some(Arc::new(EmbeddedBus::in_memory(10_000)) as SharedBus)
});
conformance!(embedded_persistent, || async {
    let dir = tempfile::tempdir().unwrap().keep();
    Some(Arc::new(EmbeddedBus::persistent(&dir, 10_000).unwrap()) as SharedBus)
});
// A window of 10 events per partition: most cases read from the segment files.
conformance!(embedded_persistent_small_window, || async {
    let dir = tempfile::tempdir().unwrap().keep();
    Some(Arc::new(EmbeddedBus::persistent(&dir, 10).unwrap()) as SharedBus)
});
conformance!(embedded_persistent_fsync_every_batch, || async {
    use common::bus::embedded::DiskOptions;
    let dir = tempfile::tempdir().unwrap().keep();
    let opts = DiskOptions {
        fsync_interval: Duration::ZERO,
        ..DiskOptions::default()
    };
    Some(Arc::new(EmbeddedBus::persistent_with(&dir, 10_000, opts).unwrap()) as SharedBus)
});
conformance!(kafka, || async {
    kafka_bus().map(|b| Arc::new(b) as SharedBus)
});

fn kafka_settings(brokers: String) -> KafkaSettings {
    KafkaSettings {
        brokers,
        replication_factor: 1,
        session_timeout_ms: 6000,
        fetch_wait_max_ms: 10,
        message_timeout_ms: 10_000,
        idempotence: false,
        namespace: String::new(),
    }
}

fn kafka_bus() -> Option<KafkaBus> {
    let brokers = server("TEST_KAFKA_BROKERS")?;
    Some(KafkaBus::connect(&kafka_settings(brokers), "qts-conformance").unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_a_malformed_record_is_reported_with_its_position_and_can_be_skipped() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let Some(bus) = kafka_bus() else { return };
    let t = topic(&bus, 1).await;
    let brokers = std::env::var("TEST_KAFKA_BROKERS").unwrap();
    let raw: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    raw.send(
        FutureRecord::to(&t)
            .key("x")
            .payload(&b"\xff not an envelope"[..])
            .partition(0),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    bus.publish(&t, &event(7, "x")).await.unwrap();
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let (p, o) = loop {
        match sub.poll(Duration::from_millis(500)).await {
            Err(Error::Malformed {
                partition, offset, ..
            }) => break (partition, offset),
            Ok(None) => assert!(
                tokio::time::Instant::now() < deadline,
                "malformed record never reported"
            ),
            other => panic!("expected Malformed, got {other:?}"),
        }
    };
    assert_eq!((p, o), (0, 0));
    sub.commit_offset(&t, p, o).await.unwrap();
    let got = take(sub.as_mut(), 1, true).await;
    assert_eq!(got.iter().map(seq).collect::<Vec<_>>(), vec![7]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_namespaces_keep_two_fleets_on_one_cluster_apart() {
    let Some(brokers) = server("TEST_KAFKA_BROKERS") else {
        return;
    };
    let bus = |ns: &str| {
        let settings = KafkaSettings {
            namespace: ns.to_owned(),
            ..kafka_settings(brokers.clone())
        };
        KafkaBus::connect(&settings, "qts-namespace").unwrap()
    };
    let (a, b) = (bus(&unique("fleet-a")), bus(&unique("fleet-b")));
    let t = unique("shared-name");
    let spec = TopicSpec::new(t.clone(), PAYLOAD, 2);
    for bus in [&a, &b] {
        bus.create_topics(std::slice::from_ref(&spec))
            .await
            .unwrap();
    }
    a.publish(&t, &event(1, "k")).await.unwrap();
    b.publish(&t, &event(2, "k")).await.unwrap();
    b.publish(&t, &event(3, "k")).await.unwrap();
    // The same group name in each namespace: two groups, each sees its own fleet's events.
    let mut sub = a.subscribe("the-group", &[&t]).await.unwrap();
    let got = take(sub.as_mut(), 1, true).await;
    assert_eq!(got.iter().map(seq).collect::<Vec<_>>(), vec![1]);
    assert_eq!(got[0].topic, t, "deliveries carry the registry name");
    assert!(
        sub.assignment()
            .unwrap()
            .iter()
            .all(|(topic, _)| *topic == t)
    );
    let mut sub = b.subscribe("the-group", &[&t]).await.unwrap();
    let got = take(sub.as_mut(), 2, true).await;
    assert_eq!(got.iter().map(seq).collect::<Vec<_>>(), vec![2, 3]);
}

#[tokio::test]
async fn embedded_log_and_commits_survive_a_restart_and_a_torn_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let t = unique("restart");
    let spec = TopicSpec::new(t.clone(), PAYLOAD, 2);
    let group = "restart-group";
    {
        let bus = EmbeddedBus::persistent(dir.path(), 100).unwrap();
        bus.create_topics(std::slice::from_ref(&spec))
            .await
            .unwrap();
        for n in 0..8 {
            bus.publish(&t, &event(n, &format!("k{n}"))).await.unwrap();
        }
        let mut sub = bus.subscribe(group, &[&t]).await.unwrap();
        let got = take(sub.as_mut(), 8, false).await;
        for d in got.iter().filter(|d| seq(d) < 5) {
            sub.commit(d).await.unwrap();
        }
    }
    // A crash in the middle of an append leaves half a record behind.
    use std::io::Write;
    let log = dir
        .path()
        .join("topics")
        .join(&t)
        .join("0")
        .join("00000000000000000000.seg");
    let bytes = std::fs::read(&log).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&bytes[..30])
        .unwrap();

    let bus = EmbeddedBus::persistent(dir.path(), 100).unwrap();
    bus.create_topics(&[spec]).await.unwrap();
    let mut sub = bus.subscribe(group, &[&t]).await.unwrap();
    let mut got: Vec<usize> = take(sub.as_mut(), 3, true).await.iter().map(seq).collect();
    got.sort_unstable();
    // Offsets follow publish order within a partition, so committing every event below 5
    // covers exactly 0..5: the rest, and only the rest, comes again.
    let expected = vec![5, 6, 7];
    assert_eq!(got, expected);
    let pos = bus.publish(&t, &event(99, "k0")).await.unwrap();
    let before: i64 = (0..8)
        .filter(|n| partition_for(format!("k{n}").as_bytes(), 2) == pos.partition)
        .count() as i64;
    assert_eq!(pos.offset, before, "offsets continue after the cut tail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_a_record_the_broker_refuses_is_classified_as_refused_not_unavailable() {
    use common::error::{Classify, Kind};
    let Some(bus) = kafka_bus() else { return };
    let t = topic(&bus, 1).await;
    let mut huge = event(1, "k");
    // Over librdkafka's default message.max.bytes (1,000,000): refused, whatever is retried.
    huge.payload = vec![7u8; 2_000_000].into();
    let err = bus.publish(&t, &huge).await.unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err:?}");
    assert_eq!(err.kind(), Kind::InvalidArgument);
    // The bus still takes ordinary records.
    bus.publish(&t, &event(2, "k")).await.unwrap();
}
