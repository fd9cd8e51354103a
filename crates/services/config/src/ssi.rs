//! SSI FastConnect access tokens for the fleet.
//!
//! The config service alone holds the SSI credentials, as its own sealed secrets
//! ([`CREDENTIALS`]). It logs in to SSI with them, keeps the token, renews it
//! `ssi.refresh_margin_secs` before it expires (on request and from a background check) and
//! hands it to the services of `ssi.clients` over gRPC `GetSsiToken`. The services' fastconnect
//! clients take their tokens from here (`broker.tokens = "config"`), so they hold no SSI
//! credentials, and for v3 the fleet shares the one session SSI keeps per API key (a second
//! login logs the first out).
//!
//! - v2 `data`: FC Data's `AccessToken` with the FC Data consumer key.
//! - v2 `trading`: FC Trading's `AccessToken`, verified with the PIN when `ssi.trading.pin` is
//!   held (the token can trade), else a read token (queries and streams; an OTP login stays
//!   with the OMS, where a person enters the code).
//! - `v3`: the API key's session, data scope, renewed with its refresh token.
//!
//! A client that SSI refused a token names it (`rejected`): that token is never answered again.
//! Rotating a credential (a new secret version) renews the token on the next request. Every
//! new token, failure and refusal is in the audit trail; tokens are never logged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::auth::Principal;
use common::error::{Classify, Kind};
use common::shutdown::CancellationToken;
use common::store::Timestamp;
use fastconnect::{IssuedToken, TokenKind};
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::domain::AuditEntry;
use crate::service::Config;
use crate::store;

/// The config service's own secrets that SSI logins use, by token kind: required names, then
/// optional ones.
pub const CREDENTIALS: &[(TokenKind, &[&str], &[&str])] = &[
    (
        TokenKind::Data,
        &["ssi.data.consumer_id", "ssi.data.consumer_secret"],
        &[],
    ),
    (
        TokenKind::Trading,
        &["ssi.trading.consumer_id", "ssi.trading.consumer_secret"],
        &["ssi.trading.pin"],
    ),
    (TokenKind::V3, &["ssi.v3.api_key", "ssi.v3.api_secret"], &[]),
];

/// The credential an `ssi.seed` key stands for: `data_consumer_id` -> `ssi.data.consumer_id`.
fn seed_name(key: &str) -> Option<&'static str> {
    let name = format!("ssi.{}", key.replacen('_', ".", 1));
    CREDENTIALS
        .iter()
        .flat_map(|(_, required, optional)| required.iter().chain(optional.iter()))
        .find(|n| **n == name)
        .copied()
}

fn credential_names(kind: TokenKind) -> (&'static [&'static str], &'static [&'static str]) {
    CREDENTIALS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or((&[], &[]), |(_, required, optional)| (*required, *optional))
}

/// `[ssi]`: whether and how the config service obtains SSI tokens for the fleet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsiSettings {
    /// Obtain and hand out SSI tokens; off: `GetSsiToken` answers FAILED_PRECONDITION.
    pub enabled: bool,
    /// `v2` (kinds `data` and `trading`) or `v3` (kind `v3`).
    pub generation: String,
    /// v2 FC Data REST base URL.
    pub data_url: String,
    /// v2 FC Trading REST base URL.
    pub trading_url: String,
    /// v3 REST base URL.
    pub api_url: String,
    /// The services that may receive tokens (their service-account names).
    pub clients: Vec<String>,
    /// Renew a token when less than this is left, seconds. Must exceed the clients' own
    /// margin (fastconnect's `token_refresh_margin_secs`, 600 by default), so that what they
    /// are given outlives it.
    pub refresh_margin_secs: u64,
    /// How often the background check renews tokens that are due, seconds.
    pub check_interval_secs: u64,
    /// Timeout of one call to SSI, milliseconds.
    pub timeout_ms: u64,
    /// Credentials sealed into the store at start when the store has none of that name
    /// (never overwriting; empty values are skipped): first installs and the embedded fleet.
    /// Keys are the [`CREDENTIALS`] names without `ssi.` and with `_` for their second dot:
    /// `data_consumer_id` is `ssi.data.consumer_id`.
    #[serde(default)]
    pub seed: BTreeMap<String, SecretString>,
}

impl SsiSettings {
    /// Adds what is wrong to `problems`.
    pub fn check(&self, problems: &mut Vec<String>) {
        if !matches!(self.generation.as_str(), "v2" | "v3") {
            problems.push(format!(
                "ssi.generation {:?} is neither \"v2\" nor \"v3\"",
                self.generation
            ));
        }
        if self.refresh_margin_secs < 60 {
            problems.push("ssi.refresh_margin_secs must be at least 60".to_owned());
        }
        if !(1..=3_600).contains(&self.check_interval_secs) {
            problems.push("ssi.check_interval_secs must be between 1 and 3600".to_owned());
        }
        if !(100..=120_000).contains(&self.timeout_ms) {
            problems.push("ssi.timeout_ms must be between 100 and 120000".to_owned());
        }
        for key in self.seed.keys() {
            if seed_name(key).is_none() {
                problems.push(format!(
                    "ssi.seed.{key} is not an SSI credential (data_consumer_id, data_consumer_secret, trading_consumer_id, trading_consumer_secret, trading_pin, v3_api_key, v3_api_secret)"
                ));
            }
        }
    }

    /// The token kinds of the configured generation.
    pub fn kinds(&self) -> &'static [TokenKind] {
        if self.generation == "v3" {
            &[TokenKind::V3]
        } else {
            &[TokenKind::Data, TokenKind::Trading]
        }
    }

    fn http(&self) -> fastconnect::HttpConfig {
        fastconnect::HttpConfig {
            timeout_ms: self.timeout_ms,
            token_refresh_margin_secs: self.refresh_margin_secs,
            ..fastconnect::HttpConfig::default()
        }
    }
}

/// Why no token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `ssi.enabled` is off.
    #[error("the config service does not manage SSI tokens (ssi.enabled is off)")]
    Disabled,
    /// Not a kind of the configured generation.
    #[error("{0}")]
    Invalid(String),
    /// The caller may not have SSI tokens.
    #[error("{0}")]
    Forbidden(String),
    /// A credential is missing.
    #[error("{0}")]
    Credentials(String),
    /// SSI refused or could not be reached.
    #[error("logging in to SSI for a {kind} token")]
    Ssi {
        /// The kind asked for.
        kind: TokenKind,
        /// SSI's answer.
        #[source]
        source: fastconnect::Error,
    },
    /// Reading the credentials or writing the audit.
    #[error(transparent)]
    Config(#[from] crate::service::Error),
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        Error::Config(e.into())
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Disabled | Error::Credentials(_) => Kind::FailedPrecondition,
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::Forbidden(_) => Kind::PermissionDenied,
            // The caller cannot fix SSI's refusal of our credentials: a precondition.
            Error::Ssi { source, .. } => match source.kind() {
                fastconnect::ErrorKind::Auth | fastconnect::ErrorKind::Rejected => {
                    Kind::FailedPrecondition
                }
                fastconnect::ErrorKind::RateLimited => Kind::ResourceExhausted,
                fastconnect::ErrorKind::Transport
                | fastconnect::ErrorKind::InvalidResponse
                | fastconnect::ErrorKind::InvalidInput => Kind::Unavailable,
            },
            Error::Config(e) => e.kind(),
        }
    }
}

/// One kind's token and what happened to it.
#[derive(Default)]
struct Slot {
    token: Option<IssuedToken>,
    obtained_at: Option<OffsetDateTime>,
    /// The credential versions the token was obtained with.
    versions: Vec<u64>,
    /// Asked for at least once: the background check keeps it fresh.
    wanted: bool,
    renewals: u64,
    failures: u64,
    last_error: Option<String>,
    /// The v3 session (kept: it renews with its refresh token).
    v3: Option<fastconnect::v3::Client>,
}

/// What ops see of one kind (never the token).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenStatus {
    /// `data`, `trading` or `v3`.
    pub kind: String,
    /// Whether a token is held.
    pub held: bool,
    /// When it expires (Unix seconds; 0 when none).
    pub expires_at: u64,
    /// When it was obtained (RFC 3339), when held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obtained_at: Option<String>,
    /// Tokens obtained since start.
    pub renewals: u64,
    /// Failed logins since start.
    pub failures: u64,
    /// The last failure, if the last login failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The credential names this kind uses and whether each is held.
    pub credentials: BTreeMap<String, bool>,
}

struct Metrics {
    expires_at: IntGaugeVec,
    logins: IntCounterVec,
}

/// The fleet's SSI tokens. Cheap to clone.
#[derive(Clone)]
pub struct SsiTokens {
    inner: Arc<Inner>,
}

struct Inner {
    settings: SsiSettings,
    config: Config,
    slots: BTreeMap<&'static str, Mutex<Slot>>,
    metrics: Metrics,
}

impl std::fmt::Debug for SsiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsiTokens")
            .field("generation", &self.inner.settings.generation)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}

impl SsiTokens {
    /// The tokens of `settings`' generation, credentials read from `config`'s own secrets,
    /// metrics registered in `registry`.
    pub fn new(settings: SsiSettings, config: Config, registry: &Registry) -> anyhow::Result<Self> {
        let expires_at = IntGaugeVec::new(
            Opts::new(
                "config_ssi_token_expires_at_seconds",
                "When the SSI token the config service holds expires (Unix seconds; 0: none)",
            ),
            &["kind"],
        )?;
        let logins = IntCounterVec::new(
            Opts::new(
                "config_ssi_logins_total",
                "SSI logins made by the config service for the fleet's tokens",
            ),
            &["kind", "outcome"],
        )?;
        registry.register(Box::new(expires_at.clone()))?;
        registry.register(Box::new(logins.clone()))?;
        let slots = settings
            .kinds()
            .iter()
            .map(|k| (k.as_str(), Mutex::new(Slot::default())))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                config,
                slots,
                metrics: Metrics { expires_at, logins },
            }),
        })
    }

    /// Whether tokens are handed out.
    pub fn enabled(&self) -> bool {
        self.inner.settings.enabled
    }

    /// Seals `ssi.seed` credentials the store does not hold yet.
    pub async fn seed(&self) -> Result<(), Error> {
        if self.inner.settings.seed.is_empty() {
            return Ok(());
        }
        let held = self.held_versions().await?;
        let seeder = Principal {
            subject: crate::SPEC.name.to_owned(),
            username: "config (ssi.seed)".to_owned(),
            roles: Vec::new(),
            accounts: Vec::new(),
        };
        for (key, value) in &self.inner.settings.seed {
            let Some(name) = seed_name(key) else {
                continue;
            };
            if !held.contains_key(name) && !value.expose_secret().is_empty() {
                self.inner
                    .config
                    .set_secret(Some(&seeder), crate::SPEC.name, name, value)
                    .await?;
            }
        }
        Ok(())
    }

    /// Name -> version of the config service's own secrets.
    async fn held_versions(&self) -> Result<BTreeMap<String, u64>, Error> {
        Ok(self
            .inner
            .config
            .secrets(Some(crate::SPEC.name))
            .await?
            .into_iter()
            .map(|m| (m.name, m.version))
            .collect())
    }

    fn slot(&self, kind: &str) -> Result<(TokenKind, &Mutex<Slot>), Error> {
        let parsed = TokenKind::parse(kind);
        match parsed.and_then(|k| self.inner.slots.get(k.as_str()).map(|s| (k, s))) {
            Some(found) => Ok(found),
            None => Err(Error::Invalid(format!(
                "token kind {kind:?}: the config service manages {} for FastConnect {}",
                self.inner
                    .settings
                    .kinds()
                    .iter()
                    .map(|k| format!("{:?}", k.as_str()))
                    .collect::<Vec<_>>()
                    .join(" and "),
                self.inner.settings.generation
            ))),
        }
    }

    /// Why `caller` may not have SSI tokens; `None`: it may.
    fn refusal(&self, caller: Option<&Principal>) -> Option<String> {
        match caller {
            None => Some(
                "tokens are not checked (auth.enabled is off), so no caller is known to be one of ssi.clients"
                    .to_owned(),
            ),
            Some(p) if !p.roles.iter().any(|r| r == "service") => Some(format!(
                "{} is not a service account; only the services of ssi.clients receive SSI tokens",
                p.username
            )),
            Some(p) if !self.inner.settings.clients.contains(&p.username) => Some(format!(
                "{} is not among ssi.clients ({})",
                p.username,
                self.inner.settings.clients.join(", ")
            )),
            Some(_) => None,
        }
    }

    async fn audit(&self, actor: &str, kind: &str, allowed: bool, detail: String) {
        let entry = AuditEntry {
            at: Timestamp::now().into(),
            actor: actor.to_owned(),
            action: "ssi.token".to_owned(),
            service: crate::SPEC.name.to_owned(),
            target: kind.to_owned(),
            allowed,
            detail,
        };
        if let Err(e) = store::audit(self.inner.config.db(), &entry).await {
            tracing::error!(error = %common::error::chain(&e), kind, "could not audit an SSI token event");
        }
    }

    /// A token of `kind` for `caller`, not `rejected`: the held one while it has more than the
    /// margin left and its credentials are unchanged, else a new one.
    #[tracing::instrument(skip_all, fields(kind = %kind), err(level = "info"))]
    pub async fn token(
        &self,
        caller: Option<&Principal>,
        kind: &str,
        rejected: Option<&SecretString>,
    ) -> Result<IssuedToken, Error> {
        if !self.enabled() {
            return Err(Error::Disabled);
        }
        let (kind, slot) = self.slot(kind)?;
        let actor = caller.map_or("anonymous", |p| p.username.as_str());
        if let Some(why) = self.refusal(caller) {
            self.audit(actor, kind.as_str(), false, format!("refused: {why}"))
                .await;
            return Err(Error::Forbidden(why));
        }
        let mut slot = slot.lock().await;
        slot.wanted = true;
        let versions = self.versions(kind).await?;
        let reusable = slot.token.as_ref().filter(|t| {
            t.expires_at > unix_now() + self.inner.settings.refresh_margin_secs
                && slot.versions == versions
                && rejected.is_none_or(|r| r.expose_secret() != t.value.expose_secret())
        });
        if let Some(t) = reusable {
            return Ok(t.clone());
        }
        let why = match (&slot.token, rejected) {
            (Some(t), Some(r)) if r.expose_secret() == t.value.expose_secret() => {
                "SSI refused the held token"
            }
            (Some(_), _) if slot.versions != versions => "the credentials changed",
            (Some(_), _) => "the held token is due",
            (None, _) => "none held",
        };
        self.renew(&mut slot, kind, versions, rejected, actor, why)
            .await
    }

    /// The versions of `kind`'s credentials (0 where not held), in [`CREDENTIALS`] order.
    async fn versions(&self, kind: TokenKind) -> Result<Vec<u64>, Error> {
        let held = self.held_versions().await?;
        let (required, optional) = credential_names(kind);
        Ok(required
            .iter()
            .chain(optional)
            .map(|n| held.get(*n).copied().unwrap_or(0))
            .collect())
    }

    async fn renew(
        &self,
        slot: &mut Slot,
        kind: TokenKind,
        versions: Vec<u64>,
        rejected: Option<&SecretString>,
        actor: &str,
        why: &str,
    ) -> Result<IssuedToken, Error> {
        let result = self.login(slot, kind, &versions, rejected).await;
        self.record(slot, kind, versions, &result, actor, why).await;
        result
    }

    /// Keeps, counts, logs and audits the outcome of a login for `kind`.
    async fn record(
        &self,
        slot: &mut Slot,
        kind: TokenKind,
        versions: Vec<u64>,
        result: &Result<IssuedToken, Error>,
        actor: &str,
        why: &str,
    ) {
        let label = kind.as_str();
        match result {
            Ok(t) => {
                slot.token = Some(t.clone());
                slot.obtained_at = Some(OffsetDateTime::now_utc());
                slot.versions = versions;
                slot.renewals += 1;
                slot.last_error = None;
                self.inner
                    .metrics
                    .expires_at
                    .with_label_values(&[label])
                    .set(i64::try_from(t.expires_at).unwrap_or(i64::MAX));
                self.inner
                    .metrics
                    .logins
                    .with_label_values(&[label, "ok"])
                    .inc();
                tracing::info!(
                    kind = label,
                    expires_at = t.expires_at,
                    trading = t.trading,
                    why,
                    "SSI token obtained for the fleet"
                );
                let scope = if t.trading {
                    "can trade"
                } else {
                    "cannot trade"
                };
                self.audit(
                    actor,
                    label,
                    true,
                    format!("new token ({why}; {scope}), expires at {}", t.expires_at),
                )
                .await;
            }
            Err(e) => {
                let text = common::error::chain(e).to_string();
                slot.failures += 1;
                slot.last_error = Some(text.clone());
                self.inner
                    .metrics
                    .logins
                    .with_label_values(&[label, "failed"])
                    .inc();
                tracing::warn!(kind = label, error = %text, why, "no SSI token for the fleet");
                self.audit(actor, label, true, format!("login failed ({why}): {text}"))
                    .await;
            }
        }
    }

    /// The credentials of `kind`: required ones (an error naming the first missing one), then
    /// optional ones (`None` when not held).
    async fn credentials(
        &self,
        kind: TokenKind,
    ) -> Result<(Vec<SecretString>, Vec<Option<SecretString>>), Error> {
        let (required, optional) = credential_names(kind);
        let mut have = Vec::new();
        for name in required {
            match self.inner.config.own_secret(name).await? {
                Some((_, v)) => have.push(v),
                None => {
                    return Err(Error::Credentials(format!(
                        "the config service holds no {name}: an admin sets it with PUT /api/config/v1/secrets/config/{name}"
                    )));
                }
            }
        }
        let mut maybe = Vec::new();
        for name in optional {
            maybe.push(self.inner.config.own_secret(name).await?.map(|(_, v)| v));
        }
        Ok((have, maybe))
    }

    async fn login(
        &self,
        slot: &mut Slot,
        kind: TokenKind,
        versions: &[u64],
        rejected: Option<&SecretString>,
    ) -> Result<IssuedToken, Error> {
        let settings = &self.inner.settings;
        let ssi = |source| Error::Ssi { kind, source };
        match kind {
            TokenKind::Data => {
                let (have, _) = self.credentials(kind).await?;
                let [id, secret] = <[SecretString; 2]>::try_from(have)
                    .map_err(|_| Error::Credentials("two data credentials".to_owned()))?;
                let mut config = fastconnect::DataConfig::new(id.expose_secret(), secret);
                config.url = settings.data_url.clone();
                config.http = settings.http();
                let client = fastconnect::DataClient::new(config).map_err(ssi)?;
                client.issue_token().await.map_err(ssi)
            }
            TokenKind::Trading => {
                let (have, maybe) = self.credentials(kind).await?;
                let [id, secret] = <[SecretString; 2]>::try_from(have)
                    .map_err(|_| Error::Credentials("two trading credentials".to_owned()))?;
                // No private key: AccessToken is not signed, and orders are the OMS's.
                let mut config = fastconnect::TradingConfig::new(
                    id.expose_secret(),
                    secret,
                    SecretString::from(String::new()),
                );
                config.url = settings.trading_url.clone();
                config.http = settings.http();
                config.pin = maybe.into_iter().next().flatten();
                config.two_factor = fastconnect::TwoFactorType::Pin;
                fastconnect::trading::issue_token(&config)
                    .await
                    .map_err(ssi)
            }
            TokenKind::V3 => {
                let client = self.v3_client(slot, versions).await?;
                if let Some(r) = rejected {
                    client.token_refused(r).await;
                }
                client.issue_token().await.map_err(ssi)
            }
        }
    }

    /// The v3 session's client, kept while the credentials are unchanged: it renews with its
    /// refresh token instead of logging in (and so out) again.
    async fn v3_client(
        &self,
        slot: &mut Slot,
        versions: &[u64],
    ) -> Result<fastconnect::v3::Client, Error> {
        if slot.versions.as_slice() != versions {
            slot.v3 = None;
        }
        if let Some(c) = &slot.v3 {
            return Ok(c.clone());
        }
        let (have, _) = self.credentials(TokenKind::V3).await?;
        let [key, secret] = <[SecretString; 2]>::try_from(have)
            .map_err(|_| Error::Credentials("two v3 credentials".to_owned()))?;
        let mut config = fastconnect::v3::Config::new(key.expose_secret(), secret);
        config.api_url = self.inner.settings.api_url.clone();
        config.http = self.inner.settings.http();
        let c = fastconnect::v3::Client::new(config).map_err(|source| Error::Ssi {
            kind: TokenKind::V3,
            source,
        })?;
        slot.v3 = Some(c.clone());
        Ok(c)
    }

    /// The v3 slot, for an OTP request or login by `caller` (checked and refusals audited).
    async fn otp_slot(
        &self,
        caller: Option<&Principal>,
        kind: &str,
        what: &str,
    ) -> Result<&Mutex<Slot>, Error> {
        if !self.enabled() {
            return Err(Error::Disabled);
        }
        let (kind, slot) = self.slot(kind)?;
        if kind != TokenKind::V3 {
            return Err(Error::Invalid(
                "OTP logins through the config service are for the v3 session; a v2 trading OTP login is the OMS's own".to_owned(),
            ));
        }
        let actor = caller.map_or("anonymous", |p| p.username.as_str());
        if let Some(why) = self.refusal(caller) {
            self.audit(
                actor,
                kind.as_str(),
                false,
                format!("{what} refused: {why}"),
            )
            .await;
            return Err(Error::Forbidden(why));
        }
        Ok(slot)
    }

    /// Asks SSI for an OTP for the v3 session (SMS/e-mail, or a Smart-OTP transaction).
    pub async fn request_otp(
        &self,
        caller: Option<&Principal>,
        kind: &str,
    ) -> Result<fastconnect::v3::OtpChallenge, Error> {
        let slot = self.otp_slot(caller, kind, "OTP request").await?;
        let mut slot = slot.lock().await;
        let versions = self.versions(TokenKind::V3).await?;
        let client = self.v3_client(&mut slot, &versions).await?;
        let actor = caller.map_or("anonymous", |p| p.username.as_str());
        let answer = client.request_otp().await;
        let detail = match &answer {
            Ok(c) if c.transaction_id.is_some() => {
                "OTP requested: a Smart-OTP transaction".to_owned()
            }
            Ok(_) => "OTP requested: a code by SMS/e-mail".to_owned(),
            Err(e) => format!("OTP request failed: {}", common::error::chain(e)),
        };
        self.audit(actor, "v3", true, detail).await;
        answer.map_err(|source| Error::Ssi {
            kind: TokenKind::V3,
            source,
        })
    }

    /// Logs the v3 session in with `code` (a six-digit OTP or an approved Smart-OTP
    /// transaction id): from then on the fleet's v3 token can trade.
    pub async fn login_otp(
        &self,
        caller: Option<&Principal>,
        kind: &str,
        code: &SecretString,
    ) -> Result<IssuedToken, Error> {
        let slot = self.otp_slot(caller, kind, "OTP login").await?;
        let mut slot = slot.lock().await;
        slot.wanted = true;
        let versions = self.versions(TokenKind::V3).await?;
        let client = self.v3_client(&mut slot, &versions).await?;
        let text = code.expose_secret();
        let login = if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
            client.login_otp(code).await
        } else {
            client.login_smart_otp(text).await
        };
        let result = match login {
            Ok(_) => client.issue_token().await,
            Err(e) => Err(e),
        }
        .map_err(|source| Error::Ssi {
            kind: TokenKind::V3,
            source,
        });
        let actor = caller.map_or("anonymous", |p| p.username.as_str());
        self.record(
            &mut slot,
            TokenKind::V3,
            versions,
            &result,
            actor,
            "OTP login",
        )
        .await;
        result
    }

    /// Renews every wanted token that is due (less than the margin left).
    pub async fn refresh_due(&self) {
        for (name, slot) in &self.inner.slots {
            let mut slot = slot.lock().await;
            let due = slot.wanted
                && slot.token.as_ref().is_none_or(|t| {
                    t.expires_at <= unix_now() + self.inner.settings.refresh_margin_secs
                });
            if !due {
                continue;
            }
            let Some(kind) = TokenKind::parse(name) else {
                continue;
            };
            let versions = match self.versions(kind).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(kind = name, error = %common::error::chain(&e), "SSI token check");
                    continue;
                }
            };
            // Failures are logged, counted and audited in `renew`; the next check retries.
            let _ = self
                .renew(&mut slot, kind, versions, None, crate::SPEC.name, "due")
                .await;
        }
    }

    /// Renews due tokens every `ssi.check_interval_secs` until `token` is cancelled.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        let every = Duration::from_secs(self.inner.settings.check_interval_secs);
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(every) => self.refresh_due().await,
            }
        }
    }

    /// What ops see of every kind.
    pub async fn status(&self) -> Result<Vec<TokenStatus>, Error> {
        let held = self.held_versions().await?;
        let mut out = Vec::new();
        for (name, slot) in &self.inner.slots {
            let slot = slot.lock().await;
            let kind = TokenKind::parse(name).unwrap_or(TokenKind::Data);
            let (required, optional) = credential_names(kind);
            let token = slot.token.as_ref().filter(|t| t.expires_at > unix_now());
            out.push(TokenStatus {
                kind: (*name).to_owned(),
                held: token.is_some(),
                expires_at: token.map_or(0, |t| t.expires_at),
                obtained_at: slot.obtained_at.filter(|_| token.is_some()).and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
                renewals: slot.renewals,
                failures: slot.failures,
                last_error: slot.last_error.clone(),
                credentials: required
                    .iter()
                    .chain(optional)
                    .map(|n| ((*n).to_owned(), held.contains_key(*n)))
                    .collect(),
            });
        }
        Ok(out)
    }
}
