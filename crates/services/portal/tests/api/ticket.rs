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

#[tokio::test]
async fn the_oms_order_events_stream_to_the_page() {
    use common::bus::Envelope;
    use common::bus::topics::{OMS_FILL, OMS_ORDER};
    use proto::oms::v1 as oms_pb;

    let app = spawn_with(DOWN).await;
    let mut response = reqwest::Client::new()
        .get(app.app.http_url("/api/portal/v1/orders/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let order = oms_pb::OrderEvent {
        kind: "accepted".into(),
        order: Some(oms_pb::Order {
            id: "20250610-00000001".into(),
            account: "0001001".into(),
            symbol: "SSI".into(),
            status: "new".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let fill = oms_pb::Fill {
        id: "n1".into(),
        order_id: "20250610-00000001".into(),
        account: "0001001".into(),
        symbol: "SSI".into(),
        ..Default::default()
    };
    // The feed may still be subscribing: publish until the first line comes.
    let bus = app.app.bus.clone();
    let mut lines = Vec::new();
    let mut buffer = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while lines.len() < 2 {
        if lines.is_empty() {
            bus.publish(
                OMS_ORDER.static_name(),
                &Envelope::new("oms", "0001001", &order),
            )
            .await
            .unwrap();
            bus.publish(
                OMS_FILL.static_name(),
                &Envelope::new("oms", "0001001", &fill),
            )
            .await
            .unwrap();
        }
        let Ok(chunk) =
            tokio::time::timeout(std::time::Duration::from_millis(500), response.chunk()).await
        else {
            assert!(tokio::time::Instant::now() < deadline, "no order events");
            continue;
        };
        buffer.extend_from_slice(&chunk.unwrap().expect("the stream goes on"));
        while let Some(nl) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=nl).collect();
            if line.len() > 1 {
                lines.push(serde_json::from_slice::<Value>(&line).unwrap());
            }
        }
    }
    // Two topics: in either order.
    lines.sort_by_key(|l| l["kind"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        (&lines[0]["kind"], &lines[0]["order_id"]),
        (&json!("fill"), &json!("20250610-00000001")),
        "{lines:?}"
    );
    assert_eq!(
        (&lines[1]["kind"], &lines[1]["status"], &lines[1]["account"]),
        (&json!("order"), &json!("new"), &json!("0001001")),
        "{lines:?}"
    );
    app.app.stop().await.unwrap();
}
