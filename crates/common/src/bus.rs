//! The event bus: the envelope, the trait, the topic registry and the embedded bus (all from the
//! small `common-bus` crate, re-exported here) plus the Kafka implementation in [`kafka`].

pub use common_bus::*;

pub mod kafka;
