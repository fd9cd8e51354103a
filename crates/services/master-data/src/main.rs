//! The `master-data` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = master_data::settings::load().context("load settings")?;
    let _telemetry = common::telemetry::init(master_data::SPEC.name, &settings.telemetry)
        .context("start telemetry")?;
    let backends = common::server::Backends::connect(master_data::SPEC, &settings, None).await?;
    let app = master_data::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
