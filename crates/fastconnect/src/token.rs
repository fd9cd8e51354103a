//! Access-token cache: one token per client, renewed before its JWT `exp`.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use crate::error::Result;
use crate::provider::IssuedToken;

/// A bearer token and when it stops being usable.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: SecretString,
    /// Unix seconds.
    pub(crate) expires_at: u64,
}

impl Token {
    /// Reads `exp` from the JWT payload; `fallback` seconds from now if it cannot.
    pub(crate) fn from_jwt(value: SecretString, fallback: Duration) -> Self {
        let expires_at =
            jwt_exp(value.expose_secret()).unwrap_or_else(|| now_secs() + fallback.as_secs());
        Self { value, expires_at }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("value", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The `exp` claim (Unix seconds) of a JWT, without verifying it: we only need to know when
/// to renew. SSI issues RS256 JWTs.
pub(crate) fn jwt_exp(jwt: &str) -> Option<u64> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    exp.as_u64()
        .or_else(|| exp.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

impl From<IssuedToken> for Token {
    fn from(t: IssuedToken) -> Self {
        Self {
            value: t.value,
            expires_at: t.expires_at,
        }
    }
}

impl Token {
    /// As handed out, saying whether it can trade.
    pub(crate) fn issued(self, trading: bool) -> IssuedToken {
        IssuedToken {
            value: self.value,
            expires_at: self.expires_at,
            trading,
        }
    }
}

/// The token SSI last refused, kept until the next renewal asks a provider for a new one.
#[derive(Debug, Default)]
pub(crate) struct Rejected(std::sync::Mutex<Option<SecretString>>);

impl Rejected {
    pub(crate) fn set(&self, stale: &SecretString) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stale.clone());
    }

    pub(crate) fn take(&self) -> Option<SecretString> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// Caches one token; concurrent callers share a single renewal.
#[derive(Debug)]
pub(crate) struct TokenCache {
    current: Mutex<Option<Token>>,
    margin: Duration,
}

impl TokenCache {
    pub(crate) fn new(margin: Duration) -> Self {
        Self {
            current: Mutex::new(None),
            margin,
        }
    }

    /// The cached token if it has more than the margin left, else the result of `fetch`.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token>>,
    {
        let mut current = self.current.lock().await;
        if let Some(token) = current
            .as_ref()
            .filter(|t| t.expires_at > now_secs() + self.margin.as_secs())
        {
            return Ok(token.clone());
        }
        let fresh = fetch().await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// When the cached token expires (Unix seconds), if one is cached and not yet expired.
    pub(crate) async fn expires_at(&self) -> Option<u64> {
        self.current
            .lock()
            .await
            .as_ref()
            .map(|t| t.expires_at)
            .filter(|e| *e > now_secs())
    }

    /// Stores a token obtained elsewhere (an explicit login).
    pub(crate) async fn set(&self, token: Token) {
        *self.current.lock().await = Some(token);
    }

    /// Forgets the token if it is still `stale` (SSI rejected it), so the next `get` renews.
    pub(crate) async fn invalidate(&self, stale: &Token) {
        let mut current = self.current.lock().await;
        if current
            .as_ref()
            .is_some_and(|t| t.value.expose_secret() == stale.value.expose_secret())
        {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: u64) -> String {
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64(&format!(r#"{{"exp":{exp},"sub":"x"}}"#))
        )
    }

    #[test]
    fn exp_is_read_from_the_jwt_payload() {
        assert_eq!(jwt_exp(&jwt(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(jwt_exp("not-a-jwt"), None);
        assert_eq!(jwt_exp("a.%%%.c"), None);
    }

    #[test]
    fn a_token_without_exp_gets_the_fallback_lifetime() {
        let t = Token::from_jwt(
            SecretString::from("opaque".to_owned()),
            Duration::from_secs(100),
        );
        let now = now_secs();
        assert!(t.expires_at >= now + 99 && t.expires_at <= now + 101);
    }

    #[tokio::test]
    async fn a_token_is_reused_until_the_margin_and_renewed_inside_it() {
        let cache = TokenCache::new(Duration::from_secs(600));
        let long = jwt(now_secs() + 3_600);
        let first = cache
            .get(|| async { Ok(Token::from_jwt(long.clone().into(), Duration::ZERO)) })
            .await
            .unwrap();
        let again = cache
            .get(|| async { Ok(Token::from_jwt("other".to_owned().into(), Duration::ZERO)) })
            .await
            .unwrap();
        assert_eq!(again.value.expose_secret(), first.value.expose_secret());

        let short = jwt(now_secs() + 300);
        cache
            .set(Token::from_jwt(short.into(), Duration::ZERO))
            .await;
        let renewed = cache
            .get(|| async { Ok(Token::from_jwt(long.clone().into(), Duration::ZERO)) })
            .await
            .unwrap();
        assert_eq!(renewed.value.expose_secret(), long);
    }
}
