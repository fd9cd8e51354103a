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

/// Every service, in start order: registry order, except that a service starts after the
/// peers it calls (their bound addresses go into its `[peers]`): the rule service before ta,
/// risk and decision (they load its active rule sets at start), decision after risk and oms,
/// prediction after historical and master-data, llm after the services its tasks read
/// (emotion, ingestion, master-data, oms, decision); the SSO first, so every other service
/// verifies tokens with the keys it publishes; the config service next, so the others fetch
/// their configuration from it at start.
pub fn members() -> Vec<Member> {
    vec![
        Member::of::<sso::App>(),
        Member::of::<config_svc::App>(),
        Member::of::<ingestion::App>(),
        Member::of::<historical::App>(),
        Member::of::<master_data::App>(),
        Member::of::<rule::App>(),
        Member::of::<ta::App>(),
        Member::of::<prediction::App>(),
        Member::of::<risk::App>(),
        Member::of::<oms::App>(),
        Member::of::<decision::App>(),
        Member::of::<sso_ui::App>(),
        Member::of::<notification::App>(),
        Member::of::<emotion::App>(),
        Member::of::<llm::App>(),
        Member::of::<portal::App>(),
        Member::of::<monitoring::App>(),
    ]
}

/// Where the fleet's market comes from.
#[derive(Debug, Clone, Default)]
pub enum Market {
    /// No broker: market-data services run without a feed (tests of the runtime).
    #[default]
    None,
    /// The FastConnect simulator, started in this process (what `qts up` does by default).
    Simulator(Box<SimOptions>),
    /// A real broker: `broker::Settings` as TOML (`generation = "v2"`, `[data]`, ...).
    Broker(toml::Table),
}

/// How `qts up` runs its simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The simulator's configuration (seed, start, speed, ports, state directory).
    pub config: fcsim::SimConfig,
    /// The OMS trades the simulator's FastConnect v3 demo key instead of the v2 one: its
    /// trading session then waits for a person to enter an OTP (the simulator's "SMS" goes to
    /// its log and to `config.otp_outbox`), as SSI's v3 keys do. The OMS logs in with its own
    /// key (the config service keeps handing the market-data services their v2 tokens).
    pub trading_v3: bool,
}

impl SimOptions {
    /// The simulator with `config`, the OMS on its v2 demo key (a session that renews itself).
    pub fn new(config: fcsim::SimConfig) -> Self {
        Self {
            config,
            trading_v3: false,
        }
    }
}

/// The services that talk to the broker and take a `[broker]` section.
pub const BROKER_SERVICES: [&str; 4] = ["ingestion", "historical", "master-data", "oms"];

/// The service that trades: with the simulator it gets the trading side of `[broker]` and the
/// accounts to trade.
pub const TRADING_SERVICE: &str = "oms";

/// Parses a `--set section.key=value` option (the commands that start or reach the fleet).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(format!("invalid key {k:?}: use section.key, e.g. bus.kind"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

/// How to start the fleet.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where the market comes from.
    pub market: Market,
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
    /// The sources for one service: its config file and env, plus the fleet-wide overrides,
    /// plus `overlay` (its `[broker]`, the market clock).
    pub(crate) fn sources(&self, spec: &ServiceSpec, overlay: Option<String>) -> Sources {
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
        Sources { file, overlay, env }
    }
}

/// The overlay layer from its text (none when empty).
fn overlay_of(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// A service of a started fleet.
#[derive(Debug, Clone, Copy)]
pub struct Running {
    /// Registry entry.
    pub spec: &'static ServiceSpec,
    /// Where it listens.
    pub addrs: Addrs,
}

/// The simulator a fleet runs.
#[derive(Debug, Clone)]
pub struct RunningSim {
    /// FC Data base URL.
    pub data_url: String,
    /// FC Trading (and FastConnect v3 plain-HTTP) base URL.
    pub trading_url: String,
    /// The simulated instant when it started.
    pub started_at: time::OffsetDateTime,
    /// The wall instant at which the simulator showed `started_at` (the services' clock
    /// anchor).
    pub anchor: time::OffsetDateTime,
    /// Simulated seconds per wall second.
    pub speed: f64,
}

/// A started fleet.
pub struct Fleet {
    /// The simulator, when the fleet runs one.
    pub simulator: Option<RunningSim>,
    /// Every service and its addresses, in start order (see [`members`]).
    pub services: Vec<Running>,
    /// The shared in-process bus (when services use it).
    pub bus: Option<SharedBus>,
    /// The data directory of the first service (where embedded files live).
    pub data_dir: PathBuf,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
}

impl Fleet {
    /// Loads and checks every service's settings, then starts the services one by one in
    /// [`members`] order, each serving as soon as it is built (the later ones call it while
    /// they start). Fails, starting nothing, if any settings are bad; if a service's backends
    /// or build fail, what was started stops before the error is returned.
    pub async fn start(options: &Options, token: CancellationToken) -> anyhow::Result<Self> {
        Self::start_members(members(), options, token).await
    }

    /// [`Fleet::start`] with the given members (tests put in a service of their own).
    pub async fn start_members(
        members: Vec<Member>,
        options: &Options,
        token: CancellationToken,
    ) -> anyhow::Result<Self> {
        let mut tasks = JoinSet::new();
        // Stops what this start began if a later service fails to start; `token` stops it all.
        let fleet_token = token.child_token();
        // The market first: its clock and URLs go into the services' settings.
        let (simulator, overlay, trading_overlay, via_config) = match &options.market {
            Market::None => (None, None, None, None),
            Market::Broker(table) => {
                let mut wrapped = toml::Table::new();
                wrapped.insert("broker".to_owned(), toml::Value::Table(table.clone()));
                let text = toml::to_string(&wrapped).context("broker settings")?;
                (None, Some(text.clone()), Some(text), None)
            }
            Market::Simulator(sim) => {
                let (running, overlays) =
                    start_simulator(sim, &mut tasks, fleet_token.clone()).await?;
                let via = (overlays.via_config, overlays.config);
                (
                    Some(running),
                    Some(overlays.data),
                    Some(overlays.trading),
                    Some(via),
                )
            }
        };
        let clock = simulator
            .as_ref()
            .map(|s| common::settings::ClockSettings::simulated(s.started_at, s.anchor, s.speed));
        // Every service calls its peers as its own service account, with a secret made for
        // this start (the SSO is told them all).
        let secrets: Vec<(&'static str, String)> = members
            .iter()
            .map(|m| {
                let secret = format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                );
                (m.spec.name, secret)
            })
            .collect();
        // Configuration comes from the fleet's config service, when it has one.
        let has_config = members.iter().any(|m| m.spec.name == "config");
        let mut prepared = Vec::new();
        for member in members {
            let mut text = String::new();
            if member.spec.name == "sso" {
                text.push_str("[bootstrap.service_clients]\n");
                for (name, secret) in &secrets {
                    text.push_str(&format!("{name:?} = {secret:?}\n"));
                }
            }
            if let Some(c) = &clock {
                text.push_str(&format!(
                    "[clock]\nstart = {:?}\nanchor = {:?}\nspeed = {:?}\n",
                    c.start, c.anchor, c.speed
                ));
            }
            // Every service started after the config service takes its configuration from it.
            if has_config && !matches!(member.spec.name, "sso" | "config") {
                text.push_str("[remote_config]\nenabled = true\n");
            }
            // Paper trading is what `qts up` does with its simulator: every strategy trades.
            if simulator.is_some() && member.spec.name == "decision" {
                text.push_str("[decision]\nenable_all = true\n");
            }
            // The simulator's FC Data quota is 50 requests a second, 1,500 a minute: the
            // prediction service's history (VN30, 400 days) backfills in seconds, not minutes.
            if simulator.is_some() && member.spec.name == "historical" {
                text.push_str("[backfill]\nrequests_per_second = 20.0\n");
            }
            // The simulator's news feed (Vietnamese and English, tied to its price moves) is
            // what the emotion service collects.
            if let Some(sim) = &simulator
                && member.spec.name == "emotion"
            {
                let feed = format!("{}news/rss?limit=200", sim.data_url);
                text.push_str(&format!("[emotion]\nfeeds = [{feed:?}]\n"));
            }
            if let Some((_, config)) = &via_config
                && member.spec.name == "config"
            {
                text.push_str(config);
            }
            let broker = if member.spec.name == TRADING_SERVICE {
                &trading_overlay
            } else {
                &overlay
            };
            let own_tokens = match broker {
                Some(broker) if BROKER_SERVICES.contains(&member.spec.name) => {
                    format!("{text}{broker}")
                }
                Some(_) | None => text.clone(),
            };
            // With the simulator, a service that checks tokens takes its SSI tokens from the
            // config service (which holds the keys); one that does not (auth.enabled off)
            // cannot be given any, so it keeps the keys and logs in itself.
            let via = via_config.as_ref().and_then(|((data, trading), _)| {
                BROKER_SERVICES.contains(&member.spec.name).then(|| {
                    let broker = if member.spec.name == TRADING_SERVICE {
                        trading
                    } else {
                        data
                    };
                    format!("{text}{broker}")
                })
            });
            // Every service's settings are checked before any starts.
            let (loaded, text) = match via {
                Some(via) => {
                    let loaded = (member.prepare)(&options.sources(member.spec, overlay_of(&via)))
                        .with_context(|| format!("settings of {}", member.spec.name))?;
                    if loaded.shared.auth.enabled {
                        (loaded, via)
                    } else {
                        let loaded = (member.prepare)(
                            &options.sources(member.spec, overlay_of(&own_tokens)),
                        )
                        .with_context(|| format!("settings of {}", member.spec.name))?;
                        (loaded, own_tokens)
                    }
                }
                None => {
                    let loaded =
                        (member.prepare)(&options.sources(member.spec, overlay_of(&own_tokens)))
                            .with_context(|| format!("settings of {}", member.spec.name))?;
                    (loaded, own_tokens)
                }
            };
            prepared.push((member, loaded, text));
        }
        let data_dir = prepared
            .first()
            .map(|(_, p, _)| p.shared.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("data"));

        let mut shared_bus: Option<SharedBus> = None;
        let shared_cache = MemoryCache::new("");
        let mut started = Vec::new();
        for (member, mut prepared, mut text) in prepared {
            // The services started so far are this one's peers at the addresses they bound.
            if !started.is_empty() {
                text.push_str("[peers]\n");
                for (spec, addrs) in &started {
                    let (spec, addrs): (&&ServiceSpec, &Addrs) = (spec, addrs);
                    text.push_str(&format!("{:?} = \"http://{}\"\n", spec.name, addrs.grpc));
                }
                // The monitoring service probes every service at the admin address it bound.
                if member.spec.name == "monitoring" {
                    text.push_str("[fleet.targets]\n");
                    for (spec, addrs) in &started {
                        let (spec, addrs): (&&ServiceSpec, &Addrs) = (spec, addrs);
                        text.push_str(&format!("{:?} = \"http://{}\"\n", spec.name, addrs.admin));
                    }
                }
                // Tokens are verified with the keys the fleet's SSO publishes.
                if let Some((spec, addrs)) = started.iter().find(|(s, _)| s.name == "sso") {
                    let spec: &ServiceSpec = spec;
                    let secret = secrets
                        .iter()
                        .find(|(n, _)| *n == member.spec.name)
                        .map(|(_, s)| s.as_str())
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "[auth]\nsso_url = \"http://{}{}\"\nclient_secret = {secret:?}\n",
                        addrs.http,
                        spec.route_prefix()
                    ));
                }
                prepared = (member.prepare)(&options.sources(member.spec, overlay_of(&text)))
                    .with_context(|| format!("settings of {}", member.spec.name))?;
            }
            let name = member.spec.name;
            let built = async {
                let Prepared {
                    shared: settings,
                    migrations,
                    build,
                } = prepared;
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
                        shared_cache
                            .with_prefix(common::server::cache_prefix(member.spec, &settings)),
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
                    .with_context(|| format!("{name}: backends"))?
                    .follow_config(member.spec, &settings)
                    .await
                    .with_context(|| format!("{name}: configuration"))?;
                build(backends)
                    .await
                    .with_context(|| format!("start {name}"))
            }
            .await;
            let (addrs, run) = match built {
                Ok(built) => built,
                Err(e) => {
                    // What already runs (the simulator, the services before this one) stops
                    // before the error is returned.
                    fleet_token.cancel();
                    while tasks.join_next().await.is_some() {}
                    return Err(e);
                }
            };
            // It serves at once: the services after it call it while they start (they fetch
            // their configuration and SSI tokens from the config service).
            let (spec, child) = (member.spec, fleet_token.clone());
            tasks.spawn(async move { (spec.name, run(child).await) });
            started.push((spec, addrs));
        }
        let services = started
            .into_iter()
            .map(|(spec, addrs)| Running { spec, addrs })
            .collect();
        Ok(Self {
            simulator,
            services,
            bus: shared_bus,
            data_dir,
            tasks,
        })
    }

    /// The addresses of service `name`.
    pub fn addrs(&self, name: &str) -> anyhow::Result<Addrs> {
        self.services
            .iter()
            .find(|s| s.spec.name == name)
            .map(|s| s.addrs)
            .with_context(|| format!("{name} is in the fleet"))
    }

    /// The fleet's bus: the in-process one its services share, or a connection to the one
    /// `overrides` name (`bus.kind=kafka`, ...).
    pub async fn event_bus(&self, overrides: &[(String, String)]) -> anyhow::Result<SharedBus> {
        match &self.bus {
            Some(bus) => Ok(bus.clone()),
            None => crate::feed::open_bus(None, overrides).await,
        }
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

/// The settings overlays that point the services at the simulator.
struct SimOverlays {
    /// `[broker]` with its FC Data side (the market-data services).
    data: String,
    /// `[broker]` with both sides, and `[orders]` with the demo key's accounts (the OMS).
    trading: String,
    /// The same two with `tokens = "config"` and without the SSI credentials (the private key
    /// stays: the OMS signs its orders), for services that check tokens.
    via_config: (String, String),
    /// The config service's `[ssi]`: it holds the demo credentials and hands out the tokens.
    config: String,
}

/// Starts the simulator on its ports (or free ones) as a fleet task; answers where it runs and
/// the overlays that point the services at it.
async fn start_simulator(
    options: &SimOptions,
    tasks: &mut JoinSet<(&'static str, anyhow::Result<()>)>,
    token: CancellationToken,
) -> anyhow::Result<(RunningSim, SimOverlays)> {
    use fcsim::config::{
        DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PRIVATE_KEY_XML_B64,
        DEMO_TRADING_CONSUMER_ID,
    };
    let config = options.config.clone();
    config.validate().context("the simulator configuration")?;
    let (data_port, trading_port, speed) = (config.data_port, config.trading_port, config.speed);
    // The OMS trades the demo key (the simulator knows its public half; QTS ships the private
    // half for it), when the configuration keeps it.
    let demo_trading = config
        .trading_consumers
        .iter()
        .find(|c| c.consumer_id == DEMO_TRADING_CONSUMER_ID)
        .map(|c| {
            (
                c.consumer_secret.clone(),
                c.pin.clone(),
                c.accounts.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
            )
        });
    let consumer = config
        .data_consumers
        .first()
        .map(|c| (c.consumer_id.clone(), c.consumer_secret.clone()))
        .unwrap_or_else(|| {
            (
                DEMO_DATA_CONSUMER_ID.to_owned(),
                DEMO_DATA_CONSUMER_SECRET.to_owned(),
            )
        });
    // Generating the market's history takes a few seconds of CPU: off the runtime's threads.
    let simulator = tokio::task::spawn_blocking(move || fcsim::Simulator::new(config))
        .await
        .context("simulator task")?
        .context("build the simulated market")?;
    let data = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, data_port))
        .await
        .with_context(|| format!("bind the simulator's FC Data port {data_port}"))?;
    let trading = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, trading_port))
        .await
        .with_context(|| format!("bind the simulator's FC Trading port {trading_port}"))?;
    let data_url = format!("http://{}/", data.local_addr()?);
    let trading_url = format!("http://{}/", trading.local_addr()?);
    // Read together, so the services' clock shows what the simulator's does.
    let (started_at, anchor) = (simulator.now(), time::OffsetDateTime::now_utc());
    tasks.spawn(async move {
        let result = fcsim::serve_all(simulator, data, trading, token)
            .await
            .context("simulator");
        ("simulator", result)
    });
    // The config service holds the simulator's keys and gives the services their tokens.
    let mut seed = toml::Table::new();
    let mut ssi = toml::Table::new();
    for (k, v) in [
        ("data_consumer_id", consumer.0.as_str()),
        ("data_consumer_secret", consumer.1.as_str()),
    ] {
        seed.insert(k.to_owned(), toml::Value::String(v.to_owned()));
    }
    if let Some((secret, pin, _)) = &demo_trading {
        for (k, v) in [
            ("trading_consumer_id", DEMO_TRADING_CONSUMER_ID),
            ("trading_consumer_secret", secret.as_str()),
            ("trading_pin", pin.as_str()),
        ] {
            seed.insert(k.to_owned(), toml::Value::String(v.to_owned()));
        }
    }
    for (k, v) in [
        ("enabled", toml::Value::Boolean(true)),
        ("generation", toml::Value::String("v2".to_owned())),
        ("data_url", toml::Value::String(data_url.clone())),
        ("trading_url", toml::Value::String(trading_url.clone())),
        ("seed", toml::Value::Table(seed)),
    ] {
        ssi.insert(k.to_owned(), v);
    }
    let mut root = toml::Table::new();
    root.insert("ssi".to_owned(), toml::Value::Table(ssi));
    let config_overlay = toml::to_string(&root).context("config service ssi settings")?;
    let mut data_section = toml::Table::new();
    for (k, v) in [
        ("url", data_url.as_str()),
        ("hub_url", data_url.as_str()),
        ("consumer_id", consumer.0.as_str()),
        ("consumer_secret", consumer.1.as_str()),
    ] {
        data_section.insert(k.to_owned(), toml::Value::String(v.to_owned()));
    }
    // The simulator sets no FC Data rate limit of SSI's: the client need not pace itself.
    let mut http = toml::Table::new();
    http.insert("rate_limits".to_owned(), toml::Value::Array(Vec::new()));
    data_section.insert("http".to_owned(), toml::Value::Table(http));
    let mut broker = toml::Table::new();
    broker.insert(
        "generation".to_owned(),
        toml::Value::String("v2".to_owned()),
    );
    broker.insert("data".to_owned(), toml::Value::Table(data_section));
    let mut root = toml::Table::new();
    root.insert("broker".to_owned(), toml::Value::Table(broker.clone()));
    let data_overlay = toml::to_string(&root).context("simulator broker settings")?;
    // The demo key's accounts, for the OMS on the v3 key (`SimOptions::trading_v3`).
    let demo_accounts = demo_trading.as_ref().map(|(_, _, a)| a.clone());
    let trading_overlay = match demo_trading {
        Some((secret, pin, accounts)) => {
            let mut trading = toml::Table::new();
            for (k, v) in [
                ("url", trading_url.as_str()),
                ("hub_url", trading_url.as_str()),
                ("consumer_id", DEMO_TRADING_CONSUMER_ID),
                ("consumer_secret", secret.as_str()),
                ("private_key", DEMO_PRIVATE_KEY_XML_B64),
                ("pin", pin.as_str()),
            ] {
                trading.insert(k.to_owned(), toml::Value::String(v.to_owned()));
            }
            // The client keeps SSI's trading rate limits: the simulator enforces them too.
            broker.insert("trading".to_owned(), toml::Value::Table(trading));
            let mut orders = toml::Table::new();
            orders.insert(
                "accounts".to_owned(),
                toml::Value::Array(accounts.into_iter().map(toml::Value::String).collect()),
            );
            let mut root = toml::Table::new();
            root.insert("broker".to_owned(), toml::Value::Table(broker));
            root.insert("orders".to_owned(), toml::Value::Table(orders));
            toml::to_string(&root).context("simulator trading settings")?
        }
        None => {
            tracing::warn!(
                "the simulator configuration has no {DEMO_TRADING_CONSUMER_ID} key: the OMS gets no trading credentials"
            );
            data_overlay.clone()
        }
    };
    let v3 = match (demo_accounts, options.trading_v3) {
        (Some(accounts), true) => Some(v3_trading_overlay(&trading_url, &accounts)?),
        (Some(_), false) | (None, _) => None,
    };
    // The v3 key logs itself in (after an OTP): the same overlay with or without tokens from
    // the config service.
    let via_config = (
        via_config(&data_overlay)?,
        match &v3 {
            Some(overlay) => overlay.clone(),
            None => via_config(&trading_overlay)?,
        },
    );
    let trading_overlay = v3.unwrap_or(trading_overlay);
    Ok((
        RunningSim {
            data_url,
            trading_url,
            started_at,
            anchor,
            speed,
        },
        SimOverlays {
            data: data_overlay,
            trading: trading_overlay,
            via_config,
            config: config_overlay,
        },
    ))
}

/// `[broker]` on the simulator's FastConnect v3 demo key (REST and stream on its trading port)
/// and `[orders]` with `accounts`: the OMS's settings when its session needs an OTP.
fn v3_trading_overlay(trading_url: &str, accounts: &[String]) -> anyhow::Result<String> {
    use fcsim::config::{DEMO_PRIVATE_KEY_XML_B64, DEMO_V3_API_KEY, DEMO_V3_API_SECRET};
    let base = trading_url.trim_end_matches('/');
    let stream = format!("{}/ws/v3", base.replacen("http://", "ws://", 1));
    let mut broker = toml::Table::new();
    for (k, v) in [
        ("generation", "v3"),
        ("api_key", DEMO_V3_API_KEY),
        ("api_secret", DEMO_V3_API_SECRET),
        ("api_url", base),
        ("stream_url", stream.as_str()),
        ("private_key", DEMO_PRIVATE_KEY_XML_B64),
    ] {
        broker.insert(k.to_owned(), toml::Value::String(v.to_owned()));
    }
    let mut orders = toml::Table::new();
    orders.insert(
        "accounts".to_owned(),
        toml::Value::Array(accounts.iter().cloned().map(toml::Value::String).collect()),
    );
    let mut root = toml::Table::new();
    root.insert("broker".to_owned(), toml::Value::Table(broker));
    root.insert("orders".to_owned(), toml::Value::Table(orders));
    toml::to_string(&root).context("simulator v3 trading settings")
}

/// `overlay` with `broker.tokens = "config"` and without the SSI credentials the config
/// service holds in their place.
fn via_config(overlay: &str) -> anyhow::Result<String> {
    let mut root: toml::Table = toml::from_str(overlay).context("broker overlay")?;
    if let Some(toml::Value::Table(broker)) = root.get_mut("broker") {
        broker.insert(
            "tokens".to_owned(),
            toml::Value::String("config".to_owned()),
        );
        for side in ["data", "trading"] {
            if let Some(toml::Value::Table(t)) = broker.get_mut(side) {
                for key in ["consumer_id", "consumer_secret", "pin"] {
                    t.remove(key);
                }
            }
        }
    }
    toml::to_string(&root).context("broker overlay")
}
