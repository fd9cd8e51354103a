//! One classification of failures, mapped once to HTTP status and gRPC code, and one way to
//! print an error with its causes.
//!
//! Owns: [`Kind`] (what a failure means to the caller), [`Classify`] (implemented by every
//! error that can reach a caller), [`ErrorBody`] (`{"code", "message"}`, the body of every error
//! response) and [`chain`] (an error and all its sources on one line).
//! Does not own: transports. `common::error::ApiError` turns a classified error into an HTTP
//! response or a `tonic::Status`; this crate links neither axum nor sqlx nor rdkafka, so domain
//! crates can classify their errors cheaply.
//!
//! The one rule for error types: a message never repeats its cause (the cause is the
//! `#[source]`), and whoever logs an error prints the whole chain with [`chain`]; API responses
//! show only the top message, and for `Internal`/`Unavailable` a generic one.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Serialize};

/// What kind of failure happened, from the caller's point of view. Names follow gRPC codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The request is malformed or a value is out of range; retrying will not help.
    InvalidArgument,
    /// No or bad credentials.
    Unauthenticated,
    /// Credentials are fine but do not allow this.
    PermissionDenied,
    /// The thing asked for does not exist.
    NotFound,
    /// The thing to create exists already.
    AlreadyExists,
    /// The system is not in a state that allows this (e.g. market closed).
    FailedPrecondition,
    /// A quota or rate limit was hit.
    ResourceExhausted,
    /// A concurrent change won; retry the whole operation.
    Aborted,
    /// The deadline passed before the work finished.
    DeadlineExceeded,
    /// A dependency (database, broker, broker API) is down or unreachable; retry later.
    Unavailable,
    /// The operation is not offered by this service.
    Unimplemented,
    /// A bug or an invariant broke.
    Internal,
}

impl Kind {
    /// The HTTP status for this kind.
    pub fn http_status(self) -> StatusCode {
        match self {
            Kind::InvalidArgument => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::PermissionDenied => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::AlreadyExists => StatusCode::CONFLICT,
            Kind::FailedPrecondition => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Kind::Aborted => StatusCode::CONFLICT,
            Kind::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The gRPC code for this kind.
    #[cfg(feature = "grpc")]
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            Kind::InvalidArgument => tonic::Code::InvalidArgument,
            Kind::Unauthenticated => tonic::Code::Unauthenticated,
            Kind::PermissionDenied => tonic::Code::PermissionDenied,
            Kind::NotFound => tonic::Code::NotFound,
            Kind::AlreadyExists => tonic::Code::AlreadyExists,
            Kind::FailedPrecondition => tonic::Code::FailedPrecondition,
            Kind::ResourceExhausted => tonic::Code::ResourceExhausted,
            Kind::Aborted => tonic::Code::Aborted,
            Kind::DeadlineExceeded => tonic::Code::DeadlineExceeded,
            Kind::Unavailable => tonic::Code::Unavailable,
            Kind::Unimplemented => tonic::Code::Unimplemented,
            Kind::Internal => tonic::Code::Internal,
        }
    }

    /// The snake_case code used in JSON error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InvalidArgument => "invalid_argument",
            Kind::Unauthenticated => "unauthenticated",
            Kind::PermissionDenied => "permission_denied",
            Kind::NotFound => "not_found",
            Kind::AlreadyExists => "already_exists",
            Kind::FailedPrecondition => "failed_precondition",
            Kind::ResourceExhausted => "resource_exhausted",
            Kind::Aborted => "aborted",
            Kind::DeadlineExceeded => "deadline_exceeded",
            Kind::Unavailable => "unavailable",
            Kind::Unimplemented => "unimplemented",
            Kind::Internal => "internal",
        }
    }

    /// Whether the message may be shown to the caller; internal failures get a generic text.
    pub fn is_public(self) -> bool {
        !matches!(self, Kind::Internal | Kind::Unavailable)
    }

    /// What the caller is told when the kind is not [public](Kind::is_public).
    pub fn generic_message(self) -> &'static str {
        match self {
            Kind::Unavailable => "a dependency is unavailable; retry later",
            Kind::InvalidArgument
            | Kind::Unauthenticated
            | Kind::PermissionDenied
            | Kind::NotFound
            | Kind::AlreadyExists
            | Kind::FailedPrecondition
            | Kind::ResourceExhausted
            | Kind::Aborted
            | Kind::DeadlineExceeded
            | Kind::Unimplemented
            | Kind::Internal => "internal error",
        }
    }
}

/// Implemented by every error that can reach a caller.
pub trait Classify: std::error::Error + Send + Sync + 'static {
    /// How the caller should see this error.
    fn kind(&self) -> Kind;
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ErrorBody {
    /// The body for `kind`: `message` when the kind is public, the generic text otherwise.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            code: kind.as_str().to_owned(),
            message: if kind.is_public() {
                message.into()
            } else {
                kind.generic_message().to_owned()
            },
        }
    }
}

/// `err` and every source below it, joined by `": "`: what a log line prints as `error`.
///
/// ```
/// let io = std::io::Error::other("connection refused");
/// assert_eq!(common_error::chain(&io).to_string(), "connection refused");
/// ```
pub fn chain<'a>(err: &'a (dyn std::error::Error + 'a)) -> Chain<'a> {
    Chain(err)
}

/// Displays an error with its whole cause chain; made by [`chain`].
#[derive(Clone, Copy)]
pub struct Chain<'a>(&'a (dyn std::error::Error + 'a));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(err) = next {
            write!(f, ": {err}")?;
            next = err.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum DomainError {
        #[error("order {0} not found")]
        NotFound(u32),
        #[error("database down")]
        Database(#[source] std::io::Error),
    }

    impl Classify for DomainError {
        fn kind(&self) -> Kind {
            match self {
                DomainError::NotFound(_) => Kind::NotFound,
                DomainError::Database(_) => Kind::Unavailable,
            }
        }
    }

    #[test]
    fn a_chain_prints_every_cause_once() {
        let err = DomainError::Database(std::io::Error::other("connection refused"));
        assert_eq!(chain(&err).to_string(), "database down: connection refused");
        assert_eq!(
            chain(&DomainError::NotFound(7)).to_string(),
            "order 7 not found"
        );
    }

    #[test]
    fn public_kinds_keep_their_message_and_others_get_a_generic_one() {
        assert_eq!(
            ErrorBody::new(DomainError::NotFound(7).kind(), "order 7 not found").message,
            "order 7 not found"
        );
        let body = ErrorBody::new(Kind::Unavailable, "pool timed out at 10.0.0.3");
        assert_eq!(body.code, "unavailable");
        assert_eq!(body.message, "a dependency is unavailable; retry later");
        assert_eq!(Kind::NotFound.http_status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_kind_has_a_distinct_snake_case_code() {
        let all = [
            Kind::InvalidArgument,
            Kind::Unauthenticated,
            Kind::PermissionDenied,
            Kind::NotFound,
            Kind::AlreadyExists,
            Kind::FailedPrecondition,
            Kind::ResourceExhausted,
            Kind::Aborted,
            Kind::DeadlineExceeded,
            Kind::Unavailable,
            Kind::Unimplemented,
            Kind::Internal,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|k| k.as_str()).collect();
        assert_eq!(codes.len(), all.len());
        for k in all {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }
}
