//! [`spawn_app`] and the [`TestApp`] with one method per endpoint; [`Sim`], the FastConnect
//! simulator in process, and [`server`] for the test servers.

use std::time::Duration;

use common::service::testing::{Spawned, spawn};
use fcsim::config::{
    DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_V3_API_KEY, DEMO_V3_API_SECRET,
};
use fcsim::{SimConfig, UniverseSize};
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The address in `var`, or `None` (with a loud warning) when unset outside CI.
pub use common::service::testing::server;

/// A fresh PostgreSQL database on the `TEST_DATABASE_URL` server; its URL.
pub async fn fresh_database(url: &str) -> String {
    common::service::testing::fresh_database(url, "md")
        .await
        .expect("a fresh database")
}

/// The FastConnect simulator on free ports.
pub struct Sim {
    local: fcsim::Local,
    /// Where its clock started.
    pub start: OffsetDateTime,
}

impl std::ops::Deref for Sim {
    type Target = fcsim::Local;
    fn deref(&self) -> &fcsim::Local {
        &self.local
    }
}

/// A small market (40 HOSE, 10 HNX, 10 UPCoM, the futures) whose clock starts at `start`.
pub async fn sim(start: OffsetDateTime) -> Sim {
    sim_sized(
        start,
        UniverseSize {
            hose: 40,
            hnx: 10,
            upcom: 10,
        },
    )
    .await
}

/// [`sim`] with a market of `universe`'s size.
pub async fn sim_sized(start: OffsetDateTime, universe: UniverseSize) -> Sim {
    let config = SimConfig {
        start,
        speed: 1.0,
        universe,
        history_days: 10,
        ..SimConfig::demo()
    };
    Sim {
        local: fcsim::Local::start(config).await.unwrap(),
        start,
    }
}

impl Sim {
    /// The env a deployment sets to point master data at this simulator's FC Data (v2), with
    /// the market clock on the simulator's.
    pub fn v2_env(&self) -> Vec<(String, String)> {
        let mut env = self.clock_env();
        env.extend([
            ("MASTER_DATA__BROKER__GENERATION".into(), "v2".into()),
            (
                "MASTER_DATA__BROKER__DATA__URL".into(),
                self.data_url.clone(),
            ),
            (
                "MASTER_DATA__BROKER__DATA__HUB_URL".into(),
                self.data_url.clone(),
            ),
            (
                "MASTER_DATA__BROKER__DATA__CONSUMER_ID".into(),
                DEMO_DATA_CONSUMER_ID.into(),
            ),
            (
                "MASTER_DATA__BROKER__DATA__CONSUMER_SECRET".into(),
                DEMO_DATA_CONSUMER_SECRET.into(),
            ),
        ]);
        env
    }

    /// The same for v3 (data only: no private key).
    pub fn v3_env(&self) -> Vec<(String, String)> {
        let mut env = self.clock_env();
        env.extend([
            ("MASTER_DATA__BROKER__GENERATION".into(), "v3".into()),
            (
                "MASTER_DATA__BROKER__API_URL".into(),
                self.trading_url.clone(),
            ),
            (
                "MASTER_DATA__BROKER__STREAM_URL".into(),
                format!("{}/ws/v3", self.trading_url.replace("http://", "ws://")),
            ),
            (
                "MASTER_DATA__BROKER__API_KEY".into(),
                DEMO_V3_API_KEY.into(),
            ),
            (
                "MASTER_DATA__BROKER__API_SECRET".into(),
                DEMO_V3_API_SECRET.into(),
            ),
        ]);
        env
    }

    /// The market clock at the simulator's (both started now, real time); no daily schedule.
    fn clock_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "MASTER_DATA__CLOCK__START".into(),
                self.start.format(&Rfc3339).unwrap(),
            ),
            (
                "MASTER_DATA__CLOCK__ANCHOR".into(),
                OffsetDateTime::now_utc().format(&Rfc3339).unwrap(),
            ),
            ("MASTER_DATA__SYNC__SCHEDULED".into(), "false".into()),
        ]
    }
}

/// A running master-data service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// [`spawn_app`] with environment overrides.
pub async fn spawn_with(env: &[(String, String)]) -> TestApp {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp {
        app: spawn::<master_data::App>(&env)
            .await
            .expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET` a path and read its JSON, asserting the status.
    pub async fn get_json(&self, path: &str, status: u16) -> serde_json::Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), status, "GET {path}");
        r.json().await.expect("JSON body")
    }

    /// The sum of every series of a counter or gauge on the admin `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.app.metrics().await.expect("the metrics");
        text.lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(name)?;
                if !(rest.starts_with(' ') || rest.starts_with('{')) {
                    return None;
                }
                rest.rsplit(' ').next()?.trim().parse::<f64>().ok()
            })
            .sum()
    }

    /// `GET /api/master-data/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/master-data/v1/info").await
    }

    /// `POST /api/master-data/v1/sync`.
    pub async fn sync(&self, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.app.http_url("/api/master-data/v1/sync"))
            .timeout(Duration::from_secs(120))
            .json(&body)
            .send()
            .await
            .expect("HTTP request")
    }

    /// `PATCH /api/master-data/v1/securities/{symbol}`.
    pub async fn edit(&self, symbol: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .patch(
                self.app
                    .http_url(&format!("/api/master-data/v1/securities/{symbol}")),
            )
            .json(&body)
            .send()
            .await
            .expect("HTTP request")
    }

    /// Every security, page by page (`query` without `limit`/`cursor`).
    pub async fn all_securities(&self, query: &str, limit: u32) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        loop {
            let sep = if query.is_empty() { "" } else { "&" };
            let page = self
                .get_json(
                    &format!("/api/master-data/v1/securities?{query}{sep}limit={limit}{cursor}"),
                    200,
                )
                .await;
            out.extend(page["securities"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => return out,
            }
        }
    }

    /// A gRPC client.
    pub async fn grpc(&self) -> MasterDataServiceClient<tonic::transport::Channel> {
        MasterDataServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `MasterDataService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }

    /// Every `masterdata.security.v1` event the relay has published, waiting until there are
    /// at least `at_least` (10 s at most).
    pub async fn published(&self, at_least: usize) -> Vec<proto::market::v1::Security> {
        let mut sub = self
            .app
            .bus
            .subscribe(
                &format!("test-{}", uuid::Uuid::new_v4().simple()),
                &["masterdata.security.v1"],
            )
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut out = Vec::new();
        while out.len() < at_least && tokio::time::Instant::now() < deadline {
            if let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
                out.push(d.envelope.decode().unwrap());
            }
        }
        // Drain what else is there now.
        while let Some(d) = sub.poll(Duration::from_millis(300)).await.unwrap() {
            out.push(d.envelope.decode().unwrap());
        }
        out
    }
}

/// The simulator at 08:30 on Tuesday 2025-06-10 and master data synced from it (v2), with
/// `extra` env (backends).
pub async fn synced(extra: &[(String, String)]) -> (Sim, TestApp) {
    let s = sim(time::macros::datetime!(2025-06-10 08:30:00 +7)).await;
    let mut env = s.v2_env();
    env.extend(extra.iter().cloned());
    let app = spawn_with(&env).await;
    let r = app.sync(serde_json::json!({})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    (s, app)
}
