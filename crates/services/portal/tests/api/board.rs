//! The web app's files and the price board: a snapshot, then the changed rows as a stream, from
//! what the bus brings.

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{MARKET_QUOTE, MARKET_TRADE};
use proto::market::v1 as pb;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_with};

fn now() -> prost_types::Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    prost_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap(),
        nanos: i32::try_from(d.subsec_nanos()).unwrap(),
    }
}

async fn trade(app: &TestApp, symbol: &str, price: i64, quantity: u64, total: u64) {
    let t = pb::Trade {
        symbol: symbol.to_owned(),
        price,
        quantity,
        total_volume: total,
        received_at: Some(now()),
        security: Some(pb::SecurityRef {
            exchange: "HOSE".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    };
    app.app
        .bus
        .publish(
            MARKET_TRADE.static_name(),
            &Envelope::new("ingestion", symbol, &t),
        )
        .await
        .unwrap();
}

/// The rows of `GET /v1/board`, waiting (5 s at most) until `ready` holds.
async fn board_until(app: &TestApp, ready: impl Fn(&Value) -> bool) -> Value {
    let mut b = Value::Null;
    for _ in 0..100 {
        b = app.get("/api/portal/v1/board").await.json().await.unwrap();
        if ready(&b) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready(&b), "the board never got there: {b}");
    b
}

fn row<'a>(board: &'a Value, symbol: &str) -> Option<&'a Value> {
    board["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["symbol"] == symbol)
}

#[tokio::test]
async fn the_web_app_is_served_from_the_binary_with_its_security_headers() {
    let app = spawn_with(&[]).await;
    let page = app.get("/api/portal/app").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/portal/assets/app.js"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );

    let js = app.get("/api/portal/assets/app.js").await;
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let tag = js.headers()["etag"].to_str().unwrap().to_owned();
    let again = reqwest::Client::new()
        .get(app.app.http_url("/api/portal/assets/app.js"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "a reload revalidates without the body");
    assert_eq!(app.get("/api/portal/assets/other.js").await.status(), 404);
}

#[tokio::test]
async fn the_board_follows_the_bus_and_streams_only_what_changed() {
    let app = spawn_with(&[("PORTAL__BOARD__MAX_STREAMS", "1")]).await;
    trade(&app, "SSI", 25_500, 100, 1_000).await;
    let board = board_until(&app, |b| row(b, "SSI").is_some()).await;
    let ssi = row(&board, "SSI").unwrap();
    assert_eq!(ssi["last"], 25_500);
    assert_eq!(ssi["volume"], 1_000);
    assert_eq!(ssi["exchange"], "HOSE");
    let seq = board["seq"].as_u64().unwrap();
    // Gzipped for a browser that accepts it; the stream never (lines must not wait).
    let zipped = reqwest::Client::new()
        .get(app.app.http_url("/api/portal/v1/board"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");

    // A stream from the snapshot gets the rows that change, not the others.
    let mut response = reqwest::Client::new()
        .get(
            app.app
                .http_url(&format!("/api/portal/v1/board/stream?since={seq}")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    assert!(response.headers().get("content-encoding").is_none());
    // One stream at a time here: the second is refused.
    let second = app
        .get(&format!("/api/portal/v1/board/stream?since={seq}"))
        .await;
    assert_eq!(second.status(), 503);

    trade(&app, "FPT", 101_000, 10, 10).await;
    let q = pb::Quote {
        symbol: "SSI".to_owned(),
        board: "main".to_owned(),
        bids: vec![pb::Level {
            price: 25_450,
            volume: 500,
        }],
        asks: vec![pb::Level {
            price: 25_500,
            volume: 300,
        }],
        received_at: Some(now()),
        ..Default::default()
    };
    app.app
        .bus
        .publish(
            MARKET_QUOTE.static_name(),
            &Envelope::new("ingestion", "SSI", &q),
        )
        .await
        .unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let mut buffer = Vec::new();
    let mut last_seq = seq;
    while seen.len() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("a line within 10 s")
            .unwrap()
            .expect("the stream goes on");
        buffer.extend_from_slice(&chunk);
        while let Some(nl) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=nl).collect();
            if line.len() <= 1 {
                continue;
            }
            let msg: Value = serde_json::from_slice(&line).unwrap();
            let s = msg["seq"].as_u64().unwrap();
            assert!(s > last_seq, "sequence numbers grow");
            last_seq = s;
            for r in msg["rows"].as_array().unwrap() {
                seen.insert(r["symbol"].as_str().unwrap().to_owned(), r.clone());
            }
        }
    }
    assert_eq!(seen["FPT"]["last"], 101_000);
    assert_eq!(seen["SSI"]["bids"], serde_json::json!([[25_450, 500]]));
    assert_eq!(
        seen["SSI"]["last"], 25_500,
        "the rest of the row comes along"
    );
    drop(response);

    // One symbol: its row and its time and sales.
    let one: Value = app
        .get("/api/portal/v1/symbols/SSI")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["row"]["symbol"], "SSI");
    assert_eq!(one["trades"][0]["price"], 25_500);
    assert_eq!(app.get("/api/portal/v1/symbols/NONE").await.status(), 404);
    assert_eq!(
        app.get("/api/portal/v1/symbols/bad%20one").await.status(),
        400
    );
    let bars = app
        .get("/api/portal/v1/symbols/SSI/bars?resolution=2m&from=2025-06-10&to=2025-06-10")
        .await;
    assert_eq!(
        bars.status(),
        400,
        "an unknown resolution is refused before asking historical"
    );

    // A browser that held an earlier instance's numbers is told to take a new snapshot.
    let mut stale = None;
    for _ in 0..50 {
        let r = app.get("/api/portal/v1/board/stream?since=1").await;
        if r.status() == 200 {
            stale = Some(r);
            break;
        }
        // The first stream's permit is released when its connection is gone.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut stale = stale.expect("the stream slot is free again");
    let first = tokio::time::timeout(Duration::from_secs(5), stale.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"{\"reset\":true}\n");
    // Then only what changes from now, not every row again.
    trade(&app, "VNM", 60_000, 100, 100).await;
    let mut line = Vec::new();
    while !line.ends_with(b"\n") || line.len() <= 1 {
        if line == b"\n" {
            line.clear();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stale.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        line.extend_from_slice(&chunk);
    }
    let msg: Value = serde_json::from_slice(&line).unwrap();
    let symbols: Vec<&str> = msg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["VNM"]);
    assert_eq!(
        app.get("/api/portal/v1/board/stream?since=x")
            .await
            .status(),
        400
    );
}
