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
    #[serde(default, deserialize_with = "broker::settings::optional_from_layers")]
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

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
                    .collect::<HashMap<_, _>>(),
            },
        )
    }

    #[test]
    fn without_a_broker_section_there_is_no_broker() {
        let s = load(&[]).unwrap();
        assert!(s.own.broker.is_none());
        assert!(s.own.sync.scheduled);
        assert_eq!(s.own.sync.lead_minutes, 30);
    }

    #[test]
    fn broker_env_keys_deserialize_for_both_generations() {
        let v2 = load(&[
            ("MASTER_DATA__BROKER__GENERATION", "v2"),
            ("MASTER_DATA__BROKER__DATA__URL", "http://127.0.0.1:18400"),
            (
                "MASTER_DATA__BROKER__DATA__HUB_URL",
                "http://127.0.0.1:18400",
            ),
            ("MASTER_DATA__BROKER__DATA__CONSUMER_ID", "12345"),
            ("MASTER_DATA__BROKER__DATA__CONSUMER_SECRET", "s3cret"),
        ])
        .unwrap();
        let Some(broker::Settings::V2(v2)) = v2.own.broker else {
            panic!("expected v2")
        };
        assert_eq!(v2.data.url, "http://127.0.0.1:18400");
        assert_eq!(v2.data.consumer_id, "12345", "a numeric id stays text");
        assert!(v2.trading.is_none());

        let v3 = load(&[
            ("MASTER_DATA__BROKER__GENERATION", "v3"),
            ("MASTER_DATA__BROKER__API_URL", "http://127.0.0.1:18401"),
            ("MASTER_DATA__BROKER__API_KEY", "2024"),
            ("MASTER_DATA__BROKER__API_SECRET", "secret"),
        ])
        .unwrap();
        let Some(broker::Settings::V3(v3)) = v3.own.broker else {
            panic!("expected v3")
        };
        assert_eq!(v3.client.api_url, "http://127.0.0.1:18401");
        assert_eq!(v3.client.api_key, "2024");
        assert!(v3.client.private_key.is_none(), "data only");
    }

    #[test]
    fn bad_broker_and_sync_settings_are_listed() {
        let err = load(&[("MASTER_DATA__BROKER__GENERATION", "v9")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("v9"), "{err}");
        let err = load(&[
            ("MASTER_DATA__SYNC__LEAD_MINUTES", "600"),
            ("MASTER_DATA__LOOKUP__CACHE_TTL_SECS", "0"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("sync.lead_minutes") && err.contains("lookup.cache_ttl_secs"),
            "{err}"
        );
    }
}
