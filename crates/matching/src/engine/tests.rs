use market::SecurityStatus;
use time::macros::datetime;

use super::*;
use crate::types::OrderRequest;

const CASH: i64 = 10_000_000_000;

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn px(u: i64) -> Price {
    Price::new(u).unwrap()
}

fn acct(s: &str) -> AccountId {
    AccountId::new(s)
}

fn listing(
    rules: &MarketRules,
    s: &str,
    ex: market::Exchange,
    kind: InstrumentKind,
    r: i64,
) -> Listing {
    Listing {
        security: Security {
            symbol: sym(s),
            exchange: ex,
            kind,
            status: SecurityStatus::Normal,
            limits: Some(
                rules
                    .price_limits(ex, kind, px(r), LimitCase::Normal)
                    .unwrap(),
            ),
            awaiting_first_match: false,
        },
        foreign_room: None,
    }
}

/// HOSE `FPT` (ref 100,000: 93,000..107,000, tick 100), HNX `SHS` (ref 20,000:
/// 18,000..22,000), UPCoM `BSR` (ref 20,000), future `VN30F2506` (1,300.0 points);
/// accounts A, B, C with 10bn VND and 100,000 settled shares of each stock.
fn engine_with(config: EngineConfig) -> Engine {
    let rules = MarketRules::default();
    let cal = rules.calendar().unwrap();
    let mut e = Engine::new(rules.clone(), cal, config);
    use market::Exchange::*;
    e.list(listing(&rules, "FPT", Hose, InstrumentKind::Stock, 100_000))
        .unwrap();
    e.list(listing(&rules, "SHS", Hnx, InstrumentKind::Stock, 20_000))
        .unwrap();
    e.list(listing(&rules, "BSR", Upcom, InstrumentKind::Stock, 20_000))
        .unwrap();
    e.list(listing(
        &rules,
        "VN30F2506",
        HnxDeriv,
        InstrumentKind::IndexFuture,
        13_000,
    ))
    .unwrap();
    for a in ["A", "B", "C"] {
        e.open_account(
            acct(a),
            market::InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::new(CASH),
        )
        .unwrap();
        for s in ["FPT", "SHS", "BSR"] {
            e.seed_position(&acct(a), sym(s), Quantity::new(100_000), Vnd::ZERO)
                .unwrap();
        }
    }
    e
}

fn engine() -> Engine {
    engine_with(EngineConfig::default())
}

/// 2 June 2025 (a Monday) at hh:mm, Vietnam time.
fn at(e: &mut Engine, h: u8, m: u8) {
    let t = datetime!(2025-06-02 00:00 +7)
        .replace_hour(h)
        .unwrap()
        .replace_minute(m)
        .unwrap();
    e.advance_to(t).unwrap();
}

fn req(a: &str, s: &str, side: Side, t: OrderType, price: Option<i64>, q: u64) -> OrderRequest {
    OrderRequest {
        account: acct(a),
        symbol: sym(s),
        board: Board::Main,
        side,
        order_type: t,
        price: price.map(px),
        quantity: Quantity::new(q),
    }
}

fn lo(e: &mut Engine, a: &str, s: &str, side: Side, price: i64, q: u64) -> OrderId {
    e.submit(req(a, s, side, OrderType::Lo, Some(price), q))
        .unwrap()
}

fn trades(events: &[EventRecord]) -> Vec<(u64, u64, i64, u64)> {
    events
        .iter()
        .filter_map(|r| {
            if let Event::Trade(t) = &r.event {
                Some((
                    t.buy_order.0,
                    t.sell_order.0,
                    t.price.units(),
                    t.quantity.units(),
                ))
            } else {
                None
            }
        })
        .collect()
}

fn status(e: &Engine, id: OrderId) -> OrderStatus {
    e.order(id).unwrap().status
}

#[test]
fn continuous_matching_is_price_then_time_at_the_resting_price() {
    let mut e = engine();
    at(&mut e, 9, 30);
    let s1 = lo(&mut e, "A", "FPT", Side::Sell, 101_000, 200);
    let s2 = lo(&mut e, "A", "FPT", Side::Sell, 100_500, 100);
    let s3 = lo(&mut e, "B", "FPT", Side::Sell, 100_500, 100);
    e.drain_events();
    let b = lo(&mut e, "C", "FPT", Side::Buy, 101_000, 300);
    let t = trades(&e.drain_events());
    // Best price first (100,500), earliest first within it, at the resting price.
    assert_eq!(
        t,
        vec![
            (b.0, s2.0, 100_500, 100),
            (b.0, s3.0, 100_500, 100),
            (b.0, s1.0, 101_000, 100)
        ]
    );
    assert_eq!(status(&e, s1), OrderStatus::PartiallyFilled);
    assert_eq!(status(&e, b), OrderStatus::Filled);
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.last_price,
        Some(px(101_000))
    );
}
