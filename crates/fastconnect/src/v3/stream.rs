//! The v3 stream: one plain WebSocket per [`StreamClient::connect`], JSON frames
//! `{method, channel, topics}`, bearer token in the upgrade request.
//!
//! - Subscriptions are kept per connection and re-sent after every reconnect.
//! - Frames stay under SSI's 4 096-byte `MaxMessageSize`: long topic lists are split
//!   ([`split_frames`]).
//! - At most 10 sockets per API key (SSI answers 429 beyond): [`StreamClient::connect`]
//!   refuses the 11th.
//! - `ping_pong` heartbeats every `heartbeat_interval_ms`; a socket silent for
//!   `idle_timeout_ms` is replaced.
//! - SSI checks the JWT only at connect: the socket is re-opened with a fresh token
//!   `token_cycle_lead_secs` before expiry.
//! - v3 has no replay: every reconnect (including a token cycle) emits
//!   [`StreamEvent::Gap`]; reconcile orders with
//!   [`crate::v3::TradingClient::order_book_all`].

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use futures::{SinkExt as _, StreamExt as _};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::token::now_secs;
use crate::v3::client::Core;
use crate::v3::error::{ApiError, ApiErrorClass};
use crate::v3::topic::{Channel, Topic, TopicKind};
use crate::v3::wire::{de_decimal, de_int, de_string, de_text};

/// Most sockets SSI allows per API key.
pub const MAX_SOCKETS: usize = 10;

/// Splits `topics` into `{method, channel, topics}` frames of at most `max_bytes` each.
pub fn split_frames(
    method: &str,
    channel: Channel,
    topics: &[String],
    max_bytes: usize,
) -> Result<Vec<String>> {
    let frame = |items: &[&String]| {
        json!({"method": method, "channel": channel.as_str(), "topics": items}).to_string()
    };
    let mut frames = Vec::new();
    let mut current: Vec<&String> = Vec::new();
    for topic in topics {
        current.push(topic);
        if frame(&current).len() > max_bytes {
            current.pop();
            if current.is_empty() {
                return Err(Error::InvalidRequest(format!(
                    "topic {topic:?} alone exceeds the {max_bytes}-byte frame limit"
                )));
            }
            frames.push(frame(&current));
            current = vec![topic];
            if frame(&current).len() > max_bytes {
                return Err(Error::InvalidRequest(format!(
                    "topic {topic:?} alone exceeds the {max_bytes}-byte frame limit"
                )));
            }
        }
    }
    if !current.is_empty() {
        frames.push(frame(&current));
    }
    Ok(frames)
}

/// A trade (`trade.<code>` or `@tick`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct TradeTick {
    /// Time as sent.
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, rename = "s", deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, rename = "p", with = "de_decimal")]
    pub price: Option<Decimal>,
    /// Last quantity.
    #[serde(default, rename = "q", with = "de_int")]
    pub quantity: Option<i64>,
    /// `B`/`S`; `None` when unknown.
    #[serde(default, rename = "si", with = "de_string")]
    pub side: Option<String>,
    /// Cumulative volume.
    #[serde(default, rename = "v", with = "de_int")]
    pub volume: Option<i64>,
    #[serde(default, rename = "o", with = "de_decimal")]
    pub open: Option<Decimal>,
    #[serde(default, rename = "h", with = "de_decimal")]
    pub high: Option<Decimal>,
    #[serde(default, rename = "l", with = "de_decimal")]
    pub low: Option<Decimal>,
    #[serde(default, rename = "a", with = "de_decimal")]
    pub average: Option<Decimal>,
}

/// A bar (`trade.<sym>@1m|@5m`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct StreamBar {
    /// Bar start as sent.
    #[serde(default, rename = "st", deserialize_with = "de_text")]
    pub start: String,
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, rename = "s", deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, rename = "o", with = "de_decimal")]
    pub open: Option<Decimal>,
    #[serde(default, rename = "h", with = "de_decimal")]
    pub high: Option<Decimal>,
    #[serde(default, rename = "l", with = "de_decimal")]
    pub low: Option<Decimal>,
    #[serde(default, rename = "c", with = "de_decimal")]
    pub close: Option<Decimal>,
    #[serde(default, rename = "v", with = "de_int")]
    pub volume: Option<i64>,
}

/// One price level `[price, volume]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Price.
    pub price: Decimal,
    /// Volume.
    pub volume: i64,
}

fn de_levels<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Level>, D::Error> {
    let raw = <Option<Vec<Vec<Value>>> as Deserialize>::deserialize(d)?.unwrap_or_default();
    raw.into_iter()
        .map(|pair| {
            let [p, v] = pair.as_slice() else {
                return Err(serde::de::Error::custom("a level is [price, volume]"));
            };
            let price = crate::v3::wire::opt_decimal(p)
                .map_err(serde::de::Error::custom)?
                .unwrap_or(Decimal::ZERO);
            let volume = crate::v3::wire::opt_int(v)
                .map_err(serde::de::Error::custom)?
                .unwrap_or(0);
            Ok(Level { price, volume })
        })
        .collect()
}

/// Best bids and asks (`quote`, `oddlot`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct QuoteUpdate {
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, rename = "s", deserialize_with = "de_text")]
    pub symbol: String,
    /// Odd-lot last price.
    #[serde(default, rename = "p", with = "de_decimal")]
    pub price: Option<Decimal>,
    /// Odd-lot last quantity.
    #[serde(default, rename = "q", with = "de_int")]
    pub quantity: Option<i64>,
    /// Best first.
    #[serde(default, deserialize_with = "de_levels")]
    pub bids: Vec<Level>,
    /// Best first.
    #[serde(default, deserialize_with = "de_levels")]
    pub asks: Vec<Level>,
}

/// Foreign room (`room`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct RoomUpdate {
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, rename = "s", deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, rename = "tr", with = "de_int")]
    pub total_room: Option<i64>,
    #[serde(default, rename = "cr", with = "de_int")]
    pub current_room: Option<i64>,
    #[serde(default, rename = "bq", with = "de_int")]
    pub buy_quantity: Option<i64>,
    #[serde(default, rename = "bv", with = "de_decimal")]
    pub buy_value: Option<Decimal>,
    #[serde(default, rename = "sq", with = "de_int")]
    pub sell_quantity: Option<i64>,
    #[serde(default, rename = "sv", with = "de_decimal")]
    pub sell_value: Option<Decimal>,
}

/// A put-through deal (`put`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct PutThrough {
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, rename = "s", deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, rename = "p", with = "de_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, rename = "q", with = "de_int")]
    pub quantity: Option<i64>,
    #[serde(default, rename = "tq", with = "de_int")]
    pub total_quantity: Option<i64>,
    #[serde(default, rename = "tv", with = "de_decimal")]
    pub total_value: Option<Decimal>,
}

/// Price band (`market.<sym|board>`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct PriceBand {
    #[serde(default, rename = "s", deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, rename = "b", with = "de_string")]
    pub board: Option<String>,
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, rename = "ce", with = "de_decimal")]
    pub ceiling: Option<Decimal>,
    #[serde(default, rename = "fl", with = "de_decimal")]
    pub floor: Option<Decimal>,
    #[serde(default, rename = "ref", with = "de_decimal")]
    pub reference: Option<Decimal>,
}

/// Session flag of a board (`market.flag`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[allow(missing_docs)]
pub struct SessionFlag {
    /// `HOSE`, `HNX`, `UPCOM`, `DER`.
    #[serde(default, rename = "b", deserialize_with = "de_text")]
    pub board: String,
    #[serde(default, rename = "t", deserialize_with = "de_text")]
    pub time: String,
    /// `ATO`, `LO`, `ATC`, ...
    #[serde(default, rename = "f", deserialize_with = "de_text")]
    pub flag: String,
}

/// `orderEvent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct OrderEvent {
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    #[serde(default, deserialize_with = "de_text")]
    pub client_request_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub order_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, deserialize_with = "de_text")]
    pub side: String,
    #[serde(default, with = "de_string")]
    pub order_type: Option<String>,
    /// Price as sent (a number, or a word for market-priced orders).
    #[serde(default, deserialize_with = "de_text")]
    pub price: String,
    #[serde(default, with = "de_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub os_qty: Option<i64>,
    #[serde(default, with = "de_int")]
    pub filled_qty: Option<i64>,
    #[serde(default, with = "de_int")]
    pub cancel_qty: Option<i64>,
    #[serde(default, deserialize_with = "de_text")]
    pub order_status: String,
    #[serde(default, with = "de_string")]
    pub input_time: Option<String>,
    #[serde(default, with = "de_string")]
    pub modified_time: Option<String>,
    #[serde(default, with = "de_string")]
    pub reject_reason: Option<String>,
    #[serde(default, with = "de_string")]
    pub error_code: Option<String>,
    #[serde(default, with = "de_string")]
    pub error_message: Option<String>,
    #[serde(default, with = "de_string")]
    pub notify_id: Option<String>,
}

/// `orderMatchEvent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct OrderMatchEvent {
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    #[serde(default, deserialize_with = "de_text")]
    pub client_request_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub order_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, deserialize_with = "de_text")]
    pub side: String,
    #[serde(default, with = "de_decimal")]
    pub match_price: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub match_qty: Option<i64>,
    #[serde(default, with = "de_string")]
    pub match_time: Option<String>,
    #[serde(default, with = "de_string")]
    pub notify_id: Option<String>,
}

/// `clientPortfolioEvent` (derivatives).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PortfolioEvent {
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_int")]
    pub long_qty: Option<i64>,
    #[serde(default, with = "de_int")]
    pub short_qty: Option<i64>,
    #[serde(default, with = "de_int")]
    pub net: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub bid_avg_price: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub ask_avg_price: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub trade_price: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub market_price: Option<Decimal>,
    #[serde(default, with = "de_decimal", rename = "floatingPL")]
    pub floating_pl: Option<Decimal>,
    #[serde(default, with = "de_decimal", rename = "tradingPL")]
    pub trading_pl: Option<Decimal>,
    #[serde(default, with = "de_string")]
    pub position_type: Option<String>,
}

/// A decoded payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `trade`, `trade@tick`.
    Trade(TradeTick),
    /// `trade@1m|5m`.
    Bar(StreamBar),
    /// `quote`.
    Quote(QuoteUpdate),
    /// `oddlot`.
    OddLot(QuoteUpdate),
    /// `room`.
    Room(RoomUpdate),
    /// `put`.
    Put(PutThrough),
    /// `market.<code>`.
    Band(PriceBand),
    /// `market.flag`.
    Flag(SessionFlag),
    /// `trade.index` (abbreviations `s b ss t v c cr adv dec nc ce fl tmv tmq tvp tqp tq tv`;
    /// meanings unverified, so kept raw).
    Index(Map<String, Value>),
    /// `indexsummary` (fields undocumented, kept raw).
    IndexSummary(Map<String, Value>),
    /// `orderEvent`.
    Order(OrderEvent),
    /// `orderMatchEvent`.
    OrderMatch(OrderMatchEvent),
    /// `fcoEvent` (shape parsed by the SDK but "not implemented" server-side; kept raw).
    Fco(Map<String, Value>),
    /// `clientPortfolioEvent`.
    Portfolio(PortfolioEvent),
    /// A payload of a type not known here.
    Other(Value),
}

/// What the stream tells its consumer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The socket is open and subscriptions (re)sent. `reconnect` is false the first time.
    Connected {
        /// True after a drop or a token cycle.
        reconnect: bool,
    },
    /// Events may have been missed between `from` and `to` (v3 has no replay). Reconcile
    /// orders through `orderBook` and refresh snapshots.
    Gap {
        /// When the previous socket stopped delivering.
        from: SystemTime,
        /// When the new socket was ready.
        to: SystemTime,
        /// Why the socket was replaced.
        reason: String,
    },
    /// A data or account message.
    Message {
        /// The topic as the server sent it.
        topic: String,
        /// The channel.
        channel: Option<Channel>,
        /// The decoded payload.
        payload: Box<Payload>,
    },
    /// A message whose payload did not decode (the stream goes on).
    Undecodable {
        /// The topic.
        topic: String,
        /// Why.
        error: String,
    },
    /// A reply to subscribe/unsubscribe. Errors say `Denied (account)`, `Denied (scope)` or
    /// `Invalid`.
    Ack {
        /// `subscribe`, `unsubscribe`, ...
        method: String,
        /// Channel.
        channel: Option<String>,
        /// `status == "ok"`.
        ok: bool,
        /// The server's message.
        message: String,
    },
    /// Reply to [`StreamHandle::list_subscriptions`].
    Subscriptions {
        /// Trading topics.
        trading: Vec<String>,
        /// Data topics.
        data: Vec<String>,
    },
    /// The socket dropped; a reconnect follows.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// The stream stopped for good (e.g. a new OTP login is needed).
    Failed {
        /// Why.
        error: String,
    },
}

enum Command {
    Subscribe(Vec<Topic>, oneshot::Sender<Result<()>>),
    Unsubscribe(Vec<Topic>, oneshot::Sender<Result<()>>),
    List,
}

/// Controls one stream socket. Dropping it shuts the socket down.
#[derive(Debug)]
pub struct StreamHandle {
    commands: mpsc::UnboundedSender<Command>,
    cancel: tokio_util::sync::CancellationToken,
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl StreamHandle {
    async fn command(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<()>>) -> Command,
    ) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Adds topics (remembered for reconnects; sent now if connected).
    pub async fn subscribe(&self, topics: Vec<Topic>) -> Result<()> {
        self.command(|tx| Command::Subscribe(topics, tx)).await
    }

    /// Removes topics.
    pub async fn unsubscribe(&self, topics: Vec<Topic>) -> Result<()> {
        self.command(|tx| Command::Unsubscribe(topics, tx)).await
    }

    /// Asks the server for its view of the subscriptions ([`StreamEvent::Subscriptions`]).
    pub fn list_subscriptions(&self) -> Result<()> {
        self.commands.send(Command::List).map_err(|_| Error::Closed)
    }

    /// Closes the socket and ends the event stream.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// Opens stream sockets. Get one from [`crate::v3::Client::stream`].
#[derive(Debug, Clone)]
pub struct StreamClient {
    pub(crate) core: Arc<Core>,
}

/// Topics per channel, in subscription order.
#[derive(Debug, Default)]
struct Book {
    topics: Vec<Topic>,
    seen: HashSet<Topic>,
}

impl Book {
    fn add(&mut self, topics: &[Topic]) {
        for t in topics {
            if self.seen.insert(t.clone()) {
                self.topics.push(t.clone());
            }
        }
    }

    fn remove(&mut self, topics: &[Topic]) {
        for t in topics {
            if self.seen.remove(t) {
                self.topics.retain(|x| x != t);
            }
        }
    }
}

fn frames_for(method: &str, topics: &[Topic], max: usize) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for channel in [Channel::Data, Channel::Trading] {
        let names: Vec<String> = topics
            .iter()
            .filter(|t| t.channel() == channel)
            .map(ToString::to_string)
            .collect();
        if !names.is_empty() {
            out.extend(split_frames(method, channel, &names, max)?);
        }
    }
    Ok(out)
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

enum End {
    Shutdown,
    Reconnect { reason: String, wait: Duration },
    Fatal(String),
}

impl StreamClient {
    /// Opens a socket subscribed to `topics` and returns its handle and events. Fails at
    /// once for bad topics or when this client already has [`MAX_SOCKETS`] sockets.
    pub fn connect(
        &self,
        topics: Vec<Topic>,
    ) -> Result<(StreamHandle, mpsc::Receiver<StreamEvent>)> {
        let max = self.core.config.stream.max_frame_bytes;
        frames_for("subscribe", &topics, max)?;
        let sockets = self.core.sockets.clone();
        if sockets.fetch_add(1, Ordering::SeqCst) >= MAX_SOCKETS {
            sockets.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::InvalidRequest(format!(
                "SSI allows at most {MAX_SOCKETS} stream sockets per API key"
            )));
        }
        let slot = Slot(sockets);
        let (events_tx, events_rx) = mpsc::channel(self.core.config.stream.channel_capacity.max(1));
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let cancel = tokio_util::sync::CancellationToken::new();
        let mut book = Book::default();
        book.add(&topics);
        let runner = Runner {
            core: self.core.clone(),
            events: events_tx,
            commands: commands_rx,
            cancel: cancel.clone(),
            book,
        };
        tokio::spawn(async move {
            let _slot = slot;
            runner.run().await;
        });
        Ok((
            StreamHandle {
                commands: commands_tx,
                cancel,
            },
            events_rx,
        ))
    }
}

struct Runner {
    core: Arc<Core>,
    events: mpsc::Sender<StreamEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    cancel: tokio_util::sync::CancellationToken,
    book: Book,
}

impl Runner {
    async fn emit(&self, event: StreamEvent) -> bool {
        self.events.send(event).await.is_ok()
    }

    async fn run(mut self) {
        let cfg = self.core.config.stream.clone();
        let mut attempt: u32 = 0;
        let mut connected_once = false;
        let mut lost_at: Option<(SystemTime, String)> = None;
        loop {
            if self.cancel.is_cancelled() {
                return;
            }
            let outcome = match self.open().await {
                Ok(ws) => {
                    attempt = 0;
                    let reconnect = connected_once;
                    connected_once = true;
                    if !self.emit(StreamEvent::Connected { reconnect }).await {
                        return;
                    }
                    if let Some((from, reason)) = lost_at.take()
                        && !self
                            .emit(StreamEvent::Gap {
                                from,
                                to: SystemTime::now(),
                                reason,
                            })
                            .await
                    {
                        return;
                    }
                    self.serve(ws).await
                }
                Err(e) => self.connect_failure(e).await,
            };
            let (reason, wait) = match outcome {
                End::Shutdown => return,
                End::Fatal(error) => {
                    let _ = self.emit(StreamEvent::Failed { error }).await;
                    return;
                }
                End::Reconnect { reason, wait } => (reason, wait),
            };
            if connected_once && lost_at.is_none() {
                lost_at = Some((SystemTime::now(), reason.clone()));
            }
            if !self.emit(StreamEvent::Disconnected { reason }).await {
                return;
            }
            let backoff = if wait > Duration::ZERO {
                wait
            } else {
                let base = cfg
                    .reconnect_initial_ms
                    .saturating_mul(1 << attempt.min(16));
                Duration::from_millis(base.min(cfg.reconnect_max_ms))
            };
            attempt = attempt.saturating_add(1);
            let wake = tokio::time::Instant::now() + backoff;
            loop {
                tokio::select! {
                    () = self.cancel.cancelled() => return,
                    () = tokio::time::sleep_until(wake) => break,
                    // While disconnected, (un)subscriptions only change the book: the next
                    // connect sends it.
                    command = self.commands.recv() => match command {
                        None => return,
                        Some(Command::Subscribe(topics, reply)) => {
                            let checked = frames_for("subscribe", &topics, cfg.max_frame_bytes).map(|_| ());
                            if checked.is_ok() {
                                self.book.add(&topics);
                            }
                            let _ = reply.send(checked);
                        }
                        Some(Command::Unsubscribe(topics, reply)) => {
                            self.book.remove(&topics);
                            let _ = reply.send(Ok(()));
                        }
                        Some(Command::List) => {}
                    },
                }
            }
        }
    }

    async fn connect_failure(&self, e: Error) -> End {
        let fatal = match &e {
            Error::LoginRequired(_) => true,
            Error::Api(api) => matches!(
                api.class,
                ApiErrorClass::ReauthRequired | ApiErrorClass::SmartOtpRejected
            ),
            Error::Config(_) => true,
            Error::Unauthorized { .. }
            | Error::RateLimited { .. }
            | Error::Rejected { .. }
            | Error::Http { .. }
            | Error::Transport { .. }
            | Error::WebSocket(_)
            | Error::Protocol(_)
            | Error::Decode { .. }
            | Error::InvalidField { .. }
            | Error::UnknownValue { .. }
            | Error::PageLimit { .. }
            | Error::InvalidRequest(_)
            | Error::Signing(_)
            | Error::TokenProvider { .. }
            | Error::Closed => false,
        };
        let text = common_error::chain(&e).to_string();
        if fatal {
            End::Fatal(text)
        } else {
            tracing::warn!(error = %text, "v3 stream connect failed");
            End::Reconnect {
                reason: text,
                wait: Duration::ZERO,
            }
        }
    }

    async fn open(&self) -> Result<Ws> {
        let core = &self.core;
        let lead = Duration::from_secs(core.config.stream.token_cycle_lead_secs);
        let token = core.session.token_valid_for(&core.rest, lead).await?;
        let mut request = core.config.stream_url.as_str().into_client_request()?;
        let headers = request.headers_mut();
        let header = |v: &str| {
            http::HeaderValue::from_str(v).map_err(|e| Error::Config(format!("header: {e}")))
        };
        headers.insert(
            "Authorization",
            header(&format!("Bearer {}", token.expose_secret()))?,
        );
        headers.insert("Content-Type", header("application/json")?);
        headers.insert("Accept", header("application/json")?);
        headers.insert("User-Agent", header(&core.config.http_user_agent)?);
        let connector = match &core.tls {
            Some(tls) => Some(tokio_tungstenite::Connector::Rustls(tls.clone())),
            None => {
                if core.config.stream_url.starts_with("wss") {
                    let _ = rustls::crypto::ring::default_provider().install_default();
                }
                None
            }
        };
        let timeout = Duration::from_millis(core.config.stream.connect_timeout_ms);
        let connect =
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector);
        let (mut ws, _) = match tokio::time::timeout(timeout, connect).await {
            Err(_) => return Err(Error::Protocol("stream handshake timed out".to_owned())),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                let status = response.status().as_u16();
                if status == 401 {
                    core.session.invalidate(&token).await;
                }
                return Err(ApiError {
                    endpoint: "stream".to_owned(),
                    http_status: status,
                    code: None,
                    message: "WebSocket upgrade refused".to_owned(),
                    class: ApiErrorClass::classify("stream", status, None),
                    retry_after: None,
                }
                .into());
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(ok)) => ok,
        };
        for frame in frames_for(
            "subscribe",
            &self.book.topics,
            core.config.stream.max_frame_bytes,
        )? {
            ws.send(Message::text(frame)).await?;
        }
        Ok(ws)
    }

    /// Time until the socket must be cycled for a fresh token: `token_cycle_lead_secs` before
    /// expiry, or half the remaining life (at least 1 s) when SSI issues tokens shorter than
    /// the lead, so that cycling never spins.
    async fn cycle_in(&self) -> Option<Duration> {
        let info = self.core.session.info().await?;
        let lead = self.core.config.stream.token_cycle_lead_secs;
        let remaining = info.expires_at.saturating_sub(now_secs());
        let wait = if remaining > lead {
            remaining - lead
        } else {
            (remaining / 2).max(1)
        };
        Some(Duration::from_secs(wait))
    }

    async fn serve(&mut self, mut ws: Ws) -> End {
        let cfg = self.core.config.stream.clone();
        let max = cfg.max_frame_bytes;
        let mut heartbeat =
            tokio::time::interval(Duration::from_millis(cfg.heartbeat_interval_ms.max(1)));
        heartbeat.tick().await;
        let idle = Duration::from_millis(cfg.idle_timeout_ms.max(1));
        let mut idle_deadline = tokio::time::Instant::now() + idle;
        let cycle = self.cycle_in().await;
        let cycle_at = cycle.map(|d| tokio::time::Instant::now() + d);
        loop {
            let cycle_sleep = async {
                match cycle_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = self.cancel.cancelled() => {
                    let _ = ws.close(None).await;
                    return End::Shutdown;
                }
                () = cycle_sleep => {
                    let _ = ws.close(None).await;
                    return End::Reconnect { reason: "token cycle".to_owned(), wait: Duration::from_millis(1) };
                }
                () = tokio::time::sleep_until(idle_deadline) => {
                    return End::Reconnect { reason: "no frame within the idle timeout".to_owned(), wait: Duration::ZERO };
                }
                _ = heartbeat.tick() => {
                    let ping = json!({"method": "ping_pong", "channel": "HEARTBEAT", "topics": []}).to_string();
                    if let Err(e) = ws.send(Message::text(ping)).await {
                        return End::Reconnect { reason: format!("heartbeat failed: {e}"), wait: Duration::ZERO };
                    }
                }
                command = self.commands.recv() => {
                    let Some(command) = command else {
                        let _ = ws.close(None).await;
                        return End::Shutdown;
                    };
                    let (method, topics, reply) = match command {
                        Command::List => {
                            let frame = json!({"method": "list_subscription"}).to_string();
                            if let Err(e) = ws.send(Message::text(frame)).await {
                                return End::Reconnect { reason: format!("send failed: {e}"), wait: Duration::ZERO };
                            }
                            continue;
                        }
                        Command::Subscribe(t, r) => ("subscribe", t, r),
                        Command::Unsubscribe(t, r) => ("unsubscribe", t, r),
                    };
                    let frames = match frames_for(method, &topics, max) {
                        Ok(f) => f,
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            continue;
                        }
                    };
                    if method == "subscribe" {
                        self.book.add(&topics);
                    } else {
                        self.book.remove(&topics);
                    }
                    let mut failed = None;
                    for frame in frames {
                        if let Err(e) = ws.send(Message::text(frame)).await {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                    // The book is updated either way: a reconnect re-sends it.
                    let _ = reply.send(Ok(()));
                    if let Some(e) = failed {
                        return End::Reconnect { reason: format!("send failed: {e}"), wait: Duration::ZERO };
                    }
                }
                frame = ws.next() => {
                    idle_deadline = tokio::time::Instant::now() + idle;
                    match frame {
                        None => return End::Reconnect { reason: "socket closed".to_owned(), wait: Duration::ZERO },
                        Some(Err(e)) => return End::Reconnect { reason: format!("socket error: {e}"), wait: Duration::ZERO },
                        Some(Ok(Message::Close(close))) => {
                            let reason = close.map_or_else(|| "closed by server".to_owned(), |c| format!("closed by server: {} {}", c.code, c.reason));
                            return End::Reconnect { reason, wait: Duration::ZERO };
                        }
                        Some(Ok(Message::Text(text))) => {
                            match self.dispatch(text.as_str()).await {
                                Dispatch::Continue => {}
                                Dispatch::ConsumerGone => return End::Shutdown,
                                Dispatch::End(end) => return end,
                            }
                        }
                        Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    }
                }
            }
        }
    }

    async fn dispatch(&self, text: &str) -> Dispatch {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "v3 stream frame is not JSON");
                return Dispatch::Continue;
            }
        };
        let event = match classify_frame(value) {
            Frame::Event(event) => event,
            Frame::Pong => return Dispatch::Continue,
            Frame::Rejection { code, message } => {
                let (class, wait) = match code {
                    401 | 403 => {
                        // The token is no longer accepted: renew before reconnecting.
                        if let Some(info) = self.core.session.info().await {
                            tracing::info!(
                                expires_at = info.expires_at,
                                "stream refused the token"
                            );
                        }
                        if let Ok(token) = self.core.session.token(&self.core.rest).await {
                            self.core.session.invalidate(&token).await;
                        }
                        ("auth", Duration::ZERO)
                    }
                    429 => (
                        "too many sockets",
                        Duration::from_millis(self.core.config.stream.rate_limited_backoff_ms),
                    ),
                    _ => ("server", Duration::ZERO),
                };
                return Dispatch::End(End::Reconnect {
                    reason: format!("server refused the socket ({class}, code {code}): {message}"),
                    wait,
                });
            }
        };
        if self.events.send(event).await.is_err() {
            Dispatch::ConsumerGone
        } else {
            Dispatch::Continue
        }
    }
}

enum Dispatch {
    Continue,
    ConsumerGone,
    End(End),
}

enum Frame {
    Event(StreamEvent),
    Pong,
    Rejection { code: i64, message: String },
}

fn text_of(v: Option<&Value>) -> String {
    v.and_then(|v| crate::v3::wire::opt_string(v).ok().flatten())
        .unwrap_or_default()
}

fn split_list(v: Option<&Value>) -> Vec<String> {
    text_of(v)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn classify_frame(value: Value) -> Frame {
    let channel_text = value
        .get("channel")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let channel = match channel_text
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("DATA") => Some(Channel::Data),
        Some("TRADING") => Some(Channel::Trading),
        _ => None,
    };
    if let Some(topic) = value.get("topic").and_then(Value::as_str) {
        let topic = topic.to_owned();
        let data = value.get("data").cloned().unwrap_or(Value::Null);
        return Frame::Event(match decode_payload(&topic, data) {
            Ok(payload) => StreamEvent::Message {
                topic,
                channel,
                payload: Box::new(payload),
            },
            Err(error) => StreamEvent::Undecodable { topic, error },
        });
    }
    if let Some(method) = value.get("method").and_then(Value::as_str) {
        let ok = value
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("ok"));
        let message = text_of(value.get("message"));
        if method.eq_ignore_ascii_case("ping_pong") {
            return Frame::Pong;
        }
        return Frame::Event(StreamEvent::Ack {
            method: method.to_owned(),
            channel: channel_text,
            ok,
            message,
        });
    }
    if value.get("trading").is_some() || value.get("data").is_some() {
        return Frame::Event(StreamEvent::Subscriptions {
            trading: split_list(value.get("trading")),
            data: split_list(value.get("data")),
        });
    }
    if let Some(code) = value
        .get("code")
        .and_then(|c| crate::v3::wire::opt_int(c).ok().flatten())
    {
        let message = text_of(value.get("msg").or_else(|| value.get("message")));
        return Frame::Rejection { code, message };
    }
    Frame::Event(StreamEvent::Undecodable {
        topic: String::new(),
        error: format!("unrecognised frame {value}"),
    })
}

fn decode<T: serde::de::DeserializeOwned>(data: Value) -> std::result::Result<T, String> {
    serde_json::from_value(data).map_err(|e| e.to_string())
}

fn raw(data: Value) -> std::result::Result<Map<String, Value>, String> {
    match data {
        Value::Object(m) => Ok(m),
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::String(_)
        | Value::Array(_)) => Err(format!("expected an object, got {other}")),
    }
}

/// Decodes `data` by the topic's type (and `eventType` for account topics).
pub fn decode_payload(topic: &str, data: Value) -> std::result::Result<Payload, String> {
    let parsed = topic.parse::<Topic>().ok();
    let Some(parsed) = parsed else {
        return Ok(Payload::Other(data));
    };
    use crate::v3::topic::Interval;
    Ok(match parsed.kind() {
        TopicKind::Trade => match parsed.interval() {
            Some(Interval::M1 | Interval::M5) => Payload::Bar(decode(data)?),
            Some(Interval::Tick | Interval::FanOut) | None => Payload::Trade(decode(data)?),
        },
        TopicKind::Quote => Payload::Quote(decode(data)?),
        TopicKind::Oddlot => Payload::OddLot(decode(data)?),
        TopicKind::Room => Payload::Room(decode(data)?),
        TopicKind::Put => Payload::Put(decode(data)?),
        TopicKind::Market => Payload::Band(decode(data)?),
        TopicKind::MarketFlag => Payload::Flag(decode(data)?),
        TopicKind::TradeIndex => Payload::Index(raw(data)?),
        TopicKind::IndexSummary => Payload::IndexSummary(raw(data)?),
        TopicKind::Order | TopicKind::Portfolio => {
            let kind = data
                .get("eventType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            match kind.as_str() {
                "orderevent" => Payload::Order(decode(data)?),
                "ordermatchevent" => Payload::OrderMatch(decode(data)?),
                "fcoevent" => Payload::Fco(raw(data)?),
                "clientportfolioevent" => Payload::Portfolio(decode(data)?),
                _ => Payload::Other(data),
            }
        }
    })
}

#[cfg(test)]
#[allow(clippy::wildcard_enum_match_arm)]
mod tests {
    use super::*;

    #[test]
    fn frames_stay_under_the_limit_and_keep_every_topic() {
        let topics: Vec<String> = (0..600).map(|i| format!("trade.S{i:05}")).collect();
        let frames = split_frames("subscribe", Channel::Data, &topics, 4_000).unwrap();
        assert!(frames.len() > 1);
        let mut back = Vec::new();
        for f in &frames {
            assert!(f.len() <= 4_000, "{}", f.len());
            let v: Value = serde_json::from_str(f).unwrap();
            assert_eq!(v["method"], "subscribe");
            assert_eq!(v["channel"], "DATA");
            back.extend(
                v["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned()),
            );
        }
        assert_eq!(back, topics);
        let huge = vec!["x".repeat(5_000)];
        assert!(split_frames("subscribe", Channel::Data, &huge, 4_000).is_err());
    }

    #[test]
    fn payloads_decode_by_topic_and_event_type() {
        let trade = decode_payload(
            "trade.SSI",
            json!({"t":"09:15:01","s":"SSI","p":"25,350","q":100,"si":"B","v":"1000"}),
        )
        .unwrap();
        match trade {
            Payload::Trade(t) => {
                assert_eq!(t.price.unwrap().to_string(), "25350");
                assert_eq!(t.volume, Some(1000));
            }
            other => panic!("{other:?}"),
        }
        let bar = decode_payload(
            "trade.SSI@1m",
            json!({"st":"09:15","t":"09:16","s":"SSI","o":1,"h":2,"l":0.5,"c":"1.5","v":10}),
        )
        .unwrap();
        assert!(matches!(bar, Payload::Bar(b) if b.close.unwrap().to_string() == "1.5"));
        let quote = decode_payload(
            "quote.SSI",
            json!({"t":"x","s":"SSI","bids":[["25.3",100],[25.2,"200"]],"asks":[]}),
        )
        .unwrap();
        match quote {
            Payload::Quote(q) => {
                assert_eq!(q.bids.len(), 2);
                assert_eq!(q.bids[1].volume, 200);
            }
            other => panic!("{other:?}"),
        }
        let order = decode_payload(
            "order.1234561",
            json!({"eventType":"orderEvent","orderId":77,"orderStatus":"QU","price":"ATO"}),
        )
        .unwrap();
        assert!(matches!(order, Payload::Order(o) if o.order_id == "77" && o.price == "ATO"));
        let fill = decode_payload("order.1234561", json!({"eventType":"orderMatchEvent","orderId":"77","matchPrice":"25300","matchQty":100})).unwrap();
        assert!(matches!(fill, Payload::OrderMatch(m) if m.match_qty == Some(100)));
        assert!(
            matches!(decode_payload("market.FLAG", json!({"b":"HOSE","t":"t","f":"ATO"})).unwrap(), Payload::Flag(f) if f.flag == "ATO")
        );
        assert!(decode_payload("quote.SSI", json!({"bids":[[1]]})).is_err());
    }

    #[test]
    fn control_frames_are_classified() {
        assert!(matches!(
            classify_frame(
                json!({"method":"PING_PONG","channel":"HEARTBEAT","status":"ok","message":"pong"})
            ),
            Frame::Pong
        ));
        match classify_frame(
            json!({"method":"subscribe","channel":"TRADING","status":"error","message":"Denied (scope)"}),
        ) {
            Frame::Event(StreamEvent::Ack { ok, message, .. }) => {
                assert!(!ok);
                assert_eq!(message, "Denied (scope)");
            }
            _ => panic!("not an ack"),
        }
        match classify_frame(json!({"trading":"order.1;portfolio.1","data":"trade.SSI"})) {
            Frame::Event(StreamEvent::Subscriptions { trading, data }) => {
                assert_eq!(trading, vec!["order.1", "portfolio.1"]);
                assert_eq!(data, vec!["trade.SSI"]);
            }
            _ => panic!("not a list"),
        }
        assert!(matches!(
            classify_frame(json!({"code":429,"msg":"too many"})),
            Frame::Rejection { code: 429, .. }
        ));
    }
}
