//! API tests of the oms service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory, trading the FastConnect
//! simulator in-process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod accounts;
mod algos;
mod conditionals;
mod config;
mod crash;
mod helpers;
mod info;
mod orders;
mod risk;
mod session;
