//! What a backtest runs: its own `[backtest]` settings and the fleet's studies, rules,
//! strategies and risk limits, in the shapes the TA, decision and risk services read them, so a
//! backtest runs what `qts up` would trade.

use decision::domain::SignalFollower;
use decision::settings::StrategyConfig;
use market::Exchange;
use risk::domain::Limits;
use serde::{Deserialize, Serialize};
use ta::domain::StudySet;
use ta::settings::{Rules, Study};

use crate::Error;

/// `[backtest]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The account's cash at the start, VND.
    pub cash: i64,
    /// Largest share of a bar's volume the strategies' orders may fill, per side.
    pub participation: f64,
    /// Exchange of symbols whose data do not name one.
    pub exchange: String,
    /// Broker sub-account.
    pub account: String,
    /// Annual risk-free rate for the Sharpe and Sortino ratios.
    pub risk_free_rate: f64,
}

/// Everything a run needs to know.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The backtest's own settings.
    pub backtest: Settings,
    /// Risk limits of the account and every strategy (the risk service's `[default_limits]`).
    pub limits: Limits,
    /// Indicators kept for every symbol (the TA service's `[[studies]]`).
    pub studies: Vec<Study>,
    /// Signals read off them (the TA service's `[rules]`).
    #[serde(default)]
    pub rules: Rules,
    /// The strategies (the decision engine's `[[strategies]]`); all of them trade.
    pub strategies: Vec<StrategyConfig>,
}

/// This crate's compiled-in `[backtest]` defaults.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

fn parse_toml(name: &str, text: &str) -> Result<toml::Table, Error> {
    text.parse::<toml::Table>()
        .map_err(|e| Error::Config(format!("{name}: {e}")))
}

impl Config {
    /// The fleet's defaults: `[backtest]` from this crate, studies and rules from the TA
    /// service, strategies from the decision engine, limits from the risk service.
    pub fn fleet() -> Result<Self, Error> {
        Self::parse("", "")
    }

    /// The fleet's defaults overlaid by `text` (a TOML file named `name`): keys of
    /// `[backtest]` one by one, every other section as a whole.
    pub fn parse(name: &str, text: &str) -> Result<Self, Error> {
        let mut table = parse_toml("backtest defaults", DEFAULTS)?;
        let ta = parse_toml("ta defaults", ta::settings::DEFAULTS)?;
        let decision = parse_toml("decision defaults", decision::settings::DEFAULTS)?;
        let risk = parse_toml("risk defaults", risk::settings::DEFAULTS)?;
        for (key, from) in [("studies", &ta), ("rules", &ta), ("strategies", &decision)] {
            if let Some(v) = from.get(key) {
                table.insert(key.to_owned(), v.clone());
            }
        }
        // The backtest replays technical signals only: a strategy following the prediction
        // service's signals would never trade here (backtesting a saved model is not built).
        if let Some(toml::Value::Array(strategies)) = table.get_mut("strategies") {
            strategies.retain(|s| {
                !s.get("buy_on")
                    .and_then(toml::Value::as_array)
                    .is_some_and(|on| {
                        on.iter()
                            .any(|n| n.as_str().is_some_and(|n| n.starts_with("prediction_")))
                    })
            });
        }
        if let Some(v) = risk.get("default_limits") {
            table.insert("limits".to_owned(), v.clone());
        }
        let own = parse_toml(name, text)?;
        for (key, value) in own {
            match (key.as_str(), table.get_mut("backtest"), value) {
                ("backtest", Some(toml::Value::Table(base)), toml::Value::Table(over)) => {
                    base.extend(over);
                }
                (_, _, value) => {
                    table.insert(key, value);
                }
            }
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(format!("{name}: {e}")))?;
        config.check()?;
        Ok(config)
    }

    /// Keeps only the strategies that follow predictions (`prediction_*` signals); when there
    /// are none, takes the decision engine's (its `prediction` strategy): what a backtest of a
    /// saved model trades.
    pub fn follow_predictions(&mut self) -> Result<(), Error> {
        let follows = |s: &StrategyConfig| s.buy_on.iter().any(|n| n.starts_with("prediction_"));
        self.strategies.retain(follows);
        if self.strategies.is_empty() {
            let decision = parse_toml("decision defaults", decision::settings::DEFAULTS)?;
            let all: Vec<StrategyConfig> = decision
                .get("strategies")
                .cloned()
                .map(toml::Value::try_into)
                .transpose()
                .map_err(|e: toml::de::Error| Error::Config(format!("decision defaults: {e}")))?
                .unwrap_or_default();
            self.strategies = all.into_iter().filter(follows).collect();
        }
        if self.strategies.is_empty() {
            return Err(Error::Config(
                "no strategy follows predictions (buy_on prediction_long)".to_owned(),
            ));
        }
        Ok(())
    }

    /// Checks the numbers and names, all problems at once.
    pub fn check(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
        let b = &self.backtest;
        if b.cash <= 0 {
            problems.push("backtest.cash must be positive".to_owned());
        }
        if !(b.participation > 0.0 && b.participation <= 1.0) {
            problems.push("backtest.participation must be in (0, 1]".to_owned());
        }
        if self.exchange().is_err() {
            problems.push(format!(
                "backtest.exchange {:?}: HOSE, HNX, UPCOM or HNXDERIV",
                b.exchange
            ));
        }
        if !(-0.5..=1.0).contains(&b.risk_free_rate) {
            problems.push("backtest.risk_free_rate must be between -0.5 and 1".to_owned());
        }
        let account_ok = !b.account.is_empty()
            && b.account.len() <= 32
            && b.account.chars().all(|c| c.is_ascii_alphanumeric());
        if !account_ok {
            problems.push("backtest.account: 1 to 32 letters and digits".to_owned());
        }
        if let Err(e) = self.limits.check() {
            problems.push(format!("limits: {e}"));
        }
        match self.study_set() {
            Err(e) => problems.push(format!("studies/rules: {e}")),
            Ok(set) => {
                for s in &self.strategies {
                    if let Some(id) = s.sizing.input()
                        && set.slot(id).is_none()
                    {
                        problems.push(format!(
                            "strategies.{}: its sizing reads {id:?}, which no study produces",
                            s.id
                        ));
                    }
                }
            }
        }
        if self.strategies.is_empty() {
            problems.push("strategies: none configured".to_owned());
        }
        decision::settings::check_strategies(&self.strategies, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(problems.join("; ")))
        }
    }

    /// The default exchange, parsed.
    pub fn exchange(&self) -> Result<Exchange, Error> {
        parse_exchange(&self.backtest.exchange)
    }

    /// The studies and rules, checked.
    pub fn study_set(&self) -> Result<StudySet, Error> {
        ta::settings::study_set(&self.studies, &self.rules).map_err(|e| Error::Config(e.0))
    }

    /// The strategies.
    pub fn followers(&self) -> Vec<SignalFollower> {
        self.strategies
            .iter()
            .map(StrategyConfig::follower)
            .collect()
    }

    /// Sets one parameter by path (what a parameter search varies):
    /// `studies.<id>.<param>`, `strategies.<id>.quantity|percent|capital`,
    /// `rules.level.<name>.upper|lower` or `backtest.participation`.
    pub fn set(&mut self, path: &str, value: f64) -> Result<(), Error> {
        let bad = |why: &str| Error::Config(format!("parameter {path}: {why}"));
        if !value.is_finite() {
            return Err(bad("the value must be a finite number"));
        }
        let parts: Vec<&str> = path.split('.').collect();
        match parts.as_slice() {
            ["studies", id, param] => {
                let study = self
                    .studies
                    .iter_mut()
                    .find(|s| s.id == *id)
                    .ok_or_else(|| bad("no study has this id"))?;
                study.params.insert((*param).to_owned(), value);
            }
            ["strategies", id, field] => {
                let s = self
                    .strategies
                    .iter_mut()
                    .find(|s| s.id == *id)
                    .ok_or_else(|| bad("no strategy has this id"))?;
                match (&mut s.sizing, *field) {
                    (decision::domain::Sizing::Fixed { quantity }, "quantity") => {
                        *quantity = value.max(0.0) as u64;
                    }
                    (decision::domain::Sizing::PercentOfCapital { percent, .. }, "percent") => {
                        *percent = value;
                    }
                    (decision::domain::Sizing::PercentOfCapital { capital, .. }, "capital") => {
                        *capital = value as i64;
                    }
                    _ => return Err(bad("the strategy's sizing has no such field")),
                }
            }
            ["rules", "level", name, bound] => {
                let rule = self
                    .rules
                    .level
                    .iter_mut()
                    .find(|r| r.name == *name)
                    .ok_or_else(|| bad("no level rule has this name"))?;
                match *bound {
                    "upper" => rule.upper = value,
                    "lower" => rule.lower = value,
                    _ => return Err(bad("upper or lower")),
                }
            }
            ["backtest", "participation"] => self.backtest.participation = value,
            _ => {
                return Err(bad(
                    "studies.<id>.<param>, strategies.<id>.quantity|percent|capital, \
                     rules.level.<name>.upper|lower or backtest.participation",
                ));
            }
        }
        Ok(())
    }
}

/// `HOSE`, `HNX`, `UPCOM` or `HNXDERIV` (any case).
pub fn parse_exchange(text: &str) -> Result<Exchange, Error> {
    match text.trim().to_ascii_uppercase().as_str() {
        "HOSE" | "HSX" => Ok(Exchange::Hose),
        "HNX" => Ok(Exchange::Hnx),
        "UPCOM" => Ok(Exchange::Upcom),
        "HNXDERIV" | "DERIVATIVES" => Ok(Exchange::HnxDeriv),
        other => Err(Error::Config(format!(
            "exchange {other:?}: HOSE, HNX, UPCOM or HNXDERIV"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_defaults_load_and_a_file_overrides_them() {
        let fleet = Config::fleet().unwrap();
        assert_eq!(fleet.backtest.cash, 10_000_000_000);
        assert!(fleet.studies.iter().any(|s| s.id == "sma200"));
        assert!(fleet.strategies.iter().any(|s| s.id == "ma-cross"));
        assert_eq!(fleet.limits.max_order_quantity, Some(500_000));
        let own = Config::parse(
            "own.toml",
            r#"
[backtest]
cash = 5000000000

[[studies]]
id = "fast"
function = "SMA"
params = { timeperiod = 5 }

[[studies]]
id = "slow"
function = "SMA"
params = { timeperiod = 20 }

[[rules.cross]]
fast = "fast"
slow = "slow"
up = "up"
down = "down"

[[strategies]]
id = "x"
enabled = true
buy_on = ["up"]
sell_on = ["down"]
sizing = { kind = "fixed", quantity = 100 }
"#,
        )
        .unwrap();
        assert_eq!(own.backtest.cash, 5_000_000_000);
        assert_eq!(own.backtest.participation, 0.1, "other keys keep defaults");
        assert_eq!(own.studies.len(), 2);
        assert_eq!(own.strategies.len(), 1);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Config::parse("x.toml", "[backtest]\ncash = -1\nparticipation = 2\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("backtest.cash") && e.contains("participation"),
            "{e}"
        );
        let e = Config::parse("x.toml", "[backtest]\nnope = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
        let e = Config::parse(
            "x.toml",
            "[[rules.cross]]\nfast = \"a\"\nslow = \"b\"\nup = \"u\"\ndown = \"d\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"a\""), "{e}");
        let mut c = Config::fleet().unwrap();
        c.set("studies.sma50.timeperiod", 30.0).unwrap();
        assert_eq!(
            c.studies.iter().find(|s| s.id == "sma50").unwrap().params["timeperiod"],
            30.0
        );
        c.set("strategies.ma-cross.percent", 10.0).unwrap();
        assert!(c.set("strategies.ma-cross.quantity", 1.0).is_err());
        assert!(c.set("studies.nope.timeperiod", 1.0).is_err());
        assert!(c.set("what", 1.0).is_err());
    }
}
