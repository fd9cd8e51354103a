//! The sso service. Single sign-on: users, roles, tokens.
//!
//! An OAuth 2.0 token endpoint (`password`, `refresh_token`, `client_credentials` grants)
//! issues short-lived access tokens — JWTs signed with Ed25519 (EdDSA) keys that rotate and are
//! published as a JWKS under the OpenID Connect discovery document — and rotating refresh
//! tokens whose reuse revokes the whole login. Users have roles (trader, risk officer, admin,
//! ops; services have client credentials) and the broker accounts they may trade; passwords
//! are Argon2id hashes; failed logins lock a user, attempts are rate limited; password resets
//! go to the person through `notification.request.v1`; every authentication event is audited.
//! With no user at all, the first administrator `admin` is created at start.
//! Start at [`App`]; the rules are in [`domain`], the use cases in [`service`], keys and
//! tokens in [`keys`].

mod app;
/// Secrets at rest: the fleet's one implementation, in `common`.
pub use common::crypto;
pub mod domain;
mod grpc;
mod http;
pub mod keys;
pub mod service;
pub mod settings;
pub mod store;
pub mod totp;

pub use app::App;

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[10];
