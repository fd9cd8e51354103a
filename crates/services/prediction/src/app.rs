//! Wiring: the optimiser, the predictor (its registry, clock, calendar and peers) and routes
//! into a bound host, with the daily prediction loop as a background task.

use std::sync::Arc;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::settings::{Sections, Settings};

/// The bound prediction service.
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
        let optimiser = crate::service::Optimiser::default();
        let own = &settings.own;
        let registry_dir = if own.prediction.registry.is_empty() {
            settings.data_dir.join("prediction-models")
        } else {
            own.prediction.registry.clone().into()
        };
        let registry = ml::registry::Registry::open(&registry_dir)
            .with_context(|| format!("open the model registry {}", registry_dir.display()))?;
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let calendar =
            Arc::new(market::TradingCalendar::embedded().context("load the trading calendar")?);
        let peer = |name: &str| {
            settings
                .peer(name)
                .map_err(|e| anyhow::anyhow!("peers: {e}"))
        };
        let sources = crate::predictor::Sources::new(
            &common::grpc::Connector::new(&settings.auth, crate::SPEC.name),
            &peer("master-data")?,
            &peer("historical")?,
        )?;
        let registry_metrics = prometheus::Registry::new();
        let metrics = crate::metrics::Metrics::register(&registry_metrics)
            .context("register prediction metrics")?;
        let predictor = crate::predictor::Predictor::new(
            own.prediction.clone(),
            own.recipe,
            registry,
            clock,
            calendar,
            Some(sources),
            backends.bus.clone(),
            metrics,
        );
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(
                crate::http::AppState {
                    optimiser: optimiser.clone(),
                    predictor: predictor.clone(),
                },
            )),
            grpc: tonic::service::Routes::new(crate::grpc::server(
                info.clone(),
                optimiser,
                predictor.clone(),
            )),
            registry: registry_metrics,
        };
        let enabled = own.prediction.enabled;
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The same roles as the HTTP operations that do this.
        host.grpc_roles(&[
            ("TrainModel", &["ops", "service"]),
            ("PromoteModel", &["ops", "service"]),
        ]);
        if enabled {
            host.spawn("predictions", move |token| predictor.run(token));
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
