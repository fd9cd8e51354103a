//! [`spawn_app`] and the [`TestApp`] with one method per endpoint.

use common::service::testing::{Spawned, spawn};
use proto::llm::v1::llm_service_client::LlmServiceClient;
use serde_json::Value;

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

/// The directory of the offline models (`TEST_LLM_MODELS`), or `None` (a skip; a failure
/// under CI).
pub fn models_dir() -> Option<String> {
    common::service::testing::server("TEST_LLM_MODELS")
}

/// Peers no service listens on: a task's call to them fails at once.
pub const NO_PEERS: &[(&str, &str)] = &[
    ("LLM__PEERS__MASTER-DATA", "http://127.0.0.1:9"),
    ("LLM__PEERS__INGESTION", "http://127.0.0.1:9"),
    ("LLM__PEERS__EMOTION", "http://127.0.0.1:9"),
    ("LLM__PEERS__OMS", "http://127.0.0.1:9"),
    ("LLM__PEERS__DECISION", "http://127.0.0.1:9"),
];

/// The service with the offline models, unreachable peers but `peers`, and `env`; `None`
/// without the models (a skip; a failure under CI).
pub async fn with_models(peers: &[(&str, &str)], env: &[(&str, &str)]) -> Option<TestApp> {
    let dir = models_dir()?;
    let mut all: Vec<(&str, &str)> = NO_PEERS.to_vec();
    all.retain(|(k, _)| !peers.iter().any(|(p, _)| p == k));
    all.extend_from_slice(peers);
    all.push(("LLM__LLM__MODELS_DIR", dir.as_str()));
    all.extend_from_slice(env);
    Some(spawn_with(&all).await)
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

    /// A JSON request to `/api/llm{path}`: the status and the body (null when not JSON).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = self.app.http_url(&format!("/api/llm{path}"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let r = request.send().await.expect("HTTP request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Polls `GET path` until `done` holds of its body (20 s at most); the last body.
    pub async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..400 {
            let (status, body) = self.call("GET", path, None).await;
            if status == 200 && done(&body) {
                return body;
            }
            last = body;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{path} never got there: {last}");
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
