//! Classic ASP.NET SignalR plumbing shared by both hubs (§4.1): `negotiate`, `start`,
//! `abort`, `ping`, the persistent-connection frames, invocation ids, and the limits on
//! what a client may send (SignalR's `MaxIncomingWebSocketMessageSize`, 64 KB by default,
//! closes the connection with 1009 "message too big").

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::rest::Params;

/// The `negotiate` answer: a fresh random connection token and id.
pub(crate) fn negotiate_body(p: &Params) -> Response {
    let n = crate::auth::random_u64();
    axum::Json(json!({
        "Url": "/v2.0/signalr", "ConnectionToken": format!("{n:016x}/{:08x}+sim=", n >> 32),
        "ConnectionId": format!("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", n >> 32, n & 0xffff, n & 0xfff, (n >> 12) & 0xfff, n >> 16),
        "KeepAliveTimeout": 20.0, "DisconnectTimeout": 30.0, "ConnectionTimeout": 110.0,
        "TryWebSockets": true, "ProtocolVersion": p.get("clientprotocol").unwrap_or("1.5"),
        "TransportConnectTimeout": 5.0, "LongPollDelay": 0.0
    }))
    .into_response()
}

pub(crate) async fn start() -> Response {
    axum::Json(json!({"Response": "started"})).into_response()
}

pub(crate) async fn abort() -> Response {
    StatusCode::OK.into_response()
}

pub(crate) async fn ping() -> Response {
    axum::Json(json!({"Response": "pong"})).into_response()
}

/// The first frame of a connection (`S: 1`: initialised).
pub(crate) fn init_frame() -> String {
    json!({"C": "s-0,1", "S": 1, "M": []}).to_string()
}

/// A persistent-connection frame carrying `Broadcast(a)` for each of `messages`.
pub(crate) fn frame(hub: &str, cursor: u64, messages: Vec<Value>) -> String {
    let m: Vec<Value> = messages
        .into_iter()
        .map(|a| json!({"H": hub, "M": "Broadcast", "A": [a]}))
        .collect();
    json!({"C": format!("d-{cursor:X},{cursor}|B,0|C,1"), "M": m}).to_string()
}

/// The same frame from `Broadcast` arguments already serialised (each goes out as a JSON
/// string), without building a `Value` per message.
pub(crate) fn payload_frame(hub: &str, cursor: u64, payloads: &[std::sync::Arc<str>]) -> String {
    let hub = serde_json::to_string(hub).unwrap_or_else(|_| "\"\"".to_owned());
    let mut out = String::with_capacity(payloads.iter().map(|p| p.len() + 48).sum::<usize>() + 64);
    out.push_str(&format!(
        "{{\"C\":\"d-{cursor:X},{cursor}|B,0|C,1\",\"M\":["
    ));
    for (k, p) in payloads.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let arg = serde_json::to_string(p.as_ref()).unwrap_or_else(|_| "\"\"".to_owned());
        out.push_str(&format!(
            "{{\"H\":{hub},\"M\":\"Broadcast\",\"A\":[{arg}]}}"
        ));
    }
    out.push_str("]}");
    out
}

/// The `I` of a client frame, as text (`"0"` when absent).
pub(crate) fn invocation_id(frame: &Value) -> String {
    match &frame["I"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => "0".to_owned(),
    }
}

/// The hub-error result of invocation `id` (a `HubException` on the client).
pub(crate) fn error_result(id: &str, message: &str) -> String {
    json!({"I": id, "E": message}).to_string()
}

/// Applies the per-connection frame and message size caps to a websocket upgrade.
pub(crate) fn limited(ws: WebSocketUpgrade, max_message_bytes: usize) -> WebSocketUpgrade {
    ws.max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
}

/// Whether a receive error is a client message over the size limit.
pub(crate) fn too_big(e: &axum::Error) -> bool {
    let text = e.to_string();
    text.contains("Message too long")
        || text.contains("Space limit exceeded")
        || text.contains("too long")
}

/// Closes `socket` as SignalR does when a client message exceeds the size limit
/// (best effort: the client may already be gone).
pub(crate) async fn close_too_big(socket: &mut WebSocket, max_message_bytes: usize) {
    let frame = CloseFrame {
        code: close_code::SIZE,
        reason: format!("message too big: the limit is {max_message_bytes} bytes").into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_frame_is_the_value_frame() {
        let payloads: Vec<std::sync::Arc<str>> = vec![
            r#"{"type":"orderEvent","data":{"notifyID":1,"note":"a \"quote\" and \\"}}"#.into(),
            r#"{"type":"orderError","data":{"notifyID":2}}"#.into(),
        ];
        let values = payloads
            .iter()
            .map(|p| Value::String(p.as_ref().to_owned()))
            .collect();
        let raw: Value =
            serde_json::from_str(&payload_frame("BroadcastHubV2", 7, &payloads)).unwrap();
        let built: Value = serde_json::from_str(&frame("BroadcastHubV2", 7, values)).unwrap();
        assert_eq!(raw, built);
    }
}
