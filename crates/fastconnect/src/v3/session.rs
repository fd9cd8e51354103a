//! The one v3 session of an API key: access + refresh token, their scope, renewal.
//!
//! - Without OTP `auth/token` gives a data-only token; with an OTP (or an approved Smart-OTP
//!   transaction) a trading token.
//! - SSI keeps one session per API key: a login or refresh elsewhere (another process with
//!   the same key) invalidates this one. Share one [`crate::v3::Client`] per key.
//! - A refresh token is used at most once: SSI revokes the whole session when a refresh token
//!   is presented twice (401103). The session forgets a refresh token as soon as it has been
//!   sent, unless the request provably never left (connection refused).
//! - Tokens are renewed `token_refresh_margin_secs` before `expiresAt`.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::provider::{IssuedToken, SharedTokenProvider, TokenKind};
use crate::token::{Rejected, jwt_exp, now_secs};
use crate::v3::error::ApiErrorClass;
use crate::v3::rest::{Reply, Request, Rest};

pub(crate) const TOKEN_PATH: &str = "/api/v3/auth/token";
pub(crate) const REFRESH_PATH: &str = "/api/v3/auth/refresh";
pub(crate) const REQUEST_OTP_PATH: &str = "/api/v3/auth/requestOtp";

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Token obtained without OTP: market data and queries only.
    Data,
    /// Token obtained with an OTP or Smart OTP: trading.
    Trading,
}

/// The state of the session, without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// What the token may do.
    pub scope: Scope,
    /// Unix seconds when the access token expires.
    pub expires_at: u64,
    /// Unix seconds when the refresh token expires (0 without one).
    pub refresh_expires_at: u64,
}

/// The answer of `requestOtp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    /// Smart-OTP transaction to approve on the phone, then pass to
    /// [`crate::v3::Client::login_smart_otp`]. `None` for SMS/e-mail OTP.
    pub transaction_id: Option<String>,
    /// SSI's message.
    pub message: String,
}

#[derive(Clone)]
struct Tokens {
    access: SecretString,
    refresh: Option<SecretString>,
    expires_at: u64,
    refresh_expires_at: u64,
    scope: Scope,
}

impl Tokens {
    /// A provider's token: no refresh token here (the provider renews).
    fn given(t: IssuedToken) -> Self {
        Self {
            access: t.value,
            refresh: None,
            expires_at: t.expires_at,
            refresh_expires_at: 0,
            scope: if t.trading {
                Scope::Trading
            } else {
                Scope::Data
            },
        }
    }

    fn info(&self) -> SessionInfo {
        SessionInfo {
            scope: self.scope,
            expires_at: self.expires_at,
            refresh_expires_at: self.refresh_expires_at,
        }
    }
}

pub(crate) struct Session {
    api_key: String,
    api_secret: SecretString,
    state: Mutex<Option<Tokens>>,
    margin: Duration,
    fallback_lifetime: Duration,
    auto_data_login: bool,
    poll_interval: Duration,
    poll_max_wait: Duration,
    /// Where tokens come from when this client does not log in itself.
    provider: Option<SharedTokenProvider>,
    rejected: Rejected,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody<'a> {
    api_key: &'a str,
    api_secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    otp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<&'a str>,
}

/// How to log in.
pub(crate) enum Login<'a> {
    DataOnly,
    Otp(&'a SecretString),
    SmartOtp(&'a str),
}

impl Session {
    pub(crate) fn new(config: &crate::v3::Config, provider: Option<SharedTokenProvider>) -> Self {
        Self {
            api_key: config.api_key.clone(),
            api_secret: config.api_secret.clone(),
            state: Mutex::new(None),
            margin: Duration::from_secs(config.http.token_refresh_margin_secs),
            fallback_lifetime: Duration::from_secs(config.http.fallback_token_lifetime_secs),
            auto_data_login: config.auto_data_login,
            poll_interval: config.otp_poll_interval(),
            poll_max_wait: config.otp_poll_max_wait(),
            provider,
            rejected: Rejected::default(),
        }
    }

    pub(crate) async fn info(&self) -> Option<SessionInfo> {
        self.state.lock().await.as_ref().map(Tokens::info)
    }

    pub(crate) async fn clear(&self) {
        *self.state.lock().await = None;
    }

    /// A usable access token: cached, refreshed, or (data scope) logged in again.
    pub(crate) async fn token(&self, rest: &Rest) -> Result<SecretString> {
        self.token_valid_for(rest, self.margin).await
    }

    /// Like [`token`](Self::token), renewing unless the token has more than `validity` (and
    /// the configured margin) left: the stream asks for a token that outlives its cycle lead.
    pub(crate) async fn token_valid_for(
        &self,
        rest: &Rest,
        validity: Duration,
    ) -> Result<SecretString> {
        let mut state = self.state.lock().await;
        let now = now_secs();
        let need = validity.max(self.margin).as_secs();
        if let Some(t) = state.as_ref()
            && t.expires_at > now + need
        {
            return Ok(t.access.clone());
        }
        if let Some(provider) = &self.provider {
            // The provider's session, whatever its scope: it renews it.
            let given = provider.token(TokenKind::V3, self.rejected.take()).await?;
            let access = given.value.clone();
            *state = Some(Tokens::given(given));
            return Ok(access);
        }
        if let Some(old) = state.take() {
            let refreshable = old.refresh.is_some() && old.refresh_expires_at > now;
            if refreshable {
                match self.refresh_with(rest, &old).await {
                    Ok(fresh) => {
                        let access = fresh.access.clone();
                        *state = Some(fresh);
                        return Ok(access);
                    }
                    Err(e) if never_sent(&e) => {
                        *state = Some(old);
                        return Err(e);
                    }
                    Err(e) if old.scope == Scope::Trading || !self.auto_data_login => {
                        return Err(e);
                    }
                    Err(e) => {
                        tracing::info!(error = %common_error::chain(&e), "v3 refresh failed; logging in again (data scope)");
                    }
                }
            } else if old.scope == Scope::Trading {
                return Err(Error::LoginRequired(
                    "v3 trading session expired and cannot be refreshed: log in with a new OTP"
                        .to_owned(),
                ));
            }
        }
        if !self.auto_data_login {
            return Err(Error::LoginRequired(
                "no v3 session: call login_data_only / login_otp / login_smart_otp".to_owned(),
            ));
        }
        let fresh = self.fetch(rest, &Login::DataOnly).await?;
        let access = fresh.access.clone();
        *state = Some(fresh);
        Ok(access)
    }

    /// SSI refused `stale`: make the next [`token`](Self::token) renew it.
    pub(crate) async fn invalidate(&self, stale: &SecretString) {
        let mut state = self.state.lock().await;
        if let Some(t) = state.as_mut()
            && t.access.expose_secret() == stale.expose_secret()
        {
            t.expires_at = 0;
            self.rejected.set(stale);
        }
    }

    /// Logs in and replaces the session. With a provider the provider logs its session in
    /// (one session per API key: a login here would log the provider's out).
    pub(crate) async fn login(&self, rest: &Rest, how: Login<'_>) -> Result<SessionInfo> {
        let mut state = self.state.lock().await;
        if let Some(provider) = &self.provider {
            let given = match how {
                Login::DataOnly => provider.token(TokenKind::V3, None).await?,
                Login::Otp(code) => provider.login_otp(TokenKind::V3, code.clone()).await?,
                Login::SmartOtp(transaction_id) => {
                    provider
                        .login_otp(TokenKind::V3, SecretString::from(transaction_id.to_owned()))
                        .await?
                }
            };
            let fresh = Tokens::given(given);
            let info = fresh.info();
            *state = Some(fresh);
            return Ok(info);
        }
        let fresh = match how {
            Login::SmartOtp(transaction_id) => self.poll_smart_otp(rest, transaction_id).await?,
            Login::DataOnly | Login::Otp(_) => self.fetch(rest, &how).await?,
        };
        let info = fresh.info();
        *state = Some(fresh);
        Ok(info)
    }

    /// Refreshes now (explicit).
    pub(crate) async fn refresh(&self, rest: &Rest) -> Result<SessionInfo> {
        let mut state = self.state.lock().await;
        let Some(old) = state.take() else {
            return Err(Error::LoginRequired("no v3 session to refresh".to_owned()));
        };
        if old.refresh.is_none() {
            *state = Some(old);
            return Err(Error::LoginRequired(
                "the v3 session has no refresh token".to_owned(),
            ));
        }
        match self.refresh_with(rest, &old).await {
            Ok(fresh) => {
                let info = fresh.info();
                *state = Some(fresh);
                Ok(info)
            }
            Err(e) => {
                if never_sent(&e) {
                    *state = Some(old);
                }
                Err(e)
            }
        }
    }

    pub(crate) async fn request_otp(&self, rest: &Rest) -> Result<OtpChallenge> {
        if let Some(provider) = &self.provider {
            return provider.request_otp(TokenKind::V3).await;
        }
        let body = serde_json::to_vec(&TokenBody {
            api_key: &self.api_key,
            api_secret: self.api_secret.expose_secret(),
            otp: None,
            transaction_id: None,
        })
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let reply = rest
            .once(&Request::json(Method::POST, REQUEST_OTP_PATH, body), None)
            .await?;
        let value = match reply {
            Reply::Json(v) => v,
            Reply::Empty => Value::Null,
        };
        let transaction_id = ["transactionId", "transactionID"]
            .iter()
            .find_map(|k| {
                value
                    .get(*k)
                    .or_else(|| value.get("data").and_then(|d| d.get(*k)))
            })
            .and_then(|v| crate::wire::opt_string(v).ok().flatten());
        let message = value
            .get("msg")
            .or_else(|| value.get("message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(OtpChallenge {
            transaction_id,
            message,
        })
    }

    async fn poll_smart_otp(&self, rest: &Rest, transaction_id: &str) -> Result<Tokens> {
        let started = tokio::time::Instant::now();
        loop {
            match self.fetch(rest, &Login::SmartOtp(transaction_id)).await {
                Err(Error::Api(api))
                    if api.class == ApiErrorClass::SmartOtpPending
                        && started.elapsed() + self.poll_interval <= self.poll_max_wait =>
                {
                    tracing::info!(
                        waited_ms = started.elapsed().as_millis(),
                        "Smart-OTP approval pending"
                    );
                    tokio::time::sleep(self.poll_interval).await;
                }
                other => return other,
            }
        }
    }

    async fn fetch(&self, rest: &Rest, how: &Login<'_>) -> Result<Tokens> {
        let (otp, transaction_id, scope) = match how {
            Login::DataOnly => (None, None, Scope::Data),
            Login::Otp(code) => (Some(code.expose_secret()), None, Scope::Trading),
            Login::SmartOtp(id) => (None, Some(*id), Scope::Trading),
        };
        if otp.is_some_and(|c| c.trim().is_empty())
            || transaction_id.is_some_and(|t| t.trim().is_empty())
        {
            return Err(Error::InvalidRequest(
                "the OTP / Smart-OTP transaction id is empty".to_owned(),
            ));
        }
        let body = serde_json::to_vec(&TokenBody {
            api_key: &self.api_key,
            api_secret: self.api_secret.expose_secret(),
            otp,
            transaction_id,
        })
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let reply = rest
            .once(&Request::json(Method::POST, TOKEN_PATH, body), None)
            .await?;
        let tokens = self.parse_tokens(TOKEN_PATH, reply, scope)?;
        tracing::info!(scope = ?scope, expires_at = tokens.expires_at, "v3 login");
        Ok(tokens)
    }

    async fn refresh_with(&self, rest: &Rest, old: &Tokens) -> Result<Tokens> {
        let Some(refresh) = old.refresh.as_ref() else {
            return Err(Error::LoginRequired("no refresh token".to_owned()));
        };
        let body = serde_json::to_vec(&serde_json::json!({
            "refreshToken": refresh.expose_secret()
        }))
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let reply = rest
            .once(&Request::json(Method::POST, REFRESH_PATH, body), None)
            .await?;
        let tokens = self.parse_tokens(REFRESH_PATH, reply, old.scope)?;
        tracing::debug!(expires_at = tokens.expires_at, "v3 token refreshed");
        Ok(tokens)
    }

    fn parse_tokens(&self, endpoint: &str, reply: Reply, scope: Scope) -> Result<Tokens> {
        let Reply::Json(value) = reply else {
            return Err(Error::Protocol(format!("{endpoint} answered no token")));
        };
        let payload = value
            .get("data")
            .filter(|d| d.is_object())
            .unwrap_or(&value);
        let access = payload
            .get("accessToken")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Protocol(format!("{endpoint} answered no accessToken")))?;
        let refresh = payload
            .get("refreshToken")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned()));
        let expires_at = epoch_secs(payload.get("expiresAt"))
            .or_else(|| jwt_exp(access))
            .unwrap_or_else(|| now_secs() + self.fallback_lifetime.as_secs());
        let refresh_expires_at = if refresh.is_some() {
            epoch_secs(payload.get("refreshExpiresAt")).unwrap_or(expires_at)
        } else {
            0
        };
        Ok(Tokens {
            access: SecretString::from(access.to_owned()),
            refresh,
            expires_at,
            refresh_expires_at,
            scope,
        })
    }
}

/// `expiresAt` as Unix seconds: a number or a string; milliseconds (≥ 1e10) divided.
fn epoch_secs(value: Option<&Value>) -> Option<u64> {
    let n = crate::v3::wire::opt_decimal(value?).ok()??.to_f64_lossy();
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let secs = if n >= 1e10 { n / 1000.0 } else { n };
    Some(secs as u64)
}

/// The request provably never reached SSI (connection refused/failed before sending).
fn never_sent(e: &Error) -> bool {
    matches!(e, Error::Transport { source, .. } if source.is_connect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_is_seconds_or_milliseconds_number_or_string() {
        assert_eq!(epoch_secs(Some(&json!(1_779_806_203))), Some(1_779_806_203));
        assert_eq!(epoch_secs(Some(&json!("1779806203"))), Some(1_779_806_203));
        assert_eq!(
            epoch_secs(Some(&json!(1_779_806_203_000_u64))),
            Some(1_779_806_203)
        );
        assert_eq!(epoch_secs(Some(&json!(null))), None);
        assert_eq!(epoch_secs(None), None);
    }
}
