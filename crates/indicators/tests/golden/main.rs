//! Golden tests against TA-Lib's own numbers (golden/data, made by golden/generate.py)
//! and the batch == streaming == snapshot/restore check over every registered function.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consistency;
mod data;
mod patterns;
mod talib;
mod vwap;
