//! The `sso-ui` binary: loads settings, starts telemetry, connects backends, serves until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = sso_ui::settings::load().context("load settings")?;
    let _telemetry = common::telemetry::init(sso_ui::SPEC.name, &settings.telemetry)
        .context("start telemetry")?;
    let backends = common::server::Backends::connect(sso_ui::SPEC, &settings, None).await?;
    let app = sso_ui::App::build(settings, backends).await?;
    app.run(common::shutdown::on_signal()).await
}
