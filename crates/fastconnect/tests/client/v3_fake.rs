//! TEST FAKE of SSI FastConnect v3 (REST `/api/v3/...` and the `/ws/v3` stream) on
//! 127.0.0.1 port 0. Auth is modelled (data vs trading scope, OTP, Smart-OTP polling,
//! single-use refresh tokens whose reuse revokes the session, as SSI documents); signed
//! calls are verified over the exact body bytes; everything else answers what the test
//! queued.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use crate::fake_ssi::{Canned, Recorded, TEST_PRIVATE_KEY_XML_B64, jwt, signature_valid};

pub(crate) const API_KEY: &str = "v3-key";
pub(crate) const API_SECRET: &str = "v3-s3cret";
pub(crate) const GOOD_OTP: &str = "123456";
pub(crate) const REJECTED_TRANSACTION: &str = "tx-rejected";

struct Sock {
    tx: mpsc::UnboundedSender<String>,
    kill: Arc<Notify>,
}

#[derive(Default)]
pub(crate) struct V3State {
    requests: Mutex<Vec<Recorded>>,
    canned: Mutex<HashMap<String, VecDeque<Canned>>>,
    /// access token -> trading scope?
    tokens: Mutex<HashMap<String, bool>>,
    /// refresh token -> (trading scope, already used)
    refresh_tokens: Mutex<HashMap<String, (bool, bool)>>,
    pub(crate) lifetime_secs: AtomicI64,
    pub(crate) logins: AtomicUsize,
    pub(crate) refreshes: AtomicUsize,
    pub(crate) refresh_reuses: AtomicUsize,
    /// Smart-OTP polls still answered 202 before approval.
    pub(crate) smart_pending: AtomicUsize,
    ws_frames: Mutex<Vec<Value>>,
    ws_raw_sizes: Mutex<Vec<usize>>,
    sockets: Mutex<Vec<Sock>>,
    pub(crate) ws_connects: AtomicUsize,
    /// Sent (then the socket closed) to the next connecting socket.
    ws_reject_next: Mutex<Option<Value>>,
}

#[derive(Clone)]
pub(crate) struct FakeV3 {
    pub(crate) addr: SocketAddr,
    pub(crate) state: Arc<V3State>,
    tls: bool,
}

pub(crate) const TLS_CERT: &str = include_str!("../fixtures/v3_localhost.pem");
const TLS_KEY: &str = include_str!("../fixtures/v3_localhost.key");

/// TLS on top of TCP for `axum::serve`, with the self-signed test certificate.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client that does not trust the certificate fails here; keep serving.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(TLS_CERT.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(TLS_KEY.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl FakeV3 {
    /// REST on `http://`, the stream on `ws://`.
    pub(crate) async fn start() -> Self {
        Self::start_with(false).await
    }

    /// REST on `https://localhost`, the stream on `wss://localhost`, with the self-signed
    /// certificate `tests/fixtures/v3_localhost.pem`.
    pub(crate) async fn start_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        let state = Arc::new(V3State::default());
        state.lifetime_secs.store(3_600, Ordering::SeqCst);
        let app = Router::new()
            .route("/ws/v3", any(ws_connect))
            .fallback(any(rest))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        if tls {
            let listener = TlsListener {
                tcp: listener,
                acceptor: tls_acceptor(),
            };
            tokio::spawn(async move {
                axum::serve(listener, app).await.unwrap();
            });
        } else {
            tokio::spawn(async move {
                axum::serve(listener, app).await.unwrap();
            });
        }
        Self { addr, state, tls }
    }

    pub(crate) fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }

    pub(crate) fn stream_url(&self) -> String {
        if self.tls {
            format!("wss://localhost:{}/ws/v3", self.addr.port())
        } else {
            format!("ws://{}/ws/v3", self.addr)
        }
    }

    /// Queues `answer` for the next `method path` (path case-insensitive).
    pub(crate) fn enqueue(&self, method: &str, path: &str, answer: Canned) {
        self.state
            .canned
            .lock()
            .unwrap()
            .entry(format!("{method} {}", path.to_ascii_lowercase()))
            .or_default()
            .push_back(answer);
    }

    pub(crate) fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.eq_ignore_ascii_case(path))
            .cloned()
            .collect()
    }

    /// Every access token is refused from now on (server-side expiry or a login elsewhere).
    pub(crate) fn revoke_access_tokens(&self) {
        self.state.tokens.lock().unwrap().clear();
    }

    pub(crate) fn ws_frames(&self) -> Vec<Value> {
        self.state.ws_frames.lock().unwrap().clone()
    }

    pub(crate) fn ws_raw_sizes(&self) -> Vec<usize> {
        self.state.ws_raw_sizes.lock().unwrap().clone()
    }

    /// Topics of every `subscribe` frame received, in order.
    pub(crate) fn subscribed(&self, channel: &str) -> Vec<String> {
        self.ws_frames()
            .iter()
            .filter(|f| f["method"] == "subscribe" && f["channel"] == channel)
            .flat_map(|f| {
                f["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    pub(crate) fn open_sockets(&self) -> usize {
        self.state
            .sockets
            .lock()
            .unwrap()
            .iter()
            .filter(|s| !s.tx.is_closed())
            .count()
    }

    pub(crate) fn push(&self, frame: Value) {
        for s in self.state.sockets.lock().unwrap().iter() {
            let _ = s.tx.send(frame.to_string());
        }
    }

    /// Drops every socket without a close frame.
    pub(crate) fn drop_sockets(&self) {
        let mut sockets = self.state.sockets.lock().unwrap();
        for s in sockets.iter() {
            s.kill.notify_one();
        }
        sockets.clear();
    }

    pub(crate) fn reject_next_socket(&self, frame: Value) {
        *self.state.ws_reject_next.lock().unwrap() = Some(frame);
    }
}

pub(crate) fn v3_config(fake: &FakeV3) -> fastconnect::v3::Config {
    let mut config = fastconnect::v3::Config::new(API_KEY, API_SECRET.to_owned().into());
    config.api_url = fake.url();
    config.stream_url = fake.stream_url();
    config.private_key = Some(TEST_PRIVATE_KEY_XML_B64.trim().to_owned().into());
    config.client_id = Some("C001".to_owned());
    config.device_id = "0123456789abcdef0123456789abcdef".to_owned();
    config.http.rate_limits = Vec::new();
    config.http.timeout_ms = 5_000;
    config.otp_poll_interval_ms = 20;
    config.otp_poll_max_wait_ms = 2_000;
    config.stream.reconnect_initial_ms = 20;
    config.stream.reconnect_max_ms = 200;
    config.stream.connect_timeout_ms = 5_000;
    config
}

pub(crate) fn v3_client(fake: &FakeV3) -> fastconnect::v3::Client {
    fastconnect::v3::Client::new(v3_config(fake)).unwrap()
}

fn api_error(status: u16, code: i64, msg: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({"code": code, "msg": msg})),
    )
        .into_response()
}

fn reply(c: Canned) -> Response {
    let mut response = (StatusCode::from_u16(c.status).unwrap(), c.body).into_response();
    for (name, value) in c.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

fn issue(state: &V3State, trading: bool) -> Value {
    let exp = now_secs() + state.lifetime_secs.load(Ordering::SeqCst);
    let access = jwt(exp);
    let refresh = format!("refresh-{}", jwt(exp + 86_400));
    state.tokens.lock().unwrap().insert(access.clone(), trading);
    state
        .refresh_tokens
        .lock()
        .unwrap()
        .insert(refresh.clone(), (trading, false));
    json!({
        "tokenType": "Bearer",
        "accessToken": access,
        "refreshToken": refresh,
        "expiresAt": exp,
        "refreshExpiresAt": (exp + 86_400).to_string(),
    })
}

fn bearer(state: &V3State, headers: &HeaderMap) -> Option<bool> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    state.tokens.lock().unwrap().get(token).copied()
}

fn is_signed(method: &Method, path: &str) -> bool {
    *method != Method::GET
        && matches!(
            path,
            "/api/v3/trading/order" | "/api/v3/trading/order/batch" | "/api/v3/trading/fco/order"
        )
}

async fn rest(
    State(state): State<Arc<V3State>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_ascii_lowercase();
    state.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        path: uri.path().to_owned(),
        query,
        headers: headers.clone(),
        body: body.clone(),
    });
    let key = format!("{method} {path}");
    let canned = || {
        state
            .canned
            .lock()
            .unwrap()
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
    };
    match path.as_str() {
        "/api/v3/auth/requestotp" => {
            if let Some(c) = canned() {
                return reply(c);
            }
            return axum::Json(json!({"code": 0, "msg": "Request OTP success"})).into_response();
        }
        "/api/v3/auth/token" => {
            if let Some(c) = canned() {
                return reply(c);
            }
            let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if b["apiKey"] != API_KEY || b["apiSecret"] != API_SECRET {
                return api_error(401, 401_105, "Invalid API credential");
            }
            if let Some(tx) = b["transactionId"].as_str() {
                if tx == REJECTED_TRANSACTION {
                    return api_error(403, 401_115, "Push-approval rejected");
                }
                if state
                    .smart_pending
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return (
                        StatusCode::ACCEPTED,
                        axum::Json(json!({"code": 401_114, "msg": "Push-approval is pending"})),
                    )
                        .into_response();
                }
                state.logins.fetch_add(1, Ordering::SeqCst);
                return axum::Json(issue(&state, true)).into_response();
            }
            let trading = match b["otp"].as_str() {
                Some(GOOD_OTP) => true,
                Some(_) => return api_error(401, 401_100, "OTP verification failed"),
                None => false,
            };
            state.logins.fetch_add(1, Ordering::SeqCst);
            return axum::Json(issue(&state, trading)).into_response();
        }
        "/api/v3/auth/refresh" => {
            if let Some(c) = canned() {
                return reply(c);
            }
            let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let token = b["refreshToken"].as_str().unwrap_or_default().to_owned();
            let mut refresh = state.refresh_tokens.lock().unwrap();
            let Some((trading, used)) = refresh.get(&token).copied() else {
                return api_error(401, 401_101, "Refresh token invalid");
            };
            if used {
                // SSI: a reused refresh token revokes the whole API-key session.
                state.refresh_reuses.fetch_add(1, Ordering::SeqCst);
                refresh.clear();
                drop(refresh);
                state.tokens.lock().unwrap().clear();
                return api_error(401, 401_103, "Refresh token revoked");
            }
            refresh.insert(token, (trading, true));
            drop(refresh);
            state.refreshes.fetch_add(1, Ordering::SeqCst);
            return axum::Json(issue(&state, trading)).into_response();
        }
        _ => {}
    }
    let Some(trading) = bearer(&state, &headers) else {
        return api_error(401, 401, "Unauthorized");
    };
    if is_signed(&method, &path) {
        let Some(signature) = headers.get("x-signature").and_then(|v| v.to_str().ok()) else {
            return api_error(401, 401_006, "Missing signature");
        };
        if body.is_empty() {
            return api_error(401, 401_008, "Empty body");
        }
        if !signature_valid(&body, signature) {
            return api_error(401, 401_013, "Signature mismatch");
        }
        if !trading {
            return api_error(401, 401_105, "Token without OTP");
        }
    }
    if let Some(c) = canned() {
        return reply(c);
    }
    api_error(404, 404, &format!("fake v3 has no answer queued for {key}"))
}

async fn ws_connect(
    State(state): State<Arc<V3State>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if bearer(&state, &headers).is_none() {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    state.ws_connects.fetch_add(1, Ordering::SeqCst);
    let reject = state.ws_reject_next.lock().unwrap().take();
    ws.on_upgrade(move |socket| run_socket(state, socket, reject))
}

async fn run_socket(state: Arc<V3State>, mut socket: WebSocket, reject: Option<Value>) {
    if let Some(frame) = reject {
        let _ = socket.send(Message::Text(frame.to_string().into())).await;
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let kill = Arc::new(Notify::new());
    state.sockets.lock().unwrap().push(Sock {
        tx,
        kill: kill.clone(),
    });
    loop {
        tokio::select! {
            () = kill.notified() => return,
            frame = rx.recv() => match frame {
                Some(text) => if socket.send(Message::Text(text.into())).await.is_err() { return },
                None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    state.ws_raw_sizes.lock().unwrap().push(text.len());
                    if text.len() > 4_096 {
                        // SSI's MaxMessageSize: the socket is closed.
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    state.ws_frames.lock().unwrap().push(frame.clone());
                    let answer = match frame["method"].as_str() {
                        Some("ping_pong") => json!({"method":"PING_PONG","channel":"HEARTBEAT","status":"ok","message":"pong"}),
                        Some(m @ ("subscribe" | "unsubscribe")) => json!({"method": m, "channel": frame["channel"], "status": "ok", "message": "ok"}),
                        Some("list_subscription") => json!({"trading": "", "data": ""}),
                        _ => json!({"code": 400, "msg": "Invalid"}),
                    };
                    if socket.send(Message::Text(answer.to_string().into())).await.is_err() { return }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
