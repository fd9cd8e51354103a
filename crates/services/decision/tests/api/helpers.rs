//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::decision::v1::decision_service_client::DecisionServiceClient;

/// A running decision service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    TestApp {
        app: spawn::<decision::App>(&[])
            .await
            .expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// `PUT` a JSON body.
pub async fn put_json(url: impl reqwest::IntoUrl, body: &serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(url)
        .json(body)
        .send()
        .await
        .expect("HTTP request")
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

    /// `GET /api/decision/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/decision/v1/info").await
    }

    /// gRPC `DecisionService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = DecisionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
