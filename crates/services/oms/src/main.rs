//! The `oms` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = oms::settings::load().context("load settings")?;
    let _telemetry =
        common::telemetry::init(oms::SPEC.name, &settings.telemetry).context("start telemetry")?;
    let backends = common::server::Backends::connect(oms::SPEC, &settings, None).await?;
    let app = oms::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
