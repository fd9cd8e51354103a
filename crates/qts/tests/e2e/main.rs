//! End-to-end: the whole fleet in-process and as the `qts up` binary, through the embedded
//! gateway and through real nginx.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod auth;
mod binaries;
mod cli;
mod data_dir_lock;
mod fleet;
mod gateway;
mod helpers;
mod market;
mod nginx;
mod observability;
mod portal;
mod sections;
