//! The `qts` command-line program's library: the in-process fleet behind `qts up`, its
//! embedded gateway, the Nginx config generator, and the OpenAPI snapshot. The binary in `main.rs` is a thin CLI over
//! these; the end-to-end tests drive them directly.

pub mod backtest_cli;
pub mod bench_orders;
pub mod bench_portal;
pub mod bench_replay;
pub mod bench_tick;
pub mod feed;
pub mod fleet;
pub mod gateway;
pub mod ml_cli;
pub mod nginx;
pub mod observability;
pub mod openapi;
pub mod portfolio_cli;
pub mod qubo_cli;
pub mod rl_cli;
pub mod soak;
pub mod webdriver;
