//! The environment: daily bars, their features, and episodes played through `qts backtest`'s
//! whole trading pipeline.

use backtest::Config;
use backtest::data::{Bars, day_of};
use backtest::metrics::{Metrics, summarise};
use backtest::run::{Actor, Observation, Outcome, Window, run_with};
use ml::Panel;
use ml::validate::{WalkForward, walk_forward};
use time::Date;

use crate::policy::Policy;

/// Why the agent could not train or trade.
#[derive(Debug, thiserror::Error)]
pub enum RlError {
    /// Bad input: dates, settings, bars.
    #[error("{0}")]
    Input(String),
    /// The backtest refused its configuration or data.
    #[error(transparent)]
    Backtest(#[from] backtest::Error),
    /// The bars do not make a panel.
    #[error(transparent)]
    Panel(#[from] ml::PanelError),
}

/// Closes and volumes of daily bars by date and symbol (NaN where a symbol has no bar), dates
/// keyed by the trading day in Vietnam (`ml::days`), as the prediction service keys them.
pub fn panel(bars: &Bars) -> Result<Panel, RlError> {
    if !bars.is_empty() && bars.seconds() < 86_400 {
        return Err(RlError::Input(format!(
            "the ml pipeline works on daily bars (one row per date); these are {}-second bars: \
             read them with --resolution 1D",
            bars.seconds()
        )));
    }
    let symbols = bars
        .symbols()
        .iter()
        .map(|l| l.symbol.to_string())
        .collect();
    let points = bars.rows().iter().map(|r| {
        (
            ml::days::key(day_of(r.start)),
            r.sym as usize,
            r.close as f64,
            r.volume as f64,
        )
    });
    Ok(Panel::pivot(symbols, points)?)
}

/// Dates the forecast's first model trains on: before them the agent sees no forecast and
/// cannot trade.
pub const FORECAST_WARM_UP: usize = 60;

/// The market an agent trades: daily bars, what the agent observes of every symbol at every
/// close, and the backtest that executes its signals (the decision engine's `prediction`
/// strategy: buy 5% of the capital on `prediction_long`, sell the holding on `prediction_exit`).
///
/// The agent observes the `ml` pipeline's forecast of each symbol's next-day return: a ridge
/// model on the 15 `ml` features, retrained walk-forward every 20 dates on every date before
/// (the label's horizon purged, one more date embargoed), so every forecast is out of sample —
/// made from data before its date only. The supervised model says what is likely; the agent
/// learns what is worth trading after fees, tax, the fill model and T+2.
pub struct Market {
    bars: Bars,
    config: Config,
    /// Panel date keys, ascending.
    keys: Vec<i64>,
    /// What the agent observes, by date, symbol and input.
    inputs: Vec<f64>,
    names: Vec<String>,
    symbols: usize,
    /// Closes by date and symbol (for the buy-and-hold baseline).
    panel: Panel,
}

impl Market {
    /// The market of `bars` (daily), traded under `config`'s account, limits and fill model
    /// by its prediction-following strategies (the decision engine's `prediction` when it has
    /// none); its technical studies are dropped (the agent reads the `ml` features).
    pub fn new(bars: Bars, mut config: Config) -> Result<Self, RlError> {
        let panel = panel(&bars)?;
        config.follow_predictions()?;
        config.studies.clear();
        config.rules = Default::default();
        config.check()?;
        let features = ml::features::batch(&panel);
        let labels = ml::labels::forward_returns(&panel, 1);
        let (dates, symbols) = (panel.dates().len(), panel.symbols().len());
        let split = WalkForward {
            train_dates: None,
            test_dates: 20,
            horizon: 1,
            embargo: 1,
            min_train_dates: FORECAST_WARM_UP,
        };
        let inputs = if dates > FORECAST_WARM_UP + 2 {
            walk_forward(&features, &labels, &split, 0.01, None)
                .map_err(|e| RlError::Input(format!("the forecast: {e}")))?
                .0
        } else {
            vec![f64::NAN; dates * symbols]
        };
        Ok(Self {
            keys: panel.dates().to_vec(),
            inputs,
            names: vec!["forecast".to_owned()],
            symbols,
            panel,
            bars,
            config,
        })
    }

    /// What a policy weighs, in order.
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// The trading dates, ascending.
    pub fn dates(&self) -> Vec<Date> {
        self.keys
            .iter()
            .filter_map(|&k| ml::days::date(k))
            .collect()
    }

    /// The inputs of date index `d`, symbol `s`.
    fn at(&self, d: usize, s: usize) -> &[f64] {
        let width = self.names.len();
        let i = (d * self.symbols + s) * width;
        &self.inputs[i..i + width]
    }

    /// What the agent observes of `sym` at the close of the date keyed `key`.
    fn row(&self, key: i64, sym: usize) -> Option<&[f64]> {
        let d = self.keys.binary_search(&key).ok()?;
        (sym < self.symbols).then(|| self.at(d, sym))
    }

    /// Every observation of the dates `from ..= to`.
    pub(crate) fn rows_between(&self, from: Date, to: Date) -> Vec<&[f64]> {
        let (lo, hi) = (ml::days::key(from), ml::days::key(to));
        let n = self.symbols;
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| (lo..=hi).contains(*k))
            .flat_map(|(d, _)| (0..n).map(move |s| (d, s)))
            .map(|(d, s)| self.at(d, s))
            .collect()
    }

    /// Checks that `from ..= to` holds trading dates of these bars.
    pub(crate) fn check_span(&self, from: Date, to: Date) -> Result<(), RlError> {
        if from > to {
            return Err(RlError::Input(format!("the span {from}..{to} is empty")));
        }
        let days = self.rows_between(from, to).len() / self.symbols.max(1);
        if days < 2 {
            return Err(RlError::Input(format!(
                "{from}..{to} holds {days} trading date(s) of the bars; an episode needs at least 2"
            )));
        }
        Ok(())
    }

    /// One episode: `policy` trades the dates `from ..= to` (the bar before `from` sets the
    /// first day's reference price).
    pub fn episode(&self, policy: &Policy, from: Date, to: Date) -> Result<Outcome, RlError> {
        let bars = self.bars.window(1, from, to);
        let mut agent = Agent {
            market: self,
            policy,
            age: vec![0; self.bars.symbols().len()],
        };
        Ok(run_with(
            &self.config,
            &bars,
            Window {
                trade_from: Some(from),
            },
            Some(&mut agent),
        )?)
    }

    /// The measures of an episode (return, Sharpe, drawdown, turnover, costs, ...).
    pub fn measure(&self, outcome: &Outcome) -> Metrics {
        summarise(outcome, self.config.backtest.risk_free_rate).total
    }

    /// Equal-weight buy and hold of every symbol from the close before `from` to the close of
    /// `to`, before costs: what the market did.
    pub fn market_return(&self, from: Date, to: Date) -> f64 {
        let (lo, hi) = (ml::days::key(from), ml::days::key(to));
        let start = self.keys.partition_point(|&k| k < lo).saturating_sub(1);
        let end = self.keys.partition_point(|&k| k <= hi);
        if end == 0 || end <= start + 1 {
            return 0.0;
        }
        let (a, b) = (self.panel.closes(start), self.panel.closes(end - 1));
        let gains: Vec<f64> = a
            .iter()
            .zip(b)
            .filter(|(a, b)| a.is_finite() && b.is_finite() && **a > 0.0)
            .map(|(a, b)| b / a - 1.0)
            .collect();
        if gains.is_empty() {
            0.0
        } else {
            gains.iter().sum::<f64>() / gains.len() as f64
        }
    }
}

/// A policy playing an episode: the backtest asks it at every close.
struct Agent<'m> {
    market: &'m Market,
    policy: &'m Policy,
    /// Closes each symbol has been held.
    age: Vec<u32>,
}

impl Actor for Agent<'_> {
    fn act(&mut self, at: &Observation<'_>) -> Option<ta::domain::Signal> {
        let key = ml::days::key(day_of(at.start));
        let row = self.market.row(key, at.sym as usize)?;
        let age = self.age.get_mut(at.sym as usize)?;
        let held = at.held > 0;
        *age = if held { age.saturating_add(1) } else { 0 };
        let (score, call) = self.policy.decide(row, held, at.pending_buy > 0, *age);
        let call = call?;
        Some(ta::domain::Signal {
            kind: "agent",
            name: call.name().to_owned(),
            direction: call.direction(),
            value: score,
            detail: format!("agent: score {score:+.3}, held {age} close(s)"),
        })
    }
}

/// An agent judged on dates it did not learn from, beside what it is measured against.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The agent's episode.
    pub agent: Metrics,
    /// Total returns of random policies of the same form (weights and thresholds drawn from
    /// the cross-entropy method's starting distribution), in draw order.
    pub random: Vec<f64>,
    /// Equal-weight buy and hold of the universe, before costs.
    pub market: f64,
}

impl Judged {
    /// Mean and sample deviation of the random policies' returns.
    pub fn random_moments(&self) -> (f64, f64) {
        let n = self.random.len() as f64;
        if self.random.is_empty() {
            return (0.0, 0.0);
        }
        let mean = self.random.iter().sum::<f64>() / n;
        let var = self.random.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, var.sqrt())
    }

    /// Random policies the agent beat.
    pub fn beaten(&self) -> usize {
        self.random
            .iter()
            .filter(|&&r| self.agent.total_return > r)
            .count()
    }
}

/// Plays `policy` over `from ..= to` and, for comparison, `random` random policies (seeded) and
/// the market's buy and hold.
pub fn judge(
    market: &Market,
    policy: &Policy,
    from: Date,
    to: Date,
    random: usize,
    settings: &crate::cem::Settings,
) -> Result<Judged, RlError> {
    market.check_span(from, to)?;
    let agent = market.measure(&market.episode(policy, from, to)?);
    let mut draw = crate::cem::Gaussian::new(settings.seed ^ 0x00ab_cdef_1357_9bdf);
    let start = crate::cem::start(policy.weights.len(), settings);
    let candidates: Vec<Policy> = (0..random)
        .map(|_| {
            let theta: Vec<f64> = start
                .0
                .iter()
                .zip(&start.1)
                .map(|(m, s)| m + s * draw.next())
                .collect();
            policy.with_parameters(&theta)
        })
        .collect();
    let random = crate::cem::returns(market, &candidates, from, to, settings.threads)?;
    Ok(Judged {
        agent,
        random,
        market: market.market_return(from, to),
    })
}
