//! Backfills through the broker, against the FastConnect simulator started in-process: daily and
//! intraday bars, index values and daily prices stored; gaps repaired; a job interrupted and
//! run again skips what it did; no broker is a clear error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::shutdown::CancellationToken;
use fcsim::{SimConfig, Simulator, UniverseSize};
use historical::backfill::{BackfillKind, BackfillRequest, Backfills};
use historical::metrics::Metrics;
use historical::settings::BackfillSettings;
use historical::store::Store;
use market::{Exchange, InstrumentKind};
use time::macros::datetime;

use crate::helpers::{TestApp, eventually, spawn_app, spawn_with};

struct Sim {
    url: String,
    symbol: String,
    _local: fcsim::Local,
}

async fn sim() -> Sim {
    sim_at(datetime!(2025-06-10 09:14:40 +7)).await
}

async fn sim_at(start: time::OffsetDateTime) -> Sim {
    let sim = Simulator::new(SimConfig {
        start,
        speed: 30.0,
        universe: UniverseSize {
            hose: 20,
            hnx: 5,
            upcom: 5,
        },
        history_days: 40,
        ..SimConfig::demo()
    })
    .unwrap();
    let symbol = sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .find(|x| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap()
        .symbol
        .clone();
    let local = fcsim::Local::serve(sim).await.unwrap();
    Sim {
        url: local.data_url.clone(),
        symbol,
        _local: local,
    }
}

/// The service pointed at the simulator the way `qts up` does it: environment keys only.
async fn app_with_broker(sim: &Sim) -> TestApp {
    spawn_with(&[
        ("HISTORICAL__BROKER__GENERATION", "v2"),
        ("HISTORICAL__BROKER__DATA__URL", &sim.url),
        ("HISTORICAL__BROKER__DATA__HUB_URL", &sim.url),
        (
            "HISTORICAL__BROKER__DATA__CONSUMER_ID",
            fcsim::config::DEMO_DATA_CONSUMER_ID,
        ),
        (
            "HISTORICAL__BROKER__DATA__CONSUMER_SECRET",
            fcsim::config::DEMO_DATA_CONSUMER_SECRET,
        ),
        ("HISTORICAL__BACKFILL__REQUESTS_PER_SECOND", "50"),
    ])
    .await
}

async fn wait_job(app: &TestApp, id: &str) -> serde_json::Value {
    eventually(60, "the backfill to finish", || async {
        let job: serde_json::Value = app
            .get(&format!("/api/historical/v1/backfills/{id}"))
            .await
            .json()
            .await
            .unwrap();
        (job["state"] != "running").then_some(job)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_stores_bars_index_values_and_prices_and_repairs_gaps() {
    let sim = sim().await;
    let app = app_with_broker(&sim).await;
    let s = sim.symbol.as_str();
    let r = app
        .post(
            "/api/historical/v1/backfills",
            &serde_json::json!({
                "kinds": ["daily", "intraday", "index", "price"],
                "symbols": [s],
                "indexes": ["VN30"],
                "from": "2025-06-02",
                "to": "2025-06-09",
            }),
        )
        .await;
    assert_eq!(r.status(), 202);
    let job: serde_json::Value = r.json().await.unwrap();
    let job = wait_job(&app, job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["done_units"], job["total_units"]);
    assert!(job["rows_written"].as_i64().unwrap() > 500, "{job}");

    let daily = app
        .bars(&format!(
            "symbol={s}&from=2025-06-02&to=2025-06-09&resolution=1D"
        ))
        .await;
    assert_eq!(daily.len(), 6, "six trading days: {daily:?}");
    let minutes = app
        .bars(&format!("symbol={s}&from=2025-06-09&to=2025-06-09"))
        .await;
    assert!(minutes.len() > 100, "{}", minutes.len());
    let index: serde_json::Value = app
        .get("/api/historical/v1/indexes/VN30/history?from=2025-06-02&to=2025-06-09")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(index.as_array().unwrap().len(), 6, "{index}");
    let prices: serde_json::Value = app
        .get(&format!(
            "/api/historical/v1/prices/{s}?from=2025-06-02&to=2025-06-09"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prices.as_array().unwrap().len(), 6, "{prices}");
    assert_eq!(
        prices[5]["close"], daily[5]["close"],
        "prices agree with the daily bars"
    );

    // Lose a stretch of minutes, find them as gaps, repair them from the broker.
    let gaps_url = format!("/api/historical/v1/gaps?symbol={s}&from=2025-06-09&to=2025-06-09");
    let before: serde_json::Value = app.get(&gaps_url).await.json().await.unwrap();
    let missing_before = before
        .get(0)
        .map_or(0, |d| d["missing"].as_array().unwrap().len());
    let from = common::store::Timestamp::from(datetime!(2025-06-09 10:00 +7));
    let to = common::store::Timestamp::from(datetime!(2025-06-09 10:30 +7));
    let deleted = common::on_engine!(app.app.db.pool(), |p| sqlx::query(
        "DELETE FROM hist_bars_1m WHERE symbol = $1 AND start >= $2 AND start < $3"
    )
    .bind(s)
    .bind(from)
    .bind(to)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .unwrap() as usize;
    assert!(deleted > 0);
    let holed: serde_json::Value = app.get(&gaps_url).await.json().await.unwrap();
    assert_eq!(
        holed[0]["missing"].as_array().unwrap().len(),
        missing_before + deleted
    );
    let job: serde_json::Value = app
        .post(
            "/api/historical/v1/backfills",
            &serde_json::json!({"kinds": ["repair"], "symbols": [s], "from": "2025-06-09", "to": "2025-06-09"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let job = wait_job(&app, job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        job["rows_written"], deleted,
        "only the missing minutes were written"
    );
    let after: serde_json::Value = app.get(&gaps_url).await.json().await.unwrap();
    assert_eq!(
        after
            .get(0)
            .map_or(0, |d| d["missing"].as_array().unwrap().len()),
        missing_before
    );
    let again = app
        .bars(&format!("symbol={s}&from=2025-06-09&to=2025-06-09"))
        .await;
    assert_eq!(again, minutes, "repaired exactly as first fetched");

    // gRPC sees the same job.
    let got = app
        .grpc()
        .await
        .get_backfill(proto::historical::v1::GetBackfillRequest {
            id: job["id"].as_str().unwrap().into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.state, "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_backfill_resumes_where_it_stopped() {
    let sim = sim().await;
    let app = app_with_broker(&sim).await;
    let settings = || BackfillSettings {
        window_days: 3,
        requests_per_second: 50.0,
        max_attempts: 3,
        retry_backoff_ms: 50,
    };
    let broker_settings: broker::Settings = toml::from_str(&format!(
        "generation = \"v2\"\n[data]\nurl = \"{0}\"\nhub_url = \"{0}\"\nconsumer_id = \"{1}\"\nconsumer_secret = \"{2}\"\n",
        sim.url,
        fcsim::config::DEMO_DATA_CONSUMER_ID,
        fcsim::config::DEMO_DATA_CONSUMER_SECRET
    ))
    .unwrap();
    let broker = historical::market_data(Some(&broker_settings), None).unwrap();
    let calendar = Arc::new(market::TradingCalendar::embedded().unwrap());
    let store = Store::new(app.app.db.clone());
    let req = BackfillRequest {
        kinds: vec![BackfillKind::Daily, BackfillKind::Intraday],
        symbols: vec![sim.symbol.clone()],
        indexes: vec![],
        from: "2025-05-26".into(),
        to: "2025-06-09".into(),
    };
    // First run: stopped after two units.
    let token = CancellationToken::new();
    let first = Backfills::new(
        store.clone(),
        broker.clone(),
        calendar.clone(),
        settings(),
        Metrics::unregistered(),
        token.clone(),
    );
    let job = first.create(&req).await.unwrap();
    let stop = token.clone();
    let progress: historical::backfill::Progress = Arc::new(move |done, _| {
        if done >= 2 {
            stop.cancel();
        }
    });
    let stopped = first.run(job.id, Some(progress)).await.unwrap();
    assert_eq!(stopped.state, "running");
    assert_eq!(stopped.done_units, 2);
    assert_eq!(stopped.total_units, 10, "two kinds, five 3-day windows");

    // Second run: starts at two, finishes.
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let log = seen.clone();
    let progress: historical::backfill::Progress =
        Arc::new(move |done, _| log.lock().unwrap().push(done));
    let second = Backfills::new(
        store,
        broker,
        calendar,
        settings(),
        Metrics::unregistered(),
        CancellationToken::new(),
    );
    let done = second.run(job.id, Some(progress)).await.unwrap();
    assert_eq!(done.state, "done");
    assert_eq!(done.done_units, 10);
    assert_eq!(
        seen.lock().unwrap().first(),
        Some(&2),
        "the done units were skipped"
    );
    let daily = app
        .bars(&format!(
            "symbol={}&from=2025-05-26&to=2025-06-09&resolution=1D",
            sim.symbol
        ))
        .await;
    assert_eq!(daily.len(), 11, "every trading day once");
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test]
async fn without_a_broker_a_backfill_is_a_failed_precondition() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/historical/v1/backfills",
            &serde_json::json!({"kinds": ["daily"], "symbols": ["SSI"], "from": "2025-06-02", "to": "2025-06-09"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "failed_precondition");
    assert!(
        body["message"].as_str().unwrap().contains("[broker]"),
        "{body}"
    );
    let r = app
        .post(
            "/api/historical/v1/backfills",
            &serde_json::json!({"kinds": ["weekly"]}),
        )
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qts_backfill_fills_a_database_from_a_broker_file_without_the_fleet() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broker.toml");
    std::fs::write(
        &file,
        format!(
            "generation = \"v2\"\n[data]\nurl = \"{0}\"\nhub_url = \"{0}\"\nconsumer_id = \"{1}\"\nconsumer_secret = \"{2}\"\n",
            sim.url,
            fcsim::config::DEMO_DATA_CONSUMER_ID,
            fcsim::config::DEMO_DATA_CONSUMER_SECRET
        ),
    )
    .unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("h.db").display());
    historical::cli::backfill(historical::cli::BackfillArgs {
        database_url: url.clone(),
        broker: file,
        kinds: vec!["daily".into(), "index".into()],
        symbols: vec![sim.symbol.clone()],
        indexes: vec!["VN30".into()],
        from: Some("2025-06-02".into()),
        to: Some("2025-06-09".into()),
        resume: None,
        window_days: 30,
        requests_per_second: 50.0,
    })
    .await
    .unwrap();
    let db = common::store::Db::connect(&url, 1, Duration::from_secs(5))
        .await
        .unwrap();
    let store = Store::new(db);
    let index = store
        .index_history(
            "VN30",
            time::macros::date!(2025 - 06 - 02),
            time::macros::date!(2025 - 06 - 09),
        )
        .await
        .unwrap();
    assert_eq!(index.len(), 6);
    let daily = store
        .daily_bars(
            &sim.symbol,
            datetime!(2025-06-01 17:00 UTC),
            datetime!(2025-06-09 17:00 UTC),
        )
        .await
        .unwrap();
    assert_eq!(daily.len(), 6);
    let err = historical::cli::backfill(historical::cli::BackfillArgs {
        database_url: url,
        broker: dir.path().join("missing.toml"),
        kinds: vec!["daily".into()],
        symbols: vec!["SSI".into()],
        indexes: vec![],
        from: Some("2025-06-02".into()),
        to: Some("2025-06-09".into()),
        resume: None,
        window_days: 30,
        requests_per_second: 50.0,
    })
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("missing.toml"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_gap_repairs_the_days_bars_from_the_broker() {
    use common::bus::Envelope;
    use proto::market::v1 as pb;
    // 10:00: the broker has the whole morning; we have one trade of it, at 10:00.
    let sim = sim_at(datetime!(2025-06-10 10:00:00 +7)).await;
    let app = app_with_broker(&sim).await;
    let bus = app.app.bus.clone();
    crate::helpers::publish(
        &bus,
        &[crate::helpers::trade(
            &sim.symbol,
            datetime!(2025-06-10 10:00:00 +7),
            25_000,
            100,
            100,
        )],
    )
    .await;
    let day = format!("symbol={}&from=2025-06-10&to=2025-06-10", sim.symbol);
    eventually(20, "our one bar", || async {
        (app.bars(&day).await.len() == 1).then_some(())
    })
    .await;
    let state = |state: pb::feed_state::State, minute: i64| pb::FeedState {
        source: "fastconnect-v2".into(),
        state: state as i32,
        reason: String::new(),
        at: Some(prost_types::Timestamp {
            seconds: (datetime!(2025-06-10 10:01 +7) + time::Duration::minutes(minute))
                .unix_timestamp(),
            nanos: 0,
        }),
    };
    for s in [
        state(pb::feed_state::State::Gap, 0),
        state(pb::feed_state::State::Reconnected, 1),
    ] {
        bus.publish(
            "market.feed.v1",
            &Envelope::new("test", "fastconnect-v2", &s),
        )
        .await
        .unwrap();
    }
    // The morning's minutes come back from the broker.
    let bars = eventually(60, "the repaired morning", || async {
        let b = app.bars(&day).await;
        (b.len() > 10).then_some(b)
    })
    .await;
    assert!(
        bars[0]["start"].as_str().unwrap() < "2025-06-10T03:00:00Z",
        "{}",
        bars[0]
    );
    assert!(bars.iter().all(|b| b["volume"].as_i64().unwrap() > 0));
}
