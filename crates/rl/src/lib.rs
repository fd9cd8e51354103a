//! A reinforcement-learning agent trading the simulated market `qts backtest` runs: the exchange
//! matching engine with the lots, ticks, bands, fees, 0.1% sale tax and T+2 settlement of
//! `market`, the risk service's checks, and the decision engine's `prediction` strategy carrying
//! out what the agent signals ([`Market`]). At each daily close the agent ([`Policy`]) sees every
//! symbol's out-of-sample forecast from the `ml` pipeline and its own holding of it, and signals
//! buy or sell; its reward is the account's return after costs. It learns by the cross-entropy method ([`cem::train`]: a
//! population of policies, each played through a whole episode, the best fifth refitting the
//! sampling distribution) on one span of dates and is judged on a later one against random
//! policies of the same form, doing nothing, and holding the market ([`judge`]).
//!
//! Does not own: the market model (`backtest`), the features (`ml`), or any order rule.

pub mod cem;
mod env;
mod policy;

pub use env::{FORECAST_WARM_UP, Judged, Market, RlError, judge, panel};
pub use policy::Policy;
