//! Cookies, cross-site request forgery defences and the security headers of every answer.
//!
//! CSRF: a double-submit token (a random `qts_csrf` cookie, `HttpOnly`, `SameSite=Strict`,
//! echoed in each form's hidden `csrf` field or the `X-CSRF-Token` header, compared in
//! constant time) and, on every POST, an `Origin` (else `Referer`) naming the host the request
//! was sent to (`X-Forwarded-Host` when a gateway in front says it, else `Host`). Neither
//! header can be set by a cross-site form, so a forged request fails both.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use subtle::ConstantTimeEq as _;

/// The session cookie: the SSO refresh token.
pub(crate) const SESSION_COOKIE: &str = "qts_session";
/// The CSRF cookie.
pub(crate) const CSRF_COOKIE: &str = "qts_csrf";
/// The language cookie.
pub(crate) const LANG_COOKIE: &str = "qts_lang";
/// The header a script sends the CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// Every cookie is scoped to this service's routes.
pub(crate) const COOKIE_PATH: &str = "/api/sso-ui";
/// The longest cookie value read.
const MAX_COOKIE: usize = 512;

/// The request's cookies by name (the first of a name wins; oversized values are dropped).
pub(crate) fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            if !value.is_empty() && value.len() <= MAX_COOKIE {
                out.entry(name.trim().to_owned())
                    .or_insert_with(|| value.to_owned());
            }
        }
    }
    out
}

/// How a cookie is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CookieFlags {
    /// `Secure`.
    pub(crate) secure: bool,
    /// `SameSite=Strict` (else `Lax`).
    pub(crate) strict: bool,
    /// `Max-Age`, seconds; `None`: a browser-session cookie.
    pub(crate) max_age: Option<u64>,
}

/// A `Set-Cookie` value: always `HttpOnly` and `Path=/api/sso-ui`.
pub(crate) fn set_cookie(name: &str, value: &str, flags: CookieFlags) -> String {
    let mut c = format!("{name}={value}; Path={COOKIE_PATH}; HttpOnly");
    c.push_str(if flags.strict {
        "; SameSite=Strict"
    } else {
        "; SameSite=Lax"
    });
    if flags.secure {
        c.push_str("; Secure");
    }
    if let Some(age) = flags.max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// A `Set-Cookie` value that removes the cookie.
pub(crate) fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(
        name,
        "",
        CookieFlags {
            secure,
            strict: true,
            max_age: Some(0),
        },
    )
}

/// Whether the submitted token matches the CSRF cookie (both present), in constant time.
pub(crate) fn csrf_matches(cookie: Option<&str>, submitted: Option<&str>) -> bool {
    match (cookie, submitted) {
        (Some(c), Some(s)) if !c.is_empty() && !s.is_empty() => {
            bool::from(c.as_bytes().ct_eq(s.as_bytes()))
        }
        _ => false,
    }
}

/// The host (and port) a browser sent the request to: the first `X-Forwarded-Host` when a
/// gateway says it, else `Host`.
fn request_host(headers: &HeaderMap) -> Option<String> {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    text(header::HeaderName::from_static("x-forwarded-host")).or_else(|| text(header::HOST))
}

/// The `host[:port]` of an absolute http(s) URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

/// Whether a POST comes from a page of the host it was sent to: its `Origin` (else its
/// `Referer`) names that host. Neither present, or `Origin: null`: refused.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = request_host(headers) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    source
        .and_then(authority)
        .is_some_and(|a| a.eq_ignore_ascii_case(&host))
}

/// The Content-Security-Policy of every answer: nothing from another origin, no script at
/// all, forms only to this origin, never framed.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to an answer.
pub(crate) async fn headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: with `no-referrer` browsers send `Origin: null` on a
    // form's POST, which would defeat the Origin check. `same-origin` still sends nothing to
    // any other site.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_post_must_come_from_the_host_it_was_sent_to() {
        let ok = with(&[("host", "qts.vn"), ("origin", "https://qts.vn")]);
        assert!(same_origin(&ok));
        let referer = with(&[
            ("host", "qts.vn"),
            ("referer", "https://qts.vn/api/sso-ui/v1/login"),
        ]);
        assert!(same_origin(&referer));
        let gateway = with(&[
            ("host", "127.0.0.1:18111"),
            ("x-forwarded-host", "localhost:18080"),
            ("origin", "http://localhost:18080"),
        ]);
        assert!(same_origin(&gateway));
        for bad in [
            with(&[("host", "qts.vn"), ("origin", "https://evil.com")]),
            with(&[("host", "qts.vn"), ("origin", "null")]),
            with(&[("host", "qts.vn")]),
            with(&[("host", "qts.vn"), ("origin", "https://qts.vn.evil.com")]),
            with(&[("host", "qts.vn"), ("referer", "https://evil.com@qts.vn/")]),
        ] {
            assert!(!same_origin(&bad), "{bad:?}");
        }
    }

    #[test]
    fn the_csrf_token_must_match_the_cookie() {
        assert!(csrf_matches(Some("abc"), Some("abc")));
        assert!(!csrf_matches(Some("abc"), Some("abd")));
        assert!(!csrf_matches(Some("abc"), None));
        assert!(!csrf_matches(None, Some("abc")));
        assert!(!csrf_matches(Some(""), Some("")));
    }

    #[test]
    fn cookies_are_read_and_set_with_their_attributes() {
        let h = with(&[("cookie", "a=1; qts_csrf=xyz"), ("cookie", "a=2")]);
        let c = cookies(&h);
        assert_eq!(c.get("a").map(String::as_str), Some("1"));
        assert_eq!(c.get("qts_csrf").map(String::as_str), Some("xyz"));
        let flags = CookieFlags {
            secure: true,
            strict: true,
            max_age: Some(60),
        };
        assert_eq!(
            set_cookie("qts_session", "t", flags),
            "qts_session=t; Path=/api/sso-ui; HttpOnly; SameSite=Strict; Secure; Max-Age=60"
        );
    }
}
