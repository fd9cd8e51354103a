//! A service's configuration and feature flags from the config service, live.
//!
//! At start [`RemoteConfig::start`] subscribes to `config.changed.v1`, then fetches the
//! service's current document with gRPC `qts.config.v1.ConfigService/GetConfig`; the task it
//! returns follows the topic and publishes every newer version of the service's document
//! (`<service>/<environment>`) to a [`tokio::sync::watch`] channel, so the service reads the
//! current [`Snapshot`] whenever it decides something. A fetch that fails leaves the service on
//! its defaults (an empty snapshot, logged) and the topic still brings the next change, unless
//! `required` is set: then start fails.
//!
//! Flags are evaluated the same way everywhere ([`Flag::is_on_for`]): a rollout percentage picks
//! subjects deterministically from SHA-256 of `"<flag>:<subject>"`, so one account is in or out
//! of a 10 % rollout on every instance and every restart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::bus::SharedBus;
use crate::bus::topics::CONFIG_CHANGED;
use crate::error::chain;
use crate::grpc::Connector;
use crate::shutdown::CancellationToken;
use proto::config::v1 as pb;

/// A feature flag: on or off, optionally only for a share of subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// Whether the flag is on.
    pub enabled: bool,
    /// 0 to 100: on for this share of subjects only (chosen from SHA-256 of
    /// `"<flag>:<subject>"`); absent: for every subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_percent: Option<u8>,
}

impl Flag {
    /// Whether the flag `name` is on for `subject` (an account, a user, a symbol).
    pub fn is_on_for(&self, name: &str, subject: &str) -> bool {
        match self.rollout_percent {
            _ if !self.enabled => false,
            None => true,
            Some(p) => bucket(name, subject) < u32::from(p),
        }
    }

    /// Whether the flag is on at all (for every subject, or a rollout above 0 %).
    pub fn is_on(&self) -> bool {
        self.enabled && self.rollout_percent.is_none_or(|p| p > 0)
    }
}

/// The bucket, 0 to 99, of `subject` for the flag `name`: the first four bytes of
/// SHA-256(`"<name>:<subject>"`), big-endian, modulo 100.
pub fn bucket(name: &str, subject: &str) -> u32 {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{name}:{subject}").as_bytes(),
    );
    let b = digest.as_ref();
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) % 100
}

/// One version of a service's configuration as the service sees it; version 0 is "none saved
/// yet" (the service's own defaults apply).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The document's version (0: none).
    pub version: u64,
    /// Key -> JSON value.
    pub values: BTreeMap<String, serde_json::Value>,
    /// Flag name -> flag.
    pub flags: BTreeMap<String, Flag>,
}

impl Snapshot {
    /// Whether flag `name` is on ([`Flag::is_on`]), `default` when the document has no such flag.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.flags.get(name).map_or(default, Flag::is_on)
    }

    /// Whether flag `name` is on for `subject`, `default` when the document has no such flag.
    pub fn flag_for(&self, name: &str, subject: &str, default: bool) -> bool {
        self.flags
            .get(name)
            .map_or(default, |f| f.is_on_for(name, subject))
    }

    /// The value of `key` as `T`; `None` when absent or of another shape.
    pub fn value<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.values
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// The snapshot of a document from the config service.
    pub fn from_proto(doc: &pb::ConfigDocument) -> Result<Self, String> {
        let values = if doc.values_json.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_json::from_str(&doc.values_json)
                .map_err(|e| format!("values_json is not a JSON object: {e}"))?
        };
        let mut flags = BTreeMap::new();
        for (name, f) in &doc.flags {
            let rollout_percent = match f.rollout_percent {
                None => None,
                Some(p) if p <= 100 => Some(u8::try_from(p).unwrap_or(100)),
                Some(p) => return Err(format!("flag {name}: rollout_percent {p} above 100")),
            };
            flags.insert(
                name.clone(),
                Flag {
                    enabled: f.enabled,
                    rollout_percent,
                },
            );
        }
        Ok(Self {
            version: doc.version,
            values,
            flags,
        })
    }
}

pub use common_settings::RemoteConfigSettings;

/// Why the configuration could not be had at start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config service's address is not a URL.
    #[error("the config service's address {0:?}: {1}")]
    Address(String, String),
    /// The fetch failed (unreachable, timed out, refused).
    #[error("fetching the configuration of {0} from the config service: {1}")]
    Fetch(String, String),
    /// The document does not read.
    #[error("the configuration of {0}: {1}")]
    Invalid(String, String),
    /// The topic could not be followed.
    #[error("following config.changed.v1")]
    Subscribe(#[source] crate::bus::Error),
}

/// The gRPC channel to the config service, carrying the service's token.
fn channel(peers: &Connector, url: &str) -> Result<crate::grpc::Channel, Error> {
    peers
        .channel(
            "config",
            url,
            Duration::from_secs(5),
            Duration::from_secs(10),
        )
        .map_err(|e| Error::Address(url.to_owned(), chain(e.as_ref()).to_string()))
}

/// A service's live configuration: the current [`Snapshot`], replaced on every change.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    rx: watch::Receiver<Arc<Snapshot>>,
}

/// The task that follows `config.changed.v1` (run it beside the servers, e.g. with
/// `Host::spawn`).
pub struct Follower {
    service: String,
    key: String,
    tx: watch::Sender<Arc<Snapshot>>,
    sub: Box<dyn crate::bus::Subscription>,
    version: Option<prometheus::IntGauge>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RemoteConfig {
    /// Configuration that never changes (tests, a service with `enabled = false`).
    pub fn fixed(snapshot: Snapshot) -> Self {
        let (_tx, rx) = watch::channel(Arc::new(snapshot));
        Self { rx }
    }

    /// Subscribes to the topic, fetches `service`'s current document from the config service
    /// at `config_url` (as `peers` call, with the service's token) and returns the live
    /// configuration and the task that keeps it current. With `settings.enabled` off: fixed
    /// defaults and no task.
    pub async fn start(
        service: &str,
        instance: &str,
        settings: &RemoteConfigSettings,
        (peers, config_url): (&Connector, &str),
        bus: &SharedBus,
    ) -> Result<(Self, Option<Follower>), Error> {
        if !settings.enabled {
            return Ok((Self::fixed(Snapshot::default()), None));
        }
        // Subscribe before fetching so no change between the two is missed; the follower
        // applies only versions newer than what it has. One group per instance: every
        // instance sees every change.
        let group = format!("{service}.config.{instance}");
        let sub = bus
            .subscribe(&group, &[CONFIG_CHANGED.static_name()])
            .await
            .map_err(Error::Subscribe)?;
        let first = match fetch(service, settings, peers, config_url).await {
            Ok(s) => {
                tracing::info!(
                    service,
                    environment = %settings.environment,
                    version = s.version,
                    "fetched the configuration"
                );
                s
            }
            Err(e) if settings.required => return Err(e),
            Err(e) => {
                tracing::warn!(
                    service,
                    environment = %settings.environment,
                    error = %chain(&e),
                    "no configuration from the config service; running on defaults until the next change"
                );
                Snapshot::default()
            }
        };
        let (tx, rx) = watch::channel(Arc::new(first));
        Ok((
            Self { rx },
            Some(Follower {
                service: service.to_owned(),
                key: format!("{service}/{}", settings.environment),
                tx,
                sub,
                version: None,
            }),
        ))
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.rx.borrow().clone()
    }

    /// A receiver that wakes on every change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.rx.clone()
    }
}

/// `GetConfig` of `service` in the settings' environment; NOT_FOUND is an empty snapshot (none
/// saved yet).
async fn fetch(
    service: &str,
    settings: &RemoteConfigSettings,
    peers: &Connector,
    config_url: &str,
) -> Result<Snapshot, Error> {
    let mut client =
        pb::config_service_client::ConfigServiceClient::new(channel(peers, config_url)?);
    let request = pb::GetConfigRequest {
        service: service.to_owned(),
        environment: settings.environment.clone(),
    };
    let answer = tokio::time::timeout(
        Duration::from_millis(settings.fetch_timeout_ms),
        client.get_config(request),
    )
    .await
    .map_err(|_| {
        Error::Fetch(
            service.to_owned(),
            format!("no answer within {} ms", settings.fetch_timeout_ms),
        )
    })?;
    match answer {
        Ok(doc) => {
            Snapshot::from_proto(doc.get_ref()).map_err(|e| Error::Invalid(service.to_owned(), e))
        }
        Err(status) if status.code() == tonic::Code::NotFound => Ok(Snapshot::default()),
        Err(status) => Err(Error::Fetch(
            service.to_owned(),
            format!("{:?}: {}", status.code(), status.message()),
        )),
    }
}

impl Follower {
    /// Shows the version the service runs on in `gauge` (0: none saved, its defaults).
    pub fn observe(mut self, gauge: prometheus::IntGauge) -> Self {
        gauge.set(i64::try_from(self.tx.borrow().version).unwrap_or(i64::MAX));
        self.version = Some(gauge);
        self
    }

    /// Applies every newer version of the service's document until `token` is cancelled. A
    /// bad event is logged and skipped; the bus failing is retried.
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
                    tracing::warn!(error = %chain(&e), "polling config.changed.v1; retrying");
                    tokio::select! {
                        () = token.cancelled() => return Ok(()),
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    continue;
                }
            };
            if delivery.envelope.key == self.key {
                self.apply(&delivery.envelope);
            }
            if let Err(e) = self.sub.commit(&delivery).await {
                tracing::warn!(error = %chain(&e), "committing config.changed.v1");
            }
        }
    }

    fn apply(&self, envelope: &crate::bus::Envelope) {
        let snapshot = envelope
            .decode::<pb::ConfigChanged>()
            .map_err(|e| e.to_string())
            .and_then(|c| c.document.ok_or_else(|| "no document".to_owned()))
            .and_then(|d| Snapshot::from_proto(&d));
        match snapshot {
            Ok(s) => {
                let newer = s.version > self.tx.borrow().version;
                if newer {
                    tracing::info!(service = %self.service, key = %self.key, version = s.version, "configuration changed");
                    if let Some(g) = &self.version {
                        g.set(i64::try_from(s.version).unwrap_or(i64::MAX));
                    }
                    self.tx.send_replace(Arc::new(s));
                }
            }
            Err(e) => {
                tracing::warn!(service = %self.service, event_id = %envelope.id, error = %e, "skipped a bad config.changed.v1 event");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollout_picks_the_same_subjects_every_time_and_about_its_share() {
        let flag = Flag {
            enabled: true,
            rollout_percent: Some(30),
        };
        let on = (0..10_000)
            .filter(|i| flag.is_on_for("new_algo", &format!("acct-{i}")))
            .count();
        assert!((2_700..3_300).contains(&on), "{on} of 10000");
        assert_eq!(
            flag.is_on_for("new_algo", "acct-7"),
            flag.is_on_for("new_algo", "acct-7")
        );
        let off = Flag {
            enabled: false,
            rollout_percent: Some(100),
        };
        assert!(!off.is_on_for("x", "a") && !off.is_on());
        let all = Flag {
            enabled: true,
            rollout_percent: None,
        };
        assert!(all.is_on_for("x", "anyone") && all.is_on());
        let none = Flag {
            enabled: true,
            rollout_percent: Some(0),
        };
        assert!(!none.is_on_for("x", "anyone") && !none.is_on());
    }

    #[test]
    fn a_snapshot_reads_values_and_defaults_missing_flags() {
        let doc = pb::ConfigDocument {
            version: 3,
            values_json: r#"{"max_orders": 5}"#.to_owned(),
            flags: [(
                "halt".to_owned(),
                pb::Flag {
                    enabled: true,
                    rollout_percent: None,
                },
            )]
            .into(),
            ..Default::default()
        };
        let s = Snapshot::from_proto(&doc).unwrap();
        assert_eq!(s.value::<u32>("max_orders"), Some(5));
        assert_eq!(s.value::<String>("max_orders"), None);
        assert!(s.flag("halt", false));
        assert!(s.flag("absent", true));
        let bad = pb::ConfigDocument {
            values_json: "[1]".to_owned(),
            ..Default::default()
        };
        assert!(Snapshot::from_proto(&bad).is_err());
    }
}
