//! Backends against real servers: the bus conformance suite (embedded and Kafka), storage
//! (SQLite and PostgreSQL), the outbox relay and the consumer loop (on both buses and both
//! databases) and cache (memory and Redis).
//!
//! Server addresses come from `TEST_KAFKA_BROKERS`, `TEST_DATABASE_URL` (a PostgreSQL URL whose
//! user may create databases) and `TEST_REDIS_URL`; `scripts/test.sh` starts throw-away servers
//! and sets them. Unset, a test skips with a warning, except under `CI=true`, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod bus;
mod cache;
mod consumer;
mod helpers;
mod host;
mod limits;
mod relay;
mod store;
