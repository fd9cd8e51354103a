//! Wiring: backends and routes into a bound host.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::settings::{Sections, Settings};

/// The bound llm service.
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
        let paths = crate::models::search_paths(&settings.own.llm.models_dir, &settings.data_dir);
        let llm = crate::service::Llm::new(settings.own.llm.clone(), paths)
            .context("the remote model server")?;
        let models: Vec<String> = llm.models().into_iter().map(|m| m.id).collect();
        tracing::info!(?models, "offline models installed");
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(llm)),
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
