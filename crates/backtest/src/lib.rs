//! `qts backtest`: the fleet's own trading code over history. Bars (stored, recorded or CSV,
//! [`data`]) go through the TA service's studies and rules, the decision engine's strategies,
//! the risk service's checks and the exchange matching engine with the fees, tax, T+2 and
//! exchange rules of `market` ([`run`]); the result is measured ([`metrics`]) and written as
//! JSON, CSV and an HTML report with the equity curve and drawdown ([`report`]). Parameter
//! search over a grid or random draws, with walk-forward train/test windows, is [`search`].
//!
//! Deterministic: no clock, no threads' order, no hash-map order reaches a result; the same
//! bars, configuration and seed give byte-identical reports.
//!
//! Start at [`Config::fleet`] / [`Config::parse`], [`data::BarsBuilder`] and [`run::run`].

pub mod config;
pub mod data;
pub mod metrics;
pub mod report;
pub mod run;
pub mod search;

pub use config::Config;

/// Why a backtest could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong (every problem named).
    #[error("configuration: {0}")]
    Config(String),
    /// The bars are wrong (file and line named).
    #[error("data: {0}")]
    Data(String),
    /// The matching engine refused something it should not have (a bug, not a rejection).
    #[error("matching engine: {0}")]
    Engine(String),
    /// Writing a report failed.
    #[error("report: {0}")]
    Io(String),
}

impl Error {
    fn engine(e: matching::Error) -> Self {
        Error::Engine(e.to_string())
    }
}
