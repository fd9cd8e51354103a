//! Settings of the monitoring service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The monitoring service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// What is watched and how often.
    pub fleet: FleetSettings,
    /// Where the alerts firing are read.
    pub alertmanager: Endpoint,
    /// Where SLO status is read.
    pub prometheus: PrometheusSettings,
}

/// What is watched and how often.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSettings {
    /// Admin endpoint (`http://host:port`) by service; the rest at their Kubernetes Service.
    #[serde(default)]
    pub targets: BTreeMap<String, String>,
    /// How often every service's `/ready` is asked.
    pub probe_interval_ms: u64,
    /// How long one answer may take.
    pub probe_timeout_ms: u64,
    /// How often consumer lag is read from the bus.
    pub lag_interval_ms: u64,
    /// A stopped instance is forgotten this long after it stopped.
    pub forget_stopped_after_secs: u64,
}

/// An HTTP peer: its base URL (empty: not used) and how long it may take.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Base URL, e.g. `http://alertmanager:9093`; empty: not used.
    pub url: String,
    /// How long one request may take.
    pub timeout_ms: u64,
}

/// Prometheus, for SLO status.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSettings {
    /// Base URL, e.g. `http://prometheus:9090`; empty: SLO status is unknown.
    pub url: String,
    /// How long one query may take.
    pub timeout_ms: u64,
    /// The availability objective (0.995: 0.5% of requests may fail).
    pub slo_objective: f64,
}

fn http_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty())
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let f = &self.fleet;
        for (name, url) in &f.targets {
            if common::registry::find(name).is_none() {
                problems.push(format!("fleet.targets.{name}: no such service"));
            }
            if !http_url(url) {
                problems.push(format!(
                    "fleet.targets.{name} must be an http:// or https:// URL"
                ));
            }
        }
        if !(100..=600_000).contains(&f.probe_interval_ms) {
            problems.push("fleet.probe_interval_ms must be 100 to 600000".to_owned());
        }
        if !(50..=60_000).contains(&f.probe_timeout_ms) || f.probe_timeout_ms > f.probe_interval_ms
        {
            problems.push(
                "fleet.probe_timeout_ms must be 50 to 60000 and at most probe_interval_ms"
                    .to_owned(),
            );
        }
        if !(100..=600_000).contains(&f.lag_interval_ms) {
            problems.push("fleet.lag_interval_ms must be 100 to 600000".to_owned());
        }
        if !(60..=604_800).contains(&f.forget_stopped_after_secs) {
            problems.push("fleet.forget_stopped_after_secs must be 60 to 604800".to_owned());
        }
        for (section, url, timeout) in [
            (
                "alertmanager",
                &self.alertmanager.url,
                self.alertmanager.timeout_ms,
            ),
            (
                "prometheus",
                &self.prometheus.url,
                self.prometheus.timeout_ms,
            ),
        ] {
            if !url.is_empty() && !http_url(url) {
                problems.push(format!(
                    "{section}.url must be empty or an http:// or https:// URL"
                ));
            }
            if !(50..=60_000).contains(&timeout) {
                problems.push(format!("{section}.timeout_ms must be 50 to 60000"));
            }
        }
        let o = self.prometheus.slo_objective;
        if !(o > 0.0 && o < 1.0) {
            problems
                .push("prometheus.slo_objective must be between 0 and 1 (e.g. 0.995)".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
