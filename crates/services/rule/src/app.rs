//! Wiring: the store and routes into a bound host, with the follower of the evaluations the
//! services report as a background task.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::metrics::Metrics;
use crate::service::RuleBook;
use crate::settings::{Sections, Settings};

/// The bound rule service.
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
        let registry = prometheus::Registry::new();
        let metrics = Metrics::register(&registry).context("register rule metrics")?;
        let consumer_metrics =
            common::consumer::ConsumerMetrics::register(crate::SPEC.name, &registry)
                .context("register consumer metrics")?;
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let book = RuleBook::new(
            backends.db.clone(),
            settings.own.rule.clone(),
            clock,
            metrics,
        );
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(book.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), book.clone())),
            registry,
        };
        let bus = backends.bus.clone();
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        host.spawn("evaluations", move |token| {
            book.follow_evaluations(bus, consumer_metrics, token)
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
