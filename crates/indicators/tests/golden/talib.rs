//! Every golden case against our batch output: same NaN positions (lookback), values
//! within the case's tolerance (1e-9 relative unless `tolerance` says otherwise, why).

use indicators::registry;

use crate::data::{Series, cases};

/// Cases that need more than the default 1e-9 relative (+1e-12 absolute) tolerance:
/// (case, relative, absolute, why). Keep this list short and every entry explained.
const LOOSER: &[(&str, f64, f64, &str)] = &[];

/// (relative, absolute) tolerance of a case: |ours - talib| <= rel * |talib| + abs.
fn tolerance(case: &str) -> (f64, f64) {
    LOOSER
        .iter()
        .find(|(c, ..)| *c == case)
        .map_or((1e-9, 1e-12), |(_, rel, abs, _)| (*rel, *abs))
}

#[test]
fn every_implemented_function_matches_talib() {
    let series = Series::load();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let Ok(spec) = registry::spec(&case.function) else {
            continue; // not implemented yet: see `every_registered_function_has_a_golden_case`
        };
        checked += 1;
        let params: Vec<(&str, f64)> = case.params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let mut ind = match indicators::build(&case.function, &params) {
            Ok(ind) => ind,
            Err(e) => {
                failures.push(format!("{}: build failed: {e}", case.name));
                continue;
            }
        };
        let outs: Vec<&str> = spec.outputs.to_vec();
        assert_eq!(outs, case.outputs, "{}: output names", case.name);
        let inputs: Vec<&[f64]> = case.inputs.iter().map(|c| series.col(c)).collect();
        let ours = ind.batch(&inputs).unwrap();
        let (rel, abs) = tolerance(&case.name);
        let worst = case
            .values
            .iter()
            .zip(&ours)
            .flat_map(|(w, g)| w.iter().zip(g))
            .filter(|(w, g)| !w.is_nan() && !g.is_nan())
            .map(|(w, g)| (w - g).abs() / w.abs().max(1e-300))
            .fold(0.0, f64::max);
        if worst > 0.0 {
            eprintln!("{}: worst relative difference {worst:e}", case.name);
        }
        'outputs: for ((name, want), got) in case.outputs.iter().zip(&case.values).zip(&ours) {
            for (i, (w, g)) in want.iter().zip(got).enumerate() {
                let ok = if w.is_nan() || g.is_nan() {
                    w.is_nan() && g.is_nan()
                } else {
                    (w - g).abs() <= rel * w.abs() + abs
                };
                if !ok {
                    failures.push(format!(
                        "{} {}[{i}]: talib {w} ours {g} (lookback {})",
                        case.name,
                        name,
                        ind.lookback()
                    ));
                    continue 'outputs;
                }
            }
        }
    }
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Functions we add without a TA-Lib counterpart, checked against a reference instead.
const NOT_IN_TALIB: &[&str] = &["SESSION_VWAP"];

#[test]
fn every_registered_function_has_a_golden_case() {
    let cases = cases();
    let missing: Vec<&str> = registry::specs()
        .iter()
        .map(|s| s.name)
        .filter(|n| !NOT_IN_TALIB.contains(n))
        .filter(|n| !cases.iter().any(|c| c.function == *n))
        .collect();
    assert!(missing.is_empty(), "no golden case for {missing:?}");
}

#[test]
fn lookback_matches_the_first_defined_output() {
    let series = Series::load();
    for case in cases() {
        let Ok(_) = registry::spec(&case.function) else {
            continue;
        };
        let params: Vec<(&str, f64)> = case.params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let ind = indicators::build(&case.function, &params).unwrap();
        let first = case.values[0].iter().position(|v| !v.is_nan());
        if let Some(first) = first {
            assert_eq!(ind.lookback(), first, "{}", case.name);
        }
        let _ = &series;
    }
}
