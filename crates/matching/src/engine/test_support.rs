//! Builders and helpers shared by the engine's unit tests.

use market::limits::LimitCase;
use market::{
    Board, InstrumentKind, MarketRules, OrderType, Price, Quantity, Security, SecurityStatus, Side,
    Symbol, Violation, Vnd,
};
use time::macros::datetime;

use crate::engine::{Engine, EngineConfig, Listing};
use crate::error::Error;
use crate::types::{
    AccountId, Event, EventRecord, OrderId, OrderRequest, OrderStatus, RejectReason,
};

pub(super) const CASH: i64 = 10_000_000_000;

pub(super) fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

pub(super) fn px(u: i64) -> Price {
    Price::new(u).unwrap()
}

pub(super) fn acct(s: &str) -> AccountId {
    AccountId::new(s)
}

pub(super) fn listing(
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
pub(super) fn engine_with(config: EngineConfig) -> Engine {
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

pub(super) fn engine() -> Engine {
    engine_with(EngineConfig::default())
}

/// 2 June 2025 (a Monday) at hh:mm, Vietnam time.
pub(super) fn at(e: &mut Engine, h: u8, m: u8) {
    let t = datetime!(2025-06-02 00:00 +7)
        .replace_hour(h)
        .unwrap()
        .replace_minute(m)
        .unwrap();
    e.advance_to(t).unwrap();
}

pub(super) fn req(
    a: &str,
    s: &str,
    side: Side,
    t: OrderType,
    price: Option<i64>,
    q: u64,
) -> OrderRequest {
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

pub(super) fn lo(e: &mut Engine, a: &str, s: &str, side: Side, price: i64, q: u64) -> OrderId {
    e.submit(req(a, s, side, OrderType::Lo, Some(price), q))
        .unwrap()
}

pub(super) fn trades(events: &[EventRecord]) -> Vec<(u64, u64, i64, u64)> {
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

pub(super) fn status(e: &Engine, id: OrderId) -> OrderStatus {
    e.order(id).unwrap().status
}

pub(super) fn events_of(e: &mut Engine) -> Vec<Event> {
    e.drain_events().into_iter().map(|r| r.event).collect()
}

pub(super) fn rejected_with(r: Result<OrderId, Error>, v: &Violation) -> bool {
    match r {
        Err(Error::Rejected {
            reason: RejectReason::Rules { violations },
            ..
        }) => violations.contains(v),
        Ok(_) | Err(_) => false,
    }
}

pub(super) fn restricted_engine() -> Engine {
    let mut e = engine();
    let rules = MarketRules::default();
    let mut l = listing(
        &rules,
        "ROS",
        market::Exchange::Hose,
        InstrumentKind::Stock,
        5_000,
    );
    l.security.status = SecurityStatus::Restricted;
    e.list(l).unwrap();
    for a in ["A", "B"] {
        e.seed_position(&acct(a), sym("ROS"), Quantity::new(10_000), Vnd::ZERO)
            .unwrap();
    }
    e
}
