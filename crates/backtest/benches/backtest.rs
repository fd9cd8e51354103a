//! Backtest speed in bar events per second (docs/performance.md "## Backtest").
//!
//! - `whole_market_10y_daily/ma_cross`: the whole market (1,600 HOSE stocks) over ten years of
//!   daily bars (2,500 trading days: 4,000,000 bars), one simple strategy: SMA 50/200 crosses
//!   through risk and the matching engine. Aim ≥ 5 M bar events/s.
//! - `fleet_studies_1y_daily/defaults`: 1,600 stocks × 250 days with the TA service's whole
//!   default study set (19 indicators and patterns, 4 rules) and the decision engine's three
//!   strategies: what a run of the fleet's own configuration costs.
//!
//! Run: `cargo bench -p backtest --bench backtest`.
#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs)]

use backtest::Config;
use backtest::data::synthetic;
use backtest::run::{Window, run};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::macros::date;

const SIMPLE: &str = r#"
[[studies]]
id = "sma50"
function = "SMA"
params = { timeperiod = 50 }

[[studies]]
id = "sma200"
function = "SMA"
params = { timeperiod = 200 }

[[rules.cross]]
fast = "sma50"
slow = "sma200"
up = "golden_cross"
down = "death_cross"

[[strategies]]
id = "ma-cross"
enabled = true
buy_on = ["golden_cross"]
sell_on = ["death_cross"]
sizing = { kind = "percent_of_capital", capital = 10000000000, percent = 1.0 }
"#;

fn bench(c: &mut Criterion) {
    let rules = market::MarketRules::default();
    let cal = rules.calendar().unwrap();
    let mut g = c.benchmark_group("whole_market_10y_daily");
    g.sample_size(10);
    let bars = synthetic(1_600, 2_500, date!(2015 - 01 - 05), 42, 0.0, &rules, &cal).unwrap();
    let config = Config::parse("simple", SIMPLE).unwrap();
    let out = run(&config, &bars, Window::default()).unwrap();
    eprintln!(
        "ma_cross: {} bars, {} signals, {} orders, {} fills",
        out.bar_events,
        out.signals,
        out.orders.len(),
        out.trades.len()
    );
    g.throughput(Throughput::Elements(bars.len() as u64));
    g.bench_function("ma_cross", |b| {
        b.iter(|| run(&config, &bars, Window::default()).unwrap())
    });
    g.finish();
    drop(bars);

    let mut g = c.benchmark_group("fleet_studies_1y_daily");
    g.sample_size(10);
    let bars = synthetic(1_600, 250, date!(2024 - 01 - 02), 42, 0.0, &rules, &cal).unwrap();
    let config = Config::fleet().unwrap();
    g.throughput(Throughput::Elements(bars.len() as u64));
    g.bench_function("defaults", |b| {
        b.iter(|| run(&config, &bars, Window::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
