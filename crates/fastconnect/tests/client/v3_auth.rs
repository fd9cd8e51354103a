//! v3 sessions against the fake: data-only vs OTP scope, Smart-OTP polling, refresh before
//! expiry with single-use refresh tokens, renewal after a refused token.

use std::sync::atomic::Ordering;

use fastconnect::Error;
use fastconnect::v3::{ApiErrorClass, IndexInfo, Scope};
use serde_json::json;

use crate::fake_ssi::Canned;
use crate::v3_fake::{FakeV3, GOOD_OTP, REJECTED_TRANSACTION, v3_client, v3_config};

const INDEX_LIST: &str = "/api/v3/data/indexList";

fn index_rows() -> Canned {
    Canned::json(json!([{"index": "VN30", "indexName": "VN30", "board": "HOSE"}]))
}

fn class(e: &Error) -> ApiErrorClass {
    e.api()
        .unwrap_or_else(|| panic!("not an API error: {e:?}"))
        .class
}

#[tokio::test]
async fn first_data_call_logs_in_without_otp_and_sends_the_bearer() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    fake.enqueue("GET", INDEX_LIST, index_rows());
    let rows: Vec<IndexInfo> = client.data().index_list(None).await.unwrap();
    assert_eq!(rows[0].index, "VN30");
    let login = &fake.requests_to("/api/v3/auth/token")[0];
    let body = login.json();
    assert_eq!(body, json!({"apiKey": "v3-key", "apiSecret": "v3-s3cret"}));
    assert_eq!(client.session().await.unwrap().scope, Scope::Data);
    let call = &fake.requests_to(INDEX_LIST)[0];
    assert!(call.header("authorization").unwrap().starts_with("Bearer "));
    assert!(call.header("user-agent").unwrap().contains("Mozilla"));
}

#[tokio::test]
async fn without_auto_login_a_call_needs_an_explicit_login() {
    let fake = FakeV3::start().await;
    let mut config = v3_config(&fake);
    config.auto_data_login = false;
    let client = fastconnect::v3::Client::new(config).unwrap();
    let err = client.data().index_list(None).await.unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
    assert!(fake.requests_to("/api/v3/auth/token").is_empty());
}

#[tokio::test]
async fn otp_login_gives_trading_scope_and_a_wrong_otp_is_an_auth_error() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let err = client
        .login_otp(&"000000".to_owned().into())
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::Auth);
    assert_eq!(err.api().unwrap().code, Some(401_100));
    let info = client.login_otp(&GOOD_OTP.to_owned().into()).await.unwrap();
    assert_eq!(info.scope, Scope::Trading);
    assert!(info.refresh_expires_at > info.expires_at);
    let bodies: Vec<_> = fake
        .requests_to("/api/v3/auth/token")
        .iter()
        .map(|r| r.json())
        .collect();
    assert_eq!(bodies[1]["otp"], GOOD_OTP);
}

#[tokio::test]
async fn request_otp_reads_code_zero_and_a_smart_otp_transaction() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let plain = client.request_otp().await.unwrap();
    assert_eq!(plain.transaction_id, None);
    assert_eq!(plain.message, "Request OTP success");
    fake.enqueue(
        "POST",
        "/api/v3/auth/requestOtp",
        Canned::json(json!({"code": 200, "msg": "Push sent", "data": {"transactionId": "tx-42"}})),
    );
    let smart = client.request_otp().await.unwrap();
    assert_eq!(smart.transaction_id.as_deref(), Some("tx-42"));
    fake.enqueue(
        "POST",
        "/api/v3/auth/requestOtp",
        Canned::json(json!({"code": 400_104, "msg": "OTP send failed"})).with_status(400),
    );
    let err = client.request_otp().await.unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::OtpDelivery);
}

#[tokio::test]
async fn smart_otp_polls_while_pending_then_logs_in() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    fake.state.smart_pending.store(3, Ordering::SeqCst);
    let info = client.login_smart_otp("tx-42").await.unwrap();
    assert_eq!(info.scope, Scope::Trading);
    let polls = fake.requests_to("/api/v3/auth/token");
    assert_eq!(polls.len(), 4);
    assert!(polls.iter().all(|r| r.json()["transactionId"] == "tx-42"));
}

#[tokio::test]
async fn smart_otp_waits_a_bounded_time_and_stops_at_once_on_rejection() {
    let fake = FakeV3::start().await;
    let mut config = v3_config(&fake);
    config.otp_poll_interval_ms = 30;
    config.otp_poll_max_wait_ms = 200;
    let client = fastconnect::v3::Client::new(config).unwrap();
    fake.state.smart_pending.store(1_000, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let err = client.login_smart_otp("tx-slow").await.unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::SmartOtpPending);
    assert_eq!(err.api().unwrap().http_status, 202);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let polls = fake.requests_to("/api/v3/auth/token").len();
    assert!((3..=8).contains(&polls), "{polls} polls");

    let err = client
        .login_smart_otp(REJECTED_TRANSACTION)
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::SmartOtpRejected);
    assert_eq!(fake.requests_to("/api/v3/auth/token").len(), polls + 1);
}

#[tokio::test]
async fn tokens_are_refreshed_before_expiry_and_refresh_tokens_never_reused() {
    let fake = FakeV3::start().await;
    // 30 s tokens against a 60 s margin: every call refreshes first.
    fake.state.lifetime_secs.store(30, Ordering::SeqCst);
    let client = v3_client(&fake);
    client.login_otp(&GOOD_OTP.to_owned().into()).await.unwrap();
    for _ in 0..4 {
        fake.enqueue("GET", INDEX_LIST, index_rows());
        client.data().index_list(None).await.unwrap();
    }
    assert_eq!(fake.state.refreshes.load(Ordering::SeqCst), 4);
    assert_eq!(fake.state.refresh_reuses.load(Ordering::SeqCst), 0);
    assert_eq!(fake.state.logins.load(Ordering::SeqCst), 1);
    assert_eq!(client.session().await.unwrap().scope, Scope::Trading);
    // Each refresh sent a different refresh token.
    let sent: std::collections::HashSet<String> = fake
        .requests_to("/api/v3/auth/refresh")
        .iter()
        .map(|r| r.json()["refreshToken"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent.len(), 4);
}

#[tokio::test]
async fn a_refused_refresh_of_a_trading_session_requires_a_new_otp_login() {
    let fake = FakeV3::start().await;
    fake.state.lifetime_secs.store(30, Ordering::SeqCst);
    let client = v3_client(&fake);
    client.login_otp(&GOOD_OTP.to_owned().into()).await.unwrap();
    fake.enqueue(
        "POST",
        "/api/v3/auth/refresh",
        Canned::json(json!({"code": 401_103, "msg": "Refresh token revoked"})).with_status(401),
    );
    let err = client.data().index_list(None).await.unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::ReauthRequired);
    assert!(client.session().await.is_none());
    // No silent downgrade to a data-only session for a trading login.
    assert_eq!(fake.state.logins.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_refresh_of_a_data_session_logs_in_again() {
    let fake = FakeV3::start().await;
    fake.state.lifetime_secs.store(30, Ordering::SeqCst);
    let client = v3_client(&fake);
    client.login_data_only().await.unwrap();
    fake.enqueue(
        "POST",
        "/api/v3/auth/refresh",
        Canned::json(json!({"code": 401_101, "msg": "invalid"})).with_status(401),
    );
    fake.enqueue("GET", INDEX_LIST, index_rows());
    client.data().index_list(None).await.unwrap();
    assert_eq!(fake.state.logins.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_refused_mid_session_is_renewed_by_refresh_and_the_call_retried_once() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    client.login_otp(&GOOD_OTP.to_owned().into()).await.unwrap();
    // A login elsewhere with the same key: SSI invalidates this access token.
    fake.revoke_access_tokens();
    fake.enqueue("GET", INDEX_LIST, index_rows());
    client.data().index_list(None).await.unwrap();
    assert_eq!(fake.state.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(fake.requests_to(INDEX_LIST).len(), 2);
    assert_eq!(client.session().await.unwrap().scope, Scope::Trading);
}
