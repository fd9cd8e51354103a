//! Wiring: backends, the broker, routes, the daily sync and the cache-invalidation consumer
//! into a bound host.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use common::bus::topics::MASTERDATA_SECURITY;
use common::consumer::{Consumer, HandleError, handler_fn};
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::service::MasterData;
use crate::settings::{Sections, Settings};

static MIGRATIONS: Migrations = Migrations {
    postgres: sqlx::migrate!("migrations/postgres"),
    sqlite: sqlx::migrate!("migrations/sqlite"),
};

/// The bound master-data service.
pub struct App {
    host: Host,
}

impl Service for App {
    type Sections = Sections;
    const SPEC: &'static ServiceSpec = crate::SPEC;
    const DEFAULTS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: Option<&'static Migrations> = Some(&MIGRATIONS);

    async fn build(settings: Settings, backends: Backends) -> anyhow::Result<Self> {
        let info = common::server::service_info(crate::SPEC, env!("CARGO_PKG_VERSION"), &backends);
        let clock = settings
            .clock
            .clock()
            .map_err(anyhow::Error::msg)
            .context("market clock")?;
        let broker = match settings.own.broker.clone() {
            Some(b) => {
                let tokens = common::ssi_tokens::for_broker(
                    &settings,
                    crate::SPEC.name,
                    b.tokens() == broker::Tokens::Config,
                )?;
                Some(
                    broker::connect_with(b, tokens)
                        .context("broker settings")?
                        .market_data,
                )
            }
            None => {
                tracing::info!("no [broker] configured: serving stored master data only");
                None
            }
        };
        let registry = prometheus::Registry::new();
        let metrics = crate::metrics::Metrics::register(&registry).context("register metrics")?;
        let consumer_metrics =
            common::consumer::ConsumerMetrics::register(crate::SPEC.name, &registry)
                .context("register consumer metrics")?;
        let md = Arc::new(
            MasterData::new(
                backends.db.clone(),
                backends.cache.clone(),
                broker,
                clock,
                crate::SPEC.name,
                Duration::from_secs(settings.own.lookup.cache_ttl_secs),
                metrics,
            )
            .context("trading calendar")?,
        );
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::routes(md.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), md.clone())),
            registry,
        };
        let (bus, db) = (backends.bus.clone(), backends.db.clone());
        let shared_cache = backends.cache.kind() == "redis";
        let mut host = Host::bind(crate::SPEC, &settings, info.clone(), backends, parts).await?;
        // The same roles as the HTTP operations that do these.
        host.grpc_roles(&[("UpdateSecurity", &["ops"]), ("Sync", &["ops"])]);

        let invalidating = md.clone();
        if shared_cache {
            // A shared cache (Redis) needs one invalidation per event: one group for all
            // instances, at least once through the inbox.
            let consumer = Consumer::new(
                format!("{}.cache", crate::SPEC.name),
                &[MASTERDATA_SECURITY.name.as_ref()],
                handler_fn(move |delivery, _tx| {
                    let md = invalidating.clone();
                    Box::pin(async move {
                        let s: proto::market::v1::Security =
                            delivery.envelope.decode().map_err(HandleError::reject)?;
                        md.invalidate(&s.symbol).await;
                        Ok(())
                    })
                }),
            )
            .with_settings(&settings.consumer)
            .with_metrics(consumer_metrics);
            host.spawn("cache-invalidation", move |token| async move {
                consumer
                    .run(bus, db, token)
                    .await
                    .context("cache invalidation")
            });
        } else {
            // A memory cache is this instance's own and starts empty: every instance reads
            // every event, in a group of its own that never commits (so it leaves nothing
            // behind on the broker when the instance goes).
            let group = format!("{}.cache.{}", crate::SPEC.name, info.instance_id);
            host.spawn("cache-invalidation", move |token| {
                crate::service::follow_invalidations(invalidating, bus, group, token)
            });
        }

        if md.has_broker() && settings.own.sync.scheduled {
            let (lead, retry) = (
                settings.own.sync.lead_minutes,
                Duration::from_secs(settings.own.sync.retry_secs),
            );
            host.spawn("daily-sync", move |token| {
                crate::service::run_schedule(md, lead, retry, token)
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
