//! What a service of the fleet is, to the three things that start one: its own `main`, `qts up`
//! (every service in one process) and its API tests.
//!
//! A service implements [`Service`] once: its registry entry, its compiled-in defaults, its own
//! settings sections and migrations, and how to build and run it. [`main`] is then the whole of
//! its binary, `qts up` builds it through the same trait, and `testing::spawn` (feature
//! `testing`) starts it on port 0 with throw-away backends, so the settings loader and the
//! migrations a service uses can never differ between the three paths.

use std::future::Future;

use anyhow::Context;

use crate::registry::ServiceSpec;
use crate::server::{Addrs, Backends};
use crate::settings::{Sections, Settings, Sources};
use crate::shutdown::CancellationToken;
use crate::store::Migrations;

/// A service of the fleet.
pub trait Service: Sized + Send + 'static {
    /// The service's own settings sections ([`crate::settings::NoSections`] when it has none).
    type Sections: Sections;

    /// Its registry entry.
    const SPEC: &'static ServiceSpec;
    /// Its compiled-in `config/default.toml` (defaults of its own sections, overrides of shared
    /// ones).
    const DEFAULTS: &'static str;
    /// Its own migrations (versions from 1000 up), applied after the shared ones.
    const MIGRATIONS: Option<&'static Migrations>;

    /// Does all fallible setup with connected, migrated backends and binds every listener;
    /// serves nothing.
    fn build(
        settings: Settings<Self::Sections>,
        backends: Backends,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// The bound addresses.
    fn addrs(&self) -> anyhow::Result<Addrs>;

    /// Serves until `token` is cancelled, then drains.
    fn run(self, token: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Loads and validates the service's settings from `sources`: the one loader of every path.
    fn load_settings(
        sources: &Sources,
    ) -> Result<Settings<Self::Sections>, crate::settings::Error> {
        Settings::load_from(Self::SPEC, Self::DEFAULTS, sources)
    }
}

/// The whole of a service binary: loads settings from the process (environment and
/// `$<SERVICE>_CONFIG`), starts telemetry, connects and migrates the backends, builds, and serves
/// until SIGTERM or Ctrl-C, then drains.
pub async fn main<S: Service>() -> anyhow::Result<()> {
    let settings = S::load_settings(&Sources::from_process(S::SPEC)).context("load settings")?;
    let _telemetry =
        crate::telemetry::init(S::SPEC.name, &settings.telemetry).context("start telemetry")?;
    let backends = Backends::connect(S::SPEC, &settings, S::MIGRATIONS).await?;
    let app = S::build(settings, backends).await?;
    app.run(crate::shutdown::on_signal()).await
}

/// Starting a service in a test, as its `main` would but on port 0 with throw-away backends.
#[cfg(feature = "testing")]
pub mod testing {
    use std::collections::HashMap;
    use std::time::Duration;

    use anyhow::Context;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::task::JoinHandle;

    use super::Service;
    use crate::bus::SharedBus;
    use crate::server::{Addrs, Backends};
    use crate::settings::Sources;
    use crate::shutdown::CancellationToken;
    use crate::store::Db;

    /// A running service started by [`spawn`]; dropping it stops the service.
    pub struct Spawned {
        /// Where it listens.
        pub addrs: Addrs,
        /// Its event bus (embedded, unless the settings said otherwise).
        pub bus: SharedBus,
        /// Its database, migrated.
        pub db: Db,
        token: CancellationToken,
        task: Option<JoinHandle<anyhow::Result<()>>>,
        _data: tempfile::TempDir,
    }

    impl Spawned {
        /// `http://<http addr><path>`; `path` starts with `/`.
        pub fn http_url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addrs.http)
        }

        /// `http://<grpc addr>`, for a tonic channel.
        pub fn grpc_url(&self) -> String {
            format!("http://{}", self.addrs.grpc)
        }

        /// The service's Prometheus metrics, as its admin port serves them.
        pub async fn metrics(&self) -> anyhow::Result<String> {
            reqwest::get(format!("http://{}/metrics", self.addrs.admin))
                .await
                .and_then(reqwest::Response::error_for_status)
                .context("GET /metrics")?
                .text()
                .await
                .context("the metrics' text")
        }

        /// Asks the service to stop and waits until it has drained; its result.
        pub async fn stop(mut self) -> anyhow::Result<()> {
            self.token.cancel();
            match self.task.take() {
                Some(task) => task.await.context("service task")?,
                None => Ok(()),
            }
        }
    }

    impl Drop for Spawned {
        fn drop(&mut self) {
            self.token.cancel();
        }
    }

    /// Starts `S` on port 0 with its data (SQLite file, bus log) in a fresh temporary directory,
    /// the embedded bus and the in-memory cache, plus `env` (`("<SERVICE>__SECTION__KEY",
    /// value)` pairs, e.g. a PostgreSQL `DATABASE__URL`), and waits until it is ready.
    pub async fn spawn<S: Service>(env: &[(&str, &str)]) -> anyhow::Result<Spawned> {
        let data = tempfile::tempdir().context("temporary data directory")?;
        let prefix = S::SPEC.env_prefix();
        let mut vars: HashMap<String, String> = [
            ("HTTP__PORT", "0"),
            ("GRPC__PORT", "0"),
            ("ADMIN__PORT", "0"),
            ("SHUTDOWN__GRACE_PERIOD_SECS", "5"),
            // A test of a service's behaviour calls it without tokens; the tests of access
            // control turn this on (`<PREFIX>__AUTH__ENABLED=true`).
            ("AUTH__ENABLED", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{prefix}__{k}"), v.to_owned()))
        .collect();
        vars.insert(
            format!("{prefix}__DATA_DIR"),
            data.path().display().to_string(),
        );
        for (k, v) in env {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let settings = S::load_settings(&Sources {
            file: None,
            overlay: None,
            env: vars,
        })
        .context("load settings")?;
        let backends = Backends::connect(S::SPEC, &settings, S::MIGRATIONS).await?;
        let (bus, db) = (backends.bus.clone(), backends.db.clone());
        let app = S::build(settings, backends).await?;
        let addrs = app.addrs()?;
        let token = CancellationToken::new();
        let task = tokio::spawn(app.run(token.clone()));
        let spawned = Spawned {
            addrs,
            bus,
            db,
            token,
            task: Some(task),
            _data: data,
        };
        wait_ready(spawned.addrs.admin).await?;
        Ok(spawned)
    }

    /// A stand-in SSO for the tests of who may do what: a fresh Ed25519 key's JWKS served on
    /// port 0, and access tokens signed with it (what the real SSO issues).
    pub struct Tokens {
        /// Its API root (`auth.sso_url`).
        pub url: String,
        encoding: jsonwebtoken::EncodingKey,
    }

    const ISSUER: &str = "http://localhost:18080/api/sso";

    impl Tokens {
        /// Serves a fresh key's JWKS.
        pub async fn start() -> anyhow::Result<Self> {
            use base64::Engine as _;
            use ring::signature::KeyPair as _;
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| anyhow::anyhow!("generate a key"))?;
            let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .map_err(|_| anyhow::anyhow!("read the key"))?;
            let jwks = serde_json::json!({"keys": [{
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "test-key",
                "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            }]});
            let router = axum::Router::new().route(
                "/.well-known/jwks.json",
                axum::routing::get(move || std::future::ready(axum::Json(jwks.clone()))),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", listener.local_addr()?);
            tokio::spawn(async move { axum::serve(listener, router).await });
            Ok(Self {
                url,
                encoding: jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
            })
        }

        /// An access token of `username` with `roles` and broker `accounts`, valid 10 minutes.
        pub fn token(&self, username: &str, roles: &[&str], accounts: &[&str]) -> String {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let claims = serde_json::json!({
                "iss": ISSUER, "aud": "qts", "sub": format!("id-{username}"), "iat": now,
                "exp": now + 600, "preferred_username": username, "roles": roles,
                "accounts": accounts,
            });
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
            header.kid = Some("test-key".to_owned());
            jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap_or_default()
        }

        /// The settings that make the service with env prefix `prefix` (`RULE`) check these
        /// tokens.
        pub fn env(&self, prefix: &str) -> Vec<(String, String)> {
            vec![
                (format!("{prefix}__AUTH__ENABLED"), "true".to_owned()),
                (format!("{prefix}__AUTH__SSO_URL"), self.url.clone()),
                (format!("{prefix}__AUTH__ISSUER"), ISSUER.to_owned()),
                (format!("{prefix}__AUTH__AUDIENCE"), "qts".to_owned()),
            ]
        }
    }

    /// The address of a test server in the environment variable `var` (set by
    /// `scripts/test.sh`: `TEST_DATABASE_URL`, `TEST_REDIS_URL`, `TEST_KAFKA_BROKERS`), or
    /// `None` with a loud warning so the test skips; under `CI=true` a missing server fails the
    /// test instead, so nothing that needs a server is skipped in CI.
    #[allow(clippy::panic)] // failing the test is the point under CI
    pub fn server(var: &str) -> Option<String> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Some(v),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "{var} is not set: under CI=true every server test must run (use scripts/test.sh)"
                )
            }
            _ => {
                eprintln!(
                    "WARNING: {var} is not set; skipping this test (scripts/test.sh sets it)"
                );
                None
            }
        }
    }

    /// A fresh database named `<prefix>_<random>` on the PostgreSQL server at `url` (the
    /// `TEST_DATABASE_URL` of [`server`]); its URL.
    pub async fn fresh_database(url: &str, prefix: &str) -> anyhow::Result<String> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(url)
            .await
            .context("connect to PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .context("create database")?;
        admin.close().await;
        let (base, _) = url
            .rsplit_once('/')
            .context("a database URL ends with /<database>")?;
        Ok(format!("{base}/{name}"))
    }

    /// Polls the admin `/ready` until it answers 200 (10 s at most).
    async fn wait_ready(admin: std::net::SocketAddr) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if ready(admin).await.unwrap_or(false) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("service at {admin} not ready after 10 s");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn ready(admin: std::net::SocketAddr) -> std::io::Result<bool> {
        let mut stream = tokio::net::TcpStream::connect(admin).await?;
        stream
            .write_all(b"GET /ready HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok(response.starts_with(b"HTTP/1.1 200"))
    }
}
