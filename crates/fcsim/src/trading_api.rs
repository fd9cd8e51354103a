//! FC Trading REST (`/api/v2/Trading/...`): GetOTP, AccessToken (PIN/OTP, `isSave`) behind
//! the credential guard, bearer auth, per-consumer quotas (HTTP 429, plain text,
//! `Retry-After`), `X-Signature` over the exact body bytes of every POST, `requestID`
//! rules, orders to the trading desk ([`orders`]) and the query endpoints ([`queries`])
//! (§5, §8); and the SDK 2.5 `cash`, `stock` and `ors` endpoints ([`cash`], §5.7) with the
//! same auth, quotas, signing and envelopes.

mod cash;
pub(crate) mod orders;
pub(crate) mod queries;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::throttle::Refusal;
use crate::auth::{Audience, TokenInfo, unix_now};
use crate::broker::BrokerError;
use crate::config::RateRule;
use crate::desk::DeskError;
use crate::rest::{ApiError, Params, ok};
use crate::sim::Core;

pub(crate) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .merge(crate::trading_hub::router())
        .merge(crate::v3::router())
        .fallback(handle)
        .layer(DefaultBodyLimit::disable())
        .with_state(core)
}

fn retry_after(resp: &mut Response, wait: Duration) {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

fn too_many(rule: &RateRule, wait: Duration) -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "API calls quota exceeded! maximum admitted {} per {}.",
            rule.limit, rule.period
        ),
    )
        .into_response();
    retry_after(&mut resp, wait);
    resp
}

/// The credential guard's refusal: HTTP 429 in SSI's envelope, with `Retry-After`.
fn refused(r: &Refusal) -> Response {
    let wait = r.retry_after();
    let message = match r {
        Refusal::LockedOut(_) => format!(
            "Too many wrong credentials: this consumer is locked out for {} s",
            wait.as_secs().max(1)
        ),
        Refusal::TooFrequent(_) => format!(
            "Too many AccessToken/GetOTP calls: try again in {} s",
            wait.as_secs().max(1)
        ),
    };
    let mut resp = ApiError {
        http: StatusCode::TOO_MANY_REQUESTS,
        status: json!(429),
        message,
    }
    .into_response();
    retry_after(&mut resp, wait);
    resp
}

pub(crate) fn business(msg: impl Into<String>) -> ApiError {
    ApiError::business(msg)
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> Self {
        let text = e.to_string();
        match e {
            BrokerError::Invalid(m) => ApiError::bad(m),
            BrokerError::Duplicate(_) => ApiError::bad(text),
            BrokerError::Refused(m) => ApiError::business(m),
        }
    }
}

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::Broker(b) => b.into(),
            DeskError::NotSaved(why) => {
                tracing::error!(error = %why, "fcsim: trading state not saved; request not acknowledged");
                ApiError {
                    http: StatusCode::INTERNAL_SERVER_ERROR,
                    status: json!(500),
                    message:
                        "The simulator could not save its state; the request is not acknowledged and was not applied"
                            .to_owned(),
                }
            }
            DeskError::Unavailable(why) => ApiError {
                http: StatusCode::SERVICE_UNAVAILABLE,
                status: json!(503),
                message: format!("The simulator's trading state is unavailable: {why}"),
            },
        }
    }
}

/// Why a request ends early: an error envelope, or a ready answer (429 with headers).
pub(crate) enum Refused {
    Api(ApiError),
    Response(Box<Response>),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Api(e)
    }
}

async fn handle(
    State(core): State<Arc<Core>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().to_ascii_lowercase();
    let Some((group, api)) = path
        .strip_prefix("/api/v2/")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(group, _)| matches!(*group, "trading" | "cash" | "stock" | "ors"))
    else {
        return ApiError::not_found(uri.path()).into_response();
    };
    let api = api.trim_end_matches('/');
    let is_post = method == Method::POST;
    let body = match crate::http::body(body, core.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if group == "trading" && (api == "accesstoken" || api == "getotp") {
        if !is_post {
            return ApiError::bad(format!("{api} requires POST")).into_response();
        }
        let result = if api == "accesstoken" {
            access_token(&core, &body)
        } else {
            get_otp(&core, &body)
        };
        return match result {
            Ok(r) => r,
            Err(Refused::Response(r)) => *r,
            Err(Refused::Api(e)) => e.into_response(),
        };
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
    let params = Params::parse(uri.query());
    let result = match (group, is_post) {
        ("trading", true) => orders::signed_post(&core, &info, api, &headers, &body).await,
        ("trading", false) => queries::query(&core, &info, api, &params).await,
        (_, true) => cash::post(&core, &info, group, api, &headers, &body).await,
        (_, false) => cash::get(&core, &info, group, api, &params).await,
    };
    match result {
        Ok(r) => r,
        Err(Refused::Response(r)) => *r,
        Err(Refused::Api(e)) if e.http == StatusCode::NOT_FOUND => {
            ApiError::not_found(uri.path()).into_response()
        }
        Err(Refused::Api(e)) => e.into_response(),
    }
}

pub(crate) fn json_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("The request body must be a JSON object")),
        Err(e) => Err(ApiError::bad(format!("The request is invalid: {e}"))),
    }
}

/// Case-insensitive field lookup (ASP.NET model binding).
pub(crate) fn field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

pub(crate) fn text(m: &Map<String, Value>, name: &str) -> Option<String> {
    match field(m, name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

pub(crate) fn required(
    m: &Map<String, Value>,
    name: &str,
    label: &str,
) -> Result<String, ApiError> {
    text(m, name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad(format!("'{label}' must not be empty.")))
}

/// A finite number (a JSON number, or a string holding one); absent is 0.
pub(crate) fn number(m: &Map<String, Value>, name: &str) -> Result<f64, ApiError> {
    let not_a_number = || ApiError::bad(format!("'{name}' is not a number"));
    let v = match field(m, name) {
        None => 0.0,
        Some(Value::Number(n)) => n.as_f64().ok_or_else(not_a_number)?,
        Some(Value::String(s)) if s.trim().is_empty() => 0.0,
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| not_a_number())?,
        Some(_) => return Err(not_a_number()),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(not_a_number())
    }
}

/// The consumer named by `consumerID` with the right `consumerSecret`. A wrong secret of a
/// known consumer counts as a failure; an unknown id leaves no trace.
fn consumer_of<'a>(
    core: &'a Core,
    m: &Map<String, Value>,
) -> Result<&'a crate::config::TradingConsumer, Refused> {
    let id = text(m, "consumerID").unwrap_or_default();
    let secret = text(m, "consumerSecret").unwrap_or_default();
    let Some(consumer) = core
        .config
        .trading_consumers
        .iter()
        .find(|c| c.consumer_id == id)
    else {
        return Err(business("ConsumerID is invalid").into());
    };
    let mut guard = core.guard();
    if let Err(r) = guard.admit_call(&consumer.consumer_id, Instant::now()) {
        return Err(Refused::Response(Box::new(refused(&r))));
    }
    if consumer.consumer_secret != secret {
        guard.failed(&consumer.consumer_id, Instant::now());
        return Err(business("ConsumerID is invalid").into());
    }
    Ok(consumer)
}

/// Checks a PIN (`two_factor` 0) or a pending OTP (otherwise, consumed) under the guard:
/// refused while locked out, and a wrong one counts towards the lockout.
pub(crate) fn verify_code(
    core: &Core,
    consumer: &str,
    two_factor: Option<i64>,
    code: &str,
) -> Result<bool, Box<Response>> {
    let now = Instant::now();
    if let Some(r) = core.guard().locked(consumer, now) {
        return Err(Box::new(refused(&r)));
    }
    let pin_ok = || {
        core.config
            .trading_consumers
            .iter()
            .find(|c| c.consumer_id == consumer)
            .is_some_and(|c| c.pin == code)
    };
    let right = match two_factor {
        Some(0) => pin_ok(),
        Some(_) => core.tokens().take_otp(consumer, code),
        // A per-order code may be the PIN or a pending OTP.
        None => pin_ok() || core.tokens().take_otp(consumer, code),
    };
    let mut guard = core.guard();
    if right {
        guard.succeeded(consumer);
    } else {
        guard.failed(consumer, now);
    }
    Ok(right)
}

fn get_otp(core: &Core, body: &[u8]) -> Result<Response, Refused> {
    let m = json_body(body)?;
    let consumer = consumer_of(core, &m)?;
    let otp = core
        .tokens()
        .issue_otp(&consumer.consumer_id)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    core.deliver_otp(&consumer.consumer_id, &otp);
    Ok(axum::Json(json!({"message": "Success", "status": 200})).into_response())
}

fn access_token(core: &Core, body: &[u8]) -> Result<Response, Refused> {
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
        Some(_) => return Err(ApiError::bad("'Is Save' is not a boolean").into()),
    };
    let code = text(&m, "code").unwrap_or_default();
    if save {
        let right = verify_code(core, &consumer.consumer_id, Some(two_factor), &code)
            .map_err(Refused::Response)?;
        if !right {
            return Err(business(match two_factor {
                0 => "PIN is invalid",
                _ => "OTP is invalid or expired",
            })
            .into());
        }
    }
    let info = TokenInfo {
        consumer: consumer.consumer_id.clone(),
        audience: Audience::Trading,
        verified: save,
        exp: unix_now().saturating_add(core.config.token_lifetime_secs),
    };
    let token = core
        .tokens()
        .issue(info)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(ok(json!({"accessToken": token})))
}
