//! TEST FAKE of SSI FastConnect v2 (FC Data and FC Trading, REST and classic SignalR hubs),
//! serving SSI's wire shapes on 127.0.0.1 port 0. It is deliberately dumb: tests queue the
//! REST answers they want and push hub frames by hand. The real simulator (a later crate)
//! replaces it: everything the client tests need from it is the base URL and the recorded
//! requests.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

pub(crate) const MARKET_HUB: &str = "FcMarketDataV2Hub";
pub(crate) const TRADING_HUB: &str = "BroadcastHubV2";
pub(crate) const TEST_PUBLIC_KEY: &str = include_str!("../fixtures/test_key_pub.pem");
pub(crate) const TEST_PRIVATE_KEY_XML_B64: &str = include_str!("../fixtures/test_key.xml.b64");

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: HashMap<String, String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }
}

/// A queued REST answer.
#[derive(Debug, Clone)]
pub(crate) struct Canned {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

impl Canned {
    pub(crate) fn json(body: Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
        }
    }

    pub(crate) fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// A live hub socket the test can push frames into.
struct HubSocket {
    hub: String,
    tx: mpsc::UnboundedSender<String>,
    kill: Arc<Notify>,
}

#[derive(Default)]
pub(crate) struct FakeState {
    pub(crate) requests: Mutex<Vec<Recorded>>,
    canned: Mutex<HashMap<String, VecDeque<Canned>>>,
    /// Tokens the fake accepts.
    valid_tokens: Mutex<HashSet<String>>,
    /// Lifetime (seconds) of the next issued tokens.
    pub(crate) token_lifetime_secs: AtomicI64,
    tokens_issued: AtomicUsize,
    /// Frames the hubs received from the client (invocations).
    pub(crate) hub_invocations: Mutex<Vec<Value>>,
    /// Requests to /negotiate, /connect and /start.
    pub(crate) hub_requests: Mutex<Vec<Recorded>>,
    sockets: Mutex<Vec<HubSocket>>,
    /// Trading events (notifyID, payload) replayed per the NotifyID header on connect.
    pub(crate) trading_log: Mutex<Vec<(i64, Value)>>,
    /// When set, replay ignores NotifyID and sends everything (a misbehaving server).
    pub(crate) replay_everything: std::sync::atomic::AtomicBool,
    pub(crate) connects: AtomicUsize,
}

#[derive(Clone)]
pub(crate) struct FakeSsi {
    pub(crate) addr: SocketAddr,
    pub(crate) state: Arc<FakeState>,
}

pub(crate) fn jwt(exp: i64) -> String {
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.fake-signature",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"exp":{exp},"jti":"{}"}}"#,
            uuid_like(exp as u64)
        ))
    )
}

fn uuid_like(seed: u64) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("{seed}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl FakeSsi {
    pub(crate) async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        state.token_lifetime_secs.store(8 * 3600, Ordering::SeqCst);
        let app = Router::new()
            .route("/v2.0/signalr/connect", any(hub_connect))
            .fallback(any(everything))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues `answer` for the next request to `path` (case-insensitive).
    pub(crate) fn enqueue(&self, path: &str, answer: Canned) {
        self.state
            .canned
            .lock()
            .unwrap()
            .entry(path.to_ascii_lowercase())
            .or_default()
            .push_back(answer);
    }

    /// Every recorded REST request to `path` (case-insensitive).
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

    pub(crate) fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// Simulates server-side expiry: every token issued so far is refused from now on.
    pub(crate) fn revoke_tokens(&self) {
        self.state.valid_tokens.lock().unwrap().clear();
    }

    pub(crate) fn set_token_lifetime(&self, secs: i64) {
        self.state.token_lifetime_secs.store(secs, Ordering::SeqCst);
    }

    pub(crate) fn hub_sockets(&self, hub: &str) -> usize {
        self.state
            .sockets
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.hub == hub && !s.tx.is_closed())
            .count()
    }

    /// Sends a raw text frame to every open socket of `hub`.
    pub(crate) fn push_frame(&self, hub: &str, frame: String) {
        for s in self.state.sockets.lock().unwrap().iter() {
            if s.hub == hub {
                let _ = s.tx.send(frame.clone());
            }
        }
    }

    /// Pushes an FC Data `Broadcast` with the double-encoded payload SSI sends.
    pub(crate) fn broadcast_market(&self, content: Value) {
        let data_type = content["RType"].as_str().unwrap_or("X").to_owned();
        let payload = json!({ "DataType": data_type, "Content": content.to_string() }).to_string();
        self.push_frame(MARKET_HUB, market_frame(&payload));
    }

    /// Appends a trading event to the day's log and pushes it to open trading sockets.
    pub(crate) fn trading_event(&self, kind: &str, mut data: Value) -> i64 {
        let mut log = self.state.trading_log.lock().unwrap();
        let id = log.last().map_or(1, |(n, _)| n + 1);
        data["notifyID"] = json!(id);
        let payload = json!({ "type": kind, "data": data });
        log.push((id, payload.clone()));
        drop(log);
        self.push_frame(TRADING_HUB, trading_frame(&payload));
        id
    }

    /// Closes every open hub socket abruptly (a network drop).
    pub(crate) fn drop_hub_connections(&self) {
        let mut sockets = self.state.sockets.lock().unwrap();
        for s in sockets.iter() {
            s.kill.notify_one();
        }
        sockets.clear();
    }

    pub(crate) fn invocations(&self) -> Vec<Value> {
        self.state.hub_invocations.lock().unwrap().clone()
    }

    /// Arguments of every `SwitchChannels` the data hub received.
    pub(crate) fn switch_channels(&self) -> Vec<String> {
        self.invocations()
            .iter()
            .filter(|f| f["M"] == "SwitchChannels")
            .filter_map(|f| f["A"][0].as_str().map(str::to_owned))
            .collect()
    }

    pub(crate) fn hub_requests(&self, action: &str) -> Vec<Recorded> {
        self.state
            .hub_requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.ends_with(action))
            .cloned()
            .collect()
    }
}

pub(crate) fn market_frame(payload_string: &str) -> String {
    json!({"C": "d-1,2|B,0|C,1", "M": [{"H": MARKET_HUB, "M": "Broadcast", "A": [payload_string]}]})
        .to_string()
}

fn trading_frame(payload: &Value) -> String {
    json!({"C": "d-9,1", "M": [{"H": TRADING_HUB, "M": "Broadcast", "A": [payload.to_string()]}]})
        .to_string()
}

/// Verifies a hex `X-Signature` over the raw body with the test public key.
pub(crate) fn signature_valid(body: &[u8], hex_signature: &str) -> bool {
    let key = rsa::RsaPublicKey::from_public_key_pem(TEST_PUBLIC_KEY).unwrap();
    let verifier = VerifyingKey::<Sha256>::new(key);
    let Ok(bytes) = (0..hex_signature.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex_signature.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    verifier.verify(body, &signature).is_ok()
}

fn record(
    method: Method,
    uri: &Uri,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
) -> Recorded {
    Recorded {
        method,
        path: uri.path().to_owned(),
        query,
        headers,
        body,
    }
}

fn bearer_ok(state: &FakeState, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| state.valid_tokens.lock().unwrap().contains(t))
}

fn issue_token(state: &FakeState) -> String {
    let token = jwt(now_secs() + state.token_lifetime_secs.load(Ordering::SeqCst));
    state.valid_tokens.lock().unwrap().insert(token.clone());
    state.tokens_issued.fetch_add(1, Ordering::SeqCst);
    token
}

fn reply(c: Canned) -> Response {
    let mut response = (StatusCode::from_u16(c.status).unwrap(), c.body).into_response();
    for (name, value) in c.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn everything(
    State(state): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = record(method.clone(), &uri, query, headers.clone(), body);
    let path = uri.path().to_ascii_lowercase();

    if path.starts_with("/v2.0/signalr/") {
        state.hub_requests.lock().unwrap().push(rec);
        if !bearer_ok(&state, &headers) {
            return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        }
        return if path.ends_with("/negotiate") {
            axum::Json(json!({
                "Url": "/v2.0/signalr", "ConnectionToken": "tok/en+with=chars",
                "ConnectionId": "c0ffee", "KeepAliveTimeout": 20.0, "DisconnectTimeout": 30.0,
                "ConnectionTimeout": 110.0, "TryWebSockets": true, "ProtocolVersion": "1.5",
                "TransportConnectTimeout": 5.0, "LongPollDelay": 0.0
            }))
            .into_response()
        } else if path.ends_with("/start") {
            axum::Json(json!({"Response": "started"})).into_response()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    }

    state.requests.lock().unwrap().push(rec);

    let canned = |state: &FakeState| {
        state
            .canned
            .lock()
            .unwrap()
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
    };
    let is_login = path == "/api/v2/market/accesstoken"
        || path == "/api/v2/trading/accesstoken"
        || path == "/api/v2/trading/getotp";
    if is_login {
        if let Some(c) = canned(&state) {
            return reply(c);
        }
        if path.ends_with("/getotp") {
            return axum::Json(json!({"message": "Success", "status": 200})).into_response();
        }
        let token = issue_token(&state);
        return axum::Json(
            json!({"message": "Success", "status": 200, "data": {"accessToken": token}}),
        )
        .into_response();
    }
    if !bearer_ok(&state, &headers) {
        // FC Data answers auth failures in the body with HTTP 200; FC Trading with 401.
        return if path.starts_with("/api/v2/market/") {
            axum::Json(json!({"message": "Missing Authorization header", "status": 401}))
                .into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "Unauthorized", "status": 401})),
            )
                .into_response()
        };
    }
    if let Some(c) = canned(&state) {
        return reply(c);
    }
    (
        StatusCode::NOT_FOUND,
        format!("fake SSI has no answer queued for {path}"),
    )
        .into_response()
}

async fn hub_connect(
    State(state): State<Arc<FakeState>>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    state.hub_requests.lock().unwrap().push(record(
        Method::GET,
        &uri,
        query.clone(),
        headers.clone(),
        Bytes::new(),
    ));
    if !bearer_ok(&state, &headers) {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    let data: Value =
        serde_json::from_str(query.get("connectionData").map_or("[]", String::as_str))
            .unwrap_or(Value::Null);
    let hub = data[0]["name"].as_str().unwrap_or_default().to_owned();
    let notify: Option<i64> = headers
        .get("notifyid")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    state.connects.fetch_add(1, Ordering::SeqCst);
    ws.on_upgrade(move |socket| run_socket(state, socket, hub, notify))
}

async fn run_socket(
    state: Arc<FakeState>,
    mut socket: WebSocket,
    hub: String,
    notify: Option<i64>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let kill = Arc::new(Notify::new());
    if socket
        .send(Message::Text(
            json!({"C": "s-0,1", "S": 1, "M": []}).to_string().into(),
        ))
        .await
        .is_err()
    {
        return;
    }
    if hub == TRADING_HUB {
        let replay_all = state.replay_everything.load(Ordering::SeqCst);
        let log = state.trading_log.lock().unwrap().clone();
        let from = notify.unwrap_or(-1);
        for (id, payload) in log {
            let wanted = replay_all || (from >= 0 && id > from);
            if wanted {
                let _ = tx.send(trading_frame(&payload));
            }
        }
    }
    state.sockets.lock().unwrap().push(HubSocket {
        hub: hub.clone(),
        tx,
        kill: kill.clone(),
    });
    let mut keep_alive = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = kill.notified() => return, // dropped without a close frame
            frame = rx.recv() => match frame {
                Some(text) => if socket.send(Message::Text(text.into())).await.is_err() { return },
                None => return,
            },
            _ = keep_alive.tick() => if socket.send(Message::Text("{}".into())).await.is_err() { return },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    let id = frame["I"].clone();
                    state.hub_invocations.lock().unwrap().push(frame);
                    let result = json!({"I": id.to_string().trim_matches('"')});
                    if socket.send(Message::Text(result.to_string().into())).await.is_err() { return }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Polls `check` until it holds (or fails the test after 10 s).
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
