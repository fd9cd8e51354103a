//! Relational storage: one sqlx pool over PostgreSQL (production) or SQLite (embedded), the
//! shared migrations, and the repository code every service uses for reliable events:
//! [`Outbox`] (publish exactly what was committed) and [`Inbox`] (handle each event once).
//!
//! Queries are written once, in the SQL both engines accept (`$1` placeholders, `ON CONFLICT`),
//! and run through sqlx's `Any` driver. Schema differences live in two migration folders per
//! owner: `migrations/postgres` and `migrations/sqlite`. Shared tables use versions below 1000;
//! a service's own migrations start at 1000.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Row, Transaction};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::bus::{Envelope, EventBus};
use crate::error::{Classify, Kind};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no engine we support.
    #[error("unsupported database url (expected postgres:// or sqlite:)")]
    UnsupportedUrl,
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Publishing a relayed event failed.
    #[error("outbox relay: {0}")]
    Bus(#[from] crate::bus::Error),
    /// A stored envelope is corrupt.
    #[error("outbox row {seq} is not an envelope: {reason}")]
    Corrupt {
        /// Row.
        seq: i64,
        /// What is wrong.
        reason: String,
    },
    /// Files for the embedded database could not be prepared.
    #[error("database files: {0}")]
    Io(#[from] std::io::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::UnsupportedUrl => Kind::InvalidArgument,
            Error::Database(_) | Error::Bus(_) | Error::Io(_) => Kind::Unavailable,
            Error::Migrate(_) | Error::Corrupt { .. } => Kind::Internal,
        }
    }
}

/// Which engine a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL (production).
    Postgres,
    /// SQLite (embedded).
    Sqlite,
}

impl Engine {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
        }
    }
}

/// A service's own migrations, one folder per engine, versions from 1000 up. A service declares
/// them once, as a static its `main`, `qts up` and its tests all use:
///
/// ```ignore
/// pub static MIGRATIONS: Migrations = Migrations {
///     postgres: sqlx::migrate!("./migrations/postgres"),
///     sqlite: sqlx::migrate!("./migrations/sqlite"),
/// };
/// ```
#[derive(Debug)]
pub struct Migrations {
    /// For PostgreSQL.
    pub postgres: Migrator,
    /// For SQLite.
    pub sqlite: Migrator,
}

/// The first version a service's own migration may have; lower ones are the shared tables'.
pub const FIRST_SERVICE_MIGRATION: i64 = 1000;

/// Migrations already in memory, as a source for one combined [`Migrator`].
#[derive(Debug)]
struct Resolved(Vec<sqlx::migrate::Migration>);

impl sqlx::migrate::MigrationSource<'static> for Resolved {
    fn resolve(
        self,
    ) -> futures::future::BoxFuture<
        'static,
        Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>,
    > {
        Box::pin(std::future::ready(Ok(self.0)))
    }
}

/// A connection pool and its engine.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
}

impl Db {
    /// Connects to `url` (creating the SQLite file and its folder if needed).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, Error> {
        install_default_drivers();
        let engine = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            return Err(Error::UnsupportedUrl);
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout);
        if engine == Engine::Sqlite {
            if let Some(parent) = sqlite_file(url).and_then(|p| p.parent().map(Path::to_path_buf))
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; the busy timeout makes concurrent
                    // writers wait instead of failing.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        Ok(Self { pool, engine })
    }

    /// Applies the shared migrations and the service's own, as one ordered set (so a version
    /// applied before but missing now is still an error, as sqlx means it to be).
    pub async fn migrate(&self, own: Option<&Migrations>) -> Result<(), Error> {
        let shared = match self.engine {
            Engine::Postgres => sqlx::migrate!("./migrations/postgres"),
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        };
        let mut all: Vec<_> = shared.iter().cloned().collect();
        if let Some(own) = own {
            let own = match self.engine {
                Engine::Postgres => &own.postgres,
                Engine::Sqlite => &own.sqlite,
            };
            if let Some(low) = own.iter().find(|m| m.version < FIRST_SERVICE_MIGRATION) {
                return Err(Error::Migrate(sqlx::migrate::MigrateError::Source(
                    format!(
                        "service migration {} ({}) must be numbered {FIRST_SERVICE_MIGRATION} or above",
                        low.version, low.description
                    )
                    .into(),
                )));
            }
            all.extend(own.iter().cloned());
        }
        all.sort_by_key(|m| m.version);
        Migrator::new(Resolved(all)).await?.run(&self.pool).await?;
        Ok(())
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Round-trips a trivial query; readiness checks use it.
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, Error> {
        Ok(self.pool.begin().await?)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(Path::new(path))
    }
}

fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The transactional outbox.
#[derive(Clone, Debug)]
pub struct Outbox {
    db: Db,
}

impl Outbox {
    /// An outbox on `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Records `envelope` for `topic` inside the caller's transaction: it is published if and
    /// only if the transaction commits.
    pub async fn enqueue(
        tx: &mut Transaction<'_, Any>,
        topic: &str,
        envelope: &Envelope,
    ) -> Result<(), Error> {
        sqlx::query("INSERT INTO qts_outbox (event_id, topic, envelope, created_at_ms) VALUES ($1, $2, $3, $4)")
            .bind(envelope.id.to_string())
            .bind(topic.to_owned())
            .bind(envelope.to_bytes())
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Events not yet published.
    pub async fn pending(&self) -> Result<i64, Error> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM qts_outbox WHERE published_at_ms IS NULL")
            .fetch_one(self.db.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Publishes up to `batch` pending events in the order they were written and marks each
    /// published once the bus has stored it. Returns how many were published. A failure stops
    /// the batch; the rest stay pending and are retried (at least once, in order).
    pub async fn relay_once(&self, bus: &dyn EventBus, batch: i64) -> Result<usize, Error> {
        let rows = sqlx::query("SELECT seq, topic, envelope FROM qts_outbox WHERE published_at_ms IS NULL ORDER BY seq LIMIT $1")
            .bind(batch)
            .fetch_all(self.db.pool())
            .await?;
        let mut published = 0;
        for row in rows {
            let seq: i64 = row.try_get("seq")?;
            let topic: String = row.try_get("topic")?;
            let bytes: Vec<u8> = row.try_get("envelope")?;
            let envelope =
                Envelope::from_bytes(&bytes).map_err(|reason| Error::Corrupt { seq, reason })?;
            bus.publish(&topic, &envelope).await?;
            sqlx::query("UPDATE qts_outbox SET published_at_ms = $1 WHERE seq = $2")
                .bind(now_ms())
                .bind(seq)
                .execute(self.db.pool())
                .await?;
            published += 1;
        }
        Ok(published)
    }

    /// Relays until `token` is cancelled, polling every `interval` when idle.
    pub async fn run_relay(
        self,
        bus: crate::bus::SharedBus,
        token: CancellationToken,
        interval: Duration,
    ) {
        loop {
            match self.relay_once(bus.as_ref(), 500).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "outbox relay failed; will retry"),
            }
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// Which events a consumer has handled.
#[derive(Debug, Clone, Copy)]
pub struct Inbox;

impl Inbox {
    /// Records that `consumer` handles `event_id` inside the caller's transaction. Returns
    /// `false` when it was handled before: the caller then skips the work and commits the
    /// offset.
    pub async fn first_time(
        tx: &mut Transaction<'_, Any>,
        consumer: &str,
        event_id: &uuid::Uuid,
    ) -> Result<bool, Error> {
        let done = sqlx::query(
            "INSERT INTO qts_inbox (consumer, event_id, processed_at_ms) VALUES ($1, $2, $3) ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(consumer.to_owned())
        .bind(event_id.to_string())
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/oms.db?mode=rwc"),
            Some(Path::new("data/oms.db"))
        );
        assert_eq!(sqlite_file("sqlite:x.db"), Some(Path::new("x.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
