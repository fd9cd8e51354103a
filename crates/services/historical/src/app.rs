//! Wiring: backends and routes into a bound host, with the live bar builder and the backfill
//! runner as its background tasks.

use std::sync::Arc;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::backfill::Backfills;
use crate::live::LiveBars;
use crate::metrics::Metrics;
use crate::service::Queries;
use crate::settings::{Sections, Settings};
use crate::store::Store;

/// The bound historical service.
pub struct App {
    host: Host,
}

/// Connects the broker of `[broker]`, if configured, with the config service's tokens when
/// it says `tokens = "config"` (`tokens`: the provider for that case).
pub fn market_data(
    settings: Option<&broker::Settings>,
    tokens: Option<broker::SharedTokenProvider>,
) -> anyhow::Result<Option<Arc<dyn broker::MarketData>>> {
    match settings {
        Some(s) => {
            let b = broker::connect_with(s.clone(), tokens)
                .context("connect the broker of [broker]")?;
            Ok(Some(b.market_data))
        }
        None => Ok(None),
    }
}

impl Service for App {
    type Sections = Sections;
    const SPEC: &'static ServiceSpec = crate::SPEC;
    const DEFAULTS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: Option<&'static Migrations> = Some(&crate::MIGRATIONS);

    async fn build(settings: Settings, backends: Backends) -> anyhow::Result<Self> {
        let info = common::server::service_info(crate::SPEC, env!("CARGO_PKG_VERSION"), &backends);
        let registry = prometheus::Registry::new();
        let metrics = Metrics::register(&registry).context("register historical metrics")?;
        let calendar =
            Arc::new(market::TradingCalendar::embedded().context("load the trading calendar")?);
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let store = Store::new(backends.db.clone());
        let gap_store = store.clone();
        let queries = Queries::new(store.clone(), calendar.clone(), settings.own.query.clone());
        let backfill_token = CancellationToken::new();
        let backfills = Backfills::new(
            store,
            market_data(
                settings.own.broker.as_ref(),
                common::ssi_tokens::for_broker(
                    &settings,
                    crate::SPEC.name,
                    settings
                        .own
                        .broker
                        .as_ref()
                        .is_some_and(|b| b.tokens() == broker::Tokens::Config),
                )?,
            )?,
            calendar,
            settings.own.backfill.clone(),
            metrics.clone(),
            backfill_token.clone(),
        );
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(
                crate::http::AppState {
                    queries: queries.clone(),
                    backfills: backfills.clone(),
                },
            )),
            grpc: tonic::service::Routes::new(crate::grpc::server(
                info.clone(),
                queries,
                backfills.clone(),
            )),
            registry,
        };
        let live = LiveBars::new(
            backends.db.clone(),
            backends.bus.clone(),
            clock,
            settings.own.bars.live(),
            metrics,
        );
        let host_bus = backends.bus.clone();
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The HTTP operation's role, and services (the portal backfills a backtest's days).
        host.grpc_roles(&[("StartBackfill", &["ops", "service"])]);
        host.spawn("live-bars", move |token| live.run(token));
        let (bus, gap_backfills) = (host_bus, backfills.clone());
        host.spawn("feed-gaps", move |token| {
            crate::gaps::repair_after_gaps(bus, gap_backfills, gap_store, token)
        });
        host.spawn("backfills", move |token| async move {
            let _stop = backfill_token.clone().drop_guard();
            if let Err(err) = backfills.resume_all().await {
                tracing::warn!(error = %common::error::chain(&err), "cannot resume backfills");
            }
            token.cancelled().await;
            backfill_token.cancel();
            Ok(())
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
