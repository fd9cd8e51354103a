//! Bus adapter: the events that become notifications, decoded and handed to
//! [`Notifier::notify`] inside the consumer's transaction (so the inbox mark and the queued
//! deliveries commit together: a redelivered event is one notification, a crash loses none).
//! `notification.request.v1` carries secrets (reset tokens): its `params` are never logged.

use common::bus::SharedBus;
use common::bus::topics::{
    NOTIFICATION_REQUEST, OMS_FILL, OMS_ORDER, PREDICTION_SIGNAL, RISK_EVENT, SENTIMENT_SERIES,
    SYSTEM_DEADLETTER, TA_SIGNAL,
};
use common::consumer::{Consumer, HandleError, handler_fn};
use common::settings::ConsumerSettings;
use common::shutdown::CancellationToken;
use common::store::{Db, Tx};
use serde_json::json;
use time::OffsetDateTime;

use crate::domain::{Email, EventKind, Lang, Severity, VIETNAM};
use crate::service::{Audience, Error, Event, Merge, Notifier};

/// The consumer's group name (and its inbox and dead-letter key).
pub const CONSUMER: &str = "notification.events";

/// `HH:MM:SS DD/MM/YYYY` in Vietnam time.
fn vn_time(t: Option<&prost_types::Timestamp>) -> String {
    let t = t
        .and_then(common::bus::time_of)
        .unwrap_or_else(OffsetDateTime::now_utc)
        .to_offset(VIETNAM);
    format!(
        "{:02}:{:02}:{:02} {:02}/{:02}/{}",
        t.hour(),
        t.minute(),
        t.second(),
        t.day(),
        u8::from(t.month()),
        t.year()
    )
}

fn order_json(o: &proto::oms::v1::Order) -> serde_json::Value {
    json!({
        "id": o.id, "client_id": o.client_id, "account": o.account, "symbol": o.symbol,
        "side": o.side, "order_type": o.order_type, "price": o.price, "quantity": o.quantity,
        "status": o.status, "filled": o.filled, "avg_price": o.avg_price,
        "reject_reason": o.reject_reason, "strategy": o.strategy, "version": o.version,
    })
}

/// What an order event becomes, if anything: terminal changes and failures people act on.
fn order_event(e: &proto::oms::v1::OrderEvent) -> Option<(Audience, Event)> {
    let o = e.order.as_ref()?;
    let severity = match e.kind.as_str() {
        "filled" | "cancelled" | "expired" => Severity::Info,
        "rejected" | "amend_failed" | "cancel_failed" => Severity::Warning,
        _ => return None,
    };
    Some((
        Audience::Account(o.account.clone()),
        Event {
            kind: EventKind::Order,
            template: "order".to_owned(),
            severity,
            key: format!("order:{}:{}:{}", o.id, e.kind, o.version),
            group: Some(format!("order:{}", o.id)),
            merge: Merge::Order,
            data: json!({
                "event": e.kind, "detail": e.detail, "at": vn_time(e.at.as_ref()),
                "order": order_json(o),
            }),
        },
    ))
}

fn fill_event(f: &proto::oms::v1::Fill) -> (Audience, Event) {
    (
        Audience::Account(f.account.clone()),
        Event {
            kind: EventKind::Order,
            template: "order".to_owned(),
            severity: Severity::Info,
            key: format!("fill:{}:{}", f.order_id, f.id),
            group: Some(format!("order:{}", f.order_id)),
            merge: Merge::Order,
            data: json!({
                "order": {"id": f.order_id, "account": f.account, "symbol": f.symbol,
                          "side": f.side, "client_id": f.client_id, "strategy": f.strategy},
                "fill": {"id": f.id, "quantity": f.quantity, "price": f.price,
                         "time": vn_time(f.time.as_ref()), "reconciled": f.reconciled},
            }),
        },
    )
}

fn risk_event(e: &proto::risk::v1::RiskEvent) -> (Audience, Event) {
    let scope = e.scope.clone().unwrap_or_default();
    let severity = if e.kind.ends_with("_breached")
        || matches!(e.kind.as_str(), "kill_switch" | "market_breaker_tripped")
    {
        Severity::Critical
    } else if e.kind.ends_with("_warning")
        || matches!(
            e.kind.as_str(),
            "order_rejected" | "halted_holding" | "breaker_tripped"
        )
    {
        Severity::Warning
    } else {
        Severity::Info
    };
    let audience = if scope.scope == "account" && !scope.key.is_empty() {
        Audience::Account(scope.key.clone())
    } else {
        Audience::Staff
    };
    let at =
        e.at.as_ref()
            .and_then(common::bus::time_of)
            .map_or(0, |t| t.unix_timestamp_nanos() / 1000);
    (
        audience,
        Event {
            kind: EventKind::Risk,
            template: "risk".to_owned(),
            severity,
            key: format!(
                "risk:{}:{}:{}:{at}:{}",
                e.kind, scope.scope, scope.key, e.detail
            ),
            group: None,
            merge: Merge::None,
            data: json!({
                "kind": e.kind, "detail": e.detail, "actor": e.actor, "at": vn_time(e.at.as_ref()),
                "scope": {"scope": scope.scope, "key": scope.key},
            }),
        },
    )
}

fn request_event(
    r: &proto::notification::v1::NotificationRequest,
) -> Result<(Audience, Event), Error> {
    if r.id.is_empty() {
        return Err(Error::Invalid("id: empty".to_owned()));
    }
    let email = Email::parse(&r.email).map_err(|e| Error::Invalid(format!("email: {e}")))?;
    let lang = Lang::parse(&r.locale).unwrap_or(Lang::Vi);
    // Asked for now (a reset link) or about the account's safety: quiet hours never hold it.
    let severity = Severity::Critical;
    Ok((
        Audience::Address {
            user_id: r.user_id.clone(),
            username: r.username.clone(),
            email,
            lang,
        },
        Event {
            kind: EventKind::Account,
            template: "account".to_owned(),
            severity,
            key: format!("request:{}", r.id),
            group: None,
            merge: Merge::None,
            data: json!({
                "template": r.template, "username": r.username, "params": r.params,
                "expires_at": r.params.get("expires_at").cloned().unwrap_or_default(),
                "at": vn_time(r.at.as_ref()), "source": r.source,
            }),
        },
    ))
}

fn dead_letter_event(d: &proto::events::v1::DeadLetter) -> Option<(Audience, Event)> {
    // Our own dead letters would feed back into this consumer.
    if d.consumer.starts_with("notification.") {
        return None;
    }
    Some((
        Audience::Staff,
        Event {
            kind: EventKind::System,
            template: "system".to_owned(),
            severity: Severity::Warning,
            key: format!(
                "deadletter:{}:{}:{}:{}",
                d.consumer, d.topic, d.partition, d.offset
            ),
            group: None,
            merge: Merge::None,
            data: json!({
                "consumer": d.consumer, "topic": d.topic, "partition": d.partition,
                "offset": d.offset, "reason": d.reason, "error": d.error, "attempts": d.attempts,
                "at": vn_time(d.at.as_ref()),
            }),
        },
    ))
}

fn prediction_event(s: &proto::prediction::v1::Signal) -> Option<(Audience, Event)> {
    if s.direction == 0 {
        return None;
    }
    Some((
        Audience::Symbol(s.symbol.clone()),
        Event {
            kind: EventKind::Prediction,
            template: "prediction".to_owned(),
            severity: Severity::Info,
            key: format!("prediction:{}", s.id),
            group: None,
            merge: Merge::None,
            data: json!({
                "symbol": s.symbol, "date": s.date, "model_version": s.model_version,
                "horizon": s.horizon, "score": s.score, "percentile": s.percentile,
                "direction": s.direction, "detail": s.detail,
            }),
        },
    ))
}

/// An alert rule that became true (a TA signal of kind `alert`); other TA signals are for
/// strategies and charts, not people.
fn alert_event(s: &proto::ta::v1::Signal) -> Option<(Audience, Event)> {
    if s.kind != "alert" {
        return None;
    }
    let (set, rule) = s.name.split_once('/').unwrap_or((s.name.as_str(), ""));
    Some((
        Audience::Symbol(s.symbol.clone()),
        Event {
            kind: EventKind::Alert,
            template: "alert".to_owned(),
            severity: Severity::Warning,
            key: format!("alert:{}", s.id),
            group: None,
            merge: Merge::None,
            data: json!({
                "symbol": s.symbol, "timeframe": s.timeframe, "set": set, "rule": rule,
                "message": s.detail, "close": s.value.round() as i64, "at": vn_time(s.bar_start.as_ref()),
            }),
        },
    ))
}

fn sentiment_event(
    p: &proto::emotion::v1::SentimentPoint,
    threshold: f64,
) -> Option<(Audience, Event)> {
    if !p.value.is_finite() || p.value == 0.0 || p.value.abs() < threshold {
        return None;
    }
    let day =
        p.at.as_ref()
            .and_then(common::bus::time_of)
            .unwrap_or_else(OffsetDateTime::now_utc)
            .to_offset(VIETNAM)
            .date();
    let direction = if p.value > 0.0 {
        "positive"
    } else {
        "negative"
    };
    Some((
        Audience::Symbol(p.subject.clone()),
        Event {
            kind: EventKind::Sentiment,
            template: "sentiment".to_owned(),
            severity: Severity::Info,
            key: format!("sentiment:{}:{direction}:{day}", p.subject),
            group: None,
            merge: Merge::None,
            data: json!({
                "subject": p.subject, "value": p.value, "items_24h": p.items_24h,
                "at": vn_time(p.at.as_ref()),
            }),
        },
    ))
}

async fn handle(
    n: &Notifier,
    topic: &str,
    envelope: &common::bus::Envelope,
    tx: &mut Tx,
) -> Result<(), HandleError> {
    let picked = if topic == OMS_ORDER.name {
        let e: proto::oms::v1::OrderEvent = envelope.decode().map_err(HandleError::reject)?;
        order_event(&e)
    } else if topic == OMS_FILL.name {
        let f: proto::oms::v1::Fill = envelope.decode().map_err(HandleError::reject)?;
        Some(fill_event(&f))
    } else if topic == RISK_EVENT.name {
        let e: proto::risk::v1::RiskEvent = envelope.decode().map_err(HandleError::reject)?;
        Some(risk_event(&e))
    } else if topic == NOTIFICATION_REQUEST.name {
        let r: proto::notification::v1::NotificationRequest =
            envelope.decode().map_err(HandleError::reject)?;
        Some(request_event(&r).map_err(HandleError::reject)?)
    } else if topic == SYSTEM_DEADLETTER.name {
        let d: proto::events::v1::DeadLetter = envelope.decode().map_err(HandleError::reject)?;
        dead_letter_event(&d)
    } else if topic == PREDICTION_SIGNAL.name {
        let s: proto::prediction::v1::Signal = envelope.decode().map_err(HandleError::reject)?;
        prediction_event(&s)
    } else if topic == TA_SIGNAL.name {
        let s: proto::ta::v1::Signal = envelope.decode().map_err(HandleError::reject)?;
        alert_event(&s)
    } else if topic == SENTIMENT_SERIES.name {
        let p: proto::emotion::v1::SentimentPoint =
            envelope.decode().map_err(HandleError::reject)?;
        sentiment_event(&p, n.settings().events.sentiment_threshold)
    } else {
        None
    };
    let Some((audience, event)) = picked else {
        return Ok(());
    };
    match n.notify(tx, audience, event).await {
        Ok(_) => Ok(()),
        Err(e @ Error::Invalid(_)) => Err(HandleError::reject(e)),
        Err(e) => Err(HandleError::retry(e)),
    }
}

/// Consumes every topic that notifies until `token` is cancelled.
pub async fn run(
    notifier: Notifier,
    bus: SharedBus,
    db: Db,
    (settings, metrics): (ConsumerSettings, common::consumer::ConsumerMetrics),
    token: CancellationToken,
) -> anyhow::Result<()> {
    let n = notifier.clone();
    let consumer = Consumer::new(
        CONSUMER,
        &[
            NOTIFICATION_REQUEST.static_name(),
            OMS_ORDER.static_name(),
            OMS_FILL.static_name(),
            RISK_EVENT.static_name(),
            SYSTEM_DEADLETTER.static_name(),
            PREDICTION_SIGNAL.static_name(),
            SENTIMENT_SERIES.static_name(),
            TA_SIGNAL.static_name(),
        ],
        handler_fn(move |delivery, tx| {
            let n = n.clone();
            Box::pin(async move {
                let r = handle(&n, &delivery.topic, &delivery.envelope, tx).await;
                // Woken early; it sends once the transaction commits, or on its next poll.
                n.wake();
                r
            })
        }),
    );
    consumer
        .with_settings(&settings)
        .with_metrics(metrics)
        .run(bus, db, token)
        .await
        .map_err(|e| anyhow::anyhow!("notification events: {}", common::error::chain(&e)))
}
