//! v3 wire values: numbers that may arrive as strings with thousands separators
//! (`"2,493,089"`), dates in several formats (`YYYY/MM/DD`, `DD/MM/YYYY`, ISO), and the
//! request date formats v3 wants.

use serde_json::Value;
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::decimal::Decimal;
use crate::wire::{FieldError, is_absent};

/// `value` without thousands separators, when it is a string holding one.
fn uncomma(value: &Value) -> std::borrow::Cow<'_, Value> {
    match value {
        Value::String(s) if s.contains(',') => {
            std::borrow::Cow::Owned(Value::String(s.replace(',', "")))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) => {
            std::borrow::Cow::Borrowed(value)
        }
        Value::Object(_) => std::borrow::Cow::Borrowed(value),
    }
}

/// A decimal from a JSON number or a string (`"1234.0"`, `"2,493,089.5"`); absent is `None`.
pub fn opt_decimal(value: &Value) -> Result<Option<Decimal>, FieldError> {
    crate::wire::opt_decimal(&uncomma(value))
}

/// A decimal that may carry a trailing `%` (`"100%"`, v2's `marginRatio` form, which the
/// v3 docs do not rule out), read as the number before it; otherwise as [`opt_decimal`].
pub fn opt_percent(value: &Value) -> Result<Option<Decimal>, FieldError> {
    match value {
        Value::String(s) if s.trim_end().ends_with('%') => {
            let number = s.trim_end().trim_end_matches('%').trim();
            if number.is_empty() {
                return Err(FieldError {
                    expected: "a percentage",
                    got: s.clone(),
                });
            }
            opt_decimal(&Value::String(number.to_owned()))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) => {
            opt_decimal(value)
        }
        Value::Object(_) => opt_decimal(value),
    }
}

/// A whole number from a JSON number or a string (`"2,493,089"`, `"100"`); absent is `None`.
pub fn opt_int(value: &Value) -> Result<Option<i64>, FieldError> {
    crate::wire::opt_int(&uncomma(value))
}

/// A string, or a number printed; absent is `None`.
pub fn opt_string(value: &Value) -> Result<Option<String>, FieldError> {
    crate::wire::opt_string(value)
}

/// A flag: `true`/`false`, `1`/`0`, `"true"`/`"Y"`...; absent is `None`.
pub fn opt_bool(value: &Value) -> Result<Option<bool>, FieldError> {
    crate::wire::opt_bool(value)
}

/// A date from `YYYY/MM/DD`, `YYYY-MM-DD`, `DD/MM/YYYY`, with an optional time or ISO
/// `T...` suffix (ignored); absent is `None`.
pub fn opt_date(value: &Value) -> Result<Option<Date>, FieldError> {
    if is_absent(value) {
        return Ok(None);
    }
    let Value::String(text) = value else {
        return Err(FieldError {
            expected: "a date",
            got: value.to_string(),
        });
    };
    parse_date(text).map(Some).ok_or_else(|| FieldError {
        expected: "a date (YYYY/MM/DD, DD/MM/YYYY or ISO)",
        got: text.clone(),
    })
}

/// Parses the date part of the formats v3 sends.
pub fn parse_date(text: &str) -> Option<Date> {
    let head = text.trim().split(['T', ' ']).next()?;
    let parts: Vec<&str> = head.split(['/', '-']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = if a.len() == 4 { (a, b, c) } else { (c, b, a) };
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// `YYYY/MM/DD`, the v3 request date format.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}/{:02}/{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYY/MM/DD HH:MM:SS`, the v3 request timestamp format (OHLC, FCO windows).
pub fn format_datetime(at: PrimitiveDateTime) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        format_date(at.date()),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A timestamp `YYYY/MM/DD HH:MM:SS` (or `-`), `DD/MM/YYYY HH:MM:SS` or ISO, local time.
pub fn parse_datetime(text: &str) -> Option<PrimitiveDateTime> {
    let text = text.trim();
    let date = parse_date(text)?;
    let rest = text
        .split_once(['T', ' '])
        .map(|(_, r)| r)
        .unwrap_or("00:00:00");
    let clock = rest.split(['.', '+', 'Z']).next()?;
    let mut it = clock.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next().unwrap_or("0").parse().ok()?;
    let s = it.next().unwrap_or("0").parse().ok()?;
    Some(PrimitiveDateTime::new(date, Time::from_hms(h, m, s).ok()?))
}

macro_rules! adapter {
    ($name:ident, $parse:path, $ty:ty) => {
        pub(crate) mod $name {
            use serde::Deserialize as _;

            pub(crate) fn deserialize<'de, D>(d: D) -> Result<$ty, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                let value = serde_json::Value::deserialize(d)?;
                $parse(&value).map_err(serde::de::Error::custom)
            }
        }
    };
}

adapter!(
    de_decimal,
    super::opt_decimal,
    Option<crate::decimal::Decimal>
);
adapter!(
    de_percent,
    super::opt_percent,
    Option<crate::decimal::Decimal>
);
adapter!(de_int, super::opt_int, Option<i64>);
adapter!(de_string, super::opt_string, Option<String>);
adapter!(de_bool, super::opt_bool, Option<bool>);
adapter!(de_date, super::opt_date, Option<time::Date>);

/// `deserialize_with` for a list SSI may send as `null`.
pub(crate) fn de_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(<Option<Vec<T>> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// `deserialize_with` for a string field that may be a number or null (kept as text, empty if
/// absent).
pub(crate) fn de_text<'de, D>(d: D) -> Result<String, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = <Value as serde::Deserialize>::deserialize(d)?;
    Ok(opt_string(&value)
        .map_err(serde::de::Error::custom)?
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_arrive_as_numbers_or_strings_with_separators() {
        assert_eq!(opt_int(&json!("2,493,089")).unwrap(), Some(2_493_089));
        assert_eq!(opt_int(&json!("1234.0")).unwrap(), Some(1234));
        assert_eq!(opt_int(&json!(1234)).unwrap(), Some(1234));
        assert_eq!(opt_int(&json!("")).unwrap(), None);
        assert_eq!(
            opt_decimal(&json!("2,493,089.5"))
                .unwrap()
                .unwrap()
                .to_string(),
            "2493089.5"
        );
        assert_eq!(
            opt_decimal(&json!(25.35)).unwrap().unwrap().to_string(),
            "25.35"
        );
        assert!(opt_int(&json!("12.5")).is_err());
        assert!(opt_decimal(&json!("abc")).is_err());
    }

    #[test]
    fn a_ratio_may_carry_a_percent_sign() {
        let pct = |v: Value| opt_percent(&v).unwrap().map(|d| d.to_string());
        assert_eq!(pct(json!("100%")), Some("100".to_owned()));
        assert_eq!(pct(json!("50.5 %")), Some("50.5".to_owned()));
        assert_eq!(pct(json!(50)), Some("50".to_owned()));
        assert_eq!(pct(json!(null)), None);
        assert!(opt_percent(&json!("%")).is_err());
        assert!(opt_percent(&json!("ten%")).is_err());
    }

    #[test]
    fn dates_in_every_v3_shape() {
        let d = time::macros::date!(2026 - 05 - 26);
        for text in [
            "2026/05/26",
            "2026-05-26",
            "26/05/2026",
            "2026-05-26T00:00:00",
            "2026/05/26 09:15:00",
        ] {
            assert_eq!(parse_date(text), Some(d), "{text}");
        }
        assert_eq!(parse_date("2026/13/01"), None);
        assert_eq!(format_date(d), "2026/05/26");
        let at = parse_datetime("26/05/2026 09:15:07").unwrap();
        assert_eq!(format_datetime(at), "2026/05/26 09:15:07");
    }
}
