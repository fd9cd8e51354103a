//! Relational storage: a typed pool over PostgreSQL (production) or SQLite (embedded, `qts up`),
//! the shared migrations, and the repository code every service uses for reliable events:
//! [`Outbox`] (publish exactly what was committed; [`Relay`] publishes it) and [`Inbox`] (handle
//! each event once).
//!
//! How to write a repository (the decision is `docs/adr/0001-typed-storage.md`):
//! - [`Db`] holds a `sqlx::PgPool` or a `sqlx::SqlitePool`; [`Db::begin`] gives a [`Tx`].
//! - Where both engines accept the same SQL (`$1` placeholders, `ON CONFLICT`, `RETURNING`,
//!   row values), write it once with [`on_engine!`](crate::on_engine): the macro expands the
//!   code once per engine, so each copy is type-checked against that engine's types
//!   (`query_as::<_, Row>` with `#[derive(sqlx::FromRow)]` works on both).
//! - Where they differ (`COPY`, engine functions), match on [`PerEngine`] and write each.
//! - Column types: `uuid::Uuid` is `uuid` / a 16-byte BLOB; [`Timestamp`] is `timestamptz` /
//!   INTEGER unix microseconds, so times order and compare correctly in SQL on both; money and
//!   quantities are `i64` (`bigint` / INTEGER); bytes are `bytea` / BLOB. Bind times from Rust
//!   ([`Timestamp::now`]) rather than calling `now()` in SQL, so both engines store the same.
//! - Schema: one migration folder per engine per owner, `migrations/postgres` and
//!   `migrations/sqlite`. Shared tables use versions below 1000; a service's own start at 1000.
//! - Bulk inserts on PostgreSQL go through [`copy`] (`COPY ... FROM STDIN`); see
//!   [`Outbox::enqueue_many`].
//!
//! ```no_run
//! # async fn f(db: &common::store::Db) -> Result<(), common::store::Error> {
//! let mut tx = db.begin().await?;
//! let id = uuid::Uuid::now_v7();
//! let at = common::store::Timestamp::now();
//! common::on_engine!(tx.conn(), |c| {
//!     sqlx::query("INSERT INTO orders (id, qty, placed_at) VALUES ($1, $2, $3)")
//!         .bind(id)
//!         .bind(100i64)
//!         .bind(at)
//!         .execute(c)
//!         .await
//!         .map(|_| ())
//! })?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```

pub mod copy;
mod inbox;
mod outbox;
mod relay;
mod timestamp;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool, SqliteConnection, SqlitePool};
use tokio::sync::Notify;

use crate::error::{Classify, Kind};

pub use inbox::Inbox;
pub use outbox::{DeadRow, Outbox, RelayPolicy, RelayStep};
pub use relay::{Relay, RelayMetrics};
pub use timestamp::Timestamp;

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no engine we support.
    #[error("unsupported database url (expected postgres:// or sqlite:)")]
    UnsupportedUrl,
    /// The URL does not parse.
    #[error("invalid database url")]
    Url(#[source] sqlx::Error),
    /// The first connection failed; `target` names the file or server (never the password).
    #[error("cannot open database {target}")]
    Open {
        /// The SQLite file or `postgres://user@host:port/db`.
        target: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The first connection did not complete in time.
    #[error("cannot open database {target}: no connection within {timeout_ms} ms")]
    OpenTimeout {
        /// The SQLite file or `postgres://user@host:port/db`.
        target: String,
        /// The connect timeout.
        timeout_ms: u128,
    },
    /// The folder of the SQLite file could not be created.
    #[error("cannot create the folder of database {}", path.display())]
    Folder {
        /// The SQLite file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A query failed.
    #[error("database query")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::UnsupportedUrl | Error::Url(_) => Kind::InvalidArgument,
            Error::Open { .. }
            | Error::OpenTimeout { .. }
            | Error::Folder { .. }
            | Error::Database(_) => Kind::Unavailable,
            Error::Migrate(_) => Kind::Internal,
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

/// One value per engine: a pool, a connection, a transaction. Match on it where the SQL
/// differs; use [`on_engine!`](crate::on_engine) where it is the same.
#[derive(Debug, Clone, Copy)]
pub enum PerEngine<P, S> {
    /// The PostgreSQL one.
    Postgres(P),
    /// The SQLite one.
    Sqlite(S),
}

impl<P, S> PerEngine<P, S> {
    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self {
            PerEngine::Postgres(_) => Engine::Postgres,
            PerEngine::Sqlite(_) => Engine::Sqlite,
        }
    }
}

/// Runs the same code on whichever engine a [`PerEngine`] holds: `on_engine!(tx.conn(), |c|
/// expr)` expands `expr` once with `c` the PostgreSQL connection and once with `c` the SQLite
/// one, so each copy is type-checked for its engine. Both copies must have the same type (map
/// engine-specific results, e.g. `.map(|r| r.rows_affected())`).
#[macro_export]
macro_rules! on_engine {
    ($target:expr, |$conn:ident| $body:expr) => {
        match $target {
            $crate::store::PerEngine::Postgres($conn) => $body,
            $crate::store::PerEngine::Sqlite($conn) => $body,
        }
    };
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

/// A typed connection pool. Cheap to clone; clones share the pool and the outbox wake-up.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PerEngine<PgPool, SqlitePool>,
    /// Woken when a transaction that wrote outbox rows commits (see [`Relay`]).
    outbox_written: Arc<Notify>,
}

impl Db {
    /// Connects to `url` (`postgres://…` or `sqlite:…`; a SQLite file's folder is created if
    /// needed). One connection is opened first, so a bad file or an unreachable server fails
    /// here with its real cause (e.g. "file is not a database") and the file or server named.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, Error> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(Error::Url)?;
            let target = format!(
                "postgres://{}@{}:{}/{}",
                options.get_username(),
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            );
            let probe = async {
                let mut conn = options.connect().await?;
                sqlx::query("SELECT 1").execute(&mut conn).await?;
                conn.close().await
            };
            first_connection(&target, acquire_timeout, probe).await?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await
                .map_err(|source| Error::Open { target, source })?;
            PerEngine::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            // WAL lets readers run beside the writer; the busy timeout makes concurrent
            // writers wait instead of failing.
            let options = SqliteConnectOptions::from_str(url)
                .map_err(Error::Url)?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Normal);
            let path = options.get_filename().to_path_buf();
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                && !is_memory(&path)
            {
                std::fs::create_dir_all(parent).map_err(|source| Error::Folder {
                    path: path.clone(),
                    source,
                })?;
            }
            let target = path.display().to_string();
            let probe = async {
                let mut conn: SqliteConnection = options.connect().await?;
                // Reading the schema reads the file header: a file that is not a database
                // fails here rather than on first use.
                sqlx::query("SELECT count(*) FROM sqlite_master")
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            };
            first_connection(&target, acquire_timeout, probe).await?;
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await
                .map_err(|source| Error::Open { target, source })?;
            PerEngine::Sqlite(pool)
        } else {
            return Err(Error::UnsupportedUrl);
        };
        Ok(Self {
            pool,
            outbox_written: Arc::new(Notify::new()),
        })
    }

    /// Applies the shared migrations and the service's own, as one ordered set (so a version
    /// applied before but missing now is still an error, as sqlx means it to be).
    pub async fn migrate(&self, own: Option<&Migrations>) -> Result<(), Error> {
        let shared = match self.engine() {
            Engine::Postgres => sqlx::migrate!("./migrations/postgres"),
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        };
        let mut all: Vec<_> = shared.iter().cloned().collect();
        if let Some(own) = own {
            let own = match self.engine() {
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
        let migrator = Migrator::new(Resolved(all)).await?;
        match &self.pool {
            PerEngine::Postgres(pool) => migrator.run(pool).await?,
            PerEngine::Sqlite(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    /// The typed pool, for queries outside a transaction.
    pub fn pool(&self) -> PerEngine<&PgPool, &SqlitePool> {
        match &self.pool {
            PerEngine::Postgres(p) => PerEngine::Postgres(p),
            PerEngine::Sqlite(p) => PerEngine::Sqlite(p),
        }
    }

    /// The PostgreSQL pool, if that is the engine.
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            PerEngine::Postgres(p) => Some(p),
            PerEngine::Sqlite(_) => None,
        }
    }

    /// The SQLite pool, if that is the engine.
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            PerEngine::Postgres(_) => None,
            PerEngine::Sqlite(p) => Some(p),
        }
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.pool.engine()
    }

    /// Round-trips a trivial query; readiness checks use it.
    pub async fn ping(&self) -> Result<(), Error> {
        crate::on_engine!(self.pool(), |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Begins a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails with `SQLITE_BUSY_SNAPSHOT` when
    /// another connection wrote in between (the busy timeout cannot help it), while an
    /// immediate one waits its turn.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let inner = match &self.pool {
            PerEngine::Postgres(p) => PerEngine::Postgres(p.begin().await?),
            PerEngine::Sqlite(p) => PerEngine::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        };
        Ok(Tx {
            inner,
            outbox_written: self.outbox_written.clone(),
            wrote_outbox: false,
        })
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.pool {
            PerEngine::Postgres(p) => p.close().await,
            PerEngine::Sqlite(p) => p.close().await,
        }
    }

    /// Wakes the relay when outbox rows commit.
    pub(crate) fn outbox_written(&self) -> &Arc<Notify> {
        &self.outbox_written
    }
}

fn is_memory(path: &Path) -> bool {
    path.as_os_str() == ":memory:"
}

async fn first_connection(
    target: &str,
    timeout: Duration,
    probe: impl Future<Output = Result<(), sqlx::Error>>,
) -> Result<(), Error> {
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(Error::Open {
            target: target.to_owned(),
            source,
        }),
        Err(_) => Err(Error::OpenTimeout {
            target: target.to_owned(),
            timeout_ms: timeout.as_millis(),
        }),
    }
}

/// A transaction on either engine. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub struct Tx {
    inner: PerEngine<
        sqlx::Transaction<'static, sqlx::Postgres>,
        sqlx::Transaction<'static, sqlx::Sqlite>,
    >,
    outbox_written: Arc<Notify>,
    wrote_outbox: bool,
}

impl Tx {
    /// The typed connection, for queries in this transaction (see [`on_engine!`](crate::on_engine)).
    pub fn conn(&mut self) -> PerEngine<&mut PgConnection, &mut SqliteConnection> {
        match &mut self.inner {
            PerEngine::Postgres(t) => PerEngine::Postgres(&mut **t),
            PerEngine::Sqlite(t) => PerEngine::Sqlite(&mut **t),
        }
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.inner.engine()
    }

    /// Commits; if outbox rows were written, wakes this process's relay.
    pub async fn commit(self) -> Result<(), Error> {
        match self.inner {
            PerEngine::Postgres(t) => t.commit().await?,
            PerEngine::Sqlite(t) => t.commit().await?,
        }
        if self.wrote_outbox {
            self.outbox_written.notify_one();
        }
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), Error> {
        match self.inner {
            PerEngine::Postgres(t) => t.rollback().await?,
            PerEngine::Sqlite(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Notes that outbox rows were written, so a commit wakes the relay.
    pub(crate) fn wrote_outbox(&mut self) {
        self.wrote_outbox = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unsupported_url_is_refused_before_connecting() {
        let err = Db::connect("mysql://localhost/x", 1, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnsupportedUrl), "{err}");
        assert_eq!(err.kind(), Kind::InvalidArgument);
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_database_needs_no_folder() {
        let db = Db::connect("sqlite::memory:", 1, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(db.engine(), Engine::Sqlite);
        db.ping().await.unwrap();
        assert!(db.sqlite().is_some() && db.postgres().is_none());
    }
}
