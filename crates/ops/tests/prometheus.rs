//! The generated Prometheus configuration, rules and dashboards, checked with the real promtool
//! (Debian's `prometheus` package): `check config`, `check rules`, `test rules` on
//! deploy/prometheus/tests, every dashboard query parsed, and the invariants the runbooks and
//! dashboards rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common_settings::registry::SERVICES;
use ops::prometheus::{self, Severity};

/// Runs `promtool args...` in `dir`; returns (success, stdout + stderr).
fn promtool(tool: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Writes every generated file under `deploy/prometheus/` into `dir` (same layout), plus the
/// hand-written unit tests of deploy/prometheus/tests; returns the directory holding
/// prometheus.yml.
fn write_tree(dir: &Path) -> PathBuf {
    let base = dir.join("prometheus");
    for f in ops::prometheus::files() {
        let rel = f.path.strip_prefix("deploy/prometheus/").unwrap();
        let path = base.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, f.content).unwrap();
    }
    let tests = ops::repo_root().join("deploy/prometheus/tests");
    for entry in std::fs::read_dir(tests).unwrap() {
        let path = entry.unwrap().path();
        let target = base.join("tests").join(path.file_name().unwrap());
        if !target.exists() {
            std::fs::copy(&path, target).unwrap();
        }
    }
    base
}

/// Debian builds Prometheus without Kubernetes service discovery: its promtool refuses
/// `kubernetes_sd_configs`. Then the same configuration is checked with that block replaced by
/// an HTTP SD block (everything else, relabelling included, unchanged).
fn without_kubernetes_sd(config: &str) -> String {
    let start = config
        .find("    kubernetes_sd_configs:\n")
        .expect("kubernetes_sd_configs");
    let end = start
        + config[start..]
            .find("    relabel_configs:\n")
            .expect("relabel_configs");
    format!(
        "{}    http_sd_configs:\n      - url: \"http://monitoring:18116/sd\"\n{}",
        &config[..start],
        &config[end..]
    )
}

#[test]
fn the_kubernetes_config_and_its_rules_pass_promtool_check_config() {
    let Some(tool) = ops::require("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = write_tree(tmp.path());
    let (ok, out) = promtool(&tool, &base, &["check", "config", "prometheus.yml"]);
    if !ok && out.contains("field kubernetes_sd_configs not found") {
        eprintln!("note: this promtool has no Kubernetes SD; checking the rest of the config");
        let config = std::fs::read_to_string(base.join("prometheus.yml")).unwrap();
        std::fs::write(
            base.join("prometheus-http-sd.yml"),
            without_kubernetes_sd(&config),
        )
        .unwrap();
        let (ok, out) = promtool(&tool, &base, &["check", "config", "prometheus-http-sd.yml"]);
        assert!(ok, "{out}");
        assert!(out.contains("5 rule files found"), "{out}");
    } else {
        assert!(ok, "{out}");
    }
}

#[test]
fn the_kubernetes_config_keeps_exactly_the_registry_services_on_their_admin_port() {
    let config = ops::prometheus::files()
        .into_iter()
        .find(|f| f.path == "deploy/prometheus/prometheus.yml")
        .unwrap()
        .content;
    let names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
    assert!(
        config.contains(&format!("regex: \"{}\"", names.join("|"))),
        "{config}"
    );
    assert!(config.contains("label: \"app.kubernetes.io/part-of=qts\""));
    assert!(config.contains("regex: \"admin\"\n        action: keep"));
    assert!(config.contains("target_label: service"));
    assert!(config.contains("- \"rules/*.yml\""));
    assert!(config.contains("- \"alertmanager:9093\""));
}

#[test]
fn every_rule_file_passes_promtool_check_rules() {
    let Some(tool) = ops::require("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = write_tree(tmp.path());
    let files = prometheus::rule_files();
    assert_eq!(files.len(), 5);
    for f in files {
        let rel = f.path.strip_prefix("deploy/prometheus/").unwrap();
        let (ok, out) = promtool(&tool, &base, &["check", "rules", rel]);
        assert!(ok, "{rel}: {out}");
        assert!(out.contains("SUCCESS"), "{rel}: {out}");
    }
}

#[test]
fn the_rule_unit_tests_pass() {
    let Some(tool) = ops::require("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = write_tree(tmp.path());
    let mut tests: Vec<String> = std::fs::read_dir(base.join("tests"))
        .unwrap()
        .map(|e| format!("tests/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".yml"))
        .collect();
    tests.sort();
    for expected in ["fleet", "readiness", "saturation", "slo", "trading"] {
        assert!(
            tests.contains(&format!("tests/{expected}.yml")),
            "{expected}: {tests:?}"
        );
    }
    let mut args = vec!["test", "rules"];
    args.extend(tests.iter().map(String::as_str));
    let (ok, out) = promtool(&tool, &base, &args);
    assert!(ok, "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

#[test]
fn the_local_config_passes_promtool_check_config() {
    let Some(tool) = ops::require("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = write_tree(tmp.path());
    let targets: Vec<(String, String)> = SERVICES
        .iter()
        .map(|s| (s.name.to_owned(), format!("127.0.0.1:{}", s.admin_port)))
        .collect();
    let rules: Vec<String> = prometheus::rule_files()
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix("deploy/prometheus/").unwrap();
            base.join(rel).to_string_lossy().into_owned()
        })
        .collect();
    let config = prometheus::local_config(&targets, &rules, Some("127.0.0.1:19093"), 2);
    for s in &SERVICES {
        assert!(config.contains(&format!("- \"127.0.0.1:{}\"", s.admin_port)));
        assert!(config.contains(&format!("service: \"{}\"", s.name)));
    }
    let path = tmp.path().join("local.yml");
    std::fs::write(&path, &config).unwrap();
    let (ok, out) = promtool(&tool, tmp.path(), &["check", "config", "local.yml"]);
    assert!(ok, "{out}\n{config}");
    assert!(out.contains("5 rule files found"), "{out}");

    // No rules, no Alertmanager, no targets: still a valid file.
    std::fs::write(&path, prometheus::local_config(&[], &[], None, 15)).unwrap();
    let (ok, out) = promtool(&tool, tmp.path(), &["check", "config", "local.yml"]);
    assert!(ok, "{out}");

    // Targets from the monitoring service's HTTP service discovery (`qts up --observability`).
    let config = prometheus::local_config_http_sd("http://127.0.0.1:18316/sd", &rules, None, 5);
    assert!(config.contains("http_sd_configs:\n      - url: \"http://127.0.0.1:18316/sd\""));
    std::fs::write(&path, &config).unwrap();
    let (ok, out) = promtool(&tool, tmp.path(), &["check", "config", "local.yml"]);
    assert!(ok, "{out}\n{config}");
}

#[test]
fn every_dashboard_query_parses() {
    let Some(tool) = ops::require("promtool") else {
        return;
    };
    let queries = ops::grafana::queries();
    assert!(queries.len() > 100, "{}", queries.len());
    let groups = vec![prometheus::RuleGroup {
        name: "dashboards".into(),
        rules: queries
            .iter()
            .enumerate()
            .map(|(i, (uid, title, expr))| {
                assert!(
                    !expr.contains('$'),
                    "{uid} / {title}: a Grafana variable: {expr}"
                );
                prometheus::Rule::Record(prometheus::Record {
                    record: format!("dashboard:query_{i}"),
                    expr: expr.clone(),
                    labels: Vec::new(),
                })
            })
            .collect(),
    }];
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("dashboards.yml"),
        prometheus::render_groups(&groups),
    )
    .unwrap();
    let (ok, out) = promtool(&tool, tmp.path(), &["check", "rules", "dashboards.yml"]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{out}"
    );
}

/// The headings of docs/ops/monitoring.md as GitHub anchors.
fn runbook_anchors() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(ops::repo_root().join(prometheus::RUNBOOK_DOC)).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| {
            h.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_alert_has_severity_service_summary_and_a_runbook_that_exists() {
    let anchors = runbook_anchors();
    let alerts = prometheus::alerts();
    assert!(alerts.len() > 30, "{}", alerts.len());
    let severities = [Severity::Critical, Severity::Warning, Severity::Info].map(Severity::as_str);
    for a in &alerts {
        let severity = a.label("severity").unwrap_or_default();
        assert!(
            severities.contains(&severity),
            "{}: severity {severity:?}",
            a.name
        );
        assert!(
            a.label("service").is_some() || a.expr.contains("service"),
            "{}: no service label",
            a.name
        );
        for k in ["summary", "description", "runbook"] {
            assert!(
                a.annotation(k).is_some_and(|v| !v.is_empty()),
                "{}: no {k}",
                a.name
            );
        }
        let runbook = a.annotation("runbook").unwrap();
        let (doc, anchor) = runbook.split_once('#').unwrap();
        assert_eq!(doc, prometheus::RUNBOOK_DOC);
        assert!(
            anchors.contains(anchor),
            "{}: no heading for #{anchor} in {doc}",
            a.name
        );
    }
    for s in ["critical", "warning", "info"] {
        assert!(alerts.iter().any(|a| a.label("severity") == Some(s)), "{s}");
    }
}

#[test]
fn every_registry_service_has_a_missing_alert_and_the_critical_ones_exist() {
    let alerts = prometheus::alerts();
    for s in &SERVICES {
        assert!(
            alerts
                .iter()
                .any(|a| a.name == "ServiceMissing" && a.label("service") == Some(s.name)),
            "{}",
            s.name
        );
    }
    for c in prometheus::CRITICAL_SERVICES {
        assert!(
            SERVICES.iter().any(|s| s.name == *c),
            "{c} is not in the registry"
        );
    }
    let names: BTreeSet<&str> = alerts.iter().map(|a| a.name.as_str()).collect();
    for expected in [
        "SLOErrorBudgetBurn",
        "TargetDown",
        "ServiceNotReady",
        "NotificationDown",
        "OrderRejectsSpike",
        "OrderPlaceLatencyHigh",
        "KillSwitchEngaged",
        "MarketDataFeedDisconnected",
        "MarketDataGap",
        "ConsumerLagHigh",
        "OutboxStuck",
    ] {
        assert!(names.contains(expected), "{expected}");
    }
}

#[test]
fn every_registry_service_has_a_red_dashboard_and_the_dashboards_are_well_formed() {
    let files: Vec<(String, String)> = ops::grafana::dashboard_files();
    let generated = ops::grafana::files();
    let mut uids = BTreeSet::new();
    for (uid, path) in &files {
        assert!(uid.len() <= 40, "{uid}");
        assert!(uids.insert(uid.clone()), "{uid} twice");
        let f = generated.iter().find(|f| &f.path == path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&f.content).unwrap();
        assert_eq!(v["uid"], uid.as_str());
        assert_eq!(v["schemaVersion"], ops::grafana::SCHEMA_VERSION);
        let panels = v["panels"].as_array().unwrap();
        let mut ids = BTreeSet::new();
        for p in panels {
            assert!(
                ids.insert(p["id"].as_u64().unwrap()),
                "{uid}: panel id twice"
            );
            let grid = &p["gridPos"];
            assert!(grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24);
            if p["type"] != "row" {
                assert!(!p["targets"].as_array().unwrap().is_empty(), "{uid}");
            }
        }
    }
    for s in &SERVICES {
        let uid = ops::grafana::service_uid(s.name);
        assert!(uids.contains(&uid), "{} has no RED dashboard", s.name);
        let queries: Vec<_> = ops::grafana::queries()
            .into_iter()
            .filter(|(u, _, _)| *u == uid)
            .collect();
        assert!(
            queries
                .iter()
                .all(|(_, _, e)| e.contains(&format!("service=\"{}\"", s.name))),
            "{}",
            s.name
        );
    }
    for uid in [
        "qts-fleet",
        "qts-market-data",
        "qts-trading",
        "qts-bus",
        "qts-storage",
    ] {
        assert!(uids.contains(uid), "{uid}");
    }
    assert_eq!(files.len(), SERVICES.len() + 5);
    assert!(
        generated
            .iter()
            .any(|f| f.path == "deploy/grafana/provisioning/dashboards/qts.yaml")
    );
    assert!(
        generated
            .iter()
            .any(|f| f.path == "deploy/grafana/provisioning/datasources/prometheus.yaml")
    );
}

/// Serves `body` as /metrics (any path) on loopback until the test ends.
fn metrics_server(body: &'static str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buf = [0_u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// GET `path` on 127.0.0.1:`port`; the body when the status is 200.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200")
        .then(|| out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()))?
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_real_prometheus_with_the_local_config_labels_series_by_service_and_loads_the_rules() {
    let Some(binary) = ops::require("prometheus") else {
        return;
    };
    // A service's own `service` label (fleet-wide metrics) and a metric without one.
    let target = metrics_server(
        "qts_http_requests_total{service=\"oms\",method=\"GET\",route=\"/v1/orders\",status=\"200\"} 3\n\
         oms_open_orders 2\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let base = write_tree(tmp.path());
    let rules: Vec<String> = prometheus::rule_files()
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix("deploy/prometheus/").unwrap();
            base.join(rel).to_string_lossy().into_owned()
        })
        .collect();
    let config = prometheus::local_config(
        &[("oms".to_owned(), format!("127.0.0.1:{target}"))],
        &rules,
        None,
        1,
    );
    std::fs::write(tmp.path().join("local.yml"), config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!(
            "--config.file={}",
            tmp.path().join("local.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            tmp.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start prometheus");
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Killed(child);
    let query = |q: &str| -> Vec<serde_json::Value> {
        get(port, &format!("/api/v1/query?query={}", encode(q)))
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| v["data"]["result"].as_array().cloned())
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let wanted = [
        "up{job=\"qts\",service=\"oms\"} == 1",
        "oms_open_orders{job=\"qts\",service=\"oms\"}",
        "qts_http_requests_total{service=\"oms\",exported_service=\"\"}",
        "qts:vn_market_open",
        "service:qts_requests:rate5m{service=\"oms\"}",
    ];
    for q in wanted {
        loop {
            if !query(q).is_empty() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no data for {q}");
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }
    assert!(query("ALERTS{alertname=\"ServiceMissing\",service=\"oms\"}").is_empty());
}
