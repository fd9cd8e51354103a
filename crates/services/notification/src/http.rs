//! HTTP adapter: preferences (the caller's own; ops and admin: anyone's), the inbox, receipts,
//! direct messages and Alertmanager's webhook. Every refusal is the `{"code","message"}` body,
//! naming the field at fault.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use common::auth::Principal;
use common::error::{ApiError, Kind};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::alertmanager::Payload;
use crate::domain::{EventKind, Preferences, PreferencesInput, WebhookInput};
use crate::service::{InboxItem, NotificationView, Notifier, SendRequest};
use crate::store::{DeliveryFilter, DeliveryRow};

/// The service's routes.
pub(crate) fn router(n: Notifier) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_preferences, put_preferences))
        .routes(routes!(get_user_preferences, put_user_preferences))
        .routes(routes!(inbox))
        .routes(routes!(unread))
        .routes(routes!(read_one))
        .routes(routes!(read_all))
        .routes(routes!(receipts))
        .routes(routes!(send))
        .routes(routes!(get_notification))
        .routes(routes!(alertmanager))
        .with_state(n)
}

/// The caller, when tokens are checked; `None` when they are not.
type Caller = Option<Extension<Principal>>;

fn who(caller: &Caller) -> Option<&Principal> {
    caller.as_ref().map(|Extension(p)| p)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(b)| b).map_err(|e| {
        ApiError::new(
            Kind::InvalidArgument,
            format!("request body: {}", e.body_text()),
        )
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// A webhook as shown (its secret never is).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct WebhookDto {
    /// Unique per user; the delivery's target.
    name: String,
    /// `https://...`.
    url: String,
    /// `discord`, `slack` or `generic`.
    kind: String,
    /// On input: a generic webhook's HMAC-SHA256 key, 16 to 256 characters (left out on an
    /// update: kept). Never shown.
    #[serde(default, skip_serializing)]
    secret: Option<String>,
    /// Whether a signing secret is set.
    #[serde(default)]
    secret_set: bool,
}

/// Quiet hours, Vietnam time (UTC+7); over midnight when `end` is before `start`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuietHoursDto {
    /// `HH:MM`.
    start: String,
    /// `HH:MM`.
    end: String,
}

/// Preferences to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreferencesBody {
    /// `vi` (default) or `en`.
    language: Option<String>,
    /// E-mail address.
    email: Option<String>,
    /// Telegram chat id (talk to the bot first).
    telegram_chat_id: Option<String>,
    /// Phone for SMS, E.164 (`+84901234567`).
    phone: Option<String>,
    /// Up to 10 webhooks.
    #[serde(default)]
    webhooks: Vec<WebhookDto>,
    /// Event kind (`order`, `risk`, `system`, `ops`, `prediction`, `sentiment`, `account`) →
    /// channels (`email`, `telegram`, `webhook`, `sms`, `inbox`). A kind left out: `order`,
    /// `risk` and `account` go to e-mail and the inbox, the others nowhere.
    #[serde(default)]
    events: BTreeMap<String, Vec<String>>,
    /// Tickers whose predictions and news sentiment you want.
    #[serde(default)]
    symbols: Vec<String>,
    /// Only critical messages go out in these hours; the rest wait until they end.
    quiet_hours: Option<QuietHoursDto>,
}

impl From<PreferencesBody> for PreferencesInput {
    fn from(b: PreferencesBody) -> Self {
        PreferencesInput {
            language: b.language,
            email: b.email,
            telegram_chat_id: b.telegram_chat_id,
            phone: b.phone,
            webhooks: b
                .webhooks
                .into_iter()
                .map(|w| WebhookInput {
                    name: w.name,
                    url: w.url,
                    kind: w.kind,
                    secret: w.secret,
                })
                .collect(),
            events: b.events,
            symbols: b.symbols,
            quiet_hours: b.quiet_hours.map(|q| (q.start, q.end)),
        }
    }
}

/// A user's preferences.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PreferencesDto {
    user_id: String,
    username: String,
    language: String,
    email: Option<String>,
    telegram_chat_id: Option<String>,
    phone: Option<String>,
    webhooks: Vec<WebhookDto>,
    /// Every event kind with the channels it goes to (the user's choice or the default, only
    /// channels whose contact is set).
    events: BTreeMap<String, Vec<String>>,
    symbols: Vec<String>,
    quiet_hours: Option<QuietHoursDto>,
    /// The accounts whose orders, fills and risk events reach this user (from their token
    /// when they saved).
    accounts: Vec<String>,
    /// Whether every account's reach them (admin, risk officer, ops).
    all_accounts: bool,
}

impl From<Preferences> for PreferencesDto {
    fn from(p: Preferences) -> Self {
        let events = EventKind::ALL
            .into_iter()
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    p.channels_for(k)
                        .into_iter()
                        .map(|c| c.as_str().to_owned())
                        .collect(),
                )
            })
            .collect();
        PreferencesDto {
            user_id: p.user_id,
            username: p.username,
            language: p.language.as_str().to_owned(),
            email: p.email.map(|e| e.as_str().to_owned()),
            telegram_chat_id: p.telegram_chat_id,
            phone: p.phone,
            webhooks: p
                .webhooks
                .into_iter()
                .map(|w| WebhookDto {
                    name: w.name,
                    url: w.url,
                    kind: w.kind.as_str().to_owned(),
                    secret: None,
                    secret_set: !w.secret.is_empty(),
                })
                .collect(),
            events,
            symbols: p.symbols,
            quiet_hours: p.quiet_hours.map(|q| {
                let (start, end) = q.strings();
                QuietHoursDto { start, end }
            }),
            accounts: p.accounts,
            all_accounts: p.all_accounts,
        }
    }
}

/// Your preferences (the defaults until you save some).
#[utoipa::path(get, path = "/v1/preferences", tag = "preferences",
    responses((status = 200, description = "Your preferences", body = PreferencesDto)))]
async fn get_preferences(
    State(n): State<Notifier>,
    caller: Caller,
) -> Result<Json<PreferencesDto>, ApiError> {
    Ok(Json(n.preferences(who(&caller), None).await?.into()))
}

/// Saves your preferences. The accounts whose events reach you are those of your token.
#[utoipa::path(put, path = "/v1/preferences", tag = "preferences", request_body = PreferencesBody,
    responses((status = 200, description = "Saved", body = PreferencesDto),
              (status = 400, description = "A field is invalid (named in the message)", body = common::error::ErrorBody)))]
async fn put_preferences(
    State(n): State<Notifier>,
    caller: Caller,
    b: Result<Json<PreferencesBody>, JsonRejection>,
) -> Result<Json<PreferencesDto>, ApiError> {
    let input = body(b)?.into();
    Ok(Json(
        n.set_preferences(who(&caller), None, input).await?.into(),
    ))
}

/// A user's preferences (ops, admin).
#[utoipa::path(get, path = "/v1/users/{user_id}/preferences", tag = "preferences",
    params(("user_id" = String, Path, description = "The user's id")),
    security(("bearer" = ["ops", "admin"])),
    responses((status = 200, description = "Their preferences", body = PreferencesDto),
              (status = 404, description = "None saved", body = common::error::ErrorBody)))]
async fn get_user_preferences(
    State(n): State<Notifier>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<PreferencesDto>, ApiError> {
    Ok(Json(
        n.preferences(who(&caller), Some(&user_id)).await?.into(),
    ))
}

/// Sets a user's preferences (ops, admin); the accounts they follow stay as they were.
#[utoipa::path(put, path = "/v1/users/{user_id}/preferences", tag = "preferences",
    params(("user_id" = String, Path, description = "The user's id")),
    request_body = PreferencesBody, security(("bearer" = ["ops", "admin"])),
    responses((status = 200, description = "Saved", body = PreferencesDto),
              (status = 400, description = "A field is invalid", body = common::error::ErrorBody)))]
async fn put_user_preferences(
    State(n): State<Notifier>,
    caller: Caller,
    Path(user_id): Path<String>,
    b: Result<Json<PreferencesBody>, JsonRejection>,
) -> Result<Json<PreferencesDto>, ApiError> {
    let input = body(b)?.into();
    Ok(Json(
        n.set_preferences(who(&caller), Some(&user_id), input)
            .await?
            .into(),
    ))
}

/// An inbox message.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InboxItemDto {
    /// What mark-read takes.
    id: String,
    notification_id: String,
    kind: String,
    severity: String,
    subject: String,
    body: String,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339; absent while unread.
    read_at: Option<String>,
}

impl From<InboxItem> for InboxItemDto {
    fn from(i: InboxItem) -> Self {
        InboxItemDto {
            id: i.id,
            notification_id: i.notification_id,
            kind: i.kind,
            severity: i.severity,
            subject: i.rendered.subject,
            body: i.rendered.body,
            created_at: rfc3339(i.created_at),
            read_at: i.read_at.map(rfc3339),
        }
    }
}

/// Inbox filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InboxQuery {
    /// Only unread messages.
    unread: Option<bool>,
    /// 1 to 500; default 50.
    limit: Option<u32>,
}

/// Your inbox, newest first.
#[utoipa::path(get, path = "/v1/inbox", tag = "inbox", params(InboxQuery),
    responses((status = 200, description = "Messages", body = [InboxItemDto])))]
async fn inbox(
    State(n): State<Notifier>,
    caller: Caller,
    Query(q): Query<InboxQuery>,
) -> Result<Json<Vec<InboxItemDto>>, ApiError> {
    let items = n
        .inbox(
            who(&caller),
            q.unread.unwrap_or(false),
            q.limit.unwrap_or(0),
        )
        .await?;
    Ok(Json(items.into_iter().map(Into::into).collect()))
}

/// A count.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CountDto {
    count: i64,
}

/// How many inbox messages you have not read.
#[utoipa::path(get, path = "/v1/inbox/unread", tag = "inbox",
    responses((status = 200, description = "Unread messages", body = CountDto)))]
async fn unread(State(n): State<Notifier>, caller: Caller) -> Result<Json<CountDto>, ApiError> {
    Ok(Json(CountDto {
        count: n.unread(who(&caller)).await?,
    }))
}

/// Marks one inbox message read.
#[utoipa::path(post, path = "/v1/inbox/{id}/read", tag = "inbox",
    params(("id" = String, Path, description = "The message's id")),
    responses((status = 200, description = "How many changed (0: read already)", body = CountDto),
              (status = 404, description = "Not in your inbox", body = common::error::ErrorBody)))]
async fn read_one(
    State(n): State<Notifier>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CountDto>, ApiError> {
    let count = n.mark_read(who(&caller), Some(&id)).await?;
    Ok(Json(CountDto {
        count: i64::try_from(count).unwrap_or(i64::MAX),
    }))
}

/// Marks every inbox message read.
#[utoipa::path(post, path = "/v1/inbox/read", tag = "inbox",
    responses((status = 200, description = "How many changed", body = CountDto)))]
async fn read_all(State(n): State<Notifier>, caller: Caller) -> Result<Json<CountDto>, ApiError> {
    let count = n.mark_read(who(&caller), None).await?;
    Ok(Json(CountDto {
        count: i64::try_from(count).unwrap_or(i64::MAX),
    }))
}

/// A delivery receipt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptDto {
    /// The delivery's id: the idempotency key the peer got.
    id: String,
    notification_id: String,
    user_id: String,
    /// `email`, `telegram`, `webhook`, `sms`, `inbox`.
    channel: String,
    /// The address, chat id, webhook name or phone.
    target: String,
    /// `pending`, `held` (quiet hours), `sent`, `dead` (gave up: see `last_error`).
    status: String,
    attempts: i64,
    /// Why the last attempt failed.
    last_error: String,
    /// RFC 3339: when it is due (pending, held).
    next_at: String,
    created_at: String,
    sent_at: Option<String>,
    read_at: Option<String>,
}

impl From<DeliveryRow> for ReceiptDto {
    fn from(d: DeliveryRow) -> Self {
        ReceiptDto {
            id: d.id,
            notification_id: d.notification_id,
            user_id: d.user_id,
            channel: d.channel,
            target: d.target,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            next_at: rfc3339(d.next_at.into()),
            created_at: rfc3339(d.created_at.into()),
            sent_at: d.sent_at.map(|t| rfc3339(t.into())),
            read_at: d.read_at.map(|t| rfc3339(t.into())),
        }
    }
}

/// Receipt filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReceiptQuery {
    notification_id: Option<String>,
    /// Another user's (ops, admin); default: yours (everyone's for ops and admin).
    user_id: Option<String>,
    /// `pending`, `held`, `sent`, `dead`.
    status: Option<String>,
    /// `email`, `telegram`, `webhook`, `sms`, `inbox`.
    channel: Option<String>,
    /// 1 to 1000; default 100.
    limit: Option<i64>,
}

fn some(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// Delivery receipts, newest first: yours, or (ops, admin) anyone's.
#[utoipa::path(get, path = "/v1/receipts", tag = "receipts", params(ReceiptQuery),
    responses((status = 200, description = "Receipts", body = [ReceiptDto]),
              (status = 400, description = "A bad filter", body = common::error::ErrorBody)))]
async fn receipts(
    State(n): State<Notifier>,
    caller: Caller,
    Query(q): Query<ReceiptQuery>,
) -> Result<Json<Vec<ReceiptDto>>, ApiError> {
    let rows = n
        .receipts(
            who(&caller),
            DeliveryFilter {
                notification_id: some(q.notification_id),
                user_id: some(q.user_id),
                status: some(q.status),
                channel: some(q.channel),
                limit: q.limit.unwrap_or(0),
            },
        )
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// A notification with its receipts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotificationDto {
    id: String,
    user_id: String,
    kind: String,
    template: String,
    severity: String,
    language: String,
    subject: String,
    body: String,
    created_at: String,
    receipts: Vec<ReceiptDto>,
}

impl From<NotificationView> for NotificationDto {
    fn from(v: NotificationView) -> Self {
        NotificationDto {
            id: v.row.id,
            user_id: v.row.user_id,
            kind: v.row.kind,
            template: v.row.template,
            severity: v.row.severity,
            language: v.row.lang,
            subject: v.rendered.subject,
            body: v.rendered.body,
            created_at: rfc3339(v.row.created_at.into()),
            receipts: v.deliveries.into_iter().map(Into::into).collect(),
        }
    }
}

/// A notification (yours, or anyone's for ops and admin) with its receipts.
#[utoipa::path(get, path = "/v1/notifications/{id}", tag = "receipts",
    params(("id" = String, Path, description = "The notification's id")),
    responses((status = 200, description = "The notification", body = NotificationDto),
              (status = 404, description = "No such notification", body = common::error::ErrorBody)))]
async fn get_notification(
    State(n): State<Notifier>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NotificationDto>, ApiError> {
    Ok(Json(n.notification(who(&caller), &id).await?.into()))
}

/// A message to send to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendBody {
    user_id: String,
    /// Event kind whose channels it takes (default `account`).
    kind: Option<String>,
    /// `info` (default), `warning`, `critical` (ignores quiet hours and rate limits).
    severity: Option<String>,
    /// One line, 1 to 200 characters.
    subject: String,
    /// Up to 10,000 characters.
    #[serde(default)]
    body: String,
    /// The same key twice is one notification.
    #[serde(default)]
    idempotency_key: String,
    /// These channels instead of the user's choice for `kind`.
    #[serde(default)]
    channels: Vec<String>,
}

/// What a send did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SentDto {
    notification_id: String,
    /// Whether it was new (false: the idempotency key was used before).
    created: bool,
}

/// Sends a message to a user by their preferences (services, ops, admin).
#[utoipa::path(post, path = "/v1/notifications", tag = "receipts", request_body = SendBody,
    security(("bearer" = ["service", "ops", "admin"])),
    responses((status = 200, description = "Queued", body = SentDto),
              (status = 400, description = "A field is invalid", body = common::error::ErrorBody)))]
async fn send(
    State(n): State<Notifier>,
    b: Result<Json<SendBody>, JsonRejection>,
) -> Result<Json<SentDto>, ApiError> {
    let b = body(b)?;
    let (id, reached) = n
        .send_message(SendRequest {
            user_id: b.user_id,
            kind: b.kind,
            severity: b.severity,
            subject: b.subject,
            body: b.body,
            idempotency_key: b.idempotency_key,
            channels: b.channels,
        })
        .await?;
    Ok(Json(SentDto {
        notification_id: id,
        created: reached > 0,
    }))
}

/// Alertmanager's webhook (payload version 4), authenticated by `Authorization: Bearer
/// <alertmanager.secret>`: delivered to staff who chose `ops` alerts and the ops address.
#[utoipa::path(post, path = "/v1/alertmanager", tag = "alertmanager", request_body = Payload,
    security(()),
    responses((status = 200, description = "Taken", body = CountDto),
              (status = 400, description = "Not a version 4 payload (the field is named)", body = common::error::ErrorBody),
              (status = 401, description = "No or a wrong secret", body = common::error::ErrorBody)))]
async fn alertmanager(
    State(n): State<Notifier>,
    headers: HeaderMap,
    b: Result<Json<Payload>, JsonRejection>,
) -> Result<Json<CountDto>, ApiError> {
    let secret = n.settings().alertmanager.secret.expose_secret().to_owned();
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or("");
    let ok = !secret.is_empty()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            secret.as_bytes(),
        ));
    if !ok {
        return Err(ApiError::new(
            Kind::Unauthenticated,
            "Authorization: Bearer <alertmanager.secret> is required",
        ));
    }
    let payload = body(b)?;
    let (audience, event) = crate::alertmanager::event(&payload)?;
    let count = n.notify_now(audience, event).await?;
    Ok(Json(CountDto {
        count: i64::try_from(count).unwrap_or(0),
    }))
}
