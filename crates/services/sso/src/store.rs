//! Storage of users, service clients, signing keys, refresh and reset tokens and the audit
//! trail (PostgreSQL or SQLite). Tokens are stored as SHA-256 hashes, never as issued.

use common::error::{Classify, Kind};
use common::store::{Db, Timestamp, Tx};
use time::OffsetDateTime;

use crate::domain::{Role, User, parse_roles, roles_text};
use crate::keys::SigningKey;

/// What storing or reading can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database.
    #[error(transparent)]
    Store(#[from] common::store::Error),
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
            Error::Corrupt { .. } => Kind::Internal,
        }
    }
}

// ----- users -------------------------------------------------------------------------------

const USER_COLUMNS: &str = "id, username, email, password_hash, roles, accounts, disabled, \
    failed_logins, locked_until, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    email: String,
    password_hash: String,
    roles: String,
    accounts: String,
    disabled: bool,
    failed_logins: i64,
    locked_until: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl UserRow {
    fn into_user(self) -> Result<User, Error> {
        let roles = parse_roles(&self.roles).map_err(|what| Error::Corrupt {
            id: self.id.clone(),
            what,
        })?;
        Ok(User {
            roles,
            accounts: self
                .accounts
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
            failed_logins: u32::try_from(self.failed_logins).unwrap_or(u32::MAX),
            locked_until: self.locked_until.map(Into::into),
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
            id: self.id,
            username: self.username,
            email: self.email,
            password_hash: self.password_hash,
            disabled: self.disabled,
        })
    }
}

/// Stores a new user; `false` when the user name is taken.
pub async fn insert_user(db: &Db, u: &User, actor: &str) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let inserted = common::on_engine!(tx.conn(), |c| sqlx::query(&format!(
        "INSERT INTO sso_users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11) ON CONFLICT (username) DO NOTHING"
    ))
    .bind(&u.id)
    .bind(&u.username)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(roles_text(&u.roles))
    .bind(u.accounts.join(","))
    .bind(u.disabled)
    .bind(i64::from(u.failed_logins))
    .bind(u.locked_until.map(Timestamp::from))
    .bind(Timestamp::from(u.created_at))
    .bind(Timestamp::from(u.updated_at))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))?;
    if inserted {
        audit_in(
            &mut tx,
            "user_created",
            &u.username,
            actor,
            &format!(
                "roles {}; accounts {}",
                roles_text(&u.roles),
                u.accounts.join(",")
            ),
            u.created_at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// The user with this name.
pub async fn user_by_name(db: &Db, username: &str) -> Result<Option<User>, Error> {
    user_where(db, "username", username).await
}

/// The user with this id.
pub async fn user_by_id(db: &Db, id: &str) -> Result<Option<User>, Error> {
    user_where(db, "id", id).await
}

/// The user with this e-mail address (the first, by name, if several share it).
pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<User>, Error> {
    user_where(db, "email", email).await
}

async fn user_where(db: &Db, column: &'static str, value: &str) -> Result<Option<User>, Error> {
    let row: Option<UserRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM sso_users WHERE {column} = $1 ORDER BY username LIMIT 1"
    ))
    .bind(value)
    .fetch_optional(p)
    .await)?;
    row.map(UserRow::into_user).transpose()
}

/// Every user, by name.
pub async fn users(db: &Db, limit: u32) -> Result<Vec<User>, Error> {
    let rows: Vec<UserRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM sso_users ORDER BY username LIMIT $1"
    ))
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    rows.into_iter().map(UserRow::into_user).collect()
}

/// How many users there are.
pub async fn count_users(db: &Db) -> Result<i64, Error> {
    let (n,): (i64,) = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT COUNT(*) FROM sso_users"
    )
    .fetch_one(p)
    .await)?;
    Ok(n)
}

/// Writes a user's changeable fields (email, roles, accounts, disabled, lockout, password),
/// audited as `event`.
pub async fn update_user(
    db: &Db,
    u: &User,
    (event, actor, detail): (&str, &str, &str),
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE sso_users SET email = $2, password_hash = $3, roles = $4, accounts = $5, \
         disabled = $6, failed_logins = $7, locked_until = $8, updated_at = $9 WHERE id = $1"
    )
    .bind(&u.id)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(roles_text(&u.roles))
    .bind(u.accounts.join(","))
    .bind(u.disabled)
    .bind(i64::from(u.failed_logins))
    .bind(u.locked_until.map(Timestamp::from))
    .bind(Timestamp::from(u.updated_at))
    .execute(&mut *c)
    .await
    .map(drop))?;
    if !event.is_empty() {
        audit_in(&mut tx, event, &u.username, actor, detail, u.updated_at).await?;
    }
    Ok(tx.commit().await?)
}

// ----- service clients ---------------------------------------------------------------------

/// A service account.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its id.
    pub client_id: String,
    /// Argon2id hash of its secret.
    pub secret_hash: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Refused when set.
    pub disabled: bool,
}

/// Stores (or replaces the secret and roles of) a service client.
pub async fn put_client(db: &Db, c: &Client, actor: &str, at: OffsetDateTime) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    common::on_engine!(tx.conn(), |x| sqlx::query(
        "INSERT INTO sso_clients (client_id, secret_hash, roles, disabled, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO UPDATE SET \
         secret_hash = excluded.secret_hash, roles = excluded.roles, disabled = excluded.disabled"
    )
    .bind(&c.client_id)
    .bind(&c.secret_hash)
    .bind(roles_text(&c.roles))
    .bind(c.disabled)
    .bind(Timestamp::from(at))
    .execute(&mut *x)
    .await
    .map(drop))?;
    audit_in(
        &mut tx,
        "client_set",
        &c.client_id,
        actor,
        &format!("roles {}", roles_text(&c.roles)),
        at,
    )
    .await?;
    Ok(tx.commit().await?)
}

/// A service client.
pub async fn client(db: &Db, client_id: &str) -> Result<Option<Client>, Error> {
    let row: Option<(String, String, String, bool)> = common::on_engine!(db.pool(), |p| {
        sqlx::query_as(
            "SELECT client_id, secret_hash, roles, disabled FROM sso_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(p)
        .await
    })?;
    row.map(|(client_id, secret_hash, roles, disabled)| {
        Ok(Client {
            roles: parse_roles(&roles).map_err(|what| Error::Corrupt {
                id: client_id.clone(),
                what,
            })?,
            client_id,
            secret_hash,
            disabled,
        })
    })
    .transpose()
}

// ----- signing keys ------------------------------------------------------------------------

/// A stored signing key: its private half sealed with the master key (bound to its kid).
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// The sealed PKCS#8 document.
    pub sealed: Vec<u8>,
    /// When made.
    pub created_at: OffsetDateTime,
    /// When a newer key took over.
    pub superseded_at: Option<OffsetDateTime>,
}

/// Every signing key, newest first.
pub async fn keys(db: &Db) -> Result<Vec<KeyRow>, Error> {
    let rows: Vec<(String, Vec<u8>, Timestamp, Option<Timestamp>)> =
        common::on_engine!(db.pool(), |p| sqlx::query_as(
            "SELECT kid, private_pkcs8, created_at, superseded_at FROM sso_keys \
             ORDER BY created_at DESC"
        )
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(kid, sealed, created, superseded)| KeyRow {
            kid,
            sealed,
            created_at: created.into(),
            superseded_at: superseded.map(Into::into),
        })
        .collect())
}

/// Stores a new key (`sealed`: its private half sealed), marks the keys it supersedes and
/// drops those no token can still need (superseded before `forget_before`), in one
/// transaction, audited.
pub async fn rotate_keys(
    db: &Db,
    new: &SigningKey,
    sealed: &[u8],
    forget_before: OffsetDateTime,
    actor: &str,
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    let at = Timestamp::from(new.created_at);
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE sso_keys SET superseded_at = $1 WHERE superseded_at IS NULL"
    )
    .bind(at)
    .execute(&mut *c)
    .await
    .map(drop))?;
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "DELETE FROM sso_keys WHERE superseded_at IS NOT NULL AND superseded_at < $1"
    )
    .bind(Timestamp::from(forget_before))
    .execute(&mut *c)
    .await
    .map(drop))?;
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO sso_keys (kid, private_pkcs8, public_key, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(&new.kid)
    .bind(sealed)
    .bind(&new.public_key)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(drop))?;
    audit_in(
        &mut tx,
        "key_rotated",
        &new.kid,
        actor,
        "a new signing key",
        new.created_at,
    )
    .await?;
    Ok(tx.commit().await?)
}

// ----- two-factor authentication -----------------------------------------------------------

/// A user's TOTP.
#[derive(Debug, Clone)]
pub struct Totp {
    /// The secret, sealed with the master key (bound to the user id).
    pub sealed: Vec<u8>,
    /// Confirmed by a first code: logins need a code.
    pub enabled: bool,
    /// The last time step accepted.
    pub last_step: i64,
    /// SHA-256 hashes of the unused recovery codes.
    pub recovery: Vec<String>,
}

/// A user's TOTP, if any.
pub async fn totp(db: &Db, user_id: &str) -> Result<Option<Totp>, Error> {
    let row: Option<(Vec<u8>, bool, i64, String)> = common::on_engine!(db.pool(), |p| {
        sqlx::query_as(
            "SELECT secret, enabled, last_step, recovery FROM sso_totp WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(p)
        .await
    })?;
    row.map(|(sealed, enabled, last_step, recovery)| {
        Ok(Totp {
            sealed,
            enabled,
            last_step,
            recovery: serde_json::from_str(&recovery).map_err(|e| Error::Corrupt {
                id: user_id.to_owned(),
                what: format!("recovery codes: {e}"),
            })?,
        })
    })
    .transpose()
}

/// Starts (or restarts) an enrolment: a new secret, not enabled yet. An enabled TOTP is left
/// alone (answers `false`).
pub async fn start_totp(
    db: &Db,
    user_id: &str,
    sealed: &[u8],
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query(
        "INSERT INTO sso_totp (user_id, secret, enabled, last_step, recovery, created_at) \
         VALUES ($1, $2, FALSE, 0, '[]', $3) ON CONFLICT (user_id) DO UPDATE SET \
         secret = excluded.secret, created_at = excluded.created_at \
         WHERE sso_totp.enabled = FALSE"
    )
    .bind(user_id)
    .bind(sealed)
    .bind(Timestamp::from(at))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Enables a user's TOTP (a first code at `step` confirmed it) with its recovery code hashes,
/// audited.
pub async fn enable_totp(
    db: &Db,
    (user_id, username): (&str, &str),
    step: i64,
    recovery: &[String],
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let n = common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE sso_totp SET enabled = TRUE, last_step = $2, recovery = $3 \
         WHERE user_id = $1 AND enabled = FALSE"
    )
    .bind(user_id)
    .bind(step)
    .bind(serde_json::to_string(recovery).unwrap_or_default())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 1 {
        audit_in(
            &mut tx,
            "totp_enabled",
            username,
            username,
            "two-factor authentication on",
            at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

/// Records the step of an accepted code, unless a later or equal one was (answers whether
/// this call did: a code is good once, even against two logins at the same moment).
pub async fn use_totp_step(db: &Db, user_id: &str, step: i64) -> Result<bool, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE sso_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2"
    )
    .bind(user_id)
    .bind(step)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Replaces the recovery hashes `before` with `after` (one used), unless they changed
/// meanwhile (answers whether this call did).
pub async fn use_recovery(
    db: &Db,
    user_id: &str,
    before: &[String],
    after: &[String],
) -> Result<bool, Error> {
    let n = common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE sso_totp SET recovery = $3 WHERE user_id = $1 AND recovery = $2"
    )
    .bind(user_id)
    .bind(serde_json::to_string(before).unwrap_or_default())
    .bind(serde_json::to_string(after).unwrap_or_default())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Removes a user's TOTP, audited.
pub async fn delete_totp(
    db: &Db,
    (user_id, username): (&str, &str),
    actor: &str,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let n = common::on_engine!(tx.conn(), |c| sqlx::query(
        "DELETE FROM sso_totp WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 1 {
        audit_in(
            &mut tx,
            "totp_disabled",
            username,
            actor,
            "two-factor authentication off",
            at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

// ----- refresh tokens ----------------------------------------------------------------------

/// A stored refresh token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Refresh {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Its login's family.
    pub family: String,
    /// The user.
    pub user_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Expiry (the family's: rotation does not extend it).
    pub expires_at: Timestamp,
    /// When it was exchanged for the next one.
    pub used_at: Option<Timestamp>,
    /// When its family was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// Stores a refresh token.
pub async fn insert_refresh(tx: &mut Tx, r: &Refresh, at: OffsetDateTime) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO sso_refresh_tokens (token_hash, family, user_id, client_id, expires_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&r.token_hash)
    .bind(&r.family)
    .bind(&r.user_id)
    .bind(&r.client_id)
    .bind(r.expires_at)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(drop))
    .map_err(Into::into)
}

/// The refresh token with this hash.
pub async fn refresh_in(tx: &mut Tx, token_hash: &str) -> Result<Option<Refresh>, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query_as(
        "SELECT token_hash, family, user_id, client_id, expires_at, used_at, revoked_at \
         FROM sso_refresh_tokens WHERE token_hash = $1"
    )
    .bind(token_hash)
    .fetch_optional(&mut *c)
    .await)
    .map_err(Into::into)
}

/// Marks a refresh token used, unless it already is; answers whether this call did.
pub async fn use_refresh(tx: &mut Tx, token_hash: &str, at: OffsetDateTime) -> Result<bool, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE sso_refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL"
    )
    .bind(token_hash)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
    .map_err(Into::into)
}

/// Revokes every token of a family; answers how many were still unrevoked.
pub async fn revoke_family(tx: &mut Tx, family: &str, at: OffsetDateTime) -> Result<u64, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE sso_refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL"
    )
    .bind(family)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(Into::into)
}

/// Revokes every token of a user (disabled, password changed or reset), except `keep`'s family.
pub async fn revoke_user(
    tx: &mut Tx,
    user_id: &str,
    keep: Option<&str>,
    at: OffsetDateTime,
) -> Result<u64, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE sso_refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
         AND family <> $3"
    )
    .bind(user_id)
    .bind(Timestamp::from(at))
    .bind(keep.unwrap_or(""))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(Into::into)
}

// ----- reset tokens ------------------------------------------------------------------------

/// Stores a password reset token.
pub async fn insert_reset(
    tx: &mut Tx,
    token_hash: &str,
    user_id: &str,
    expires_at: OffsetDateTime,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO sso_reset_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)"
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(Timestamp::from(expires_at))
    .execute(&mut *c)
    .await
    .map(drop))
    .map_err(Into::into)
}

/// Uses a reset token: the user it is for, when it was unused and unexpired (and now is used).
pub async fn use_reset(
    tx: &mut Tx,
    token_hash: &str,
    at: OffsetDateTime,
) -> Result<Option<String>, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query_as::<_, (String,)>(
        "UPDATE sso_reset_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
         AND expires_at > $2 RETURNING user_id"
    )
    .bind(token_hash)
    .bind(Timestamp::from(at))
    .fetch_optional(&mut *c)
    .await
    .map(|r| r.map(|(u,)| u)))
    .map_err(Into::into)
}

// ----- audit -------------------------------------------------------------------------------

/// Records an authentication event inside a transaction.
pub async fn audit_in(
    tx: &mut Tx,
    event: &str,
    subject: &str,
    actor: &str,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO sso_audit (at, event, subject, actor, detail) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(Timestamp::from(at))
    .bind(event)
    .bind(subject)
    .bind(actor)
    .bind(detail)
    .execute(&mut *c)
    .await
    .map(drop))
    .map_err(Into::into)
}

/// Records an authentication event.
pub async fn audit(
    db: &Db,
    event: &str,
    subject: &str,
    actor: &str,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    audit_in(&mut tx, event, subject, actor, detail, at).await?;
    Ok(tx.commit().await?)
}

/// One audit row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// When.
    pub at: Timestamp,
    /// `login`, `login_failed`, `login_locked`, `refresh`, `refresh_reuse`, `revoked`,
    /// `password_changed`, `password_reset_requested`, `password_reset`, `user_created`,
    /// `user_changed`, `client_set`, `key_rotated`, `client_login`, `client_login_failed`.
    pub event: String,
    /// The user name, client id or key id it is about.
    pub subject: String,
    /// Who did it (the user themselves, an admin, `sso`).
    pub actor: String,
    /// What, without secrets.
    pub detail: String,
}

/// The latest audit rows, newest first (of one subject when `subject` is not empty).
pub async fn audit_rows(db: &Db, subject: &str, limit: u32) -> Result<Vec<AuditRow>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT at, event, subject, actor, detail FROM sso_audit \
         WHERE ($1 = '' OR subject = $1) ORDER BY seq DESC LIMIT $2"
    )
    .bind(subject)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)
    .map_err(Into::into)
}
