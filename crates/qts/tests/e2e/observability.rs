//! `qts up --observability` on a trading fleet: a real Prometheus finds every service through
//! the monitoring service's service discovery and evaluates the rules of `deploy/prometheus`;
//! every Grafana panel's query returns data (a dashboard that shows nothing fails the build);
//! the monitoring service reads SLO status from that Prometheus and the alerts from a real
//! Alertmanager, which routes an alert to the notification service with the run's secret.

use std::time::Duration;

use qts::observability::{Plan, Stack};

use crate::helpers::{TestFleet, http};

/// The plan for a fleet in `dir` (scraping every second), or `None` where Prometheus or
/// Alertmanager is missing outside CI.
pub fn plan(dir: &std::path::Path) -> Option<Plan> {
    let plan = Plan::new(&dir.join("observability"), 1).unwrap();
    if plan.prometheus_url().is_none() || plan.alertmanager_url().is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Prometheus or Alertmanager is missing: run .ci/setup.sh"
        );
        eprintln!("skipped the observability checks: Prometheus or Alertmanager is not installed");
        return None;
    }
    Some(plan)
}

/// The fleet's running `name`.
fn service<'a>(fleet: &'a TestFleet, name: &str) -> &'a qts::fleet::Running {
    fleet.services.iter().find(|s| s.spec.name == name).unwrap()
}

/// `GET url` as JSON.
async fn get(url: String) -> serde_json::Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

async fn query(prometheus: &str, expr: &str) -> serde_json::Value {
    http()
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every request kind the RED panels count: each service's HTTP API and gRPC `GetInfo`; and a
/// security read twice through master data's cache (a miss, then a hit).
async fn touch_every_service(fleet: &TestFleet) {
    let md = service(fleet, "master-data");
    let list = get(format!(
        "http://{}/api/master-data/v1/securities?limit=1",
        md.addrs.http
    ))
    .await;
    let symbol = list["securities"][0]["symbol"]
        .as_str()
        .unwrap_or_else(|| panic!("a security: {list}"))
        .to_owned();
    for _ in 0..2 {
        let r = http()
            .get(format!(
                "http://{}/api/master-data/v1/securities/{symbol}",
                md.addrs.http
            ))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    for s in &fleet.services {
        let url = format!("http://{}{}/v1/info", s.addrs.http, s.spec.route_prefix());
        assert!(http().get(url).send().await.unwrap().status().is_success());
        crate::helpers::grpc_get_info(s.addrs.grpc, s.spec.grpc_service)
            .await
            .unwrap();
    }
}

/// Runs the checks on a fleet whose market traded, orders placed, rules judged.
pub async fn every_dashboard_panel_shows_data(fleet: &TestFleet, stack: &Stack) {
    let prometheus = stack.prometheus.as_deref().unwrap();
    touch_every_service(fleet).await;
    // Every service found through the monitoring service's /sd, and up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let up = query(prometheus, "sum(up{job=\"qts\"})").await;
        let n = up["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if n == 17.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{up}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Rates need two scrapes after the requests above.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let queries = ops::grafana::queries();
    assert!(queries.len() > 100, "{} panel queries", queries.len());
    let mut empty = Vec::new();
    for (dashboard, panel, expr) in &queries {
        let r = query(prometheus, expr).await;
        assert_eq!(r["status"], "success", "{dashboard}/{panel}: {expr}: {r}");
        if r["data"]["result"].as_array().is_none_or(Vec::is_empty) {
            empty.push(format!("{dashboard} / {panel}: {expr}"));
        }
    }
    assert!(
        empty.is_empty(),
        "{} of {} panels show nothing:\n{}",
        empty.len(),
        queries.len(),
        empty.join("\n")
    );

    // The monitoring service reads SLO status from this Prometheus.
    let monitoring = service(fleet, "monitoring");
    let fleet_view = get(format!(
        "http://{}/api/monitoring/v1/fleet",
        monitoring.addrs.http
    ))
    .await;
    assert_eq!(fleet_view["status"], "ok", "{fleet_view:#}");
    let oms = fleet_view["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "oms")
        .unwrap();
    assert_eq!(oms["slo"]["known"], true, "{oms}");
    assert_eq!(oms["health"], "ready");
    assert!(!oms["instances"].as_array().unwrap().is_empty());

    // An alert posted to Alertmanager is listed by the monitoring service and delivered to the
    // notification service (its webhook counts it).
    let am = stack.alertmanager.as_deref().unwrap();
    let posted = http()
        .post(format!("{am}/api/v2/alerts"))
        .json(&serde_json::json!([{
            "labels": {"alertname": "QtsObservabilityRoundTrip", "severity": "warning", "service": "oms"},
            "annotations": {"summary": "round trip through the fleet"}
        }]))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success());
    let notification = service(fleet, "notification");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let alerts = get(format!(
            "http://{}/api/monitoring/v1/alerts",
            monitoring.addrs.http
        ))
        .await;
        let listed = alerts["alerts"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["name"] == "QtsObservabilityRoundTrip"));
        let metrics = crate::helpers::metrics(notification.addrs.admin).await;
        let delivered = metrics
            .lines()
            .any(|l| l.starts_with("notification_events_total") && l.contains("ops"));
        if listed && delivered {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "listed {listed}, delivered {delivered}: {alerts}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The rotel OTLP collector (PyPI `rotel`, in the ops venv `.ci/setup.sh` makes), or `None`
/// where it is missing outside CI.
fn rotel() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("HOME")
        .map(|h| {
            std::path::PathBuf::from(h)
                .join(".cache/qts/ops-venv/lib/python3.11/site-packages/rotel/rotel-agent")
        })
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the rotel collector is missing: run .ci/setup.sh"
        );
        eprintln!("skipped: the rotel OTLP collector is not installed");
    }
    found
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `(trace id, span name, service attribute)` of every span rotel printed.
fn spans(log: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for block in log.split("\nSpan #").skip(1) {
        let field = |label: &str| {
            block
                .lines()
                .find_map(|l| l.trim_start().strip_prefix(label))
                .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
                .unwrap_or_default()
        };
        let service = block
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("-> service: Str("))
            .map(|v| v.trim_end_matches(')').to_owned())
            .unwrap_or_default();
        out.push((field("Trace ID"), field("Name"), service));
    }
    out
}

/// A request through the gateway carrying a W3C `traceparent` is one trace in a real OTLP
/// collector: the OMS's HTTP span, the risk service's gRPC span for the pre-trade check it
/// calls, and the spans of the services that consume the order's event from the bus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_the_gateway_request_a_grpc_call_and_a_bus_hop() {
    let Some(rotel) = rotel() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (grpc_port, http_port) = (free_port(), free_port());
    let log_path = tmp.path().join("rotel.log");
    let _collector = Killed(
        std::process::Command::new(rotel)
            .args(["start", "--exporter", "blackhole", "--debug-log", "traces"])
            .args(["--debug-log-verbosity", "detailed"])
            .arg(format!("--otlp-grpc-endpoint=127.0.0.1:{grpc_port}"))
            .arg(format!("--otlp-http-endpoint=127.0.0.1:{http_port}"))
            .stdout(std::fs::File::create(&log_path).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", grpc_port)).is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "rotel did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The fleet's spans go to the collector (what `qts up --set telemetry.otlp_endpoint=...`
    // does for the process).
    let telemetry = common::settings::TelemetrySettings {
        log_format: common::settings::LogFormat::Pretty,
        // The filter applies to spans too: info keeps the request, gRPC and consumer spans.
        log_level: "info,sqlx=warn".into(),
        otlp_endpoint: format!("http://127.0.0.1:{grpc_port}"),
    };
    let _telemetry = common::telemetry::init("qts", &telemetry).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = crate::helpers::options(dir.path());
    options.market = qts::fleet::Market::Simulator(Box::new(qts::fleet::SimOptions::new(
        crate::helpers::small_market(1.0),
    )));
    let fleet = crate::helpers::spawn_fleet_with(dir, &options).await;
    let gateway = format!("http://{}", fleet.gateway);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let status = get(format!("{gateway}/api/oms/v1/status")).await;
        if status["accepting"] == true {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = get(format!(
        "{gateway}/api/master-data/v1/securities?exchange=HOSE&kind=stock&limit=1"
    ))
    .await;
    let symbol = page["securities"][0]["symbol"].as_str().unwrap().to_owned();
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let placed = http()
        .post(format!("{gateway}/api/oms/v1/orders"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .json(&serde_json::json!({
            "client_id": "otel-1", "account": fcsim::config::DEMO_CASH_ACCOUNT,
            "symbol": symbol, "side": "buy", "order_type": "MTL", "quantity": 100,
        }))
        .send()
        .await
        .unwrap();
    let status = placed.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        placed.text().await.unwrap()
    );

    // The batch exporter sends every few seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let mine: Vec<(String, String)> = spans(&log)
            .into_iter()
            .filter(|(t, _, _)| *t == trace)
            .map(|(_, name, service)| (name, service))
            .collect();
        let has = |name: &str, service: &str| {
            mine.iter()
                .any(|(n, s)| n == name && (service.is_empty() || s == service))
        };
        if has("http", "oms") && has("grpc", "risk") && has("consume", "") {
            let consumers: std::collections::BTreeSet<&str> = mine
                .iter()
                .filter(|(n, _)| n == "consume")
                .map(|(_, s)| s.as_str())
                .collect();
            assert!(!consumers.is_empty(), "{mine:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "trace {trace} has {mine:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    fleet.stop().await;
}
