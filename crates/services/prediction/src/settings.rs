//! Settings of the prediction service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The prediction service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// What it predicts, from what, and when.
    pub prediction: PredictionSettings,
    /// How models are trained.
    pub recipe: ml::train::Recipe,
}

/// What the service predicts, from what, and when.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionSettings {
    /// Make and publish predictions (off: the service only answers portfolio optimisations and
    /// model calls on data it has).
    pub enabled: bool,
    /// The symbols predicted; empty: the constituents of `index` from master data. A list, or
    /// one string with commas (what an environment variable holds:
    /// `PREDICTION__PREDICTION__UNIVERSE=FPT,HPG,VNM`).
    #[serde(deserialize_with = "common::settings::list_or_commas")]
    pub universe: Vec<String>,
    /// The index whose constituents are the universe when `universe` is empty.
    pub index: String,
    /// Calendar days of daily bars backfilled and trained on.
    pub history_days: u32,
    /// Publish each day's predictions to `prediction.signal.v1` (off: shadow mode — they are
    /// made and served over the API, but no strategy sees them).
    pub publish: bool,
    /// Local market time (`HH:MM`) each trading day when that day's predictions are published.
    pub publish_at: String,
    /// Share of the universe, by predicted return, that is `prediction_long`.
    pub long_fraction: f64,
    /// Share of the universe, from the bottom, that is `prediction_exit`.
    pub exit_fraction: f64,
    /// Retrain once the bars held have this many labelled dates beyond the promoted model's
    /// training data (0: never on schedule; `POST /v1/models` still trains).
    pub retrain_every_days: u32,
    /// A scheduled retrain is promoted when its out-of-sample IC is at least this (the first
    /// model is promoted whatever its score, so that something predicts).
    pub promote_min_ic: f64,
    /// The model registry's directory; empty: `<data_dir>/prediction-models`.
    pub registry: String,
    /// Longest wait for a backfill of the history, seconds.
    pub backfill_timeout_s: u64,
}

impl PredictionSettings {
    /// `publish_at` as (hour, minute).
    pub fn publish_at(&self) -> Result<(u8, u8), String> {
        let bad = || format!("prediction.publish_at {:?} is not HH:MM", self.publish_at);
        let (h, m) = self.publish_at.split_once(':').ok_or_else(bad)?;
        let (h, m): (u8, u8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok((h, m))
    }
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let p = &self.prediction;
        if let Err(e) = p.publish_at() {
            problems.push(e);
        }
        if p.universe.is_empty() && p.index.trim().is_empty() {
            problems.push("prediction: name a universe or an index".to_owned());
        }
        if p.universe.len() > 2000 {
            problems.push("prediction.universe: at most 2000 symbols".to_owned());
        }
        for s in &p.universe {
            if market::Symbol::parse(s).is_err() {
                problems.push(format!("prediction.universe: {s:?} is not a symbol"));
            }
        }
        if !(30..=7300).contains(&p.history_days) {
            problems.push("prediction.history_days must be 30 to 7300".to_owned());
        }
        for (name, f) in [
            ("long_fraction", p.long_fraction),
            ("exit_fraction", p.exit_fraction),
        ] {
            if !(f > 0.0 && f <= 0.5) {
                problems.push(format!("prediction.{name} must be in (0, 0.5]"));
            }
        }
        if !p.promote_min_ic.is_finite() || p.promote_min_ic.abs() > 1.0 {
            problems.push("prediction.promote_min_ic must be in [-1, 1]".to_owned());
        }
        if !(1..=86_400).contains(&p.backfill_timeout_s) {
            problems.push("prediction.backfill_timeout_s must be 1 to 86400".to_owned());
        }
        if let Err(e) = self.recipe.check() {
            problems.push(format!("recipe: {e}"));
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
