//! Alertmanager as code: the route tree by severity, grouped by alert name and service, critical
//! alerts inhibiting the warnings of the same alert and service, and the receivers: the
//! notification service's webhook (`POST /api/notification/v1/alertmanager`, bearer secret) for
//! everything, and e-mail plus a chat webhook for the alerts about the notification service
//! itself, which cannot deliver its own outage.

use std::fmt::Write as _;

use common_settings::registry;

use crate::File;
use crate::prometheus::{HEADER, q};

/// The receiver that posts to the notification service.
pub const NOTIFICATION_RECEIVER: &str = "notification";
/// The receiver that mails and chats on-call directly (the notification service is down).
pub const FALLBACK_RECEIVER: &str = "oncall-fallback";

/// Where the mounted secrets are in the Alertmanager pod (a Secret volume): `notification-token`
/// (the notification service's `alertmanager.secret`), `smtp-password` and `chat-webhook-url`.
pub const SECRETS_DIR: &str = "/etc/alertmanager/secrets";

/// The on-call address of the e-mail fallback.
pub const ONCALL_EMAIL: &str = "oncall@qts.example";
/// The sender of the e-mail fallback.
pub const FROM_EMAIL: &str = "alertmanager@qts.example";
/// The SMTP relay of the e-mail fallback (`host:port`, STARTTLS).
pub const SMARTHOST: &str = "smtp.qts.example:587";

/// The notification service's Alertmanager webhook path (under its route prefix).
fn webhook_path() -> String {
    let spec = registry::find("notification").map_or_else(
        || "/api/notification".to_owned(),
        registry::ServiceSpec::route_prefix,
    );
    format!("{spec}/v1/alertmanager")
}

/// The in-cluster URL of the notification service's webhook: the Service named by the registry
/// on its HTTP port.
pub fn notification_webhook_url() -> String {
    let port = registry::find("notification").map_or(0, |s| s.http_port);
    format!("http://notification:{port}{}", webhook_path())
}

/// The generated files: `deploy/alertmanager/alertmanager.yml`.
pub fn files() -> Vec<File> {
    vec![File::new(
        "deploy/alertmanager/alertmanager.yml",
        kubernetes_config(),
    )]
}

/// Timings of the route tree.
struct Timings {
    group_wait: &'static str,
    group_interval: &'static str,
    critical_wait: &'static str,
}

const CLUSTER: Timings = Timings {
    group_wait: "30s",
    group_interval: "5m",
    critical_wait: "10s",
};

const LOCAL: Timings = Timings {
    group_wait: "1s",
    group_interval: "1s",
    critical_wait: "1s",
};

fn kubernetes_config() -> String {
    let mut y = String::from(HEADER);
    y.push_str(
        "# Alertmanager for the fleet in Kubernetes. Secrets are files of a mounted Secret:\n",
    );
    let _ = writeln!(
        y,
        "# {SECRETS_DIR}/notification-token (= notification's alertmanager.secret),\n# {SECRETS_DIR}/smtp-password, {SECRETS_DIR}/chat-webhook-url."
    );
    let _ = write!(
        y,
        "global:\n  resolve_timeout: 5m\n  smtp_smarthost: {}\n  smtp_from: {}\n  smtp_auth_username: {}\n  smtp_auth_password_file: {}\n  smtp_require_tls: true\n\n",
        q(SMARTHOST),
        q(FROM_EMAIL),
        q(FROM_EMAIL),
        q(&format!("{SECRETS_DIR}/smtp-password")),
    );
    routes(&mut y, &CLUSTER, true);
    inhibitions(&mut y);
    y.push_str("\nreceivers:\n");
    notification_receiver(
        &mut y,
        &notification_webhook_url(),
        Some(&format!("{SECRETS_DIR}/notification-token")),
        None,
    );
    let _ = write!(
        y,
        "  - name: {}\n    email_configs:\n      - to: {}\n        send_resolved: true\n        headers:\n          Subject: {}\n    slack_configs:\n      # Any Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat).\n      - api_url_file: {}\n        send_resolved: true\n        title: {}\n        text: {}\n",
        q(FALLBACK_RECEIVER),
        q(ONCALL_EMAIL),
        q(
            "[QTS {{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.service }}"
        ),
        q(&format!("{SECRETS_DIR}/chat-webhook-url")),
        q("[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})"),
        q("{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.runbook }}\n{{ end }}"),
    );
    y
}

/// The route tree: everything to the notification service, by severity (critical at once and
/// hourly, warning every 4 hours, info daily); alerts about the notification service to the
/// fallback when `fallback`.
fn routes(y: &mut String, t: &Timings, fallback: bool) {
    let _ = write!(
        y,
        "route:\n  receiver: {}\n  group_by: [\"alertname\", \"service\"]\n  group_wait: {}\n  group_interval: {}\n  repeat_interval: 4h\n  routes:\n",
        q(NOTIFICATION_RECEIVER),
        t.group_wait,
        t.group_interval
    );
    if fallback {
        let _ = write!(
            y,
            "    # The notification service cannot deliver its own outage: straight to on-call.\n    - receiver: {}\n      matchers:\n        - 'service=\"notification\"'\n      group_wait: {}\n      repeat_interval: 1h\n",
            q(FALLBACK_RECEIVER),
            t.critical_wait
        );
    }
    let _ = write!(
        y,
        "    - receiver: {n}\n      matchers:\n        - 'severity=\"critical\"'\n      group_wait: {}\n      repeat_interval: 1h\n    - receiver: {n}\n      matchers:\n        - 'severity=\"warning\"'\n      repeat_interval: 4h\n    - receiver: {n}\n      matchers:\n        - 'severity=\"info\"'\n      repeat_interval: 24h\n",
        t.critical_wait,
        n = q(NOTIFICATION_RECEIVER),
    );
}

fn inhibitions(y: &mut String) {
    y.push_str(
        "\ninhibit_rules:\n  # A critical alert silences the warning (and info) of the same alert and service.\n  \
         - source_matchers:\n      - 'severity=\"critical\"'\n    target_matchers:\n      - 'severity=~\"warning|info\"'\n    \
         equal: [\"alertname\", \"service\"]\n  \
         # A disconnected feed explains stale data and gaps.\n  \
         - source_matchers:\n      - 'alertname=\"MarketDataFeedDisconnected\"'\n    target_matchers:\n      - 'alertname=~\"MarketDataStale|MarketDataGap|MarketDataLagHigh\"'\n    \
         equal: [\"service\"]\n  \
         # A service that is down is also not ready.\n  \
         - source_matchers:\n      - 'alertname=~\"TargetDown|ServiceMissing\"'\n    target_matchers:\n      - 'alertname=\"ServiceNotReady\"'\n    \
         equal: [\"service\"]\n",
    );
}

fn notification_receiver(y: &mut String, url: &str, token_file: Option<&str>, token: Option<&str>) {
    let _ = write!(
        y,
        "  - name: {}\n    webhook_configs:\n      - url: {}\n        send_resolved: true\n        max_alerts: 0\n",
        q(NOTIFICATION_RECEIVER),
        q(url)
    );
    if let Some(file) = token_file {
        let _ = write!(
            y,
            "        http_config:\n          authorization:\n            type: Bearer\n            credentials_file: {}\n",
            q(file)
        );
    } else if let Some(token) = token {
        let _ = write!(
            y,
            "        http_config:\n          authorization:\n            type: Bearer\n            credentials: {}\n",
            q(token)
        );
    }
}

/// An Alertmanager configuration for a fleet on loopback: every alert to the webhook at
/// `notification_url` (e.g. `http://127.0.0.1:18112/api/notification/v1/alertmanager`) without
/// a bearer token, with the cluster's grouping and inhibitions but one-second group waits, so a
/// posted alert is delivered within seconds. See [`local_config_with_token`].
pub fn local_config(notification_url: &str) -> String {
    local_config_with_token(notification_url, None)
}

/// [`local_config`], sending `Authorization: Bearer <token>` when given (the notification
/// service's `alertmanager.secret`).
pub fn local_config_with_token(notification_url: &str, token: Option<&str>) -> String {
    let mut y = String::from(
        "# Alertmanager for a fleet on loopback (generated by ops::alertmanager::local_config).\n\
         global:\n  resolve_timeout: 5m\n\n",
    );
    routes(&mut y, &LOCAL, false);
    inhibitions(&mut y);
    y.push_str("\nreceivers:\n");
    notification_receiver(&mut y, notification_url, None, token);
    y
}
