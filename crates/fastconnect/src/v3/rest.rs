//! v3 REST transport: one attempt of one request, and the reading of its answer. No envelope:
//! success is the bare JSON (object or array), `{code: 204}` is an empty result, errors are an
//! HTTP status plus `{code, msg}` — or an HTTP 200 whose `code` is neither 200 nor 204.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use crate::config::HttpConfig;
use crate::error::{Error, Result};
use crate::rate_limit::RateLimiter;
use crate::v3::error::{ApiError, ApiErrorClass, SMART_OTP_PENDING_CODE, SMART_OTP_PENDING_STATUS};

/// One request, ready to send (and to re-send unchanged: signed bodies are kept as bytes).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) signature: Option<String>,
}

impl Request {
    pub(crate) fn get(path: &str, query: Vec<(&'static str, String)>) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            query,
            body: None,
            signature: None,
        }
    }

    pub(crate) fn json(method: Method, path: &str, body: Vec<u8>) -> Self {
        Self {
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body: Some(body),
            signature: None,
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// A JSON body.
    Json(Value),
    /// `{code: 204}`, HTTP 204 or an empty body: nothing found.
    Empty,
}

#[derive(Debug)]
pub(crate) struct Rest {
    http: reqwest::Client,
    base: String,
    pub(crate) limiter: RateLimiter,
    pub(crate) max_retry_after: Duration,
}

impl Rest {
    pub(crate) fn new(http: reqwest::Client, base: &str, config: &HttpConfig) -> Result<Self> {
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| Error::Config(format!("bad URL {base:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config(format!("URL {base:?} is not http(s)")));
        }
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            limiter: RateLimiter::new(config.rate_limits.clone()),
            max_retry_after: Duration::from_millis(config.max_retry_after_ms),
        })
    }

    /// One attempt, after the client-side limiter.
    pub(crate) async fn once(
        &self,
        request: &Request,
        token: Option<&SecretString>,
    ) -> Result<Reply> {
        self.limiter.acquire().await;
        let endpoint = request.path.clone();
        let url = format!("{}{}", self.base, request.path);
        let mut builder = self
            .http
            .request(request.method.clone(), &url)
            .header("Accept", "application/json");
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {}", token.expose_secret()));
        }
        if let Some(signature) = &request.signature {
            builder = builder.header("X-Signature", signature);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        let response = builder.send().await.map_err(|source| Error::Transport {
            endpoint: endpoint.clone(),
            source,
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        if remaining_is_zero(&headers) {
            // X-RateLimit-Remaining: 0 — rest a second before the next call (as the SDK).
            self.limiter.pause_for(Duration::from_secs(1)).await;
        }
        let bytes = response.bytes().await.map_err(|source| Error::Transport {
            endpoint: endpoint.clone(),
            source,
        })?;
        interpret(endpoint, status, crate::http::retry_after(&headers), &bytes)
    }
}

fn remaining_is_zero(headers: &HeaderMap) -> bool {
    headers
        .get("X-RateLimit-Remaining")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        == Some(0)
}

fn code_of(body: &Value) -> Option<i64> {
    match body.get("code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

fn message_of(body: &Value) -> Option<String> {
    ["msg", "message"].iter().find_map(|k| {
        body.get(*k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

/// Reads one answer.
pub(crate) fn interpret(
    endpoint: String,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Reply> {
    let http_status = status.as_u16();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let text = || {
        String::from_utf8_lossy(body)
            .chars()
            .take(300)
            .collect::<String>()
    };
    let error = |code: Option<i64>, message: String| -> Error {
        ApiError {
            class: ApiErrorClass::classify(&endpoint, http_status, code),
            endpoint: endpoint.clone(),
            http_status,
            code,
            message,
            retry_after: if http_status == 429 {
                retry_after
            } else {
                None
            },
        }
        .into()
    };
    if status.is_client_error() || status.is_server_error() {
        let code = parsed.as_ref().and_then(code_of);
        let message = parsed.as_ref().and_then(message_of).unwrap_or_else(text);
        return Err(error(code, message));
    }
    if http_status == 204 || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Reply::Empty);
    }
    let Some(value) = parsed else {
        return Err(match serde_json::from_slice::<Value>(body) {
            Err(source) => Error::Decode { endpoint, source },
            Ok(_) => Error::Protocol(format!("{endpoint} answered unreadable JSON")),
        });
    };
    if value.is_object() {
        let code = code_of(&value);
        let auth = endpoint.starts_with("/api/v3/auth");
        if code == Some(SMART_OTP_PENDING_CODE) || (auth && http_status == SMART_OTP_PENDING_STATUS)
        {
            let message = message_of(&value).unwrap_or_else(text);
            return Err(error(Some(SMART_OTP_PENDING_CODE), message));
        }
        match code {
            Some(204) => return Ok(Reply::Empty),
            // 200 = success; 0 = requestOtp success per SSI's portal (the SDK would raise).
            Some(200 | 0) | None => {}
            Some(other)
                if message_of(&value).is_some()
                    || value.as_object().is_some_and(|m| m.len() <= 3) =>
            {
                let message = message_of(&value).unwrap_or_default();
                return Err(error(Some(other), message));
            }
            // A `code` field inside a real record (no msg): not an error marker.
            Some(_) => {}
        }
    }
    Ok(Reply::Json(value))
}

#[cfg(test)]
#[allow(clippy::wildcard_enum_match_arm)]
mod tests {
    use super::*;

    fn run(status: u16, body: &str) -> Result<Reply> {
        interpret(
            "/api/v3/trading/order".to_owned(),
            StatusCode::from_u16(status).unwrap(),
            Some(Duration::from_secs(7)),
            body.as_bytes(),
        )
    }

    fn api(result: Result<Reply>) -> ApiError {
        match result {
            Err(Error::Api(a)) => *a,
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    fn bare_objects_and_arrays_are_success() {
        assert_eq!(
            run(200, r#"[{"a":1}]"#).unwrap(),
            Reply::Json(serde_json::json!([{"a":1}]))
        );
        assert!(matches!(
            run(200, r#"{"orderId":"1"}"#).unwrap(),
            Reply::Json(_)
        ));
        assert!(matches!(
            run(200, r#"{"code":200,"msg":"ok"}"#).unwrap(),
            Reply::Json(_)
        ));
    }

    #[test]
    fn code_204_and_empty_bodies_are_empty_results() {
        assert_eq!(
            run(200, r#"{"code":204,"msg":"No content"}"#).unwrap(),
            Reply::Empty
        );
        assert_eq!(run(200, r#"{"code":"204"}"#).unwrap(), Reply::Empty);
        assert_eq!(run(204, "").unwrap(), Reply::Empty);
    }

    #[test]
    fn errors_keep_status_code_message_and_class() {
        let e = api(run(
            409,
            r#"{"code":409,"msg":"Duplicate clientRequestId"}"#,
        ));
        assert_eq!(e.class, ApiErrorClass::Duplicate);
        assert_eq!(e.message, "Duplicate clientRequestId");
        let e = api(run(429, "quota exceeded"));
        assert_eq!(e.class, ApiErrorClass::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(e.message, "quota exceeded");
        let e = api(run(200, r#"{"code":400213,"message":"Invalid Date"}"#));
        assert_eq!(e.class, ApiErrorClass::Validation);
        assert_eq!(e.http_status, 200);
        let e = api(run(
            202,
            r#"{"code":401114,"msg":"Push-approval is pending"}"#,
        ));
        assert_eq!(e.class, ApiErrorClass::SmartOtpPending);
        // A 202 elsewhere is not a Smart-OTP answer.
        assert!(matches!(
            run(202, r#"{"orderId":"1"}"#).unwrap(),
            Reply::Json(_)
        ));
        let pending = interpret(
            "/api/v3/auth/token".to_owned(),
            StatusCode::ACCEPTED,
            None,
            br#"{"msg":"pending"}"#,
        );
        assert_eq!(api(pending).class, ApiErrorClass::SmartOtpPending);
        let e = api(run(502, "<html>"));
        assert_eq!(e.class, ApiErrorClass::Server);
        assert_eq!(e.code, None);
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(
            run(200, "<html>").unwrap_err(),
            Error::Decode { .. }
        ));
    }
}
