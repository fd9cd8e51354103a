//! Predictions end to end: the service backfills a simulated market's daily bars through the
//! real historical service (which reads them from the simulator over FC Data), trains and
//! promotes a model (the simulator plants a known reversal, so the out-of-sample IC is clearly
//! positive), predicts every symbol from the last complete close and publishes the predictions
//! to `prediction.signal.v1` during the session; the model API trains, evaluates, lists and
//! promotes, and refuses what is wrong by name.

use std::time::Duration;

use common::bus::topics::PREDICTION_SIGNAL;
use market::{Exchange, InstrumentKind};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::helpers::{TestApp, spawn_with};

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_trains_predicts_and_publishes_from_the_historical_service() {
    let mut config = fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 10:00:00 +7),
        speed: 1.0,
        universe: fcsim::UniverseSize {
            hose: 20,
            hnx: 2,
            upcom: 2,
        },
        history_days: 160,
        ..fcsim::SimConfig::demo()
    };
    config.market.stock.planted_reversal = 0.3;
    let sim = fcsim::Local::start(config).await.unwrap();
    let universe: Vec<String> = sim
        .sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .filter(|x| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .map(|x| x.symbol.clone())
        .collect();
    assert_eq!(universe.len(), 20);

    let mut env = sim.v2_broker_env("HISTORICAL");
    env.push((
        "HISTORICAL__BACKFILL__REQUESTS_PER_SECOND".into(),
        "40".into(),
    ));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let historical = common::service::testing::spawn::<historical::App>(&pairs)
        .await
        .unwrap();

    let (start, anchor) = (
        sim.sim.now().format(&Rfc3339).unwrap(),
        time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap(),
    );
    let (historical_url, symbols) = (historical.grpc_url(), universe.join(","));
    let app: TestApp = spawn_with(&[
        ("PREDICTION__PEERS__HISTORICAL", &historical_url),
        ("PREDICTION__PREDICTION__UNIVERSE", &symbols),
        ("PREDICTION__CLOCK__START", &start),
        ("PREDICTION__CLOCK__ANCHOR", &anchor),
        ("PREDICTION__CLOCK__SPEED", "1"),
        ("PREDICTION__PREDICTION__HISTORY_DAYS", "240"),
        ("PREDICTION__RECIPE__MIN_TRAIN_DATES", "60"),
        ("PREDICTION__RECIPE__TEST_DATES", "20"),
    ])
    .await;
    let mut published = app
        .app
        .bus
        .subscribe("test.predictions", &[PREDICTION_SIGNAL.static_name()])
        .await
        .unwrap();

    // 10:00 on a trading day, after the publishing time: the predictions from the last close
    // (the day before) are made and published at once.
    let latest = eventually("the first predictions", async || {
        let (status, body) = json_of(app.get("/api/prediction/v1/predictions").await).await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(latest["date"], "2025-06-09", "{latest}");
    assert_eq!(latest["model_version"], 1);
    assert_eq!(latest["horizon"], 1);
    let predictions = latest["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 20, "{latest}");
    let named = |name: &str| predictions.iter().filter(|p| p["name"] == name).count();
    assert_eq!(
        (
            named("prediction_long"),
            named("prediction_exit"),
            named("prediction_hold")
        ),
        (4, 4, 12),
        "{latest}"
    );
    // Ranked: every long scores above every exit.
    let scores = |name: &str| {
        predictions
            .iter()
            .filter(|p| p["name"] == name)
            .map(|p| p["score"].as_f64().unwrap())
            .collect::<Vec<_>>()
    };
    let lowest_long = scores("prediction_long")
        .into_iter()
        .fold(f64::MAX, f64::min);
    let highest_exit = scores("prediction_exit")
        .into_iter()
        .fold(f64::MIN, f64::max);
    assert!(lowest_long > highest_exit, "{latest}");

    let mut signals = Vec::new();
    while signals.len() < 20 {
        let d = published
            .poll(Duration::from_secs(30))
            .await
            .unwrap()
            .expect("20 published predictions");
        let s: proto::prediction::v1::Signal = d.envelope.decode().unwrap();
        assert_eq!(d.envelope.key, s.symbol);
        signals.push(s);
    }
    signals.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    let first = &predictions[0];
    assert_eq!(signals[0].id, first["id"].as_str().unwrap());
    assert_eq!(
        signals[0].id,
        format!("prediction-1-2025-06-09-{}", signals[0].symbol)
    );

    // The first model: trained on the backfilled history, promoted, scored out of sample. The
    // simulator planted a reversal, which a ridge model on the features finds.
    let (status, models) = json_of(app.get("/api/prediction/v1/models").await).await;
    assert_eq!(status, 200);
    let models = models.as_array().unwrap().clone();
    assert_eq!(models.len(), 1, "{models:?}");
    let m = &models[0];
    assert_eq!(
        (m["version"].as_u64(), &m["promoted"]),
        (Some(1), &json!(true))
    );
    assert_eq!(m["trained_to"], "2025-06-06", "{m}");
    assert_eq!(m["recipe"]["min_train_dates"], 60);
    let ic = m["metrics"]["ic"].as_f64().unwrap();
    assert!(ic > 0.1, "out-of-sample IC {ic}: {m}");

    // An evaluation saves nothing; a training saves a version that is not promoted until asked.
    let (status, dry) = json_of(
        app.post(
            "/api/prediction/v1/models",
            &json!({"dry_run": true, "lambda": 1.0}),
        )
        .await,
    )
    .await;
    assert_eq!((status, dry["version"].as_u64()), (200, Some(0)), "{dry}");
    // Gradient-boosted trees, evaluated the same way.
    let (status, trees) = json_of(
        app.post(
            "/api/prediction/v1/models",
            &json!({"dry_run": true, "model": "gbt"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &trees["recipe"]["model"]),
        (200, &json!("gbt")),
        "{trees}"
    );
    assert!(trees["metrics"]["ic"].as_f64().unwrap() > 0.05, "{trees}");
    // And the neural network, shaped as configured.
    let (status, net) = json_of(
        app.post(
            "/api/prediction/v1/models",
            &json!({"dry_run": true, "model": "mlp"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &net["recipe"]["model"], &net["recipe"]["width"]),
        (200, &json!("mlp"), &json!(32)),
        "{net}"
    );
    assert!(net["metrics"]["ic"].as_f64().unwrap() > 0.05, "{net}");
    let (status, two) = json_of(
        app.post("/api/prediction/v1/models", &json!({"horizon": 2}))
            .await,
    )
    .await;
    assert_eq!((status, two["version"].as_u64()), (200, Some(2)), "{two}");
    assert_eq!(
        (&two["promoted"], &two["horizon"]),
        (&json!(false), &json!(2))
    );
    let (status, promoted) = json_of(
        app.post("/api/prediction/v1/models/2/promote", &json!({}))
            .await,
    )
    .await;
    assert_eq!(
        (status, &promoted["promoted"]),
        (200, &json!(true)),
        "{promoted}"
    );
    let (_, latest) = json_of(
        app.get(&format!(
            "/api/prediction/v1/predictions?symbols={},{}",
            universe[0], universe[1]
        ))
        .await,
    )
    .await;
    assert_eq!(
        (
            &latest["model_version"],
            latest["predictions"].as_array().unwrap().len()
        ),
        (&json!(2), 2),
        "{latest}"
    );
    // gRPC answers the same.
    let mut grpc = app.grpc().await;
    let listed = grpc
        .list_models(proto::prediction::v1::ListModelsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed
            .models
            .iter()
            .map(|m| (m.version, m.promoted))
            .collect::<Vec<_>>(),
        [(1, false), (2, true)]
    );
    let got = grpc
        .get_predictions(proto::prediction::v1::GetPredictionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.model_version, got.predictions.len()), (2, 20));

    // Its metrics: what was published, the promoted model, the trainings by outcome.
    let metrics = app.app.metrics().await.unwrap();
    for line in [
        "prediction_published_total 20",
        "prediction_model_version 2",
        "prediction_trainings_total{how=\"api\",outcome=\"evaluated\"} 3",
        "prediction_trainings_total{how=\"api\",outcome=\"saved\"} 1",
        "prediction_trainings_total{how=\"scheduled\",outcome=\"promoted\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }

    // Refusals, each naming its problem.
    for (body, needle) in [
        (json!({"horizon": 0}), "horizon"),
        (json!({"lambda": -1}), "lambda"),
        (json!({"min_train_dates": 400}), "dates of bars"),
        (json!({"dry_run": true, "promote": true}), "dry run"),
        (json!({"horizn": 2}), "horizn"),
        (json!({"model": "forest"}), "forest"),
    ] {
        let (status, e) = json_of(app.post("/api/prediction/v1/models", &body).await).await;
        assert_eq!(status, 400, "{body}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(needle),
            "{body}: {e}"
        );
    }
    let (status, _) = json_of(
        app.post("/api/prediction/v1/models/9/promote", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_of(
        app.post("/api/prediction/v1/models/x/promote", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    let (status, e) = json_of(
        app.get("/api/prediction/v1/predictions?symbols=FPT,not%20one")
            .await,
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("not one"), "{e}");
    let status = grpc
        .promote_model(proto::prediction::v1::PromoteModelRequest { version: 9 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn without_bars_the_model_calls_say_so() {
    let app = crate::helpers::spawn_app().await;
    let (status, e) = json_of(app.get("/api/prediction/v1/predictions").await).await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no predictions yet"),
        "{e}"
    );
    let (status, e) = json_of(app.post("/api/prediction/v1/models", &json!({})).await).await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("no daily bars"),
        "{e}"
    );
    let (status, models) = json_of(app.get("/api/prediction/v1/models").await).await;
    assert_eq!((status, models), (200, json!([])));
}
