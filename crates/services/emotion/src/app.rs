//! Wiring: the lexicons, the store and routes into a bound host, with the securities follower
//! and one collector per feed as background tasks.

use anyhow::Context;
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::shutdown::CancellationToken;
use common::store::Migrations;

use crate::collect::Feed;
use crate::metrics::Metrics;
use crate::service::Emotion;
use crate::settings::{Sections, Settings};

/// The bound emotion service.
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
        let metrics = Metrics::register(&registry).context("register emotion metrics")?;
        let clock = settings
            .clock
            .clock()
            .map_err(|e| anyhow::anyhow!("clock settings: {e}"))?;
        let emotion = Emotion::new(
            backends.db.clone(),
            settings.own.emotion.clone(),
            clock,
            metrics,
        )?;
        let restored = emotion
            .restore()
            .await
            .context("rebuild the sentiment series")?;
        tracing::info!(items = restored, "sentiment series rebuilt from the store");
        let feeds = settings
            .own
            .emotion
            .feeds
            .iter()
            .map(|f| Feed::parse(f).map_err(|e| anyhow::anyhow!("emotion.feeds: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let parts = Parts {
            http: common::server::info_routes(info.clone())
                .merge(crate::http::router(emotion.clone())),
            grpc: tonic::service::Routes::new(crate::grpc::server(info.clone(), emotion.clone())),
            registry,
        };
        let bus = backends.bus.clone();
        let group = format!("emotion.securities.{}", info.instance_id);
        let mut host = Host::bind(crate::SPEC, &settings, info, backends, parts).await?;
        // The same roles as the HTTP operation that does this.
        host.grpc_roles(&[("SubmitItems", &["service", "ops", "admin"])]);
        let follower = emotion.clone();
        host.spawn("securities", move |token| {
            follower.follow_securities(bus, group, token)
        });
        for feed in feeds {
            let collector = emotion.clone();
            host.spawn("collector", move |token| {
                crate::collect::run(collector, feed, token)
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
