//! FastConnect v3 beside v2, on the FC Trading port: REST under `/api/v3/` (auth, data,
//! trading) and the stream `/ws/v3` (`docs/simulator.md`, "FastConnect v3").
//!
//! Same market, broker and accounts as v2: a v3 key trades the accounts of the FC Trading
//! consumer it is configured with ([`crate::config::V3Consumer::trading_consumer`]), its
//! orders go through the same desk commands (so the journal makes them durable) and show
//! in v2's orderBook, and the other way round. Answers are v3's: bare camelCase JSON,
//! errors as HTTP status plus `{code, msg}`, `{code: 204}` for an empty result.

mod data;
mod fco;
mod session;
mod stream;
mod trading;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Map, Value, json};

pub(crate) use session::Sessions;
use session::{Approval, Grant, RefreshError};

use crate::config::V3Consumer;
use crate::rest::{ApiError, Params};
use crate::sim::Core;
use crate::trading_api::Refused;

/// The v3 routes (state: the simulator core).
pub(crate) fn router() -> Router<Arc<Core>> {
    Router::new()
        .route("/api/v3/{*path}", any(handle))
        .route("/ws/v3", get(stream::upgrade))
}

/// A v3 error: HTTP status and `{code, msg}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V3Error {
    pub(crate) http: StatusCode,
    pub(crate) code: i64,
    pub(crate) msg: String,
    /// `Retry-After` seconds (429).
    pub(crate) retry_after: Option<u64>,
}

impl V3Error {
    pub(crate) fn new(http: StatusCode, code: i64, msg: impl Into<String>) -> Self {
        Self {
            http,
            code,
            msg: msg.into(),
            retry_after: None,
        }
    }

    /// Validation failure: HTTP 400, code 400 unless SSI has a specific one.
    pub(crate) fn bad(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 400, msg)
    }

    pub(crate) fn code(code: i64, msg: impl Into<String>) -> Self {
        let class = if code < 1000 { code } else { code / 1000 };
        let http = match class {
            401 => StatusCode::UNAUTHORIZED,
            403 => StatusCode::FORBIDDEN,
            404 => StatusCode::NOT_FOUND,
            409 => StatusCode::CONFLICT,
            500..=599 => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(http, code, msg)
    }

    fn internal(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, 500, msg)
    }
}

impl From<ApiError> for V3Error {
    /// A v2 refusal in v3's form: v2's business refusals (HTTP 200) become HTTP 400.
    fn from(e: ApiError) -> Self {
        let http = if e.http == StatusCode::OK {
            StatusCode::BAD_REQUEST
        } else {
            e.http
        };
        Self::new(http, i64::from(http.as_u16()), e.message)
    }
}

impl From<Refused> for V3Error {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Api(e) => e.into(),
            Refused::Response(resp) => {
                let http = resp.status();
                let retry = resp
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                let mut e = Self::new(http, i64::from(http.as_u16()), "Too many requests");
                e.retry_after = retry;
                e
            }
        }
    }
}

impl From<crate::desk::DeskError> for V3Error {
    fn from(e: crate::desk::DeskError) -> Self {
        if let crate::desk::DeskError::Broker(crate::broker::BrokerError::Duplicate(id)) = &e {
            return Self::new(
                StatusCode::CONFLICT,
                409,
                format!("Duplicate client id {id}"),
            );
        }
        ApiError::from(e).into()
    }
}

impl IntoResponse for V3Error {
    fn into_response(self) -> Response {
        let mut resp = (
            self.http,
            axum::Json(json!({"code": self.code, "msg": self.msg})),
        )
            .into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// The empty result: HTTP 200 `{"code": 204, "msg": "No content"}`.
pub(crate) fn no_content() -> Response {
    axum::Json(json!({"code": 204, "msg": "No content"})).into_response()
}

/// A bare JSON answer, or [`no_content`] for an empty list.
pub(crate) fn answer(v: Value) -> Response {
    if v.as_array().is_some_and(Vec::is_empty) {
        no_content()
    } else {
        axum::Json(v).into_response()
    }
}

/// What a request is made with: the key's configuration and the grant of its token.
pub(crate) struct Caller<'a> {
    pub(crate) consumer: &'a V3Consumer,
    pub(crate) key: &'a rsa::RsaPublicKey,
    pub(crate) grant: Grant,
}

impl Caller<'_> {
    /// The FC Trading consumer whose accounts the key trades.
    pub(crate) fn customer(&self) -> &str {
        &self.consumer.trading_consumer
    }

    /// Refuses a data-only (no OTP) token: 401105.
    pub(crate) fn require_trading(&self) -> Result<(), V3Error> {
        if self.grant.trading {
            Ok(())
        } else {
            Err(V3Error::code(
                401_105,
                "The access token was issued without OTP: it grants market data only",
            ))
        }
    }
}

async fn handle(
    State(core): State<Arc<Core>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().to_owned();
    let Some(rest) = path.strip_prefix("/api/v3/") else {
        return V3Error::code(404, format!("No resource {path}")).into_response();
    };
    let rest = rest.trim_end_matches('/').to_ascii_lowercase();
    let body = match crate::http::body(body, core.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return V3Error::from(e).into_response(),
    };
    let params = Params::parse(uri.query());
    let result = route(&core, &method, &rest, &headers, &params, &body).await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn route(
    core: &Arc<Core>,
    method: &Method,
    rest: &str,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
) -> Result<Response, V3Error> {
    if let Some(call) = rest.strip_prefix("auth/") {
        if method != Method::POST {
            return Err(V3Error::new(
                StatusCode::METHOD_NOT_ALLOWED,
                405,
                format!("auth/{call} requires POST"),
            ));
        }
        return match call {
            "token" => token(core, body),
            "refresh" => refresh(core, body),
            "requestotp" => request_otp(core, body),
            _ => Err(V3Error::code(404, format!("No resource /api/v3/{rest}"))),
        };
    }
    let caller = caller(core, headers)?;
    admit(core, &caller, method, rest)?;
    let mut resp = if let Some(call) = rest.strip_prefix("data/") {
        if method != Method::GET {
            return Err(V3Error::new(
                StatusCode::METHOD_NOT_ALLOWED,
                405,
                "Market data is read with GET",
            ));
        }
        data::get(core, call, params).await?
    } else {
        trading::route(core, &caller, method, rest, headers, params, body).await?
    };
    quota_headers(core, &caller, method, rest, &mut resp);
    Ok(resp)
}

/// `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds) of the tightest quota rule.
fn quota_headers(
    core: &Core,
    caller: &Caller<'_>,
    method: &Method,
    rest: &str,
    resp: &mut Response,
) {
    let verb = if method == Method::GET { "get" } else { "post" };
    let api = rest.rsplit('/').next().unwrap_or(rest);
    let consumer = format!("v3:{}", caller.grant.api_key);
    let Some((limit, left, reset)) =
        core.limiter()
            .status(&core.config.rate_limits, &consumer, verb, api)
    else {
        return;
    };
    let reset = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(limit)),
        ("x-ratelimit-remaining", u64::from(left)),
        ("x-ratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// Counts the call against the configured quotas (shared rules, per apiKey): 429 with
/// `Retry-After` on breach.
fn admit(core: &Core, caller: &Caller<'_>, method: &Method, rest: &str) -> Result<(), V3Error> {
    let verb = if method == Method::GET { "get" } else { "post" };
    let api = rest.rsplit('/').next().unwrap_or(rest);
    let consumer = format!("v3:{}", caller.grant.api_key);
    if let Err((rule, wait)) = core
        .limiter()
        .admit(&core.config.rate_limits, &consumer, verb, api)
    {
        let mut e = V3Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            format!(
                "Rate limit exceeded: at most {} calls per {}",
                rule.limit, rule.period
            ),
        );
        e.retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        return Err(e);
    }
    Ok(())
}

fn caller<'a>(core: &'a Core, headers: &HeaderMap) -> Result<Caller<'a>, V3Error> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let grant = core.v3().check(auth).ok_or_else(|| {
        V3Error::new(
            StatusCode::UNAUTHORIZED,
            401,
            "Unauthorized: the access token is missing, expired or replaced by a newer session",
        )
    })?;
    let (consumer, key) = core
        .v3_keys
        .iter()
        .find(|(c, _)| c.api_key == grant.api_key)
        .map(|(c, k)| (c, k))
        .ok_or_else(|| V3Error::code(401_105, "Unknown apiKey"))?;
    Ok(Caller {
        consumer,
        key,
        grant,
    })
}

pub(crate) fn json_body(body: &[u8]) -> Result<Map<String, Value>, V3Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(V3Error::bad("The request body must be a JSON object")),
        Err(e) => Err(V3Error::bad(format!("The request body is not JSON: {e}"))),
    }
}

/// A string or number field as text (trimmed); absent, null or empty is `None`.
pub(crate) fn text(m: &Map<String, Value>, name: &str) -> Option<String> {
    match m.get(name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
    .filter(|s| !s.is_empty())
}

/// The key named by `apiKey` with the right `apiSecret`, under the credential guard (a
/// wrong secret counts towards the lockout). Bad credentials answer 401105.
fn consumer_of<'a>(core: &'a Core, m: &Map<String, Value>) -> Result<&'a V3Consumer, V3Error> {
    let key = text(m, "apiKey").unwrap_or_default();
    let secret = text(m, "apiSecret").unwrap_or_default();
    let bad = || V3Error::code(401_105, "apiKey or apiSecret is invalid");
    let Some((consumer, _)) = core.v3_keys.iter().find(|(c, _)| c.api_key == key) else {
        return Err(bad());
    };
    let guard_id = format!("v3:{key}");
    let mut guard = core.guard();
    if let Err(r) = guard.admit_call(&guard_id, Instant::now()) {
        return Err(locked(r.retry_after()));
    }
    if consumer.api_secret != secret {
        guard.failed(&guard_id, Instant::now());
        return Err(bad());
    }
    Ok(consumer)
}

fn locked(wait: Duration) -> V3Error {
    let mut e = V3Error::new(
        StatusCode::TOO_MANY_REQUESTS,
        429,
        format!(
            "Too many authentication calls or wrong credentials: try again in {} s",
            wait.as_secs().max(1)
        ),
    );
    e.retry_after = Some(wait.as_secs().max(1));
    e
}

fn token_answer(t: &session::Issued) -> Response {
    axum::Json(json!({
        "tokenType": "Bearer",
        "accessToken": t.access,
        "refreshToken": t.refresh,
        "expiresAt": t.expires_at,
        "refreshExpiresAt": t.refresh_expires_at,
    }))
    .into_response()
}

fn token(core: &Core, body: &[u8]) -> Result<Response, V3Error> {
    let m = json_body(body)?;
    let consumer = consumer_of(core, &m)?;
    let key = consumer.api_key.clone();
    let guard_id = format!("v3:{key}");
    let otp = text(&m, "otp");
    let transaction = text(&m, "transactionId");
    let trading = match (otp, transaction) {
        (Some(_), Some(_)) => return Err(V3Error::bad("Send otp or transactionId, not both")),
        (None, None) => false,
        (Some(otp), None) => {
            if let Some(r) = core.guard().locked(&guard_id, Instant::now()) {
                return Err(locked(r.retry_after()));
            }
            let right = core.v3().take_otp(&key, &otp);
            let mut guard = core.guard();
            if !right {
                guard.failed(&guard_id, Instant::now());
                return Err(V3Error::code(401_100, "OTP verification failed"));
            }
            guard.succeeded(&guard_id);
            true
        }
        (None, Some(t)) => match core.v3().poll(&key, &t) {
            Approval::Pending => {
                return Err(V3Error::new(
                    StatusCode::ACCEPTED,
                    401_114,
                    "Push-approval is pending",
                ));
            }
            Approval::Approved => true,
            Approval::NotFound => {
                return Err(V3Error::code(401_113, "Smart OTP transaction not found"));
            }
            Approval::Foreign => {
                return Err(V3Error::new(
                    StatusCode::FORBIDDEN,
                    401_116,
                    "Smart OTP transaction belongs to another apiKey",
                ));
            }
        },
    };
    let issued = core
        .v3()
        .login(&key, trading)
        .map_err(|e| V3Error::internal(e.to_string()))?;
    Ok(token_answer(&issued))
}

fn refresh(core: &Core, body: &[u8]) -> Result<Response, V3Error> {
    let m = json_body(body)?;
    let refresh =
        text(&m, "refreshToken").ok_or_else(|| V3Error::bad("refreshToken is required"))?;
    match core
        .v3()
        .refresh(&refresh)
        .map_err(|e| V3Error::internal(e.to_string()))?
    {
        Ok(issued) => Ok(token_answer(&issued)),
        Err(RefreshError::Unknown) => Err(V3Error::code(401_101, "Refresh token is invalid")),
        Err(RefreshError::Expired) => Err(V3Error::code(401_102, "Refresh token is expired")),
        Err(RefreshError::Reused) => Err(V3Error::code(
            401_103,
            "Refresh token was already used: the session is revoked, log in with a new OTP",
        )),
    }
}

fn request_otp(core: &Core, body: &[u8]) -> Result<Response, V3Error> {
    let m = json_body(body)?;
    let consumer = consumer_of(core, &m)?;
    let key = consumer.api_key.clone();
    match consumer.otp {
        crate::config::OtpMethod::Sms => {
            let otp = core
                .v3()
                .issue_otp(&key)
                .map_err(|e| V3Error::internal(e.to_string()))?;
            core.deliver_otp(&key, &otp);
            Ok(axum::Json(json!({"code": 200, "msg": "Request OTP success"})).into_response())
        }
        crate::config::OtpMethod::Smart => {
            let id = core
                .v3()
                .open_transaction(&key)
                .map_err(|e| V3Error::internal(e.to_string()))?;
            Ok(axum::Json(json!({
                "code": 200,
                "msg": "Push-approval request sent",
                "transactionId": id,
            }))
            .into_response())
        }
    }
}
