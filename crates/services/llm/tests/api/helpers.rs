//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::llm::v1::llm_service_client::LlmServiceClient;

/// A running llm service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// Starts the service with extra settings.
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<llm::App>(env).await.expect("the service starts"),
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

    /// `GET /api/llm/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/llm/v1/info").await
    }

    /// gRPC `LlmService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = LlmServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
