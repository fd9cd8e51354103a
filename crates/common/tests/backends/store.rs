//! The same repository code against SQLite and a real PostgreSQL: typed columns, the migration
//! from the old schema, the outbox (order, poison rows, bulk COPY, pruning) and the inbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::bus::embedded::EmbeddedBus;
use common::bus::{Envelope, EventBus, Position, Subscription, TopicSpec};
use common::on_engine;
use common::retry::Backoff;
use common::store::{Db, Engine, Inbox, Migrations, Outbox, PerEngine, RelayPolicy, Timestamp};
use proto::events::v1::ServiceLifecycle;

use crate::helpers::{server, unique};

pub async fn sqlite() -> Option<Db> {
    let dir = tempfile::tempdir().unwrap().keep();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    Some(Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap())
}

/// The URL of a fresh, empty PostgreSQL database.
pub async fn postgres_url() -> Option<String> {
    let admin_url = server("TEST_DATABASE_URL")?;
    Some(
        common::service::testing::fresh_database(&admin_url, "qts_test")
            .await
            .unwrap(),
    )
}

/// A fresh, empty PostgreSQL database (not migrated).
pub async fn postgres() -> Option<Db> {
    let url = postgres_url().await?;
    Some(Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap())
}

const PAYLOAD: &str = "qts.events.v1.ServiceLifecycle";

pub fn event(n: u32) -> Envelope {
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

fn number(e: &Envelope) -> String {
    e.decode::<ServiceLifecycle>().unwrap().instance_id
}

fn policy(max_attempts: u32) -> RelayPolicy {
    RelayPolicy {
        batch: 100,
        max_attempts,
        backoff: Backoff::from_millis(1, 5),
    }
}

async fn bus_with_topic() -> (Arc<EmbeddedBus>, String) {
    let bus = Arc::new(EmbeddedBus::in_memory(100_000));
    let topic = unique("outbox");
    bus.create_topics(&[TopicSpec::new(topic.clone(), PAYLOAD, 1)])
        .await
        .unwrap();
    (bus, topic)
}

async fn drain(bus: &dyn EventBus, topic: &str) -> Vec<String> {
    let mut sub = bus.subscribe(&unique("g"), &[topic]).await.unwrap();
    let mut got = Vec::new();
    while let Some(d) = sub.poll(Duration::from_millis(50)).await.unwrap() {
        got.push(number(&d.envelope));
    }
    got
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
    on_engine!(db.pool(), |p| sqlx::query(
        "INSERT INTO orders_test (id, qty) VALUES ($1, $2)"
    )
    .bind("o1")
    .bind(100i64)
    .execute(p)
    .await
    .map(drop))
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

/// uuid, timestamptz and bytea on PostgreSQL; BLOB, INTEGER micros and BLOB on SQLite; the same
/// Rust values read back from both, and times compare correctly in SQL across whole seconds.
async fn outbox_and_inbox_columns_are_typed(db: Db) {
    db.migrate(None).await.unwrap();
    let types: Vec<String> = match db.pool() {
        PerEngine::Postgres(p) => {
            sqlx::query_scalar(
                "SELECT table_name || '.' || column_name || ' ' || data_type \
                 FROM information_schema.columns \
                 WHERE table_name IN ('qts_outbox', 'qts_inbox') \
                 AND column_name IN ('event_id', 'envelope', 'created_at', 'published_at', 'processed_at') \
                 ORDER BY 1",
            )
            .fetch_all(p)
            .await
            .unwrap()
        }
        PerEngine::Sqlite(p) => {
            let mut out: Vec<String> = Vec::new();
            for table in ["qts_inbox", "qts_outbox"] {
                let cols: Vec<(String, String)> =
                    sqlx::query_as(&format!("SELECT name, type FROM pragma_table_info('{table}')"))
                        .fetch_all(p)
                        .await
                        .unwrap();
                for (name, ty) in cols {
                    if ["event_id", "envelope", "created_at", "published_at", "processed_at"]
                        .contains(&name.as_str())
                    {
                        out.push(format!("{table}.{name} {}", ty.to_lowercase()));
                    }
                }
            }
            out.sort();
            out
        }
    };
    let expected: &[&str] = match db.engine() {
        Engine::Postgres => &[
            "qts_inbox.event_id uuid",
            "qts_inbox.processed_at timestamp with time zone",
            "qts_outbox.created_at timestamp with time zone",
            "qts_outbox.envelope bytea",
            "qts_outbox.event_id uuid",
            "qts_outbox.published_at timestamp with time zone",
        ],
        Engine::Sqlite => &[
            "qts_inbox.event_id blob",
            "qts_inbox.processed_at integer",
            "qts_outbox.created_at integer",
            "qts_outbox.envelope blob",
            "qts_outbox.event_id blob",
            "qts_outbox.published_at integer",
        ],
    };
    assert_eq!(types, expected);

    // Values round-trip exactly, and SQL orders times like Rust does around a whole second.
    let whole = Timestamp::from(time::macros::datetime!(2025-06-02 02:15:05 UTC));
    let after = Timestamp::from(time::macros::datetime!(2025-06-02 02:15:05.25 UTC));
    let id = uuid::Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    for (n, at) in [(1i64, after), (2, whole)] {
        on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO qts_inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3)"
        )
        .bind(format!("c{n}"))
        .bind(id)
        .bind(at)
        .execute(c)
        .await
        .map(drop))
        .unwrap();
    }
    tx.commit().await.unwrap();
    let rows: Vec<(String, uuid::Uuid, Timestamp)> = on_engine!(db.pool(), |p| sqlx::query_as(
        "SELECT consumer, event_id, processed_at FROM qts_inbox WHERE processed_at < $1 \
         ORDER BY processed_at"
    )
    .bind(Timestamp::from(
        time::macros::datetime!(2025-06-02 02:15:06 UTC)
    ))
    .fetch_all(p)
    .await)
    .unwrap();
    assert_eq!(
        rows,
        vec![("c2".to_owned(), id, whole), ("c1".to_owned(), id, after)]
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
    assert!(outbox.oldest_pending().await.unwrap().is_some());

    // The topic does not exist yet: the head row is retried (rows behind it wait, in order).
    let step = outbox
        .relay_once(bus.as_ref(), &policy(5), None)
        .await
        .unwrap();
    assert_eq!(step.published, 0);
    assert!(step.retry_after.is_some());
    assert!(step.error.unwrap().contains("unknown topic"));
    assert_eq!(outbox.pending().await.unwrap(), 3);

    bus.create_topics(&[TopicSpec::new(topic.clone(), PAYLOAD, 1)])
        .await
        .unwrap();
    let two = RelayPolicy {
        batch: 2,
        ..policy(5)
    };
    let step = outbox.relay_once(bus.as_ref(), &two, None).await.unwrap();
    assert_eq!((step.published, step.more), (2, true));
    let step = outbox.relay_once(bus.as_ref(), &two, None).await.unwrap();
    assert_eq!((step.published, step.more), (1, false));
    assert_eq!(outbox.pending().await.unwrap(), 0);
    assert_eq!(outbox.oldest_pending().await.unwrap(), None);
    assert_eq!(drain(bus.as_ref(), &topic).await, vec!["0", "1", "2"]);
}

/// A row whose bytes are not an envelope and a row for a topic the bus refuses neither block
/// the rows behind them nor disappear: both end in `qts_outbox_dead` with the reason, the
/// error and the attempt count, and the refused one can be requeued once its topic exists.
async fn a_poison_outbox_row_does_not_block_the_rows_behind_it(db: Db) {
    db.migrate(None).await.unwrap();
    let (bus, topic) = bus_with_topic().await;
    let missing = unique("missing");
    let outbox = Outbox::new(db.clone());

    let mut tx = db.begin().await.unwrap();
    Outbox::enqueue(&mut tx, &topic, &event(1)).await.unwrap();
    let garbage_id = uuid::Uuid::now_v7();
    on_engine!(tx.conn(), |c| sqlx::query(
        "INSERT INTO qts_outbox (event_id, topic, envelope, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(garbage_id)
    .bind(&topic)
    .bind(&b"\xff\x00 not an envelope"[..])
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(drop))
    .unwrap();
    Outbox::enqueue(&mut tx, &missing, &event(2)).await.unwrap();
    Outbox::enqueue(&mut tx, &topic, &event(3)).await.unwrap();
    tx.commit().await.unwrap();

    let mut passes = 0;
    while outbox.pending().await.unwrap() > 0 {
        passes += 1;
        assert!(passes <= 10, "the relay is stuck");
        let step = outbox
            .relay_once(bus.as_ref(), &policy(3), None)
            .await
            .unwrap();
        // `retry_after` is the relay's to wait; the test does not need to.
        assert!(step.retry_after.is_some() || step.refused == 1);
    }
    assert_eq!(
        passes, 3,
        "two retries of the refused row, then it gives up"
    );
    assert_eq!(drain(bus.as_ref(), &topic).await, vec!["1", "3"]);

    let dead = outbox.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0].event_id, garbage_id);
    assert_eq!(dead[0].reason, "undecodable");
    assert_eq!(dead[0].attempts, 0);
    assert!(
        dead[0].error.contains("does not decode"),
        "{}",
        dead[0].error
    );
    assert_eq!(dead[0].envelope, b"\xff\x00 not an envelope");
    assert_eq!(dead[1].topic, missing);
    assert_eq!(dead[1].reason, "refused");
    assert_eq!(dead[1].attempts, 3);
    assert!(dead[1].error.contains("unknown topic"), "{}", dead[1].error);
    assert_eq!(
        number(&Envelope::from_bytes(&dead[1].envelope).unwrap()),
        "2"
    );

    // The operator fixes the cause and requeues: it goes out after what is already there.
    bus.create_topics(&[TopicSpec::new(missing.clone(), PAYLOAD, 1)])
        .await
        .unwrap();
    assert!(outbox.requeue(dead[1].seq).await.unwrap());
    assert!(!outbox.requeue(dead[1].seq).await.unwrap());
    let step = outbox
        .relay_once(bus.as_ref(), &policy(3), None)
        .await
        .unwrap();
    assert_eq!(step.published, 1);
    assert_eq!(drain(bus.as_ref(), &missing).await, vec!["2"]);
    assert_eq!(outbox.dead_letters(10).await.unwrap().len(), 1);
}

/// A bus that fails every publish while `down` is set, like an unreachable broker.
struct FlakyBus {
    inner: EmbeddedBus,
    down: AtomicBool,
}

#[async_trait]
impl EventBus for FlakyBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), common::bus::Error> {
        self.inner.create_topics(topics).await
    }
    async fn publish(
        &self,
        topic: &str,
        envelope: &Envelope,
    ) -> Result<Position, common::bus::Error> {
        if self.down.load(Ordering::SeqCst) {
            return Err(common::bus::Error::Broker {
                what: "kafka produce",
                source: "broker transport failure".into(),
            });
        }
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
        "flaky"
    }
}

/// An unreachable bus fails every row alike: nothing is dead-lettered however long it lasts,
/// and everything goes out in order once it is back.
async fn an_unreachable_bus_dead_letters_nothing(db: Db) {
    db.migrate(None).await.unwrap();
    let bus = FlakyBus {
        inner: EmbeddedBus::in_memory(100),
        down: AtomicBool::new(true),
    };
    let topic = unique("outbox");
    bus.create_topics(&[TopicSpec::new(topic.clone(), PAYLOAD, 1)])
        .await
        .unwrap();
    let outbox = Outbox::new(db.clone());
    let mut tx = db.begin().await.unwrap();
    for n in 0..3 {
        Outbox::enqueue(&mut tx, &topic, &event(n)).await.unwrap();
    }
    tx.commit().await.unwrap();
    for _ in 0..6 {
        let step = outbox.relay_once(&bus, &policy(2), None).await.unwrap();
        assert_eq!((step.published, step.refused), (0, 0));
        assert!(step.error.unwrap().contains("broker transport failure"));
    }
    assert_eq!(outbox.pending().await.unwrap(), 3);
    assert!(outbox.dead_letters(10).await.unwrap().is_empty());
    bus.down.store(false, Ordering::SeqCst);
    let step = outbox.relay_once(&bus, &policy(2), None).await.unwrap();
    assert_eq!(step.published, 3);
    assert_eq!(drain(&bus, &topic).await, vec!["0", "1", "2"]);
}

/// Thousands of events in one transaction: one COPY on PostgreSQL, prepared inserts on SQLite;
/// all or nothing with the transaction, relayed in order.
async fn bulk_enqueue_writes_everything_or_nothing(db: Db) {
    db.migrate(None).await.unwrap();
    let (bus, topic) = bus_with_topic().await;
    let outbox = Outbox::new(db.clone());
    let events: Vec<Envelope> = (0..5_000).map(event).collect();

    let mut tx = db.begin().await.unwrap();
    let n = Outbox::enqueue_many(&mut tx, events.iter().map(|e| (topic.as_str(), e)))
        .await
        .unwrap();
    assert_eq!(n, 5_000);
    tx.rollback().await.unwrap();
    assert_eq!(
        outbox.pending().await.unwrap(),
        0,
        "rolled back with its transaction"
    );

    let mut tx = db.begin().await.unwrap();
    Outbox::enqueue_many(&mut tx, events.iter().map(|e| (topic.as_str(), e)))
        .await
        .unwrap();
    assert_eq!(
        Outbox::enqueue_many(&mut tx, std::iter::empty())
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert_eq!(outbox.pending().await.unwrap(), 5_000);
    let big = RelayPolicy {
        batch: 1_000,
        ..policy(3)
    };
    while outbox
        .relay_once(bus.as_ref(), &big, None)
        .await
        .unwrap()
        .more
    {}
    assert_eq!(outbox.pending().await.unwrap(), 0);
    let got = drain(bus.as_ref(), &topic).await;
    let want: Vec<String> = (0..5_000).map(|n| n.to_string()).collect();
    assert_eq!(got, want);
}

/// Published rows and inbox records past their retention are deleted in batches; pending and
/// dead-lettered rows and recent records stay.
async fn pruning_deletes_only_what_is_past_retention(db: Db) {
    db.migrate(None).await.unwrap();
    let (bus, topic) = bus_with_topic().await;
    let outbox = Outbox::new(db.clone());
    let mut tx = db.begin().await.unwrap();
    for n in 0..7 {
        Outbox::enqueue(&mut tx, &topic, &event(n)).await.unwrap();
    }
    Outbox::enqueue(&mut tx, &unique("missing"), &event(7))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Publish the first six, dead-letter the refused one; the last stays pending.
    let six = RelayPolicy {
        batch: 6,
        ..policy(1)
    };
    assert_eq!(
        outbox
            .relay_once(bus.as_ref(), &six, None)
            .await
            .unwrap()
            .published,
        6
    );
    assert_eq!(
        outbox.relay_once(bus.as_ref(), &six, None).await.unwrap(),
        common::store::RelayStep {
            published: 1,
            refused: 1,
            ..Default::default()
        }
    );
    let mut tx = db.begin().await.unwrap();
    Outbox::enqueue(&mut tx, &topic, &event(8)).await.unwrap();
    tx.commit().await.unwrap();

    // Five of the published rows were published two days ago.
    let old = Timestamp::now().saturating_sub(Duration::from_secs(2 * 86_400));
    on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE qts_outbox SET published_at = $1 WHERE seq IN \
         (SELECT seq FROM qts_outbox WHERE published_at IS NOT NULL ORDER BY seq LIMIT 5)"
    )
    .bind(old)
    .execute(p)
    .await
    .map(drop))
    .unwrap();
    let day_ago = Timestamp::now().saturating_sub(Duration::from_secs(86_400));
    assert_eq!(
        outbox.prune(day_ago, 2).await.unwrap(),
        5,
        "in batches of 2"
    );
    assert_eq!(outbox.prune(day_ago, 2).await.unwrap(), 0);
    let left = on_engine!(db.pool(), |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM qts_outbox"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(left, 3, "two recent published rows and one pending");
    assert_eq!(outbox.pending().await.unwrap(), 1);
    assert_eq!(outbox.dead_letters(10).await.unwrap().len(), 1);

    let mut tx = db.begin().await.unwrap();
    for _ in 0..3 {
        Inbox::first_time(&mut tx, "risk", &uuid::Uuid::now_v7())
            .await
            .unwrap();
    }
    let recent = uuid::Uuid::now_v7();
    Inbox::first_time(&mut tx, "risk", &recent).await.unwrap();
    tx.commit().await.unwrap();
    on_engine!(db.pool(), |p| sqlx::query(
        "UPDATE qts_inbox SET processed_at = $1 WHERE event_id <> $2"
    )
    .bind(old)
    .bind(recent)
    .execute(p)
    .await
    .map(drop))
    .unwrap();
    assert_eq!(Inbox::prune(&db, day_ago, 2).await.unwrap(), 3);
    let mut tx = db.begin().await.unwrap();
    assert!(
        !Inbox::first_time(&mut tx, "risk", &recent).await.unwrap(),
        "a recent record is kept"
    );
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

/// A data directory from before typed storage (migration 0001: text ids, millisecond
/// integers) is migrated in place: pending rows are still relayed, handled events are still
/// recognised, published history keeps its times, and new rows continue the sequence.
async fn a_database_with_the_old_schema_is_migrated_in_place(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let engine = db.engine().as_str();
    let first = format!(
        "{}/migrations/{engine}/0001_outbox_inbox.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::copy(&first, dir.path().join("0001_outbox_inbox.sql")).unwrap();
    let old = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    match db.pool() {
        PerEngine::Postgres(p) => old.run(p).await.unwrap(),
        PerEngine::Sqlite(p) => old.run(p).await.unwrap(),
    }

    let (bus, topic) = bus_with_topic().await;
    let published = event(1);
    let pending = event(2);
    let handled = uuid::Uuid::now_v7();
    let ms = 1_748_830_505_123i64; // 2025-06-02T02:15:05.123Z
    let rows = [(&published, Some(ms + 5)), (&pending, None::<i64>)];
    for (envelope, published_at) in rows {
        on_engine!(db.pool(), |p| sqlx::query(
            "INSERT INTO qts_outbox (event_id, topic, envelope, created_at_ms, published_at_ms) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(envelope.id.to_string())
        .bind(&topic)
        .bind(envelope.to_bytes())
        .bind(ms)
        .bind(published_at)
        .execute(p)
        .await
        .map(drop))
        .unwrap();
    }
    on_engine!(db.pool(), |p| sqlx::query(
        "INSERT INTO qts_inbox (consumer, event_id, processed_at_ms) VALUES ($1, $2, $3)"
    )
    .bind("risk")
    .bind(handled.to_string())
    .bind(ms)
    .execute(p)
    .await
    .map(drop))
    .unwrap();

    db.migrate(None).await.unwrap();

    let history: Vec<(i64, uuid::Uuid, Timestamp, Option<Timestamp>)> =
        on_engine!(db.pool(), |p| sqlx::query_as(
            "SELECT seq, event_id, created_at, published_at FROM qts_outbox ORDER BY seq"
        )
        .fetch_all(p)
        .await)
        .unwrap();
    let at = |ms: i64| Timestamp::from_unix_micros(ms * 1000).unwrap();
    assert_eq!(
        history,
        vec![
            (1, published.id, at(ms), Some(at(ms + 5))),
            (2, pending.id, at(ms), None)
        ]
    );
    let mut tx = db.begin().await.unwrap();
    assert!(!Inbox::first_time(&mut tx, "risk", &handled).await.unwrap());
    Outbox::enqueue(&mut tx, &topic, &event(3)).await.unwrap();
    tx.commit().await.unwrap();
    let outbox = Outbox::new(db.clone());
    let step = outbox
        .relay_once(bus.as_ref(), &policy(3), None)
        .await
        .unwrap();
    assert_eq!(step.published, 2);
    assert_eq!(drain(bus.as_ref(), &topic).await, vec!["2", "3"]);
    let last: i64 = on_engine!(db.pool(), |p| sqlx::query_scalar(
        "SELECT MAX(seq) FROM qts_outbox"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(last, 3, "the sequence continues after the migrated rows");
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
    outbox_and_inbox_columns_are_typed,
    outbox_publishes_exactly_what_was_committed_in_order,
    a_poison_outbox_row_does_not_block_the_rows_behind_it,
    an_unreachable_bus_dead_letters_nothing,
    bulk_enqueue_writes_everything_or_nothing,
    pruning_deletes_only_what_is_past_retention,
    inbox_admits_an_event_once_per_consumer,
    a_database_with_the_old_schema_is_migrated_in_place
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

#[tokio::test]
async fn a_corrupt_sqlite_file_names_its_path_and_the_real_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oms.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let started = std::time::Instant::now();
    let err = Db::connect(&url, 4, Duration::from_secs(5))
        .await
        .unwrap_err();
    let text = common::error::chain(&err).to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("file is not a database"), "{text}");
    assert!(!text.contains("timed out"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "failed at once, not after the acquire timeout"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_names_the_server_not_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://qts:s3cret@127.0.0.1:{port}/qts_oms");
    let err = Db::connect(&url, 1, Duration::from_secs(2))
        .await
        .unwrap_err();
    let text = common::error::chain(&err).to_string();
    assert!(
        text.contains(&format!("postgres://qts@127.0.0.1:{port}/qts_oms")),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(!text.contains("pool timed out"), "{text}");
}

/// Not a check, a measurement for docs/adr/0001-typed-storage.md: 10,000 outbox rows in one
/// transaction, one `INSERT` each vs `Outbox::enqueue_many` (one COPY on PostgreSQL).
/// Run: `scripts/test.sh -p common --run-ignored only -E 'test(bulk_enqueue_timing)' --no-capture`
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn bulk_enqueue_timing() {
    for db in [sqlite().await, postgres().await].into_iter().flatten() {
        db.migrate(None).await.unwrap();
        let events: Vec<Envelope> = (0..10_000).map(event).collect();
        let (mut one_by_one, mut bulk) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            let mut tx = db.begin().await.unwrap();
            let started = std::time::Instant::now();
            for e in &events {
                Outbox::enqueue(&mut tx, "t.v1", e).await.unwrap();
            }
            one_by_one = one_by_one.min(started.elapsed());
            tx.rollback().await.unwrap();
            let mut tx = db.begin().await.unwrap();
            let started = std::time::Instant::now();
            Outbox::enqueue_many(&mut tx, events.iter().map(|e| ("t.v1", e)))
                .await
                .unwrap();
            bulk = bulk.min(started.elapsed());
            tx.rollback().await.unwrap();
        }
        eprintln!(
            "{}: 10000 rows, best of 3: INSERT each {:?}, enqueue_many {:?}",
            db.engine().as_str(),
            one_by_one,
            bulk
        );
    }
}

/// `sslmode=require` in the URL: the connection is TLS (rustls), as managed PostgreSQL
/// (RDS with `rds.force_ssl`) requires. scripts/test.sh starts its server with a self-signed
/// certificate and says so in `TEST_DATABASE_TLS`.
#[tokio::test]
async fn a_postgres_url_with_sslmode_require_connects_over_tls() {
    let Some(url) = postgres_url().await else {
        return;
    };
    if server("TEST_DATABASE_TLS").is_none() {
        return;
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = Db::connect(
        &format!("{url}{sep}sslmode=require"),
        2,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let (tls, version): (bool, Option<String>) =
        sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(db.postgres().unwrap())
            .await
            .unwrap();
    assert!(tls, "not TLS");
    assert!(
        version.is_some_and(|v| v.starts_with("TLSv1.")),
        "a TLS version"
    );
}
