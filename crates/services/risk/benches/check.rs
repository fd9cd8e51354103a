//! Pre-trade checks per second and per-check latency of the risk engine, in-process.
//!
//! `cargo bench -p risk --bench check`: criterion's time per check (an accepted order checked
//! and later released, and a rejected one), then p50/p99/p99.9 of 1,000,000 single checks
//! timed one by one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, criterion_group};
use market::validate::Security;
use market::{
    Exchange, InstrumentKind, MarketRules, OrderType, Price, PriceLimits, Quantity, SecurityStatus,
    Side, Symbol, TradingCalendar,
};
use risk::domain::{AccountSnapshot, Check, Engine, Limits, Scope, SecurityInfo};
use time::OffsetDateTime;
use time::macros::{date, datetime};

const START: OffsetDateTime = datetime!(2025-06-10 10:00 +7);
const SYMBOLS: usize = 400;

/// A typical compliance set: every per-order rule, exposure, open orders, daily loss, drawdown,
/// margin, halts and breakers, kill switches of account and strategy; 400 HOSE stocks known.
fn engine() -> (Engine, Vec<Symbol>) {
    let limits = Limits {
        max_order_quantity: Some(500_000),
        max_order_value: Some(20_000_000_000),
        max_symbol_exposure: Some(i64::MAX / 4),
        max_exposure: Some(i64::MAX / 4),
        max_open_orders: Some(1_000),
        max_orders_per_minute: None,
        fat_finger_bps: Some(1_000),
        max_daily_loss: Some(1_000_000_000),
        duplicate_window_secs: None,
        max_drawdown: Some(1_000_000_000),
        max_margin: Some(1_000_000_000),
    };
    let mut e = Engine::new(
        MarketRules::default(),
        TradingCalendar::embedded().unwrap(),
        limits,
    );
    // The service's default breakers: their state is consulted on every check.
    e.set_breakers(risk::domain::monitor::Breakers {
        symbol_move_bps: 700,
        market_index: "VNINDEX".to_owned(),
        market_drop_bps: 400,
        ..risk::domain::monitor::Breakers::default()
    });
    e.set_limits(
        Scope::Strategy("ma".into()),
        Some(Limits {
            max_order_quantity: Some(100_000),
            ..Limits::default()
        }),
    );
    let mut symbols = Vec::new();
    for i in 0..SYMBOLS {
        let name = format!("S{:02}", i % 100);
        let s = Symbol::parse(&format!("{}{}", name, (b'A' + (i / 100) as u8) as char)).unwrap();
        e.set_security(SecurityInfo {
            security: Security {
                symbol: s,
                exchange: Exchange::Hose,
                kind: InstrumentKind::Stock,
                status: SecurityStatus::Normal,
                limits: Some(PriceLimits {
                    reference: Price::new(25_000).unwrap(),
                    ceiling: Price::new(26_750).unwrap(),
                    floor: Price::new(23_250).unwrap(),
                }),
                awaiting_first_match: false,
            },
            day: Some(date!(2025 - 06 - 10)),
        });
        e.set_last(s, Price::new(25_050).unwrap());
        symbols.push(s);
    }
    (e, symbols)
}

/// The broker's view of the account (what the OMS publishes on `oms.account.v1`): ample buying
/// power and every symbol sellable, so the checks pass and the buying-power and sellable rules
/// run with their running totals.
fn with_broker_view(e: &mut Engine, symbols: &[Symbol]) {
    e.account_snapshot(AccountSnapshot {
        account: "0001001".into(),
        at: START,
        buying_power: Some(i64::MAX / 4),
        sellable: symbols.iter().map(|s| (*s, 1_000_000_000_000)).collect(),
    });
}

fn order(symbols: &[Symbol], i: usize, price: i64) -> Check {
    Check {
        client_id: String::with_capacity(16),
        account: "0001001".into(),
        strategy: Some("ma".into()),
        symbol: symbols[i % symbols.len()],
        side: if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        },
        order_type: OrderType::Lo,
        price: Some(Price::new(price).unwrap()),
        quantity: Quantity::new(100 * (1 + (i % 10) as u64)),
    }
}

/// Checks orders over the symbols in turn, each accepted and released as the OMS's "ended"
/// event would; buys only, or buys and sales alternating (`both_sides`).
fn accepted_then_released(
    b: &mut Bencher<'_>,
    mut e: Engine,
    symbols: &[Symbol],
    both_sides: bool,
) {
    let mut c = order(symbols, 0, 25_000);
    let mut i = 0_usize;
    b.iter(|| {
        i += 1;
        c.symbol = symbols[i % SYMBOLS];
        if both_sides {
            c.side = if i.is_multiple_of(2) {
                Side::Buy
            } else {
                Side::Sell
            };
        }
        c.client_id.clear();
        let _ = write!(c.client_id, "{i}");
        let now = START + Duration::from_micros(i as u64);
        let v = e.check(black_box(&c), now);
        debug_assert!(v.accepted());
        e.order_ended(&c.client_id);
        black_box(v)
    });
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("risk_check");
    g.bench_function("accepted_then_released", |b| {
        let (e, symbols) = engine();
        accepted_then_released(b, e, &symbols, false);
    });
    g.bench_function("accepted_then_released_with_broker_view", |b| {
        let (mut e, symbols) = engine();
        with_broker_view(&mut e, &symbols);
        accepted_then_released(b, e, &symbols, true);
    });
    g.bench_function("rejected_fat_finger", |b| {
        let (mut e, symbols) = engine();
        // 26,700 is 658 bps from the last 25,050... within 1,000: use a tight strategy limit.
        e.set_limits(
            Scope::Strategy("ma".into()),
            Some(Limits {
                fat_finger_bps: Some(100),
                ..Limits::default()
            }),
        );
        let mut c = order(&symbols, 0, 26_700);
        let mut i = 0_usize;
        b.iter(|| {
            i += 1;
            c.client_id.clear();
            let _ = write!(c.client_id, "{i}");
            let v = e.check(black_box(&c), START + Duration::from_micros(i as u64));
            debug_assert!(!v.accepted());
            black_box(v)
        });
    });
    g.finish();
}

/// p50/p99/p99.9 of single checks (accepted, released right after; the broker's view of the
/// account known), timed one by one.
fn latency() {
    const N: usize = 1_000_000;
    let (mut e, symbols) = engine();
    with_broker_view(&mut e, &symbols);
    let mut c = order(&symbols, 0, 25_000);
    let mut times = Vec::with_capacity(N);
    let started = Instant::now();
    for i in 0..N {
        c.symbol = symbols[i % SYMBOLS];
        c.side = if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        c.client_id.clear();
        let _ = write!(c.client_id, "{i}");
        let now = START + Duration::from_micros(i as u64);
        let t = Instant::now();
        let v = e.check(&c, now);
        times.push(t.elapsed());
        assert!(v.accepted(), "{v:?}");
        e.order_ended(&c.client_id);
    }
    let total = started.elapsed();
    times.sort_unstable();
    let q = |p: f64| times[((N as f64) * p) as usize];
    println!(
        "risk_check latency over {N} checks: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}; \
         {:.2} M checks/s with release and timing",
        q(0.50),
        q(0.99),
        q(0.999),
        times[N - 1],
        N as f64 / total.as_secs_f64() / 1e6
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    latency();
    Criterion::default().configure_from_args().final_summary();
}
