//! [`spawn_app`] and the [`TestApp`] with one method per endpoint; the real peers the service
//! talks to: an SMTP server ([`Smtp`], aiosmtpd), recording HTTP endpoints ([`Peer`]: webhooks,
//! Telegram, SMS) and a stand-in SSO ([`Tokens`]) for tokens with accounts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::service::testing::{Spawned, spawn};
use proto::notification::v1::notification_service_client::NotificationServiceClient;
use serde_json::Value;

/// A running notification service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Settings every test uses: http webhooks allowed, a short grouping window, fast retries.
pub const FAST: &[(&str, &str)] = &[
    ("NOTIFICATION__WEBHOOK__ALLOW_HTTP", "true"),
    ("NOTIFICATION__WEBHOOK__TIMEOUT_MS", "2000"),
    ("NOTIFICATION__DELIVERY__GROUP_WINDOW_MS", "300"),
    ("NOTIFICATION__DELIVERY__RETRY_BACKOFF_MS", "100"),
    ("NOTIFICATION__DELIVERY__MAX_BACKOFF_MS", "400"),
    ("NOTIFICATION__DELIVERY__POLL_MS", "50"),
    ("NOTIFICATION__DELIVERY__MAX_ATTEMPTS", "3"),
];

/// Starts the service on port 0 with throw-away backends (tokens not checked) and waits until
/// it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// Starts the service with [`FAST`] and extra settings.
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    let mut all: Vec<(&str, &str)> = FAST.to_vec();
    all.extend_from_slice(env);
    TestApp {
        app: spawn::<notification::App>(&all)
            .await
            .expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// What an endpoint answered.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body (null when not JSON).
    pub body: Value,
}

impl TestApp {
    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// A JSON request to `/api/notification{path}` with an optional bearer token.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = self.app.http_url(&format!("/api/notification{path}"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let r = request.send().await.expect("HTTP request");
        let status = r.status().as_u16();
        Answer {
            status,
            body: r.json().await.unwrap_or(Value::Null),
        }
    }

    /// A JSON request without a token.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(None, method, path, body).await
    }

    /// Polls `GET path` (as `token`) until `done` holds of its body (15 s at most); the body.
    pub async fn until(
        &self,
        token: Option<&str>,
        path: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            let a = self.call_as(token, "GET", path, None).await;
            if a.status == 200 && done(&a.body) {
                return a.body;
            }
            last = a.body;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} never got there: {last}");
    }

    /// Publishes `payload` on `topic` as `source` would, with a fresh envelope (a redelivery
    /// by another path: the same event in a new envelope).
    pub async fn publish<M: prost::Message + prost::Name>(
        &self,
        topic: &str,
        key: &str,
        payload: &M,
    ) {
        self.app
            .bus
            .publish(topic, &common::bus::Envelope::new("test", key, payload))
            .await
            .unwrap();
    }

    /// `GET /api/notification/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/notification/v1/info").await
    }

    /// A gRPC client.
    pub async fn grpc(&self) -> NotificationServiceClient<tonic::transport::Channel> {
        NotificationServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `NotificationService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}

/// A filled order: its two fills and its `filled` event.
pub fn filled_order(
    id: &str,
    account: &str,
) -> (
    proto::oms::v1::Fill,
    proto::oms::v1::Fill,
    proto::oms::v1::OrderEvent,
) {
    let fill = |n: &str, q: u64, p: i64| proto::oms::v1::Fill {
        id: n.into(),
        order_id: id.into(),
        account: account.into(),
        symbol: "ACB".into(),
        side: "buy".into(),
        price: p,
        quantity: q,
        time: Some(common::bus::proto_time(time::OffsetDateTime::now_utc())),
        ..Default::default()
    };
    let event = proto::oms::v1::OrderEvent {
        kind: "filled".into(),
        from_status: "partially_filled".into(),
        to_status: "filled".into(),
        detail: String::new(),
        at: Some(common::bus::proto_time(time::OffsetDateTime::now_utc())),
        order: Some(proto::oms::v1::Order {
            id: id.into(),
            client_id: format!("c-{id}"),
            account: account.into(),
            symbol: "ACB".into(),
            side: "buy".into(),
            order_type: "LO".into(),
            price: 25_100,
            quantity: 1000,
            status: "filled".into(),
            filled: 1000,
            avg_price: 25_060,
            version: 4,
            ..Default::default()
        }),
    };
    (fill("f1", 400, 25_000), fill("f2", 600, 25_100), event)
}

/// Publishes a filled order's fills and event, each twice (a redelivery).
pub async fn publish_filled_twice(app: &TestApp, id: &str, account: &str) {
    let (f1, f2, filled) = filled_order(id, account);
    for _ in 0..2 {
        app.publish("oms.fill.v1", account, &f1).await;
        app.publish("oms.fill.v1", account, &f2).await;
        app.publish("oms.order.v1", account, &filled).await;
    }
}

// ---- a stand-in SSO ----

/// The shared stand-in SSO (a JWKS on port 0 and tokens signed with its key).
pub use common::service::testing::Tokens;

/// Starts the service checking tokens of `tokens`, with extra settings.
pub async fn spawn_with_tokens(tokens: &Tokens, extra: &[(&str, &str)]) -> TestApp {
    let env = tokens.env("NOTIFICATION");
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    spawn_with(&all).await
}

// ---- recording HTTP peers ----

/// A request a [`Peer`] received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Its path.
    pub path: String,
    /// Its headers (lower-case names).
    pub headers: HashMap<String, String>,
    /// Its body as sent.
    pub raw: Vec<u8>,
    /// Its body as JSON (null when not).
    pub body: Value,
}

#[derive(Default)]
struct PeerState {
    seen: Mutex<Vec<Recorded>>,
    /// Answer this status to every request (0: 200).
    status: AtomicUsize,
}

/// A recording HTTP endpoint on port 0 (a webhook receiver, the Telegram Bot API, an SMS
/// provider): every request is kept; it answers 200, or the status it is told to.
#[derive(Clone)]
pub struct Peer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<PeerState>,
}

impl Peer {
    /// Starts one.
    pub async fn start() -> Self {
        let state = Arc::new(PeerState::default());
        let s = state.clone();
        let router = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let s = s.clone();
                async move {
                    let rec = Recorded {
                        path: uri.path().to_owned(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect(),
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        raw: body.to_vec(),
                    };
                    s.seen.lock().unwrap().push(rec);
                    let fixed = s.status.load(Ordering::SeqCst);
                    if fixed != 0 {
                        let code = axum::http::StatusCode::from_u16(fixed as u16).unwrap();
                        return (code, "told to fail".to_owned());
                    }
                    (axum::http::StatusCode::OK, r#"{"ok":true}"#.to_owned())
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, state }
    }

    /// Answers `status` to every request from now on (0: back to normal).
    pub fn always(&self, status: u16) {
        self.state
            .status
            .store(usize::from(status), Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Recorded> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Waits until `n` requests came (10 s at most); them.
    pub async fn wait_for(&self, n: usize) -> Vec<Recorded> {
        for _ in 0..200 {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} got {} requests, not {n}", self.url, self.seen().len());
    }
}

// ---- a real SMTP server ----

/// The Python of the aiosmtpd venv `.ci/setup.sh` makes (`TEST_AIOSMTPD_PYTHON` overrides it),
/// or `None` when absent (a skip with a warning; a failure under `CI=true`).
pub fn aiosmtpd_python() -> Option<PathBuf> {
    let path = std::env::var("TEST_AIOSMTPD_PYTHON").map_or_else(
        |_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/qts/smtp-venv/bin/python")
        },
        PathBuf::from,
    );
    found_or_skip(
        path,
        "aiosmtpd (the SMTP server of the tests; .ci/setup.sh installs it)",
    )
}

/// `path` if it exists; otherwise a skip with a loud warning, or a failure under `CI=true`.
pub fn found_or_skip(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{what} is missing at {}: under CI=true every test runs",
        path.display()
    );
    eprintln!(
        "WARNING: {what} is missing at {}; skipping this test",
        path.display()
    );
    None
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port` (10 s at most).
pub async fn wait_listening(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

/// aiosmtpd on a free port, writing each message it accepts as JSON to a directory.
pub struct Smtp {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

impl Smtp {
    /// Starts it; `None` without aiosmtpd (a skip; a failure under CI).
    pub async fn start() -> Option<Self> {
        let python = aiosmtpd_python()?;
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let support = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let child = tokio::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "smtp_sink.Sink"])
            .arg(dir.path())
            .env("PYTHONPATH", support)
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        wait_listening(port).await;
        Some(Self { port, dir, child })
    }

    /// The settings pointing the service at it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("NOTIFICATION__SMTP__HOST", "127.0.0.1".to_owned()),
            ("NOTIFICATION__SMTP__PORT", self.port.to_string()),
            ("NOTIFICATION__SMTP__TLS", "none".to_owned()),
            (
                "NOTIFICATION__SMTP__FROM",
                "QTS <no-reply@qts.test>".to_owned(),
            ),
        ]
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| {
                let n = p.file_stem()?.to_str()?.parse().ok()?;
                Some((n, p))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// The messages to `to`.
    pub fn messages_to(&self, to: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["rcpt_tos"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|a| a == to))
            })
            .collect()
    }

    /// Waits until `n` messages reached `to` (10 s at most); them.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let m = self.messages_to(to);
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{to} got {} messages, not {n}: {:?}",
            self.messages_to(to).len(),
            self.messages()
        );
    }

    /// Stops it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Merges settings lists.
pub fn env_of(parts: &[&[(&'static str, String)]]) -> Vec<(&'static str, String)> {
    parts.iter().flat_map(|p| p.iter().cloned()).collect()
}

/// As `&str` pairs.
pub fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
