//! The `historical` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = historical::settings::load().context("load settings")?;
    let _telemetry = common::telemetry::init(historical::SPEC.name, &settings.telemetry)
        .context("start telemetry")?;
    let backends = common::server::Backends::connect(historical::SPEC, &settings, None).await?;
    let app = historical::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
