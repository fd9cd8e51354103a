//! Settings of the sso-ui service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use std::time::Duration;

use serde::Deserialize;

use crate::domain::{Lang, safe_return_to};

/// The sso-ui service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The pages, their cookies and the session handoff.
    pub ui: UiSettings,
}

/// The pages, their cookies and the session handoff.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSettings {
    /// Cookies carry the `Secure` flag.
    pub cookie_secure: bool,
    /// Where a signed-in user lands without an acceptable `return_to` (a same-origin path).
    pub landing_path: String,
    /// `Max-Age` of the `qts_session` cookie: the SSO's refresh token lifetime, seconds.
    pub session_max_age_secs: u64,
    /// `vi` or `en`: the language when the request names none we have.
    pub default_lang: String,
    /// Timeout of every call to the SSO, milliseconds.
    pub sso_timeout_ms: u64,
    /// How long a refreshed session is kept for duplicate calls with the same cookie, seconds.
    pub dedup_secs: u64,
    /// How long a sign-in waits for its second factor, seconds.
    pub second_factor_ttl_secs: u64,
}

impl UiSettings {
    /// The default language.
    pub fn default_lang(&self) -> Lang {
        Lang::parse(&self.default_lang).unwrap_or(Lang::Vi)
    }

    /// The SSO call timeout.
    pub fn sso_timeout(&self) -> Duration {
        Duration::from_millis(self.sso_timeout_ms)
    }
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let u = &self.ui;
        if safe_return_to(&u.landing_path).is_none() {
            problems.push(
                "ui.landing_path must be a same-origin absolute path (/..., not //...)".to_owned(),
            );
        }
        if Lang::parse(&u.default_lang).is_none() {
            problems.push("ui.default_lang must be \"vi\" or \"en\"".to_owned());
        }
        if u.session_max_age_secs == 0 {
            problems.push("ui.session_max_age_secs must be positive".to_owned());
        }
        if !(100..=120_000).contains(&u.sso_timeout_ms) {
            problems.push("ui.sso_timeout_ms must be 100 to 120000".to_owned());
        }
        if !(5..=600).contains(&u.dedup_secs) {
            problems.push("ui.dedup_secs must be 5 to 600".to_owned());
        }
        if !(30..=3_600).contains(&u.second_factor_ttl_secs) {
            problems.push("ui.second_factor_ttl_secs must be 30 to 3600".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
