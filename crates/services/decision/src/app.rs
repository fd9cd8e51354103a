//! Wiring: the strategies, the store, the OMS client and routes into a bound host, with the
//! signal reader and the state follower as background tasks.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::metrics::Metrics;
use crate::service::Engine;
use crate::settings::{Sections, Settings};

/// The bound decision service.
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
        let metrics = Metrics::register(&registry).context("register decision metrics")?;
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let strategies = settings
            .own
            .strategies
            .iter()
            .map(|s| (s.follower(), s.enabled || settings.own.decision.enable_all))
            .collect();
        let oms_url = settings
            .peer("oms")
            .map_err(|e| anyhow::anyhow!("peers: {e}"))?;
        let (rules, follower) = rules::Rules::start_for(
            crate::SPEC.name,
            &info.instance_id.to_string(),
            &settings.own.rules,
            &settings,
            &backends.bus,
        )
        .await?;
        let engine = Engine::new(
            (strategies, rules),
            backends.db.clone(),
            Some((
                &common::grpc::Connector::new(&settings.auth, crate::SPEC.name),
                oms_url.as_str(),
            )),
            &settings.own.decision,
            clock,
            metrics,
        )?;
        engine.load().await.context("load strategy switches")?;
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(engine.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), engine.clone())),
            registry,
        };
        let bus = backends.bus.clone();
        let group = format!("decision.state.{}", info.instance_id);
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The same roles as the HTTP operation that does this.
        host.grpc_roles(&[("SetStrategyEnabled", &["trader", "risk_officer"])]);
        let (state, signals, state_bus) = (engine.clone(), engine, bus.clone());
        host.spawn("state", move |token| {
            state.follow_state(state_bus, group, token)
        });
        host.spawn("signals", move |token| signals.follow_signals(bus, token));
        if let Some(follower) = follower {
            host.spawn("rules", move |token| follower.run(token));
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
