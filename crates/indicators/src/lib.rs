//! Technical-analysis indicators with TA-Lib's numbers: one streaming implementation per
//! function, driven bar by bar (live) or over whole slices (batch).
//!
//! Owns: TA-Lib's function set (overlap studies, momentum, volume, volatility, price
//! transforms, cycle indicators, statistics, candlestick patterns) plus VWAP, a
//! [`registry`] of every function's name, inputs, parameters and outputs, a
//! constructor by name, serialisable snapshots, and the reusable core of `qts ta`
//! ([`cli`]). Does **not** own: market data, bar building, where indicator sets are
//! configured (the TA service), or any I/O beyond the CLI's reader and writer.
//!
//! Where to start:
//! - [`build`]: a boxed [`Indicator`] by TA-Lib name and parameters.
//! - [`Streaming`]: the contract every function implements; `batch` runs it over slices.
//! - [`specs`]: every function's [`Spec`] (group, inputs, parameters with ranges, outputs).
//! - `DESIGN.md` next to `Cargo.toml`: conventions and how to add a function.
//!
//! Conventions (TA-Lib's, with its default unstable period 0): outputs are as long as
//! the input, NaN for the first `lookback` bars; EMA-style functions seed with the SMA of
//! their first period; patterns output ±100 / ±200 as `f64`.
//!
//! ```
//! use indicators::{Streaming, overlap::Sma};
//!
//! let close = [1.0, 2.0, 3.0, 4.0];
//! let sma = Sma::new(3).unwrap().batch(&[&close]).unwrap();
//! assert!(sma[0][1].is_nan());
//! assert_eq!(&sma[0][2..], &[2.0, 3.0]);
//! ```

pub mod cli;
pub mod cycle;
mod error;
mod indicator;
pub mod math;
pub mod momentum;
pub mod overlap;
pub mod pattern;
pub mod price;
pub mod registry;
mod spec;
pub mod statistic;
pub(crate) mod util;
pub mod volatility;
pub mod volume;

pub use error::Error;
pub use indicator::{Indicator, MAX_IO, Streaming, drive_updates, run_batch};
pub use registry::{State, build, build_with, spec, specs};
pub use spec::{Group, Input, ParamKind, ParamSpec, Params, Spec};
