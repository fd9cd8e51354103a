//! The active rule sets in a consuming service, live: loaded at start from the rule service
//! (gRPC `ListActive`), then kept current from `rule.set.v1`, so the service evaluates locally —
//! no network hop on the order path — and a change applies to the next evaluation, with no
//! restart.
//!
//! Like `common::remote_config`: [`Rules::start`] subscribes before it fetches (nothing between
//! the two is missed), one consumer group per instance (every instance sees every change), and
//! an event applies only when its revision is above the one held (a redelivered or older event
//! changes nothing). A set that does not compile (it was checked before activation, so this
//! means another version of this crate) is logged and the set's previous version stays.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::bus::SharedBus;
use common::bus::topics::RULE_SET;
use common::error::chain;
use common::grpc::Connector;
use common::shutdown::CancellationToken;
use proto::rule::v1 as pb;
use serde::Deserialize;
use tokio::sync::watch;

use crate::inputs::{Inputs, Target};
use crate::set::{CompiledSet, Outcome, RuleSetDoc};

/// A consuming service's `[rules]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSettings {
    /// Whether to consult the rule sets at all.
    pub enabled: bool,
    /// Whether start fails when the active sets cannot be fetched (production: a risk service
    /// that cannot know its compliance rules should not take orders). Off: it starts with
    /// none and the topic brings them.
    pub required: bool,
    /// How long the fetch at start may take.
    pub fetch_timeout_ms: u64,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            required: false,
            fetch_timeout_ms: 3_000,
        }
    }
}

impl RulesSettings {
    /// Appends every broken setting to `problems`.
    pub fn check(&self, section: &str, problems: &mut Vec<String>) {
        if !(100..=60_000).contains(&self.fetch_timeout_ms) {
            problems.push(format!(
                "{section}.fetch_timeout_ms must be 100 to 60000, not {}",
                self.fetch_timeout_ms
            ));
        }
    }
}

/// Why the rule sets could not be had at start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The rule service's address is not a URL.
    #[error("the rule service's address {0:?}: {1}")]
    Address(String, String),
    /// The fetch failed.
    #[error("fetching the active rule sets from the rule service: {0}")]
    Fetch(String),
    /// The topic could not be followed.
    #[error("following rule.set.v1")]
    Subscribe(#[source] common::bus::Error),
}

/// One active set and the revision it came with.
#[derive(Debug, Clone)]
struct Held {
    revision: u64,
    set: Option<Arc<CompiledSet>>,
}

/// Every set's state, by name.
#[derive(Debug, Clone, Default)]
struct Active {
    sets: BTreeMap<String, Held>,
}

/// The active rule sets, shared and current. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Rules {
    rx: watch::Receiver<Arc<Active>>,
}

/// The task that follows `rule.set.v1` (run it beside the servers, e.g. with `Host::spawn`).
pub struct Follower {
    tx: watch::Sender<Arc<Active>>,
    sub: Box<dyn common::bus::Subscription>,
    service: String,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// What an event or a fetched entry says: the set's new state, or why it cannot be applied.
fn read(c: &pb::RuleSetChanged) -> Result<Held, String> {
    if c.version == 0 {
        return Ok(Held {
            revision: c.revision,
            set: None,
        });
    }
    let doc: RuleSetDoc = serde_json::from_str(&c.document_json)
        .map_err(|e| format!("rule set {} v{}: {e}", c.name, c.version))?;
    if doc.name != c.name {
        return Err(format!(
            "rule set {} v{} holds a document named {}",
            c.name, c.version, doc.name
        ));
    }
    let set = doc.compile(c.version).map_err(|problems| {
        format!(
            "rule set {} v{} does not compile here: {}",
            c.name,
            c.version,
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    Ok(Held {
        revision: c.revision,
        set: Some(Arc::new(set)),
    })
}

impl Active {
    /// Applies `c` if it is newer than what is held; answers whether it changed anything.
    fn apply(&mut self, c: &pb::RuleSetChanged) -> Result<bool, String> {
        if self
            .sets
            .get(&c.name)
            .is_some_and(|h| h.revision >= c.revision)
        {
            return Ok(false);
        }
        let held = read(c)?;
        self.sets.insert(c.name.clone(), held);
        Ok(true)
    }
}

impl Rules {
    /// Rule sets that never change (tests, a service with `[rules] enabled = false`: none).
    pub fn fixed(sets: impl IntoIterator<Item = CompiledSet>) -> Self {
        let active = Active {
            sets: sets
                .into_iter()
                .map(|s| {
                    (
                        s.name().to_owned(),
                        Held {
                            revision: 1,
                            set: Some(Arc::new(s)),
                        },
                    )
                })
                .collect(),
        };
        let (_tx, rx) = watch::channel(Arc::new(active));
        Self { rx }
    }

    /// Subscribes to `rule.set.v1`, fetches the active sets from the rule service at `url` and
    /// returns them live with the task that keeps them current. With `settings.enabled` off:
    /// none, and no task.
    pub async fn start(
        service: &str,
        instance: &str,
        settings: &RulesSettings,
        (peers, url): (&Connector, &str),
        bus: &SharedBus,
    ) -> Result<(Self, Option<Follower>), Error> {
        if !settings.enabled {
            return Ok((Self::fixed([]), None));
        }
        let group = format!("{service}.rules.{instance}");
        let sub = bus
            .subscribe(&group, &[RULE_SET.static_name()])
            .await
            .map_err(Error::Subscribe)?;
        let mut active = Active::default();
        match fetch(settings, peers, url).await {
            Ok(sets) => {
                for c in &sets {
                    if let Err(e) = active.apply(c) {
                        tracing::error!(service, error = %e, "an active rule set does not load");
                    }
                }
                tracing::info!(
                    service,
                    sets = active.sets.len(),
                    "fetched the active rule sets"
                );
            }
            Err(e) if settings.required => return Err(e),
            Err(e) => tracing::warn!(
                service,
                error = %chain(&e),
                "no rule sets from the rule service; none apply until rule.set.v1 brings them"
            ),
        }
        let (tx, rx) = watch::channel(Arc::new(active));
        Ok((
            Self { rx },
            Some(Follower {
                tx,
                sub,
                service: service.to_owned(),
            }),
        ))
    }

    /// [`Rules::start`] as service `service` (instance `instance`) with its shared settings:
    /// the rule service at `peers.rule`, called with the service's own token.
    pub async fn start_for(
        service: &str,
        instance: &str,
        rules: &RulesSettings,
        settings: &common::settings::ServiceSettings,
        bus: &SharedBus,
    ) -> anyhow::Result<(Self, Option<Follower>)> {
        let url = settings
            .peer("rule")
            .map_err(|e| anyhow::anyhow!("peers: {e}"))?;
        let peers = Connector::new(&settings.auth, service);
        Self::start(service, instance, rules, (&peers, &url), bus)
            .await
            .map_err(|e| anyhow::Error::new(e).context("the rule sets"))
    }

    /// Evaluates every active set of the inputs' target on them, in the sets' name order.
    pub fn evaluate(&self, inputs: &Inputs) -> Outcome {
        let active = self.rx.borrow().clone();
        let mut out = Outcome::default();
        for set in active.sets.values().filter_map(|h| h.set.as_ref()) {
            if set.target() == inputs.target() {
                set.evaluate(inputs, &mut out);
            }
        }
        out
    }

    /// Whether any set of `target` is active (a service may skip building inputs when not).
    pub fn any(&self, target: Target) -> bool {
        self.rx
            .borrow()
            .sets
            .values()
            .filter_map(|h| h.set.as_ref())
            .any(|s| s.target() == target)
    }

    /// The active sets: name, target and version.
    pub fn active(&self) -> Vec<(String, Target, u64)> {
        self.rx
            .borrow()
            .sets
            .values()
            .filter_map(|h| h.set.as_ref())
            .map(|s| (s.name().to_owned(), s.target(), s.version()))
            .collect()
    }
}

/// `ListActive` of the rule service.
async fn fetch(
    settings: &RulesSettings,
    peers: &Connector,
    url: &str,
) -> Result<Vec<pb::RuleSetChanged>, Error> {
    let channel = peers
        .channel(
            "rule",
            url,
            Duration::from_secs(5),
            Duration::from_millis(settings.fetch_timeout_ms),
        )
        .map_err(|e| Error::Address(url.to_owned(), chain(e.as_ref()).to_string()))?;
    let mut client = pb::rule_service_client::RuleServiceClient::new(channel);
    let answer = tokio::time::timeout(
        Duration::from_millis(settings.fetch_timeout_ms),
        client.list_active(pb::ListActiveRequest {}),
    )
    .await
    .map_err(|_| Error::Fetch(format!("no answer within {} ms", settings.fetch_timeout_ms)))?
    .map_err(|s| Error::Fetch(format!("{:?}: {}", s.code(), s.message())))?;
    Ok(answer.into_inner().sets)
}

impl Follower {
    /// Applies every newer state of every set until `token` is cancelled. A bad event is
    /// logged and skipped; the bus failing is retried.
    pub async fn run(mut self, token: CancellationToken) -> anyhow::Result<()> {
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = self.sub.poll(Duration::from_millis(500)) => p,
            };
            let delivery = match polled {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %chain(&e), "polling rule.set.v1; retrying");
                    tokio::select! {
                        () = token.cancelled() => return Ok(()),
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    continue;
                }
            };
            match delivery.envelope.decode::<pb::RuleSetChanged>() {
                Ok(c) => {
                    let mut next = (**self.tx.borrow()).clone();
                    match next.apply(&c) {
                        Ok(true) => {
                            tracing::info!(service = %self.service, set = %c.name, version = c.version, revision = c.revision, "rule set changed");
                            self.tx.send_replace(Arc::new(next));
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tracing::error!(service = %self.service, error = %e, "kept the previous version of a rule set");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(service = %self.service, event_id = %delivery.envelope.id, error = %e, "skipped a bad rule.set.v1 event");
                }
            }
            if let Err(e) = self.sub.commit(&delivery).await {
                tracing::warn!(error = %chain(&e), "committing rule.set.v1");
            }
        }
    }
}
