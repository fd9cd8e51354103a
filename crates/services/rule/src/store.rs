//! Storage of rule sets, their versions and history, and the evaluations the consuming services
//! report (PostgreSQL or SQLite). A change of the active version is written with its history
//! row and its `rule.set.v1` event in one transaction (outbox), so the store and the services
//! that follow the topic never disagree.

use common::bus::Envelope;
use common::bus::topics::RULE_SET;
use common::store::{Db, Error, Outbox, Timestamp, Tx};
use proto::rule::v1 as pb;
use time::OffsetDateTime;

/// One version of a set.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    /// The set.
    pub name: String,
    /// Its number, from 1.
    pub version: i64,
    /// `order` or `decision`.
    pub target: String,
    /// `draft`, `review`, `active`, `superseded`, `rolled_back` or `retired`.
    pub status: String,
    /// The document (JSON).
    pub document: String,
    /// Who wrote it, and when.
    pub author: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last edited or moved.
    pub updated_at: Timestamp,
    /// Who submitted it for review ("" if not yet).
    pub submitted_by: String,
    /// When.
    pub submitted_at: Option<Timestamp>,
    /// Who approved (activated) it ("" if not yet).
    pub approved_by: String,
    /// When.
    pub approved_at: Option<Timestamp>,
    /// The reviewer's comment when it was sent back.
    pub comment: String,
}

const VERSION_COLUMNS: &str = "name, version, target, status, document, author, created_at, \
     updated_at, submitted_by, submitted_at, approved_by, approved_at, comment";

/// One set: its target, active version (0: none) and revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SetRow {
    /// The set.
    pub name: String,
    /// `order` or `decision`.
    pub target: String,
    /// The active version; 0 when none.
    pub active_version: i64,
    /// Increases with every change of the active version.
    pub revision: i64,
    /// When that last happened.
    pub updated_at: Timestamp,
}

/// One row of a set's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    /// The version concerned.
    pub version: i64,
    /// `created`, `edited`, `submitted`, `returned`, `activated`, `rolled_back`, `retired`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// What, in words.
    pub detail: String,
    /// When.
    pub at: Timestamp,
}

/// One reported evaluation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvaluationRow {
    /// `<service>:<subject>`.
    pub id: String,
    /// Who evaluated.
    pub service: String,
    /// `order` or `decision`.
    pub target: String,
    /// The order's client id or the decision's id.
    pub subject: String,
    /// Its account or strategy.
    pub owner: String,
    /// Whether no rule refused it.
    pub allowed: bool,
    /// The findings (JSON: `{"rejections": [...], "warnings": [...]}`).
    pub findings: String,
    /// The sets that judged (JSON list of `name@version`).
    pub sets: String,
    /// The inputs (JSON).
    pub inputs: String,
    /// When.
    pub at: Timestamp,
}

async fn history_in(
    tx: &mut Tx,
    (name, version): (&str, i64),
    action: &str,
    actor: &str,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO rule_history (name, version, action, actor, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(name)
    .bind(version)
    .bind(action)
    .bind(actor)
    .bind(detail)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(drop))
    .map_err(Error::from)
}

async fn set_in(tx: &mut Tx, name: &str) -> Result<Option<SetRow>, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query_as(
        "SELECT name, target, active_version, revision, updated_at FROM rule_sets WHERE name = $1"
    )
    .bind(name)
    .fetch_optional(&mut *c)
    .await)
    .map_err(Error::from)
}

async fn version_in(tx: &mut Tx, name: &str, version: i64) -> Result<Option<VersionRow>, Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM rule_versions WHERE name = $1 AND version = $2"
    ))
    .bind(name)
    .bind(version)
    .fetch_optional(&mut *c)
    .await)
    .map_err(Error::from)
}

/// Why a change could not be made (the caller's words come from the service).
#[derive(Debug)]
pub enum Refused {
    /// The set exists for another target.
    OtherTarget(String),
    /// No such set or version.
    Missing,
    /// The version is not in a status the change needs (its status).
    Status(String),
}

/// Creates version n+1 of `name` as a draft (and the set, at its first version); answers the
/// version.
pub async fn create(
    db: &Db,
    (name, target): (&str, &str),
    document: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Result<i64, Refused>, Error> {
    let mut tx = db.begin().await?;
    match set_in(&mut tx, name).await? {
        Some(s) if s.target != target => return Ok(Err(Refused::OtherTarget(s.target))),
        Some(_) => {}
        None => {
            common::on_engine!(tx.conn(), |c| sqlx::query(
                "INSERT INTO rule_sets (name, target, active_version, revision, updated_at) \
                 VALUES ($1, $2, 0, 0, $3)"
            )
            .bind(name)
            .bind(target)
            .bind(Timestamp::from(at))
            .execute(&mut *c)
            .await
            .map(drop))?;
        }
    }
    let version: i64 = common::on_engine!(tx.conn(), |c| sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM rule_versions WHERE name = $1"
    )
    .bind(name)
    .fetch_one(&mut *c)
    .await)?;
    common::on_engine!(tx.conn(), |c| sqlx::query(&format!(
        "INSERT INTO rule_versions ({VERSION_COLUMNS}) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $6, '', NULL, '', NULL, '')"
    ))
    .bind(name)
    .bind(version)
    .bind(target)
    .bind(document)
    .bind(actor)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(drop))?;
    history_in(&mut tx, (name, version), "created", actor, "draft", at).await?;
    tx.commit().await?;
    Ok(Ok(version))
}

/// Replaces a draft's document.
pub async fn edit(
    db: &Db,
    (name, version): (&str, i64),
    document: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Result<(), Refused>, Error> {
    let mut tx = db.begin().await?;
    let Some(v) = version_in(&mut tx, name, version).await? else {
        return Ok(Err(Refused::Missing));
    };
    if v.status != "draft" {
        return Ok(Err(Refused::Status(v.status)));
    }
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE rule_versions SET document = $3, updated_at = $4 \
         WHERE name = $1 AND version = $2 AND status = 'draft'"
    )
    .bind(name)
    .bind(version)
    .bind(document)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(drop))?;
    history_in(&mut tx, (name, version), "edited", actor, "", at).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Moves a version from `from` to `to` (`submitted`: draft -> review; `returned`: review ->
/// draft with the reviewer's comment).
pub async fn transition(
    db: &Db,
    (name, version): (&str, i64),
    (from, to, action): (&str, &str, &str),
    (actor, comment): (&str, &str),
    at: OffsetDateTime,
) -> Result<Result<VersionRow, Refused>, Error> {
    let mut tx = db.begin().await?;
    let Some(v) = version_in(&mut tx, name, version).await? else {
        return Ok(Err(Refused::Missing));
    };
    if v.status != from {
        return Ok(Err(Refused::Status(v.status)));
    }
    let submitting = to == "review";
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE rule_versions SET status = $3, updated_at = $4, \
         submitted_by = CASE WHEN $5 THEN $6 ELSE submitted_by END, \
         submitted_at = CASE WHEN $5 THEN $4 ELSE submitted_at END, comment = $7 \
         WHERE name = $1 AND version = $2"
    )
    .bind(name)
    .bind(version)
    .bind(to)
    .bind(Timestamp::from(at))
    .bind(submitting)
    .bind(actor)
    .bind(comment)
    .execute(&mut *c)
    .await
    .map(drop))?;
    history_in(&mut tx, (name, version), action, actor, comment, at).await?;
    let row = version_in(&mut tx, name, version).await?;
    tx.commit().await?;
    Ok(row.ok_or(Refused::Missing))
}

/// Makes `version` the active one of `name` (`None`: retires the set), with the history row
/// and the `rule.set.v1` event, in one transaction. `allowed_from` is the statuses the version
/// may come from (`review` to activate, `superseded` to roll back). The version active before
/// becomes `replaced_as` (`superseded`; `rolled_back` when rolling back; `retired`).
pub async fn activate(
    db: &Db,
    (name, version): (&str, Option<i64>),
    (allowed_from, replaced_as, action): (&[&str], &str, &str),
    actor: &str,
    at: OffsetDateTime,
) -> Result<Result<pb::RuleSetChanged, Refused>, Error> {
    let mut tx = db.begin().await?;
    let Some(set) = set_in(&mut tx, name).await? else {
        return Ok(Err(Refused::Missing));
    };
    let mut document = String::new();
    if let Some(v) = version {
        let Some(row) = version_in(&mut tx, name, v).await? else {
            return Ok(Err(Refused::Missing));
        };
        if !allowed_from.contains(&row.status.as_str()) {
            return Ok(Err(Refused::Status(row.status)));
        }
        document = row.document;
    } else if set.active_version == 0 {
        return Ok(Err(Refused::Status("retired".to_owned())));
    }
    let stamp = Timestamp::from(at);
    if set.active_version > 0 {
        common::on_engine!(tx.conn(), |c| sqlx::query(
            "UPDATE rule_versions SET status = $3, updated_at = $4 \
             WHERE name = $1 AND version = $2"
        )
        .bind(name)
        .bind(set.active_version)
        .bind(replaced_as)
        .bind(stamp)
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    let active = version.unwrap_or(0);
    if active > 0 {
        common::on_engine!(tx.conn(), |c| sqlx::query(
            "UPDATE rule_versions SET status = 'active', updated_at = $3, \
             approved_by = CASE WHEN approved_by = '' THEN $4 ELSE approved_by END, \
             approved_at = CASE WHEN approved_at IS NULL THEN $3 ELSE approved_at END \
             WHERE name = $1 AND version = $2"
        )
        .bind(name)
        .bind(active)
        .bind(stamp)
        .bind(actor)
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    let revision = set.revision + 1;
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "UPDATE rule_sets SET active_version = $2, revision = $3, updated_at = $4 WHERE name = $1"
    )
    .bind(name)
    .bind(active)
    .bind(revision)
    .bind(stamp)
    .execute(&mut *c)
    .await
    .map(drop))?;
    let detail = match (set.active_version, active) {
        (0, v) => format!("v{v} active"),
        (was, 0) => format!("v{was} retired; no version active"),
        (was, v) => format!("v{v} active, v{was} {replaced_as}"),
    };
    history_in(
        &mut tx,
        (name, active.max(set.active_version)),
        action,
        actor,
        &detail,
        at,
    )
    .await?;
    let event = pb::RuleSetChanged {
        name: name.to_owned(),
        revision: u64::try_from(revision).unwrap_or(0),
        version: u64::try_from(active).unwrap_or(0),
        target: set.target,
        document_json: document,
        actor: actor.to_owned(),
        at: Some(common::bus::proto_time(at)),
    };
    Outbox::enqueue(
        &mut tx,
        RULE_SET.static_name(),
        &Envelope::new("rule", name, &event),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(event))
}

/// The version a rollback of `name` returns to: the newest superseded one below the active.
pub async fn rollback_target(db: &Db, name: &str, active: i64) -> Result<Option<i64>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT MAX(version) FROM rule_versions \
         WHERE name = $1 AND version < $2 AND status = 'superseded'"
    )
    .bind(name)
    .bind(active)
    .fetch_one(p)
    .await)
    .map_err(Error::from)
}

/// Every set.
pub async fn sets(db: &Db) -> Result<Vec<SetRow>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT name, target, active_version, revision, updated_at FROM rule_sets ORDER BY name"
    )
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}

/// One set.
pub async fn set(db: &Db, name: &str) -> Result<Option<SetRow>, Error> {
    let mut tx = db.begin().await?;
    let row = set_in(&mut tx, name).await?;
    tx.commit().await?;
    Ok(row)
}

/// One version.
pub async fn version(db: &Db, name: &str, version: i64) -> Result<Option<VersionRow>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM rule_versions WHERE name = $1 AND version = $2"
    ))
    .bind(name)
    .bind(version)
    .fetch_optional(p)
    .await)
    .map_err(Error::from)
}

/// Every version of a set, newest first.
pub async fn versions(db: &Db, name: &str) -> Result<Vec<VersionRow>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM rule_versions WHERE name = $1 ORDER BY version DESC"
    ))
    .bind(name)
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}

/// The active sets with their state, as `rule.set.v1` carries them.
pub async fn active(db: &Db) -> Result<Vec<pb::RuleSetChanged>, Error> {
    let rows: Vec<(String, String, i64, i64, Timestamp, String, String)> =
        common::on_engine!(db.pool(), |p| sqlx::query_as(
            "SELECT s.name, s.target, s.active_version, s.revision, s.updated_at, v.document, \
             v.approved_by FROM rule_sets s JOIN rule_versions v \
             ON v.name = s.name AND v.version = s.active_version ORDER BY s.name"
        )
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(
            |(name, target, version, revision, at, document_json, actor)| pb::RuleSetChanged {
                name,
                revision: u64::try_from(revision).unwrap_or(0),
                version: u64::try_from(version).unwrap_or(0),
                target,
                document_json,
                actor,
                at: Some(common::bus::proto_time(at.get())),
            },
        )
        .collect())
}

/// A set's history, newest first.
pub async fn history(db: &Db, name: &str, limit: u32) -> Result<Vec<HistoryRow>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT version, action, actor, detail, at FROM rule_history WHERE name = $1 \
         ORDER BY seq DESC LIMIT $2"
    )
    .bind(name)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}

/// Records a reported evaluation once (a redelivered one changes nothing), keeping the newest
/// `keep`.
pub async fn record(tx: &mut Tx, e: &EvaluationRow, keep: u32) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO rule_evaluations \
         (id, service, target, subject, owner, allowed, findings, sets, inputs, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING"
    )
    .bind(&e.id)
    .bind(&e.service)
    .bind(&e.target)
    .bind(&e.subject)
    .bind(&e.owner)
    .bind(e.allowed)
    .bind(&e.findings)
    .bind(&e.sets)
    .bind(&e.inputs)
    .bind(e.at)
    .execute(&mut *c)
    .await
    .map(drop))?;
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "DELETE FROM rule_evaluations WHERE seq <= (SELECT MAX(seq) FROM rule_evaluations) - $1"
    )
    .bind(i64::from(keep))
    .execute(&mut *c)
    .await
    .map(drop))
    .map_err(Error::from)
}

/// Reported evaluations, newest first: of one target (empty: all), only refused ones or all,
/// judged by one set (empty: any).
pub async fn evaluations(
    db: &Db,
    (target, refused_only, set): (&str, bool, &str),
    limit: u32,
) -> Result<Vec<EvaluationRow>, Error> {
    // `sets` is a JSON list of "name@version": a set's name is matched with its quote and @.
    let pattern = format!("%\"{}@%", set.replace('_', "\\_"));
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT id, service, target, subject, owner, allowed, findings, sets, inputs, at \
         FROM rule_evaluations WHERE ($1 = '' OR target = $1) AND (NOT $2 OR NOT allowed) \
         AND ($3 = '' OR sets LIKE $4 ESCAPE '\\') ORDER BY seq DESC LIMIT $5"
    )
    .bind(target)
    .bind(refused_only)
    .bind(set)
    .bind(pattern)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}
