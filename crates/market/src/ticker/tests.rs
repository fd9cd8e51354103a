use super::*;
use proptest::prelude::*;

fn fut(u: Underlying, y: u16, m: u8, style: CodeStyle) -> TickerKind {
    TickerKind::Future {
        contract: FutureContract::new(u, y, m).unwrap(),
        style,
    }
}

#[test]
fn three_character_codes_are_stocks() {
    for t in ["FPT", "VCB", "C32", "HT1", "fpt"] {
        assert_eq!(classify(t), Ok(TickerKind::Stock), "{t}");
    }
    assert_eq!(Symbol::parse("fpt").unwrap().as_str(), "FPT");
}

#[test]
fn invalid_characters_and_lengths_are_rejected() {
    for t in ["", "F-T", "ÀBC", "ABCDEFGHIJKLMNOPQ", "1AB"] {
        assert!(classify(t).is_err(), "{t}");
    }
    assert!(matches!(classify("F T"), Err(Error::InvalidSymbol(_))));
    assert!(matches!(classify("ABCD"), Err(Error::UnknownPattern(_))));
}

#[test]
fn etf_and_fund_prefixes_are_recognised() {
    assert_eq!(classify("FUEVFVND"), Ok(TickerKind::Etf));
    assert_eq!(classify("FUESSV30"), Ok(TickerKind::Etf));
    assert_eq!(classify("E1VFVN30"), Ok(TickerKind::Etf));
    assert_eq!(classify("FUCVREIT"), Ok(TickerKind::FundCertificate));
}

#[test]
fn covered_warrant_code_splits_into_underlying_year_serial() {
    assert_eq!(
        classify("CFPT2501"),
        Ok(TickerKind::CoveredWarrant {
            underlying: Symbol::parse("FPT").unwrap(),
            year: 2025,
            serial: 1
        })
    );
    let off = TickerRules {
        covered_warrant_pattern: false,
        ..TickerRules::default()
    };
    assert!(classify_with("CFPT2501", &off).is_err());
}

#[test]
fn legacy_vn30_futures_codes_parse() {
    assert_eq!(
        classify("VN30F2506"),
        Ok(fut(Underlying::Vn30, 2025, 6, CodeStyle::Legacy))
    );
    assert!(matches!(
        classify("VN30F2513"),
        Err(Error::InvalidFuturesCode { .. })
    ));
    assert!(matches!(
        classify("VN30F2500"),
        Err(Error::InvalidFuturesCode { .. })
    ));
}

#[test]
fn krx_example_from_the_reference_maps_both_ways() {
    // Reference §1.3: VN30F2504 <-> 41I1F4000.
    let rules = TickerRules::default();
    assert_eq!(
        classify("41I1F4000"),
        Ok(fut(Underlying::Vn30, 2025, 4, CodeStyle::Krx))
    );
    let c = FutureContract::new(Underlying::Vn30, 2025, 4).unwrap();
    assert_eq!(c.krx_code(&rules).unwrap(), "41I1F4000");
    assert_eq!(c.legacy_code().unwrap(), "VN30F2504");
}

#[test]
fn krx_year_alphabet_skips_i_o_u() {
    let rules = TickerRules::default();
    for (year, ch) in [
        (2026, 'G'),
        (2027, 'H'),
        (2028, 'J'),
        (2029, 'K'),
        (2030, 'L'),
    ] {
        let c = FutureContract::new(Underlying::Vn100, year, 12).unwrap();
        assert_eq!(c.krx_code(&rules).unwrap(), format!("41I2{ch}C000"));
    }
    assert_eq!(KRX_YEAR_ALPHABET.len(), 30);
    assert!(!KRX_YEAR_ALPHABET.contains(['I', 'O', 'U']));
    assert!(matches!(
        classify("41I1I4000"),
        Err(Error::InvalidFuturesCode { .. })
    ));
    assert!(matches!(
        classify("41I1FD000"),
        Err(Error::InvalidFuturesCode { .. })
    ));
    assert!(matches!(
        classify("41X1F4000"),
        Err(Error::InvalidFuturesCode { .. })
    ));
}

#[test]
fn years_outside_the_cycle_cannot_be_written() {
    let c = FutureContract::new(Underlying::Vn30, 2040, 1).unwrap();
    assert!(c.krx_code(&TickerRules::default()).is_err());
    let v100 = FutureContract::new(Underlying::Vn100, 2026, 1).unwrap();
    assert!(v100.legacy_code().is_err());
}

#[test]
fn vendor_aliases_are_recognised() {
    assert_eq!(
        classify("VN30F1M"),
        Ok(TickerKind::FutureAlias(FutureAlias {
            underlying: Underlying::Vn30,
            series: AliasSeries::FrontMonth
        }))
    );
    assert_eq!(
        classify("VN100F2Q"),
        Ok(TickerKind::FutureAlias(FutureAlias {
            underlying: Underlying::Vn100,
            series: AliasSeries::SecondQuarter
        }))
    );
}

#[test]
fn symbol_serde_validates() {
    assert!(serde_json::from_str::<Symbol>("\"A-B\"").is_err());
    let s: Symbol = serde_json::from_str("\"vcb\"").unwrap();
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"VCB\"");
}

proptest! {
    #[test]
    fn prop_krx_codes_round_trip(year in 2010u16..2040, month in 1u8..=12, u in 0usize..4) {
        let underlying = [Underlying::Vn30, Underlying::Vn100, Underlying::Gb05, Underlying::Gb10][u];
        let rules = TickerRules::default();
        let c = FutureContract::new(underlying, year, month).unwrap();
        let code = c.krx_code(&rules).unwrap();
        prop_assert_eq!(classify(&code), Ok(TickerKind::Future { contract: c, style: CodeStyle::Krx }));
    }

    #[test]
    fn prop_symbol_parse_never_panics(s in "\\PC{0,20}") {
        let _ = classify(&s);
    }

    #[test]
    fn prop_valid_symbols_round_trip(s in "[A-Z0-9]{1,16}") {
        let sym = Symbol::parse(&s).unwrap();
        prop_assert_eq!(sym.as_str(), s.as_str());
    }
}
