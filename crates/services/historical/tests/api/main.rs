//! API tests of the historical service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory, on SQLite and (with
//! `TEST_DATABASE_URL`) on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    dead_code
)]

mod backfill;
mod helpers;
mod info;
mod live;
mod queries;
