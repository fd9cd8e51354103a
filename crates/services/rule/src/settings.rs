//! Settings of the rule service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The rule service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// How rule sets are approved and what is kept.
    pub rule: RuleSettings,
}

/// How rule sets are approved and what is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Four eyes: a version is activated by someone other than who wrote and submitted it.
    pub four_eyes: bool,
    /// Evaluations kept (the audit trail and what a what-if replays), newest.
    pub keep_evaluations: u32,
    /// Most recorded evaluations one what-if replays.
    pub max_what_if: u32,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let r = &self.rule;
        if !(100..=10_000_000).contains(&r.keep_evaluations) {
            problems.push("rule.keep_evaluations must be 100 to 10000000".to_owned());
        }
        if !(1..=100_000).contains(&r.max_what_if) {
            problems.push("rule.max_what_if must be 1 to 100000".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
