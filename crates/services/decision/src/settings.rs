//! Settings of the decision service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

use crate::domain::{SignalFollower, Sizing};

/// The decision service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// Where orders go.
    pub decision: DecisionSettings,
    /// The strategies.
    pub strategies: Vec<StrategyConfig>,
    /// The rule service's rule sets (target `decision`), evaluated on every decision.
    pub rules: rules::RulesSettings,
}

/// Where orders go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionSettings {
    /// The account the strategies trade; empty: the OMS's first cash account.
    pub account: String,
    /// Every strategy trades, whatever its own `enabled` says (`qts up` sets it with its
    /// simulator: paper trading by default). Switches made through the API still win.
    pub enable_all: bool,
    /// Longest wait for the OMS.
    pub oms_timeout_ms: u64,
    /// Most decisions one list call answers.
    pub max_list: u32,
}

/// One strategy.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Id (orders carry it).
    pub id: String,
    /// Trades when true.
    pub enabled: bool,
    /// Signal names that buy.
    pub buy_on: Vec<String>,
    /// Signal names that sell.
    #[serde(default)]
    pub sell_on: Vec<String>,
    /// Timeframes it listens to (empty: all).
    #[serde(default)]
    pub timeframes: Vec<String>,
    /// Symbols it trades (empty: all).
    #[serde(default)]
    pub symbols: Vec<String>,
    /// How a buy is sized.
    pub sizing: Sizing,
}

impl StrategyConfig {
    /// The strategy this configures (symbols that do not parse are left out; settings checks
    /// report them).
    pub fn follower(&self) -> SignalFollower {
        SignalFollower {
            id: self.id.clone(),
            buy_on: self.buy_on.clone(),
            sell_on: self.sell_on.clone(),
            timeframes: self.timeframes.clone(),
            symbols: self
                .symbols
                .iter()
                .filter_map(|x| market::Symbol::parse(x).ok())
                .collect(),
            sizing: self.sizing.clone(),
            lot: 100,
        }
    }
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        self.rules.check("rules", problems);
        if !(100..=300_000).contains(&self.decision.oms_timeout_ms) {
            problems.push("decision.oms_timeout_ms must be between 100 and 300000".to_owned());
        }
        if !(1..=10_000).contains(&self.decision.max_list) {
            problems.push("decision.max_list must be between 1 and 10000".to_owned());
        }
        check_strategies(&self.strategies, problems);
    }
}

/// The problems of `strategies` (ids, signals, sizing, symbols), as settings checks report
/// them; the backtest's configuration is checked by the same rules.
pub fn check_strategies(strategies: &[StrategyConfig], problems: &mut Vec<String>) {
    let mut ids = std::collections::HashSet::new();
    for s in strategies {
        let ok = !s.id.is_empty()
            && s.id.len() <= 32
            && s.id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            problems.push(format!(
                "strategies: id {:?}: 1 to 32 of [A-Za-z0-9._-]",
                s.id
            ));
        }
        if !ids.insert(s.id.clone()) {
            problems.push(format!("strategies: {} twice", s.id));
        }
        if s.buy_on.is_empty() {
            problems.push(format!("strategies.{}: buy_on is empty", s.id));
        }
        if let Err(e) = s.sizing.check() {
            problems.push(format!("strategies.{}: {e}", s.id));
        }
        for sym in &s.symbols {
            if market::Symbol::parse(sym).is_err() {
                problems.push(format!("strategies.{}: symbol {sym:?}", s.id));
            }
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
