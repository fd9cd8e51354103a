//! The engine's error type.

use market::Symbol;
use time::Date;

use crate::types::{AccountId, ChangeRejection, OrderId, RejectReason};

/// Why an engine call failed. Order rejections are also emitted as events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The order was refused at entry (also emitted as `Event::OrderRejected`).
    #[error("order {order} rejected: {reason}")]
    Rejected {
        /// The id given to the rejected request.
        order: OrderId,
        /// Why.
        reason: RejectReason,
    },
    /// An amendment or cancellation was refused (also emitted as an event).
    #[error("change of order {order} refused: {reason}")]
    ChangeRefused {
        /// The order.
        order: OrderId,
        /// Why.
        reason: ChangeRejection,
    },
    /// The engine is a deterministic replay: time may not go backwards.
    #[error("time went backwards: now {now}, asked {asked}")]
    TimeWentBackwards {
        /// Engine time (local, UTC+7).
        now: String,
        /// Requested time.
        asked: String,
    },
    /// Unknown order id.
    #[error("unknown order {0}")]
    UnknownOrder(OrderId),
    /// Only final orders can be forgotten.
    #[error("order {0} is still working")]
    StillWorking(OrderId),
    /// Only an instrument without working orders can be delisted.
    #[error("{0} has working orders")]
    InstrumentBusy(Symbol),
    /// Unknown account.
    #[error("unknown account {0}")]
    UnknownAccount(AccountId),
    /// The account already exists.
    #[error("account {0} already exists")]
    DuplicateAccount(AccountId),
    /// Unknown security.
    #[error("unknown security {0}")]
    UnknownSecurity(Symbol),
    /// The security has no price band, which the engine needs (covered warrants: pass
    /// limits computed with `market::limits::covered_warrant_limits`).
    #[error("security {0} has no price limits")]
    NoLimits(Symbol),
    /// A date outside the calendar's range.
    #[error("date {0} is outside the trading calendar")]
    Calendar(Date),
    /// The engine clock is not set yet.
    #[error("the engine clock is not set: call advance_to first")]
    ClockNotSet,
    /// Money or quantity arithmetic overflowed.
    #[error("arithmetic overflow")]
    Overflow,
    /// Computing next day's band failed.
    #[error("price limits: {0}")]
    Limits(#[from] market::limits::Error),
}

impl From<market::price::Error> for Error {
    fn from(_: market::price::Error) -> Self {
        Error::Overflow
    }
}
