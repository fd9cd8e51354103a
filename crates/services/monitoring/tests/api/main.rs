//! API tests of the monitoring service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod fleet;
mod helpers;
mod info;
