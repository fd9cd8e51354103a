use super::*;

fn calendar() -> TradingCalendar {
    TradingCalendar::embedded().unwrap()
}

fn today() -> Date {
    Date::from_calendar_date(2025, time::Month::June, 10).unwrap()
}

#[test]
fn default_universe_has_the_real_market_scale() {
    let u = Universe::generate(1, UniverseSize::default(), &calendar(), today());
    let count = |e| u.instruments().iter().filter(|x| x.exchange == e).count();
    assert_eq!(count(Exchange::Hose), 400);
    assert_eq!(count(Exchange::Hnx), 300);
    assert_eq!(count(Exchange::Upcom), 850);
    assert_eq!(count(Exchange::HnxDeriv), 4);
    assert!(u.find("SSI").is_some());
    assert!(u.find("VN30F2506").is_some());
    let vn30 = u.index("vn30").unwrap().1;
    assert_eq!(vn30.members.len(), 30);
}

#[test]
fn tickers_are_unique_and_valid() {
    let u = Universe::generate(9, UniverseSize::default(), &calendar(), today());
    let mut seen = std::collections::HashSet::new();
    for x in u.instruments() {
        assert!(seen.insert(x.symbol.clone()), "duplicate {}", x.symbol);
        assert!(market::ticker::classify(&x.symbol).is_ok(), "{}", x.symbol);
    }
}

#[test]
fn the_same_seed_gives_the_same_universe() {
    let a = Universe::generate(5, UniverseSize::default(), &calendar(), today());
    let b = Universe::generate(5, UniverseSize::default(), &calendar(), today());
    let c = Universe::generate(6, UniverseSize::default(), &calendar(), today());
    assert_eq!(a.instruments(), b.instruments());
    assert_ne!(a.instruments(), c.instruments());
}

#[test]
fn named_companies_have_their_real_sector_and_large_caps_are_liquid() {
    let u = Universe::generate(1, UniverseSize::default(), &calendar(), today());
    let of = |s: &str| u.instrument(u.find(s).unwrap()).unwrap();
    for (symbol, sector) in [
        ("VCB", Sector::Banks),
        ("TCB", Sector::Banks),
        ("SSI", Sector::Securities),
        ("VHM", Sector::RealEstate),
        ("HPG", Sector::Steel),
        ("HSG", Sector::Steel),
        ("GAS", Sector::Energy),
        ("FPT", Sector::Technology),
        ("VNM", Sector::Consumer),
        ("VJC", Sector::Logistics),
        ("E1VFVN30", Sector::Funds),
    ] {
        assert_eq!(of(symbol).sector, sector, "{symbol}");
    }
    let (_, vn30) = u.index("VN30").unwrap();
    for &m in &vn30.members {
        assert_eq!(u.instrument(m).unwrap().liquidity, Liquidity::Liquid);
    }
    // Most of UPCoM is thinly traded; every sector has stocks.
    let upcom: Vec<&Instrument> = u
        .instruments()
        .iter()
        .filter(|x| x.exchange == Exchange::Upcom)
        .collect();
    let illiquid = upcom
        .iter()
        .filter(|x| x.liquidity == Liquidity::Illiquid)
        .count();
    assert!(
        illiquid * 10 > upcom.len() * 8,
        "{illiquid} of {}",
        upcom.len()
    );
    for sector in Sector::ALL {
        assert!(
            u.instruments().iter().any(|x| x.sector == sector),
            "no {sector:?}"
        );
    }
}

#[test]
fn per_instrument_numbers_come_from_the_class_ranges() {
    let model = MarketModel::default();
    let u = Universe::generate_with(4, UniverseSize::default(), &calendar(), today(), &model);
    for x in u.instruments() {
        let class = model.liquidity.of(x.liquidity);
        let [lo, hi] = class.trades_per_day;
        assert!(
            (lo..=hi).contains(&x.trade_rate),
            "{} {}",
            x.symbol,
            x.trade_rate
        );
        let [lo, hi] = class.spread_bps;
        assert!((lo..=hi).contains(&x.spread_bps));
        let [lo, hi] = class.book_lots;
        assert!((lo..=hi).contains(&x.book_lots));
        assert!(x.volatility > 0.0 && x.volatility < 0.1, "{}", x.volatility);
        assert!(x.beta >= 0.0 && x.trade_lots >= 0.5);
    }
    // The model shapes the numbers, not the tickers.
    let mut busy = MarketModel::default();
    busy.liquidity.illiquid.trades_per_day = [50.0, 60.0];
    let v = Universe::generate_with(4, UniverseSize::default(), &calendar(), today(), &busy);
    let symbols = |u: &Universe| -> Vec<String> {
        u.instruments().iter().map(|x| x.symbol.clone()).collect()
    };
    assert_eq!(symbols(&u), symbols(&v));
    assert!(
        v.instruments()
            .iter()
            .filter(|x| x.liquidity == Liquidity::Illiquid)
            .all(|x| x.trade_rate >= 50.0)
    );
}
