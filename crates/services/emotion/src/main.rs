//! The `emotion` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM
//! (all in [`common::service::main`]).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::service::main::<emotion::App>().await
}
