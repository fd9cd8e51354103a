//! The llm service. Memory LLM: assistant with long-term memory.
//!
//! Serves the OpenAI API (`/api/llm/v1/models`, `/embeddings`, `/chat/completions` with
//! streaming) from offline models loaded from installed packages ([`models`]: MiniLM-L6
//! sentence embeddings and SmolLM2-135M-Instruct, on the CPU with candle), so that any OpenAI
//! client works against it with no network, and forwards the models it names to a configured
//! OpenAI-compatible server ([`remote`]). Keeps a long-term memory per user and per security
//! ([`memory`], [`memories`]): facts learnt from the news on the bus and from what people say,
//! added, kept, updated or deleted with an audit entry each, found again by meaning with their
//! sources. Serves the tasks other services use ([`tasks`]): answers over news, memory, market
//! data and the asker's own portfolio, day summaries, explanations of decisions — each citing
//! the sources it read. Start at [`App`].

mod app;
mod grpc;
mod http;
mod http_tasks;
pub mod memories;
pub mod memory;
pub mod models;
pub mod openai;
pub mod remote;
pub mod service;
pub mod settings;
pub mod store;
pub mod tasks;

pub use app::App;

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[13];
