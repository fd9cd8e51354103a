//! The notification service: tells people what happened, on the channels they chose.
//!
//! State: complete. Events from the bus ([`kafka`]: order changes and fills, risk events,
//! the SSO's `notification.request.v1`, dead letters, predictions, news sentiment) and
//! Alertmanager's webhooks ([`alertmanager`]) become notifications for the people they concern
//! ([`service::Notifier::notify`]): the users following the account (from their token when they
//! saved their preferences), staff, or watchers of a symbol. Each event reaches each person
//! once (its idempotency key), the fills of one order within the grouping window are one
//! message, and quiet hours (Vietnam time) hold what is not critical. Deliveries are a
//! persisted queue ([`store`]) worked by [`service::Notifier::deliver`]: per-user, per-channel
//! rate limits, retries with exponential backoff, the delivery id as the idempotency key sent
//! to every peer, and a dead letter (status `dead`, with why) — a restart resumes every
//! pending delivery. Channels ([`channels`]): e-mail (SMTP), Telegram, Discord/Slack-style and
//! generic signed webhooks, SMS through an HTTP provider, and the portal inbox; messages come
//! from Vietnamese and English [`templates`]. REST `/api/notification/v1/...` and gRPC serve
//! preferences, the inbox, receipts and direct messages. Start at [`App`].
//!
//! It does not decide what is worth saying: the events do (the risk service's alerts,
//! Alertmanager's rules).

pub mod alertmanager;
mod app;
pub mod channels;
pub mod domain;
mod grpc;
mod http;
pub mod kafka;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod store;
pub mod templates;

pub use app::App;

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[12];
