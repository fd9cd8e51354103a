//! Matching throughput on a realistic mixed flow: 1,000,000 operations over 100 HOSE
//! symbols in continuous trading, from 200 accounts: about 55% resting LOs, 30% LOs that
//! cross the spread (partial and full fills), 15% cancels. The flow is generated up front
//! from a fixed seed; only `submit`/`cancel` (and periodic event draining) are timed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use market::limits::LimitCase;
use market::{
    Board, Exchange, InstrumentKind, InvestorProfile, MarketRules, OrderType, Price, Quantity,
    Security, SecurityStatus, Side, Symbol, Vnd,
};
use matching::{AccountId, Engine, EngineConfig, Listing, OrderId, OrderRequest};
use time::macros::datetime;

const SYMBOLS: usize = 100;
const ACCOUNTS: usize = 200;
const OPS: usize = 1_000_000;
const REFERENCE: i64 = 50_000; // tick 100, band 46,500 .. 53,500

enum Op {
    Submit(OrderRequest),
    Cancel(u64),
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn symbols() -> Vec<Symbol> {
    (0..SYMBOLS)
        .map(|i| Symbol::parse(&format!("S{i:02}")).unwrap())
        .collect()
}

fn accounts() -> Vec<AccountId> {
    (0..ACCOUNTS)
        .map(|i| AccountId::new(format!("{i:07}")))
        .collect()
}

fn flow() -> Vec<Op> {
    let syms = symbols();
    let accts = accounts();
    let mut rng = Lcg(42);
    let mut ops = Vec::with_capacity(OPS);
    let mut submitted = 0u64;
    for _ in 0..OPS {
        let roll = rng.below(100);
        if roll < 15 && submitted > 0 {
            // Cancel one of the last ~2,000 orders (most are still resting).
            let back = rng.below(submitted.min(2_000));
            ops.push(Op::Cancel(submitted - 1 - back));
            continue;
        }
        let buy = rng.below(2) == 0;
        let crossing = roll >= 70;
        let ticks = if crossing {
            rng.below(4) as i64
        } else {
            1 + rng.below(20) as i64
        };
        // Resting orders sit away from the reference; crossing ones reach through it.
        let offset = match (buy, crossing) {
            (true, false) | (false, true) => -ticks,
            (true, true) | (false, false) => ticks,
        };
        ops.push(Op::Submit(OrderRequest {
            account: accts[rng.below(ACCOUNTS as u64) as usize].clone(),
            symbol: syms[rng.below(SYMBOLS as u64) as usize],
            board: Board::Main,
            side: if buy { Side::Buy } else { Side::Sell },
            order_type: OrderType::Lo,
            price: Price::new(REFERENCE + offset * 100).ok(),
            quantity: Quantity::new(100 * (1 + rng.below(10))),
        }));
        submitted += 1;
    }
    ops
}

fn engine() -> Engine {
    let rules = MarketRules::default();
    let cal = rules.calendar().unwrap();
    let limits = rules
        .price_limits(
            Exchange::Hose,
            InstrumentKind::Stock,
            Price::new(REFERENCE).unwrap(),
            LimitCase::Normal,
        )
        .unwrap();
    let mut e = Engine::new(rules, cal, EngineConfig::default());
    for s in symbols() {
        e.list(Listing {
            security: Security {
                symbol: s,
                exchange: Exchange::Hose,
                kind: InstrumentKind::Stock,
                status: SecurityStatus::Normal,
                limits: Some(limits),
                awaiting_first_match: false,
            },
            foreign_room: None,
        })
        .unwrap();
    }
    for a in accounts() {
        e.open_account(
            a.clone(),
            InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::new(1_000_000_000_000_000),
        )
        .unwrap();
        for s in symbols() {
            e.seed_position(&a, s, Quantity::new(1_000_000_000), Vnd::ZERO)
                .unwrap();
        }
    }
    e.advance_to(datetime!(2025-06-02 10:00 +7)).unwrap();
    e
}

fn count_trades(events: Vec<matching::EventRecord>) -> usize {
    events
        .iter()
        .filter(|r| matches!(r.event, matching::Event::Trade(_)))
        .count()
}

/// Runs the flow; returns (accepted orders, trades) so the work cannot be optimised away.
fn run(mut e: Engine, ops: &[Op]) -> (u64, usize) {
    let mut accepted = 0u64;
    let mut trades = 0usize;
    // Order ids are dense: the k-th submitted order gets id k (rejections included).
    let mut id_of_submit: Vec<OrderId> = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Submit(req) => match e.submit(req.clone()) {
                Ok(id) => {
                    accepted += 1;
                    id_of_submit.push(id);
                }
                Err(matching::Error::Rejected { order, .. }) => id_of_submit.push(order),
                Err(_) => {}
            },
            Op::Cancel(k) => {
                if let Some(id) = id_of_submit.get(*k as usize) {
                    let _ = e.cancel(*id);
                }
            }
        }
        if i % 4_096 == 0 {
            trades += count_trades(e.drain_events());
        }
    }
    trades += count_trades(e.drain_events());
    (accepted, trades)
}

fn bench(c: &mut Criterion) {
    let ops = flow();
    let (accepted, trades) = run(engine(), &ops);
    eprintln!("flow: {OPS} operations, {accepted} orders accepted, {trades} trades");
    let mut g = c.benchmark_group("matching");
    g.sample_size(10);
    g.throughput(Throughput::Elements(OPS as u64));
    g.bench_function("mixed_flow_1m_ops_100_symbols", |b| {
        b.iter_batched(engine, |e| black_box(run(e, &ops)), BatchSize::PerIteration);
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
