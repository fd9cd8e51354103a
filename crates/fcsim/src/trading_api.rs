//! FC Trading REST (`/api/v2/Trading/...`): GetOTP, AccessToken (PIN/OTP, `isSave`),
//! bearer auth, per-consumer quotas (HTTP 429, plain text, `Retry-After`), `X-Signature`
//! over the exact body bytes of every POST, `requestID` rules, orders into the broker's
//! `matching::Engine`, and the query endpoints (§5, §8).

use std::collections::{HashMap, VecDeque};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use market::order::Amendment;
use market::{Board, InstrumentKind, OrderType, Price, Quantity, Side};
use matching::{AccountId, OrderId, OrderRequest};
use serde_json::{Map, Value, json};

use crate::auth::{Audience, TokenInfo, signature_valid, unix_now};
use crate::broker::{Broker, BrokerError, OrderMeta, to_units};
use crate::config::RateRule;
use crate::rest::{ApiError, Params, ok};
use crate::sim::Core;

pub(crate) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .merge(crate::trading_hub::router())
        .fallback(handle)
        .with_state(core)
}

/// Per-consumer sliding windows of the quota rules.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    windows: HashMap<(String, usize), VecDeque<Instant>>,
}

impl Limiter {
    /// Counts a call; on breach returns the rule and how long until a slot frees.
    fn admit(
        &mut self,
        rules: &[RateRule],
        consumer: &str,
        method: &str,
        api: &str,
    ) -> Result<(), (RateRule, Duration)> {
        let now = Instant::now();
        let mut applicable = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let Some(ms) = rule.period_ms() else { continue };
            if !rule.applies(method, api) {
                continue;
            }
            let period = Duration::from_millis(ms);
            let w = self.windows.entry((consumer.to_owned(), i)).or_default();
            while w.front().is_some_and(|t| now.duration_since(*t) >= period) {
                w.pop_front();
            }
            if w.len() >= usize::try_from(rule.limit).unwrap_or(usize::MAX) {
                let wait = w
                    .front()
                    .map_or(period, |t| period.saturating_sub(now.duration_since(*t)));
                return Err((rule.clone(), wait));
            }
            applicable.push(i);
        }
        for i in applicable {
            self.windows
                .entry((consumer.to_owned(), i))
                .or_default()
                .push_back(now);
        }
        Ok(())
    }
}

fn too_many(rule: &RateRule, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "API calls quota exceeded! maximum admitted {} per {}.",
            rule.limit, rule.period
        ),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn business(msg: impl Into<String>) -> ApiError {
    ApiError::business(msg)
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> Self {
        match e {
            BrokerError::Bad(m) => ApiError::business(m),
        }
    }
}

async fn handle(
    State(core): State<Arc<Core>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_ascii_lowercase();
    let Some(api) = path.strip_prefix("/api/v2/trading/") else {
        return ApiError::not_found(uri.path()).into_response();
    };
    let api = api.trim_end_matches('/');
    let is_post = method == Method::POST;
    if api == "accesstoken" || api == "getotp" {
        if !is_post {
            return ApiError::bad(format!("{api} requires POST")).into_response();
        }
        let result = if api == "accesstoken" {
            access_token(&core, &body)
        } else {
            get_otp(&core, &body)
        };
        return result.unwrap_or_else(IntoResponse::into_response);
    }
    if !is_post && method != Method::GET {
        return ApiError {
            http: StatusCode::METHOD_NOT_ALLOWED,
            status: json!(405),
            message: "The requested resource does not support this http method.".into(),
        }
        .into_response();
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let info = match core.tokens().check(auth, Audience::Trading) {
        Ok(info) => info,
        Err(e) => {
            return ApiError::unauthorized(StatusCode::UNAUTHORIZED, e.to_string()).into_response();
        }
    };
    let verb = if is_post { "post" } else { "get" };
    if let Err((rule, wait)) =
        core.limiter()
            .admit(&core.config.rate_limits, &info.consumer, verb, api)
    {
        return too_many(&rule, wait);
    }
    let result = if is_post {
        signed_post(&core, &info, api, &headers, &body)
    } else {
        query(&core, &info, api, &Params::parse(uri.query()))
    };
    result.unwrap_or_else(|e| {
        if e.http == StatusCode::NOT_FOUND {
            ApiError::not_found(uri.path()).into_response()
        } else {
            e.into_response()
        }
    })
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("The request body must be a JSON object")),
        Err(e) => Err(ApiError::bad(format!("The request is invalid: {e}"))),
    }
}

/// Case-insensitive field lookup (ASP.NET model binding).
fn field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn text(m: &Map<String, Value>, name: &str) -> Option<String> {
    match field(m, name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn required(m: &Map<String, Value>, name: &str, label: &str) -> Result<String, ApiError> {
    text(m, name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad(format!("'{label}' must not be empty.")))
}

fn number(m: &Map<String, Value>, name: &str) -> Result<f64, ApiError> {
    match field(m, name) {
        None => Ok(0.0),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| ApiError::bad(format!("'{name}' is not a number"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(0.0),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| ApiError::bad(format!("'{name}' is not a number"))),
        Some(_) => Err(ApiError::bad(format!("'{name}' is not a number"))),
    }
}

fn quantity(m: &Map<String, Value>) -> Result<u64, ApiError> {
    let q = number(m, "quantity")?;
    if !(q.is_finite() && q >= 1.0 && q.fract() == 0.0 && q < 1e12) {
        return Err(ApiError::bad(
            "'Quantity' must be a whole number greater than 0.",
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(q as u64)
}

fn two_factor_ok(core: &Core, consumer: &str, two_factor: i64, code: &str) -> bool {
    let pin = core
        .config
        .trading_consumers
        .iter()
        .find(|c| c.consumer_id == consumer)
        .map(|c| c.pin.as_str());
    match two_factor {
        0 => pin.is_some_and(|p| p == code),
        _ => core.tokens().take_otp(consumer, code),
    }
}

fn consumer_of<'a>(
    core: &'a Core,
    m: &Map<String, Value>,
) -> Result<&'a crate::config::TradingConsumer, ApiError> {
    let id = text(m, "consumerID").unwrap_or_default();
    let secret = text(m, "consumerSecret").unwrap_or_default();
    core.config
        .trading_consumers
        .iter()
        .find(|c| c.consumer_id == id && c.consumer_secret == secret)
        .ok_or_else(|| business("ConsumerID is invalid"))
}

fn get_otp(core: &Core, body: &[u8]) -> Result<Response, ApiError> {
    let m = json_body(body)?;
    let consumer = consumer_of(core, &m)?;
    let otp = core
        .tokens()
        .issue_otp(core.config.seed, &consumer.consumer_id);
    tracing::info!(consumer = %consumer.consumer_id, %otp, "fcsim: OTP issued (read it from the log or Simulator::pending_otp)");
    Ok(axum::Json(json!({"message": "Success", "status": 200})).into_response())
}

fn access_token(core: &Core, body: &[u8]) -> Result<Response, ApiError> {
    let m = json_body(body)?;
    let consumer = consumer_of(core, &m)?;
    let two_factor = match field(&m, "twoFactorType") {
        None => 0,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|t| (0..=2).contains(t))
            .ok_or_else(|| ApiError::bad("'Two Factor Type' is not a valid value"))?,
    };
    let save = match field(&m, "isSave") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(ApiError::bad("'Is Save' is not a boolean")),
    };
    let code = text(&m, "code").unwrap_or_default();
    if save && !two_factor_ok(core, &consumer.consumer_id, two_factor, &code) {
        return Err(business(match two_factor {
            0 => "PIN is invalid",
            _ => "OTP is invalid or expired",
        }));
    }
    let info = TokenInfo {
        consumer: consumer.consumer_id.clone(),
        audience: Audience::Trading,
        verified: save,
        exp: unix_now() + core.config.token_lifetime_secs,
    };
    let token = core.tokens().issue(core.config.seed, info);
    Ok(ok(json!({"accessToken": token})))
}

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

fn signed_post(
    core: &Core,
    info: &TokenInfo,
    api: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let derivative = match api {
        "neworder" | "modifyorder" | "cancelorder" => false,
        "derneworder" | "dermodifyorder" | "dercancelorder" => true,
        _ => return Err(ApiError::not_found(api)),
    };
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
        return Err(ApiError::bad("Invalid signature"));
    }
    let m = json_body(body)?;
    let request_id = required(&m, "requestID", "Request ID")?;
    if request_id.len() > 8 || !request_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad("'Request ID' must be at most 8 digits"));
    }
    if !info.verified {
        let code = text(&m, "code").unwrap_or_default();
        if code.is_empty() {
            return Err(business(
                "Code is required: the token was issued with isSave=false",
            ));
        }
        // The per-order code is the PIN or a pending OTP (consumed).
        if !two_factor_ok(core, &info.consumer, 0, &code)
            && !two_factor_ok(core, &info.consumer, 1, &code)
        {
            return Err(business("Code is invalid"));
        }
    }
    let account = required(&m, "account", "Account")?;
    let live = crate::data_hub::live_day(core)
        .ok_or_else(|| business("The market is closed: no trading day is simulated now"))?;
    let mut broker = core.broker();
    if !broker.owns(&info.consumer, &account) {
        return Err(business("Account is not exist."));
    }
    let now = core.clock.now();
    if let Err(e) = broker.sync(core, now, None) {
        return Err(not_saved(&e));
    }
    let (today, _) = core.local_now();
    let result = match api.trim_start_matches("der") {
        "neworder" => new_order(
            core,
            &mut broker,
            info,
            &live,
            &m,
            derivative,
            &request_id,
            &account,
            today,
        ),
        "modifyorder" => change_order(&mut broker, info, &m, &request_id, &account, today, true),
        _ => change_order(&mut broker, info, &m, &request_id, &account, today, false),
    };
    // Nothing is acknowledged before it is saved (with a `data_dir`).
    if let Err(e) = broker.commit() {
        return Err(not_saved(&e));
    }
    result
}

/// HTTP 500 for a change that could not be saved: the client must not take it as done.
fn not_saved(e: &crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "fcsim: trading state not saved; request not acknowledged");
    ApiError {
        http: StatusCode::INTERNAL_SERVER_ERROR,
        status: json!(500),
        message: "The simulator could not save its state; the request is not acknowledged"
            .to_owned(),
    }
}

fn echo(m: &Map<String, Value>, drop: &[&str]) -> Value {
    Value::Object(
        m.iter()
            .filter(|(k, _)| !drop.iter().any(|d| k.eq_ignore_ascii_case(d)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

#[allow(clippy::too_many_arguments)]
fn new_order(
    core: &Core,
    broker: &mut Broker,
    info: &TokenInfo,
    live: &crate::data_hub::LiveDay,
    m: &Map<String, Value>,
    derivative: bool,
    request_id: &str,
    account: &str,
    today: time::Date,
) -> Result<Response, ApiError> {
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
    let price = if order_type.carries_price() {
        if price <= 0.0 {
            return Err(ApiError::bad(
                "Price must be greater than 0 for a limit order",
            ));
        }
        let units = to_units(x.kind, price)
            .ok_or_else(|| business(format!("ORD004: Price {price} is not a valid price step")))?;
        Some(Price::new(units).map_err(|e| ApiError::bad(e.to_string()))?)
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
    let (sym, _) = broker.ensure_listed(live, &symbol)?;
    if !broker.claim_request_id(&info.consumer, today, request_id) {
        return Err(ApiError::bad(format!("Duplicate requestID {request_id}")));
    }
    broker.requote(core, live, sym);
    let meta = OrderMeta {
        consumer: info.consumer.clone(),
        orig_request: request_id.to_owned(),
        last_request: request_id.to_owned(),
        market: market.to_owned(),
        channel: text(m, "channelID").unwrap_or_else(|| "TA".to_owned()),
        last_error: None,
        modified: core.clock.now(),
    };
    let req = OrderRequest {
        account: AccountId::new(account),
        symbol: sym,
        board,
        side,
        order_type,
        price,
        quantity: Quantity::new(qty),
    };
    // Entry rejections reach the client as `orderError` on the stream, as at SSI; with
    // `reject_in_response` the answer carries them too.
    if let Err(matching::Error::Rejected { reason, .. }) = broker.submit(req, meta)
        && core.config.reject_in_response
    {
        return Err(business(format!(
            "{}: {reason}",
            crate::broker::reject_code(&reason)
        )));
    }
    Ok(ok(json!({
        "requestID": request_id,
        "requestData": echo(m, &["code", "deviceId", "userAgent"]),
    })))
}

fn change_order(
    broker: &mut Broker,
    info: &TokenInfo,
    m: &Map<String, Value>,
    request_id: &str,
    account: &str,
    today: time::Date,
    modify: bool,
) -> Result<Response, ApiError> {
    let order_text = required(m, "orderID", "Order ID")?;
    let _ = parse_market(m, "marketID")?;
    let _ = parse_side(m)?;
    let id = order_text
        .parse::<u64>()
        .map(OrderId)
        .map_err(|_| business("ORD013: Order Is Null Error!"))?;
    let owned = broker
        .meta
        .get(&id)
        .is_some_and(|meta| meta.consumer == info.consumer)
        && broker
            .engine
            .order(id)
            .is_some_and(|o| o.account.as_str() == account);
    let Some(order) = broker.engine.order(id).filter(|_| owned).cloned() else {
        return Err(business("ORD013: Order Is Null Error!"));
    };
    let mut amendments = Vec::new();
    if modify {
        let price = number(m, "price")?;
        let qty = quantity(m)?;
        let universe_kind = broker
            .engine
            .instrument(order.symbol)
            .map_or(InstrumentKind::Stock, |i| i.security.kind);
        if let Some(current) = order.price
            && price > 0.0
        {
            let units = to_units(universe_kind, price).ok_or_else(|| {
                business(format!("ORD004: Price {price} is not a valid price step"))
            })?;
            if units != current.units() {
                let p = Price::new(units).map_err(|e| ApiError::bad(e.to_string()))?;
                amendments.push(Amendment::Price(p));
            }
        }
        if qty != order.quantity.units() {
            amendments.push(Amendment::Quantity(Quantity::new(qty)));
        }
        if amendments.is_empty() {
            return Err(business("ORD014: Price and quantity are unchanged"));
        }
    }
    if !broker.claim_request_id(&info.consumer, today, request_id) {
        return Err(ApiError::bad(format!("Duplicate requestID {request_id}")));
    }
    broker.change(id, request_id, modify.then_some(amendments.as_slice()));
    let drop: &[&str] = &["code", "deviceId", "userAgent"];
    Ok(ok(
        json!({"requestID": request_id, "requestData": echo(m, drop)}),
    ))
}

fn query(core: &Core, info: &TokenInfo, api: &str, p: &Params) -> Result<Response, ApiError> {
    if api == "ratelimit" {
        let rules: Vec<Value> = core
            .config
            .rate_limits
            .iter()
            .map(|r| json!({"endpoint": r.endpoint, "period": r.period, "limit": r.limit}))
            .collect();
        return Ok(ok(Value::Array(rules)));
    }
    let known = [
        "orderhistory",
        "orderbook",
        "auditorderbook",
        "stockposition",
        "derivposition",
        "maxbuyqty",
        "maxsellqty",
        "cashacctbal",
        "derivacctbal",
        "ppmmraccount",
    ];
    if !known.contains(&api) {
        return Err(ApiError::not_found(api));
    }
    let account = p
        .get("account")
        .ok_or_else(|| ApiError::bad("'Account' must not be empty."))?
        .to_owned();
    let live = crate::data_hub::live_day(core);
    let mut broker = core.broker();
    if !broker.owns(&info.consumer, &account) {
        return Err(business("Account is not exist."));
    }
    if let Err(e) = broker.sync(core, core.clock.now(), None) {
        tracing::error!(error = %e, "fcsim: trading state not saved; retrying");
    }
    let id = AccountId::new(account.clone());
    let (today, _) = core.local_now();
    let data = match api {
        "orderhistory" => {
            let from = p
                .get("startdate")
                .ok_or_else(|| ApiError::bad("'Start Date' must not be empty."))?;
            let to = p
                .get("enddate")
                .ok_or_else(|| ApiError::bad("'End Date' must not be empty."))?;
            let from = fastconnect::wire::parse_date(from)
                .ok_or_else(|| ApiError::bad("'Start Date' is not a date (dd/MM/yyyy)"))?;
            let to = fastconnect::wire::parse_date(to)
                .ok_or_else(|| ApiError::bad("'End Date' is not a date (dd/MM/yyyy)"))?;
            let items = orders(&broker, &id, |d| d >= from && d <= to, false);
            json!({"account": account, "orderHistories": items})
        }
        "orderbook" | "auditorderbook" => {
            let items = orders(&broker, &id, |d| d == today, api == "auditorderbook");
            json!({"account": account, "orders": items})
        }
        "maxbuyqty" | "maxsellqty" => {
            let symbol = p
                .get("instrumentid")
                .ok_or_else(|| ApiError::bad("'Instrument ID' must not be empty."))?
                .to_ascii_uppercase();
            let live = live.ok_or_else(|| business("No trading day is simulated now"))?;
            let (sym, i) = broker.ensure_listed(&live, &symbol)?;
            let kind = core
                .generator
                .universe()
                .instrument(i)
                .map_or(InstrumentKind::Stock, |x| x.kind);
            let price = match p.get("price").map(str::parse::<f64>) {
                None => None,
                Some(Ok(v)) if v <= 0.0 => None,
                Some(Ok(v)) => to_units(kind, v).and_then(|u| Price::new(u).ok()),
                Some(Err(_)) => return Err(ApiError::bad("'Price' is not a number")),
            };
            let engine_err = |e: matching::Error| business(e.to_string());
            if api == "maxbuyqty" {
                let q = broker
                    .engine
                    .max_buy_qty(&id, sym, Board::Main, price)
                    .map_err(engine_err)?;
                let pp = broker.engine.buying_power(&id).map_err(engine_err)?;
                json!({"account": account, "maxBuyQty": q.units(), "marginRatio": "100%", "purchasingPower": pp.amount()})
            } else {
                let q = broker
                    .engine
                    .max_sell_qty(&id, sym, Board::Main, price)
                    .map_err(engine_err)?;
                json!({"account": account, "maxSellQty": q.units()})
            }
        }
        _ => account_data(core, &broker, &id, api, p)?,
    };
    Ok(ok(data))
}

fn orders(
    broker: &Broker,
    id: &AccountId,
    keep: impl Fn(time::Date) -> bool,
    audit: bool,
) -> Vec<Value> {
    broker
        .engine
        .orders()
        .filter(|o| &o.account == id && keep(o.date))
        .filter_map(|o| broker.order_item(o, audit))
        .collect()
}

fn account_data(
    core: &Core,
    broker: &Broker,
    id: &AccountId,
    api: &str,
    p: &Params,
) -> Result<Value, ApiError> {
    let a = broker
        .engine
        .account(id)
        .ok_or_else(|| business("Account is not exist."))?;
    let err = |e: matching::Error| business(e.to_string());
    let pp = a.buying_power().map_err(err)?.amount();
    let receivable = a.receivable_total().map_err(err)?.amount();
    let margin = a.margin_used().map_err(err)?.amount();
    let cash = a.cash.amount();
    let held = a.held.amount();
    let last_price = |sym: market::Symbol| -> i64 {
        broker
            .engine
            .instrument(sym)
            .and_then(|i| i.main.last_price.or(i.security.limits.map(|l| l.reference)))
            .map_or(0, Price::units)
    };
    Ok(match api {
        "stockposition" => {
            let mut total = 0i64;
            let rows: Vec<Value> = a
                .positions
                .iter()
                .filter(|(_, pos)| pos.total().units() > 0)
                .map(|(sym, pos)| {
                    let on_hand = pos.total().units();
                    let pending: u64 = on_hand.saturating_sub(pos.settled.units());
                    let sellable = broker
                        .engine
                        .sellable(id, *sym)
                        .map_or(0, |q| q.units());
                    let mp = last_price(*sym);
                    total = total.saturating_add(mp.saturating_mul(i64::try_from(on_hand).unwrap_or(0)));
                    json!({"marketID": "VN", "instrumentID": sym.as_str(), "onHand": on_hand, "block": 0,
                        "bonus": 0, "buyT0": pending, "buyT1": 0, "buyT2": 0, "sellT0": 0, "sellT1": 0,
                        "sellT2": 0, "avgPrice": pos.average_price(), "mortgage": 0, "sellableQty": sellable,
                        "holdForTrade": pos.sell_hold.units(), "marketPrice": mp})
                })
                .collect();
            json!({"account": id.as_str(), "totalMarketValue": total, "stockPositions": rows})
        }
        "derivposition" => {
            let _ = p.bool("querysummary", true)?;
            json!({"account": id.as_str(), "openPosition": broker.portfolio(id), "closePosition": []})
        }
        "cashacctbal" => json!({
            "account": id.as_str(), "cashBal": cash, "cashOnHold": held, "secureAmount": held,
            "withdrawable": pp, "receivingCashT1": receivable, "receivingCashT2": 0,
            "matchedBuyVolume": 0, "matchedSellVolume": 0, "debt": 0, "unMatchedBuyVolume": held,
            "unMatchedSellVolume": 0, "paidCashT1": 0, "paidCashT2": 0, "cia": 0,
            "purchasingPower": pp, "totalAssets": cash.saturating_add(receivable)
        }),
        "derivacctbal" => {
            let assets = json!({"cash": cash, "validNonCash": 0, "totalValue": cash,
                "maxValidNonCash": 0, "cashWithdrawable": pp, "ee": pp});
            let ratio = if cash > 0 {
                margin as f64 / cash as f64
            } else {
                0.0
            };
            json!({
                "account": id.as_str(), "accountBalance": cash, "fee": a.fees_paid.amount(),
                "commission": 0, "interest": 0, "loan": 0, "deliveryAmount": 0,
                "floatingPL": 0, "totalPL": a.futures.values().map(|f| f.realised.amount()).sum::<i64>(),
                "marginable": pp, "depositable": 0, "rcCall": 0, "withdrawable": pp,
                "nonCashDrawableRCCall": 0, "internalAssets": assets, "exchangeAssets": assets,
                "internalMargin": {"initialMargin": margin, "deliveryMargin": 0, "marginReq": margin,
                    "accountRatio": ratio, "usedLimitWarningLevel1": 0.8, "usedLimitWarningLevel2": 0.9,
                    "usedLimitWarningLevel3": 1.0, "marginCall": 0},
                "exchangeMargin": {"marginReq": margin, "accountRatio": ratio,
                    "usedLimitWarningLevel1": 0.8, "usedLimitWarningLevel2": 0.9,
                    "usedLimitWarningLevel3": 1.0, "marginCall": 0}
            })
        }
        _ => {
            let lmv: i64 = a
                .positions
                .iter()
                .map(|(s, pos)| {
                    last_price(*s).saturating_mul(i64::try_from(pos.total().units()).unwrap_or(0))
                })
                .sum();
            let total = cash.saturating_add(receivable).saturating_add(lmv);
            let _ = core;
            json!({
                "collateralAsset": lmv, "callLMW": 0, "liability": 0, "eeOrigin": pp, "forceLMV": 0,
                "equity": total, "ee": pp, "callMargin": 0, "cashBalance": cash, "purchasingPower": pp,
                "callForcesell": 0, "lmv": lmv, "marginCall": 0, "withdrawal": pp, "collateralA": 0,
                "action": "", "marginRatio": 0.0, "debt": 0, "accruedInterest": 0, "holdRight": 0,
                "preLoan": 0, "fees": a.fees_paid.amount(), "buyUnmatch": held, "ap": 0, "apT1": 0,
                "sellUnmatch": 0, "cia": 0, "ar": receivable, "arT1": 0, "ppCredit": 0, "creditLimit": 0,
                "totalAssets": total, "marginCallLMVSold": 0, "lmvNonMarginable": 0, "eeCredit": 0,
                "totalEquity": total, "eE90": pp, "eE80": pp, "eE70": pp, "eE60": pp, "eE50": pp
            })
        }
    })
}
