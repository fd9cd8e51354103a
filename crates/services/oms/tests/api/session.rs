//! The trading session behind an OTP (FastConnect v3): until a person logs in, the OMS says why
//! it does not accept orders; the OTP is asked for and entered through the API; then orders go.

use fcsim::config::{DEMO_PRIVATE_KEY_XML_B64, DEMO_V3_API_KEY, DEMO_V3_API_SECRET};
use serde_json::{Value, json};

use crate::helpers::{limit, market, spawn_app_with, start_sim};

async fn post(app: &crate::helpers::TestApp, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.app.http_url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn v3_trading_waits_for_an_otp_entered_through_the_api() {
    let sim = start_sim(market()).await;
    let ws = sim.trading_url.replace("http://", "ws://");
    let stream = format!("{ws}/ws/v3");
    // The simulator's clock and accounts as for v2; the broker is its v3 key instead.
    let mut env: Vec<(String, String)> = sim
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("OMS__BROKER__"))
        .collect();
    env.extend(
        [
            ("OMS__BROKER__GENERATION", "v3".to_owned()),
            ("OMS__BROKER__API_KEY", DEMO_V3_API_KEY.to_owned()),
            ("OMS__BROKER__API_SECRET", DEMO_V3_API_SECRET.to_owned()),
            ("OMS__BROKER__API_URL", sim.trading_url.clone()),
            ("OMS__BROKER__STREAM_URL", stream),
            (
                "OMS__BROKER__PRIVATE_KEY",
                DEMO_PRIVATE_KEY_XML_B64.to_owned(),
            ),
            ("OMS__ORDERS__RECONNECT_MAX_MS", "300".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&pairs).await;

    let session = app.get_json("/api/oms/v1/session").await;
    assert_eq!(session["open"], false, "{session}");
    assert_eq!(session["renews_itself"], false, "{session}");
    // A wrong code is refused by SSI's side, and named.
    let (code, _) = post(&app, "/api/oms/v1/session/otp", json!({})).await;
    assert_eq!(code, 200);
    let (code, e) = post(&app, "/api/oms/v1/session/login", json!({"code": "000000"})).await;
    assert!(code == 401 || code == 400 || code == 422, "{code} {e}");
    // The owner reads the OTP (the simulator's "SMS") and enters it.
    let (code, _) = post(&app, "/api/oms/v1/session/otp", json!({})).await;
    assert_eq!(code, 200);
    let otp = sim
        .sim
        .pending_v3_otp(DEMO_V3_API_KEY)
        .expect("an OTP was issued");
    let (code, session) = post(&app, "/api/oms/v1/session/login", json!({"code": otp})).await;
    assert_eq!(code, 200, "{session}");
    assert_eq!(session["open"], true, "{session}");
    assert!(session["expires_at"].is_string(), "{session}");

    app.wait_for("accepting orders", |a| async move {
        a.status().await["accepting"] == true
    })
    .await;
    let (symbol, band) = sim.hose_stock();
    let (status, o) = app
        .place(&limit("v3-1", symbol, "buy", band.floor.units(), 100))
        .await;
    assert_eq!(status, 201, "{o}");
    let o = app
        .wait_order(o["id"].as_str().unwrap(), "working", |o| {
            o["status"] == "new"
        })
        .await;
    assert!(o["broker_order_id"].is_string(), "{o}");
}
