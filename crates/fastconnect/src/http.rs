//! REST plumbing shared by FC Data and FC Trading: rate limiting, the response envelope
//! (`status` inside the body, string or integer), error classification, retry once on an
//! expired token and once on a short `Retry-After`.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::HttpConfig;
use crate::error::{Error, Result};
use crate::rate_limit::RateLimiter;
use crate::token::Token;

/// Where a bearer token comes from; implemented by the data and trading clients.
pub(crate) trait TokenSource: Sync {
    /// A usable token (cached or renewed).
    fn token(&self) -> impl Future<Output = Result<Token>> + Send;
    /// SSI rejected `stale`: forget it.
    fn invalidate(&self, stale: &Token) -> impl Future<Output = ()> + Send;
}

/// For calls that carry no bearer token (AccessToken, GetOTP).
#[derive(Debug)]
pub(crate) struct NoAuth;

impl TokenSource for NoAuth {
    fn token(&self) -> impl Future<Output = Result<Token>> + Send {
        std::future::ready(Err(Error::Config(
            "no token source for this call".to_owned(),
        )))
    }

    fn invalidate(&self, _stale: &Token) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

/// One REST call, ready to send (and to re-send unchanged).
#[derive(Debug, Clone)]
pub(crate) struct RestRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    /// Exact body bytes: signed requests are signed over these and sent as they are.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl RestRequest {
    pub(crate) fn get(path: impl Into<String>, query: Vec<(&'static str, String)>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query,
            body: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn post(path: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            headers: Vec::new(),
        }
    }
}

/// SSI's response envelope: `{status, message, data, totalRecord?}` after the status check.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) endpoint: String,
    pub(crate) data: Value,
    pub(crate) total_record: Option<u64>,
}

impl Envelope {
    /// `data` as `T`, with a typed error naming the endpoint.
    pub(crate) fn parse<T: DeserializeOwned>(mut self) -> Result<T> {
        crate::wire::drop_duplicate_spellings(&mut self.data);
        serde_json::from_value(self.data).map_err(|source| Error::Decode {
            endpoint: self.endpoint,
            source,
        })
    }
}

/// A REST endpoint family (one host) with its limiter.
#[derive(Debug)]
pub(crate) struct Rest {
    http: reqwest::Client,
    base: String,
    limiter: RateLimiter,
    max_retry_after: Duration,
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

    /// Sends `request`, bearer-authenticated from `tokens` if given. A rejected token is
    /// renewed and the call retried once; a 429 with a `Retry-After` of at most
    /// `max_retry_after` is waited out and retried once.
    pub(crate) async fn call<S: TokenSource>(
        &self,
        tokens: Option<&S>,
        request: &RestRequest,
    ) -> Result<Envelope> {
        let mut auth_retry = true;
        let mut rate_retry = true;
        loop {
            let token = match tokens {
                Some(source) => Some(source.token().await?),
                None => None,
            };
            self.limiter.acquire().await;
            match self.once(request, token.as_ref()).await {
                Err(Error::Unauthorized { endpoint, message }) if auth_retry && token.is_some() => {
                    tracing::info!(endpoint = %endpoint, message = %message, "token rejected, renewing once");
                    auth_retry = false;
                    if let (Some(source), Some(stale)) = (tokens, token.as_ref()) {
                        source.invalidate(stale).await;
                    }
                }
                Err(Error::RateLimited {
                    endpoint,
                    retry_after,
                    message,
                }) => {
                    if let Some(delay) = retry_after {
                        self.limiter.pause_for(delay).await;
                    }
                    let short = retry_after.is_some_and(|d| d <= self.max_retry_after);
                    if rate_retry && short {
                        tracing::info!(endpoint = %endpoint, retry_after_ms = retry_after.map_or(0, |d| d.as_millis()), "rate limited, retrying after Retry-After");
                        rate_retry = false;
                    } else {
                        return Err(Error::RateLimited {
                            endpoint,
                            retry_after,
                            message,
                        });
                    }
                }
                other => return other,
            }
        }
    }

    async fn once(&self, request: &RestRequest, token: Option<&Token>) -> Result<Envelope> {
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
            builder = builder.header(
                "Authorization",
                format!("Bearer {}", token.value.expose_secret()),
            );
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
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
        let retry_after = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(|source| Error::Transport {
            endpoint: endpoint.clone(),
            source,
        })?;
        interpret(endpoint, status, retry_after, &bytes)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Classifies one response. Statuses live in the body as well as in HTTP: FC Data has been
/// seen answering HTTP 200 with `{"status":401}`.
pub(crate) fn interpret(
    endpoint: String,
    http_status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Envelope> {
    let text = || {
        let s = String::from_utf8_lossy(body);
        s.chars().take(300).collect::<String>()
    };
    if http_status == StatusCode::TOO_MANY_REQUESTS {
        // ASP.NET's rate limiter answers in plain text.
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(text);
        return Err(Error::RateLimited {
            endpoint,
            retry_after,
            message,
        });
    }
    if http_status == StatusCode::UNAUTHORIZED {
        return Err(Error::Unauthorized {
            endpoint,
            message: text(),
        });
    }
    let envelope: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) | Err(_) if !http_status.is_success() => {
            return Err(Error::Http {
                endpoint,
                status: http_status.as_u16(),
                body: text(),
            });
        }
        Ok(other) => {
            return Err(Error::Protocol(format!(
                "{endpoint} answered a JSON {} instead of an object",
                json_kind(&other)
            )));
        }
        Err(source) => return Err(Error::Decode { endpoint, source }),
    };
    let status = envelope.get("status").cloned().unwrap_or(Value::Null);
    let message = envelope
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let code = match &status {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if s.eq_ignore_ascii_case("success") => Some(200),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    };
    match code {
        Some(200) if http_status.is_success() => {}
        Some(200) => {
            return Err(Error::Http {
                endpoint,
                status: http_status.as_u16(),
                body: text(),
            });
        }
        Some(401) => return Err(Error::Unauthorized { endpoint, message }),
        Some(429) => {
            return Err(Error::RateLimited {
                endpoint,
                retry_after,
                message,
            });
        }
        Some(_) | None => {
            let status = match status {
                Value::String(s) => s,
                Value::Null => format!("HTTP {}", http_status.as_u16()),
                other
                @ (Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_)) => {
                    other.to_string()
                }
            };
            return Err(Error::Rejected {
                endpoint,
                status,
                message,
            });
        }
    }
    let total_record = envelope.get("totalRecord").and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    });
    let data = match envelope {
        Value::Object(mut map) => map.remove("data").unwrap_or(Value::Null),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) => {
            Value::Null
        }
    };
    Ok(Envelope {
        endpoint,
        data,
        total_record,
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
#[allow(clippy::wildcard_enum_match_arm)]
mod tests {
    use super::*;

    fn run(status: u16, body: &str) -> Result<Envelope> {
        interpret(
            "/x".to_owned(),
            StatusCode::from_u16(status).unwrap(),
            Some(Duration::from_secs(2)),
            body.as_bytes(),
        )
    }

    #[test]
    fn data_envelope_with_string_status_succeeds() {
        let env = run(
            200,
            r#"{"data":[1],"message":"Success","status":"Success","totalRecord":"7"}"#,
        )
        .unwrap();
        assert_eq!(env.total_record, Some(7));
        assert_eq!(env.data, serde_json::json!([1]));
    }

    #[test]
    fn body_status_401_inside_http_200_is_an_auth_error() {
        let err = run(
            200,
            r#"{"message":"Missing Authorization header","status":401}"#,
        )
        .unwrap_err();
        assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    }

    #[test]
    fn business_rejection_keeps_status_and_message() {
        let err = run(
            200,
            r#"{"message":"Account is not exist.","status":400,"data":null}"#,
        )
        .unwrap_err();
        match err {
            Error::Rejected {
                status, message, ..
            } => {
                assert_eq!(status, "400");
                assert_eq!(message, "Account is not exist.");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn plain_text_429_is_rate_limited_with_retry_after() {
        let err = run(429, "API calls quota exceeded! maximum admitted 5 per 1s.").unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        assert!(err.to_string().contains("rate limited"));
    }

    #[test]
    fn garbage_is_a_typed_error_not_a_panic() {
        assert!(matches!(
            run(200, "<html>").unwrap_err(),
            Error::Decode { .. }
        ));
        assert!(matches!(
            run(502, "<html>bad gateway").unwrap_err(),
            Error::Http { status: 502, .. }
        ));
        assert!(matches!(run(200, "[1]").unwrap_err(), Error::Protocol(_)));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
