//! API tests of the sso-ui service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory, most of them against a real SSO
//! started the same way, walked with a cookie-keeping client as a browser would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod accounts;
mod csrf;
mod helpers;
mod info;
mod pages;
mod session;
mod two_factor;
