//! Types and rules of notifications: languages, channels, event kinds, contacts, preferences
//! (validated: an invalid preference cannot be built) and quiet hours in Vietnam time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Time, UtcOffset};

/// Why a value was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(field: &str, why: impl std::fmt::Display) -> Invalid {
    Invalid(format!("{field}: {why}"))
}

/// Vietnam's offset (UTC+7, no daylight saving): quiet hours are in it.
pub const VIETNAM: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// A language of the templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Vietnamese.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// `vi` or `en`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.trim() {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            other => Err(invalid("language", format!("{other:?} is not vi or en"))),
        }
    }

    /// Its code.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// A way to reach a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// E-mail over SMTP.
    Email,
    /// Telegram Bot API.
    Telegram,
    /// Every webhook of the user (Discord/Slack-style and generic).
    Webhook,
    /// SMS through the configured provider.
    Sms,
    /// The portal's inbox.
    Inbox,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Telegram,
        Channel::Webhook,
        Channel::Sms,
        Channel::Inbox,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Telegram => "telegram",
            Channel::Webhook => "webhook",
            Channel::Sms => "sms",
            Channel::Inbox => "inbox",
        }
    }

    /// From its name; `field` names it in the error.
    pub fn parse(s: &str, field: &str) -> Result<Self, Invalid> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                invalid(
                    field,
                    format!("{s:?} is not a channel (email, telegram, webhook, sms, inbox)"),
                )
            })
    }
}

/// What a notification is about: what users choose channels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Orders of the accounts the user follows: fills (grouped per order), rejections,
    /// cancellations, expiries.
    Order,
    /// Risk events of those accounts (and global ones for those who see every account).
    Risk,
    /// The fleet: consumers that gave up on a message.
    System,
    /// Ops alerts from Alertmanager.
    Ops,
    /// Model predictions (long/exit) of watched symbols.
    Prediction,
    /// Strong news sentiment on watched symbols.
    Sentiment,
    /// Alert rules (the rule service's sets of target `alert`) that became true on a bar of a
    /// watched symbol.
    Alert,
    /// The user's account (password reset, locked account: from the SSO) and direct messages.
    Account,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 8] = [
        EventKind::Order,
        EventKind::Risk,
        EventKind::System,
        EventKind::Ops,
        EventKind::Prediction,
        EventKind::Sentiment,
        EventKind::Alert,
        EventKind::Account,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Order => "order",
            EventKind::Risk => "risk",
            EventKind::System => "system",
            EventKind::Ops => "ops",
            EventKind::Prediction => "prediction",
            EventKind::Sentiment => "sentiment",
            EventKind::Alert => "alert",
            EventKind::Account => "account",
        }
    }

    /// From its name; `field` names it in the error.
    pub fn parse(s: &str, field: &str) -> Result<Self, Invalid> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                invalid(
                    field,
                    format!(
                        "{s:?} is not an event kind (order, risk, system, ops, prediction, sentiment, alert, account)"
                    ),
                )
            })
    }

    /// The channels of a user who said nothing about this kind.
    pub fn default_channels(self) -> Vec<Channel> {
        match self {
            EventKind::Order | EventKind::Risk | EventKind::Account => {
                vec![Channel::Email, Channel::Inbox]
            }
            // Asked for by watching the symbol: the inbox shows them, other channels on request.
            EventKind::Alert => vec![Channel::Inbox],
            EventKind::System | EventKind::Ops | EventKind::Prediction | EventKind::Sentiment => {
                Vec::new()
            }
        }
    }
}

/// How urgent a notification is: critical ones ignore quiet hours and rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Act on it when you can.
    Warning,
    /// Now, whatever the hour.
    Critical,
}

impl Severity {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// From its name.
    pub fn parse(s: &str, field: &str) -> Result<Self, Invalid> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            other => Err(invalid(
                field,
                format!("{other:?} is not info, warning or critical"),
            )),
        }
    }
}

/// An e-mail address (one `@`, no spaces, at most 254 characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Checks the address.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let ok = s.len() <= 254
            && s.split('@').count() == 2
            && s.split('@').all(|p| !p.is_empty())
            && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
            && s.parse::<lettre::Address>().is_ok();
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid(format!("{s:?} is not an e-mail address")))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 (`+` and 8 to 15 digits).
fn phone(s: &str) -> Result<String, Invalid> {
    let digits = s.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(invalid(
            "phone",
            format!("{s:?} is not E.164 (+ and 8 to 15 digits, e.g. +84901234567)"),
        ))
    }
}

/// What a webhook speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    /// Discord: `{"content": text}`.
    Discord,
    /// Slack (and Mattermost, Rocket.Chat): `{"text": text}`.
    Slack,
    /// The notification as JSON, signed with HMAC-SHA256 of the webhook's secret.
    Generic,
}

impl WebhookKind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Discord => "discord",
            WebhookKind::Slack => "slack",
            WebhookKind::Generic => "generic",
        }
    }

    /// From its name.
    pub fn parse(s: &str, field: &str) -> Result<Self, Invalid> {
        match s {
            "discord" => Ok(WebhookKind::Discord),
            "slack" => Ok(WebhookKind::Slack),
            "generic" => Ok(WebhookKind::Generic),
            other => Err(invalid(
                field,
                format!("{other:?} is not discord, slack or generic"),
            )),
        }
    }
}

/// One webhook of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its name (unique per user): the delivery's target.
    pub name: String,
    /// Where it is POSTed.
    pub url: String,
    /// What it speaks.
    pub kind: WebhookKind,
    /// The HMAC-SHA256 key of a generic webhook's signature.
    #[serde(default)]
    pub secret: String,
}

/// A time of day in Vietnam, `HH:MM`.
fn time_of_day(s: &str, field: &str) -> Result<Time, Invalid> {
    let bad = || invalid(field, format!("{s:?} is not HH:MM"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u8 = h.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    Time::from_hms(h, m, 0).map_err(|_| bad())
}

/// Quiet hours in Vietnam time: `start` to `end`, over midnight when `end < start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: Time,
    end: Time,
}

impl QuietHours {
    /// From `HH:MM` times; equal times are refused (it would be all day or never).
    pub fn parse(start: &str, end: &str) -> Result<Self, Invalid> {
        let start = time_of_day(start, "quiet_hours.start")?;
        let end = time_of_day(end, "quiet_hours.end")?;
        if start == end {
            return Err(invalid(
                "quiet_hours",
                "start and end are the same time; leave quiet_hours out for none",
            ));
        }
        Ok(Self { start, end })
    }

    /// `HH:MM` of the start and the end.
    pub fn strings(self) -> (String, String) {
        let f = |t: Time| format!("{:02}:{:02}", t.hour(), t.minute());
        (f(self.start), f(self.end))
    }

    /// When the quiet hours around `now` end, or `None` when `now` is not in them.
    pub fn ends_after(self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let local = now.to_offset(VIETNAM);
        let t = local.time();
        let inside = if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        if !inside {
            return None;
        }
        let mut end = local.replace_time(self.end);
        if end <= local {
            end += time::Duration::days(1);
        }
        Some(end.to_offset(UtcOffset::UTC))
    }
}

/// A user's preferences: how to reach them, in which language, with what, and when not.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    /// The user's id (the token's subject).
    pub user_id: String,
    /// Their name, for templates.
    pub username: String,
    /// Language of their messages.
    pub language: Lang,
    /// E-mail address.
    pub email: Option<Email>,
    /// Telegram chat id (a number; negative for groups).
    pub telegram_chat_id: Option<String>,
    /// Phone for SMS, E.164.
    pub phone: Option<String>,
    /// Their webhooks.
    pub webhooks: Vec<Webhook>,
    /// Channels per event kind; a kind left out gets [`EventKind::default_channels`].
    pub events: BTreeMap<EventKind, Vec<Channel>>,
    /// Symbols whose predictions and sentiment they want.
    pub symbols: Vec<String>,
    /// When only critical messages go out.
    pub quiet_hours: Option<QuietHours>,
    /// Broker accounts whose orders, fills and risk events reach them (from their token).
    pub accounts: Vec<String>,
    /// Whether they see every account (admin, risk officer, ops: from their token).
    pub all_accounts: bool,
}

/// Preferences as sent: every field optional, checked by [`Preferences::from_input`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PreferencesInput {
    /// `vi` or `en`.
    pub language: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Telegram chat id.
    pub telegram_chat_id: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Webhooks.
    pub webhooks: Vec<WebhookInput>,
    /// Event kind → channels.
    pub events: BTreeMap<String, Vec<String>>,
    /// Watched symbols.
    pub symbols: Vec<String>,
    /// `HH:MM` start and end, Vietnam time.
    pub quiet_hours: Option<(String, String)>,
}

/// A webhook as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookInput {
    /// Unique per user.
    pub name: String,
    /// `https://` (or `http://` when allowed).
    pub url: String,
    /// `discord`, `slack` or `generic`.
    pub kind: String,
    /// The generic webhook's signing secret (at least 16 characters); left out on an update:
    /// the stored one is kept.
    pub secret: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Preferences {
    /// A user's preferences before they set any.
    pub fn default_for(user_id: &str, username: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            username: username.to_owned(),
            language: Lang::Vi,
            email: None,
            telegram_chat_id: None,
            phone: None,
            webhooks: Vec::new(),
            events: BTreeMap::new(),
            symbols: Vec::new(),
            quiet_hours: None,
            accounts: Vec::new(),
            all_accounts: false,
        }
    }

    /// Checks `input` field by field (the first broken rule, naming its field); `previous`
    /// keeps webhook secrets not sent again; `allow_http` lets webhooks be `http://`.
    pub fn from_input(
        user_id: &str,
        username: &str,
        input: PreferencesInput,
        previous: Option<&Preferences>,
        allow_http: bool,
    ) -> Result<Self, Invalid> {
        let language = match non_empty(input.language) {
            Some(l) => Lang::parse(&l)?,
            None => Lang::Vi,
        };
        let email = non_empty(input.email)
            .map(|e| Email::parse(&e).map_err(|e| invalid("email", e)))
            .transpose()?;
        let telegram_chat_id = non_empty(input.telegram_chat_id)
            .map(|c| {
                let digits = c.strip_prefix('-').unwrap_or(&c);
                if (1..=20).contains(&digits.len()) && digits.chars().all(|d| d.is_ascii_digit()) {
                    Ok(c)
                } else {
                    Err(invalid(
                        "telegram_chat_id",
                        format!("{c:?} is not a Telegram chat id (a number)"),
                    ))
                }
            })
            .transpose()?;
        let phone = non_empty(input.phone).map(|p| phone(&p)).transpose()?;
        if input.webhooks.len() > 10 {
            return Err(invalid("webhooks", "at most 10"));
        }
        let mut webhooks: Vec<Webhook> = Vec::new();
        for (i, w) in input.webhooks.into_iter().enumerate() {
            let field = |f: &str| format!("webhooks[{i}].{f}");
            let name = w.name.trim().to_owned();
            if name.is_empty()
                || name.len() > 40
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(invalid(
                    &field("name"),
                    "1 to 40 of a-z, A-Z, 0-9, '-', '_', '.'",
                ));
            }
            if webhooks.iter().any(|o| o.name == name) {
                return Err(invalid(&field("name"), format!("{name:?} is used twice")));
            }
            let url = w.url.trim().to_owned();
            let scheme_ok =
                url.starts_with("https://") || (allow_http && url.starts_with("http://"));
            if !scheme_ok || url.len() > 2000 || reqwest::Url::parse(&url).is_err() {
                return Err(invalid(
                    &field("url"),
                    if allow_http {
                        format!("{url:?} is not an http(s):// URL")
                    } else {
                        format!("{url:?} is not an https:// URL")
                    },
                ));
            }
            let kind = WebhookKind::parse(w.kind.trim(), &field("kind"))?;
            let secret = match (kind, non_empty(w.secret)) {
                (WebhookKind::Generic, Some(s)) if s.len() >= 16 && s.len() <= 256 => s,
                (WebhookKind::Generic, Some(_)) => {
                    return Err(invalid(&field("secret"), "16 to 256 characters"));
                }
                (WebhookKind::Generic, None) => previous
                    .and_then(|p| p.webhooks.iter().find(|o| o.name == name))
                    .map(|o| o.secret.clone())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        invalid(
                            &field("secret"),
                            "a generic webhook needs a signing secret (16 to 256 characters)",
                        )
                    })?,
                (WebhookKind::Discord | WebhookKind::Slack, _) => String::new(),
            };
            webhooks.push(Webhook {
                name,
                url,
                kind,
                secret,
            });
        }
        let mut events = BTreeMap::new();
        for (k, channels) in input.events {
            let kind = EventKind::parse(&k, &format!("events.{k}"))?;
            let mut parsed = Vec::new();
            for c in channels {
                let c = Channel::parse(&c, &format!("events.{k}"))?;
                if !parsed.contains(&c) {
                    parsed.push(c);
                }
            }
            events.insert(kind, parsed);
        }
        if input.symbols.len() > 200 {
            return Err(invalid("symbols", "at most 200"));
        }
        let mut symbols = Vec::new();
        for s in input.symbols {
            let s = s.trim().to_ascii_uppercase();
            if s.is_empty() || s.len() > 20 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid("symbols", format!("{s:?} is not a ticker")));
            }
            if !symbols.contains(&s) {
                symbols.push(s);
            }
        }
        let quiet_hours = input
            .quiet_hours
            .map(|(s, e)| QuietHours::parse(&s, &e))
            .transpose()?;
        let prefs = Self {
            user_id: user_id.to_owned(),
            username: username.to_owned(),
            language,
            email,
            telegram_chat_id,
            phone,
            webhooks,
            events,
            symbols,
            quiet_hours,
            accounts: previous.map(|p| p.accounts.clone()).unwrap_or_default(),
            all_accounts: previous.is_some_and(|p| p.all_accounts),
        };
        for (kind, channels) in &prefs.events {
            for c in channels {
                if !prefs.reachable(*c) {
                    return Err(invalid(
                        &format!("events.{}", kind.as_str()),
                        format!(
                            "channel {} needs its contact ({})",
                            c.as_str(),
                            match c {
                                Channel::Email => "email",
                                Channel::Telegram => "telegram_chat_id",
                                Channel::Webhook => "webhooks",
                                Channel::Sms => "phone",
                                Channel::Inbox => "nothing",
                            }
                        ),
                    ));
                }
            }
        }
        Ok(prefs)
    }

    /// Whether the user has the contact `channel` needs.
    pub fn reachable(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Telegram => self.telegram_chat_id.is_some(),
            Channel::Webhook => !self.webhooks.is_empty(),
            Channel::Sms => self.phone.is_some(),
            Channel::Inbox => true,
        }
    }

    /// The channels `kind` goes to, each reachable.
    pub fn channels_for(&self, kind: EventKind) -> Vec<Channel> {
        self.events
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| kind.default_channels())
            .into_iter()
            .filter(|c| self.reachable(*c))
            .collect()
    }

    /// The targets (`(channel, target)`) of `kind`: an address, a chat id, a webhook name, a
    /// phone, or `inbox`.
    pub fn targets_for(&self, kind: EventKind) -> Vec<(Channel, String)> {
        let mut out = Vec::new();
        for c in self.channels_for(kind) {
            match c {
                Channel::Email => {
                    out.extend(self.email.iter().map(|e| (c, e.as_str().to_owned())));
                }
                Channel::Telegram => {
                    out.extend(self.telegram_chat_id.iter().map(|t| (c, t.clone())))
                }
                Channel::Webhook => out.extend(self.webhooks.iter().map(|w| (c, w.name.clone()))),
                Channel::Sms => out.extend(self.phone.iter().map(|p| (c, p.clone()))),
                Channel::Inbox => out.push((c, "inbox".to_owned())),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PreferencesInput {
        PreferencesInput {
            language: Some("en".into()),
            email: Some("a@example.com".into()),
            events: [("order".to_owned(), vec!["email".to_owned()])].into(),
            ..Default::default()
        }
    }

    #[test]
    fn valid_preferences_are_taken() {
        let p = Preferences::from_input("u1", "an", input(), None, false).unwrap();
        assert_eq!(p.language, Lang::En);
        assert_eq!(
            p.targets_for(EventKind::Order),
            vec![(Channel::Email, "a@example.com".to_owned())]
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let mut i = input();
        i.email = Some("not-an-address".into());
        let e = Preferences::from_input("u", "n", i, None, false).unwrap_err();
        assert!(e.0.starts_with("email:"), "{e}");
        let mut i = input();
        i.events = [("order".to_owned(), vec!["pigeon".to_owned()])].into();
        let e = Preferences::from_input("u", "n", i, None, false).unwrap_err();
        assert!(e.0.starts_with("events.order:"), "{e}");
        let mut i = input();
        i.webhooks = vec![WebhookInput {
            name: "h".into(),
            url: "http://x".into(),
            kind: "generic".into(),
            secret: Some("0123456789abcdef".into()),
        }];
        let e = Preferences::from_input("u", "n", i, None, false).unwrap_err();
        assert!(e.0.starts_with("webhooks[0].url:"), "{e}");
        let mut i = input();
        i.events = [("order".to_owned(), vec!["sms".to_owned()])].into();
        let e = Preferences::from_input("u", "n", i, None, false).unwrap_err();
        assert!(e.0.contains("phone"), "{e}");
    }

    #[test]
    fn quiet_hours_over_midnight_end_the_next_morning() {
        let q = QuietHours::parse("22:00", "07:00").unwrap();
        // 23:30 in Vietnam is 16:30 UTC.
        let now = time::macros::datetime!(2026-03-02 16:30 UTC);
        assert_eq!(
            q.ends_after(now),
            Some(time::macros::datetime!(2026-03-03 00:00 UTC))
        );
        let noon = time::macros::datetime!(2026-03-02 05:00 UTC);
        assert_eq!(q.ends_after(noon), None);
        assert!(QuietHours::parse("25:00", "07:00").is_err());
        assert!(QuietHours::parse("07:00", "07:00").is_err());
    }
}
