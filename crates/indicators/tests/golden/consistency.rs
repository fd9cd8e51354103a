//! For every registered function with default parameters: batch == bar-by-bar streaming
//! == streaming that is snapshotted midway, serialised to JSON, and restored into a
//! freshly built indicator. Bit-for-bit, NaN included, except batch against streaming
//! for the functions in [`APPROX`].

use indicators::{Indicator, State, registry};
use serde_json::Value;

use crate::data::Series;
use crate::series;

/// Functions whose batch loop runs an EMA or Wilder recurrence four bars per step
/// (`util::Decay4`): the same recurrence as `update`'s bar-by-bar step, rounded
/// differently, so their batch values and the state a batch leaves agree with streaming
/// to [`APPROX_TOLERANCE`], not bit for bit. Streaming against a restored snapshot stays
/// exact for them too.
const APPROX: &[&str] = &["EMA", "RSI", "ATR", "MACD", "MACDFIX"];

/// Relative to max(1, |value|): a few ulps times the recurrence's damping factor
/// (`Decay4`'s documentation) is ~1e-14 for the default periods; 1e-12 leaves room and
/// stays 1000 times inside the golden tests' 1e-9 against TA-Lib.
const APPROX_TOLERANCE: f64 = 1e-12;

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Batch value `a` against streaming value `b` of `function`.
fn batch_matches(function: &str, a: f64, b: f64) -> bool {
    same(a, b)
        || (APPROX.contains(&function)
            && (a - b).abs() <= APPROX_TOLERANCE * a.abs().max(b.abs()).max(1.0))
}

/// Two snapshots as JSON: numbers compared with [`batch_matches`], the rest exactly.
fn states_match(function: &str, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.fract() != 0.0 || y.fract() != 0.0 => {
                batch_matches(function, x, y)
            }
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| states_match(function, x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| states_match(function, v, w)))
        }
        _ => a == b,
    }
}

fn stream(
    ind: &mut dyn Indicator,
    inputs: &[&[f64]],
    from: usize,
    to: usize,
    out: &mut [Vec<f64>],
) {
    let n_out = ind.spec().outputs.len();
    let mut bar = vec![0.0; inputs.len()];
    let mut o = vec![f64::NAN; n_out];
    for i in from..to {
        for (b, s) in bar.iter_mut().zip(inputs) {
            *b = s[i];
        }
        ind.update(&bar, &mut o);
        for (col, v) in out.iter_mut().zip(&o) {
            col.push(*v);
        }
    }
}

#[test]
fn batch_equals_streaming_equals_snapshot_restore_for_every_function() {
    let series = Series::load();
    for spec in registry::specs() {
        let inputs = series.inputs_for(spec);
        let len = inputs[0].len();
        let batch = indicators::build(spec.name, &[])
            .unwrap()
            .batch(&inputs)
            .unwrap();

        let mut live = indicators::build(spec.name, &[]).unwrap();
        let mut streamed = vec![Vec::new(); spec.outputs.len()];
        stream(live.as_mut(), &inputs, 0, len, &mut streamed);

        let mid = len / 2;
        let mut first = indicators::build(spec.name, &[]).unwrap();
        let mut resumed = vec![Vec::new(); spec.outputs.len()];
        stream(first.as_mut(), &inputs, 0, mid, &mut resumed);
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let state: State = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{}: snapshot does not round-trip: {e}\n{json}", spec.name));
        let mut second = indicators::build(spec.name, &[]).unwrap();
        second.restore(state).unwrap();
        stream(second.as_mut(), &inputs, mid, len, &mut resumed);

        for (k, name) in spec.outputs.iter().enumerate() {
            for i in 0..len {
                let (b, s, r) = (batch[k][i], streamed[k][i], resumed[k][i]);
                assert!(
                    batch_matches(spec.name, b, s),
                    "{} {name}[{i}]: batch {b} streaming {s}",
                    spec.name
                );
                assert!(
                    same(s, r),
                    "{} {name}[{i}]: streaming {s} restored {r}",
                    spec.name
                );
            }
        }
        assert!(
            batch.iter().any(|o| o.iter().any(|v| !v.is_nan())),
            "{}: no defined output on the golden series",
            spec.name
        );
    }
}

#[test]
fn batch_in_pieces_leaves_the_streaming_state_and_continues_it_for_every_function() {
    let series = Series::load();
    for spec in registry::specs() {
        let inputs = series.inputs_for(spec);
        let len = inputs[0].len();
        let mut live = indicators::build(spec.name, &[]).unwrap();
        let mut batched = indicators::build(spec.name, &[]).unwrap();
        // Cuts inside and after every warm-up, so a batch starts from fresh, seeding and
        // steady states, and pieces shorter than a window.
        let cuts = [0, 1, 2, 5, 6, 17, 40, 41, 100, len / 2, len - 1, len];
        for w in cuts.windows(2) {
            let (from, to) = (w[0], w[1]);
            let mut streamed = vec![Vec::new(); spec.outputs.len()];
            stream(live.as_mut(), &inputs, from, to, &mut streamed);
            let piece: Vec<&[f64]> = inputs.iter().map(|s| &s[from..to]).collect();
            let out = batched.batch(&piece).unwrap();
            for (k, name) in spec.outputs.iter().enumerate() {
                assert_eq!(out[k].len(), to - from, "{} {name}", spec.name);
                for (i, (b, s)) in out[k].iter().zip(&streamed[k]).enumerate() {
                    assert!(
                        batch_matches(spec.name, *b, *s),
                        "{} {name}[{}]: batch {b} streaming {s}",
                        spec.name,
                        from + i
                    );
                }
            }
            let (b, s) = (batched.snapshot(), live.snapshot());
            if APPROX.contains(&spec.name) {
                let (b, s) = (
                    serde_json::to_value(&b).unwrap(),
                    serde_json::to_value(&s).unwrap(),
                );
                assert!(
                    states_match(spec.name, &b, &s),
                    "{}: state after a batch of bars {from}..{to}: {b} vs {s}",
                    spec.name
                );
            } else {
                assert_eq!(
                    b, s,
                    "{}: state after a batch of bars {from}..{to}",
                    spec.name
                );
            }
        }
    }
}

#[test]
fn a_snapshot_does_not_restore_into_another_function() {
    let sma = indicators::build("SMA", &[]).unwrap();
    let mut ema = indicators::build("EMA", &[]).unwrap();
    assert!(ema.restore(sma.snapshot()).is_err());
}

#[test]
fn every_spec_is_well_formed() {
    for spec in registry::specs() {
        assert!(!spec.outputs.is_empty(), "{}", spec.name);
        assert!(spec.inputs.len() <= indicators::MAX_IO, "{}", spec.name);
        assert!(spec.outputs.len() <= indicators::MAX_IO, "{}", spec.name);
        for p in spec.params {
            assert!(
                p.min <= p.default && p.default <= p.max,
                "{} {}",
                spec.name,
                p.name
            );
        }
        assert_eq!(
            registry::spec(&spec.name.to_lowercase()).unwrap().name,
            spec.name
        );
    }
}

/// The four-bars-per-step batch loops ([`APPROX`]) against streaming over 100,000 bars
/// of the benchmark series, with short, default and long periods: the rounding
/// differences stay within [`APPROX_TOLERANCE`] and do not grow with the length.
#[test]
fn approximate_batch_loops_stay_close_to_streaming_on_a_long_series() {
    let bars = series::bars(100_000);
    let hlc: [&[f64]; 3] = [&bars.high, &bars.low, &bars.close];
    let close: [&[f64]; 1] = [&bars.close];
    type Case<'a> = (&'a str, &'a [(&'a str, f64)], &'a [&'a [f64]]);
    let cases: &[Case] = &[
        ("EMA", &[("timeperiod", 2.0)], &close),
        ("EMA", &[("timeperiod", 30.0)], &close),
        ("EMA", &[("timeperiod", 1000.0)], &close),
        ("RSI", &[("timeperiod", 2.0)], &close),
        ("RSI", &[("timeperiod", 14.0)], &close),
        ("RSI", &[("timeperiod", 1000.0)], &close),
        ("ATR", &[("timeperiod", 2.0)], &hlc),
        ("ATR", &[("timeperiod", 14.0)], &hlc),
        ("ATR", &[("timeperiod", 1000.0)], &hlc),
        ("MACD", &[], &close),
        (
            "MACD",
            &[("fastperiod", 3.0), ("slowperiod", 500.0)],
            &close,
        ),
        ("MACDFIX", &[("signalperiod", 200.0)], &close),
    ];
    for (name, params, inputs) in cases {
        let batch = indicators::build(name, params)
            .unwrap()
            .batch(inputs)
            .unwrap();
        let mut live = indicators::build(name, params).unwrap();
        let mut streamed = vec![Vec::new(); batch.len()];
        stream(live.as_mut(), inputs, 0, inputs[0].len(), &mut streamed);
        for (k, (b, s)) in batch.iter().zip(&streamed).enumerate() {
            for (i, (b, s)) in b.iter().zip(s).enumerate() {
                assert!(
                    batch_matches(name, *b, *s),
                    "{name} {params:?} output {k}[{i}]: batch {b} streaming {s}"
                );
            }
        }
    }
}

/// STOCH's batch takes short windows' extremes by scanning and replays TA-Lib's
/// trackers at the end (src/momentum/stoch.rs): over 20,000 bars of the benchmark series
/// (ticks: many equal highs and lows), in pieces of every kind, the values and the state
/// left after each piece are streaming's, bit for bit.
#[test]
fn stoch_batch_leaves_the_trackers_of_streaming_on_a_long_series() {
    let bars = series::bars(20_000);
    let inputs: [&[f64]; 3] = [&bars.high, &bars.low, &bars.close];
    for fastk in [1.0, 2.0, 5.0, 14.0, 16.0, 17.0, 40.0] {
        let params = [("fastk_period", fastk)];
        let mut live = indicators::build("STOCH", &params).unwrap();
        let mut batched = indicators::build("STOCH", &params).unwrap();
        let cuts = [0, 3, 20, 21, 60, 95, 137, 1000, 1033, 1034, 5000, 20_000];
        for w in cuts.windows(2) {
            let (from, to) = (w[0], w[1]);
            let mut streamed = vec![Vec::new(); 2];
            stream(live.as_mut(), &inputs, from, to, &mut streamed);
            let piece: Vec<&[f64]> = inputs.iter().map(|s| &s[from..to]).collect();
            let out = batched.batch(&piece).unwrap();
            for (k, (b, s)) in out.iter().zip(&streamed).enumerate() {
                for (i, (b, s)) in b.iter().zip(s).enumerate() {
                    assert!(
                        same(*b, *s),
                        "fastk {fastk} output {k}[{}]: {b} vs {s}",
                        from + i
                    );
                }
            }
            assert_eq!(
                batched.snapshot(),
                live.snapshot(),
                "fastk {fastk}, bars {from}..{to}"
            );
        }
    }
}
