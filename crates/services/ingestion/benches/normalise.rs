//! The feed's hot path per message: decode a raw `FeedEvent` (as it comes off
//! `market.raw.v1`), validate it against master data (known symbol, tick, band, cumulative
//! volume, session time), enrich, de-duplicate, and encode the normalised message.
//!
//! The input is a synthetic whole market: 1,500 HOSE stocks, each raw batch 60% trades (rising
//! cumulative volume), 30% three-level quotes, 10% repeats (duplicates), all valid, so every
//! rule runs on every message.
//!
//!     cargo bench -p ingestion --bench normalise
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ingestion::domain::{Normaliser, Outcome, Reference, References, to_timestamp};
use market::{Exchange, InstrumentKind};
use prost::Message;
use proto::market::v1 as pb;
use time::macros::{date, datetime};

const SYMBOLS: usize = 1_500;
const BATCH: usize = 100_000;

fn symbol(i: usize) -> String {
    format!("S{i:03}")
}

fn references() -> References {
    let mut r = References::default();
    for i in 0..SYMBOLS {
        r.upsert(
            &symbol(i),
            Reference {
                exchange: Exchange::Hose,
                kind: InstrumentKind::Stock,
                sector: "banks".into(),
                lot_size: 100,
                day: Some(date!(2025 - 06 - 10)),
                band: Some((23_250, 26_750)),
            },
        );
    }
    r
}

fn raw_batch() -> Vec<Vec<u8>> {
    let base = datetime!(2025-06-10 10:00 +7);
    let mut volumes = vec![0u64; SYMBOLS];
    let mut out = Vec::with_capacity(BATCH);
    let mut last: Option<Vec<u8>> = None;
    for n in 0..BATCH {
        let i = (n * 7919) % SYMBOLS;
        let at = Some(to_timestamp(base + time::Duration::milliseconds(n as i64)));
        let event = match n % 10 {
            0..=5 => {
                volumes[i] += 100;
                pb::feed_event::Event::Trade(pb::Trade {
                    symbol: symbol(i),
                    price: 25_000 + 50 * (n as i64 % 20),
                    quantity: 100,
                    total_volume: volumes[i],
                    exchange_time: at,
                    ..Default::default()
                })
            }
            6..=8 => pb::feed_event::Event::Quote(pb::Quote {
                symbol: symbol(i),
                board: "main".into(),
                bids: (0..3)
                    .map(|k| pb::Level {
                        price: 24_950 - 50 * k - 50 * (n as i64 % 3),
                        volume: 1_000,
                    })
                    .collect(),
                asks: (0..3)
                    .map(|k| pb::Level {
                        price: 25_000 + 50 * k,
                        volume: 1_000,
                    })
                    .collect(),
                ..Default::default()
            }),
            _ => {
                // A repeat of the previous message: a duplicate.
                out.push(last.clone().unwrap_or_default());
                continue;
            }
        };
        let bytes = pb::FeedEvent {
            source: "fastconnect-v2".into(),
            sequence: n as u64,
            received_at: at,
            trading_day: "2025-06-10".into(),
            event: Some(event),
        }
        .encode_to_vec();
        last = Some(bytes.clone());
        out.push(bytes);
    }
    out
}

fn bench(c: &mut Criterion) {
    let refs = references();
    let batch = raw_batch();
    let mut group = c.benchmark_group("ingestion");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.bench_function("decode_validate_normalise_encode_100k", |b| {
        b.iter(|| {
            let mut n = Normaliser::with_defaults().unwrap_or_else(|e| panic!("{e}"));
            let mut out = Vec::with_capacity(512);
            let (mut published, mut other) = (0u64, 0u64);
            for bytes in &batch {
                let event = pb::FeedEvent::decode(bytes.as_slice()).unwrap_or_default();
                match n.process(&event, &refs) {
                    Outcome::Publish(message) => {
                        out.clear();
                        match message {
                            ingestion::domain::Normalised::Trade(t) => t.encode(&mut out),
                            ingestion::domain::Normalised::Quote(q) => q.encode(&mut out),
                            other @ (ingestion::domain::Normalised::Index(_)
                            | ingestion::domain::Normalised::ForeignRoom(_)
                            | ingestion::domain::Normalised::Bar(_)
                            | ingestion::domain::Normalised::Status(_)
                            | ingestion::domain::Normalised::Feed(_)) => {
                                panic!("unexpected {other:?}")
                            }
                        }
                        .unwrap_or_else(|e| panic!("{e}"));
                        published += 1;
                    }
                    Outcome::Reject(..) | Outcome::Duplicate => other += 1,
                }
            }
            std::hint::black_box((published, other, out.len()))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
