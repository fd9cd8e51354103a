//! The fleet on a laptop with Docker Compose: `docker/compose.yaml` runs every service of
//! [`SERVICES`] from the one image `docker/Dockerfile` builds, with Kafka (KRaft), PostgreSQL,
//! Redis and the Nginx gateway (`deploy/nginx/nginx.conf`, generated from the same registry).
//!
//! Generated here so that it cannot drift from the registry:
//!
//! - `docker/compose.yaml`: one Compose service per fleet service, its settings as environment
//!   variables `<PREFIX>__SECTION__KEY` (bus on Kafka, its own PostgreSQL database, Redis cache,
//!   JSON logs, every listener on `0.0.0.0`), a health check on its admin port's `/ready`, and
//!   `depends_on` the backends being healthy. Only the gateway publishes ports, on the host's
//!   loopback.
//! - `docker/postgres/init.sql`: creates one database per service ([`database_name`]), run
//!   by the PostgreSQL image on its first start.
//! - `docker/healthcheck.sh`: the image's health check (`qts-healthcheck [PORT] [PATH]`), an
//!   HTTP GET on the admin port in plain bash (the runtime image has no curl); without a port
//!   it looks the running binary's admin port up in a table of the registry.
//!
//! The YAML is rendered by a small deterministic writer (ordered keys, every string quoted), so
//! the committed file only changes when the registry or this module does.

use std::fmt::Write as _;

use common_settings::registry::{GATEWAY_GRPC_PORT, GATEWAY_HTTP_PORT, SERVICES, ServiceSpec};

use crate::File;

/// The Compose file, from the repository root.
pub const COMPOSE_PATH: &str = "docker/compose.yaml";
/// The PostgreSQL init script the Compose file mounts, from the repository root.
pub const POSTGRES_INIT_PATH: &str = "docker/postgres/init.sql";
/// The image's health-check script, from the repository root.
pub const HEALTHCHECK_PATH: &str = "docker/healthcheck.sh";

/// The fleet's image unless `QTS_IMAGE` names another (Compose builds it from
/// `docker/Dockerfile`).
pub const QTS_IMAGE: &str = "qts:dev";
/// Apache Kafka in KRaft mode (no ZooKeeper), one node that is broker and controller.
pub const KAFKA_IMAGE: &str = "apache/kafka:3.9.1";
/// PostgreSQL.
pub const POSTGRES_IMAGE: &str = "postgres:17.5-bookworm";
/// Redis.
pub const REDIS_IMAGE: &str = "redis:7.4.4-bookworm";
/// The gateway: Nginx as a non-root user (uid 101), as in the Helm chart.
pub const GATEWAY_IMAGE: &str = "nginxinc/nginx-unprivileged:1.27.5-alpine";

/// The laptop's PostgreSQL user and password (the Compose network only; never a real one).
pub const POSTGRES_USER: &str = "qts";

/// The backends every service waits for (Compose service names).
pub const BACKENDS: [&str; 3] = ["kafka", "postgres", "redis"];

/// The generated files of this part, in a stable order.
pub fn files() -> Vec<File> {
    vec![
        File::new(COMPOSE_PATH, compose_yaml()),
        File::new(POSTGRES_INIT_PATH, postgres_init_sql()),
        File::new(HEALTHCHECK_PATH, healthcheck_sh()),
    ]
}

/// The PostgreSQL database of a service: `qts_<name in snake case>` (`qts_master_data`), what
/// `postgres://.../qts_{service}` gives it.
pub fn database_name(service: &ServiceSpec) -> String {
    format!("qts_{}", service.metric_prefix())
}

/// The environment of a service's container: its settings as `<PREFIX>__SECTION__KEY`.
pub fn service_environment(service: &ServiceSpec) -> Vec<(String, String)> {
    let p = service.env_prefix();
    let mut env = vec![
        (format!("{p}__HTTP__BIND"), "0.0.0.0".to_owned()),
        (format!("{p}__GRPC__BIND"), "0.0.0.0".to_owned()),
        (format!("{p}__ADMIN__BIND"), "0.0.0.0".to_owned()),
        (format!("{p}__DATA_DIR"), "/var/lib/qts".to_owned()),
        (format!("{p}__BUS__KIND"), "kafka".to_owned()),
        (format!("{p}__BUS__KAFKA__BROKERS"), "kafka:9092".to_owned()),
        (
            format!("{p}__DATABASE__URL"),
            format!(
                "postgres://{POSTGRES_USER}:{POSTGRES_USER}@postgres:5432/{}",
                database_name(service)
            ),
        ),
        (format!("{p}__CACHE__KIND"), "redis".to_owned()),
        (format!("{p}__CACHE__URL"), "redis://redis:6379".to_owned()),
        (format!("{p}__TELEMETRY__LOG_FORMAT"), "json".to_owned()),
    ];
    if service.name == "sso" {
        // The first user `admin` gets this password (else one is generated and logged once).
        env.push((
            "QTS_ADMIN_PASSWORD".to_owned(),
            "${QTS_ADMIN_PASSWORD:-}".to_owned(),
        ));
    }
    env
}

/// `docker/compose.yaml`.
pub fn compose_yaml() -> String {
    let mut services = vec![
        ("kafka".to_owned(), kafka()),
        ("postgres".to_owned(), postgres()),
        ("redis".to_owned(), redis()),
    ];
    services.extend(SERVICES.iter().map(|s| (s.name.to_owned(), service(s))));
    services.push(("gateway".to_owned(), gateway()));

    let mut volumes = vec![("postgres-data".to_owned(), Node::Map(Vec::new()))];
    volumes.extend(
        SERVICES
            .iter()
            .map(|s| (format!("{}-data", s.name), Node::Map(Vec::new()))),
    );

    let root = Node::Map(vec![
        ("name".to_owned(), s("qts")),
        ("services".to_owned(), Node::Map(services)),
        ("volumes".to_owned(), Node::Map(volumes)),
    ]);
    let mut out = String::from(
        "# Generated by crates/ops/src/compose.rs from the service registry: do not edit (run\n\
         # `QTS_OPS_WRITE=1 cargo test -p ops --test generated`). The whole fleet on one machine:\n\
         #   docker compose -f docker/compose.yaml up --build\n\
         # then the gateway is on http://127.0.0.1:18080/ (docs/ops/delivery.md).\n",
    );
    render_map(&root, 0, &mut out);
    out
}

fn kafka() -> Node {
    let env = [
        ("KAFKA_NODE_ID", "1"),
        ("KAFKA_PROCESS_ROLES", "broker,controller"),
        ("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093"),
        ("KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://kafka:9092"),
        ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
        (
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        ),
        ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9093"),
        ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1"),
        ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1"),
        ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1"),
        ("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"),
        ("KAFKA_NUM_PARTITIONS", "8"),
        ("CLUSTER_ID", "qts-compose-kraft-01"),
    ];
    Node::Map(vec![
        ("image".to_owned(), s(KAFKA_IMAGE)),
        ("restart".to_owned(), s("unless-stopped")),
        ("environment".to_owned(), string_map(env)),
        (
            "healthcheck".to_owned(),
            healthcheck(
                &[
                    "CMD-SHELL",
                    "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null 2>&1",
                ],
                "30s",
            ),
        ),
    ])
}

fn postgres() -> Node {
    Node::Map(vec![
        ("image".to_owned(), s(POSTGRES_IMAGE)),
        ("restart".to_owned(), s("unless-stopped")),
        (
            "environment".to_owned(),
            string_map([
                ("POSTGRES_USER", POSTGRES_USER),
                ("POSTGRES_PASSWORD", POSTGRES_USER),
                ("POSTGRES_DB", "qts"),
            ]),
        ),
        (
            "volumes".to_owned(),
            flow([
                "postgres-data:/var/lib/postgresql/data",
                "./postgres/init.sql:/docker-entrypoint-initdb.d/10-qts-databases.sql:ro",
            ]),
        ),
        (
            "healthcheck".to_owned(),
            healthcheck(
                &["CMD", "pg_isready", "-U", POSTGRES_USER, "-d", "qts"],
                "10s",
            ),
        ),
    ])
}

fn redis() -> Node {
    Node::Map(vec![
        ("image".to_owned(), s(REDIS_IMAGE)),
        ("restart".to_owned(), s("unless-stopped")),
        (
            "healthcheck".to_owned(),
            healthcheck(&["CMD", "redis-cli", "ping"], "5s"),
        ),
    ])
}

fn service(spec: &ServiceSpec) -> Node {
    let depends = BACKENDS
        .iter()
        .map(|b| ((*b).to_owned(), healthy()))
        .collect();
    let admin_port = spec.admin_port.to_string();
    Node::Map(vec![
        (
            "image".to_owned(),
            s(&format!("${{QTS_IMAGE:-{QTS_IMAGE}}}")),
        ),
        (
            "build".to_owned(),
            Node::Map(vec![
                ("context".to_owned(), s("..")),
                ("dockerfile".to_owned(), s("docker/Dockerfile")),
            ]),
        ),
        ("command".to_owned(), flow([spec.name])),
        ("restart".to_owned(), s("unless-stopped")),
        (
            "environment".to_owned(),
            Node::Map(
                service_environment(spec)
                    .into_iter()
                    .map(|(k, v)| (k, s(&v)))
                    .collect(),
            ),
        ),
        (
            // Anything else (SSI credentials as <PREFIX>__BROKER__..., keys, SMTP) from an
            // optional docker/qts.env that is never committed.
            "env_file".to_owned(),
            Node::List(vec![Node::Map(vec![
                ("path".to_owned(), s("qts.env")),
                ("required".to_owned(), Node::Scalar("false".to_owned())),
            ])]),
        ),
        (
            "volumes".to_owned(),
            flow([format!("{}-data:/var/lib/qts", spec.name)]),
        ),
        (
            "healthcheck".to_owned(),
            healthcheck(&["CMD", "qts-healthcheck", &admin_port, "/ready"], "60s"),
        ),
        ("depends_on".to_owned(), Node::Map(depends)),
        // Above the service's shutdown.grace_period_secs (20 s), so it drains before SIGKILL.
        ("stop_grace_period".to_owned(), s("30s")),
    ])
}

fn gateway() -> Node {
    let depends = SERVICES
        .iter()
        .map(|s| (s.name.to_owned(), healthy()))
        .collect();
    Node::Map(vec![
        ("image".to_owned(), s(GATEWAY_IMAGE)),
        ("restart".to_owned(), s("unless-stopped")),
        (
            "volumes".to_owned(),
            flow(["../deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro"]),
        ),
        (
            // On the host's loopback only: the laptop's fleet is not for the network.
            "ports".to_owned(),
            flow([
                format!("127.0.0.1:{GATEWAY_HTTP_PORT}:{GATEWAY_HTTP_PORT}"),
                format!("127.0.0.1:{GATEWAY_GRPC_PORT}:{GATEWAY_GRPC_PORT}"),
            ]),
        ),
        (
            "healthcheck".to_owned(),
            healthcheck(
                &[
                    "CMD",
                    "wget",
                    "-q",
                    "-O",
                    "/dev/null",
                    &format!("http://127.0.0.1:{GATEWAY_HTTP_PORT}/ready"),
                ],
                "5s",
            ),
        ),
        // Nginx resolves every upstream when it starts: the services must exist first.
        ("depends_on".to_owned(), Node::Map(depends)),
    ])
}

fn healthy() -> Node {
    Node::Map(vec![("condition".to_owned(), s("service_healthy"))])
}

fn healthcheck(test: &[&str], start_period: &str) -> Node {
    Node::Map(vec![
        ("test".to_owned(), flow(test.iter().copied())),
        ("interval".to_owned(), s("10s")),
        ("timeout".to_owned(), s("5s")),
        ("retries".to_owned(), Node::Scalar("6".to_owned())),
        ("start_period".to_owned(), s(start_period)),
    ])
}

/// `docker/postgres/init.sql`.
pub fn postgres_init_sql() -> String {
    let mut out = String::from(
        "-- Generated by crates/ops/src/compose.rs from the service registry: do not edit.\n\
         -- One database per service (postgres://.../qts_{service}); the PostgreSQL image runs\n\
         -- this once, when its data volume is new. Each service migrates its own schema.\n",
    );
    for spec in &SERVICES {
        let _ = writeln!(
            out,
            "CREATE DATABASE {} OWNER {POSTGRES_USER};",
            database_name(spec)
        );
    }
    out
}

/// `docker/healthcheck.sh`.
pub fn healthcheck_sh() -> String {
    let mut table = String::new();
    for spec in &SERVICES {
        let _ = writeln!(table, "        {}) port={} ;;", spec.name, spec.admin_port);
    }
    format!(
        r#"#!/bin/bash
# Generated by crates/ops/src/compose.rs from the service registry: do not edit.
#
# qts-healthcheck [PORT] [PATH]: exits 0 when http://127.0.0.1:PORT/PATH (default /live)
# answers 200. The runtime image has no curl or wget: the request is bash's /dev/tcp.
# Without PORT: $QTS_ADMIN_PORT, else the admin port of the service running as PID 1 (the
# container's command, e.g. `oms`). Kubernetes ignores this and probes the admin port itself.
set -euo pipefail

port=${{1:-${{QTS_ADMIN_PORT:-}}}}
path=${{2:-/live}}
if [ -z "$port" ]; then
    service=""
    IFS= read -r -d '' service </proc/1/cmdline || true
    service=${{service##*/}}
    case "$service" in
{table}        *)
            echo "qts-healthcheck: no admin port known for '$service'; give one" >&2
            exit 2
            ;;
    esac
fi

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
status=""
IFS= read -r -t 5 status <&3 || true
exec 3<&-
case "$status" in
    "HTTP/1."?" 200"*) exit 0 ;;
esac
echo "qts-healthcheck: GET $path on port $port answered: ${{status:-nothing}}" >&2
exit 1
"#
    )
}

/// A YAML value as this module writes it: scalars are pre-rendered, maps keep their order.
enum Node {
    /// A scalar in YAML syntax (a quoted string, a number, a boolean).
    Scalar(String),
    /// A list of scalars in flow style (`["a", "b"]`).
    Flow(Vec<String>),
    /// A block list.
    List(Vec<Node>),
    /// A block map in this order.
    Map(Vec<(String, Node)>),
}

/// A quoted string scalar (JSON's double-quoted strings are YAML's).
fn s(text: &str) -> Node {
    Node::Scalar(quote(text))
}

fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn flow<I, T>(items: I) -> Node
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    Node::Flow(items.into_iter().map(|t| quote(t.as_ref())).collect())
}

fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Node {
    Node::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), s(v)))
            .collect(),
    )
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        k.to_owned()
    } else {
        quote(k)
    }
}

/// Writes the entries of a map at `indent` spaces (a non-map writes nothing).
fn render_map(node: &Node, indent: usize, out: &mut String) {
    let Node::Map(entries) = node else { return };
    let pad = " ".repeat(indent);
    for (k, v) in entries {
        let _ = write!(out, "{pad}{}:", key(k));
        render_value(v, indent, out);
    }
}

/// Writes a value after `key:` (inline for scalars and flow lists, else on the next lines).
fn render_value(v: &Node, indent: usize, out: &mut String) {
    match v {
        Node::Scalar(text) => {
            let _ = writeln!(out, " {text}");
        }
        Node::Flow(items) => {
            let _ = writeln!(out, " [{}]", items.join(", "));
        }
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::Map(_) => {
            out.push('\n');
            render_map(v, indent + 2, out);
        }
        Node::List(items) if items.is_empty() => out.push_str(" []\n"),
        Node::List(items) => {
            out.push('\n');
            let pad = " ".repeat(indent + 2);
            for item in items {
                match item {
                    Node::Map(entries) if !entries.is_empty() => {
                        // `- first: v` then the other keys under it.
                        let mut inner = String::new();
                        render_map(item, indent + 4, &mut inner);
                        let trimmed = inner.trim_start_matches(' ');
                        let _ = write!(out, "{pad}- {trimmed}");
                    }
                    Node::Scalar(_) | Node::Flow(_) | Node::List(_) | Node::Map(_) => {
                        let _ = write!(out, "{pad}-");
                        render_value(item, indent + 2, out);
                    }
                }
            }
        }
    }
}
