//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use std::time::Duration;

use common::service::testing::{Spawned, spawn};
use proto::emotion::v1::emotion_service_client::EmotionServiceClient;
use serde_json::Value;

/// A running emotion service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// The service's clock in the tests: the day the test items are published (their sentiment
/// counts what the last 24 hours brought, so on the wall clock the tests would expire).
pub const NOON: &str = "2026-12-01T12:00:00+07:00";

/// Starts the service with extra settings (its clock at [`NOON`] unless they set it).
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    let mut all = vec![("EMOTION__CLOCK__START", NOON)];
    all.extend_from_slice(env);
    TestApp {
        app: spawn::<emotion::App>(&all)
            .await
            .expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// What an endpoint answered.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body (null when not JSON).
    pub body: Value,
}

/// Publishes a security to master data's topic, as master data does.
pub async fn publish_security(bus: &common::bus::SharedBus, symbol: &str, name: &str) {
    let security = proto::market::v1::Security {
        symbol: symbol.into(),
        name: name.into(),
        exchange: "HOSE".into(),
        kind: "stock".into(),
        lot_size: 100,
        status: "normal".into(),
        ..Default::default()
    };
    bus.publish(
        common::bus::topics::MASTERDATA_SECURITY.static_name(),
        &common::bus::Envelope::new("test", symbol, &security),
    )
    .await
    .unwrap();
}

/// The securities the tests link to.
pub const SECURITIES: &[(&str, &str)] = &[
    ("HPG", "Công ty Cổ phần Tập đoàn Hòa Phát"),
    ("VNM", "Công ty Cổ phần Sữa Việt Nam"),
    ("FPT", "Công ty Cổ phần FPT"),
    ("VCB", "Ngân hàng Thương mại Cổ phần Ngoại thương Việt Nam"),
];

impl TestApp {
    /// A request to `/api/emotion{path}`.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let url = self.app.http_url(&format!("/api/emotion{path}"));
        let mut r = self.http.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET /api/emotion/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/emotion/v1/info").await
    }

    /// A gRPC client.
    pub async fn grpc(&self) -> EmotionServiceClient<tonic::transport::Channel> {
        EmotionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `EmotionService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }

    /// Publishes [`SECURITIES`] and waits until the service links with them.
    pub async fn with_securities(&self) {
        for (symbol, name) in SECURITIES {
            publish_security(&self.app.bus, symbol, name).await;
        }
        self.until(
            |s| s["securities"].as_u64() == Some(SECURITIES.len() as u64),
            "/v1/status",
        )
        .await;
    }

    /// Polls `GET path` until `done` holds of its body (10 s at most); the last body.
    pub async fn until(&self, done: impl Fn(&Value) -> bool, path: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            let a = self.call("GET", path, None).await;
            if a.status == 200 && done(&a.body) {
                return a.body;
            }
            last = a.body;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} never got there: {last}");
    }
}
