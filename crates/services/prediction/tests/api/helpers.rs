//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::prediction::v1::prediction_service_client::PredictionServiceClient;

/// A running prediction service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and no prediction loop (it has no
/// peers to read bars from) and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[("PREDICTION__PREDICTION__ENABLED", "false")]).await
}

/// Starts the service with these `PREDICTION__...` settings.
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<prediction::App>(env)
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

    /// `POST /api/prediction/v1/portfolio`.
    pub async fn post_portfolio(&self, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.app.http_url("/api/prediction/v1/portfolio"))
            .json(body)
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

    /// A gRPC client of the service.
    pub async fn grpc(&self) -> PredictionServiceClient<tonic::transport::Channel> {
        PredictionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// `GET /api/prediction/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/prediction/v1/info").await
    }

    /// gRPC `PredictionService/OptimisePortfolio`.
    pub async fn grpc_optimise(
        &self,
        request: proto::prediction::v1::OptimisePortfolioRequest,
    ) -> Result<proto::prediction::v1::OptimisePortfolioResponse, tonic::Status> {
        let mut client = self.grpc().await;
        client
            .optimise_portfolio(request)
            .await
            .map(|r| r.into_inner())
    }

    /// gRPC `PredictionService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = self.grpc().await;
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
