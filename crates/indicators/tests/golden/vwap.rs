//! SESSION_VWAP has no TA-Lib counterpart: checked against a straightforward
//! reference computation, in both session-id and reset-flag modes.

use crate::data::Series;

fn reference(series: &Series, starts: &[bool]) -> Vec<f64> {
    let (h, l, c, v) = (
        series.col("high"),
        series.col("low"),
        series.col("close"),
        series.col("volume"),
    );
    let mut out = Vec::new();
    let (mut pv, mut vol) = (0.0, 0.0);
    for i in 0..c.len() {
        if starts[i] {
            pv = 0.0;
            vol = 0.0;
        }
        pv += (h[i] + l[i] + c[i]) / 3.0 * v[i];
        vol += v[i];
        out.push(if vol > 0.0 { pv / vol } else { 0.0 });
    }
    out
}

#[test]
fn session_vwap_matches_a_reference_by_session_id_and_by_reset_flag() {
    let series = Series::load();
    let session = series.col("session");
    let starts: Vec<bool> = (0..session.len())
        .map(|i| i == 0 || session[i] != session[i - 1])
        .collect();
    assert!(
        starts.iter().filter(|s| **s).count() > 2,
        "the series has several sessions"
    );
    let want = reference(&series, &starts);
    let flags: Vec<f64> = starts.iter().map(|s| if *s { 1.0 } else { 0.0 }).collect();
    let inputs = |last: &'static str| -> Vec<&[f64]> {
        let mut v: Vec<&[f64]> = ["high", "low", "close", "volume"]
            .iter()
            .map(|c| series.col(c))
            .collect();
        v.push(series.col(last));
        v
    };
    let by_id = indicators::build("SESSION_VWAP", &[])
        .unwrap()
        .batch(&inputs("session"))
        .unwrap();
    let mut with_flags = inputs("session");
    with_flags[4] = &flags;
    let by_flag = indicators::build("SESSION_VWAP", &[("flag", 1.0)])
        .unwrap()
        .batch(&with_flags)
        .unwrap();
    for (i, w) in want.iter().enumerate() {
        assert!((by_id[0][i] - w).abs() <= 1e-12 * w.abs(), "by id [{i}]");
        assert!(
            (by_flag[0][i] - w).abs() <= 1e-12 * w.abs(),
            "by flag [{i}]"
        );
    }
    // Without resets it is the cumulative VWAP, which is golden-tested against TA-Lib.
    let vwap = indicators::build("VWAP", &[])
        .unwrap()
        .batch(&inputs("session")[..4])
        .unwrap();
    assert_eq!(by_id[0][..50], vwap[0][..50]);
    assert_ne!(by_id[0][50], vwap[0][50]);
}
