//! Syncing from the broker (the simulator, v2 and v3): what is stored, served and published,
//! the band derived with `market`'s rules, and the daily schedule by the market clock.

use time::macros::{date, datetime};

use crate::helpers::{sim, spawn_app, spawn_with};

#[tokio::test]
async fn without_a_broker_a_sync_is_a_failed_precondition() {
    let app = spawn_app().await;
    let r = app.sync(serde_json::json!({})).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "failed_precondition");
    assert!(
        body["message"].as_str().unwrap().contains("[broker]"),
        "{body}"
    );
    let err = app
        .grpc()
        .await
        .sync(proto::master_data::v1::SyncRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    // Nothing stored: lists are empty, lookups not found.
    let page = app.get_json("/api/master-data/v1/securities", 200).await;
    assert_eq!(page["securities"].as_array().unwrap().len(), 0);
    app.get_json("/api/master-data/v1/securities/SSI", 404)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_before_the_open_stores_serves_and_publishes_every_security_with_the_days_band() {
    // Tuesday 08:30, before the derivatives' 08:45 open: the broker has the day's band.
    let s = sim(datetime!(2025-06-10 08:30:00 +7)).await;
    let app = spawn_with(&s.v2_env()).await;
    let g = s.sim.generator();
    let universe = g.universe().instruments();

    let r = app.sync(serde_json::json!({})).await;
    assert_eq!(r.status(), 200);
    let report: serde_json::Value = r.json().await.unwrap();
    assert_eq!(report["trading_day"], "2025-06-10");
    assert_eq!(report["securities"], universe.len());
    assert_eq!(report["changed"], universe.len());
    assert_eq!(report["derived"], 0, "{report}");
    assert!(report["indexes"].as_u64().unwrap() >= 2, "{report}");
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{report}");

    // Served: every security, page by page, with the simulator's own band for the day.
    let all = app.all_securities("", 7).await;
    assert_eq!(all.len(), universe.len());
    let day = g.day_index(date!(2025 - 06 - 10)).unwrap();
    let rules = market::MarketRules::default();
    for (i, x) in universe.iter().enumerate() {
        let got = all
            .iter()
            .find(|v| v["symbol"] == x.symbol.as_str())
            .unwrap();
        let band = g.limits(i, day).unwrap();
        assert_eq!(got["exchange"], x.exchange.ssi_code());
        assert_eq!(got["kind"], master_data::domain::kind_name(x.kind));
        assert_eq!(got["lot_size"], rules.lots.round_lot(x.exchange));
        assert_eq!(got["trading_day"], "2025-06-10");
        assert_eq!(got["reference"], band.reference.units());
        assert_eq!(got["ceiling"], band.ceiling.units());
        assert_eq!(got["floor"], band.floor.units());
        assert_eq!(got["band_derived"], false);
        assert_eq!(got["status"], "normal");
        if x.kind == market::InstrumentKind::Stock {
            let room =
                i128::from(x.listed_shares) * i128::from(rules.foreign.default_limit_bps) / 10_000;
            assert_eq!(
                got["foreign_room"].as_i64().map(i128::from),
                Some(room),
                "{}",
                x.symbol
            );
        }
    }

    // Published: one event per security, carrying what ingestion needs.
    let events = app.published(universe.len()).await;
    assert_eq!(events.len(), universe.len());
    for e in &events {
        let x = universe.iter().find(|x| x.symbol == e.symbol).unwrap();
        assert_eq!(e.exchange, x.exchange.ssi_code());
        assert_eq!(e.kind, master_data::domain::kind_name(x.kind));
        assert!(e.lot_size > 0);
        assert_eq!(e.trading_day, "2025-06-10");
        assert!(
            e.floor > 0 && e.floor <= e.reference && e.reference <= e.ceiling,
            "{e:?}"
        );
    }
    let vn30 = g.universe().index("VN30").unwrap().1;
    let member = &g.universe().instrument(vn30.members[0]).unwrap().symbol;
    let e = events.iter().find(|e| &e.symbol == member).unwrap();
    assert!(e.indexes.contains(&"VN30".to_owned()), "{e:?}");

    // A second sync of the same day changes and publishes nothing.
    let again: serde_json::Value = app.sync(serde_json::json!({})).await.json().await.unwrap();
    assert_eq!(again["changed"], 0, "{again}");
    assert_eq!(app.published(0).await.len(), universe.len());

    // Metered on the admin port.
    let metrics = app.app.metrics().await.unwrap();
    assert!(
        metrics.contains("master_data_syncs_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("master_data_synced_trading_day 20250610"),
        "{metrics}"
    );

    // A day that is not a trading day is refused.
    let r = app
        .sync(serde_json::json!({"trading_day": "2025-06-14"}))
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .sync(serde_json::json!({"trading_day": "June 14"}))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_weekend_mondays_band_is_derived_with_markets_rules() {
    // Saturday: the broker has nothing for Monday yet; Friday's closes give Monday's band.
    let s = sim(datetime!(2025-06-14 10:00:00 +7)).await;
    let app = spawn_with(&s.v2_env()).await;
    let g = s.sim.generator();
    let report: serde_json::Value = app.sync(serde_json::json!({})).await.json().await.unwrap();
    assert_eq!(report["trading_day"], "2025-06-16");
    let n = g.universe().instruments().len();
    assert_eq!(report["securities"], n);
    assert_eq!(report["derived"], n, "{report}");

    // The simulator generates Monday with the same rules: the derived band is its band, on
    // every exchange (UPCoM's VWAP from the daily list's matched value and volume too).
    let monday = g.day_index(date!(2025 - 06 - 16)).unwrap();
    let all = app.all_securities("", 1000).await;
    for (i, x) in g.universe().instruments().iter().enumerate() {
        let got = all
            .iter()
            .find(|v| v["symbol"] == x.symbol.as_str())
            .unwrap();
        assert_eq!(got["band_derived"], true);
        assert_eq!(got["trading_day"], "2025-06-16");
        let band = g.limits(i, monday).unwrap();
        assert_eq!(
            (
                got["reference"].as_i64(),
                got["ceiling"].as_i64(),
                got["floor"].as_i64()
            ),
            (
                Some(band.reference.units()),
                Some(band.ceiling.units()),
                Some(band.floor.units())
            ),
            "{}",
            x.symbol
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_syncs_the_same_market_with_the_futures_from_the_daily_list() {
    let s = sim(datetime!(2025-06-10 08:30:00 +7)).await;
    let v3 = spawn_with(&s.v3_env()).await;
    let report: serde_json::Value = v3.sync(serde_json::json!({})).await.json().await.unwrap();
    let n = s.sim.generator().universe().instruments().len();
    assert_eq!(report["securities"], n, "{report}");
    assert_eq!(report["derived"], 0, "{report}");
    let v2 = spawn_with(&s.v2_env()).await;
    v2.sync(serde_json::json!({})).await;
    let key = |v: &serde_json::Value| {
        (
            v["symbol"].clone(),
            v["exchange"].clone(),
            v["kind"].clone(),
            v["lot_size"].clone(),
            v["reference"].clone(),
            v["ceiling"].clone(),
            v["floor"].clone(),
            v["indexes"].clone(),
        )
    };
    let a: Vec<_> = v3.all_securities("", 1000).await.iter().map(key).collect();
    let b: Vec<_> = v2.all_securities("", 1000).await.iter().map(key).collect();
    assert_eq!(a, b, "both generations describe one market");
    let futures = v3.all_securities("kind=index_future", 100).await;
    assert!(!futures.is_empty());
    assert!(futures.iter().all(|f| f["exchange"] == "DER"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_sync_runs_before_the_first_session_by_the_market_clock() {
    // The market clock runs 300× faster from 08:14:00: 08:15 (30 minutes before the
    // derivatives' 08:45 open) comes after 0.2 s of wall time.
    let s = sim(datetime!(2025-06-10 08:14:00 +7)).await;
    let mut env: Vec<(String, String)> = s
        .v2_env()
        .into_iter()
        .filter(|(k, _)| !k.ends_with("SYNC__SCHEDULED") && !k.contains("CLOCK"))
        .collect();
    env.extend([
        (
            "MASTER_DATA__CLOCK__START".into(),
            "2025-06-10T08:14:00+07:00".into(),
        ),
        ("MASTER_DATA__CLOCK__SPEED".into(), "300".into()),
    ]);
    let app = spawn_with(&env).await;
    let n = s.sim.generator().universe().instruments().len();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let page = app
            .get_json("/api/master-data/v1/securities?limit=1000", 200)
            .await;
        if page["securities"].as_array().unwrap().len() == n {
            assert!(
                page["securities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|v| v["trading_day"] == "2025-06-10")
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no scheduled sync");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
