//! Wiring: the master key, the store and routes into a bound host.

use std::sync::Arc;

use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::service::Config;
use crate::settings::{Sections, Settings};

/// The bound config service.
pub struct App {
    host: Host,
}

impl Service for App {
    type Sections = Sections;
    const SPEC: &'static ServiceSpec = crate::SPEC;
    const DEFAULTS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: Option<&'static Migrations> = Some(&crate::MIGRATIONS);

    async fn build(settings: Settings, backends: Backends) -> anyhow::Result<Self> {
        let info = common::server::service_info(crate::SPEC, env!("CARGO_PKG_VERSION"), &backends);
        let master = settings
            .own
            .keys
            .load(&settings.shared.data_dir, "config-master.key")
            .map_err(|e| anyhow::anyhow!("the master key: {e}"))?;
        let config = Config::new(backends.db.clone(), master);
        // gRPC GetSecret checks the caller's token itself (the HTTP routes get it from the
        // host's middleware).
        let verifier = settings
            .shared
            .auth
            .enabled
            .then(|| Arc::new(common::auth::Verifier::new(&settings.shared.auth)));
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(config.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), config, verifier)),
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
