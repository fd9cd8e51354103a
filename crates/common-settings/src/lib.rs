//! Layered, validated settings shared by every service, and the fleet's service [`registry`].
//!
//! Layers, lowest first: `crates/common-settings/config/default.toml` (compiled in) < the service's own
//! `config/default.toml` (compiled in) < the file at `$<SERVICE>_CONFIG` < environment variables
//! `<SERVICE>__<SECTION>__<KEY>`. Ports default to the [registry]. Unknown keys
//! are errors, so a typo never passes silently. [`ServiceSettings::validate`] runs before anything
//! binds.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub mod clock;
pub mod registry;

pub use clock::{ClockSettings, MarketClock};

use crate::registry::ServiceSpec;

const SHARED_DEFAULTS: &str = include_str!("../config/default.toml");

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A layer could not be read or parsed, or a key is unknown or of the wrong type.
    #[error("settings could not be loaded")]
    Load(#[from] config::ConfigError),
    /// Values parsed but break a rule; every broken rule is listed.
    #[error("invalid settings: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// Where settings come from besides the compiled-in defaults. Tests pass these explicitly;
/// services use [`Sources::from_process`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A TOML file layered over the defaults.
    pub file: Option<PathBuf>,
    /// TOML text layered over the file and under the environment: what `qts up` gives one
    /// service (e.g. the `[broker]` of its simulator).
    pub overlay: Option<String>,
    /// Environment variables (all of them; only `<PREFIX>__*` are read).
    pub env: HashMap<String, String>,
}

impl Sources {
    /// The process environment, and the file named by `$<PREFIX>_CONFIG` if set.
    pub fn from_process(spec: &ServiceSpec) -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let file = env
            .get(&format!("{}_CONFIG", spec.env_prefix()))
            .map(PathBuf::from);
        Self {
            file,
            overlay: None,
            env,
        }
    }
}

/// A listener's address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSettings {
    /// Interface to bind.
    pub bind: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
}

impl ListenSettings {
    /// Socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}

/// Relational storage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…`, `sqlite://…`, or empty for the embedded SQLite file.
    pub url: SecretString,
    /// Pool size.
    pub max_connections: u32,
    /// Connection acquire timeout.
    pub connect_timeout_ms: u64,
}

/// Which event bus implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    /// In-process bus (one process, `qts up`).
    Embedded,
    /// Kafka protocol broker.
    Kafka,
}

/// Embedded bus options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedBusSettings {
    /// Persist the log under `{data_dir}/bus`.
    pub persist: bool,
    /// Newest events per partition kept in memory and loaded back on restart: a cache for
    /// consumers that keep up (persisted, older retained events are read from disk).
    pub retention_per_partition: usize,
    /// Size at which a partition's segment file is closed and a new one started.
    pub segment_mib: u64,
    /// Retention by size: a partition's oldest segments are deleted beyond this.
    pub retention_mib_per_partition: u64,
    /// Retention by age: a closed segment last written longer ago is deleted.
    pub retention_hours: u64,
    /// Largest delay between a write and its fsync; 0 fsyncs before publish returns.
    pub fsync_interval_ms: u64,
}

fn default_fetch_wait_max_ms() -> u64 {
    100
}

/// Kafka options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// Bootstrap servers, comma separated.
    pub brokers: String,
    /// Replication factor of created topics.
    pub replication_factor: i32,
    /// Consumer session timeout.
    pub session_timeout_ms: u64,
    /// Longest a consumer's fetch waits at the broker for data (`fetch.wait.max.ms`). A broker
    /// that answers when data arrives (Kafka) makes this only the idle polling interval; one
    /// that holds every fetch to the end (tansu) makes it the latency of each hop.
    #[serde(default = "default_fetch_wait_max_ms")]
    pub fetch_wait_max_ms: u64,
    /// Produce timeout.
    pub message_timeout_ms: u64,
    /// Idempotent producer.
    pub idempotence: bool,
    /// Prefix of every topic and consumer group on the broker (`<namespace>.market.trade.v1`),
    /// so several fleets (staging and production, or tests) can share one cluster; empty for
    /// none.
    #[serde(default)]
    pub namespace: String,
}

/// Event bus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSettings {
    /// Implementation.
    pub kind: BusKind,
    /// Embedded options.
    pub embedded: EmbeddedBusSettings,
    /// Kafka options.
    pub kafka: KafkaSettings,
}

/// Which cache implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheKind {
    /// In-process map.
    Memory,
    /// Redis server.
    Redis,
}

/// Cache.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Implementation.
    pub kind: CacheKind,
    /// Redis URL.
    pub url: SecretString,
    /// Key prefix; empty means `{service}:`.
    pub key_prefix: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-friendly, coloured.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Logs and traces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Output format.
    pub log_format: LogFormat,
    /// Default filter directive.
    pub log_level: String,
    /// OTLP/gRPC endpoint; empty disables export.
    pub otlp_endpoint: String,
}

/// Graceful shutdown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownSettings {
    /// Drain time after the shutdown signal.
    pub grace_period_secs: u64,
}

impl ShutdownSettings {
    /// The grace period.
    pub fn grace_period(&self) -> Duration {
        Duration::from_secs(self.grace_period_secs)
    }
}

/// Inbound limits of every HTTP, gRPC and admin listener, and of the `qts up` gateway: what a
/// slow, stuck or hostile client can hold.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    /// HTTP/1: time from connecting (or from the previous response) until the request headers
    /// are complete; the connection is closed after it, so half-open and idle keep-alive
    /// connections do not pile up. gRPC: time to receive the HTTP/2 preface.
    pub header_read_timeout_ms: u64,
    /// Time a request may take until its response starts; then 504 / DEADLINE_EXCEEDED.
    pub request_timeout_ms: u64,
    /// Requests served at once per listener; one more is answered at once with 503 /
    /// UNAVAILABLE, never queued.
    pub max_concurrent_requests: usize,
    /// Largest HTTP request body, and largest gRPC request message; beyond it 413 /
    /// RESOURCE_EXHAUSTED.
    pub max_body_bytes: usize,
}

impl Default for LimitsSettings {
    /// The compiled-in defaults (those of `config/default.toml`, which a test keeps equal).
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            max_concurrent_requests: 1024,
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

impl LimitsSettings {
    /// The shared defaults with `limits.<key>=<value>` overrides (other keys are ignored), as
    /// `qts up --set` gives them; validated.
    pub fn from_overrides(overrides: &[(String, String)]) -> Result<Self, Error> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            SHARED_DEFAULTS,
            config::FileFormat::Toml,
        ));
        for (key, value) in overrides {
            if key.starts_with("limits.") {
                builder = builder.set_override(key.as_str(), value.as_str())?;
            }
        }
        let limits: Self = builder.build()?.get("limits")?;
        let mut problems = Vec::new();
        limits.check(&mut problems);
        if problems.is_empty() {
            Ok(limits)
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// [`header_read_timeout_ms`](Self::header_read_timeout_ms) as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// [`request_timeout_ms`](Self::request_timeout_ms) as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Appends every broken rule to `problems`.
    fn check(&self, problems: &mut Vec<String>) {
        const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 10..=3_600_000;
        for (key, value) in [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("request_timeout_ms", self.request_timeout_ms),
        ] {
            if !TIMEOUT_MS.contains(&value) {
                problems.push(format!(
                    "limits.{key} must be between {} and {} (milliseconds), got {value}",
                    TIMEOUT_MS.start(),
                    TIMEOUT_MS.end()
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.max_concurrent_requests) {
            problems.push(format!(
                "limits.max_concurrent_requests must be between 1 and 1000000, got {}",
                self.max_concurrent_requests
            ));
        }
        if !(1024..=1024 * 1024 * 1024).contains(&self.max_body_bytes) {
            problems.push(format!(
                "limits.max_body_bytes must be between 1024 and 1073741824, got {}",
                self.max_body_bytes
            ));
        }
    }
}

/// The transactional outbox relay (started with every service) and its housekeeping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// How often the relay looks for rows when nothing woke it (rows written by another
    /// process); rows enqueued in-process wake it at once.
    pub poll_interval_ms: u64,
    /// Rows read per relay pass.
    pub batch_size: u32,
    /// Attempts for a row the bus refuses (unknown topic, wrong payload) before it is moved to
    /// `qts_outbox_dead`. A bus that is unreachable is retried without limit instead.
    pub max_attempts: u32,
    /// First retry delay; it doubles on every attempt up to `max_backoff_ms`.
    pub retry_backoff_ms: u64,
    /// Longest retry delay.
    pub max_backoff_ms: u64,
    /// Published rows are kept this long (for inspection), then pruned.
    pub retention_secs: u64,
    /// How often published outbox rows and old inbox rows are pruned.
    pub prune_interval_secs: u64,
}

/// The inbox (which events each consumer has handled).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxSettings {
    /// Handled-event records are kept this long, then pruned. Keep it longer than the bus
    /// retains events, or a very late redelivery is handled twice.
    pub retention_secs: u64,
}

/// The shared consumer loop (`common::consumer`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSettings {
    /// Attempts for a message whose handler fails before it goes to the dead-letter topic.
    pub max_attempts: u32,
    /// First retry delay; it doubles on every attempt up to `max_backoff_ms`.
    pub retry_backoff_ms: u64,
    /// Longest retry delay (also for an unreachable bus or database, retried without limit).
    pub max_backoff_ms: u64,
}

/// Access tokens: every HTTP endpoint except the public ones (health, metrics, info, OpenAPI,
/// the SSO's sign-in) needs `Authorization: Bearer <access token>` from the SSO, verified
/// against its JWKS; an operation's OpenAPI security names the roles it needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Check tokens. Off, every endpoint is open (a test of something else, a trusted network).
    pub enabled: bool,
    /// The tokens' issuer (the SSO's `tokens.issuer`).
    pub issuer: String,
    /// The audience tokens must name.
    pub audience: String,
    /// The SSO's API root as services reach it (its keys at
    /// `<sso_url>/.well-known/jwks.json`, its token endpoint at `<sso_url>/v1/oauth/token`);
    /// empty: the SSO's Kubernetes Service, `http://sso:<its HTTP port>/api/sso`. `qts up` sets
    /// the address its SSO bound.
    pub sso_url: String,
    /// This service's client id at the SSO (its service account for calls to other
    /// services); empty: the service's registry name.
    pub client_id: String,
    /// This service's client secret; empty: outgoing gRPC calls carry no token (they are
    /// refused by services that check tokens).
    pub client_secret: SecretString,
}

impl AuthSettings {
    /// The SSO's API root: the configured one, else the SSO's Kubernetes Service.
    pub fn sso_url(&self) -> String {
        let url = self.sso_url.trim().trim_end_matches('/');
        if !url.is_empty() {
            return url.to_owned();
        }
        let port = registry::find("sso").map_or(18110, |s| s.http_port);
        format!("http://sso:{port}/api/sso")
    }

    /// Where the SSO publishes its keys.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.sso_url())
    }

    /// The SSO's OAuth 2.0 token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/v1/oauth/token", self.sso_url())
    }
}

/// The settings every service has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// Directory for embedded-mode files.
    pub data_dir: PathBuf,
    /// Public HTTP listener.
    pub http: ListenSettings,
    /// gRPC listener.
    pub grpc: ListenSettings,
    /// Admin listener.
    pub admin: ListenSettings,
    /// Relational storage.
    pub database: DatabaseSettings,
    /// Event bus.
    pub bus: BusSettings,
    /// Cache.
    pub cache: CacheSettings,
    /// Logs and traces.
    pub telemetry: TelemetrySettings,
    /// Graceful shutdown.
    pub shutdown: ShutdownSettings,
    /// Inbound limits of every listener.
    pub limits: LimitsSettings,
    /// Outbox relay.
    pub outbox: OutboxSettings,
    /// Inbox.
    pub inbox: InboxSettings,
    /// Consumer loop.
    pub consumer: ConsumerSettings,
    /// The market clock (wall or simulated).
    #[serde(default)]
    pub clock: ClockSettings,
    /// Access tokens on every endpoint.
    pub auth: AuthSettings,
    /// The service's configuration and flags from the config service.
    pub remote_config: RemoteConfigSettings,
    /// Where other services' gRPC endpoints are: `<service> = "http://host:port"`. A service
    /// not listed is at `http://<service>:<its registry gRPC port>` (its Kubernetes Service);
    /// `qts up` lists the addresses the fleet bound.
    #[serde(default)]
    pub peers: HashMap<String, String>,
}

/// How a service takes its configuration and feature flags from the config service
/// (`[remote_config]`): fetched at start with gRPC `GetConfig` from `peers.config`, then
/// followed on `config.changed.v1` (`common::remote_config`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfigSettings {
    /// Fetch and follow the configuration; off: the service runs on its defaults only.
    pub enabled: bool,
    /// The environment whose document this instance follows (`prod`, `paper`, `dev`, ...).
    pub environment: String,
    /// Refuse to start when the document cannot be fetched (else: defaults, logged, and the
    /// topic brings the next change).
    pub required: bool,
    /// How long the fetch at start may take, milliseconds.
    pub fetch_timeout_ms: u64,
}

impl RemoteConfigSettings {
    /// Adds what is wrong to `problems`.
    pub fn check(&self, section: &str, problems: &mut Vec<String>) {
        let env = self.environment.as_str();
        if env.is_empty()
            || env.len() > 32
            || !env
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            problems.push(format!(
                "{section}.environment must be 1 to 32 of a-z, 0-9, -"
            ));
        }
        if !(100..=60_000).contains(&self.fetch_timeout_ms) {
            problems.push(format!(
                "{section}.fetch_timeout_ms must be between 100 and 60000"
            ));
        }
    }
}

impl ServiceSettings {
    /// Loads the layers for `spec` from the process (env and `$<PREFIX>_CONFIG`) and validates.
    /// A service with sections of its own uses [`Settings::load`] instead.
    pub fn load(spec: &ServiceSpec, service_defaults: &str) -> Result<Self, Error> {
        Self::load_from(spec, service_defaults, &Sources::from_process(spec))
    }

    /// Loads the layers from explicit sources and validates (no sections of the service's own).
    pub fn load_from(
        spec: &ServiceSpec,
        service_defaults: &str,
        sources: &Sources,
    ) -> Result<Self, Error> {
        Settings::<NoSections>::load_from(spec, service_defaults, sources).map(|s| s.shared)
    }

    /// Checks every rule and reports all broken ones at once.
    pub fn validate(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
        self.check(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// The gRPC endpoint of the service `name`: `peers.<name>`, or its Kubernetes Service
    /// (`http://<name>:<registry gRPC port>`).
    pub fn peer(&self, name: &str) -> Result<String, Error> {
        if let Some(url) = self.peers.get(name) {
            return Ok(url.clone());
        }
        let spec = registry::find(name)
            .ok_or_else(|| Error::Invalid(vec![format!("peer {name:?} is not a service")]))?;
        Ok(format!("http://{}:{}", spec.name, spec.grpc_port))
    }

    /// Appends every broken rule to `problems`.
    fn check(&self, problems: &mut Vec<String>) {
        self.remote_config.check("remote_config", problems);
        let a = &self.auth;
        if a.enabled {
            if a.issuer.trim().is_empty() || a.audience.trim().is_empty() {
                problems.push("auth.issuer and auth.audience must not be empty".to_owned());
            }
            let url = a.sso_url();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push("auth.sso_url must be an http:// or https:// URL".to_owned());
            }
        }
        for (name, url) in &self.peers {
            if registry::find(name).is_none() {
                problems.push(format!("peers.{name}: no such service"));
            }
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.split("://").nth(1).is_none_or(str::is_empty)
            {
                problems.push(format!("peers.{name} must be an http:// or https:// URL"));
            }
        }
        let listeners = [
            ("http", &self.http),
            ("grpc", &self.grpc),
            ("admin", &self.admin),
        ];
        for (i, (a_name, a)) in listeners.iter().enumerate() {
            for (b_name, b) in listeners.iter().skip(i + 1) {
                if a.port != 0 && a.port == b.port {
                    problems.push(format!(
                        "{a_name}.port and {b_name}.port are both {}",
                        a.port
                    ));
                }
            }
        }
        let url = self.database.url.expose_secret();
        if !(url.is_empty()
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            problems.push("database.url must be empty, postgres://… or sqlite:…".to_owned());
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".to_owned());
        }
        if self.database.connect_timeout_ms == 0 {
            problems.push("database.connect_timeout_ms must be at least 1".to_owned());
        }
        if self.bus.kind == BusKind::Kafka && self.bus.kafka.brokers.trim().is_empty() {
            problems.push("bus.kafka.brokers is required when bus.kind = \"kafka\"".to_owned());
        }
        if self.bus.kafka.replication_factor < 1 {
            problems.push("bus.kafka.replication_factor must be at least 1".to_owned());
        }
        let embedded = &self.bus.embedded;
        if embedded.retention_per_partition == 0 {
            problems.push("bus.embedded.retention_per_partition must be at least 1".to_owned());
        }
        if !(1..=1024).contains(&embedded.segment_mib) {
            problems.push("bus.embedded.segment_mib must be between 1 and 1024".to_owned());
        }
        if embedded.retention_mib_per_partition < embedded.segment_mib {
            problems.push(
                "bus.embedded.retention_mib_per_partition must be at least segment_mib".to_owned(),
            );
        }
        if embedded.retention_hours == 0 {
            problems.push("bus.embedded.retention_hours must be at least 1".to_owned());
        }
        if embedded.fsync_interval_ms > 60_000 {
            problems.push("bus.embedded.fsync_interval_ms must be at most 60000".to_owned());
        }
        if self.cache.kind == CacheKind::Redis
            && !self.cache.url.expose_secret().starts_with("redis://")
            && !self.cache.url.expose_secret().starts_with("rediss://")
        {
            problems.push(
                "cache.url must be redis://… or rediss://… when cache.kind = \"redis\"".to_owned(),
            );
        }
        let otlp = &self.telemetry.otlp_endpoint;
        if !(otlp.is_empty() || otlp.starts_with("http://") || otlp.starts_with("https://")) {
            problems.push("telemetry.otlp_endpoint must be empty or an http(s):// URL".to_owned());
        }
        if self.shutdown.grace_period_secs == 0 || self.shutdown.grace_period_secs > 300 {
            problems.push("shutdown.grace_period_secs must be between 1 and 300".to_owned());
        }
        self.limits.check(problems);
        let positive = [
            ("outbox.poll_interval_ms", self.outbox.poll_interval_ms),
            ("outbox.batch_size", u64::from(self.outbox.batch_size)),
            ("outbox.max_attempts", u64::from(self.outbox.max_attempts)),
            ("outbox.retry_backoff_ms", self.outbox.retry_backoff_ms),
            ("outbox.retention_secs", self.outbox.retention_secs),
            (
                "outbox.prune_interval_secs",
                self.outbox.prune_interval_secs,
            ),
            ("inbox.retention_secs", self.inbox.retention_secs),
            (
                "consumer.max_attempts",
                u64::from(self.consumer.max_attempts),
            ),
            ("consumer.retry_backoff_ms", self.consumer.retry_backoff_ms),
        ];
        for (key, value) in positive {
            if value == 0 {
                problems.push(format!("{key} must be at least 1"));
            }
        }
        if self.outbox.max_backoff_ms < self.outbox.retry_backoff_ms {
            problems
                .push("outbox.max_backoff_ms must be at least outbox.retry_backoff_ms".to_owned());
        }
        if self.consumer.max_backoff_ms < self.consumer.retry_backoff_ms {
            problems.push(
                "consumer.max_backoff_ms must be at least consumer.retry_backoff_ms".to_owned(),
            );
        }
        self.clock.check(problems);
    }

    /// The database URL to connect to: the configured one (with `{service}` replaced by the
    /// service's name in snake case, so one setting can give every service its own database),
    /// or the embedded SQLite file.
    pub fn database_url(&self, service: &str) -> String {
        let url = self.database.url.expose_secret();
        if url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(format!("{service}.db")).display()
            )
        } else {
            url.replace("{service}", &service.replace('-', "_"))
        }
    }
}

/// A service's own settings sections, beside the shared ones: a serde struct with one field
/// per top-level section (`ssi`, `risk`, ...), `#[serde(deny_unknown_fields)]`, whose defaults
/// are in the service's `config/default.toml`.
pub trait Sections: DeserializeOwned + fmt::Debug + Clone + Send + Sync + 'static {
    /// Appends every broken rule of these sections to `problems`, each naming its key.
    fn check(&self, problems: &mut Vec<String>) {
        let _ = problems;
    }
}

/// The sections of a service that has none of its own yet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSections {}

impl Sections for NoSections {}

/// A service's whole settings: the shared sections every service has and its own.
///
/// It dereferences to the shared part, so `settings.http`, `settings.database`, ... read as
/// before. One loader ([`Settings::load`] / [`Settings::load_from`]) serves the service's
/// `main`, `qts up` and tests alike.
#[derive(Debug, Clone)]
pub struct Settings<S = NoSections> {
    /// The sections every service has (`crates/common-settings/config/default.toml`).
    pub shared: ServiceSettings,
    /// The service's own sections (its `config/default.toml`).
    pub own: S,
}

impl<S> Deref for Settings<S> {
    type Target = ServiceSettings;

    fn deref(&self) -> &ServiceSettings {
        &self.shared
    }
}

impl<S: Sections> Settings<S> {
    /// Loads the layers for `spec` from the process (env and `$<PREFIX>_CONFIG`) and validates.
    pub fn load(spec: &ServiceSpec, service_defaults: &str) -> Result<Self, Error> {
        Self::load_from(spec, service_defaults, &Sources::from_process(spec))
    }

    /// Loads the layers from explicit sources and validates both parts together: every
    /// unknown key, wrong type and broken rule, shared or own, is listed in one error.
    pub fn load_from(
        spec: &ServiceSpec,
        service_defaults: &str,
        sources: &Sources,
    ) -> Result<Self, Error> {
        let merged: config::Map<String, config::Value> =
            layered(spec, service_defaults, sources)?.try_deserialize()?;
        let shared_keys = shared_keys()?;
        let (shared, own): (config::Map<_, _>, config::Map<_, _>) = merged
            .into_iter()
            .partition(|(key, _)| shared_keys.contains(key));

        let mut problems = Vec::new();
        let shared = match table(shared).try_deserialize::<ServiceSettings>() {
            Ok(shared) => {
                shared.check(&mut problems);
                Some(shared)
            }
            Err(err) => {
                problems.push(err.to_string());
                None
            }
        };
        let own = match table(own.clone()).try_deserialize::<S>() {
            Ok(own) => {
                own.check(&mut problems);
                Some(own)
            }
            Err(err) => {
                problems.push(own_problem(spec, &shared_keys, &own, &err));
                None
            }
        };
        match (shared, own) {
            (Some(shared), Some(own)) if problems.is_empty() => Ok(Self { shared, own }),
            _ => Err(Error::Invalid(problems)),
        }
    }
}

/// The top-level keys of the shared defaults: what goes to [`ServiceSettings`]; every other
/// top-level key is the service's own.
fn shared_keys() -> Result<Vec<String>, config::ConfigError> {
    let defaults: config::Map<String, config::Value> = config::Config::builder()
        .add_source(config::File::from_str(
            SHARED_DEFAULTS,
            config::FileFormat::Toml,
        ))
        .build()?
        .try_deserialize()?;
    Ok(defaults.into_keys().collect())
}

fn table(map: config::Map<String, config::Value>) -> config::Value {
    config::Value::new(None, config::ValueKind::Table(map))
}

/// Why the service's own part did not deserialize, saying what the known keys are when a key
/// is unknown (the usual cause: a typo in a shared section's name).
fn own_problem(
    spec: &ServiceSpec,
    shared_keys: &[String],
    own: &config::Map<String, config::Value>,
    err: &config::ConfigError,
) -> String {
    let message = err.to_string();
    if message.starts_with("unknown field") {
        let mut keys: Vec<&str> = own.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut shared: Vec<&str> = shared_keys.iter().map(String::as_str).collect();
        shared.sort_unstable();
        format!(
            "{message} (top-level keys given: {}; shared keys: {}; the rest must be {}'s own sections)",
            keys.join(", "),
            shared.join(", "),
            spec.name
        )
    } else {
        format!("{}: {message}", spec.name)
    }
}

/// A list of strings from settings given as a list or as one string of comma-separated items
/// (what an environment variable holds: `PREDICTION__PREDICTION__UNIVERSE=FPT,HPG,VNM`); items
/// trimmed, empty ones dropped. For `#[serde(deserialize_with = "common::settings::list_or_commas")]`.
pub fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    let items = match <Items as serde::Deserialize>::deserialize(d)? {
        Items::List(items) => items,
        Items::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Builds the layered configuration; services with extra sections deserialize their own
/// struct from it.
pub fn layered(
    spec: &ServiceSpec,
    service_defaults: &str,
    sources: &Sources,
) -> Result<config::Config, config::ConfigError> {
    use config::{Environment, File, FileFormat};
    let mut builder = config::Config::builder()
        .set_default("http.port", spec.http_port)?
        .set_default("grpc.port", spec.grpc_port)?
        .set_default("admin.port", spec.admin_port)?
        .add_source(File::from_str(SHARED_DEFAULTS, FileFormat::Toml))
        .add_source(File::from_str(service_defaults, FileFormat::Toml));
    if let Some(path) = &sources.file {
        builder = builder.add_source(
            File::from(path.clone())
                .format(FileFormat::Toml)
                .required(true),
        );
    }
    if let Some(text) = &sources.overlay {
        builder = builder.add_source(File::from_str(text, FileFormat::Toml));
    }
    let env: HashMap<String, String> = sources
        .env
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{}__", spec.env_prefix())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        Environment::with_prefix(&spec.env_prefix())
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(Some(env)),
    );
    builder.build()
}

#[cfg(test)]
mod tests;
