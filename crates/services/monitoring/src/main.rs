//! The `monitoring` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = monitoring::settings::load().context("load settings")?;
    let _telemetry = common::telemetry::init(monitoring::SPEC.name, &settings.telemetry)
        .context("start telemetry")?;
    let backends = common::server::Backends::connect(monitoring::SPEC, &settings, None).await?;
    let app = monitoring::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
