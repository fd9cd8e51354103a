//! [`spawn_app`] and the [`TestApp`] with one method per endpoint; [`Tokens`], a stand-in SSO
//! (a JWKS on port 0 and access tokens signed with its key) for the tests of who may do what.

use common::service::testing::{Spawned, spawn};
use proto::config::v1::config_service_client::ConfigServiceClient;
use serde_json::Value;

/// A master key for the tests (base64 of 32 bytes).
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A running config service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends (tokens not checked) and waits until
/// it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// Starts the service with extra settings.
pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
    let mut all = vec![("CONFIG__KEYS__MASTER_KEY", MASTER_KEY)];
    all.extend_from_slice(env);
    TestApp {
        app: spawn::<config::App>(&all)
            .await
            .expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// The shared stand-in SSO (a JWKS on port 0 and tokens signed with its key).
pub use common::service::testing::Tokens;

/// Starts the service checking tokens of `tokens`, with extra settings.
pub async fn spawn_with_tokens(tokens: &Tokens, extra: &[(&str, &str)]) -> TestApp {
    let env = tokens.env("CONFIG");
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    spawn_with(&all).await
}

/// What an endpoint answered: status and body (JSON, or the text as a JSON string).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
    /// The body as sent.
    pub text: String,
}

impl TestApp {
    /// A request to the public HTTP API.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(None, method, path, body).await
    }

    /// A request with an explicit token.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = self.app.http_url(&format!("/api/config{path}"));
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
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Answer { status, body, text }
    }

    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET /api/config/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/config/v1/info").await
    }

    /// `PUT /v1/configs/{service}/{env}`.
    pub async fn put_config(&self, scope: &str, body: Value) -> Answer {
        self.call("PUT", &format!("/v1/configs/{scope}"), Some(body))
            .await
    }

    /// `GET /v1/configs/{service}/{env}`.
    pub async fn get_config(&self, scope: &str) -> Answer {
        self.call("GET", &format!("/v1/configs/{scope}"), None)
            .await
    }

    /// A gRPC client.
    pub async fn grpc(&self) -> ConfigServiceClient<tonic::transport::Channel> {
        ConfigServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `ConfigService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}
