use market::Price;

use super::*;

fn rules() -> MarketRules {
    MarketRules::default()
}

#[test]
fn holds_add_up_and_reduce_buying_power() {
    let mut a = Account::new(
        AccountId::new("A"),
        InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::new(1_000_000),
    );
    a.set_hold(OrderId(1), Vnd::new(300_000)).unwrap();
    a.set_hold(OrderId(2), Vnd::new(200_000)).unwrap();
    assert_eq!(a.buying_power().unwrap(), Vnd::new(500_000));
    a.set_hold(OrderId(1), Vnd::new(100_000)).unwrap();
    a.set_hold(OrderId(2), Vnd::ZERO).unwrap();
    assert_eq!(a.held, Vnd::new(100_000));
    assert_eq!(a.hold_of(OrderId(2)), Vnd::ZERO);
}

#[test]
fn futures_round_trip_realises_the_price_difference_less_fees() {
    let r = rules();
    let mut a = Account::new(
        AccountId::new("F"),
        InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::new(100_000_000),
    );
    let sym = Symbol::parse("VN30F2506").unwrap();
    let kind = InstrumentKind::IndexFuture;
    let buy_px = Price::new(13_000).unwrap(); // 1,300.0 points
    let sell_px = Price::new(13_050).unwrap(); // 1,305.0 points
    let one = Quantity::new(1);
    let c1 = a.cost(&r, kind, Side::Buy, buy_px, one).unwrap();
    a.apply_futures(&r, sym, Side::Buy, buy_px, one, &c1)
        .unwrap();
    let pos = a.futures.get(&sym).unwrap().clone();
    assert_eq!(pos.net, 1);
    // 1,300 points x 100,000 VND = 130,000,000 notional; 17% margin.
    assert_eq!(pos.open_value, Vnd::new(130_000_000));
    assert_eq!(pos.margin, Vnd::new(22_100_000));
    let c2 = a.cost(&r, kind, Side::Sell, sell_px, one).unwrap();
    a.apply_futures(&r, sym, Side::Sell, sell_px, one, &c2)
        .unwrap();
    let pos = a.futures.get(&sym).unwrap();
    assert_eq!(pos.net, 0);
    assert_eq!(pos.margin, Vnd::ZERO);
    // +5 points = 500,000 VND, minus both sides' fees.
    assert_eq!(pos.realised, Vnd::new(500_000));
    let expected = 100_000_000 + 500_000 - c1.total_cost.amount() - c2.total_cost.amount();
    assert_eq!(a.cash, Vnd::new(expected));
}

#[test]
fn a_sell_takes_settled_shares_first_and_reduces_cost_pro_rata() {
    let r = rules();
    let mut a = Account::new(
        AccountId::new("S"),
        InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::ZERO,
    );
    let sym = Symbol::parse("FPT").unwrap();
    let px = Price::new(100_000).unwrap();
    let p = a.positions.entry(sym).or_default();
    p.settled = Quantity::new(1_000);
    p.cost = Vnd::new(90_000_000);
    p.pending_buys.push(PendingBuy {
        trade_date: time::macros::date!(2025 - 06 - 02),
        quantity: Quantity::new(500),
    });
    let c = a
        .cost(
            &r,
            InstrumentKind::Stock,
            Side::Sell,
            px,
            Quantity::new(300),
        )
        .unwrap();
    a.apply_sell(sym, Quantity::new(300), &c, None, false)
        .unwrap();
    let p = a.positions.get(&sym).unwrap();
    assert_eq!(p.settled, Quantity::new(700));
    assert_eq!(p.total(), Quantity::new(1_200));
    assert_eq!(p.cost, Vnd::new(90_000_000 - 90_000_000 * 300 / 1_500));
    // Gross 30,000,000 − 0.15% brokerage 45,000 − 0.1% tax 30,000.
    assert_eq!(a.cash, Vnd::new(30_000_000 - 45_000 - 30_000));
    assert_eq!(a.tax_paid, Vnd::new(30_000));
}
