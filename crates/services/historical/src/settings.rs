//! Settings of the historical service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`] (`config/default.toml`),
//! layered and validated together as `common::settings` describes.

use std::time::Duration;

use serde::Deserialize;

/// The historical service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// `[bars]`: the live bar builder.
    pub bars: BarsSettings,
    /// `[query]`: limits of the query API.
    pub query: QuerySettings,
    /// `[backfill]`: how backfills call the broker.
    pub backfill: BackfillSettings,
    /// `[broker]`: the FastConnect account backfills use; none means no backfill.
    #[serde(default)]
    pub broker: Option<broker::Settings>,
}

/// `[bars]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarsSettings {
    /// Market-clock milliseconds after a bar's end before the clock closes it.
    pub grace_ms: u64,
    /// Deliveries per transaction at most.
    pub batch_size: usize,
    /// Wall milliseconds a poll waits for the first delivery of a batch.
    pub poll_timeout_ms: u64,
}

impl BarsSettings {
    /// The loop's configuration.
    pub fn live(&self) -> crate::live::LiveConfig {
        crate::live::LiveConfig {
            grace: Duration::from_millis(self.grace_ms),
            batch: self.batch_size,
            poll_timeout: Duration::from_millis(self.poll_timeout_ms),
        }
    }
}

/// `[query]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySettings {
    /// Longest intraday range, days.
    pub max_intraday_days: u32,
    /// Longest daily range, days.
    pub max_daily_days: u32,
    /// Symbols per latest-bars request.
    pub max_symbols: usize,
}

/// `[backfill]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillSettings {
    /// Days per broker request window.
    pub window_days: u32,
    /// Broker requests per second at most.
    pub requests_per_second: f64,
    /// Attempts per request.
    pub max_attempts: u32,
    /// First retry delay.
    pub retry_backoff_ms: u64,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        if !(1..=100_000).contains(&self.bars.batch_size) {
            problems.push("bars.batch_size must be between 1 and 100000".to_owned());
        }
        if !(1..=60_000).contains(&self.bars.poll_timeout_ms) {
            problems.push("bars.poll_timeout_ms must be between 1 and 60000".to_owned());
        }
        if self.query.max_intraday_days == 0 || self.query.max_daily_days == 0 {
            problems.push(
                "query.max_intraday_days and query.max_daily_days must be positive".to_owned(),
            );
        }
        if self.query.max_symbols == 0 {
            problems.push("query.max_symbols must be positive".to_owned());
        }
        if !(1..=366).contains(&self.backfill.window_days) {
            problems.push("backfill.window_days must be between 1 and 366".to_owned());
        }
        if !(self.backfill.requests_per_second.is_finite()
            && self.backfill.requests_per_second > 0.0)
        {
            problems.push("backfill.requests_per_second must be positive".to_owned());
        }
        if self.backfill.max_attempts == 0 {
            problems.push("backfill.max_attempts must be at least 1".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
