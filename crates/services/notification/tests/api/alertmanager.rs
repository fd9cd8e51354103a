//! Alertmanager's webhooks: a real Alertmanager (the Debian package) sends its alerts to the
//! service, which delivers them to ops by e-mail (aiosmtpd), firing and then resolved.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    Smtp, Tokens, env_of, found_or_skip, free_port, pairs, spawn_with, spawn_with_tokens,
    wait_listening,
};

const SECRET: &str = "am-bearer-secret-0123";

/// A running Alertmanager.
struct Alertmanager {
    url: String,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts `prometheus-alertmanager` (`TEST_ALERTMANAGER` overrides the path) with one
    /// webhook receiver posting to `webhook` with the bearer secret; `None` without it (a
    /// skip; a failure under CI).
    async fn start(webhook: &str) -> Option<Self> {
        let bin = std::env::var("TEST_ALERTMANAGER").map_or_else(
            |_| PathBuf::from("/usr/bin/prometheus-alertmanager"),
            PathBuf::from,
        );
        let bin = found_or_skip(bin, "Alertmanager (Debian package prometheus-alertmanager)")?;
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            r#"route:
  receiver: qts
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: qts
    webhook_configs:
      - url: "{webhook}"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: "{SECRET}"
"#
        );
        let file = dir.path().join("alertmanager.yml");
        std::fs::write(&file, config).unwrap();
        let port = free_port();
        let child = tokio::process::Command::new(bin)
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .kill_on_drop(true)
            .spawn()
            .expect("start alertmanager");
        wait_listening(port).await;
        let url = format!("http://127.0.0.1:{port}");
        // Ready once its API answers.
        for _ in 0..100 {
            if reqwest::get(format!("{url}/-/ready"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(Self {
            url,
            child,
            _dir: dir,
        })
    }

    /// Posts alerts to its API v2.
    async fn post(&self, alerts: serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&alerts)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn an_alertmanager_alert_reaches_ops_by_email_firing_then_resolved() {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let tokens = Tokens::start().await.unwrap();
    let env = env_of(&[
        &smtp.env(),
        &[
            ("NOTIFICATION__ALERTMANAGER__SECRET", SECRET.to_owned()),
            (
                "NOTIFICATION__ALERTMANAGER__OPS_EMAIL",
                "oncall@example.com".to_owned(),
            ),
        ],
    ]);
    let app = spawn_with_tokens(&tokens, &pairs(&env)).await;
    // An ops engineer who chose ops alerts by e-mail, in Vietnamese; a trader who tried to.
    let ops = tokens.token("ops1", &["ops"], &[]);
    let trader = tokens.token("lan", &["trader"], &["0001001"]);
    for (t, email) in [(&ops, "ops1@example.com"), (&trader, "lan@example.com")] {
        let a = app
            .call_as(
                Some(t),
                "PUT",
                "/v1/preferences",
                Some(json!({"language": "vi", "email": email, "events": {"ops": ["email"]}})),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let webhook = app.app.http_url("/api/notification/v1/alertmanager");
    let Some(am) = Alertmanager::start(&webhook).await else {
        return;
    };

    let started = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let alert = |ends: Option<time::OffsetDateTime>| {
        let mut a = json!({
            "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
            "annotations": {"summary": "disk /var is 97% full"},
            "startsAt": rfc3339(started),
            "generatorURL": "http://prometheus.test/graph",
        });
        if let Some(e) = ends {
            a["endsAt"] = rfc3339(e).into();
        }
        json!([a])
    };
    am.post(alert(None)).await;
    let fallback = smtp.wait_for("oncall@example.com", 1).await;
    assert_eq!(fallback[0]["subject"], "[FIRING:1] DiskFull");
    assert!(
        fallback[0]["body"]
            .as_str()
            .unwrap()
            .contains("disk /var is 97% full")
    );
    let mine = smtp.wait_for("ops1@example.com", 1).await;
    assert_eq!(mine[0]["subject"], "[CẢNH BÁO:1] DiskFull");
    assert!(
        smtp.messages_to("lan@example.com").is_empty(),
        "ops alerts are for staff"
    );

    // Resolved: Alertmanager sends it on the next group interval.
    am.post(alert(Some(
        time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
    )))
    .await;
    let fallback = smtp.wait_for("oncall@example.com", 2).await;
    assert_eq!(fallback[1]["subject"], "[RESOLVED] DiskFull");
    let mine = smtp.wait_for("ops1@example.com", 2).await;
    assert_eq!(mine[1]["subject"], "[ĐÃ XỬ LÝ] DiskFull");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages_to("oncall@example.com").len(), 2);
    am.stop().await;
    smtp.stop().await;
}

#[tokio::test]
async fn the_alertmanager_endpoint_wants_its_secret_and_version_4() {
    let app = spawn_with(&[("NOTIFICATION__ALERTMANAGER__SECRET", SECRET)]).await;
    let payload = json!({
        "version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing", "receiver": "qts",
        "groupLabels": {"alertname": "X"}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://am", "alerts": [{"status": "firing", "labels": {"alertname": "X"},
        "annotations": {}, "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "", "fingerprint": "abc"}],
    });
    let post = |token: Option<&'static str>, body: serde_json::Value| {
        let url = app.app.http_url("/api/notification/v1/alertmanager");
        async move {
            let mut r = reqwest::Client::new().post(url).json(&body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let r = r.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    assert_eq!(post(None, payload.clone()).await.0, 401);
    assert_eq!(post(Some("wrong"), payload.clone()).await.0, 401);
    let (status, _) = post(Some(SECRET), payload.clone()).await;
    assert_eq!(status, 200);
    let mut old = payload.clone();
    old["version"] = "3".into();
    let (status, body) = post(Some(SECRET), old).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().starts_with("version:"),
        "{body}"
    );
    let mut nameless = payload.clone();
    nameless["alerts"][0]["labels"] = json!({});
    let (status, body) = post(Some(SECRET), nameless).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("alerts[0].labels.alertname"),
        "{body}"
    );
    let mut bad = payload.clone();
    bad["alerts"][0]["status"] = "burning".into();
    let (status, body) = post(Some(SECRET), bad).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("alerts[0].status"),
        "{body}"
    );
    let (status, body) = post(Some(SECRET), json!({"version": "4"})).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("groupKey"),
        "{body}"
    );
}
