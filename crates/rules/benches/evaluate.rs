//! The order path's rule evaluation: a typical compliance set (8 rules and a 5-row decision
//! table by exchange) on one order, the inputs built as the risk service builds them.
//! `cargo bench -p rules --bench evaluate`; with `QTS_BENCH_P99=1` it also prints the p50, p99
//! and p99.9 of 200,000 single evaluations (criterion reports means).
#![allow(clippy::panic, clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use rules::{Inputs, RuleSetDoc, Rules, Target, fields, now_fields};

fn compliance() -> RuleSetDoc {
    serde_json::from_value(serde_json::json!({
        "name": "compliance",
        "target": "order",
        "rules": [
            {"id": "max_value", "condition": "order.value > 2000000000",
             "message": "order value {{order.value}} above 2bn"},
            {"id": "no_late_buys", "condition": "order.side == 'buy' && now.minute >= 865",
             "message": "no buys after 14:25"},
            {"id": "restricted", "condition": "order.symbol in ['FLC', 'ROS', 'HAI', 'AMD']",
             "message": "{{order.symbol}} is restricted"},
            {"id": "exposure", "condition": "account.exposure + order.value > 20000000000",
             "message": "exposure"},
            {"id": "symbol_exposure",
             "condition": "order.side == 'buy' && account.symbol_exposure + order.value > 5000000000",
             "message": "symbol exposure"},
            {"id": "daily_loss", "condition": "account.pnl_today < -300000000",
             "message": "daily loss"},
            {"id": "chase", "condition": "order.side == 'buy' && market.change_pct > 5.0",
             "action": "warn", "message": "buying after a {{market.change_pct}}% rise"},
            {"id": "status", "condition": "security.status != 'normal' && order.side == 'buy'",
             "message": "{{security.status}} security"}
        ],
        "tables": [{"id": "by_exchange", "inputs": ["security.exchange", "order.quantity"],
            "rows": [
                {"when": ["'UPCOM'", "> 10000"], "message": "UPCoM size"},
                {"when": ["'HNX'", "> 50000"], "message": "HNX size"},
                {"when": ["'HOSE'", "> 100000"], "message": "HOSE size"},
                {"when": ["in ['HOSE', 'HNX', 'UPCOM']", "-"], "action": "allow"},
                {"when": ["-", "-"], "message": "unknown exchange"}
            ]}]
    }))
    .unwrap_or_else(|e| panic!("the bench's set: {e}"))
}

fn inputs(i: i64) -> Inputs {
    let price = 27_000 + (i % 50) * 50;
    let quantity = 100 * (1 + i % 40);
    Inputs::new(
        Target::Order,
        [
            (
                "order",
                fields([
                    ("id", format!("c-{i}").into()),
                    ("account", "0001001".into()),
                    ("strategy", "ma-cross".into()),
                    ("symbol", "HPG".into()),
                    ("side", if i % 2 == 0 { "buy" } else { "sell" }.into()),
                    ("type", "LO".into()),
                    ("price", price.into()),
                    ("quantity", quantity.into()),
                    ("value", (price * quantity).into()),
                ]),
            ),
            (
                "security",
                fields([
                    ("symbol", "HPG".into()),
                    ("exchange", "HOSE".into()),
                    ("kind", "stock".into()),
                    ("status", "normal".into()),
                    ("reference", 27_000i64.into()),
                    ("ceiling", 28_850i64.into()),
                    ("floor", 25_150i64.into()),
                ]),
            ),
            (
                "account",
                fields([
                    ("id", "0001001".into()),
                    ("exposure", 1_200_000_000i64.into()),
                    ("symbol_exposure", 300_000_000i64.into()),
                    ("position", 10_000i64.into()),
                    ("open_orders", 3i64.into()),
                    ("realised_today", 1_000_000i64.into()),
                    ("pnl_today", (-2_000_000i64).into()),
                    ("drawdown", 5_000_000i64.into()),
                ]),
            ),
            (
                "market",
                fields([("last", price.into()), ("change_pct", 1.5.into())]),
            ),
            ("now", now_fields(time::OffsetDateTime::UNIX_EPOCH)),
        ],
    )
    .unwrap_or_else(|e| panic!("the bench's inputs: {e}"))
}

fn bench(c: &mut Criterion) {
    let rules = Rules::fixed([compliance().compile(1).unwrap_or_else(|p| panic!("{p:?}"))]);
    let mut group = c.benchmark_group("rules");
    group.bench_function("evaluate 8 rules + 5-row table", |b| {
        let one = inputs(1);
        b.iter(|| black_box(rules.evaluate(black_box(&one))));
    });
    group.bench_function("build inputs + evaluate", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(rules.evaluate(&inputs(i)))
        });
    });
    group.finish();
    if std::env::var_os("QTS_BENCH_P99").is_some() {
        let mut took = Vec::with_capacity(200_000);
        for i in 0..200_000 {
            let started = Instant::now();
            black_box(rules.evaluate(&inputs(i)));
            took.push(started.elapsed().as_nanos());
        }
        took.sort_unstable();
        let at = |q: f64| took[((took.len() as f64 - 1.0) * q) as usize] as f64 / 1_000.0;
        println!(
            "build inputs + evaluate, 200000 orders: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, \
             {:.0} evaluations/s on one core",
            at(0.5),
            at(0.99),
            at(0.999),
            1e9 / (took.iter().sum::<u128>() as f64 / took.len() as f64)
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
