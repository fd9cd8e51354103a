//! Wiring: the broker, the store and routes into a bound host, with the OMS's reconciliation,
//! account streams and confirmer as its background task.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::metrics::Metrics;
use crate::service::Oms;
use crate::settings::{Sections, Settings};

/// The bound oms service.
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
        let metrics = Metrics::register(&registry).context("register oms metrics")?;
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let trading = match settings.own.broker.clone() {
            Some(b) => {
                let tokens = common::ssi_tokens::for_broker(
                    &settings,
                    crate::SPEC.name,
                    b.tokens() == broker::Tokens::Config,
                )?;
                let broker = broker::connect_with(b, tokens).context("broker settings")?;
                if broker.trading.is_none() {
                    tracing::warn!("[broker] has no trading credentials: orders are refused");
                }
                broker.trading
            }
            None => {
                tracing::info!("no [broker] configured: serving stored orders, refusing new ones");
                None
            }
        };
        // Calls to the risk and historical services carry the OMS's service token.
        let peers = common::grpc::Connector::new(&settings.auth, crate::SPEC.name);
        let risk = if settings.own.risk.enabled {
            let url = settings
                .peer("risk")
                .map_err(|e| anyhow::anyhow!("peers: {e}"))?;
            let timeout = std::time::Duration::from_millis(settings.own.risk.timeout_ms);
            Some(crate::service::RiskCheck::new(&peers, &url, timeout)?)
        } else {
            tracing::warn!(
                "risk.enabled = false: orders are sent without the risk service's checks"
            );
            None
        };
        if trading.is_some() && settings.own.orders.accounts.is_empty() {
            tracing::warn!("orders.accounts is empty: every order will be refused");
        }
        let calendar = market::TradingCalendar::embedded().context("load the trading calendar")?;
        let history = crate::service::VolumeHistory::new(
            &peers,
            &settings
                .peer("historical")
                .map_err(|e| anyhow::anyhow!("peers: {e}"))?,
            settings.own.vwap.days,
            std::time::Duration::from_millis(settings.own.vwap.timeout_ms),
        )?;
        let oms = Oms::new(
            backends.db.clone(),
            trading,
            risk,
            settings.own.orders.clone(),
            clock,
            calendar,
            metrics,
        )
        .with_history(history);
        // Its flag `orders.accept` pauses new orders (`remote_config` in the settings).
        let oms = oms.with_remote_config(backends.remote.clone());
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(oms.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), oms.clone())),
            registry,
        };
        let bus = backends.bus.clone();
        let account_bus = backends.bus.clone();
        let group = format!("oms.prices.{}", info.instance_id);
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The same roles as the HTTP operations that do these.
        host.grpc_roles(&[
            ("PlaceOrder", &["trader", "service"]),
            ("AmendOrder", &["trader", "service"]),
            ("CancelOrder", &["trader", "service"]),
        ]);
        let prices = oms.clone();
        host.spawn("prices", move |token| {
            prices.follow_prices(bus, group, token)
        });
        let nav = oms.clone();
        host.spawn("nav", move |token| nav.value_accounts(token));
        let accounts = oms.clone();
        host.spawn("accounts", move |token| {
            accounts.publish_accounts(account_bus, token)
        });
        host.spawn("orders", move |token| oms.run(token));
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
