//! The consumer loop on the embedded bus and a real Kafka-protocol broker, each with SQLite and
//! PostgreSQL: redelivery is handled once, a poison message goes to the dead-letter topic with
//! its reason and the next message is handled, a message that fails twice then succeeds is
//! handled once, a record that is not an envelope is dead-lettered, and cancellation finishes
//! the message in hand.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::bus::embedded::EmbeddedBus;
use common::bus::kafka::KafkaBus;
use common::bus::topics::SYSTEM_DEADLETTER;
use common::bus::{Delivery, Envelope, EventBus, Position, SharedBus, Subscription, TopicSpec};
use common::consumer::{Consumer, ConsumerMetrics, ConsumerPolicy, HandleError, Handler};
use common::on_engine;
use common::retry::Backoff;
use common::settings::{KafkaSettings, ServiceSettings, Sources};
use common::shutdown::CancellationToken;
use common::store::{Db, Migrations, Tx};
use proto::events::v1::{DeadLetter, ServiceLifecycle};
use tokio::sync::Semaphore;

use crate::helpers::{server, unique};

const WAIT: Duration = Duration::from_secs(30);
const KEY: &str = "k";

/// What a test runs against: a bus, a database with the handler's table, a topic, and a
/// consumer name of its own.
struct Fixture {
    bus: SharedBus,
    db: Db,
    topic: String,
    name: String,
    kind: &'static str,
}

async fn fixture(kind: &'static str, bus: SharedBus, db: Db) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1001_effects.sql"),
        "CREATE TABLE effects (event_id TEXT NOT NULL, label TEXT NOT NULL);",
    )
    .unwrap();
    let own = || async { sqlx::migrate::Migrator::new(dir.path()).await.unwrap() };
    db.migrate(Some(&Migrations {
        postgres: own().await,
        sqlite: own().await,
    }))
    .await
    .unwrap();
    let topic = unique("consume");
    bus.create_topics(&[
        TopicSpec::new(topic.clone(), "qts.events.v1.ServiceLifecycle", 1),
        SYSTEM_DEADLETTER,
    ])
    .await
    .unwrap();
    Fixture {
        bus,
        db,
        topic,
        name: unique("consumer"),
        kind,
    }
}

fn labelled(label: &str) -> Envelope {
    Envelope::new(
        "test",
        KEY,
        &ServiceLifecycle {
            service: "s".into(),
            instance_id: label.to_owned(),
            version: "1".into(),
            state: 1,
            at: None,
        },
    )
}

fn label(d: &Delivery) -> String {
    d.envelope.decode::<ServiceLifecycle>().unwrap().instance_id
}

#[derive(Debug, thiserror::Error)]
#[error("payment ledger write failed")]
struct Ledger(#[source] std::io::Error);

/// Behaves by label: `poison` is rejected, `bad` always fails, `flaky-*` fails twice then
/// works, `slow` waits at a gate, anything else writes one row to `effects`.
#[derive(Default, Clone)]
struct TestHandler {
    runs: Arc<Mutex<HashMap<String, u32>>>,
    gate: Option<(Arc<Semaphore>, Arc<tokio::sync::Notify>)>,
}

impl TestHandler {
    fn runs(&self, label: &str) -> u32 {
        self.runs.lock().unwrap().get(label).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Handler for TestHandler {
    async fn handle(&self, d: &Delivery, tx: &mut Tx) -> Result<(), HandleError> {
        let label = label(d);
        let run = {
            let mut runs = self.runs.lock().unwrap();
            let n = runs.entry(label.clone()).or_default();
            *n += 1;
            *n
        };
        match label.as_str() {
            "poison" => {
                return Err(HandleError::reject(Ledger(std::io::Error::other(
                    "payload names no account",
                ))));
            }
            "bad" => return Err(Ledger(std::io::Error::other("disk on fire")).into()),
            l if l.starts_with("flaky") && run <= 2 => {
                return Err(Ledger(std::io::Error::other("lock timeout")).into());
            }
            "slow" => {
                if let Some((gate, entered)) = &self.gate {
                    entered.notify_one();
                    gate.acquire().await.unwrap().forget();
                }
            }
            _ => {}
        }
        on_engine!(tx.conn(), |c| sqlx::query(
            "INSERT INTO effects (event_id, label) VALUES ($1, $2)"
        )
        .bind(d.envelope.id.to_string())
        .bind(&label)
        .execute(c)
        .await
        .map(drop))?;
        Ok(())
    }
}

fn policy() -> ConsumerPolicy {
    ConsumerPolicy {
        max_attempts: 3,
        backoff: Backoff::from_millis(1, 20),
    }
}

struct Running {
    token: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), common::consumer::Error>>,
    registry: prometheus::Registry,
}

fn start(f: &Fixture, handler: TestHandler) -> Running {
    let registry = prometheus::Registry::new();
    let metrics = ConsumerMetrics::register("test", &registry).unwrap();
    let consumer = Consumer::new(f.name.clone(), &[&f.topic], handler)
        .with_policy(policy())
        .with_metrics(metrics);
    let token = CancellationToken::new();
    let task = tokio::spawn(consumer.run(f.bus.clone(), f.db.clone(), token.clone()));
    Running {
        token,
        task,
        registry,
    }
}

impl Running {
    async fn stop(self) -> prometheus::Registry {
        self.token.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        self.registry
    }
}

fn counted(registry: &prometheus::Registry, outcome: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == "qts_consumer_messages_total")
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == "outcome" && l.value() == outcome)
        })
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

async fn effects(db: &Db, label: &str) -> i64 {
    on_engine!(db.pool(), |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM effects WHERE label = $1"
    )
    .bind(label)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// Waits until `label` has been handled (its row committed).
async fn until_handled(db: &Db, label: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while effects(db, label).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{label} was never handled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn publish(f: &Fixture, e: &Envelope) -> Position {
    f.bus.publish(&f.topic, e).await.unwrap()
}

/// The dead letters of this fixture's consumer, waiting until `n` arrived.
async fn dead_letters(f: &Fixture, n: usize) -> Vec<(Envelope, DeadLetter)> {
    let mut sub = f
        .bus
        .subscribe(&unique("dlq-reader"), &[&SYSTEM_DEADLETTER.name])
        .await
        .unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while out.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} dead letters arrived",
            out.len()
        );
        if let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap()
            && d.envelope.key == f.name
        {
            let record = d.envelope.decode::<DeadLetter>().unwrap();
            out.push((d.envelope, record));
        }
    }
    out
}

/// The same event delivered twice is handled once; the inbox recognises the second copy.
async fn a_redelivered_message_is_handled_once(f: Fixture) {
    let handler = TestHandler::default();
    let twice = labelled("twice");
    publish(&f, &twice).await;
    publish(&f, &twice).await;
    publish(&f, &labelled("after")).await;
    let running = start(&f, handler.clone());
    until_handled(&f.db, "after").await;
    let registry = running.stop().await;
    assert_eq!(effects(&f.db, "twice").await, 1);
    assert_eq!(
        handler.runs("twice"),
        1,
        "the duplicate never reached the handler"
    );
    assert_eq!(counted(&registry, "handled"), 2);
    assert_eq!(counted(&registry, "duplicate"), 1);
}

/// A rejected message and one that keeps failing go to the dead-letter topic with their
/// reason, position, error chain and original envelope; the message behind them is handled,
/// and after a restart neither comes back (their offsets were committed).
async fn a_poison_message_is_dead_lettered_and_the_next_is_handled(f: Fixture) {
    let handler = TestHandler::default();
    let poison = labelled("poison");
    let bad = labelled("bad");
    let at_poison = publish(&f, &poison).await;
    let at_bad = publish(&f, &bad).await;
    publish(&f, &labelled("good")).await;
    let running = start(&f, handler.clone());
    until_handled(&f.db, "good").await;

    let dead = dead_letters(&f, 2).await;
    let (envelope, rejected) = &dead[0];
    assert_eq!(envelope.event_type, "qts.events.v1.DeadLetter");
    assert_eq!(rejected.consumer, f.name);
    assert_eq!(rejected.reason, "rejected");
    assert_eq!(rejected.attempts, 1);
    assert_eq!(
        (rejected.topic.as_str(), rejected.partition, rejected.offset),
        (f.topic.as_str(), at_poison.partition, at_poison.offset)
    );
    assert_eq!(
        rejected.error,
        "payment ledger write failed: payload names no account"
    );
    assert_eq!(Envelope::from_bytes(&rejected.envelope).unwrap(), poison);
    let (_, exhausted) = &dead[1];
    assert_eq!(exhausted.reason, "retries_exhausted");
    assert_eq!(exhausted.attempts, 3);
    assert_eq!(exhausted.offset, at_bad.offset);
    assert_eq!(exhausted.error, "payment ledger write failed: disk on fire");
    assert_eq!(Envelope::from_bytes(&exhausted.envelope).unwrap(), bad);
    assert_eq!(handler.runs("bad"), 3);
    let registry = running.stop().await;
    assert_eq!(counted(&registry, "dead_lettered"), 2);
    assert_eq!(counted(&registry, "handled"), 1);

    let running = start(&f, handler.clone());
    publish(&f, &labelled("later")).await;
    until_handled(&f.db, "later").await;
    running.stop().await;
    assert_eq!(handler.runs("poison"), 1, "committed: not delivered again");
    assert_eq!(handler.runs("bad"), 3, "committed: not delivered again");
    assert_eq!(
        effects(&f.db, "poison").await + effects(&f.db, "bad").await,
        0
    );
}

/// Two failures then a success: handled once, its failed attempts left no writes, nothing was
/// dead-lettered.
async fn a_message_failing_twice_then_succeeding_is_handled_once(f: Fixture) {
    let handler = TestHandler::default();
    publish(&f, &labelled("flaky")).await;
    publish(&f, &labelled("next")).await;
    let running = start(&f, handler.clone());
    until_handled(&f.db, "next").await;
    let registry = running.stop().await;
    assert_eq!(handler.runs("flaky"), 3);
    assert_eq!(effects(&f.db, "flaky").await, 1);
    assert_eq!(counted(&registry, "handled"), 2);
    assert_eq!(counted(&registry, "dead_lettered"), 0);
}

/// A record that is not an envelope is dead-lettered with its position and the loop goes on.
async fn a_malformed_record_is_dead_lettered(f: Fixture) {
    let handler = TestHandler::default();
    let (partition, offset) = garbage(&f).await;
    publish(&f, &labelled("fine")).await;
    let running = start(&f, handler.clone());
    until_handled(&f.db, "fine").await;
    let dead = dead_letters(&f, 1).await;
    let (_, record) = &dead[0];
    assert_eq!(record.reason, "malformed");
    assert_eq!(
        (record.topic.as_str(), record.partition, record.offset),
        (f.topic.as_str(), partition, offset)
    );
    assert!(
        record.error.starts_with("record is not an envelope"),
        "{}",
        record.error
    );
    assert!(record.envelope.is_empty());
    let registry = running.stop().await;
    assert_eq!(counted(&registry, "dead_lettered"), 1);
}

/// Cancelled while the handler runs, the loop lets it finish, commits its writes and offset,
/// and stops; the next start handles only what came after.
async fn cancellation_finishes_the_message_in_hand(f: Fixture) {
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(tokio::sync::Notify::new());
    let handler = TestHandler {
        gate: Some((gate.clone(), entered.clone())),
        ..TestHandler::default()
    };
    publish(&f, &labelled("slow")).await;
    let running = start(&f, handler.clone());
    tokio::time::timeout(WAIT, entered.notified())
        .await
        .unwrap();
    running.token.cancel();
    gate.add_permits(1);
    let registry = running.stop().await;
    assert_eq!(effects(&f.db, "slow").await, 1);
    assert_eq!(counted(&registry, "handled"), 1);

    let running = start(&f, handler.clone());
    publish(&f, &labelled("then")).await;
    until_handled(&f.db, "then").await;
    let registry = running.stop().await;
    assert_eq!(handler.runs("slow"), 1);
    assert_eq!(
        counted(&registry, "duplicate"),
        0,
        "the offset was committed"
    );
}

/// Puts a record that is not an envelope on the topic and returns its position: raw bytes on
/// Kafka; on the embedded bus (which stores envelopes, not bytes) a marked event that
/// [`Garbling`] reports as malformed, exactly as the Kafka subscription would.
async fn garbage(f: &Fixture) -> (i32, i64) {
    if f.kind == "kafka" {
        use rdkafka::producer::{FutureProducer, FutureRecord};
        let brokers = std::env::var("TEST_KAFKA_BROKERS").unwrap();
        let raw: FutureProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .unwrap();
        let delivered = raw
            .send(
                FutureRecord::to(&f.topic)
                    .key(KEY)
                    .payload(&b"\xff not an envelope"[..])
                    .partition(0),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        (delivered.partition, delivered.offset)
    } else {
        let at = publish(f, &labelled("garbage")).await;
        (at.partition, at.offset)
    }
}

/// The embedded bus, with events labelled `garbage` reported as malformed records.
struct Garbling(EmbeddedBus);

struct GarblingSub(Box<dyn Subscription>);

#[async_trait]
impl EventBus for Garbling {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), common::bus::Error> {
        self.0.create_topics(topics).await
    }
    async fn publish(
        &self,
        topic: &str,
        envelope: &Envelope,
    ) -> Result<Position, common::bus::Error> {
        self.0.publish(topic, envelope).await
    }
    async fn subscribe(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<Box<dyn Subscription>, common::bus::Error> {
        Ok(Box::new(GarblingSub(
            self.0.subscribe(group, topics).await?,
        )))
    }
    async fn offsets(&self, topic: &str) -> Result<Vec<common::bus::Offsets>, common::bus::Error> {
        self.0.offsets(topic).await
    }
    async fn groups(&self) -> Result<Vec<common::bus::GroupOffsets>, common::bus::Error> {
        self.0.groups().await
    }
    fn kind(&self) -> &'static str {
        "embedded"
    }
}

#[async_trait]
impl Subscription for GarblingSub {
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Delivery>, common::bus::Error> {
        match self.0.poll(timeout).await? {
            Some(d)
                if d.envelope.event_type == "qts.events.v1.ServiceLifecycle"
                    && label(&d) == "garbage" =>
            {
                Err(common::bus::Error::Malformed {
                    topic: d.topic,
                    partition: d.partition,
                    offset: d.offset,
                    reason: "invalid wire type".into(),
                })
            }
            other => Ok(other),
        }
    }
    async fn commit_offset(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), common::bus::Error> {
        self.0.commit_offset(topic, partition, offset).await
    }
    fn assignment(&self) -> Result<Vec<(String, i32)>, common::bus::Error> {
        self.0.assignment()
    }
}

fn embedded() -> Option<SharedBus> {
    Some(Arc::new(Garbling(EmbeddedBus::in_memory(10_000))))
}

fn kafka() -> Option<SharedBus> {
    let brokers = server("TEST_KAFKA_BROKERS")?;
    let settings = KafkaSettings {
        brokers,
        replication_factor: 1,
        session_timeout_ms: 6000,
        fetch_wait_max_ms: 10,
        message_timeout_ms: 10_000,
        idempotence: false,
        namespace: String::new(),
    };
    Some(Arc::new(
        KafkaBus::connect(&settings, "qts-consumer-test").unwrap(),
    ))
}

macro_rules! matrix {
    ($($case:ident),*) => {
        matrix!(@one embedded_sqlite, "embedded", embedded, sqlite; $($case),*);
        matrix!(@one embedded_postgres, "embedded", embedded, postgres; $($case),*);
        matrix!(@one kafka_sqlite, "kafka", kafka, sqlite; $($case),*);
        matrix!(@one kafka_postgres, "kafka", kafka, postgres; $($case),*);
    };
    (@one $module:ident, $kind:literal, $bus:ident, $db:ident; $($case:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(bus) = super::$bus() else { return };
                    let Some(db) = crate::store::$db().await else { return };
                    super::$case(super::fixture($kind, bus, db).await).await;
                }
            )*
        }
    };
}

matrix!(
    a_redelivered_message_is_handled_once,
    a_poison_message_is_dead_lettered_and_the_next_is_handled,
    a_message_failing_twice_then_succeeding_is_handled_once,
    a_malformed_record_is_dead_lettered,
    cancellation_finishes_the_message_in_hand
);

#[test]
fn the_default_policy_is_the_shared_default_toml() {
    let spec = common::registry::find("oms").unwrap();
    let settings = ServiceSettings::load_from(spec, "", &Sources::default()).unwrap();
    assert_eq!(
        ConsumerPolicy::from(&settings.consumer),
        ConsumerPolicy::default()
    );
}
