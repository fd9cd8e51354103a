//! API tests of the notification service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory, against real peers: aiosmtpd,
//! recording HTTP endpoints and Alertmanager.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod alertmanager;
mod delivery;
mod helpers;
mod info;
mod preferences;
