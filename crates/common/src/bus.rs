//! The event bus: the envelope, the trait, the topic registry and the embedded bus (all from the
//! small `common-bus` crate, re-exported here) plus the Kafka implementation in [`kafka`].

pub use common_bus::*;

pub mod kafka;

use std::time::Duration;

use crate::error::{Classify, Kind};
use crate::shutdown::CancellationToken;

/// Publishes `batch` in order with many events in flight (each key's order kept), retrying an
/// unavailable bus with backoff from the first event not known stored, until every one is
/// (`Ok(true)`) or `token` is cancelled (`Ok(false)`). A retry may store an event twice;
/// consumers deduplicate on the envelope id. An event the bus refuses for what it is (wrong
/// payload, too large) is the error, with how many before it were stored.
pub async fn publish_all(
    bus: &dyn EventBus,
    batch: &[(&str, Envelope)],
    token: &CancellationToken,
) -> Result<bool, BatchError> {
    let mut from = 0;
    let mut backoff = Duration::from_millis(50);
    while from < batch.len() {
        match bus.publish_batch(&batch[from..]).await {
            Ok(_) => return Ok(true),
            Err(err) if err.kind() == Kind::Unavailable => {
                from += err.stored;
                tracing::warn!(error = %crate::error::chain(&err), left = batch.len() - from, "bus unavailable; retrying");
                tokio::select! {
                    () = token.cancelled() => return Ok(false),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(err) => {
                return Err(BatchError {
                    stored: from + err.stored,
                    error: err.error,
                });
            }
        }
    }
    Ok(true)
}
