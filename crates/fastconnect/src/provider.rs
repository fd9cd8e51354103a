//! Tokens obtained by someone else: a [`TokenProvider`] gives a client its access tokens
//! instead of the client logging in with its own credentials.
//!
//! In QTS the config service is the provider: it alone holds the SSI credentials, logs in,
//! caches and renews the tokens, and hands them to every service that talks to SSI. That keeps
//! the credentials in one place and, for v3, keeps the fleet on the one session SSI allows per
//! API key (a second login logs the first out).
//!
//! The client still caches what it is given and asks again shortly before it expires; when SSI
//! refuses a token, the client asks again passing the refused token, so the provider renews it
//! rather than handing the same one back.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use secrecy::SecretString;

use crate::error::Result;
use crate::v3::OtpChallenge;

/// Which token a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// v2 FC Data: market data over REST and the data hub.
    Data,
    /// v2 FC Trading: what the provider can obtain by itself (PIN-verified when it holds the
    /// PIN, else a read token for queries and streaming).
    Trading,
    /// v3: the one session of the API key (data scope unless a trading login was made there).
    V3,
}

impl TokenKind {
    /// `data`, `trading` or `v3`: the name on the wire of the config service's API.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Data => "data",
            TokenKind::Trading => "trading",
            TokenKind::V3 => "v3",
        }
    }

    /// The kind named `name` ([`as_str`](Self::as_str)).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "data" => Some(TokenKind::Data),
            "trading" => Some(TokenKind::Trading),
            "v3" => Some(TokenKind::V3),
            _ => None,
        }
    }
}

impl std::fmt::Display for TokenKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An access token and when it expires.
#[derive(Clone)]
pub struct IssuedToken {
    /// The bearer token.
    pub value: SecretString,
    /// Unix seconds.
    pub expires_at: u64,
    /// Whether it can trade: a v3 trading-scope session, a PIN-verified v2 trading token.
    pub trading: bool,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("value", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("trading", &self.trading)
            .finish()
    }
}

/// Gives clients their tokens. `rejected` is the token SSI just refused, if that is why the
/// client asks: the provider must not answer it again.
///
/// A provider that holds a v3 session also makes its OTP logins ([`request_otp`],
/// [`login_otp`]): a v3 client with a provider delegates them, because a login of its own
/// would log the provider's session, and so the whole fleet, out.
///
/// [`request_otp`]: TokenProvider::request_otp
/// [`login_otp`]: TokenProvider::login_otp
pub trait TokenProvider: Send + Sync {
    /// A token of `kind` that is not `rejected`.
    fn token(
        &self,
        kind: TokenKind,
        rejected: Option<SecretString>,
    ) -> BoxFuture<'static, Result<IssuedToken>>;

    /// Asks SSI for an OTP for the session of `kind` (v3: SMS/e-mail code, or a Smart-OTP
    /// transaction). By default the provider makes no OTP logins.
    fn request_otp(&self, kind: TokenKind) -> BoxFuture<'static, Result<OtpChallenge>> {
        let _ = kind;
        Box::pin(std::future::ready(Err(no_otp())))
    }

    /// Logs the session of `kind` in with `code` (a six-digit OTP or a Smart-OTP transaction
    /// id) and answers its new token, which can trade.
    fn login_otp(
        &self,
        kind: TokenKind,
        code: SecretString,
    ) -> BoxFuture<'static, Result<IssuedToken>> {
        let _ = (kind, code);
        Box::pin(std::future::ready(Err(no_otp())))
    }
}

fn no_otp() -> crate::Error {
    crate::Error::TokenProvider {
        retryable: false,
        message: "this token provider makes no OTP logins".to_owned(),
    }
}

impl std::fmt::Debug for dyn TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenProvider")
    }
}

/// The shared form clients keep.
pub type SharedTokenProvider = Arc<dyn TokenProvider>;

/// A provider from an async function: `from_fn(|kind, rejected| async move { ... })`.
pub fn from_fn<F, Fut>(f: F) -> SharedTokenProvider
where
    F: Fn(TokenKind, Option<SecretString>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<IssuedToken>> + Send + 'static,
{
    struct FnProvider<F>(F);
    impl<F, Fut> TokenProvider for FnProvider<F>
    where
        F: Fn(TokenKind, Option<SecretString>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<IssuedToken>> + Send + 'static,
    {
        fn token(
            &self,
            kind: TokenKind,
            rejected: Option<SecretString>,
        ) -> BoxFuture<'static, Result<IssuedToken>> {
            Box::pin((self.0)(kind, rejected))
        }
    }
    Arc::new(FnProvider(f))
}
