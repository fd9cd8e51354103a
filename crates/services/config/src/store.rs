//! Storage of configuration versions, sealed secrets and the audit trail (PostgreSQL or
//! SQLite). Versions are only ever inserted; a secret is stored sealed, never as given.

use common::error::{Classify, Kind};
use common::on_engine;
use common::store::{Db, Timestamp, Tx};

use crate::domain::{AuditEntry, Document, Scope, SecretMeta, Version};

/// What storing or reading can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database.
    #[error(transparent)]
    Store(#[from] common::store::Error),
    /// Another change made this version first.
    #[error("version {0} was just made by another change")]
    Taken(u64),
    /// A stored row this version cannot read (a bug or a manual edit).
    #[error("stored row {id}: {what}")]
    Corrupt {
        /// The row.
        id: String,
        /// What is wrong.
        what: String,
    },
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Store(e) => e.kind(),
            Error::Taken(_) => Kind::Aborted,
            Error::Corrupt { .. } => Kind::Internal,
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

// ----- configuration versions ----------------------------------------------------------------

const VERSION_COLUMNS: &str =
    "service, environment, version, document, author, comment, rolled_back_from, created_at";

#[derive(sqlx::FromRow)]
struct VersionRow {
    service: String,
    environment: String,
    version: i64,
    document: String,
    author: String,
    comment: String,
    rolled_back_from: Option<i64>,
    created_at: Timestamp,
}

impl VersionRow {
    fn into_version(self) -> Result<Version, Error> {
        let id = format!("{}/{}@{}", self.service, self.environment, self.version);
        let scope = Scope::parse(&self.service, &self.environment).map_err(|e| Error::Corrupt {
            id: id.clone(),
            what: e.0,
        })?;
        let document: Document =
            serde_json::from_str(&self.document).map_err(|e| Error::Corrupt {
                id,
                what: format!("document: {e}"),
            })?;
        Ok(Version {
            scope,
            version: to_u64(self.version),
            document,
            author: self.author,
            comment: self.comment,
            rolled_back_from: self.rolled_back_from.map(to_u64),
            created_at: self.created_at.into(),
        })
    }
}

/// The current (highest) version of `scope`.
pub async fn current(db: &Db, scope: &Scope) -> Result<Option<Version>, Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM config_versions WHERE service = $1 AND environment = $2 \
         ORDER BY version DESC LIMIT 1"
    );
    let row = on_engine!(db.pool(), |p| sqlx::query_as::<_, VersionRow>(&sql)
        .bind(scope.service())
        .bind(scope.environment())
        .fetch_optional(p)
        .await)?;
    row.map(VersionRow::into_version).transpose()
}

/// Version `version` of `scope`.
pub async fn version(db: &Db, scope: &Scope, version: u64) -> Result<Option<Version>, Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM config_versions WHERE service = $1 AND environment = $2 \
         AND version = $3"
    );
    let row = on_engine!(db.pool(), |p| sqlx::query_as::<_, VersionRow>(&sql)
        .bind(scope.service())
        .bind(scope.environment())
        .bind(to_i64(version))
        .fetch_optional(p)
        .await)?;
    row.map(VersionRow::into_version).transpose()
}

/// Up to `limit` versions of `scope` below `before` (all when `None`), newest first.
pub async fn history(
    db: &Db,
    scope: &Scope,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<Version>, Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM config_versions WHERE service = $1 AND environment = $2 \
         AND version < $3 ORDER BY version DESC LIMIT $4"
    );
    let rows = on_engine!(db.pool(), |p| sqlx::query_as::<_, VersionRow>(&sql)
        .bind(scope.service())
        .bind(scope.environment())
        .bind(before.map_or(i64::MAX, to_i64))
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
    rows.into_iter().map(VersionRow::into_version).collect()
}

/// Every scope with its current version and when it was made, by service and environment.
pub async fn scopes(db: &Db) -> Result<Vec<(String, String, u64, Timestamp)>, Error> {
    let sql = "SELECT service, environment, MAX(version) AS version, MAX(created_at) AS at \
               FROM config_versions GROUP BY service, environment ORDER BY service, environment";
    let rows = on_engine!(db.pool(), |p| sqlx::query_as::<
        _,
        (String, String, i64, Timestamp),
    >(sql)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(s, e, v, at)| (s, e, to_u64(v), at))
        .collect())
}

/// The current version number of `scope` inside `tx` (0: none).
pub async fn current_number_in(tx: &mut Tx, scope: &Scope) -> Result<u64, Error> {
    let v = on_engine!(tx.conn(), |c| sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(version) FROM config_versions WHERE service = $1 AND environment = $2"
    )
    .bind(scope.service())
    .bind(scope.environment())
    .fetch_one(c)
    .await)?;
    Ok(v.map_or(0, to_u64))
}

/// Inserts `v`; [`Error::Taken`] when a concurrent change made that version first.
pub async fn insert_version(tx: &mut Tx, v: &Version) -> Result<(), Error> {
    let sql = format!(
        "INSERT INTO config_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    let result = on_engine!(tx.conn(), |c| sqlx::query(&sql)
        .bind(v.scope.service())
        .bind(v.scope.environment())
        .bind(to_i64(v.version))
        .bind(v.document.to_json())
        .bind(&v.author)
        .bind(&v.comment)
        .bind(v.rolled_back_from.map(to_i64))
        .bind(Timestamp::from(v.created_at))
        .execute(c)
        .await
        .map(drop));
    match result {
        Ok(()) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Taken(v.version)),
        Err(e) => Err(e.into()),
    }
}

// ----- secrets -------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct SecretRow {
    service: String,
    name: String,
    version: i64,
    sealed: Vec<u8>,
    updated_at: Timestamp,
    updated_by: String,
}

impl SecretRow {
    fn split(self) -> (SecretMeta, Vec<u8>) {
        (
            SecretMeta {
                service: self.service,
                name: self.name,
                version: to_u64(self.version),
                updated_at: self.updated_at.into(),
                updated_by: self.updated_by,
            },
            self.sealed,
        )
    }
}

const SECRET_COLUMNS: &str = "service, name, version, sealed, updated_at, updated_by";

/// A secret's metadata and sealed value.
pub async fn secret(
    db: &Db,
    service: &str,
    name: &str,
) -> Result<Option<(SecretMeta, Vec<u8>)>, Error> {
    let sql =
        format!("SELECT {SECRET_COLUMNS} FROM config_secrets WHERE service = $1 AND name = $2");
    let row = on_engine!(db.pool(), |p| sqlx::query_as::<_, SecretRow>(&sql)
        .bind(service)
        .bind(name)
        .fetch_optional(p)
        .await)?;
    Ok(row.map(SecretRow::split))
}

/// The secrets' metadata (of one service, or all), by service and name.
pub async fn secrets(db: &Db, service: Option<&str>) -> Result<Vec<SecretMeta>, Error> {
    let sql = format!(
        "SELECT {SECRET_COLUMNS} FROM config_secrets WHERE ($1 = '' OR service = $1) \
         ORDER BY service, name"
    );
    let rows = on_engine!(db.pool(), |p| sqlx::query_as::<_, SecretRow>(&sql)
        .bind(service.unwrap_or(""))
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(|r| r.split().0).collect())
}

/// The current version of a secret inside `tx` (0: none), and how many the service has.
pub async fn secret_number_in(tx: &mut Tx, service: &str, name: &str) -> Result<(u64, u64), Error> {
    let (version, count) = on_engine!(tx.conn(), |c| sqlx::query_as::<_, (Option<i64>, i64)>(
        "SELECT MAX(CASE WHEN name = $2 THEN version END), COUNT(*) FROM config_secrets \
         WHERE service = $1"
    )
    .bind(service)
    .bind(name)
    .fetch_one(c)
    .await)?;
    Ok((version.map_or(0, to_u64), to_u64(count)))
}

/// Stores a secret's sealed value as `meta.version`, replacing the one before.
pub async fn put_secret(tx: &mut Tx, meta: &SecretMeta, sealed: &[u8]) -> Result<(), Error> {
    on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO config_secrets (service, name, version, sealed, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service, name) DO UPDATE SET \
         version = excluded.version, sealed = excluded.sealed, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by"
    )
    .bind(&meta.service)
    .bind(&meta.name)
    .bind(to_i64(meta.version))
    .bind(sealed)
    .bind(Timestamp::from(meta.updated_at))
    .bind(&meta.updated_by)
    .execute(c)
    .await
    .map(drop))?;
    Ok(())
}

/// Deletes a secret; whether there was one.
pub async fn delete_secret(tx: &mut Tx, service: &str, name: &str) -> Result<bool, Error> {
    let n = on_engine!(tx.conn(), |c| sqlx::query(
        "DELETE FROM config_secrets WHERE service = $1 AND name = $2"
    )
    .bind(service)
    .bind(name)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

// ----- audit ---------------------------------------------------------------------------------

const AUDIT_INSERT: &str = "INSERT INTO config_audit (id, at, actor, action, service, target, \
                            allowed, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Records `e` inside `tx` (with the change it describes).
pub async fn audit_in(tx: &mut Tx, e: &AuditEntry) -> Result<(), Error> {
    let id = uuid::Uuid::now_v7().to_string();
    on_engine!(tx.conn(), |c| sqlx::query(AUDIT_INSERT)
        .bind(&id)
        .bind(Timestamp::from(e.at))
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.service)
        .bind(&e.target)
        .bind(e.allowed)
        .bind(&e.detail)
        .execute(c)
        .await
        .map(drop))?;
    Ok(())
}

/// Records `e` on its own (a read).
pub async fn audit(db: &Db, e: &AuditEntry) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    audit_in(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    at: Timestamp,
    actor: String,
    action: String,
    service: String,
    target: String,
    allowed: bool,
    detail: String,
}

/// Up to `limit` audit entries (of one service, or all), newest first.
pub async fn audit_trail(
    db: &Db,
    service: Option<&str>,
    limit: u32,
) -> Result<Vec<AuditEntry>, Error> {
    let sql = "SELECT at, actor, action, service, target, allowed, detail FROM config_audit \
               WHERE ($1 = '' OR service = $1) ORDER BY at DESC, id DESC LIMIT $2";
    let rows = on_engine!(db.pool(), |p| sqlx::query_as::<_, AuditRow>(sql)
        .bind(service.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            at: r.at.into(),
            actor: r.actor,
            action: r.action,
            service: r.service,
            target: r.target,
            allowed: r.allowed,
            detail: r.detail,
        })
        .collect())
}
