use super::*;

fn fill(kind: InstrumentKind, side: Side, price: i64, qty: u64) -> Fill {
    Fill {
        kind,
        side,
        price: Price::new(price).unwrap(),
        quantity: Quantity::new(qty),
    }
}

#[test]
fn equity_buy_pays_brokerage_but_no_tax() {
    let f = FeeSchedule::default();
    let c = f
        .fill_cost(
            &SettlementRules::default(),
            &fill(InstrumentKind::Stock, Side::Buy, 50_000, 1_000),
            &InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::ZERO,
        )
        .unwrap();
    assert_eq!(c.gross_value, Vnd::new(50_000_000));
    assert_eq!(c.brokerage, Vnd::new(75_000));
    assert_eq!(c.exchange_fee, Vnd::ZERO);
    assert_eq!(c.tax, Vnd::ZERO);
    assert_eq!(c.net_cash, Vnd::new(-50_075_000));
}

#[test]
fn equity_sale_pays_point_one_percent_tax() {
    let f = FeeSchedule::default();
    let c = f
        .fill_cost(
            &SettlementRules::default(),
            &fill(InstrumentKind::Stock, Side::Sell, 50_000, 1_000),
            &InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::ZERO,
        )
        .unwrap();
    assert_eq!(c.tax, Vnd::new(50_000));
    assert_eq!(c.total_cost, Vnd::new(125_000));
    assert_eq!(c.net_cash, Vnd::new(49_875_000));
}

#[test]
fn domestic_institutions_are_not_withheld_by_default() {
    let f = FeeSchedule::default();
    let mut inst = InvestorProfile::DOMESTIC_INDIVIDUAL;
    inst.kind = InvestorKind::Institution;
    assert!(!f.sale_tax_applies(&inst));
    inst.residency = Residency::Foreign;
    assert!(f.sale_tax_applies(&inst));
}

#[test]
fn separate_exchange_fee_and_tiers() {
    let f = FeeSchedule {
        equity_brokerage: vec![
            BrokerageTier {
                from_daily_value: 0,
                rate_ppm: 3_500,
            },
            BrokerageTier {
                from_daily_value: 100_000_000,
                rate_ppm: 2_500,
            },
            BrokerageTier {
                from_daily_value: 1_000_000_000,
                rate_ppm: 1_500,
            },
        ],
        exchange_fee_included_in_brokerage: false,
        ..FeeSchedule::default()
    };
    assert_eq!(f.brokerage_rate_ppm(Vnd::new(99_999_999)), 3_500);
    assert_eq!(f.brokerage_rate_ppm(Vnd::new(100_000_000)), 2_500);
    assert_eq!(f.brokerage_rate_ppm(Vnd::new(1_000_000_000)), 1_500);
    let c = f
        .fill_cost(
            &SettlementRules::default(),
            &fill(InstrumentKind::Stock, Side::Buy, 10_000, 1_000),
            &InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::new(95_000_000),
        )
        .unwrap();
    // 95m + 10m = 105m traded today -> 0.25% tier.
    assert_eq!(c.brokerage, Vnd::new(25_000));
    assert_eq!(c.exchange_fee, Vnd::new(3_000));
}

#[test]
fn futures_cost_is_per_contract_plus_pit() {
    let f = FeeSchedule::default();
    let c = f
        .fill_cost(
            &SettlementRules::default(),
            &fill(InstrumentKind::IndexFuture, Side::Buy, 13_000, 2),
            &InvestorProfile::DOMESTIC_INDIVIDUAL,
            Vnd::ZERO,
        )
        .unwrap();
    assert_eq!(c.gross_value, Vnd::new(260_000_000));
    assert_eq!(c.brokerage, Vnd::new(8_000));
    assert_eq!(c.exchange_fee, Vnd::new(5_400));
    // 260m × 17% = 44.2m; × 0.1% ÷ 2 = 22,100.
    assert_eq!(c.tax, Vnd::new(22_100));
    assert_eq!(c.net_cash, Vnd::new(-35_500));
}

#[test]
fn regulatory_futures_and_depository_fees() {
    let f = FeeSchedule::default();
    assert_eq!(f.futures_position_fee(10, 3), Ok(Vnd::new(76_500)));
    assert_eq!(
        f.futures_margin_asset_fee(Vnd::new(1_000_000_000)),
        Ok(Vnd::new(100_000))
    );
    assert_eq!(
        f.futures_margin_asset_fee(Vnd::new(10_000_000_000)),
        Ok(Vnd::new(240_000))
    );
    assert_eq!(
        f.futures_margin_asset_fee(Vnd::new(100_000_000_000)),
        Ok(Vnd::new(1_600_000))
    );
    assert_eq!(
        f.depository_fee(Quantity::new(10_000), 1),
        Ok(Vnd::new(2_700))
    );
    assert_eq!(f.depository_fee(Quantity::new(1), 1), Ok(Vnd::ZERO));
}

#[test]
fn overflowing_fills_are_errors() {
    let f = FeeSchedule::default();
    let r = f.fill_cost(
        &SettlementRules::default(),
        &fill(InstrumentKind::Stock, Side::Buy, i64::MAX / 2, 1_000),
        &InvestorProfile::DOMESTIC_INDIVIDUAL,
        Vnd::ZERO,
    );
    assert!(r.is_err());
}
