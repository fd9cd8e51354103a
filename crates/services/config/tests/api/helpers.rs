//! [`spawn_app`] and the [`TestApp`] with one method per endpoint; [`Tokens`], a stand-in SSO
//! (a JWKS on port 0 and access tokens signed with its key) for the tests of who may do what.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::service::testing::{Spawned, spawn};
use proto::config::v1::config_service_client::ConfigServiceClient;
use ring::signature::KeyPair as _;
use serde_json::{Value, json};

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

/// A stand-in SSO: its JWKS served on port 0, and tokens signed with its key.
pub struct Tokens {
    /// Its API root (`auth.sso_url`).
    pub url: String,
    encoding: jsonwebtoken::EncodingKey,
}

const ISSUER: &str = "http://localhost:18080/api/sso";

impl Tokens {
    /// Serves a fresh key's JWKS.
    pub async fn start() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "test-key",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        }]});
        let router = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || std::future::ready(axum::Json(jwks.clone()))),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            encoding: jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
        }
    }

    /// An access token of `username` with `roles`.
    pub fn token(&self, username: &str, roles: &[&str]) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = json!({
            "iss": ISSUER, "aud": "qts", "sub": format!("id-{username}"), "iat": now,
            "exp": now + 600, "preferred_username": username, "roles": roles,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some("test-key".to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }

    /// The settings that make the service check these tokens.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONFIG__AUTH__ENABLED", "true".to_owned()),
            ("CONFIG__AUTH__SSO_URL", self.url.clone()),
            ("CONFIG__AUTH__ISSUER", ISSUER.to_owned()),
            ("CONFIG__AUTH__AUDIENCE", "qts".to_owned()),
        ]
    }
}

/// Starts the service checking tokens of `tokens`, with extra settings.
pub async fn spawn_with_tokens(tokens: &Tokens, extra: &[(&str, &str)]) -> TestApp {
    let env = tokens.env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
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
