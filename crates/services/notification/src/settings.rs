//! Settings of the notification service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes. Secrets (`smtp.password`, `telegram.token`,
//! `sms.authorization`, `alertmanager.secret`) are [`SecretString`]s: set them in
//! `$NOTIFICATION_CONFIG` or the environment (`NOTIFICATION__SMTP__PASSWORD`), never in the
//! compiled-in defaults.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The notification service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The e-mail channel.
    pub smtp: SmtpSettings,
    /// The Telegram channel.
    pub telegram: TelegramSettings,
    /// The SMS channel.
    pub sms: SmsSettings,
    /// Discord/Slack-style and generic webhooks.
    pub webhook: WebhookSettings,
    /// Retries, rate limits, grouping and the delivery worker.
    pub delivery: DeliverySettings,
    /// Alertmanager's webhook receiver.
    pub alertmanager: AlertmanagerSettings,
    /// Which events become notifications, beyond the users' own choices.
    pub events: EventSettings,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or a test server).
    None,
    /// Plain connection upgraded with STARTTLS (port 587), required.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The e-mail channel: an SMTP relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The relay's host; empty: e-mail is off (deliveries by e-mail fail as "not configured").
    pub host: String,
    /// Its port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// The sender, `Name <address>` or an address.
    pub from: String,
    /// Login; empty: no authentication.
    pub username: String,
    /// Password of `username`.
    pub password: SecretString,
    /// Longest SMTP conversation, milliseconds.
    pub timeout_ms: u64,
}

/// The Telegram channel: the Bot API's `sendMessage`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The Bot API root (`https://api.telegram.org`).
    pub base_url: String,
    /// The bot's token; empty: Telegram is off.
    pub token: SecretString,
}

/// The SMS channel: any provider that takes one JSON POST per message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// The provider's endpoint; empty: SMS is off.
    pub url: String,
    /// The request body: a minijinja template of a JSON document over `to` (E.164), `text`
    /// and `idempotency_key`; use `|tojson` so values are escaped.
    pub body_template: String,
    /// The `Authorization` header value sent with it (`Bearer ...`, `Basic ...`); empty: none.
    pub authorization: SecretString,
}

/// Webhooks (Discord/Slack-style and generic).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Longest wait for a peer's answer (webhooks, Telegram, SMS), milliseconds.
    pub timeout_ms: u64,
    /// Allow `http://` webhook URLs (tests, a trusted network); otherwise only `https://`.
    pub allow_http: bool,
}

/// Retries, rate limits, grouping and the delivery worker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Attempts of one delivery before it goes to the dead letter.
    pub max_attempts: u32,
    /// First retry delay; doubles on each attempt up to `max_backoff_ms`.
    pub retry_backoff_ms: u64,
    /// Longest retry delay.
    pub max_backoff_ms: u64,
    /// Messages one user receives on one channel per minute at most; more wait (the inbox has
    /// no limit).
    pub rate_per_minute: u32,
    /// How long a grouped notification (the fills of one order, an Alertmanager group) waits
    /// for more of its group before it is sent, milliseconds.
    pub group_window_ms: u64,
    /// How often the worker looks for due deliveries, milliseconds.
    pub poll_ms: u64,
    /// Deliveries one worker pass sends at most.
    pub batch: u32,
    /// How long a delivery being sent is claimed; a crash mid-send retries it after this.
    pub lease_secs: u64,
    /// Days a finished notification (every delivery sent or dead) is kept, with its receipts
    /// and inbox message.
    pub retention_days: u32,
}

/// Alertmanager's webhook receiver (`POST /api/notification/v1/alertmanager`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSettings {
    /// The bearer secret Alertmanager sends (`http_config.authorization.credentials`); empty:
    /// the endpoint refuses every call.
    pub secret: SecretString,
    /// An e-mail address that gets every ops alert too (the on-call list); empty: none.
    pub ops_email: String,
    /// Language of the mail to `ops_email`: `vi` or `en`.
    pub ops_language: String,
}

/// Which events become notifications, beyond the users' choices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// A symbol's sentiment series notifies when its value reaches this magnitude (0 to 1).
    pub sentiment_threshold: f64,
}

fn secret_set(s: &SecretString) -> bool {
    !s.expose_secret().is_empty()
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        let s = &self.smtp;
        if !s.host.is_empty() {
            if s.port == 0 {
                problems.push("smtp.port must be 1 to 65535".to_owned());
            }
            if s.from.parse::<lettre::message::Mailbox>().is_err() {
                problems.push(format!(
                    "smtp.from {:?} is not an address (`Name <a@b.c>` or `a@b.c`)",
                    s.from
                ));
            }
        }
        if secret_set(&s.password) && s.username.is_empty() {
            problems.push("smtp.password is set but smtp.username is empty".to_owned());
        }
        if !(100..=300_000).contains(&s.timeout_ms) {
            problems.push("smtp.timeout_ms must be 100 to 300000".to_owned());
        }
        if !self.telegram.base_url.starts_with("http://")
            && !self.telegram.base_url.starts_with("https://")
        {
            problems.push("telegram.base_url must be an http(s):// URL".to_owned());
        }
        let sms = &self.sms;
        if !sms.url.is_empty() {
            if !sms.url.starts_with("http://") && !sms.url.starts_with("https://") {
                problems.push("sms.url must be an http(s):// URL".to_owned());
            }
            if let Err(e) = crate::channels::sms_body(&sms.body_template, "+84900000000", "x", "k")
            {
                problems.push(format!("sms.body_template: {e}"));
            }
        }
        if !(100..=300_000).contains(&self.webhook.timeout_ms) {
            problems.push("webhook.timeout_ms must be 100 to 300000".to_owned());
        }
        let d = &self.delivery;
        if !(1..=100).contains(&d.max_attempts) {
            problems.push("delivery.max_attempts must be 1 to 100".to_owned());
        }
        if !(1..=3_600_000).contains(&d.retry_backoff_ms) {
            problems.push("delivery.retry_backoff_ms must be 1 to 3600000".to_owned());
        }
        if d.max_backoff_ms < d.retry_backoff_ms || d.max_backoff_ms > 86_400_000 {
            problems.push(
                "delivery.max_backoff_ms must be at least retry_backoff_ms and at most 86400000"
                    .to_owned(),
            );
        }
        if !(1..=10_000).contains(&d.rate_per_minute) {
            problems.push("delivery.rate_per_minute must be 1 to 10000".to_owned());
        }
        if d.group_window_ms > 3_600_000 {
            problems.push("delivery.group_window_ms must be at most 3600000".to_owned());
        }
        if !(10..=60_000).contains(&d.poll_ms) {
            problems.push("delivery.poll_ms must be 10 to 60000".to_owned());
        }
        if !(1..=10_000).contains(&d.batch) {
            problems.push("delivery.batch must be 1 to 10000".to_owned());
        }
        if !(1..=3600).contains(&d.lease_secs) {
            problems.push("delivery.lease_secs must be 1 to 3600".to_owned());
        }
        if !(1..=3650).contains(&d.retention_days) {
            problems.push("delivery.retention_days must be 1 to 3650".to_owned());
        }
        let a = &self.alertmanager;
        if !a.ops_email.is_empty() && crate::domain::Email::parse(&a.ops_email).is_err() {
            problems.push(format!(
                "alertmanager.ops_email {:?} is not an e-mail address",
                a.ops_email
            ));
        }
        if crate::domain::Lang::parse(&a.ops_language).is_err() {
            problems.push("alertmanager.ops_language must be vi or en".to_owned());
        }
        let t = self.events.sentiment_threshold;
        if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
            problems.push("events.sentiment_threshold must be 0 to 1".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");
