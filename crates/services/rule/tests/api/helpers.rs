//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use std::time::Duration;

use common::service::testing::{Spawned, Tokens, spawn};
use proto::rule::v1::rule_service_client::RuleServiceClient;
use serde_json::Value;

/// A running rule service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// Starts the service with extra settings (`RULE__...`).
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<rule::App>(env).await.expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// Starts the service checking the tokens of `tokens`, with extra settings.
pub async fn spawn_with_tokens(tokens: &Tokens, extra: &[(&str, &str)]) -> TestApp {
    let env = tokens.env("RULE");
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    spawn_with(&all).await
}

/// The engines to run a test on: SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set (always
/// under CI): `(name, extra settings)`.
pub async fn engines() -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut out = vec![("sqlite", Vec::new())];
    if let Some(url) = common::service::testing::server("TEST_DATABASE_URL") {
        let db = common::service::testing::fresh_database(&url, "rule")
            .await
            .expect("a fresh database");
        out.push(("postgres", vec![("RULE__DATABASE__URL".to_owned(), db)]));
    }
    out
}

/// What an endpoint answered: status and body (JSON, or the text as a JSON string).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

impl TestApp {
    /// A request to the public HTTP API (`/api/rule` + `path`).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(None, method, path, body).await
    }

    /// A request with a token.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = self.app.http_url(&format!("/api/rule{path}"));
        let mut r = self.http.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body }
    }

    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET /api/rule/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/rule/v1/info").await
    }

    /// A gRPC client.
    pub async fn grpc(&self) -> RuleServiceClient<tonic::transport::Channel> {
        RuleServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `RuleService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}

/// Polls `f` every 10 ms until it answers `Some`, for at most 10 s.
pub async fn until<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
