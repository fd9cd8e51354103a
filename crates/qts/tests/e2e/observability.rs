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
    let md = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "master-data")
        .unwrap();
    let list: serde_json::Value = http()
        .get(format!(
            "http://{}/api/master-data/v1/securities?limit=1",
            md.addrs.http
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let symbol = list["securities"][0]["symbol"]
        .as_str()
        .or_else(|| list[0]["symbol"].as_str())
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
    let monitoring = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "monitoring")
        .unwrap();
    let fleet_view: serde_json::Value = http()
        .get(format!(
            "http://{}/api/monitoring/v1/fleet",
            monitoring.addrs.http
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let notification = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "notification")
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let alerts: serde_json::Value = http()
            .get(format!(
                "http://{}/api/monitoring/v1/alerts",
                monitoring.addrs.http
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
