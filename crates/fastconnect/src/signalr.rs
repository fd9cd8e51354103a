//! Classic ASP.NET SignalR 2.x client (not SignalR Core), as SSI's hubs speak it:
//! negotiate → WebSocket connect → wait for the init frame → start, then JSON frames
//! (`{}` keep-alives, `{"C":..,"M":[..]}` hub calls, `{"I":..}` invocation results).
//!
//! `run` drives one logical stream over many connections: it reconnects with exponential
//! backoff, lets the `HubSession` re-send its subscriptions, and pushes events into a
//! bounded channel, pausing reads while the consumer is behind (backpressure).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use crate::config::StreamConfig;
use crate::error::{Error, ErrorKind, Result};

/// Path of SSI's SignalR endpoints on both hubs.
pub(crate) const SIGNALR_PATH: &str = "/v2.0/signalr";

/// Where and how to connect.
#[derive(Clone)]
pub(crate) struct HubTarget {
    /// `https://host` (or `http://` in tests); `ws(s)://` is derived from it.
    pub(crate) base_url: String,
    pub(crate) hub: &'static str,
    pub(crate) client_protocol: String,
    /// Sent on negotiate, connect and start (`Authorization`, `NotifyID`).
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) connect_timeout: Duration,
    pub(crate) idle_timeout: Duration,
}

/// One call from the server: `{"H":hub,"M":method,"A":[args]}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HubMessage {
    pub(crate) hub: String,
    pub(crate) method: String,
    pub(crate) args: Vec<Value>,
}

/// One parsed server frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame {
    KeepAlive,
    Init,
    Messages(Vec<HubMessage>),
    InvocationResult {
        id: String,
        error: Option<String>,
    },
    /// The server asks the client to disconnect (`"D":1`) or to reconnect (`"T":1`).
    Disconnect,
    Other,
}

pub(crate) fn parse_frame(text: &str) -> Result<Frame> {
    let value: Value = serde_json::from_str(text).map_err(|source| Error::Decode {
        endpoint: "SignalR frame".to_owned(),
        source,
    })?;
    let Value::Object(map) = value else {
        return Err(Error::Protocol(format!(
            "frame is not a JSON object: {}",
            text.chars().take(100).collect::<String>()
        )));
    };
    if map.is_empty() {
        return Ok(Frame::KeepAlive);
    }
    if map.get("D").and_then(Value::as_i64) == Some(1)
        || map.get("T").and_then(Value::as_i64) == Some(1)
    {
        return Ok(Frame::Disconnect);
    }
    if map.get("S").and_then(Value::as_i64) == Some(1) {
        return Ok(Frame::Init);
    }
    if let Some(messages) = map.get("M") {
        let Value::Array(items) = messages else {
            return Err(Error::Protocol("frame field M is not an array".to_owned()));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let text_of = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or_default();
            let args = match item.get("A") {
                Some(Value::Array(args)) => args.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![other.clone()],
            };
            out.push(HubMessage {
                hub: text_of("H").to_owned(),
                method: text_of("M").to_owned(),
                args,
            });
        }
        return Ok(Frame::Messages(out));
    }
    if let Some(id) = map.get("I") {
        let id = match id.as_str() {
            Some(s) => s.to_owned(),
            None => id.to_string(),
        };
        let error = map.get("E").and_then(Value::as_str).map(str::to_owned);
        return Ok(Frame::InvocationResult { id, error });
    }
    Ok(Frame::Other)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Negotiate {
    connection_token: String,
    #[serde(default)]
    keep_alive_timeout: Option<f64>,
    #[serde(default)]
    try_web_sockets: Option<bool>,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open, started SignalR connection.
pub(crate) struct Connection {
    ws: Socket,
    hub: &'static str,
    idle: Duration,
    next_invocation: u64,
}

static TID: AtomicU64 = AtomicU64::new(0);

fn connection_data(hub: &str) -> String {
    json!([{ "name": hub }]).to_string()
}

fn endpoint_url(target: &HubTarget, action: &str, token: Option<&str>) -> Result<reqwest::Url> {
    let base = target.base_url.trim_end_matches('/');
    let mut url = reqwest::Url::parse(&format!("{base}{SIGNALR_PATH}/{action}"))
        .map_err(|e| Error::Config(format!("bad hub URL {base:?}: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        if action != "negotiate" {
            q.append_pair("transport", "webSockets");
        }
        q.append_pair("clientProtocol", &target.client_protocol);
        if let Some(token) = token {
            q.append_pair("connectionToken", token);
        }
        q.append_pair("connectionData", &connection_data(target.hub));
        if action == "connect" {
            let tid = TID.fetch_add(1, Ordering::Relaxed) % 10;
            q.append_pair("tid", &tid.to_string());
        }
    }
    Ok(url)
}

async fn hub_get(
    http: &reqwest::Client,
    target: &HubTarget,
    url: reqwest::Url,
    what: &str,
) -> Result<Value> {
    let endpoint = format!("{SIGNALR_PATH}/{what}");
    let mut request = http.get(url).timeout(target.connect_timeout);
    for (name, value) in &target.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.map_err(|source| Error::Transport {
        endpoint: endpoint.clone(),
        source,
    })?;
    let status = response.status();
    let body = response.bytes().await.map_err(|source| Error::Transport {
        endpoint: endpoint.clone(),
        source,
    })?;
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(Error::Unauthorized {
            endpoint,
            message: String::from_utf8_lossy(&body).chars().take(200).collect(),
        });
    }
    if !status.is_success() {
        return Err(Error::Http {
            endpoint,
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body).chars().take(200).collect(),
        });
    }
    serde_json::from_slice(&body).map_err(|source| Error::Decode { endpoint, source })
}

/// Negotiates, opens the WebSocket, waits for the init frame and calls start.
pub(crate) async fn connect(http: &reqwest::Client, target: &HubTarget) -> Result<Connection> {
    tokio::time::timeout(target.connect_timeout, connect_inner(http, target))
        .await
        .map_err(|_| Error::Protocol("hub handshake timed out".to_owned()))?
}

async fn connect_inner(http: &reqwest::Client, target: &HubTarget) -> Result<Connection> {
    let negotiate_url = endpoint_url(target, "negotiate", None)?;
    let negotiated: Negotiate = serde_json::from_value(
        hub_get(http, target, negotiate_url, "negotiate").await?,
    )
    .map_err(|source| Error::Decode {
        endpoint: format!("{SIGNALR_PATH}/negotiate"),
        source,
    })?;
    if negotiated.try_web_sockets == Some(false) {
        return Err(Error::Protocol(
            "hub does not offer WebSockets (TryWebSockets=false)".to_owned(),
        ));
    }
    let token = negotiated.connection_token.as_str();

    let mut ws_url = endpoint_url(target, "connect", Some(token))?;
    let scheme = match ws_url.scheme() {
        "https" => "wss",
        _ => "ws",
    };
    if scheme == "wss" {
        // tungstenite builds its rustls config from the process-wide provider; make sure
        // there is one, whatever other crates enabled. Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    ws_url
        .set_scheme(scheme)
        .map_err(|()| Error::Config("cannot derive WebSocket URL".to_owned()))?;
    let mut request = ws_url.as_str().into_client_request()?;
    for (name, value) in &target.headers {
        let value = http::HeaderValue::from_str(value)
            .map_err(|e| Error::Config(format!("header {name}: {e}")))?;
        request.headers_mut().insert(*name, value);
    }
    let (mut ws, _response) = match tokio_tungstenite::connect_async(request).await {
        Ok(ok) => ok,
        Err(tokio_tungstenite::tungstenite::Error::Http(response))
            if response.status() == http::StatusCode::UNAUTHORIZED =>
        {
            return Err(Error::Unauthorized {
                endpoint: format!("{SIGNALR_PATH}/connect"),
                message: "WebSocket upgrade refused with 401".to_owned(),
            });
        }
        Err(e) => return Err(e.into()),
    };

    // The server's first frame is the init message `{"C":..,"S":1,"M":[]}`.
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => match parse_frame(text.as_str())? {
                Frame::Init => break,
                Frame::Disconnect => {
                    return Err(Error::Protocol("hub refused the connection".to_owned()));
                }
                Frame::KeepAlive
                | Frame::Messages(_)
                | Frame::InvocationResult { .. }
                | Frame::Other => {}
            },
            Some(Ok(Message::Close(_))) | None => {
                return Err(Error::Protocol(
                    "hub closed the socket before init".to_owned(),
                ));
            }
            Some(Ok(
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_),
            )) => {}
            Some(Err(e)) => return Err(e.into()),
        }
    }

    let start_url = endpoint_url(target, "start", Some(token))?;
    let started = hub_get(http, target, start_url, "start").await?;
    if started.get("Response").and_then(Value::as_str) != Some("started") {
        return Err(Error::Protocol(format!(
            "unexpected start answer {started}"
        )));
    }

    let idle = negotiated
        .keep_alive_timeout
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s * 1.5))
        .unwrap_or(target.idle_timeout);
    Ok(Connection {
        ws,
        hub: target.hub,
        idle,
        next_invocation: 0,
    })
}

impl Connection {
    /// Calls `method(args)` on the hub.
    pub(crate) async fn invoke(&mut self, method: &str, args: Vec<Value>) -> Result<()> {
        let frame = json!({ "H": self.hub, "M": method, "A": args, "I": self.next_invocation });
        self.next_invocation += 1;
        self.ws.send(Message::text(frame.to_string())).await?;
        Ok(())
    }

    /// The next frame; `None` when the server closed. Silence longer than the keep-alive
    /// timeout is an error (dead socket).
    pub(crate) async fn next_frame(&mut self) -> Result<Option<Frame>> {
        loop {
            let next = tokio::time::timeout(self.idle, self.ws.next())
                .await
                .map_err(|_| {
                    Error::Protocol(format!(
                        "no frame for {:?}; socket presumed dead",
                        self.idle
                    ))
                })?;
            match next {
                Some(Ok(Message::Text(text))) => return parse_frame(text.as_str()).map(Some),
                Some(Ok(Message::Binary(bytes))) => {
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| Error::Protocol("binary frame is not UTF-8".to_owned()))?;
                    return parse_frame(&text).map(Some);
                }
                Some(Ok(Message::Close(_))) | None => return Ok(None),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Closes the socket politely (errors ignored: we are leaving anyway).
    pub(crate) async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// What a stream does on top of a connection.
pub(crate) trait HubSession: Send + 'static {
    /// Items delivered to the consumer.
    type Event: Send + 'static;
    /// Requests from the handle (e.g. subscribe).
    type Command: Send + 'static;

    /// Target for the next attempt (with a fresh token and cursor).
    fn target(&mut self) -> impl Future<Output = Result<HubTarget>> + Send;
    /// The token was refused: forget it.
    fn auth_failed(&mut self) -> impl Future<Output = ()> + Send;
    /// Invocations to send after every (re)connect.
    fn on_connected(&mut self) -> Vec<(&'static str, Vec<Value>)>;
    /// Invocations a command asks for.
    fn on_command(&mut self, command: Self::Command) -> Vec<(&'static str, Vec<Value>)>;
    /// Events carried by one server call.
    fn on_message(&mut self, message: HubMessage) -> Vec<Self::Event>;
    /// A marker (e.g. NotifyID) to record once `event` has been delivered.
    fn mark(event: &Self::Event) -> Option<i64>;
    /// `mark` of a delivered event.
    fn delivered(&mut self, mark: i64) -> impl Future<Output = ()> + Send;
    /// Event for "connected and subscribed".
    fn connected(&self) -> Self::Event;
    /// Event for "connection lost; reconnecting".
    fn disconnected(&self, reason: String) -> Self::Event;
    /// Event for an error reported by the hub.
    fn hub_error(&self, message: String) -> Self::Event;
}

/// Sends `event`; false when the consumer is gone or we are cancelled.
async fn deliver<E>(events: &mpsc::Sender<E>, event: E, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        sent = events.send(event) => sent.is_ok(),
    }
}

/// Runs `session` until `cancel` fires or the consumer drops its receiver.
pub(crate) async fn run<S: HubSession>(
    mut session: S,
    http: reqwest::Client,
    config: StreamConfig,
    events: mpsc::Sender<S::Event>,
    mut commands: mpsc::Receiver<S::Command>,
    cancel: CancellationToken,
) {
    let initial = Duration::from_millis(config.reconnect_initial_ms.max(1));
    let max = Duration::from_millis(config.reconnect_max_ms.max(config.reconnect_initial_ms));
    let mut backoff = initial;
    let mut commands_open = true;
    loop {
        let attempt = async {
            let target = session.target().await?;
            connect(&http, &target).await
        };
        let connected = tokio::select! {
            _ = cancel.cancelled() => return,
            result = attempt => result,
        };
        match connected {
            Err(error) => {
                tracing::warn!(error = %common_error::chain(&error), retry_in_ms = backoff.as_millis(), "hub connection failed");
                if error.kind() == ErrorKind::Auth {
                    session.auth_failed().await;
                }
            }
            Ok(mut conn) => {
                let mut reason = None;
                for (method, args) in session.on_connected() {
                    if let Err(error) = conn.invoke(method, args).await {
                        reason = Some(error.to_string());
                        break;
                    }
                }
                if reason.is_none() {
                    backoff = initial;
                    tracing::info!("hub connected");
                    if !deliver(&events, session.connected(), &cancel).await {
                        conn.close().await;
                        return;
                    }
                }
                while reason.is_none() {
                    tokio::select! {
                        _ = cancel.cancelled() => {
                            conn.close().await;
                            return;
                        }
                        command = commands.recv(), if commands_open => match command {
                            Some(command) => {
                                for (method, args) in session.on_command(command) {
                                    if let Err(error) = conn.invoke(method, args).await {
                                        reason = Some(error.to_string());
                                        break;
                                    }
                                }
                            }
                            None => commands_open = false,
                        },
                        frame = conn.next_frame() => match frame {
                            Ok(Some(Frame::Messages(messages))) => {
                                for message in messages {
                                    for event in session.on_message(message) {
                                        let mark = S::mark(&event);
                                        if !deliver(&events, event, &cancel).await {
                                            conn.close().await;
                                            return;
                                        }
                                        if let Some(mark) = mark {
                                            session.delivered(mark).await;
                                        }
                                    }
                                }
                            }
                            Ok(Some(Frame::InvocationResult { id, error: Some(error) })) => {
                                tracing::warn!(invocation = %id, error = %error, "hub invocation failed");
                                if !deliver(&events, session.hub_error(error), &cancel).await {
                                    conn.close().await;
                                    return;
                                }
                            }
                            Ok(Some(Frame::Disconnect)) => reason = Some("server asked to reconnect".to_owned()),
                            Ok(Some(
                                Frame::KeepAlive
                                | Frame::Init
                                | Frame::InvocationResult { error: None, .. }
                                | Frame::Other,
                            )) => {}
                            Ok(None) => reason = Some("server closed the connection".to_owned()),
                            Err(error) => reason = Some(error.to_string()),
                        },
                    }
                }
                let reason = reason.unwrap_or_default();
                tracing::warn!(reason = %reason, retry_in_ms = backoff.as_millis(), "hub disconnected");
                conn.close().await;
                if !deliver(&events, session.disconnected(reason), &cancel).await {
                    return;
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_classic_signalr_are_recognised() {
        assert_eq!(parse_frame("{}").unwrap(), Frame::KeepAlive);
        assert_eq!(
            parse_frame(r#"{"C":"d-1,0|A,0|B,1","S":1,"M":[]}"#).unwrap(),
            Frame::Init
        );
        assert_eq!(
            parse_frame(r#"{"I":"0"}"#).unwrap(),
            Frame::InvocationResult {
                id: "0".into(),
                error: None
            }
        );
        assert_eq!(
            parse_frame(r#"{"I":3,"E":"bad channel"}"#).unwrap(),
            Frame::InvocationResult {
                id: "3".into(),
                error: Some("bad channel".into())
            }
        );
        let Frame::Messages(m) = parse_frame(
            r#"{"C":"x","M":[{"H":"FcMarketDataV2Hub","M":"Broadcast","A":["payload"]}]}"#,
        )
        .unwrap() else {
            panic!("not messages")
        };
        assert_eq!(m[0].method, "Broadcast");
        assert_eq!(m[0].args, vec![Value::String("payload".into())]);
        assert!(parse_frame("[1]").is_err());
        assert!(parse_frame("{not json").is_err());
        assert!(parse_frame(r#"{"M":5}"#).is_err());
    }

    #[test]
    fn urls_carry_classic_query_parameters() {
        let target = HubTarget {
            base_url: "https://fc-datahub.ssi.com.vn/".into(),
            hub: "FcMarketDataV2Hub",
            client_protocol: "1.5".into(),
            headers: vec![],
            connect_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
        };
        let url = endpoint_url(&target, "connect", Some("tok/+=")).unwrap();
        assert_eq!(url.path(), "/v2.0/signalr/connect");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["transport"], "webSockets");
        assert_eq!(q["clientProtocol"], "1.5");
        assert_eq!(q["connectionToken"], "tok/+=");
        assert_eq!(q["connectionData"], r#"[{"name":"FcMarketDataV2Hub"}]"#);
        assert!(q.contains_key("tid"));
        let negotiate = endpoint_url(&target, "negotiate", None).unwrap();
        assert!(!negotiate.query().unwrap_or("").contains("transport"));
    }
}
