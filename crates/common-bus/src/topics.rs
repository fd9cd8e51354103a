//! The registry of topics: name, what the key is, payload type, partitions.
//!
//! Names follow `<domain>.<event>.v<N>`. A topic carries exactly one payload type; publishing
//! another type to it is refused. Issues that add events add their topics here.

use std::borrow::Cow;

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: Cow<'static, str>,
    /// What the partition key is.
    pub key: Cow<'static, str>,
    /// Full protobuf name of the payload.
    pub payload: Cow<'static, str>,
    /// Number of partitions.
    pub partitions: i32,
    /// What the topic carries.
    pub description: Cow<'static, str>,
}

impl TopicSpec {
    /// A topic made at run time (tests, tools).
    pub fn new(name: impl Into<String>, payload: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: Cow::Owned(name.into()),
            key: Cow::Borrowed("any"),
            payload: Cow::Owned(payload.into()),
            partitions,
            description: Cow::Borrowed(""),
        }
    }

    /// Checks the name (Kafka's legal characters) and partition count.
    pub fn validate(&self) -> Result<(), super::Error> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 249
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(super::Error::Invalid {
                what: "topic name",
                value: self.name.to_string(),
            });
        }
        if !(1..=1024).contains(&self.partitions) {
            return Err(super::Error::Invalid {
                what: "partition count",
                value: self.partitions.to_string(),
            });
        }
        Ok(())
    }
}

/// `system.lifecycle.v1`: a service instance became ready or began stopping.
pub const SYSTEM_LIFECYCLE: TopicSpec = TopicSpec {
    name: Cow::Borrowed("system.lifecycle.v1"),
    key: Cow::Borrowed("service name"),
    payload: Cow::Borrowed("qts.events.v1.ServiceLifecycle"),
    partitions: 1,
    description: Cow::Borrowed("A service instance became ready or began stopping"),
};

/// `system.deadletter.v1`: messages a consumer gave up on (`common::consumer`), with the reason,
/// the original position, the error chain and the original envelope. One topic for the fleet,
/// keyed by consumer group so one consumer's dead letters stay in order.
pub const SYSTEM_DEADLETTER: TopicSpec = TopicSpec {
    name: Cow::Borrowed("system.deadletter.v1"),
    key: Cow::Borrowed("consumer group"),
    payload: Cow::Borrowed("qts.events.v1.DeadLetter"),
    partitions: 1,
    description: Cow::Borrowed("Messages a consumer gave up on, kept for inspection and replay"),
};

/// Every registered topic.
pub const TOPICS: &[TopicSpec] = &[SYSTEM_LIFECYCLE, SYSTEM_DEADLETTER];

/// The registered topic with this name.
pub fn find(name: &str) -> Option<&'static TopicSpec> {
    TOPICS.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_topics_are_valid_versioned_and_unique() {
        let mut names = std::collections::HashSet::new();
        for t in TOPICS {
            t.validate().unwrap();
            assert!(
                t.name.rsplit('.').next().unwrap().starts_with('v'),
                "{} has no version",
                t.name
            );
            assert!(names.insert(t.name.clone()));
        }
    }

    #[test]
    fn bad_names_and_partition_counts_are_refused() {
        assert!(TopicSpec::new("a b", "x", 1).validate().is_err());
        assert!(TopicSpec::new("", "x", 1).validate().is_err());
        assert!(TopicSpec::new("ok.v1", "x", 0).validate().is_err());
        assert!(TopicSpec::new("ok.v1", "x", 3).validate().is_ok());
    }
}
