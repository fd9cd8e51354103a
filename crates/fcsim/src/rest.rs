//! What both REST APIs share: ASP.NET-style case-insensitive query binding, SSI's
//! envelopes and error answers.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::Date;

/// Query parameters with lower-cased keys, `lookupRequest.`/`request.` prefixes removed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let mut map = HashMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(k).to_ascii_lowercase();
            let key = key
                .strip_prefix("lookuprequest.")
                .or_else(|| key.strip_prefix("request."))
                .unwrap_or(&key)
                .to_owned();
            map.insert(key, decode(v));
        }
        Self(map)
    }

    /// A non-empty value.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    pub(crate) fn date(&self, key: &str, default: Date) -> Result<Date, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some(text) => fastconnect::wire::parse_date(text)
                .ok_or_else(|| ApiError::bad(format!("{key} '{text}' is not a date (dd/MM/yyyy)"))),
        }
    }

    pub(crate) fn bool(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(ApiError::bad(format!("{key} '{other}' is not a boolean"))),
        }
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| ApiError::bad(format!("{key} '{t}' is not a number")))
            })
            .transpose()
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'+') => out.push(b' '),
            Some(b'%') => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    out.push(b);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            Some(&b) => out.push(b),
            None => {}
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request that fails: SSI's envelope with `status` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status of the answer.
    pub(crate) http: StatusCode,
    /// Body `status` (400, 401, 429, or an SSI code like `ORD004`).
    pub(crate) status: Value,
    pub(crate) message: String,
}

impl ApiError {
    /// Validation failure: HTTP 400, body status 400.
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self {
            http: StatusCode::BAD_REQUEST,
            status: json!(400),
            message: message.into(),
        }
    }

    /// Business failure with an SSI code in `message`'s place: HTTP 200, body status 400.
    pub(crate) fn business(message: impl Into<String>) -> Self {
        Self {
            http: StatusCode::OK,
            status: json!(400),
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(http: StatusCode, message: impl Into<String>) -> Self {
        Self {
            http,
            status: json!(401),
            message: message.into(),
        }
    }

    /// The simulator failed: HTTP 500, body status 500.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self {
            http: StatusCode::INTERNAL_SERVER_ERROR,
            status: json!(500),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(path: &str) -> Self {
        Self {
            http: StatusCode::NOT_FOUND,
            status: json!(404),
            message: format!("No HTTP resource was found that matches the request URI '{path}'."),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.http,
            axum::Json(json!({"message": self.message, "status": self.status, "data": null})),
        )
            .into_response()
    }
}

/// FC Data success envelope.
pub(crate) fn data_page(items: Vec<Value>, total: usize) -> Response {
    axum::Json(
        json!({"data": items, "message": "Success", "status": "Success", "totalRecord": total}),
    )
    .into_response()
}

/// FC Trading (and token) success envelope.
pub(crate) fn ok(data: Value) -> Response {
    axum::Json(json!({"message": "Success", "status": 200, "data": data})).into_response()
}

/// Paging per FC Data: `pageIndex` 1..10, `pageSize` one of 10, 20, 50, 100, 500, 1000.
pub(crate) fn paging(p: &Params) -> Result<(usize, usize), ApiError> {
    let index = p.int("pageindex")?.unwrap_or(1);
    let size = p.int("pagesize")?.unwrap_or(10);
    if !(1..=10).contains(&index) {
        return Err(ApiError::bad("PageIndex must be between 1 and 10"));
    }
    if ![10, 20, 50, 100, 500, 1000].contains(&size) {
        return Err(ApiError::bad(
            "PageSize must be one of 10, 20, 50, 100, 500, 1000",
        ));
    }
    Ok((
        usize::try_from(index).unwrap_or(1),
        usize::try_from(size).unwrap_or(10),
    ))
}

/// One page of `all`, with the total.
pub(crate) fn page_of(all: Vec<Value>, (index, size): (usize, usize)) -> Response {
    let total = all.len();
    let items = all
        .into_iter()
        .skip((index - 1) * size)
        .take(size)
        .collect();
    data_page(items, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keys_bind_case_insensitively_with_prefixes() {
        let p = Params::parse(Some(
            "lookupRequest.Symbol=SSI&PAGEINDEX=2&request.fromDate=01%2F06%2F2025",
        ));
        assert_eq!(p.get("symbol"), Some("SSI"));
        assert_eq!(p.get("pageindex"), Some("2"));
        assert_eq!(p.get("fromdate"), Some("01/06/2025"));
        assert_eq!(p.bool("missing", true), Ok(true));
        assert!(
            Params::parse(Some("ascending=maybe"))
                .bool("ascending", false)
                .is_err()
        );
        assert!(Params::parse(Some("ascending=True")).bool("ascending", false) == Ok(true));
    }

    #[test]
    fn paging_accepts_only_ssi_sizes() {
        assert_eq!(paging(&Params::parse(None)), Ok((1, 10)));
        assert!(paging(&Params::parse(Some("pageSize=7"))).is_err());
        assert!(paging(&Params::parse(Some("pageIndex=11"))).is_err());
        assert!(paging(&Params::parse(Some("pageIndex=x"))).is_err());
    }
}
