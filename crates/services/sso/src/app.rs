//! Wiring: the store, the keys and routes into a bound host, with key rotation as its
//! background task; the first administrator made when there is no user.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::service::Sso;
use crate::settings::{Sections, Settings};

/// The bound sso service.
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
            .load(&settings.shared.data_dir, "sso-master.key")
            .map_err(|e| anyhow::anyhow!("the master key: {e}"))?;
        let sso = Sso::new(
            backends.db.clone(),
            backends.cache.clone(),
            settings.own.clone(),
            master,
        )
        .await
        .context("load the signing keys")?;
        sso.bootstrap_admin()
            .await
            .context("create the first administrator")?;
        let clients = sso
            .bootstrap_clients()
            .await
            .context("set the configured service accounts")?;
        if clients > 0 {
            tracing::info!(clients, "service accounts set");
        }
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(sso.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone())),
            registry: prometheus::Registry::new(),
        };
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        host.spawn("keys", move |token: CancellationToken| {
            sso.rotate_periodically(token)
        });
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
