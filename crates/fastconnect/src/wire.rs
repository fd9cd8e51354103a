//! Parsers for SSI's loosely typed wire fields.
//!
//! FC Data REST sends numbers as strings (`"28600"`), streams send JSON numbers (`22950.0`) and
//! older samples mix both; empty strings and `null` mean "absent". Dates are `dd/MM/yyyy`, times
//! `HH:mm:ss`, FC Trading timestamps are epoch milliseconds as strings. Every function here
//! takes a `serde_json::Value` and returns a typed value or a [`FieldError`] that says what was
//! wrong — never a panic. The `serde_*` modules adapt them for `#[serde(with = "...")]`.

use serde_json::Value;
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

use crate::decimal::Decimal;

/// Vietnam's offset from UTC; SSI's dates and times are local to it.
pub const VIETNAM_OFFSET: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Why one wire value could not be turned into its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct FieldError {
    /// What the field should hold, e.g. "a date dd/MM/yyyy".
    pub expected: &'static str,
    /// The offending value, as JSON text (truncated).
    pub got: String,
}

impl FieldError {
    fn new(expected: &'static str, got: &Value) -> Self {
        let mut got = got.to_string();
        if got.len() > 80 {
            let mut end = 80;
            while !got.is_char_boundary(end) {
                end -= 1;
            }
            got.truncate(end);
            got.push('…');
        }
        Self { expected, got }
    }
}

/// True for `null`, `""` and whitespace-only strings: SSI's ways of saying "no value".
pub fn is_absent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => false,
    }
}

/// A decimal from a string or a JSON number; absent values are `None`.
pub fn opt_decimal(value: &Value) -> Result<Option<Decimal>, FieldError> {
    const EXPECTED: &str = "a decimal number";
    if is_absent(value) {
        return Ok(None);
    }
    match value {
        Value::String(s) => Decimal::parse(s)
            .map(Some)
            .map_err(|_| FieldError::new(EXPECTED, value)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(Decimal::from_i64(i)))
            } else if let Some(u) = n.as_u64() {
                Decimal::new(i128::from(u), 0)
                    .map(Some)
                    .map_err(|_| FieldError::new(EXPECTED, value))
            } else {
                n.as_f64()
                    .and_then(|f| Decimal::from_f64_shortest(f).ok())
                    .map(Some)
                    .ok_or_else(|| FieldError::new(EXPECTED, value))
            }
        }
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            Err(FieldError::new(EXPECTED, value))
        }
    }
}

/// A required decimal.
pub fn decimal(value: &Value) -> Result<Decimal, FieldError> {
    opt_decimal(value)?.ok_or_else(|| FieldError::new("a decimal number", value))
}

/// A whole number (volumes, counts, VND amounts) from `140`, `140.0`, `"140"` or `"140.0"`;
/// a fractional part other than zero is an error.
pub fn opt_int(value: &Value) -> Result<Option<i64>, FieldError> {
    const EXPECTED: &str = "a whole number";
    if let Some(i) = value.as_i64() {
        return Ok(Some(i));
    }
    match opt_decimal(value).map_err(|_| FieldError::new(EXPECTED, value))? {
        None => Ok(None),
        Some(d) => d
            .to_i64_exact()
            .map(Some)
            .ok_or_else(|| FieldError::new(EXPECTED, value)),
    }
}

/// A required whole number.
pub fn int(value: &Value) -> Result<i64, FieldError> {
    opt_int(value)?.ok_or_else(|| FieldError::new("a whole number", value))
}

/// A string; absent values are `None`. Numbers are accepted and printed (SSI sometimes sends
/// ids as numbers).
pub fn opt_string(value: &Value) -> Result<Option<String>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            Err(FieldError::new("a string", value))
        }
    }
}

/// A required string.
pub fn string(value: &Value) -> Result<String, FieldError> {
    opt_string(value)?.ok_or_else(|| FieldError::new("a non-empty string", value))
}

/// A boolean from `true`/`false`, `"true"`/`"True"`, or SSI's `"T"`/`"F"` flags.
pub fn opt_bool(value: &Value) -> Result<Option<bool>, FieldError> {
    if is_absent(value) {
        return Ok(None);
    }
    match value {
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "1" => Ok(Some(true)),
            "f" | "false" | "n" | "0" => Ok(Some(false)),
            _ => Err(FieldError::new("a flag T/F or true/false", value)),
        },
        Value::Number(n) => match n.as_i64() {
            Some(1) => Ok(Some(true)),
            Some(0) => Ok(Some(false)),
            _ => Err(FieldError::new("a flag T/F or true/false", value)),
        },
        Value::Null | Value::Array(_) | Value::Object(_) => {
            Err(FieldError::new("a flag T/F or true/false", value))
        }
    }
}

/// Parses `dd/MM/yyyy` (SSI's format); `yyyy-MM-dd` is accepted too.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let (d, m, y) = if let Some((d, rest)) = text.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        (d, m, y)
    } else {
        let (y, rest) = text.split_once('-')?;
        let (m, d) = rest.split_once('-')?;
        (d, m, y)
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(d) && all_digits(m) && all_digits(y)) || y.len() != 4 || d.len() > 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Formats a date as SSI's `dd/MM/yyyy`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:02}/{:02}/{:04}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// Parses `HH:mm:ss` (or `HH:mm`).
pub fn parse_time(text: &str) -> Option<Time> {
    let mut parts = text.trim().split(':');
    let mut next = |required: bool| -> Option<u8> {
        match parts.next() {
            Some(p) if !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().ok()
            }
            Some(_) => None,
            None if required => None,
            None => Some(0),
        }
    };
    let (h, m, s) = (next(true)?, next(true)?, next(false)?);
    if parts.next().is_some() {
        return None;
    }
    Time::from_hms(h, m, s).ok()
}

/// An optional `dd/MM/yyyy` date.
pub fn opt_date(value: &Value) -> Result<Option<Date>, FieldError> {
    const EXPECTED: &str = "a date dd/MM/yyyy";
    if is_absent(value) {
        return Ok(None);
    }
    match value {
        Value::String(s) => parse_date(s)
            .map(Some)
            .ok_or_else(|| FieldError::new(EXPECTED, value)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            Err(FieldError::new(EXPECTED, value))
        }
    }
}

/// A required `dd/MM/yyyy` date.
pub fn date(value: &Value) -> Result<Date, FieldError> {
    opt_date(value)?.ok_or_else(|| FieldError::new("a date dd/MM/yyyy", value))
}

/// An optional `HH:mm:ss` time.
pub fn opt_time(value: &Value) -> Result<Option<Time>, FieldError> {
    const EXPECTED: &str = "a time HH:mm:ss";
    if is_absent(value) {
        return Ok(None);
    }
    match value {
        Value::String(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| FieldError::new(EXPECTED, value)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            Err(FieldError::new(EXPECTED, value))
        }
    }
}

/// An optional instant from epoch milliseconds (string or number), as FC Trading sends
/// `inputTime`, `modifiedTime` and `matchTime`.
pub fn opt_epoch_ms(value: &Value) -> Result<Option<OffsetDateTime>, FieldError> {
    const EXPECTED: &str = "epoch milliseconds";
    let Some(ms) = opt_int(value).map_err(|_| FieldError::new(EXPECTED, value))? else {
        return Ok(None);
    };
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| Some(t.to_offset(VIETNAM_OFFSET)))
        .map_err(|_| FieldError::new(EXPECTED, value))
}

macro_rules! serde_adapter {
    ($(#[$doc:meta])* $name:ident, $parse:path, $ty:ty) => {
        $(#[$doc])*
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

serde_adapter!(
    /// `#[serde(with)]` for a required [`Decimal`].
    serde_decimal, super::decimal, crate::decimal::Decimal
);
serde_adapter!(
    /// `#[serde(with)]` for an optional [`Decimal`].
    serde_opt_decimal, super::opt_decimal, Option<crate::decimal::Decimal>
);
serde_adapter!(
    /// `#[serde(with)]` for a required whole number.
    serde_int, super::int, i64
);
serde_adapter!(
    /// `#[serde(with)]` for an optional whole number.
    serde_opt_int, super::opt_int, Option<i64>
);
serde_adapter!(
    /// `#[serde(with)]` for a required string.
    serde_string, super::string, String
);
serde_adapter!(
    /// `#[serde(with)]` for an optional string.
    serde_opt_string, super::opt_string, Option<String>
);
serde_adapter!(
    /// `#[serde(with)]` for an optional flag.
    serde_opt_bool, super::opt_bool, Option<bool>
);
serde_adapter!(
    /// `#[serde(with)]` for a required date.
    serde_date, super::date, time::Date
);
serde_adapter!(
    /// `#[serde(with)]` for an optional date.
    serde_opt_date, super::opt_date, Option<time::Date>
);
serde_adapter!(
    /// `#[serde(with)]` for an optional time of day.
    serde_opt_time, super::opt_time, Option<time::Time>
);
serde_adapter!(
    /// `#[serde(with)]` for optional epoch milliseconds.
    serde_opt_epoch_ms, super::opt_epoch_ms, Option<time::OffsetDateTime>
);

/// Keys SSI sends under more than one spelling, canonical spelling first. The trading models
/// accept every spelling through `#[serde(alias)]`, but serde refuses an object that carries two
/// of them at once, so [`drop_duplicate_spellings`] keeps one before decoding. Keep this list
/// in step with the `alias` attributes in `trading/model.rs`, `trading/stream.rs` and
/// `data/model.rs`.
const SPELLINGS: &[&[&str]] = &[
    &["isForcesell", "isForceSell"],
    &["isShortsell", "isShortSell"],
    &["marketID", "martketID", "marketid"],
    &["cashBal", "cashbal"],
    &["osQty", "osqty"],
    &["ExcerciseRatio", "ExerciseRatio"],
];

/// In every object of `value`, keeps one spelling of each key in [`SPELLINGS`]: the canonical
/// one if present, else the first alias present.
pub(crate) fn drop_duplicate_spellings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for group in SPELLINGS {
                let present: Vec<&str> = group
                    .iter()
                    .copied()
                    .filter(|k| map.contains_key(*k))
                    .collect();
                for extra in present.iter().skip(1) {
                    map.remove(*extra);
                }
            }
            for v in map.values_mut() {
                drop_duplicate_spellings(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_duplicate_spellings),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

/// A JSON object read field by field, keys matched exactly first and then
/// case-insensitively (SSI's docs and samples disagree on casing). Errors name the record
/// and the field.
pub(crate) struct Record<'a> {
    kind: &'a str,
    map: &'a serde_json::Map<String, Value>,
}

static NULL: Value = Value::Null;

impl<'a> Record<'a> {
    pub(crate) fn new(kind: &'a str, map: &'a serde_json::Map<String, Value>) -> Self {
        Self { kind, map }
    }

    /// The first of `keys` present (aliases for misspelt keys), or `null`.
    pub(crate) fn get(&self, keys: &[&str]) -> &'a Value {
        for key in keys {
            if let Some(v) = self.map.get(*key) {
                return v;
            }
            if let Some((_, v)) = self.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return v;
            }
        }
        &NULL
    }

    fn with<T>(
        &self,
        keys: &[&str],
        parse: impl Fn(&Value) -> Result<T, FieldError>,
    ) -> crate::error::Result<T> {
        parse(self.get(keys)).map_err(|e| {
            crate::error::Error::field(self.kind, keys.first().copied().unwrap_or(""), e)
        })
    }

    pub(crate) fn decimal(&self, keys: &[&str]) -> crate::error::Result<Decimal> {
        self.with(keys, decimal)
    }
    pub(crate) fn opt_decimal(&self, keys: &[&str]) -> crate::error::Result<Option<Decimal>> {
        self.with(keys, opt_decimal)
    }
    pub(crate) fn opt_int(&self, keys: &[&str]) -> crate::error::Result<Option<i64>> {
        self.with(keys, opt_int)
    }
    pub(crate) fn string(&self, keys: &[&str]) -> crate::error::Result<String> {
        self.with(keys, string)
    }
    pub(crate) fn opt_string(&self, keys: &[&str]) -> crate::error::Result<Option<String>> {
        self.with(keys, opt_string)
    }
    pub(crate) fn opt_date(&self, keys: &[&str]) -> crate::error::Result<Option<Date>> {
        self.with(keys, opt_date)
    }
    pub(crate) fn opt_time(&self, keys: &[&str]) -> crate::error::Result<Option<Time>> {
        self.with(keys, opt_time)
    }
    pub(crate) fn opt_code<T: crate::codes::Code>(
        &self,
        keys: &[&str],
    ) -> crate::error::Result<Option<T>> {
        Ok(self.opt_string(keys)?.map(|s| T::from_wire(&s)))
    }
}

/// `deserialize_with` for an array that SSI may send as `null`.
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(<Option<Vec<T>> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// `#[serde(with)]` for an optional open code table value ([`crate::codes`]).
pub(crate) mod serde_opt_code {
    use serde::Deserialize as _;

    pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: crate::codes::Code,
    {
        let value = serde_json::Value::deserialize(d)?;
        Ok(super::opt_string(&value)
            .map_err(serde::de::Error::custom)?
            .map(|s| T::from_wire(&s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn numbers_arrive_as_strings_or_numbers() {
        assert_eq!(int(&json!("140")).unwrap(), 140);
        assert_eq!(int(&json!(140)).unwrap(), 140);
        assert_eq!(int(&json!(140.0)).unwrap(), 140);
        assert_eq!(int(&json!("140.0")).unwrap(), 140);
        assert!(int(&json!("140.5")).is_err());
        assert!(int(&json!("abc")).is_err());
        assert_eq!(opt_int(&json!(null)).unwrap(), None);
        assert_eq!(opt_int(&json!("")).unwrap(), None);
        assert_eq!(decimal(&json!(1259.4)).unwrap().to_string(), "1259.4");
        assert!(decimal(&json!(null)).is_err());
        assert!(decimal(&json!(true)).is_err());
    }

    #[test]
    fn a_key_sent_under_two_spellings_keeps_the_canonical_one() {
        let mut v = serde_json::json!({
            "isForceSell": "T", "isForcesell": "F", "orders": [{"martketID": "VNFE", "marketid": "x"}]
        });
        drop_duplicate_spellings(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"isForcesell": "F", "orders": [{"martketID": "VNFE"}]})
        );
    }

    #[test]
    fn dates_and_times_use_ssi_formats() {
        let d = date(&json!("15/10/2020")).unwrap();
        assert_eq!(
            d,
            Date::from_calendar_date(2020, Month::October, 15).unwrap()
        );
        assert_eq!(format_date(d), "15/10/2020");
        assert_eq!(
            opt_date(&json!("2020-10-15")).unwrap(),
            Some(d),
            "ISO dates are tolerated"
        );
        assert!(date(&json!("31/02/2020")).is_err());
        assert!(date(&json!("15/10/20")).is_err());
        assert_eq!(
            opt_time(&json!("14:29:05")).unwrap(),
            Some(Time::from_hms(14, 29, 5).unwrap())
        );
        assert!(opt_time(&json!("25:00:00")).is_err());
        assert_eq!(opt_time(&json!(null)).unwrap(), None);
    }

    #[test]
    fn flags_and_epochs() {
        assert_eq!(opt_bool(&json!("T")).unwrap(), Some(true));
        assert_eq!(opt_bool(&json!("F")).unwrap(), Some(false));
        assert_eq!(opt_bool(&json!(null)).unwrap(), None);
        assert!(opt_bool(&json!("maybe")).is_err());
        let t = opt_epoch_ms(&json!("1683189939000")).unwrap().unwrap();
        assert_eq!(t.unix_timestamp(), 1_683_189_939);
        assert_eq!(t.offset(), VIETNAM_OFFSET);
    }

    #[test]
    fn errors_show_the_offending_value() {
        let err = int(&json!("12a")).unwrap_err();
        assert_eq!(err.to_string(), "expected a whole number, got \"12a\"");
    }

    proptest! {
        #[test]
        fn prop_dates_round_trip_through_ssi_format(days in 0i32..80_000) {
            let d = Date::from_calendar_date(1900, Month::January, 1).unwrap()
                + time::Duration::days(i64::from(days));
            prop_assert_eq!(date(&json!(format_date(d))).unwrap(), d);
        }

        #[test]
        fn prop_times_round_trip(h in 0u8..24, m in 0u8..60, s in 0u8..60) {
            let text = format!("{h:02}:{m:02}:{s:02}");
            prop_assert_eq!(parse_time(&text), Some(Time::from_hms(h, m, s).unwrap()));
        }

        #[test]
        fn prop_integers_parse_from_every_wire_shape(v in any::<i64>()) {
            prop_assert_eq!(int(&json!(v)).unwrap(), v);
            prop_assert_eq!(int(&json!(v.to_string())).unwrap(), v);
            prop_assert_eq!(int(&json!(format!("{v}.00"))).unwrap(), v);
        }

        #[test]
        fn prop_parsers_never_panic(s in "\\PC{0,30}") {
            let v = json!(s);
            let _ = opt_decimal(&v);
            let _ = opt_int(&v);
            let _ = opt_date(&v);
            let _ = opt_time(&v);
            let _ = opt_bool(&v);
            let _ = opt_epoch_ms(&v);
        }
    }
}
