//! The edge of a service: [`ApiError`] turns a classified error into the `{"code", "message"}`
//! HTTP body or a `tonic::Status`, and logs the whole chain once.
//!
//! [`Kind`], [`Classify`], [`ErrorBody`] and [`chain`] live in the small `common-error` crate
//! (re-exported here) so domain crates can classify errors without linking a transport.

use axum::Json;
use axum::response::{IntoResponse, Response};

pub use common_error::*;

/// An error at the edge of a service (HTTP handler or gRPC method).
#[derive(Debug)]
pub struct ApiError {
    kind: Kind,
    message: String,
    /// The causes below `message`, already joined (see [`chain`]); logged, never sent.
    causes: Option<String>,
}

impl ApiError {
    /// An error with a message meant for the caller.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            causes: None,
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
        ErrorBody::new(self.kind, self.message.clone())
    }

    fn log(&self) {
        if self.kind.is_public() {
            tracing::debug!(code = self.kind.as_str(), error = %self.chain(), "request failed");
        } else {
            tracing::error!(code = self.kind.as_str(), error = %self.chain(), "request failed");
        }
    }

    /// The whole error chain as one line.
    pub fn chain(&self) -> String {
        match &self.causes {
            Some(causes) => format!("{}: {causes}", self.message),
            None => self.message.clone(),
        }
    }
}

impl<E: Classify> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self {
            kind: err.kind(),
            message: err.to_string(),
            causes: err.source().map(|s| chain(s).to_string()),
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
    use http::StatusCode;

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
}
