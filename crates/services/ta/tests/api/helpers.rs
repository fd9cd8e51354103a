//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::ta::v1::ta_service_client::TaServiceClient;

/// A running ta service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn(&[]).await
}

impl TestApp {
    /// Starts the service with extra `TA__...` settings.
    pub async fn spawn(env: &[(&str, &str)]) -> Self {
        Self {
            app: spawn::<ta::App>(env).await.expect("the service starts"),
            http: reqwest::Client::new(),
        }
    }

    /// `GET` a path and read its JSON, asserting the status.
    pub async fn get_json(&self, path: &str, status: u16) -> serde_json::Value {
        let r = self.get(path).await;
        let got = r.status();
        let body: serde_json::Value = r.json().await.expect("JSON body");
        assert_eq!(got, status, "GET {path}: {body}");
        body
    }

    /// `POST` JSON to a path and read its JSON, asserting the status.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        status: u16,
    ) -> serde_json::Value {
        let r = self
            .http
            .post(self.app.http_url(path))
            .json(body)
            .send()
            .await
            .expect("HTTP request");
        assert_eq!(r.status(), status, "POST {path} {body}");
        r.json().await.expect("JSON body")
    }

    /// The admin `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.app.metrics().await.expect("the metrics")
    }

    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET /api/ta/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/ta/v1/info").await
    }

    /// gRPC `TaService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = TaServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
