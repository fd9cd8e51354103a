//! [`spawn_app`] and the [`TestApp`] with one method per endpoint, the test servers, and trades.

use std::path::Path;
use std::time::Duration;

use common::bus::topics::MARKET_TRADE;
use common::bus::{Envelope, SharedBus};
use common::service::testing::{Spawned, spawn};
use proto::historical::v1::historical_service_client::HistoricalServiceClient;
use time::OffsetDateTime;

/// A running historical service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// Starts the service with extra `HISTORICAL__...` settings.
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<historical::App>(env)
            .await
            .expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// The address in `var`, or `None` (with a loud warning) when unset outside CI.
pub use common::service::testing::server;

/// The URL of a fresh, empty PostgreSQL database, or `None` when there is no server.
pub async fn postgres_url() -> Option<String> {
    let admin_url = server("TEST_DATABASE_URL")?;
    Some(
        common::service::testing::fresh_database(&admin_url, "qts_hist")
            .await
            .unwrap(),
    )
}

/// The settings of a simulated market clock showing `start` now, running `speed` times faster.
pub fn clock_env(start: &str, speed: f64) -> Vec<(String, String)> {
    let anchor = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    vec![
        ("HISTORICAL__CLOCK__START".into(), start.into()),
        ("HISTORICAL__CLOCK__ANCHOR".into(), anchor),
        ("HISTORICAL__CLOCK__SPEED".into(), speed.to_string()),
    ]
}

/// `&[(String, String)]` as the `&[(&str, &str)]` spawn takes.
pub fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// A trade envelope as ingestion publishes it.
pub fn trade(symbol: &str, at: OffsetDateTime, price: i64, qty: u64, total: u64) -> Envelope {
    let t = proto::market::v1::Trade {
        symbol: symbol.into(),
        price,
        quantity: qty,
        total_volume: total,
        exchange_time: Some(prost_types::Timestamp {
            seconds: at.unix_timestamp(),
            nanos: 0,
        }),
        received_at: None,
        security: None,
    };
    Envelope::new("ingestion", symbol, &t)
}

/// Publishes envelopes on `market.trade.v1`.
pub async fn publish(bus: &SharedBus, envelopes: &[Envelope]) {
    for e in envelopes {
        bus.publish(&MARKET_TRADE.name, e).await.unwrap();
    }
}

/// Polls `check` every 20 ms until it returns `Some`, or fails after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A data directory path as a setting value.
pub fn dir_value(p: &Path) -> String {
    p.display().to_string()
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

    /// `POST` JSON to a path of the public HTTP API.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.app.http_url(path))
            .json(body)
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET /api/historical/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/historical/v1/info").await
    }

    /// `GET /api/historical/v1/bars?...` as JSON (asserting 200).
    pub async fn bars(&self, query: &str) -> Vec<serde_json::Value> {
        let r = self.get(&format!("/api/historical/v1/bars?{query}")).await;
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap().clone()
    }

    /// A gRPC client.
    pub async fn grpc(&self) -> HistoricalServiceClient<tonic::transport::Channel> {
        HistoricalServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `HistoricalService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
