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
use serde_json::Value;

use crate::auth::{Audience, TokenInfo};
use crate::rest::Params;
use crate::signalr::{
    abort, error_result, invocation_id, negotiate_body, payload_frame, ping, start,
};
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
    negotiate_body(&Params::parse(q.as_deref()))
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
    let last = core.desk.log().latest();
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
    axum::Extension(closing): axum::Extension<crate::http::Closing>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(info) = token(&core, &headers, q.as_deref()) else {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    };
    let after = match resume_after(&core, &headers, q.as_deref()) {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let max = core.config.hub_max_message_bytes;
    crate::signalr::limited(ws, max)
        .on_upgrade(move |socket| closing.run(run(core, socket, info.consumer, after)))
}

/// Notices handed to one connection per wake-up, at most (a long replay goes out in
/// rounds, so a connection never holds a whole day at once).
const ROUND: usize = 512;

async fn run(core: Arc<Core>, mut socket: WebSocket, consumer: String, mut after: Option<i64>) {
    if socket
        .send(Message::Text(crate::signalr::init_frame().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut changes = core.desk.log().subscribe();
    let mut keep_alive = tokio::time::interval(Duration::from_secs(KEEP_ALIVE_SECS));
    let mut cursor: u64 = 1;
    // Look at the log without waiting: on connect, and while a replay has more rounds.
    let mut ready = true;
    loop {
        if !ready {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = keep_alive.tick() => {
                    if socket.send(Message::Text("{}".into())).await.is_err() { return }
                    continue;
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let frame = serde_json::from_str::<Value>(text.as_str()).unwrap_or(Value::Null);
                        let reply = error_result(&invocation_id(&frame), &format!("{HUB} has no client methods"));
                        if socket.send(Message::Text(reply.into())).await.is_err() { return }
                        continue;
                    }
                    Some(Err(e)) => {
                        if crate::signalr::too_big(&e) {
                            crate::signalr::close_too_big(&mut socket, core.config.hub_max_message_bytes).await;
                        }
                        return;
                    }
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => continue,
                },
            }
        }
        let (today, _) = core.local_now();
        let (out, last) = core.desk.log().after(&consumer, after, today, ROUND);
        ready = out.len() == ROUND;
        after = last;
        for chunk in out.chunks(BATCH) {
            cursor += 1;
            if socket
                .send(Message::Text(payload_frame(HUB, cursor, chunk).into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}
