//! The generated Alertmanager configuration, checked with the real amtool, and an alert sent
//! through a real Alertmanager (Debian's `prometheus-alertmanager`) to a webhook in this test,
//! as the notification service would receive it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ops::alertmanager;

fn amtool(tool: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool).args(args).output().expect("run amtool");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn cluster_config(dir: &Path) -> String {
    let f = alertmanager::files().into_iter().next().unwrap();
    assert_eq!(f.path, "deploy/alertmanager/alertmanager.yml");
    let path = dir.join("alertmanager.yml");
    std::fs::write(&path, f.content).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_cluster_config_passes_amtool_check_config() {
    let Some(tool) = ops::require("amtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = cluster_config(tmp.path());
    let (ok, out) = amtool(&tool, &["check-config", &path]);
    assert!(ok, "{out}");
    assert!(out.contains("3 inhibit rules"), "{out}");
    assert!(out.contains("2 receivers"), "{out}");
}

#[test]
fn the_cluster_config_posts_to_the_notification_service_of_the_registry() {
    let f = alertmanager::files().into_iter().next().unwrap();
    let spec = common_settings::registry::find("notification").unwrap();
    let url = format!(
        "http://notification:{}/api/notification/v1/alertmanager",
        spec.http_port
    );
    assert_eq!(alertmanager::notification_webhook_url(), url);
    assert!(
        f.content.contains(&format!("url: \"{url}\"")),
        "{}",
        f.content
    );
    assert!(f.content.contains("type: Bearer"));
    assert!(f.content.contains("credentials_file:"));
}

#[test]
fn routes_send_alerts_to_notification_and_its_own_outage_to_the_fallback() {
    let Some(tool) = ops::require("amtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = cluster_config(tmp.path());
    let config = format!("--config.file={path}");
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "alertname=SLOErrorBudgetBurn",
                "severity=critical",
                "service=oms",
            ],
            alertmanager::NOTIFICATION_RECEIVER,
        ),
        (
            &[
                "alertname=ConsumerLagHigh",
                "severity=warning",
                "service=risk",
            ],
            alertmanager::NOTIFICATION_RECEIVER,
        ),
        (
            &[
                "alertname=CircuitBreakerActive",
                "severity=info",
                "service=risk",
            ],
            alertmanager::NOTIFICATION_RECEIVER,
        ),
        (
            &[
                "alertname=NotificationDown",
                "severity=critical",
                "service=notification",
            ],
            alertmanager::FALLBACK_RECEIVER,
        ),
        (
            &[
                "alertname=TargetDown",
                "severity=critical",
                "service=notification",
            ],
            alertmanager::FALLBACK_RECEIVER,
        ),
        (
            &["alertname=Unlabelled"],
            alertmanager::NOTIFICATION_RECEIVER,
        ),
    ];
    for (labels, receiver) in cases {
        let verify = format!("--verify.receivers={receiver}");
        let mut args = vec!["config", "routes", "test", config.as_str(), verify.as_str()];
        args.extend(labels);
        let (ok, out) = amtool(&tool, &args);
        assert!(ok, "{labels:?} -> {receiver}: {out}");
        assert!(out.lines().next() == Some(receiver), "{labels:?}: {out}");
    }
}

#[test]
fn the_local_config_passes_amtool_check_config() {
    let Some(tool) = ops::require("amtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for config in [
        alertmanager::local_config("http://127.0.0.1:18112/api/notification/v1/alertmanager"),
        alertmanager::local_config_with_token("http://127.0.0.1:1/x", Some("a \"quoted\" secret")),
    ] {
        let path = tmp.path().join("local.yml");
        std::fs::write(&path, &config).unwrap();
        let (ok, out) = amtool(&tool, &["check-config", &path.to_string_lossy()]);
        assert!(ok, "{out}\n{config}");
    }
}

/// One request the webhook listener received: its head and body.
struct Received {
    head: String,
    body: String,
}

/// A tiny HTTP server on loopback answering 200 to everything and passing each request on.
fn webhook() -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            if let Some(r) = read_request(&mut stream) {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"count\":1}",
                );
                if tx.send(r).is_err() {
                    return;
                }
            }
        }
    });
    (port, rx)
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    Some(Received { head, body })
}

/// A plain HTTP/1.1 request to 127.0.0.1:`port`; the status code and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split(' ').nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Kills the Alertmanager this test started.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_alert_posted_to_a_real_alertmanager_reaches_the_webhook() {
    let Some(binary) =
        ops::tool("alertmanager").or_else(|| ops::require("prometheus-alertmanager"))
    else {
        return;
    };
    let (hook_port, received) = webhook();
    let tmp = tempfile::tempdir().unwrap();
    let config = alertmanager::local_config_with_token(
        &format!("http://127.0.0.1:{hook_port}/api/notification/v1/alertmanager"),
        Some("round-trip-secret"),
    );
    std::fs::write(tmp.path().join("am.yml"), &config).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(tmp.path().join("am.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!(
            "--config.file={}",
            tmp.path().join("am.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            tmp.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start alertmanager");
    let _guard = Killed(child);
    let am_log = || std::fs::read_to_string(tmp.path().join("am.log")).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(30);
    while http(port, "GET", "/-/ready", "").map(|r| r.0) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "alertmanager not ready:\n{}",
            am_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let alert = serde_json::json!([{
        "labels": {"alertname": "QtsRoundTrip", "severity": "critical", "service": "oms"},
        "annotations": {"summary": "round trip", "runbook": "docs/ops/monitoring.md#targetdown"},
    }]);
    let (status, body) = http(port, "POST", "/api/v2/alerts", &alert.to_string()).unwrap();
    assert_eq!(status, 200, "{body}");

    let got = received
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no webhook call within 30s:\n{}", am_log()));
    assert!(
        got.head
            .starts_with("POST /api/notification/v1/alertmanager "),
        "{}",
        got.head
    );
    assert!(
        got.head
            .lines()
            .any(|l| l.eq_ignore_ascii_case("authorization: Bearer round-trip-secret")),
        "{}",
        got.head
    );
    let payload: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(payload["version"], "4", "{payload}");
    assert_eq!(payload["status"], "firing");
    assert_eq!(payload["receiver"], alertmanager::NOTIFICATION_RECEIVER);
    assert_eq!(payload["groupLabels"]["alertname"], "QtsRoundTrip");
    assert_eq!(payload["groupLabels"]["service"], "oms");
    let alerts = payload["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["labels"]["severity"], "critical");
    assert_eq!(alerts[0]["annotations"]["summary"], "round trip");
    assert_eq!(alerts[0]["status"], "firing");
}
