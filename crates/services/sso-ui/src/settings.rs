//! Settings of the sso-ui service: the shared sections, layered as `common::settings` describes.

/// The service's settings.
pub type Settings = common::settings::ServiceSettings;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads defaults < `$SSO_UI_CONFIG` file < `SSO_UI__*` environment, and validates.
pub fn load() -> Result<Settings, common::settings::Error> {
    Settings::load(crate::SPEC, DEFAULTS)
}
