//! Wiring: backends, the broker, the tasks and the routes into a bound host.

use std::sync::Arc;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::domain::Normaliser;
use crate::feed::{Schedule, describe, whole_market};
use crate::http::Api;
use crate::metrics::Metrics;
use crate::settings::{Sections, Settings};
use crate::state::Shared;

/// The bound ingestion service.
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
        let metrics = Metrics::register(&registry).context("register metrics")?;
        let clock = settings
            .clock
            .clock()
            .map_err(anyhow::Error::msg)
            .context("clock")?;
        let broker = match &settings.own.broker {
            Some(b) => {
                let tokens = common::ssi_tokens::for_broker(
                    &settings,
                    crate::SPEC.name,
                    b.tokens() == broker::Tokens::Config,
                )?;
                Some(broker::connect_with(b.clone(), tokens).context("broker settings")?)
            }
            None => None,
        };
        let subscription = whole_market();
        let source = broker
            .as_ref()
            .map(|b| format!("fastconnect-{}", b.generation))
            .unwrap_or_default();
        let shared = Arc::new(Shared::new(
            clock,
            metrics,
            &source,
            if broker.is_some() {
                describe(&subscription)
            } else {
                String::new()
            },
        ));
        let api = Api {
            shared: shared.clone(),
            max_symbols: settings.own.api.max_symbols,
        };
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::routes(api.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), api)),
            registry,
        };
        let mut host = Host::bind(
            crate::SPEC,
            &settings,
            info.clone(),
            backends.clone(),
            parts,
        )
        .await?;

        let calendar = market::TradingCalendar::embedded().context("market calendar")?;
        let group = format!("ingestion.references.{}", info.instance_id);
        let (bus, s) = (backends.bus.clone(), shared.clone());
        host.spawn("references", move |token: CancellationToken| {
            crate::service::follow_references(bus, s, group, token)
        });
        let normaliser = Normaliser::new(
            market::MarketRules::default(),
            calendar.clone(),
            time::Duration::seconds(i64::from(settings.own.normalise.time_margin_secs)),
        );
        let (bus, s, n) = (
            backends.bus.clone(),
            shared.clone(),
            settings.own.normalise.clone(),
        );
        host.spawn("normaliser", move |token| {
            crate::service::run_normaliser(bus, s, normaliser, n, token)
        });
        if let Some(broker) = broker {
            let feed = settings.own.feed.clone();
            let schedule = Schedule::new(
                calendar,
                time::Duration::minutes(i64::from(feed.connect_lead_minutes)),
                time::Duration::minutes(i64::from(feed.linger_minutes)),
            );
            let (bus, s) = (backends.bus.clone(), shared.clone());
            host.spawn("feed", move |token| {
                crate::service::run_feed(
                    broker.market_data,
                    subscription,
                    schedule,
                    feed,
                    bus,
                    s,
                    token,
                )
            });
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
