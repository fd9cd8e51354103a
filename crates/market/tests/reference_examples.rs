//! The reference's worked examples and a full risk-style flow, through the public API only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use market::limits::LimitCase;
use market::ticker::{self, CodeStyle, FutureContract, TickerKind, Underlying};
use market::{
    Board, Exchange, InstrumentKind, InvestorProfile, MarketRules, Order, OrderContext, OrderType,
    Phase, Price, Quantity, Security, SecurityStatus, Side, Symbol, Violation, validate_order,
};
use time::macros::datetime;

fn p(u: i64) -> Price {
    Price::new(u).unwrap()
}

#[test]
fn hose_worked_examples_from_reference_5_2() {
    let rules = MarketRules::default();
    let l = rules
        .price_limits(
            Exchange::Hose,
            InstrumentKind::Stock,
            p(49_000),
            LimitCase::Normal,
        )
        .unwrap();
    assert_eq!((l.ceiling, l.floor), (p(52_400), p(45_600)));
    let l = rules
        .price_limits(
            Exchange::Hose,
            InstrumentKind::Stock,
            p(9_980),
            LimitCase::Normal,
        )
        .unwrap();
    assert_eq!((l.ceiling, l.floor), (p(10_650), p(9_290)));
}

#[test]
fn hnx_corner_cases_from_reference_5_2() {
    let rules = MarketRules::default();
    let l = rules
        .price_limits(
            Exchange::Hnx,
            InstrumentKind::Stock,
            p(100),
            LimitCase::Normal,
        )
        .unwrap();
    assert_eq!((l.ceiling, l.floor), (p(200), p(100)));
}

#[test]
fn krx_futures_code_example_from_reference_1_3() {
    let c = FutureContract::new(Underlying::Vn30, 2025, 4).unwrap();
    assert_eq!(
        ticker::classify("41I1F4000").unwrap(),
        TickerKind::Future {
            contract: c,
            style: CodeStyle::Krx
        }
    );
    assert_eq!(
        ticker::classify("VN30F2504").unwrap(),
        TickerKind::Future {
            contract: c,
            style: CodeStyle::Legacy
        }
    );
}

#[test]
fn risk_flow_calendar_session_then_validate() {
    let rules = MarketRules::default();
    let calendar = rules.calendar().unwrap();
    let limits = rules
        .price_limits(
            Exchange::Hose,
            InstrumentKind::Stock,
            p(49_000),
            LimitCase::Normal,
        )
        .unwrap();
    let sec = Security {
        symbol: Symbol::parse("FPT").unwrap(),
        exchange: Exchange::Hose,
        kind: InstrumentKind::Stock,
        status: SecurityStatus::Normal,
        limits: Some(limits),
        awaiting_first_match: false,
    };
    let order = Order {
        side: Side::Buy,
        order_type: OrderType::Mtl,
        board: Board::Main,
        price: None,
        quantity: Quantity::new(1_000),
    };
    let key = rules.session_key(sec.exchange, sec.kind, sec.status, order.board);
    let ctx = OrderContext::exchange_only(&rules, InvestorProfile::DOMESTIC_INDIVIDUAL);

    // 10:00 in Hanoi (03:00 UTC) on a Monday: continuous, MTL accepted.
    let s = calendar.session(datetime!(2025-06-02 03:00 UTC), &key);
    assert_eq!(s.phase, Phase::Continuous);
    assert_eq!(validate_order(&order, &sec, &s, &ctx), Ok(()));

    // 09:05: opening auction, MTL refused.
    let s = calendar.session(datetime!(2025-06-02 09:05 +07:00), &key);
    let err = validate_order(&order, &sec, &s, &ctx).unwrap_err();
    assert_eq!(
        err.as_slice(),
        &[Violation::OrderTypeNotAccepted {
            order_type: OrderType::Mtl,
            exchange: Exchange::Hose,
            board: Board::Main,
            phase: Phase::OpeningAuction
        }]
    );

    // National Day: closed.
    let s = calendar.session(datetime!(2025-09-02 10:00 +07:00), &key);
    assert!(
        validate_order(&order, &sec, &s, &ctx)
            .unwrap_err()
            .contains(&Violation::MarketNotOpen {
                board: Board::Main,
                phase: Phase::Closed
            })
    );
}

#[test]
fn full_cost_of_a_sale_includes_the_point_one_percent_tax() {
    let rules = MarketRules::default();
    let fill = market::fees::Fill {
        kind: InstrumentKind::Stock,
        side: Side::Sell,
        price: p(52_400),
        quantity: Quantity::new(1_000),
    };
    let cost = rules
        .fees
        .fill_cost(
            &rules.settlement,
            &fill,
            &InvestorProfile::DOMESTIC_INDIVIDUAL,
            market::Vnd::ZERO,
        )
        .unwrap();
    assert_eq!(cost.gross_value.amount(), 52_400_000);
    assert_eq!(cost.tax.amount(), 52_400);
    assert_eq!(cost.brokerage.amount(), 78_600);
    assert_eq!(cost.net_cash.amount(), 52_400_000 - 52_400 - 78_600);
}
