//! The rules: what a scope, a key, a document, a secret name is; the limits; the diff between
//! two versions. No axum, tonic or sqlx here.

use std::collections::BTreeMap;

use common::remote_config::Flag;
use serde_json::Value;
use time::OffsetDateTime;

/// The most values in one document.
pub const MAX_VALUES: usize = 256;
/// The most flags in one document.
pub const MAX_FLAGS: usize = 256;
/// The largest value, as compact JSON, bytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// The largest document (values and flags as compact JSON), bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How deep a value may nest (arrays and objects).
pub const MAX_DEPTH: usize = 8;
/// The longest change comment, characters.
pub const MAX_COMMENT_CHARS: usize = 500;
/// The largest secret, bytes.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// The most secrets one service may have.
pub const MAX_SECRETS_PER_SERVICE: usize = 100;

/// What breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(m: impl Into<String>) -> Invalid {
    Invalid(m.into())
}

/// A service of the fleet and an environment: whose document it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    service: String,
    environment: String,
}

impl Scope {
    /// A scope of a registered service and an environment name (1 to 32 of `a-z 0-9 -`).
    pub fn parse(service: &str, environment: &str) -> Result<Self, Invalid> {
        let service = service_name(service)?;
        let ok = !environment.is_empty()
            && environment.len() <= 32
            && environment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(invalid(format!(
                "environment {environment:?}: 1 to 32 of a-z, 0-9, - (e.g. prod, paper, dev)"
            )));
        }
        Ok(Self {
            service,
            environment: environment.to_owned(),
        })
    }

    /// The service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The environment.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// `<service>/<environment>`: the event key.
    pub fn key(&self) -> String {
        format!("{}/{}", self.service, self.environment)
    }
}

/// A service name of the fleet registry.
pub fn service_name(name: &str) -> Result<String, Invalid> {
    if common::registry::find(name).is_none() {
        return Err(invalid(format!(
            "service {:?} is not a service of the fleet registry",
            truncate(name, 64)
        )));
    }
    Ok(name.to_owned())
}

/// A key or flag name: 1 to 64 of `a-z 0-9 _ . -`, starting with a letter.
pub fn key_name(what: &str, name: &str) -> Result<(), Invalid> {
    let ok = name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} {:?}: 1 to 64 of a-z, 0-9, _, ., - starting with a letter",
            truncate(name, 64)
        )))
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => 0,
    }
}

/// A configuration document: values (any JSON but null) and flags.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Key -> JSON value.
    #[serde(default)]
    pub values: BTreeMap<String, Value>,
    /// Flag name -> flag.
    #[serde(default)]
    pub flags: BTreeMap<String, Flag>,
}

impl Document {
    /// Checks names, value types, nesting and sizes; the first problem found.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.values.len() > MAX_VALUES {
            return Err(invalid(format!(
                "{} values; at most {MAX_VALUES}",
                self.values.len()
            )));
        }
        if self.flags.len() > MAX_FLAGS {
            return Err(invalid(format!(
                "{} flags; at most {MAX_FLAGS}",
                self.flags.len()
            )));
        }
        for (k, v) in &self.values {
            key_name("key", k)?;
            if v.is_null() {
                return Err(invalid(format!(
                    "value of {k} is null; leave the key out to remove it"
                )));
            }
            if depth(v) > MAX_DEPTH {
                return Err(invalid(format!(
                    "value of {k} nests deeper than {MAX_DEPTH} levels"
                )));
            }
            let size = v.to_string().len();
            if size > MAX_VALUE_BYTES {
                return Err(invalid(format!(
                    "value of {k} is {size} bytes as JSON; at most {MAX_VALUE_BYTES}"
                )));
            }
        }
        for (name, f) in &self.flags {
            key_name("flag", name)?;
            if f.rollout_percent.is_some_and(|p| p > 100) {
                return Err(invalid(format!(
                    "flag {name}: rollout_percent must be 0 to 100"
                )));
            }
        }
        let size = self.to_json().len();
        if size > MAX_DOCUMENT_BYTES {
            return Err(invalid(format!(
                "the document is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES}"
            )));
        }
        Ok(())
    }

    /// Compact JSON, as stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A change comment: at most [`MAX_COMMENT_CHARS`] characters, no control characters.
pub fn comment(text: &str) -> Result<String, Invalid> {
    let text = text.trim();
    if text.chars().count() > MAX_COMMENT_CHARS {
        return Err(invalid(format!(
            "comment: at most {MAX_COMMENT_CHARS} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid("comment: no control characters"));
    }
    Ok(text.to_owned())
}

/// One stored version of a scope's document.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// Whose.
    pub scope: Scope,
    /// 1, 2, ...
    pub version: u64,
    /// The document.
    pub document: Document,
    /// Who made it.
    pub author: String,
    /// Why.
    pub comment: String,
    /// The version a rollback copied.
    pub rolled_back_from: Option<u64>,
    /// When.
    pub created_at: OffsetDateTime,
}

/// What a change did to one key or flag.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Change {
    /// `value` or `flag`.
    pub kind: &'static str,
    /// The key or flag name.
    pub key: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// Before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    /// After (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Value>,
}

fn diff_maps(
    kind: &'static str,
    a: &BTreeMap<String, Value>,
    b: &BTreeMap<String, Value>,
    out: &mut Vec<Change>,
) {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let (from, to) = (a.get(k), b.get(k));
        let change = match (from, to) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (Some(x), Some(y)) if x != y => "changed",
            _ => continue,
        };
        out.push(Change {
            kind,
            key: k.clone(),
            change,
            from: from.cloned(),
            to: to.cloned(),
        });
    }
}

/// What changed from `a` to `b`: values, then flags, each by name.
pub fn diff(a: &Document, b: &Document) -> Vec<Change> {
    let flags = |d: &Document| -> BTreeMap<String, Value> {
        d.flags
            .iter()
            .map(|(k, f)| (k.clone(), serde_json::to_value(f).unwrap_or(Value::Null)))
            .collect()
    };
    let mut out = Vec::new();
    diff_maps("value", &a.values, &b.values, &mut out);
    diff_maps("flag", &flags(a), &flags(b), &mut out);
    out
}

/// A secret's name: the rules of a key name.
pub fn secret_name(name: &str) -> Result<(), Invalid> {
    key_name("secret name", name)
}

/// What anyone but the owner may know of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMeta {
    /// The owning service.
    pub service: String,
    /// The name.
    pub name: String,
    /// 1, 2, ...: every set makes a new one.
    pub version: u64,
    /// When last set.
    pub updated_at: OffsetDateTime,
    /// Who set it last.
    pub updated_by: String,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: OffsetDateTime,
    /// Who (the token's user, or `anonymous` with tokens off).
    pub actor: String,
    /// `config.change`, `config.rollback`, `secret.set`, `secret.delete`, `secret.read`.
    pub action: String,
    /// The service concerned.
    pub service: String,
    /// The environment or the secret's name.
    pub target: String,
    /// Allowed or refused.
    pub allowed: bool,
    /// What happened (a version, why refused); never a value.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(values: Value, flags: Value) -> Document {
        serde_json::from_value(json!({"values": values, "flags": flags})).unwrap()
    }

    #[test]
    fn scopes_name_a_registered_service_and_a_plain_environment() {
        assert!(Scope::parse("oms", "prod").is_ok());
        assert!(Scope::parse("nope", "prod").is_err());
        assert!(Scope::parse("oms", "Prod").is_err());
        assert!(Scope::parse("oms", "").is_err());
        assert_eq!(Scope::parse("oms", "paper-1").unwrap().key(), "oms/paper-1");
    }

    #[test]
    fn bad_keys_nulls_deep_values_and_big_rollouts_are_refused() {
        assert!(doc(json!({"max.orders": 5}), json!({})).validate().is_ok());
        for bad in [
            doc(json!({"Max": 5}), json!({})),
            doc(json!({"1x": 5}), json!({})),
            doc(json!({"a b": 5}), json!({})),
            doc(json!({"x": null}), json!({})),
            doc(json!({"x": [[[[[[[[[1]]]]]]]]]}), json!({})),
            doc(json!({"x": "y".repeat(MAX_VALUE_BYTES)}), json!({})),
            doc(
                json!({}),
                json!({"f": {"enabled": true, "rollout_percent": 101}}),
            ),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_diff_names_what_was_added_removed_and_changed() {
        let a = doc(json!({"a": 1, "b": 2}), json!({"f": {"enabled": true}}));
        let b = doc(json!({"b": 3, "c": 4}), json!({}));
        let d = diff(&a, &b);
        let summary: Vec<(&str, &str, &str)> = d
            .iter()
            .map(|c| (c.kind, c.key.as_str(), c.change))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("value", "a", "removed"),
                ("value", "b", "changed"),
                ("value", "c", "added"),
                ("flag", "f", "removed"),
            ]
        );
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn comments_are_short_and_printable() {
        assert_eq!(comment("  raise limit ").unwrap(), "raise limit");
        assert!(comment(&"x".repeat(501)).is_err());
        assert!(comment("a\u{7}b").is_err());
    }
}
