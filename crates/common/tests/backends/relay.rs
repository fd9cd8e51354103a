//! The outbox relay as `Host` runs it: started with the service, woken by in-process commits,
//! polling for rows written elsewhere, metered, and drained on shutdown (the row in flight is
//! finished, the next is not started).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::bus::embedded::EmbeddedBus;
use common::bus::{Envelope, EventBus, Position, SharedBus, Subscription, TopicSpec};
use common::cache::MemoryCache;
use common::registry;
use common::server::{Backends, Host, Parts};
use common::settings::{InboxSettings, OutboxSettings, ServiceSettings, Sources};
use common::shutdown::CancellationToken;
use common::store::{Db, Outbox, Relay, RelayMetrics};
use tokio::sync::{Notify, Semaphore};

use crate::helpers::unique;
use crate::store::{event, postgres_url};

const WAIT: Duration = Duration::from_secs(20);

/// The oms host on port 0 with `database_url` (empty: SQLite in `dir`) and a relay polling
/// every `poll_ms`, and the service's own `Db` handle (what `Backends` gives its code).
async fn host(
    dir: &std::path::Path,
    database_url: &str,
    poll_ms: u64,
    bus: SharedBus,
) -> (Host, Db) {
    let spec = registry::find("oms").unwrap();
    let env: HashMap<String, String> = [
        ("OMS__HTTP__PORT", "0".to_owned()),
        ("OMS__GRPC__PORT", "0".to_owned()),
        ("OMS__ADMIN__PORT", "0".to_owned()),
        ("OMS__SHUTDOWN__GRACE_PERIOD_SECS", "5".to_owned()),
        ("OMS__OUTBOX__POLL_INTERVAL_MS", poll_ms.to_string()),
        ("OMS__DATABASE__URL", database_url.to_owned()),
        ("OMS__DATA_DIR", dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
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
    let backends = Backends::with(bus, Arc::new(MemoryCache::new("oms:")), db.clone())
        .await
        .unwrap();
    let info = common::server::service_info(spec, "test", &backends);
    let parts = Parts {
        http: common::server::info_routes(info.clone()),
        grpc: tonic::service::Routes::default(),
        registry: prometheus::Registry::new(),
    };
    let host = Host::bind(spec, &settings, info, backends, parts)
        .await
        .unwrap();
    (host, db)
}

/// A second handle on the same database, as another process would have: its commits do not
/// wake this process's relay.
async fn other_process(dir: &std::path::Path, database_url: &str) -> Db {
    let url = if database_url.is_empty() {
        format!("sqlite://{}?mode=rwc", dir.join("oms.db").display())
    } else {
        database_url.to_owned()
    };
    Db::connect(&url, 2, Duration::from_secs(5)).await.unwrap()
}

async fn until_ready(admin: std::net::SocketAddr) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while reqwest::get(format!("http://{admin}/ready"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn next_event(sub: &mut dyn Subscription) -> Envelope {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
            return d.envelope;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the row was never relayed"
        );
    }
}

async fn topic(bus: &dyn EventBus) -> String {
    let t = unique("relay");
    bus.create_topics(&[TopicSpec::new(
        t.clone(),
        "qts.events.v1.ServiceLifecycle",
        1,
    )])
    .await
    .unwrap();
    t
}

/// The relay polls only once an hour here, so the row going out proves the commit woke it.
/// Then the metrics show it, and shutdown stops the relay with the rest of the service.
async fn a_commit_wakes_the_relay_under_host_which_is_metered_and_drained(database_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let bus = Arc::new(EmbeddedBus::in_memory(1_000));
    let t = topic(bus.as_ref()).await;
    let (host, db) = host(dir.path(), &database_url, 3_600_000, bus.clone()).await;
    let admin = host.addrs().unwrap().admin;
    let token = CancellationToken::new();
    let running = tokio::spawn(host.run(token.clone()));
    until_ready(admin).await;
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();

    let sent = event(1);
    let mut tx = db.begin().await.unwrap();
    Outbox::enqueue(&mut tx, &t, &sent).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next_event(sub.as_mut()).await.id, sent.id);

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = reqwest::get(format!("http://{admin}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Ours and the host's READY lifecycle event, which goes through the outbox too.
        if metrics.contains("qts_outbox_published_total{service=\"oms\"} 2") {
            assert!(
                metrics.contains("qts_outbox_pending{service=\"oms\"}"),
                "{metrics}"
            );
            assert!(
                metrics.contains("qts_outbox_lag_seconds{service=\"oms\"}"),
                "{metrics}"
            );
            assert!(
                metrics.contains(
                    "qts_outbox_dead_lettered_total{reason=\"refused\",service=\"oms\"} 0"
                ),
                "{metrics}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = std::time::Instant::now();
    token.cancel();
    tokio::time::timeout(WAIT, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the relay stopped at once, well within the 5 s grace period"
    );
}

/// Rows committed by another process (no wake-up reaches this relay) go out by polling.
async fn rows_from_another_process_are_relayed_by_polling(database_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let bus = Arc::new(EmbeddedBus::in_memory(1_000));
    let t = topic(bus.as_ref()).await;
    let (host, _db) = host(dir.path(), &database_url, 50, bus.clone()).await;
    let admin = host.addrs().unwrap().admin;
    let token = CancellationToken::new();
    let running = tokio::spawn(host.run(token.clone()));
    until_ready(admin).await;
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();

    let other = other_process(dir.path(), &database_url).await;
    let sent = event(2);
    let mut tx = other.begin().await.unwrap();
    Outbox::enqueue(&mut tx, &t, &sent).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next_event(sub.as_mut()).await.id, sent.id);
    token.cancel();
    running.await.unwrap().unwrap();
}

/// A bus whose publishes wait at a gate, to cancel the relay while a row is in flight.
struct GatedBus {
    inner: EmbeddedBus,
    entered: Notify,
    gate: Semaphore,
}

#[async_trait]
impl EventBus for GatedBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), common::bus::Error> {
        self.inner.create_topics(topics).await
    }
    async fn publish(
        &self,
        topic: &str,
        envelope: &Envelope,
    ) -> Result<Position, common::bus::Error> {
        self.entered.notify_one();
        self.gate.acquire().await.unwrap().forget();
        self.inner.publish(topic, envelope).await
    }
    async fn subscribe(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<Box<dyn Subscription>, common::bus::Error> {
        self.inner.subscribe(group, topics).await
    }
    async fn offsets(&self, topic: &str) -> Result<Vec<common::bus::Offsets>, common::bus::Error> {
        self.inner.offsets(topic).await
    }
    async fn groups(&self) -> Result<Vec<common::bus::GroupOffsets>, common::bus::Error> {
        self.inner.groups().await
    }
    fn kind(&self) -> &'static str {
        "gated"
    }
}

fn settings() -> (OutboxSettings, InboxSettings) {
    (
        OutboxSettings {
            poll_interval_ms: 3_600_000,
            batch_size: 100,
            max_attempts: 3,
            retry_backoff_ms: 1,
            max_backoff_ms: 10,
            retention_secs: 86_400,
            prune_interval_secs: 3_600,
        },
        InboxSettings {
            retention_secs: 86_400,
        },
    )
}

/// Cancelled while publishing the first of two rows (one row per batch), the relay finishes
/// that batch (the row is marked published) and stops without starting the next, which stays
/// pending.
async fn the_relay_finishes_the_row_in_flight_then_stops(db: Db) {
    db.migrate(None).await.unwrap();
    let bus = Arc::new(GatedBus {
        inner: EmbeddedBus::in_memory(1_000),
        entered: Notify::new(),
        gate: Semaphore::new(0),
    });
    let t = topic(bus.as_ref()).await;
    let mut tx = db.begin().await.unwrap();
    Outbox::enqueue(&mut tx, &t, &event(1)).await.unwrap();
    Outbox::enqueue(&mut tx, &t, &event(2)).await.unwrap();
    tx.commit().await.unwrap();

    let (mut outbox_settings, inbox_settings) = settings();
    // One row per batch: the first batch is in flight when the relay is cancelled.
    outbox_settings.batch_size = 1;
    let registry = prometheus::Registry::new();
    let relay = Relay::new(
        db.clone(),
        bus.clone(),
        &outbox_settings,
        &inbox_settings,
        RelayMetrics::register("t", &registry).unwrap(),
    );
    let token = CancellationToken::new();
    let running = tokio::spawn(relay.run(token.clone()));
    tokio::time::timeout(WAIT, bus.entered.notified())
        .await
        .unwrap();
    token.cancel();
    bus.gate.add_permits(1);
    tokio::time::timeout(WAIT, running).await.unwrap().unwrap();

    let outbox = Outbox::new(db.clone());
    assert_eq!(outbox.pending().await.unwrap(), 1, "the second row waits");
    let mut sub = bus.subscribe(&unique("g"), &[&t]).await.unwrap();
    let first = next_event(sub.as_mut()).await;
    assert_eq!(
        first
            .decode::<proto::events::v1::ServiceLifecycle>()
            .unwrap()
            .instance_id,
        "1"
    );
    assert!(sub.poll(Duration::from_millis(50)).await.unwrap().is_none());
}

/// At start (and every prune interval) the relay deletes published outbox rows and inbox
/// records past their retention, keeps the rest, and counts what it deleted.
async fn the_relay_prunes_what_is_past_retention(db: Db) {
    use common::on_engine;
    use common::store::{Inbox, Timestamp};
    db.migrate(None).await.unwrap();
    let bus = Arc::new(EmbeddedBus::in_memory(1_000));
    let t = topic(bus.as_ref()).await;
    let mut tx = db.begin().await.unwrap();
    Outbox::enqueue(&mut tx, &t, &event(1)).await.unwrap();
    let (old, recent) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    Inbox::first_time(&mut tx, "risk", &old).await.unwrap();
    Inbox::first_time(&mut tx, "risk", &recent).await.unwrap();
    tx.commit().await.unwrap();
    let two_days_ago = Timestamp::now().saturating_sub(Duration::from_secs(2 * 86_400));
    let ten_days_ago = Timestamp::now().saturating_sub(Duration::from_secs(10 * 86_400));
    on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE qts_outbox SET published_at = $1"
    )
    .bind(two_days_ago)
    .execute(p)
    .await
    .map(drop))
    .unwrap();
    on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE qts_inbox SET processed_at = $1 WHERE event_id = $2"
    )
    .bind(ten_days_ago)
    .bind(old)
    .execute(p)
    .await
    .map(drop))
    .unwrap();

    let (outbox_settings, _) = settings();
    let inbox_settings = InboxSettings {
        retention_secs: 8 * 86_400,
    };
    let registry = prometheus::Registry::new();
    let relay = Relay::new(
        db.clone(),
        bus.clone(),
        &outbox_settings,
        &inbox_settings,
        RelayMetrics::register("t", &registry).unwrap(),
    );
    let token = CancellationToken::new();
    let running = tokio::spawn(relay.run(token.clone()));
    let pruned = |table: &str| {
        registry
            .gather()
            .iter()
            .filter(|f| f.name() == "qts_store_pruned_rows_total")
            .flat_map(|f| f.get_metric().iter())
            .filter(|m| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == "table" && l.value() == table)
            })
            .map(|m| m.get_counter().get_value() as u64)
            .sum::<u64>()
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while pruned("outbox") + pruned("inbox") < 2 {
        assert!(tokio::time::Instant::now() < deadline, "nothing was pruned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    token.cancel();
    running.await.unwrap();
    assert_eq!((pruned("outbox"), pruned("inbox")), (1, 1));
    let rows = on_engine!(db.pool(), |p| sqlx::query_scalar::<_, i64>(
        "SELECT (SELECT COUNT(*) FROM qts_outbox) + (SELECT COUNT(*) FROM qts_inbox)"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(rows, 1, "only the recent inbox record is left");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_wakes_the_relay_under_host_which_is_metered_and_drained() {
        super::a_commit_wakes_the_relay_under_host_which_is_metered_and_drained(String::new())
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_from_another_process_are_relayed_by_polling() {
        super::rows_from_another_process_are_relayed_by_polling(String::new()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_relay_finishes_the_row_in_flight_then_stops() {
        let db = crate::store::sqlite().await.unwrap();
        super::the_relay_finishes_the_row_in_flight_then_stops(db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_relay_prunes_what_is_past_retention() {
        let db = crate::store::sqlite().await.unwrap();
        super::the_relay_prunes_what_is_past_retention(db).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_wakes_the_relay_under_host_which_is_metered_and_drained() {
        let Some(url) = super::postgres_url().await else {
            return;
        };
        super::a_commit_wakes_the_relay_under_host_which_is_metered_and_drained(url).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_from_another_process_are_relayed_by_polling() {
        let Some(url) = super::postgres_url().await else {
            return;
        };
        super::rows_from_another_process_are_relayed_by_polling(url).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_relay_finishes_the_row_in_flight_then_stops() {
        let Some(db) = crate::store::postgres().await else {
            return;
        };
        super::the_relay_finishes_the_row_in_flight_then_stops(db).await;
    }
}
