//! The bus on a Kafka-protocol broker, through rdkafka (librdkafka built from source).
//!
//! Events are produced to the partition chosen by [`crate::bus::partition_for`] (the same as the
//! embedded bus and Kafka's Java client), with the envelope as the record value and its id,
//! type and trace context also in record headers for tools. Consumers never auto-commit: a
//! commit is an explicit, synchronous offset commit for the group, so at-least-once holds.
//! Topics are created through the admin API (brokers such as tansu do not auto-create them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};
use rdkafka::{Offset, TopicPartitionList};

use crate::bus::{
    BatchError, Delivery, Envelope, Error, EventBus, GroupOffsets, Offsets, Position, Subscription,
    TopicSpec, check_group_name, partition_for, topics,
};
use crate::settings::KafkaSettings;

/// The bus error for a failed rdkafka call.
fn kafka(what: &'static str) -> impl FnOnce(KafkaError) -> Error {
    move |e| Error::Broker {
        what,
        source: Box::new(e),
    }
}

/// A failed produce: [`Error::Refused`] when the broker refuses the record itself (so the
/// outbox relay dead-letters it instead of retrying it forever), [`Error::Broker`] otherwise.
fn produce_error(e: KafkaError) -> Error {
    let refused = matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::MessageBatchTooLarge
        )
    );
    if refused {
        Error::Refused {
            what: "kafka produce",
            source: Box::new(e),
        }
    } else {
        kafka("kafka produce")(e)
    }
}

/// A bus on a Kafka-protocol broker.
pub struct KafkaBus {
    settings: KafkaSettings,
    client_id: String,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    /// Topics known to this process: created here, or found in the registry and on the broker.
    known: Mutex<HashMap<String, TopicSpec>>,
    round_robin: std::sync::atomic::AtomicU64,
}

impl KafkaBus {
    /// Connects a producer and an admin client. Nothing is sent until first use.
    pub fn connect(settings: &KafkaSettings, client_id: &str) -> Result<Self, Error> {
        let mut base = ClientConfig::new();
        base.set("bootstrap.servers", &settings.brokers)
            .set("client.id", client_id)
            .set("socket.keepalive.enable", "true");
        let producer: FutureProducer = base
            .clone()
            .set("acks", "all")
            .set(
                "enable.idempotence",
                if settings.idempotence {
                    "true"
                } else {
                    "false"
                },
            )
            .set(
                "message.timeout.ms",
                settings.message_timeout_ms.to_string(),
            )
            .set("linger.ms", "1")
            .create()
            .map_err(kafka("create kafka producer"))?;
        let admin: AdminClient<DefaultClientContext> =
            base.create().map_err(kafka("create kafka admin client"))?;
        Ok(Self {
            settings: settings.clone(),
            client_id: client_id.to_owned(),
            producer,
            admin,
            known: Mutex::new(HashMap::new()),
            round_robin: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.message_timeout_ms)
    }

    /// The name of `topic` (or a group) on the broker: `<namespace>.<name>`, or the name.
    fn on_broker(&self, name: &str) -> String {
        namespaced(&self.settings.namespace, name)
    }

    /// The spec of `topic`: known already, or registered and present on the broker.
    async fn spec(&self, topic: &str) -> Result<TopicSpec, Error> {
        if let Some(spec) = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(topic)
        {
            return Ok(spec.clone());
        }
        let partitions = self.partitions_on_broker(topic).await?;
        let Some(partitions) = partitions else {
            return Err(Error::UnknownTopic(topic.to_owned()));
        };
        let mut spec = topics::find(topic)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(topic.to_owned()))?;
        spec.partitions = partitions;
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(topic.to_owned(), spec.clone());
        Ok(spec)
    }

    async fn partitions_on_broker(&self, topic: &str) -> Result<Option<i32>, Error> {
        let client = self.producer.clone();
        let topic = self.on_broker(topic);
        let timeout = self.timeout();
        tokio::task::spawn_blocking(move || {
            let md = client
                .client()
                .fetch_metadata(Some(&topic), timeout)
                .map_err(kafka("fetch kafka metadata"))?;
            Ok(md
                .topics()
                .iter()
                .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
                .map(|t| t.partitions().len() as i32))
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }
}

/// An envelope made ready for the producer: its partition, bytes and headers.
struct Record {
    topic: String,
    key: Vec<u8>,
    partition: i32,
    payload: Vec<u8>,
    headers: OwnedHeaders,
}

impl Record {
    fn future(&self) -> FutureRecord<'_, [u8], [u8]> {
        FutureRecord::to(&self.topic)
            .key(self.key.as_slice())
            .payload(self.payload.as_slice())
            .partition(self.partition)
            .headers(self.headers.clone())
    }
}

impl KafkaBus {
    /// Checks `envelope` against its topic and makes its record.
    fn record(&self, topic: &str, spec: &TopicSpec, envelope: &Envelope) -> Result<Record, Error> {
        if envelope.event_type != spec.payload {
            return Err(Error::WrongPayload {
                topic: topic.to_owned(),
                expected: spec.payload.to_string(),
                actual: envelope.event_type.clone(),
            });
        }
        let partition = if envelope.key.is_empty() {
            let n = self
                .round_robin
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (n % spec.partitions as u64) as i32
        } else {
            partition_for(envelope.key.as_bytes(), spec.partitions)
        };
        let id = envelope.id.to_string();
        let mut headers = OwnedHeaders::new()
            .insert(Header {
                key: "qts-event-id",
                value: Some(id.as_bytes()),
            })
            .insert(Header {
                key: "qts-event-type",
                value: Some(envelope.event_type.as_bytes()),
            });
        for (k, v) in &envelope.trace_context {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        Ok(Record {
            topic: self.on_broker(topic),
            key: envelope.key.as_bytes().to_vec(),
            partition,
            payload: envelope.to_bytes(),
            headers,
        })
    }
}

/// Awaits the acknowledgements of `in_flight` in order, appending where each landed to
/// `positions`; the first failure ends it with how many of the batch are stored.
async fn settle(
    in_flight: &mut Vec<DeliveryFuture>,
    positions: &mut Vec<Position>,
) -> Result<(), BatchError> {
    for delivery in in_flight.drain(..) {
        let error = match delivery.await {
            Ok(Ok(delivered)) => {
                positions.push(Position {
                    partition: delivered.partition,
                    offset: delivered.offset,
                });
                continue;
            }
            Ok(Err((e, _))) => produce_error(e),
            Err(_) => Error::Task("the kafka producer has stopped".to_owned()),
        };
        return Err(BatchError {
            stored: positions.len(),
            error,
        });
    }
    Ok(())
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), Error> {
        for spec in topics {
            spec.validate()?;
        }
        let names: Vec<String> = topics.iter().map(|t| self.on_broker(&t.name)).collect();
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .zip(&names)
            .map(|(t, name)| {
                let topic = NewTopic::new(
                    name,
                    t.partitions,
                    TopicReplication::Fixed(self.settings.replication_factor),
                );
                if crate::bus::topics::compacted(&t.name) {
                    topic.set("cleanup.policy", "compact")
                } else {
                    topic
                }
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(self.timeout()));
        let results = self
            .admin
            .create_topics(new.iter(), &opts)
            .await
            .map_err(kafka("create kafka topics"))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    tracing::warn!(topic, code = %code, "create topic failed");
                    return Err(kafka("create kafka topic")(KafkaError::AdminOp(code)));
                }
            }
        }
        for spec in topics {
            let existing = self
                .partitions_on_broker(&spec.name)
                .await?
                .unwrap_or(spec.partitions);
            if existing != spec.partitions {
                return Err(Error::PartitionMismatch {
                    topic: spec.name.to_string(),
                    existing,
                    wanted: spec.partitions,
                });
            }
            self.known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(spec.name.to_string(), spec.clone());
        }
        Ok(())
    }

    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<Position, Error> {
        let spec = self.spec(topic).await?;
        let record = self.record(topic, &spec, envelope)?;
        let delivered = self
            .producer
            .send(record.future(), self.timeout())
            .await
            .map_err(|(e, _)| produce_error(e))?;
        Ok(Position {
            partition: delivered.partition,
            offset: delivered.offset,
        })
    }

    async fn publish_batch(&self, batch: &[(&str, Envelope)]) -> Result<Vec<Position>, BatchError> {
        // Handed to the producer in batch order (librdkafka keeps a partition's order, also
        // across its retries with idempotence on), then the acknowledgements are awaited.
        let mut positions = Vec::with_capacity(batch.len());
        let mut in_flight = Vec::with_capacity(batch.len());
        for (topic, envelope) in batch {
            let record = match self.spec(topic).await {
                Ok(spec) => self.record(topic, &spec, envelope),
                Err(e) => Err(e),
            };
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    settle(&mut in_flight, &mut positions).await?;
                    return Err(BatchError {
                        stored: positions.len(),
                        error,
                    });
                }
            };
            let mut sent = self.producer.send_result(record.future());
            if let Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) = &sent {
                // The producer's queue is full: let what is in flight land, then go on.
                settle(&mut in_flight, &mut positions).await?;
                sent = self.producer.send_result(record.future());
            }
            match sent {
                Ok(delivery) => in_flight.push(delivery),
                Err((e, _)) => {
                    settle(&mut in_flight, &mut positions).await?;
                    return Err(BatchError {
                        stored: positions.len(),
                        error: produce_error(e),
                    });
                }
            }
        }
        settle(&mut in_flight, &mut positions).await?;
        Ok(positions)
    }

    async fn subscribe(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<Box<dyn Subscription>, Error> {
        check_group_name(group)?;
        for t in topics {
            self.spec(t).await?;
        }
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.settings.brokers)
            .set("client.id", &self.client_id)
            .set("group.id", self.on_broker(group))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set(
                "fetch.wait.max.ms",
                self.settings.fetch_wait_max_ms.to_string(),
            )
            .set(
                "session.timeout.ms",
                self.settings.session_timeout_ms.to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (self.settings.session_timeout_ms / 4).max(100).to_string(),
            )
            .create()
            .map_err(kafka("create kafka consumer"))?;
        let names: Vec<String> = topics.iter().map(|t| self.on_broker(t)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(kafka("kafka subscribe"))?;
        Ok(Box::new(KafkaSubscription {
            consumer: Arc::new(consumer),
            namespace: self.settings.namespace.clone(),
        }))
    }

    async fn offsets(&self, topic: &str) -> Result<Vec<Offsets>, Error> {
        let partitions = self.spec(topic).await?.partitions;
        let client = self.producer.clone();
        let name = self.on_broker(topic);
        let timeout = self.timeout();
        tokio::task::spawn_blocking(move || {
            (0..partitions)
                .map(|p| {
                    let (first, next) = client
                        .client()
                        .fetch_watermarks(&name, p, timeout)
                        .map_err(kafka("fetch kafka watermarks"))?;
                    Ok(Offsets { first, next })
                })
                .collect()
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    async fn groups(&self) -> Result<Vec<GroupOffsets>, Error> {
        // Every topic this process knows (the registry's and those made here), by its name on
        // the broker, with its partitions.
        let mut topics: Vec<(String, i32)> = topics::TOPICS
            .iter()
            .map(|t| (t.name.to_string(), t.partitions))
            .collect();
        for (name, spec) in self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            if !topics.iter().any(|(n, _)| n == name) {
                topics.push((name.clone(), spec.partitions));
            }
        }
        let client = self.producer.clone();
        let (brokers, namespace) = (
            self.settings.brokers.clone(),
            self.settings.namespace.clone(),
        );
        let timeout = self.timeout();
        tokio::task::spawn_blocking(move || {
            let list = client
                .client()
                .fetch_group_list(None, timeout)
                .map_err(kafka("list kafka groups"))?;
            let mut out = Vec::new();
            for g in list.groups() {
                let group = match namespace.as_str() {
                    "" => g.name().to_owned(),
                    ns => match g.name().strip_prefix(&format!("{ns}.")) {
                        Some(rest) => rest.to_owned(),
                        None => continue,
                    },
                };
                if g.protocol_type() != "consumer" && !g.protocol_type().is_empty() {
                    continue;
                }
                let reader: rdkafka::consumer::BaseConsumer = ClientConfig::new()
                    .set("bootstrap.servers", &brokers)
                    .set("group.id", g.name())
                    .set("enable.auto.commit", "false")
                    .create()
                    .map_err(kafka("create kafka group reader"))?;
                let mut tpl = TopicPartitionList::new();
                for (topic, partitions) in &topics {
                    for p in 0..*partitions {
                        tpl.add_partition(&namespaced(&namespace, topic), p);
                    }
                }
                let committed = reader
                    .committed_offsets(tpl, timeout)
                    .map_err(kafka("read kafka committed offsets"))?;
                let mut by_topic: Vec<(String, i32, Option<i64>)> = Vec::new();
                let mut read: std::collections::BTreeSet<String> = Default::default();
                for e in committed.elements() {
                    if let Offset::Offset(n) = e.offset() {
                        read.insert(e.topic().to_owned());
                        by_topic.push((e.topic().to_owned(), e.partition(), Some(n)));
                    }
                }
                // The partitions of a topic it read where it committed nothing yet.
                for e in committed.elements() {
                    if read.contains(e.topic()) && !matches!(e.offset(), Offset::Offset(_)) {
                        by_topic.push((e.topic().to_owned(), e.partition(), None));
                    }
                }
                let strip = |t: String| match namespace.as_str() {
                    "" => t,
                    ns => t
                        .strip_prefix(&format!("{ns}."))
                        .map(str::to_owned)
                        .unwrap_or(t),
                };
                let mut committed: Vec<(String, i32, Option<i64>)> = by_topic
                    .into_iter()
                    .map(|(t, p, o)| (strip(t), p, o))
                    .collect();
                committed.sort();
                out.push(GroupOffsets {
                    group,
                    members: u32::try_from(g.members().len()).unwrap_or(u32::MAX),
                    committed,
                });
            }
            out.sort_by(|a, b| a.group.cmp(&b.group));
            Ok(out)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    fn kind(&self) -> &'static str {
        "kafka"
    }
}

struct KafkaSubscription {
    consumer: Arc<StreamConsumer>,
    namespace: String,
}

/// `<namespace>.<name>`, or `name` without a namespace.
fn namespaced(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

impl KafkaSubscription {
    /// The registry name of a topic on the broker.
    fn local<'a>(&self, on_broker: &'a str) -> &'a str {
        if self.namespace.is_empty() {
            return on_broker;
        }
        on_broker
            .strip_prefix(self.namespace.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(on_broker)
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Delivery>, Error> {
        let message = match tokio::time::timeout(timeout, self.consumer.recv()).await {
            Err(_) => return Ok(None),
            Ok(Err(e)) => return Err(kafka("kafka consume")(e)),
            Ok(Ok(m)) => m,
        };
        let topic = self.local(message.topic()).to_owned();
        let partition = message.partition();
        let offset = message.offset();
        let envelope =
            Envelope::from_bytes(message.payload().unwrap_or_default()).map_err(|reason| {
                Error::Malformed {
                    topic: topic.clone(),
                    partition,
                    offset,
                    reason,
                }
            })?;
        Ok(Some(Delivery {
            topic,
            partition,
            offset,
            envelope,
        }))
    }

    async fn commit_offset(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), Error> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(
            &namespaced(&self.namespace, topic),
            partition,
            Offset::Offset(offset + 1),
        )
        .map_err(kafka("kafka commit"))?;
        let consumer = self.consumer.clone();
        let (topic, partition_) = (topic.to_owned(), partition);
        tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
            .map_err(|e| {
                let rebalanced = matches!(
                    e,
                    KafkaError::ConsumerCommit(
                        RDKafkaErrorCode::IllegalGeneration
                            | RDKafkaErrorCode::UnknownMemberId
                            | RDKafkaErrorCode::RebalanceInProgress
                    )
                );
                if rebalanced {
                    Error::NotAssigned {
                        topic,
                        partition: partition_,
                    }
                } else {
                    kafka("kafka commit")(e)
                }
            })
    }

    fn assignment(&self) -> Result<Vec<(String, i32)>, Error> {
        let tpl = self
            .consumer
            .assignment()
            .map_err(kafka("kafka assignment"))?;
        let mut out: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (self.local(e.topic()).to_owned(), e.partition()))
            .collect();
        out.sort();
        Ok(out)
    }
}
