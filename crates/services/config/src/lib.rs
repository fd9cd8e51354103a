//! The config service. Configuration, secrets, feature flags, SSI tokens.
//!
//! Owns, per service of the fleet and environment (`prod`, `paper`, ...), a configuration
//! document — keys to JSON values, and feature flags (on/off, optionally for a deterministic
//! share of subjects) — versioned: every change is a new version with who, when and why, with
//! history, diffs between versions and rollback in one call, optimistic concurrency on the
//! expected version. Each new version is published on `config.changed.v1` (compacted, keyed
//! `<service>/<environment>`) through the outbox; services fetch theirs at start with gRPC
//! `GetConfig` and follow the topic with `common::remote_config`.
//!
//! Also owns the fleet's secrets (SSI credentials, private keys, PINs, SMTP/Telegram
//! credentials): sealed with AES-256-GCM under a master key (`common::crypto`), held as
//! `secrecy::SecretString`, never logged, listed to admins and ops by metadata only, and given
//! in plaintext only to the owning service's own token (HTTP and gRPC `GetSecret`). Every secret
//! read (allowed or refused) and every change is in the audit trail.
//!
//! And the fleet's SSI FastConnect access tokens ([`ssi`]): it logs in to SSI with the
//! credentials it holds, keeps and renews the tokens, and hands them to the services that talk
//! to SSI (gRPC `GetSsiToken`), which then hold no SSI credentials.
//!
//! Start at [`App`]; the rules are in [`domain`], the use cases in [`service`], storage in
//! [`store`].

mod app;
pub mod domain;
mod events;
mod grpc;
mod http;
pub mod service;
pub mod settings;
pub mod ssi;
pub mod store;

pub use app::App;

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[9];
