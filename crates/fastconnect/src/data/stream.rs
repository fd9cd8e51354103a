//! FC Data streaming: hub `FcMarketDataV2Hub`, `SwitchChannels(channel)` subscriptions, and
//! `Broadcast(string)` payloads decoded twice (`A[0]` → `{DataType, Content}` → `Content`)
//! into [`MarketEvent`]s.
//!
//! The stream reconnects by itself (exponential backoff, token renewed when refused) and
//! re-sends every channel ever subscribed after each reconnect. [`MarketEvent::Connected`]
//! and [`MarketEvent::Disconnected`] mark the gaps. Events go through a bounded channel:
//! a slow consumer slows the socket reads, never the memory.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use time::{Date, Time};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::codes::{Exchange, TradeSide, TradingSession, TradingStatus};
use crate::data::DataClient;
use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::http::TokenSource as _;
use crate::signalr::{self, HubMessage, HubSession, HubTarget};
use crate::wire::Record;

/// Name of the FC Data hub.
pub const HUB: &str = "FcMarketDataV2Hub";

/// A channel type of `SwitchChannels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// `F`: security status (session, trading status).
    SecurityStatus,
    /// `X`: snapshot, quote and trade together.
    Snapshot,
    /// `X-QUOTE`: best bids and asks.
    Quote,
    /// `X-TRADE`: last trade.
    Trade,
    /// `R`: foreign room.
    ForeignRoom,
    /// `MI`: index values.
    Index,
    /// `B`: per-tick OHLC bar.
    Bar,
    /// `OL`: odd-lot board.
    OddLot,
}

impl ChannelKind {
    /// The wire prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::SecurityStatus => "F",
            ChannelKind::Snapshot => "X",
            ChannelKind::Quote => "X-QUOTE",
            ChannelKind::Trade => "X-TRADE",
            ChannelKind::ForeignRoom => "R",
            ChannelKind::Index => "MI",
            ChannelKind::Bar => "B",
            ChannelKind::OddLot => "OL",
        }
    }
}

/// One subscription: a channel type and `ALL` or a list of symbols/indexes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Channel {
    kind: ChannelKind,
    symbols: Option<Vec<String>>,
}

impl Channel {
    /// Every symbol of `kind` (heavy and slow, SSI warns).
    pub fn all(kind: ChannelKind) -> Self {
        Self {
            kind,
            symbols: None,
        }
    }

    /// The given symbols (or index ids for `MI`). Symbols must be non-empty and made of
    /// letters and digits, since `-` and `:` are separators of the channel string.
    pub fn symbols<I, S>(kind: ChannelKind, symbols: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let symbols: Vec<String> = symbols
            .into_iter()
            .map(|s| s.into().trim().to_owned())
            .collect();
        if symbols.is_empty() {
            return Err(Error::InvalidRequest(
                "a channel needs at least one symbol".to_owned(),
            ));
        }
        if let Some(bad) = symbols
            .iter()
            .find(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(Error::InvalidRequest(format!(
                "symbol {bad:?} is not alphanumeric"
            )));
        }
        Ok(Self {
            kind,
            symbols: Some(symbols),
        })
    }

    /// The channel type.
    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The wire string, e.g. `X-QUOTE:SSI-ACB` or `MI:ALL`.
    pub fn wire(&self) -> String {
        match &self.symbols {
            None => format!("{}:ALL", self.kind.as_str()),
            Some(list) => format!("{}:{}", self.kind.as_str(), list.join("-")),
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.wire())
    }
}

/// One price level of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceLevel {
    /// Price (VND for stocks, index points for derivatives; 0 during auctions for ATO/ATC).
    pub price: Decimal,
    /// Volume.
    pub volume: i64,
}

/// `F`: a security's session and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityStatus {
    /// Symbol.
    pub symbol: String,
    /// Market id.
    pub market_id: Option<Exchange>,
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// Trading date.
    pub trading_date: Option<Date>,
    /// Time (Vietnam local).
    pub time: Option<Time>,
    /// Session.
    pub trading_session: Option<TradingSession>,
    /// Status.
    pub trading_status: Option<TradingStatus>,
}

/// `X-QUOTE`: best bids and asks (HOSE 3 levels, others 10; empty levels dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Symbol.
    pub symbol: String,
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// Trading date.
    pub trading_date: Option<Date>,
    /// Time.
    pub time: Option<Time>,
    /// Bids, best first.
    pub bids: Vec<PriceLevel>,
    /// Asks, best first.
    pub asks: Vec<PriceLevel>,
    /// Session.
    pub trading_session: Option<TradingSession>,
    /// Status.
    pub trading_status: Option<TradingStatus>,
}

/// `X-TRADE`: the last trade and the day's running totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// Symbol.
    pub symbol: String,
    /// ISIN.
    pub isin: Option<String>,
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// Trading date.
    pub trading_date: Option<Date>,
    /// Time.
    pub time: Option<Time>,
    /// Ceiling price.
    pub ceiling: Option<Decimal>,
    /// Floor price.
    pub floor: Option<Decimal>,
    /// Reference price.
    pub ref_price: Option<Decimal>,
    /// Average price.
    pub avg_price: Option<Decimal>,
    /// Previous close (`PriorVal`).
    pub prior_val: Option<Decimal>,
    /// Last price.
    pub last_price: Option<Decimal>,
    /// Last volume.
    pub last_vol: Option<i64>,
    /// Total value.
    pub total_val: Option<Decimal>,
    /// Total volume.
    pub total_vol: Option<i64>,
    /// High.
    pub highest: Option<Decimal>,
    /// Low.
    pub lowest: Option<Decimal>,
    /// Change.
    pub change: Option<Decimal>,
    /// Change in percent.
    pub ratio_change: Option<Decimal>,
    /// Auction estimate during ATO/ATC.
    pub est_matched_price: Option<Decimal>,
    /// Session.
    pub trading_session: Option<TradingSession>,
    /// Status.
    pub trading_status: Option<TradingStatus>,
    /// Aggressor side.
    pub side: Option<TradeSide>,
}

/// `X`: snapshot of quote and trade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The trade half (last price, totals, ...).
    pub trade: Trade,
    /// Open.
    pub open: Option<Decimal>,
    /// High.
    pub high: Option<Decimal>,
    /// Low.
    pub low: Option<Decimal>,
    /// Close.
    pub close: Option<Decimal>,
    /// Bids, best first.
    pub bids: Vec<PriceLevel>,
    /// Asks, best first.
    pub asks: Vec<PriceLevel>,
}

/// `R`: foreign ownership room and flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRoom {
    /// Symbol.
    pub symbol: String,
    /// ISIN.
    pub isin: Option<String>,
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// Trading date.
    pub trading_date: Option<Date>,
    /// Time.
    pub time: Option<Time>,
    /// Total room.
    pub total_room: Option<i64>,
    /// Room left.
    pub current_room: Option<i64>,
    /// Foreign buy volume (`BuyVol`, or `FBuyVol` per the tables).
    pub buy_vol: Option<i64>,
    /// Foreign sell volume.
    pub sell_vol: Option<i64>,
    /// Foreign buy value.
    pub buy_val: Option<Decimal>,
    /// Foreign sell value.
    pub sell_val: Option<Decimal>,
}

/// `MI`: an index update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexUpdate {
    /// Index id, e.g. `VN30`.
    pub index_id: String,
    /// Value.
    pub index_value: Decimal,
    /// Estimate during ATO/ATC.
    pub index_val_est: Option<Decimal>,
    /// Previous value.
    pub prior_index_value: Option<Decimal>,
    /// Trading date.
    pub trading_date: Option<Date>,
    /// Time.
    pub time: Option<Time>,
    /// Change.
    pub change: Option<Decimal>,
    /// Change in percent.
    pub ratio_change: Option<Decimal>,
    /// Trades.
    pub total_trade: Option<i64>,
    /// Volume.
    pub total_qtty: Option<i64>,
    /// Value.
    pub total_value: Option<Decimal>,
    /// Name.
    pub index_name: Option<String>,
    /// Type (`IndexType`, `TypeIndex` in the tables).
    pub index_type: Option<String>,
    /// Advancers.
    pub advances: Option<i64>,
    /// Unchanged.
    pub no_changes: Option<i64>,
    /// Decliners.
    pub declines: Option<i64>,
    /// At ceiling.
    pub ceilings: Option<i64>,
    /// At floor.
    pub floors: Option<i64>,
    /// Put-through volume.
    pub total_qtty_pt: Option<i64>,
    /// Put-through value.
    pub total_value_pt: Option<Decimal>,
    /// Odd-lot volume.
    pub total_qtty_od: Option<i64>,
    /// Odd-lot value.
    pub total_value_od: Option<Decimal>,
    /// All volume.
    pub all_qty: Option<i64>,
    /// All value.
    pub all_value: Option<Decimal>,
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// Session.
    pub trading_session: Option<TradingSession>,
}

/// `B`: a per-tick bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Symbol.
    pub symbol: String,
    /// Time (`TradingTime` or `Time`).
    pub time: Option<Time>,
    /// Open.
    pub open: Option<Decimal>,
    /// High.
    pub high: Option<Decimal>,
    /// Low.
    pub low: Option<Decimal>,
    /// Close.
    pub close: Option<Decimal>,
    /// Last matched volume.
    pub volume: Option<i64>,
    /// Value (SSI sends 0 for now).
    pub value: Option<Decimal>,
}

/// `OL`: odd-lot board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OddLot {
    /// Symbol.
    pub symbol: String,
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// Trading date.
    pub trading_date: Option<Date>,
    /// Time.
    pub time: Option<Time>,
    /// Ceiling.
    pub ceiling: Option<Decimal>,
    /// Floor.
    pub floor: Option<Decimal>,
    /// Reference.
    pub ref_price: Option<Decimal>,
    /// Last price.
    pub last_price: Option<Decimal>,
    /// Last volume.
    pub last_vol: Option<i64>,
    /// Total value (normal + odd lot).
    pub total_val: Option<Decimal>,
    /// Total volume (normal + odd lot).
    pub total_vol: Option<i64>,
    /// Bids (3 levels).
    pub bids: Vec<PriceLevel>,
    /// Asks (3 levels).
    pub asks: Vec<PriceLevel>,
    /// Session.
    pub trading_session: Option<TradingSession>,
    /// Status.
    pub trading_status: Option<TradingStatus>,
    /// Stock type (Stock/Bond/ETF...).
    pub stock_type: Option<String>,
}

/// What the market-data stream yields.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "moved once into the channel; boxing would allocate per tick"
)]
pub enum MarketEvent {
    /// A connection is up and every subscription has been (re)sent.
    Connected,
    /// The connection was lost; data may be missing until the next `Connected`.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// `F`.
    SecurityStatus(SecurityStatus),
    /// `X-QUOTE`.
    Quote(Quote),
    /// `X-TRADE`.
    Trade(Trade),
    /// `X`.
    Snapshot(Snapshot),
    /// `R`.
    ForeignRoom(ForeignRoom),
    /// `MI`.
    Index(IndexUpdate),
    /// `B`.
    Bar(Bar),
    /// `OL`.
    OddLot(OddLot),
    /// The hub's `Error(string)` or a failed `SwitchChannels`.
    HubError(String),
    /// A payload that could not be decoded; the stream goes on.
    Malformed {
        /// What was wrong.
        error: Error,
        /// The raw `Broadcast` argument (truncated to 2 KiB).
        payload: String,
    },
}

fn levels(r: &Record<'_>, side: &str, count: u32) -> Result<Vec<PriceLevel>> {
    let mut out = Vec::new();
    for n in 1..=count {
        let price_key = format!("{side}Price{n}");
        // An old derivative sample misspells `AskPrice9` as `AskPrie9`.
        let typo_key = format!("{side}Prie{n}");
        let vol_key = format!("{side}Vol{n}");
        let price = r.opt_decimal(&[&price_key, &typo_key])?;
        let volume = r.opt_int(&[&vol_key])?;
        let price = price.unwrap_or(Decimal::ZERO);
        let volume = volume.unwrap_or(0);
        if !price.is_zero() || volume != 0 {
            out.push(PriceLevel { price, volume });
        }
    }
    Ok(out)
}

fn trade_fields(r: &Record<'_>) -> Result<Trade> {
    Ok(Trade {
        symbol: r.string(&["Symbol"])?,
        isin: r.opt_string(&["Isin"])?,
        exchange: r.opt_code(&["Exchange", "MarketId"])?,
        trading_date: r.opt_date(&["TradingDate"])?,
        time: r.opt_time(&["Time", "TradingTime"])?,
        ceiling: r.opt_decimal(&["Ceiling"])?,
        floor: r.opt_decimal(&["Floor"])?,
        ref_price: r.opt_decimal(&["RefPrice"])?,
        avg_price: r.opt_decimal(&["AvgPrice", "Avg"])?,
        prior_val: r.opt_decimal(&["PriorVal"])?,
        last_price: r.opt_decimal(&["LastPrice"])?,
        last_vol: r.opt_int(&["LastVol"])?,
        total_val: r.opt_decimal(&["TotalVal"])?,
        total_vol: r.opt_int(&["TotalVol"])?,
        highest: r.opt_decimal(&["Highest", "High"])?,
        lowest: r.opt_decimal(&["Lowest", "Low"])?,
        change: r.opt_decimal(&["Change"])?,
        ratio_change: r.opt_decimal(&["RatioChange"])?,
        est_matched_price: r.opt_decimal(&["EstMatchedPrice"])?,
        trading_session: r.opt_code(&["TradingSession"])?,
        trading_status: r.opt_code(&["TradingStatus"])?,
        side: r.opt_code(&["Side"])?,
    })
}

/// Decodes one record (the `Content` object) of type `rtype`.
pub(crate) fn decode_record(rtype: &str, map: &Map<String, Value>) -> Result<MarketEvent> {
    let r = Record::new(rtype, map);
    let kind = rtype.trim().to_ascii_uppercase();
    Ok(match kind.as_str() {
        "F" => MarketEvent::SecurityStatus(SecurityStatus {
            symbol: r.string(&["Symbol"])?,
            market_id: r.opt_code(&["MarketId"])?,
            exchange: r.opt_code(&["Exchange"])?,
            trading_date: r.opt_date(&["TradingDate"])?,
            time: r.opt_time(&["Time", "TradingTime"])?,
            trading_session: r.opt_code(&["TradingSession"])?,
            trading_status: r.opt_code(&["TradingStatus"])?,
        }),
        "X-QUOTE" | "QUOTE" => MarketEvent::Quote(Quote {
            symbol: r.string(&["Symbol"])?,
            exchange: r.opt_code(&["Exchange", "MarketId"])?,
            trading_date: r.opt_date(&["TradingDate"])?,
            time: r.opt_time(&["Time", "TradingTime"])?,
            bids: levels(&r, "Bid", 10)?,
            asks: levels(&r, "Ask", 10)?,
            trading_session: r.opt_code(&["TradingSession"])?,
            trading_status: r.opt_code(&["TradingStatus"])?,
        }),
        "X-TRADE" | "TRADE" => MarketEvent::Trade(trade_fields(&r)?),
        "X" => MarketEvent::Snapshot(Snapshot {
            trade: trade_fields(&r)?,
            open: r.opt_decimal(&["Open"])?,
            high: r.opt_decimal(&["High"])?,
            low: r.opt_decimal(&["Low"])?,
            close: r.opt_decimal(&["Close"])?,
            bids: levels(&r, "Bid", 10)?,
            asks: levels(&r, "Ask", 10)?,
        }),
        "R" => MarketEvent::ForeignRoom(ForeignRoom {
            symbol: r.string(&["Symbol"])?,
            isin: r.opt_string(&["Isin"])?,
            exchange: r.opt_code(&["Exchange", "MarketId"])?,
            trading_date: r.opt_date(&["TradingDate"])?,
            time: r.opt_time(&["Time", "TradingTime"])?,
            total_room: r.opt_int(&["TotalRoom"])?,
            current_room: r.opt_int(&["CurrentRoom"])?,
            buy_vol: r.opt_int(&["BuyVol", "FBuyVol"])?,
            sell_vol: r.opt_int(&["SellVol", "FSellVol"])?,
            buy_val: r.opt_decimal(&["BuyVal", "FBuyVal"])?,
            sell_val: r.opt_decimal(&["SellVal", "FSellVal"])?,
        }),
        "MI" => MarketEvent::Index(IndexUpdate {
            index_id: r.string(&["IndexId"])?,
            index_value: r.decimal(&["IndexValue"])?,
            index_val_est: r.opt_decimal(&["IndexValEst"])?,
            prior_index_value: r.opt_decimal(&["PriorIndexValue"])?,
            trading_date: r.opt_date(&["TradingDate"])?,
            time: r.opt_time(&["Time", "TradingTime"])?,
            change: r.opt_decimal(&["Change"])?,
            ratio_change: r.opt_decimal(&["RatioChange"])?,
            total_trade: r.opt_int(&["TotalTrade"])?,
            total_qtty: r.opt_int(&["TotalQtty"])?,
            total_value: r.opt_decimal(&["TotalValue"])?,
            index_name: r.opt_string(&["IndexName"])?,
            index_type: r.opt_string(&["IndexType", "TypeIndex"])?,
            advances: r.opt_int(&["Advances"])?,
            no_changes: r.opt_int(&["NoChanges"])?,
            declines: r.opt_int(&["Declines"])?,
            ceilings: r.opt_int(&["Ceilings"])?,
            floors: r.opt_int(&["Floors"])?,
            total_qtty_pt: r.opt_int(&["TotalQttyPt"])?,
            total_value_pt: r.opt_decimal(&["TotalValuePt"])?,
            total_qtty_od: r.opt_int(&["TotalQttyOd"])?,
            total_value_od: r.opt_decimal(&["TotalValueOd"])?,
            all_qty: r.opt_int(&["AllQty"])?,
            all_value: r.opt_decimal(&["AllValue"])?,
            exchange: r.opt_code(&["Exchange", "MarketId"])?,
            trading_session: r.opt_code(&["TradingSession"])?,
        }),
        "B" => MarketEvent::Bar(Bar {
            symbol: r.string(&["Symbol"])?,
            time: r.opt_time(&["TradingTime", "Time"])?,
            open: r.opt_decimal(&["Open"])?,
            high: r.opt_decimal(&["High"])?,
            low: r.opt_decimal(&["Low"])?,
            close: r.opt_decimal(&["Close"])?,
            volume: r.opt_int(&["Volume"])?,
            value: r.opt_decimal(&["Value"])?,
        }),
        "OL" => MarketEvent::OddLot(OddLot {
            symbol: r.string(&["Symbol"])?,
            exchange: r.opt_code(&["Exchange", "MarketId"])?,
            trading_date: r.opt_date(&["TradingDate"])?,
            time: r.opt_time(&["Time", "TradingTime"])?,
            ceiling: r.opt_decimal(&["Ceiling"])?,
            floor: r.opt_decimal(&["Floor"])?,
            ref_price: r.opt_decimal(&["RefPrice"])?,
            last_price: r.opt_decimal(&["LastPrice"])?,
            last_vol: r.opt_int(&["LastVol"])?,
            total_val: r.opt_decimal(&["TotalVal"])?,
            total_vol: r.opt_int(&["TotalVol"])?,
            bids: levels(&r, "Bid", 3)?,
            asks: levels(&r, "Ask", 3)?,
            trading_session: r.opt_code(&["TradingSession"])?,
            trading_status: r.opt_code(&["TradingStatus"])?,
            stock_type: r.opt_string(&["StockType"])?,
        }),
        _ => {
            return Err(Error::UnknownValue {
                kind: "RType",
                value: rtype.to_owned(),
            });
        }
    })
}

fn as_object(value: Value, what: &str) -> Result<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        // Double encoding: the object arrives as a JSON string.
        Value::String(text) => match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Error::Protocol(format!("{what} is not a JSON object"))),
            Err(source) => Err(Error::Decode {
                endpoint: what.to_owned(),
                source,
            }),
        },
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) => {
            Err(Error::Protocol(format!("{what} is not a JSON object")))
        }
    }
}

/// Decodes the argument of a `Broadcast` call: a JSON string holding
/// `{"DataType": .., "Content": "<JSON string>"}` (Content may also be an object).
pub fn decode_broadcast(arg: &Value) -> Result<MarketEvent> {
    let outer = as_object(arg.clone(), "Broadcast payload")?;
    let data_type = outer
        .get("DataType")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let content = outer
        .get("Content")
        .cloned()
        .ok_or_else(|| Error::Protocol("Broadcast payload has no Content".to_owned()))?;
    let content = as_object(content, "Broadcast Content")?;
    let rtype = content
        .get("RType")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or(data_type)
        .ok_or_else(|| Error::Protocol("Broadcast payload has no RType/DataType".to_owned()))?;
    decode_record(&rtype, &content)
}

fn truncate(value: &Value) -> String {
    let text = match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    };
    text.chars().take(2048).collect()
}

struct DataSession {
    client: DataClient,
    channels: Arc<Mutex<Vec<Channel>>>,
    last_token: Option<crate::token::Token>,
}

impl DataSession {
    fn channel_list(&self) -> Vec<Channel> {
        match self.channels.lock() {
            Ok(list) => list.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl HubSession for DataSession {
    type Event = MarketEvent;
    type Command = Channel;

    async fn target(&mut self) -> Result<HubTarget> {
        {
            let token = self.client.inner().token().await?;
            let bearer = format!("Bearer {}", token.value.expose_secret());
            self.last_token = Some(token);
            let config = &self.client.config().stream;
            Ok(HubTarget {
                base_url: self.client.config().hub_url.clone(),
                hub: HUB,
                client_protocol: config.client_protocol.clone(),
                headers: vec![("Authorization", bearer)],
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
        self.channel_list()
            .iter()
            .map(|c| ("SwitchChannels", vec![Value::String(c.wire())]))
            .collect()
    }

    fn on_command(&mut self, channel: Channel) -> Vec<(&'static str, Vec<Value>)> {
        vec![("SwitchChannels", vec![Value::String(channel.wire())])]
    }

    fn on_message(&mut self, message: HubMessage) -> Vec<MarketEvent> {
        if !message.hub.is_empty() && !message.hub.eq_ignore_ascii_case(HUB) {
            return Vec::new();
        }
        if message.method.eq_ignore_ascii_case("Broadcast") {
            message
                .args
                .iter()
                .map(|arg| {
                    decode_broadcast(arg).unwrap_or_else(|error| MarketEvent::Malformed {
                        error,
                        payload: truncate(arg),
                    })
                })
                .collect()
        } else if message.method.eq_ignore_ascii_case("Error") {
            vec![MarketEvent::HubError(
                message
                    .args
                    .iter()
                    .map(truncate)
                    .collect::<Vec<_>>()
                    .join("; "),
            )]
        } else {
            tracing::debug!(method = %message.method, "ignoring unknown hub method");
            Vec::new()
        }
    }

    fn mark(_event: &MarketEvent) -> Option<i64> {
        None
    }

    fn delivered(&mut self, _mark: i64) -> impl std::future::Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn connected(&self) -> MarketEvent {
        MarketEvent::Connected
    }

    fn disconnected(&self, reason: String) -> MarketEvent {
        MarketEvent::Disconnected { reason }
    }

    fn hub_error(&self, message: String) -> MarketEvent {
        MarketEvent::HubError(message)
    }
}

/// Handle of a running market-data stream: add channels, stop it. Dropping it stops the
/// stream too.
#[derive(Debug)]
pub struct MarketSubscription {
    channels: Arc<Mutex<Vec<Channel>>>,
    commands: mpsc::Sender<Channel>,
    cancel: CancellationToken,
}

impl MarketSubscription {
    /// Subscribes `channel` now (if connected) and after every reconnect.
    pub async fn subscribe(&self, channel: Channel) -> Result<()> {
        {
            let mut list = match self.channels.lock() {
                Ok(list) => list,
                Err(poisoned) => poisoned.into_inner(),
            };
            if list.contains(&channel) {
                return Ok(());
            }
            list.push(channel.clone());
        }
        self.commands.send(channel).await.map_err(|_| Error::Closed)
    }

    /// Every channel subscribed so far.
    pub fn channels(&self) -> Vec<Channel> {
        match self.channels.lock() {
            Ok(list) => list.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Stops the stream; the event receiver ends.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

impl Drop for MarketSubscription {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The receiving end of a market-data stream (bounded). Also a `futures::Stream`.
#[derive(Debug)]
pub struct MarketEvents {
    rx: mpsc::Receiver<MarketEvent>,
}

impl MarketEvents {
    /// The next event; `None` once the stream has stopped.
    pub async fn recv(&mut self) -> Option<MarketEvent> {
        self.rx.recv().await
    }
}

impl futures::Stream for MarketEvents {
    type Item = MarketEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<MarketEvent>> {
        self.rx.poll_recv(cx)
    }
}

pub(crate) fn open(
    client: DataClient,
    channels: Vec<Channel>,
) -> Result<(MarketSubscription, MarketEvents)> {
    let mut unique: Vec<Channel> = Vec::new();
    for c in channels {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    let channels = Arc::new(Mutex::new(unique));
    let config = client.config().stream.clone();
    let (tx, rx) = mpsc::channel(config.channel_capacity.max(1));
    let (command_tx, command_rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let http = client.inner().http.clone();
    let session = DataSession {
        client,
        channels: channels.clone(),
        last_token: None,
    };
    tokio::spawn(signalr::run(
        session,
        http,
        config,
        tx,
        command_rx,
        cancel.clone(),
    ));
    Ok((
        MarketSubscription {
            channels,
            commands: command_tx,
            cancel,
        },
        MarketEvents { rx },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channel_strings_follow_the_grammar() {
        assert_eq!(Channel::all(ChannelKind::Quote).wire(), "X-QUOTE:ALL");
        assert_eq!(
            Channel::symbols(ChannelKind::Trade, ["SSI", "ACB"])
                .unwrap()
                .wire(),
            "X-TRADE:SSI-ACB"
        );
        assert_eq!(
            Channel::symbols(ChannelKind::Index, ["VN30", "HNXIndex"])
                .unwrap()
                .wire(),
            "MI:VN30-HNXIndex"
        );
        assert!(Channel::symbols(ChannelKind::Bar, ["SSI-ACB"]).is_err());
        assert!(Channel::symbols(ChannelKind::Bar, Vec::<String>::new()).is_err());
        let kinds = [
            (ChannelKind::SecurityStatus, "F"),
            (ChannelKind::Snapshot, "X"),
            (ChannelKind::ForeignRoom, "R"),
            (ChannelKind::Bar, "B"),
            (ChannelKind::OddLot, "OL"),
        ];
        for (kind, wire) in kinds {
            assert_eq!(Channel::all(kind).wire(), format!("{wire}:ALL"));
        }
    }

    #[test]
    fn quote_payload_is_decoded_twice() {
        let content = json!({
            "RType": "X-QUOTE", "TradingDate": "04/05/2023", "Time": "14:29:05",
            "Exchange": "HOSE", "Symbol": "SSI",
            "BidPrice1": 22950.0, "BidVol1": 1500.0, "BidPrice2": 22900.0, "BidVol2": "200",
            "BidPrice3": 0.0, "BidVol3": 0.0,
            "AskPrice1": 23000.0, "AskVol1": 100, "AskPrice2": 0, "AskVol2": 0,
            "TradingSession": "LO"
        });
        let payload = json!({"DataType": "X-QUOTE", "Content": content.to_string()}).to_string();
        let MarketEvent::Quote(q) = decode_broadcast(&Value::String(payload)).unwrap() else {
            panic!("not a quote")
        };
        assert_eq!(q.symbol, "SSI");
        assert_eq!(q.bids.len(), 2);
        assert_eq!(q.bids[0].price.to_i64_exact(), Some(22950));
        assert_eq!(q.bids[1].volume, 200);
        assert_eq!(q.asks.len(), 1);
        assert_eq!(q.trading_session, Some(TradingSession::Lo));
    }

    #[test]
    fn content_as_object_and_lowercase_keys_are_accepted() {
        let payload = json!({"DataType": "MI", "Content": {
            "RType": "MI", "indexid": "VN30", "IndexValue": 1259.4, "Advances": 12
        }});
        let MarketEvent::Index(i) = decode_broadcast(&payload).unwrap() else {
            panic!("not an index")
        };
        assert_eq!(i.index_id, "VN30");
        assert_eq!(i.index_value.to_string(), "1259.4");
        assert_eq!(i.advances, Some(12));
    }

    #[test]
    fn foreign_room_accepts_both_key_spellings() {
        for key in ["BuyVol", "FBuyVol"] {
            let payload = json!({"DataType": "R", "Content": json!({
                "RType": "R", "Symbol": "FPT", key: "1000", "TotalRoom": 10, "CurrentRoom": 5
            }).to_string()});
            let MarketEvent::ForeignRoom(r) = decode_broadcast(&payload).unwrap() else {
                panic!("not R")
            };
            assert_eq!(r.buy_vol, Some(1000));
        }
    }

    #[test]
    fn bad_payloads_give_typed_errors() {
        let unknown = json!({"DataType": "ZZ", "Content": "{\"RType\":\"ZZ\"}"});
        assert!(matches!(
            decode_broadcast(&unknown),
            Err(Error::UnknownValue { kind: "RType", .. })
        ));
        let bad_price = json!({"DataType": "X-TRADE", "Content": "{\"RType\":\"X-TRADE\",\"Symbol\":\"SSI\",\"LastPrice\":\"abc\"}"});
        let err = decode_broadcast(&bad_price).unwrap_err();
        assert_eq!(err.to_string(), "invalid LastPrice in X-TRADE");
        assert!(decode_broadcast(&Value::String("{not json".into())).is_err());
        assert!(decode_broadcast(&json!({"DataType": "F"})).is_err());
        assert!(decode_broadcast(&json!(42)).is_err());
    }
}
