//! Embedded bus throughput: publish N events to a 6-partition topic, then consume and commit
//! them all as one group member. In memory and persisted to disk (the `qts up` default), with
//! one publisher awaiting each publish, and with 16 concurrent publishers. Then consuming
//! alone, a new group reading N already published events: from the in-memory window, and as a
//! lagging consumer, from the segment files.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use common_bus::embedded::EmbeddedBus;
use common_bus::{Envelope, EventBus, TopicSpec};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proto::events::v1::ServiceLifecycle;

const EVENTS: u64 = 20_000;

fn round_trip(bus: &EmbeddedBus, rt: &tokio::runtime::Runtime, events: &[Envelope]) -> Duration {
    rt.block_on(async {
        let topic = format!("bench-{}", uuid::Uuid::new_v4().simple());
        bus.create_topics(&[TopicSpec::new(
            topic.clone(),
            "qts.events.v1.ServiceLifecycle",
            6,
        )])
        .await
        .unwrap();
        let mut sub = bus.subscribe("bench", &[&topic]).await.unwrap();
        let start = Instant::now();
        for e in events {
            bus.publish(&topic, e).await.unwrap();
        }
        let mut got = 0u64;
        while got < events.len() as u64 {
            let d = sub
                .poll(Duration::from_secs(5))
                .await
                .unwrap()
                .expect("every event arrives");
            got += 1;
            if got.is_multiple_of(100) || got == events.len() as u64 {
                sub.commit(&d).await.unwrap();
            }
        }
        start.elapsed()
    })
}

/// As [`round_trip`], but 16 tasks publish (each its share, in order) while one consumes.
fn concurrent_round_trip(
    bus: &EmbeddedBus,
    rt: &tokio::runtime::Runtime,
    events: &[Envelope],
) -> Duration {
    rt.block_on(async {
        let topic = format!("bench-{}", uuid::Uuid::new_v4().simple());
        bus.create_topics(&[TopicSpec::new(
            topic.clone(),
            "qts.events.v1.ServiceLifecycle",
            6,
        )])
        .await
        .unwrap();
        let mut sub = bus.subscribe("bench", &[&topic]).await.unwrap();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for chunk in events.chunks(events.len().div_ceil(16)) {
            let (bus, topic, chunk) = (bus.clone(), topic.clone(), chunk.to_vec());
            tasks.push(tokio::spawn(async move {
                for e in &chunk {
                    bus.publish(&topic, e).await.unwrap();
                }
            }));
        }
        let mut got = 0u64;
        while got < events.len() as u64 {
            let d = sub
                .poll(Duration::from_secs(5))
                .await
                .unwrap()
                .expect("every event arrives");
            got += 1;
            if got.is_multiple_of(100) || got == events.len() as u64 {
                sub.commit(&d).await.unwrap();
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    })
}

/// A persisted bus holding `events` on a 6-partition topic, with a window of `window` events
/// per partition; returns the bus (its directory kept alive) and the topic.
fn published(
    rt: &tokio::runtime::Runtime,
    window: usize,
    events: &[Envelope],
) -> (EmbeddedBus, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let bus = EmbeddedBus::persistent(dir.path(), window).unwrap();
    let topic = "bench-consume".to_owned();
    rt.block_on(async {
        bus.create_topics(&[TopicSpec::new(
            topic.clone(),
            "qts.events.v1.ServiceLifecycle",
            6,
        )])
        .await
        .unwrap();
        for e in events {
            bus.publish(&topic, e).await.unwrap();
        }
    });
    (bus, topic, dir)
}

/// A new group consumes every event of `topic` from offset 0, committing every 100.
fn consume_all(bus: &EmbeddedBus, rt: &tokio::runtime::Runtime, topic: &str, n: u64) -> Duration {
    rt.block_on(async {
        let group = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let start = Instant::now();
        let mut sub = bus.subscribe(&group, &[topic]).await.unwrap();
        let mut got = 0u64;
        while got < n {
            let d = sub
                .poll(Duration::from_secs(5))
                .await
                .unwrap()
                .expect("every event arrives");
            got += 1;
            if got.is_multiple_of(100) || got == n {
                sub.commit(&d).await.unwrap();
            }
        }
        start.elapsed()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let events: Vec<Envelope> = (0..EVENTS)
        .map(|n| {
            let msg = ServiceLifecycle {
                service: "bench".into(),
                instance_id: n.to_string(),
                version: "1".into(),
                state: 1,
                at: None,
            };
            Envelope::new("bench", format!("SYM{}", n % 400), &msg)
        })
        .collect();
    let mut group = c.benchmark_group("embedded_bus");
    group
        .throughput(Throughput::Elements(EVENTS))
        .sample_size(10);
    group.bench_function("publish_then_consume_20k_in_memory", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| round_trip(&EmbeddedBus::in_memory(1_000_000), &rt, &events))
                .sum()
        })
    });
    group.bench_function("publish_then_consume_20k_persistent", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let dir = tempfile::tempdir().unwrap();
                    round_trip(
                        &EmbeddedBus::persistent(dir.path(), 1_000_000).unwrap(),
                        &rt,
                        &events,
                    )
                })
                .sum()
        })
    });
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    group.bench_function("publish_16_concurrent_then_consume_20k_persistent", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let dir = tempfile::tempdir().unwrap();
                    concurrent_round_trip(
                        &EmbeddedBus::persistent(dir.path(), 1_000_000).unwrap(),
                        &multi,
                        &events,
                    )
                })
                .sum()
        })
    });
    // Consuming alone: every event in the window, or (window 100 per partition) 19,400 of
    // the 20,000 read back from the segment files by a lagging consumer.
    let (bus, topic, _dir) = published(&rt, 1_000_000, &events);
    group.bench_function("consume_20k_from_memory_window_persistent", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| consume_all(&bus, &rt, &topic, EVENTS))
                .sum()
        })
    });
    drop(bus);
    let (bus, topic, _dir) = published(&rt, 100, &events);
    group.bench_function("consume_20k_lagging_from_disk", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| consume_all(&bus, &rt, &topic, EVENTS))
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
