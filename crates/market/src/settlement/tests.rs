use super::*;
use time::macros::date;

fn cal() -> TradingCalendar {
    TradingCalendar::embedded().unwrap()
}

#[test]
fn equities_settle_t_plus_two_bonds_t_plus_one() {
    let r = SettlementRules::default();
    let c = cal();
    // Thu 5 Jun 2025 -> Mon 9 Jun (weekend skipped).
    let d = date!(2025 - 06 - 05);
    assert_eq!(
        r.settlement_date(&c, d, InstrumentKind::Stock),
        Some(date!(2025 - 06 - 09))
    );
    assert_eq!(
        r.settlement_date(&c, d, InstrumentKind::Bond),
        Some(date!(2025 - 06 - 06))
    );
    assert_eq!(
        r.settlement_date(&c, d, InstrumentKind::IndexFuture),
        Some(d)
    );
    // Fri 24 Jan 2025 -> T+2 after Tet is Tue 4 Feb.
    assert_eq!(
        r.settlement_date(&c, date!(2025 - 01 - 24), InstrumentKind::Etf),
        Some(date!(2025 - 02 - 04))
    );
}

#[test]
fn bought_shares_become_sellable_at_1300_on_t_plus_two() {
    let r = SettlementRules::default();
    let c = cal();
    let t = date!(2025 - 06 - 02);
    let t2 = date!(2025 - 06 - 04);
    assert!(!r.is_sellable(&c, t, t, TimeOfDay::hm(14, 0)));
    assert!(!r.is_sellable(&c, t, date!(2025 - 06 - 03), TimeOfDay::hm(14, 0)));
    assert!(!r.is_sellable(&c, t, t2, TimeOfDay::from_seconds(12 * 3600 + 59 * 60 + 59)));
    assert!(r.is_sellable(&c, t, t2, TimeOfDay::hm(13, 0)));
    assert!(r.is_sellable(&c, t, t2, TimeOfDay::hm(14, 35)));
    assert_eq!(
        r.sale_cash_available_from(&c, t),
        Some((t2, TimeOfDay::hm(13, 0)))
    );
}

#[test]
fn sellable_quantity_counts_only_arrived_buys_and_never_goes_negative() {
    let r = SettlementRules::default();
    let c = cal();
    let buys = [
        PendingBuy {
            trade_date: date!(2025 - 06 - 02),
            quantity: Quantity::new(300),
        },
        PendingBuy {
            trade_date: date!(2025 - 06 - 03),
            quantity: Quantity::new(500),
        },
    ];
    let q = |time, committed| {
        r.sellable_quantity(
            &c,
            Quantity::new(1_000),
            &buys,
            Quantity::new(committed),
            date!(2025 - 06 - 04),
            time,
        )
        .unwrap()
    };
    assert_eq!(q(TimeOfDay::hm(10, 0), 0), Quantity::new(1_000));
    assert_eq!(q(TimeOfDay::hm(13, 0), 0), Quantity::new(1_300));
    assert_eq!(q(TimeOfDay::hm(13, 0), 200), Quantity::new(1_100));
    assert_eq!(q(TimeOfDay::hm(10, 0), 5_000), Quantity::ZERO);
}

#[test]
fn futures_value_margin_and_mark_to_market() {
    let r = SettlementRules::default();
    let p = |pts: &str| Price::parse_points(pts).unwrap();
    // 1,300.0 points × 100,000 × 2 = 260,000,000 VND.
    assert_eq!(r.futures_value(p("1300.0"), 2), Ok(Vnd::new(260_000_000)));
    // One tick (0.1 pt) is 10,000 VND per contract.
    assert_eq!(
        r.daily_mark_to_market(1, p("1300.0"), p("1300.1")),
        Ok(Vnd::new(10_000))
    );
    assert_eq!(
        r.daily_mark_to_market(-3, p("1300.0"), p("1310.0")),
        Ok(Vnd::new(-3_000_000))
    );
    // 17% of 130,000,000.
    assert_eq!(
        r.futures_initial_margin(p("1300.0"), 1),
        Ok(Vnd::new(22_100_000))
    );
}
