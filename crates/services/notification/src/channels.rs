//! The channels' wire protocols: e-mail over SMTP (lettre), Telegram's Bot API `sendMessage`,
//! Discord/Slack-style webhooks, generic webhooks (JSON signed with HMAC-SHA256) and an SMS
//! provider's JSON POST. Every outbound call has a timeout, carries the delivery's id as its
//! idempotency key (`Idempotency-Key` header; the e-mail's `Message-ID`), and its failure is
//! classified: worth retrying (network, timeouts, 408, 429, 5xx, SMTP 4xx) or not (other 4xx,
//! SMTP 5xx, a channel that is not configured).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::domain::{Webhook, WebhookKind};
use crate::settings::{Sections, SmtpTls};

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later.
    #[error("{0}")]
    Transient(String),
    /// Will fail the same way every time.
    #[error("{0}")]
    Permanent(String),
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// The delivery's id: the idempotency key the peer gets.
    pub delivery_id: &'a str,
    /// The notification's id.
    pub notification_id: &'a str,
    /// To whom.
    pub user_id: &'a str,
    /// What it is about (`order`, `ops`, ...).
    pub kind: &'a str,
    /// `info`, `warning`, `critical`.
    pub severity: &'a str,
    /// Template it was rendered from.
    pub template: &'a str,
    /// Rendered subject.
    pub subject: &'a str,
    /// Rendered body.
    pub body: &'a str,
    /// The notification's data.
    pub data: &'a serde_json::Value,
    /// The attempt this is (1 for the first).
    pub attempt: i64,
}

impl Outgoing<'_> {
    fn text(&self) -> String {
        if self.body.is_empty() {
            self.subject.to_owned()
        } else {
            format!("{}\n\n{}", self.subject, self.body)
        }
    }
}

/// The configured channels.
pub struct Channels {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    http: reqwest::Client,
    telegram: Option<(String, secrecy::SecretString)>,
    sms: Option<crate::settings::SmsSettings>,
}

/// The SMS provider's request body for `to`, `text` and `key` from `template`, checked to be JSON.
pub fn sms_body(template: &str, to: &str, text: &str, key: &str) -> Result<String, String> {
    let env = minijinja::Environment::new();
    let body = env
        .render_str(
            template,
            minijinja::context! { to => to, text => text, idempotency_key => key },
        )
        .map_err(|e| format!("does not render: {e}"))?;
    serde_json::from_str::<serde_json::Value>(&body)
        .map_err(|e| format!("does not render to JSON ({e}): {body}"))?;
    Ok(body)
}

fn transient_http(e: &reqwest::Error) -> SendError {
    // Without the URL: a Telegram URL holds the bot's token.
    SendError::Transient(e.without_url_ref())
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        if self.is_timeout() {
            "the peer did not answer in time".to_owned()
        } else if self.is_connect() {
            "cannot connect to the peer".to_owned()
        } else {
            let mut s = String::from("request failed");
            let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(self);
            while let Some(e) = cur {
                s.push_str(": ");
                s.push_str(&e.to_string());
                cur = e.source();
            }
            s
        }
    }
}

/// A peer's answer classified.
async fn answer(r: reqwest::Response, who: &str) -> Result<(), SendError> {
    let status = r.status();
    if status.is_success() {
        return Ok(());
    }
    let text: String = r
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let msg = format!("{who} answered HTTP {}: {}", status.as_u16(), text.trim());
    if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
        Err(SendError::Transient(msg))
    } else {
        Err(SendError::Permanent(msg))
    }
}

/// `hex(HMAC-SHA256(secret, "<timestamp>.<body>"))`, the generic webhook's signature.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    ctx.sign()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Channels {
    /// The channels of `settings`; fails on an SMTP relay name that is not a host.
    pub fn new(settings: &Sections) -> Result<Self, String> {
        let s = &settings.smtp;
        let smtp = if s.host.is_empty() {
            None
        } else {
            let builder = match s.tls {
                SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
                SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                    .map_err(|e| format!("smtp.host: {e}"))?,
                SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                    .map_err(|e| format!("smtp.host: {e}"))?,
            };
            let mut builder = builder
                .port(s.port)
                .timeout(Some(Duration::from_millis(s.timeout_ms)));
            if !s.username.is_empty() {
                builder = builder.credentials(Credentials::new(
                    s.username.clone(),
                    s.password.expose_secret().to_owned(),
                ));
            }
            let from: Mailbox = s
                .from
                .parse()
                .map_err(|e| format!("smtp.from {:?}: {e}", s.from))?;
            Some((builder.build(), from))
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.webhook.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let t = &settings.telegram;
        let telegram = (!t.token.expose_secret().is_empty())
            .then(|| (t.base_url.trim_end_matches('/').to_owned(), t.token.clone()));
        let sms = (!settings.sms.url.is_empty()).then(|| settings.sms.clone());
        Ok(Self {
            smtp,
            http,
            telegram,
            sms,
        })
    }

    /// Sends an e-mail to `to`.
    pub async fn email(&self, to: &str, m: &Outgoing<'_>) -> Result<(), SendError> {
        let Some((transport, from)) = &self.smtp else {
            return Err(SendError::Permanent(
                "e-mail is not configured (smtp.host)".to_owned(),
            ));
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient {to:?}: {e}")))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(m.subject)
            .message_id(Some(format!("<{}@qts.notification>", m.delivery_id)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.to_owned())
            .map_err(|e| SendError::Permanent(format!("message: {e}")))?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!(
                "SMTP refused: {}",
                common::error::chain(&e)
            ))),
            Err(e) => Err(SendError::Transient(format!(
                "SMTP: {}",
                common::error::chain(&e)
            ))),
        }
    }

    /// Sends a Telegram message to `chat_id`.
    pub async fn telegram(&self, chat_id: &str, m: &Outgoing<'_>) -> Result<(), SendError> {
        let Some((base, token)) = &self.telegram else {
            return Err(SendError::Permanent(
                "Telegram is not configured (telegram.token)".to_owned(),
            ));
        };
        let url = format!("{base}/bot{}/sendMessage", token.expose_secret());
        let text: String = m.text().chars().take(4096).collect();
        let body = serde_json::json!({
            "chat_id": chat_id, "text": text, "disable_web_page_preview": true,
        });
        let r = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| transient_http(&e))?;
        answer(r, "Telegram").await
    }

    /// Posts to one of the user's webhooks.
    pub async fn webhook(&self, hook: &Webhook, m: &Outgoing<'_>) -> Result<(), SendError> {
        let body = match hook.kind {
            WebhookKind::Discord => {
                let text: String = m.text().chars().take(2000).collect();
                serde_json::json!({ "content": text })
            }
            WebhookKind::Slack => serde_json::json!({ "text": m.text() }),
            WebhookKind::Generic => serde_json::json!({
                "id": m.delivery_id,
                "notification_id": m.notification_id,
                "user_id": m.user_id,
                "kind": m.kind,
                "severity": m.severity,
                "template": m.template,
                "subject": m.subject,
                "body": m.body,
                "data": m.data,
                "attempt": m.attempt,
            }),
        };
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| SendError::Permanent(format!("webhook body: {e}")))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut request = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("idempotency-key", m.delivery_id);
        if hook.kind == WebhookKind::Generic {
            request = request.header("x-qts-timestamp", now.to_string()).header(
                "x-qts-signature",
                format!("sha256={}", signature(&hook.secret, now, &bytes)),
            );
        }
        let r = request
            .body(bytes)
            .send()
            .await
            .map_err(|e| transient_http(&e))?;
        answer(r, &format!("webhook {}", hook.name)).await
    }

    /// Sends an SMS to `phone` through the provider.
    pub async fn sms(&self, phone: &str, m: &Outgoing<'_>) -> Result<(), SendError> {
        let Some(sms) = &self.sms else {
            return Err(SendError::Permanent(
                "SMS is not configured (sms.url)".to_owned(),
            ));
        };
        // An SMS is short: the subject only.
        let body = sms_body(&sms.body_template, phone, m.subject, m.delivery_id)
            .map_err(|e| SendError::Permanent(format!("sms.body_template {e}")))?;
        let mut request = self
            .http
            .post(&sms.url)
            .header("content-type", "application/json")
            .header("idempotency-key", m.delivery_id);
        let auth = sms.authorization.expose_secret();
        if !auth.is_empty() {
            request = request.header("authorization", auth);
        }
        let r = request
            .body(body)
            .send()
            .await
            .map_err(|e| transient_http(&e))?;
        answer(r, "the SMS provider").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sms_body_escapes_its_values() {
        let b = sms_body(
            r#"{"to": {{ to|tojson }}, "text": {{ text|tojson }}}"#,
            "+84901234567",
            "a \"quoted\" text",
            "k",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["text"], "a \"quoted\" text");
        assert!(sms_body("{{ to }}", "+84901234567", "x", "k").is_err());
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_and_body() {
        // RFC 4231 style check against a known value computed with Python's hmac module:
        // hmac.new(b"0123456789abcdef", b"1700000000.{}", "sha256").hexdigest()
        let s = signature("0123456789abcdef", 1_700_000_000, b"{}");
        assert_eq!(s.len(), 64);
        assert_eq!(s, signature("0123456789abcdef", 1_700_000_000, b"{}"));
        assert_ne!(s, signature("0123456789abcdeX", 1_700_000_000, b"{}"));
    }
}
