//! FC Trading streaming: hub `BroadcastHubV2`, no subscription call; `Broadcast(string)`
//! carries `{"type": .., "data": {..}}` for `orderEvent`, `orderMatchEvent`, `orderError` and
//! `clientPortfolioEvent`.
//!
//! Replay: every event has a `notifyID`; the `NotifyID` header of the connection says where
//! to resume (`0` start of day, `-1` new only, `n` after n). The stream remembers the last
//! `notifyID` it delivered, reconnects from it, drops replayed duplicates, and — with
//! `notify_id_file` configured — writes it to disk so a restarted process resumes there too.
//! The file records the Vietnam trading date, since SSI's sequence starts again each day.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::codes::{OrderStatus, OrderType, Side};
use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::http::TokenSource as _;
use crate::signalr::{self, HubMessage, HubSession, HubTarget};
use crate::trading::TradingClient;
use crate::trading::model::DerivPosition;
use crate::wire::VIETNAM_OFFSET;

/// Name of the FC Trading hub.
pub const HUB: &str = "BroadcastHubV2";

/// Where the first connection starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeFrom {
    /// Everything since the start of the day (`NotifyID: 0`).
    StartOfDay,
    /// Only new events (`NotifyID: -1`).
    NewOnly,
    /// Events after this `notifyID`.
    After(i64),
}

impl ResumeFrom {
    /// The `NotifyID` header value.
    pub fn header(self) -> String {
        match self {
            ResumeFrom::StartOfDay => "0".to_owned(),
            ResumeFrom::NewOnly => "-1".to_owned(),
            ResumeFrom::After(n) => n.to_string(),
        }
    }
}

/// `orderEvent`: an order was created, changed, cancelled or changed status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderEvent {
    /// Sequence number for replay.
    #[serde(rename = "notifyID", with = "crate::wire::serde_int")]
    pub notify_id: i64,
    /// SSI's order id.
    #[serde(rename = "orderID", with = "crate::wire::serde_string")]
    pub order_id: String,
    /// requestID of the action that caused this event.
    #[serde(default, rename = "uniqueID", with = "crate::wire::serde_opt_string")]
    pub unique_id: Option<String>,
    /// requestID of the original NewOrder.
    #[serde(
        default,
        rename = "origRequestID",
        with = "crate::wire::serde_opt_string"
    )]
    pub orig_request_id: Option<String>,
    /// Original order id (after a modify).
    #[serde(
        default,
        rename = "origOrderId",
        with = "crate::wire::serde_opt_string"
    )]
    pub orig_order_id: Option<String>,
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Symbol.
    #[serde(rename = "instrumentID", with = "crate::wire::serde_string")]
    pub instrument_id: String,
    /// Side.
    #[serde(rename = "buySell")]
    pub side: Side,
    /// Order type.
    #[serde(default, rename = "orderType", with = "crate::wire::serde_opt_code")]
    pub order_type: Option<OrderType>,
    /// Price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub price: Option<Decimal>,
    /// Quantity.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub quantity: Option<i64>,
    /// `VN` / `VNFE`.
    #[serde(default, rename = "marketID", with = "crate::wire::serde_opt_string")]
    pub market_id: Option<String>,
    /// Cancelled quantity.
    #[serde(default, rename = "cancelQty", with = "crate::wire::serde_opt_int")]
    pub cancel_qty: Option<i64>,
    /// Outstanding quantity.
    #[serde(
        default,
        rename = "osQty",
        alias = "osqty",
        with = "crate::wire::serde_opt_int"
    )]
    pub os_qty: Option<i64>,
    /// Filled quantity.
    #[serde(default, rename = "filledQty", with = "crate::wire::serde_opt_int")]
    pub filled_qty: Option<i64>,
    /// Average fill price.
    #[serde(default, rename = "avgPrice", with = "crate::wire::serde_opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Channel.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub channel: Option<String>,
    /// Entry time.
    #[serde(
        default,
        rename = "inputTime",
        with = "crate::wire::serde_opt_epoch_ms"
    )]
    pub input_time: Option<OffsetDateTime>,
    /// Modification time.
    #[serde(
        default,
        rename = "modifiedTime",
        with = "crate::wire::serde_opt_epoch_ms"
    )]
    pub modified_time: Option<OffsetDateTime>,
    /// Forced sell.
    #[serde(
        default,
        rename = "isForceSell",
        alias = "isForcesell",
        with = "crate::wire::serde_opt_bool"
    )]
    pub is_force_sell: Option<bool>,
    /// Short sell.
    #[serde(
        default,
        rename = "isShortSell",
        alias = "isShortsell",
        with = "crate::wire::serde_opt_bool"
    )]
    pub is_short_sell: Option<bool>,
    /// Status.
    #[serde(default, rename = "orderStatus", with = "crate::wire::serde_opt_code")]
    pub order_status: Option<OrderStatus>,
    /// Rejection reason.
    #[serde(
        default,
        rename = "rejectReason",
        with = "crate::wire::serde_opt_string"
    )]
    pub reject_reason: Option<String>,
    /// Conditional order.
    #[serde(default, rename = "stopOrder", with = "crate::wire::serde_opt_bool")]
    pub stop_order: Option<bool>,
    /// Stop price.
    #[serde(default, rename = "stopPrice", with = "crate::wire::serde_opt_decimal")]
    pub stop_price: Option<Decimal>,
    /// Stop type as sent.
    #[serde(default, rename = "stopType", with = "crate::wire::serde_opt_string")]
    pub stop_type: Option<String>,
    /// Stop step.
    #[serde(default, rename = "stopStep", with = "crate::wire::serde_opt_decimal")]
    pub stop_step: Option<Decimal>,
    /// Profit price.
    #[serde(
        default,
        rename = "profitPrice",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub profit_price: Option<Decimal>,
}

/// `orderMatchEvent`: a fill.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderMatchEvent {
    /// Sequence number for replay.
    #[serde(rename = "notifyID", with = "crate::wire::serde_int")]
    pub notify_id: i64,
    /// SSI's order id.
    #[serde(rename = "orderID", with = "crate::wire::serde_string")]
    pub order_id: String,
    /// requestID of the order.
    #[serde(default, rename = "uniqueID", with = "crate::wire::serde_opt_string")]
    pub unique_id: Option<String>,
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Symbol.
    #[serde(rename = "instrumentID", with = "crate::wire::serde_string")]
    pub instrument_id: String,
    /// Side.
    #[serde(rename = "buySell")]
    pub side: Side,
    /// Fill price.
    #[serde(rename = "matchPrice", with = "crate::wire::serde_decimal")]
    pub match_price: Decimal,
    /// Fill quantity.
    #[serde(rename = "matchQty", with = "crate::wire::serde_int")]
    pub match_qty: i64,
    /// Fill time.
    #[serde(
        default,
        rename = "matchTime",
        with = "crate::wire::serde_opt_epoch_ms"
    )]
    pub match_time: Option<OffsetDateTime>,
}

/// `orderError`: an order action failed (e.g. `ERR500` price outside the band).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderErrorEvent {
    /// Sequence number for replay.
    #[serde(rename = "notifyID", with = "crate::wire::serde_int")]
    pub notify_id: i64,
    /// SSI's code (`ERR500`, `ORD015`, ...).
    #[serde(default, rename = "errorCode", with = "crate::wire::serde_opt_string")]
    pub error_code: Option<String>,
    /// Human text.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub message: Option<String>,
    /// requestID of the failed action.
    #[serde(default, rename = "uniqueID", with = "crate::wire::serde_opt_string")]
    pub unique_id: Option<String>,
    /// requestID of the original order.
    #[serde(
        default,
        rename = "origRequestID",
        with = "crate::wire::serde_opt_string"
    )]
    pub orig_request_id: Option<String>,
    /// Order id, when the order exists.
    #[serde(default, rename = "orderID", with = "crate::wire::serde_opt_string")]
    pub order_id: Option<String>,
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Symbol.
    #[serde(
        default,
        rename = "instrumentID",
        with = "crate::wire::serde_opt_string"
    )]
    pub instrument_id: Option<String>,
    /// Price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub price: Option<Decimal>,
    /// Quantity.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub quantity: Option<i64>,
}

/// `clientPortfolioEvent`: derivatives positions changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PortfolioEvent {
    /// Sequence number for replay.
    #[serde(rename = "notifyID", with = "crate::wire::serde_int")]
    pub notify_id: i64,
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Open positions.
    #[serde(
        default,
        rename = "clientPortfoliosOpen",
        deserialize_with = "crate::wire::null_as_empty"
    )]
    pub open: Vec<DerivPosition>,
    /// Closed positions.
    #[serde(
        default,
        rename = "clientPortfoliosClose",
        deserialize_with = "crate::wire::null_as_empty"
    )]
    pub close: Vec<DerivPosition>,
}

/// What the trading stream yields.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "moved once into the channel; order events are few"
)]
pub enum TradingEvent {
    /// A connection is up (replay from the last delivered `notifyID` follows).
    Connected,
    /// The connection was lost; reconnecting.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// `orderEvent`.
    Order(OrderEvent),
    /// `orderMatchEvent`.
    Match(OrderMatchEvent),
    /// `orderError`.
    OrderError(OrderErrorEvent),
    /// `clientPortfolioEvent`.
    Portfolio(PortfolioEvent),
    /// The hub's `Error(string)`.
    HubError(String),
    /// A payload that could not be decoded; the stream goes on.
    Malformed {
        /// What was wrong.
        error: Error,
        /// The raw argument (truncated to 2 KiB).
        payload: String,
    },
}

impl TradingEvent {
    /// The event's `notifyID`, for those that have one.
    pub fn notify_id(&self) -> Option<i64> {
        match self {
            TradingEvent::Order(e) => Some(e.notify_id),
            TradingEvent::Match(e) => Some(e.notify_id),
            TradingEvent::OrderError(e) => Some(e.notify_id),
            TradingEvent::Portfolio(e) => Some(e.notify_id),
            TradingEvent::Connected
            | TradingEvent::Disconnected { .. }
            | TradingEvent::HubError(_)
            | TradingEvent::Malformed { .. } => None,
        }
    }
}

fn parse_data<T: serde::de::DeserializeOwned>(kind: &str, data: Value) -> Result<T> {
    let data = match data.as_str() {
        Some(text) => serde_json::from_str(text).map_err(|source| Error::Decode {
            endpoint: kind.to_owned(),
            source,
        })?,
        None => data,
    };
    let mut data = data;
    crate::wire::drop_duplicate_spellings(&mut data);
    serde_json::from_value(data).map_err(|source| Error::Decode {
        endpoint: kind.to_owned(),
        source,
    })
}

/// Decodes the argument of a trading `Broadcast`: `{"type": .., "data": ..}`, as a JSON
/// string (or already an object).
pub fn decode_broadcast(arg: &Value) -> Result<TradingEvent> {
    let outer: Value = match arg.as_str() {
        Some(text) => serde_json::from_str(text).map_err(|source| Error::Decode {
            endpoint: "trading Broadcast".to_owned(),
            source,
        })?,
        None => arg.clone(),
    };
    let Value::Object(mut map) = outer else {
        return Err(Error::Protocol(
            "trading Broadcast payload is not an object".to_owned(),
        ));
    };
    let kind = map
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Protocol("trading Broadcast payload has no type".to_owned()))?;
    let data = map.remove("data").unwrap_or(Value::Null);
    match kind.to_ascii_lowercase().as_str() {
        "orderevent" => Ok(TradingEvent::Order(parse_data(&kind, data)?)),
        "ordermatchevent" => Ok(TradingEvent::Match(parse_data(&kind, data)?)),
        "ordererror" => Ok(TradingEvent::OrderError(parse_data(&kind, data)?)),
        "clientportfolioevent" => Ok(TradingEvent::Portfolio(parse_data(&kind, data)?)),
        _ => Err(Error::UnknownValue {
            kind: "trading event type",
            value: kind,
        }),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CursorFile {
    /// Vietnam trading date, `yyyy-mm-dd`.
    date: String,
    notify_id: i64,
}

fn today() -> Date {
    OffsetDateTime::now_utc().to_offset(VIETNAM_OFFSET).date()
}

/// Reads the last delivered `notifyID` stored in `path`, if it is from today.
pub async fn read_cursor(path: &std::path::Path) -> Option<i64> {
    let bytes = tokio::fs::read(path).await.ok()?;
    let cursor: CursorFile = serde_json::from_slice(&bytes).ok()?;
    (cursor.date == today().to_string()).then_some(cursor.notify_id)
}

async fn write_cursor(path: &std::path::Path, notify_id: i64) -> std::io::Result<()> {
    let cursor = CursorFile {
        date: today().to_string(),
        notify_id,
    };
    let bytes = serde_json::to_vec(&cursor).map_err(std::io::Error::other)?;
    // Write then rename, so a crash never leaves a torn file.
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

struct TradingSession {
    client: TradingClient,
    initial: ResumeFrom,
    /// Highest `notifyID` handed to the consumer (shared with the handle), and its date.
    last: Arc<AtomicI64>,
    last_date: Option<Date>,
    file: Option<PathBuf>,
    last_token: Option<crate::token::Token>,
}

const NONE: i64 = i64::MIN;

impl TradingSession {
    fn cursor(&mut self) -> Option<i64> {
        if self.last_date.is_some_and(|d| d != today()) {
            // A new trading day restarts SSI's sequence.
            self.last.store(NONE, Ordering::SeqCst);
            self.last_date = None;
        }
        let n = self.last.load(Ordering::SeqCst);
        (n != NONE).then_some(n)
    }
}

impl HubSession for TradingSession {
    type Event = TradingEvent;
    type Command = ();

    async fn target(&mut self) -> Result<HubTarget> {
        {
            let token = self.client.inner().token().await?;
            let bearer = format!("Bearer {}", token.value.expose_secret());
            self.last_token = Some(token);
            let notify = match self.cursor() {
                Some(n) => ResumeFrom::After(n),
                None => self.initial,
            };
            let config = &self.client.config().stream;
            Ok(HubTarget {
                base_url: self.client.config().hub_url.clone(),
                hub: HUB,
                client_protocol: config.client_protocol.clone(),
                headers: vec![("Authorization", bearer), ("NotifyID", notify.header())],
                connect_timeout: Duration::from_millis(config.connect_timeout_ms),
                idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            })
        }
    }

    async fn auth_failed(&mut self) {
        {
            if let Some(stale) = self.last_token.take() {
                self.client.inner().invalidate(&stale).await;
            }
        }
    }

    fn on_connected(&mut self) -> Vec<(&'static str, Vec<Value>)> {
        Vec::new()
    }

    fn on_command(&mut self, _command: ()) -> Vec<(&'static str, Vec<Value>)> {
        Vec::new()
    }

    fn on_message(&mut self, message: HubMessage) -> Vec<TradingEvent> {
        if !message.hub.is_empty() && !message.hub.eq_ignore_ascii_case(HUB) {
            return Vec::new();
        }
        if message.method.eq_ignore_ascii_case("Error") {
            let text: Vec<String> = message
                .args
                .iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
                .collect();
            return vec![TradingEvent::HubError(text.join("; "))];
        }
        if !message.method.eq_ignore_ascii_case("Broadcast") {
            return Vec::new();
        }
        let mut out = Vec::new();
        for arg in &message.args {
            let event = match decode_broadcast(arg) {
                Ok(event) => event,
                Err(error) => {
                    let payload = arg.as_str().map_or_else(|| arg.to_string(), str::to_owned);
                    TradingEvent::Malformed {
                        error,
                        payload: payload.chars().take(2048).collect(),
                    }
                }
            };
            if let (Some(n), Some(last)) = (event.notify_id(), self.cursor())
                && n <= last
            {
                tracing::debug!(notify_id = n, last, "dropping replayed trading event");
                continue;
            }
            out.push(event);
        }
        out
    }

    fn mark(event: &TradingEvent) -> Option<i64> {
        event.notify_id()
    }

    async fn delivered(&mut self, mark: i64) {
        {
            let current = self.cursor();
            if current.is_some_and(|c| c >= mark) {
                return;
            }
            self.last.store(mark, Ordering::SeqCst);
            self.last_date = Some(today());
            if let Some(path) = &self.file
                && let Err(error) = write_cursor(path, mark).await
            {
                tracing::warn!(error = %common_error::chain(&error), path = %path.display(), "cannot record NotifyID");
            }
        }
    }

    fn connected(&self) -> TradingEvent {
        TradingEvent::Connected
    }

    fn disconnected(&self, reason: String) -> TradingEvent {
        TradingEvent::Disconnected { reason }
    }

    fn hub_error(&self, message: String) -> TradingEvent {
        TradingEvent::HubError(message)
    }
}

/// Handle of a running trading stream. Dropping it stops the stream.
#[derive(Debug)]
pub struct TradingSubscription {
    last: Arc<AtomicI64>,
    cancel: CancellationToken,
    // Kept so the session's command channel stays open.
    _commands: mpsc::Sender<()>,
}

impl TradingSubscription {
    /// The highest `notifyID` delivered so far (to persist elsewhere and pass back as
    /// [`ResumeFrom::After`]).
    pub fn last_notify_id(&self) -> Option<i64> {
        let n = self.last.load(Ordering::SeqCst);
        (n != NONE).then_some(n)
    }

    /// Stops the stream; the event receiver ends.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

impl Drop for TradingSubscription {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The receiving end of the trading stream (bounded). Also a `futures::Stream`.
#[derive(Debug)]
pub struct TradingEvents {
    rx: mpsc::Receiver<TradingEvent>,
}

impl TradingEvents {
    /// The next event; `None` once the stream has stopped.
    pub async fn recv(&mut self) -> Option<TradingEvent> {
        self.rx.recv().await
    }
}

impl futures::Stream for TradingEvents {
    type Item = TradingEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<TradingEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// Starts the stream. The first connection resumes from: `resume` if given, else the
/// cursor file when it holds today's `notifyID`, else the start of the day (so nothing
/// is missed; duplicates of already-handled events are possible only without a cursor).
pub(crate) fn open(
    client: TradingClient,
    resume: Option<ResumeFrom>,
) -> Result<(TradingSubscription, TradingEvents)> {
    let config = client.config().stream.clone();
    let file = client.config().notify_id_file.clone();
    let (tx, rx) = mpsc::channel(config.channel_capacity.max(1));
    let (command_tx, command_rx) = mpsc::channel(1);
    let cancel = CancellationToken::new();
    let last = Arc::new(AtomicI64::new(NONE));
    let http = client.inner().http.clone();
    let task_cancel = cancel.clone();
    let task_last = last.clone();
    tokio::spawn(async move {
        let initial = match (resume, &file) {
            (Some(r), _) => r,
            (None, Some(path)) => match read_cursor(path).await {
                Some(n) => ResumeFrom::After(n),
                None => ResumeFrom::StartOfDay,
            },
            (None, None) => ResumeFrom::StartOfDay,
        };
        // Resuming after n also means: never hand out n or anything before it again.
        let last_date = match initial {
            ResumeFrom::After(n) => {
                task_last.store(n, Ordering::SeqCst);
                Some(today())
            }
            ResumeFrom::StartOfDay | ResumeFrom::NewOnly => None,
        };
        let session = TradingSession {
            client,
            initial,
            last: task_last,
            last_date,
            file,
            last_token: None,
        };
        signalr::run(session, http, config, tx, command_rx, task_cancel).await;
    });
    Ok((
        TradingSubscription {
            last,
            cancel,
            _commands: command_tx,
        },
        TradingEvents { rx },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_event_from_the_spec_sample_decodes() {
        let data = json!({
            "orderID": "12626539", "notifyID": 17, "instrumentID": "SSI", "uniqueID": "12345678",
            "buySell": "B", "orderType": "LO", "ipAddress": "1.2.3.4", "price": 23500.0,
            "prefix": "x", "quantity": 100, "marketID": "VN", "origOrderId": "",
            "account": "0001231", "cancelQty": 0, "osQty": 100, "filledQty": 0, "avgPrice": 0,
            "channel": "TA", "inputTime": "1683189939000", "modifiedTime": "1683189939000",
            "isForceSell": "F", "isShortSell": "F", "orderStatus": "QU", "rejectReason": "0",
            "origRequestID": "12345678", "stopOrder": false, "stopPrice": 0, "stopType": "",
            "stopStep": 0, "profitPrice": 0
        });
        let payload = json!({"type": "orderEvent", "data": data}).to_string();
        let TradingEvent::Order(e) = decode_broadcast(&Value::String(payload)).unwrap() else {
            panic!("not an order event")
        };
        assert_eq!(e.notify_id, 17);
        assert_eq!(e.order_status, Some(OrderStatus::Queued));
        assert_eq!(e.price.unwrap().to_i64_exact(), Some(23_500));
        assert_eq!(e.is_force_sell, Some(false));
        assert_eq!(e.orig_order_id, None);
        assert_eq!(e.input_time.unwrap().unix_timestamp(), 1_683_189_939);
    }

    #[test]
    fn an_event_carrying_both_spellings_of_a_key_still_decodes() {
        let data = json!({
            "orderID": "1", "notifyID": 3, "instrumentID": "SSI", "uniqueID": "7",
            "buySell": "S", "orderType": "LO", "price": 23500.0, "quantity": 100,
            "marketID": "VN", "account": "0001231", "channel": "TA",
            "isForceSell": "T", "isForcesell": "T", "isShortSell": "F", "isShortsell": "F",
            "orderStatus": "QU"
        });
        let payload = json!({"type": "orderEvent", "data": data}).to_string();
        let TradingEvent::Order(e) = decode_broadcast(&Value::String(payload)).unwrap() else {
            panic!("not an order event")
        };
        assert_eq!(e.is_force_sell, Some(true));
        assert_eq!(e.is_short_sell, Some(false));
    }

    #[test]
    fn error_match_and_portfolio_events_decode() {
        let err = json!({"type": "orderError", "data": {"message": "Price 30000 exceeds ceiling price 25000!",
            "notifyID": 18, "errorCode": "ERR500", "uniqueID": "12345679", "data": null}});
        let TradingEvent::OrderError(e) = decode_broadcast(&err).unwrap() else {
            panic!()
        };
        assert_eq!(e.error_code.as_deref(), Some("ERR500"));
        let fill = json!({"type": "orderMatchEvent", "data": {"orderID": "1", "notifyID": 19,
            "instrumentID": "SSI", "uniqueID": "1", "buySell": "S", "matchPrice": 23450.0,
            "matchQty": 100, "account": "0001231", "matchTime": "1683189940000"}});
        let TradingEvent::Match(m) = decode_broadcast(&fill).unwrap() else {
            panic!()
        };
        assert_eq!(m.side, Side::Sell);
        assert_eq!(m.match_qty, 100);
        let pf = json!({"type": "clientPortfolioEvent", "data": {"account": "0001238", "notifyID": 20,
            "data": null, "clientPortfoliosOpen": [{"martketID": "VNFE", "instrumentID": "VN30F2406",
            "longQty": 1, "shortQty": 0, "net": 1, "bidAvgPrice": 1259.4, "askAvgPrice": 0,
            "tradePrice": 1259.4, "marketPrice": 1260.1, "floatingPL": 70000, "tradingPL": 0}],
            "clientPortfoliosClose": null}});
        let TradingEvent::Portfolio(p) = decode_broadcast(&pf).unwrap() else {
            panic!()
        };
        assert_eq!(p.open[0].market_id.as_deref(), Some("VNFE"));
        assert_eq!(p.open[0].trade_price.unwrap().to_string(), "1259.4");
        assert!(p.close.is_empty());
    }

    #[test]
    fn unknown_types_and_bad_fields_are_typed_errors() {
        assert!(matches!(
            decode_broadcast(&json!({"type": "somethingNew", "data": {}})),
            Err(Error::UnknownValue { .. })
        ));
        let bad_side = json!({"type": "orderMatchEvent", "data": {"orderID": "1", "notifyID": 1,
            "instrumentID": "SSI", "buySell": "X", "matchPrice": 1, "matchQty": 1}});
        assert!(matches!(
            decode_broadcast(&bad_side),
            Err(Error::Decode { .. })
        ));
        assert!(decode_broadcast(&json!("not json")).is_err());
    }

    #[test]
    fn resume_headers_match_ssi_semantics() {
        assert_eq!(ResumeFrom::StartOfDay.header(), "0");
        assert_eq!(ResumeFrom::NewOnly.header(), "-1");
        assert_eq!(ResumeFrom::After(42).header(), "42");
    }

    #[tokio::test]
    async fn cursor_file_round_trips_and_ignores_other_days() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.json");
        assert_eq!(read_cursor(&path).await, None);
        write_cursor(&path, 77).await.unwrap();
        assert_eq!(read_cursor(&path).await, Some(77));
        tokio::fs::write(&path, r#"{"date":"2001-01-01","notify_id":5}"#)
            .await
            .unwrap();
        assert_eq!(read_cursor(&path).await, None);
    }
}
