//! The event bus: one trait, two implementations with the same semantics.
//!
//! - [`embedded::EmbeddedBus`]: in-process, for `qts up`; optionally persisted under the data
//!   directory so a restart loses no event.
//! - `common::kafka::KafkaBus`: any Kafka-protocol broker, via rdkafka. It lives in `common`
//!   so that this crate (the envelope, the trait, the topic registry) links neither librdkafka
//!   nor sqlx: a domain crate can build and read envelopes cheaply.
//!
//! Semantics both keep (and `tests/backends/bus.rs` checks against both):
//! - topics have a fixed number of partitions; an event goes to the partition of its key
//!   ([`partition_for`], Kafka's murmur2), so events with one key stay in order;
//! - consumers join a group; a group's members share the partitions, and every group sees
//!   every event;
//! - a consumer commits what it has handled; a member that joins later resumes at the group's
//!   committed offset, so anything handled but not committed is delivered again (at least once).
//!   Handlers are idempotent on [`Envelope::id`] (see `common::store::Inbox`).
//!
//! Every event travels in an [`Envelope`]; [`topics`] is the registry of topic names, keys and
//! payload types.

pub mod embedded;
pub mod topics;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use prost::Message;
use time::OffsetDateTime;
use uuid::Uuid;

pub use topics::TopicSpec;

use common_error::{Classify, Kind};

/// `t` as a protobuf timestamp (to the nanosecond): what event payloads and APIs carry.
pub fn proto_time(t: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.unix_timestamp(),
        nanos: i32::try_from(t.nanosecond()).unwrap_or(0),
    }
}

/// A protobuf timestamp as an instant; `None` when out of range.
pub fn time_of(t: &prost_types::Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The topic was never created.
    #[error("unknown topic {0}")]
    UnknownTopic(String),
    /// The envelope's payload type is not the topic's payload type.
    #[error("topic {topic} carries {expected}, not {actual}")]
    WrongPayload {
        /// Topic name.
        topic: String,
        /// The registered payload type.
        expected: String,
        /// The envelope's payload type.
        actual: String,
    },
    /// A topic exists with a different partition count.
    #[error("topic {topic} exists with {existing} partitions, not {wanted}")]
    PartitionMismatch {
        /// Topic name.
        topic: String,
        /// Partitions it has.
        existing: i32,
        /// Partitions asked for.
        wanted: i32,
    },
    /// A record on the bus is not a valid envelope; its position lets the consumer skip it.
    #[error("malformed event at {topic}/{partition}@{offset}: {reason}")]
    Malformed {
        /// Topic name.
        topic: String,
        /// Partition.
        partition: i32,
        /// Offset of the bad record.
        offset: i64,
        /// What is wrong.
        reason: String,
    },
    /// The payload does not decode as the type asked for.
    #[error("payload of {event_type} does not decode")]
    Payload {
        /// The envelope's type.
        event_type: String,
        /// Decode failure.
        #[source]
        source: prost::DecodeError,
    },
    /// Asked to decode a payload as another type.
    #[error("event is {actual}, not {expected}")]
    TypeMismatch {
        /// Type asked for.
        expected: String,
        /// Type in the envelope.
        actual: String,
    },
    /// The partition is no longer assigned to this member (the group rebalanced).
    #[error("partition {topic}/{partition} is not assigned to this consumer")]
    NotAssigned {
        /// Topic name.
        topic: String,
        /// Partition.
        partition: i32,
    },
    /// A name is invalid.
    #[error("invalid {what}: {value:?}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The embedded log could not be read or written.
    #[error("bus storage")]
    Storage(#[from] std::io::Error),
    /// Another embedded bus (in this process or another) holds the directory.
    #[error(
        "bus directory {} is locked by process {holder}: another `qts up` or service is using this data directory",
        dir.display()
    )]
    Locked {
        /// The bus directory.
        dir: std::path::PathBuf,
        /// What the lock file says about its owner: its pid.
        holder: String,
    },
    /// The broker client (Kafka) failed.
    #[error("{what}")]
    Broker {
        /// What was being done, e.g. `kafka produce`.
        what: &'static str,
        /// The client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The broker refused this record for what it is (too large, malformed): sending it
    /// again will not help, unlike a [`Error::Broker`] failure.
    #[error("{what} refused")]
    Refused {
        /// What was being done, e.g. `kafka produce`.
        what: &'static str,
        /// The client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A blocking task failed.
    #[error("bus task: {0}")]
    Task(String),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::UnknownTopic(_) => Kind::NotFound,
            Error::WrongPayload { .. }
            | Error::Payload { .. }
            | Error::TypeMismatch { .. }
            | Error::Invalid { .. }
            | Error::Refused { .. }
            | Error::Malformed { .. } => Kind::InvalidArgument,
            Error::PartitionMismatch { .. } | Error::NotAssigned { .. } | Error::Locked { .. } => {
                Kind::FailedPrecondition
            }
            Error::Storage(_) | Error::Broker { .. } => Kind::Unavailable,
            Error::Task(_) => Kind::Internal,
        }
    }
}

/// An event with its metadata. On the wire it is `qts.common.v1.Envelope`.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Unique id (UUIDv7, time-ordered); consumers deduplicate on it.
    pub id: Uuid,
    /// Full protobuf name of the payload, e.g. `qts.events.v1.ServiceLifecycle`.
    pub event_type: String,
    /// Version of the payload schema on its topic.
    pub schema_version: u32,
    /// When the event happened.
    pub time: OffsetDateTime,
    /// W3C trace context of the producing span.
    pub trace_context: HashMap<String, String>,
    /// Partition key; empty spreads events round-robin.
    pub key: String,
    /// Producing service.
    pub source: String,
    /// Protobuf-encoded payload.
    pub payload: Bytes,
}

impl Envelope {
    /// Wraps `message`, stamping a new id, the current time and the current trace context.
    pub fn new<M: Message + prost::Name>(
        source: &str,
        key: impl Into<String>,
        message: &M,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: M::full_name(),
            schema_version: 1,
            time: OffsetDateTime::now_utc(),
            trace_context: common_telemetry::current_context(),
            key: key.into(),
            source: source.to_owned(),
            payload: Bytes::from(message.encode_to_vec()),
        }
    }

    /// Sets the schema version.
    pub fn with_schema_version(mut self, version: u32) -> Self {
        self.schema_version = version;
        self
    }

    /// Decodes the payload as `M`, checking the type name first.
    pub fn decode<M: Message + prost::Name + Default>(&self) -> Result<M, Error> {
        let expected = M::full_name();
        if self.event_type != expected {
            return Err(Error::TypeMismatch {
                expected,
                actual: self.event_type.clone(),
            });
        }
        M::decode(self.payload.clone()).map_err(|source| Error::Payload {
            event_type: self.event_type.clone(),
            source,
        })
    }

    /// Wire encoding (`qts.common.v1.Envelope`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let nanos = self.time.unix_timestamp_nanos();
        proto::common::v1::Envelope {
            id: self.id.to_string(),
            r#type: self.event_type.clone(),
            schema_version: self.schema_version,
            time: Some(prost_types::Timestamp {
                seconds: i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX),
                nanos: i32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0),
            }),
            trace_context: self.trace_context.clone(),
            key: self.key.clone(),
            source: self.source.clone(),
            payload: self.payload.to_vec(),
        }
        .encode_to_vec()
    }

    /// Parses the wire encoding; every field is checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let wire = proto::common::v1::Envelope::decode(bytes).map_err(|e| e.to_string())?;
        let id = Uuid::parse_str(&wire.id).map_err(|e| format!("id {:?}: {e}", wire.id))?;
        if wire.r#type.is_empty() {
            return Err("empty event type".to_owned());
        }
        let ts = wire.time.ok_or("missing time")?;
        let time = OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos),
        )
        .map_err(|e| format!("time: {e}"))?;
        Ok(Self {
            id,
            event_type: wire.r#type,
            schema_version: wire.schema_version,
            time,
            trace_context: wire.trace_context,
            key: wire.key,
            source: wire.source,
            payload: Bytes::from(wire.payload),
        })
    }
}

/// A batch publish that failed part-way: the first `stored` events are stored, the one after
/// them failed, and the rest may or may not be stored.
#[derive(Debug, thiserror::Error)]
#[error("publish batch failed after {stored} stored events")]
pub struct BatchError {
    /// How many leading events of the batch are known stored.
    pub stored: usize,
    /// Why the next one was not.
    #[source]
    pub error: Error,
}

impl Classify for BatchError {
    fn kind(&self) -> Kind {
        self.error.kind()
    }
}

/// Where a published event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
}

/// An event handed to a consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Topic it came from.
    pub topic: String,
    /// Partition it came from.
    pub partition: i32,
    /// Its offset; committing it means "everything up to here is handled".
    pub offset: i64,
    /// The event.
    pub envelope: Envelope,
}

impl Delivery {
    /// A span for handling this event, continuing the producer's trace from the envelope.
    pub fn span(&self) -> tracing::Span {
        let span = tracing::info_span!(
            "consume",
            topic = %self.topic,
            partition = self.partition,
            offset = self.offset,
            event_type = %self.envelope.event_type,
            event_id = %self.envelope.id,
            trace_id = tracing::field::Empty,
        );
        common_telemetry::set_parent(&span, &self.envelope.trace_context);
        span
    }
}

/// A shared handle to a bus.
pub type SharedBus = Arc<dyn EventBus>;

/// Where a partition's log stands ([`EventBus::offsets`]). A reader from the start has seen
/// everything the partition held at that moment once it was delivered offset `next - 1`, or
/// at once when `first == next` (nothing held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offsets {
    /// The oldest offset still held (Kafka's low watermark; for the embedded bus, the oldest in
    /// its in-memory window — a persisted bus's segment files may hold older ones).
    pub first: i64,
    /// The offset the next event published gets (the high watermark): everything below it is
    /// stored and readable.
    pub next: i64,
}

/// What one consumer group has read ([`EventBus::groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffsets {
    /// The group's name (without the broker namespace).
    pub group: String,
    /// Members connected now (0: nobody reads for it).
    pub members: u32,
    /// `(topic, partition, committed)`: the offset the group reads next on each partition of
    /// the topics it consumes or committed on; `None` when it committed nothing there yet (it
    /// starts from the oldest event held).
    pub committed: Vec<(String, i32, Option<i64>)>,
}

/// An event bus: topics with partitions, consumer groups, committed offsets.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Creates topics that do not exist; existing ones are checked, not changed.
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), Error>;
    /// Publishes an event to the partition of its key and returns where it landed once stored.
    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<Position, Error>;
    /// Publishes a batch in order, many events in flight at once, and returns where each
    /// landed once all are stored. Events with one key keep their order (they share a
    /// partition, and the batch is handed over in order). On failure, [`BatchError::stored`]
    /// says how many leading events are known stored, and the event after them is the one
    /// that failed: publishing the rest again keeps every key's order (an event after the
    /// failure may be stored twice; consumers deduplicate on [`Envelope::id`]).
    async fn publish_batch(&self, batch: &[(&str, Envelope)]) -> Result<Vec<Position>, BatchError> {
        let mut positions = Vec::with_capacity(batch.len());
        for (topic, envelope) in batch {
            match self.publish(topic, envelope).await {
                Ok(position) => positions.push(position),
                Err(error) => {
                    return Err(BatchError {
                        stored: positions.len(),
                        error,
                    });
                }
            }
        }
        Ok(positions)
    }
    /// Joins `group` as a new member consuming `topics`.
    async fn subscribe(&self, group: &str, topics: &[&str])
    -> Result<Box<dyn Subscription>, Error>;
    /// Where each partition of `topic` stands now, by partition: what a reader from the start
    /// must read to have seen everything published so far.
    async fn offsets(&self, topic: &str) -> Result<Vec<Offsets>, Error>;
    /// Every consumer group the bus knows, with its members and committed offsets (with
    /// [`EventBus::offsets`], how far behind each group is).
    async fn groups(&self) -> Result<Vec<GroupOffsets>, Error>;
    /// `"embedded"` or `"kafka"`.
    fn kind(&self) -> &'static str;
}

/// One member of a consumer group.
#[async_trait]
pub trait Subscription: Send {
    /// The next event of an assigned partition, or `None` after `timeout`.
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Delivery>, Error>;
    /// Marks everything up to and including `offset` on that partition as handled.
    async fn commit_offset(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), Error>;
    /// Partitions currently assigned to this member.
    fn assignment(&self) -> Result<Vec<(String, i32)>, Error>;

    /// Marks `delivery` (and everything before it on its partition) as handled.
    async fn commit(&mut self, delivery: &Delivery) -> Result<(), Error> {
        self.commit_offset(&delivery.topic, delivery.partition, delivery.offset)
            .await
    }
}

/// The partition for `key` among `partitions`: Kafka's default (murmur2, positive, modulo),
/// so a key lands on the same partition whichever implementation or client produced it.
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    let hash = murmur2(key) & 0x7fff_ffff;
    i32::try_from(hash % u32::try_from(partitions.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// Kafka's murmur2 (seed 0x9747b28c), as in the Java client's `Utils.murmur2`.
fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = 0x9747_b28c ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// Checks a consumer group name (non-empty, at most 200 bytes); every implementation uses it.
pub fn check_group_name(group: &str) -> Result<(), Error> {
    if group.is_empty() || group.len() > 200 {
        return Err(Error::Invalid {
            what: "consumer group",
            value: group.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_times_round_trip_to_the_nanosecond() {
        let t = time::macros::datetime!(2025-06-10 09:15:00.123456789 +7);
        let p = proto_time(t);
        assert_eq!((p.seconds, p.nanos), (t.unix_timestamp(), 123_456_789));
        assert_eq!(time_of(&p), Some(t));
        let far = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(time_of(&far), None);
    }

    #[test]
    fn murmur2_matches_the_java_client() {
        // Values from Kafka's UtilsTest.testMurmur2 (as signed ints there).
        let cases: [(&[u8], i32); 4] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input) as i32,
                expected,
                "{:?}",
                std::str::from_utf8(input)
            );
        }
    }

    #[test]
    fn a_key_always_maps_to_the_same_partition_in_range() {
        for n in 1..12 {
            for key in ["VNM", "FPT", "VN30F2512", ""] {
                let p = partition_for(key.as_bytes(), n);
                assert!((0..n).contains(&p));
                assert_eq!(p, partition_for(key.as_bytes(), n));
            }
        }
    }

    #[test]
    fn an_envelope_round_trips_through_its_wire_form() {
        let msg = proto::events::v1::ServiceLifecycle {
            service: "oms".into(),
            instance_id: "i-1".into(),
            version: "0.1.0".into(),
            state: proto::events::v1::service_lifecycle::State::Ready as i32,
            at: None,
        };
        let mut env = Envelope::new("oms", "oms", &msg).with_schema_version(3);
        env.trace_context.insert(
            "traceparent".into(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
        );
        let back = Envelope::from_bytes(&env.to_bytes()).unwrap();
        assert_eq!(back, env);
        assert_eq!(back.event_type, "qts.events.v1.ServiceLifecycle");
        assert_eq!(
            back.decode::<proto::events::v1::ServiceLifecycle>()
                .unwrap(),
            msg
        );
    }

    #[test]
    fn decoding_as_the_wrong_type_is_refused() {
        let msg = proto::common::v1::GetInfoRequest {};
        let env = Envelope::new("oms", "", &msg);
        let err = env
            .decode::<proto::events::v1::ServiceLifecycle>()
            .unwrap_err();
        assert!(matches!(err, Error::TypeMismatch { .. }), "{err}");
    }

    #[test]
    fn a_consumer_span_continues_the_producers_trace() {
        use common_telemetry::current_context;
        use common_telemetry::testing::{ids, with_test_tracer};
        with_test_tracer(|| {
            let producer = tracing::info_span!("produce");
            let msg = proto::common::v1::GetInfoRequest {};
            let envelope = producer.in_scope(|| Envelope::new("oms", "k", &msg));
            let sent = envelope.trace_context["traceparent"].clone();
            let delivery = Delivery {
                topic: "t".into(),
                partition: 0,
                offset: 0,
                envelope,
            };
            let got = delivery.span().in_scope(current_context);
            assert_eq!(ids(&got["traceparent"]).0, ids(&sent).0);
        });
    }

    #[test]
    fn garbage_bytes_are_not_an_envelope() {
        assert!(Envelope::from_bytes(b"\xff\xff\xff").is_err());
        assert!(Envelope::from_bytes(&[]).is_err(), "empty record has no id");
    }
}
