//! The embedded gateway's own limits and errors, in front of a stand-in service: every limit
//! and every error it answers carries the `{"code", "message"}` envelope.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use common::settings::LimitsSettings;
use common::shutdown::CancellationToken;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::helpers::http;

/// A stand-in for a service: `GET /api/oms/v1/hold` never answers (and says when it started),
/// `POST /api/oms/v1/echo` answers the body's length, `GET /ready` is its admin.
async fn upstream(token: &CancellationToken) -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let (entered, entered_rx) = mpsc::unbounded_channel();
    let router = axum::Router::new()
        .route(
            "/api/oms/v1/hold",
            get(move || {
                let _ = entered.send(());
                std::future::pending::<&'static str>()
            }),
        )
        .route(
            "/api/oms/v1/echo",
            post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        )
        .route("/ready", get(|| async { "ready" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(token.clone().cancelled_owned())
            .into_future(),
    );
    (addr, entered_rx)
}

/// A gateway over `routes` with `limits`, on a free port.
async fn gateway(
    routes: HashMap<String, (SocketAddr, SocketAddr)>,
    limits: &LimitsSettings,
    token: &CancellationToken,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = qts::gateway::router_with(routes, limits);
    tokio::spawn(qts::gateway::serve_with(
        listener,
        router,
        limits,
        token.clone(),
    ));
    addr
}

/// Asserts an envelope body with `code`; its message.
async fn envelope(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "{response:?}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    body["message"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_bounds_what_a_client_can_hold() {
    let token = CancellationToken::new();
    let (oms, mut entered) = upstream(&token).await;
    let limits = LimitsSettings {
        header_read_timeout_ms: 300,
        request_timeout_ms: 300,
        max_concurrent_requests: 1,
        max_body_bytes: 1024,
    };
    let gw = gateway(
        HashMap::from([("oms".to_owned(), (oms, oms))]),
        &limits,
        &token,
    )
    .await;
    let c = http();
    let url = |path: &str| format!("http://{gw}{path}");

    // A connection that never finishes its headers is closed after the timeout.
    // Timed from before the connect: the gateway's clock starts when it accepts, which can
    // come before `connect` returns here.
    let since = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(gw).await.unwrap();
    stream.write_all(b"GET /api/oms/v1/ec").await.unwrap();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the gateway kept a half-open connection");
    assert!(since.elapsed() >= Duration::from_millis(300));

    // One request in flight fills the gateway; the next is refused at once; the first runs
    // into the request timeout.
    let held = tokio::spawn(c.get(url("/api/oms/v1/hold")).send());
    entered.recv().await.unwrap();
    let refused = c.get(url("/api/oms/v1/echo")).send().await.unwrap();
    let message = envelope(refused, 503, "unavailable").await;
    assert!(message.contains("busy"), "{message}");
    let timed_out = held.await.unwrap().unwrap();
    let message = envelope(timed_out, 504, "deadline_exceeded").await;
    assert!(message.contains("300 ms"), "{message}");

    // Bodies: within the limit reach the service; over it, declared or streamed, do not.
    let fits = c
        .post(url("/api/oms/v1/echo"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(fits.text().await.unwrap(), "1024");
    let declared = c
        .post(url("/api/oms/v1/echo"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    envelope(declared, 413, "resource_exhausted").await;
    let mut stream = tokio::net::TcpStream::connect(gw).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 800, "y".repeat(800));
    stream
        .write_all(b"POST /api/oms/v1/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    stream.write_all(chunk.as_bytes()).await.unwrap();
    stream.write_all(chunk.as_bytes()).await.unwrap();
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains(r#""code":"resource_exhausted""#),
        "{answer}"
    );
    token.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_error_carries_the_envelope() {
    let token = CancellationToken::new();
    // A service whose port nothing listens on.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let gw = gateway(
        HashMap::from([("oms".to_owned(), (down, down))]),
        &LimitsSettings::default(),
        &token,
    )
    .await;
    let c = http();
    let url = |path: &str| format!("http://{gw}{path}");

    let message = envelope(c.get(url("/nope")).send().await.unwrap(), 404, "not_found").await;
    assert!(message.contains("/api/<service>/"), "{message}");
    let message = envelope(
        c.get(url("/api/nope/v1/info")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert!(message.contains("nope"), "{message}");
    let message = envelope(
        c.get(url("/api/oms/v1/info")).send().await.unwrap(),
        502,
        "unavailable",
    )
    .await;
    assert!(message.contains("oms"), "{message}");
    let message = envelope(
        c.get(url("/ready")).send().await.unwrap(),
        503,
        "unavailable",
    )
    .await;
    assert!(message.contains("oms"), "{message}");
    let not_allowed = c.post(url("/")).send().await.unwrap();
    assert!(not_allowed.headers().contains_key(reqwest::header::ALLOW));
    let message = envelope(not_allowed, 405, "unimplemented").await;
    assert!(message.contains("POST"), "{message}");
    token.cancel();
}
