//! Settings of the sso-ui service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

/// The sso-ui service's own settings sections: none yet. A section is a field of a
/// `#[serde(deny_unknown_fields)]` struct here, implementing `common::settings::Sections`, with
/// its defaults in `config/default.toml`.
pub type Sections = common::settings::NoSections;

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
