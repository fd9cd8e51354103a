//! Storage of the long-term memory (PostgreSQL or SQLite): the memories with their embeddings
//! and citations, and the audit of every change.

use common::store::{Db, Error, Timestamp, Tx};
use time::OffsetDateTime;

use crate::memory::Cite;

/// A stored memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Its id (a UUID v7).
    pub id: String,
    /// `user` or `symbol`.
    pub scope: String,
    /// The user id or the ticker (`""`: the market).
    pub subject: String,
    /// The fact.
    pub text: String,
    /// The embedding model of `vector`.
    pub model: String,
    /// Its embedding, unit length.
    pub vector: Vec<f32>,
    /// What it was learnt from, newest first.
    pub sources: Vec<Cite>,
    /// When it was first learnt.
    pub created: OffsetDateTime,
    /// When it last changed or was cited again.
    pub updated: OffsetDateTime,
    /// 1, and one more at each update of its text.
    pub revision: i32,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    scope: String,
    subject: String,
    text: String,
    model: String,
    vector: Vec<u8>,
    sources: String,
    created: Timestamp,
    updated: Timestamp,
    revision: i32,
}

const COLUMNS: &str =
    "id, scope, subject, text, model, vector, sources, created, updated, revision";

/// A subject's memories, most recently changed first: `$1` scope, `$2` subject, `$3` limit.
fn of_subject_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM memories WHERE scope = $1 AND subject = $2 \
         ORDER BY updated DESC, id LIMIT $3"
    )
}

fn to_stored(r: Row) -> Stored {
    Stored {
        id: r.id,
        scope: r.scope,
        subject: r.subject,
        text: r.text,
        model: r.model,
        vector: r
            .vector
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        sources: serde_json::from_str(&r.sources).unwrap_or_default(),
        created: r.created.into(),
        updated: r.updated.into(),
        revision: r.revision,
    }
}

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn json(sources: &[Cite]) -> String {
    serde_json::to_string(sources).unwrap_or_else(|_| "[]".to_owned())
}

/// One change to audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    /// The memory.
    pub memory_id: String,
    /// Its scope.
    pub scope: String,
    /// Its subject.
    pub subject: String,
    /// `add`, `keep`, `update` or `delete`.
    pub action: String,
    /// The text before (empty for an add).
    pub before: String,
    /// The text after (empty for a delete).
    pub after: String,
    /// The source that caused it, if any.
    pub source: Option<Cite>,
    /// Who: a user id, `news`, `capacity`.
    pub actor: String,
    /// When.
    pub at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    memory_id: String,
    scope: String,
    subject: String,
    action: String,
    before: String,
    after: String,
    source: String,
    actor: String,
    at: Timestamp,
}

/// The memories of `scope`/`subject`, most recently changed first, at most `limit`.
pub async fn of_subject(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    limit: u32,
) -> Result<Vec<Stored>, Error> {
    let rows: Vec<Row> = common::on_engine!(tx.conn(), |c| sqlx::query_as(&of_subject_sql())
        .bind(scope)
        .bind(subject)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(to_stored).collect())
}

/// The same, outside a transaction.
pub async fn list(db: &Db, scope: &str, subject: &str, limit: u32) -> Result<Vec<Stored>, Error> {
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&of_subject_sql())
        .bind(scope)
        .bind(subject)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(to_stored).collect())
}

/// One memory by id.
pub async fn get(db: &Db, id: &str) -> Result<Option<Stored>, Error> {
    let row: Option<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM memories WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?;
    Ok(row.map(to_stored))
}

/// Up to `limit` memories whose vectors are not of `model` (to embed again).
pub async fn stale(db: &Db, model: &str, limit: u32) -> Result<Vec<Stored>, Error> {
    let rows: Vec<Row> = common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM memories WHERE model <> $1 ORDER BY id LIMIT $2"
    ))
    .bind(model)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)?;
    Ok(rows.into_iter().map(to_stored).collect())
}

/// Stores a new memory.
pub async fn insert(tx: &mut Tx, m: &Stored) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(&format!(
        "INSERT INTO memories ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&m.id)
    .bind(&m.scope)
    .bind(&m.subject)
    .bind(&m.text)
    .bind(&m.model)
    .bind(bytes(&m.vector))
    .bind(json(&m.sources))
    .bind(Timestamp::from(m.created))
    .bind(Timestamp::from(m.updated))
    .bind(m.revision)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

/// Writes a memory's text, vector, sources, time and revision.
pub async fn save(tx: &mut Tx, m: &Stored) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE memories SET text = $2, model = $3, vector = $4, sources = $5, updated = $6, \
         revision = $7 WHERE id = $1"
    )
    .bind(&m.id)
    .bind(&m.text)
    .bind(&m.model)
    .bind(bytes(&m.vector))
    .bind(json(&m.sources))
    .bind(Timestamp::from(m.updated))
    .bind(m.revision)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

/// Writes a memory's vector of another model (nothing else changes).
pub async fn save_vector(db: &Db, id: &str, model: &str, vector: &[f32]) -> Result<(), Error> {
    common::on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE memories SET model = $2, vector = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(model)
    .bind(bytes(vector))
    .execute(p)
    .await
    .map(drop))?;
    Ok(())
}

/// Forgets a memory; whether it was there.
pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, Error> {
    let n = common::on_engine!(tx.conn(), |c| sqlx::query(
        "DELETE FROM memories WHERE id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Records a change.
pub async fn audit(tx: &mut Tx, a: &Audit) -> Result<(), Error> {
    let source = a
        .source
        .as_ref()
        .and_then(|s| serde_json::to_string(s).ok())
        .unwrap_or_default();
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO memory_audit (memory_id, scope, subject, action, before, after, source, \
         actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&a.memory_id)
    .bind(&a.scope)
    .bind(&a.subject)
    .bind(&a.action)
    .bind(&a.before)
    .bind(&a.after)
    .bind(&source)
    .bind(&a.actor)
    .bind(Timestamp::from(a.at))
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

fn to_audit(r: AuditRow) -> Audit {
    Audit {
        memory_id: r.memory_id,
        scope: r.scope,
        subject: r.subject,
        action: r.action,
        before: r.before,
        after: r.after,
        source: serde_json::from_str(&r.source).ok(),
        actor: r.actor,
        at: r.at.into(),
    }
}

/// The changes to one memory, oldest first (a deleted memory's too).
pub async fn history(db: &Db, memory_id: &str) -> Result<Vec<Audit>, Error> {
    let rows: Vec<AuditRow> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT memory_id, scope, subject, action, before, after, source, actor, at \
         FROM memory_audit WHERE memory_id = $1 ORDER BY seq LIMIT 1000"
    )
    .bind(memory_id)
    .fetch_all(p)
    .await)?;
    Ok(rows.into_iter().map(to_audit).collect())
}
