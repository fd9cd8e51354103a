//! Identifiers, order requests, order records and the events the engine emits.
//!
//! Every state change of the engine is one [`Event`], numbered and time-stamped in an
//! [`EventRecord`]. The simulator turns them into SSI FastConnect `orderEvent`,
//! `orderMatchEvent`, `orderError` and portfolio stream messages (ssi-fastconnect.md §7.1)
//! and into market-data payloads.

use std::fmt;

use market::fees::FillCost;
use market::order::{ChangeViolation, Priority};
use market::session::TimeOfDay;
use market::{Board, OrderType, Phase, Price, Quantity, Side, Symbol, Violations, Vnd};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// An order id assigned by the engine, dense and increasing in entry order (rejected
/// orders get one too, so every request can be referred to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A trade (execution) id, increasing in execution order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TradeId(pub u64);

/// A simulated broker account number (SSI `account`, e.g. `"0001231"` or `"0001238"` for
/// derivatives).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    /// An account id from its text.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The account id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new order as a client sends it (SSI `NewOrder`: account, instrument, side, order
/// type, price, quantity). Put-through deals use [`PutThroughDeal`] instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Ordering account.
    pub account: AccountId,
    /// Instrument.
    pub symbol: Symbol,
    /// Round-lot ([`Board::Main`]) or odd-lot ([`Board::OddLot`]) book (reference §6).
    pub board: Board,
    /// Buy or sell.
    pub side: Side,
    /// Order type (reference §3.1).
    pub order_type: OrderType,
    /// Limit price for LO; `None` for every other type (reference §14).
    pub price: Option<Price>,
    /// Quantity.
    pub quantity: Quantity,
}

/// A negotiated (put-through) deal reported by both sides: no matching, executed as
/// reported once both sides pass their checks (reference §2.1, §3.1 "put-through").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutThroughDeal {
    /// Buying account.
    pub buyer: AccountId,
    /// Selling account.
    pub seller: AccountId,
    /// Instrument.
    pub symbol: Symbol,
    /// Agreed price (put-through tick is 1 VND, reference §4).
    pub price: Price,
    /// Agreed quantity (no round-lot requirement, a minimum per exchange, reference §6).
    pub quantity: Quantity,
}

/// Where an order stands (maps to SSI `orderStatus`, ssi-fastconnect.md §7.1: `QU`, `PF`,
/// `FF`, `CL` (or `FFPC` when partly filled), `EX`, `RJ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Working at the exchange, nothing filled (`QU`).
    Queued,
    /// Working, partly filled (`PF`).
    PartiallyFilled,
    /// Fully filled (`FF`).
    Filled,
    /// Cancelled by request or by a rule (`CL`; `FFPC` when `filled > 0`).
    Cancelled,
    /// Expired at the end of its validity (`EX`).
    Expired,
    /// Rejected at entry (`RJ`).
    Rejected,
}

impl OrderStatus {
    /// Whether the order can no longer trade.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Expired
                | OrderStatus::Rejected
        )
    }
}

/// One order as the engine holds it. Read through [`crate::Engine::order`]; only the
/// engine changes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Engine id.
    pub id: OrderId,
    /// Ordering account.
    pub account: AccountId,
    /// Instrument.
    pub symbol: Symbol,
    /// Book.
    pub board: Board,
    /// Buy or sell.
    pub side: Side,
    /// Order type as entered (an MTL keeps `Mtl` after conversion; see `converted`).
    pub order_type: OrderType,
    /// Current limit: the LO price, the PLO closing price, or the LO price an MTL remainder
    /// converted to; `None` for ATO/ATC/MOK/MAK and unconverted MTL.
    pub price: Option<Price>,
    /// Current total quantity (filled included; amendments change it).
    pub quantity: Quantity,
    /// Executed so far.
    pub filled: Quantity,
    /// Sum of price × quantity over the fills (average price = value / filled).
    pub filled_value: Vnd,
    /// Status.
    pub status: OrderStatus,
    /// Trading date of entry.
    pub date: Date,
    /// Time of entry.
    pub entered_at: TimeOfDay,
    /// Phase of the board at entry (self-cross rule of reference §3.5 exempts orders
    /// carried over from the preceding continuous session).
    pub entered_phase: Phase,
    /// Whether an MTL remainder was converted to an LO (reference §3.1).
    pub converted: bool,
    /// Time priority sequence: lower is earlier; renewed when priority is lost (§3.3).
    pub(crate) seq: u64,
    /// Whether the order sits in a book.
    pub(crate) resting: bool,
}

impl OrderRecord {
    /// Quantity still open.
    pub fn remaining(&self) -> Quantity {
        self.quantity.saturating_sub(self.filled)
    }

    /// The order as `market` sees it (for amend/cancel checks and validation).
    pub fn as_market_order(&self) -> market::Order {
        market::Order {
            side: self.side,
            order_type: self.order_type,
            board: self.board,
            price: if self.order_type.carries_price() {
                self.price
            } else {
                None
            },
            quantity: self.quantity,
        }
    }
}

/// Why an order was refused at entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum RejectReason {
    /// Exchange and account rules from `market::validate_order` (all of them).
    #[error("{violations}")]
    Rules {
        /// Every broken rule.
        violations: Violations,
    },
    /// The account is not open in the simulator.
    #[error("unknown account {account}")]
    UnknownAccount {
        /// The account.
        account: AccountId,
    },
    /// The instrument is not listed in the engine.
    #[error("unknown security {symbol}")]
    UnknownSecurity {
        /// The symbol.
        symbol: Symbol,
    },
    /// Buying power does not cover value plus fees (reference §3.5, §7.1 prefunding; fees
    /// from `market::fees`).
    #[error("order needs {required} including fees but only {available} is available")]
    InsufficientBuyingPower {
        /// Value plus fees held at entry.
        required: Vnd,
        /// Buying power.
        available: Vnd,
    },
    /// Put-through deals go through [`crate::Engine::put_through`], not the order book.
    #[error("put-through deals are reported, not matched")]
    PutThroughNotMatched,
    /// The same account is on both sides of a put-through deal.
    #[error("buyer and seller of a put-through deal are the same account")]
    SameAccountDeal,
    /// The engine clock has not been set ([`crate::Engine::advance_to`] first).
    #[error("the engine clock is not set")]
    ClockNotSet,
    /// A money or quantity computation overflowed.
    #[error("arithmetic overflow")]
    Overflow,
}

/// Why an amendment or cancellation was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum ChangeRejection {
    /// No such order.
    #[error("unknown order {order}")]
    UnknownOrder {
        /// The id.
        order: OrderId,
    },
    /// The order is final (filled, cancelled, expired or rejected).
    #[error("order {order} is {status:?}")]
    NotWorking {
        /// The id.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// Amend/cancel rules of reference §3.3 (`market::order`).
    #[error("{violation}")]
    Window {
        /// The rule.
        violation: ChangeViolation,
    },
    /// The amended order breaks exchange or account rules (`market::validate_order`).
    #[error("{violations}")]
    Rules {
        /// Every broken rule.
        violations: Violations,
    },
    /// The amendment needs more buying power than is available (value plus fees).
    #[error("amendment needs {required} including fees but only {available} is available")]
    InsufficientBuyingPower {
        /// Hold required after the amendment.
        required: Vnd,
        /// Buying power including the order's current hold.
        available: Vnd,
    },
    /// A money or quantity computation overflowed.
    #[error("arithmetic overflow")]
    Overflow,
}

/// Why the engine cancelled (part of) an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The client asked.
    Requested,
    /// ATO/ATC remainder after its call auction (reference §3.1).
    AuctionRemainder,
    /// MAK remainder after immediate matching (reference §3.1).
    ImmediateOrCancel,
    /// MOK that could not fill completely (reference §3.1).
    FillOrKill,
    /// Self-trade prevention per account (reference §3.5).
    SelfTrade,
    /// A market order (MTL/MOK/MAK) found no opposite order at all.
    NoLiquidity,
}

/// How a trade came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeKind {
    /// Continuous matching at the resting order's price (reference §3.4).
    Continuous,
    /// Call-auction uncross at the single auction price (reference §3.4).
    Auction,
    /// HNX post-close at the closing price (reference §2.3).
    PostClose,
    /// Negotiated deal (reference §2.1).
    PutThrough,
}

/// One execution between a buy and a sell order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// Execution id.
    pub id: TradeId,
    /// Instrument.
    pub symbol: Symbol,
    /// Book.
    pub board: Board,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub quantity: Quantity,
    /// Buy order.
    pub buy_order: OrderId,
    /// Sell order.
    pub sell_order: OrderId,
    /// The side of the incoming (aggressing) order in continuous matching; `None` for
    /// auctions and deals (SSI X-TRADE buy-up/sell-down flag).
    pub aggressor: Option<Side>,
    /// How it came about.
    pub kind: TradeKind,
}

/// One fill of one order (one side of a [`Trade`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The order filled.
    pub order: OrderId,
    /// Its account.
    pub account: AccountId,
    /// Instrument.
    pub symbol: Symbol,
    /// Side of this order.
    pub side: Side,
    /// Execution id shared with the counterparty's fill.
    pub trade: TradeId,
    /// Price.
    pub price: Price,
    /// Quantity of this fill.
    pub quantity: Quantity,
    /// Cumulative filled after this fill.
    pub filled: Quantity,
    /// Still open after this fill (0 = fully filled).
    pub remaining: Quantity,
    /// The counterparty order.
    pub counterparty: OrderId,
    /// Fees and tax charged to this account for this fill (`market::fees::fill_cost`).
    pub cost: FillCost,
}

/// Every state change the engine makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    /// An order passed every check and is working.
    OrderAccepted {
        /// The order at acceptance.
        order: OrderRecord,
    },
    /// An order was refused at entry.
    OrderRejected {
        /// The order as requested (status `Rejected`).
        order: OrderRecord,
        /// Why.
        reason: RejectReason,
    },
    /// An amendment was applied (reference §3.3).
    OrderAmended {
        /// The order.
        order: OrderId,
        /// Its account.
        account: AccountId,
        /// New limit price.
        price: Option<Price>,
        /// New total quantity.
        quantity: Quantity,
        /// Whether it kept its place in the queue.
        priority: Priority,
    },
    /// An amendment was refused.
    AmendRejected {
        /// The order.
        order: OrderId,
        /// Why.
        reason: ChangeRejection,
    },
    /// A cancellation request was refused.
    CancelRejected {
        /// The order.
        order: OrderId,
        /// Why.
        reason: ChangeRejection,
    },
    /// The open part of an order was cancelled.
    OrderCancelled {
        /// The order.
        order: OrderId,
        /// Its account.
        account: AccountId,
        /// Instrument.
        symbol: Symbol,
        /// Quantity cancelled.
        cancelled: Quantity,
        /// Filled before the cancellation.
        filled: Quantity,
        /// Why.
        reason: CancelReason,
    },
    /// An unfilled MTL remainder became an LO (reference §3.1).
    MtlConverted {
        /// The order.
        order: OrderId,
        /// Its account.
        account: AccountId,
        /// LO price from `MarketRules::mtl_conversion_price`.
        price: Price,
    },
    /// One side of an execution.
    OrderFilled(Fill),
    /// The open part of an order expired (day orders at the end of their validity).
    OrderExpired {
        /// The order.
        order: OrderId,
        /// Its account.
        account: AccountId,
        /// Instrument.
        symbol: Symbol,
        /// Quantity expired.
        expired: Quantity,
        /// Filled before expiry.
        filled: Quantity,
    },
    /// An execution (market data: last price and volume).
    Trade(Trade),
    /// A board moved to another phase.
    PhaseChanged {
        /// Instrument.
        symbol: Symbol,
        /// Book.
        board: Board,
        /// Previous phase.
        from: Phase,
        /// New phase.
        to: Phase,
    },
    /// A call auction ended (reference §3.4).
    AuctionUncrossed {
        /// Instrument.
        symbol: Symbol,
        /// Book.
        board: Board,
        /// The auction.
        phase: Phase,
        /// Uncrossing price; `None` when nothing matched.
        price: Option<Price>,
        /// Matched volume.
        volume: Quantity,
    },
    /// The day's closing price was fixed (reference §3.4: ATC price, else last trade,
    /// else `None` and the previous close carries over).
    ClosingPrice {
        /// Instrument.
        symbol: Symbol,
        /// The close, if the day traded.
        price: Option<Price>,
    },
    /// The reference price and band of the next trading day were set.
    ReferenceRolled {
        /// Instrument.
        symbol: Symbol,
        /// New limits.
        limits: market::PriceLimits,
    },
}

/// An [`Event`] with its sequence number and time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// 1, 2, 3… in emission order (usable as SSI `notifyID`).
    pub seq: u64,
    /// When it happened (engine clock, UTC+7).
    pub at: OffsetDateTime,
    /// What happened.
    pub event: Event,
}
