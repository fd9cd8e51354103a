//! Every heuristic against the exhaustive ground truth, and the stopping rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use qubo::{Params, Qubo, Solver, instances, solve};

const HEURISTICS: [Solver; 6] = [
    Solver::Sa,
    Solver::Sqa,
    Solver::Sb,
    Solver::Dsb,
    Solver::Pt,
    Solver::Tabu,
];

fn exact(q: &Qubo) -> f64 {
    solve(q, Solver::Exact, &Params::default()).unwrap().energy
}

#[test]
fn exact_solver_matches_brute_force() {
    let q = instances::random_dense(12, 1).unwrap();
    let brute = (0u32..1 << 12)
        .map(|k| q.energy(&(0..12).map(|i| ((k >> i) & 1) as u8).collect::<Vec<_>>()))
        .fold(f64::INFINITY, f64::min);
    let got = solve(
        &q,
        Solver::Exact,
        &Params {
            threads: 3,
            ..Params::default()
        },
    )
    .unwrap();
    assert!((got.energy - brute).abs() < 1e-9);
    assert!((q.energy(&got.x) - got.energy).abs() < 1e-12);
}

#[test]
fn every_heuristic_finds_the_ground_state_of_small_models() {
    let models = [
        ("dense", instances::random_dense(20, 11).unwrap()),
        ("max-cut", instances::max_cut(22, 0.3, 12).unwrap()),
        ("sparse", instances::max_cut(24, 0.1, 13).unwrap()),
    ];
    for (name, q) in &models {
        let truth = exact(q);
        for solver in HEURISTICS {
            let got = solve(
                q,
                solver,
                &Params {
                    seed: 5,
                    reads: Some(4),
                    ..Params::default()
                },
            )
            .unwrap();
            assert!(
                (got.energy - truth).abs() < 1e-9,
                "{solver} on {name}: {} vs ground state {truth}",
                got.energy
            );
            assert_eq!(got.x.len(), q.len());
            assert!((q.energy(&got.x) - got.energy).abs() < 1e-9);
        }
    }
}

#[test]
fn a_seed_gives_the_same_answer_on_any_number_of_threads() {
    let q = instances::random_dense(60, 21).unwrap();
    for solver in HEURISTICS {
        let run = |threads| {
            let p = Params {
                seed: 9,
                reads: Some(4),
                sweeps: Some(50),
                threads,
                ..Params::default()
            };
            solve(&q, solver, &p).unwrap()
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.x, two.x, "{solver}");
        assert_eq!(one.energy, two.energy, "{solver}");
        assert_eq!(one.reads, 4);
    }
}

#[test]
fn a_time_limit_is_honoured_and_stretches_the_schedule() {
    let q = instances::random_dense(300, 22).unwrap();
    for solver in Solver::ALL.into_iter().filter(|s| *s != Solver::Exact) {
        let started = Instant::now();
        let p = Params {
            time_limit: Some(Duration::from_millis(300)),
            ..Params::default()
        };
        let got = solve(&q, solver, &p).unwrap();
        let took = started.elapsed();
        // The limit plus one read's final polish and evaluation.
        assert!(
            took < Duration::from_millis(1_500),
            "{solver} took {took:?}"
        );
        assert!(got.reads >= 1);
    }
    // The exact solver stops at the limit too, with what it has seen so far.
    let big = instances::random_dense(32, 23).unwrap();
    let started = Instant::now();
    let p = Params {
        time_limit: Some(Duration::from_millis(200)),
        ..Params::default()
    };
    solve(&big, Solver::Exact, &p).unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_target_energy_stops_the_search_once_reached() {
    let q = instances::max_cut(200, 0.05, 31).unwrap();
    let easy = solve(
        &q,
        Solver::Sa,
        &Params {
            sweeps: Some(5),
            reads: Some(1),
            ..Params::default()
        },
    )
    .unwrap()
    .energy;
    for solver in HEURISTICS {
        let p = Params {
            target: Some(easy),
            time_limit: Some(Duration::from_secs(20)),
            ..Params::default()
        };
        let got = solve(&q, solver, &p).unwrap();
        assert!(got.reached_target, "{solver}: {} above {easy}", got.energy);
        assert!(
            got.elapsed < Duration::from_secs(10),
            "{solver} took {:?}",
            got.elapsed
        );
    }
}

#[test]
fn zero_reads_or_sweeps_and_large_exact_models_are_refused() {
    let q = instances::random_dense(40, 41).unwrap();
    let err = |solver, p: Params| solve(&q, solver, &p).unwrap_err().to_string();
    assert_eq!(
        err(
            Solver::Sa,
            Params {
                reads: Some(0),
                ..Params::default()
            }
        ),
        "reads must be at least 1"
    );
    assert_eq!(
        err(
            Solver::Tabu,
            Params {
                sweeps: Some(0),
                ..Params::default()
            }
        ),
        "sweeps must be at least 1"
    );
    assert_eq!(
        err(Solver::Exact, Params::default()),
        "the exact solver takes at most 32 variables; this model has 40"
    );
}
