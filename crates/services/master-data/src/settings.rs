//! Settings of the master-data service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The master-data service's own sections (defaults in `config/default.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The broker to sync from (`broker::Settings`: `generation = "v2" | "v3"` and that
    /// generation's keys). Absent: the service serves what it has stored and manual edits,
    /// and a sync answers FailedPrecondition.
    #[serde(default)]
    pub broker: Option<broker::Settings>,
    /// When and how the daily sync runs.
    pub sync: SyncSettings,
    /// Hot lookups in `backends.cache`.
    pub lookup: LookupSettings,
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Whether the daily sync runs by itself (with a broker configured).
    pub scheduled: bool,
    /// How many minutes before the day's first session (by the market clock) the daily sync
    /// runs.
    pub lead_minutes: u32,
    /// Wall-clock wait before a failed scheduled sync is tried again.
    pub retry_secs: u64,
}

/// `[lookup]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSettings {
    /// How long a cached security lives at most (change events drop it sooner).
    pub cache_ttl_secs: u64,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        if self.sync.lead_minutes > 8 * 60 {
            problems.push(format!(
                "sync.lead_minutes must be at most 480, got {}",
                self.sync.lead_minutes
            ));
        }
        if self.sync.retry_secs == 0 {
            problems.push("sync.retry_secs must be at least 1".to_owned());
        }
        if self.lookup.cache_ttl_secs == 0 {
            problems.push("lookup.cache_ttl_secs must be at least 1".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
