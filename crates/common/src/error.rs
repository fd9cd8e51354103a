//! One classification of failures, mapped once to HTTP status and gRPC code.
//!
//! Domain and library errors implement [`Classify`]; adapters turn them into [`ApiError`], which
//! renders as `{"code": "not_found", "message": "..."}` over HTTP and as a `tonic::Status` over
//! gRPC. For `Internal` and `Unavailable` the client sees a generic message and the full error
//! chain is logged once, here, at the edge.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// What kind of failure happened, from the caller's point of view. Names follow gRPC codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

    fn generic_message(self) -> &'static str {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// An error at the edge of a service (HTTP handler or gRPC method).
#[derive(Debug)]
pub struct ApiError {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ApiError {
    /// An error with a message meant for the caller.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The classification.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// What the caller is told.
    pub fn public_message(&self) -> &str {
        if self.kind.is_public() {
            &self.message
        } else {
            self.kind.generic_message()
        }
    }

    /// The JSON body for this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.kind.as_str().to_owned(),
            message: self.public_message().to_owned(),
        }
    }

    fn log(&self) {
        if self.kind.is_public() {
            tracing::debug!(code = self.kind.as_str(), error = %self.message, "request failed");
        } else {
            let chain = self.chain();
            tracing::error!(code = self.kind.as_str(), error = %chain, "request failed");
        }
    }

    /// The whole error chain as one line.
    pub fn chain(&self) -> String {
        let mut out = self.message.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        };
        while let Some(err) = next {
            out.push_str(": ");
            out.push_str(&err.to_string());
            next = err.source();
        }
        out
    }
}

impl<E: Classify> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self {
            kind: err.kind(),
            message: err.to_string(),
            source: err
                .source()
                .map(|s| Box::<dyn std::error::Error + Send + Sync>::from(s.to_string())),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        (self.kind.http_status(), Json(self.body())).into_response()
    }
}

impl From<ApiError> for tonic::Status {
    fn from(err: ApiError) -> Self {
        err.log();
        tonic::Status::new(err.kind.grpc_code(), err.public_message())
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
    fn not_found_keeps_its_message_and_maps_to_404_and_grpc_not_found() {
        let err = ApiError::from(DomainError::NotFound(7));
        assert_eq!(err.kind().http_status(), StatusCode::NOT_FOUND);
        let body = err.body();
        assert_eq!(body.code, "not_found");
        assert_eq!(body.message, "order 7 not found");
        let status = tonic::Status::from(err);
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "order 7 not found");
    }

    #[test]
    fn unavailable_hides_details_from_the_caller_but_keeps_the_chain() {
        let io = std::io::Error::other("connection refused");
        let err = ApiError::from(DomainError::Database(io));
        assert_eq!(
            err.body().message,
            "a dependency is unavailable; retry later"
        );
        assert_eq!(err.chain(), "database down: connection refused");
        assert_eq!(err.kind().http_status(), StatusCode::SERVICE_UNAVAILABLE);
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
