//! Wiring: backends and routes into a bound host.

use common::server::{Addrs, Backends, Host, Parts};
use common::shutdown::CancellationToken;

use crate::settings::Settings;

/// The bound master-data service.
pub struct App {
    host: Host,
}

impl App {
    /// Binds every listener; serves nothing until [`App::run`].
    pub async fn build(settings: Settings, backends: Backends) -> anyhow::Result<Self> {
        let info = common::server::service_info(crate::SPEC, env!("CARGO_PKG_VERSION"), &backends);
        let parts = Parts {
            http: common::server::info_routes(info.clone()),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone())),
            registry: prometheus::Registry::new(),
        };
        let host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        Ok(Self { host })
    }

    /// The bound addresses.
    pub fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    /// Serves until `token` is cancelled, then drains.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
