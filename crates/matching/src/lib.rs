//! Exchange matching engine and simulated broker accounts for the SSI FastConnect
//! simulator (issue 4).
//!
//! Owns: order books per instrument and board with price-time priority (reference
//! `shared/reference/vn-market-rules.md` §3.4); continuous matching of LO, MTL (remainder
//! converted to LO), MOK and MAK (§3.1); call auctions (ATO, ATC, HOSE restricted-stock
//! periodic auctions) at one price per §3.4 with the KRX implied ATO/ATC price; HNX PLO
//! at the closing price (§2.3); put-through deals (§2.1); amend/cancel windows and
//! priority (§3.3); session transitions driven by the caller's clock (§2); self-trade
//! prevention (§3.5); and simulated accounts: cash, holds, T+2 sellability (§7.1), fees
//! and the 0.1% sale tax (§8), futures positions and initial margin (§7.4).
//!
//! Does **not** own any exchange rule: ticks, bands, lots, sessions, the order-type
//! matrix, amend/cancel permission, the funding price of orders without a price, when
//! open orders expire, the closing price, fees and settlement all come from `market`
//! (`docs/market-rules.md`). Does no IO, reads no clock, and persists nothing: the caller
//! snapshots [`EngineState`] (serde) and restores it with [`Engine::from_state`].
//!
//! Where to start: [`Engine`] — [`Engine::new`], [`Engine::list`],
//! [`Engine::open_account`], [`Engine::advance_to`], [`Engine::submit`],
//! [`Engine::amend`] (several at once, all or nothing: [`Engine::amend_all`]),
//! [`Engine::cancel`], [`Engine::put_through`], [`Engine::drain_events`],
//! [`Engine::depth`], [`Engine::max_buy_qty`].

pub mod account;
pub mod auction;
pub mod book;
pub mod engine;
pub mod error;
pub mod types;

pub use account::{Account, FuturesPosition, Position};
pub use engine::{
    BoardState, Clock, Depth, Engine, EngineConfig, EngineState, Instrument, Level, Listing,
    SelfTradePrevention,
};
pub use error::Error;
pub use types::{
    AccountId, CancelReason, ChangeRejection, Event, EventRecord, Fill, OrderId, OrderRecord,
    OrderRequest, OrderStatus, PutThroughDeal, RejectReason, Trade, TradeId, TradeKind,
};
