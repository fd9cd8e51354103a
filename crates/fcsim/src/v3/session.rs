//! FastConnect v3 sessions: one per apiKey (a login or refresh replaces it), access and
//! refresh tokens, SMS OTPs and Smart-OTP transactions (§4 of the v3 reference).
//!
//! Tokens come from the operating system's random source. A spent refresh token is
//! remembered until its key logs in again: presenting it a second time is taken as a leak
//! and revokes the key's whole session (401103), as SSI does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::auth::{RandomError, random_bytes, unix_now};

/// What an access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) api_key: String,
    /// Issued with an OTP (or an approved Smart OTP): may trade.
    pub(crate) trading: bool,
}

/// The live session of one apiKey.
#[derive(Debug, Clone)]
struct Session {
    access: String,
    refresh: String,
    trading: bool,
    expires_at: i64,
    refresh_expires_at: i64,
}

/// A token pair as answered by `auth/token` and `auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issued {
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) expires_at: i64,
    pub(crate) refresh_expires_at: i64,
}

/// Why a refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshError {
    /// Unknown refresh token (401101).
    Unknown,
    /// Past its expiry (401102).
    Expired,
    /// Already spent: the session is revoked (401103).
    Reused,
}

/// A Smart-OTP poll's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Approval {
    /// Not approved yet (HTTP 202, 401114).
    Pending,
    /// Approved: issue a trading token.
    Approved,
    /// No such transaction, or expired (401113).
    NotFound,
    /// The transaction belongs to another apiKey (401116).
    Foreign,
}

#[derive(Debug, Clone)]
struct Transaction {
    api_key: String,
    polls: u32,
    at: Instant,
}

/// Every v3 session, OTP and Smart-OTP transaction.
#[derive(Debug)]
pub(crate) struct Sessions {
    by_key: HashMap<String, Session>,
    /// Spent refresh tokens → (apiKey, their expiry): kept until they would have expired.
    spent: HashMap<String, (String, i64)>,
    otps: HashMap<String, (String, Instant)>,
    transactions: HashMap<String, Transaction>,
    /// Open stream sockets per apiKey.
    sockets: HashMap<String, usize>,
    otp_lifetime: Duration,
    access_lifetime: i64,
    refresh_lifetime: i64,
}

fn token(kind: &str, api_key: &str, exp: i64) -> Result<String, RandomError> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jti: String = random_bytes::<16>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64(
        format!(r#"{{"sub":"{api_key}","typ":"{kind}","exp":{exp},"jti":"{jti}"}}"#).as_bytes(),
    );
    Ok(format!("{header}.{body}.{}", b64(&random_bytes::<32>()?)))
}

impl Sessions {
    pub(crate) fn new(config: &crate::SimConfig) -> Self {
        Self {
            by_key: HashMap::new(),
            spent: HashMap::new(),
            otps: HashMap::new(),
            transactions: HashMap::new(),
            sockets: HashMap::new(),
            otp_lifetime: Duration::from_secs(config.otp_lifetime_secs.unsigned_abs()),
            access_lifetime: config.token_lifetime_secs,
            refresh_lifetime: config.v3_refresh_lifetime_secs,
        }
    }

    /// Opens a new session for `api_key`, replacing (revoking) its previous one.
    pub(crate) fn login(&mut self, api_key: &str, trading: bool) -> Result<Issued, RandomError> {
        self.spent.retain(|_, (k, _)| k != api_key);
        self.open(api_key, trading)
    }

    fn open(&mut self, api_key: &str, trading: bool) -> Result<Issued, RandomError> {
        let now = unix_now();
        let expires_at = now.saturating_add(self.access_lifetime);
        let refresh_expires_at = now.saturating_add(self.refresh_lifetime);
        let session = Session {
            access: token("access", api_key, expires_at)?,
            refresh: token("refresh", api_key, refresh_expires_at)?,
            trading,
            expires_at,
            refresh_expires_at,
        };
        let issued = Issued {
            access: session.access.clone(),
            refresh: session.refresh.clone(),
            expires_at,
            refresh_expires_at,
        };
        self.by_key.insert(api_key.to_owned(), session);
        Ok(issued)
    }

    /// Rotates the session of `refresh`: a new pair with the same scope; the old refresh
    /// token is spent.
    pub(crate) fn refresh(
        &mut self,
        refresh: &str,
    ) -> Result<Result<Issued, RefreshError>, RandomError> {
        let now = unix_now();
        self.spent.retain(|_, (_, exp)| *exp > now);
        if let Some((api_key, _)) = self.spent.get(refresh).cloned() {
            self.by_key.remove(&api_key);
            self.spent.retain(|_, (k, _)| *k != api_key);
            return Ok(Err(RefreshError::Reused));
        }
        let Some((api_key, session)) = self
            .by_key
            .iter()
            .find(|(_, s)| s.refresh == refresh)
            .map(|(k, s)| (k.clone(), s.clone()))
        else {
            return Ok(Err(RefreshError::Unknown));
        };
        if session.refresh_expires_at <= unix_now() {
            self.by_key.remove(&api_key);
            return Ok(Err(RefreshError::Expired));
        }
        self.spent.insert(
            session.refresh,
            (api_key.clone(), session.refresh_expires_at),
        );
        self.open(&api_key, session.trading).map(Ok)
    }

    /// The grant of a bearer access token (`None`: unknown, replaced or expired).
    pub(crate) fn check(&self, header: Option<&str>) -> Option<Grant> {
        let value = header?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        let now = unix_now();
        self.by_key
            .iter()
            .find(|(_, s)| s.access == token && s.expires_at > now)
            .map(|(k, s)| Grant {
                api_key: k.clone(),
                trading: s.trading,
            })
    }

    /// Issues a 6-digit OTP for `api_key`, replacing any pending one.
    pub(crate) fn issue_otp(&mut self, api_key: &str) -> Result<String, RandomError> {
        let n = loop {
            let n = u32::from_le_bytes(random_bytes::<4>()?);
            if n < 4_294_000_000 {
                break n % 1_000_000;
            }
        };
        let otp = format!("{n:06}");
        self.otps
            .insert(api_key.to_owned(), (otp.clone(), Instant::now()));
        Ok(otp)
    }

    /// The pending, unexpired OTP of `api_key`.
    pub(crate) fn pending_otp(&self, api_key: &str) -> Option<&str> {
        self.otps
            .get(api_key)
            .filter(|(_, at)| at.elapsed() < self.otp_lifetime)
            .map(|(o, _)| o.as_str())
    }

    /// Consumes `code` if it is `api_key`'s pending OTP (single use).
    pub(crate) fn take_otp(&mut self, api_key: &str, code: &str) -> bool {
        if self.pending_otp(api_key).is_some_and(|o| o == code) {
            self.otps.remove(api_key);
            true
        } else {
            false
        }
    }

    /// Opens a Smart-OTP transaction for `api_key`; returns its id.
    pub(crate) fn open_transaction(&mut self, api_key: &str) -> Result<String, RandomError> {
        let now = Instant::now();
        let lifetime = self.otp_lifetime;
        self.transactions
            .retain(|_, t| now.duration_since(t.at) < lifetime && t.api_key != api_key);
        let id: String = random_bytes::<12>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.transactions.insert(
            id.clone(),
            Transaction {
                api_key: api_key.to_owned(),
                polls: 0,
                at: now,
            },
        );
        Ok(id)
    }

    /// One poll of `auth/token` with `transaction_id`. The simulator's approval rule: the
    /// first poll of a transaction is pending, the second is approved (and consumes it).
    pub(crate) fn poll(&mut self, api_key: &str, transaction_id: &str) -> Approval {
        let lifetime = self.otp_lifetime;
        let Some(t) = self
            .transactions
            .get_mut(transaction_id)
            .filter(|t| t.at.elapsed() < lifetime)
        else {
            return Approval::NotFound;
        };
        if t.api_key != api_key {
            return Approval::Foreign;
        }
        t.polls += 1;
        if t.polls < 2 {
            return Approval::Pending;
        }
        self.transactions.remove(transaction_id);
        Approval::Approved
    }

    /// Takes a stream socket slot of `api_key`; false when it already has `max`.
    pub(crate) fn open_socket(&mut self, api_key: &str, max: usize) -> bool {
        let n = self.sockets.entry(api_key.to_owned()).or_default();
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    /// Releases a stream socket slot of `api_key`.
    pub(crate) fn close_socket(&mut self, api_key: &str) {
        if let Some(n) = self.sockets.get_mut(api_key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.sockets.remove(api_key);
            }
        }
    }

    /// Keys with a live session (tests).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> std::collections::HashSet<String> {
        self.by_key.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_refresh_token_revokes_the_session() {
        let mut s = Sessions::new(&crate::SimConfig::demo());
        let first = s.login("k", true).unwrap();
        let second = s.refresh(&first.refresh).unwrap().unwrap();
        assert!(
            s.check(Some(&format!("Bearer {}", second.access)))
                .is_some()
        );
        assert!(s.check(Some(&first.access)).is_none(), "rotated out");
        assert_eq!(
            s.refresh(&first.refresh).unwrap(),
            Err(RefreshError::Reused)
        );
        assert!(s.check(Some(&second.access)).is_none(), "revoked");
        assert_eq!(
            s.refresh(&second.refresh).unwrap(),
            Err(RefreshError::Unknown)
        );
        assert!(s.keys().is_empty());
    }

    #[test]
    fn one_session_per_key_and_smart_otp_approves_on_the_second_poll() {
        let mut s = Sessions::new(&crate::SimConfig::demo());
        let a = s.login("k", false).unwrap();
        let b = s.login("k", true).unwrap();
        assert!(s.check(Some(&a.access)).is_none());
        assert_eq!(
            s.check(Some(&b.access)),
            Some(Grant {
                api_key: "k".into(),
                trading: true
            })
        );
        let t = s.open_transaction("k").unwrap();
        assert_eq!(s.poll("other", &t), Approval::Foreign);
        assert_eq!(s.poll("k", &t), Approval::Pending);
        assert_eq!(s.poll("k", &t), Approval::Approved);
        assert_eq!(s.poll("k", &t), Approval::NotFound);
    }
}
