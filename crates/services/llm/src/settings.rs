//! Settings of the llm service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The llm service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// Models and limits.
    pub llm: LlmSettings,
}

/// Models and limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// Extra directories holding the offline model packages. A list, or one string of
    /// comma-separated paths (what an environment variable holds).
    #[serde(deserialize_with = "common::settings::list_or_commas")]
    pub models_dir: Vec<String>,
    /// New tokens of a reply when the request does not say.
    pub max_tokens: u32,
    /// Most new tokens a request may ask for.
    pub max_tokens_limit: u32,
    /// Longest input of one request, in characters.
    pub max_input_chars: usize,
    /// An OpenAI-compatible server the models it names are served through.
    pub remote: RemoteSettings,
    /// The long-term memory.
    pub memory: MemorySettings,
    /// The tasks (answers, summaries, explanations).
    pub tasks: TaskSettings,
}

/// The long-term memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySettings {
    /// Learn the securities' facts from the news on the bus (`news.item.v1`).
    pub learn_from_news: bool,
    /// The embedding model memories are found by: the offline one or one of
    /// `llm.remote.embedding_models`.
    pub embedding_model: String,
    /// Most memories one user or security keeps; past it the least recently confirmed goes.
    pub max_per_subject: u32,
}

/// The tasks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSettings {
    /// The chat model that writes answers from their sources when a request names none; empty:
    /// answers are composed from the sources without a model.
    pub model: String,
    /// Longest wait for another service's answer, milliseconds.
    pub peer_timeout_ms: u64,
    /// New tokens of a written answer.
    pub max_tokens: u32,
}

/// An OpenAI-compatible server (a hosted API, vLLM, llama.cpp's server, Ollama).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteSettings {
    /// Its base URL, the part before `/chat/completions` (`http://vllm:8000/v1`); empty: none.
    pub base_url: String,
    /// Its API key, sent as a bearer token; empty: none.
    pub api_key: secrecy::SecretString,
    /// Chat model ids served through it (a list, or one string of comma-separated ids).
    #[serde(deserialize_with = "common::settings::list_or_commas")]
    pub chat_models: Vec<String>,
    /// Embedding model ids served through it.
    #[serde(deserialize_with = "common::settings::list_or_commas")]
    pub embedding_models: Vec<String>,
    /// Longest wait for a piece of its answer, milliseconds.
    pub timeout_ms: u64,
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let l = &self.llm;
        if !(1..=32_768).contains(&l.max_tokens_limit) {
            problems.push("llm.max_tokens_limit must be 1 to 32768".to_owned());
        }
        if l.max_tokens == 0 || l.max_tokens > l.max_tokens_limit {
            problems.push("llm.max_tokens must be 1 to llm.max_tokens_limit".to_owned());
        }
        if !(100..=1_000_000).contains(&l.max_input_chars) {
            problems.push("llm.max_input_chars must be 100 to 1000000".to_owned());
        }
        let r = &l.remote;
        let base = r.base_url.trim();
        if base.is_empty() {
            if !r.chat_models.is_empty() || !r.embedding_models.is_empty() {
                problems.push("llm.remote: models are named but no base_url".to_owned());
            }
        } else {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                problems.push(format!(
                    "llm.remote.base_url {base:?} is not an http(s) URL"
                ));
            }
            if r.chat_models.is_empty() && r.embedding_models.is_empty() {
                problems.push(
                    "llm.remote: name the chat_models or embedding_models it serves".to_owned(),
                );
            }
        }
        if !(100..=3_600_000).contains(&r.timeout_ms) {
            problems.push("llm.remote.timeout_ms must be 100 to 3600000".to_owned());
        }
        let m = &l.memory;
        if m.embedding_model != crate::models::EMBEDDING_MODEL
            && !r.embedding_models.contains(&m.embedding_model)
        {
            problems.push(format!(
                "llm.memory.embedding_model {:?} is neither {} nor one of \
                 llm.remote.embedding_models",
                m.embedding_model,
                crate::models::EMBEDDING_MODEL
            ));
        }
        if !(10..=100_000).contains(&m.max_per_subject) {
            problems.push("llm.memory.max_per_subject must be 10 to 100000".to_owned());
        }
        let t = &l.tasks;
        if !t.model.is_empty()
            && t.model != crate::models::CHAT_MODEL
            && !r.chat_models.contains(&t.model)
        {
            problems.push(format!(
                "llm.tasks.model {:?} is neither {} nor one of llm.remote.chat_models",
                t.model,
                crate::models::CHAT_MODEL
            ));
        }
        if !(100..=600_000).contains(&t.peer_timeout_ms) {
            problems.push("llm.tasks.peer_timeout_ms must be 100 to 600000".to_owned());
        }
        if t.max_tokens == 0 || t.max_tokens > l.max_tokens_limit {
            problems.push("llm.tasks.max_tokens must be 1 to llm.max_tokens_limit".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
