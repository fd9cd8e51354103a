//! The in-process fleet: every service ready, documented, reachable over HTTP, gRPC and the bus.

use std::collections::BTreeSet;
use std::time::Duration;

use common::bus::embedded::EmbeddedBus;
use common::bus::{Envelope, EventBus, topics};
use proto::events::v1::ServiceLifecycle;
use proto::events::v1::service_lifecycle::State;

use crate::helpers::{grpc_get_info, http, metrics, spawn_fleet, spawn_fleet_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_is_ready_and_documented_directly_and_through_the_gateway() {
    let fleet = spawn_fleet().await;
    let c = http();
    assert_eq!(fleet.services.len(), 17);
    for s in &fleet.services {
        let name = s.spec.name;
        let admin = s.addrs.admin;
        assert_eq!(
            c.get(format!("http://{admin}/live"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let ready = c.get(format!("http://{admin}/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{name} ready");
        let direct: serde_json::Value = c
            .get(format!("http://{}/openapi.json", s.addrs.http))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(direct["info"]["title"], format!("QTS {name}"));
        assert!(
            direct["paths"][format!("/api/{name}/v1/info")]["get"].is_object(),
            "{name} documents its info route"
        );
        let via_gateway: serde_json::Value = c
            .get(format!("http://{}/api/{name}/openapi.json", fleet.gateway))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            via_gateway, direct,
            "{name}: the gateway serves the same document"
        );
        let info: serde_json::Value = c
            .get(format!("http://{}/api/{name}/v1/info", fleet.gateway))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["name"], name);
        assert_eq!(info["maturity"], s.spec.maturity.as_str());
        assert_eq!(info["backends"]["bus"], "embedded");
        assert_eq!(info["backends"]["database"], "sqlite");
        assert_eq!(info["backends"]["cache"], "memory");
        let swagger = c
            .get(format!("http://{}/api/{name}/swagger-ui/", fleet.gateway))
            .send()
            .await
            .unwrap();
        assert_eq!(swagger.status(), 200, "{name} swagger ui");
        assert!(
            swagger.text().await.unwrap().contains("swagger"),
            "{name} swagger ui is the real page"
        );
        let metrics = metrics(admin).await;
        assert!(
            metrics.contains(&format!("qts_http_requests_total{{method=\"GET\",route=\"/api/{name}/v1/info\",service=\"{name}\",status=\"200\"}} 1")),
            "{name} counts its requests:\n{metrics}"
        );
    }
    assert_eq!(
        c.get(format!("http://{}/ready", fleet.gateway))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let index = c
        .get(format!("http://{}/", fleet.gateway))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("/api/master-data/swagger-ui/"));
    let missing = c
        .get(format!("http://{}/api/nope/v1/info", fleet.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    // A service's own 404 and 405 carry the envelope too, directly and through the gateway.
    let oms = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "oms")
        .unwrap();
    for base in [oms.addrs.http, fleet.gateway] {
        let wrong_method = c
            .post(format!("http://{base}/api/oms/v1/info"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_method.status(), 405, "{base}");
        let body: serde_json::Value = wrong_method.json().await.unwrap();
        assert_eq!(body["code"], "unimplemented", "{base}: {body}");
        let unknown = c
            .get(format!("http://{base}/api/oms/v1/nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404, "{base}");
        let body: serde_json::Value = unknown.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{base}: {body}");
    }
    fleet.stop().await;
}

/// The version of its configuration a service reports in its metrics, if it follows one.
async fn config_version(admin: std::net::SocketAddr) -> Option<u64> {
    metrics(admin)
        .await
        .lines()
        .find_map(|l| l.strip_prefix("qts_config_version "))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_takes_its_configuration_from_the_config_service_live() {
    let fleet = spawn_fleet().await;
    let c = http();
    // Fetched at start: every service after the config service runs on version 0 (none
    // saved); the SSO starts before it and the config service is the source.
    for s in &fleet.services {
        let expected = (!matches!(s.spec.name, "sso" | "config")).then_some(0);
        assert_eq!(
            config_version(s.addrs.admin).await,
            expected,
            "{}",
            s.spec.name
        );
    }
    // A change reaches each service it is for, live, and no other.
    for (i, name) in ["ta", "risk", "monitoring"].iter().enumerate() {
        let put = c
            .put(format!(
                "http://{}/api/config/v1/configs/{name}/prod",
                fleet.gateway
            ))
            .json(&serde_json::json!({
                "expected_version": 0,
                "values": {"note": format!("change {i}")},
                "comment": "e2e"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    }
    for s in &fleet.services {
        let want = match s.spec.name {
            "ta" | "risk" | "monitoring" => Some(1),
            "sso" | "config" => None,
            _ => Some(0),
        };
        let mut got = config_version(s.addrs.admin).await;
        for _ in 0..100 {
            if got == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            got = config_version(s.addrs.admin).await;
        }
        assert_eq!(got, want, "{}", s.spec.name);
    }
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_answers_grpc_get_info_and_health() {
    let fleet = spawn_fleet().await;
    for s in &fleet.services {
        let info = grpc_get_info(s.addrs.grpc, s.spec.grpc_service)
            .await
            .unwrap();
        assert_eq!(info.name, s.spec.name);
        assert_eq!(
            info.backends.get("bus").map(String::as_str),
            Some("embedded")
        );
        let channel = tonic::transport::Channel::from_shared(format!("http://{}", s.addrs.grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: s.spec.grpc_service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{}",
            s.spec.name
        );
    }
    let unknown = grpc_get_info(fleet.services[0].addrs.grpc, "qts.nope.v1.NopeService")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::Unimplemented);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_announce_themselves_and_events_flow_through_the_bus() {
    let fleet = spawn_fleet().await;
    let topic = topics::SYSTEM_LIFECYCLE.name.as_ref();
    let mut sub = fleet.bus.subscribe("e2e-observer", &[topic]).await.unwrap();
    let mut ready = BTreeSet::new();
    while ready.len() < 17 {
        let d = sub
            .poll(Duration::from_secs(10))
            .await
            .unwrap()
            .expect("17 ready events");
        let event: ServiceLifecycle = d.envelope.decode().unwrap();
        assert_eq!(event.state, State::Ready as i32);
        assert_eq!(d.envelope.source, event.service);
        ready.insert(event.service);
        sub.commit(&d).await.unwrap();
    }
    assert_eq!(ready.len(), 17);

    let ping = ServiceLifecycle {
        service: "e2e".into(),
        instance_id: "t".into(),
        version: "0".into(),
        state: State::Ready as i32,
        at: None,
    };
    let sent = Envelope::new("e2e", "e2e", &ping);
    fleet.bus.publish(topic, &sent).await.unwrap();
    let got = sub
        .poll(Duration::from_secs(10))
        .await
        .unwrap()
        .expect("our event");
    assert_eq!(got.envelope, sent);
    sub.commit(&got).await.unwrap();
    drop(sub);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_fleet_keeps_every_event_and_starts_again_on_the_same_data() {
    let fleet = spawn_fleet().await;
    let dir = fleet.stop().await;

    let bus = EmbeddedBus::persistent(&dir.path().join("bus"), 1000).unwrap();
    bus.create_topics(topics::TOPICS).await.unwrap();
    let mut sub = bus
        .subscribe("after-restart", &[topics::SYSTEM_LIFECYCLE.name.as_ref()])
        .await
        .unwrap();
    let mut states = (0, 0);
    while let Some(d) = sub.poll(Duration::from_millis(300)).await.unwrap() {
        match State::try_from(d.envelope.decode::<ServiceLifecycle>().unwrap().state).unwrap() {
            State::Ready => states.0 += 1,
            State::Stopping => states.1 += 1,
            State::Unspecified => panic!("unspecified state"),
        }
    }
    assert_eq!(
        states,
        (17, 17),
        "every ready and every stopping event survived the stop"
    );
    drop(sub);
    drop(bus);

    let again = spawn_fleet_in(dir).await;
    let oms = again
        .services
        .iter()
        .find(|s| s.spec.name == "oms")
        .unwrap();
    let info = grpc_get_info(oms.addrs.grpc, oms.spec.grpc_service)
        .await
        .unwrap();
    assert_eq!(info.name, "oms");
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_runs_on_kafka_postgresql_and_redis_when_settings_say_so() {
    use crate::helpers::server;
    use common::bus::kafka::KafkaBus;
    use common::settings::KafkaSettings;
    let (Some(brokers), Some(pg), Some(redis)) = (
        server("TEST_KAFKA_BROKERS"),
        server("TEST_DATABASE_URL"),
        server("TEST_REDIS_URL"),
    ) else {
        return;
    };
    // One database per service, as in production.
    sqlx_create_databases(&pg).await;
    let (base, _) = pg.rsplit_once('/').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = crate::helpers::options(dir.path());
    options.overrides.extend([
        ("bus.kind".to_owned(), "kafka".to_owned()),
        ("bus.kafka.brokers".to_owned(), brokers.clone()),
        ("bus.kafka.session_timeout_ms".to_owned(), "6000".to_owned()),
        ("cache.kind".to_owned(), "redis".to_owned()),
        ("cache.url".to_owned(), redis),
        ("database.url".to_owned(), format!("{base}/e2e_{{service}}")),
        ("database.max_connections".to_owned(), "2".to_owned()),
    ]);
    let token = common::shutdown::CancellationToken::new();
    let fleet = qts::fleet::Fleet::start(&options, token.clone())
        .await
        .unwrap();
    assert!(
        fleet.bus.is_none(),
        "no embedded bus when every service uses Kafka"
    );
    let routes = fleet.http_routes();
    qts::gateway::wait_ready(routes, Duration::from_secs(30))
        .await
        .unwrap();
    let c = http();
    for s in &fleet.services {
        let info: serde_json::Value = c
            .get(format!(
                "http://{}/api/{}/v1/info",
                s.addrs.http, s.spec.name
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["backends"]["bus"], "kafka");
        assert_eq!(info["backends"]["database"], "postgres");
        assert_eq!(info["backends"]["cache"], "redis");
    }
    let kafka = KafkaBus::connect(
        &KafkaSettings {
            brokers,
            replication_factor: 1,
            session_timeout_ms: 6000,
            fetch_wait_max_ms: 10,
            message_timeout_ms: 10_000,
            idempotence: false,
            namespace: String::new(),
        },
        "e2e",
    )
    .unwrap();
    let mut sub = kafka
        .subscribe(
            &format!("e2e-{}", uuid_like()),
            &[topics::SYSTEM_LIFECYCLE.name.as_ref()],
        )
        .await
        .unwrap();
    let mut ready = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ready.len() < 17 && tokio::time::Instant::now() < deadline {
        if let Some(d) = sub.poll(Duration::from_millis(500)).await.unwrap() {
            let event: ServiceLifecycle = d.envelope.decode().unwrap();
            if event.state == State::Ready as i32 {
                ready.insert(event.service);
            }
        }
    }
    assert_eq!(
        ready.len(),
        17,
        "every service announced itself on Kafka: {ready:?}"
    );
    drop(sub);
    token.cancel();
    tokio::time::timeout(Duration::from_secs(30), fleet.wait())
        .await
        .unwrap()
        .unwrap();
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn sqlx_create_databases(admin_url: &str) {
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    for spec in &common::registry::SERVICES {
        let name = format!("e2e_{}", spec.name.replace('-', "_"));
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
    }
    admin.close().await;
}
