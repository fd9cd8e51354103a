//! Wiring: backends and routes into a bound host, with the analysis loop as its background task.

use std::sync::Arc;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::metrics::Metrics;
use crate::service::{Analysis, Compute, History};
use crate::settings::{Sections, Settings};

/// The bound ta service.
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
        let metrics = Metrics::register(&registry).context("register ta metrics")?;
        let calendar =
            Arc::new(market::TradingCalendar::embedded().context("load the trading calendar")?);
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let set = settings
            .own
            .study_set()
            .map_err(|e| anyhow::anyhow!("studies: {e}"))?;
        let timeframes = settings.own.timeframes().map_err(|e| anyhow::anyhow!(e))?;
        let url = settings
            .peer("historical")
            .map_err(|e| anyhow::anyhow!("peers: {e}"))?;
        let history = History::new(
            &common::grpc::Connector::new(&settings.auth, crate::SPEC.name),
            &url,
        )?;
        let (rules, follower) = rules::Rules::start_for(
            crate::SPEC.name,
            &info.instance_id.to_string(),
            &settings.own.rule_sets,
            &settings,
            &backends.bus,
        )
        .await?;
        let analysis = Analysis::new(
            (set, rules),
            timeframes,
            settings.own.analysis.clone(),
            calendar,
            Some(history.clone()),
            metrics,
        );
        let latest = analysis.latest();
        let compute = Compute::new(Some(history), settings.own.compute.clone());
        let db = backends.db.clone();
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(
                crate::http::AppState {
                    compute: compute.clone(),
                    latest: latest.clone(),
                    db: db.clone(),
                },
            )),
            grpc: tonic::service::Routes::new(crate::grpc::server(
                info.clone(),
                compute,
                latest,
                db.clone(),
            )),
            registry,
        };
        let bus = backends.bus.clone();
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        if let Some(follower) = follower {
            host.spawn("rules", move |token: CancellationToken| follower.run(token));
        }
        host.spawn("analysis", move |token| {
            crate::service::run(analysis, bus, db, clock, token)
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
