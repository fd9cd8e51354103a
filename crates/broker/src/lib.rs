//! The one broker interface of QTS: what ingestion, historical, master-data and the OMS see
//! of SSI, whichever FastConnect generation runs behind it.
//!
//! Owns: the domain types of orders, fills, positions, balances and market data
//! ([`types`], built on `market`'s `Symbol`, `Price`, `Quantity`, `Side` and `OrderType`),
//! the two object-safe traits [`MarketData`] and [`Trading`], one [`Error`] classified by
//! `common_error`, and the adapters [`v2::V2Data`]/[`v2::V2Trading`] (over
//! `fastconnect::{DataClient, TradingClient}`) and [`v3::V3Data`]/[`v3::V3Trading`] (over
//! `fastconnect::v3::Client`).
//! Does not own: the wire (`fastconnect`), exchange rules (`market`), order persistence and
//! the order state machine (the OMS).
//!
//! Reference data for master data: [`MarketData::security_details`] (kind, lot, listed
//! shares, names), [`MarketData::indexes`] and [`MarketData::index_components`], and
//! [`MarketData::daily_prices`] (a whole exchange's band for a day in one paged call; empty
//! before the broker publishes the day).
//!
//! Which generation runs is configuration: [`Settings`] (`generation = "v2" | "v3"` plus
//! that generation's credentials) and [`connect`] returns the trait objects.
//!
//! ```no_run
//! # async fn run() -> Result<(), broker::Error> {
//! let settings: broker::Settings = toml::from_str(r#"
//!     generation = "v3"
//!     api_key = "key-from-the-portal"
//!     api_secret = "secret"
//! "#).map_err(|e| broker::Error::Settings(e.to_string()))?;
//! let broker = broker::connect(settings)?;
//! let bars = broker.market_data.bars(&broker::BarsQuery {
//!     symbol: market::Symbol::parse("SSI").map_err(|e| broker::Error::Invalid(e.to_string()))?,
//!     resolution: broker::Resolution::Day1,
//!     from: time::macros::date!(2026 - 01 - 05),
//!     to: time::macros::date!(2026 - 01 - 30),
//! }).await?;
//! # drop(bars); Ok(()) }
//! ```
//!
//! What differs between the generations, and how the interface hides it:
//! - Exactly-once: a [`ClientOrderId`] (1–8 digits) is v2's `requestID` and v3's
//!   `clientRequestId`; a reused id answers [`Error::Duplicate`] on both.
//! - Account stream: v2 replays by NotifyID — a new stream starts with the day's events (or
//!   where `notify_id_file` says it stopped) and a reconnect resumes where it stopped, so it
//!   reports [`AccountEvent::Reconnected`] and no gap; v3 has no replay — a stream carries new
//!   events only and reports [`AccountEvent::Gap`] after every reconnect: reconcile with
//!   [`Trading::order_book`].
//! - Conditional orders: v3 holds every [`ConditionalKind`] at SSI (FCO: gtd, stop,
//!   stop-limit, trailing stop, trailing stop-limit, OCO, bull/bear;
//!   [`Trading::place_conditional`]) and lists them with their [`ConditionalState`] and the
//!   orders they placed ([`Trading::conditional_orders`], [`Trading::conditional_history`]);
//!   v2 answers [`Error::Unsupported`] and [`Trading::conditional_support`] says the OMS must
//!   hold them itself.
//! - Amendments change price or quantity, one per call, on both (the exchange rule); v2 needs
//!   the whole [`OrderKey`], v3 only the order id.
//! - Every [`MarketData::stream`] and [`Trading::account_events`] call opens its own
//!   connection (v3 allows at most 10 sockets per API key): open one per service and fan out.
//! - v3 trading needs an OTP login (a person): call `login_otp` on [`Broker::v3_client`]
//!   before trading; data works at once. v2 logs in with the configured PIN by itself.

pub mod error;
mod map;
mod price;
pub mod settings;
pub mod types;
pub mod v2;
pub mod v3;

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use market::{Exchange, Price, Symbol};
use time::Date;

pub use error::{Error, Generation, Result};
pub use fastconnect::provider::{IssuedToken, SharedTokenProvider, TokenKind};
pub use settings::{Settings, Tokens, V2Settings, V3Settings};
pub use types::*;

/// A live stream of events; each item is an event or an error mapping one payload (the
/// stream goes on after it). Dropping the stream closes the connection.
pub type EventStream<T> = BoxStream<'static, Result<T>>;

/// Market data: securities, snapshots, bars, index values and the live stream.
#[async_trait]
pub trait MarketData: Send + Sync {
    /// Which generation serves this.
    fn generation(&self) -> Generation;

    /// The securities listed on `exchange`.
    async fn securities(&self, exchange: Exchange) -> Result<Vec<SecurityInfo>>;

    /// One security's state on `date`: reference, band, the day's prices.
    async fn snapshot(&self, symbol: Symbol, date: Date) -> Result<SecuritySnapshot>;

    /// Every bar of the query, oldest first; paging is done here.
    async fn bars(&self, query: &BarsQuery) -> Result<Vec<Bar>>;

    /// Daily values of `index` between two days, oldest first.
    async fn index_history(&self, index: &str, from: Date, to: Date) -> Result<Vec<IndexPoint>>;

    /// Reference data (kind, lot, listed shares, names, ...) of every security listed on
    /// `exchange`; paging is done here. v3 lists no derivatives board:
    /// [`Error::Unsupported`] for [`Exchange::HnxDeriv`] there (its contracts are in
    /// [`MarketData::daily_prices`]).
    async fn security_details(&self, exchange: Exchange) -> Result<Vec<SecurityDetail>>;

    /// The indexes of `exchange` (HOSE and HNX publish indexes).
    async fn indexes(&self, exchange: Exchange) -> Result<Vec<IndexInfo>>;

    /// The constituents of `index`.
    async fn index_components(&self, index: &str) -> Result<Vec<Symbol>>;

    /// Every security of `exchange` with its prices of `date` (reference, ceiling, floor;
    /// close, volume and foreign room where the generation sends them), in one paged call.
    /// Empty when the broker has nothing for that day yet (a future day, before the broker
    /// publishes it): derive the band with `market`'s rules from the previous day's.
    async fn daily_prices(&self, exchange: Exchange, date: Date) -> Result<Vec<DailyPrice>>;

    /// A live stream of `subscription`, reconnecting by itself; gaps are reported as
    /// [`MarketEvent::Gap`] followed by [`MarketEvent::Reconnected`].
    async fn stream(&self, subscription: Subscription) -> Result<EventStream<MarketEvent>>;
}

/// Trading: orders, queries and the account event stream.
#[async_trait]
pub trait Trading: Send + Sync {
    /// Which generation serves this.
    fn generation(&self) -> Generation;

    /// Places an order. Retrying with the same [`ClientOrderId`] never places twice: the
    /// second answer is [`Error::Duplicate`].
    async fn place(&self, order: &OrderRequest) -> Result<OrderAck>;

    /// Amends a working order (price or quantity).
    async fn amend(&self, amend: &AmendRequest) -> Result<OrderAck>;

    /// Cancels a working order.
    async fn cancel(&self, cancel: &CancelRequest) -> Result<OrderAck>;

    /// Today's orders of `account`.
    async fn order_book(&self, account: &str) -> Result<Vec<OrderState>>;

    /// Orders of `account` entered between two days (inclusive): what the OMS reconciles
    /// with on start.
    async fn order_history(&self, account: &str, from: Date, to: Date) -> Result<Vec<OrderState>>;

    /// Today's order placed with `id`, if the broker has it: what to do after a
    /// [`Error::Duplicate`] or a timeout.
    async fn find_order(&self, account: &str, id: ClientOrderId) -> Result<Option<OrderState>>;

    /// Holdings of `account`.
    async fn positions(&self, account: &str) -> Result<Vec<Position>>;

    /// Cash and buying power of `account`.
    async fn balance(&self, account: &str) -> Result<Balance>;

    /// The largest buy at `price` and the largest sell of `symbol` now.
    async fn max_quantities(
        &self,
        account: &str,
        symbol: Symbol,
        price: Price,
    ) -> Result<MaxQuantities>;

    /// Order, fill and position events of `account`.
    async fn account_events(&self, account: &str) -> Result<EventStream<AccountEvent>>;

    /// The trading session now.
    async fn session(&self) -> TradingSession;

    /// Asks SSI to send an OTP (SMS/e-mail), or to push a Smart-OTP approval.
    async fn request_otp(&self) -> Result<OtpRequested>;

    /// Opens the trading session with an OTP code, or with an approved Smart-OTP transaction
    /// id (v3). v2 keeps the session for the token's life; a PIN-configured v2 never needs it.
    async fn login_otp(&self, code: &secrecy::SecretString) -> Result<TradingSession>;

    /// Whether the broker holds conditional orders itself.
    fn conditional_support(&self) -> ConditionalSupport;

    /// Places a broker-held conditional order; answers its id. [`Error::Unsupported`] when
    /// [`Trading::conditional_support`] says the broker holds none.
    async fn place_conditional(&self, order: &ConditionalRequest) -> Result<String>;

    /// Cancels a broker-held conditional order.
    async fn cancel_conditional(&self, account: &str, id: &str) -> Result<()>;

    /// Every broker-held conditional order of `account` with its state and the orders it
    /// placed. [`Error::Unsupported`] when the broker holds none.
    async fn conditional_orders(&self, account: &str) -> Result<Vec<ConditionalOrder>>;

    /// The state changes of one broker-held conditional order, oldest first.
    /// [`Error::Unsupported`] when the broker holds none.
    async fn conditional_history(&self, account: &str, id: &str) -> Result<Vec<ConditionalStep>>;
}

/// What [`connect`] returns: the trait objects the services use.
#[derive(Clone)]
pub struct Broker {
    /// Which generation runs.
    pub generation: Generation,
    /// Market data.
    pub market_data: Arc<dyn MarketData>,
    /// Trading, when the settings have trading credentials.
    pub trading: Option<Arc<dyn Trading>>,
    /// The v3 client, for the OTP login a person must make before v3 trading works.
    pub v3_client: Option<fastconnect::v3::Client>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("generation", &self.generation)
            .field("trading", &self.trading.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds the adapters `settings` choose. Nothing is sent yet: sessions open on first use.
/// Settings with `tokens = "config"` need [`connect_with`].
pub fn connect(settings: Settings) -> Result<Broker> {
    connect_with(settings, None)
}

/// Like [`connect`], with the token provider (the config service's, in QTS) that settings
/// with `tokens = "config"` use; `provider` is ignored with `tokens = "own"`.
pub fn connect_with(settings: Settings, provider: Option<SharedTokenProvider>) -> Result<Broker> {
    let provider = match (settings.tokens(), provider) {
        (Tokens::Own, _) => None,
        (Tokens::Config, Some(p)) => Some(p),
        (Tokens::Config, None) => {
            return Err(Error::Settings(
                "broker.tokens = \"config\" but no token provider was given (is the config service among the peers?)"
                    .to_owned(),
            ));
        }
    };
    match settings {
        Settings::V2(s) => {
            let data = match &provider {
                Some(p) => fastconnect::DataClient::with_token_provider(s.data, p.clone()),
                None => fastconnect::DataClient::new(s.data),
            }
            .map_err(|e| Error::from_ssi(Generation::V2, e))?;
            let trading = match s.trading {
                Some(config) => {
                    let client = match &provider {
                        Some(p) => {
                            fastconnect::TradingClient::with_token_provider(config, p.clone())
                        }
                        None => fastconnect::TradingClient::new(config),
                    }
                    .map_err(|e| Error::from_ssi(Generation::V2, e))?;
                    Some(Arc::new(v2::V2Trading::new(client)) as Arc<dyn Trading>)
                }
                None => None,
            };
            Ok(Broker {
                generation: Generation::V2,
                market_data: Arc::new(v2::V2Data::new(data)),
                trading,
                v3_client: None,
            })
        }
        Settings::V3(s) => {
            let has_key = s.client.private_key.is_some();
            let client = match provider {
                Some(p) => fastconnect::v3::Client::with_token_provider(s.client, p),
                None => fastconnect::v3::Client::new(s.client),
            }
            .map_err(|e| Error::from_ssi(Generation::V3, e))?;
            let trading = if has_key {
                Some(Arc::new(v3::V3Trading::new(&client)?) as Arc<dyn Trading>)
            } else {
                None
            };
            Ok(Broker {
                generation: Generation::V3,
                market_data: Arc::new(v3::V3Data::new(client.clone())),
                trading,
                v3_client: Some(client),
            })
        }
    }
}
