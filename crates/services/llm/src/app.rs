//! Wiring: the models, the memory, the peers the tasks read and the routes into a bound host,
//! with the memory's news consumer as a background task.

use std::time::Duration;

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;
use proto::decision::v1::decision_service_client::DecisionServiceClient;
use proto::emotion::v1::emotion_service_client::EmotionServiceClient;
use proto::ingestion::v1::ingestion_service_client::IngestionServiceClient;
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use proto::oms::v1::oms_service_client::OmsServiceClient;

use crate::settings::{Sections, Settings};

/// The bound llm service.
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
        let paths = crate::models::search_paths(&settings.own.llm.models_dir, &settings.data_dir);
        let llm = crate::service::Llm::new(settings.own.llm.clone(), paths)
            .context("the remote model server")?;
        let models: Vec<String> = llm.models().into_iter().map(|m| m.id).collect();
        tracing::info!(?models, "offline models installed");
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let memories = crate::memories::Memories::new(
            llm.clone(),
            backends.db.clone(),
            settings.own.llm.memory.clone(),
            settings.consumer.clone(),
            clock,
        );
        // The services the tasks read, called with this service's token.
        let connector = common::grpc::Connector::new(&settings.auth, crate::SPEC.name);
        let timeout = Duration::from_millis(settings.own.llm.tasks.peer_timeout_ms);
        let channel = |name: &str| -> anyhow::Result<common::grpc::Channel> {
            let url = settings
                .peer(name)
                .map_err(|e| anyhow::anyhow!("peers: {e}"))?;
            connector.channel(name, &url, Duration::from_secs(5), timeout)
        };
        let peers = crate::tasks::Peers {
            master_data: MasterDataServiceClient::new(channel("master-data")?),
            ingestion: IngestionServiceClient::new(channel("ingestion")?),
            emotion: EmotionServiceClient::new(channel("emotion")?),
            oms: OmsServiceClient::new(channel("oms")?),
            decision: DecisionServiceClient::new(channel("decision")?),
        };
        let tasks = crate::tasks::Tasks::new(
            llm.clone(),
            memories.clone(),
            peers,
            settings.own.llm.tasks.clone(),
            clock,
        );
        let registry = prometheus::Registry::new();
        let consumer_metrics =
            common::consumer::ConsumerMetrics::register(crate::SPEC.name, &registry)
                .map_err(|e| anyhow::anyhow!("register consumer metrics: {e}"))?;
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(llm))
                .merge(crate::http_tasks::router(memories.clone(), tasks.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(
                info.clone(),
                memories.clone(),
                tasks,
            )),
            registry,
        };
        let (bus, db) = (backends.bus.clone(), backends.db.clone());
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        if settings.own.llm.memory.learn_from_news {
            host.spawn("memory-news", move |token| {
                memories.follow_news(bus, db, consumer_metrics, token)
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
