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
    #[serde(deserialize_with = "list_or_commas")]
    pub models_dir: Vec<String>,
    /// New tokens of a reply when the request does not say.
    pub max_tokens: u32,
    /// Most new tokens a request may ask for.
    pub max_tokens_limit: u32,
    /// Longest input of one request, in characters.
    pub max_input_chars: usize,
}

/// A list of strings, or one string of comma-separated items.
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    let items = match Items::deserialize(d)? {
        Items::List(items) => items,
        Items::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
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
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
