//! Wiring: the engine, the store and routes into a bound host, with the bus follower as its
//! background task.

use std::time::Duration;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::domain::Engine;
use crate::metrics::Metrics;
use crate::service::Risk;
use crate::settings::{Sections, Settings};

/// The bound risk service.
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
        let metrics = Metrics::register(&registry).context("register risk metrics")?;
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let calendar = market::TradingCalendar::embedded().context("load the trading calendar")?;
        let mut engine = Engine::new(
            market::MarketRules::default(),
            calendar,
            settings.own.default_limits.effective(),
        );
        engine.set_breakers(settings.own.breakers.clone());
        let (rules, follower) = rules::Rules::start_for(
            crate::SPEC.name,
            &info.instance_id.to_string(),
            &settings.own.rules,
            &settings,
            &backends.bus,
        )
        .await?;
        let risk = Risk::new(
            (engine, rules),
            backends.db.clone(),
            clock,
            metrics,
            settings.own.checks.max_text,
        );
        risk.load()
            .await
            .context("load stored limits and kill switches")?;
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(
                crate::http::AppState {
                    risk: risk.clone(),
                    db: backends.db.clone(),
                },
            )),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), risk.clone())),
            registry,
        };
        let bus = backends.bus.clone();
        let group = format!("risk.state.{}", info.instance_id);
        let timeout = Duration::from_secs(settings.own.checks.catch_up_timeout_secs);
        let interval = Duration::from_millis(settings.own.monitor.interval_ms);
        let warn_percent = settings.own.monitor.warn_percent;
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The same roles as the HTTP operations that do these.
        host.grpc_roles(&[
            ("SetLimits", &["risk_officer"]),
            ("SetKillSwitch", &["risk_officer"]),
        ]);
        if let Some(follower) = follower {
            host.spawn("rules", move |token: CancellationToken| follower.run(token));
        }
        let watcher = risk.clone();
        host.spawn("state", move |token: CancellationToken| {
            risk.follow(bus, group, timeout, token)
        });
        host.spawn("monitor", move |token: CancellationToken| {
            watcher.watch(interval, warn_percent, token)
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
