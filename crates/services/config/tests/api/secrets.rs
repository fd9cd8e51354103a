//! Secrets: sealed at rest, listed by metadata only, given in plaintext only to the owning
//! service's token (HTTP and gRPC), every read and change audited, never in a log or any other
//! answer. Roles on the configuration operations.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tonic::metadata::MetadataValue;

use crate::helpers::{Tokens, spawn_with_tokens};

/// The secret's plaintext: it must appear in the owner's answers and nowhere else.
const CANARY: &str = "ssi-SECRET-canary-5f1e9c";

/// Log output, captured.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn files_contain(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_contain(&path, needle));
        } else if contains(&std::fs::read(&path).unwrap(), needle) {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test]
async fn a_secret_is_sealed_given_only_to_its_owner_audited_and_never_logged() {
    // Every event of every level, from the service and its libraries, into a buffer.
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();

    let tokens = Tokens::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let app = spawn_with_tokens(&tokens, &[("CONFIG__DATA_DIR", &dir)]).await;
    let admin = tokens.token("alice", &["admin"], &[]);
    let ops = tokens.token("olga", &["ops"], &[]);
    let owner = tokens.token("ingestion", &["service"], &[]);
    let other = tokens.token("oms", &["service"], &[]);
    let trader = tokens.token("tom", &["trader"], &[]);
    let mut answers = Vec::new();

    // Set by an admin only; the answer is metadata.
    let path = "/v1/secrets/ingestion/ssi.consumer_secret";
    let by_ops = app
        .call_as(Some(&ops), "PUT", path, Some(json!({"value": CANARY})))
        .await;
    assert_eq!(by_ops.status, 403, "{}", by_ops.text);
    let set = app
        .call_as(Some(&admin), "PUT", path, Some(json!({"value": CANARY})))
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["version"], 1);
    assert_eq!(set.body["updated_by"], "alice");
    let rotated = app
        .call_as(
            Some(&admin),
            "PUT",
            path,
            Some(json!({"value": format!("{CANARY}-2")})),
        )
        .await;
    assert_eq!(rotated.body["version"], 2);
    answers.extend([by_ops.text, set.text, rotated.text]);
    // Back to the first value for the checks below.
    let set = app
        .call_as(Some(&admin), "PUT", path, Some(json!({"value": CANARY})))
        .await;
    assert_eq!(set.body["version"], 3);

    // Metadata to admins and ops, never a value.
    let list = app
        .call_as(Some(&ops), "GET", "/v1/secrets?service=ingestion", None)
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body[0]["name"], "ssi.consumer_secret");
    assert_eq!(list.body[0]["version"], 3);
    assert!(list.body[0].get("value").is_none());
    let by_trader = app.call_as(Some(&trader), "GET", "/v1/secrets", None).await;
    assert_eq!(by_trader.status, 403);
    answers.extend([list.text, by_trader.text]);

    // The plaintext: refused to admins, ops, other services, no token; given to the owner.
    let value = format!("{path}/value");
    for (who, token, status) in [
        ("admin", Some(&admin), 403),
        ("ops", Some(&ops), 403),
        ("oms", Some(&other), 403),
        ("nobody", None, 401),
    ] {
        let a = app
            .call_as(token.map(String::as_str), "GET", &value, None)
            .await;
        assert_eq!(a.status, status, "{who}: {}", a.text);
        answers.push(a.text);
    }
    let mine = app.call_as(Some(&owner), "GET", &value, None).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.body["value"], CANARY);
    assert_eq!(mine.body["version"], 3);

    // Over gRPC too, with the token in the call's metadata.
    let mut grpc = app.grpc().await;
    let ask = |token: Option<&str>| {
        let mut r = tonic::Request::new(proto::config::v1::GetSecretRequest {
            service: "ingestion".into(),
            name: "ssi.consumer_secret".into(),
        });
        if let Some(t) = token {
            r.metadata_mut().insert(
                "authorization",
                MetadataValue::try_from(format!("Bearer {t}")).unwrap(),
            );
        }
        r
    };
    for (token, code) in [
        (None, tonic::Code::Unauthenticated),
        (Some(other.as_str()), tonic::Code::PermissionDenied),
        (Some(admin.as_str()), tonic::Code::PermissionDenied),
        (Some("not-a-token"), tonic::Code::Unauthenticated),
    ] {
        let e = grpc.get_secret(ask(token)).await.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
        answers.push(format!("{e:?}"));
    }
    let got = grpc
        .get_secret(ask(Some(&owner)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.value, CANARY);

    // The audit trail: every change and every read, allowed or refused; no value.
    let audit = app
        .call_as(
            Some(&ops),
            "GET",
            "/v1/audit?service=ingestion&limit=100",
            None,
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let rows = audit.body.as_array().unwrap();
    let count = |action: &str, allowed: bool| {
        rows.iter()
            .filter(|r| r["action"] == action && r["allowed"] == allowed)
            .count()
    };
    assert_eq!(count("secret.set", true), 3);
    assert_eq!(count("secret.read", true), 2, "{}", audit.text);
    // Admin, ops and oms over HTTP, the other service and the admin over gRPC (no token or a
    // bad one is refused before, by the host's guard).
    assert_eq!(count("secret.read", false), 5, "{}", audit.text);
    assert!(
        rows.iter()
            .any(|r| r["actor"] == "oms" && r["allowed"] == false)
    );
    answers.push(audit.text);

    // Deleting: admins only; then gone.
    let del = app.call_as(Some(&ops), "DELETE", path, None).await;
    assert_eq!(del.status, 403);
    answers.push(del.text);

    // Sealed at rest: not in the database rows, not in any file of the data directory.
    let sealed: Vec<(Vec<u8>,)> = match app.app.db.pool() {
        common::store::PerEngine::Sqlite(p) => sqlx::query_as("SELECT sealed FROM config_secrets")
            .fetch_all(p)
            .await
            .unwrap(),
        common::store::PerEngine::Postgres(_) => unreachable!(),
    };
    assert_eq!(sealed.len(), 1);
    assert!(common::crypto::MasterKey::is_sealed(&sealed[0].0));
    assert!(!contains(&sealed[0].0, CANARY));
    app.app.stop().await.unwrap();
    assert_eq!(files_contain(data.path(), CANARY), Vec::<String>::new());

    // Never in an answer other than the owner's, never in a log line.
    for a in &answers {
        assert!(!a.contains(CANARY), "leaked in an answer: {a}");
    }
    let logs = logs.0.lock().unwrap().clone();
    assert!(contains(&logs, "secret set"), "the logs were captured");
    assert!(!contains(&logs, CANARY), "the secret is in the logs");
}

#[tokio::test]
async fn secrets_refuse_bad_names_values_and_services() {
    let tokens = Tokens::start().await.unwrap();
    let app = spawn_with_tokens(&tokens, &[]).await;
    let admin = tokens.token("alice", &["admin"], &[]);
    for (path, body, status) in [
        ("/v1/secrets/ingestion/Bad Name", json!({"value": "x"}), 400),
        ("/v1/secrets/nosuch/pin", json!({"value": "x"}), 400),
        ("/v1/secrets/oms/pin", json!({"value": ""}), 400),
        (
            "/v1/secrets/oms/pin",
            json!({"value": "x".repeat(8193)}),
            400,
        ),
        ("/v1/secrets/oms/pin", json!({"value": 12345}), 400),
        ("/v1/secrets/oms/pin", json!({"secret": "x"}), 400),
    ] {
        let a = app
            .call_as(Some(&admin), "PUT", path, Some(body.clone()))
            .await;
        assert_eq!(a.status, status, "{path} {body}: {}", a.text);
        assert!(
            !a.text.contains("12345"),
            "the body is not echoed: {}",
            a.text
        );
    }
    let a = app
        .call_as(Some(&admin), "DELETE", "/v1/secrets/oms/pin", None)
        .await;
    assert_eq!(a.status, 404);
    let owner = tokens.token("oms", &["service"], &[]);
    let a = app
        .call_as(Some(&owner), "GET", "/v1/secrets/oms/pin/value", None)
        .await;
    assert_eq!(a.status, 404, "{}", a.text);
    app.call_as(
        Some(&admin),
        "PUT",
        "/v1/secrets/oms/pin",
        Some(json!({"value": "1"})),
    )
    .await;
    let a = app
        .call_as(Some(&admin), "DELETE", "/v1/secrets/oms/pin", None)
        .await;
    assert_eq!(a.status, 204);
    let a = app
        .call_as(Some(&owner), "GET", "/v1/secrets/oms/pin/value", None)
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn only_ops_and_admins_change_configuration_and_a_service_reads_only_its_own() {
    let tokens = Tokens::start().await.unwrap();
    let app = spawn_with_tokens(&tokens, &[]).await;
    let ops = tokens.token("olga", &["ops"], &[]);
    let body = json!({"expected_version": 0, "values": {"a": 1}});
    for (token, status) in [
        (None, 401),
        (Some(tokens.token("tom", &["trader"], &[])), 403),
        (Some(tokens.token("oms", &["service"], &[])), 403),
        (Some(tokens.token("rita", &["risk_officer"], &[])), 403),
    ] {
        let a = app
            .call_as(
                token.as_deref(),
                "PUT",
                "/v1/configs/oms/prod",
                Some(body.clone()),
            )
            .await;
        assert_eq!(a.status, status, "{}", a.text);
    }
    let a = app
        .call_as(Some(&ops), "PUT", "/v1/configs/oms/prod", Some(body))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["changed_by"], "olga");

    let oms = tokens.token("oms", &["service"], &[]);
    let risk = tokens.token("risk", &["service"], &[]);
    assert_eq!(
        app.call_as(Some(&oms), "GET", "/v1/configs/oms/prod", None)
            .await
            .status,
        200
    );
    let theirs = app
        .call_as(Some(&risk), "GET", "/v1/configs/oms/prod", None)
        .await;
    assert_eq!(theirs.status, 403, "{}", theirs.text);
    assert_eq!(
        app.call_as(Some(&ops), "GET", "/v1/configs/oms/prod", None)
            .await
            .status,
        200
    );
    let trader = tokens.token("tom", &["trader"], &[]);
    assert_eq!(
        app.call_as(Some(&trader), "GET", "/v1/configs/oms/prod", None)
            .await
            .status,
        403
    );
    let audit = app.call_as(Some(&ops), "GET", "/v1/audit", None).await;
    assert_eq!(audit.body[0]["action"], "config.change");
    assert_eq!(audit.body[0]["actor"], "olga");
}
