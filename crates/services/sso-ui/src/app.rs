//! Wiring: the SSO client, the cache and the templates into a bound host.

use std::sync::Arc;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::http::AppState;
use crate::pages::Pages;
use crate::service::Ui;
use crate::settings::{Sections, Settings};

/// The bound sso-ui service.
pub struct App {
    host: Host,
}

impl Service for App {
    type Sections = Sections;
    const SPEC: &'static ServiceSpec = crate::SPEC;
    const DEFAULTS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: Option<&'static Migrations> = None;

    async fn build(settings: Settings, backends: Backends) -> anyhow::Result<Self> {
        let info = common::server::service_info(crate::SPEC, env!("CARGO_PKG_VERSION"), &backends);
        let ui_settings = settings.own.ui.clone();
        let sso = crate::sso::Client::new(settings.auth.sso_url(), ui_settings.sso_timeout())
            .context("build the SSO client")?;
        let state = AppState {
            ui: Ui::new(sso, backends.cache.clone(), ui_settings),
            pages: Arc::new(Pages::new().context("compile the page templates")?),
        };
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(state)),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone())),
            registry: prometheus::Registry::new(),
        };
        let host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
