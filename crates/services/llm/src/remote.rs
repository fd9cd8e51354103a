//! Forwarding to a configured OpenAI-compatible server (a hosted API, vLLM, llama.cpp's server,
//! Ollama): the models it names are served through it, request bodies passed on unchanged and
//! answers — streamed ones too — passed back as they come.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use common::error::{ApiError, Kind};
use secrecy::ExposeSecret;

use crate::settings::RemoteSettings;

/// A configured OpenAI-compatible server.
pub struct Remote {
    client: reqwest::Client,
    base: String,
    key: secrecy::SecretString,
    chat: Vec<String>,
    embedding: Vec<String>,
}

impl Remote {
    /// The server of `settings`, or `None` when none is configured.
    pub fn new(settings: &RemoteSettings) -> anyhow::Result<Option<Remote>> {
        if settings.base_url.trim().is_empty() {
            return Ok(None);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_millis(settings.timeout_ms))
            .build()?;
        Ok(Some(Remote {
            client,
            base: settings.base_url.trim().trim_end_matches('/').to_owned(),
            key: settings.api_key.clone(),
            chat: settings.chat_models.clone(),
            embedding: settings.embedding_models.clone(),
        }))
    }

    /// The chat models served through it.
    pub fn chat_models(&self) -> &[String] {
        &self.chat
    }

    /// The embedding models served through it.
    pub fn embedding_models(&self) -> &[String] {
        &self.embedding
    }

    /// Posts `body` to `<base><path>` and reads the JSON answer (for the service's own calls:
    /// the memory's embeddings, the tasks' answers).
    pub async fn call(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        let key = self.key.expose_secret();
        if !key.is_empty() {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("the remote model server did not answer: {e}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("the remote model server's answer: {e}"))?;
        if !status.is_success() {
            let head: String = text.chars().take(300).collect();
            return Err(format!("the remote model server answered {status}: {head}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("the remote model server's answer: {e}"))
    }

    /// Passes a request body on to `<base><path>` and its answer back, streamed.
    pub async fn forward(&self, path: &str, body: Bytes) -> Result<Response, ApiError> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        let key = self.key.expose_secret();
        if !key.is_empty() {
            request = request.bearer_auth(key);
        }
        let upstream = request.send().await.map_err(|e| {
            tracing::warn!(error = %e, base = %self.base, "the remote OpenAI-compatible server did not answer");
            ApiError::new(Kind::Unavailable, "the remote model server did not answer")
        })?;
        let status =
            StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let content_type = upstream
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
        let chunks = futures::stream::unfold(Some(upstream), |state| async move {
            let mut upstream = state?;
            match upstream.chunk().await {
                Ok(Some(bytes)) => Some((Ok::<Bytes, reqwest::Error>(bytes), Some(upstream))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        let mut response = Response::new(Body::from_stream(chunks));
        *response.status_mut() = status;
        if let Some(ct) = content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        response.headers_mut().insert(
            axum::http::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
        Ok(response)
    }
}
