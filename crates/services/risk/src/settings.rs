//! Settings of the risk service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

use crate::domain::Limits;
use crate::domain::monitor::Breakers;

/// The risk service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The default limits of every account and strategy.
    pub default_limits: Limits,
    /// How checks are served.
    pub checks: CheckSettings,
    /// The symbol and market-wide breakers.
    pub breakers: Breakers,
    /// How the monitor reports.
    pub monitor: MonitorSettings,
    /// The rule service's rule sets (target `order`), evaluated in every check.
    pub rules: rules::RulesSettings,
}

/// How the monitor reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSettings {
    /// How often alerts are looked for and the gauges set, milliseconds.
    pub interval_ms: u64,
    /// A limit used to this percentage raises a warning alert.
    pub warn_percent: u32,
}

/// How checks are served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// Longest wait for the first catch-up on the bus before the service serves anyway
    /// (logging that its state may be incomplete).
    pub catch_up_timeout_secs: u64,
    /// Longest text field of a request.
    pub max_text: usize,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        self.rules.check("rules", problems);
        if let Err(e) = self.default_limits.check() {
            problems.push(format!("default_limits: {e}"));
        }
        if let Err(e) = self.breakers.check() {
            problems.push(format!("breakers: {e}"));
        }
        if !(100..=60_000).contains(&self.monitor.interval_ms) {
            problems.push("monitor.interval_ms must be between 100 and 60000".to_owned());
        }
        if !(1..=100).contains(&self.monitor.warn_percent) {
            problems.push("monitor.warn_percent must be between 1 and 100".to_owned());
        }
        if !(1..=3_600).contains(&self.checks.catch_up_timeout_secs) {
            problems.push("checks.catch_up_timeout_secs must be between 1 and 3600".to_owned());
        }
        if !(8..=1_024).contains(&self.checks.max_text) {
            problems.push("checks.max_text must be between 8 and 1024".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_load_and_a_zero_duplicate_window_is_off() {
        let s = Settings::load_from(
            crate::SPEC,
            DEFAULTS,
            &common::settings::Sources {
                file: None,
                overlay: None,
                env: [(
                    "RISK__DEFAULT_LIMITS__FAT_FINGER_BPS".to_owned(),
                    "0".to_owned(),
                )]
                .into(),
            },
        );
        let err = s.unwrap_err();
        assert!(err.to_string().contains("fat_finger_bps"), "{err}");
        let s = Settings::load_from(
            crate::SPEC,
            DEFAULTS,
            &common::settings::Sources {
                file: None,
                overlay: None,
                env: Default::default(),
            },
        )
        .unwrap();
        assert_eq!(s.own.default_limits.max_order_quantity, Some(500_000));
        assert_eq!(s.own.default_limits.effective().duplicate_window_secs, None);
    }
}
