//! The FC Trading hub: classic ASP.NET SignalR with hub `BroadcastHubV2`. No client
//! method; after connect the server pushes `Broadcast` calls whose argument is the JSON
//! string `{"type":..,"data":..}` for the token's accounts (§6). The `NotifyID` header
//! (or query key) selects the replay: `0` everything since the start of the simulated
//! day, `-1` (default) only new messages, `n` everything after `n` (a cursor beyond the
//! newest notice, left from before a simulator restart, replays the day).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use crate::auth::{Audience, TokenInfo};
use crate::data_hub::{abort, frame, negotiate_body, ping, start};
use crate::rest::Params;
use crate::sim::Core;

/// Hub name.
pub const HUB: &str = "BroadcastHubV2";

const KEEP_ALIVE_SECS: u64 = 10;
const BATCH: usize = 64;

pub(crate) fn router() -> Router<Arc<Core>> {
    Router::new()
        .route("/v2.0/signalr/negotiate", any(negotiate))
        .route("/v2.0/signalr/connect", get(connect))
        .route("/v2.0/signalr/reconnect", get(connect))
        .route("/v2.0/signalr/start", any(start))
        .route("/v2.0/signalr/abort", any(abort))
        .route("/v2.0/signalr/ping", any(ping))
}

fn token(core: &Core, headers: &HeaderMap, query: Option<&str>) -> Option<TokenInfo> {
    let header_value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let from_query = Params::parse(query)
        .get("access_token")
        .map(|t| format!("Bearer {t}"));
    core.tokens()
        .check(header_value.or(from_query.as_deref()), Audience::Trading)
        .ok()
}

async fn negotiate(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if token(&core, &headers, q.as_deref()).is_none() {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    negotiate_body(&core, &Params::parse(q.as_deref()))
}

/// The replay cursor: the last notifyID the client has, or `None` for "everything today".
fn resume_after(
    core: &Core,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Option<i64>, String> {
    let text = headers
        .get("notifyid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| Params::parse(query).get("notifyid").map(str::to_owned));
    let n = match text.as_deref().map(str::trim) {
        None | Some("") => -1,
        Some(t) => t
            .parse::<i64>()
            .map_err(|_| format!("NotifyID '{t}' is not a number"))?,
    };
    let last = core.broker().last_notify();
    Ok(match n {
        0 => None,
        n if n < 0 => Some(last),
        // A cursor beyond the newest notice comes from before a simulator restart (ids
        // start again at 1): replay the day rather than wait for ids to catch up.
        n if n > last => None,
        n => Some(n),
    })
}

async fn connect(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(info) = token(&core, &headers, q.as_deref()) else {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    };
    let after = match resume_after(&core, &headers, q.as_deref()) {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    ws.on_upgrade(move |socket| run(core, socket, info.consumer, after))
}

/// The `I` of a client frame, as text.
fn invocation_id(text: &str) -> String {
    match serde_json::from_str::<Value>(text).map(|f| f["I"].clone()) {
        Ok(Value::Number(n)) => n.to_string(),
        Ok(Value::String(s)) => s,
        Ok(Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_)) | Err(_) => {
            "0".to_owned()
        }
    }
}

/// Notices of `consumer` after `after` (today's all when `None`), and the new cursor.
fn pending(core: &Core, consumer: &str, after: Option<i64>) -> (Vec<Value>, Option<i64>) {
    let (today, _) = core.local_now();
    let broker = core.broker();
    let start = match after {
        Some(n) => broker.log.partition_point(|m| m.id <= n),
        None => 0,
    };
    // Only saved notices go out (`last_notify`); newer ones follow once saved.
    let published = broker.last_notify();
    let sendable = broker
        .log
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|m| m.id <= published);
    let mut last = after;
    let mut out = Vec::new();
    for m in sendable {
        last = Some(m.id);
        if m.consumer == consumer && (after.is_some() || m.date == today) {
            out.push(Value::String(m.payload.clone()));
        }
    }
    (out, last)
}

async fn run(core: Arc<Core>, mut socket: WebSocket, consumer: String, mut after: Option<i64>) {
    let init = json!({"C": "s-0,1", "S": 1, "M": []}).to_string();
    if socket.send(Message::Text(init.into())).await.is_err() {
        return;
    }
    let mut changes = core.broker().subscribe();
    let mut keep_alive = tokio::time::interval(Duration::from_secs(KEEP_ALIVE_SECS));
    let mut cursor: u64 = 1;
    let mut first = true;
    loop {
        if !first {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = keep_alive.tick() => {
                    if socket.send(Message::Text("{}".into())).await.is_err() { return }
                    continue;
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let id = invocation_id(text.as_str());
                        let reply = json!({"I": id, "E": format!("{HUB} has no client methods")}).to_string();
                        if socket.send(Message::Text(reply.into())).await.is_err() { return }
                        continue;
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => continue,
                },
            }
        }
        first = false;
        let (out, last) = pending(&core, &consumer, after);
        after = last;
        for chunk in out.chunks(BATCH) {
            cursor += 1;
            if socket
                .send(Message::Text(frame(HUB, cursor, chunk.to_vec()).into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}
