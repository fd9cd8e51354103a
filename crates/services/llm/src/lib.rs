//! The llm service. Memory LLM: assistant with long-term memory.
//!
//! Serves the OpenAI API (`/api/llm/v1/models`, `/embeddings`, `/chat/completions` with
//! streaming) from offline models loaded from installed packages ([`models`]: MiniLM-L6
//! sentence embeddings and SmolLM2-135M-Instruct, on the CPU with candle), so that any OpenAI
//! client works against it with no network, and forwards the models it names to a configured
//! OpenAI-compatible server ([`remote`]). Not yet (issue 15): the long-term memory and the tasks
//! (summaries, questions over news and portfolio, explaining decisions). Start at [`App`].

mod app;
mod grpc;
mod http;
pub mod models;
pub mod openai;
pub mod remote;
pub mod service;
pub mod settings;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[13];
