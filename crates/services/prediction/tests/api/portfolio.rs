//! `POST /v1/portfolio`: a QUBO solver's choice of k securities, judged by branch and bound
//! and the continuous optimum; and the refusals.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// `n` securities with `periods` aligned pseudo-random daily returns (a market factor plus
/// each one's own), prices 10,000 to 60,000 VND.
fn securities(n: usize, periods: usize) -> Vec<Value> {
    let mut state: u64 = 42;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let market: Vec<f64> = (0..periods).map(|_| next() * 0.02).collect();
    (0..n)
        .map(|i| {
            let drift = (i as f64 - n as f64 / 2.0) * 0.0001;
            let returns: Vec<f64> = market.iter().map(|m| drift + 0.8 * m + next() * 0.03).collect();
            json!({"symbol": format!("S{i:02}"), "price": 10_000.0 + 5_000.0 * (i % 11) as f64, "returns": returns})
        })
        .collect()
}

#[tokio::test]
async fn chooses_k_securities_in_whole_lots_and_proves_the_best_subset() {
    let app = spawn_app().await;
    let body =
        json!({"securities": securities(14, 120), "k": 4, "budget": 1e9, "time_limit_ms": 300});
    let response = app.post_portfolio(&body).await;
    assert_eq!(response.status(), 200);
    let v: Value = response.json().await.unwrap();
    let holdings = v["holdings"].as_array().unwrap();
    assert_eq!(holdings.len(), 4);
    for h in holdings {
        assert_eq!(h["shares"].as_u64().unwrap() % 100, 0, "{h}");
        assert!(h["weight"].as_f64().unwrap() <= 0.25);
    }
    assert_eq!(v["proven"], true);
    assert_eq!(v["solver"], "tabu");
    // Tabu finds the proven best on 14 candidates; the continuous optimum bounds it.
    assert!(v["gap"].as_f64().unwrap().abs() < 1e-12, "{v}");
    assert!(v["objective"].as_f64().unwrap() <= v["bound"].as_f64().unwrap());
    app.app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let refused = |body: Value, needle: &'static str| {
        let app = &app;
        async move {
            let response = app.post_portfolio(&body).await;
            assert_eq!(response.status(), 400, "{body}");
            let v: Value = response.json().await.unwrap();
            assert_eq!(v["code"], "invalid_argument");
            let message = v["message"].as_str().unwrap().to_owned();
            assert!(message.contains(needle), "{message}");
        }
    };
    let mut unaligned = securities(5, 30);
    unaligned[2]["returns"] = json!([0.01, 0.02, 0.03]);
    refused(
        json!({"securities": unaligned, "k": 2, "budget": 1e9}),
        "S02 has 3 returns",
    )
    .await;
    refused(
        json!({"securities": securities(5, 30), "k": 2, "budget": 1e9, "solver": "qaoa"}),
        "unknown solver",
    )
    .await;
    refused(
        json!({"securities": securities(5, 30), "k": 6, "budget": 1e9}),
        "cannot choose 6",
    )
    .await;
    refused(
        json!({"securities": securities(5, 30), "k": 2, "budget": 1e9, "time_limit_ms": 0}),
        "time_limit_ms 0",
    )
    .await;
    refused(
        json!({"securities": securities(501, 3), "k": 2, "budget": 1e9}),
        "501 securities",
    )
    .await;
    refused(
        json!({"securities": securities(5, 30), "k": 2}),
        "missing field `budget`",
    )
    .await;
    app.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_optimisation_while_one_runs_is_told_to_retry() {
    let app = spawn_app().await;
    let long =
        json!({"securities": securities(60, 60), "k": 6, "budget": 1e9, "time_limit_ms": 2000});
    let first = {
        let app = &app;
        async move { app.post_portfolio(&long).await.status() }
    };
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.post_portfolio(&json!({"securities": securities(5, 30), "k": 2, "budget": 1e9}))
            .await
            .status()
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first, 200);
    assert_eq!(second, 429);
    app.app.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_optimises_the_same_way_and_refuses_the_same_way() {
    use proto::prediction::v1::{Candidate, OptimisePortfolioRequest};
    let app = spawn_app().await;
    let candidates: Vec<Candidate> = securities(10, 60)
        .into_iter()
        .map(|s| Candidate {
            symbol: s["symbol"].as_str().unwrap().to_owned(),
            price: s["price"].as_f64().unwrap(),
            lot: 0,
            returns: s["returns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_f64().unwrap())
                .collect(),
        })
        .collect();
    let request = |solver: &str| OptimisePortfolioRequest {
        securities: candidates.clone(),
        k: 3,
        budget: 1e9,
        risk_aversion: None,
        solver: solver.to_owned(),
        time_limit_ms: 200,
        seed: 1,
    };
    let answer = app.grpc_optimise(request("sa")).await.unwrap();
    assert_eq!(answer.holdings.len(), 3);
    assert_eq!(answer.solver, "sa");
    assert!(answer.proven);
    assert!(answer.gap.unwrap().abs() < 1e-12);
    assert!(answer.holdings.iter().all(|h| h.shares % 100 == 0));
    let refused = app.grpc_optimise(request("annealing")).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("unknown solver"),
        "{}",
        refused.message()
    );
    app.app.stop().await.unwrap();
}
