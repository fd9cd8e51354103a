//! Deliveries end to end against real peers: a filled order reaches each follower once by
//! e-mail (aiosmtpd) and webhook in their language; retries survive a restart; a failing peer
//! ends in the dead letter; quiet hours hold; rate limits; every channel's wire format.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Peer, Smtp, TestApp, Tokens, env_of, pairs, publish_filled_twice, spawn_with, spawn_with_tokens,
};

const SECRET: &str = "0123456789abcdef-secret";

fn order_prefs(lang: &str, email: &str, hook: &Peer) -> Value {
    json!({
        "language": lang, "email": email,
        "webhooks": [{"name": "desk", "url": format!("{}/hook", hook.url), "kind": "generic",
                      "secret": SECRET}],
        "events": {"order": ["email", "webhook", "inbox"]},
    })
}

fn verify_signature(r: &crate::helpers::Recorded) {
    let ts: i64 = r.headers["x-qts-timestamp"].parse().unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(&r.raw);
    let sig = r.headers["x-qts-signature"]
        .strip_prefix("sha256=")
        .unwrap();
    let bytes: Vec<u8> = (0..sig.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&sig[i..i + 2], 16).unwrap())
        .collect();
    ring::hmac::verify(&key, &signed, &bytes).expect("the signature verifies");
}

#[tokio::test]
async fn a_filled_order_reaches_each_follower_once_by_email_and_webhook_in_their_language() {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let hook = Peer::start().await;
    let tokens = Tokens::start().await.unwrap();
    let app = spawn_with_tokens(&tokens, &pairs(&smtp.env())).await;
    let lan = tokens.token("lan", &["trader"], &["0001001"]);
    let john = tokens.token("john", &["trader"], &["0001001"]);
    let stranger = tokens.token("kim", &["trader"], &["0009999"]);
    // An admin sees every account but did not choose order messages: none for her.
    let boss = tokens.token("boss", &["admin"], &[]);
    let a = app
        .call_as(
            Some(&boss),
            "PUT",
            "/v1/preferences",
            Some(json!({"email": "boss@example.com"})),
        )
        .await;
    assert_eq!(a.body["all_accounts"], true);
    for (t, lang, email) in [
        (&lan, "vi", "lan@example.com"),
        (&john, "en", "john@example.com"),
        (&stranger, "en", "kim@example.com"),
    ] {
        let a = app
            .call_as(
                Some(t),
                "PUT",
                "/v1/preferences",
                Some(order_prefs(lang, email, &hook)),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }

    publish_filled_twice(&app, "o-1", "0001001").await;

    let vi = smtp.wait_for("lan@example.com", 1).await;
    let en = smtp.wait_for("john@example.com", 1).await;
    let hooks = hook.wait_for(2).await;
    // Redeliveries and late joiners of the group had their chance: still one of each.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        smtp.messages_to("lan@example.com").len(),
        1,
        "{:?}",
        smtp.messages()
    );
    assert_eq!(smtp.messages_to("john@example.com").len(), 1);
    assert!(
        smtp.messages_to("kim@example.com").is_empty(),
        "not her account"
    );
    assert_eq!(hook.seen().len(), 2, "one webhook call per follower");

    assert_eq!(vi[0]["subject"], "Lệnh MUA ACB đã khớp: 1.000 giá 25.060");
    let body = vi[0]["body"].as_str().unwrap();
    assert!(body.contains("2 lần khớp"), "{body}");
    assert!(
        body.contains("400 giá 25.000") && body.contains("600 giá 25.100"),
        "{body}"
    );
    assert_eq!(en[0]["subject"], "Order BUY ACB filled: 1,000 @ 25,060");
    let body = en[0]["body"].as_str().unwrap();
    assert!(
        body.contains("2 fills") && body.contains("average price 25,060"),
        "{body}"
    );
    assert!(
        en[0]["from"]
            .as_str()
            .unwrap()
            .contains("no-reply@qts.test")
    );

    // The webhooks: signed, with the delivery id as the idempotency key.
    let mut subjects: Vec<String> = Vec::new();
    for r in &hooks {
        assert_eq!(r.path, "/hook");
        verify_signature(r);
        assert_eq!(r.headers["idempotency-key"], r.body["id"].as_str().unwrap());
        assert_eq!(r.body["kind"], "order");
        assert_eq!(r.body["data"]["filled"], 1000);
        subjects.push(r.body["subject"].as_str().unwrap().to_owned());
    }
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Lệnh MUA ACB đã khớp: 1.000 giá 25.060",
            "Order BUY ACB filled: 1,000 @ 25,060"
        ]
    );

    // Receipts: e-mail, webhook and inbox, all sent; the e-mail's Message-ID is its receipt.
    let receipts = app
        .until(Some(&lan), "/v1/receipts", |b| {
            b.as_array()
                .is_some_and(|a| a.len() == 3 && a.iter().all(|r| r["status"] == "sent"))
        })
        .await;
    let email_receipt = receipts
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["channel"] == "email")
        .unwrap();
    assert!(
        vi[0]["message_id"]
            .as_str()
            .unwrap()
            .contains(email_receipt["id"].as_str().unwrap())
    );
    let nid = email_receipt["notification_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let n = app
        .call_as(Some(&lan), "GET", &format!("/v1/notifications/{nid}"), None)
        .await;
    assert_eq!(n.status, 200);
    assert_eq!(n.body["language"], "vi");
    assert_eq!(n.body["receipts"].as_array().unwrap().len(), 3);
    // Not John's to read.
    let a = app
        .call_as(
            Some(&john),
            "GET",
            &format!("/v1/notifications/{nid}"),
            None,
        )
        .await;
    assert_eq!(a.status, 404);

    // The inbox: one unread message, read once.
    let a = app
        .call_as(Some(&lan), "GET", "/v1/inbox/unread", None)
        .await;
    assert_eq!(a.body["count"], 1);
    let inbox = app.call_as(Some(&lan), "GET", "/v1/inbox", None).await;
    assert_eq!(
        inbox.body[0]["subject"],
        "Lệnh MUA ACB đã khớp: 1.000 giá 25.060"
    );
    let id = inbox.body[0]["id"].as_str().unwrap();
    let a = app
        .call_as(Some(&john), "POST", &format!("/v1/inbox/{id}/read"), None)
        .await;
    assert_eq!(a.status, 404, "not his message");
    let a = app
        .call_as(Some(&lan), "POST", &format!("/v1/inbox/{id}/read"), None)
        .await;
    assert_eq!(a.body["count"], 1);
    let a = app
        .call_as(Some(&lan), "GET", "/v1/inbox/unread", None)
        .await;
    assert_eq!(a.body["count"], 0);

    // gRPC receipts of the notification.
    let mut request = tonic::Request::new(proto::notification::v1::ListReceiptsRequest {
        notification_id: nid.clone(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {lan}").parse().unwrap());
    let r = app
        .grpc()
        .await
        .list_receipts(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.receipts.len(), 3);
    assert!(
        r.receipts
            .iter()
            .all(|r| r.status == "sent" && r.sent_at.is_some())
    );
    smtp.stop().await;
}

/// Sets the (token-less) local user's preferences.
async fn local_prefs(app: &TestApp, prefs: Value) {
    let a = app.call("PUT", "/v1/preferences", Some(prefs)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

#[tokio::test]
async fn a_filled_order_is_delivered_once_on_postgresql() {
    let Some(url) = common::service::testing::server("TEST_DATABASE_URL") else {
        return;
    };
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let db = common::service::testing::fresh_database(&url, "notification")
        .await
        .unwrap();
    let hook = Peer::start().await;
    let env = env_of(&[&smtp.env(), &[("NOTIFICATION__DATABASE__URL", db)]]);
    let app = spawn_with(&pairs(&env)).await;
    local_prefs(&app, order_prefs("en", "pg@example.com", &hook)).await;
    publish_filled_twice(&app, "o-pg", "0001001").await;
    let m = smtp.wait_for("pg@example.com", 1).await;
    hook.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(smtp.messages_to("pg@example.com").len(), 1);
    assert_eq!(hook.seen().len(), 1);
    assert_eq!(m[0]["subject"], "Order BUY ACB filled: 1,000 @ 25,060");
    app.until(None, "/v1/receipts?status=sent", |b| {
        b.as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    smtp.stop().await;
}

#[tokio::test]
async fn a_pending_retry_survives_a_restart_and_is_delivered_once() {
    let hook = Peer::start().await;
    hook.always(503);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let env = [
        ("NOTIFICATION__DATA_DIR", dir.as_str()),
        ("NOTIFICATION__DELIVERY__MAX_ATTEMPTS", "50"),
    ];
    let app = spawn_with(&env).await;
    local_prefs(
        &app,
        json!({"webhooks": [{"name": "desk", "url": format!("{}/hook", hook.url),
                             "kind": "slack"}],
               "events": {"order": ["webhook"]}}),
    )
    .await;
    let (f1, _, _) = crate::helpers::filled_order("o-r", "0001001");
    app.publish("oms.fill.v1", "0001001", &f1).await;
    // It fails, and waits for its retry.
    app.until(None, "/v1/receipts?channel=webhook", |b| {
        b[0]["attempts"].as_i64().unwrap_or(0) >= 1 && b[0]["status"] == "pending"
    })
    .await;
    app.app.stop().await.unwrap();
    let tried = hook.seen().len();
    let key = hook.seen()[0].headers["idempotency-key"].clone();
    hook.always(0);

    let app = spawn_with(&env).await;
    let r = app
        .until(None, "/v1/receipts?channel=webhook", |b| {
            b[0]["status"] == "sent"
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = hook.seen();
    assert_eq!(seen.len(), tried + 1, "delivered once after the restart");
    assert!(
        seen.iter().all(|s| s.headers["idempotency-key"] == key),
        "one key throughout"
    );
    assert_eq!(
        seen.last().unwrap().body["text"]
            .as_str()
            .unwrap()
            .lines()
            .next(),
        Some("Khớp lệnh MUA ACB: 400 giá 25.000")
    );
    assert!(r[0]["attempts"].as_i64().unwrap() >= 2);
    assert_eq!(r[0]["last_error"], "");
}

#[tokio::test]
async fn a_peer_that_keeps_failing_ends_in_the_dead_letter_with_why() {
    let failing = Peer::start().await;
    failing.always(503);
    let gone = Peer::start().await;
    gone.always(404);
    let app = spawn_with(&[]).await;
    local_prefs(
        &app,
        json!({"webhooks": [
                  {"name": "flaky", "url": format!("{}/a", failing.url), "kind": "discord"},
                  {"name": "gone", "url": format!("{}/b", gone.url), "kind": "slack"}],
               "events": {"risk": ["webhook"]}}),
    )
    .await;
    let event = proto::risk::v1::RiskEvent {
        kind: "daily_loss_warning".into(),
        scope: Some(proto::risk::v1::ScopeRef {
            scope: "account".into(),
            key: "0001001".into(),
        }),
        detail: "daily loss at 85% of its limit".into(),
        at: Some(common::bus::proto_time(time::OffsetDateTime::now_utc())),
        actor: String::new(),
    };
    app.publish("risk.event.v1", "0001001", &event).await;
    let dead = app
        .until(None, "/v1/receipts?status=dead", |b| {
            b.as_array().is_some_and(|a| a.len() == 2)
        })
        .await;
    let by = |name: &str| {
        dead.as_array()
            .unwrap()
            .iter()
            .find(|r| r["target"] == name)
            .unwrap()
            .clone()
    };
    let flaky = by("flaky");
    assert_eq!(flaky["attempts"], 3, "max_attempts");
    let why = flaky["last_error"].as_str().unwrap();
    assert!(
        why.contains("gave up after 3 attempts") && why.contains("HTTP 503"),
        "{why}"
    );
    assert_eq!(failing.seen().len(), 3);
    let g = by("gone");
    assert_eq!(g["attempts"], 1, "a 404 is not retried");
    assert!(
        g["last_error"]
            .as_str()
            .unwrap()
            .contains("permanent: webhook gone answered HTTP 404")
    );
    assert_eq!(
        failing.seen()[0].body["content"]
            .as_str()
            .unwrap()
            .lines()
            .next(),
        Some("Rủi ro: daily loss warning (account 0001001)")
    );
    // Metrics say so.
    let metrics = app.app.metrics().await.unwrap();
    assert!(
        metrics.contains("notification_deliveries_total{channel=\"webhook\",result=\"dead\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("notification_queue_depth"));
}

fn vn_now_plus(minutes: i64) -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap())
        + time::Duration::minutes(minutes);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[tokio::test]
async fn quiet_hours_hold_what_is_not_critical() {
    let hook = Peer::start().await;
    let app = spawn_with(&[]).await;
    local_prefs(
        &app,
        json!({"webhooks": [{"name": "desk", "url": format!("{}/q", hook.url), "kind": "slack"}],
               "events": {"account": ["webhook", "inbox"]},
               "quiet_hours": {"start": vn_now_plus(-60), "end": vn_now_plus(60)}}),
    )
    .await;
    let send = |severity: &str, key: &str| {
        json!({"user_id": "local", "subject": format!("{severity} news"), "body": "b",
               "severity": severity, "idempotency_key": key})
    };
    let a = app
        .call("POST", "/v1/notifications", Some(send("info", "q1")))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let held = app
        .until(None, "/v1/receipts?channel=webhook", |b| {
            b[0]["status"] == "held"
        })
        .await;
    let next: time::OffsetDateTime = time::OffsetDateTime::parse(
        held[0]["next_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        next > time::OffsetDateTime::now_utc() + time::Duration::minutes(55),
        "{next}"
    );
    // The inbox has it at once; nothing went to the webhook.
    let a = app.call("GET", "/v1/inbox/unread", None).await;
    assert_eq!(a.body["count"], 1);
    // A critical one goes out now.
    let a = app
        .call("POST", "/v1/notifications", Some(send("critical", "q2")))
        .await;
    assert_eq!(a.status, 200);
    let seen = hook.wait_for(1).await;
    assert_eq!(
        seen[0].body["text"].as_str().unwrap().lines().next(),
        Some("critical news")
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hook.seen().len(), 1, "the info one waits for the morning");
    // The same key again is the same notification.
    let again = app
        .call("POST", "/v1/notifications", Some(send("critical", "q2")))
        .await;
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["notification_id"], a.body["notification_id"]);
    // Bad input names its field.
    let a = app
        .call(
            "POST",
            "/v1/notifications",
            Some(json!({"user_id": "local", "subject": "", "severity": "info"})),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body["message"].as_str().unwrap().contains("subject"));
    let a = app
        .call(
            "POST",
            "/v1/notifications",
            Some(json!({"user_id": "local", "subject": "s", "severity": "loud"})),
        )
        .await;
    assert!(a.body["message"].as_str().unwrap().contains("severity"));
}

#[tokio::test]
async fn a_users_rate_limit_per_channel_makes_the_rest_wait() {
    let hook = Peer::start().await;
    let app = spawn_with(&[("NOTIFICATION__DELIVERY__RATE_PER_MINUTE", "2")]).await;
    local_prefs(
        &app,
        json!({"webhooks": [{"name": "desk", "url": format!("{}/r", hook.url), "kind": "slack"}],
               "events": {"account": ["webhook"]}}),
    )
    .await;
    for i in 0..3 {
        let a = app
            .call(
                "POST",
                "/v1/notifications",
                Some(json!({"user_id": "local", "subject": format!("m{i}")})),
            )
            .await;
        assert_eq!(a.status, 200);
    }
    hook.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(hook.seen().len(), 2);
    let pending = app.call("GET", "/v1/receipts?status=pending", None).await;
    assert_eq!(
        pending.body.as_array().unwrap().len(),
        1,
        "the third waits its turn"
    );
}

#[tokio::test]
async fn telegram_sms_and_chat_webhooks_get_their_formats() {
    let telegram = Peer::start().await;
    let sms = Peer::start().await;
    let discord = Peer::start().await;
    let slack = Peer::start().await;
    let sms_url = format!("{}/send", sms.url);
    let app = spawn_with(&[
        ("NOTIFICATION__TELEGRAM__BASE_URL", telegram.url.as_str()),
        ("NOTIFICATION__TELEGRAM__TOKEN", "123:abc"),
        ("NOTIFICATION__SMS__URL", sms_url.as_str()),
        ("NOTIFICATION__SMS__AUTHORIZATION", "Bearer sms-key"),
    ])
    .await;
    local_prefs(
        &app,
        json!({"language": "en", "telegram_chat_id": "-100200", "phone": "+84901234567",
               "webhooks": [
                   {"name": "d", "url": format!("{}/d", discord.url), "kind": "discord"},
                   {"name": "s", "url": format!("{}/s", slack.url), "kind": "slack"}],
               "events": {"account": ["telegram", "sms", "webhook"]}}),
    )
    .await;
    let a = app
        .call("POST", "/v1/notifications", Some(json!({"user_id": "local", "subject": "Hello", "body": "there", "idempotency_key": "fmt"})))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let t = telegram.wait_for(1).await;
    assert_eq!(t[0].path, "/bot123:abc/sendMessage");
    assert_eq!(t[0].body["chat_id"], "-100200");
    assert_eq!(t[0].body["text"], "Hello\n\nthere");
    let s = sms.wait_for(1).await;
    assert_eq!(s[0].headers["authorization"], "Bearer sms-key");
    assert_eq!(s[0].body["to"], "+84901234567");
    assert_eq!(s[0].body["text"], "Hello");
    assert_eq!(
        s[0].body["reference"],
        s[0].headers["idempotency-key"].as_str()
    );
    assert_eq!(
        discord.wait_for(1).await[0].body,
        json!({"content": "Hello\n\nthere"})
    );
    assert_eq!(
        slack.wait_for(1).await[0].body,
        json!({"text": "Hello\n\nthere"})
    );
}

#[tokio::test]
async fn the_ssos_password_reset_is_mailed_in_its_locale() {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let app = spawn_with(&pairs(&smtp.env())).await;
    let request = proto::notification::v1::NotificationRequest {
        id: "password_reset:abc".into(),
        template: "password_reset".into(),
        user_id: "u-1".into(),
        username: "lan".into(),
        email: "lan@example.com".into(),
        locale: "vi".into(),
        params: [
            ("token".to_owned(), "RESET-TOKEN-123".to_owned()),
            ("expires_at".to_owned(), "2026-03-02T10:00:00Z".to_owned()),
        ]
        .into(),
        at: Some(common::bus::proto_time(time::OffsetDateTime::now_utc())),
        source: "sso".into(),
    };
    app.publish("notification.request.v1", "u-1", &request)
        .await;
    app.publish("notification.request.v1", "u-1", &request)
        .await;
    let m = smtp.wait_for("lan@example.com", 1).await;
    assert_eq!(m[0]["subject"], "Đặt lại mật khẩu QTS");
    let body = m[0]["body"].as_str().unwrap();
    assert!(
        body.contains("Xin chào lan") && body.contains("RESET-TOKEN-123"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages_to("lan@example.com").len(), 1);
    // Its receipt is there; the token is not, for anyone reading it back.
    let r = app
        .until(None, "/v1/receipts?user_id=u-1", |b| {
            b[0]["status"] == "sent"
        })
        .await;
    let nid = r[0]["notification_id"].as_str().unwrap();
    let n = app
        .call("GET", &format!("/v1/notifications/{nid}"), None)
        .await;
    assert_eq!(n.body["subject"], "Đặt lại mật khẩu QTS");
    assert!(
        !n.body.to_string().contains("RESET-TOKEN-123"),
        "{}",
        n.body
    );
    let stored: String = sqlx::query_scalar("SELECT data FROM notif_notifications WHERE id = $1")
        .bind(nid)
        .fetch_one(app.app.db.sqlite().unwrap())
        .await
        .unwrap();
    assert!(
        !stored.contains("RESET-TOKEN-123"),
        "scrubbed once sent: {stored}"
    );
    smtp.stop().await;
}

#[tokio::test]
async fn predictions_strong_sentiment_and_alerts_reach_the_watchers_of_a_symbol() {
    let hook = Peer::start().await;
    let app = spawn_with(&[]).await;
    local_prefs(
        &app,
        json!({"language": "en", "symbols": ["acb"],
               "webhooks": [{"name": "w", "url": format!("{}/w", hook.url), "kind": "slack"}],
               "events": {"prediction": ["webhook"], "sentiment": ["webhook"], "alert": ["webhook"]}}),
    )
    .await;
    let signal = |symbol: &str, direction: i32| proto::prediction::v1::Signal {
        id: format!("prediction-3-2026-03-02-{symbol}"),
        symbol: symbol.into(),
        date: "2026-03-02".into(),
        model_version: 3,
        horizon: 5,
        score: 0.0123,
        percentile: 0.95,
        name: "prediction_long".into(),
        direction,
        detail: "top 10%".into(),
    };
    app.publish("prediction.signal.v1", "ACB", &signal("ACB", 1))
        .await;
    app.publish("prediction.signal.v1", "ACB", &signal("ACB", 1))
        .await;
    app.publish("prediction.signal.v1", "HPG", &signal("HPG", 1))
        .await; // not watched
    app.publish(
        "prediction.signal.v1",
        "ACB",
        &proto::prediction::v1::Signal {
            id: "hold".into(),
            ..signal("ACB", 0)
        },
    )
    .await; // a hold says nothing
    let point = |value: f64| proto::emotion::v1::SentimentPoint {
        subject: "ACB".into(),
        at: Some(common::bus::proto_time(time::OffsetDateTime::now_utc())),
        value,
        weight: 2.0,
        items_24h: 4,
        half_life_hours: 6.0,
        last_item_id: "n1".into(),
    };
    app.publish("sentiment.series.v1", "ACB", &point(0.2)).await; // too weak
    app.publish("sentiment.series.v1", "ACB", &point(-0.8))
        .await;
    app.publish("sentiment.series.v1", "ACB", &point(-0.9))
        .await; // same day and direction
    // An alert rule that became true (TA signal of kind `alert`), delivered twice: one
    // notification. Other TA signals are for strategies, not people.
    let ta_signal = |kind: &str, name: &str| proto::ta::v1::Signal {
        id: format!("ACB-1m-1772420400-{name}"),
        symbol: "ACB".into(),
        timeframe: "1m".into(),
        bar_start: Some(common::bus::proto_time(
            time::macros::datetime!(2026-03-02 03:00 UTC),
        )),
        kind: kind.into(),
        name: name.into(),
        direction: 0,
        value: 25_300.0,
        detail: "ACB RSI 71.3 above 70".into(),
    };
    let alert = ta_signal("alert", "house-alerts/rsi_overbought");
    app.publish("ta.signal.v1", "ACB", &alert).await;
    app.publish("ta.signal.v1", "ACB", &alert).await;
    app.publish(
        "ta.signal.v1",
        "ACB",
        &ta_signal("crossover", "golden_cross"),
    )
    .await;
    let seen = hook.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        hook.seen().len(),
        3,
        "{:?}",
        hook.seen()
            .iter()
            .map(|r| r.body.clone())
            .collect::<Vec<_>>()
    );
    let firsts: Vec<String> = seen
        .iter()
        .map(|r| {
            r.body["text"]
                .as_str()
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        firsts.contains(&"Prediction: ACB long for 2026-03-02".to_owned()),
        "{firsts:?}"
    );
    assert!(
        firsts.contains(&"News sentiment on ACB is strongly negative".to_owned()),
        "{firsts:?}"
    );
    let alerted = seen
        .iter()
        .map(|r| r.body["text"].as_str().unwrap())
        .find(|t| t.starts_with("Alert ACB (1m): ACB RSI 71.3 above 70"))
        .unwrap_or_else(|| panic!("no alert in {firsts:?}"));
    assert!(
        alerted.contains("ACB closed at 25,300 on the 1m bar of 10:00:00 02/03/2026"),
        "{alerted}"
    );
    assert!(
        alerted.contains("Rule rsi_overbought of the rule set house-alerts."),
        "{alerted}"
    );

    // gRPC SendNotification, once per idempotency key.
    let send = proto::notification::v1::SendNotificationRequest {
        user_id: "local".into(),
        kind: "prediction".into(),
        subject: "by gRPC".into(),
        idempotency_key: "g1".into(),
        ..Default::default()
    };
    let mut grpc = app.grpc().await;
    let first = grpc
        .send_notification(send.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(first.created);
    let again = grpc.send_notification(send).await.unwrap().into_inner();
    assert!(!again.created);
    assert_eq!(again.notification_id, first.notification_id);
    let bad = grpc
        .send_notification(proto::notification::v1::SendNotificationRequest {
            user_id: "local".into(),
            subject: "x".into(),
            channels: vec!["pigeon".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("channels"), "{}", bad.message());
    hook.wait_for(4).await;
}

#[tokio::test]
async fn finished_notifications_past_their_retention_are_purged() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let env = [("NOTIFICATION__DATA_DIR", dir.as_str())];
    let app = spawn_with(&env).await;
    local_prefs(&app, json!({"events": {"account": ["inbox"]}})).await;
    let send = |key: &str| json!({"user_id": "local", "subject": key, "idempotency_key": key});
    let old = app
        .call("POST", "/v1/notifications", Some(send("old")))
        .await;
    let new = app
        .call("POST", "/v1/notifications", Some(send("new")))
        .await;
    let old_id = old.body["notification_id"].as_str().unwrap().to_owned();
    let new_id = new.body["notification_id"].as_str().unwrap().to_owned();
    // The first one was made 91 days ago.
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(91);
    sqlx::query("UPDATE notif_notifications SET created_at = $1 WHERE id = $2")
        .bind(common::store::Timestamp::from(long_ago))
        .bind(&old_id)
        .execute(app.app.db.sqlite().unwrap())
        .await
        .unwrap();
    app.app.stop().await.unwrap();
    let app = spawn_with(&env).await;
    for _ in 0..100 {
        if app
            .call("GET", &format!("/v1/notifications/{old_id}"), None)
            .await
            .status
            == 404
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone = app
        .call("GET", &format!("/v1/notifications/{old_id}"), None)
        .await;
    assert_eq!(gone.status, 404, "purged after 90 days");
    let kept = app
        .call("GET", &format!("/v1/notifications/{new_id}"), None)
        .await;
    assert_eq!(kept.status, 200);
    let inbox = app.call("GET", "/v1/inbox", None).await;
    assert_eq!(inbox.body.as_array().unwrap().len(), 1);
}
