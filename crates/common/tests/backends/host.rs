//! The service skeleton's lifecycle: readiness follows the database, a failing background task
//! stops the service with its error, and shutdown never outlasts the grace period.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::bus::embedded::EmbeddedBus;
use common::cache::MemoryCache;
use common::registry;
use common::server::{Backends, Host, Parts};
use common::settings::{ServiceSettings, Sources};
use common::shutdown::CancellationToken;
use common::store::Db;

async fn host(dir: &std::path::Path) -> (Host, Db) {
    let spec = registry::find("oms").unwrap();
    let env: HashMap<String, String> = [
        ("OMS__HTTP__PORT", "0"),
        ("OMS__GRPC__PORT", "0"),
        ("OMS__ADMIN__PORT", "0"),
        ("OMS__SHUTDOWN__GRACE_PERIOD_SECS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([("OMS__DATA_DIR".to_owned(), dir.display().to_string())])
    .collect();
    let settings = ServiceSettings::load_from(
        spec,
        "",
        &Sources {
            file: None,
            overlay: None,
            env,
        },
    )
    .unwrap();
    let db = common::server::connect_db(spec, &settings, None)
        .await
        .unwrap();
    let backends = Backends::with(
        Arc::new(EmbeddedBus::in_memory(100)),
        Arc::new(MemoryCache::new("oms:")),
        db.clone(),
    )
    .await
    .unwrap();
    let info = common::server::service_info(spec, "test", &backends);
    let parts = Parts {
        http: common::server::info_routes(info.clone()),
        grpc: tonic::service::Routes::default(),
        registry: prometheus::Registry::new(),
    };
    (
        Host::bind(spec, &settings, info, backends, parts)
            .await
            .unwrap(),
        db,
    )
}

async fn until_ready(admin: std::net::SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("http://{admin}/ready"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn ready_status(admin: std::net::SocketAddr) -> u16 {
    reqwest::get(format!("http://{admin}/ready"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_background_task_stops_the_service_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let (mut host, _db) = host(dir.path()).await;
    host.spawn("consumer", |_token| async {
        anyhow::bail!("broker said no")
    });
    let result = tokio::time::timeout(Duration::from_secs(10), host.run(CancellationToken::new()))
        .await
        .unwrap();
    let err = format!("{:#}", result.unwrap_err());
    assert!(
        err.contains("consumer") && err.contains("broker said no"),
        "{err}"
    );
}

// In real time (one second of grace): a paused clock jumps to the next timer whenever every
// task waits on the database's threads, and under a loaded CI that was a timer 22,201 s away.
#[tokio::test]
async fn shutdown_aborts_what_ignores_it_once_the_grace_period_is_over() {
    let dir = tempfile::tempdir().unwrap();
    let (mut host, _db) = host(dir.path()).await;
    host.spawn("stubborn", |_token| async {
        std::future::pending::<()>().await;
        Ok(())
    });
    let admin = host.addrs().unwrap().admin;
    let token = CancellationToken::new();
    let running = tokio::spawn(host.run(token.clone()));
    until_ready(admin).await;
    let started = std::time::Instant::now();
    token.cancel();
    running.await.unwrap().unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "stopped after {took:?}, grace is 1s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (host, db) = host(dir.path()).await;
    let admin = host.addrs().unwrap().admin;
    let token = CancellationToken::new();
    let running = tokio::spawn(host.run(token.clone()));
    until_ready(admin).await;
    db.close().await;
    assert_eq!(
        ready_status(admin).await,
        503,
        "a closed database makes the service unready"
    );
    assert_eq!(
        reqwest::get(format!("http://{admin}/live"))
            .await
            .unwrap()
            .status(),
        200,
        "but it is still live"
    );
    token.cancel();
    running.await.unwrap().unwrap();
}
