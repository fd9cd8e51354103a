//! Candlestick patterns on golden/data/patterns: a series where every pattern fires
//! (see `write_pattern_cases` in golden/generate.py), incl. non-default penetrations.
//! Outputs must equal TA-Lib's exactly, NaN positions (lookback) included, also when
//! the stream is snapshotted and restored midway.

use std::path::Path;

use indicators::{Indicator, State, registry};

fn num(s: &str) -> f64 {
    if s.is_empty() {
        f64::NAN
    } else {
        s.parse()
            .unwrap_or_else(|e| panic!("bad number {s:?}: {e}"))
    }
}

/// A csv file as (header line, column names, columns).
fn read(path: &Path) -> (Option<String>, Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().peekable();
    let head = lines.next_if(|l| l.contains('|')).map(str::to_owned);
    let names: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut cols = vec![Vec::new(); names.len()];
    for line in lines {
        for (col, field) in cols.iter_mut().zip(line.split(',')) {
            col.push(num(field));
        }
    }
    (head, names, cols)
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[test]
fn every_pattern_matches_talib_where_it_fires() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/data/patterns");
    let (_, _, ohlc) = read(&dir.join("input.csv"));
    let inputs: Vec<&[f64]> = ohlc.iter().map(Vec::as_slice).collect();
    let len = inputs[0].len();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv") && !p.ends_with("input.csv"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in &paths {
        let (head, _, want) = read(path);
        let head = head.unwrap();
        let [function, _, params] = head.split('|').collect::<Vec<_>>()[..] else {
            panic!("{}: bad first line", path.display())
        };
        if registry::spec(function).is_err() {
            continue;
        }
        checked += 1;
        let params: Vec<(&str, f64)> = params
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').map(|(k, v)| (k, num(v))).unwrap())
            .collect();
        let case = path.file_stem().unwrap().to_string_lossy();
        assert!(
            want[0].iter().any(|v| *v != 0.0 && !v.is_nan()),
            "{case} never fires: the pattern series lost its point"
        );

        let batch = indicators::build(function, &params)
            .unwrap()
            .batch(&inputs)
            .unwrap();
        let mut first = indicators::build(function, &params).unwrap();
        let mut streamed = Vec::with_capacity(len);
        let mut out = [f64::NAN];
        let mut bar = [0.0; 4];
        let mid = len / 2;
        for i in 0..mid {
            bar.iter_mut().zip(&inputs).for_each(|(b, s)| *b = s[i]);
            first.update(&bar, &mut out);
            streamed.push(out[0]);
        }
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let mut second: Box<dyn Indicator> = indicators::build(function, &params).unwrap();
        second
            .restore(serde_json::from_str::<State>(&json).unwrap())
            .unwrap();
        for i in mid..len {
            bar.iter_mut().zip(&inputs).for_each(|(b, s)| *b = s[i]);
            second.update(&bar, &mut out);
            streamed.push(out[0]);
        }

        let bad =
            (0..len).find(|&i| !same(want[0][i], batch[0][i]) || !same(batch[0][i], streamed[i]));
        if let Some(i) = bad {
            failures.push(format!(
                "{case}[{i}]: talib {} batch {} streamed {}",
                want[0][i], batch[0][i], streamed[i]
            ));
        }
    }
    assert!(checked > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
