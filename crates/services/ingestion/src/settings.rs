//! Settings of the ingestion service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The ingestion service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The broker whose feed is ingested (`broker::Settings`: `generation = "v2" | "v3"` and
    /// its credentials). Absent: the service runs without a feed (state `disabled`) and still
    /// normalises what `qts replay` publishes to `market.raw.v1`.
    #[serde(default, deserialize_with = "broker::settings::optional_from_layers")]
    pub broker: Option<broker::Settings>,
    /// When and how the feed connects.
    pub feed: FeedSettings,
    /// Validation of the raw feed.
    pub normalise: NormaliseSettings,
    /// The snapshot API.
    pub api: ApiSettings,
}

/// When and how the feed connects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSettings {
    /// Connect this many minutes (market clock) before the first session of a trading day.
    pub connect_lead_minutes: u32,
    /// Stay connected this many minutes after the last session ends.
    pub linger_minutes: u32,
    /// First wait before reconnecting after the stream failed; doubles up to `reconnect_max_ms`.
    pub reconnect_min_ms: u64,
    /// Longest wait between reconnects.
    pub reconnect_max_ms: u64,
    /// Most messages received at once that go to the bus in one batch (many in flight).
    pub batch_max: usize,
}

/// Validation of the raw feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormaliseSettings {
    /// How far (market seconds) outside the day's sessions, or ahead of its receive time, an
    /// exchange time may be before the message is rejected as `bad_time`.
    pub time_margin_secs: u32,
    /// How long (wall seconds) to hold the feed when master data has not published the
    /// trading day's securities yet; after it, messages are checked against what is known.
    pub reference_wait_secs: u64,
    /// Commit the raw topic's offsets at least this often (messages).
    pub commit_every: u32,
    /// Most raw messages normalised together; their outputs go to the bus in one batch.
    pub batch_max: usize,
}

/// The snapshot API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// Most symbols in one snapshot request.
    pub max_symbols: usize,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let f = &self.feed;
        if f.reconnect_min_ms == 0 || f.reconnect_max_ms < f.reconnect_min_ms {
            problems.push(
                "feed.reconnect_min_ms must be at least 1 and at most feed.reconnect_max_ms"
                    .to_owned(),
            );
        }
        if f.connect_lead_minutes > 600 || f.linger_minutes > 600 {
            problems.push(
                "feed.connect_lead_minutes and feed.linger_minutes must be at most 600".to_owned(),
            );
        }
        if !(1..=10_000).contains(&f.batch_max) || !(1..=10_000).contains(&self.normalise.batch_max)
        {
            problems.push(
                "feed.batch_max and normalise.batch_max must be between 1 and 10000".to_owned(),
            );
        }
        if self.normalise.commit_every == 0 {
            problems.push("normalise.commit_every must be at least 1".to_owned());
        }
        if !(1..=5000).contains(&self.api.max_symbols) {
            problems.push("api.max_symbols must be between 1 and 5000".to_owned());
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

    fn load(env: &[(&str, &str)]) -> Result<Settings, common::settings::Error> {
        Settings::load_from(
            crate::SPEC,
            DEFAULTS,
            &common::settings::Sources {
                file: None,
                overlay: None,
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            },
        )
    }

    #[test]
    fn the_broker_comes_from_the_environment_even_with_numeric_looking_values() {
        assert!(load(&[]).unwrap().own.broker.is_none());
        let s = load(&[
            ("INGESTION__BROKER__GENERATION", "v2"),
            ("INGESTION__BROKER__DATA__URL", "http://127.0.0.1:1/"),
            ("INGESTION__BROKER__DATA__CONSUMER_ID", "12345"),
            ("INGESTION__BROKER__DATA__CONSUMER_SECRET", "67890"),
        ])
        .unwrap();
        let Some(broker::Settings::V2(v2)) = s.own.broker else {
            panic!("a v2 broker")
        };
        assert_eq!(v2.data.consumer_id, "12345");
        let err = load(&[("INGESTION__BROKER__GENERATION", "v4")]).unwrap_err();
        assert!(err.to_string().contains("v4"), "{err}");
    }
}
