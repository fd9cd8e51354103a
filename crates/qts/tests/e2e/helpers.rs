//! Starting a throw-away fleet and talking to it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::bus::SharedBus;
use common::shutdown::CancellationToken;
use proto::common::v1 as pb;
use qts::fleet::{Fleet, Options, Running};
use tonic::transport::Channel;

/// A fleet on free ports with its data in a temporary directory.
pub struct TestFleet {
    pub services: Vec<Running>,
    pub gateway: SocketAddr,
    pub bus: SharedBus,
    pub dir: tempfile::TempDir,
    token: CancellationToken,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub fn options(dir: &std::path::Path) -> Options {
    Options {
        market: qts::fleet::Market::None,
        data_dir: Some(dir.to_owned()),
        ephemeral_ports: true,
        // The fleet's behaviour without tokens; tests/e2e/auth.rs turns them on.
        overrides: vec![
            ("shutdown.grace_period_secs".into(), "5".into()),
            ("auth.enabled".into(), "false".into()),
        ],
        env: HashMap::new(),
    }
}

/// [`options`] with tokens checked and the first admin's password set (`admin`).
pub fn with_admin(dir: &std::path::Path, password: &str) -> Options {
    let mut opts = options(dir);
    opts.overrides.retain(|(k, _)| k != "auth.enabled");
    opts.env
        .insert("SSO__BOOTSTRAP__ADMIN_PASSWORD".into(), password.into());
    // Argon2 with little memory: the tests sign in often.
    opts.env
        .insert("SSO__PASSWORDS__MEMORY_KIB".into(), "4096".into());
    opts
}

/// A small simulated market (50 securities) trading from 10:00 on a Tuesday, `speed` times
/// faster than real time, on free ports.
pub fn small_market(speed: f64) -> fcsim::SimConfig {
    fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 10:00:00 +7),
        speed,
        universe: fcsim::UniverseSize {
            hose: 30,
            hnx: 10,
            upcom: 10,
        },
        history_days: 30,
        data_port: 0,
        trading_port: 0,
        ..fcsim::SimConfig::demo()
    }
}

/// The Prometheus text of a service's admin port.
pub async fn metrics(admin: SocketAddr) -> String {
    http()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn spawn_fleet() -> TestFleet {
    spawn_fleet_in(tempfile::tempdir().unwrap()).await
}

pub async fn spawn_fleet_in(dir: tempfile::TempDir) -> TestFleet {
    let options = options(dir.path());
    spawn_fleet_with(dir, &options).await
}

/// A fleet with these options, its data in `dir`.
pub async fn spawn_fleet_with(dir: tempfile::TempDir, options: &Options) -> TestFleet {
    let token = CancellationToken::new();
    let fleet = Fleet::start(options, token.clone()).await.unwrap();
    let routes = fleet.http_routes();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = listener.local_addr().unwrap();
    tokio::spawn(qts::gateway::serve(
        listener,
        qts::gateway::router(routes.clone()),
        token.clone(),
    ));
    qts::gateway::wait_ready(routes, Duration::from_secs(30))
        .await
        .unwrap();
    let services = fleet.services.clone();
    let bus = match fleet.bus.clone() {
        Some(bus) => bus,
        // Every service on Kafka: the test reads through its own client.
        None => qts::feed::open_bus(None, &options.overrides).await.unwrap(),
    };
    let done = tokio::spawn(fleet.wait());
    TestFleet {
        services,
        gateway,
        bus,
        dir,
        token,
        done,
    }
}

impl TestFleet {
    /// Cancels and waits for every service to drain; returns the data directory.
    pub async fn stop(self) -> tempfile::TempDir {
        self.token.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.done)
            .await
            .expect("fleet stops within 30s")
            .unwrap()
            .unwrap();
        self.dir
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `GetInfo` of any service, by its fully qualified gRPC service name.
pub async fn grpc_get_info(
    addr: SocketAddr,
    service: &str,
) -> Result<pb::ServiceInfo, tonic::Status> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::try_from(format!("/{service}/GetInfo")).unwrap();
    let codec = tonic_prost::ProstCodec::<pb::GetInfoRequest, pb::ServiceInfo>::default();
    grpc.unary(tonic::Request::new(pb::GetInfoRequest {}), path, codec)
        .await
        .map(tonic::Response::into_inner)
}

/// The address in `var`, or `None` (with a loud warning) when unset outside CI.
pub fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "{var} is not set: under CI=true every server test must run (use scripts/test.sh)"
            )
        }
        _ => {
            eprintln!("WARNING: {var} is not set; skipping this test (scripts/test.sh sets it)");
            None
        }
    }
}

/// `n` distinct free ports: all are held open until every one is chosen, so none repeats.
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// An access token of `user` from the SSO (the password grant), through the gateway.
pub async fn token(client: &reqwest::Client, gateway: &str, user: &str, password: &str) -> String {
    let r: serde_json::Value = client
        .post(format!("{gateway}/api/sso/v1/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned()
}
