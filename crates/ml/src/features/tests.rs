use super::*;

fn panel(closes: &[[f64; 3]]) -> Panel {
    let close: Vec<f64> = closes.iter().flatten().copied().collect();
    Panel::new(
        vec!["A".into(), "B".into(), "C".into()],
        (0..closes.len() as i64).collect(),
        close.clone(),
        close.iter().map(|c| c * 1000.0).collect(),
    )
    .unwrap()
}

fn walk(days: usize) -> Vec<[f64; 3]> {
    (0..days)
        .map(|d| {
            let t = d as f64;
            [
                100.0 + (t * 0.7).sin() * 5.0,
                50.0 + t * 0.1,
                20.0 + (t * 1.3).cos(),
            ]
        })
        .collect()
}

#[test]
fn returns_and_windows_match_their_definitions() {
    let days = walk(30);
    let f = batch(&panel(&days));
    let (d, s) = (25, 0);
    let c = |k: usize| days[k][s];
    let row = f.row(d, s);
    assert!((row[0] - (c(25) / c(24)).ln()).abs() < 1e-12);
    assert!((row[1] - (c(25) / c(20)).ln()).abs() < 1e-12);
    assert!((row[2] - (c(25) / c(5)).ln()).abs() < 1e-12);
    let window: Vec<f64> = (6..=25).map(c).collect();
    let mean = window.iter().sum::<f64>() / 20.0;
    assert!((row[5] - (c(25) / mean - 1.0)).abs() < 1e-12);
    // Warm-up: ret_20 needs 21 closes.
    assert!(f.row(19, 0)[2].is_nan() && f.row(20, 0)[2].is_finite());
    // The market average and the ranks across the three symbols.
    let mkt = (0..3).map(|s| f.row(d, s)[0]).sum::<f64>() / 3.0;
    assert!((row[8] - mkt).abs() < 1e-15);
    let mut ranked: Vec<f64> = (0..3).map(|s| f.row(d, s)[10]).collect();
    ranked.sort_by(f64::total_cmp);
    assert_eq!(ranked, [-0.5, 0.0, 0.5]);
}

#[test]
fn pushing_dates_one_by_one_gives_the_batch_values() {
    let days = walk(40);
    let p = panel(&days);
    let f = batch(&p);
    let mut pipeline = Pipeline::new(3);
    for d in 0..40 {
        let row = pipeline.push(p.closes(d), p.volumes(d));
        for s in 0..3 {
            assert_eq!(
                row[s * COUNT..(s + 1) * COUNT]
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>(),
                f.row(d, s).iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn a_missing_bar_leaves_the_symbols_row_empty_and_its_state_untouched() {
    let mut days = walk(30);
    days[10][1] = f64::NAN;
    let f = batch(&panel(&days));
    assert!(f.row(10, 1).iter().all(|v| v.is_nan()));
    // The next bar's one-day return is from the last close seen.
    assert!((f.row(11, 1)[0] - (days[11][1] / days[9][1]).ln()).abs() < 1e-12);
}

#[test]
fn the_look_ahead_check_passes_the_pipeline_and_catches_a_planted_leak() {
    let p = panel(&walk(60));
    crate::leak::check(&p, batch, [5, 21, 30, 45, 59]).unwrap();
    // A "feature" that is tomorrow's return: a label joined on the wrong date.
    let leaky = |p: &Panel| {
        let tomorrow = crate::labels::forward_returns(p, 1);
        batch(p).with_column("next_return", &tomorrow)
    };
    let leak = crate::leak::check(&p, leaky, [5, 21, 30, 45]).unwrap_err();
    assert_eq!(leak.feature, "next_return");
    assert_eq!(leak.date, 5);
    assert!(leak.truncated.is_nan() && leak.full.is_finite());
    // So does a normalisation over the whole history.
    let global = |p: &Panel| {
        let all: Vec<f64> = (0..p.dates().len())
            .flat_map(|d| p.closes(d).to_vec())
            .collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let column: Vec<f64> = all.iter().map(|c| c / mean).collect();
        batch(p).with_column("close_over_mean", &column)
    };
    assert_eq!(
        crate::leak::check(&p, global, [30]).unwrap_err().feature,
        "close_over_mean"
    );
}
