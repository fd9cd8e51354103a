//! Batch time on 1,000,000 bars for the eight headline functions, and the cost of one
//! streaming update through `Box<dyn Indicator>`. The bars are golden/generate.py's
//! deterministic series (`support/series.rs`); golden/bench_talib.py times TA-Lib on the same
//! bars, so both run in one go:
//!
//! ```text
//! bash scripts/bench/talib.sh
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/series.rs"]
mod series;

const BARS: usize = 1_000_000;

/// (function, input columns) with TA-Lib's default parameters.
const FUNCTIONS: &[(&str, &[&str])] = &[
    ("SMA", &["close"]),
    ("EMA", &["close"]),
    ("RSI", &["close"]),
    ("MACD", &["close"]),
    ("BBANDS", &["close"]),
    ("ATR", &["high", "low", "close"]),
    ("ADX", &["high", "low", "close"]),
    ("STOCH", &["high", "low", "close"]),
];

fn columns<'a>(bars: &'a series::Bars, names: &[&str]) -> Vec<&'a [f64]> {
    names
        .iter()
        .map(|n| match *n {
            "open" => bars.open.as_slice(),
            "high" => bars.high.as_slice(),
            "low" => bars.low.as_slice(),
            "volume" => bars.volume.as_slice(),
            _ => bars.close.as_slice(),
        })
        .collect()
}

fn batch(c: &mut Criterion) {
    let bars = series::bars(BARS);
    let mut g = c.benchmark_group("batch_1m");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(BARS as u64));
    for (name, cols) in FUNCTIONS {
        let inputs = columns(&bars, cols);
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut ind = indicators::build(name, &[]).unwrap();
                black_box(ind.batch(black_box(&inputs)).unwrap())
            });
        });
    }
    g.finish();
}

fn streaming(c: &mut Criterion) {
    let bars = series::bars(10_000);
    let mut g = c.benchmark_group("stream_update");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(bars.close.len() as u64));
    for (name, cols) in FUNCTIONS {
        let inputs = columns(&bars, cols);
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut ind = indicators::build(name, &[]).unwrap();
                let mut bar = [0.0; 3];
                let mut out = [0.0; 3];
                for i in 0..inputs[0].len() {
                    for (slot, col) in bar.iter_mut().zip(&inputs) {
                        *slot = col[i];
                    }
                    ind.update(black_box(&bar[..inputs.len()]), &mut out);
                }
                black_box(out)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, batch, streaming);
criterion_main!(benches);
