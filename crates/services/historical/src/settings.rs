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
    #[serde(default, deserialize_with = "broker::settings::optional_from_layers")]
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

#[cfg(test)]
mod tests {
    use common::settings::Sources;

    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, common::settings::Error> {
        Settings::load_from(
            crate::SPEC,
            DEFAULTS,
            &Sources {
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
    fn broker_keys_from_the_environment_deserialize_as_qts_up_sets_them() {
        let s = load(&[
            ("HISTORICAL__BROKER__GENERATION", "v2"),
            ("HISTORICAL__BROKER__DATA__URL", "http://127.0.0.1:18400"),
            (
                "HISTORICAL__BROKER__DATA__HUB_URL",
                "http://127.0.0.1:18400",
            ),
            ("HISTORICAL__BROKER__DATA__CONSUMER_ID", "12345"),
            ("HISTORICAL__BROKER__DATA__CONSUMER_SECRET", "secret"),
            ("HISTORICAL__BROKER__DATA__HTTP__TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        let Some(broker::Settings::V2(v2)) = s.own.broker else {
            unreachable!("expected v2 settings, got {:?}", s.own.broker)
        };
        assert_eq!(v2.data.url, "http://127.0.0.1:18400");
        assert_eq!(v2.data.consumer_id, "12345", "a numeric id stays text");
        assert_eq!(v2.data.http.timeout_ms, 1500);
        assert!(v2.trading.is_none());

        let s = load(&[
            ("HISTORICAL__BROKER__GENERATION", "v3"),
            ("HISTORICAL__BROKER__API_KEY", "key"),
            ("HISTORICAL__BROKER__API_SECRET", "secret"),
            ("HISTORICAL__BROKER__API_URL", "http://127.0.0.1:18401"),
        ])
        .unwrap();
        assert!(matches!(s.own.broker, Some(broker::Settings::V3(_))));
    }

    #[test]
    fn without_a_broker_section_there_is_none_and_bad_values_are_named() {
        assert!(load(&[]).unwrap().own.broker.is_none());
        let err = load(&[
            ("HISTORICAL__BARS__BATCH_SIZE", "0"),
            ("HISTORICAL__BACKFILL__REQUESTS_PER_SECOND", "0"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("bars.batch_size"), "{err}");
        assert!(err.contains("backfill.requests_per_second"), "{err}");
    }
}
