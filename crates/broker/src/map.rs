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

/// The instrument kind of an SSI security-type code: v2's `SecType` (`ST`, `CW`, `FU`,
/// `EF`, `BO`, `MF`, `OF`) or v3's `stockType`, which may spell the kind out (`Stock`,
/// `CoveredWarrant`, ...). `None` for a code that names no kind `market` knows.
pub(crate) fn instrument_kind(code: &str) -> Option<market::InstrumentKind> {
    use market::InstrumentKind as K;
    let c: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    match c.as_str() {
        "ST" | "S" | "STOCK" => Some(K::Stock),
        "CW" | "COVEREDWARRANT" | "WARRANT" => Some(K::CoveredWarrant),
        "FU" | "FUTURE" | "FUTURES" | "INDEXFUTURE" => Some(K::IndexFuture),
        "EF" | "ETF" => Some(K::Etf),
        "BO" | "BOND" => Some(K::Bond),
        "MF" | "OF" | "FUND" | "FUNDCERTIFICATE" => Some(K::FundCertificate),
        _ => None,
    }
}

/// A positive count from the wire (lot, listed shares); `None` for absent, zero or negative.
pub(crate) fn count(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0)
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

    #[test]
    fn both_generations_security_types_map_to_one_kind() {
        use market::InstrumentKind as K;
        assert_eq!(instrument_kind("ST"), Some(K::Stock));
        assert_eq!(instrument_kind("S"), Some(K::Stock));
        assert_eq!(instrument_kind("Stock"), Some(K::Stock));
        assert_eq!(instrument_kind("FU"), Some(K::IndexFuture));
        assert_eq!(instrument_kind("IndexFuture"), Some(K::IndexFuture));
        assert_eq!(instrument_kind("covered_warrant"), Some(K::CoveredWarrant));
        assert_eq!(instrument_kind("EF"), Some(K::Etf));
        assert_eq!(instrument_kind("MF"), Some(K::FundCertificate));
        assert_eq!(instrument_kind("BO"), Some(K::Bond));
        assert_eq!(instrument_kind("ZZ"), None);
        assert_eq!(count(Some(100)), Some(100));
        assert_eq!(count(Some(0)), None);
        assert_eq!(count(Some(-1)), None);
    }
}
