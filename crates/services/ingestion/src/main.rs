//! The `ingestion` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = ingestion::settings::load().context("load settings")?;
    let _telemetry = common::telemetry::init(ingestion::SPEC.name, &settings.telemetry)
        .context("start telemetry")?;
    let backends = common::server::Backends::connect(ingestion::SPEC, &settings, None).await?;
    let app = ingestion::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
