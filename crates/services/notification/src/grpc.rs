//! gRPC adapter for `qts.notification.v1.NotificationService`: direct messages, receipts, the
//! inbox and preferences, with the rules of the REST API.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use common::store::Timestamp;
use proto::common::v1 as common_pb;
use proto::notification::v1 as pb;
use proto::notification::v1::notification_service_server::{
    NotificationService, NotificationServiceServer,
};
use tonic::{Request, Response, Status};

use crate::domain::{EventKind, Preferences, PreferencesInput, WebhookInput};
use crate::service::{Notifier, SendRequest};
use crate::store::{DeliveryFilter, DeliveryRow};

struct Api {
    info: Arc<ServiceInfo>,
    notifier: Notifier,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    notifier: Notifier,
) -> NotificationServiceServer<impl NotificationService> {
    NotificationServiceServer::new(Api { info, notifier })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

fn ts(t: Timestamp) -> prost_types::Timestamp {
    common::bus::proto_time(t.into())
}

fn receipt(d: DeliveryRow) -> pb::Receipt {
    pb::Receipt {
        next_at: Some(ts(d.next_at)),
        created_at: Some(ts(d.created_at)),
        sent_at: d.sent_at.map(ts),
        read_at: d.read_at.map(ts),
        id: d.id,
        notification_id: d.notification_id,
        user_id: d.user_id,
        channel: d.channel,
        target: d.target,
        status: d.status,
        attempts: d.attempts,
        last_error: d.last_error,
    }
}

fn none_if_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn prefs_pb(p: Preferences) -> pb::Preferences {
    pb::Preferences {
        events: EventKind::ALL
            .into_iter()
            .map(|k| pb::EventChannels {
                kind: k.as_str().to_owned(),
                channels: p
                    .channels_for(k)
                    .into_iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            })
            .collect(),
        quiet_hours: p.quiet_hours.map(|q| {
            let (start, end) = q.strings();
            pb::QuietHours { start, end }
        }),
        user_id: p.user_id,
        username: p.username,
        language: p.language.as_str().to_owned(),
        email: p.email.map(|e| e.as_str().to_owned()).unwrap_or_default(),
        telegram_chat_id: p.telegram_chat_id.unwrap_or_default(),
        phone: p.phone.unwrap_or_default(),
        webhooks: p
            .webhooks
            .into_iter()
            .map(|w| pb::Webhook {
                name: w.name,
                url: w.url,
                kind: w.kind.as_str().to_owned(),
                secret: String::new(),
                secret_set: !w.secret.is_empty(),
            })
            .collect(),
        symbols: p.symbols,
        accounts: p.accounts,
        all_accounts: p.all_accounts,
    }
}

fn prefs_input(p: pb::Preferences) -> PreferencesInput {
    PreferencesInput {
        language: none_if_empty(p.language),
        email: none_if_empty(p.email),
        telegram_chat_id: none_if_empty(p.telegram_chat_id),
        phone: none_if_empty(p.phone),
        webhooks: p
            .webhooks
            .into_iter()
            .map(|w| WebhookInput {
                name: w.name,
                url: w.url,
                kind: w.kind,
                secret: none_if_empty(w.secret),
            })
            .collect(),
        events: p.events.into_iter().map(|e| (e.kind, e.channels)).collect(),
        symbols: p.symbols,
        quiet_hours: p.quiet_hours.map(|q| (q.start, q.end)),
    }
}

#[tonic::async_trait]
impl NotificationService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn send_notification(
        &self,
        request: Request<pb::SendNotificationRequest>,
    ) -> Result<Response<pb::SendNotificationResponse>, Status> {
        let r = request.into_inner();
        let (id, reached) = self
            .notifier
            .send_message(SendRequest {
                user_id: r.user_id,
                kind: none_if_empty(r.kind),
                severity: none_if_empty(r.severity),
                subject: r.subject,
                body: r.body,
                idempotency_key: r.idempotency_key,
                channels: r.channels,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::SendNotificationResponse {
            notification_id: id,
            created: reached > 0,
        }))
    }

    async fn list_receipts(
        &self,
        request: Request<pb::ListReceiptsRequest>,
    ) -> Result<Response<pb::ListReceiptsResponse>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let rows = self
            .notifier
            .receipts(
                caller.as_ref(),
                DeliveryFilter {
                    notification_id: none_if_empty(r.notification_id),
                    user_id: none_if_empty(r.user_id),
                    status: none_if_empty(r.status),
                    channel: none_if_empty(r.channel),
                    limit: r.limit,
                },
            )
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListReceiptsResponse {
            receipts: rows.into_iter().map(receipt).collect(),
        }))
    }

    async fn list_inbox(
        &self,
        request: Request<pb::ListInboxRequest>,
    ) -> Result<Response<pb::ListInboxResponse>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let items = self
            .notifier
            .inbox(caller.as_ref(), r.unread_only, r.limit)
            .await
            .map_err(status)?;
        let unread = self
            .notifier
            .unread(caller.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListInboxResponse {
            messages: items
                .into_iter()
                .map(|i| pb::InboxMessage {
                    id: i.id,
                    notification_id: i.notification_id,
                    kind: i.kind,
                    severity: i.severity,
                    subject: i.rendered.subject,
                    body: i.rendered.body,
                    created_at: Some(common::bus::proto_time(i.created_at)),
                    read_at: i.read_at.map(common::bus::proto_time),
                })
                .collect(),
            unread,
        }))
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> Result<Response<pb::MarkReadResponse>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let id = none_if_empty(r.id);
        let changed = self
            .notifier
            .mark_read(caller.as_ref(), id.as_deref())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::MarkReadResponse { changed }))
    }

    async fn get_preferences(
        &self,
        request: Request<pb::GetPreferencesRequest>,
    ) -> Result<Response<pb::Preferences>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let user = none_if_empty(r.user_id);
        let p = self
            .notifier
            .preferences(caller.as_ref(), user.as_deref())
            .await
            .map_err(status)?;
        Ok(Response::new(prefs_pb(p)))
    }

    async fn set_preferences(
        &self,
        request: Request<pb::SetPreferencesRequest>,
    ) -> Result<Response<pb::Preferences>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let user = none_if_empty(r.user_id);
        let input = prefs_input(r.preferences.unwrap_or_default());
        let p = self
            .notifier
            .set_preferences(caller.as_ref(), user.as_deref(), input)
            .await
            .map_err(status)?;
        Ok(Response::new(prefs_pb(p)))
    }
}
