//! For every registered function with default parameters: batch == bar-by-bar streaming
//! == streaming that is snapshotted midway, serialised to JSON, and restored into a
//! freshly built indicator. Bit-for-bit, NaN included.

use indicators::{Indicator, State, registry};

use crate::data::Series;

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
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
                    same(b, s),
                    "{} {name}[{i}]: batch {b} streaming {s}",
                    spec.name
                );
                assert!(
                    same(b, r),
                    "{} {name}[{i}]: batch {b} restored {r}",
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
                        same(*b, *s),
                        "{} {name}[{}]: batch {b} streaming {s}",
                        spec.name,
                        from + i
                    );
                }
            }
            assert_eq!(
                batched.snapshot(),
                live.snapshot(),
                "{}: state after a batch of bars {from}..{to}",
                spec.name
            );
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
