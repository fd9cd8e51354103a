//! The `notification` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = notification::settings::load().context("load settings")?;
    let _telemetry = common::telemetry::init(notification::SPEC.name, &settings.telemetry)
        .context("start telemetry")?;
    let backends = common::server::Backends::connect(notification::SPEC, &settings, None).await?;
    let app = notification::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
