//! The `risk` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = risk::settings::load().context("load settings")?;
    let _telemetry =
        common::telemetry::init(risk::SPEC.name, &settings.telemetry).context("start telemetry")?;
    let backends = common::server::Backends::connect(risk::SPEC, &settings, None).await?;
    let app = risk::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
