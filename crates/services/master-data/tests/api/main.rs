//! API tests of the master-data service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory, syncing from the FastConnect
//! simulator in process; PostgreSQL and Redis from `TEST_DATABASE_URL` / `TEST_REDIS_URL`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod cache;
mod edits;
mod helpers;
mod info;
mod perf;
mod queries;
mod sync;
