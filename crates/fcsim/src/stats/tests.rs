use time::macros::date;

use super::estimators::*;
use super::*;

#[test]
fn kurtosis_of_a_two_point_and_a_spiky_series() {
    // ±1: m4 / m2² = 1, excess −2.
    let flat: Vec<f64> = (0..1000)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    assert!((excess_kurtosis(&flat) + 2.0).abs() < 1e-9);
    // Mostly 0 with rare ±10: very fat tails.
    let spiky: Vec<f64> = (0..1000)
        .map(|i| match i % 100 {
            0 => 10.0,
            50 => -10.0,
            _ => 0.0,
        })
        .collect();
    assert!(excess_kurtosis(&spiky) > 40.0);
}

#[test]
fn autocorrelation_sees_alternation_and_skips_gaps() {
    let alternating: Vec<Option<f64>> = (0..200)
        .map(|i| Some(if i % 2 == 0 { 1.0 } else { -1.0 }))
        .collect();
    assert!((autocorrelation(&alternating, 1) + 1.0).abs() < 0.02);
    assert!((autocorrelation(&alternating, 2) - 1.0).abs() < 0.02);
    let gappy: Vec<Option<f64>> = alternating
        .iter()
        .enumerate()
        .map(|(i, x)| if i % 3 == 0 { None } else { *x })
        .collect();
    assert!((autocorrelation(&gappy, 1) + 1.0).abs() < 0.05);
}

#[test]
fn correlation_of_linked_series_and_a_subset_of_days() {
    let x: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i))).collect();
    let y: Vec<Option<f64>> = (0..100).map(|i| Some(3.0 - 2.0 * f64::from(i))).collect();
    assert!((correlation(&x, &y, |_| true) + 1.0).abs() < 1e-9);
    let z: Vec<Option<f64>> = (0..100)
        .map(|i| Some(if i < 50 { f64::from(i) } else { -f64::from(i) }))
        .collect();
    assert!((correlation(&x, &z, |t| t < 50) - 1.0).abs() < 1e-9);
    assert!(correlation(&x, &z, |t| t < 2).is_nan());
}

#[test]
fn roll_recovers_the_bounce_of_a_constant_spread() {
    // Changes alternating ±0.01: serial covariance −0.0001, so 2 √0.0001 = 0.02.
    let day: Vec<f64> = (0..100)
        .map(|i| if i % 2 == 0 { 0.01 } else { -0.01 })
        .collect();
    let s = roll_spread(&[day.clone(), day]);
    assert!((s - 0.02).abs() < 1e-3, "{s}");
    let trending: Vec<f64> = vec![0.01; 50];
    assert_eq!(roll_spread(&[trending]), 0.0);
}

#[test]
fn selections_parse_index_codes_and_symbol_lists() {
    assert_eq!(
        "vn30".parse::<Selection>().unwrap(),
        Selection::Index("VN30".into())
    );
    assert_eq!(
        "ssi, fpt,HPG".parse::<Selection>().unwrap(),
        Selection::Symbols(vec!["SSI".into(), "FPT".into(), "HPG".into()])
    );
    assert!("".parse::<Selection>().is_err());
    assert!("SSI,".parse::<Selection>().is_err());
}

#[test]
fn session_shape_tells_auction_break_and_edge_minutes() {
    // HOSE: ATO prints 09:15:00, continuous 09:15-11:30 and 13:00-14:30, ATC 14:45:00.
    let shape = SessionShape {
        continuous: vec![(33_300, 41_400), (46_800, 52_200)],
        opening_print: Some(33_300),
        closing_print: Some(53_100),
    };
    assert!(!shape.is_continuous_minute(33_300), "the ATO minute");
    assert!(shape.is_continuous_minute(33_360));
    assert!(shape.is_closing_auction_minute(53_100));
    assert!(!shape.is_continuous_minute(53_100));
    assert!(shape.is_break(43_200));
    assert!(!shape.is_break(46_800));
    assert!(shape.is_session_edge(33_360) && shape.is_session_edge(52_140));
    assert!(!shape.is_session_edge(39_600));
}

fn series(symbol: &str, closes: &[f64], volumes: &[u64]) -> Series {
    let start = date!(2025 - 01 - 01);
    Series {
        symbol: symbol.to_owned(),
        exchange: "HOSE",
        liquidity: Liquidity::Liquid,
        shape: SessionShape::default(),
        daily: closes
            .iter()
            .zip(volumes)
            .enumerate()
            .map(|(t, (c, v))| DailyRow {
                date: Generator::shift(start, t as i64),
                ceiling: c * 1.07,
                floor: c * 0.93,
                close: *c,
                volume: *v,
                value: c * *v as f64,
                deal_value: 0.0,
            })
            .collect(),
        minutes: Vec::new(),
    }
}

#[test]
fn a_report_reads_returns_only_across_days_that_traded() {
    let start = date!(2025 - 01 - 01);
    let dates: Vec<Date> = (0..40).map(|t| Generator::shift(start, t)).collect();
    let closes_a: Vec<f64> = (0..40)
        .map(|t| 100.0 * (1.0 + 0.01 * f64::from(t % 3)))
        .collect();
    let closes_b: Vec<f64> = closes_a.iter().map(|c| c * 2.0).collect();
    let mut volumes = vec![1_000u64; 40];
    volumes[10] = 0;
    let a = series("AAA", &closes_a, &volumes);
    let b = series("BBB", &closes_b, &vec![500; 40]);
    let index: Vec<(Date, f64)> = dates.iter().zip(&closes_a).map(|(d, c)| (*d, *c)).collect();
    let sample = Sample {
        seed: 1,
        dates: dates.clone(),
        index_code: "VN30".into(),
        market: index.clone(),
        index,
        selected: vec![a.clone(), b],
        sampled: vec![a],
        odd_lot_volume: 5,
        round_lot_volume: 1_000,
        put_through_value: 0.0,
    };
    let report = compute::report(&sample);
    // 39 returns for BBB, 37 for AAA (day 10 did not trade: two returns lost).
    assert_eq!(report.returns.observations, 39 + 37);
    assert!((report.returns.pairwise_correlation - 1.0).abs() < 1e-9);
    assert!((report.returns.index_correlation - 1.0).abs() < 1e-9);
    assert_eq!(
        report.limits.len(),
        2,
        "HOSE's sample, then the selected symbols"
    );
    assert_eq!(report.limits[0].exchange, "HOSE");
    assert_eq!(report.limits[0].stock_days, 39);
    assert_eq!(report.limits[1].exchange, "VN30");
    assert_eq!(report.limits[1].stock_days, 39 + 40);
    assert_eq!(report.limits[0].limit_up, 0.0);
    assert!((report.liquidity[0].no_trade_share - 1.0 / 40.0).abs() < 1e-12);
    assert!((report.odd_lot_volume_share - 0.005).abs() < 1e-12);
    assert!(
        report
            .facts
            .iter()
            .any(|f| f.key == "returns.excess_kurtosis")
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["returns"]["observations"], 76);
    assert!(report.to_string().contains("pooled excess kurtosis"));
}
