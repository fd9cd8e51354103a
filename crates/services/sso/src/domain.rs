//! Users, roles, the claims of an access token and the rules their fields follow. No I/O.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a user or service may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Trades the accounts they are given.
    Trader,
    /// Sets limits and kill switches, sees every account.
    RiskOfficer,
    /// Manages users and everything else.
    Admin,
    /// Runs the fleet: health, metrics, configuration.
    Ops,
    /// A service calling another (client credentials).
    Service,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Trader,
        Role::RiskOfficer,
        Role::Admin,
        Role::Ops,
        Role::Service,
    ];

    /// `trader`, `risk_officer`, `admin`, `ops`, `service`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trader => "trader",
            Role::RiskOfficer => "risk_officer",
            Role::Admin => "admin",
            Role::Ops => "ops",
            Role::Service => "service",
        }
    }

    /// Reads [`Role::as_str`].
    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("role {s:?}: trader, risk_officer, admin, ops or service"))
    }
}

/// Reads a comma-separated list of roles (as stored).
pub fn parse_roles(s: &str) -> Result<Vec<Role>, String> {
    let mut roles: Vec<Role> = s
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(Role::parse)
        .collect::<Result<_, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Roles as stored: comma-separated.
pub fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id (the tokens' `sub`).
    pub id: String,
    /// Login name, lower case.
    pub username: String,
    /// Where password resets go.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// What they may do.
    pub roles: Vec<Role>,
    /// Broker sub-accounts they may trade and see.
    pub accounts: Vec<String>,
    /// Cannot log in.
    pub disabled: bool,
    /// Failed logins since the last good one.
    pub failed_logins: u32,
    /// Locked until then after too many failures.
    pub locked_until: Option<OffsetDateTime>,
    /// When created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl User {
    /// Whether the user has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Checks a login name: 3 to 64 characters of `[a-z0-9._-]` (compared in lower case).
pub fn check_username(u: &str) -> Result<String, String> {
    let u = u.trim().to_ascii_lowercase();
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(u)
    } else {
        Err("username: 3 to 64 characters of [a-z0-9._-]".to_owned())
    }
}

/// Normalises a service client id: 2 to 64 characters of `[a-z0-9._-]` (services such as
/// `ta` are clients under their registry names).
pub fn check_client_id(id: &str) -> Result<String, String> {
    let id = id.trim().to_ascii_lowercase();
    let ok = (2..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(id)
    } else {
        Err("client_id: 2 to 64 characters of [a-z0-9._-]".to_owned())
    }
}

/// Checks a password against the policy: `min` to 128 characters, not the user name.
pub fn check_password(password: &str, username: &str, min: usize) -> Result<(), String> {
    let n = password.chars().count();
    if n < min || n > 128 {
        return Err(format!("password: {min} to 128 characters"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("password: not the user name".to_owned());
    }
    if password.chars().all(|c| password.starts_with(c)) {
        return Err("password: not one character repeated".to_owned());
    }
    Ok(())
}

/// Checks an e-mail address (shape only: something@domain, at most 254 characters).
pub fn check_email(e: &str) -> Result<String, String> {
    let e = e.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    if ok {
        Ok(e.to_owned())
    } else {
        Err(format!("email {e:?} is not an e-mail address"))
    }
}

/// Checks broker sub-accounts: 1 to 20 characters of `[A-Za-z0-9]` each, at most 100.
pub fn check_accounts(accounts: &[String]) -> Result<Vec<String>, String> {
    if accounts.len() > 100 {
        return Err("accounts: at most 100".to_owned());
    }
    let mut out = Vec::with_capacity(accounts.len());
    for a in accounts {
        let a = a.trim();
        if a.is_empty() || a.len() > 20 || !a.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("account {a:?}: 1 to 20 characters of [A-Za-z0-9]"));
        }
        out.push(a.to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The claims of an access token (a JWT signed with EdDSA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: the SSO's public URL.
    pub iss: String,
    /// The user's id, or the client id of a service.
    pub sub: String,
    /// Audience (`qts`).
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Token id.
    pub jti: String,
    /// The user name, or the client id.
    pub preferred_username: String,
    /// Roles (`trader`, ...).
    pub roles: Vec<Role>,
    /// Broker sub-accounts the holder may trade and see.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// OAuth scope (space-separated roles).
    pub scope: String,
}

impl Claims {
    /// Whether the holder has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_with_reasons() {
        assert_eq!(check_username(" Alice.T ").unwrap(), "alice.t");
        assert!(check_username("al").is_err());
        assert!(check_username("al ice").is_err());
        assert!(check_password("short", "x", 10).is_err());
        assert!(check_password("aaaaaaaaaaaa", "x", 10).is_err());
        assert!(check_password("Alice.T-123", "alice.t-123", 10).is_err());
        assert!(check_password("correct horse", "alice", 10).is_ok());
        assert!(check_email("a@b.vn").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.vn").is_err());
        assert_eq!(
            check_accounts(&["0001001".into(), "0001001".into()]).unwrap(),
            ["0001001"]
        );
        assert!(check_accounts(&["00-1".into()]).is_err());
        assert_eq!(
            parse_roles("trader,admin,trader").unwrap(),
            [Role::Trader, Role::Admin]
        );
        assert!(parse_roles("root").is_err());
        assert_eq!(
            roles_text(&[Role::RiskOfficer, Role::Ops]),
            "risk_officer,ops"
        );
    }
}
