//! Wiring: the master key, the store and routes into a bound host.

use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::service::Config;
use crate::settings::{Sections, Settings};
use crate::ssi::SsiTokens;

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
        let registry = prometheus::Registry::new();
        let ssi = SsiTokens::new(settings.own.ssi.clone(), config.clone(), &registry)?;
        ssi.seed()
            .await
            .map_err(|e| anyhow::anyhow!("sealing ssi.seed: {}", common::error::chain(&e)))?;
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(config.clone()))
                .merge(crate::http::ssi_router(ssi.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(
                info.clone(),
                config,
                ssi.clone(),
            )),
            registry,
        };
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // A service reads its own configuration and secrets (checked in the handlers), ops all
        // configuration; nobody else.
        host.grpc_roles(&[
            ("GetConfig", &["ops", "service"]),
            ("GetSecret", &["service"]),
            ("GetSsiToken", &["service"]),
            ("RequestSsiOtp", &["service"]),
            ("LoginSsiOtp", &["service"]),
        ]);
        if ssi.enabled() {
            host.spawn("ssi-tokens", move |token| ssi.run(token));
        }
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
