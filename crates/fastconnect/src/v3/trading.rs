//! v3 trading REST: orders (signed over the exact body bytes), batches, FCO, and account
//! queries (unsigned GETs).

use std::sync::Arc;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Date;

use crate::codes::{OrderStatus, OrderType, Side};
use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::v3::client::{Core, decode_rows, object, rows};
use crate::v3::data::PageRequest;
use crate::v3::rest::Reply;
use crate::v3::wire::{
    de_bool, de_decimal, de_int, de_list, de_percent, de_string, de_text, format_date,
};

pub(crate) const ORDER: &str = "/api/v3/trading/order";
pub(crate) const BATCH: &str = "/api/v3/trading/order/batch";
const ACCOUNT_INFO: &str = "/api/v3/account/info";
const MAX_BUY_SELL: &str = "/api/v3/trading/maxBuySell";
const ORDER_BOOK: &str = "/api/v3/trading/orderBook";
const BALANCE: &str = "/api/v3/trading/accountBalance";
const POSITION: &str = "/api/v3/trading/position";
const PPMMR: &str = "/api/v3/trading/ppmmrAccount";

/// Most orders in one batch (SSI's `MaxBatchOrderCount` default).
pub const MAX_BATCH_ORDERS: usize = 20;
/// Longest `clientRequestId` SSI accepts.
pub const MAX_CLIENT_REQUEST_ID_LEN: usize = 20;

/// A `clientRequestId` (also used for `clientModifyId`, `clientCancelId`, `batchRequestId`):
/// 1 to 20 ASCII letters or digits, unique per API key per day. SSI answers 409 to a reused
/// one ([`Error::is_duplicate_request`]), so resending the same id after a timeout is
/// exactly-once: either the first attempt was lost and this one places the order, or the
/// 409 says the order exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientRequestId(String);

impl ClientRequestId {
    /// Validates `id`.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty()
            || id.len() > MAX_CLIENT_REQUEST_ID_LEN
            || !id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(Error::InvalidRequest(format!(
                "clientRequestId must be 1..={MAX_CLIENT_REQUEST_ID_LEN} ASCII letters/digits, got {id:?}"
            )));
        }
        Ok(Self(id))
    }

    /// A random 20-character id (as the SDK generates).
    pub fn random() -> Self {
        use std::hash::{BuildHasher as _, Hasher as _};
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut out = String::with_capacity(MAX_CLIENT_REQUEST_ID_LEN);
        let mut word = 0u64;
        for i in 0..MAX_CLIENT_REQUEST_ID_LEN {
            if i % 8 == 0 {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
                h.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos())
                        .unwrap_or(0),
                );
                word = h.finish();
            }
            let pick = usize::try_from(word % ALPHABET.len() as u64).unwrap_or(0);
            out.push(char::from(ALPHABET[pick]));
            word /= ALPHABET.len() as u64;
        }
        Self(out)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Account (ending `8` for derivatives).
    pub account_no: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Quantity (shares / contracts).
    pub quantity: u64,
    /// Price; required for LO/PLO, ignored (sent `"0"`) for market-priced types.
    pub price: Option<Decimal>,
    /// Order type.
    pub order_type: OrderType,
    /// Idempotency key; a random one when `None`. Keep it to retry safely.
    pub client_request_id: Option<ClientRequestId>,
}

/// Which order to modify or cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// SSI's `orderId`.
    OrderId(String),
    /// The `clientRequestId` it was placed with.
    ClientRequestId(ClientRequestId),
}

/// What a modification changes: price or quantity, never both (400107).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modification {
    /// New price.
    Price(Decimal),
    /// New quantity.
    Quantity(u64),
}

/// A modification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyOrder {
    /// Account.
    pub account_no: String,
    /// The order.
    pub target: OrderRef,
    /// The change.
    pub change: Modification,
    /// `clientModifyId`; random when `None`.
    pub client_modify_id: Option<ClientRequestId>,
}

/// A cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOrder {
    /// Account.
    pub account_no: String,
    /// The order.
    pub target: OrderRef,
    /// `clientCancelId`; random when `None`.
    pub client_cancel_id: Option<ClientRequestId>,
}

/// SSI's answer to place/modify/cancel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderAck {
    /// SSI's order id.
    #[serde(default, deserialize_with = "de_text")]
    pub order_id: String,
    /// The `clientRequestId` of the order.
    #[serde(default, deserialize_with = "de_text")]
    pub client_request_id: String,
    /// `clientModifyId` (modify only).
    #[serde(default, with = "de_string")]
    pub client_modify_id: Option<String>,
    /// `clientCancelId` (cancel only).
    #[serde(default, with = "de_string")]
    pub client_cancel_id: Option<String>,
    /// Status (typically `PD`, accepted and not yet at the exchange).
    #[serde(default)]
    pub order_status: Option<OrderStatus>,
}

/// One result of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItem {
    /// `clientRequestId`.
    #[serde(default, deserialize_with = "de_text")]
    pub client_request_id: String,
    /// `orderId`.
    #[serde(default, deserialize_with = "de_text")]
    pub order_id: String,
    /// Status.
    #[serde(default)]
    pub order_status: Option<OrderStatus>,
    /// Whether this item succeeded.
    #[serde(default, with = "de_bool")]
    pub success: Option<bool>,
    /// Error code of a failed item.
    #[serde(default, with = "de_string")]
    pub error_code: Option<String>,
    /// Error text of a failed item.
    #[serde(default, with = "de_string")]
    pub error_message: Option<String>,
    /// `clientCancelId` (batch cancel).
    #[serde(default, with = "de_string")]
    pub client_cancel_id: Option<String>,
}

/// SSI's answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchAck {
    /// `batchRequestId`.
    #[serde(default, deserialize_with = "de_text")]
    pub batch_request_id: String,
    /// One per order.
    #[serde(default, deserialize_with = "de_list")]
    pub results: Vec<BatchItem>,
}

/// An account of `account/info`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Account number.
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    /// `Cash`, `Margin` or `Derivative`.
    #[serde(default, deserialize_with = "de_text")]
    pub account_type: String,
}

/// `maxBuySell`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxBuySell {
    /// Account.
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    /// Most buyable.
    #[serde(default, with = "de_int")]
    pub max_buy_qty: Option<i64>,
    /// Most sellable.
    #[serde(default, with = "de_int")]
    pub max_sell_qty: Option<i64>,
    /// Margin ratio as sent, a trailing `%` dropped (`"50%"` → 50; absent for derivatives).
    #[serde(default, with = "de_percent")]
    pub margin_ratio: Option<Decimal>,
    /// Purchasing power (absent for derivatives).
    #[serde(default, with = "de_decimal")]
    pub purchasing_power: Option<Decimal>,
}

/// An `orderBook` query. SSI pages it unreliably (server issue S-06 per the SDK): use a
/// large page, as [`TradingClient::order_book_all`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBookQuery {
    /// Account.
    pub account_no: String,
    /// From.
    pub from: Date,
    /// To.
    pub to: Date,
    /// Only this symbol.
    pub symbol: Option<String>,
    /// Only this status.
    pub order_status: Option<String>,
}

/// An order of `orderBook`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct OrderRecord {
    #[serde(default, deserialize_with = "de_text")]
    pub client_request_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub order_id: String,
    #[serde(default, deserialize_with = "de_text", alias = "instrumentId")]
    pub symbol: String,
    /// `B`/`S` as sent.
    #[serde(default, deserialize_with = "de_text", alias = "buySell")]
    pub side: String,
    #[serde(default)]
    pub order_type: Option<OrderType>,
    /// Price as sent: a number, or a word (`ATO`) for market-priced orders.
    #[serde(default, deserialize_with = "de_text")]
    pub price: String,
    #[serde(default, with = "de_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub filled_qty: Option<i64>,
    #[serde(default, with = "de_int")]
    pub cancel_qty: Option<i64>,
    #[serde(default)]
    pub order_status: Option<OrderStatus>,
    #[serde(default, with = "de_string")]
    pub input_time: Option<String>,
    #[serde(default, with = "de_string")]
    pub modified_time: Option<String>,
    #[serde(default, with = "de_string")]
    pub message: Option<String>,
}

/// `orderBook`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderBook {
    /// Account.
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    /// Orders.
    #[serde(default, deserialize_with = "de_list")]
    pub order_list: Vec<OrderRecord>,
    /// Total.
    #[serde(default, with = "de_int")]
    pub total_record: Option<i64>,
}

/// A JSON section of many loosely typed fields (balances, margin), read by key.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(transparent)]
pub struct Section(pub Map<String, Value>);

impl Section {
    /// The value of `key`, matched exactly then case-insensitively (SSI mixes `callLMV` and
    /// `callLmv`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    /// A decimal field (numbers or strings); absent is `None`.
    pub fn decimal(&self, key: &str) -> Result<Option<Decimal>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => crate::v3::wire::opt_decimal(v).map_err(|e| Error::field("section", key, e)),
        }
    }
}

/// `accountBalance` / `ppmmrAccount`: an equity and a derivative section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct AccountSections {
    /// Equity (cash/margin) fields, e.g. `accountBalance`, `withdrawable`, `purchasingPower`.
    #[serde(default)]
    pub equity: Option<Section>,
    /// Derivative fields, e.g. `accountBalance`, `floatingPL`, `withdrawable`.
    #[serde(default)]
    pub derivative: Option<Section>,
}

/// An equity holding of `position`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct EquityPosition {
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_int")]
    pub quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub sellable_quantity: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub cost_price: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub block_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub dividend_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub buying_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub bought_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub selling_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub sold_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub mortgage_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub restricted_quantity: Option<i64>,
}

/// A derivative position of `position`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DerivativePosition {
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_int")]
    pub long: Option<i64>,
    #[serde(default, with = "de_int")]
    pub short: Option<i64>,
    #[serde(default, with = "de_int")]
    pub net: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub bid_avg_price: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub ask_avg_price: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub trade_price: Option<Decimal>,
    #[serde(default, with = "de_decimal", rename = "floatingPL")]
    pub floating_pl: Option<Decimal>,
    #[serde(default, with = "de_decimal", rename = "tradingPL")]
    pub trading_pl: Option<Decimal>,
}

/// Derivative positions.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivativePositions {
    /// Open positions.
    #[serde(default, deserialize_with = "de_list")]
    pub der_open_positions: Vec<DerivativePosition>,
    /// Closed positions.
    #[serde(default, deserialize_with = "de_list")]
    pub der_close_positions: Vec<DerivativePosition>,
}

/// `position`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Positions {
    /// Equity holdings.
    #[serde(default, deserialize_with = "de_list")]
    pub equity: Vec<EquityPosition>,
    /// Derivative positions.
    #[serde(default)]
    pub derivative: Option<DerivativePositions>,
}

/// v3 trading REST. Get one from [`crate::v3::Client::trading`]; orders need a trading-scope
/// session ([`crate::v3::Client::login_otp`] / [`crate::v3::Client::login_smart_otp`]):
/// with a data-only token SSI answers 401105 ([`crate::v3::ApiErrorClass::Scope`]).
#[derive(Debug, Clone)]
pub struct TradingClient {
    pub(crate) core: Arc<Core>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlaceBody<'a> {
    account_no: &'a str,
    symbol: String,
    side: &'static str,
    quantity: u64,
    price: String,
    order_type: &'a str,
    client_request_id: String,
    device_id: &'a str,
    user_agent: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModifyBody<'a> {
    account_no: &'a str,
    client_modify_id: String,
    device_id: &'a str,
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelBody<'a> {
    account_no: &'a str,
    client_cancel_id: String,
    device_id: &'a str,
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_request_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchBody<T> {
    batch_request_id: String,
    batch_request_time: i64,
    orders: Vec<T>,
}

fn check_text(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidRequest(format!("{name} is empty")));
    }
    Ok(())
}

fn check_symbol(value: &str) -> Result<()> {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::InvalidRequest(format!(
            "symbol must be letters and digits, got {value:?}"
        )));
    }
    Ok(())
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
    )
    .unwrap_or(i64::MAX)
}

fn order_ref(target: &OrderRef) -> Result<(Option<&str>, Option<&str>)> {
    match target {
        OrderRef::OrderId(id) => {
            check_text("orderId", id)?;
            Ok((Some(id.as_str()), None))
        }
        OrderRef::ClientRequestId(id) => Ok((None, Some(id.as_str()))),
    }
}

impl TradingClient {
    fn device(&self) -> (&str, &str) {
        (
            self.core.config.device_id.as_str(),
            self.core.config.order_user_agent.as_str(),
        )
    }

    pub(crate) fn place_body<'a>(
        &'a self,
        order: &'a NewOrder,
        id: &ClientRequestId,
    ) -> Result<PlaceBody<'a>> {
        check_text("accountNo", &order.account_no)?;
        check_symbol(&order.symbol)?;
        if order.quantity == 0 {
            return Err(Error::InvalidRequest("quantity must be above 0".to_owned()));
        }
        let priced = matches!(order.order_type, OrderType::Lo | OrderType::Plo);
        let price = match (priced, order.price) {
            (true, Some(p)) if p > Decimal::ZERO => p.to_string(),
            (true, _) => {
                return Err(Error::InvalidRequest(format!(
                    "{} orders need a price above 0",
                    order.order_type
                )));
            }
            (false, _) => "0".to_owned(),
        };
        let (device_id, user_agent) = self.device();
        Ok(PlaceBody {
            account_no: &order.account_no,
            symbol: order.symbol.to_ascii_uppercase(),
            side: order.side.as_str(),
            quantity: order.quantity,
            price,
            order_type: order.order_type.as_str(),
            client_request_id: id.to_string(),
            device_id,
            user_agent,
        })
    }

    pub(crate) fn cancel_body<'a>(&'a self, cancel: &'a CancelOrder) -> Result<CancelBody<'a>> {
        check_text("accountNo", &cancel.account_no)?;
        let (order_id, client_request_id) = order_ref(&cancel.target)?;
        let (device_id, user_agent) = self.device();
        Ok(CancelBody {
            account_no: &cancel.account_no,
            client_cancel_id: cancel
                .client_cancel_id
                .clone()
                .unwrap_or_else(ClientRequestId::random)
                .to_string(),
            device_id,
            user_agent,
            order_id,
            client_request_id,
        })
    }

    /// POST `trading/order`, signed. Returns SSI's ack; a 409 means this
    /// `clientRequestId` was used today ([`Error::is_duplicate_request`]).
    pub async fn place_order(&self, order: &NewOrder) -> Result<OrderAck> {
        let id = order
            .client_request_id
            .clone()
            .unwrap_or_else(ClientRequestId::random);
        let body = self.place_body(order, &id)?;
        let reply = self.core.signed(Method::POST, ORDER, &body).await?;
        let mut ack: OrderAck = object(ORDER, reply)?;
        if ack.client_request_id.is_empty() {
            ack.client_request_id = id.to_string();
        }
        Ok(ack)
    }

    /// PUT `trading/order`, signed: price or quantity.
    pub async fn modify_order(&self, modify: &ModifyOrder) -> Result<OrderAck> {
        check_text("accountNo", &modify.account_no)?;
        let (order_id, client_request_id) = order_ref(&modify.target)?;
        let (quantity, price) = match modify.change {
            Modification::Price(p) if p > Decimal::ZERO => (None, Some(p.to_string())),
            Modification::Quantity(q) if q > 0 => (Some(q), None),
            Modification::Price(_) | Modification::Quantity(_) => {
                return Err(Error::InvalidRequest(
                    "the new price or quantity must be above 0".to_owned(),
                ));
            }
        };
        let (device_id, user_agent) = self.device();
        let body = ModifyBody {
            account_no: &modify.account_no,
            client_modify_id: modify
                .client_modify_id
                .clone()
                .unwrap_or_else(ClientRequestId::random)
                .to_string(),
            device_id,
            user_agent,
            order_id,
            client_request_id,
            quantity,
            price,
        };
        let reply = self.core.signed(Method::PUT, ORDER, &body).await?;
        object(ORDER, reply)
    }

    /// DELETE `trading/order` with a signed body.
    pub async fn cancel_order(&self, cancel: &CancelOrder) -> Result<OrderAck> {
        let body = self.cancel_body(cancel)?;
        let reply = self.core.signed(Method::DELETE, ORDER, &body).await?;
        object(ORDER, reply)
    }

    fn check_batch(len: usize) -> Result<()> {
        if len == 0 || len > MAX_BATCH_ORDERS {
            return Err(Error::InvalidRequest(format!(
                "a batch holds 1..={MAX_BATCH_ORDERS} orders, got {len}"
            )));
        }
        Ok(())
    }

    /// POST `trading/order/batch`: up to 20 orders, all-or-nothing validation at SSI.
    pub async fn batch_place(
        &self,
        orders: &[NewOrder],
        batch_request_id: Option<ClientRequestId>,
    ) -> Result<BatchAck> {
        Self::check_batch(orders.len())?;
        let ids: Vec<ClientRequestId> = orders
            .iter()
            .map(|o| {
                o.client_request_id
                    .clone()
                    .unwrap_or_else(ClientRequestId::random)
            })
            .collect();
        let bodies = orders
            .iter()
            .zip(&ids)
            .map(|(o, id)| self.place_body(o, id))
            .collect::<Result<Vec<_>>>()?;
        let body = BatchBody {
            batch_request_id: batch_request_id
                .unwrap_or_else(ClientRequestId::random)
                .to_string(),
            batch_request_time: now_ms(),
            orders: bodies,
        };
        let reply = self.core.signed(Method::POST, BATCH, &body).await?;
        object(BATCH, reply)
    }

    /// DELETE `trading/order/batch`: up to 20 cancellations.
    pub async fn batch_cancel(
        &self,
        cancels: &[CancelOrder],
        batch_request_id: Option<ClientRequestId>,
    ) -> Result<BatchAck> {
        Self::check_batch(cancels.len())?;
        let bodies = cancels
            .iter()
            .map(|c| self.cancel_body(c))
            .collect::<Result<Vec<_>>>()?;
        let body = BatchBody {
            batch_request_id: batch_request_id
                .unwrap_or_else(ClientRequestId::random)
                .to_string(),
            batch_request_time: now_ms(),
            orders: bodies,
        };
        let reply = self.core.signed(Method::DELETE, BATCH, &body).await?;
        object(BATCH, reply)
    }

    /// GET `account/info`.
    pub async fn account_info(&self) -> Result<Vec<AccountInfo>> {
        let reply = self.core.get(ACCOUNT_INFO, Vec::new()).await?;
        decode_rows(ACCOUNT_INFO, rows(ACCOUNT_INFO, reply)?)
    }

    /// GET `trading/maxBuySell`.
    pub async fn max_buy_sell(
        &self,
        account_no: &str,
        symbol: &str,
        price: Option<Decimal>,
    ) -> Result<MaxBuySell> {
        check_text("accountNo", account_no)?;
        check_symbol(symbol)?;
        let mut q = vec![
            ("accountNo", account_no.to_owned()),
            ("symbol", symbol.to_ascii_uppercase()),
        ];
        if let Some(p) = price {
            q.push(("price", p.to_string()));
        }
        object(MAX_BUY_SELL, self.core.get(MAX_BUY_SELL, q).await?)
    }

    /// GET `trading/orderBook`, one page.
    pub async fn order_book(&self, query: &OrderBookQuery, page: PageRequest) -> Result<OrderBook> {
        check_text("accountNo", &query.account_no)?;
        if query.from > query.to {
            return Err(Error::InvalidRequest("from is after to".to_owned()));
        }
        let mut q = vec![
            ("accountNo", query.account_no.clone()),
            ("from", format_date(query.from)),
            ("to", format_date(query.to)),
        ];
        if let Some(s) = &query.symbol {
            q.push(("symbol", s.clone()));
        }
        if let Some(s) = &query.order_status {
            q.push(("orderStatus", s.clone()));
        }
        q.push(("pageIndex", page.index.to_string()));
        q.push(("pageSize", page.size.to_string()));
        match self.core.get(ORDER_BOOK, q).await? {
            Reply::Empty => Ok(OrderBook {
                account_no: query.account_no.clone(),
                order_list: Vec::new(),
                total_record: Some(0),
            }),
            reply @ Reply::Json(_) => object(ORDER_BOOK, reply),
        }
    }

    /// Every order of `query` (pages of 1 000 until `totalRecord` or a short page): what to
    /// reconcile with after a stream gap.
    pub async fn order_book_all(&self, query: &OrderBookQuery) -> Result<Vec<OrderRecord>> {
        let mut out = Vec::new();
        for index in 1..=crate::v3::data::MAX_PAGES {
            let page = self
                .order_book(
                    query,
                    PageRequest {
                        index,
                        size: crate::v3::data::ALL_PAGE_SIZE,
                    },
                )
                .await?;
            let short = page.order_list.len() < crate::v3::data::ALL_PAGE_SIZE as usize;
            out.extend(page.order_list);
            let done = page
                .total_record
                .is_some_and(|t| usize::try_from(t).is_ok_and(|t| out.len() >= t));
            if short || done {
                return Ok(out);
            }
        }
        Err(Error::Protocol("orderBook did not end".to_owned()))
    }

    fn client_query(&self, account_no: &str) -> Result<Vec<(&'static str, String)>> {
        check_text("accountNo", account_no)?;
        let mut q = Vec::new();
        if let Some(client_id) = &self.core.config.client_id {
            q.push(("clientId", client_id.clone()));
        }
        q.push(("accountNo", account_no.to_owned()));
        Ok(q)
    }

    /// GET `trading/accountBalance`.
    pub async fn account_balance(&self, account_no: &str) -> Result<AccountSections> {
        let q = self.client_query(account_no)?;
        object(BALANCE, self.core.get(BALANCE, q).await?)
    }

    /// GET `trading/position` (`querySummary` sent explicitly).
    pub async fn position(&self, account_no: &str, query_summary: bool) -> Result<Positions> {
        let mut q = self.client_query(account_no)?;
        q.push(("querySummary", query_summary.to_string()));
        match self.core.get(POSITION, q).await? {
            Reply::Empty => Ok(Positions::default()),
            reply @ Reply::Json(_) => object(POSITION, reply),
        }
    }

    /// GET `trading/ppmmrAccount` (purchasing power and margin fields).
    pub async fn ppmmr_account(&self, account_no: &str) -> Result<AccountSections> {
        check_text("accountNo", account_no)?;
        let q = vec![("accountNo", account_no.to_owned())];
        object(PPMMR, self.core.get(PPMMR, q).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_are_validated() {
        assert!(ClientRequestId::new("abcDEF0123456789XYZ9").is_ok());
        assert!(ClientRequestId::new("abcDEF0123456789XYZ90").is_err());
        assert!(ClientRequestId::new("").is_err());
        assert!(ClientRequestId::new("has space").is_err());
        assert!(ClientRequestId::new("dash-ed").is_err());
        let a = ClientRequestId::random();
        let b = ClientRequestId::random();
        assert_eq!(a.as_str().len(), 20);
        assert!(ClientRequestId::new(a.as_str()).is_ok());
        assert_ne!(a, b);
    }
}
