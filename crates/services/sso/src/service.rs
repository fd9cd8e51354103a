//! The use cases: the OAuth 2.0 token endpoint (password, refresh_token, client_credentials
//! grants), revocation, users (registration, administration, password change and reset),
//! signing keys and their rotation, verification of the tokens this service issued.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use common::bus::Envelope;
use common::bus::topics::NOTIFICATION_REQUEST;
use common::cache::SharedCache;
use common::error::{Classify, Kind};
use common::store::{Db, Outbox, Timestamp};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::domain::{
    Claims, Role, User, check_accounts, check_client_id, check_email, check_password,
    check_username,
};
use crate::keys::{KeyRing, SigningKey, VerifyError, random_token, token_hash};
use crate::settings::Sections;
use crate::store;
use common::crypto::MasterKey;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed request.
    #[error("{0}")]
    Invalid(String),
    /// No valid access token.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid token without the role or ownership needed.
    #[error("{0}")]
    Forbidden(String),
    /// No such user.
    #[error("{0}")]
    NotFound(String),
    /// The name is taken.
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts.
    #[error("{0}")]
    TooMany(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Keys, hashing, the random source.
    #[error("{0}")]
    Internal(String),
}

impl From<common::store::Error> for Error {
    fn from(e: common::store::Error) -> Self {
        Error::Store(store::Error::Store(e))
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::Unauthenticated(_) => Kind::Unauthenticated,
            Error::Forbidden(_) => Kind::PermissionDenied,
            Error::NotFound(_) => Kind::NotFound,
            Error::Conflict(_) => Kind::AlreadyExists,
            Error::TooMany(_) => Kind::ResourceExhausted,
            Error::Store(e) => e.kind(),
            Error::Internal(_) => Kind::Internal,
        }
    }
}

/// An error of the token endpoint, as RFC 6749 §5.2 spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: u16,
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`,
    /// `invalid_scope`, `slow_down`, `server_error`.
    pub error: &'static str,
    /// Why, for a person.
    pub description: String,
    /// The password was right; a two-factor code (`totp`, or a `recovery_code`) is needed.
    pub mfa_required: bool,
}

impl OAuthError {
    /// An error with this status, code and description.
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            mfa_required: false,
        }
    }

    fn grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::TooMany(m) => Self::new(429, "slow_down", m),
            Error::Invalid(m) => Self::new(400, "invalid_request", m),
            other @ (Error::Unauthenticated(_)
            | Error::Forbidden(_)
            | Error::NotFound(_)
            | Error::Conflict(_)
            | Error::Store(_)
            | Error::Internal(_)) => {
                tracing::error!(error = %other, "token endpoint failed");
                Self::new(
                    500,
                    "server_error",
                    "the token could not be issued; try again",
                )
            }
        }
    }
}

/// What the token endpoint answers (RFC 6749 §5.1).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The next refresh token (password and refresh_token grants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds until the login ends: the refresh token's family expires then, however often it
    /// is rotated (with `refresh_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
    /// The roles granted, space-separated.
    pub scope: String,
}

/// A user's changeable fields (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New e-mail address.
    pub email: Option<String>,
    /// New roles.
    pub roles: Option<Vec<String>>,
    /// New broker accounts.
    pub accounts: Option<Vec<String>>,
    /// Disable (revoking every session) or enable.
    pub disabled: Option<bool>,
    /// Clear a lockout.
    pub unlock: bool,
    /// A new password set by an admin.
    pub password: Option<String>,
    /// Remove the user's two-factor authentication (a lost device).
    pub reset_totp: bool,
}

/// What an authenticator app is given to enrol.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    /// The secret, base32.
    pub secret: String,
    /// The `otpauth://totp/...` URI (a QR code of it, for the app to scan).
    pub otpauth_url: String,
}

/// The sso service's state: clone freely.
#[derive(Clone)]
pub struct Sso {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    cache: SharedCache,
    master: MasterKey,
    settings: Sections,
    keys: RwLock<Arc<KeyRing>>,
    argon: Argon2<'static>,
    /// A hash of nothing, verified against when the user does not exist (so the time taken
    /// does not tell whether a user name exists).
    dummy_hash: String,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Sso {
    /// The service over `db` and `cache`: loads the signing keys (making the first, or a
    /// replacement of one past its age).
    pub async fn new(
        db: Db,
        cache: SharedCache,
        settings: Sections,
        master: MasterKey,
    ) -> Result<Self, Error> {
        let p = &settings.passwords;
        let params = Params::new(p.memory_kib, p.iterations, 1, None)
            .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon, "not a password of anyone")?;
        let sso = Self {
            inner: Arc::new(Inner {
                db,
                cache,
                master,
                settings,
                keys: RwLock::new(Arc::new(
                    KeyRing::new(vec![SigningKey::generate(now()).map_err(Error::Internal)?])
                        .map_err(Error::Internal)?,
                )),
                argon,
                dummy_hash,
            }),
        };
        sso.rotate_keys(false, "sso").await?;
        Ok(sso)
    }

    fn keys(&self) -> Arc<KeyRing> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Makes a new signing key when the newest is older than `tokens.key_rotation_days` (or
    /// `force`), dropping keys superseded longer ago than a token lives; reloads the ring
    /// from the store (what another instance rotated too). Answers whether it rotated.
    pub async fn rotate_keys(&self, force: bool, actor: &str) -> Result<bool, Error> {
        let t = &self.inner.settings.tokens;
        let mut rows = store::keys(&self.inner.db).await?;
        let at = now();
        let max_age = time::Duration::days(i64::from(t.key_rotation_days));
        let due = rows.first().is_none_or(|k| at - k.created_at >= max_age);
        // A key stored before keys were sealed is replaced too.
        let unsealed = rows.iter().any(|k| !MasterKey::is_sealed(&k.sealed));
        let rotated = force || due || unsealed;
        if rotated {
            let new = SigningKey::generate(at).map_err(Error::Internal)?;
            let sealed = self
                .inner
                .master
                .seal(&new.private_pkcs8, &new.kid)
                .map_err(Error::Internal)?;
            let lifetime = time::Duration::seconds(
                i64::try_from(t.access_ttl_secs).unwrap_or(i64::MAX / 2) + 60,
            );
            store::rotate_keys(&self.inner.db, &new, &sealed, at - lifetime, actor).await?;
            rows = store::keys(&self.inner.db).await?;
            tracing::info!(kid = %new.kid, "signing key rotated");
        }
        let keys = rows
            .into_iter()
            .map(|row| {
                let pkcs8 = if MasterKey::is_sealed(&row.sealed) {
                    self.inner.master.open(&row.sealed, &row.kid)
                } else {
                    Ok(row.sealed)
                }
                .map_err(|e| Error::Internal(format!("signing key {}: {e}", row.kid)))?;
                SigningKey::from_pkcs8(pkcs8, row.created_at, row.superseded_at)
                    .map_err(Error::Internal)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ring = KeyRing::new(keys).map_err(Error::Internal)?;
        *self
            .inner
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(ring);
        Ok(rotated)
    }

    /// Rotates keys when due, every hour until `token` is cancelled.
    pub async fn rotate_periodically(
        self,
        token: common::shutdown::CancellationToken,
    ) -> anyhow::Result<()> {
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(Duration::from_secs(3_600)) => {}
            }
            if let Err(e) = self.rotate_keys(false, "sso").await {
                tracing::warn!(error = %e, "checking the signing keys failed; trying again in an hour");
            }
        }
    }

    /// With no user at all, creates user `admin` (roles admin, risk officer, ops, trader) with
    /// the configured password, else `QTS_ADMIN_PASSWORD`, else a generated one printed once
    /// on standard error. Answers the generated password, if one was.
    pub async fn bootstrap_admin(&self) -> Result<Option<String>, Error> {
        if store::count_users(&self.inner.db).await? > 0 {
            return Ok(None);
        }
        let configured = self.inner.settings.bootstrap.admin_password.clone();
        let from_env = std::env::var("QTS_ADMIN_PASSWORD").unwrap_or_default();
        let (password, generated) = if !configured.is_empty() {
            (configured, false)
        } else if !from_env.is_empty() {
            (from_env, false)
        } else {
            (random_token(18).map_err(Error::Internal)?, true)
        };
        let user = self
            .new_user(
                "admin",
                "admin@localhost.localdomain",
                &password,
                vec![Role::Admin, Role::RiskOfficer, Role::Ops, Role::Trader],
                Vec::new(),
            )
            .await?;
        if !store::insert_user(&self.inner.db, &user, "sso").await? {
            return Ok(None);
        }
        if generated {
            // Printed once, where the person who started the fleet sees it; never logged.
            eprintln!(
                "\nqts: the first administrator is user `admin` with password {password}\n     \
                 (set QTS_ADMIN_PASSWORD to choose it; change it after logging in)\n"
            );
            return Ok(Some(password));
        }
        tracing::info!("created the first administrator, user `admin`");
        Ok(None)
    }

    /// Makes the configured service accounts (`bootstrap.service_clients`), or gives them the
    /// configured secret, each with the `service` role; answers how many were set.
    pub async fn bootstrap_clients(&self) -> Result<usize, Error> {
        use secrecy::ExposeSecret;
        let configured = &self.inner.settings.bootstrap.service_clients;
        let jobs = configured.iter().map(|(id, secret)| async move {
            let id = check_client_id(id)
                .map_err(|e| Error::Invalid(format!("bootstrap.service_clients.{id}: {e}")))?;
            let current = store::client(&self.inner.db, &id).await?;
            if let Some(c) = &current
                && !c.disabled
                && c.roles == [Role::Service]
                && self
                    .password_matches(&c.secret_hash, secret.expose_secret())
                    .await
            {
                return Ok(false);
            }
            let client = store::Client {
                client_id: id,
                secret_hash: self.hash(secret.expose_secret()).await?,
                roles: vec![Role::Service],
                disabled: false,
            };
            store::put_client(&self.inner.db, &client, "sso", now()).await?;
            Ok::<_, Error>(true)
        });
        let set = futures::future::try_join_all(jobs).await?;
        Ok(set.into_iter().filter(|changed| *changed).count())
    }

    async fn hash(&self, password: &str) -> Result<String, Error> {
        let inner = self.inner.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_with(&inner.argon, &password))
            .await
            .map_err(|e| Error::Internal(format!("hashing: {e}")))?
    }

    async fn password_matches(&self, hash: &str, password: &str) -> bool {
        let inner = self.inner.clone();
        let (hash, password) = (hash.to_owned(), password.to_owned());
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .is_ok_and(|h| inner.argon.verify_password(password.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false)
    }

    async fn new_user(
        &self,
        username: &str,
        email: &str,
        password: &str,
        roles: Vec<Role>,
        accounts: Vec<String>,
    ) -> Result<User, Error> {
        let username = check_username(username).map_err(Error::Invalid)?;
        let email = check_email(email).map_err(Error::Invalid)?;
        check_password(
            password,
            &username,
            self.inner.settings.passwords.min_length,
        )
        .map_err(Error::Invalid)?;
        let accounts = check_accounts(&accounts).map_err(Error::Invalid)?;
        let at = now();
        Ok(User {
            id: uuid_v4()?,
            username,
            email,
            password_hash: self.hash(password).await?,
            roles,
            accounts,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created_at: at,
            updated_at: at,
        })
    }

    // ----- tokens ------------------------------------------------------------------------

    fn claims(
        &self,
        sub: &str,
        name: &str,
        roles: &[Role],
        accounts: &[String],
    ) -> Result<Claims, Error> {
        let t = &self.inner.settings.tokens;
        let at = now().unix_timestamp();
        let mut roles = roles.to_vec();
        roles.sort();
        Ok(Claims {
            iss: t.issuer.clone(),
            sub: sub.to_owned(),
            aud: t.audience.clone(),
            exp: at + i64::try_from(t.access_ttl_secs).unwrap_or(900),
            iat: at,
            nbf: at,
            jti: uuid_v4()?,
            preferred_username: name.to_owned(),
            scope: roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            roles,
            accounts: accounts.to_vec(),
        })
    }

    /// The token endpoint's answer for `claims`, with the next refresh token and when its login
    /// ends, if the grant gives one.
    fn respond(
        &self,
        claims: &Claims,
        refresh: Option<(String, OffsetDateTime)>,
    ) -> Result<TokenResponse, Error> {
        let access_token = self.keys().sign(claims).map_err(Error::Internal)?;
        let (refresh_token, refresh_expires_in) = match refresh {
            Some((token, ends)) => {
                let left = (ends - now()).whole_seconds().max(0);
                (Some(token), Some(u64::try_from(left).unwrap_or(0)))
            }
            None => (None, None),
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.inner.settings.tokens.access_ttl_secs,
            refresh_token,
            refresh_expires_in,
            scope: claims.scope.clone(),
        })
    }

    /// The token endpoint (`application/x-www-form-urlencoded` fields). `basic` is the client
    /// id and secret of an `Authorization: Basic` header, if one came.
    pub async fn token(
        &self,
        form: &HashMap<String, String>,
        basic: Option<(String, String)>,
    ) -> Result<TokenResponse, OAuthError> {
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
        match field("grant_type") {
            "password" => {
                self.password_grant(
                    (field("username"), field("password")),
                    (field("totp"), field("recovery_code")),
                    field("client_id"),
                )
                .await
            }
            "refresh_token" => self.refresh_grant(field("refresh_token")).await,
            "client_credentials" => {
                let (id, secret) = basic.unwrap_or_else(|| {
                    (
                        field("client_id").to_owned(),
                        field("client_secret").to_owned(),
                    )
                });
                self.client_grant(&id, &secret).await
            }
            "" => Err(OAuthError::new(
                400,
                "invalid_request",
                "grant_type is required",
            )),
            other => Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                format!("grant_type {other:?}: password, refresh_token or client_credentials"),
            )),
        }
    }

    async fn password_grant(
        &self,
        (username, password): (&str, &str),
        (code, recovery_code): (&str, &str),
        client_id: &str,
    ) -> Result<TokenResponse, OAuthError> {
        if username.is_empty() || password.is_empty() {
            return Err(OAuthError::new(
                400,
                "invalid_request",
                "username and password are required",
            ));
        }
        if username.len() > 64 || password.len() > 1_024 {
            return Err(OAuthError::grant("wrong user name or password"));
        }
        let name = username.trim().to_ascii_lowercase();
        let l = &self.inner.settings.lockout;
        let attempts = self
            .inner
            .cache
            .incr(&format!("login:{name}"), 1, Some(Duration::from_secs(60)))
            .await
            .map_err(|e| Error::Internal(format!("cache: {e}")))?;
        let db = &self.inner.db;
        let at = now();
        if attempts > i64::from(l.attempts_per_minute) {
            store::audit(
                db,
                "login_throttled",
                &name,
                &name,
                "too many attempts in a minute",
                at,
            )
            .await
            .map_err(Error::from)?;
            return Err(Error::TooMany(format!(
                "more than {} login attempts for {name} in a minute: wait a minute",
                l.attempts_per_minute
            ))
            .into());
        }
        let Some(mut user) = store::user_by_name(db, &name).await.map_err(Error::from)? else {
            // The same work as for a real user, so the time does not tell names apart.
            let _ = self
                .password_matches(&self.inner.dummy_hash, password)
                .await;
            store::audit(db, "login_failed", &name, &name, "no such user", at)
                .await
                .map_err(Error::from)?;
            return Err(OAuthError::grant("wrong user name or password"));
        };
        if let Some(until) = user.locked_until.filter(|u| *u > at) {
            store::audit(db, "login_locked", &name, &name, "locked", at)
                .await
                .map_err(Error::from)?;
            return Err(OAuthError::grant(format!(
                "{name} is locked after {} failed logins until {}",
                l.max_failures,
                until
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            )));
        }
        if user.disabled {
            store::audit(db, "login_failed", &name, &name, "disabled", at)
                .await
                .map_err(Error::from)?;
            return Err(OAuthError::grant(format!("{name} is disabled")));
        }
        if !self.password_matches(&user.password_hash, password).await {
            self.failed(&mut user, "wrong password", at).await?;
            return Err(OAuthError::grant("wrong user name or password"));
        }
        self.second_factor(&mut user, code, recovery_code, at)
            .await?;
        if user.failed_logins > 0 || user.locked_until.is_some() {
            user.failed_logins = 0;
            user.locked_until = None;
            user.updated_at = at;
            store::update_user(db, &user, ("", "", ""))
                .await
                .map_err(Error::from)?;
        }
        let client = if client_id.is_empty() {
            "qts"
        } else {
            client_id
        };
        let refresh = self.start_family(&user, client, "login", at).await?;
        let claims = self.claims(&user.id, &user.username, &user.roles, &user.accounts)?;
        Ok(self.respond(&claims, Some(refresh))?)
    }

    /// Counts a failed login of `user` (`why`), locking it after `lockout.max_failures`.
    async fn failed(&self, user: &mut User, why: &str, at: OffsetDateTime) -> Result<(), Error> {
        let l = &self.inner.settings.lockout;
        user.failed_logins += 1;
        user.updated_at = at;
        let detail = if user.failed_logins >= l.max_failures {
            user.locked_until =
                Some(at + time::Duration::seconds(i64::try_from(l.lock_secs).unwrap_or(900)));
            user.failed_logins = 0;
            format!("{why}: locked for {} s", l.lock_secs)
        } else {
            format!("{why} ({} in a row)", user.failed_logins)
        };
        let event = if user.locked_until.is_some_and(|u| u > at) {
            "user_locked"
        } else {
            "login_failed"
        };
        let name = user.username.clone();
        store::update_user(&self.inner.db, user, (event, &name, &detail)).await?;
        Ok(())
    }

    /// With TOTP enabled, a login needs the current code (each good once) or an unused
    /// recovery code (then used up); a wrong one counts as a failed login.
    async fn second_factor(
        &self,
        user: &mut User,
        code: &str,
        recovery_code: &str,
        at: OffsetDateTime,
    ) -> Result<(), OAuthError> {
        let db = &self.inner.db;
        let Some(t) = store::totp(db, &user.id).await.map_err(Error::from)? else {
            return Ok(());
        };
        if !t.enabled {
            return Ok(());
        }
        if code.is_empty() && recovery_code.is_empty() {
            return Err(OAuthError {
                mfa_required: true,
                ..OAuthError::grant("a two-factor code is required: totp (or recovery_code)")
            });
        }
        if !code.is_empty() {
            let secret = self
                .inner
                .master
                .open(&t.sealed, &user.id)
                .map_err(Error::Internal)?;
            let now_secs = u64::try_from(at.unix_timestamp()).unwrap_or(0);
            let step = crate::totp::check(&secret, &user.username, code, now_secs, t.last_step)
                .map_err(Error::Internal)?;
            if let Some(step) = step
                && store::use_totp_step(db, &user.id, step)
                    .await
                    .map_err(Error::from)?
            {
                return Ok(());
            }
            self.failed(user, "wrong or used two-factor code", at)
                .await?;
            return Err(OAuthError::grant("wrong or already used two-factor code"));
        }
        let hash = token_hash(&crate::totp::normalise_recovery(recovery_code));
        if t.recovery.contains(&hash) {
            let after: Vec<String> = t.recovery.iter().filter(|h| **h != hash).cloned().collect();
            if store::use_recovery(db, &user.id, &t.recovery, &after)
                .await
                .map_err(Error::from)?
            {
                store::audit(
                    db,
                    "recovery_code_used",
                    &user.username,
                    &user.username,
                    &format!("{} recovery codes left", after.len()),
                    at,
                )
                .await
                .map_err(Error::from)?;
                return Ok(());
            }
        }
        self.failed(user, "wrong or used recovery code", at).await?;
        Err(OAuthError::grant("wrong or already used recovery code"))
    }

    /// Starts enrolling the caller in TOTP: a new secret for their authenticator app, which
    /// [`Sso::confirm_totp`] then confirms with a first code.
    pub async fn enrol_totp(&self, actor: &Claims) -> Result<TotpEnrolment, Error> {
        let user = self.own(actor).await?;
        let secret = crate::totp::new_secret().map_err(Error::Internal)?;
        let sealed = self
            .inner
            .master
            .seal(&secret, &user.id)
            .map_err(Error::Internal)?;
        if !store::start_totp(&self.inner.db, &user.id, &sealed, now()).await? {
            return Err(Error::Conflict(
                "two-factor authentication is already on: turn it off first".to_owned(),
            ));
        }
        let (secret, otpauth_url) =
            crate::totp::provisioning(&secret, &user.username).map_err(Error::Internal)?;
        Ok(TotpEnrolment {
            secret,
            otpauth_url,
        })
    }

    /// Confirms an enrolment with a first code: TOTP is on from now; answers the recovery
    /// codes (shown this once).
    pub async fn confirm_totp(&self, actor: &Claims, code: &str) -> Result<Vec<String>, Error> {
        let user = self.own(actor).await?;
        let t = store::totp(&self.inner.db, &user.id)
            .await?
            .filter(|t| !t.enabled)
            .ok_or_else(|| {
                Error::Invalid(
                    "no enrolment to confirm: start one with POST /v1/me/totp".to_owned(),
                )
            })?;
        let secret = self
            .inner
            .master
            .open(&t.sealed, &user.id)
            .map_err(Error::Internal)?;
        let at = now();
        let now_secs = u64::try_from(at.unix_timestamp()).unwrap_or(0);
        let Some(step) = crate::totp::check(&secret, &user.username, code, now_secs, t.last_step)
            .map_err(Error::Internal)?
        else {
            return Err(Error::Invalid(
                "that is not the authenticator's current code (check the device's clock)"
                    .to_owned(),
            ));
        };
        let codes = crate::totp::recovery_codes().map_err(Error::Internal)?;
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| token_hash(&crate::totp::normalise_recovery(c)))
            .collect();
        if !store::enable_totp(
            &self.inner.db,
            (&user.id, &user.username),
            step,
            &hashes,
            at,
        )
        .await?
        {
            return Err(Error::Conflict(
                "two-factor authentication is already on".to_owned(),
            ));
        }
        Ok(codes)
    }

    /// Turns the caller's TOTP off (their password required).
    pub async fn disable_totp(&self, actor: &Claims, password: &str) -> Result<(), Error> {
        let user = self.own(actor).await?;
        if !self.password_matches(&user.password_hash, password).await {
            return Err(Error::Forbidden("the password is wrong".to_owned()));
        }
        if !store::delete_totp(
            &self.inner.db,
            (&user.id, &user.username),
            &user.username,
            now(),
        )
        .await?
        {
            return Err(Error::Invalid(
                "two-factor authentication is not on".to_owned(),
            ));
        }
        Ok(())
    }

    /// The caller as a user (a service client's token is refused).
    async fn own(&self, actor: &Claims) -> Result<User, Error> {
        store::user_by_id(&self.inner.db, &actor.sub)
            .await?
            .ok_or_else(|| Error::Forbidden("a user's token is needed".to_owned()))
    }

    /// Issues the first refresh token of a new family (a login), audited as `event`; answers it
    /// and when the family expires.
    async fn start_family(
        &self,
        user: &User,
        client: &str,
        event: &str,
        at: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), Error> {
        let token = random_token(32).map_err(Error::Internal)?;
        let ttl = time::Duration::seconds(
            i64::try_from(self.inner.settings.tokens.refresh_ttl_secs).unwrap_or(86_400),
        );
        let mut tx = self.inner.db.begin().await?;
        store::insert_refresh(
            &mut tx,
            &store::Refresh {
                token_hash: token_hash(&token),
                family: uuid_v4()?,
                user_id: user.id.clone(),
                client_id: client.chars().take(64).collect(),
                expires_at: Timestamp::from(at + ttl),
                used_at: None,
                revoked_at: None,
            },
            at,
        )
        .await?;
        store::audit_in(
            &mut tx,
            event,
            &user.username,
            &user.username,
            &format!("client {client}"),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok((token, at + ttl))
    }

    async fn refresh_grant(&self, token: &str) -> Result<TokenResponse, OAuthError> {
        if token.is_empty() || token.len() > 200 {
            return Err(OAuthError::new(
                400,
                "invalid_request",
                "refresh_token is required",
            ));
        }
        let at = now();
        let hash = token_hash(token);
        let mut tx = self.inner.db.begin().await.map_err(Error::from)?;
        let Some(r) = store::refresh_in(&mut tx, &hash)
            .await
            .map_err(Error::from)?
        else {
            return Err(OAuthError::grant("unknown refresh token"));
        };
        if r.revoked_at.is_some() {
            return Err(OAuthError::grant(
                "the refresh token was revoked: log in again",
            ));
        }
        if r.expires_at.get() <= at {
            return Err(OAuthError::grant("the refresh token expired: log in again"));
        }
        let user = store::user_by_id(&self.inner.db, &r.user_id)
            .await
            .map_err(Error::from)?;
        // A used token again is a stolen one (or its thief's): the whole family goes.
        if r.used_at.is_some()
            || !store::use_refresh(&mut tx, &hash, at)
                .await
                .map_err(Error::from)?
        {
            let n = store::revoke_family(&mut tx, &r.family, at)
                .await
                .map_err(Error::from)?;
            let name = user
                .as_ref()
                .map_or(r.user_id.as_str(), |u| u.username.as_str());
            store::audit_in(
                &mut tx,
                "refresh_reuse",
                name,
                name,
                &format!("a used refresh token again: its login's {n} tokens revoked"),
                at,
            )
            .await
            .map_err(Error::from)?;
            tx.commit().await.map_err(Error::from)?;
            return Err(OAuthError::grant(
                "the refresh token was already used: every token of this login is revoked; log in again",
            ));
        }
        let Some(user) = user.filter(|u| !u.disabled) else {
            return Err(OAuthError::grant("the user is disabled"));
        };
        let next = random_token(32).map_err(Error::Internal)?;
        let family_ends = OffsetDateTime::from(r.expires_at);
        store::insert_refresh(
            &mut tx,
            &store::Refresh {
                token_hash: token_hash(&next),
                used_at: None,
                revoked_at: None,
                ..r
            },
            at,
        )
        .await
        .map_err(Error::from)?;
        store::audit_in(
            &mut tx,
            "refresh",
            &user.username,
            &user.username,
            "rotated",
            at,
        )
        .await
        .map_err(Error::from)?;
        tx.commit().await.map_err(Error::from)?;
        let claims = self.claims(&user.id, &user.username, &user.roles, &user.accounts)?;
        Ok(self.respond(&claims, Some((next, family_ends)))?)
    }

    async fn client_grant(&self, id: &str, secret: &str) -> Result<TokenResponse, OAuthError> {
        let invalid = || OAuthError::new(401, "invalid_client", "unknown client or wrong secret");
        if id.is_empty() || secret.is_empty() || id.len() > 64 || secret.len() > 1_024 {
            return Err(invalid());
        }
        let at = now();
        let client = store::client(&self.inner.db, id)
            .await
            .map_err(Error::from)?;
        let ok = match &client {
            Some(c) if !c.disabled => self.password_matches(&c.secret_hash, secret).await,
            _ => {
                let _ = self.password_matches(&self.inner.dummy_hash, secret).await;
                false
            }
        };
        let event = if ok {
            "client_login"
        } else {
            "client_login_failed"
        };
        store::audit(&self.inner.db, event, id, id, "client_credentials", at)
            .await
            .map_err(Error::from)?;
        let Some(client) = client.filter(|_| ok) else {
            return Err(invalid());
        };
        let claims = self.claims(&client.client_id, &client.client_id, &client.roles, &[])?;
        Ok(self.respond(&claims, None)?)
    }

    /// Revokes a refresh token's whole login (RFC 7009: an unknown token is not an error).
    pub async fn revoke(&self, token: &str, actor: &str) -> Result<(), Error> {
        let at = now();
        let mut tx = self.inner.db.begin().await?;
        if let Some(r) = store::refresh_in(&mut tx, &token_hash(token)).await? {
            let n = store::revoke_family(&mut tx, &r.family, at).await?;
            store::audit_in(
                &mut tx,
                "revoked",
                &r.user_id,
                actor,
                &format!("{n} tokens of a login"),
                at,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Registers a trader (no broker accounts until an admin gives some), when registration
    /// is open.
    pub async fn register(
        &self,
        username: &str,
        email: &str,
        password: &str,
    ) -> Result<User, Error> {
        if !self.inner.settings.accounts.registration_open {
            return Err(Error::Forbidden(
                "registration is closed: ask an administrator".to_owned(),
            ));
        }
        let user = self
            .new_user(username, email, password, vec![Role::Trader], Vec::new())
            .await?;
        if !store::insert_user(&self.inner.db, &user, &user.username).await? {
            return Err(Error::Conflict(format!(
                "user name {} is taken",
                user.username
            )));
        }
        Ok(user)
    }

    /// Creates a user (admin).
    pub async fn create_user(
        &self,
        (username, email, password): (&str, &str, &str),
        roles: &[String],
        accounts: Vec<String>,
        actor: &Claims,
    ) -> Result<User, Error> {
        require(actor, Role::Admin)?;
        let roles = parse_role_list(roles)?;
        let user = self
            .new_user(username, email, password, roles, accounts)
            .await?;
        if !store::insert_user(&self.inner.db, &user, &actor.preferred_username).await? {
            return Err(Error::Conflict(format!(
                "user name {} is taken",
                user.username
            )));
        }
        Ok(user)
    }

    /// Whether user `user_id`'s logins need a second factor (a confirmed TOTP).
    pub async fn totp_enabled(&self, user_id: &str) -> Result<bool, Error> {
        Ok(store::totp(&self.inner.db, user_id)
            .await?
            .is_some_and(|t| t.enabled))
    }

    /// One user: admins and risk officers see anyone, others themselves.
    pub async fn user(&self, username: &str, actor: &Claims) -> Result<User, Error> {
        let name = username.trim().to_ascii_lowercase();
        if name != actor.preferred_username
            && !actor.has(Role::Admin)
            && !actor.has(Role::RiskOfficer)
        {
            return Err(Error::Forbidden(
                "only administrators and risk officers see other users".to_owned(),
            ));
        }
        store::user_by_name(&self.inner.db, &name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user {name}")))
    }

    /// Every user (admins and risk officers).
    pub async fn users(&self, limit: u32, actor: &Claims) -> Result<Vec<User>, Error> {
        if !actor.has(Role::Admin) && !actor.has(Role::RiskOfficer) {
            return Err(Error::Forbidden(
                "only administrators and risk officers list users".to_owned(),
            ));
        }
        Ok(store::users(&self.inner.db, limit.clamp(1, 1_000)).await?)
    }

    /// Changes a user (admin). Disabling or a new password revokes every session.
    pub async fn update_user(
        &self,
        username: &str,
        patch: UserPatch,
        actor: &Claims,
    ) -> Result<User, Error> {
        require(actor, Role::Admin)?;
        let mut user = self.user(username, actor).await?;
        let mut changes = Vec::new();
        if let Some(e) = patch.email {
            user.email = check_email(&e).map_err(Error::Invalid)?;
            changes.push("email".to_owned());
        }
        if let Some(r) = patch.roles {
            user.roles = parse_role_list(&r)?;
            changes.push(format!("roles {}", crate::domain::roles_text(&user.roles)));
        }
        if let Some(a) = patch.accounts {
            user.accounts = check_accounts(&a).map_err(Error::Invalid)?;
            changes.push(format!("accounts {}", user.accounts.join(",")));
        }
        let mut revoke = false;
        if let Some(d) = patch.disabled {
            user.disabled = d;
            revoke |= d;
            changes.push(if d { "disabled" } else { "enabled" }.to_owned());
        }
        if patch.unlock {
            user.failed_logins = 0;
            user.locked_until = None;
            changes.push("unlocked".to_owned());
        }
        if patch.reset_totp {
            store::delete_totp(
                &self.inner.db,
                (&user.id, &user.username),
                &actor.preferred_username,
                now(),
            )
            .await?;
            changes.push("two-factor authentication removed".to_owned());
        }
        if let Some(p) = patch.password {
            check_password(&p, &user.username, self.inner.settings.passwords.min_length)
                .map_err(Error::Invalid)?;
            user.password_hash = self.hash(&p).await?;
            revoke = true;
            changes.push("password set".to_owned());
        }
        if changes.is_empty() {
            return Err(Error::Invalid("nothing to change".to_owned()));
        }
        user.updated_at = now();
        store::update_user(
            &self.inner.db,
            &user,
            (
                "user_changed",
                &actor.preferred_username,
                &changes.join("; "),
            ),
        )
        .await?;
        if revoke {
            let mut tx = self.inner.db.begin().await?;
            store::revoke_user(&mut tx, &user.id, None, user.updated_at).await?;
            tx.commit().await?;
        }
        Ok(user)
    }

    /// Changes one's own password (the current one required); every other session is revoked.
    pub async fn change_password(
        &self,
        actor: &Claims,
        current: &str,
        new: &str,
    ) -> Result<(), Error> {
        let mut user = store::user_by_id(&self.inner.db, &actor.sub)
            .await?
            .ok_or_else(|| {
                Error::Forbidden("a user's token is needed to change a password".to_owned())
            })?;
        if !self.password_matches(&user.password_hash, current).await {
            store::audit(
                &self.inner.db,
                "password_change_failed",
                &user.username,
                &user.username,
                "wrong current password",
                now(),
            )
            .await?;
            return Err(Error::Forbidden("the current password is wrong".to_owned()));
        }
        check_password(
            new,
            &user.username,
            self.inner.settings.passwords.min_length,
        )
        .map_err(Error::Invalid)?;
        user.password_hash = self.hash(new).await?;
        user.updated_at = now();
        store::update_user(
            &self.inner.db,
            &user,
            ("password_changed", &user.username.clone(), "by the user"),
        )
        .await?;
        let mut tx = self.inner.db.begin().await?;
        store::revoke_user(&mut tx, &user.id, None, user.updated_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a password reset for a user name or e-mail address: a one-time token goes to
    /// the person on `notification.request.v1` (with the audit row, in one transaction).
    /// Answers the same whether or not the user exists.
    pub async fn request_reset(&self, who: &str) -> Result<(), Error> {
        let who = who.trim();
        if who.is_empty() || who.len() > 254 {
            return Err(Error::Invalid(
                "a user name or e-mail address is required".to_owned(),
            ));
        }
        let at = now();
        let user = if who.contains('@') {
            store::user_by_email(&self.inner.db, who).await?
        } else {
            store::user_by_name(&self.inner.db, &who.to_ascii_lowercase()).await?
        };
        let Some(user) = user.filter(|u| !u.disabled) else {
            store::audit(
                &self.inner.db,
                "password_reset_requested",
                who,
                who,
                "no such enabled user: nothing sent",
                at,
            )
            .await?;
            return Ok(());
        };
        let attempts = self
            .inner
            .cache
            .incr(
                &format!("reset:{}", user.id),
                1,
                Some(Duration::from_secs(3_600)),
            )
            .await
            .map_err(|e| Error::Internal(format!("cache: {e}")))?;
        if attempts > 5 {
            return Err(Error::TooMany(
                "more than 5 password resets in an hour: wait".to_owned(),
            ));
        }
        let token = random_token(32).map_err(Error::Internal)?;
        let ttl = self.inner.settings.accounts.reset_ttl_secs;
        let expires = at + time::Duration::seconds(i64::try_from(ttl).unwrap_or(3_600));
        let request = proto::notification::v1::NotificationRequest {
            id: format!("password_reset:{}", token_hash(&token)),
            template: "password_reset".to_owned(),
            user_id: user.id.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            locale: "vi".to_owned(),
            params: [
                ("token".to_owned(), token.clone()),
                (
                    "expires_at".to_owned(),
                    expires
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                ),
            ]
            .into(),
            at: Some(common::bus::proto_time(at)),
            source: "sso".to_owned(),
        };
        let mut tx = self.inner.db.begin().await?;
        store::insert_reset(&mut tx, &token_hash(&token), &user.id, expires).await?;
        Outbox::enqueue(
            &mut tx,
            NOTIFICATION_REQUEST.static_name(),
            &Envelope::new("sso", &user.id, &request),
        )
        .await?;
        store::audit_in(
            &mut tx,
            "password_reset_requested",
            &user.username,
            &user.username,
            &format!("token sent, valid {ttl} s"),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password with a reset token (once); every session of the user is revoked.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), Error> {
        if token.is_empty() || token.len() > 200 {
            return Err(Error::Invalid("a reset token is required".to_owned()));
        }
        let at = now();
        let mut tx = self.inner.db.begin().await?;
        let Some(user_id) = store::use_reset(&mut tx, &token_hash(token), at).await? else {
            return Err(Error::Forbidden(
                "the reset token is unknown, used or expired".to_owned(),
            ));
        };
        let mut user = store::user_by_id(&self.inner.db, &user_id)
            .await?
            .ok_or_else(|| Error::Forbidden("the reset token's user is gone".to_owned()))?;
        check_password(
            password,
            &user.username,
            self.inner.settings.passwords.min_length,
        )
        .map_err(Error::Invalid)?;
        user.password_hash = self.hash(password).await?;
        user.failed_logins = 0;
        user.locked_until = None;
        user.updated_at = at;
        store::revoke_user(&mut tx, &user.id, None, at).await?;
        tx.commit().await?;
        store::update_user(
            &self.inner.db,
            &user,
            (
                "password_reset",
                &user.username.clone(),
                "with a reset token",
            ),
        )
        .await?;
        Ok(())
    }

    /// Creates or replaces a service client with a new secret (admin); answers the secret,
    /// shown this once.
    pub async fn put_client(
        &self,
        client_id: &str,
        roles: &[String],
        actor: &Claims,
    ) -> Result<String, Error> {
        require(actor, Role::Admin)?;
        let id = check_client_id(client_id).map_err(Error::Invalid)?;
        let roles = parse_role_list(roles)?;
        let secret = random_token(32).map_err(Error::Internal)?;
        let client = store::Client {
            client_id: id,
            secret_hash: self.hash(&secret).await?,
            roles,
            disabled: false,
        };
        store::put_client(&self.inner.db, &client, &actor.preferred_username, now()).await?;
        Ok(secret)
    }

    // ----- verification and discovery ----------------------------------------------------

    /// The claims of a bearer token this service issued.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        let t = &self.inner.settings.tokens;
        self.keys()
            .verify(token, &t.issuer, &t.audience)
            .map_err(|e| {
                Error::Unauthenticated(match e {
                    VerifyError::Expired => "the access token expired: refresh it".to_owned(),
                    other @ (VerifyError::Malformed(_)
                    | VerifyError::UnknownKey(_)
                    | VerifyError::BadSignature
                    | VerifyError::Invalid(_)) => other.to_string(),
                })
            })
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        self.keys().jwks()
    }

    /// The OpenID Connect discovery document.
    pub fn discovery(&self) -> Value {
        let iss = &self.inner.settings.tokens.issuer;
        json!({
            "issuer": iss,
            "jwks_uri": format!("{iss}/.well-known/jwks.json"),
            "token_endpoint": format!("{iss}/v1/oauth/token"),
            "revocation_endpoint": format!("{iss}/v1/oauth/revoke"),
            "userinfo_endpoint": format!("{iss}/v1/me"),
            "grant_types_supported": ["password", "refresh_token", "client_credentials"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "preferred_username", "roles", "accounts", "scope"],
        })
    }

    /// The latest authentication events (admins and risk officers; anyone their own).
    pub async fn audit(
        &self,
        subject: &str,
        limit: u32,
        actor: &Claims,
    ) -> Result<Vec<store::AuditRow>, Error> {
        let own = !subject.is_empty() && subject == actor.preferred_username;
        if !own && !actor.has(Role::Admin) && !actor.has(Role::RiskOfficer) {
            return Err(Error::Forbidden(
                "only administrators and risk officers read others' events".to_owned(),
            ));
        }
        Ok(store::audit_rows(&self.inner.db, subject, limit.clamp(1, 1_000)).await?)
    }
}

fn hash_with(argon: &Argon2<'static>, password: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| Error::Internal("the system random source failed".to_owned()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("hashing: {e}")))
}

fn uuid_v4() -> Result<String, Error> {
    Ok(uuid::Uuid::new_v4().to_string())
}

fn parse_role_list(roles: &[String]) -> Result<Vec<Role>, Error> {
    if roles.is_empty() {
        return Err(Error::Invalid("at least one role".to_owned()));
    }
    let mut out: Vec<Role> = roles
        .iter()
        .map(|r| Role::parse(r))
        .collect::<Result<_, _>>()
        .map_err(Error::Invalid)?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// Refuses a holder without `role`.
pub fn require(actor: &Claims, role: Role) -> Result<(), Error> {
    if actor.has(role) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "the {} role is needed",
            role.as_str()
        )))
    }
}
