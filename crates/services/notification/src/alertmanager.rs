//! Alertmanager's webhook payload (version 4) and what it becomes: one notification per group
//! (`groupKey`) and status, to staff who chose `ops` alerts and the configured ops address.
//! Alertmanager re-sends a group on every `repeat_interval`; the same alerts in the same state
//! are one notification (the key is the group, the status and each alert's fingerprint, start
//! and end).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::{EventKind, Severity};
use crate::service::{Audience, Error, Event, Merge};

/// One alert of the payload.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels (`alertname`, `severity`, ...).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    #[serde(default)]
    pub starts_at: String,
    /// RFC 3339 (`0001-01-01T00:00:00Z` while firing).
    #[serde(default)]
    pub ends_at: String,
    /// The source's link.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    /// Identifies the alert.
    #[serde(default)]
    pub fingerprint: String,
}

/// Alertmanager's webhook body (`version` "4").
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// Must be "4".
    pub version: String,
    /// The group's key (what Alertmanager grouped the alerts by).
    pub group_key: String,
    /// How many alerts were left out.
    #[serde(default)]
    pub truncated_alerts: u64,
    /// `firing` or `resolved`.
    pub status: String,
    /// The receiver's name.
    #[serde(default)]
    pub receiver: String,
    /// The labels the group shares.
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    /// Labels every alert has.
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations every alert has.
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    /// Alertmanager's own URL.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

fn status(s: &str, field: &str) -> Result<(), Error> {
    match s {
        "firing" | "resolved" => Ok(()),
        other => Err(Error::Invalid(format!(
            "{field}: {other:?} is not firing or resolved"
        ))),
    }
}

/// Checks the payload and makes the event it is.
pub fn event(p: &Payload) -> Result<(Audience, Event), Error> {
    if p.version != "4" {
        return Err(Error::Invalid(format!(
            "version: {:?}; only Alertmanager's webhook version \"4\" is understood",
            p.version
        )));
    }
    if p.group_key.is_empty() || p.group_key.len() > 2000 {
        return Err(Error::Invalid("groupKey: 1 to 2000 characters".to_owned()));
    }
    status(&p.status, "status")?;
    if p.alerts.is_empty() || p.alerts.len() > 1000 {
        return Err(Error::Invalid("alerts: 1 to 1000 alerts".to_owned()));
    }
    let mut alerts = Vec::with_capacity(p.alerts.len());
    let mut key_parts = Vec::with_capacity(p.alerts.len());
    let mut critical = p
        .common_labels
        .get("severity")
        .is_some_and(|s| s == "critical");
    for (i, a) in p.alerts.iter().enumerate() {
        status(&a.status, &format!("alerts[{i}].status"))?;
        let name = a
            .labels
            .get("alertname")
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("alerts[{i}].labels.alertname: missing")))?;
        let severity = a.labels.get("severity").cloned().unwrap_or_default();
        critical |= a.status == "firing" && severity == "critical";
        let summary = a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("description"))
            .or_else(|| p.common_annotations.get("summary"))
            .cloned()
            .unwrap_or_default();
        key_parts.push(format!(
            "{}/{}/{}/{}",
            a.fingerprint, a.status, a.starts_at, a.ends_at
        ));
        alerts.push(json!({
            "status": a.status, "name": name, "severity": severity, "summary": summary,
            "starts_at": a.starts_at, "ends_at": a.ends_at, "url": a.generator_url,
            "labels": a.labels,
        }));
    }
    key_parts.sort();
    let digest = ring::digest::digest(&ring::digest::SHA256, key_parts.join("|").as_bytes());
    let digest: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let title = p
        .group_labels
        .get("alertname")
        .or_else(|| p.common_labels.get("alertname"))
        .cloned()
        .unwrap_or_else(|| {
            p.group_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        });
    Ok((
        Audience::Ops,
        Event {
            kind: EventKind::Ops,
            template: "ops".to_owned(),
            severity: if critical && p.status == "firing" {
                Severity::Critical
            } else {
                Severity::Warning
            },
            key: format!("alertmanager:{}:{}:{digest}", p.group_key, p.status),
            group: Some(format!("alertmanager:{}:{}", p.group_key, p.status)),
            merge: Merge::Replace,
            data: json!({
                "status": p.status, "title": title, "group_key": p.group_key,
                "receiver": p.receiver, "external_url": p.external_url, "alerts": alerts,
                "truncated": p.truncated_alerts, "group_labels": p.group_labels,
            }),
        },
    ))
}
