//! Tokens (JWT-shaped, with `exp`), OTPs, the guard against guessing them, and
//! `X-Signature` verification.
//!
//! Tokens and OTPs come from the operating system's random source: nothing about them can
//! be rebuilt from the seed or the time. Expired tokens are pruned and each consumer keeps
//! at most `max_tokens_per_consumer` live ones (the oldest is revoked first), so a client
//! logging in in a loop cannot grow the simulator.

pub(crate) mod throttle;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};

/// Which API a token was issued by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// FC Data.
    Data,
    /// FC Trading.
    Trading,
}

/// What a token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// ConsumerID it was issued to.
    pub consumer: String,
    /// Issuing API.
    pub audience: Audience,
    /// `isSave=true` with a correct code: may trade without a per-request code.
    pub verified: bool,
    /// Unix seconds.
    pub exp: i64,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `Authorization` header.
    #[error("Missing Authorization header")]
    Missing,
    /// Unknown token or wrong API.
    #[error("Invalid token")]
    Invalid,
    /// Past its `exp`.
    #[error("Token is expired")]
    Expired,
}

/// The operating system's random source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// A random number for identifiers that need not be secret (SignalR connection ids); falls
/// back to the clock if the random source fails.
pub(crate) fn random_u64() -> u64 {
    random_bytes::<8>().map_or_else(
        |_| {
            crate::rng::mix(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            )
        },
        u64::from_le_bytes,
    )
}

/// Issued tokens and pending OTPs.
#[derive(Debug)]
pub struct Tokens {
    issued: HashMap<String, TokenInfo>,
    /// Live tokens per consumer and API, oldest first.
    by_consumer: HashMap<(String, Audience), VecDeque<String>>,
    otps: HashMap<String, (String, Instant)>,
    otp_lifetime: Duration,
    max_per_consumer: usize,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Current Unix time in seconds (tokens expire in real time: clients compare `exp` with
/// their own clock).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Tokens {
    /// An empty store with the configuration's OTP lifetime and per-consumer cap.
    pub fn new(config: &crate::SimConfig) -> Self {
        Self {
            issued: HashMap::new(),
            by_consumer: HashMap::new(),
            otps: HashMap::new(),
            otp_lifetime: Duration::from_secs(config.otp_lifetime_secs.unsigned_abs()),
            max_per_consumer: config.max_tokens_per_consumer.max(1),
        }
    }

    /// Issues a token with 128 random bits. The payload is padded with spaces until its
    /// base64url form has no `-`/`_`: SSI's Python SDK decodes it with the standard
    /// alphabet.
    pub fn issue(&mut self, info: TokenInfo) -> Result<String, RandomError> {
        let jti = hex(&random_bytes::<16>()?);
        let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let mut body = format!(
            r#"{{"sub":"{}","aud":"{}","exp":{},"jti":"{jti}"}}"#,
            info.consumer,
            match info.audience {
                Audience::Data => "fc-data",
                Audience::Trading => "fc-trading",
            },
            info.exp
        );
        let mut payload = b64url(body.as_bytes());
        for _ in 0..8 {
            if !payload.contains(['-', '_']) {
                break;
            }
            body.insert(1, ' ');
            payload = b64url(body.as_bytes());
        }
        let signature = b64url(&random_bytes::<32>()?);
        let token = format!("{header}.{payload}.{signature}");
        let key = (info.consumer.clone(), info.audience);
        self.issued.insert(token.clone(), info);
        let live = self.by_consumer.entry(key).or_default();
        live.push_back(token.clone());
        // Expired tokens of this consumer go first, then the oldest past the cap.
        let now = unix_now();
        let issued = &mut self.issued;
        live.retain(|t| {
            let keep = issued.get(t).is_some_and(|i| i.exp > now);
            if !keep {
                issued.remove(t);
            }
            keep
        });
        while live.len() > self.max_per_consumer {
            if let Some(old) = live.pop_front() {
                issued.remove(&old);
            }
        }
        Ok(token)
    }

    /// Checks an `Authorization` header value.
    pub fn check(&self, header: Option<&str>, audience: Audience) -> Result<TokenInfo, TokenError> {
        let value = header.ok_or(TokenError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        let info = self.issued.get(token).ok_or(TokenError::Invalid)?;
        if info.audience != audience {
            return Err(TokenError::Invalid);
        }
        if info.exp <= unix_now() {
            return Err(TokenError::Expired);
        }
        Ok(info.clone())
    }

    /// Live (issued, unexpired or not yet pruned) tokens.
    pub fn len(&self) -> usize {
        self.issued.len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.issued.is_empty()
    }

    /// Issues a random 6-digit OTP for `consumer`, replacing any pending one.
    pub fn issue_otp(&mut self, consumer: &str) -> Result<String, RandomError> {
        // Rejection sampling keeps the six digits uniform.
        let n = loop {
            let n = u32::from_le_bytes(random_bytes::<4>()?);
            if n < 4_294_000_000 {
                break n % 1_000_000;
            }
        };
        let otp = format!("{n:06}");
        self.otps
            .insert(consumer.to_owned(), (otp.clone(), Instant::now()));
        Ok(otp)
    }

    /// The pending (unexpired) OTP of `consumer`.
    pub fn pending_otp(&self, consumer: &str) -> Option<&str> {
        self.otps
            .get(consumer)
            .filter(|(_, at)| at.elapsed() < self.otp_lifetime)
            .map(|(otp, _)| otp.as_str())
    }

    /// Consumes `code` if it is `consumer`'s pending, unexpired OTP (single use).
    pub fn take_otp(&mut self, consumer: &str, code: &str) -> bool {
        if self.pending_otp(consumer).is_some_and(|o| o == code) {
            self.otps.remove(consumer);
            true
        } else {
            false
        }
    }
}

/// A client public key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client public key unreadable: {0}")]
pub struct KeyError(pub String);

fn xml_integer(xml: &str, name: &str) -> Option<BigUint> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml.get(start..)?.find(&close)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(xml.get(start..end)?.trim())
        .ok()?;
    Some(BigUint::from_bytes_be(&bytes))
}

fn from_xml(xml: &str) -> Result<RsaPublicKey, KeyError> {
    let n = xml_integer(xml, "Modulus").ok_or_else(|| KeyError("no <Modulus>".into()))?;
    let e = xml_integer(xml, "Exponent").ok_or_else(|| KeyError("no <Exponent>".into()))?;
    RsaPublicKey::new(n, e).map_err(|e| KeyError(e.to_string()))
}

/// Reads a public key from PEM (public or private, PKCS#1 or PKCS#8), SSI's base64 XML,
/// or raw XML (a private XML key yields its public half).
pub fn parse_public_key(text: &str) -> Result<RsaPublicKey, KeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        if let Ok(k) = RsaPublicKey::from_public_key_pem(text) {
            return Ok(k);
        }
        if let Ok(k) = RsaPublicKey::from_pkcs1_pem(text) {
            return Ok(k);
        }
        return RsaPrivateKey::from_pkcs8_pem(text)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(text))
            .map(|k| k.to_public_key())
            .map_err(|e| KeyError(e.to_string()));
    }
    if text.starts_with("<RSAKeyValue>") {
        return from_xml(text);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| KeyError(format!("neither PEM nor base64 XML: {e}")))?;
    let xml = String::from_utf8(bytes).map_err(|e| KeyError(e.to_string()))?;
    from_xml(&xml)
}

/// Whether `hex_signature` is a valid RSASSA-PKCS1-v1_5/SHA-256 signature of `body`.
pub fn signature_valid(key: &RsaPublicKey, body: &[u8], hex_signature: &str) -> bool {
    let hex = hex_signature.trim();
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return false;
    }
    let Ok(bytes) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .map_or(Err(()), |h| u8::from_str_radix(h, 16).map_err(|_| ()))
        })
        .collect::<Result<Vec<u8>, ()>>()
    else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(body, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests;
