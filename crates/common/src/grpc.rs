//! Access tokens on gRPC, both ways.
//!
//! Serving: [`GuardLayer`] (put on every service's gRPC server by
//! [`Host`](crate::server::Host) when `auth.enabled`) checks the `authorization: Bearer` metadata
//! of every call except health checks and `GetInfo`, against the same SSO keys as HTTP; a method
//! may need roles ([`Host::grpc_roles`](crate::server::Host::grpc_roles)), and the handler finds
//! the caller as a [`Principal`] in the request's extensions.
//!
//! Calling: a service calls its peers as itself — its service account at the SSO
//! (`auth.client_id` / `auth.client_secret`, OAuth 2.0 client credentials). [`Connector`] makes
//! the channels; each call carries the service's access token, fetched once and again before it
//! expires ([`ServiceToken`]).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http::{HeaderValue, header};
use http_body_util::BodyExt as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::auth::{AuthError, Principal, Verifier};
use crate::settings::AuthSettings;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

// ----- serving ------------------------------------------------------------------------------

/// Calls anyone may make: health checks, reflection and each service's `GetInfo`.
fn public(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.")
        || path.starts_with("/grpc.reflection.")
        || path.ends_with("/GetInfo")
}

/// The caller of a gRPC method, as the host's [`GuardLayer`] verified its token; `None` when
/// tokens are not checked (`auth.enabled` off).
pub fn caller<T>(request: &tonic::Request<T>) -> Option<Principal> {
    request.extensions().get::<Principal>().cloned()
}

/// tower layer for tonic servers: a valid access token on every call but the public ones, and
/// the roles a method needs.
#[derive(Debug, Clone)]
pub struct GuardLayer {
    verifier: Arc<Verifier>,
    /// Full method path (`/qts.oms.v1.OmsService/PlaceOrder`) → roles, one of which it needs.
    roles: Arc<HashMap<String, Vec<String>>>,
}

impl GuardLayer {
    /// Checks tokens with `verifier`; any valid token passes until [`GuardLayer::require`]
    /// says more.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self {
            verifier,
            roles: Arc::new(HashMap::new()),
        }
    }

    /// The method at full path `method` needs one of `roles` (an admin has all).
    pub fn require(&mut self, method: &str, roles: &[&str]) {
        Arc::make_mut(&mut self.roles).insert(
            method.to_owned(),
            roles.iter().map(|r| (*r).to_owned()).collect(),
        );
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`GuardLayer`].
#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    layer: GuardLayer,
}

fn status_of(e: &AuthError) -> tonic::Status {
    match e {
        AuthError::Unauthenticated(m) => tonic::Status::unauthenticated(m.clone()),
        AuthError::Forbidden(m) => tonic::Status::permission_denied(m.clone()),
        AuthError::Unavailable(m) => tonic::Status::unavailable(m.clone()),
    }
}

impl GuardLayer {
    /// The caller of a call to `path` with these headers, or why it is refused.
    async fn admit(
        &self,
        path: &str,
        headers: &http::HeaderMap,
    ) -> Result<Option<Principal>, tonic::Status> {
        if public(path) {
            return Ok(None);
        }
        let token = crate::auth::bearer(headers).map_err(|e| status_of(&e))?;
        let principal = self
            .verifier
            .verify(&token)
            .await
            .map_err(|e| status_of(&e))?;
        if let Some(roles) = self.roles.get(path)
            && !roles.iter().any(|r| principal.has_role(r))
        {
            return Err(status_of(&crate::auth::forbidden(path, roles, &principal)));
        }
        Ok(Some(principal))
    }
}

impl<S, RB> tower::Service<http::Request<tonic::body::Body>> for Guard<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<RB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<tonic::body::Body>) -> Self::Future {
        // Call the service that was driven to readiness; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            match layer.admit(req.uri().path(), req.headers()).await {
                Ok(Some(principal)) => {
                    req.extensions_mut().insert(principal);
                }
                Ok(None) => {}
                Err(status) => return Ok(status.into_http()),
            }
            inner.call(req).await
        })
    }
}

// ----- calling ------------------------------------------------------------------------------

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

/// A service's own access token from the SSO (client credentials), fetched when first needed
/// and again once 80 % of its life has passed.
pub struct ServiceToken {
    url: String,
    client_id: String,
    secret: SecretString,
    client: HttpClient,
    current: tokio::sync::Mutex<Option<Held>>,
    /// When the last fetch failed (the next is not tried within a second).
    failed: Mutex<Option<(Instant, String)>>,
}

struct Held {
    token: SecretString,
    renew_at: Instant,
    expires_at: Instant,
}

impl std::fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceToken")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl ServiceToken {
    /// The token of client `client_id` from the token endpoint at `url`.
    pub fn new(url: String, client_id: String, secret: SecretString) -> Self {
        Self {
            url,
            client_id,
            secret,
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
            current: tokio::sync::Mutex::new(None),
            failed: Mutex::new(None),
        }
    }

    /// The service `name`'s token as its settings describe, if it has a secret and checks
    /// tokens at all.
    pub fn from_settings(auth: &AuthSettings, name: &str) -> Option<Arc<Self>> {
        if !auth.enabled || auth.client_secret.expose_secret().is_empty() {
            return None;
        }
        let id = if auth.client_id.trim().is_empty() {
            name.to_owned()
        } else {
            auth.client_id.trim().to_owned()
        };
        Some(Arc::new(Self::new(
            auth.token_url(),
            id,
            auth.client_secret.clone(),
        )))
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A valid access token: the one held, or a new one.
    pub async fn get(&self) -> Result<SecretString, AuthError> {
        let mut current = self.current.lock().await;
        let now = Instant::now();
        if let Some(held) = current.as_ref()
            && now < held.renew_at
        {
            return Ok(held.token.clone());
        }
        let recent_failure = self
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(1))
            .map(|(_, why)| why.clone());
        let fetched = match recent_failure {
            Some(why) => Err(why),
            None => self.fetch().await,
        };
        match fetched {
            Ok(held) => {
                let token = held.token.clone();
                *current = Some(held);
                *self.failed.lock().unwrap_or_else(PoisonError::into_inner) = None;
                Ok(token)
            }
            Err(why) => {
                *self.failed.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((Instant::now(), why.clone()));
                match current.as_ref() {
                    // Renewal failed but the token still lives: use it, try again later.
                    Some(held) if now < held.expires_at => {
                        tracing::warn!(client = %self.client_id, error = %why, "cannot renew the service token yet");
                        Ok(held.token.clone())
                    }
                    _ => Err(AuthError::Unavailable(why)),
                }
            }
        }
    }

    async fn fetch(&self) -> Result<Held, String> {
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            form_encode(&self.client_id),
            form_encode(self.secret.expose_secret())
        );
        let request = http::Request::post(self.url.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|e| format!("the SSO's token endpoint {}: {e}", self.url))?;
        let at = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .map_err(|_| format!("the SSO's token endpoint {}: no answer in 10 s", self.url))?
            .map_err(|e| format!("the SSO's token endpoint {}: {e}", self.url))?;
        let status = answer.status();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("the SSO's token endpoint {}: {e}", self.url))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "the SSO refused service account {:?} (HTTP {status}): {}",
                self.client_id,
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        let t: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| format!("the SSO's token answer: {e}"))?;
        let life = Duration::from_secs(t.expires_in.max(1));
        tracing::debug!(client = %self.client_id, secs = t.expires_in, "service token fetched");
        Ok(Held {
            token: SecretString::from(t.access_token),
            renew_at: at + life.mul_f64(0.8),
            expires_at: at + life.saturating_sub(Duration::from_secs(5)),
        })
    }
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A gRPC channel whose every call carries the service's access token and the caller's trace
/// context.
#[derive(Clone, Debug)]
pub struct Authed<S> {
    inner: S,
    token: Option<Arc<ServiceToken>>,
}

/// The channel services call each other on.
pub type Channel = Authed<tonic::transport::Channel>;

impl<S, RB> tower::Service<http::Request<tonic::body::Body>> for Authed<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<RB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: http::Request<tonic::body::Body>) -> Self::Future {
        // The callee continues the caller's trace (W3C `traceparent`).
        crate::telemetry::inject_headers(req.headers_mut());
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let token = self.token.clone();
        Box::pin(async move {
            if let Some(source) = token {
                // tonic reports a Status error as the call's status.
                let token = source.get().await.map_err(|e| {
                    Box::new(tonic::Status::unavailable(format!(
                        "no access token for {}: {e}",
                        source.client_id()
                    ))) as BoxError
                })?;
                let value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                    .map_err(|e| Box::new(e) as BoxError)?;
                req.headers_mut().insert(header::AUTHORIZATION, value);
            }
            inner.call(req).await.map_err(Into::into)
        })
    }
}

/// Makes a service's channels to its peers, each carrying its token.
#[derive(Clone, Debug, Default)]
pub struct Connector {
    token: Option<Arc<ServiceToken>>,
}

impl Connector {
    /// Calls as service `name` (its `[auth]` client credentials; none: calls carry no token).
    pub fn new(auth: &AuthSettings, name: &str) -> Self {
        Self {
            token: ServiceToken::from_settings(auth, name),
        }
    }

    /// Calls carrying no token (a peer that does not check tokens).
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A channel to `what` at `url`, connected on first use.
    pub fn channel(
        &self,
        what: &str,
        url: &str,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> anyhow::Result<Channel> {
        let inner = tonic::transport::Channel::from_shared(url.to_owned())
            .with_context(|| format!("peers.{what} {url:?}"))?
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .connect_lazy();
        Ok(Authed {
            inner,
            token: self.token.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_info_are_public_the_rest_is_not() {
        assert!(public("/grpc.health.v1.Health/Check"));
        assert!(public("/qts.oms.v1.OmsService/GetInfo"));
        assert!(!public("/qts.oms.v1.OmsService/PlaceOrder"));
        assert!(!public("/qts.oms.v1.OmsService/GetInformation"));
    }

    /// A token endpoint that counts its calls and knows one client.
    async fn token_endpoint() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::post(move |body: String| {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    if body.contains("client_id=oms&client_secret=s%20cret%26") {
                        (
                            http::StatusCode::OK,
                            format!(r#"{{"access_token":"t{n}","expires_in":900,"token_type":"Bearer"}}"#),
                        )
                    } else {
                        (
                            http::StatusCode::UNAUTHORIZED,
                            r#"{"error":"invalid_client"}"#.to_owned(),
                        )
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, calls)
    }

    #[tokio::test]
    async fn a_service_token_is_fetched_once_and_kept_while_it_lives() {
        let (url, calls) = token_endpoint().await;
        let t = ServiceToken::new(url, "oms".into(), SecretString::from("s cret&"));
        assert_eq!(t.get().await.unwrap().expose_secret(), "t1");
        assert_eq!(t.get().await.unwrap().expose_secret(), "t1");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refused_secret_is_reported_and_not_retried_at_once() {
        let (url, calls) = token_endpoint().await;
        let t = ServiceToken::new(url, "oms".into(), SecretString::from("wrong"));
        let e = t.get().await.unwrap_err();
        assert!(
            matches!(&e, AuthError::Unavailable(m) if m.contains("refused service account \"oms\"") && m.contains("401")),
            "{e:?}"
        );
        assert!(
            !format!("{e:?}").contains("wrong"),
            "the secret stays out of errors"
        );
        assert!(t.get().await.is_err());
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "a second call within a second reuses the failure"
        );
    }

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(form_encode("oms-1._~"), "oms-1._~");
    }
}
