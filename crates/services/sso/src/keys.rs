//! Signing keys and access tokens: Ed25519 keys (ring) sign EdDSA JWTs (jsonwebtoken); the
//! public halves are published as a JWKS (RFC 8037 `OKP` keys) that any standard JWT library
//! verifies with. The newest key signs; a superseded key stays published until every token it
//! signed has expired, so rotating never invalidates a token in use.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::domain::Claims;

/// One Ed25519 key pair.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id (the JWT header's `kid`): base64url of the first 12 bytes of the public key's
    /// SHA-256.
    pub kid: String,
    /// The private key, PKCS#8 DER.
    pub private_pkcs8: Vec<u8>,
    /// The public key, 32 bytes.
    pub public_key: Vec<u8>,
    /// When made.
    pub created_at: OffsetDateTime,
    /// When a newer key took over signing.
    pub superseded_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("superseded_at", &self.superseded_at)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key pair.
    pub fn generate(now: OffsetDateTime) -> Result<Self, String> {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| "generating an Ed25519 key failed".to_owned())?;
        Self::from_pkcs8(pkcs8.as_ref().to_vec(), now, None)
    }

    /// The key pair of a stored PKCS#8 document.
    pub fn from_pkcs8(
        private_pkcs8: Vec<u8>,
        created_at: OffsetDateTime,
        superseded_at: Option<OffsetDateTime>,
    ) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_pkcs8(&private_pkcs8)
            .map_err(|e| format!("a stored signing key is not Ed25519 PKCS#8: {e}"))?;
        let public_key = pair.public_key().as_ref().to_vec();
        let digest = ring::digest::digest(&ring::digest::SHA256, &public_key);
        Ok(Self {
            kid: URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12]),
            private_pkcs8,
            public_key,
            created_at,
            superseded_at,
        })
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(&self.public_key),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a JWT.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Signed by a key that is not published (or never was).
    #[error("token signed by an unknown key {0:?}")]
    UnknownKey(String),
    /// The signature does not match.
    #[error("bad token signature")]
    BadSignature,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Wrong issuer, audience, algorithm or not yet valid.
    #[error("token not accepted: {0}")]
    Invalid(String),
}

/// The published keys, the newest of which signs.
pub struct KeyRing {
    /// Newest first.
    keys: Vec<SigningKey>,
    encoding: EncodingKey,
    decoding: Vec<(String, DecodingKey)>,
}

impl KeyRing {
    /// A ring of `keys` (at least one; the newest signs).
    pub fn new(mut keys: Vec<SigningKey>) -> Result<Self, String> {
        keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        let newest = keys.first().ok_or("no signing key")?;
        let encoding = EncodingKey::from_ed_der(&newest.private_pkcs8);
        let decoding = keys
            .iter()
            .map(|k| {
                DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(&k.public_key))
                    .map(|d| (k.kid.clone(), d))
                    .map_err(|e| format!("key {}: {e}", k.kid))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            keys,
            encoding,
            decoding,
        })
    }

    /// The key that signs.
    pub fn current(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// The JWKS document: every published key.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(SigningKey::jwk).collect::<Vec<_>>() })
    }

    /// Signs `claims` with the current key.
    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.current().kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Verifies `token` (signature by a published key, EdDSA only, issuer, audience, expiry and
    /// not-before with 30 s of leeway) and answers its claims.
    pub fn verify(&self, token: &str, issuer: &str, audience: &str) -> Result<Claims, VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(VerifyError::Invalid(format!(
                "algorithm {:?}, not EdDSA",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| VerifyError::Malformed("no kid in the header".to_owned()))?;
        let key = self
            .decoding
            .iter()
            .find(|(k, _)| *k == kid)
            .map(|(_, d)| d)
            .ok_or(VerifyError::UnknownKey(kid))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|d| d.claims)
            .map_err(|e| {
                let kind = e.kind();
                if matches!(kind, ErrorKind::ExpiredSignature) {
                    VerifyError::Expired
                } else if matches!(kind, ErrorKind::InvalidSignature) {
                    VerifyError::BadSignature
                } else if matches!(
                    kind,
                    ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_)
                ) {
                    VerifyError::Malformed(e.to_string())
                } else {
                    VerifyError::Invalid(e.to_string())
                }
            })
    }
}

/// `n` random bytes as base64url (tokens handed out: refresh, reset, generated passwords).
pub fn random_token(n: usize) -> Result<String, String> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system random source failed".to_owned())?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a token, hex (how refresh and reset tokens are stored).
pub fn token_hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "https://qts.example/api/sso".into(),
            sub: "u1".into(),
            aud: "qts".into(),
            exp,
            iat: exp - 900,
            nbf: exp - 900,
            jti: "j1".into(),
            preferred_username: "alice".into(),
            roles: vec![Role::Trader],
            accounts: vec!["0001001".into()],
            scope: "trader".into(),
        }
    }

    #[test]
    fn a_token_verifies_with_the_ring_that_signed_it_and_no_other() {
        let now = OffsetDateTime::now_utc();
        let old = SigningKey::generate(now - time::Duration::days(40)).unwrap();
        let new = SigningKey::generate(now).unwrap();
        let ring = KeyRing::new(vec![old.clone(), new.clone()]).unwrap();
        assert_eq!(ring.current().kid, new.kid);
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        let c = claims(now.unix_timestamp() + 900);
        let token = ring.sign(&c).unwrap();
        let iss = "https://qts.example/api/sso";
        assert_eq!(ring.verify(&token, iss, "qts").unwrap(), c);
        // A token of the older key still verifies while it is published.
        let only_old = KeyRing::new(vec![old]).unwrap();
        let older = only_old.sign(&c).unwrap();
        assert_eq!(ring.verify(&older, iss, "qts").unwrap(), c);
        // Another issuer's ring, another audience, an expired or tampered token: refused.
        let other = KeyRing::new(vec![SigningKey::generate(now).unwrap()]).unwrap();
        assert!(matches!(
            other.verify(&token, iss, "qts"),
            Err(VerifyError::UnknownKey(_))
        ));
        assert!(matches!(
            ring.verify(&token, iss, "other"),
            Err(VerifyError::Invalid(_))
        ));
        assert!(matches!(
            ring.verify(&token, "https://evil", "qts"),
            Err(VerifyError::Invalid(_))
        ));
        let expired = ring.sign(&claims(now.unix_timestamp() - 60)).unwrap();
        assert_eq!(ring.verify(&expired, iss, "qts"), Err(VerifyError::Expired));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims(now.unix_timestamp() + 900);
        forged.roles = vec![Role::Admin];
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            ring.verify(&parts.join("."), iss, "qts"),
            Err(VerifyError::BadSignature)
        );
        assert!(matches!(
            ring.verify("not.a.jwt", iss, "qts"),
            Err(VerifyError::Malformed(_))
        ));
        // Stored and loaded again, a key is the same key.
        let again = SigningKey::from_pkcs8(new.private_pkcs8.clone(), now, None).unwrap();
        assert_eq!((again.kid, again.public_key), (new.kid, new.public_key));
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(random_token(32).unwrap(), random_token(32).unwrap());
    }
}
