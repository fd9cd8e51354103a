//! The fleet as the monitoring service sees it: every service of the registry probed on its
//! admin `/ready`, its instances from `system.lifecycle.v1`, every consumer group's lag read
//! from the bus, and — when configured — SLO status from Prometheus's recording rules and the
//! alerts firing from Alertmanager's API. [`Watch`] holds it; its loops keep it current.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use common::bus::SharedBus;
use common::bus::topics::SYSTEM_LIFECYCLE;
use common::error::chain;
use common::registry::SERVICES;
use common::shutdown::CancellationToken;
use proto::events::v1::ServiceLifecycle;
use proto::events::v1::service_lifecycle::State as LifecycleState;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::metrics::Metrics;
use crate::settings::Sections;

/// What a service's last probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not probed yet.
    Unknown,
    /// `/ready` answered 200.
    Ready,
    /// `/ready` answered, not 200 (starting, stopping, its database unreachable).
    NotReady,
    /// No answer: not running, not reachable, or too slow.
    Unreachable,
}

impl Health {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ready => "ready",
            Health::NotReady => "not_ready",
            Health::Unreachable => "unreachable",
        }
    }
}

/// One instance of a service, from its lifecycle events.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Instance {
    /// Its id (new at every start).
    pub instance_id: String,
    /// Its binary's version.
    pub version: String,
    /// `ready` or `stopping`.
    pub state: &'static str,
    /// Since when, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
}

/// Availability of a service against its objective, from Prometheus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Slo {
    /// Whether Prometheus answered (false: not configured or unreachable).
    pub known: bool,
    /// The objective (0.995).
    pub objective: f64,
    /// Failed share of requests over the last hour (0 without errors or requests).
    pub error_ratio_1h: f64,
    /// Over the last six hours.
    pub error_ratio_6h: f64,
    /// How fast the error budget burns over the last hour: 1 spends it exactly over the SLO
    /// window; 14.4 pages.
    pub burn_rate_1h: f64,
}

/// One service of the registry now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceStatus {
    /// Its registry name.
    pub name: &'static str,
    /// `skeleton`, `partial` or `complete`.
    pub maturity: &'static str,
    /// What the last probe found.
    pub health: Health,
    /// The admin endpoint probed.
    pub target: String,
    /// When it was probed last, RFC 3339.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<OffsetDateTime>,
    /// What `/ready` said, or why it could not be asked.
    pub detail: String,
    /// How long the probe took, milliseconds.
    pub probe_ms: u32,
    /// Its instances, newest first.
    pub instances: Vec<Instance>,
    /// SLO status.
    pub slo: Slo,
}

/// The fleet at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Fleet {
    /// `ok` (every service ready), `degraded` (one is not) or `unknown` (not all probed yet).
    pub status: &'static str,
    /// When, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// In the registry's order.
    pub services: Vec<ServiceStatus>,
}

/// How far one consumer group is behind on one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GroupLag {
    /// The group.
    pub group: String,
    /// The topic.
    pub topic: String,
    /// Events published and not yet committed by the group, over the topic's partitions.
    pub lag: i64,
    /// Members connected now (0: nobody reads for it).
    pub members: u32,
}

/// Consumer lag of the whole bus.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Lag {
    /// When it was read, RFC 3339 (absent before the first read).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
    /// Why the last read failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Most behind first.
    pub groups: Vec<GroupLag>,
}

/// One alert firing in Alertmanager.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Alert {
    /// `alertname`.
    pub name: String,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// The service it is about.
    pub service: String,
    /// Its summary annotation.
    pub summary: String,
    /// Its description annotation.
    pub description: String,
    /// Since when, RFC 3339.
    pub starts_at: String,
    /// `active` or `suppressed` (silenced or inhibited).
    pub state: String,
    /// Every label.
    pub labels: BTreeMap<String, String>,
}

/// The alerts firing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Alerts {
    /// Whether Alertmanager answered.
    pub known: bool,
    /// Why not, when it did not.
    pub detail: String,
    /// Critical first, then by start.
    pub alerts: Vec<Alert>,
}

/// What a probe keeps of one service.
#[derive(Debug, Clone)]
struct Probe {
    target: String,
    health: Health,
    detail: String,
    checked_at: Option<OffsetDateTime>,
    probe_ms: u32,
}

#[derive(Debug, Default)]
struct State {
    probes: HashMap<&'static str, Probe>,
    instances: HashMap<String, Vec<Instance>>,
    lag: Option<(OffsetDateTime, Vec<GroupLag>)>,
    lag_error: Option<String>,
}

/// The monitoring service's view of the fleet.
#[derive(Clone)]
pub struct Watch {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Sections,
    http: reqwest::Client,
    bus: SharedBus,
    metrics: Metrics,
    state: RwLock<State>,
}

/// The admin endpoint of `name`: configured, or its Kubernetes Service.
fn target_of(settings: &Sections, name: &str, admin_port: u16) -> String {
    settings
        .fleet
        .targets
        .get(name)
        .map(|t| t.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{name}:{admin_port}"))
}

/// At most `n` characters of `s`, on one line.
fn short(s: &str, n: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    match trimmed.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None => trimmed.to_owned(),
    }
}

impl Watch {
    /// A watch of the registry's services with `settings`, reading lag and lifecycle events
    /// from `bus`.
    pub fn new(settings: Sections, bus: SharedBus, metrics: Metrics) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.fleet.probe_timeout_ms))
            .build()?;
        let probes = SERVICES
            .iter()
            .map(|s| {
                (
                    s.name,
                    Probe {
                        target: target_of(&settings, s.name, s.admin_port),
                        health: Health::Unknown,
                        detail: String::new(),
                        checked_at: None,
                        probe_ms: 0,
                    },
                )
            })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                http,
                bus,
                metrics,
                state: RwLock::new(State {
                    probes,
                    ..State::default()
                }),
            }),
        })
    }

    /// Sets where `service` is probed (the monitoring service's own admin address, known once
    /// it is bound), unless the settings name one.
    pub fn set_target(&self, service: &str, url: &str) {
        if self.inner.settings.fleet.targets.contains_key(service) {
            return;
        }
        let mut state = self.write();
        if let Some(p) = state
            .probes
            .iter_mut()
            .find(|(n, _)| **n == service)
            .map(|(_, p)| p)
        {
            p.target = url.trim_end_matches('/').to_owned();
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Every service's admin endpoint, in registry order: what Prometheus scrapes.
    pub fn targets(&self) -> Vec<(&'static str, String)> {
        let state = self.read();
        SERVICES
            .iter()
            .filter_map(|s| state.probes.get(s.name).map(|p| (s.name, p.target.clone())))
            .collect()
    }

    /// Asks every service's `/ready` once, all at once.
    pub async fn probe_all(&self) {
        let targets = self.targets();
        let probes = targets.into_iter().map(|(name, target)| {
            let http = self.inner.http.clone();
            async move {
                let started = Instant::now();
                let answer = http.get(format!("{target}/ready")).send().await;
                let (health, detail) = match answer {
                    Ok(r) => {
                        let ok = r.status() == reqwest::StatusCode::OK;
                        let status = r.status();
                        let body = r.text().await.unwrap_or_default();
                        if ok {
                            (Health::Ready, short(&body, 200))
                        } else {
                            (Health::NotReady, short(&format!("{status}: {body}"), 200))
                        }
                    }
                    Err(e) => (Health::Unreachable, short(&chain(&e).to_string(), 200)),
                };
                let ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
                (name, health, detail, ms)
            }
        });
        let results = futures::future::join_all(probes).await;
        let now = OffsetDateTime::now_utc();
        let mut state = self.write();
        for (name, health, detail, ms) in results {
            if let Some(p) = state.probes.get_mut(name) {
                if p.health != health {
                    tracing::info!(service = name, from = p.health.as_str(), to = health.as_str(), %detail, "service health changed");
                }
                p.health = health;
                p.detail = detail;
                p.checked_at = Some(now);
                p.probe_ms = ms;
            }
            self.inner
                .metrics
                .ready
                .with_label_values(&[name])
                .set(i64::from(health == Health::Ready));
            self.inner
                .metrics
                .probe_seconds
                .with_label_values(&[name])
                .set(f64::from(ms) / 1000.0);
        }
    }

    /// Probes every `probe_interval_ms` until `token` is cancelled.
    pub async fn run_probes(self, token: CancellationToken) -> anyhow::Result<()> {
        let every = Duration::from_millis(self.inner.settings.fleet.probe_interval_ms);
        loop {
            self.probe_all().await;
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Applies one lifecycle event.
    pub fn apply_lifecycle(&self, e: &ServiceLifecycle) {
        let Some(spec) = common::registry::find(&e.service) else {
            return;
        };
        let state_name = match LifecycleState::try_from(e.state) {
            Ok(LifecycleState::Ready) => "ready",
            Ok(LifecycleState::Stopping) => "stopping",
            Ok(LifecycleState::Unspecified) | Err(_) => return,
        };
        let at =
            e.at.as_ref()
                .and_then(common::bus::time_of)
                .unwrap_or_else(OffsetDateTime::now_utc);
        let forget = time::Duration::seconds(
            i64::try_from(self.inner.settings.fleet.forget_stopped_after_secs).unwrap_or(i64::MAX),
        );
        let now = OffsetDateTime::now_utc();
        let mut state = self.write();
        let list = state.instances.entry(spec.name.to_owned()).or_default();
        match list.iter_mut().find(|i| i.instance_id == e.instance_id) {
            Some(i) if i.since <= at => {
                i.state = state_name;
                i.since = at;
                i.version.clone_from(&e.version);
            }
            Some(_) => {}
            None => list.push(Instance {
                instance_id: e.instance_id.clone(),
                version: e.version.clone(),
                state: state_name,
                since: at,
            }),
        }
        list.retain(|i| i.state == "ready" || now - i.since < forget);
        list.sort_by_key(|i| std::cmp::Reverse(i.since));
        let ready = list.iter().filter(|i| i.state == "ready").count();
        self.inner
            .metrics
            .instances
            .with_label_values(&[spec.name])
            .set(i64::try_from(ready).unwrap_or(i64::MAX));
    }

    /// Follows `system.lifecycle.v1` from its start under `group` until `token` is cancelled.
    pub async fn follow_lifecycle(
        self,
        group: String,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut sub = self
            .inner
            .bus
            .subscribe(&group, &[SYSTEM_LIFECYCLE.static_name()])
            .await
            .map_err(|e| {
                anyhow::anyhow!("subscribe to {}: {}", SYSTEM_LIFECYCLE.name, chain(&e))
            })?;
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = sub.poll(Duration::from_millis(500)) => p,
            };
            match polled {
                Ok(Some(d)) => match d.envelope.decode::<ServiceLifecycle>() {
                    Ok(e) => self.apply_lifecycle(&e),
                    Err(e) => {
                        tracing::warn!(offset = d.offset, error = %e, "ignoring a lifecycle event that does not decode")
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %chain(&e), "lifecycle poll failed");
                    tokio::select! {
                        () = token.cancelled() => return Ok(()),
                        () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
        }
    }

    /// Reads every consumer group's lag from the bus once.
    pub async fn read_lag(&self) {
        let bus = &self.inner.bus;
        let read = async {
            let groups = bus.groups().await?;
            let mut offsets: HashMap<String, Vec<common::bus::Offsets>> = HashMap::new();
            let mut out = Vec::new();
            for g in groups {
                let mut by_topic: BTreeMap<String, i64> = BTreeMap::new();
                for (topic, partition, committed) in &g.committed {
                    if !offsets.contains_key(topic) {
                        match bus.offsets(topic).await {
                            Ok(o) => {
                                offsets.insert(topic.clone(), o);
                            }
                            Err(common::bus::Error::UnknownTopic(_)) => continue,
                            Err(e) => return Err(e),
                        }
                    }
                    let Some(o) = offsets
                        .get(topic)
                        .and_then(|o| o.get(usize::try_from(*partition).ok()?))
                    else {
                        continue;
                    };
                    let behind = (o.next - committed.unwrap_or(o.first)).max(0);
                    *by_topic.entry(topic.clone()).or_default() += behind;
                }
                for (topic, lag) in by_topic {
                    out.push(GroupLag {
                        group: g.group.clone(),
                        topic,
                        lag,
                        members: g.members,
                    });
                }
            }
            Ok::<_, common::bus::Error>(out)
        };
        match read.await {
            Ok(mut groups) => {
                groups.sort_by(|a, b| {
                    b.lag
                        .cmp(&a.lag)
                        .then_with(|| (&a.group, &a.topic).cmp(&(&b.group, &b.topic)))
                });
                let m = &self.inner.metrics;
                m.lag.reset();
                m.members.reset();
                for g in &groups {
                    m.lag
                        .with_label_values(&[g.group.as_str(), g.topic.as_str()])
                        .set(g.lag);
                    m.members
                        .with_label_values(&[g.group.as_str()])
                        .set(i64::from(g.members));
                }
                let mut state = self.write();
                state.lag = Some((OffsetDateTime::now_utc(), groups));
                state.lag_error = None;
            }
            Err(e) => {
                let why = chain(&e).to_string();
                tracing::warn!(error = %why, "reading consumer lag failed");
                self.write().lag_error = Some(why);
            }
        }
    }

    /// Reads lag every `lag_interval_ms` until `token` is cancelled.
    pub async fn run_lag(self, token: CancellationToken) -> anyhow::Result<()> {
        let every = Duration::from_millis(self.inner.settings.fleet.lag_interval_ms);
        loop {
            self.read_lag().await;
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Consumer lag as last read.
    pub fn lag(&self) -> Lag {
        let state = self.read();
        Lag {
            at: state.lag.as_ref().map(|(at, _)| *at),
            error: state.lag_error.clone(),
            groups: state
                .lag
                .as_ref()
                .map(|(_, g)| g.clone())
                .unwrap_or_default(),
        }
    }

    /// The fleet now, with SLO status when Prometheus is configured and answers.
    pub async fn fleet(&self) -> Fleet {
        let slo = self.slo().await;
        let state = self.read();
        let services: Vec<ServiceStatus> = SERVICES
            .iter()
            .map(|s| {
                let p = state.probes.get(s.name);
                ServiceStatus {
                    name: s.name,
                    maturity: s.maturity.as_str(),
                    health: p.map_or(Health::Unknown, |p| p.health),
                    target: p.map(|p| p.target.clone()).unwrap_or_default(),
                    checked_at: p.and_then(|p| p.checked_at),
                    detail: p.map(|p| p.detail.clone()).unwrap_or_default(),
                    probe_ms: p.map_or(0, |p| p.probe_ms),
                    instances: state.instances.get(s.name).cloned().unwrap_or_default(),
                    slo: slo.get(s.name).cloned().unwrap_or_else(|| Slo {
                        objective: self.inner.settings.prometheus.slo_objective,
                        ..Slo::default()
                    }),
                }
            })
            .collect();
        let status = if services
            .iter()
            .any(|s| matches!(s.health, Health::NotReady | Health::Unreachable))
        {
            "degraded"
        } else if services.iter().all(|s| s.health == Health::Ready) {
            "ok"
        } else {
            "unknown"
        };
        Fleet {
            status,
            at: OffsetDateTime::now_utc(),
            services,
        }
    }

    /// One instant query to Prometheus: value by `service` label.
    async fn query(&self, expr: &str) -> anyhow::Result<HashMap<String, f64>> {
        let p = &self.inner.settings.prometheus;
        let body: serde_json::Value = self
            .inner
            .http
            .get(format!("{}/api/v1/query", p.url.trim_end_matches('/')))
            .query(&[("query", expr)])
            .timeout(Duration::from_millis(p.timeout_ms))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut out = HashMap::new();
        for r in body["data"]["result"].as_array().into_iter().flatten() {
            let (Some(service), Some(value)) = (
                r["metric"]["service"].as_str(),
                r["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()),
            ) else {
                continue;
            };
            out.insert(
                service.to_owned(),
                if value.is_finite() { value } else { 0.0 },
            );
        }
        Ok(out)
    }

    /// SLO status by service, from `service:qts_request_errors:ratio_rate1h` and `..._6h`.
    async fn slo(&self) -> HashMap<String, Slo> {
        let p = &self.inner.settings.prometheus;
        if p.url.is_empty() {
            return HashMap::new();
        }
        let (h1, h6) = tokio::join!(
            self.query("service:qts_request_errors:ratio_rate1h"),
            self.query("service:qts_request_errors:ratio_rate6h")
        );
        let (h1, h6) = match (h1, h6) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!(error = %e, "SLO status from Prometheus");
                return HashMap::new();
            }
        };
        let budget = 1.0 - p.slo_objective;
        SERVICES
            .iter()
            .map(|s| {
                let r1 = h1.get(s.name).copied().unwrap_or(0.0);
                let r6 = h6.get(s.name).copied().unwrap_or(0.0);
                (
                    s.name.to_owned(),
                    Slo {
                        known: true,
                        objective: p.slo_objective,
                        error_ratio_1h: r1,
                        error_ratio_6h: r6,
                        burn_rate_1h: r1 / budget,
                    },
                )
            })
            .collect()
    }

    /// The alerts firing, from Alertmanager's API v2 (critical first).
    pub async fn alerts(&self) -> Alerts {
        let a = &self.inner.settings.alertmanager;
        if a.url.is_empty() {
            return Alerts {
                known: false,
                detail: "no Alertmanager configured (alertmanager.url)".to_owned(),
                alerts: Vec::new(),
            };
        }
        let asked = async {
            let body: serde_json::Value = self
                .inner
                .http
                .get(format!("{}/api/v2/alerts", a.url.trim_end_matches('/')))
                .query(&[
                    ("active", "true"),
                    ("silenced", "true"),
                    ("inhibited", "true"),
                ])
                .timeout(Duration::from_millis(a.timeout_ms))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok::<_, reqwest::Error>(body)
        };
        let body = match asked.await {
            Ok(b) => b,
            Err(e) => {
                return Alerts {
                    known: false,
                    detail: format!("Alertmanager: {}", chain(&e)),
                    alerts: Vec::new(),
                };
            }
        };
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let mut alerts: Vec<Alert> = body
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let labels: BTreeMap<String, String> = a["labels"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), text(v)))
                    .collect();
                Alert {
                    name: labels.get("alertname").cloned().unwrap_or_default(),
                    severity: labels.get("severity").cloned().unwrap_or_default(),
                    service: labels.get("service").cloned().unwrap_or_default(),
                    summary: text(&a["annotations"]["summary"]),
                    description: text(&a["annotations"]["description"]),
                    starts_at: text(&a["startsAt"]),
                    state: text(&a["status"]["state"]),
                    labels,
                }
            })
            .collect();
        let rank = |s: &str| match s {
            "critical" => 0,
            "warning" => 1,
            "info" => 2,
            _ => 3,
        };
        alerts.sort_by(|a, b| {
            rank(&a.severity)
                .cmp(&rank(&b.severity))
                .then_with(|| a.starts_at.cmp(&b.starts_at))
                .then_with(|| a.name.cmp(&b.name))
        });
        Alerts {
            known: true,
            detail: String::new(),
            alerts,
        }
    }
}
