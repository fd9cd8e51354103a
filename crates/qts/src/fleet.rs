//! All 17 services in one process (`qts up`): one in-process bus and one in-memory cache
//! shared by every service, one SQLite file per service under the data directory, unless a
//! service's settings switch a backend to Kafka, PostgreSQL or Redis.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use common::bus::SharedBus;
use common::bus::embedded::EmbeddedBus;
use common::cache::{MemoryCache, SharedCache};
use common::registry::ServiceSpec;
use common::server::{Addrs, Backends};
use common::service::Service;
use common::settings::{BusKind, CacheKind, ServiceSettings, Sources};
use common::shutdown::CancellationToken;
use common::store::Migrations;
use tokio::task::JoinSet;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type RunFn = Box<dyn FnOnce(CancellationToken) -> BoxFuture<anyhow::Result<()>> + Send>;
type BuildFn = Box<dyn FnOnce(Backends) -> BoxFuture<anyhow::Result<(Addrs, RunFn)>> + Send>;

/// One service the fleet can start: anything implementing [`Service`], the same trait its own
/// `main` and its API tests start it through.
pub struct Member {
    /// Registry entry.
    pub spec: &'static ServiceSpec,
    prepare: fn(&Sources) -> Result<Prepared, common::settings::Error>,
}

/// A member whose settings loaded: what the fleet needs to connect its backends, and how to
/// build it once they are connected.
struct Prepared {
    shared: ServiceSettings,
    migrations: Option<&'static Migrations>,
    build: BuildFn,
}

impl Member {
    /// The member for service `S`.
    pub fn of<S: Service>() -> Self {
        Self {
            spec: S::SPEC,
            prepare: prepare::<S>,
        }
    }
}

/// Loads `S`'s settings (shared and own sections, validated together) and keeps them for
/// building it.
fn prepare<S: Service>(sources: &Sources) -> Result<Prepared, common::settings::Error> {
    let settings = S::load_settings(sources)?;
    Ok(Prepared {
        shared: settings.shared.clone(),
        migrations: S::MIGRATIONS,
        build: Box::new(move |backends| {
            Box::pin(async move {
                let app = S::build(settings, backends).await?;
                let addrs = app.addrs()?;
                let run: RunFn = Box::new(move |token| Box::pin(app.run(token)));
                Ok((addrs, run))
            })
        }),
    })
}

/// Every service, in registry order.
pub fn members() -> Vec<Member> {
    vec![
        Member::of::<ingestion::App>(),
        Member::of::<historical::App>(),
        Member::of::<ta::App>(),
        Member::of::<prediction::App>(),
        Member::of::<decision::App>(),
        Member::of::<risk::App>(),
        Member::of::<oms::App>(),
        Member::of::<master_data::App>(),
        Member::of::<rule::App>(),
        Member::of::<config_svc::App>(),
        Member::of::<sso::App>(),
        Member::of::<sso_ui::App>(),
        Member::of::<notification::App>(),
        Member::of::<llm::App>(),
        Member::of::<emotion::App>(),
        Member::of::<portal::App>(),
        Member::of::<monitoring::App>(),
    ]
}

/// How to start the fleet.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where SQLite files and the bus log go (overrides every service's `data_dir`).
    pub data_dir: Option<PathBuf>,
    /// Bind every service to port 0 (tests, or several fleets on one machine).
    pub ephemeral_ports: bool,
    /// `key=value` settings applied to every service (e.g. `bus.kind=kafka`); a service's own
    /// environment variable for the same key wins.
    pub overrides: Vec<(String, String)>,
    /// The environment (normally the process's).
    pub env: HashMap<String, String>,
}

impl Options {
    /// The sources for one service: its config file and env, plus the fleet-wide overrides.
    fn sources(&self, spec: &ServiceSpec) -> Sources {
        let prefix = spec.env_prefix();
        let mut env = self.env.clone();
        let mut put = |key: &str, value: &str| {
            let var = format!("{prefix}__{}", key.replace('.', "__").to_ascii_uppercase());
            env.entry(var).or_insert_with(|| value.to_owned());
        };
        for (k, v) in &self.overrides {
            put(k, v);
        }
        if let Some(dir) = &self.data_dir {
            put("data_dir", &dir.display().to_string());
        }
        if self.ephemeral_ports {
            for listener in ["http", "grpc", "admin"] {
                put(&format!("{listener}.port"), "0");
            }
        }
        let file = self.env.get(&format!("{prefix}_CONFIG")).map(PathBuf::from);
        Sources { file, env }
    }
}

/// A service of a started fleet.
#[derive(Debug, Clone, Copy)]
pub struct Running {
    /// Registry entry.
    pub spec: &'static ServiceSpec,
    /// Where it listens.
    pub addrs: Addrs,
}

/// A started fleet.
pub struct Fleet {
    /// Every service and its addresses, in registry order.
    pub services: Vec<Running>,
    /// The shared in-process bus (when services use it).
    pub bus: Option<SharedBus>,
    /// The data directory of the first service (where embedded files live).
    pub data_dir: PathBuf,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
}

impl Fleet {
    /// Loads every service's settings, connects backends, binds every listener and starts
    /// serving. Fails (starting nothing) if any service's settings or backends fail.
    pub async fn start(options: &Options, token: CancellationToken) -> anyhow::Result<Self> {
        Self::start_members(members(), options, token).await
    }

    /// [`Fleet::start`] with the given members (tests put in a service of their own).
    pub async fn start_members(
        members: Vec<Member>,
        options: &Options,
        token: CancellationToken,
    ) -> anyhow::Result<Self> {
        let mut prepared = Vec::new();
        for member in members {
            let loaded = (member.prepare)(&options.sources(member.spec))
                .with_context(|| format!("settings of {}", member.spec.name))?;
            prepared.push((member, loaded));
        }
        let data_dir = prepared
            .first()
            .map(|(_, p)| p.shared.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("data"));

        let mut shared_bus: Option<SharedBus> = None;
        let shared_cache = MemoryCache::new("");
        let mut started = Vec::new();
        for (member, prepared) in prepared {
            let Prepared {
                shared: settings,
                migrations,
                build,
            } = prepared;
            let name = member.spec.name;
            let bus: SharedBus = match settings.bus.kind {
                BusKind::Embedded => match &shared_bus {
                    Some(bus) => bus.clone(),
                    None => {
                        let bus: SharedBus = Arc::new(
                            EmbeddedBus::open(&settings.bus.embedded, &settings.data_dir)
                                .context("open embedded bus")?,
                        );
                        shared_bus = Some(bus.clone());
                        bus
                    }
                },
                BusKind::Kafka => Arc::new(
                    common::bus::kafka::KafkaBus::connect(&settings.bus.kafka, name)
                        .context("create kafka clients")?,
                ),
            };
            let cache: SharedCache = match settings.cache.kind {
                CacheKind::Memory => Arc::new(
                    shared_cache.with_prefix(common::server::cache_prefix(member.spec, &settings)),
                ),
                CacheKind::Redis => {
                    use secrecy::ExposeSecret;
                    Arc::new(
                        common::cache::RedisCache::connect(
                            settings.cache.url.expose_secret(),
                            common::server::cache_prefix(member.spec, &settings),
                        )
                        .await
                        .with_context(|| format!("{name}: connect to redis"))?,
                    )
                }
            };
            let db = common::server::connect_db(member.spec, &settings, migrations)
                .await
                .with_context(|| format!("{name}: database"))?;
            let backends = Backends::with(bus, cache, db)
                .await
                .with_context(|| format!("{name}: backends"))?;
            let (addrs, run) = build(backends)
                .await
                .with_context(|| format!("start {name}"))?;
            started.push((member.spec, addrs, run));
        }

        let mut tasks = JoinSet::new();
        let mut services = Vec::new();
        for (spec, addrs, run) in started {
            let child = token.clone();
            tasks.spawn(async move { (spec.name, run(child).await) });
            services.push(Running { spec, addrs });
        }
        Ok(Self {
            services,
            bus: shared_bus,
            data_dir,
            tasks,
        })
    }

    /// The HTTP address of each service, by name (what the gateway routes to).
    pub fn http_routes(&self) -> HashMap<String, (SocketAddr, SocketAddr)> {
        self.services
            .iter()
            .map(|s| (s.spec.name.to_owned(), (s.addrs.http, s.addrs.admin)))
            .collect()
    }

    /// Waits until every service has stopped; the first failure is returned.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((name, Err(err))) => {
                    tracing::error!(service = name, error = %common::error::chain(err.as_ref()), "service failed");
                    first_error.get_or_insert(err);
                }
                Err(err) => {
                    first_error.get_or_insert(anyhow::anyhow!("service task: {err}"));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
