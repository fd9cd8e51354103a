//! API tests of the ta service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod alerts;
mod analysis;
mod helpers;
mod info;
