use super::*;

fn random_model(n: usize, density: f64, seed: u64) -> Qubo {
    let mut rng = crate::solve::Rng::for_read(seed, 0);
    let mut b = Builder::new(n).unwrap();
    b.offset(rng.unit() * 10.0 - 5.0);
    for i in 0..n {
        b.linear(i, rng.unit() * 2.0 - 1.0);
        for j in i + 1..n {
            if rng.unit() < density {
                b.quadratic(i, j, rng.unit() * 2.0 - 1.0);
            }
        }
    }
    b.build()
}

fn states(n: usize) -> impl Iterator<Item = Vec<u8>> {
    (0u32..1 << n).map(move |k| (0..n).map(|i| ((k >> i) & 1) as u8).collect())
}

#[test]
fn energy_sums_offset_linear_and_each_pair_once() {
    let q = Qubo::from_json(
        r#"{"n": 3, "linear": [[0, 1.5], [2, -2]], "quadratic": [[0, 1, 3], [1, 0, 1], [2, 2, 0.5]], "offset": 7}"#,
    )
    .unwrap();
    assert_eq!(q.energy(&[0, 0, 0]), 7.0);
    assert_eq!(q.energy(&[1, 0, 0]), 8.5);
    // The two (0,1) terms add up to 4; the diagonal (2,2) term is linear.
    assert_eq!(q.energy(&[1, 1, 0]), 7.0 + 1.5 + 4.0);
    assert_eq!(q.energy(&[0, 0, 1]), 7.0 - 2.0 + 0.5);
    assert_eq!(q.pairs(), 1);
}

#[test]
fn ising_form_has_the_same_energy_in_every_state_and_converts_back() {
    for (density, seed) in [(0.1, 1), (0.9, 2)] {
        let q = random_model(9, density, seed);
        let ising = q.to_ising();
        let back = ising.to_qubo();
        for x in states(9) {
            let s: Vec<i8> = x.iter().map(|&b| if b == 1 { 1 } else { -1 }).collect();
            let e = q.energy(&x);
            assert!((ising.energy(&s) - e).abs() < 1e-9, "{x:?}");
            assert!((back.energy(&x) - e).abs() < 1e-9, "{x:?}");
        }
    }
}

#[test]
fn dense_and_sparse_storage_agree() {
    let dense = random_model(30, 0.8, 3);
    assert!(dense.is_dense());
    let sparse = Qubo::from_form(&QuboJson {
        n: 31,
        ..dense.to_form()
    })
    .unwrap();
    let mut rng = crate::solve::Rng::for_read(4, 0);
    for _ in 0..50 {
        let mut x: Vec<u8> = (0..30).map(|_| rng.bit()).collect();
        let e = dense.energy(&x);
        x.push(0);
        assert!((sparse.energy(&x) - e).abs() < 1e-9);
    }
    assert!(!random_model(200, 0.01, 5).is_dense());
}

#[test]
fn local_fields_give_each_flips_energy_change() {
    let q = random_model(12, 0.5, 6);
    let mut rng = crate::solve::Rng::for_read(7, 0);
    let x: Vec<u8> = (0..12).map(|_| rng.bit()).collect();
    let field = q.fields(&x);
    for i in 0..12 {
        let mut y = x.clone();
        y[i] ^= 1;
        let expected = q.energy(&y) - q.energy(&x);
        let got = if x[i] == 0 { field[i] } else { -field[i] };
        assert!((expected - got).abs() < 1e-9);
    }
}

#[test]
fn bad_json_names_the_problem() {
    let err = |text: &str| Qubo::from_json(text).unwrap_err().to_string();
    assert_eq!(
        err(r#"{"n": 3, "quadratic": [[0, 1, 1], [2, 3, 1]]}"#),
        "quadratic[1] names variable 3, but the model has variables 0 to 2"
    );
    assert_eq!(
        err(r#"{"n": 0}"#),
        "n is 0; a model has 1 to 1000000 variables"
    );
    assert!(err(r#"{"n": 2, "linear": [[0, 1e999]]}"#).contains("line 1"));
    assert!(err(r#"{"n": 2, "linear": [[-1, 1]]}"#).contains("invalid value"));
    assert!(err(r#"{"n": 2, "quadratics": []}"#).contains("unknown field `quadratics`"));
    assert!(err("{\"n\": 2,\n \"linear\": [[0]]}").contains("line 2"));
    assert!(err(r#"{"linear": []}"#).contains("missing field `n`"));
}
