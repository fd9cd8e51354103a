//! Golden tests against TA-Lib's own numbers (golden/data, made by golden/generate.py)
//! and the batch == streaming == snapshot/restore check over every registered function.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consistency;
mod data;
mod patterns;
#[path = "../../benches/support/series.rs"]
#[allow(dead_code, reason = "shared with the benchmark")]
mod series;
mod talib;
mod vwap;

#[test]
fn the_benchmark_series_is_the_golden_series() {
    let golden = data::Series::load();
    let n = golden.col("close").len();
    let bars = series::bars(n);
    assert_eq!(bars.open, golden.col("open"));
    assert_eq!(bars.high, golden.col("high"));
    assert_eq!(bars.low, golden.col("low"));
    assert_eq!(bars.close, golden.col("close"));
    assert_eq!(bars.volume, golden.col("volume"));
}
