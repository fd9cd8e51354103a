//! The signed order POSTs: NewOrder, ModifyOrder, CancelOrder and their `der` variants.
//! Everything that needs no broker state is checked here, on the runtime (signature, JSON,
//! enums, prices, `code`); the command then goes to the trading desk.

use std::str::FromStr as _;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use market::{Board, InstrumentKind, OrderType, Side};
use serde_json::{Map, Value, json};

use super::{Refused, business, field, json_body, number, required, text, verify_code};
use crate::auth::{TokenInfo, signature_valid};
use crate::broker::{Change, Command, Modify, NewOrder, to_units};
use crate::rest::{ApiError, ok};
use crate::sim::Core;

fn parse_side(m: &Map<String, Value>) -> Result<Side, ApiError> {
    match required(m, "buySell", "Buy Sell")?
        .to_ascii_uppercase()
        .as_str()
    {
        "B" => Ok(Side::Buy),
        "S" => Ok(Side::Sell),
        other => Err(ApiError::bad(format!(
            "'Buy Sell' has an invalid value '{other}' (B or S)"
        ))),
    }
}

fn parse_market(m: &Map<String, Value>, key: &str) -> Result<&'static str, ApiError> {
    match required(m, key, "Market")?.to_ascii_uppercase().as_str() {
        "VN" => Ok("VN"),
        "VNFE" => Ok("VNFE"),
        other => Err(ApiError::bad(format!(
            "'Market' has an invalid value '{other}' (VN or VNFE)"
        ))),
    }
}

fn quantity(m: &Map<String, Value>) -> Result<u64, ApiError> {
    let q = number(m, "quantity")?;
    if !(q >= 1.0 && q.fract() == 0.0 && q < 1e12) {
        return Err(ApiError::bad(
            "'Quantity' must be a whole number greater than 0.",
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(q as u64)
}

/// The signature and, for a token issued with `isSave=false`, the `code` of a signed POST;
/// returns the parsed body.
pub(crate) fn checked_body(
    core: &Core,
    info: &TokenInfo,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, Refused> {
    let signature = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad("X-Signature is required"))?;
    let key = core
        .keys
        .iter()
        .find(|(id, _)| *id == info.consumer)
        .map(|(_, k)| k)
        .ok_or_else(|| business("ConsumerID is invalid"))?;
    if !signature_valid(key, body, signature) {
        return Err(ApiError::bad("Invalid signature").into());
    }
    let m = json_body(body)?;
    if !info.verified {
        let code = text(&m, "code").unwrap_or_default();
        if code.is_empty() {
            return Err(
                business("Code is required: the token was issued with isSave=false").into(),
            );
        }
        // The per-order code is the PIN or a pending OTP (consumed).
        let right = verify_code(core, &info.consumer, None, &code).map_err(Refused::Response)?;
        if !right {
            return Err(business("Code is invalid").into());
        }
    }
    Ok(m)
}

fn echo(m: &Map<String, Value>, drop: &[&str]) -> Value {
    Value::Object(
        m.iter()
            .filter(|(k, _)| !drop.iter().any(|d| k.eq_ignore_ascii_case(d)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

pub(super) async fn signed_post(
    core: &Arc<Core>,
    info: &TokenInfo,
    api: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Refused> {
    let derivative = match api {
        "neworder" | "modifyorder" | "cancelorder" => false,
        "derneworder" | "dermodifyorder" | "dercancelorder" => true,
        _ => return Err(ApiError::not_found(api).into()),
    };
    let m = checked_body(core, info, headers, body)?;
    let request_id = required(&m, "requestID", "Request ID")?;
    if request_id.len() > 8 || !request_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad("'Request ID' must be at most 8 digits").into());
    }
    let account = required(&m, "account", "Account")?;
    if !core.owns(&info.consumer, &account) {
        return Err(business("Account is not exist.").into());
    }
    let (today, _) = core.local_now();
    // Builds a new day's market off the desk's thread.
    if core.live.get(today).await.is_none() {
        return Err(business("The market is closed: no trading day is simulated now").into());
    }
    let cmd = match api.trim_start_matches("der") {
        "neworder" => Command::NewOrder(new_order(
            core,
            info,
            &m,
            derivative,
            &request_id,
            &account,
        )?),
        "modifyorder" => Command::Change(change(info, &m, &request_id, &account, true)?),
        _ => Command::Change(change(info, &m, &request_id, &account, false)?),
    };
    core.desk.apply(cmd).await.map_err(ApiError::from)?;
    Ok(ok(json!({
        "requestID": request_id,
        "requestData": echo(&m, &["code", "deviceId", "userAgent"]),
    })))
}

pub(crate) fn new_order(
    core: &Core,
    info: &TokenInfo,
    m: &Map<String, Value>,
    derivative: bool,
    request_id: &str,
    account: &str,
) -> Result<NewOrder, ApiError> {
    let symbol = required(m, "instrumentID", "Instrument ID")?.to_ascii_uppercase();
    let market = parse_market(m, "market")?;
    if derivative && market != "VNFE" {
        return Err(ApiError::bad("derNewOrder requires market VNFE"));
    }
    let side = parse_side(m)?;
    let type_text = required(m, "orderType", "Order Type")?;
    let order_type = OrderType::from_str(&type_text)
        .map_err(|_| ApiError::bad(format!("'Order Type' has an invalid value '{type_text}'")))?;
    let price = number(m, "price")?;
    let qty = quantity(m)?;
    if field(m, "stopOrder").and_then(Value::as_bool) == Some(true) {
        return Err(business("Stop orders are not supported by the simulator"));
    }
    let universe = core.generator.universe();
    let x = universe
        .find(&symbol)
        .and_then(|i| universe.instrument(i))
        .ok_or_else(|| business(format!("ORD001: Symbol {symbol} does not exist")))?;
    let is_future = x.kind == InstrumentKind::IndexFuture;
    if is_future != (market == "VNFE") {
        return Err(ApiError::bad(format!(
            "Market {market} does not trade {symbol}"
        )));
    }
    // SSI's sub-accounts: one ending in 8 trades derivatives, the others the cash market.
    if is_future != account.ends_with('8') {
        let (kind, trades) = if is_future {
            ("a cash account", "derivatives accounts end in 8")
        } else {
            ("a derivatives account", "cash accounts do not end in 8")
        };
        return Err(ApiError::bad(format!(
            "Account {account} is {kind}: it does not trade {symbol} ({trades})"
        )));
    }
    let price = if order_type.carries_price() {
        if price <= 0.0 {
            return Err(ApiError::bad(
                "Price must be greater than 0 for a limit order",
            ));
        }
        let units = to_units(x.kind, price)
            .ok_or_else(|| business(format!("ORD004: Price {price} is not a valid price step")))?;
        if units <= 0 {
            return Err(ApiError::bad(
                "Price must be greater than 0 for a limit order",
            ));
        }
        Some(units)
    } else {
        if price != 0.0 {
            return Err(ApiError::bad(
                "Price is null or equal zero when order is market order",
            ));
        }
        None
    };
    let lot = core.generator.rules().lots.round_lot(x.exchange).max(1);
    let board = if !is_future && qty < lot {
        Board::OddLot
    } else {
        Board::Main
    };
    Ok(NewOrder {
        consumer: info.consumer.clone(),
        account: account.to_owned(),
        symbol,
        market: market.to_owned(),
        side,
        order_type,
        price,
        quantity: qty,
        board,
        channel: text(m, "channelID").unwrap_or_else(|| "TA".to_owned()),
        request_id: request_id.to_owned(),
        reject_in_response: core.config.reject_in_response,
    })
}

fn change(
    info: &TokenInfo,
    m: &Map<String, Value>,
    request_id: &str,
    account: &str,
    modify: bool,
) -> Result<Change, ApiError> {
    let order_text = required(m, "orderID", "Order ID")?;
    let _ = parse_market(m, "marketID")?;
    let _ = parse_side(m)?;
    let order_id = order_text
        .parse::<u64>()
        .map_err(|_| business("ORD013: Order Is Null Error!"))?;
    let modify = if modify {
        let price = number(m, "price")?;
        if price < 0.0 {
            return Err(ApiError::bad(format!(
                "ORD006: Price {price} is invalid: it must not be negative (0 keeps the price)"
            )));
        }
        Some(Modify {
            price,
            quantity: quantity(m)?,
        })
    } else {
        None
    };
    Ok(Change {
        consumer: info.consumer.clone(),
        account: account.to_owned(),
        order_id,
        request_id: request_id.to_owned(),
        modify,
    })
}
