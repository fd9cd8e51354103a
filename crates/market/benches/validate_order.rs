//! `validate_order` throughput: it sits on the risk hot path.
//!
//! Run: `CARGO_TARGET_DIR=$HOME/.cache/qts/target-market cargo bench -p market --bench validate_order`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use market::limits::LimitCase;
use market::session::TimeOfDay;
use market::{
    Board, Exchange, InstrumentKind, InvestorProfile, MarketRules, Order, OrderContext, OrderType,
    Phase, Price, Quantity, Security, SecurityStatus, SessionState, Side, Symbol, Vnd,
    validate_order,
};
use time::macros::date;

fn bench(c: &mut Criterion) {
    let rules = MarketRules::default();
    let reference = Price::new(49_000).unwrap();
    let security = Security {
        symbol: Symbol::parse("FPT").unwrap(),
        exchange: Exchange::Hose,
        kind: InstrumentKind::Stock,
        status: SecurityStatus::Normal,
        limits: Some(
            rules
                .price_limits(
                    Exchange::Hose,
                    InstrumentKind::Stock,
                    reference,
                    LimitCase::Normal,
                )
                .unwrap(),
        ),
        awaiting_first_match: false,
    };
    let session = SessionState {
        date: date!(2025 - 06 - 02),
        time: TimeOfDay::hm(10, 0),
        trading_day: true,
        phase: Phase::Continuous,
        phase_end: Some(TimeOfDay::hm(11, 30)),
    };
    let mut ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);
    ctx.buying_power = Some(Vnd::new(1_000_000_000));
    ctx.sellable = Some(Quantity::new(10_000));
    let valid = Order {
        side: Side::Buy,
        order_type: OrderType::Lo,
        board: Board::Main,
        price: Some(Price::new(50_000).unwrap()),
        quantity: Quantity::new(1_000),
    };
    let invalid = Order {
        price: Some(Price::new(52_450).unwrap()),
        quantity: Quantity::new(500_050),
        ..valid
    };
    assert!(validate_order(&valid, &security, &session, &ctx).is_ok());
    assert!(validate_order(&invalid, &security, &session, &ctx).is_err());

    let mut group = c.benchmark_group("validate_order");
    group.throughput(Throughput::Elements(1));
    group.bench_function("valid_hose_lo", |b| {
        b.iter(|| validate_order(black_box(&valid), black_box(&security), &session, &ctx))
    });
    group.bench_function("invalid_hose_lo_4_violations", |b| {
        b.iter(|| validate_order(black_box(&invalid), black_box(&security), &session, &ctx))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
