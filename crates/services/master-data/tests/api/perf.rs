//! Measurements (ignored by default; `docs/performance.md` has the figures):
//! `cargo test -p master-data --release --test api perf -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use time::macros::datetime;

use crate::helpers::{sim_sized, spawn_with};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn perf_a_whole_market_sync_and_cached_lookups() {
    let s = sim_sized(
        datetime!(2025-06-10 08:30:00 +7),
        fcsim::UniverseSize::default(),
    )
    .await;
    let mut env = s.v2_env();
    if let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        env.push((
            "MASTER_DATA__DATABASE__URL".into(),
            crate::helpers::fresh_database(&url).await,
        ));
    }
    if let Some(url) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        env.push(("MASTER_DATA__CACHE__KIND".into(), "redis".into()));
        env.push(("MASTER_DATA__CACHE__URL".into(), url));
        env.push((
            "MASTER_DATA__CACHE__KEY_PREFIX".into(),
            format!("md-perf-{}:", uuid::Uuid::new_v4().simple()),
        ));
    }
    let app = spawn_with(&env).await;
    let n = s.sim.generator().universe().instruments().len();

    let t = Instant::now();
    let report: serde_json::Value = app.sync(serde_json::json!({})).await.json().await.unwrap();
    let first = t.elapsed();
    assert_eq!(report["securities"], n, "{report}");
    let t = Instant::now();
    let events = app.published(n).await;
    let relayed = t.elapsed();
    assert_eq!(events.len(), n);
    let t = Instant::now();
    let again: serde_json::Value = app.sync(serde_json::json!({})).await.json().await.unwrap();
    let second = t.elapsed();
    assert_eq!(again["changed"], 0);

    let symbols: Vec<String> = s
        .sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .map(|x| x.symbol.clone())
        .collect();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for round in 0..2 {
        for sym in symbols.iter().take(500) {
            let t = Instant::now();
            let r = app
                .get(&format!("/api/master-data/v1/securities/{sym}"))
                .await;
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await.unwrap();
            if round == 0 {
                cold.push(t.elapsed())
            } else {
                warm.push(t.elapsed())
            }
        }
    }
    cold.sort();
    warm.sort();
    let t = Instant::now();
    let all = app.all_securities("", 1000).await;
    let listing = t.elapsed();
    assert_eq!(all.len(), n);
    let info = app.get_json("/api/master-data/v1/info", 200).await;
    println!(
        "backends {}: {n} securities; first sync {first:?} ({} derived), outbox relay of {n} events {relayed:?}, \
         unchanged re-sync {second:?}; GET one security cold p50 {:?} p99 {:?}, cached p50 {:?} p99 {:?}; \
         whole list in pages of 1000 {listing:?}",
        info["backends"],
        report["derived"],
        percentile(&cold, 0.5),
        percentile(&cold, 0.99),
        percentile(&warm, 0.5),
        percentile(&warm, 0.99),
    );
}
