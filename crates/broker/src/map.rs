//! Mappings both adapters share: SSI's code tables to `market`'s and the domain's, and the
//! stream wrapper that keeps a connection open while its events are read.

use futures::StreamExt as _;

use crate::EventStream;
use crate::error::Result;
use crate::types::OrderStatus;

/// The domain status of an SSI order status (the same code table serves v2 and v3; v3 adds
/// `PD`, pending).
pub(crate) fn status(s: &fastconnect::OrderStatus) -> OrderStatus {
    use fastconnect::OrderStatus as S;
    match s {
        S::WaitingApproval | S::ReadyToSend | S::Sent | S::PreSession | S::StopSent => {
            OrderStatus::PendingNew
        }
        S::Queued => OrderStatus::New,
        S::PartiallyFilled => OrderStatus::PartiallyFilled,
        S::Filled => OrderStatus::Filled,
        S::FilledPartlyCancelled | S::Cancelled => OrderStatus::Cancelled,
        S::WaitingModify => OrderStatus::PendingAmend,
        S::WaitingCancel => OrderStatus::PendingCancel,
        S::Rejected => OrderStatus::Rejected,
        S::Expired => OrderStatus::Expired,
        S::StopReady | S::PreSessionStop => OrderStatus::Triggering,
        S::Other(code) if code.eq_ignore_ascii_case("PD") => OrderStatus::PendingNew,
        S::Other(code) => OrderStatus::Other(code.clone()),
    }
}

pub(crate) fn side(s: fastconnect::Side) -> market::Side {
    match s {
        fastconnect::Side::Buy => market::Side::Buy,
        fastconnect::Side::Sell => market::Side::Sell,
    }
}

pub(crate) fn wire_side(s: market::Side) -> fastconnect::Side {
    match s {
        market::Side::Buy => fastconnect::Side::Buy,
        market::Side::Sell => fastconnect::Side::Sell,
    }
}

pub(crate) fn order_type(t: &fastconnect::OrderType) -> Option<market::OrderType> {
    t.as_str().parse().ok()
}

pub(crate) fn wire_order_type(t: market::OrderType) -> fastconnect::OrderType {
    fastconnect::OrderType::parse(t.code())
}

/// Keeps `guard` (the connection handle) alive while `inner` is read, and maps every item
/// with `map`, which may drop it (`None`).
pub(crate) fn mapped<S, G, T, F>(inner: S, guard: G, map: F) -> EventStream<T>
where
    S: futures::Stream + Send + Unpin + 'static,
    G: Send + 'static,
    T: Send + 'static,
    F: FnMut(S::Item) -> Option<Result<T>> + Send + 'static,
{
    futures::stream::unfold(
        (inner, guard, map),
        |(mut inner, guard, mut map)| async move {
            loop {
                let item = inner.next().await?;
                if let Some(out) = map(item) {
                    return Some((out, (inner, guard, map)));
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statuses_map_to_one_life_cycle() {
        use fastconnect::OrderStatus as S;
        assert_eq!(status(&S::Queued), OrderStatus::New);
        assert_eq!(status(&S::FilledPartlyCancelled), OrderStatus::Cancelled);
        assert_eq!(status(&S::WaitingModify), OrderStatus::PendingAmend);
        assert_eq!(status(&S::StopReady), OrderStatus::Triggering);
        assert_eq!(status(&S::parse("ZZ")), OrderStatus::Other("ZZ".into()));
        assert!(status(&S::Expired).is_final());
        assert!(!status(&S::PartiallyFilled).is_final());
        assert_eq!(
            order_type(&fastconnect::OrderType::Mp),
            Some(market::OrderType::Mtl),
            "HOSE's retired MP is MTL"
        );
        assert_eq!(wire_order_type(market::OrderType::Plo).as_str(), "PLO");
    }
}
