//! The order ticket's backend refuses a malformed order before asking anyone, and answers 503
//! when its peers are down.

use serde_json::{Value, json};

use crate::helpers::spawn_with;

/// Nothing listens on port 1: every peer is down.
const DOWN: &[(&str, &str)] = &[
    ("PORTAL__PEERS__OMS", "http://127.0.0.1:1"),
    ("PORTAL__PEERS__RISK", "http://127.0.0.1:1"),
    ("PORTAL__PEERS__MASTER-DATA", "http://127.0.0.1:1"),
];

#[tokio::test]
async fn a_malformed_preview_is_refused_naming_the_field() {
    let app = spawn_with(DOWN).await;
    let http = reqwest::Client::new();
    let url = app.app.http_url("/api/portal/v1/orders/preview");
    let ok = json!({"account": "0001001", "symbol": "SSI", "side": "buy", "price": 25_000, "quantity": 100});
    let cases: [(&str, Value, &str); 7] = [
        ("side", json!({"side": "hold"}), "side"),
        ("symbol", json!({"symbol": "ssi;"}), "symbol"),
        ("order type", json!({"order_type": "GTC"}), "order_type"),
        ("negative price", json!({"price": -5}), "price"),
        (
            "huge quantity",
            json!({"quantity": 10_000_000_000u64}),
            "quantity",
        ),
        ("empty account", json!({"account": ""}), "account"),
        ("unknown field", json!({"stop": 1}), "unknown field"),
    ];
    for (what, change, field) in cases {
        let mut body = ok.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = http.post(&url).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        let e: Value = r.json().await.unwrap();
        assert_eq!(status, 400, "{what}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(field),
            "{what}: {e}"
        );
    }
    // A well-formed one reaches the peers, which are down: 503 (the details are logged, not
    // sent).
    let r = http.post(&url).json(&ok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "unavailable", "{e}");
    let r = http
        .get(app.app.http_url("/api/portal/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "unavailable", "{e}");
    app.app.stop().await.unwrap();
}
