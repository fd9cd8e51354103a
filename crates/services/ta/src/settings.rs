//! Settings of the ta service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{Rule, StudyConfig, StudySet};

/// The ta service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// What is kept for every symbol and how.
    pub analysis: AnalysisSettings,
    /// The indicators kept for every symbol and timeframe.
    pub studies: Vec<Study>,
    /// The signals read off them.
    #[serde(default)]
    pub rules: Rules,
    /// On-demand computations.
    pub compute: ComputeSettings,
    /// The rule service's alert rule sets, evaluated on every closed bar.
    #[serde(default)]
    pub rule_sets: rules::RulesSettings,
}

/// What is kept for every symbol and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSettings {
    /// Timeframes kept for every symbol (`1m`, `5m`, `15m`, `30m`, `1h`, `1D`).
    pub timeframes: Vec<String>,
    /// Bars of each timeframe read from the historical service to warm a symbol up.
    pub warmup_bars: usize,
    /// Most symbols warmed up at once.
    pub warmup_concurrency: usize,
    /// Market minutes after the day's last session before its open buckets close.
    pub close_after_minutes: u32,
    /// Most bars handled together (their snapshots go to the bus in one batch).
    pub batch_max: usize,
}

/// One indicator kept for every symbol and timeframe.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// The id its values carry (`<id>.<output>` for a function with several outputs).
    pub id: String,
    /// TA-Lib's function name.
    pub function: String,
    /// Parameters by name; missing ones take TA-Lib's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
    /// The bar column a one-series function reads instead of the close (`open`, `high`,
    /// `low`, `close`, `volume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// The signal rules.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Line crossings.
    #[serde(default)]
    pub cross: Vec<CrossRule>,
    /// Levels left.
    #[serde(default)]
    pub level: Vec<LevelRule>,
    /// Bands broken.
    #[serde(default)]
    pub band: Vec<BandRule>,
    /// Channels broken, upwards on volume.
    #[serde(default)]
    pub breakout: Vec<BreakoutRule>,
}

/// `fast` crossing `slow`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CrossRule {
    /// Value id of the fast line.
    pub fast: String,
    /// Value id of the slow line.
    pub slow: String,
    /// Signal name of an upward cross.
    pub up: String,
    /// Signal name of a downward cross.
    pub down: String,
}

/// A value leaving the zone above `upper` or below `lower`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    /// Prefix of the signal names.
    pub name: String,
    /// Value id.
    pub value: String,
    /// Overbought level.
    pub upper: f64,
    /// Oversold level.
    pub lower: f64,
}

/// The close breaking out of a band.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BandRule {
    /// Prefix of the signal names.
    pub name: String,
    /// Value id of the upper band.
    pub upper: String,
    /// Value id of the lower band.
    pub lower: String,
}

/// The close breaking the previous bars' channel, upwards on volume.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakoutRule {
    /// Prefix of the signal names (`<name>_up`, `<name>_down`).
    pub name: String,
    /// Value id of the channel's top (a MAX of highs).
    pub upper: String,
    /// Value id of the channel's bottom (a MIN of lows).
    pub lower: String,
    /// Value id of the average volume (an SMA of volume).
    pub volume: String,
    /// How many times the average volume an upward break needs.
    pub factor: f64,
}

/// On-demand computations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeSettings {
    /// Most bars one request may read.
    pub max_bars: usize,
    /// Most signals one listing returns.
    pub max_signals: u32,
}

impl Sections {
    /// The configured studies and rules, checked.
    pub fn study_set(&self) -> Result<StudySet, crate::domain::ConfigError> {
        study_set(&self.studies, &self.rules)
    }

    /// The configured timeframes, parsed.
    pub fn timeframes(&self) -> Result<Vec<market::bars::Resolution>, String> {
        let mut out: Vec<market::bars::Resolution> = Vec::new();
        for t in &self.analysis.timeframes {
            let r = t.parse().map_err(|e| format!("analysis.timeframes: {e}"))?;
            if out.contains(&r) {
                return Err(format!("analysis.timeframes: {t} is listed twice"));
            }
            out.push(r);
        }
        out.sort();
        Ok(out)
    }
}

/// `studies` and `rules` as settings give them, checked into a [`StudySet`].
pub fn study_set(studies: &[Study], rules: &Rules) -> Result<StudySet, crate::domain::ConfigError> {
    let studies: Vec<StudyConfig> = studies
        .iter()
        .map(|s| StudyConfig {
            id: s.id.clone(),
            function: s.function.clone(),
            params: s.params.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            input: s.input.clone(),
        })
        .collect();
    let mut compiled = Vec::new();
    for r in &rules.cross {
        compiled.push(Rule::Cross {
            fast: r.fast.clone(),
            slow: r.slow.clone(),
            up: r.up.clone(),
            down: r.down.clone(),
        });
    }
    for r in &rules.level {
        compiled.push(Rule::Level {
            name: r.name.clone(),
            value: r.value.clone(),
            upper: r.upper,
            lower: r.lower,
        });
    }
    for r in &rules.breakout {
        compiled.push(Rule::Breakout {
            name: r.name.clone(),
            upper: r.upper.clone(),
            lower: r.lower.clone(),
            volume: r.volume.clone(),
            factor: r.factor,
        });
    }
    for r in &rules.band {
        compiled.push(Rule::Band {
            name: r.name.clone(),
            upper: r.upper.clone(),
            lower: r.lower.clone(),
        });
    }
    StudySet::new(&studies, &compiled)
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let a = &self.analysis;
        match self.timeframes() {
            Ok(t) if t.is_empty() => {
                problems.push("analysis.timeframes must list at least one".to_owned());
            }
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
        if !(1..=5000).contains(&a.warmup_bars) {
            problems.push("analysis.warmup_bars must be between 1 and 5000".to_owned());
        }
        if !(1..=64).contains(&a.warmup_concurrency) {
            problems.push("analysis.warmup_concurrency must be between 1 and 64".to_owned());
        }
        if a.close_after_minutes > 600 {
            problems.push("analysis.close_after_minutes must be at most 600".to_owned());
        }
        if !(1..=100_000).contains(&a.batch_max) {
            problems.push("analysis.batch_max must be between 1 and 100000".to_owned());
        }
        if !(1..=1_000_000).contains(&self.compute.max_bars) {
            problems.push("compute.max_bars must be between 1 and 1000000".to_owned());
        }
        if !(1..=10_000).contains(&self.compute.max_signals) {
            problems.push("compute.max_signals must be between 1 and 10000".to_owned());
        }
        if let Err(e) = self.study_set() {
            problems.push(format!("studies: {e}"));
        }
        self.rule_sets.check("rule_sets", problems);
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
