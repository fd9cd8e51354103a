//! v3 trading and account REST: place (POST), modify (PUT), cancel (DELETE with a body)
//! and their batches, all signed over the exact body bytes; account info, maxBuySell,
//! orderBook, accountBalance, position and ppmmrAccount. Orders become the same desk
//! commands as v2's (`NewOrder`, `Change`), under the key's FC Trading consumer, so the
//! journal makes them durable and v2 sees them.

use std::sync::Arc;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::Date;

use super::{Caller, V3Error, answer, json_body, text};
use crate::auth::{Audience, TokenInfo, signature_valid};
use crate::broker::{Change, Command, Modify, NewOrder, Outcome, status_code};
use crate::rest::Params;
use crate::sim::Core;
use crate::trading_api::queries::query_data;

/// Most orders in one batch.
const MAX_BATCH: usize = 20;
/// How far `batchRequestTime` may be from now (ms) before the batch is a replay (400111).
const BATCH_WINDOW_MS: i64 = 60_000;

pub(super) async fn route(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    method: &Method,
    rest: &str,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
) -> Result<Response, V3Error> {
    let m = method.as_str();
    match (m, rest) {
        ("GET", "account/info") => Ok(account_info(core, caller)),
        ("POST" | "PUT" | "DELETE", "trading/order" | "trading/order/batch") => {
            caller.require_trading()?;
            let body = signed(caller, headers, body)?;
            let batch = rest.ends_with("batch");
            match (m, batch) {
                ("POST", false) => place(core, caller, &body).await.map(answer),
                ("PUT", false) => modify(core, caller, &body).await.map(answer),
                ("DELETE", false) => cancel(core, caller, &body).await.map(answer),
                ("POST", true) => batch_place(core, caller, &body).await.map(answer),
                ("DELETE", true) => batch_cancel(core, caller, &body).await.map(answer),
                _ => Err(not_allowed(rest)),
            }
        }
        ("POST" | "DELETE", "trading/fco/order") => {
            caller.require_trading()?;
            let body = signed(caller, headers, body)?;
            if m == "POST" {
                super::fco::place(core, caller, &body).await.map(answer)
            } else {
                super::fco::cancel(core, caller, &body).await.map(answer)
            }
        }
        ("GET", "trading/fco/list") => super::fco::list(core, caller, params).await.map(answer),
        ("GET", "trading/fco/orderbook") => super::fco::order_book(core, caller, params)
            .await
            .map(answer),
        ("GET", "trading/fco/statushistory") => super::fco::status_history(core, caller, params)
            .await
            .map(answer),
        ("GET", "trading/maxbuysell") => max_buy_sell(core, caller, params).await.map(answer),
        ("GET", "trading/orderbook") => order_book(core, caller, params).await.map(answer),
        ("GET", "trading/accountbalance") => balance(core, caller, params).await.map(answer),
        ("GET", "trading/position") => position(core, caller, params).await.map(answer),
        ("GET", "trading/ppmmraccount") => ppmmr(core, caller, params).await.map(answer),
        (
            _,
            "account/info"
            | "trading/maxbuysell"
            | "trading/orderbook"
            | "trading/accountbalance"
            | "trading/position"
            | "trading/ppmmraccount",
        ) => Err(not_allowed(rest)),
        _ => Err(V3Error::code(404, format!("No resource /api/v3/{rest}"))),
    }
}

fn not_allowed(rest: &str) -> V3Error {
    V3Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        405,
        format!("/api/v3/{rest} does not support this method"),
    )
}

/// Checks `X-Signature` (hex RSASSA-PKCS1-v1_5/SHA-256 over the exact body bytes): 401006
/// missing, 401008 empty body, 401013 mismatch. Returns the parsed body.
fn signed(
    caller: &Caller<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, V3Error> {
    let signature = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| V3Error::code(401_006, "X-Signature header is missing"))?;
    if body.is_empty() {
        return Err(V3Error::code(401_008, "The signed request body is empty"));
    }
    if !signature_valid(caller.key, body, signature) {
        return Err(V3Error::code(
            401_013,
            "X-Signature does not match the request body",
        ));
    }
    json_body(body)
}

/// A client id (`clientRequestId`, `clientModifyId`, `clientCancelId`, `batchRequestId`):
/// 1 to 20 characters of `[0-9A-Za-z]`.
fn client_id(m: &Map<String, Value>, name: &str) -> Result<String, V3Error> {
    let id = text(m, name).ok_or_else(|| V3Error::bad(format!("{name} is required")))?;
    if id.len() > 20 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(V3Error::bad(format!(
            "{name} must be 1 to 20 letters or digits"
        )));
    }
    Ok(id)
}

pub(super) fn account_of(
    caller: &Caller<'_>,
    core: &Core,
    account: Option<String>,
) -> Result<String, V3Error> {
    let account = account.ok_or_else(|| V3Error::bad("accountNo is required"))?;
    if !core.owns(caller.customer(), &account) {
        return Err(V3Error::new(
            StatusCode::FORBIDDEN,
            403,
            format!("Denied (account): {account} is not an account of this apiKey"),
        ));
    }
    Ok(account)
}

fn info(caller: &Caller<'_>) -> TokenInfo {
    TokenInfo {
        consumer: caller.customer().to_owned(),
        audience: Audience::Trading,
        verified: true,
        exp: 0,
    }
}

fn account_info(core: &Core, caller: &Caller<'_>) -> Response {
    let accounts: Vec<Value> = core
        .config
        .trading_consumers
        .iter()
        .filter(|c| c.consumer_id == caller.customer())
        .flat_map(|c| c.accounts.iter())
        .map(|a| {
            let kind = if a.id.ends_with('8') {
                "Derivative"
            } else {
                "Cash"
            };
            json!({"accountNo": a.id, "accountType": kind})
        })
        .collect();
    answer(Value::Array(accounts))
}

/// A place body checked and turned into the broker's command (nothing applied yet).
async fn new_order(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<NewOrder, V3Error> {
    let account = account_of(caller, core, text(m, "accountNo"))?;
    let request_id = client_id(m, "clientRequestId")?;
    let symbol = text(m, "symbol")
        .ok_or_else(|| V3Error::code(400_104, "symbol is required"))?
        .to_ascii_uppercase();
    if !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(V3Error::code(
            400_006,
            format!("symbol '{symbol}' has invalid characters"),
        ));
    }
    let side = text(m, "side").unwrap_or_default().to_ascii_uppercase();
    if side != "B" && side != "S" {
        return Err(V3Error::bad("side must be B or S"));
    }
    let quantity = match m.get("quantity") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .filter(|q| *q > 0)
    .ok_or_else(|| V3Error::bad("quantity must be a whole number greater than 0"))?;
    let order_type = text(m, "orderType")
        .ok_or_else(|| V3Error::bad("orderType is required"))?
        .to_ascii_uppercase();
    let price_text = text(m, "price").unwrap_or_else(|| "0".to_owned());
    let price = match price_text.replace(',', "").parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => p,
        // A market-priced type may carry its name as the price.
        Err(_) if price_text.eq_ignore_ascii_case(&order_type) => 0.0,
        _ => return Err(V3Error::bad(format!("price '{price_text}' is not a price"))),
    };
    let universe = core.generator.universe();
    let future = universe
        .find(&symbol)
        .and_then(|i| universe.instrument(i))
        .is_some_and(|x| x.kind == market::InstrumentKind::IndexFuture);
    let v2 = json!({
        "instrumentID": symbol,
        "market": if future { "VNFE" } else { "VN" },
        "buySell": side,
        "orderType": order_type,
        "price": price,
        "quantity": quantity,
        "channelID": "TA",
    });
    let Value::Object(v2) = v2 else {
        return Err(V3Error::internal("order body"));
    };
    let order = crate::trading_api::orders::new_order(
        core,
        &info(caller),
        &v2,
        future,
        &request_id,
        &account,
    )?;
    Ok(order)
}

async fn market_open(core: &Arc<Core>) -> Result<(), V3Error> {
    let (today, _) = core.local_now();
    if core.live.get(today).await.is_none() {
        return Err(V3Error::bad(
            "The market is closed: no trading day is simulated now",
        ));
    }
    Ok(())
}

/// The `orderStatus` of an order now.
async fn status_of(core: &Core, id: matching::OrderId) -> Result<String, V3Error> {
    Ok(core
        .desk
        .read(move |b| {
            b.engine
                .order(id)
                .map(|o| status_code(o.status, o.filled.units()).to_owned())
        })
        .await?
        .unwrap_or_else(|| "PD".to_owned()))
}

async fn submit(core: &Core, order: NewOrder) -> Result<Value, V3Error> {
    let request_id = order.request_id.clone();
    match core.desk.apply(Command::NewOrder(order)).await? {
        Outcome::Order(id) => {
            // SSI acknowledges an accepted order as `PD` (not yet at the exchange); what
            // the exchange does next arrives on the stream and in `orderBook`. An order the
            // simulated broker refused at once says so (`RJ`).
            let status = status_of(core, id).await?;
            let status = if status == "RJ" {
                status
            } else {
                "PD".to_owned()
            };
            Ok(json!({
                "orderId": id.to_string(),
                "clientRequestId": request_id,
                "orderStatus": status,
            }))
        }
        Outcome::Done | Outcome::Transaction(_) => {
            Err(V3Error::internal("the broker did not answer an order id"))
        }
    }
}

async fn place(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    market_open(core).await?;
    let order = new_order(core, caller, m).await?;
    submit(core, order).await
}

/// An order of the caller's customer by `orderId` or `clientRequestId`: its id, original
/// request id, quantity and whether it has a price.
struct Found {
    id: matching::OrderId,
    request: String,
    quantity: u64,
}

async fn find(
    core: &Core,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
    account: &str,
) -> Result<Found, V3Error> {
    let by_id = text(m, "orderId");
    let by_request = text(m, "clientRequestId");
    if by_id.is_none() && by_request.is_none() {
        return Err(V3Error::bad("orderId or clientRequestId is required"));
    }
    let customer = caller.customer().to_owned();
    let account = account.to_owned();
    core.desk
        .read(move |b| {
            b.meta
                .iter()
                .filter(|(_, meta)| meta.consumer == customer)
                .filter(|(id, meta)| match (&by_id, &by_request) {
                    (Some(o), _) => id.to_string() == *o,
                    (None, Some(r)) => meta.orig_request == *r,
                    (None, None) => false,
                })
                .filter_map(|(id, meta)| {
                    let o = b.engine.order(*id)?;
                    (o.account.as_str() == account).then(|| Found {
                        id: *id,
                        request: meta.orig_request.clone(),
                        quantity: o.quantity.units(),
                    })
                })
                .next_back()
        })
        .await?
        .ok_or_else(|| V3Error::code(404, "Order not found"))
}

async fn modify(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    let account = account_of(caller, core, text(m, "accountNo"))?;
    let modify_id = client_id(m, "clientModifyId")?;
    let price = text(m, "price");
    let quantity = text(m, "quantity");
    let found = find(core, caller, m, &account).await?;
    let modify = match (price, quantity) {
        (Some(_), Some(_)) => {
            return Err(V3Error::code(
                400_107,
                "Modify the price or the quantity, not both",
            ));
        }
        (None, None) => return Err(V3Error::bad("price or quantity is required")),
        (Some(p), None) => Modify {
            price: p
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite() && *p > 0.0)
                .ok_or_else(|| V3Error::bad(format!("price '{p}' is not a price")))?,
            quantity: found.quantity,
        },
        (None, Some(q)) => Modify {
            price: 0.0,
            quantity: q
                .parse::<u64>()
                .ok()
                .filter(|q| *q > 0)
                .ok_or_else(|| V3Error::bad(format!("quantity '{q}' is not a quantity")))?,
        },
    };
    core.desk
        .apply(Command::Change(Change {
            consumer: caller.customer().to_owned(),
            account,
            order_id: found.id.0,
            request_id: modify_id.clone(),
            modify: Some(modify),
        }))
        .await?;
    Ok(json!({
        "clientModifyId": modify_id,
        "orderId": found.id.to_string(),
        "clientRequestId": found.request,
        "orderStatus": status_of(core, found.id).await?,
    }))
}

struct Cancel {
    change: Change,
    found: Found,
}

async fn cancel_of(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Cancel, V3Error> {
    let account = account_of(caller, core, text(m, "accountNo"))?;
    let cancel_id = client_id(m, "clientCancelId")?;
    let found = find(core, caller, m, &account).await?;
    Ok(Cancel {
        change: Change {
            consumer: caller.customer().to_owned(),
            account,
            order_id: found.id.0,
            request_id: cancel_id,
            modify: None,
        },
        found,
    })
}

async fn apply_cancel(core: &Core, c: Cancel) -> Result<Value, V3Error> {
    let cancel_id = c.change.request_id.clone();
    core.desk.apply(Command::Change(c.change)).await?;
    Ok(json!({
        "clientCancelId": cancel_id,
        "orderId": c.found.id.to_string(),
        "clientRequestId": c.found.request,
        "orderStatus": status_of(core, c.found.id).await?,
    }))
}

async fn cancel(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    let c = cancel_of(core, caller, m).await?;
    apply_cancel(core, c).await
}

/// A batch's id and its order bodies.
type Batch<'m> = (String, Vec<&'m Map<String, Value>>);

/// The batch envelope: its id (claimed: 409 on reuse the same day), a fresh
/// `batchRequestTime`, and 1 to 20 order bodies.
fn batch(m: &Map<String, Value>) -> Result<Batch<'_>, V3Error> {
    let id = client_id(m, "batchRequestId")?;
    let at = match m.get("batchRequestTime") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| V3Error::bad("batchRequestTime (epoch ms) is required"))?;
    let now_ms = crate::auth::unix_now().saturating_mul(1000);
    if (now_ms - at).abs() > BATCH_WINDOW_MS {
        return Err(V3Error::code(
            400_111,
            "batchRequestTime is outside the replay window",
        ));
    }
    let orders = m
        .get("orders")
        .and_then(Value::as_array)
        .ok_or_else(|| V3Error::bad("orders must be a list"))?;
    if orders.is_empty() || orders.len() > MAX_BATCH {
        return Err(V3Error::bad(format!(
            "a batch holds 1 to {MAX_BATCH} orders, got {}",
            orders.len()
        )));
    }
    let bodies = orders
        .iter()
        .map(|o| {
            o.as_object()
                .ok_or_else(|| V3Error::bad("every order of a batch must be an object"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((id, bodies))
}

fn claim_batch(core: &Core, caller: &Caller<'_>, id: &str) -> Result<(), V3Error> {
    let (today, _) = core.local_now();
    if core.claim_batch(&caller.grant.api_key, today, id) {
        Ok(())
    } else {
        Err(V3Error::code(409, format!("Duplicate batchRequestId {id}")))
    }
}

fn failed(e: &V3Error) -> Value {
    json!({"success": false, "errorCode": e.code.to_string(), "errorMessage": e.msg})
}

async fn batch_place(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    let (id, bodies) = batch(m)?;
    market_open(core).await?;
    // One bad order rejects the whole batch.
    let mut orders = Vec::with_capacity(bodies.len());
    for body in bodies {
        orders.push(new_order(core, caller, body).await?);
    }
    claim_batch(core, caller, &id)?;
    let mut results = Vec::with_capacity(orders.len());
    for order in orders {
        let request = order.request_id.clone();
        results.push(match submit(core, order).await {
            Ok(mut v) => {
                v["success"] = json!(true);
                v["errorCode"] = json!("");
                v["errorMessage"] = json!("");
                v
            }
            Err(e) => {
                let mut v = failed(&e);
                v["clientRequestId"] = json!(request);
                v
            }
        });
    }
    Ok(json!({"batchRequestId": id, "results": results}))
}

async fn batch_cancel(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    let (id, bodies) = batch(m)?;
    let mut cancels = Vec::with_capacity(bodies.len());
    for body in bodies {
        cancels.push(cancel_of(core, caller, body).await?);
    }
    claim_batch(core, caller, &id)?;
    let mut results = Vec::with_capacity(cancels.len());
    for c in cancels {
        let (cancel_id, request) = (c.change.request_id.clone(), c.found.request.clone());
        results.push(match apply_cancel(core, c).await {
            Ok(mut v) => {
                v["success"] = json!(true);
                v["errorCode"] = json!("");
                v["errorMessage"] = json!("");
                v
            }
            Err(e) => {
                let mut v = failed(&e);
                v["clientCancelId"] = json!(cancel_id);
                v["clientRequestId"] = json!(request);
                v
            }
        });
    }
    Ok(json!({"batchRequestId": id, "results": results}))
}

fn param(p: &Params, key: &str) -> Option<String> {
    p.get(&key.to_ascii_lowercase()).map(str::to_owned)
}

fn v2_params(pairs: &[(&str, &str)]) -> Params {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={v}")
        })
        .collect();
    Params::parse(Some(&q.join("&")))
}

async fn v2(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    api: &str,
    pairs: &[(&str, &str)],
) -> Result<Value, V3Error> {
    query_data(core, caller.customer(), api, &v2_params(pairs))
        .await
        .map_err(V3Error::from)
}

async fn max_buy_sell(core: &Arc<Core>, caller: &Caller<'_>, p: &Params) -> Result<Value, V3Error> {
    let account = account_of(caller, core, param(p, "accountNo"))?;
    let symbol = param(p, "symbol").ok_or_else(|| V3Error::code(400_104, "symbol is required"))?;
    let price = param(p, "price").unwrap_or_default();
    let pairs = [
        ("account", account.as_str()),
        ("instrumentID", symbol.as_str()),
        ("price", price.as_str()),
    ];
    let buy = v2(core, caller, "maxbuyqty", &pairs).await?;
    let sell = v2(core, caller, "maxsellqty", &pairs).await?;
    let mut out = json!({
        "accountNo": account,
        "maxBuyQty": buy["maxBuyQty"],
        "maxSellQty": sell["maxSellQty"],
    });
    if !account.ends_with('8') {
        out["marginRatio"] = buy["marginRatio"].clone();
        out["purchasingPower"] = buy["purchasingPower"].clone();
    }
    Ok(out)
}

/// A v3 date: `YYYY/MM/DD` (a time after it is ignored) or `DD/MM/YYYY`.
fn date(text: &str) -> Option<Date> {
    let day = text.split_whitespace().next()?;
    let parts: Vec<&str> = day.split(['/', '-']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = if a.len() == 4 { (a, b, c) } else { (c, b, a) };
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

fn v2_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// A v2 epoch-ms time as v3's `yyyy/MM/dd HH:mm:ss` (Vietnam time).
pub(super) fn v3_time(v: &Value) -> Value {
    let ms = v
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| v.as_i64());
    let Some(ms) = ms else {
        return Value::Null;
    };
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return Value::Null;
    };
    let t = t.to_offset(market::calendar::VN_OFFSET);
    json!(format!(
        "{}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// An order's price as v3 sends it: the number as text, or the order type's name for a
/// market-priced order (`"ATO"`, `"MTL"`, …).
pub(super) fn price_text(o: &Value) -> Value {
    let zero = o["price"].as_f64().is_none_or(|p| p == 0.0);
    match o["orderType"].as_str() {
        Some(t) if zero && t != "LO" => json!(t),
        _ => json!(o["price"].to_string()),
    }
}

/// A v2 `OrderItem` in v3's orderBook shape.
pub(crate) fn order_v3(o: &Value) -> Value {
    json!({
        "clientRequestId": o["origRequestID"],
        "orderId": o["orderID"],
        "symbol": o["instrumentID"],
        "side": o["buySell"],
        "orderType": o["orderType"],
        "price": price_text(o),
        "avgPrice": o["avgPrice"],
        "quantity": o["quantity"],
        "filledQty": o["filledQty"],
        "cancelQty": o["cancelQty"],
        "osQty": o["osQty"],
        "osQuantity": o["osQty"],
        "orderStatus": o["orderStatus"],
        "inputTime": v3_time(&o["inputTime"]),
        "modifiedTime": v3_time(&o["modifiedTime"]),
        "message": o["rejectReason"].as_str().filter(|r| *r != "0").unwrap_or(""),
    })
}

async fn order_book(core: &Arc<Core>, caller: &Caller<'_>, p: &Params) -> Result<Value, V3Error> {
    let account = account_of(caller, core, param(p, "accountNo"))?;
    let (today, _) = core.local_now();
    let day = |key: &str| -> Result<Date, V3Error> {
        match param(p, key) {
            None => Ok(today),
            Some(t) => date(&t).ok_or_else(|| {
                V3Error::code(400_213, format!("{key} '{t}' is not a date (YYYY/MM/DD)"))
            }),
        }
    };
    let (from, to) = (day("from")?, day("to")?);
    if from > to {
        return Err(V3Error::code(400_202, "from is after to"));
    }
    let (from, to) = (v2_date(from), v2_date(to));
    let data = v2(
        core,
        caller,
        "orderhistory",
        &[
            ("account", account.as_str()),
            ("startDate", from.as_str()),
            ("endDate", to.as_str()),
        ],
    )
    .await?;
    let symbol = param(p, "symbol").map(|s| s.to_ascii_uppercase());
    let status = param(p, "orderStatus").map(|s| s.to_ascii_uppercase());
    let orders: Vec<Value> = data["orderHistories"]
        .as_array()
        .into_iter()
        .flatten()
        .map(order_v3)
        .filter(|o| symbol.as_deref().is_none_or(|s| o["symbol"] == s))
        .filter(|o| status.as_deref().is_none_or(|s| o["orderStatus"] == s))
        .collect();
    let total = orders.len();
    let size = param(p, "pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(total.max(1));
    let index = param(p, "pageIndex")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|i| *i > 0)
        .unwrap_or(1);
    let page: Vec<Value> = orders
        .into_iter()
        .skip((index - 1).saturating_mul(size))
        .take(size)
        .collect();
    Ok(json!({"accountNo": account, "orderList": page, "totalRecord": total}))
}

async fn balance(core: &Arc<Core>, caller: &Caller<'_>, p: &Params) -> Result<Value, V3Error> {
    let account = account_of(caller, core, param(p, "accountNo"))?;
    if account.ends_with('8') {
        let d = v2(
            core,
            caller,
            "derivacctbal",
            &[("account", account.as_str())],
        )
        .await?;
        return Ok(json!({"equity": null, "derivative": {
            "accountNo": account, "accountBalance": d["accountBalance"], "fee": d["fee"],
            "commission": d["commission"], "interest": d["interest"], "extInterest": 0,
            "loan": d["loan"], "deliveryAmount": d["deliveryAmount"], "floatingPL": d["floatingPL"],
            "tradingPL": d["totalPL"], "totalPL": d["totalPL"], "withdrawable": d["withdrawable"],
            "cashSSI": d["accountBalance"], "validNonCashSSI": 0, "withdrawableSSI": d["withdrawable"],
            "cashVSDC": 0, "validNonCashVSDC": 0, "withdrawableVSDC": 0
        }}));
    }
    let c = v2(
        core,
        caller,
        "cashacctbal",
        &[("account", account.as_str())],
    )
    .await?;
    Ok(json!({"equity": {
        "accountNo": account, "accountBalance": c["cashBal"], "totalDebt": c["debt"],
        "interestLoan": 0, "overdueFeeLoan": 0, "withdrawable": c["withdrawable"],
        "onHoldCash": c["cashOnHold"], "sellUnmatched": c["unMatchedSellVolume"],
        "buyUnmatched": c["unMatchedBuyVolume"], "sellT0": c["matchedSellVolume"],
        "sellT1": c["receivingCashT1"], "sellT2": c["receivingCashT2"],
        "buyT0": c["matchedBuyVolume"], "buyT1": c["paidCashT1"], "buyT2": c["paidCashT2"],
        "advancedCashT0": c["cia"], "advancedCashT1": 0, "holdSubscription": 0, "dividend": 0,
        "purchasingPower": c["purchasingPower"]
    }, "derivative": null}))
}

async fn position(core: &Arc<Core>, caller: &Caller<'_>, p: &Params) -> Result<Value, V3Error> {
    let account = account_of(caller, core, param(p, "accountNo"))?;
    if account.ends_with('8') {
        let d = v2(
            core,
            caller,
            "derivposition",
            &[("account", account.as_str())],
        )
        .await?;
        return Ok(json!({"equity": [], "derivative": {
            "derOpenPositions": d["openPosition"], "derClosePositions": d["closePosition"]
        }}));
    }
    let s = v2(
        core,
        caller,
        "stockposition",
        &[("account", account.as_str())],
    )
    .await?;
    let rows: Vec<Value> = s["stockPositions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            json!({
                "accountNo": account, "symbol": r["instrumentID"], "quantity": r["onHand"],
                "sellableQuantity": r["sellableQty"], "costPrice": r["avgPrice"],
                "marketPrice": r["marketPrice"], "blockQuantity": r["block"],
                "dividendQuantity": r["bonus"], "buyingQuantity": 0,
                "boughtQuantity": r["buyT0"], "sellingQuantity": r["holdForTrade"],
                "soldQuantity": r["sellT0"], "t1SellQuantity": r["sellT1"],
                "t2SellQuantity": r["sellT2"], "t1BuyQuantity": r["buyT1"],
                "t2BuyQuantity": r["buyT2"], "mortgageQuantity": r["mortgage"],
                "restrictedQuantity": 0
            })
        })
        .collect();
    Ok(json!({"equity": rows, "derivative": {"derOpenPositions": [], "derClosePositions": []}}))
}

async fn ppmmr(core: &Arc<Core>, caller: &Caller<'_>, p: &Params) -> Result<Value, V3Error> {
    let account = account_of(caller, core, param(p, "accountNo"))?;
    let d = v2(
        core,
        caller,
        "ppmmraccount",
        &[("account", account.as_str())],
    )
    .await?;
    let mut equity = d.clone();
    equity["accountNo"] = json!(account);
    if account.ends_with('8') {
        Ok(json!({"equity": null, "derivative": equity}))
    } else {
        Ok(json!({"equity": equity, "derivative": null}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_both_orders_and_times_are_vietnam_local() {
        let d = Date::from_calendar_date(2026, time::Month::May, 26).unwrap();
        assert_eq!(date("2026/05/26"), Some(d));
        assert_eq!(date("2026/05/26 09:15:00"), Some(d));
        assert_eq!(date("26/05/2026"), Some(d));
        assert_eq!(date("2026/13/26"), None);
        assert_eq!(v2_date(d), "26/05/2026");
        // 2026-05-26 02:00:00 UTC = 09:00 in Hanoi.
        assert_eq!(
            v3_time(&json!("1779760800000")),
            json!("2026/05/26 09:00:00")
        );
    }
}
