//! The fleet as the monitoring service sees it: readiness probed on each service's admin
//! endpoint (ready, not ready, unreachable), instances from lifecycle events, consumer lag
//! from the bus's committed offsets, alerts from a real Alertmanager, Prometheus service
//! discovery on the admin port, the public status page, and the `ops` role on the rest.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::bus::Envelope;
use common::service::testing::{Spawned, Tokens, spawn};
use proto::events::v1::ServiceLifecycle;
use proto::events::v1::service_lifecycle::State as LifecycleState;
use proto::monitoring::v1::monitoring_service_client::MonitoringServiceClient;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// An admin endpoint whose `/ready` answers `status` with `body`.
async fn admin_endpoint(status: u16, body: &'static str) -> String {
    let code = axum::http::StatusCode::from_u16(status).unwrap();
    let router = axum::Router::new().route(
        "/ready",
        axum::routing::get(move || std::future::ready((code, body))),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get_json(url: String, token: Option<&str>) -> (u16, Value) {
    let mut r = reqwest::Client::new().get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn lifecycle(service: &str, instance: &str, state: LifecycleState, at_secs: i64) -> Envelope {
    let e = ServiceLifecycle {
        service: service.into(),
        instance_id: instance.into(),
        version: "0.1.0".into(),
        state: state as i32,
        at: Some(prost_types::Timestamp {
            seconds: at_secs,
            nanos: 0,
        }),
    };
    Envelope::new(service, service, &e)
}

fn service<'a>(fleet: &'a Value, name: &str) -> &'a Value {
    fleet["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

async fn spawn_watching(extra: &[(&str, &str)]) -> (Spawned, [String; 3]) {
    let ready = admin_endpoint(200, "ready").await;
    let not_ready = admin_endpoint(503, "database unreachable").await;
    let gone = format!("http://127.0.0.1:{}", closed_port());
    let mut env = vec![
        ("MONITORING__FLEET__TARGETS__OMS", ready.as_str()),
        ("MONITORING__FLEET__TARGETS__RISK", not_ready.as_str()),
        ("MONITORING__FLEET__TARGETS__TA", gone.as_str()),
        ("MONITORING__FLEET__PROBE_INTERVAL_MS", "200"),
        ("MONITORING__FLEET__PROBE_TIMEOUT_MS", "150"),
        ("MONITORING__FLEET__LAG_INTERVAL_MS", "200"),
    ];
    env.extend_from_slice(extra);
    let app = spawn::<monitoring::App>(&env).await.unwrap();
    (app, [ready, not_ready, gone])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_its_instances_and_consumer_lag_are_watched() {
    let (app, [ready, _, gone]) = spawn_watching(&[]).await;
    // Lifecycle: oms has one instance ready and one that stopped; an unknown service is ignored.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for e in [
        lifecycle("oms", "a", LifecycleState::Ready, now - 60),
        lifecycle("oms", "b", LifecycleState::Ready, now - 30),
        lifecycle("oms", "a", LifecycleState::Stopping, now - 10),
        lifecycle("nonsense", "x", LifecycleState::Ready, now),
    ] {
        app.bus.publish("system.lifecycle.v1", &e).await.unwrap();
    }
    // A group that read and committed 2 of 5 events: 3 behind.
    let topic = "oms.order.v1";
    for n in 0..5 {
        let event = proto::oms::v1::OrderEvent {
            kind: format!("e{n}"),
            ..Default::default()
        };
        app.bus
            .publish(topic, &Envelope::new("oms", "0001", &event))
            .await
            .unwrap();
    }
    let mut reader = app.bus.subscribe("test.readers", &[topic]).await.unwrap();
    let mut read = 0;
    while read < 2 {
        if let Some(d) = reader.poll(Duration::from_millis(200)).await.unwrap() {
            reader.commit(&d).await.unwrap();
            read += 1;
        }
    }

    let deadline = tokio::time::Instant::now() + WAIT;
    let fleet = loop {
        let (status, fleet) = get_json(app.http_url("/api/monitoring/v1/fleet"), None).await;
        assert_eq!(status, 200, "{fleet}");
        let oms = service(&fleet, "oms");
        let settled = oms["health"] == "ready"
            && service(&fleet, "risk")["health"] == "not_ready"
            && service(&fleet, "ta")["health"] == "unreachable"
            && service(&fleet, "monitoring")["health"] == "ready"
            && oms["instances"].as_array().unwrap().len() == 2;
        if settled {
            break fleet;
        }
        assert!(tokio::time::Instant::now() < deadline, "{fleet:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(fleet["status"], "degraded");
    assert_eq!(fleet["services"].as_array().unwrap().len(), 17);
    let oms = service(&fleet, "oms");
    assert_eq!(oms["target"], ready.as_str());
    assert_eq!(oms["detail"], "ready");
    let states: Vec<(&str, &str)> = oms["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["instance_id"].as_str().unwrap(),
                i["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("a", "stopping"), ("b", "ready")],
        "newest change first"
    );
    let risk = service(&fleet, "risk");
    assert!(
        risk["detail"].as_str().unwrap().contains("503")
            && risk["detail"]
                .as_str()
                .unwrap()
                .contains("database unreachable"),
        "{risk}"
    );
    assert_eq!(service(&fleet, "ta")["target"], gone.as_str());
    // No Prometheus configured: SLO status is unknown, with the objective.
    assert_eq!(oms["slo"]["known"], false);
    assert_eq!(oms["slo"]["objective"], 0.995);

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, lag) = get_json(app.http_url("/api/monitoring/v1/lag"), None).await;
        let mine = lag["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == "test.readers" && g["topic"] == topic)
            .cloned();
        if let Some(g) = mine
            && g["lag"] == 3
        {
            assert_eq!(g["members"], 1);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{lag:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The gauges the alert rules and dashboards read.
    let admin = format!("http://{}", app.addrs.admin);
    let metrics = reqwest::get(format!("{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "qts_fleet_service_ready{service=\"oms\"} 1",
        "qts_fleet_service_ready{service=\"risk\"} 0",
        "qts_fleet_instances{service=\"oms\"} 1",
        "qts_bus_consumer_lag_messages{group=\"test.readers\",topic=\"oms.order.v1\"} 3",
        "qts_bus_consumer_members{group=\"test.readers\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }

    // Prometheus HTTP service discovery on the admin port: every service, labelled.
    let (status, sd) = get_json(format!("{admin}/sd"), None).await;
    assert_eq!(status, 200);
    let groups = sd.as_array().unwrap();
    assert_eq!(groups.len(), 17);
    let oms_sd = groups
        .iter()
        .find(|g| g["labels"]["service"] == "oms")
        .unwrap();
    assert_eq!(oms_sd["targets"][0], ready.trim_start_matches("http://"));
    assert_eq!(oms_sd["labels"]["__scheme__"], "http");
    let own = groups
        .iter()
        .find(|g| g["labels"]["service"] == "monitoring")
        .unwrap();
    assert_eq!(own["targets"][0], app.addrs.admin.to_string());

    // The status page: health only.
    let page = reqwest::get(app.http_url("/api/monitoring/v1/status"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<span id=\"status\" class=\"degraded\">degraded</span>"),
        "{page}"
    );
    assert!(
        page.contains("data-service=\"risk\" data-health=\"not_ready\""),
        "{page}"
    );
    assert!(!page.contains("database unreachable") && !page.contains("127.0.0.1"));

    // gRPC says the same.
    let mut grpc = MonitoringServiceClient::connect(app.grpc_url())
        .await
        .unwrap();
    let f = grpc
        .get_fleet(proto::monitoring::v1::GetFleetRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(f.status, "degraded");
    let risk = f.services.iter().find(|s| s.name == "risk").unwrap();
    assert_eq!(risk.health, "not_ready");
    let lag = grpc
        .get_consumer_lag(proto::monitoring::v1::GetConsumerLagRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        lag.groups
            .iter()
            .any(|g| g.group == "test.readers" && g.lag == 3)
    );
    drop(reader);
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_firing_come_from_a_real_alertmanager() {
    let Some(binary) =
        ops::tool("alertmanager").or_else(|| ops::require("prometheus-alertmanager"))
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("am.yml"),
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let port = closed_port();
    let log = std::fs::File::create(tmp.path().join("am.log")).unwrap();
    let _am = Killed(
        Command::new(binary)
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
            .unwrap(),
    );
    let am = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !http
        .get(format!("{am}/-/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "alertmanager not ready: {}",
            std::fs::read_to_string(tmp.path().join("am.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let posted = http
        .post(format!("{am}/api/v2/alerts"))
        .json(&serde_json::json!([
            {"labels": {"alertname": "KillSwitchEngaged", "severity": "critical", "service": "risk"},
             "annotations": {"summary": "a kill switch is engaged", "description": "global"}},
            {"labels": {"alertname": "ConsumerLagHigh", "severity": "warning", "service": "ta"},
             "annotations": {"summary": "ta is behind"}}
        ]))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success());

    let (app, _) = spawn_watching(&[("MONITORING__ALERTMANAGER__URL", am.as_str())]).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let alerts = loop {
        let (_, alerts) = get_json(app.http_url("/api/monitoring/v1/alerts"), None).await;
        if alerts["alerts"].as_array().map_or(0, Vec::len) == 2 {
            break alerts;
        }
        assert!(tokio::time::Instant::now() < deadline, "{alerts:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(alerts["known"], true);
    let first = &alerts["alerts"][0];
    assert_eq!(
        first["name"], "KillSwitchEngaged",
        "critical first: {alerts:#}"
    );
    assert_eq!(first["service"], "risk");
    assert_eq!(first["summary"], "a kill switch is engaged");
    assert_eq!(first["state"], "active");
    let page = reqwest::get(app.http_url("/api/monitoring/v1/status"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Alerts firing: 1 critical, 1 warning, 0 info."),
        "{page}"
    );
    assert!(
        !page.contains("kill switch"),
        "no alert text on the public page"
    );

    // Alertmanager gone: the answer says so, nothing fails.
    drop(_am);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, alerts) = get_json(app.http_url("/api/monitoring/v1/alerts"), None).await;
        assert_eq!(status, 200);
        if alerts["known"] == false {
            assert!(
                alerts["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("Alertmanager: "),
                "{alerts}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_is_for_ops_and_the_status_page_for_everyone() {
    let tokens = Tokens::start().await.unwrap();
    let env = tokens.env("MONITORING");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (app, _) = spawn_watching(&env).await;
    let url = app.http_url("/api/monitoring/v1/fleet");
    assert_eq!(get_json(url.clone(), None).await.0, 401);
    let trader = tokens.token("tran", &["trader"], &["0001"]);
    assert_eq!(get_json(url.clone(), Some(&trader)).await.0, 403);
    let ops = tokens.token("lan", &["ops"], &[]);
    assert_eq!(get_json(url, Some(&ops)).await.0, 200);
    for path in ["/api/monitoring/v1/lag", "/api/monitoring/v1/alerts"] {
        assert_eq!(get_json(app.http_url(path), None).await.0, 401, "{path}");
    }
    let page = reqwest::get(app.http_url("/api/monitoring/v1/status"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let mut grpc = MonitoringServiceClient::connect(app.grpc_url())
        .await
        .unwrap();
    let refused = grpc
        .get_fleet(proto::monitoring::v1::GetFleetRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}
