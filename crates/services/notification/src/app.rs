//! Wiring: the store, the channels and routes into a bound host, with the event consumer and
//! the delivery worker as background tasks.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::metrics::Metrics;
use crate::service::Notifier;
use crate::settings::{Sections, Settings};

/// The bound notification service.
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
        let metrics = Metrics::register(&registry).context("register notification metrics")?;
        let consumer_metrics =
            common::consumer::ConsumerMetrics::register(crate::SPEC.name, &registry)
                .context("register consumer metrics")?;
        let notifier = Notifier::new(backends.db.clone(), settings.own.clone(), metrics)?;
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(notifier.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), notifier.clone())),
            registry,
        };
        let bus = backends.bus.clone();
        let db = backends.db.clone();
        let consumer_settings = settings.consumer.clone();
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The same roles as the HTTP operations that do these.
        host.grpc_roles(&[("SendNotification", &["service", "ops", "admin"])]);
        let consumer = notifier.clone();
        host.spawn("events", move |token| {
            crate::kafka::run(
                consumer,
                bus,
                db,
                (consumer_settings, consumer_metrics),
                token,
            )
        });
        let worker = notifier.clone();
        host.spawn("delivery", move |token| worker.deliver(token));
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
