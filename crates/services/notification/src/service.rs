//! The use cases: turning events into notifications for the right people (de-duplicated by the
//! event's idempotency key, grouped, held in quiet hours), the delivery worker (rate limits,
//! retries with backoff persisted in the store, the dead letter), preferences, the inbox and the
//! receipts. The only place behaviour lives; the adapters (`http`, `grpc`, `kafka`) translate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::auth::Principal;
use common::error::{Classify, Kind};
use common::retry::Backoff;
use common::store::{Db, Timestamp, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::channels::{Channels, Outgoing, SendError};
use crate::domain::{
    Channel, Email, EventKind, Invalid, Lang, Preferences, PreferencesInput, QuietHours, Severity,
    Webhook,
};
use crate::metrics::Metrics;
use crate::settings::Sections;
use crate::store::{self, DeliveryFilter, DeliveryRow, NotificationRow, PrefsRow};
use crate::templates::{Rendered, Templates};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value breaks a rule; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// No such thing (or not the caller's).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No or wrong credentials (the Alertmanager secret).
    #[error("{0}")]
    Unauthenticated(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::NotFound(_) => Kind::NotFound,
            Error::Forbidden(_) => Kind::PermissionDenied,
            Error::Unauthenticated(_) => Kind::Unauthenticated,
            Error::Store(e) => e.kind(),
        }
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Invalid(e.0)
    }
}

/// Who an event is for.
#[derive(Debug, Clone)]
pub enum Audience {
    /// The users following this account (and those who see every account).
    Account(String),
    /// Users who see every account (risk officers, ops, admins) and chose this kind.
    Staff,
    /// Ops alerts: staff who chose `ops`, and the configured ops address.
    Ops,
    /// Users watching this symbol who chose the kind.
    Symbol(String),
    /// One user, by their preferences (or `channels`, when given).
    User {
        /// Their id.
        user_id: String,
        /// These channels instead of their preferences'.
        channels: Vec<Channel>,
    },
    /// One person at an e-mail address the sender gives (the SSO's account mail), whatever
    /// their preferences.
    Address {
        /// Their id.
        user_id: String,
        /// Their name.
        username: String,
        /// Where.
        email: Email,
        /// In which language.
        lang: Lang,
    },
}

/// How an event merges into an open notification of its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Not grouped.
    None,
    /// The fills and changes of one order.
    Order,
    /// The newer event replaces the data.
    Replace,
}

/// Something to tell people.
#[derive(Debug, Clone)]
pub struct Event {
    /// What it is about.
    pub kind: EventKind,
    /// Template name.
    pub template: String,
    /// How urgent.
    pub severity: Severity,
    /// Idempotency key: the same key twice reaches each person once.
    pub key: String,
    /// Events of the same group within the window are one message.
    pub group: Option<String>,
    /// How it merges.
    pub merge: Merge,
    /// The template's data.
    pub data: Value,
}

/// The stored preferences document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Doc {
    language: Lang,
    email: Option<Email>,
    telegram_chat_id: Option<String>,
    phone: Option<String>,
    webhooks: Vec<Webhook>,
    events: std::collections::BTreeMap<EventKind, Vec<Channel>>,
    symbols: Vec<String>,
    quiet_hours: Option<(String, String)>,
}

fn prefs_of(row: PrefsRow, accounts: Vec<String>) -> Preferences {
    let mut p = Preferences::default_for(&row.user_id, &row.username);
    if let Ok(d) = serde_json::from_str::<Doc>(&row.doc) {
        p.language = d.language;
        p.email = d.email;
        p.telegram_chat_id = d.telegram_chat_id;
        p.phone = d.phone;
        p.webhooks = d.webhooks;
        p.events = d.events;
        p.symbols = d.symbols;
        p.quiet_hours = d
            .quiet_hours
            .and_then(|(s, e)| QuietHours::parse(&s, &e).ok());
    }
    p.accounts = accounts;
    p.all_accounts = row.all_accounts;
    p
}

fn row_of(p: &Preferences) -> PrefsRow {
    let doc = Doc {
        language: p.language,
        email: p.email.clone(),
        telegram_chat_id: p.telegram_chat_id.clone(),
        phone: p.phone.clone(),
        webhooks: p.webhooks.clone(),
        events: p.events.clone(),
        symbols: p.symbols.clone(),
        quiet_hours: p.quiet_hours.map(QuietHours::strings),
    };
    PrefsRow {
        user_id: p.user_id.clone(),
        username: p.username.clone(),
        doc: serde_json::to_string(&doc).unwrap_or_default(),
        all_accounts: p.all_accounts,
    }
}

/// The user a caller is: their token's subject, or `local` when tokens are not checked.
pub fn user_of(caller: Option<&Principal>) -> (String, String) {
    caller.map_or_else(
        || ("local".to_owned(), "local".to_owned()),
        |p| (p.subject.clone(), p.username.clone()),
    )
}

/// Whether the caller may act for other users (ops, admin; everyone when tokens are off).
fn staff(caller: Option<&Principal>) -> bool {
    caller.is_none_or(|p| p.has_role("ops") || p.has_role("admin"))
}

/// A receipt: a delivery with its notification's subject.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The delivery.
    pub delivery: DeliveryRow,
    /// Its notification's kind.
    pub kind: String,
}

/// An inbox message.
#[derive(Debug, Clone)]
pub struct InboxItem {
    /// The inbox delivery's id (what mark-read takes).
    pub id: String,
    /// Its notification.
    pub notification_id: String,
    /// What it is about.
    pub kind: String,
    /// How urgent.
    pub severity: String,
    /// Rendered in the user's language.
    pub rendered: Rendered,
    /// When it arrived.
    pub created_at: OffsetDateTime,
    /// When it was read.
    pub read_at: Option<OffsetDateTime>,
}

/// A notification with its receipts.
#[derive(Debug, Clone)]
pub struct NotificationView {
    /// The notification.
    pub row: NotificationRow,
    /// As rendered now.
    pub rendered: Rendered,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryRow>,
}

/// A direct message to send (`POST /v1/notifications`, gRPC `SendNotification`).
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// To whom.
    pub user_id: String,
    /// What it is about (default `account`).
    pub kind: Option<String>,
    /// How urgent (default `info`).
    pub severity: Option<String>,
    /// One line.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The same key twice is one notification; empty: a new one each time.
    pub idempotency_key: String,
    /// These channels instead of the user's preferences.
    pub channels: Vec<String>,
}

struct Inner {
    db: Db,
    templates: Templates,
    channels: Channels,
    settings: Sections,
    metrics: Metrics,
    wake: Notify,
    backoff: Backoff,
}

/// The notification service's behaviour.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

/// How long past its window a grouped message is sent.
const GROUP_GRACE: time::Duration = time::Duration::milliseconds(500);

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn ms(d: u64) -> time::Duration {
    time::Duration::milliseconds(i64::try_from(d).unwrap_or(i64::MAX))
}

impl Notifier {
    /// The service over `db` with `settings`.
    pub fn new(db: Db, settings: Sections, metrics: Metrics) -> anyhow::Result<Self> {
        let templates =
            Templates::new().map_err(|e| anyhow::anyhow!("compile the templates: {e}"))?;
        let channels = Channels::new(&settings).map_err(|e| anyhow::anyhow!(e))?;
        let backoff = Backoff::from_millis(
            settings.delivery.retry_backoff_ms,
            settings.delivery.max_backoff_ms,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                templates,
                channels,
                settings,
                metrics,
                wake: Notify::new(),
                backoff,
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Sections {
        &self.inner.settings
    }

    // ---- events into notifications ----

    /// Who `audience` is, with the targets of `kind` for each.
    async fn recipients(
        &self,
        tx: &mut Tx,
        audience: &Audience,
        kind: EventKind,
    ) -> Result<Vec<(Preferences, Vec<(Channel, String)>)>, Error> {
        let with_targets = |list: Vec<(PrefsRow, Vec<String>)>,
                            keep: &dyn Fn(&Preferences) -> bool| {
            list.into_iter()
                .map(|(r, a)| prefs_of(r, a))
                .filter(|p| keep(p))
                .map(|p| {
                    let t = p.targets_for(kind);
                    (p, t)
                })
                .filter(|(_, t)| !t.is_empty())
                .collect::<Vec<_>>()
        };
        Ok(match audience {
            // Staff follow every account, but get its orders only when they chose the kind
            // themselves: the defaults are for the account's own traders.
            Audience::Account(a) => with_targets(store::followers(tx, a).await?, &|p| {
                p.accounts.iter().any(|x| x == a) || p.events.contains_key(&kind)
            }),
            Audience::Staff => with_targets(store::all_prefs(tx).await?, &|p| p.all_accounts),
            Audience::Ops => {
                let mut out = with_targets(store::all_prefs(tx).await?, &|p| p.all_accounts);
                let a = &self.inner.settings.alertmanager;
                if let Ok(email) = Email::parse(&a.ops_email) {
                    let mut p = Preferences::default_for("ops:fallback", "ops");
                    p.language = Lang::parse(&a.ops_language).unwrap_or(Lang::En);
                    let target = (Channel::Email, email.as_str().to_owned());
                    p.email = Some(email);
                    out.push((p, vec![target]));
                }
                out
            }
            Audience::Symbol(s) => with_targets(store::all_prefs(tx).await?, &|p| {
                p.symbols.iter().any(|w| w == s)
            }),
            Audience::User { user_id, channels } => {
                let p = match store::prefs(tx, user_id).await? {
                    Some((r, a)) => prefs_of(r, a),
                    None => Preferences::default_for(user_id, user_id),
                };
                let targets: Vec<(Channel, String)> = if channels.is_empty() {
                    p.targets_for(kind)
                } else {
                    let mut q = p.clone();
                    q.events.insert(kind, channels.clone());
                    q.targets_for(kind)
                };
                if targets.is_empty() {
                    Vec::new()
                } else {
                    vec![(p, targets)]
                }
            }
            Audience::Address {
                user_id,
                username,
                email,
                lang,
            } => {
                let mut p = Preferences::default_for(user_id, username);
                p.language = *lang;
                p.email = Some(email.clone());
                vec![(p, vec![(Channel::Email, email.as_str().to_owned())])]
            }
        })
    }

    /// Turns `event` into a notification for each person of `audience` (inside `tx`, so it
    /// commits with the consumer's inbox mark): once per idempotency key and person, merged
    /// into an open notification of its group, its deliveries queued (held in quiet hours
    /// unless critical). How many people it reached (merges and duplicates are not counted).
    pub async fn notify(
        &self,
        tx: &mut Tx,
        audience: Audience,
        event: Event,
    ) -> Result<usize, Error> {
        if !Templates::exists(&event.template) {
            return Err(Error::Invalid(format!(
                "template: no template {:?}",
                event.template
            )));
        }
        let at = now();
        let ts = Timestamp::from(at);
        let critical = event.severity == Severity::Critical;
        let mut reached = 0;
        let recipients = self.recipients(tx, &audience, event.kind).await?;
        if recipients.is_empty() {
            self.inner
                .metrics
                .events
                .with_label_values(&[event.kind.as_str(), "unrouted"])
                .inc();
        }
        for (prefs, targets) in recipients {
            let open = match &event.group {
                Some(g) if event.merge != Merge::None => {
                    store::open_group(tx, &prefs.user_id, g, ts).await?
                }
                Some(_) | None => None,
            };
            let id = open
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |n| n.id.clone());
            if !store::claim_key(tx, &prefs.user_id, &event.key, &id).await? {
                self.inner
                    .metrics
                    .events
                    .with_label_values(&[event.kind.as_str(), "duplicate"])
                    .inc();
                continue;
            }
            if let Some(open) = open {
                let old: Value = serde_json::from_str(&open.data).unwrap_or(Value::Null);
                let data = merge(event.merge, old, &event.data);
                let severity = if critical || open.severity == "critical" {
                    "critical"
                } else if open.severity == "warning" {
                    "warning"
                } else {
                    event.severity.as_str()
                };
                store::update_data(tx, &open.id, &data.to_string(), severity, ts).await?;
                if critical {
                    store::make_critical(tx, &open.id, ts).await?;
                }
                self.inner
                    .metrics
                    .events
                    .with_label_values(&[event.kind.as_str(), "grouped"])
                    .inc();
                continue;
            }
            let grouped = event.group.is_some() && event.merge != Merge::None;
            let open_until = if grouped {
                at + ms(self.inner.settings.delivery.group_window_ms)
            } else {
                at
            };
            let data = merge(event.merge, Value::Null, &event.data);
            store::insert_notification(
                tx,
                &NotificationRow {
                    id: id.clone(),
                    user_id: prefs.user_id.clone(),
                    kind: event.kind.as_str().to_owned(),
                    template: event.template.clone(),
                    severity: event.severity.as_str().to_owned(),
                    lang: prefs.language.as_str().to_owned(),
                    data: data.to_string(),
                    group_key: event.group.clone().unwrap_or_default(),
                    open_until: open_until.into(),
                    created_at: ts,
                    updated_at: ts,
                },
            )
            .await?;
            let quiet_end = if critical {
                None
            } else {
                prefs.quiet_hours.and_then(|q| q.ends_after(at))
            };
            for (channel, target) in targets {
                let (status, next_at, sent_at) = match (channel, quiet_end) {
                    (Channel::Inbox, _) => ("sent", at, Some(ts)),
                    (_, Some(end)) => ("held", end.max(open_until + GROUP_GRACE), None),
                    (_, None) if critical => ("pending", at, None),
                    // A grouped message waits a moment past its window, so an event merged
                    // just before the window closed has committed when it is rendered.
                    (_, None) if grouped => ("pending", open_until + GROUP_GRACE, None),
                    (_, None) => ("pending", at, None),
                };
                store::insert_delivery(
                    tx,
                    &DeliveryRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        notification_id: id.clone(),
                        user_id: prefs.user_id.clone(),
                        channel: channel.as_str().to_owned(),
                        target,
                        critical,
                        status: status.to_owned(),
                        attempts: 0,
                        next_at: next_at.into(),
                        last_error: String::new(),
                        created_at: ts,
                        updated_at: ts,
                        sent_at,
                        read_at: None,
                    },
                )
                .await?;
                if channel == Channel::Inbox {
                    self.inner
                        .metrics
                        .deliveries
                        .with_label_values(&["inbox", "sent"])
                        .inc();
                }
            }
            self.inner
                .metrics
                .events
                .with_label_values(&[event.kind.as_str(), "notified"])
                .inc();
            reached += 1;
        }
        Ok(reached)
    }

    /// Wakes the delivery worker (after a commit that queued deliveries).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// [`notify`](Self::notify) in a transaction of its own.
    pub async fn notify_now(&self, audience: Audience, event: Event) -> Result<usize, Error> {
        let mut tx = self.inner.db.begin().await?;
        let n = self.notify(&mut tx, audience, event).await?;
        tx.commit().await?;
        self.wake();
        Ok(n)
    }

    // ---- the delivery worker ----

    /// Sends due deliveries until `token` is cancelled: every `poll_ms` and whenever woken.
    pub async fn deliver(self, token: CancellationToken) -> anyhow::Result<()> {
        let poll = Duration::from_millis(self.inner.settings.delivery.poll_ms);
        let mut next_purge = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_purge {
                next_purge += Duration::from_secs(3600);
                let days = i64::from(self.inner.settings.delivery.retention_days);
                let before = Timestamp::from(now() - time::Duration::days(days));
                match store::purge(&self.inner.db, before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(notifications = n, days, "old notifications purged"),
                    Err(e) => {
                        tracing::warn!(error = %common::error::chain(&e), "purging old notifications failed")
                    }
                }
            }
            if let Err(e) = self.pass(&token).await {
                tracing::warn!(error = %common::error::chain(&e), "delivery pass failed; will retry");
            }
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(poll) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }

    /// One pass: claims due deliveries and sends them concurrently.
    async fn pass(&self, token: &CancellationToken) -> Result<(), Error> {
        let db = &self.inner.db;
        let d = &self.inner.settings.delivery;
        let depth: HashMap<String, i64> = store::queue_depth(db).await?.into_iter().collect();
        for c in Channel::ALL {
            // a channel with nothing waiting reads 0, not its last value
            let n = depth.get(c.as_str()).copied().unwrap_or(0);
            self.inner
                .metrics
                .queue
                .with_label_values(&[c.as_str()])
                .set(n);
        }
        let due = store::due(db, Timestamp::now(), i64::from(d.batch)).await?;
        let mut tasks = tokio::task::JoinSet::new();
        // Messages sent (or about to be, in this pass) per user and channel in the last minute:
        // the rate limit is checked here, before the sends run concurrently.
        let mut recent: HashMap<(String, String), (i64, Option<Timestamp>)> = HashMap::new();
        let since = Timestamp::from(now() - time::Duration::minutes(1));
        for row in due {
            if token.is_cancelled() {
                break;
            }
            let lease = Timestamp::from(now() + time::Duration::seconds(d.lease_secs as i64));
            if !store::claim(db, &row, lease).await? {
                continue;
            }
            if !row.critical && row.channel != "inbox" {
                let key = (row.user_id.clone(), row.channel.clone());
                let seen = match recent.get(&key) {
                    Some(s) => *s,
                    None => store::sent_since(db, &row.user_id, &row.channel, since).await?,
                };
                if seen.0 >= i64::from(d.rate_per_minute) {
                    let later =
                        seen.1.map_or_else(now, OffsetDateTime::from) + time::Duration::minutes(1);
                    store::postpone(db, &row.id, row.next_at.max(later.into())).await?;
                    self.inner
                        .metrics
                        .deliveries
                        .with_label_values(&[&row.channel, "rate_limited"])
                        .inc();
                    recent.insert(key, seen);
                    continue;
                }
                recent.insert(key, (seen.0 + 1, seen.1.or(Some(Timestamp::now()))));
            }
            let me = self.clone();
            tasks.spawn(async move { me.attempt(row).await });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Err(e)) => {
                    tracing::warn!(error = %common::error::chain(&e), "recording a delivery failed")
                }
                Ok(Ok(())) => {}
                Err(e) => tracing::warn!(error = %e, "a delivery task failed"),
            }
        }
        Ok(())
    }

    /// One attempt of a claimed delivery, and its outcome recorded.
    async fn attempt(&self, d: DeliveryRow) -> Result<(), Error> {
        let db = &self.inner.db;
        let s = &self.inner.settings.delivery;
        let at = now();
        let attempts = d.attempts + 1;
        let started = std::time::Instant::now();
        let result = self.send(&d, attempts).await;
        self.inner
            .metrics
            .latency
            .with_label_values(&[&d.channel])
            .observe(started.elapsed().as_secs_f64());
        let ts = Timestamp::from(at);
        let finished = match &result {
            Ok(()) => true,
            Err(e) => matches!(e, SendError::Permanent(_)) || attempts >= i64::from(s.max_attempts),
        };
        if finished && let Err(e) = self.scrub(&d.notification_id).await {
            tracing::warn!(notification = %d.notification_id, error = %common::error::chain(&e), "dropping a message's secrets failed");
        }
        match result {
            Ok(()) => {
                store::finish(db, &d.id, "sent", attempts, ts, "", Timestamp::now()).await?;
                self.inner
                    .metrics
                    .deliveries
                    .with_label_values(&[&d.channel, "sent"])
                    .inc();
                tracing::info!(delivery = %d.id, notification = %d.notification_id, channel = %d.channel, attempts, "delivered");
            }
            Err(e) => {
                let last =
                    matches!(e, SendError::Permanent(_)) || attempts >= i64::from(s.max_attempts);
                let why = match &e {
                    SendError::Permanent(m) => format!("permanent: {m}"),
                    SendError::Transient(m) if last => {
                        format!("gave up after {attempts} attempts: {m}")
                    }
                    SendError::Transient(m) => m.clone(),
                };
                if last {
                    store::finish(db, &d.id, "dead", attempts, ts, &why, Timestamp::now()).await?;
                    self.inner
                        .metrics
                        .deliveries
                        .with_label_values(&[&d.channel, "dead"])
                        .inc();
                    tracing::warn!(delivery = %d.id, notification = %d.notification_id, channel = %d.channel, attempts, error = %why, "delivery dead-lettered");
                } else {
                    let delay = self
                        .inner
                        .backoff
                        .delay(u32::try_from(attempts).unwrap_or(u32::MAX));
                    let next = at + time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR);
                    store::finish(
                        db,
                        &d.id,
                        "pending",
                        attempts,
                        next.into(),
                        &why,
                        Timestamp::now(),
                    )
                    .await?;
                    self.inner
                        .metrics
                        .deliveries
                        .with_label_values(&[&d.channel, "retry"])
                        .inc();
                    tracing::info!(delivery = %d.id, channel = %d.channel, attempts, retry_in_ms = delay.as_millis() as u64, error = %why, "delivery failed; will retry");
                }
            }
        }
        Ok(())
    }

    /// Drops what an account message carried for its one send (a reset token): once its
    /// delivery is over, nobody — ops reading receipts included — can read it back.
    async fn scrub(&self, notification_id: &str) -> Result<(), Error> {
        let db = &self.inner.db;
        let Some(n) = store::notification(db, notification_id).await? else {
            return Ok(());
        };
        if n.template != "account" {
            return Ok(());
        }
        let mut data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
        if let Some(o) = data.as_object_mut()
            && o.get("params")
                .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()))
        {
            o.insert("params".to_owned(), serde_json::json!({}));
            store::scrub(db, notification_id, &data.to_string()).await?;
        }
        Ok(())
    }

    /// Renders and sends one delivery.
    async fn send(&self, d: &DeliveryRow, attempt: i64) -> Result<(), SendError> {
        let db = &self.inner.db;
        let n = store::notification(db, &d.notification_id)
            .await
            .map_err(|e| SendError::Transient(format!("store: {}", common::error::chain(&e))))?
            .ok_or_else(|| SendError::Permanent("its notification is gone".to_owned()))?;
        let lang = Lang::parse(&n.lang).unwrap_or(Lang::Vi);
        let data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
        let rendered = self
            .inner
            .templates
            .render(&n.template, lang, &data)
            .map_err(|e| SendError::Permanent(common::error::chain(&e).to_string()))?;
        let m = Outgoing {
            delivery_id: &d.id,
            notification_id: &n.id,
            user_id: &n.user_id,
            kind: &n.kind,
            severity: &n.severity,
            template: &n.template,
            subject: &rendered.subject,
            body: &rendered.body,
            data: &data,
            attempt,
        };
        let c = &self.inner.channels;
        match Channel::parse(&d.channel, "channel").map_err(|e| SendError::Permanent(e.0))? {
            Channel::Email => c.email(&d.target, &m).await,
            Channel::Telegram => c.telegram(&d.target, &m).await,
            Channel::Sms => c.sms(&d.target, &m).await,
            Channel::Inbox => Ok(()),
            Channel::Webhook => {
                let mut tx = db
                    .begin()
                    .await
                    .map_err(|e| SendError::Transient(format!("store: {e}")))?;
                let prefs = store::prefs(&mut tx, &d.user_id)
                    .await
                    .map_err(|e| SendError::Transient(format!("store: {e}")))?;
                drop(tx);
                let hook = prefs
                    .map(|(r, a)| prefs_of(r, a))
                    .and_then(|p| p.webhooks.into_iter().find(|w| w.name == d.target))
                    .ok_or_else(|| {
                        SendError::Permanent(format!("webhook {:?} was removed", d.target))
                    })?;
                c.webhook(&hook, &m).await
            }
        }
    }

    // ---- preferences ----

    /// The preferences of `user_id` (as stored, or the defaults).
    pub async fn preferences(
        &self,
        caller: Option<&Principal>,
        user_id: Option<&str>,
    ) -> Result<Preferences, Error> {
        let (me, my_name) = user_of(caller);
        let user = user_id.unwrap_or(&me);
        if user != me && !staff(caller) {
            return Err(Error::Forbidden(
                "only ops or admin read another user's preferences".to_owned(),
            ));
        }
        let mut tx = self.inner.db.begin().await?;
        let p = store::prefs(&mut tx, user).await?;
        drop(tx);
        Ok(match p {
            Some((r, a)) => prefs_of(r, a),
            None if user == me => {
                let mut p = Preferences::default_for(&me, &my_name);
                p.accounts = caller.map(|c| c.accounts.clone()).unwrap_or_default();
                p.all_accounts = caller.is_none_or(Principal::sees_all_accounts);
                p
            }
            None => return Err(Error::NotFound(format!("user {user} has no preferences"))),
        })
    }

    /// Saves preferences: the caller's own (following the accounts of their token), or, for
    /// ops and admin, another user's (whose followed accounts stay as they were).
    pub async fn set_preferences(
        &self,
        caller: Option<&Principal>,
        user_id: Option<&str>,
        input: PreferencesInput,
    ) -> Result<Preferences, Error> {
        let (me, my_name) = user_of(caller);
        let user = user_id.unwrap_or(&me).to_owned();
        let own = user == me;
        if !own && !staff(caller) {
            return Err(Error::Forbidden(
                "only ops or admin set another user's preferences".to_owned(),
            ));
        }
        let mut tx = self.inner.db.begin().await?;
        let previous = store::prefs(&mut tx, &user)
            .await?
            .map(|(r, a)| prefs_of(r, a));
        let username = if own {
            my_name
        } else {
            previous
                .as_ref()
                .map_or_else(|| user.clone(), |p| p.username.clone())
        };
        let mut p = Preferences::from_input(
            &user,
            &username,
            input,
            previous.as_ref(),
            self.inner.settings.webhook.allow_http,
        )?;
        if own {
            p.accounts = caller.map(|c| c.accounts.clone()).unwrap_or_default();
            p.all_accounts = caller.is_none_or(Principal::sees_all_accounts);
        }
        let accounts = own.then(|| p.accounts.clone());
        store::put_prefs(&mut tx, &row_of(&p), accounts.as_deref(), Timestamp::now()).await?;
        tx.commit().await?;
        Ok(p)
    }

    // ---- direct messages ----

    /// Sends a direct message to a user; the notification's id (an existing one for a repeated
    /// idempotency key).
    pub async fn send_message(&self, r: SendRequest) -> Result<(String, usize), Error> {
        let user_id = r.user_id.trim().to_owned();
        if user_id.is_empty() || user_id.len() > 200 {
            return Err(Error::Invalid("user_id: 1 to 200 characters".to_owned()));
        }
        let subject = r.subject.trim().to_owned();
        if subject.is_empty() || subject.chars().count() > 200 || subject.contains('\n') {
            return Err(Error::Invalid(
                "subject: one line of 1 to 200 characters".to_owned(),
            ));
        }
        if r.body.chars().count() > 10_000 {
            return Err(Error::Invalid("body: at most 10000 characters".to_owned()));
        }
        let kind = match r.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => EventKind::parse(k, "kind")?,
            None => EventKind::Account,
        };
        let severity = match r.severity.as_deref().filter(|k| !k.is_empty()) {
            Some(s) => Severity::parse(s, "severity")?,
            None => Severity::Info,
        };
        let channels = r
            .channels
            .iter()
            .map(|c| Channel::parse(c, "channels"))
            .collect::<Result<Vec<_>, _>>()?;
        if r.idempotency_key.len() > 200 {
            return Err(Error::Invalid(
                "idempotency_key: at most 200 characters".to_owned(),
            ));
        }
        let key = if r.idempotency_key.is_empty() {
            format!("message:{}", uuid::Uuid::now_v7())
        } else {
            format!("message:{}", r.idempotency_key)
        };
        let mut tx = self.inner.db.begin().await?;
        let reached = self
            .notify(
                &mut tx,
                Audience::User {
                    user_id: user_id.clone(),
                    channels,
                },
                Event {
                    kind,
                    template: "message".to_owned(),
                    severity,
                    key: key.clone(),
                    group: None,
                    merge: Merge::None,
                    data: serde_json::json!({ "subject": subject, "body": r.body }),
                },
            )
            .await?;
        let id: Option<String> = common::on_engine!(tx.conn(), |c| sqlx::query_scalar(
            "SELECT notification_id FROM notif_keys WHERE user_id = $1 AND key = $2"
        )
        .bind(&user_id)
        .bind(&key)
        .fetch_optional(c)
        .await)
        .map_err(common::store::Error::from)?;
        tx.commit().await?;
        self.wake();
        let id = id.ok_or_else(|| {
            Error::Invalid(format!(
                "channels: user {user_id} has no reachable channel for {} messages",
                kind.as_str()
            ))
        })?;
        Ok((id, reached))
    }

    // ---- receipts and inbox ----

    /// Receipts (deliveries), newest first; a user sees their own only.
    pub async fn receipts(
        &self,
        caller: Option<&Principal>,
        mut filter: DeliveryFilter,
    ) -> Result<Vec<DeliveryRow>, Error> {
        let (me, _) = user_of(caller);
        if !staff(caller) {
            match &filter.user_id {
                Some(u) if *u != me => {
                    return Err(Error::Forbidden(
                        "only ops or admin list another user's receipts".to_owned(),
                    ));
                }
                Some(_) | None => filter.user_id = Some(me),
            }
        }
        if let Some(s) = &filter.status
            && !["pending", "held", "sent", "dead"].contains(&s.as_str())
        {
            return Err(Error::Invalid(format!(
                "status: {s:?} is not pending, held, sent or dead"
            )));
        }
        if let Some(c) = &filter.channel {
            Channel::parse(c, "channel")?;
        }
        filter.limit = match filter.limit {
            0 => 100,
            n if (1..=1000).contains(&n) => n,
            _ => return Err(Error::Invalid("limit: 1 to 1000".to_owned())),
        };
        Ok(store::deliveries(&self.inner.db, &filter).await?)
    }

    /// A notification, rendered, with its receipts; a user sees their own only.
    pub async fn notification(
        &self,
        caller: Option<&Principal>,
        id: &str,
    ) -> Result<NotificationView, Error> {
        let (me, _) = user_of(caller);
        let row = store::notification(&self.inner.db, id)
            .await?
            .filter(|n| staff(caller) || n.user_id == me)
            .ok_or_else(|| Error::NotFound(format!("no notification {id}")))?;
        let rendered = self.render(&row);
        let deliveries = store::deliveries(
            &self.inner.db,
            &DeliveryFilter {
                notification_id: Some(id.to_owned()),
                limit: 1000,
                ..DeliveryFilter::default()
            },
        )
        .await?;
        Ok(NotificationView {
            row,
            rendered,
            deliveries,
        })
    }

    /// Renders a notification to show it (receipts, inbox): an account message's secrets never.
    fn render(&self, n: &NotificationRow) -> Rendered {
        let mut data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
        if n.template == "account"
            && let Some(o) = data.as_object_mut()
        {
            o.insert("params".to_owned(), serde_json::json!({}));
        }
        let lang = Lang::parse(&n.lang).unwrap_or(Lang::Vi);
        self.inner
            .templates
            .render(&n.template, lang, &data)
            .unwrap_or_else(|e| Rendered {
                subject: n.template.clone(),
                body: format!("(cannot render: {e})"),
            })
    }

    /// The caller's inbox, newest first.
    pub async fn inbox(
        &self,
        caller: Option<&Principal>,
        unread: bool,
        limit: u32,
    ) -> Result<Vec<InboxItem>, Error> {
        let (me, _) = user_of(caller);
        let limit = match limit {
            0 => 50,
            n @ 1..=500 => n,
            _ => return Err(Error::Invalid("limit: 1 to 500".to_owned())),
        };
        let rows = store::inbox(&self.inner.db, &me, unread, i64::from(limit)).await?;
        let mut cache: HashMap<String, NotificationRow> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for d in rows {
            let n = match cache.get(&d.notification_id) {
                Some(n) => n.clone(),
                None => match store::notification(&self.inner.db, &d.notification_id).await? {
                    Some(n) => {
                        cache.insert(n.id.clone(), n.clone());
                        n
                    }
                    None => continue,
                },
            };
            out.push(InboxItem {
                id: d.id,
                notification_id: n.id.clone(),
                kind: n.kind.clone(),
                severity: n.severity.clone(),
                rendered: self.render(&n),
                created_at: d.created_at.into(),
                read_at: d.read_at.map(Into::into),
            });
        }
        Ok(out)
    }

    /// How many inbox messages the caller has not read.
    pub async fn unread(&self, caller: Option<&Principal>) -> Result<i64, Error> {
        Ok(store::unread(&self.inner.db, &user_of(caller).0).await?)
    }

    /// Marks one inbox message (or, with `None`, all) of the caller read; how many changed.
    pub async fn mark_read(
        &self,
        caller: Option<&Principal>,
        id: Option<&str>,
    ) -> Result<u64, Error> {
        let (me, _) = user_of(caller);
        if let Some(id) = id {
            let found = store::delivery(&self.inner.db, id)
                .await?
                .filter(|d| d.user_id == me && d.channel == "inbox");
            if found.is_none() {
                return Err(Error::NotFound(format!("no inbox message {id}")));
            }
        }
        Ok(store::mark_read(&self.inner.db, &me, id, Timestamp::now()).await?)
    }
}

/// Merges `new` into `old` (the open notification's data; `Null` for a new one).
fn merge(how: Merge, old: Value, new: &Value) -> Value {
    match how {
        Merge::None | Merge::Replace => new.clone(),
        Merge::Order => merge_order(old, new),
    }
}

/// An order's group: the latest order state, every fill once, filled and average price.
fn merge_order(old: Value, new: &Value) -> Value {
    let mut out = if old.is_object() {
        old
    } else {
        serde_json::json!({ "fills": [], "event": "fill", "order": {}, "detail": "" })
    };
    let newer = |o: &Value| o["order"]["version"].as_u64().unwrap_or(0);
    if new["order"]["status"].is_string() && newer(new) >= newer(&out) {
        out["order"] = new["order"].clone();
        out["event"] = new["event"].clone();
        out["detail"] = new["detail"].clone();
    } else if out["order"]["symbol"].as_str().unwrap_or("").is_empty() {
        out["order"] = new["order"].clone();
    }
    if let Some(fill) = new.get("fill").filter(|f| f.is_object()) {
        let fills = out["fills"].as_array_mut();
        if let Some(fills) = fills
            && !fills.iter().any(|f| f["id"] == fill["id"])
        {
            fills.push(fill.clone());
        }
    }
    let fills = out["fills"].as_array().cloned().unwrap_or_default();
    let qty: u64 = fills.iter().filter_map(|f| f["quantity"].as_u64()).sum();
    let value: i128 = fills
        .iter()
        .map(|f| {
            i128::from(f["quantity"].as_u64().unwrap_or(0))
                * i128::from(f["price"].as_i64().unwrap_or(0))
        })
        .sum();
    let order_filled = out["order"]["filled"].as_u64().unwrap_or(0);
    let order_avg = out["order"]["avg_price"].as_i64().unwrap_or(0);
    out["filled"] = qty.max(order_filled).into();
    out["avg_price"] = if order_avg > 0 && order_filled >= qty {
        order_avg.into()
    } else if qty > 0 {
        i64::try_from(value / i128::from(qty)).unwrap_or(0).into()
    } else {
        0.into()
    };
    out["side_vi"] = match out["order"]["side"].as_str() {
        Some("buy") => "MUA".into(),
        Some("sell") => "BÁN".into(),
        other => other.unwrap_or("").to_uppercase().into(),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_orders_fills_and_its_filled_event_merge_into_one() {
        let f = |id: &str, q: u64, p: i64| {
            json!({"order": {"id": "o1", "symbol": "ACB", "side": "buy", "account": "A"},
                   "fill": {"id": id, "quantity": q, "price": p, "time": "t"}})
        };
        let d = merge(Merge::Order, Value::Null, &f("1", 400, 25_000));
        let d = merge(Merge::Order, d, &f("2", 600, 25_100));
        let d = merge(Merge::Order, d, &f("2", 600, 25_100));
        assert_eq!(d["fills"].as_array().unwrap().len(), 2);
        assert_eq!(d["filled"], 1000);
        assert_eq!(d["avg_price"], 25_060);
        let filled = json!({"event": "filled", "detail": "", "order": {"id": "o1", "symbol": "ACB",
            "side": "buy", "account": "A", "status": "filled", "quantity": 1000, "filled": 1000,
            "avg_price": 25_060, "version": 5}});
        let d = merge(Merge::Order, d, &filled);
        assert_eq!(d["event"], "filled");
        assert_eq!(d["fills"].as_array().unwrap().len(), 2);
        assert_eq!(d["side_vi"], "MUA");
    }
}
