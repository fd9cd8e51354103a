//! Settings of the emotion service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The emotion service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// What it collects and how it scores.
    pub emotion: EmotionSettings,
}

/// What the service collects and how it scores.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmotionSettings {
    /// Feeds to collect: `http(s)://` URLs, `file://` URLs or paths. A list, or one string of
    /// comma-separated feeds (what an environment variable holds).
    #[serde(deserialize_with = "common::settings::list_or_commas")]
    pub feeds: Vec<String>,
    /// Seconds between two reads of a feed.
    pub poll_secs: u64,
    /// Longest wait for a feed's answer, milliseconds.
    pub fetch_timeout_ms: u64,
    /// Largest feed document read, bytes.
    pub max_feed_bytes: usize,
    /// Half-life of an item's weight in the sentiment series, hours.
    pub half_life_hours: f64,
    /// Items remembered to find near-duplicates among.
    pub dedup_window: usize,
    /// Items per submit request.
    pub max_submit_items: usize,
    /// Longest wait at start for master data's securities, seconds.
    pub securities_wait_secs: u64,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let e = &self.emotion;
        if e.feeds.len() > 200 {
            problems.push("emotion.feeds: at most 200 feeds".to_owned());
        }
        for f in &e.feeds {
            if let Err(problem) = crate::collect::Feed::parse(f) {
                problems.push(format!("emotion.feeds: {problem}"));
            }
        }
        if !(1..=86_400).contains(&e.poll_secs) {
            problems.push("emotion.poll_secs must be 1 to 86400".to_owned());
        }
        if !(100..=300_000).contains(&e.fetch_timeout_ms) {
            problems.push("emotion.fetch_timeout_ms must be 100 to 300000".to_owned());
        }
        if !(1024..=64 << 20).contains(&e.max_feed_bytes) {
            problems.push("emotion.max_feed_bytes must be 1024 to 67108864".to_owned());
        }
        if !(e.half_life_hours.is_finite() && (0.1..=24.0 * 90.0).contains(&e.half_life_hours)) {
            problems.push("emotion.half_life_hours must be 0.1 to 2160".to_owned());
        }
        if !(10..=1_000_000).contains(&e.dedup_window) {
            problems.push("emotion.dedup_window must be 10 to 1000000".to_owned());
        }
        if !(1..=5000).contains(&e.max_submit_items) {
            problems.push("emotion.max_submit_items must be 1 to 5000".to_owned());
        }
        if e.securities_wait_secs > 3600 {
            problems.push("emotion.securities_wait_secs must be at most 3600".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
