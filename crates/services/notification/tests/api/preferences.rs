//! Preferences: checked field by field, the caller's own with the accounts of their token, and
//! anyone's for ops.

use serde_json::json;

use crate::helpers::{Tokens, spawn_app, spawn_with_tokens};

#[tokio::test]
async fn bad_preferences_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": "not-an-address"}), "email"),
        (json!({"language": "fr"}), "language"),
        (json!({"language": 5}), "language"),
        (json!({"events": {"order": ["pigeon"]}}), "events.order"),
        (json!({"events": {"gossip": ["email"]}}), "events.gossip"),
        (json!({"events": {"order": ["sms"]}}), "phone"),
        (json!({"phone": "0901234567"}), "phone"),
        (json!({"telegram_chat_id": "@me"}), "telegram_chat_id"),
        (
            json!({"quiet_hours": {"start": "25:00", "end": "07:00"}}),
            "quiet_hours.start",
        ),
        (
            json!({"webhooks": [{"name": "h", "url": "ftp://x", "kind": "generic", "secret": "0123456789abcdef"}]}),
            "webhooks[0].url",
        ),
        (
            json!({"webhooks": [{"name": "h", "url": "http://x.test/h", "kind": "generic"}]}),
            "webhooks[0].secret",
        ),
        (
            json!({"webhooks": [{"name": "h", "url": "http://x.test/h", "kind": "teams"}]}),
            "webhooks[0].kind",
        ),
        (json!({"colour": "blue"}), "colour"),
    ];
    for (body, field) in cases {
        let a = app.call("PUT", "/v1/preferences", Some(body.clone())).await;
        assert_eq!(a.status, 400, "{body}: {:?}", a.body);
        assert_eq!(a.body["code"], "invalid_argument");
        let message = a.body["message"].as_str().unwrap();
        assert!(
            message.contains(field),
            "{body}: {message:?} does not name {field}"
        );
    }
    // Nothing was saved: still the defaults.
    let a = app.call("GET", "/v1/preferences", None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["language"], "vi");
    assert_eq!(a.body["email"], serde_json::Value::Null);
}

#[tokio::test]
async fn preferences_follow_the_accounts_of_the_token_and_ops_may_set_anyones() {
    let tokens = Tokens::start().await.unwrap();
    let app = spawn_with_tokens(&tokens, &[]).await;
    let lan = tokens.token("lan", &["trader"], &["0001001", "0001002"]);
    let other = tokens.token("minh", &["trader"], &["0002001"]);
    let ops = tokens.token("ops1", &["ops"], &[]);
    let a = app
        .call_as(
            Some(&lan),
            "PUT",
            "/v1/preferences",
            Some(json!({
                "language": "en", "email": "lan@example.com",
                "webhooks": [{"name": "mine", "url": "http://127.0.0.1:9/h", "kind": "generic",
                              "secret": "0123456789abcdef"}],
                "events": {"order": ["email", "webhook", "inbox"], "risk": ["inbox"]},
                "quiet_hours": {"start": "22:00", "end": "07:00"},
            })),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["accounts"], json!(["0001001", "0001002"]));
    assert_eq!(a.body["all_accounts"], false);
    assert_eq!(
        a.body["events"]["order"],
        json!(["email", "webhook", "inbox"])
    );
    assert_eq!(a.body["webhooks"][0]["secret_set"], true);
    assert!(
        a.body["webhooks"][0].get("secret").is_none(),
        "the secret is never shown"
    );
    assert_eq!(
        a.body["quiet_hours"],
        json!({"start": "22:00", "end": "07:00"})
    );

    // Another trader may not read or set it; ops may.
    let path = "/v1/users/id-lan/preferences";
    assert_eq!(
        app.call_as(Some(&other), "GET", path, None).await.status,
        403
    );
    assert_eq!(
        app.call_as(Some(&other), "PUT", path, Some(json!({})))
            .await
            .status,
        403
    );
    let a = app.call_as(Some(&ops), "GET", path, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["email"], "lan@example.com");
    // Ops changes her language; the webhook's secret and her accounts stay.
    let a = app
        .call_as(
            Some(&ops),
            "PUT",
            path,
            Some(json!({
                "language": "vi", "email": "lan@example.com",
                "webhooks": [{"name": "mine", "url": "http://127.0.0.1:9/h", "kind": "generic"}],
                "events": {"order": ["email", "webhook"]},
            })),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["language"], "vi");
    assert_eq!(a.body["accounts"], json!(["0001001", "0001002"]));
    assert_eq!(a.body["webhooks"][0]["secret_set"], true);
    assert_eq!(a.body["username"], "lan");
    // No token: refused.
    assert_eq!(app.call("GET", "/v1/preferences", None).await.status, 401);
    // gRPC gives the same.
    let mut request = tonic::Request::new(proto::notification::v1::GetPreferencesRequest {
        user_id: String::new(),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {lan}").parse().unwrap());
    let p = app
        .grpc()
        .await
        .get_preferences(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p.language, "vi");
    assert_eq!(p.accounts, vec!["0001001", "0001002"]);
}
