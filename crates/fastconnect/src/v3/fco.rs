//! FCO — Flexible Conditional Orders: server-held conditional orders over a window
//! (`from`/`to`, at most 31 days, enforced here as in the SDK).
//!
//! Body shapes follow SDK 3.3.2 `models/fco.py` exactly (prices as strings, trigger prices
//! and slips as JSON numbers, the OCO filler fields).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::PrimitiveDateTime;

use crate::codes::{OrderType, Side};
use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::v3::client::{decode_rows, object, rows};
use crate::v3::data::PageRequest;
use crate::v3::rest::Reply;
use crate::v3::trading::TradingClient;
use crate::v3::wire::{de_bool, de_decimal, de_int, de_list, de_string, de_text, format_datetime};

const FCO_ORDER: &str = "/api/v3/trading/fco/order";
const FCO_LIST: &str = "/api/v3/trading/fco/list";
const FCO_ORDER_BOOK: &str = "/api/v3/trading/fco/orderbook";
const FCO_STATUS_HISTORY: &str = "/api/v3/trading/fco/statusHistory";

/// Longest FCO window.
pub const MAX_FCO_DAYS: i64 = 31;

/// The price of an FCO leg: a limit price, or a market word (`MTL`, `MP`, `ATO`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcoPrice {
    /// A limit price.
    Limit(Decimal),
    /// A market-priced order type.
    Market(OrderType),
}

impl FcoPrice {
    fn text(&self) -> String {
        match self {
            FcoPrice::Limit(p) => p.to_string(),
            FcoPrice::Market(t) => t.as_str().to_owned(),
        }
    }

    /// A market word carries no slip.
    fn slip(&self, slip: Decimal) -> Decimal {
        match self {
            FcoPrice::Limit(_) => slip,
            FcoPrice::Market(_) => Decimal::ZERO,
        }
    }
}

/// Trigger comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcoOperator {
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
    /// `<`.
    Lesser,
    /// `<=`.
    LesserOrEqual,
    /// `==`.
    Equal,
}

impl FcoOperator {
    /// The wire value of requests.
    pub fn as_str(self) -> &'static str {
        match self {
            FcoOperator::Greater => "greater",
            FcoOperator::GreaterOrEqual => "greater_or_equal",
            FcoOperator::Lesser => "lesser",
            FcoOperator::LesserOrEqual => "lesser_or_equal",
            FcoOperator::Equal => "equal",
        }
    }

    /// Reads a name or the number responses may give (2 `>`, 0 `>=`, 3 `<`, 4 `<=`, 1 `==`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "greater" | "2" => Some(FcoOperator::Greater),
            "greater_or_equal" | "0" => Some(FcoOperator::GreaterOrEqual),
            "lesser" | "3" => Some(FcoOperator::Lesser),
            "lesser_or_equal" | "4" => Some(FcoOperator::LesserOrEqual),
            "equal" | "1" => Some(FcoOperator::Equal),
            _ => None,
        }
    }
}

/// A take-profit or stop-loss leg (OCO, bull/bear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// Activation price.
    pub active_price: Decimal,
    /// Order price once active.
    pub price: FcoPrice,
    /// Slip.
    pub slip: Decimal,
}

/// The kind of an FCO and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcoKind {
    /// Good-till-date.
    Gtd {
        /// Price.
        price: FcoPrice,
        /// Slip.
        price_slip: Decimal,
    },
    /// Stop (market, `MTL`) when the price crosses `stop_price`.
    Stop {
        /// Trigger.
        stop_price: Decimal,
        /// Comparison.
        operator: FcoOperator,
    },
    /// Stop-limit.
    StopLimit {
        /// Trigger.
        stop_price: Decimal,
        /// Comparison.
        operator: FcoOperator,
        /// Limit price.
        price: FcoPrice,
        /// Slip.
        price_slip: Decimal,
    },
    /// Trailing stop (market).
    TrailingStop {
        /// Activation price.
        active_price: Decimal,
        /// Trailing amount.
        trailing_amount: Decimal,
    },
    /// Trailing stop with a limit order.
    TrailingStopLimit {
        /// Activation price.
        active_price: Decimal,
        /// Trailing amount.
        trailing_amount: Decimal,
        /// Slip.
        price_slip: Decimal,
    },
    /// One-cancels-the-other.
    Oco {
        /// Take profit.
        take_profit: Leg,
        /// Stop loss.
        stop_loss: Leg,
    },
    /// Entry order with take-profit and stop-loss legs.
    BullBear {
        /// Entry price.
        price: FcoPrice,
        /// Entry slip.
        price_slip: Decimal,
        /// Take profit.
        take_profit: Leg,
        /// Stop loss.
        stop_loss: Leg,
    },
}

impl FcoKind {
    /// The wire `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            FcoKind::Gtd { .. } => "gtd",
            FcoKind::Stop { .. } => "stop",
            FcoKind::StopLimit { .. } => "stop_limit",
            FcoKind::TrailingStop { .. } => "trailing_stop",
            FcoKind::TrailingStopLimit { .. } => "trailing_stop_limit",
            FcoKind::Oco { .. } => "oco",
            FcoKind::BullBear { .. } => "bullbear",
        }
    }
}

/// A new FCO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFco {
    /// Account.
    pub account_no: String,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Quantity.
    pub quantity: u64,
    /// Window start (local time).
    pub from: PrimitiveDateTime,
    /// Window end (at most 31 days after `from`).
    pub to: PrimitiveDateTime,
    /// Kind and parameters.
    pub kind: FcoKind,
}

/// An FCO of `fco/list`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct FcoInfo {
    #[serde(default, deserialize_with = "de_text")]
    pub fco_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, deserialize_with = "de_text", rename = "type")]
    pub fco_type: String,
    #[serde(default, with = "de_int")]
    pub quantity: Option<i64>,
    /// Price as sent (number or word).
    #[serde(default, deserialize_with = "de_text")]
    pub price: String,
    #[serde(default, with = "de_decimal")]
    pub price_slip: Option<Decimal>,
    #[serde(default, with = "de_string")]
    pub from: Option<String>,
    #[serde(default, with = "de_string")]
    pub to: Option<String>,
    #[serde(default, with = "de_int")]
    pub matched_quantity: Option<i64>,
    #[serde(default, with = "de_bool")]
    pub is_place_order: Option<bool>,
    /// `INIT WAIT TRI TRIT TER FIS WC EXP ERR` (others kept).
    #[serde(default, deserialize_with = "de_text")]
    pub status: String,
    #[serde(default, with = "de_string")]
    pub detail: Option<String>,
    #[serde(default, with = "de_string")]
    pub order_type: Option<String>,
    /// Trigger parameters as sent (`stopPrice`, `operator`, `tpActivePrice`, ...).
    #[serde(default)]
    pub params: Option<Map<String, Value>>,
}

/// One page of FCOs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "T: serde::de::DeserializeOwned")
)]
pub struct FcoPage<T> {
    /// Rows.
    #[serde(default = "Vec::new", deserialize_with = "de_list")]
    pub data: Vec<T>,
    /// Total items.
    #[serde(default, with = "de_int")]
    pub items_count: Option<i64>,
    /// Total pages.
    #[serde(default, with = "de_int")]
    pub pages_count: Option<i64>,
}

/// A child order of `fco/orderbook`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct FcoOrder {
    #[serde(default, deserialize_with = "de_text")]
    pub fco_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub account_no: String,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, deserialize_with = "de_text")]
    pub side: String,
    #[serde(default, with = "de_string")]
    pub order_type: Option<String>,
    #[serde(default, with = "de_int")]
    pub quantity: Option<i64>,
    #[serde(default, deserialize_with = "de_text")]
    pub price: String,
    #[serde(default, with = "de_bool")]
    pub is_main_order: Option<bool>,
    #[serde(default, with = "de_bool")]
    pub is_attached_order: Option<bool>,
    #[serde(default, with = "de_string")]
    pub order_id: Option<String>,
    #[serde(default, with = "de_int")]
    pub matched_quantity: Option<i64>,
    #[serde(default, with = "de_int")]
    pub os_quantity: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(default, deserialize_with = "de_text")]
    pub status: String,
    #[serde(default, with = "de_string")]
    pub detail: Option<String>,
    #[serde(default, with = "de_string")]
    pub created_time: Option<String>,
    #[serde(default, with = "de_string")]
    pub updated_time: Option<String>,
}

/// One status transition of an FCO (`time` is `DD/MM/YYYY HH:MM:SS`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct FcoStatusChange {
    #[serde(default, deserialize_with = "de_text")]
    pub state: String,
    #[serde(default, deserialize_with = "de_text")]
    pub time: String,
    #[serde(default, with = "de_string")]
    pub code: Option<String>,
    #[serde(default, with = "de_string")]
    pub detail: Option<String>,
}

/// Filters of `fco/list`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FcoListQuery {
    /// Account (required).
    pub account_no: String,
    /// One FCO.
    pub fco_id: Option<String>,
    /// A type (`gtd`, `stop`, ...).
    pub fco_type: Option<String>,
    /// Statuses (sent as a repeated `processStatus`).
    pub process_status: Vec<String>,
    /// Symbol.
    pub symbol: Option<String>,
    /// Side.
    pub side: Option<Side>,
    /// Window from.
    pub from: Option<PrimitiveDateTime>,
    /// Window to.
    pub to: Option<PrimitiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FcoIdAnswer {
    #[serde(default, deserialize_with = "de_text")]
    fco_id: String,
}

fn leg_json(map: &mut Map<String, Value>, prefix: &str, leg: &Leg) {
    map.insert(format!("{prefix}ActivePrice"), json!(leg.active_price));
    map.insert(format!("{prefix}Price"), json!(leg.price.text()));
    map.insert(format!("{prefix}Slip"), json!(leg.price.slip(leg.slip)));
}

impl TradingClient {
    /// The exact FCO body (SDK field order and types).
    pub(crate) fn fco_body(&self, fco: &NewFco) -> Result<Map<String, Value>> {
        if fco.account_no.trim().is_empty() {
            return Err(Error::InvalidRequest("accountNo is empty".to_owned()));
        }
        if fco.symbol.is_empty() || !fco.symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::InvalidRequest(format!(
                "bad symbol {:?}",
                fco.symbol
            )));
        }
        if fco.quantity == 0 {
            return Err(Error::InvalidRequest("quantity must be above 0".to_owned()));
        }
        if fco.from > fco.to || (fco.to - fco.from).whole_days() > MAX_FCO_DAYS {
            return Err(Error::InvalidRequest(format!(
                "the FCO window must run forward and span at most {MAX_FCO_DAYS} days"
            )));
        }
        let config = &self.core.config;
        let mut m = Map::new();
        m.insert("accountNo".into(), json!(fco.account_no));
        m.insert("type".into(), json!(fco.kind.type_name()));
        m.insert("symbol".into(), json!(fco.symbol.to_ascii_uppercase()));
        m.insert("side".into(), json!(fco.side.as_str()));
        let mtl = FcoPrice::Market(OrderType::Mtl);
        match &fco.kind {
            FcoKind::Gtd { price, price_slip } => {
                m.insert("price".into(), json!(price.text()));
                m.insert("priceSlip".into(), json!(price.slip(*price_slip)));
            }
            FcoKind::Stop {
                stop_price,
                operator,
            } => {
                m.insert("price".into(), json!(mtl.text()));
                m.insert("priceSlip".into(), json!(0));
                m.insert("stopPrice".into(), json!(stop_price));
                m.insert("operator".into(), json!(operator.as_str()));
            }
            FcoKind::StopLimit {
                stop_price,
                operator,
                price,
                price_slip,
            } => {
                m.insert("price".into(), json!(price.text()));
                m.insert("priceSlip".into(), json!(price.slip(*price_slip)));
                m.insert("stopPrice".into(), json!(stop_price));
                m.insert("operator".into(), json!(operator.as_str()));
            }
            FcoKind::TrailingStop {
                active_price,
                trailing_amount,
            } => {
                m.insert("activePrice".into(), json!(active_price));
                m.insert("trailingAmount".into(), json!(trailing_amount));
                m.insert("price".into(), json!(mtl.text()));
                m.insert("priceSlip".into(), json!(0));
            }
            FcoKind::TrailingStopLimit {
                active_price,
                trailing_amount,
                price_slip,
            } => {
                m.insert("activePrice".into(), json!(active_price));
                m.insert("trailingAmount".into(), json!(trailing_amount));
                m.insert("priceSlip".into(), json!(price_slip));
            }
            FcoKind::Oco {
                take_profit,
                stop_loss,
            } => {
                leg_json(&mut m, "tp", take_profit);
                leg_json(&mut m, "sl", stop_loss);
                // The SDK's filler fields (it marks them "TODO: remove hard code").
                m.insert("price".into(), json!("MP"));
                m.insert("priceSlip".into(), json!(0));
                m.insert("stopPrice".into(), json!(0));
                m.insert("activePrice".into(), json!(0));
                m.insert("trailingAmount".into(), json!(0));
                m.insert("operator".into(), json!(""));
            }
            FcoKind::BullBear {
                price,
                price_slip,
                take_profit,
                stop_loss,
            } => {
                m.insert("price".into(), json!(price.text()));
                m.insert("priceSlip".into(), json!(price.slip(*price_slip)));
                leg_json(&mut m, "tp", take_profit);
                leg_json(&mut m, "sl", stop_loss);
            }
        }
        m.insert("quantity".into(), json!(fco.quantity));
        m.insert("from".into(), json!(format_datetime(fco.from)));
        m.insert("to".into(), json!(format_datetime(fco.to)));
        m.insert("deviceId".into(), json!(config.device_id));
        m.insert("userAgent".into(), json!(config.order_user_agent));
        Ok(m)
    }

    /// POST `trading/fco/order`, signed. Returns the `fcoId`.
    pub async fn place_fco(&self, fco: &NewFco) -> Result<String> {
        let body = self.fco_body(fco)?;
        let reply = self.core.signed(Method::POST, FCO_ORDER, &body).await?;
        Ok(object::<FcoIdAnswer>(FCO_ORDER, reply)?.fco_id)
    }

    /// DELETE `trading/fco/order` with a signed body.
    pub async fn cancel_fco(&self, fco_id: &str) -> Result<String> {
        if fco_id.trim().is_empty() {
            return Err(Error::InvalidRequest("fcoId is empty".to_owned()));
        }
        let config = &self.core.config;
        let body = json!({
            "fcoId": fco_id,
            "deviceId": config.device_id,
            "userAgent": config.order_user_agent,
        });
        let reply = self.core.signed(Method::DELETE, FCO_ORDER, &body).await?;
        Ok(object::<FcoIdAnswer>(FCO_ORDER, reply)?.fco_id)
    }

    /// GET `trading/fco/list`, one page.
    pub async fn fco_list(
        &self,
        query: &FcoListQuery,
        page: PageRequest,
    ) -> Result<FcoPage<FcoInfo>> {
        if query.account_no.trim().is_empty() {
            return Err(Error::InvalidRequest("accountNo is empty".to_owned()));
        }
        let mut q = vec![("accountNo", query.account_no.clone())];
        if let Some(v) = &query.fco_id {
            q.push(("fcoId", v.clone()));
        }
        if let Some(v) = &query.fco_type {
            q.push(("type", v.clone()));
        }
        for s in &query.process_status {
            q.push(("processStatus", s.clone()));
        }
        if let Some(v) = &query.symbol {
            q.push(("symbol", v.clone()));
        }
        if let Some(v) = query.side {
            q.push(("side", v.as_str().to_owned()));
        }
        if let Some(v) = query.from {
            q.push(("from", format_datetime(v)));
        }
        if let Some(v) = query.to {
            q.push(("to", format_datetime(v)));
        }
        q.push(("pageIndex", page.index.to_string()));
        q.push(("pageSize", page.size.to_string()));
        self.fco_page(FCO_LIST, q).await
    }

    async fn fco_page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        q: Vec<(&'static str, String)>,
    ) -> Result<FcoPage<T>> {
        match self.core.get(path, q).await? {
            Reply::Empty => Ok(FcoPage {
                data: Vec::new(),
                items_count: Some(0),
                pages_count: Some(0),
            }),
            reply @ Reply::Json(_) => object(path, reply),
        }
    }

    /// GET `trading/fco/orderbook`: the orders an FCO placed.
    pub async fn fco_order_book(
        &self,
        fco_id: &str,
        page: PageRequest,
    ) -> Result<FcoPage<FcoOrder>> {
        let q = vec![
            ("fcoId", fco_id.to_owned()),
            ("pageIndex", page.index.to_string()),
            ("pageSize", page.size.to_string()),
        ];
        self.fco_page(FCO_ORDER_BOOK, q).await
    }

    /// GET `trading/fco/statusHistory` (query key `fcoid`, lower case as the SDK).
    pub async fn fco_status_history(&self, fco_id: &str) -> Result<Vec<FcoStatusChange>> {
        let reply = self
            .core
            .get(FCO_STATUS_HISTORY, vec![("fcoid", fco_id.to_owned())])
            .await?;
        decode_rows(FCO_STATUS_HISTORY, rows(FCO_STATUS_HISTORY, reply)?)
    }
}
