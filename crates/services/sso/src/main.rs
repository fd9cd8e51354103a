//! The `sso` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = sso::settings::load().context("load settings")?;
    let _telemetry =
        common::telemetry::init(sso::SPEC.name, &settings.telemetry).context("start telemetry")?;
    let backends = common::server::Backends::connect(sso::SPEC, &settings, None).await?;
    let app = sso::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
