//! Settings of the config service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The config service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The master key that seals secrets at rest (AES-256-GCM; `config-master.key` when
    /// neither it nor `QTS_MASTER_KEY` is set).
    pub keys: common::crypto::KeySettings,
    /// SSI FastConnect tokens for the fleet.
    pub ssi: crate::ssi::SsiSettings,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let key = self.keys.master_key.trim();
        if !key.is_empty() && common::crypto::MasterKey::from_base64(key).is_err() {
            problems.push("keys.master_key must be the base64 of 32 bytes".to_owned());
        }
        self.ssi.check(problems);
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
