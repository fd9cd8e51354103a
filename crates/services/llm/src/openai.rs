//! The OpenAI API's request and response shapes this service speaks (`/v1/models`,
//! `/v1/embeddings`, `/v1/chat/completions` with and without streaming), as the OpenAI clients
//! send and read them. Fields this service does not use are accepted and ignored, as OpenAI
//! does for fields a model does not support.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One model.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Model {
    /// Its id, to name in requests.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// Unix seconds.
    pub created: i64,
    /// Who provides it: `qts` (offline) or the remote server.
    pub owned_by: String,
}

/// `GET /v1/models`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    pub data: Vec<Model>,
}

/// Text to embed: one string or several.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Input {
    /// One text.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Input {
    /// The texts.
    pub fn texts(self) -> Vec<String> {
        match self {
            Input::One(s) => vec![s],
            Input::Many(v) => v,
        }
    }
}

/// `POST /v1/embeddings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EmbeddingRequest {
    pub model: String,
    #[schema(value_type = Object)]
    pub input: Input,
    /// `float` (the default) or `base64` (little-endian f32, as the OpenAI clients ask).
    pub encoding_format: Option<String>,
    /// Accepted; the offline model always gives 384.
    pub dimensions: Option<u32>,
    pub user: Option<String>,
}

/// One embedding: numbers, or their little-endian f32 bytes in base64.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Vector {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`.
    Base64(String),
}

/// One embedding of the response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Embedding {
    /// Always `embedding`.
    pub object: String,
    pub index: usize,
    #[schema(value_type = Object)]
    pub embedding: Vector,
}

/// Tokens read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct Usage {
    pub prompt_tokens: usize,
    #[serde(default)]
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

/// The answer to `POST /v1/embeddings`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmbeddingResponse {
    /// Always `list`.
    pub object: String,
    pub data: Vec<Embedding>,
    pub model: String,
    pub usage: Usage,
}

/// The content of a message: text, or parts of which the text ones are read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Parts (`{"type": "text", "text": ...}`; other kinds are refused).
    #[schema(value_type = Vec<Object>)]
    Parts(Vec<serde_json::Value>),
}

/// One message of a conversation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Message {
    /// `system`, `developer` (read as system), `user` or `assistant`.
    pub role: String,
    #[schema(value_type = Object)]
    pub content: Option<Content>,
    pub name: Option<String>,
}

/// Stop strings: one or several.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Stop {
    /// One.
    One(String),
    /// Several (at most 4).
    Many(Vec<String>),
}

/// Streaming options.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StreamOptions {
    /// Send the usage in a last chunk.
    pub include_usage: Option<bool>,
}

/// `POST /v1/chat/completions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    /// Server-sent events, one chunk per piece of text, then `data: [DONE]`.
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
    /// At most this many new tokens (`max_completion_tokens` is the newer name).
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    /// 0 … 2; 0 is deterministic. Default 0.7.
    pub temperature: Option<f64>,
    /// 0 … 1. Default 1.
    pub top_p: Option<f64>,
    /// Seed of the sampler.
    pub seed: Option<u64>,
    #[schema(value_type = Object)]
    pub stop: Option<Stop>,
    /// Only 1 is served.
    pub n: Option<u32>,
    pub user: Option<String>,
}

/// A message of the assistant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssistantMessage {
    /// Always `assistant`.
    pub role: String,
    pub content: String,
}

/// One choice of a completion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Choice {
    pub index: usize,
    pub message: AssistantMessage,
    /// `stop` or `length`.
    pub finish_reason: String,
}

/// The answer to `POST /v1/chat/completions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatResponse {
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    pub created: i64,
    pub model: String,
    pub choices: Vec<Choice>,
    pub usage: Usage,
}

/// What a streamed chunk adds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// One choice of a chunk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChunkChoice {
    pub index: usize,
    pub delta: Delta,
    pub finish_reason: Option<String>,
}

/// One server-sent event of a streamed completion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Chunk {
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: String,
    pub created: i64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}
