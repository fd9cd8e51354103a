//! Layered, validated settings shared by every service, and the fleet's service [`registry`].
//!
//! Layers, lowest first: `crates/common-settings/config/default.toml` (compiled in) < the service's own
//! `config/default.toml` (compiled in) < the file at `$<SERVICE>_CONFIG` < environment variables
//! `<SERVICE>__<SECTION>__<KEY>`. Ports default to the [registry]. Unknown keys
//! are errors, so a typo never passes silently. [`ServiceSettings::validate`] runs before anything
//! binds.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub mod registry;

use crate::registry::ServiceSpec;

const SHARED_DEFAULTS: &str = include_str!("../config/default.toml");

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A layer could not be read or parsed, or a key is unknown or of the wrong type.
    #[error("settings: {0}")]
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
        Self { file, env }
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
    /// Newest events per partition kept in memory (what consumers can read) and replayed.
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
    /// Produce timeout.
    pub message_timeout_ms: u64,
    /// Idempotent producer.
    pub idempotence: bool,
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
}

impl ServiceSettings {
    /// Loads the layers for `spec` from the process (env and `$<PREFIX>_CONFIG`) and validates.
    pub fn load(spec: &ServiceSpec, service_defaults: &str) -> Result<Self, Error> {
        Self::load_from(spec, service_defaults, &Sources::from_process(spec))
    }

    /// Loads the layers from explicit sources and validates.
    pub fn load_from(
        spec: &ServiceSpec,
        service_defaults: &str,
        sources: &Sources,
    ) -> Result<Self, Error> {
        let settings: Self = layered(spec, service_defaults, sources)?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every rule and reports all broken ones at once.
    pub fn validate(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
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
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(problems))
        }
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
