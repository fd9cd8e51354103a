//! Two-factor authentication: TOTP codes (RFC 6238 with SHA-1, 6 digits and 30-second steps,
//! what authenticator apps use; totp-rs computes them) and one-time recovery codes. No I/O.

use ring::rand::{SecureRandom, SystemRandom};
use totp_rs::{Algorithm, TOTP};

/// Seconds per code.
pub const STEP: u64 = 30;

/// The issuer authenticator apps show.
pub const ISSUER: &str = "QTS";

/// Recovery codes handed out when TOTP is enabled.
pub const RECOVERY_CODES: usize = 10;

fn random(n: usize) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| "the system random source failed".to_owned())?;
    Ok(b)
}

/// A new secret: 160 random bits (RFC 4226's recommendation).
pub fn new_secret() -> Result<Vec<u8>, String> {
    random(20)
}

fn totp(secret: &[u8], account: &str) -> Result<TOTP, String> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        secret.to_vec(),
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| format!("TOTP: {e}"))
}

/// What an authenticator app is given: the secret in base32 and the `otpauth://` URI.
pub fn provisioning(secret: &[u8], account: &str) -> Result<(String, String), String> {
    let t = totp(secret, account)?;
    Ok((t.get_secret_base32(), t.get_url()))
}

/// The time step of `code` when it is the code of the step before, at or after `now` (clock
/// drift) and later than `last_step` (a code is good once); else `None`.
pub fn check(
    secret: &[u8],
    account: &str,
    code: &str,
    now: u64,
    last_step: i64,
) -> Result<Option<i64>, String> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret, account)?;
    let here = now / STEP;
    for step in [here.saturating_sub(1), here, here + 1] {
        let s = i64::try_from(step).unwrap_or(i64::MAX);
        if s > last_step && constant_eq(t.generate(step * STEP).as_bytes(), code.as_bytes()) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// New recovery codes (`xxxxx-xxxxx`, 50 random bits each).
pub fn recovery_codes() -> Result<Vec<String>, String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = random(10)?;
            let chars: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            Ok(format!("{}-{}", &chars[..5], &chars[5..]))
        })
        .collect()
}

/// A recovery code as compared: lower case, without dashes or spaces.
pub fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_rfc_6238_and_are_good_once() {
        // RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 → 94287082 (8
        // digits); 6 digits are its last six.
        let secret = b"12345678901234567890";
        assert_eq!(check(secret, "alice", "287082", 59, 0).unwrap(), Some(1));
        assert_eq!(
            check(secret, "alice", "287082", 59, 1).unwrap(),
            None,
            "used"
        );
        // T = 1111111109 → 07081804; a step of drift either way is accepted.
        let step = 1_111_111_109 / STEP;
        assert_eq!(
            check(secret, "alice", "081804", 1_111_111_109 + 30, 0).unwrap(),
            Some(i64::try_from(step).unwrap())
        );
        assert_eq!(
            check(secret, "alice", "081804", 1_111_111_109 + 90, 0).unwrap(),
            None
        );
        assert_eq!(
            check(secret, "alice", "08180", 1_111_111_109, 0).unwrap(),
            None
        );
        let (base32, url) = provisioning(secret, "alice").unwrap();
        assert_eq!(base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(url.starts_with("otpauth://totp/QTS:alice?"), "{url}");
        let codes = recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(normalise_recovery(" AbCdE-fGhIj "), "abcdefghij");
        assert_eq!(new_secret().unwrap().len(), 20);
    }
}
