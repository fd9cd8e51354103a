//! Domain types of the broker interface: independent of SSI's wire, built on `market`.
//!
//! Prices are [`Price`] (whole VND; tenths of an index point for futures), quantities
//! [`Quantity`], money [`Vnd`]. Index values, which carry two decimals, are [`IndexValue`]
//! in hundredths of a point. Times are `OffsetDateTime` in Vietnam time where SSI gives a
//! time, dates are `Date`.

use std::fmt;

use market::{Board, Exchange, InstrumentKind, OrderType, Price, Quantity, Side, Symbol, Vnd};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};

/// The caller's id of one order action (place, amend or cancel): 1 to 8 digits, unique per
/// trading day per API key. It is SSI v2's `requestID` and v3's `clientRequestId` (the
/// intersection of both wires' rules), so one id keeps retries exactly-once on either
/// generation: persist it before sending, resend the same id after a timeout, and a
/// [`Error::Duplicate`] answer means the first attempt got through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ClientOrderId(u32);

impl ClientOrderId {
    /// Largest id (8 digits, v2's limit).
    pub const MAX: u32 = 99_999_999;

    /// An id of at most 8 digits.
    pub fn new(id: u32) -> Result<Self> {
        if id > Self::MAX {
            return Err(Error::Invalid(format!(
                "client order id {id} has more than 8 digits"
            )));
        }
        Ok(Self(id))
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Reads the decimal text SSI echoes back (`uniqueID`, `clientRequestId`).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() || t.len() > 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().map(Self)
    }
}

impl TryFrom<u32> for ClientOrderId {
    type Error = Error;
    fn try_from(id: u32) -> Result<Self> {
        Self::new(id)
    }
}

impl From<ClientOrderId> for u32 {
    fn from(id: ClientOrderId) -> u32 {
        id.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An index value in hundredths of a point (`1234.56` → `123456`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndexValue(pub i64);

/// A new order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Sub-account (SSI: ending in 1 for cash, 8 for derivatives).
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Exchange order type.
    pub order_type: OrderType,
    /// Limit price: required for LO, `None` for the market-priced types.
    pub price: Option<Price>,
    /// Shares or contracts.
    pub quantity: Quantity,
    /// The caller's id of this order; see [`ClientOrderId`].
    pub client_order_id: ClientOrderId,
}

impl OrderRequest {
    /// Refuses a limit type without a price, or a market-priced type with one, before
    /// anything reaches the broker.
    pub fn check_price(&self) -> Result<()> {
        let needs = self.order_type.carries_price();
        if needs == self.price.is_some() {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "{} orders {}",
            self.order_type,
            if needs {
                "need a price"
            } else {
                "take no price"
            }
        )))
    }
}

/// What the broker said when it took an order action for processing. The outcome (working,
/// filled, rejected by the exchange) arrives as [`AccountEvent`]s and in the order book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAck {
    /// The id of the action.
    pub client_order_id: ClientOrderId,
    /// The broker's order id, when the answer carries it (v3 does; v2 sends it on the
    /// stream only).
    pub order_id: Option<String>,
    /// The status, when the answer carries it.
    pub status: Option<OrderStatus>,
}

/// The order an amend or cancel applies to, as the caller (the OMS) knows it. v2 needs the
/// symbol, side, type and current price/quantity on every change; v3 only the order id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderKey {
    /// Sub-account.
    pub account: String,
    /// The broker's order id.
    pub order_id: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Current limit price.
    pub price: Option<Price>,
    /// Current total quantity.
    pub quantity: Quantity,
}

/// An amendment: price or quantity, never both (the exchange rule, reference §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendRequest {
    /// The order.
    pub order: OrderKey,
    /// The change.
    pub change: market::order::Amendment,
    /// The id of this action (a new one, not the order's).
    pub client_order_id: ClientOrderId,
}

/// A cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// The order.
    pub order: OrderKey,
    /// The id of this action (a new one, not the order's).
    pub client_order_id: ClientOrderId,
}

/// Where an order is in its life, the same for both generations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted by the broker, not yet working at the exchange (v3 `PD`, v2 `WA`/`RS`/`SD`).
    PendingNew,
    /// Working at the exchange.
    New,
    /// Partly filled, still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after partial fills).
    Cancelled,
    /// Refused by the broker or the exchange.
    Rejected,
    /// Expired (end of session for ATO/ATC/MAK remainders, end of day).
    Expired,
    /// An amendment is pending.
    PendingAmend,
    /// A cancellation is pending.
    PendingCancel,
    /// A broker-held conditional order waiting for its trigger.
    Triggering,
    /// A status this crate does not know, as SSI sent it.
    Other(String),
}

impl OrderStatus {
    /// True when the order can no longer trade.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }
}

/// One order as the broker sees it now (order book rows, order events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    /// Sub-account.
    pub account: String,
    /// The broker's order id.
    pub order_id: String,
    /// The id the order was placed with, when the broker reports it.
    pub client_order_id: Option<ClientOrderId>,
    /// The id of the latest action (place, amend or cancel) on it, when reported.
    pub last_action_id: Option<ClientOrderId>,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Type, when reported.
    pub order_type: Option<OrderType>,
    /// Limit price.
    pub price: Option<Price>,
    /// Total quantity.
    pub quantity: Quantity,
    /// Filled so far.
    pub filled: Quantity,
    /// Cancelled.
    pub cancelled: Quantity,
    /// Average fill price.
    pub avg_price: Option<Price>,
    /// Status.
    pub status: OrderStatus,
    /// Why it was rejected, when it was.
    pub reject_reason: Option<String>,
    /// Last change.
    pub updated_at: Option<OffsetDateTime>,
}

/// One fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Sub-account.
    pub account: String,
    /// The broker's order id.
    pub order_id: String,
    /// The id the order was placed with, when reported.
    pub client_order_id: Option<ClientOrderId>,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Fill price.
    pub price: Price,
    /// Fill quantity.
    pub quantity: Quantity,
    /// When.
    pub time: Option<OffsetDateTime>,
    /// The broker's id of this fill event, the same when the stream delivers it again (the
    /// event's `notifyID` on both generations), so a replayed fill can be recognised.
    pub fill_id: Option<String>,
}

/// What the account stream delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountEvent {
    /// An order changed (new, amended, cancelled, rejected, filled).
    Order(OrderState),
    /// A fill.
    Fill(Fill),
    /// An order action failed after it was accepted (v2 `orderError`).
    ActionFailed {
        /// The id of the failed action.
        client_order_id: Option<ClientOrderId>,
        /// The order, if it exists.
        order_id: Option<String>,
        /// SSI's code.
        code: Option<String>,
        /// SSI's text.
        message: String,
    },
    /// Derivatives positions changed.
    Positions(Vec<Position>),
    /// The stream was interrupted and may have missed events (v3 always after a reconnect;
    /// v2 only when its NotifyID replay could not cover the gap). Reconcile through
    /// [`crate::Trading::order_book`].
    Gap {
        /// Why.
        reason: String,
    },
    /// The stream is (again) connected; after a v2 reconnect the replay from the last
    /// delivered NotifyID follows, so nothing is missed.
    Reconnected,
}

/// One holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Held now (shares; net contracts for derivatives, which may be short: see `short`).
    pub quantity: Quantity,
    /// Sellable now (T+2 settled, not blocked).
    pub sellable: Quantity,
    /// Short contracts (derivatives only).
    pub short: Quantity,
    /// Average cost.
    pub avg_price: Option<Price>,
}

/// Cash and buying power of a sub-account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Sub-account.
    pub account: String,
    /// Cash balance.
    pub cash: Option<Vnd>,
    /// Buying (purchasing) power.
    pub buying_power: Option<Vnd>,
    /// Withdrawable.
    pub withdrawable: Option<Vnd>,
}

/// The largest buy and sell the broker allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxQuantities {
    /// Largest buy at the price asked.
    pub max_buy: Quantity,
    /// Largest sell.
    pub max_sell: Quantity,
}

/// When a conditional order fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The last price rises to or above the level.
    AtOrAbove(Price),
    /// The last price falls to or below the level.
    AtOrBelow(Price),
}

/// What a conditional order does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionalKind {
    /// Stop: a market-to-limit order when triggered.
    Stop {
        /// The trigger.
        trigger: Trigger,
    },
    /// Stop-limit: a limit order at `limit` when triggered.
    StopLimit {
        /// The trigger.
        trigger: Trigger,
        /// The order's limit price.
        limit: Price,
    },
    /// Good till date: a limit order at `limit`, placed each trading day of the window until
    /// its quantity is filled.
    Gtd {
        /// The order's limit price.
        limit: Price,
    },
    /// Trailing stop: activates at `activation`, then trails the price by `trail`.
    TrailingStop {
        /// Activation price.
        activation: Price,
        /// Trailing distance in price units.
        trail: i64,
    },
    /// Trailing stop-limit: like [`ConditionalKind::TrailingStop`], but triggered it places a
    /// limit order at the price that triggered it instead of a market-priced one.
    TrailingStopLimit {
        /// Activation price.
        activation: Price,
        /// Trailing distance in price units.
        trail: i64,
    },
    /// One cancels the other: a take-profit and a stop-loss.
    Oco {
        /// Take-profit trigger price.
        take_profit: Price,
        /// Take-profit limit (`None`: market).
        take_profit_limit: Option<Price>,
        /// Stop-loss trigger price.
        stop_loss: Price,
        /// Stop-loss limit (`None`: market).
        stop_loss_limit: Option<Price>,
    },
    /// Bull/bear: an entry limit order at `entry`; once it fills, an [`ConditionalKind::Oco`]
    /// on the other side for the filled quantity.
    BullBear {
        /// The entry order's limit price.
        entry: Price,
        /// Take-profit trigger price.
        take_profit: Price,
        /// Take-profit limit (`None`: market).
        take_profit_limit: Option<Price>,
        /// Stop-loss trigger price.
        stop_loss: Price,
        /// Stop-loss limit (`None`: market).
        stop_loss_limit: Option<Price>,
    },
}

/// A conditional order held by the broker (v3 FCO).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionalRequest {
    /// Sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Quantity.
    pub quantity: Quantity,
    /// Window start (Vietnam local time).
    pub from: time::PrimitiveDateTime,
    /// Window end (at most 31 days later on v3).
    pub to: time::PrimitiveDateTime,
    /// What it does.
    pub kind: ConditionalKind,
}

/// What conditional orders a broker holds itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionalSupport {
    /// True when [`crate::Trading::place_conditional`] works; false means the caller (the
    /// OMS) must hold conditional orders itself.
    pub broker_held: bool,
}

/// Where a broker-held conditional order is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionalState {
    /// Accepted, not yet watching its condition (FCO `INIT`).
    Pending,
    /// Watching its condition (FCO `WAIT`; also a trailing order after activation, a `gtd`
    /// waiting for the next day, a bull/bear whose entry filled).
    Active,
    /// The condition held and its order was (or is being) placed (FCO `TRI`, `TRIT`): see
    /// [`ConditionalOrder::children`].
    Triggered,
    /// Its orders ended with fills (FCO `FIS`).
    Finished,
    /// A cancellation is pending (FCO `WC`).
    PendingCancel,
    /// Cancelled, or terminated because its orders ended unfilled (FCO `TER`).
    Cancelled,
    /// Its window ended (FCO `EXP`).
    Expired,
    /// The broker could not place its order (FCO `ERR`); the detail says why.
    Failed,
    /// A state this crate does not know, as the broker sent it.
    Other(String),
}

impl ConditionalState {
    /// True when the conditional order can no longer trigger or trade.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ConditionalState::Finished
                | ConditionalState::Cancelled
                | ConditionalState::Expired
                | ConditionalState::Failed
        )
    }
}

/// An order a conditional order placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionalChild {
    /// The broker's order id (an ordinary order of the account, in its order book).
    pub order_id: String,
    /// Side (a bull/bear's exit legs are on the other side of its entry).
    pub side: Side,
    /// Limit price (`None`: market-priced).
    pub price: Option<Price>,
    /// Quantity.
    pub quantity: Quantity,
    /// Filled so far.
    pub filled: Quantity,
    /// True for a take-profit or stop-loss leg (OCO, bull/bear exit); false for the main
    /// (entry, or only) order.
    pub attached: bool,
    /// Status.
    pub status: OrderStatus,
}

/// A broker-held conditional order as the broker reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionalOrder {
    /// Sub-account.
    pub account: String,
    /// The broker's id (what [`crate::Trading::place_conditional`] answered).
    pub id: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Quantity.
    pub quantity: Quantity,
    /// Filled over all its orders.
    pub filled: Quantity,
    /// What it does, read back from the broker's parameters; `None` when they do not read
    /// as one of the kinds (a trigger comparing for equality, a type this crate does not
    /// know).
    pub kind: Option<ConditionalKind>,
    /// Where it is.
    pub state: ConditionalState,
    /// The broker's text on the latest change.
    pub detail: Option<String>,
    /// Window start (Vietnam local time), when reported.
    pub from: Option<time::PrimitiveDateTime>,
    /// Window end, when reported.
    pub to: Option<time::PrimitiveDateTime>,
    /// The orders it placed, in order (empty until triggered).
    pub children: Vec<ConditionalChild>,
}

/// One state change of a conditional order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionalStep {
    /// The state it entered.
    pub state: ConditionalState,
    /// When (Vietnam time), when the broker's time reads.
    pub time: Option<OffsetDateTime>,
    /// The broker's text.
    pub detail: Option<String>,
}

/// A listed security.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityInfo {
    /// Ticker.
    pub symbol: Symbol,
    /// Exchange, when known.
    pub exchange: Option<Exchange>,
    /// Name.
    pub name: Option<String>,
}

/// Reference data of one listed security: FC Data `SecuritiesDetails` (v2) or
/// `securitiesByBoard` (v3). Fields the broker did not send are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityDetail {
    /// Ticker.
    pub symbol: Symbol,
    /// Exchange (the one asked for when the broker does not say).
    pub exchange: Exchange,
    /// Instrument kind, from the broker's security type; `None` when it sent none or one
    /// this crate does not know.
    pub kind: Option<InstrumentKind>,
    /// Vietnamese name.
    pub name: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// ISIN.
    pub isin: Option<String>,
    /// Round lot on the main board.
    pub lot_size: Option<u64>,
    /// Listed shares.
    pub listed_shares: Option<u64>,
    /// Underlying (covered warrants, futures).
    pub underlying: Option<String>,
    /// Maturity (covered warrants, futures, bonds).
    pub maturity: Option<Date>,
    /// First trading day.
    pub first_trading_day: Option<Date>,
    /// Last trading day.
    pub last_trading_day: Option<Date>,
    /// Sector (v3's ICB name; v2 sends none).
    pub sector: Option<String>,
}

/// An index of an exchange (FC Data `IndexList`, v3 `indexList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexInfo {
    /// Index code (`VN30`, `HNX30`, ...).
    pub code: String,
    /// Name.
    pub name: Option<String>,
    /// Exchange, when sent.
    pub exchange: Option<Exchange>,
}

/// One security's prices of one trading day, from the exchange-wide daily list (FC Data
/// `DailyStockPrice`, v3 `masterdata`). v3 sends only the band: close, volume, value and
/// foreign room are `None` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPrice {
    /// Ticker.
    pub symbol: Symbol,
    /// Exchange, when known.
    pub exchange: Option<Exchange>,
    /// Trading day.
    pub date: Date,
    /// Reference price.
    pub reference: Option<Price>,
    /// Ceiling.
    pub ceiling: Option<Price>,
    /// Floor.
    pub floor: Option<Price>,
    /// Close (or last, while the day runs); `None` when nothing traded.
    pub close: Option<Price>,
    /// Matched volume (round lot, put-through excluded).
    pub volume: Option<Quantity>,
    /// Matched value in đồng (put-through excluded).
    pub value: Option<Vnd>,
    /// Foreign room left.
    pub foreign_room: Option<Quantity>,
}

/// A security's state for one trading day: reference, band and the day's prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuritySnapshot {
    /// Ticker.
    pub symbol: Symbol,
    /// Trading day.
    pub date: Date,
    /// Reference price.
    pub reference: Option<Price>,
    /// Ceiling.
    pub ceiling: Option<Price>,
    /// Floor.
    pub floor: Option<Price>,
    /// Open.
    pub open: Option<Price>,
    /// High.
    pub high: Option<Price>,
    /// Low.
    pub low: Option<Price>,
    /// Close (or last).
    pub close: Option<Price>,
    /// Matched volume.
    pub volume: Option<Quantity>,
    /// Foreign room left.
    pub foreign_room: Option<Quantity>,
}

/// Bar sizes both generations serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// One minute.
    Minute1,
    /// Five minutes.
    Minute5,
    /// Fifteen minutes.
    Minute15,
    /// One hour.
    Hour1,
    /// One day.
    Day1,
}

impl Resolution {
    /// Minutes per bar for intraday resolutions.
    pub const fn minutes(self) -> Option<u32> {
        match self {
            Resolution::Minute1 => Some(1),
            Resolution::Minute5 => Some(5),
            Resolution::Minute15 => Some(15),
            Resolution::Hour1 => Some(60),
            Resolution::Day1 => None,
        }
    }
}

/// A bars query; paging is the adapter's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarsQuery {
    /// Instrument.
    pub symbol: Symbol,
    /// Bar size.
    pub resolution: Resolution,
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
}

/// One OHLCV bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// Instrument.
    pub symbol: Symbol,
    /// Bar start (daily bars: the day at 00:00 Vietnam time when SSI gives no time).
    pub time: OffsetDateTime,
    /// Open.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close.
    pub close: Price,
    /// Volume.
    pub volume: Quantity,
}

/// One daily index value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexPoint {
    /// Index code (`VN30`, `VNINDEX`, ...).
    pub index: String,
    /// Trading day.
    pub date: Date,
    /// Value.
    pub value: IndexValue,
}

/// What to stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Trades, quotes and status of these symbols.
    pub symbols: Vec<Symbol>,
    /// Trades, quotes and status of every symbol (the whole market; SSI warns it is heavy).
    /// `symbols` is then ignored.
    pub all_symbols: bool,
    /// Values of these indexes.
    pub indexes: Vec<String>,
    /// Values of every index; `indexes` is then ignored.
    pub all_indexes: bool,
    /// Also foreign room of the symbols.
    pub foreign_room: bool,
    /// Also one-minute bars of the symbols.
    pub bars: bool,
    /// Also the odd-lot board's quotes of the symbols ([`MarketEvent::Quote`] with
    /// [`Board::OddLot`]).
    pub odd_lot: bool,
}

impl Subscription {
    /// True when it asks for nothing.
    pub fn is_empty(&self) -> bool {
        !self.all_symbols && self.symbols.is_empty() && !self.all_indexes && self.indexes.is_empty()
    }
}

/// One side's price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Price.
    pub price: Price,
    /// Volume at the price.
    pub volume: Quantity,
}

/// A normalised live market event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MarketEvent {
    /// A trade.
    Trade {
        /// Instrument.
        symbol: Symbol,
        /// Price.
        price: Price,
        /// Quantity of this trade.
        quantity: Quantity,
        /// Day's cumulative volume, when sent.
        total_volume: Option<Quantity>,
        /// Exchange clock time (Vietnam), when sent.
        time: Option<time::Time>,
    },
    /// Best bids and asks.
    Quote {
        /// Instrument.
        symbol: Symbol,
        /// The main (round-lot) board or the odd-lot board.
        board: Board,
        /// Bids, best first.
        bids: Vec<Level>,
        /// Asks, best first.
        asks: Vec<Level>,
    },
    /// An index value.
    Index {
        /// Index code.
        index: String,
        /// Value.
        value: IndexValue,
    },
    /// Foreign room.
    ForeignRoom {
        /// Instrument.
        symbol: Symbol,
        /// Room left.
        current_room: Option<Quantity>,
        /// Total room.
        total_room: Option<Quantity>,
    },
    /// A bar.
    Bar(Bar),
    /// Session or trading status of a security or board.
    Status {
        /// Instrument, or `None` for a board-wide flag.
        symbol: Option<Symbol>,
        /// Status text as sent (`N`, `H`, session codes, board flags).
        status: String,
    },
    /// Events may have been missed (disconnect, reconnect without replay): refresh
    /// snapshots and order books.
    Gap {
        /// Why.
        reason: String,
    },
    /// The stream is connected again and every subscription resent.
    Reconnected,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_order_needs_a_price_and_a_market_order_takes_none() {
        let lo = OrderRequest {
            account: "0001001".to_owned(),
            symbol: Symbol::parse("SSI").unwrap(),
            side: Side::Buy,
            order_type: OrderType::Lo,
            price: Some(Price::new(25_000).unwrap()),
            quantity: Quantity::new(100),
            client_order_id: ClientOrderId::new(1).unwrap(),
        };
        assert!(lo.check_price().is_ok());
        let err = OrderRequest {
            price: None,
            ..lo.clone()
        }
        .check_price()
        .unwrap_err();
        assert!(err.to_string().contains("need a price"), "{err}");
        let mtl = OrderRequest {
            order_type: OrderType::Mtl,
            ..lo.clone()
        };
        let err = mtl.check_price().unwrap_err();
        assert!(err.to_string().contains("take no price"), "{err}");
        assert!(OrderRequest { price: None, ..mtl }.check_price().is_ok());
    }
}

/// The trading session: whether orders can go now, and who keeps it open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradingSession {
    /// A session is open now.
    pub open: bool,
    /// When it ends, if known.
    pub expires_at: Option<OffsetDateTime>,
    /// The adapter opens and renews it by itself (v2 with a configured PIN); otherwise a
    /// person must log in with an OTP ([`crate::Trading::request_otp`], then
    /// [`crate::Trading::login_otp`]) and again after it ends.
    pub renews_itself: bool,
}

/// What asking for an OTP answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtpRequested {
    /// A Smart-OTP transaction to approve in SSI's app, then pass to
    /// [`crate::Trading::login_otp`] instead of a code; `None` when a code is sent by SMS/e-mail.
    pub transaction_id: Option<String>,
    /// SSI's message.
    pub message: String,
}
