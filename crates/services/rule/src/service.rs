//! The use cases: write a rule set's versions, move them draft → review → active (four eyes
//! when configured), roll back and retire in one call, evaluate, replay a draft on recorded
//! evaluations (what-if), and keep the evaluations the consuming services report.
//!
//! A document is compiled (parsed, type-checked, cost-bounded, probed) whenever it is saved and
//! again before it is activated, so no version that would fail on the order path can become
//! active.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use common::bus::SharedBus;
use common::bus::topics::RULE_EVALUATION;
use common::consumer::{Consumer, HandleError, handler_fn};
use common::error::{Classify, Kind};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::{Db, Timestamp};
use proto::rule::v1 as pb;
use rules::{CompiledSet, Inputs, Outcome, Problem, RuleSetDoc, Target};
use serde::Serialize;

use crate::metrics::Metrics;
use crate::settings::RuleSettings;
use crate::store::{self, EvaluationRow, Refused, VersionRow};

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such set or version.
    #[error("{0}")]
    NotFound(String),
    /// A document with problems (each named by where it is).
    #[error("the rule set does not compile: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// A request that does not fit (bad inputs, a bad name).
    #[error("{0}")]
    BadRequest(String),
    /// The version is not in a status that allows this.
    #[error("{0}")]
    Status(String),
    /// Four eyes.
    #[error("{0}")]
    Forbidden(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::NotFound(_) => Kind::NotFound,
            Error::Invalid(_) | Error::BadRequest(_) => Kind::InvalidArgument,
            Error::Status(_) => Kind::FailedPrecondition,
            Error::Forbidden(_) => Kind::PermissionDenied,
            Error::Store(e) => e.kind(),
        }
    }
}

/// A version as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Version {
    /// The set.
    pub name: String,
    /// Its number.
    pub version: i64,
    /// `order` or `decision`.
    pub target: String,
    /// `draft`, `review`, `active`, `superseded`, `rolled_back` or `retired`.
    pub status: String,
    /// The document.
    pub document: RuleSetDoc,
    /// Who wrote it, and when (RFC 3339).
    pub author: String,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Who submitted it for review.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub submitted_by: String,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    /// Who activated it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub approved_by: String,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    /// The reviewer's comment when it was sent back.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

/// RFC 3339.
pub fn rfc3339(t: Timestamp) -> String {
    t.get()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn version_of(r: VersionRow) -> Result<Version, Error> {
    let document = rules::set::parse(&r.document).map_err(|p| {
        Error::BadRequest(format!(
            "stored document of {} v{} does not read: {p}",
            r.name, r.version
        ))
    })?;
    Ok(Version {
        name: r.name,
        version: r.version,
        target: r.target,
        status: r.status,
        document,
        author: r.author,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
        submitted_by: r.submitted_by,
        submitted_at: r.submitted_at.map(rfc3339),
        approved_by: r.approved_by,
        approved_at: r.approved_at.map(rfc3339),
        comment: r.comment,
    })
}

/// A set as the list shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SetSummary {
    /// The set.
    pub name: String,
    /// `order` or `decision`.
    pub target: String,
    /// The active version; 0 when none.
    pub active_version: i64,
    /// Increases with every change of the active version.
    pub revision: i64,
    /// When that last happened.
    pub updated_at: String,
    /// Its newest version and that version's status.
    pub latest_version: i64,
    /// The newest version's status.
    pub latest_status: String,
    /// The active version's description.
    pub description: String,
}

/// A reported evaluation as the audit shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
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
    /// Refusals.
    pub rejections: Vec<rules::Finding>,
    /// Warnings.
    pub warnings: Vec<rules::Finding>,
    /// The sets that judged (`name@version`).
    pub sets: Vec<String>,
    /// The inputs.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    /// When.
    pub at: String,
}

/// One input whose verdict a draft changes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// The recorded evaluation's subject (or `inputs[i]`).
    pub subject: String,
    /// Its account or strategy.
    pub owner: String,
    /// When it was evaluated ("" for given inputs).
    pub at: String,
    /// What the set's active version refuses it for (`rule: message`).
    pub before: Vec<String>,
    /// What the draft refuses it for.
    pub after: Vec<String>,
}

/// What a draft would have changed.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct WhatIf {
    /// The version replayed, and the active version it is compared with (0: none).
    pub version: i64,
    /// The active version it is compared with; 0 when none is active.
    pub compared_with: i64,
    /// Inputs replayed.
    pub evaluated: u64,
    /// Refused by the draft, not by the active version.
    pub newly_refused: u64,
    /// Refused by the active version, not by the draft.
    pub newly_allowed: u64,
    /// Refused by both, for other reasons.
    pub reasons_changed: u64,
    /// Refusals of the draft by rule.
    pub refusals_by_rule: BTreeMap<String, u64>,
    /// Warnings of the draft by rule.
    pub warnings_by_rule: BTreeMap<String, u64>,
    /// The first 100 changed inputs.
    pub changes: Vec<Change>,
}

/// One row of a set's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// The version concerned.
    pub version: i64,
    /// `created`, `edited`, `submitted`, `returned`, `activated`, `rolled_back`, `retired`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// What.
    pub detail: String,
    /// When.
    pub at: String,
}

struct Inner {
    db: Db,
    settings: RuleSettings,
    clock: MarketClock,
    metrics: Metrics,
    /// Compiled versions, by (name, version): a version's document never changes once it left
    /// draft, and drafts are not cached.
    compiled: Mutex<HashMap<(String, i64), Arc<CompiledSet>>>,
}

/// The rule service's use cases. Cheap to clone.
#[derive(Clone)]
pub struct RuleBook {
    inner: Arc<Inner>,
}

fn refused(name: &str, version: i64, r: Refused, doing: &str) -> Error {
    match r {
        Refused::Missing => Error::NotFound(format!("no rule set {name:?} version {version}")),
        Refused::OtherTarget(t) => Error::BadRequest(format!(
            "rule set {name:?} judges {t}; a set keeps its target (use another name)"
        )),
        Refused::Status(s) => Error::Status(format!("{name} v{version} is {s}: cannot {doing}")),
    }
}

impl RuleBook {
    /// The use cases over `db`.
    pub fn new(db: Db, settings: RuleSettings, clock: MarketClock, metrics: Metrics) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                settings,
                clock,
                metrics,
                compiled: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// Compiles `doc` (as version `version`), or every problem.
    pub fn validate(doc: &RuleSetDoc, version: u64) -> Result<CompiledSet, Error> {
        doc.compile(version).map_err(Error::Invalid)
    }

    /// Saves `doc` as a new draft version of its set; answers the version.
    pub async fn create(&self, doc: &RuleSetDoc, actor: &str) -> Result<Version, Error> {
        Self::validate(doc, 1)?;
        let json = serde_json::to_string(doc).map_err(|e| Error::BadRequest(e.to_string()))?;
        let version = store::create(
            &self.inner.db,
            (&doc.name, doc.target.name()),
            &json,
            actor,
            self.now(),
        )
        .await?
        .map_err(|r| refused(&doc.name, 0, r, "create"))?;
        self.version(&doc.name, version).await
    }

    /// Replaces a draft's document (its name and target stay).
    pub async fn edit(
        &self,
        (name, version): (&str, i64),
        doc: &RuleSetDoc,
        actor: &str,
    ) -> Result<Version, Error> {
        let current = self.version(name, version).await?;
        if doc.name != name || doc.target.name() != current.target {
            return Err(Error::BadRequest(format!(
                "the document must keep the set's name {name:?} and target {}",
                current.target
            )));
        }
        Self::validate(doc, u64::try_from(version).unwrap_or(0))?;
        let json = serde_json::to_string(doc).map_err(|e| Error::BadRequest(e.to_string()))?;
        store::edit(&self.inner.db, (name, version), &json, actor, self.now())
            .await?
            .map_err(|r| refused(name, version, r, "edit it (only a draft is edited)"))?;
        self.version(name, version).await
    }

    /// Submits a draft for review.
    pub async fn submit(
        &self,
        (name, version): (&str, i64),
        actor: &str,
    ) -> Result<Version, Error> {
        let row = store::transition(
            &self.inner.db,
            (name, version),
            ("draft", "review", "submitted"),
            (actor, ""),
            self.now(),
        )
        .await?
        .map_err(|r| refused(name, version, r, "submit it (only a draft is submitted)"))?;
        version_of(row)
    }

    /// Sends a version under review back to draft with the reviewer's comment.
    pub async fn send_back(
        &self,
        (name, version): (&str, i64),
        actor: &str,
        comment: &str,
    ) -> Result<Version, Error> {
        if comment.trim().is_empty() || comment.len() > 2000 {
            return Err(Error::BadRequest(
                "say why it goes back: a comment of 1 to 2000 characters".to_owned(),
            ));
        }
        let row = store::transition(
            &self.inner.db,
            (name, version),
            ("review", "draft", "returned"),
            (actor, comment),
            self.now(),
        )
        .await?
        .map_err(|r| refused(name, version, r, "send it back (only one under review)"))?;
        version_of(row)
    }

    /// Approves a version under review: it becomes the active one, pushed to the services on
    /// `rule.set.v1` in the same transaction.
    pub async fn approve(
        &self,
        (name, version): (&str, i64),
        actor: &str,
    ) -> Result<Version, Error> {
        let v = self.version(name, version).await?;
        if self.inner.settings.four_eyes && (v.author == actor || v.submitted_by == actor) {
            return Err(Error::Forbidden(format!(
                "four eyes: {name} v{version} was written by {} and submitted by {}; another \
                 risk officer approves it",
                v.author, v.submitted_by
            )));
        }
        // Compiled again: this build's checker is what the services run.
        Self::validate(&v.document, u64::try_from(version).unwrap_or(0))?;
        store::activate(
            &self.inner.db,
            (name, Some(version)),
            (&["review"], "superseded", "activated"),
            actor,
            self.now(),
        )
        .await?
        .map_err(|r| refused(name, version, r, "activate it (only one under review)"))?;
        self.inner
            .metrics
            .changes
            .with_label_values(&["activated"])
            .inc();
        tracing::info!(set = name, version, actor, "rule set activated");
        self.version(name, version).await
    }

    /// Rolls the set back to the version active before the current one, in one call.
    pub async fn rollback(&self, name: &str, actor: &str) -> Result<Version, Error> {
        let set = store::set(&self.inner.db, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no rule set {name:?}")))?;
        if set.active_version == 0 {
            return Err(Error::Status(format!(
                "{name} has no active version to roll back"
            )));
        }
        let to = store::rollback_target(&self.inner.db, name, set.active_version)
            .await?
            .ok_or_else(|| {
                Error::Status(format!(
                    "{name} v{} is the first active version: nothing to roll back to (retire \
                     the set instead)",
                    set.active_version
                ))
            })?;
        store::activate(
            &self.inner.db,
            (name, Some(to)),
            (&["superseded"], "rolled_back", "rolled_back"),
            actor,
            self.now(),
        )
        .await?
        .map_err(|r| refused(name, to, r, "roll back to it"))?;
        self.inner
            .metrics
            .changes
            .with_label_values(&["rolled_back"])
            .inc();
        tracing::info!(
            set = name,
            from = set.active_version,
            to,
            actor,
            "rule set rolled back"
        );
        self.version(name, to).await
    }

    /// Retires the set: no version stays active.
    pub async fn retire(&self, name: &str, actor: &str) -> Result<(), Error> {
        store::activate(
            &self.inner.db,
            (name, None),
            (&[], "retired", "retired"),
            actor,
            self.now(),
        )
        .await?
        .map_err(|r| refused(name, 0, r, "retire it"))?;
        self.inner
            .metrics
            .changes
            .with_label_values(&["retired"])
            .inc();
        Ok(())
    }

    /// One version.
    pub async fn version(&self, name: &str, version: i64) -> Result<Version, Error> {
        let row = store::version(&self.inner.db, name, version)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no rule set {name:?} version {version}")))?;
        version_of(row)
    }

    /// Every version of a set, newest first.
    pub async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let rows = store::versions(&self.inner.db, name).await?;
        if rows.is_empty() {
            return Err(Error::NotFound(format!("no rule set {name:?}")));
        }
        rows.into_iter().map(version_of).collect()
    }

    /// Every set with its active and newest versions.
    pub async fn sets(&self) -> Result<Vec<SetSummary>, Error> {
        let mut out = Vec::new();
        for s in store::sets(&self.inner.db).await? {
            let versions = store::versions(&self.inner.db, &s.name).await?;
            let latest = versions.first();
            let description = versions
                .iter()
                .find(|v| v.version == s.active_version)
                .and_then(|v| rules::set::parse(&v.document).ok())
                .map(|d| d.description)
                .unwrap_or_default();
            out.push(SetSummary {
                latest_version: latest.map_or(0, |v| v.version),
                latest_status: latest.map(|v| v.status.clone()).unwrap_or_default(),
                name: s.name,
                target: s.target,
                active_version: s.active_version,
                revision: s.revision,
                updated_at: rfc3339(s.updated_at),
                description,
            });
        }
        Ok(out)
    }

    /// A set's history, newest first.
    pub async fn history(&self, name: &str, limit: u32) -> Result<Vec<HistoryEntry>, Error> {
        let rows = store::history(&self.inner.db, name, limit).await?;
        if rows.is_empty() {
            return Err(Error::NotFound(format!("no rule set {name:?}")));
        }
        Ok(rows
            .into_iter()
            .map(|h| HistoryEntry {
                version: h.version,
                action: h.action,
                actor: h.actor,
                detail: h.detail,
                at: rfc3339(h.at),
            })
            .collect())
    }

    /// The active sets as `rule.set.v1` carries them.
    pub async fn active(&self) -> Result<Vec<pb::RuleSetChanged>, Error> {
        Ok(store::active(&self.inner.db).await?)
    }

    /// Version `version` of `name` compiled from `doc` (read only when not cached), from the
    /// cache when it is not a draft (a version's document never changes once it left draft).
    fn compiled_doc(
        &self,
        (name, version, draft): (&str, i64, bool),
        doc: impl FnOnce() -> Result<RuleSetDoc, Error>,
    ) -> Result<Arc<CompiledSet>, Error> {
        let key = (name.to_owned(), version);
        if !draft
            && let Some(c) = self
                .inner
                .compiled
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
        {
            return Ok(c.clone());
        }
        let c = Arc::new(Self::validate(
            &doc()?,
            u64::try_from(version).unwrap_or(0),
        )?);
        if !draft {
            self.inner
                .compiled
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key, c.clone());
        }
        Ok(c)
    }

    /// A version compiled, from the cache when it is not a draft.
    fn compiled(&self, v: &Version) -> Result<Arc<CompiledSet>, Error> {
        self.compiled_doc((&v.name, v.version, v.status == "draft"), || {
            Ok(v.document.clone())
        })
    }

    /// Evaluates the active sets of `target` on `inputs` (JSON).
    pub async fn evaluate(
        &self,
        target: Target,
        inputs: &serde_json::Value,
    ) -> Result<Outcome, Error> {
        let inputs =
            Inputs::from_json(target, inputs).map_err(|e| Error::BadRequest(e.to_string()))?;
        let mut out = Outcome::default();
        // The active sets come with their documents: no second read of each version.
        for a in self.active().await? {
            if a.target != target.name() {
                continue;
            }
            let version = i64::try_from(a.version).unwrap_or(0);
            let doc = || {
                rules::set::parse(&a.document_json).map_err(|p| {
                    Error::BadRequest(format!(
                        "stored document of {} v{} does not read: {p}",
                        a.name, a.version
                    ))
                })
            };
            self.compiled_doc((&a.name, version, false), doc)?
                .evaluate(&inputs, &mut out);
        }
        Ok(out)
    }

    /// Replays `version` of `name` on `given` inputs, or else on the newest recorded
    /// evaluations of its target (at most `limit`), against the set's active version.
    pub async fn what_if(
        &self,
        (name, version): (&str, i64),
        given: Option<&[serde_json::Value]>,
        limit: u32,
    ) -> Result<WhatIf, Error> {
        let draft = self.version(name, version).await?;
        let target = draft.document.target;
        let draft_set = self.compiled(&draft)?;
        let set = store::set(&self.inner.db, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no rule set {name:?}")))?;
        let active = if set.active_version > 0 && set.active_version != version {
            Some(self.compiled(&self.version(name, set.active_version).await?)?)
        } else {
            None
        };
        let limit = limit.clamp(1, self.inner.settings.max_what_if);
        // (subject, owner, at, inputs)
        let mut cases: Vec<(String, String, String, Inputs)> = Vec::new();
        match given {
            Some(list) => {
                if list.len() > self.inner.settings.max_what_if as usize {
                    return Err(Error::BadRequest(format!(
                        "at most {} inputs",
                        self.inner.settings.max_what_if
                    )));
                }
                for (i, json) in list.iter().enumerate() {
                    let inputs = Inputs::from_json(target, json)
                        .map_err(|e| Error::BadRequest(format!("inputs[{i}]: {e}")))?;
                    cases.push((format!("inputs[{i}]"), String::new(), String::new(), inputs));
                }
            }
            None => {
                for e in
                    store::evaluations(&self.inner.db, (target.name(), false, ""), limit).await?
                {
                    let Ok(json) = serde_json::from_str::<serde_json::Value>(&e.inputs) else {
                        continue;
                    };
                    // Recorded by an older build with other fields: not replayable, skipped.
                    if let Ok(inputs) = Inputs::from_json(target, &json) {
                        cases.push((e.subject, e.owner, rfc3339(e.at), inputs));
                    }
                }
            }
        }
        let mut report = WhatIf {
            version,
            compared_with: active.as_ref().map_or(0, |_| set.active_version),
            ..WhatIf::default()
        };
        let said = |o: &Outcome| -> Vec<String> {
            o.rejections
                .iter()
                .map(|f| format!("{}: {}", f.rule, f.message))
                .collect()
        };
        for (subject, owner, at, inputs) in cases {
            let mut after = Outcome::default();
            draft_set.evaluate(&inputs, &mut after);
            let mut before = Outcome::default();
            if let Some(a) = &active {
                a.evaluate(&inputs, &mut before);
            }
            report.evaluated += 1;
            for f in &after.rejections {
                *report.refusals_by_rule.entry(f.rule.clone()).or_default() += 1;
            }
            for f in &after.warnings {
                *report.warnings_by_rule.entry(f.rule.clone()).or_default() += 1;
            }
            let (b, a) = (said(&before), said(&after));
            if b == a {
                continue;
            }
            match (b.is_empty(), a.is_empty()) {
                (true, false) => report.newly_refused += 1,
                (false, true) => report.newly_allowed += 1,
                _ => report.reasons_changed += 1,
            }
            if report.changes.len() < 100 {
                report.changes.push(Change {
                    subject,
                    owner,
                    at,
                    before: b,
                    after: a,
                });
            }
        }
        Ok(report)
    }

    /// Reported evaluations, newest first.
    pub async fn evaluations(
        &self,
        (target, refused_only, set): (&str, bool, &str),
        limit: u32,
    ) -> Result<Vec<Evaluation>, Error> {
        let rows = store::evaluations(&self.inner.db, (target, refused_only, set), limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let findings: serde_json::Value =
                    serde_json::from_str(&r.findings).unwrap_or_default();
                let list = |key: &str| -> Vec<rules::Finding> {
                    findings
                        .get(key)
                        .and_then(|v| v.as_array())
                        .map(|a| a.iter().filter_map(finding_of_json).collect())
                        .unwrap_or_default()
                };
                Evaluation {
                    rejections: list("rejections"),
                    warnings: list("warnings"),
                    id: r.id,
                    service: r.service,
                    target: r.target,
                    subject: r.subject,
                    owner: r.owner,
                    allowed: r.allowed,
                    sets: serde_json::from_str(&r.sets).unwrap_or_default(),
                    inputs: serde_json::from_str(&r.inputs).unwrap_or_default(),
                    at: rfc3339(r.at),
                }
            })
            .collect())
    }

    /// Keeps the evaluations the services report on `rule.evaluation.v1` (group
    /// `rule.evaluations`) until `token` is cancelled.
    pub async fn follow_evaluations(
        self,
        bus: SharedBus,
        metrics: common::consumer::ConsumerMetrics,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let book = self.clone();
        let consumer = Consumer::new(
            "rule.evaluations",
            &[RULE_EVALUATION.static_name()],
            handler_fn(move |delivery, tx| {
                let book = book.clone();
                Box::pin(async move {
                    let e: pb::RuleEvaluation =
                        delivery.envelope.decode().map_err(HandleError::reject)?;
                    let row = row_of(&e).map_err(HandleError::reject)?;
                    store::record(tx, &row, book.inner.settings.keep_evaluations).await?;
                    book.inner
                        .metrics
                        .evaluations
                        .with_label_values(&[
                            e.service.as_str(),
                            if e.allowed { "allowed" } else { "refused" },
                        ])
                        .inc();
                    Ok(())
                })
            }),
        );
        consumer
            .with_metrics(metrics)
            .run(bus, self.inner.db.clone(), token)
            .await
            .map_err(anyhow::Error::from)
    }
}

fn finding_json(f: &pb::Finding) -> serde_json::Value {
    serde_json::json!({
        "set": f.set, "version": f.version, "rule": f.rule, "action": f.action,
        "message": f.message,
    })
}

fn finding_of_json(v: &serde_json::Value) -> Option<rules::Finding> {
    Some(rules::Finding {
        set: v.get("set")?.as_str()?.to_owned(),
        version: v.get("version")?.as_u64()?,
        rule: v.get("rule")?.as_str()?.to_owned(),
        action: serde_json::from_value(v.get("action")?.clone()).ok()?,
        message: v.get("message")?.as_str()?.to_owned(),
    })
}

fn row_of(e: &pb::RuleEvaluation) -> Result<EvaluationRow, String> {
    if e.id.is_empty() || e.id.len() > 300 {
        return Err("an evaluation needs an id of at most 300 characters".to_owned());
    }
    if Target::parse(&e.target).is_none() {
        return Err(format!("unknown target {:?}", e.target));
    }
    let at =
        e.at.as_ref()
            .and_then(common::bus::time_of)
            .ok_or("an evaluation needs its time")?;
    Ok(EvaluationRow {
        id: e.id.clone(),
        service: e.service.clone(),
        target: e.target.clone(),
        subject: e.subject.clone(),
        owner: e.owner.clone(),
        allowed: e.allowed,
        findings: serde_json::json!({
            "rejections": e.rejections.iter().map(finding_json).collect::<Vec<_>>(),
            "warnings": e.warnings.iter().map(finding_json).collect::<Vec<_>>(),
        })
        .to_string(),
        sets: serde_json::to_string(&e.sets).unwrap_or_default(),
        inputs: e.inputs_json.clone(),
        at: Timestamp::from(at),
    })
}
