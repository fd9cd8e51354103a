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
