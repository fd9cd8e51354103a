//! The use cases behind the pages: sessions handed to the portal (a refresh token in a cookie,
//! exchanged for access tokens without ever presenting a used refresh token twice), the sign-in
//! waiting for its second factor, and what an SSO refusal means for a person.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::cache::SharedCache;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::settings::UiSettings;
use crate::sso;

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The SSO refused or did not answer.
    #[error(transparent)]
    Sso(#[from] sso::Error),
    /// The cache failed.
    #[error("the cache failed")]
    Cache(#[from] common::cache::Error),
    /// The random source or the cipher failed.
    #[error("{0}")]
    Internal(&'static str),
}

/// A signed-in session: the refresh token for the cookie and the access token it gave.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    /// The SSO refresh token (the cookie's value).
    pub(crate) refresh_token: String,
    /// The access token.
    pub(crate) access_token: String,
    /// When the access token expires, Unix seconds.
    pub(crate) expires_at: u64,
    /// The user name.
    pub(crate) username: String,
    /// The roles.
    pub(crate) roles: Vec<String>,
    /// When the login ends, Unix seconds (when the SSO says).
    #[serde(default)]
    pub(crate) login_ends_at: Option<u64>,
}

impl Session {
    /// Seconds the access token has left.
    pub(crate) fn expires_in(&self) -> u64 {
        self.expires_at.saturating_sub(unix_now())
    }

    fn of(tokens: sso::Tokens) -> Result<Self, Error> {
        let refresh_token = tokens
            .refresh_token
            .ok_or(Error::Internal("the SSO gave no refresh token"))?;
        Ok(Self {
            login_ends_at: tokens.refresh_expires_in.map(|s| unix_now() + s),
            username: username_of(&tokens.access_token).unwrap_or_default(),
            roles: tokens.scope.split_whitespace().map(str::to_owned).collect(),
            expires_at: unix_now() + tokens.expires_in,
            access_token: tokens.access_token,
            refresh_token,
        })
    }
}

/// A sign-in whose password was right, waiting for its second factor.
#[derive(Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The user name as typed.
    pub(crate) username: String,
    /// The password (kept encrypted in the cache under a key only the browser holds).
    pub(crate) password: String,
    /// Where to go after the sign-in.
    pub(crate) return_to: String,
}

/// The sso-ui service's state: clone freely.
#[derive(Clone)]
pub(crate) struct Ui {
    /// The SSO.
    pub(crate) sso: sso::Client,
    /// The settings.
    pub(crate) settings: Arc<UiSettings>,
    cache: SharedCache,
    /// One lock per refresh token being exchanged now (by hash), so duplicates wait.
    exchanging: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    random: Arc<SystemRandom>,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `preferred_username` of an access token the SSO just gave us (over our own channel to
/// it, so not verified again here).
fn username_of(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    claims
        .get("preferred_username")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// SHA-256 of a secret, hex: how a refresh token is named in the cache and the lock map.
fn digest(secret: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, secret.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Ui {
    /// The state over the SSO client, the cache and the settings.
    pub(crate) fn new(sso: sso::Client, cache: SharedCache, settings: UiSettings) -> Self {
        Self {
            sso,
            settings: Arc::new(settings),
            cache,
            exchanging: Arc::default(),
            random: Arc::new(SystemRandom::new()),
        }
    }

    /// `n` random bytes, URL-safe base64.
    pub(crate) fn random_token(&self, n: usize) -> Result<String, Error> {
        let mut bytes = vec![0u8; n];
        self.random
            .fill(&mut bytes)
            .map_err(|_| Error::Internal("the system random source failed"))?;
        Ok(B64.encode(bytes))
    }

    /// Signs in with a password (and a second factor, if given): the new session.
    pub(crate) async fn login(
        &self,
        username: &str,
        password: &str,
        second: Option<(&str, &str)>,
    ) -> Result<Session, Error> {
        Session::of(self.sso.login(username, password, second).await?)
    }

    /// The session of the cookie's refresh token: the SSO's next access token and the rotated
    /// refresh token. Calls with the same token are serialised (in this process by a lock,
    /// across replicas by a lock key in the shared cache), and the answer is kept for
    /// `ui.dedup_secs` under the token's hash, so a duplicate (two portal tabs, a retried
    /// request) gets the same answer instead of presenting a used refresh token to the SSO,
    /// which would revoke the whole login.
    pub(crate) async fn session(&self, refresh_token: &str) -> Result<Session, Error> {
        let key = format!("session:{}", digest(refresh_token));
        let lock = {
            let mut map = self
                .exchanging
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            map.entry(key.clone()).or_default().clone()
        };
        let result = {
            let _one = lock.lock().await;
            self.exchange(&key, refresh_token).await
        };
        {
            let mut map = self
                .exchanging
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Ours and the map's: nobody else waits on it.
            if Arc::strong_count(&lock) <= 2 {
                map.remove(&key);
            }
        }
        result
    }

    /// The answer kept for `key`, if its access token has not expired.
    async fn kept(&self, key: &str) -> Result<Option<Session>, Error> {
        Ok(self
            .cache
            .get(key)
            .await?
            .and_then(|bytes| serde_json::from_slice::<Session>(&bytes).ok())
            .filter(|s| s.expires_in() > 0))
    }

    async fn exchange(&self, key: &str, refresh_token: &str) -> Result<Session, Error> {
        if let Some(s) = self.kept(key).await? {
            return Ok(s);
        }
        // Across replicas sharing the cache (Redis): one refreshes, the others wait for its
        // answer. A holder that died frees the lock when it expires.
        let lock = format!("lock:{key}");
        let hold = self.settings.sso_timeout() + Duration::from_secs(1);
        let deadline = tokio::time::Instant::now() + hold;
        while !self.cache.set_if_absent(&lock, b"1", Some(hold)).await? {
            if tokio::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if let Some(s) = self.kept(key).await? {
                return Ok(s);
            }
        }
        let result = self.refresh_and_keep(key, refresh_token).await;
        if let Err(e) = self.cache.delete(&lock).await {
            tracing::warn!(error = %common::error::chain(&e), "a session lock stays until it expires");
        }
        result
    }

    async fn refresh_and_keep(&self, key: &str, refresh_token: &str) -> Result<Session, Error> {
        let session = Session::of(self.sso.refresh(refresh_token).await?)?;
        let bytes = serde_json::to_vec(&session)
            .map_err(|_| Error::Internal("a session did not serialise"))?;
        let ttl = Some(Duration::from_secs(self.settings.dedup_secs));
        self.cache.set(key, &bytes, ttl).await?;
        // Which answer gave this token, so a sign-out with it also forgets that answer.
        self.cache
            .set(
                &format!("rotated:{}", digest(&session.refresh_token)),
                key.as_bytes(),
                ttl,
            )
            .await?;
        Ok(session)
    }

    /// Ends the login of a refresh token at the SSO, and forgets the kept answer that gave
    /// it (so the token before it cannot fetch that answer again).
    pub(crate) async fn logout(&self, refresh_token: &str) -> Result<(), Error> {
        let rotated = format!("rotated:{}", digest(refresh_token));
        if let Some(key) = self.cache.get(&rotated).await? {
            self.cache.delete(&String::from_utf8_lossy(&key)).await?;
            self.cache.delete(&rotated).await?;
        }
        Ok(self.sso.revoke(refresh_token).await?)
    }

    /// Keeps a sign-in waiting for its second factor: encrypted (AES-256-GCM) in the cache
    /// under a random id, with a fresh key that only the answer holds. The answer (the
    /// ticket, `<id>.<key>`) goes into the second step's form, so neither the cache nor the
    /// page alone reveals the password.
    pub(crate) async fn hold(&self, pending: &Pending) -> Result<String, Error> {
        let id = self.random_token(18)?;
        let mut key = [0u8; 32];
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut key)
            .and_then(|()| self.random.fill(&mut nonce))
            .map_err(|_| Error::Internal("the system random source failed"))?;
        let cipher = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &key).map_err(|_| Error::Internal("cipher key"))?,
        );
        let mut sealed = serde_json::to_vec(pending)
            .map_err(|_| Error::Internal("a sign-in did not serialise"))?;
        cipher
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| Error::Internal("sealing failed"))?;
        let mut value = nonce.to_vec();
        value.extend_from_slice(&sealed);
        self.cache
            .set(
                &format!("second:{id}"),
                &value,
                Some(Duration::from_secs(self.settings.second_factor_ttl_secs)),
            )
            .await?;
        Ok(format!("{id}.{}", B64.encode(key)))
    }

    /// The sign-in a ticket of [`Ui::hold`] names, if it is still waiting.
    pub(crate) async fn pending(&self, ticket: &str) -> Result<Option<Pending>, Error> {
        let Some((id, key)) = ticket.split_once('.') else {
            return Ok(None);
        };
        let Ok(key) = B64.decode(key) else {
            return Ok(None);
        };
        let Some(value) = self.cache.get(&format!("second:{id}")).await? else {
            return Ok(None);
        };
        if value.len() < NONCE_LEN {
            return Ok(None);
        }
        let (nonce, sealed) = value.split_at(NONCE_LEN);
        let Ok(unbound) = UnboundKey::new(&AES_256_GCM, &key) else {
            return Ok(None);
        };
        let Ok(nonce) = Nonce::try_assume_unique_for_key(nonce) else {
            return Ok(None);
        };
        let mut sealed = sealed.to_vec();
        let Ok(plain) =
            LessSafeKey::new(unbound).open_in_place(nonce, Aad::from(id.as_bytes()), &mut sealed)
        else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(plain).ok())
    }

    /// Forgets a waiting sign-in.
    pub(crate) async fn forget(&self, ticket: &str) -> Result<(), Error> {
        if let Some((id, _)) = ticket.split_once('.') {
            self.cache.delete(&format!("second:{id}")).await?;
        }
        Ok(())
    }
}

/// What a refusal means for a person: the message key (an `i18n` key), the form field it
/// belongs to (`None`: the whole form) and the shortest password length when it is about
/// that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The field, as the form names it.
    pub(crate) field: Option<&'static str>,
    /// The `i18n` key of the message.
    pub(crate) key: &'static str,
    /// `{min}` in the message.
    pub(crate) min: Option<String>,
}

impl Problem {
    /// A problem of `field`.
    pub(crate) fn at(field: &'static str, key: &'static str) -> Self {
        Self {
            field: Some(field),
            key,
            min: None,
        }
    }

    /// A problem of the whole form.
    pub(crate) fn form(key: &'static str) -> Self {
        Self {
            field: None,
            key,
            min: None,
        }
    }
}

/// The SSO's refusals, which it spells for developers, as problems for a person. The SSO
/// names no reason codes beyond RFC 6749's, so its messages are read (they are stable text in
/// `crates/services/sso/src/service.rs` and `domain.rs`); an unknown one is a generic
/// problem, never the SSO's English text.
pub(crate) fn problem(e: &Error, password_field: &'static str) -> Problem {
    let Error::Sso(sso::Error::Refused {
        status, message, ..
    }) = e
    else {
        return Problem::form("err_unavailable");
    };
    let m = message.as_str();
    let has = |s: &str| m.contains(s);
    match *status {
        429 if has("password reset") => Problem::form("err_reset_throttled"),
        429 => Problem::form("err_throttled"),
        500..=599 => Problem::form("err_unavailable"),
        _ if has("is locked") => Problem::form("err_locked"),
        _ if has("is disabled") || has("user is disabled") => Problem::form("err_disabled"),
        _ if has("wrong user name or password") => Problem::form("err_credentials"),
        _ if has("two-factor code") => Problem::at("code", "err_totp_wrong"),
        _ if has("recovery code") => Problem::at("recovery_code", "err_recovery_wrong"),
        _ if m.starts_with("username:") => Problem::at("username", "err_username_invalid"),
        _ if m.starts_with("email") => Problem::at("email", "err_email_invalid"),
        _ if has("is taken") => Problem::at("username", "err_username_taken"),
        _ if has("registration is closed") => Problem::form("err_registration_closed"),
        _ if m.starts_with("password:") && has("to 128 characters") => Problem {
            field: Some(password_field),
            key: "err_password_length",
            min: m
                .trim_start_matches("password:")
                .split_whitespace()
                .next()
                .map(str::to_owned),
        },
        _ if has("not the user name") => Problem::at(password_field, "err_password_username"),
        _ if has("one character repeated") => Problem::at(password_field, "err_password_repeated"),
        _ if m.starts_with("password:") => Problem::at(password_field, "err_password_weak"),
        _ if has("current password is wrong") => {
            Problem::at("current_password", "err_current_password")
        }
        _ if has("reset token") => Problem::form("err_reset_token"),
        _ if has("already on") => Problem::form("err_totp_on"),
        _ if has("is not on") || has("no enrolment") => Problem::form("err_totp_off"),
        _ if has("current code") => Problem::at("code", "err_totp_confirm"),
        _ if has("password is wrong") => Problem::at("password", "err_wrong_password"),
        _ => Problem::form("err_generic"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, message: &str) -> Error {
        Error::Sso(sso::Error::Refused {
            status,
            code: "x".to_owned(),
            message: message.to_owned(),
            mfa_required: false,
        })
    }

    #[test]
    fn the_ssos_refusals_become_problems_a_person_reads() {
        let p = |s, m| problem(&refused(s, m), "new_password").key;
        assert_eq!(p(400, "wrong user name or password"), "err_credentials");
        assert_eq!(
            p(
                400,
                "alice is locked after 5 failed logins until 2026-01-01T00:00:00Z"
            ),
            "err_locked"
        );
        assert_eq!(p(429, "more than 10 login attempts"), "err_throttled");
        assert_eq!(
            p(400, "wrong or already used two-factor code"),
            "err_totp_wrong"
        );
        assert_eq!(p(409, "user name bob is taken"), "err_username_taken");
        assert_eq!(p(500, "anything"), "err_unavailable");
        assert_eq!(p(400, "something new"), "err_generic");
        let weak = problem(
            &refused(400, "password: 12 to 128 characters"),
            "new_password",
        );
        assert_eq!(
            (weak.key, weak.field, weak.min.as_deref()),
            ("err_password_length", Some("new_password"), Some("12"))
        );
    }

    #[test]
    fn the_username_is_read_from_the_access_tokens_claims() {
        let payload = B64.encode(br#"{"preferred_username":"alice"}"#);
        assert_eq!(
            username_of(&format!("h.{payload}.s")),
            Some("alice".to_owned())
        );
        assert_eq!(username_of("garbage"), None);
    }
}
