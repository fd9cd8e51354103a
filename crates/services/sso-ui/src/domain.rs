//! Types and rules of the pages: the language, the `return_to` a sign-in may go back to, the
//! limits of what a form may carry. No axum, no HTTP client.

/// A language the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Tiếng Việt.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// `vi` or `en` (a region suffix such as `vi-VN` is accepted).
    pub fn parse(s: &str) -> Option<Self> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("vi") {
            Some(Lang::Vi)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first language of an `Accept-Language` header we have, by its q-values.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }

    /// `vi` or `en`, as `<html lang>` says it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The other one (the language switch).
    pub fn other(self) -> Self {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

/// The longest `return_to` kept.
pub const MAX_RETURN_TO: usize = 2_048;

/// `return_to` when it is a same-origin absolute path: it starts with one `/` (not `//`, not
/// `/\`, which browsers read as another host), is printable ASCII without a backslash (no
/// whitespace or control character; browsers percent-encode the rest, and it must fit a
/// `Location` header), and is at most [`MAX_RETURN_TO`] long. Anything else
/// (`https://evil.com`, `//evil.com`, `javascript:...`) is `None`.
pub fn safe_return_to(return_to: &str) -> Option<&str> {
    let ok = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && return_to.len() <= MAX_RETURN_TO
        && return_to.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    ok.then_some(return_to)
}

/// Limits of the fields the forms take (the SSO checks the rules again).
pub mod limits {
    /// A user name: 3 to 64 characters.
    pub const USERNAME: usize = 64;
    /// A password at sign-in (the SSO's own limit).
    pub const PASSWORD: usize = 1_024;
    /// A new password (the SSO's policy: at most 128 characters).
    pub const NEW_PASSWORD: usize = 128;
    /// An e-mail address.
    pub const EMAIL: usize = 254;
    /// A recovery code.
    pub const RECOVERY_CODE: usize = 64;
    /// A reset token.
    pub const RESET_TOKEN: usize = 200;
}

/// Whether `code` looks like an authenticator's code: six digits (spaces allowed between).
pub fn totp_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_paths_are_kept_as_return_to() {
        assert_eq!(safe_return_to("/portal/"), Some("/portal/"));
        assert_eq!(safe_return_to("/a?b=c#d"), Some("/a?b=c#d"));
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https://evil.com",
            "http:/evil.com",
            "javascript:alert(1)",
            "evil.com",
            "",
            "/a\\b",
            "/a b",
            "/a\nb",
            "/bảng-giá",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad}");
        }
        assert_eq!(
            safe_return_to(&format!("/{}", "a".repeat(MAX_RETURN_TO))),
            None
        );
    }

    #[test]
    fn accept_language_picks_the_preferred_language_we_have() {
        assert_eq!(
            Lang::from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"),
            Some(Lang::Vi)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en-GB;q=0.5, vi;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, vi;q=0.7"),
            Some(Lang::Vi)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
    }

    #[test]
    fn an_authenticator_code_is_six_digits() {
        assert_eq!(totp_code("123 456"), Some("123456".to_owned()));
        assert_eq!(totp_code("12345"), None);
        assert_eq!(totp_code("12345a"), None);
    }
}
