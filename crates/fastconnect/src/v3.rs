//! FastConnect v3, SSI's current API generation, beside v2 (which is unchanged).
//!
//! One API key, one [`Client`], one session: `auth/token` without OTP gives a data-only
//! token, with an OTP or an approved Smart-OTP push a trading token; refresh tokens keep it
//! alive. From the client:
//!
//! - [`Client::data`] → [`DataClient`]: `ohlc`, `indexList`, `indexSummary`,
//!   `securitiesByBoard`, `securitiesSummary`, `masterdata`, `corporateActions`.
//! - [`Client::trading`] → [`TradingClient`]: orders signed over the exact body bytes
//!   (place POST, modify PUT, cancel DELETE with a body, batches), FCO conditional orders,
//!   `maxBuySell`, `orderBook`, `accountBalance`, `position`, `ppmmrAccount`, `account/info`.
//! - [`Client::stream`] → [`StreamClient`]: the WebSocket (`{method, channel, topics}`) with
//!   typed [`Topic`]s, reconnection with resubscription and a [`StreamEvent::Gap`] after
//!   every reconnect (v3 has no replay).
//!
//! Errors are [`crate::Error::Api`] carrying an [`ApiError`] (HTTP status, SSI `code`,
//! message, [`ApiErrorClass`]); `{code: 204}` is an empty result, never an error.
//!
//! ```no_run
//! # async fn run() -> Result<(), fastconnect::Error> {
//! use fastconnect::v3::{Client, Config, OhlcQuery, PageRequest, TimeFrame, Topic};
//!
//! let client = Client::new(Config::new("api-key", "api-secret".to_owned().into()))?;
//! // A data-only session is opened on first use.
//! let from = time::macros::datetime!(2026-05-04 09:00);
//! let to = time::macros::datetime!(2026-05-04 15:00);
//! let query = OhlcQuery { symbol: "SSI".into(), from, to, time_frame: TimeFrame::M5 };
//! let bars = client.data().ohlc_all(&query).await?;
//! let (handle, mut events) = client.stream().connect(vec![Topic::trade("SSI")?])?;
//! while let Some(event) = events.recv().await {
//!     // ...
//! }
//! handle.shutdown();
//! # Ok(()) }
//! ```
//!
//! `docs/fastconnect.md` ("v3") explains the differences from v2 and what is unverified.

pub mod client;
pub mod config;
pub mod data;
pub mod error;
pub mod fco;
mod rest;
pub mod session;
pub mod stream;
pub mod topic;
pub mod trading;
pub mod wire;

pub use client::Client;
pub use config::{Config, DEFAULT_API_URL, DEFAULT_STREAM_URL, StreamConfig};
pub use data::{
    Board, CorporateAction, CorporateActionsQuery, DataClient, IndexInfo, IndexSelector,
    IndexSummary, Language, MasterDataRow, OhlcBar, OhlcQuery, PageRequest, Paged, SecurityInfo,
    SecuritySelector, SecuritySummary, SummarySelector, TimeFrame,
};
pub use error::{ApiError, ApiErrorClass};
pub use fco::{FcoKind, FcoOperator, FcoPrice, Leg, NewFco};
pub use session::{OtpChallenge, Scope, SessionInfo};
pub use stream::{Payload, StreamClient, StreamEvent, StreamHandle};
pub use topic::{Channel, Filter, Interval, Topic, TopicKind};
pub use trading::{
    AccountSections, CancelOrder, ClientRequestId, Modification, ModifyOrder, NewOrder, OrderAck,
    OrderBookQuery, OrderRef, TradingClient,
};
