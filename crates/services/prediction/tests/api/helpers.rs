//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::prediction::v1::prediction_service_client::PredictionServiceClient;

/// A running prediction service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    TestApp {
        app: spawn::<prediction::App>(&[])
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

    /// `GET /api/prediction/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/prediction/v1/info").await
    }

    /// gRPC `PredictionService/OptimisePortfolio`.
    pub async fn grpc_optimise(
        &self,
        request: proto::prediction::v1::OptimisePortfolioRequest,
    ) -> Result<proto::prediction::v1::OptimisePortfolioResponse, tonic::Status> {
        let mut client = PredictionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .optimise_portfolio(request)
            .await
            .map(|r| r.into_inner())
    }

    /// gRPC `PredictionService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = PredictionServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
