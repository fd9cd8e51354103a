//! Wiring: backends and routes into a bound host, with the probe, lifecycle and lag loops as
//! its background tasks.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::metrics::Metrics;
use crate::settings::{Sections, Settings};
use crate::watch::Watch;

/// The bound monitoring service.
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
        let registry = prometheus::Registry::new();
        let metrics = Metrics::register(&registry).context("register monitoring metrics")?;
        let watch = Watch::new(settings.own.clone(), backends.bus.clone(), metrics)?;
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(watch.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), watch.clone())),
            registry,
        };
        let group = format!("monitoring.lifecycle.{}", info.instance_id);
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        host.grpc_roles(&[
            ("GetFleet", &["ops"]),
            ("GetConsumerLag", &["ops"]),
            ("ListAlerts", &["ops"]),
        ]);
        host.admin_routes(crate::http::admin(watch.clone()));
        // Its own admin endpoint is where it is bound.
        let admin = host.addrs()?.admin;
        let host_part = if admin.ip().is_unspecified() {
            format!("127.0.0.1:{}", admin.port())
        } else {
            admin.to_string()
        };
        watch.set_target(crate::SPEC.name, &format!("http://{host_part}"));
        let (probes, lifecycle, lag) = (watch.clone(), watch.clone(), watch);
        host.spawn("probes", move |token| probes.run_probes(token));
        host.spawn("lifecycle", move |token| {
            lifecycle.follow_lifecycle(group, token)
        });
        host.spawn("lag", move |token| lag.run_lag(token));
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
