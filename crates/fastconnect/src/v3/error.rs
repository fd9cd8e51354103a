//! v3 error answers: an HTTP status plus `{code, msg}` (some endpoints say `message`),
//! classified once by SSI's documented codes (reference §10, SDK `enums/error.py`).

use std::fmt;
use std::time::Duration;

use crate::error::ErrorKind;

/// HTTP status SSI uses for a pending Smart-OTP approval.
pub const SMART_OTP_PENDING_STATUS: u16 = 202;
/// Body code of a pending Smart-OTP approval.
pub const SMART_OTP_PENDING_CODE: i64 = 401_114;

/// What a v3 error means to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiErrorClass {
    /// Credentials or token refused (401, 401105 on `auth/token`, 401100 OTP verification
    /// failed, 400101–400103 credential/2FA set-up).
    Auth,
    /// The refresh token is unusable (401101–401104, 401106–401108; 401103 = reused refresh
    /// token, SSI revoked the whole API-key session): log in again with a new OTP.
    ReauthRequired,
    /// The token lacks the right (403, 403100, or 401105 on a trading call: a token obtained
    /// without OTP is data-only).
    Scope,
    /// `X-Signature` missing (401006), empty body (401008) or not matching (401013).
    Signature,
    /// `batchRequestTime` outside SSI's replay window (400111): check the clock.
    Replay,
    /// SSI refused the input (400xxx validation codes, 504207–504209 missing selectors,
    /// other 400/422).
    Validation,
    /// 409: `clientRequestId` / `batchRequestId` already used today. The order exists.
    Duplicate,
    /// 429: quota exceeded; see [`ApiError::retry_after`].
    RateLimited,
    /// HTTP 202 / 401114: the Smart-OTP push is not approved yet.
    SmartOtpPending,
    /// Smart-OTP transaction not found (401113), rejected (401115) or foreign (401116).
    SmartOtpRejected,
    /// The OTP could not be sent or the push approval not created (400104 on `auth`, 400171).
    OtpDelivery,
    /// 404.
    NotFound,
    /// 5xx without a known validation code: SSI is down or broken; retry later.
    Server,
    /// Any other refusal.
    Rejected,
}

impl ApiErrorClass {
    /// Classifies by the body `code` first (it is more precise than the HTTP status), then by
    /// the status. `endpoint` disambiguates codes SSI reuses (401105, 400104).
    pub fn classify(endpoint: &str, http_status: u16, code: Option<i64>) -> Self {
        let auth_endpoint = endpoint.starts_with("/api/v3/auth");
        if let Some(code) = code {
            match code {
                401_101..=401_104 | 401_106..=401_108 => return Self::ReauthRequired,
                401_105 if auth_endpoint => return Self::Auth,
                401_105 | 403_100 => return Self::Scope,
                401_100 | 400_101..=400_103 => return Self::Auth,
                401_113 | 401_115 | 401_116 => return Self::SmartOtpRejected,
                SMART_OTP_PENDING_CODE => return Self::SmartOtpPending,
                400_104 if auth_endpoint => return Self::OtpDelivery,
                400_171 => return Self::OtpDelivery,
                401_006 | 401_008 | 401_013 => return Self::Signature,
                400_111 => return Self::Replay,
                504_207..=504_209 => return Self::Validation,
                _ => {}
            }
        }
        match http_status {
            409 => Self::Duplicate,
            429 => Self::RateLimited,
            401 => Self::Auth,
            403 => Self::Scope,
            404 => Self::NotFound,
            500..=599 => Self::Server,
            400 | 422 => Self::Validation,
            _ if code.is_some_and(|c| (400_000..400_999).contains(&c)) => Self::Validation,
            _ => Self::Rejected,
        }
    }

    /// The crate-wide [`ErrorKind`].
    pub fn error_kind(self) -> ErrorKind {
        match self {
            Self::Auth
            | Self::ReauthRequired
            | Self::Scope
            | Self::SmartOtpPending
            | Self::SmartOtpRejected => ErrorKind::Auth,
            Self::RateLimited => ErrorKind::RateLimited,
            Self::Server | Self::OtpDelivery => ErrorKind::Transport,
            Self::Signature => ErrorKind::InvalidInput,
            Self::Replay | Self::Validation | Self::Duplicate | Self::NotFound | Self::Rejected => {
                ErrorKind::Rejected
            }
        }
    }

    /// The `common-error` kind (HTTP/gRPC mapping for services).
    pub fn common_kind(self) -> common_error::Kind {
        use common_error::Kind;
        match self {
            Self::Auth | Self::ReauthRequired | Self::SmartOtpPending | Self::SmartOtpRejected => {
                Kind::Unauthenticated
            }
            Self::Scope => Kind::PermissionDenied,
            Self::Signature => Kind::Unauthenticated,
            Self::Replay | Self::Rejected => Kind::FailedPrecondition,
            Self::Validation => Kind::InvalidArgument,
            Self::Duplicate => Kind::AlreadyExists,
            Self::RateLimited => Kind::ResourceExhausted,
            Self::NotFound => Kind::NotFound,
            Self::Server | Self::OtpDelivery => Kind::Unavailable,
        }
    }

    /// A short name for messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::ReauthRequired => "re-login required",
            Self::Scope => "scope",
            Self::Signature => "signature",
            Self::Replay => "replay window",
            Self::Validation => "validation",
            Self::Duplicate => "duplicate request id",
            Self::RateLimited => "rate limited",
            Self::SmartOtpPending => "smart OTP pending",
            Self::SmartOtpRejected => "smart OTP rejected",
            Self::OtpDelivery => "OTP delivery",
            Self::NotFound => "not found",
            Self::Server => "server error",
            Self::Rejected => "rejected",
        }
    }
}

/// One v3 error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The path that was called.
    pub endpoint: String,
    /// The HTTP status (200 when SSI put an error code in a 200 body, 202 for Smart OTP).
    pub http_status: u16,
    /// SSI's `code`, when the body had one.
    pub code: Option<i64>,
    /// SSI's `msg`/`message`, or the start of the body.
    pub message: String,
    /// What it means.
    pub class: ApiErrorClass,
    /// `Retry-After` of a 429.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SSI v3 {} at {} (HTTP {}",
            self.class.as_str(),
            self.endpoint,
            self.http_status
        )?;
        if let Some(code) = self.code {
            write!(f, ", code {code}")?;
        }
        write!(f, "): {}", self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for crate::error::Error {
    fn from(e: ApiError) -> Self {
        crate::error::Error::Api(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_its_class() {
        let c = ApiErrorClass::classify;
        let trade = "/api/v3/trading/order";
        let auth = "/api/v3/auth/token";
        for code in [
            401_101, 401_102, 401_103, 401_104, 401_106, 401_107, 401_108,
        ] {
            assert_eq!(
                c("/api/v3/auth/refresh", 401, Some(code)),
                ApiErrorClass::ReauthRequired
            );
        }
        assert_eq!(c(auth, 401, Some(401_105)), ApiErrorClass::Auth);
        assert_eq!(c(trade, 401, Some(401_105)), ApiErrorClass::Scope);
        assert_eq!(c(trade, 403, Some(403_100)), ApiErrorClass::Scope);
        assert_eq!(c(auth, 401, Some(401_100)), ApiErrorClass::Auth);
        for code in [400_101, 400_102, 400_103] {
            assert_eq!(c(auth, 400, Some(code)), ApiErrorClass::Auth);
        }
        assert_eq!(c(auth, 400, Some(400_104)), ApiErrorClass::OtpDelivery);
        assert_eq!(
            c("/api/v3/data/ohlc", 400, Some(400_104)),
            ApiErrorClass::Validation
        );
        assert_eq!(c(auth, 400, Some(400_171)), ApiErrorClass::OtpDelivery);
        assert_eq!(c(auth, 202, Some(401_114)), ApiErrorClass::SmartOtpPending);
        for code in [401_113, 401_115, 401_116] {
            assert_eq!(c(auth, 403, Some(code)), ApiErrorClass::SmartOtpRejected);
        }
        for code in [401_006, 401_008, 401_013] {
            assert_eq!(c(trade, 401, Some(code)), ApiErrorClass::Signature);
        }
        assert_eq!(c(trade, 400, Some(400_111)), ApiErrorClass::Replay);
        for code in [400_107, 400_006, 400_202, 400_208, 400_210, 400_213] {
            assert_eq!(c(trade, 400, Some(code)), ApiErrorClass::Validation);
        }
        for code in [504_207, 504_208, 504_209] {
            assert_eq!(
                c("/api/v3/data/indexSummary", 504, Some(code)),
                ApiErrorClass::Validation
            );
        }
        assert_eq!(c(trade, 409, None), ApiErrorClass::Duplicate);
        assert_eq!(c(trade, 429, Some(429)), ApiErrorClass::RateLimited);
        assert_eq!(c(trade, 404, None), ApiErrorClass::NotFound);
        assert_eq!(c(trade, 502, None), ApiErrorClass::Server);
        assert_eq!(c(trade, 200, Some(400_213)), ApiErrorClass::Validation);
        assert_eq!(c(trade, 200, Some(999)), ApiErrorClass::Rejected);
    }

    #[test]
    fn classes_map_to_kinds() {
        use common_error::Kind;
        assert_eq!(ApiErrorClass::Duplicate.common_kind(), Kind::AlreadyExists);
        assert_eq!(ApiErrorClass::Scope.common_kind(), Kind::PermissionDenied);
        assert_eq!(
            ApiErrorClass::RateLimited.error_kind(),
            ErrorKind::RateLimited
        );
        assert_eq!(ApiErrorClass::Server.error_kind(), ErrorKind::Transport);
    }
}
