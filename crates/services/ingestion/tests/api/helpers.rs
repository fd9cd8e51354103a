//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::ingestion::v1::ingestion_service_client::IngestionServiceClient;

/// A running ingestion service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with settings (`INGESTION__SECTION__KEY` pairs).
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<ingestion::App>(env)
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

    /// `GET /api/ingestion/v1/status` as JSON.
    pub async fn status(&self) -> serde_json::Value {
        self.get("/api/ingestion/v1/status")
            .await
            .json()
            .await
            .expect("status JSON")
    }

    /// A counter of the status: `section` (received, published, rejected, duplicates) and name.
    pub async fn count(&self, section: &str, name: &str) -> u64 {
        let status = self.status().await;
        status[section]
            .as_array()
            .expect("counts")
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_u64())
            .unwrap_or(0)
    }

    /// gRPC client.
    pub async fn grpc(&self) -> IngestionServiceClient<tonic::transport::Channel> {
        IngestionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// `GET /api/ingestion/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/ingestion/v1/info").await
    }

    /// gRPC `IngestionService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = IngestionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
