//! API tests of the llm service: the real service (its `Service` impl, as `main` and `qts up`
//! start it) on port 0 with its data in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod helpers;
mod info;
mod memory;
mod openai;
mod sentiment;
mod tasks;
