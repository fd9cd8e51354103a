//! [`Client`]: the one entry point of v3 for an API key — session, REST transport, TLS.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::provider::{IssuedToken, SharedTokenProvider};
use crate::trading::sign::RequestSigner;
use crate::v3::config::Config;
use crate::v3::data::DataClient;
use crate::v3::error::ApiErrorClass;
use crate::v3::rest::{Reply, Request, Rest};
use crate::v3::session::{Login, OtpChallenge, Session, SessionInfo};
use crate::v3::stream::StreamClient;
use crate::v3::trading::TradingClient;

/// A FastConnect v3 client for one API key. Cheap to clone; clones share the session, the
/// rate limiter and the connection pool. Use one per API key: SSI keeps one session per key.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) core: Arc<Core>,
}

pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) rest: Rest,
    pub(crate) session: Session,
    pub(crate) signer: Option<RequestSigner>,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    /// Open stream sockets (at most [`crate::v3::stream::MAX_SOCKETS`]).
    pub(crate) sockets: Arc<std::sync::atomic::AtomicUsize>,
}

/// Live clients per (API URL, API key): SSI keeps one session per key, so a second client
/// for the same key logs the first out.
static LIVE_KEYS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn key_id(config: &Config) -> String {
    format!(
        "{} {}",
        config.api_url.trim_end_matches('/'),
        config.api_key
    )
}

impl Drop for Core {
    fn drop(&mut self) {
        let id = key_id(&self.config);
        let mut live = LIVE_KEYS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = live.iter().position(|k| *k == id) {
            live.swap_remove(i);
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("api_url", &self.config.api_url)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// rustls roots: the public web roots plus `extra` PEM certificates.
fn tls_config(extra: &[u8]) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(extra) {
        let cert = cert.map_err(|e| Error::Config(format!("extra_ca_pem: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| Error::Config(format!("extra_ca_pem certificate refused: {e}")))?;
        added += 1;
    }
    if added == 0 {
        return Err(Error::Config(
            "extra_ca_pem holds no CERTIFICATE".to_owned(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Client {
    /// A client for `config`. Reads the private key (if any) and the extra CA now; nothing
    /// is sent until the first call.
    pub fn new(config: Config) -> Result<Self> {
        Self::build(config, None)
    }

    /// A client whose data-scope tokens come from `provider` (see [`crate::provider`]) instead
    /// of its own logins, so that the fleet shares the one session SSI keeps per API key. An
    /// explicit OTP login on this client still makes its own (trading) session.
    pub fn with_token_provider(config: Config, provider: SharedTokenProvider) -> Result<Self> {
        Self::build(config, Some(provider))
    }

    fn build(config: Config, provider: Option<SharedTokenProvider>) -> Result<Self> {
        if provider.is_none() {
            crate::config::require_credentials(
                "api_key and api_secret",
                &config.api_key,
                &config.api_secret,
            )?;
        }
        let signer = config
            .private_key
            .as_ref()
            .map(RequestSigner::from_key)
            .transpose()?;
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.http.timeout_ms))
            .user_agent(config.http_user_agent.clone());
        let extra = config.extra_ca()?;
        let tls = match &extra {
            Some(pem) => {
                for cert in reqwest::Certificate::from_pem_bundle(pem)
                    .map_err(|e| Error::Config(format!("extra_ca_pem: {e}")))?
                {
                    builder = builder.add_root_certificate(cert);
                }
                Some(tls_config(pem)?)
            }
            None => None,
        };
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let rest = Rest::new(http, &config.api_url, &config.http)?;
        let own_logins = provider.is_none();
        let session = Session::new(&config, provider);
        if own_logins {
            let id = key_id(&config);
            let mut live = LIVE_KEYS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if live.contains(&id) {
                tracing::warn!(api_key = %config.api_key, "a second v3 client for this API key: SSI keeps one session per key, each login logs the other out; share one Client");
            }
            live.push(id);
        }
        Ok(Self {
            core: Arc::new(Core {
                config,
                rest,
                session,
                signer,
                tls,
                sockets: Arc::default(),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// Market data REST.
    pub fn data(&self) -> DataClient {
        DataClient {
            core: self.core.clone(),
        }
    }

    /// Trading REST. Fails without a private key in the configuration.
    pub fn trading(&self) -> Result<TradingClient> {
        if self.core.signer.is_none() {
            return Err(Error::Config(
                "v3 trading needs private_key in the configuration".to_owned(),
            ));
        }
        Ok(TradingClient {
            core: self.core.clone(),
        })
    }

    /// The WebSocket stream (market data and account events).
    pub fn stream(&self) -> StreamClient {
        StreamClient {
            core: self.core.clone(),
        }
    }

    /// `auth/requestOtp`: SMS/e-mail OTP is sent, or a Smart-OTP push created (its
    /// `transaction_id` is returned).
    pub async fn request_otp(&self) -> Result<OtpChallenge> {
        self.core.session.request_otp(&self.core.rest).await
    }

    /// `auth/token` without OTP: a data-only session.
    pub async fn login_data_only(&self) -> Result<SessionInfo> {
        self.core
            .session
            .login(&self.core.rest, Login::DataOnly)
            .await
    }

    /// `auth/token` with an SMS/e-mail OTP: a trading session.
    pub async fn login_otp(&self, otp: &SecretString) -> Result<SessionInfo> {
        self.core
            .session
            .login(&self.core.rest, Login::Otp(otp))
            .await
    }

    /// `auth/token` with a Smart-OTP transaction, polled every `otp_poll_interval_ms` while
    /// SSI answers 202/401114, for at most `otp_poll_max_wait_ms`. After that the pending
    /// error ([`ApiErrorClass::SmartOtpPending`]) is returned; call again with the same id.
    /// Other calls of this client wait for the login (they need its session).
    pub async fn login_smart_otp(&self, transaction_id: &str) -> Result<SessionInfo> {
        self.core
            .session
            .login(&self.core.rest, Login::SmartOtp(transaction_id))
            .await
    }

    /// `auth/refresh` now (normally automatic before expiry). A refused refresh token
    /// (401101–401108) is [`ApiErrorClass::ReauthRequired`].
    pub async fn refresh(&self) -> Result<SessionInfo> {
        self.core.session.refresh(&self.core.rest).await
    }

    /// The session, if any.
    pub async fn session(&self) -> Option<SessionInfo> {
        self.core.session.info().await
    }

    /// Forgets the session locally (SSI has no logout call).
    pub async fn forget_session(&self) {
        self.core.session.clear().await;
    }

    /// A valid access token (renewed as needed); the stream uses it too.
    pub async fn access_token(&self) -> Result<SecretString> {
        self.core.session.token(&self.core.rest).await
    }

    /// The session's access token (renewed as needed) with its expiry: what a
    /// [`crate::TokenProvider`] hands out to the clients that share this session.
    pub async fn issue_token(&self) -> Result<IssuedToken> {
        let value = self.access_token().await?;
        let session = self.session().await;
        Ok(IssuedToken {
            value,
            expires_at: session.as_ref().map_or(0, |s| s.expires_at),
            trading: session.is_some_and(|s| s.scope == crate::v3::Scope::Trading),
        })
    }

    /// SSI refused `stale`, a token of this session someone was given: the next
    /// [`access_token`](Self::access_token) renews it.
    pub async fn token_refused(&self, stale: &SecretString) {
        self.core.session.invalidate(stale).await;
    }
}

impl Core {
    /// Sends `request` with the session's token. A 401 renews the token and retries once
    /// (safe for orders: the `clientRequestId` makes a replay a 409). A 429 on a GET with a
    /// `Retry-After` of at most `max_retry_after_ms` is waited out, up to 3 times; other
    /// methods are never replayed on 429. Every 429 pauses the shared limiter.
    pub(crate) async fn call(&self, request: &Request) -> Result<Reply> {
        let mut auth_retry = true;
        let mut rate_tries = 0u32;
        loop {
            let token = self.session.token(&self.rest).await?;
            match self.rest.once(request, Some(&token)).await {
                Err(Error::Api(api))
                    if auth_retry && api.http_status == 401 && api.class == ApiErrorClass::Auth =>
                {
                    tracing::info!(endpoint = %api.endpoint, "v3 token refused, renewing once");
                    auth_retry = false;
                    self.session.invalidate(&token).await;
                }
                Err(Error::Api(api)) if api.class == ApiErrorClass::RateLimited => {
                    let wait = api
                        .retry_after
                        .unwrap_or_else(|| Duration::from_secs(1 << rate_tries.min(5)));
                    // Everyone waits, but never longer than max_retry_after on one header:
                    // a cancel must not be stuck behind an absurd Retry-After.
                    self.rest
                        .limiter
                        .pause_for(wait.min(self.rest.max_retry_after))
                        .await;
                    if request.method == Method::GET
                        && rate_tries < 3
                        && wait <= self.rest.max_retry_after
                    {
                        rate_tries += 1;
                        tracing::info!(endpoint = %api.endpoint, wait_ms = wait.as_millis(), "v3 rate limited, retrying GET");
                    } else {
                        return Err(Error::Api(api));
                    }
                }
                other => return other,
            }
        }
    }

    pub(crate) async fn get(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<Reply> {
        self.call(&Request::get(path, query)).await
    }

    /// Serialises `body` once, signs those bytes and sends them unchanged.
    pub(crate) async fn signed<B: serde::Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Reply> {
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| Error::Config("no private_key for signing".to_owned()))?;
        let bytes = serde_json::to_vec(body).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let mut request = Request::json(method, path, bytes);
        request.signature = Some(signer.sign(request.body.as_deref().unwrap_or_default())?);
        self.call(&request).await
    }
}

/// Decodes `value` as `T`, naming the endpoint on failure.
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|source| Error::Decode {
        endpoint: endpoint.to_owned(),
        source,
    })
}

/// The rows of a list answer: a bare array, `{data: [...]}`, or empty.
pub(crate) fn rows(endpoint: &str, reply: Reply) -> Result<Vec<Value>> {
    match reply {
        Reply::Empty => Ok(Vec::new()),
        Reply::Json(Value::Array(items)) => Ok(items),
        Reply::Json(Value::Object(mut map)) => match map.remove("data") {
            Some(Value::Array(items)) => Ok(items),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(other) => Err(Error::Protocol(format!(
                "{endpoint}: `data` is not a list but {other}"
            ))),
        },
        Reply::Json(other) => Err(Error::Protocol(format!(
            "{endpoint} answered {other} instead of a list"
        ))),
    }
}

/// Decodes every row.
pub(crate) fn decode_rows<T: DeserializeOwned>(endpoint: &str, rows: Vec<Value>) -> Result<Vec<T>> {
    rows.into_iter().map(|r| decode(endpoint, r)).collect()
}

/// A single object answer (`Empty` is an error for calls that must answer something).
pub(crate) fn object<T: DeserializeOwned>(endpoint: &str, reply: Reply) -> Result<T> {
    match reply {
        Reply::Json(v) => decode(endpoint, v),
        Reply::Empty => Err(Error::Protocol(format!("{endpoint} answered nothing"))),
    }
}
