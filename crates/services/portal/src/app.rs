//! Wiring: the board, its feed, the routes into a bound host.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;
use proto::historical::v1::historical_service_client::HistoricalServiceClient;
use proto::ingestion::v1::ingestion_service_client::IngestionServiceClient;
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use proto::oms::v1::oms_service_client::OmsServiceClient;
use proto::risk::v1::risk_service_client::RiskServiceClient;

use crate::board::Board;
use crate::feed::Sources;
use crate::http::Api;
use crate::settings::{Sections, Settings};

/// The bound portal service.
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
        // The board's sources, called with the portal's service token.
        let peers = common::grpc::Connector::new(&settings.auth, crate::SPEC.name);
        let channel = |name: &str| -> anyhow::Result<common::grpc::Channel> {
            let url = settings
                .peer(name)
                .map_err(|e| anyhow::anyhow!("peers: {e}"))?;
            peers.channel(name, &url, Duration::from_secs(5), Duration::from_secs(30))
        };
        let sources = Sources {
            master_data: MasterDataServiceClient::new(channel("master-data")?),
            ingestion: IngestionServiceClient::new(channel("ingestion")?),
        };
        let board = Arc::new(Board::new());
        let activity = Arc::new(crate::activity::Activity::default());
        let stopping = CancellationToken::new();
        let api = Api {
            board: board.clone(),
            activity: activity.clone(),
            historical: HistoricalServiceClient::new(channel("historical")?),
            master_data: MasterDataServiceClient::new(channel("master-data")?),
            risk: RiskServiceClient::new(channel("risk")?),
            oms: OmsServiceClient::new(channel("oms")?),
            backtests: Arc::new(tokio::sync::Semaphore::new(1)),
            settings: settings.own.board.clone(),
            streams: Arc::new(tokio::sync::Semaphore::new(settings.own.board.max_streams)),
            stopping: stopping.clone(),
        };
        let parts = Parts {
            http: common::server::info_routes(info.clone()).merge(crate::http::router(api)),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone())),
            registry: prometheus::Registry::new(),
        };
        let mut host = Host::bind(
            crate::SPEC,
            &settings,
            info.clone(),
            backends.clone(),
            parts,
        )
        .await
        .context("bind")?;
        let group = format!("portal.board.{}", info.instance_id);
        let bus = backends.bus.clone();
        host.spawn("board", move |token| {
            crate::feed::run(board, activity, sources, bus, group, token)
        });
        // The board's streams end when the service stops, so draining does not wait on them.
        host.spawn(
            "board-streams",
            move |token: CancellationToken| async move {
                token.cancelled().await;
                stopping.cancel();
                Ok(())
            },
        );
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}
