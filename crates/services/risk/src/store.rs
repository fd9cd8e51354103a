//! Storage of limits, kill switches and the audit trail (PostgreSQL or SQLite). Every change is
//! written with its audit row and its `risk.event.v1` event in one transaction.

use common::bus::Envelope;
use common::bus::topics::RISK_EVENT;
use common::store::{Db, Error, Outbox, Timestamp, Tx};
use proto::risk::v1 as pb;
use time::OffsetDateTime;

use crate::domain::monitor::Alert;
use crate::domain::{Limits, Scope};

async fn audit_in(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    scope: &Scope,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO risk_audit (at, actor, action, scope, key, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(Timestamp::from(at))
    .bind(actor)
    .bind(action)
    .bind(scope.name())
    .bind(scope.key())
    .bind(detail)
    .execute(&mut *c)
    .await
    .map(drop))?;
    let event = pb::RiskEvent {
        kind: action.to_owned(),
        scope: Some(pb::ScopeRef {
            scope: scope.name().to_owned(),
            key: scope.key().to_owned(),
        }),
        detail: detail.to_owned(),
        at: Some(common::bus::proto_time(at)),
        actor: actor.to_owned(),
    };
    let key = if scope.key().is_empty() {
        "global"
    } else {
        scope.key()
    };
    Outbox::enqueue(
        tx,
        RISK_EVENT.static_name(),
        &Envelope::new("risk", key, &event),
    )
    .await
}

/// Writes a rule evaluation's `rule.evaluation.v1` event (through the outbox): the rule
/// service keeps it.
pub async fn evaluation(db: &Db, event: &proto::rule::v1::RuleEvaluation) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    Outbox::enqueue(
        &mut tx,
        common::bus::topics::RULE_EVALUATION.static_name(),
        &Envelope::new("risk", &event.owner, event),
    )
    .await?;
    tx.commit().await
}

/// Records `action` on `scope` by `actor` (audit row and event).
pub async fn audit(
    db: &Db,
    actor: &str,
    action: &str,
    scope: &Scope,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    audit_in(&mut tx, actor, action, scope, detail, at).await?;
    tx.commit().await
}

/// Publishes a monitor alert once: its id is recorded, and only the first time are the audit
/// row and the `risk.event.v1` event (kind: the alert's) written, in the same transaction.
/// Answers whether it was published now.
pub async fn alert(db: &Db, alert: &Alert, at: OffsetDateTime) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let inserted = common::on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO risk_alerts (id, kind, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"
    )
    .bind(&alert.id)
    .bind(alert.kind)
    .bind(Timestamp::from(at))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() > 0))?;
    if inserted {
        audit_in(
            &mut tx,
            "monitor",
            alert.kind,
            &alert.scope,
            &alert.detail,
            at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Puts `value` for `scope` in `table` (or with `None` deletes the row), with the audit row
/// and event, in one transaction. `table` is one of this module's own (never input).
async fn put(
    db: &Db,
    table: &'static str,
    scope: &Scope,
    value: Option<&str>,
    (actor, action, detail): (&str, &str, &str),
    at: OffsetDateTime,
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    match value {
        Some(v) => common::on_engine!(tx.conn(), |c| sqlx::query(&format!(
            "INSERT INTO {table} (scope, key, value, actor, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, \
             actor = excluded.actor, at = excluded.at"
        ))
        .bind(scope.name())
        .bind(scope.key())
        .bind(v)
        .bind(actor)
        .bind(Timestamp::from(at))
        .execute(&mut *c)
        .await
        .map(drop))?,
        None => common::on_engine!(tx.conn(), |c| sqlx::query(&format!(
            "DELETE FROM {table} WHERE scope = $1 AND key = $2"
        ))
        .bind(scope.name())
        .bind(scope.key())
        .execute(&mut *c)
        .await
        .map(drop))?,
    }
    audit_in(&mut tx, actor, action, scope, detail, at).await?;
    tx.commit().await
}

/// Stores (or with `None` deletes) a scope's own limits, audited.
pub async fn set_limits(
    db: &Db,
    scope: &Scope,
    limits: Option<&Limits>,
    actor: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    let text = limits.map(|l| serde_json::to_string(l).unwrap_or_default());
    let detail = text.clone().unwrap_or_else(|| "cleared".to_owned());
    put(
        db,
        "risk_limits",
        scope,
        text.as_deref(),
        (actor, "limits", &detail),
        at,
    )
    .await
}

/// Stores an engaged kill switch (or removes a released one), audited.
pub async fn set_kill(
    db: &Db,
    scope: &Scope,
    reason: Option<&str>,
    actor: &str,
    at: OffsetDateTime,
) -> Result<(), Error> {
    let detail = match reason {
        Some(r) => format!("engaged: {r}"),
        None => "released".to_owned(),
    };
    put(
        db,
        "risk_kill_switches",
        scope,
        reason,
        (actor, "kill_switch", &detail),
        at,
    )
    .await
}

fn scope_of(name: &str, key: &str) -> Option<Scope> {
    Scope::parse(name, key).ok()
}

/// Every stored scope's limits.
pub async fn all_limits(db: &Db) -> Result<Vec<(Scope, Limits)>, Error> {
    let rows: Vec<(String, String, String)> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT scope, key, value FROM risk_limits"
    )
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, k, l)| {
            let scope = scope_of(&s, &k)?;
            match serde_json::from_str::<Limits>(&l) {
                Ok(l) => Some((scope, l)),
                Err(e) => {
                    tracing::error!(%s, %k, "stored limits unreadable, ignored: {e}");
                    None
                }
            }
        })
        .collect())
}

/// Every engaged kill switch.
pub async fn all_kills(db: &Db) -> Result<Vec<(Scope, String)>, Error> {
    let rows: Vec<(String, String, String)> = common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT scope, key, value FROM risk_kill_switches"
    )
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, k, r)| Some((scope_of(&s, &k)?, r)))
        .collect())
}

/// One audit row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// `limits`, `kill_switch` or `order_rejected`.
    pub action: String,
    /// `global`, `account` or `strategy`.
    pub scope: String,
    /// The account or strategy.
    pub key: String,
    /// What.
    pub detail: String,
}

/// The audit trail, newest first.
pub async fn audit_trail(db: &Db, limit: u32) -> Result<Vec<AuditRow>, Error> {
    common::on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT at, actor, action, scope, key, detail FROM risk_audit ORDER BY seq DESC LIMIT $1"
    )
    .bind(i64::from(limit))
    .fetch_all(p)
    .await)
    .map_err(Error::from)
}
