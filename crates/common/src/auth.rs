//! Access tokens on every endpoint: the SSO's EdDSA JWTs, verified against its JWKS (fetched
//! once, again when a token names a key not seen yet — keys rotate — at most every 10 s).
//!
//! What an operation needs comes from its OpenAPI security ([`Policy`]): `security(())` is
//! public; `security(("bearer" = ["risk_officer"]))` needs one of those roles (an admin has
//! them all); an operation that says nothing needs a valid token of any role — so a route
//! nobody thought about is protected, never open. [`Host`](crate::server::Host) puts
//! [`middleware`] on every route of the service; a handler finds the caller as a
//! [`Principal`] in the request's extensions (absent when `auth.enabled` is off).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{ApiError, Kind};
use crate::settings::AuthSettings;

/// Who is calling: the claims of a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id or the service client's id.
    pub subject: String,
    /// The user name or client id.
    pub username: String,
    /// `trader`, `risk_officer`, `admin`, `ops`, `service`.
    pub roles: Vec<String>,
    /// Broker sub-accounts a trader may trade and see.
    pub accounts: Vec<String>,
}

impl Principal {
    /// Whether the caller has `role` (an admin has every role).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role || r == "admin")
    }

    /// Whether the caller sees every account (admin, risk officer, ops, a service).
    pub fn sees_all_accounts(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r.as_str(), "admin" | "risk_officer" | "ops" | "service"))
    }

    /// Whether the caller may see and trade `account`.
    pub fn may_access(&self, account: &str) -> bool {
        self.sees_all_accounts() || self.accounts.iter().any(|a| a == account)
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    preferred_username: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    accounts: Vec<String>,
}

/// Refuses a caller who may not trade or see `account` (a trader's token names their
/// accounts; admins, risk officers, ops and services see all). `None` (tokens not checked)
/// passes.
pub fn check_account(caller: Option<&Principal>, account: &str) -> Result<(), ApiError> {
    match caller {
        Some(p) if !p.may_access(account) => Err(ApiError::new(
            Kind::PermissionDenied,
            format!(
                "account {account:?} is not one of {}'s accounts",
                p.username
            ),
        )),
        _ => Ok(()),
    }
}

/// The account a list is of: the one asked for, if the caller may see it; a trader who asks
/// for none gets their only account's (naming one when they have several); anyone else who
/// asks for none gets every account's (an empty string).
pub fn account_filter(caller: Option<&Principal>, asked: Option<&str>) -> Result<String, ApiError> {
    let asked = asked.map(str::trim).filter(|a| !a.is_empty());
    match (caller, asked) {
        (_, Some(a)) => {
            check_account(caller, a)?;
            Ok(a.to_owned())
        }
        (Some(p), None) if !p.sees_all_accounts() => match p.accounts.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ApiError::new(
                Kind::PermissionDenied,
                format!(
                    "{} has no broker account: an administrator gives them",
                    p.username
                ),
            )),
            several => Err(ApiError::new(
                Kind::InvalidArgument,
                format!(
                    "name one of your accounts: account={}",
                    several.join(" or account=")
                ),
            )),
        },
        (_, None) => Ok(String::new()),
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token, or not a valid one (malformed, expired, unknown key, bad signature, wrong
    /// issuer or audience).
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid token without a role the operation needs.
    #[error("{0}")]
    Forbidden(String),
    /// The keys could not be fetched.
    #[error("{0}")]
    Unavailable(String),
}

impl AuthError {
    fn kind(&self) -> Kind {
        match self {
            AuthError::Unauthenticated(_) => Kind::Unauthenticated,
            AuthError::Forbidden(_) => Kind::PermissionDenied,
            AuthError::Unavailable(_) => Kind::Unavailable,
        }
    }
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    axum::body::Body,
>;

/// Verifies access tokens against the SSO's published keys.
pub struct Verifier {
    issuer: String,
    audience: String,
    /// Where the keys are fetched from; `None`: only the keys given.
    url: Option<String>,
    keys: RwLock<Arc<HashMap<String, DecodingKey>>>,
    fetched: Mutex<Option<Instant>>,
    fetching: tokio::sync::Mutex<()>,
    client: HttpClient,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The least time between two fetches of the keys.
const REFETCH: Duration = Duration::from_secs(10);

fn decoding_keys(jwks: &str) -> Result<HashMap<String, DecodingKey>, String> {
    let set: JwkSet = serde_json::from_str(jwks).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            keys.insert(kid, key);
        }
    }
    Ok(keys)
}

impl Verifier {
    /// A verifier fetching the keys from the settings' JWKS URL.
    pub fn new(settings: &AuthSettings) -> Self {
        Self::with(settings, Some(settings.jwks_url()), HashMap::new())
    }

    /// A verifier with fixed keys (a JWKS document), fetching nothing.
    pub fn with_jwks(settings: &AuthSettings, jwks: &str) -> Result<Self, String> {
        Ok(Self::with(settings, None, decoding_keys(jwks)?))
    }

    fn with(
        settings: &AuthSettings,
        url: Option<String>,
        keys: HashMap<String, DecodingKey>,
    ) -> Self {
        Self {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            url,
            keys: RwLock::new(Arc::new(keys)),
            fetched: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
        }
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kid)
            .cloned()
    }

    /// Fetches the keys again, unless that was done less than [`REFETCH`] ago.
    async fn refresh(&self) -> Result<(), AuthError> {
        let Some(url) = &self.url else {
            return Ok(());
        };
        let _one = self.fetching.lock().await;
        {
            let fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
            if fetched.is_some_and(|t| t.elapsed() < REFETCH) {
                return Ok(());
            }
        }
        let unavailable =
            |e: String| AuthError::Unavailable(format!("the SSO's keys ({url}): {e}"));
        let request = axum::http::Request::get(url.as_str())
            .body(axum::body::Body::empty())
            .map_err(|e| unavailable(e.to_string()))?;
        let answer = tokio::time::timeout(Duration::from_secs(5), self.client.request(request))
            .await
            .map_err(|_| unavailable("no answer within 5 s".to_owned()))?
            .map_err(|e| unavailable(e.to_string()))?;
        *self.fetched.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        if !answer.status().is_success() {
            return Err(unavailable(format!("HTTP {}", answer.status())));
        }
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .to_bytes();
        let keys = decoding_keys(&String::from_utf8_lossy(&body)).map_err(unavailable)?;
        tracing::debug!(keys = keys.len(), "fetched the SSO's keys");
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        Ok(())
    }

    /// The caller a bearer token stands for.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let bad = |m: String| AuthError::Unauthenticated(m);
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| bad(format!("malformed access token: {e}")))?;
        if header.alg != Algorithm::EdDSA {
            return Err(bad(format!(
                "access token algorithm {:?}, not EdDSA",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| bad("the access token names no key (kid)".to_owned()))?;
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                self.refresh().await?;
                self.key(&kid).ok_or_else(|| {
                    bad(format!("the access token's key {kid:?} is not the SSO's"))
                })?
            }
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| {
                if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) {
                    bad("the access token expired: refresh it".to_owned())
                } else {
                    bad(format!("access token not accepted: {e}"))
                }
            })?
            .claims;
        Ok(Principal {
            subject: claims.sub,
            username: claims.preferred_username,
            roles: claims.roles,
            accounts: claims.accounts,
        })
    }
}

/// What an operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Nothing: anyone.
    Public,
    /// A valid token.
    Authenticated,
    /// A valid token with one of these roles (admin has all).
    Roles(Vec<String>),
}

/// What each operation of a service needs, read from its OpenAPI document.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    by_route: HashMap<(Method, String), Access>,
}

impl Policy {
    /// Reads every operation's `security`: `[{}]` (or an empty requirement among others) is
    /// public, `[{"bearer": [roles]}]` needs a role, none needs a token.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let mut by_route = HashMap::new();
        let Ok(doc) = serde_json::to_value(api) else {
            return Self::default();
        };
        let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) else {
            return Self::default();
        };
        for (path, item) in paths {
            let Some(ops) = item.as_object() else {
                continue;
            };
            for (method, op) in ops {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                by_route.insert((method, path.clone()), access_of(op.get("security")));
            }
        }
        Self { by_route }
    }

    /// What `method` on the route template `path` needs (a token when the document does not
    /// say).
    pub fn access(&self, method: &Method, path: &str) -> Access {
        self.by_route
            .get(&(method.clone(), path.to_owned()))
            .cloned()
            .unwrap_or(Access::Authenticated)
    }
}

fn access_of(security: Option<&serde_json::Value>) -> Access {
    let Some(reqs) = security.and_then(|s| s.as_array()) else {
        return Access::Authenticated;
    };
    let mut roles = Vec::new();
    for req in reqs {
        let Some(map) = req.as_object() else { continue };
        if map.is_empty() {
            return Access::Public;
        }
        for scopes in map.values() {
            roles.extend(
                scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned)),
            );
        }
    }
    if roles.is_empty() {
        Access::Authenticated
    } else {
        Access::Roles(roles)
    }
}

/// The state of [`middleware`].
#[derive(Clone, Debug)]
pub struct Guard {
    /// The verifier.
    pub verifier: Arc<Verifier>,
    /// What each operation needs.
    pub policy: Arc<Policy>,
}

fn refuse(e: &AuthError) -> Response {
    let mut r = ApiError::new(e.kind(), e.to_string()).into_response();
    if matches!(e, AuthError::Unauthenticated(_)) {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"qts\""),
        );
    }
    r
}

/// Checks the request's bearer token against what its operation needs; the caller goes into
/// the request's extensions as a [`Principal`].
pub async fn middleware(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let access = guard.policy.access(request.method(), &path);
    if access == Access::Public {
        return next.run(request).await;
    }
    let token = match bearer(request.headers()) {
        Ok(t) => t,
        Err(e) => return refuse(&e),
    };
    let principal = match guard.verifier.verify(&token).await {
        Ok(p) => p,
        Err(e) => return refuse(&e),
    };
    if let Access::Roles(roles) = &access
        && !roles.iter().any(|r| principal.has_role(r))
    {
        return refuse(&forbidden(&path, roles, &principal));
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// Why a caller without one of `roles` may not call `what`.
pub(crate) fn forbidden(what: &str, roles: &[String], principal: &Principal) -> AuthError {
    AuthError::Forbidden(format!(
        "{what} needs the role {} (the token has {})",
        roles.join(" or "),
        if principal.roles.is_empty() {
            "none".to_owned()
        } else {
            principal.roles.join(", ")
        }
    ))
}

/// The bearer token of a request's `Authorization` header (HTTP) or metadata (gRPC).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Result<String, AuthError> {
    let missing = || {
        AuthError::Unauthenticated(
            "an Authorization: Bearer <access token> header is required (POST /api/sso/v1/oauth/token gives one)"
                .to_owned(),
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(missing)?
        .trim();
    if token.is_empty() || token.len() > 8_192 {
        return Err(missing());
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_say_what_they_need_and_say_nothing_means_a_token() {
        let j = |v: serde_json::Value| access_of(Some(&v));
        assert_eq!(access_of(None), Access::Authenticated);
        assert_eq!(j(serde_json::json!([{}])), Access::Public);
        assert_eq!(
            j(serde_json::json!([{"bearer": []}])),
            Access::Authenticated
        );
        assert_eq!(
            j(serde_json::json!([{"bearer": ["risk_officer", "ops"]}])),
            Access::Roles(vec!["risk_officer".into(), "ops".into()])
        );
        let p = Principal {
            subject: "u".into(),
            username: "t".into(),
            roles: vec!["trader".into()],
            accounts: vec!["0001001".into()],
        };
        assert!(p.may_access("0001001") && !p.may_access("0001002"));
        assert!(!p.has_role("risk_officer"));
        let admin = Principal {
            roles: vec!["admin".into()],
            ..p
        };
        assert!(admin.has_role("risk_officer") && admin.may_access("0001002"));
    }
}
