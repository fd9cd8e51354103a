//! The one error type of the broker interface and its classification.

use common_error::{Classify, Kind};

use crate::types::ClientOrderId;

/// Which SSI generation an adapter speaks; named in errors and settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// FastConnect v2 (FC Data + FC Trading, SignalR streams, NotifyID replay).
    V2,
    /// FastConnect v3 (one API key, REST + WebSocket, FCO, no replay).
    V3,
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Generation::V2 => "v2",
            Generation::V3 => "v3",
        })
    }
}

/// Everything that can go wrong behind the broker interface.
///
/// Broker answers are sorted by what the caller does next: [`Error::Rejected`] (a business or
/// exchange rule said no: fix the order), [`Error::Auth`] (a person or the configuration must
/// act), [`Error::Duplicate`] (the client order id was used: the order exists, look it up),
/// [`Error::Unavailable`] (transient: retry the same request with the same client order id).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is invalid before anything was sent (bad price, empty symbol, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The broker or the exchange refused the request by a rule (price band, buying power,
    /// session, unknown account, ...). Retrying the same request will not help.
    #[error("rejected by the broker ({generation})")]
    Rejected {
        /// Which adapter.
        generation: Generation,
        /// SSI's answer.
        #[source]
        source: fastconnect::Error,
    },
    /// Credentials, token, OTP or scope: a person or the configuration must act.
    #[error("not authorised by the broker ({generation})")]
    Auth {
        /// Which adapter.
        generation: Generation,
        /// SSI's answer.
        #[source]
        source: fastconnect::Error,
    },
    /// The client order id was already used today: the first attempt reached the broker, so
    /// the order exists. Find it with [`crate::Trading::find_order`]; never place it again.
    #[error("client order id {client_order_id} was already used today")]
    Duplicate {
        /// The id.
        client_order_id: ClientOrderId,
        /// SSI's answer.
        #[source]
        source: fastconnect::Error,
    },
    /// Quota exceeded; wait and retry.
    #[error("rate limited by the broker ({generation})")]
    RateLimited {
        /// Which adapter.
        generation: Generation,
        /// SSI's answer (see [`fastconnect::Error::retry_after`]).
        #[source]
        source: fastconnect::Error,
    },
    /// Network, timeout, 5xx, closed stream: retry later (with the same client order id).
    #[error("broker unavailable ({generation})")]
    Unavailable {
        /// Which adapter.
        generation: Generation,
        /// The cause.
        #[source]
        source: fastconnect::Error,
    },
    /// The broker has no such thing (no price row for the day, unknown security).
    #[error("not found: {0}")]
    NotFound(String),
    /// The broker answered something this adapter cannot map (a change at SSI or a bug).
    #[error("unreadable broker answer: {what}")]
    Mapping {
        /// What could not be mapped.
        what: String,
    },
    /// An SSI answer that is not in the classes above (malformed body, bad configuration).
    #[error("broker call failed ({generation})")]
    Other {
        /// Which adapter.
        generation: Generation,
        /// The cause.
        #[source]
        source: fastconnect::Error,
    },
    /// This generation does not offer the operation (e.g. conditional orders on v2: the OMS
    /// holds those itself).
    #[error("{operation} is not offered by FastConnect {generation}")]
    Unsupported {
        /// Which adapter.
        generation: Generation,
        /// What was asked.
        operation: &'static str,
    },
    /// The settings cannot work.
    #[error("invalid broker settings: {0}")]
    Settings(String),
}

impl Error {
    /// Sorts an SSI error by what the caller does next.
    pub fn from_ssi(generation: Generation, source: fastconnect::Error) -> Self {
        use fastconnect::ErrorKind;
        match source.kind() {
            ErrorKind::Auth => Error::Auth { generation, source },
            ErrorKind::RateLimited => Error::RateLimited { generation, source },
            ErrorKind::Rejected => Error::Rejected { generation, source },
            ErrorKind::Transport => Error::Unavailable { generation, source },
            ErrorKind::InvalidResponse | ErrorKind::InvalidInput => {
                Error::Other { generation, source }
            }
        }
    }

    /// Like [`Error::from_ssi`], but recognises a reused client order id: v3 answers 409
    /// ([`fastconnect::Error::is_duplicate_request`]); v2 (and the simulator) answer a 400
    /// whose message says "Duplicate requestID".
    pub fn from_ssi_order(
        generation: Generation,
        client_order_id: ClientOrderId,
        source: fastconnect::Error,
    ) -> Self {
        let v2_duplicate = matches!(&source, fastconnect::Error::Rejected { message, .. }
            if message.to_ascii_lowercase().contains("duplicate"));
        if source.is_duplicate_request() || v2_duplicate {
            return Error::Duplicate {
                client_order_id,
                source,
            };
        }
        Error::from_ssi(generation, source)
    }

    /// True when the same request may succeed later (keep its client order id).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::RateLimited { .. })
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::Rejected { .. } => Kind::FailedPrecondition,
            Error::Auth { source, .. } => match source.api().map(|a| a.class) {
                Some(fastconnect::v3::ApiErrorClass::Scope) => Kind::PermissionDenied,
                Some(_) | None => Kind::Unauthenticated,
            },
            Error::Duplicate { .. } => Kind::AlreadyExists,
            Error::RateLimited { .. } => Kind::ResourceExhausted,
            Error::Unavailable { .. } => Kind::Unavailable,
            Error::NotFound(_) => Kind::NotFound,
            Error::Mapping { .. } => Kind::Internal,
            Error::Other { source, .. } => source.kind_common(),
            Error::Unsupported { .. } => Kind::Unimplemented,
            Error::Settings(_) => Kind::FailedPrecondition,
        }
    }
}

/// `common_error::Classify` of a fastconnect error, under a name that does not clash with
/// [`fastconnect::Error::kind`].
trait KindCommon {
    fn kind_common(&self) -> Kind;
}

impl KindCommon for fastconnect::Error {
    fn kind_common(&self) -> Kind {
        Classify::kind(self)
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(message: &str) -> fastconnect::Error {
        fastconnect::Error::Rejected {
            endpoint: "/api/v2/Trading/NewOrder".into(),
            status: "400".into(),
            message: message.into(),
        }
    }

    #[test]
    fn ssi_errors_are_sorted_by_what_the_caller_does_next() {
        let id = ClientOrderId::new(7).unwrap();
        let dup = Error::from_ssi_order(Generation::V2, id, rejected("Duplicate requestID 7"));
        assert!(matches!(dup, Error::Duplicate { .. }));
        assert_eq!(dup.kind(), Kind::AlreadyExists);
        assert_eq!(
            common_error::chain(&dup).to_string(),
            "client order id 7 was already used today: rejected by SSI at \
             /api/v2/Trading/NewOrder (status 400): Duplicate requestID 7"
        );

        let band = Error::from_ssi_order(Generation::V2, id, rejected("Price is out of band"));
        assert!(matches!(band, Error::Rejected { .. }));
        assert_eq!(band.kind(), Kind::FailedPrecondition);
        assert!(!band.is_retryable());

        let auth = Error::from_ssi(
            Generation::V2,
            fastconnect::Error::LoginRequired("OTP expired".into()),
        );
        assert_eq!(auth.kind(), Kind::Unauthenticated);

        let down = Error::from_ssi(Generation::V3, fastconnect::Error::Closed);
        assert_eq!(down.kind(), Kind::Unavailable);
        assert!(down.is_retryable());

        let unsupported = Error::Unsupported {
            generation: Generation::V2,
            operation: "conditional orders",
        };
        assert_eq!(unsupported.kind(), Kind::Unimplemented);
        assert_eq!(
            unsupported.to_string(),
            "conditional orders is not offered by FastConnect v2"
        );
    }
}
