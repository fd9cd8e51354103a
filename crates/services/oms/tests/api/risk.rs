//! The OMS with the risk service: every order is checked before it is sent, a rejection is
//! stored with the rule that said no, and a risk service that does not answer rejects (the OMS
//! fails closed).

use common::bus::Envelope;
use common::bus::topics::MASTERDATA_SECURITY;
use common::service::testing::{Spawned, spawn};
use fcsim::config::DEMO_CASH_ACCOUNT;
use serde_json::{Value, json};

use crate::helpers::{TestSim, limit, market, spawn_trading, start_sim};

/// The risk service, knowing the simulator's first HOSE stock from master data's topic.
async fn spawn_risk(sim: &TestSim) -> Spawned {
    // The risk service reads the market clock as the simulator shows it.
    let env = sim.env();
    let clock: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with("OMS__CLOCK__"))
        .map(|(k, v)| (k.replacen("OMS__", "RISK__", 1), v.clone()))
        .collect();
    let pairs: Vec<(&str, &str)> = clock
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let risk = spawn::<::risk::App>(&pairs).await.unwrap();
    let (symbol, band) = sim.hose_stock();
    let day = sim.sim.now().to_offset(market::calendar::VN_OFFSET).date();
    let security = proto::market::v1::Security {
        symbol: symbol.to_string(),
        exchange: "HOSE".into(),
        kind: "stock".into(),
        lot_size: 100,
        trading_day: day.to_string(),
        reference: band.reference.units(),
        ceiling: band.ceiling.units(),
        floor: band.floor.units(),
        status: "normal".into(),
        ..Default::default()
    };
    risk.bus
        .publish(
            MASTERDATA_SECURITY.static_name(),
            &Envelope::new("test", symbol.as_str(), &security),
        )
        .await
        .unwrap();
    risk
}

async fn put(url: String, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .put(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn every_order_is_checked_and_a_rejection_names_the_rule() {
    let sim = start_sim(market()).await;
    let risk = spawn_risk(&sim).await;
    let risk_url = risk.grpc_url();
    let app = spawn_trading(
        &sim,
        &[
            ("OMS__RISK__ENABLED", "true"),
            ("OMS__PEERS__RISK", &risk_url),
        ],
    )
    .await;
    let (symbol, band) = sim.hose_stock();
    let risk_api = |path: &str| risk.http_url(&format!("/api/risk/v1{path}"));

    // The account's kill switch: refused before the broker sees anything.
    let (code, _) = put(
        risk_api(&format!("/kill-switches/account/{DEMO_CASH_ACCOUNT}")),
        json!({"actor": "ops", "engaged": true, "reason": "reconciling"}),
    )
    .await;
    assert_eq!(code, 200);
    // The risk service may still be reading the bus: then the OMS rejects as unavailable.
    let mut placed;
    let mut n = 0;
    loop {
        let body = limit(&format!("k-1-{n}"), symbol, "buy", band.floor.units(), 100);
        let (status, o) = app.place(&body).await;
        assert_eq!(status, 201, "{o}");
        placed = o;
        if !placed["reject_reason"]
            .as_str()
            .unwrap_or("")
            .contains("unavailable")
        {
            break;
        }
        n += 1;
        assert!(n < 100, "risk never answered: {placed}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(placed["status"], "rejected", "{placed}");
    let reason = placed["reject_reason"].as_str().unwrap();
    assert!(
        reason.contains("kill_switch") && reason.contains("reconciling"),
        "{reason}"
    );
    assert!(placed["broker_order_id"].is_null(), "never sent: {placed}");

    // Released, with a per-account quantity limit: the boundary passes, one lot more does not.
    put(
        risk_api(&format!("/kill-switches/account/{DEMO_CASH_ACCOUNT}")),
        json!({"actor": "ops", "engaged": false}),
    )
    .await;
    let (code, limits) = put(
        risk_api(&format!("/limits/account/{DEMO_CASH_ACCOUNT}")),
        json!({"actor": "risk-officer", "limits": {"max_order_quantity": 200}}),
    )
    .await;
    assert_eq!(code, 200, "{limits}");
    assert_eq!(limits["max_order_quantity"], 200);
    let (_, ok) = app
        .place(&limit("q-200", symbol, "buy", band.floor.units(), 200))
        .await;
    let ok = app
        .wait_order(ok["id"].as_str().unwrap(), "working", |o| {
            o["status"] == "new"
        })
        .await;
    assert!(ok["broker_order_id"].is_string(), "{ok}");
    let (_, no) = app
        .place(&limit("q-300", symbol, "buy", band.floor.units(), 300))
        .await;
    assert_eq!(no["status"], "rejected", "{no}");
    assert!(
        no["reject_reason"]
            .as_str()
            .unwrap()
            .contains("max_order_quantity"),
        "{no}"
    );

    // Who changed what, and what was refused, is in the audit trail.
    let audit: Value = reqwest::get(risk_api("/audit"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for a in ["kill_switch", "limits", "order_rejected"] {
        assert!(actions.contains(&a), "{a} not audited: {audit}");
    }
}

#[tokio::test]
async fn no_verdict_is_a_rejection() {
    let sim = start_sim(market()).await;
    // Nothing listens there.
    let app = spawn_trading(
        &sim,
        &[
            ("OMS__RISK__ENABLED", "true"),
            ("OMS__PEERS__RISK", "http://127.0.0.1:9"),
        ],
    )
    .await;
    let (symbol, band) = sim.hose_stock();
    let (status, o) = app
        .place(&limit("nr-1", symbol, "buy", band.floor.units(), 100))
        .await;
    assert_eq!(status, 201);
    assert_eq!(o["status"], "rejected", "{o}");
    assert!(
        o["reject_reason"]
            .as_str()
            .unwrap()
            .contains("risk check unavailable"),
        "{o}"
    );
}
