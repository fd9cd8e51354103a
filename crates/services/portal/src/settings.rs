//! Settings of the portal service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The portal service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The price board.
    pub board: BoardSettings,
}

/// `[board]`: how the price board streams.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSettings {
    /// At most one line of changed rows per this many milliseconds per browser.
    pub stream_interval_ms: u64,
    /// An empty line after this many seconds without a change (keeps proxies from closing).
    pub heartbeat_secs: u64,
    /// Streams one instance serves at once; more answer 503.
    pub max_streams: usize,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let b = &self.board;
        if !(20..=5_000).contains(&b.stream_interval_ms) {
            problems.push("board.stream_interval_ms must be between 20 and 5000".to_owned());
        }
        if !(1..=300).contains(&b.heartbeat_secs) {
            problems.push("board.heartbeat_secs must be between 1 and 300".to_owned());
        }
        if !(1..=100_000).contains(&b.max_streams) {
            problems.push("board.max_streams must be between 1 and 100000".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
