use super::*;
use crate::{Params, Solver, solve};

fn problem(k: usize) -> Problem {
    Problem {
        k,
        budget: 1e9,
        risk_aversion: 5.0,
    }
}

/// Every k-subset of 0..n.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|s| s.count_ones() as usize == k)
        .map(|s| (0..n).filter(|i| s >> i & 1 == 1).collect())
        .collect()
}

#[test]
fn the_qubo_is_minus_the_objective_on_every_k_subset_and_its_ground_state_is_one() {
    let u = Universe::factor_model(12, 3);
    let model = Model::new(&u, &problem(4)).unwrap();
    assert_eq!(model.index.len(), 12);
    for set in subsets(12, 4) {
        let mut x = vec![0u8; 12];
        set.iter().for_each(|&a| x[a] = 1);
        let s = model.selection(&u, &x).unwrap();
        assert!((model.qubo.energy(&x) + s.objective).abs() < 1e-12);
    }
    let ground = solve(&model.qubo, Solver::Exact, &Params::default()).unwrap();
    let s = model
        .selection(&u, &ground.x)
        .expect("the ground state chooses exactly k");
    let brute = subsets(12, 4)
        .into_iter()
        .map(|set| model.score(&u, &set).objective)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!((s.objective - brute).abs() < 1e-12);
}

#[test]
fn branch_and_bound_proves_the_best_subset() {
    let u = Universe::factor_model(16, 4);
    let model = Model::new(&u, &problem(5)).unwrap();
    let brute = subsets(16, 5)
        .into_iter()
        .map(|set| model.score(&u, &set))
        .max_by(|a, b| a.objective.total_cmp(&b.objective))
        .unwrap();
    let (found, proven) = model.branch_and_bound(&u, None, Duration::from_secs(10));
    assert!(proven);
    assert_eq!(found.unwrap().chosen, brute.chosen);
    // From a heuristic's answer, the same.
    let sa = solve(
        &model.qubo,
        Solver::Sa,
        &Params {
            reads: Some(1),
            sweeps: Some(20),
            ..Params::default()
        },
    )
    .unwrap();
    let incumbent = model.selection(&u, &sa.x);
    let (found, proven) = model.branch_and_bound(&u, incumbent.as_ref(), Duration::from_secs(10));
    assert!(proven);
    assert_eq!(found.unwrap().chosen, brute.chosen);
}

#[test]
fn whole_lots_set_the_weights_and_unaffordable_securities_are_left_out() {
    let mut u = Universe::factor_model(5, 5);
    u.price = vec![10_000.0, 33_300.0, 2_100_000.0, 50_000.0, 99_900.0];
    let p = Problem {
        k: 2,
        budget: 200_000_000.0,
        risk_aversion: 1.0,
    };
    let model = Model::new(&u, &p).unwrap();
    // 100,000,000 VND each: 2,100,000 × 100 = 210,000,000 does not fit.
    assert_eq!(model.index, vec![0, 1, 3, 4]);
    let s = model.selection(&u, &[0, 1, 0, 1]).unwrap();
    assert_eq!(s.chosen, vec![1, 4]);
    // floor(100,000,000 / 3,330,000) = 30 lots; floor(100,000,000 / 9,990,000) = 10 lots.
    assert_eq!(s.shares, vec![3_000, 1_000]);
    assert!((s.weights[0] - 3_000.0 * 33_300.0 / 2e8).abs() < 1e-15);
    assert_eq!(model.selection(&u, &[1, 1, 1, 0]), None);
    let err = Model::new(&u, &Problem { k: 5, ..p }).unwrap_err();
    assert!(
        err.to_string()
            .contains("only 4 securities cost one lot or less"),
        "{err}"
    );
}

#[test]
fn the_continuous_optimum_bounds_every_selection_and_meets_the_closed_form() {
    let u = Universe::factor_model(10, 6);
    let (w, best) = continuous(&u, 5.0);
    assert!(w.iter().all(|w| *w >= 0.0) && w.iter().sum::<f64>() <= 1.0 + 1e-12);
    let model = Model::new(&u, &problem(3)).unwrap();
    for set in subsets(10, 3) {
        assert!(model.score(&u, &set).objective <= best + 1e-15);
    }
    // Uncorrelated, all weights inside the box: wᵢ = μᵢ / (2λσᵢ²).
    let two = Universe {
        names: vec!["A".into(), "B".into()],
        mean: vec![0.001, 0.002],
        cov: vec![0.0004, 0.0, 0.0, 0.0009],
        price: vec![10_000.0; 2],
        lot: vec![100; 2],
    };
    let (w, _) = continuous(&two, 5.0);
    assert!((w[0] - 0.001 / (2.0 * 5.0 * 0.0004)).abs() < 1e-9, "{w:?}");
    assert!((w[1] - 0.002 / (2.0 * 5.0 * 0.0009)).abs() < 1e-9, "{w:?}");
}

#[test]
fn sample_moments_come_from_the_return_series() {
    let u = Universe::from_returns(
        vec!["A".into(), "B".into()],
        &[vec![0.01, 0.03], vec![0.02, -0.02]],
        vec![1.0, 1.0],
        vec![100, 100],
    )
    .unwrap();
    assert!((u.mean[0] - 0.02).abs() < 1e-15 && u.mean[1].abs() < 1e-15);
    // Sample covariance (n − 1): (−0.01·0.02 + 0.01·−0.02) / 1.
    assert!((u.cov[1] + 0.0004).abs() < 1e-15 && (u.cov[2] + 0.0004).abs() < 1e-15);
    assert!(Universe::from_returns(vec!["A".into()], &[vec![0.1]], vec![1.0], vec![100]).is_err());
    let err = Universe::from_returns(
        vec!["A".into(), "B".into()],
        &[vec![0.1, 0.2], vec![0.1, f64::NAN]],
        vec![1.0; 2],
        vec![100; 2],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "B has a return that is not a finite number"
    );
    assert!(
        Universe::from_returns(vec!["A".into()], &[vec![0.1, 0.2]], vec![0.0], vec![100]).is_err()
    );
}
