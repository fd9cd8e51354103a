//! The same repository code against SQLite and a real PostgreSQL.

use std::sync::Arc;

use common::bus::embedded::EmbeddedBus;
use common::bus::{Envelope, EventBus, TopicSpec};
use common::store::{Db, Engine, Inbox, Migrations, Outbox};
use proto::events::v1::ServiceLifecycle;
use std::time::Duration;

use crate::helpers::{server, unique};

async fn sqlite() -> Option<Db> {
    let dir = tempfile::tempdir().unwrap().keep();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    Some(Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap())
}

async fn postgres() -> Option<Db> {
    let admin_url = server("TEST_DATABASE_URL")?;
    sqlx::any::install_default_drivers();
    let name = unique("qts_test").replace('-', "_");
    let admin = sqlx::AnyPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    Some(
        Db::connect(&format!("{base}/{name}"), 4, Duration::from_secs(5))
            .await
            .unwrap(),
    )
}

fn event(n: u32) -> Envelope {
    Envelope::new(
        "test",
        "k",
        &ServiceLifecycle {
            service: "s".into(),
            instance_id: n.to_string(),
            version: "1".into(),
            state: 1,
            at: None,
        },
    )
}

async fn migrations_apply_once_and_again_without_change(db: Db) {
    db.migrate(None).await.unwrap();
    db.migrate(None).await.unwrap();
    db.ping().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table_sql = "CREATE TABLE orders_test (id TEXT PRIMARY KEY, qty BIGINT NOT NULL);";
    std::fs::write(dir.path().join("1001_orders.sql"), table_sql).unwrap();
    let own = || async { sqlx::migrate::Migrator::new(dir.path()).await.unwrap() };
    let migrations = Migrations {
        postgres: own().await,
        sqlite: own().await,
    };
    db.migrate(Some(&migrations)).await.unwrap();
    // Shared and own migrations run as one set: applying them again changes nothing.
    db.migrate(Some(&migrations)).await.unwrap();
    sqlx::query("INSERT INTO orders_test (id, qty) VALUES ($1, $2)")
        .bind("o1")
        .bind(100i64)
        .execute(db.pool())
        .await
        .unwrap();

    // A service migration numbered among the shared ones is refused before anything runs.
    let low = tempfile::tempdir().unwrap();
    std::fs::write(
        low.path().join("7_clash.sql"),
        "CREATE TABLE clash (id TEXT);",
    )
    .unwrap();
    let low_migrator = || async { sqlx::migrate::Migrator::new(low.path()).await.unwrap() };
    let err = db
        .migrate(Some(&Migrations {
            postgres: low_migrator().await,
            sqlite: low_migrator().await,
        }))
        .await
        .unwrap_err();
    assert!(
        common::error::chain(&err)
            .to_string()
            .contains("1000 or above"),
        "{err}"
    );
}

async fn outbox_publishes_exactly_what_was_committed_in_order(db: Db) {
    db.migrate(None).await.unwrap();
    let bus = Arc::new(EmbeddedBus::in_memory(100));
    let topic = unique("outbox");
    let outbox = Outbox::new(db.clone());

    let mut tx = db.begin().await.unwrap();
    for n in 0..3 {
        Outbox::enqueue(&mut tx, &topic, &event(n)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut rolled_back = db.begin().await.unwrap();
    Outbox::enqueue(&mut rolled_back, &topic, &event(99))
        .await
        .unwrap();
    rolled_back.rollback().await.unwrap();
    assert_eq!(outbox.pending().await.unwrap(), 3);

    // The bus is down for this topic: nothing is lost, everything stays pending.
    assert!(outbox.relay_once(bus.as_ref(), 10).await.is_err());
    assert_eq!(outbox.pending().await.unwrap(), 3);

    bus.create_topics(&[TopicSpec::new(
        topic.clone(),
        "qts.events.v1.ServiceLifecycle",
        1,
    )])
    .await
    .unwrap();
    assert_eq!(outbox.relay_once(bus.as_ref(), 2).await.unwrap(), 2);
    assert_eq!(outbox.relay_once(bus.as_ref(), 10).await.unwrap(), 1);
    assert_eq!(outbox.pending().await.unwrap(), 0);

    let mut sub = bus.subscribe("g", &[&topic]).await.unwrap();
    let mut got = Vec::new();
    while let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
        got.push(d.envelope.decode::<ServiceLifecycle>().unwrap().instance_id);
    }
    assert_eq!(got, vec!["0", "1", "2"]);
}

async fn inbox_admits_an_event_once_per_consumer(db: Db) {
    db.migrate(None).await.unwrap();
    let id = uuid::Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    assert!(Inbox::first_time(&mut tx, "risk", &id).await.unwrap());
    tx.rollback().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(
        Inbox::first_time(&mut tx, "risk", &id).await.unwrap(),
        "a rolled back handling does not count"
    );
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(
        !Inbox::first_time(&mut tx, "risk", &id).await.unwrap(),
        "a redelivery is recognised"
    );
    assert!(
        Inbox::first_time(&mut tx, "oms", &id).await.unwrap(),
        "other consumers are independent"
    );
    tx.commit().await.unwrap();
}

macro_rules! on_both {
    ($($case:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = super::sqlite().await.unwrap();
                    assert_eq!(db.engine(), super::Engine::Sqlite);
                    super::$case(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = super::postgres().await else { return };
                    assert_eq!(db.engine(), super::Engine::Postgres);
                    super::$case(db).await;
                }
            )*
        }
    };
}

on_both!(
    migrations_apply_once_and_again_without_change,
    outbox_publishes_exactly_what_was_committed_in_order,
    inbox_admits_an_event_once_per_consumer
);

#[tokio::test]
async fn an_unsupported_url_is_a_clear_error() {
    let err = Db::connect("mysql://localhost/x", 1, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unsupported database url"),
        "{err}"
    );
}
