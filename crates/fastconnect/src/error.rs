//! The one error type of this crate and its classification.

use std::time::Duration;

use crate::wire::FieldError;

/// Everything that can go wrong talking to SSI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SSI refused the token or the credentials (HTTP 401, body status 401, or a failed
    /// AccessToken call). The client already refreshed the token and retried once.
    #[error("not authorised by SSI at {endpoint}: {message}")]
    Unauthorized {
        /// The path that was called.
        endpoint: String,
        /// SSI's message.
        message: String,
    },
    /// The trading session needs a fresh PIN/OTP login ([`crate::TradingClient::login`]):
    /// the last token was verified with an OTP, which cannot be reused to renew it.
    #[error("FC Trading login required: {0}")]
    LoginRequired(String),
    /// SSI's quota was exceeded (HTTP 429 or body status 429).
    #[error("rate limited by SSI at {endpoint}: {message}")]
    RateLimited {
        /// The path that was called.
        endpoint: String,
        /// The `Retry-After` delay SSI asked for, if any.
        retry_after: Option<Duration>,
        /// SSI's message (often plain text, e.g. "API calls quota exceeded! ...").
        message: String,
    },
    /// SSI processed the request and said no (e.g. `status: 400`, "Account is not exist.").
    #[error("rejected by SSI at {endpoint} (status {status}): {message}")]
    Rejected {
        /// The path that was called.
        endpoint: String,
        /// SSI's status or error code as sent (`400`, `ORD015`, ...).
        status: String,
        /// SSI's message.
        message: String,
    },
    /// A non-success HTTP status without a readable SSI body.
    #[error("HTTP {status} from {endpoint}: {body}")]
    Http {
        /// The path that was called.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The network or TLS failed, or the request timed out.
    #[error("transport error calling {endpoint}")]
    Transport {
        /// The path that was called.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The WebSocket failed.
    #[error("websocket error")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),
    /// The SignalR hub broke the protocol (bad negotiate answer, no init frame, ...).
    #[error("SignalR protocol error: {0}")]
    Protocol(String),
    /// A response was not the JSON we expected.
    #[error("malformed response from {endpoint}")]
    Decode {
        /// The path that was called (or the stream record type).
        endpoint: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// One field of a response held a value of the wrong shape.
    #[error("invalid {field} in {record}")]
    InvalidField {
        /// The record (endpoint or stream type) holding it.
        record: String,
        /// The wire name of the field.
        field: String,
        /// What was wrong.
        #[source]
        source: FieldError,
    },
    /// SSI sent a value outside the set we know for a closed enumeration.
    #[error("unknown {kind} value {value:?}")]
    UnknownValue {
        /// The enumeration, e.g. "buySell".
        kind: &'static str,
        /// The value received.
        value: String,
    },
    /// SSI reports more rows than its paging (10 pages) can return; narrow the query
    /// (e.g. a shorter date range).
    #[error("{endpoint} has {total_record} rows but only {reachable} are reachable by paging")]
    PageLimit {
        /// The path that was called.
        endpoint: String,
        /// SSI's `totalRecord`.
        total_record: u64,
        /// Ten pages of the chosen size.
        reachable: u64,
    },
    /// A request the client refused to send because SSI would reject it.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The configuration cannot work (bad URL, unreadable private key, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The stream was shut down.
    #[error("stream closed")]
    Closed,
    /// FastConnect v3 answered with an error: an HTTP status plus `{code, msg}`, classified
    /// by [`crate::v3::ApiErrorClass`].
    #[error("{0}")]
    Api(Box<crate::v3::ApiError>),
    /// The [`crate::TokenProvider`] that obtains this client's tokens (in QTS: the config
    /// service) gave none.
    #[error("no SSI token from the token provider: {message}")]
    TokenProvider {
        /// Whether asking again later may help (the provider was unreachable or SSI was).
        retryable: bool,
        /// What the provider said.
        message: String,
    },
}

/// The coarse class of an [`Error`], for deciding what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Credentials, token or login: a person or the configuration must act.
    Auth,
    /// Too many requests: wait (see [`Error::retry_after`]) and try again.
    RateLimited,
    /// SSI understood and refused: retrying the same request will not help.
    Rejected,
    /// Network, TLS, timeout, HTTP 5xx: retrying later may help.
    Transport,
    /// SSI answered something we cannot read: a bug here or a change at SSI.
    InvalidResponse,
    /// The caller asked for something invalid (request or configuration).
    InvalidInput,
}

impl Error {
    /// Classifies the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unauthorized { .. } | Error::LoginRequired(_) => ErrorKind::Auth,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Rejected { .. } => ErrorKind::Rejected,
            Error::Http { status, .. } if *status >= 500 => ErrorKind::Transport,
            Error::Http { .. } => ErrorKind::Rejected,
            Error::Transport { .. } | Error::WebSocket(_) | Error::Closed => ErrorKind::Transport,
            Error::Protocol(_)
            | Error::Decode { .. }
            | Error::InvalidField { .. }
            | Error::UnknownValue { .. } => ErrorKind::InvalidResponse,
            Error::PageLimit { .. }
            | Error::InvalidRequest(_)
            | Error::Config(_)
            | Error::Signing(_) => ErrorKind::InvalidInput,
            Error::Api(api) => api.class.error_kind(),
            Error::TokenProvider {
                retryable: true, ..
            } => ErrorKind::Transport,
            Error::TokenProvider {
                retryable: false, ..
            } => ErrorKind::Auth,
        }
    }

    /// True when the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            ErrorKind::RateLimited | ErrorKind::Transport => true,
            ErrorKind::Auth
            | ErrorKind::Rejected
            | ErrorKind::InvalidResponse
            | ErrorKind::InvalidInput => false,
        }
    }

    /// The wait SSI asked for, when rate limited.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            Error::Api(api) => api.retry_after,
            Error::Unauthorized { .. }
            | Error::LoginRequired(_)
            | Error::Rejected { .. }
            | Error::Http { .. }
            | Error::Transport { .. }
            | Error::WebSocket(_)
            | Error::Protocol(_)
            | Error::Decode { .. }
            | Error::InvalidField { .. }
            | Error::UnknownValue { .. }
            | Error::PageLimit { .. }
            | Error::InvalidRequest(_)
            | Error::Config(_)
            | Error::Signing(_)
            | Error::TokenProvider { .. }
            | Error::Closed => None,
        }
    }

    /// The v3 error details, when this is one.
    pub fn api(&self) -> Option<&crate::v3::ApiError> {
        match self {
            Error::Api(api) => Some(api),
            Error::Unauthorized { .. }
            | Error::LoginRequired(_)
            | Error::RateLimited { .. }
            | Error::Rejected { .. }
            | Error::Http { .. }
            | Error::Transport { .. }
            | Error::WebSocket(_)
            | Error::Protocol(_)
            | Error::Decode { .. }
            | Error::InvalidField { .. }
            | Error::UnknownValue { .. }
            | Error::PageLimit { .. }
            | Error::InvalidRequest(_)
            | Error::Config(_)
            | Error::Signing(_)
            | Error::TokenProvider { .. }
            | Error::Closed => None,
        }
    }

    /// True when SSI (v3) answered 409: the `clientRequestId`/`batchRequestId` was already
    /// used today, so the order exists; look it up instead of placing it again.
    pub fn is_duplicate_request(&self) -> bool {
        self.api()
            .is_some_and(|a| a.class == crate::v3::ApiErrorClass::Duplicate)
    }

    pub(crate) fn field(record: &str, field: &str, source: FieldError) -> Self {
        Error::InvalidField {
            record: record.to_owned(),
            field: field.to_owned(),
            source,
        }
    }
}

impl common_error::Classify for Error {
    fn kind(&self) -> common_error::Kind {
        use common_error::Kind;
        match self {
            Error::Unauthorized { .. } | Error::LoginRequired(_) => Kind::Unauthenticated,
            Error::RateLimited { .. } => Kind::ResourceExhausted,
            Error::Rejected { .. } => Kind::FailedPrecondition,
            Error::Http { status, .. } if *status >= 500 => Kind::Unavailable,
            Error::Http { .. } => Kind::FailedPrecondition,
            Error::Transport { .. } | Error::WebSocket(_) | Error::Closed => Kind::Unavailable,
            Error::Protocol(_)
            | Error::Decode { .. }
            | Error::InvalidField { .. }
            | Error::UnknownValue { .. } => Kind::Internal,
            Error::PageLimit { .. } | Error::InvalidRequest(_) => Kind::InvalidArgument,
            Error::Config(_) | Error::Signing(_) => Kind::FailedPrecondition,
            Error::Api(api) => api.class.common_kind(),
            Error::TokenProvider {
                retryable: true, ..
            } => Kind::Unavailable,
            Error::TokenProvider {
                retryable: false, ..
            } => Kind::Unauthenticated,
        }
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
