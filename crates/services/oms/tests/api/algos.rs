//! Algorithmic orders: a TWAP's slices at their times and an iceberg's one at a time, each
//! placed once through the broker; cancelling stops slicing; a restart places nothing twice.

use serde_json::{Value, json};

use crate::helpers::{TestApp, market, spawn_trading, start_sim};

async fn post(app: &TestApp, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.app.http_url("/api/oms/v1/algos"))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn algo(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/oms/v1/algos/{id}")).await
}

/// The slices of parent `id`, by slice number.
async fn slices(app: &TestApp, id: &str) -> Vec<Value> {
    let all = app.get_json("/api/oms/v1/orders?limit=1000").await;
    let mut mine: Vec<Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["client_id"]
                .as_str()
                .and_then(|c| c.strip_prefix(&format!("{id}:")))
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .cloned()
        .collect();
    mine.sort_by_key(|o| o["client_id"].as_str().unwrap().to_owned());
    mine
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn twap_and_iceberg_slices_are_placed_once_each_and_cancelling_stops_them() {
    let sim = start_sim(market()).await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let env = [
        ("OMS__DATA_DIR", data_dir.as_str()),
        ("OMS__ORDERS__ALGO_INTERVAL_MS", "50"),
    ];
    let app = spawn_trading(&sim, &env).await;
    app.wait_for("accepting", |a| async move {
        a.status().await["accepting"] == true
    })
    .await;
    let (symbol, band) = sim.hose_stock();
    let symbol = symbol.as_str().to_owned();
    let now = sim.sim.now();

    // A TWAP of 300 shares in 3 slices over 2 s, resting at the floor.
    let twap = json!({"client_id": "twap-1", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "twap", "price": band.floor.units(), "quantity": 300,
        "slices": 3, "start_at": rfc3339(now), "end_at": rfc3339(now + time::Duration::seconds(2))});
    let (status, created) = post(&app, &twap).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "active");
    assert_eq!(post(&app, &twap).await.0, 201, "the same again is the same");
    let mut other = twap.clone();
    other["quantity"] = json!(600);
    assert_eq!(post(&app, &other).await.0, 409);
    let mut bad = twap.clone();
    bad["client_id"] = json!("bad");
    bad["slices"] = json!(4);
    let (status, e) = post(&app, &bad).await;
    assert_eq!(status, 400, "{e}");
    app.wait_for("the TWAP done", |a| async move {
        algo(a, "twap-1").await["status"] == "done"
    })
    .await;
    let placed = slices(&app, "twap-1").await;
    assert_eq!(placed.len(), 3, "{placed:?}");
    for o in &placed {
        assert_eq!(
            (o["quantity"].as_u64(), o["order_type"].as_str()),
            (Some(100), Some("LO"))
        );
        assert_eq!(o["price"], band.floor.units());
    }
    let times: Vec<&str> = placed
        .iter()
        .map(|o| o["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let r = reqwest::Client::new()
        .delete(app.app.http_url("/api/oms/v1/algos/twap-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a done parent is not cancelled");

    // An iceberg of 300 shown 100 at a time at the ceiling: each slice fills at once, then the
    // next is shown.
    let ice = json!({"client_id": "ice-1", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "iceberg", "price": band.ceiling.units(), "quantity": 300,
        "display": 100});
    assert_eq!(post(&app, &ice).await.0, 201);
    app.wait_for("the iceberg filled", |a| async move {
        algo(a, "ice-1").await["status"] == "done"
    })
    .await;
    let done = algo(&app, "ice-1").await;
    assert!(
        done["detail"].as_str().unwrap().contains("all 300 filled"),
        "{done}"
    );
    let shown = slices(&app, "ice-1").await;
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert!(
        shown
            .iter()
            .all(|o| o["status"] == "filled" && o["quantity"] == 100)
    );

    // A slow TWAP: its first slice goes now; cancelled, nothing more is placed and the working
    // slice is cancelled.
    let slow = json!({"client_id": "slow-1", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "twap", "price": band.floor.units(), "quantity": 300,
        "slices": 3, "end_at": rfc3339(now + time::Duration::hours(1))});
    assert_eq!(post(&app, &slow).await.0, 201);
    app.wait_for("the first slow slice", |a| async move {
        slices(a, "slow-1").await.len() == 1
    })
    .await;
    let r = reqwest::Client::new()
        .delete(app.app.http_url("/api/oms/v1/algos/slow-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    app.wait_for("the slice cancelled", |a| async move {
        slices(a, "slow-1").await[0]["status"] == "cancelled"
    })
    .await;

    // After a restart on the same store, nothing is placed again.
    app.app.stop().await.unwrap();
    let restarted = spawn_trading(&sim, &env).await;
    restarted
        .wait_for("accepting", |a| async move {
            a.status().await["accepting"] == true
        })
        .await;
    // A parent placed after the restart completes: the earlier ones had their turns.
    let marker = json!({"client_id": "ice-2", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "iceberg", "price": band.ceiling.units(), "quantity": 100,
        "display": 100});
    assert_eq!(post(&restarted, &marker).await.0, 201);
    restarted
        .wait_for("the marker done", |a| async move {
            algo(a, "ice-2").await["status"] == "done"
        })
        .await;
    assert_eq!(slices(&restarted, "twap-1").await.len(), 3);
    assert_eq!(slices(&restarted, "ice-1").await.len(), 3);
    assert_eq!(slices(&restarted, "slow-1").await.len(), 1);
}

#[tokio::test]
async fn vwap_slices_follow_the_volume_profile_the_historical_service_serves() {
    let sim = start_sim(market()).await;
    let (symbol, band) = sim.hose_stock();
    let now = sim.sim.now();
    // The real historical service, with the one-minute bars of the three trading days before
    // today: 09:57, 09:58 and 09:59 trade 100, 200 and 700 shares each day.
    let history = common::service::testing::spawn::<historical::App>(&[])
        .await
        .unwrap();
    let mut bars = Vec::new();
    for day in [
        time::macros::date!(2025 - 06 - 05),
        time::macros::date!(2025 - 06 - 06),
        time::macros::date!(2025 - 06 - 09),
    ] {
        for (minute, volume) in [(57, 100), (58, 200), (59, 700)] {
            let start = day
                .with_hms(9, minute, 0)
                .unwrap()
                .assume_offset(market::calendar::VN_OFFSET);
            bars.push(historical::domain::Bar {
                symbol: symbol.to_string(),
                start: start.to_offset(time::UtcOffset::UTC),
                seconds: 60,
                open: band.reference.units(),
                high: band.reference.units(),
                low: band.reference.units(),
                close: band.reference.units(),
                volume,
                trades: 1,
            });
        }
    }
    let mut tx = history.db.begin().await.unwrap();
    historical::store::upsert_minute_bars(&mut tx, &bars, historical::store::OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let peer = history.grpc_url();
    let env = [
        ("OMS__ORDERS__ALGO_INTERVAL_MS", "50"),
        ("OMS__PEERS__HISTORICAL", peer.as_str()),
        ("OMS__VWAP__DAYS", "3"),
    ];
    let app = spawn_trading(&sim, &env).await;
    let symbol = symbol.as_str().to_owned();

    // 09:57–10:00 in three one-minute slices (already due): 1 : 2 : 7 of 2,000 shares.
    let vwap = |id: &str, quantity: u64| {
        json!({"client_id": id, "account": "0001001", "symbol": symbol, "side": "buy",
            "kind": "vwap", "price": band.floor.units(), "quantity": quantity, "slices": 3,
            "start_at": rfc3339(now - time::Duration::minutes(3)), "end_at": rfc3339(now)})
    };
    let (status, created) = post(&app, &vwap("vwap-1", 2_000)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["slice_quantities"], json!([200, 400, 1_400]));
    app.wait_for("the VWAP done", |a| async move {
        algo(a, "vwap-1").await["status"] == "done"
    })
    .await;
    let sizes: Vec<u64> = slices(&app, "vwap-1")
        .await
        .iter()
        .map(|o| o["quantity"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [200, 400, 1_400]);
    // 700 shares: the first minute's share rounds to no lot, so slice 0 places nothing.
    let (status, created) = post(&app, &vwap("vwap-2", 700)).await;
    assert_eq!(status, 201, "{created}");
    app.wait_for("the second VWAP done", |a| async move {
        algo(a, "vwap-2").await["status"] == "done"
    })
    .await;
    let placed: Vec<(String, u64)> = slices(&app, "vwap-2")
        .await
        .iter()
        .map(|o| {
            (
                o["client_id"].as_str().unwrap().to_owned(),
                o["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        placed,
        [("vwap-2:1".to_owned(), 200), ("vwap-2:2".to_owned(), 500)]
    );
    // A window in which the history traded nothing has nothing to weigh by.
    let mut quiet = vwap("vwap-3", 300);
    quiet["start_at"] = json!(rfc3339(now));
    quiet["end_at"] = json!(rfc3339(now + time::Duration::minutes(3)));
    let (status, e) = post(&app, &quiet).await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("traded nothing"),
        "{e}"
    );
}
