//! The sso-ui service. Sign-in user interface: server-rendered pages (no script, nothing from
//! another origin) in Vietnamese and English over the SSO's HTTP API, and the session the
//! portal is handed.
//!
//! State: partial. Sign-in (with the second step for a TOTP or recovery code), registration,
//! password reset (request and the link's page), the account page (who, roles, password
//! change, two-factor enrolment with a QR code and recovery codes, turning it off) and
//! sign-out; CSRF defences (double-submit token and same-origin Origin/Referer) on every POST;
//! the `qts_session` cookie (the SSO refresh token) exchanged for access tokens by
//! `POST /api/sso-ui/v1/session/token`, serialised per token and deduplicated for a minute in
//! the cache so two portal tabs never trip the SSO's refresh-token reuse detection. Not yet:
//! the portal itself, per-replica serialisation across instances (duplicates are caught by the
//! shared cache only once the first answer is stored), knowing whether two-factor
//! authentication is on (the SSO's `/v1/me` does not say).
//!
//! It owns no data: the SSO keeps users and sessions. Start at [`App`]: its
//! `common::service::Service` impl is what `main`, `qts up` and the API tests (`tests/api`)
//! start; `http.rs` has every route, `service.rs` the session exchange.

mod app;
pub mod domain;
mod grpc;
mod http;
mod i18n;
mod pages;
mod security;
mod service;
pub mod settings;
mod sso;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[11];
