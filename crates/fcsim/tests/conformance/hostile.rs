//! Hostile and careless clients: guessing PINs, logging in in a loop, huge hub frames,
//! half-sent requests, oversized bodies, absurd speeds. Each gets a clear answer and the
//! simulator stays up and bounded.

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use fcsim::config::{
    DEMO_CASH_ACCOUNT, DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN,
    DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
};

use crate::helpers::{TestSim, spawn_with, trading_client, trading_config};

async fn post(url: &str, body: Value) -> (u16, Option<String>, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

fn login(code: &str) -> Value {
    json!({"consumerID": DEMO_TRADING_CONSUMER_ID, "consumerSecret": DEMO_TRADING_CONSUMER_SECRET,
        "twoFactorType": 0, "code": code, "isSave": true})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_pins_locks_the_consumer_out_and_the_right_pin_is_refused_then() {
    let t = spawn_with(fcsim::SimConfig {
        auth_max_failures: 5,
        auth_calls_per_minute: 1_000,
        ..trading_config()
    })
    .await;
    let url = format!("{}/api/v2/Trading/AccessToken", t.trading_url);
    // A read-only token obtained before the attack keeps working for queries.
    let client = trading_client(&t);
    client.login_read_only().await.unwrap();
    let mut refused = 0;
    let mut locked = 0;
    for guess in 0..300 {
        let (http, retry, v) = post(&url, login(&format!("{guess:06}"))).await;
        match http {
            200 => {
                assert_eq!(v["status"], 400, "{v}");
                assert_eq!(v["message"], "PIN is invalid");
                refused += 1;
            }
            429 => {
                assert_eq!(v["status"], 429, "{v}");
                assert!(v["data"].is_null());
                assert!(v["message"].as_str().unwrap().contains("locked out"), "{v}");
                assert!(retry.unwrap().parse::<u64>().unwrap() > 800);
                locked += 1;
            }
            other => panic!("HTTP {other}: {v}"),
        }
    }
    assert_eq!(refused, 5, "five wrong PINs are checked, then the lockout");
    assert_eq!(locked, 295);
    // The right PIN does not get in while locked out.
    let (http, _, v) = post(&url, login(DEMO_PIN)).await;
    assert_eq!(http, 429, "{v}");
    // Nor does a per-order code on the read-only token.
    let err = client
        .new_order({
            let mut o = fastconnect::trading::NewOrder::limit(
                DEMO_CASH_ACCOUNT,
                "SSI",
                fastconnect::TradingMarket::Vn,
                fastconnect::Side::Buy,
                fastconnect::Decimal::from_i64(20_000),
                100,
            );
            o.code = Some(DEMO_PIN.to_owned().into());
            o
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, fastconnect::Error::RateLimited { .. }),
        "{err}"
    );
    // Queries on a token obtained before the lockout still work (a fresh client: this one
    // now waits out the Retry-After before its next call, as it should).
    let token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/Trading/orderBook?account={DEMO_CASH_ACCOUNT}",
            t.trading_url
        ))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_per_order_codes_count_towards_the_lockout() {
    let t = spawn_with(fcsim::SimConfig {
        auth_max_failures: 3,
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login_read_only().await.unwrap();
    let order = |code: &str, n: u32| {
        let mut o = fastconnect::trading::NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            "SSI",
            fastconnect::TradingMarket::Vn,
            fastconnect::Side::Buy,
            fastconnect::Decimal::from_i64(20_000),
            100,
        );
        o.code = Some(code.to_owned().into());
        o.request_id = Some(fastconnect::trading::RequestId::new(n).unwrap());
        o
    };
    for n in 0..3 {
        let err = client.new_order(order("999999", n)).await.unwrap_err();
        assert!(err.to_string().contains("Code is invalid"), "{err}");
    }
    let err = client.new_order(order(DEMO_PIN, 10)).await.unwrap_err();
    assert!(
        matches!(err, fastconnect::Error::RateLimited { .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_and_get_otp_calls_are_throttled_per_consumer() {
    let t = spawn_with(fcsim::SimConfig {
        auth_calls_per_minute: 3,
        ..trading_config()
    })
    .await;
    let url = format!("{}/api/v2/Trading/GetOTP", t.trading_url);
    let body = json!({"consumerID": DEMO_TRADING_CONSUMER_ID, "consumerSecret": DEMO_TRADING_CONSUMER_SECRET});
    for _ in 0..3 {
        let (http, _, v) = post(&url, body.clone()).await;
        assert_eq!((http, &v["status"]), (200, &json!(200)), "{v}");
    }
    let (http, retry, v) = post(&url, body.clone()).await;
    assert_eq!(http, 429, "{v}");
    assert_eq!(v["status"], 429);
    assert!(v["message"].as_str().unwrap().contains("Too many"), "{v}");
    assert!(retry.is_some());
    // AccessToken shares the window.
    let (http, _, _) = post(
        &format!("{}/api/v2/Trading/AccessToken", t.trading_url),
        login(DEMO_PIN),
    )
    .await;
    assert_eq!(http, 429);
    // An unknown consumer id is refused without being counted anywhere.
    let (http, _, v) = post(&url, json!({"consumerID": "nobody", "consumerSecret": "x"})).await;
    assert_eq!((http, &v["status"]), (200, &json!(400)), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_two_simulators_with_the_same_seed_differ() {
    let a = spawn_with(trading_config()).await;
    let b = spawn_with(trading_config()).await;
    let url = |t: &TestSim| format!("{}/api/v2/Trading/AccessToken", t.trading_url);
    let (_, _, ta) = post(&url(&a), login(DEMO_PIN)).await;
    let (_, _, tb) = post(&url(&b), login(DEMO_PIN)).await;
    let (ta, tb) = (
        ta["data"]["accessToken"].as_str().unwrap().to_owned(),
        tb["data"]["accessToken"].as_str().unwrap().to_owned(),
    );
    assert_ne!(ta, tb);
    // A token of one simulator means nothing to the other.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/Trading/orderBook?account={DEMO_CASH_ACCOUNT}",
            b.trading_url
        ))
        .header("Authorization", format!("Bearer {ta}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

async fn data_token(t: &TestSim) -> String {
    let (_, _, v) = post(
        &format!("{}/api/v2/Market/AccessToken", t.data_url),
        json!({"consumerID": DEMO_DATA_CONSUMER_ID, "consumerSecret": DEMO_DATA_CONSUMER_SECRET}),
    )
    .await;
    v["data"]["accessToken"].as_str().unwrap().to_owned()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn hub(base: &str, hub: &str, token: &str) -> Ws {
    let url = format!(
        "{}/v2.0/signalr/connect?transport=webSockets&clientProtocol=1.5&connectionToken=x&connectionData=%5B%7B%22name%22%3A%22{hub}%22%7D%5D",
        base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

/// The next frame that is a hub result (`{"I": ..}`), skipping data and keep-alives.
async fn result_of(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a hub result")
            .expect("connection open")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v.get("I").is_some() {
                return v;
            }
        }
    }
}

/// Waits for the server's close frame; returns its code.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the server closes")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_hub_frames_close_the_connection_with_1009() {
    let t = spawn_with(trading_config()).await;
    let token = data_token(&t).await;
    for _ in 0..3 {
        let mut ws = hub(&t.data_url, "FcMarketDataV2Hub", &token).await;
        // 14 MB of symbols in one SwitchChannels frame.
        let symbols = vec!["ABC"; 3_500_000].join("-");
        let frame = json!({"H": "FcMarketDataV2Hub", "M": "SwitchChannels", "A": [format!("X:{symbols}")], "I": 0});
        let _ = ws.send(Message::Text(frame.to_string().into())).await;
        // Closed: with 1009, or reset while the client was still sending 14 MB.
        assert!(matches!(close_code(&mut ws).await, Some(1009) | None));
    }
    // A message just over the limit gets SignalR's close code.
    let mut ws = hub(&t.data_url, "FcMarketDataV2Hub", &token).await;
    let frame = json!({"H": "FcMarketDataV2Hub", "M": "SwitchChannels", "A": [format!("X:{}", "A".repeat(70_000))], "I": 0});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1009));
    // The trading hub has the same cap.
    let client = trading_client(&t);
    client
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let trading_token = {
        use secrecy::ExposeSecret as _;
        client
            .access_token()
            .await
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let mut ws = hub(&t.trading_url, "BroadcastHubV2", &trading_token).await;
    ws.send(Message::Text("x".repeat(70_000).into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1009));
    // Still serving.
    let mut ws = hub(&t.data_url, "FcMarketDataV2Hub", &token).await;
    let ok = json!({"H": "FcMarketDataV2Hub", "M": "SwitchChannels", "A": ["X-TRADE:SSI"], "I": 1});
    ws.send(Message::Text(ok.to_string().into())).await.unwrap();
    let r = result_of(&mut ws).await;
    assert_eq!(r["I"], "1");
    assert!(r.get("E").is_none(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_subscriptions_are_capped_per_connection() {
    let t = spawn_with(fcsim::SimConfig {
        hub_max_symbols: 100,
        hub_max_subscriptions: 3,
        ..trading_config()
    })
    .await;
    let token = data_token(&t).await;
    let mut ws = hub(&t.data_url, "FcMarketDataV2Hub", &token).await;
    let switch = |channel: String, id: u32| {
        Message::Text(
            json!({"H": "FcMarketDataV2Hub", "M": "SwitchChannels", "A": [channel], "I": id})
                .to_string()
                .into(),
        )
    };
    let many: Vec<String> = (0..101).map(|i| format!("S{i:03}")).collect();
    ws.send(switch(format!("X:{}", many.join("-")), 1))
        .await
        .unwrap();
    let r = result_of(&mut ws).await;
    assert!(r["E"].as_str().unwrap().contains("Too many symbols"), "{r}");
    ws.send(switch(format!("X:{}", many[..60].join("-")), 2))
        .await
        .unwrap();
    assert!(result_of(&mut ws).await.get("E").is_none());
    ws.send(switch(format!("B:{}", many[60..100].join("-")), 3))
        .await
        .unwrap();
    assert!(result_of(&mut ws).await.get("E").is_none());
    // 100 symbols used: one more is over the cap; ALL carries no symbol list.
    ws.send(switch("X-QUOTE:SSI".to_owned(), 4)).await.unwrap();
    assert!(
        result_of(&mut ws).await["E"]
            .as_str()
            .unwrap()
            .contains("Too many symbols")
    );
    ws.send(switch("MI:ALL".to_owned(), 5)).await.unwrap();
    assert!(result_of(&mut ws).await.get("E").is_none());
    ws.send(switch("F:ALL".to_owned(), 6)).await.unwrap();
    let r = result_of(&mut ws).await;
    assert!(
        r["E"].as_str().unwrap().contains("Too many subscriptions"),
        "{r}"
    );
    // Re-sending an existing subscription is not a new one.
    ws.send(switch("MI:ALL".to_owned(), 7)).await.unwrap();
    assert!(result_of(&mut ws).await.get("E").is_none());
}

/// Sends `bytes` on a fresh TCP connection and reads until the server closes it.
async fn until_closed(addr: &str, bytes: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .expect("the server closes a connection stuck in its headers")
        .unwrap_or_default();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_finish_their_headers_are_closed() {
    let t = spawn_with(fcsim::SimConfig {
        header_read_timeout_ms: 300,
        ..trading_config()
    })
    .await;
    for base in [&t.trading_url, &t.data_url] {
        let addr = base.trim_start_matches("http://");
        // Half a request head, then silence.
        let half = format!("GET /api/v2/Trading/rateLimit HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ");
        let answer = until_closed(addr, half.as_bytes()).await;
        assert!(
            !answer.contains("200 OK"),
            "a half request got an answer: {answer}"
        );
        // Nothing at all.
        until_closed(addr, b"").await;
    }
    // Whole requests are still served.
    trading_client(&t).login_read_only().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_get_ssi_envelope_413() {
    let t = spawn_with(fcsim::SimConfig {
        max_body_bytes: 4_096,
        ..trading_config()
    })
    .await;
    let big = json!({"consumerID": "x".repeat(10_000)});
    for url in [
        format!("{}/api/v2/Trading/AccessToken", t.trading_url),
        format!("{}/api/v2/Trading/NewOrder", t.trading_url),
        format!("{}/api/v2/Market/AccessToken", t.data_url),
    ] {
        let (http, _, v) = post(&url, big.clone()).await;
        assert_eq!(http, 413, "{url}: {v}");
        assert_eq!(v["status"], 413, "{v}");
        assert!(v["data"].is_null());
        assert!(v["message"].as_str().unwrap().contains("4096"), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speeds_the_clock_cannot_represent_are_refused() {
    for speed in [1e15, 1e10, f64::INFINITY, f64::NAN, 0.0, -1.0] {
        let err = fcsim::Simulator::new(fcsim::SimConfig {
            speed,
            ..trading_config()
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("speed must be between"),
            "{speed}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_highest_speed_the_simulator_serves_and_stops_when_told() {
    let t = spawn_with(fcsim::SimConfig {
        speed: fcsim::clock::MAX_SPEED,
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login_read_only().await.unwrap();
    let token = data_token(&t).await;
    let mut ws = hub(&t.data_url, "FcMarketDataV2Hub", &token).await;
    let all = json!({"H": "FcMarketDataV2Hub", "M": "SwitchChannels", "A": ["X:ALL"], "I": 1});
    ws.send(Message::Text(all.to_string().into()))
        .await
        .unwrap();
    // Days go by while the client queries and the hub streams.
    let start = t.sim.now();
    while t.sim.now() - start < time::Duration::days(3) {
        client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopped = tokio::time::timeout(Duration::from_secs(60), t.stop()).await;
    assert!(stopped.is_ok(), "the simulator did not stop within 60 s");
}
