//! Settings of the sso service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The sso service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// Access and refresh tokens, signing keys.
    pub tokens: TokenSettings,
    /// Password hashing and policy.
    pub passwords: PasswordSettings,
    /// Failed logins.
    pub lockout: LockoutSettings,
    /// Self-registration and password resets.
    pub accounts: AccountSettings,
    /// The first administrator.
    pub bootstrap: BootstrapSettings,
    /// The master key that seals signing keys and TOTP secrets at rest (AES-256-GCM;
    /// `sso-master.key` when neither it nor `QTS_MASTER_KEY` is set).
    pub keys: common::crypto::KeySettings,
}

/// Access and refresh tokens, signing keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// The issuer (`iss`): the public URL of this service's API root, as clients reach it
    /// through the gateway; the discovery document lives under it.
    pub issuer: String,
    /// The audience (`aud`) every service checks.
    pub audience: String,
    /// Lifetime of an access token, seconds.
    pub access_ttl_secs: u64,
    /// Lifetime of a login's refresh tokens (rotation does not extend it), seconds.
    pub refresh_ttl_secs: u64,
    /// A signing key older than this many days is replaced (checked hourly and at start).
    pub key_rotation_days: u32,
}

/// Password hashing (Argon2id) and policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    /// Argon2id memory, KiB (OWASP: 19456 with 2 iterations).
    pub memory_kib: u32,
    /// Argon2id iterations.
    pub iterations: u32,
    /// Shortest password accepted.
    pub min_length: usize,
}

/// Failed logins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutSettings {
    /// Failed logins in a row that lock the user.
    pub max_failures: u32,
    /// How long a lock lasts, seconds.
    pub lock_secs: u64,
    /// Login attempts per user name per minute (the cache counts them: Redis in production,
    /// in memory embedded); beyond it, refused before the password is checked.
    pub attempts_per_minute: u32,
}

/// Self-registration and password resets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Anyone may register as a trader (with no broker accounts until an admin gives some).
    pub registration_open: bool,
    /// Lifetime of a password reset token, seconds.
    pub reset_ttl_secs: u64,
}

/// The first administrator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSettings {
    /// With no user at all, the service creates user `admin` with this password; empty: the
    /// `QTS_ADMIN_PASSWORD` environment variable, else a generated one printed once.
    pub admin_password: String,
    /// Service accounts made (or given this secret) at every start: client id → secret, each
    /// with the `service` role. `qts up` makes one per service; in a cluster each comes from
    /// the secret store, and the service gets the same one as `auth.client_secret`.
    #[serde(default)]
    pub service_clients: std::collections::BTreeMap<String, secrecy::SecretString>,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let t = &self.tokens;
        if !(t.issuer.starts_with("http://") || t.issuer.starts_with("https://"))
            || t.issuer.ends_with('/')
        {
            problems.push("tokens.issuer must be an http(s) URL without a trailing /".to_owned());
        }
        if t.audience.trim().is_empty() {
            problems.push("tokens.audience must not be empty".to_owned());
        }
        if !(60..=86_400).contains(&t.access_ttl_secs) {
            problems.push("tokens.access_ttl_secs must be between 60 and 86400".to_owned());
        }
        if !(300..=31_536_000).contains(&t.refresh_ttl_secs) {
            problems.push("tokens.refresh_ttl_secs must be between 300 and 31536000".to_owned());
        }
        if !(1..=365).contains(&t.key_rotation_days) {
            problems.push("tokens.key_rotation_days must be between 1 and 365".to_owned());
        }
        let p = &self.passwords;
        if !(1_024..=1_048_576).contains(&p.memory_kib) || !(1..=10).contains(&p.iterations) {
            problems.push(
                "passwords.memory_kib must be 1024 to 1048576 and iterations 1 to 10".to_owned(),
            );
        }
        if !(8..=64).contains(&p.min_length) {
            problems.push("passwords.min_length must be between 8 and 64".to_owned());
        }
        let l = &self.lockout;
        if !(1..=100).contains(&l.max_failures) || !(1..=86_400).contains(&l.lock_secs) {
            problems
                .push("lockout.max_failures must be 1 to 100 and lock_secs 1 to 86400".to_owned());
        }
        if !(1..=1_000).contains(&l.attempts_per_minute) {
            problems.push("lockout.attempts_per_minute must be between 1 and 1000".to_owned());
        }
        for (id, secret) in &self.bootstrap.service_clients {
            use secrecy::ExposeSecret;
            if secret.expose_secret().len() < 16 {
                problems.push(format!(
                    "bootstrap.service_clients.{id}: a secret of at least 16 characters"
                ));
            }
        }
        if !(60..=86_400).contains(&self.accounts.reset_ttl_secs) {
            problems.push("accounts.reset_ttl_secs must be between 60 and 86400".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
