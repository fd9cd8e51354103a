//! `qts bench bars` without building the whole `qts` binary:
//! `cargo run --release -p historical --example bench -- --database-url postgres://...`.

use clap::Parser;

/// Bulk bar ingest and one year of bars queried (see docs/performance.md).
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: historical::cli::BenchArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    historical::cli::bench(Cli::parse().args).await
}
