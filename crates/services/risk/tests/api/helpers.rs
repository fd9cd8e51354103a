//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::risk::v1::risk_service_client::RiskServiceClient;

/// A running risk service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with settings (`RISK__SECTION__KEY` pairs).
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<risk::App>(env).await.expect("the service starts"),
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

    /// `GET /api/risk/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/risk/v1/info").await
    }

    /// gRPC `RiskService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = RiskServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}

/// Publishes master data's SSI (HOSE, band 23,250–26,750 on 2025-06-10) on `bus`.
pub async fn publish_ssi(bus: &common::bus::SharedBus) {
    publish_security(bus, "SSI").await;
}

/// A HOSE stock trading today between 23,250 and 26,750 (reference 25,000), from master data.
pub async fn publish_security(bus: &common::bus::SharedBus, symbol: &str) {
    let security = proto::market::v1::Security {
        symbol: symbol.into(),
        exchange: "HOSE".into(),
        kind: "stock".into(),
        lot_size: 100,
        trading_day: "2025-06-10".into(),
        reference: 25_000,
        ceiling: 26_750,
        floor: 23_250,
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
