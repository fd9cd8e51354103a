//! Integration tests of the FastConnect client against a test fake of SSI on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::wildcard_enum_match_arm
)]

mod data_rest;
mod data_stream;
mod fake_ssi;
mod helpers;
mod trading_rest;
mod trading_stream;
mod transport;
mod v3_auth;
mod v3_fake;
mod v3_rest;
mod v3_stream;
