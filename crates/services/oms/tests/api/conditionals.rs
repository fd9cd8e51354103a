//! Conditional orders held by the OMS: fired by the trades on the bus, each once, through the
//! broker; OCO groups; trailing stops; idempotent creation; a restart fires nothing again.

use common::bus::Envelope;
use common::bus::topics::{MARKET_TRADE, MASTERDATA_SECURITY};
use serde_json::{Value, json};

use crate::helpers::{TestApp, market, spawn_trading, start_sim};

async fn trade(app: &TestApp, symbol: &str, price: i64) {
    let t = proto::market::v1::Trade {
        symbol: symbol.to_owned(),
        price,
        quantity: 100,
        ..Default::default()
    };
    app.app
        .bus
        .publish(
            MARKET_TRADE.static_name(),
            &Envelope::new("test", symbol, &t),
        )
        .await
        .unwrap();
}

async fn post(app: &TestApp, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.app.http_url("/api/oms/v1/conditionals"))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn conditional(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/oms/v1/conditionals/{id}"))
        .await
}

/// Orders placed with `client_id`.
async fn orders_of(app: &TestApp, client_id: &str) -> Vec<Value> {
    let all = app.get_json("/api/oms/v1/orders?limit=1000").await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|o| o["client_id"] == client_id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_conditional_order_fires_exactly_once_and_its_oco_sibling_is_cancelled() {
    let sim = start_sim(market()).await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let env = [("OMS__DATA_DIR", data_dir.as_str())];
    let app = spawn_trading(&sim, &env).await;
    app.wait_for("accepting", |a| async move {
        a.status().await["accepting"] == true
    })
    .await;
    let (symbol, band) = sim.hose_stock();
    let symbol = symbol.as_str().to_owned();
    let (floor, ceiling, reference) = (
        band.floor.units(),
        band.ceiling.units(),
        band.reference.units(),
    );
    // The day's band, as master data publishes it: a stop's order is a limit at the ceiling.
    let sec = proto::market::v1::Security {
        symbol: symbol.clone(),
        exchange: "HOSE".into(),
        reference,
        ceiling,
        floor,
        ..Default::default()
    };
    app.app
        .bus
        .publish(
            MASTERDATA_SECURITY.static_name(),
            &Envelope::new("test", &symbol, &sec),
        )
        .await
        .unwrap();

    // A buy stop above the market and a buy take-profit below it, one OCO group.
    let stop = json!({"client_id": "brk-stop", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "stop", "trigger_price": reference + 500, "quantity": 100,
        "oco_group": "g1"});
    let (status, created) = post(&app, &stop).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "active");
    assert_eq!(created["child_client_id"], "brk-stop:fire");
    let dip = json!({"client_id": "brk-dip", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "take_profit", "trigger_price": floor + 100, "quantity": 100,
        "oco_group": "g1"});
    assert_eq!(post(&app, &dip).await.0, 201);
    // The same again is the same; another request under the id is refused.
    let (status, again) = post(&app, &stop).await;
    assert_eq!((status, &again["client_id"]), (201, &json!("brk-stop")));
    let mut other = stop.clone();
    other["quantity"] = json!(200);
    assert_eq!(post(&app, &other).await.0, 409);
    let bad = json!({"client_id": "x", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "stop", "quantity": 100});
    let (status, e) = post(&app, &bad).await;
    assert_eq!(status, 400);
    assert!(
        e["message"].as_str().unwrap().contains("trigger_price"),
        "{e}"
    );

    // Below the trigger nothing happens; at it the stop fires; more trades change nothing.
    trade(&app, &symbol, reference).await;
    trade(&app, &symbol, reference + 500).await;
    for p in [reference + 600, reference + 500, floor + 100] {
        trade(&app, &symbol, p).await;
    }
    app.wait_for("the stop's order", |a| async move {
        !orders_of(a, "brk-stop:fire").await.is_empty()
            && conditional(a, "brk-stop").await["detail"]
                .as_str()
                .unwrap_or("")
                .contains("child order")
    })
    .await;
    let fired = conditional(&app, "brk-stop").await;
    assert_eq!(fired["status"], "triggered", "{fired}");
    assert_eq!(fired["fired_at_price"], reference + 500);
    let sibling = conditional(&app, "brk-dip").await;
    assert_eq!(sibling["status"], "cancelled", "{sibling}");
    assert!(
        sibling["detail"].as_str().unwrap().contains("OCO"),
        "{sibling}"
    );
    let orders = orders_of(&app, "brk-stop:fire").await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["order_type"], "LO");
    assert_eq!(
        orders[0]["price"], ceiling,
        "a buy stop buys up to the ceiling"
    );
    assert!(orders_of(&app, "brk-dip:fire").await.is_empty());
    // Ended conditionals cannot be cancelled; unknown ones are not found.
    let r = reqwest::Client::new()
        .delete(app.app.http_url("/api/oms/v1/conditionals/brk-stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = reqwest::Client::new()
        .delete(app.app.http_url("/api/oms/v1/conditionals/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // A buy trailing stop 1,000 above the lowest trade since it was placed.
    let trail = json!({"client_id": "trail-1", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "trailing_stop", "trail_amount": 1000, "quantity": 100});
    assert_eq!(post(&app, &trail).await.0, 201);
    for p in [reference, reference - 1000, reference - 200] {
        trade(&app, &symbol, p).await;
    }
    app.wait_for("the trailing extreme", |a| async move {
        conditional(a, "trail-1").await["extreme"] == reference - 1000
    })
    .await;
    assert_eq!(conditional(&app, "trail-1").await["status"], "active");
    trade(&app, &symbol, reference).await;
    app.wait_for("the trailing stop's order", |a| async move {
        orders_of(a, "trail-1:fire").await.len() == 1
    })
    .await;

    // Cancelled before it fires, a conditional never fires.
    let never = json!({"client_id": "never", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "stop", "trigger_price": reference + 100, "quantity": 100});
    assert_eq!(post(&app, &never).await.0, 201);
    let r = reqwest::Client::new()
        .delete(app.app.http_url("/api/oms/v1/conditionals/never"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    trade(&app, &symbol, reference + 200).await;
    let listed = app
        .get_json("/api/oms/v1/conditionals?status=cancelled")
        .await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"never") && ids.contains(&"brk-dip"),
        "{listed}"
    );

    // A restart on the same store and bus: every trade is read again and more come; the
    // fired ones stay fired, the cancelled ones never fire.
    app.app.stop().await.unwrap();
    let restarted = spawn_trading(&sim, &env).await;
    restarted
        .wait_for("accepting", |a| async move {
            a.status().await["accepting"] == true
        })
        .await;
    for p in [reference + 500, reference + 1000, reference + 200] {
        trade(&restarted, &symbol, p).await;
    }
    // A conditional placed after the restart fires on a later trade: the trades before it
    // were read (one partition per symbol, in order).
    let marker = json!({"client_id": "marker", "account": "0001001", "symbol": symbol,
        "side": "buy", "kind": "stop", "trigger_price": reference + 700, "quantity": 100});
    assert_eq!(post(&restarted, &marker).await.0, 201);
    trade(&restarted, &symbol, reference + 700).await;
    restarted
        .wait_for("the marker's order", |a| async move {
            orders_of(a, "marker:fire").await.len() == 1
        })
        .await;
    for id in ["brk-stop:fire", "trail-1:fire"] {
        assert_eq!(orders_of(&restarted, id).await.len(), 1, "{id}");
    }
    assert!(orders_of(&restarted, "never:fire").await.is_empty());
    assert!(orders_of(&restarted, "brk-dip:fire").await.is_empty());
}
