//! An exact decimal number for prices, values and ratios as SSI sends them.
//!
//! SSI writes money as strings (`"28600"`, `"663258204999.9850"`) in FC Data REST and as JSON
//! numbers (`22950.0`, `1259.4`) in streams and FC Trading. Neither may pass through `f64`
//! arithmetic, so every such field becomes a [`Decimal`]: an `i128` mantissa and a base-10 scale.
//! It is deliberately small: parse, compare, print, convert to whole units. Arithmetic belongs to
//! the consumer (e.g. `crates/market`), which can convert through [`Decimal::mantissa`] and
//! [`Decimal::scale`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Largest number of fractional digits accepted.
pub const MAX_SCALE: u32 = 28;

/// Largest number of significant digits accepted (fits an `i128` with room to spare).
pub const MAX_DIGITS: usize = 36;

/// An exact base-10 number: `mantissa × 10^-scale`, kept normalised (no trailing fractional
/// zeros), so `"28600.0"` and `"28600"` are equal and hash equally.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Why a string is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDecimalError {
    /// The input was empty (or only a sign).
    #[error("empty number")]
    Empty,
    /// A character other than a sign, digits and one decimal point.
    #[error("invalid character {0:?} in number")]
    InvalidChar(char),
    /// More than [`MAX_DIGITS`] significant digits or more than [`MAX_SCALE`] decimals.
    #[error("number has too many digits")]
    TooManyDigits,
    /// A float that is NaN or infinite.
    #[error("number is not finite")]
    NotFinite,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// Builds `mantissa × 10^-scale`, normalised. Fails when `scale` exceeds [`MAX_SCALE`].
    pub fn new(mantissa: i128, scale: u32) -> Result<Self, ParseDecimalError> {
        if scale > MAX_SCALE {
            return Err(ParseDecimalError::TooManyDigits);
        }
        Ok(Self { mantissa, scale }.normalised())
    }

    /// A whole number.
    pub fn from_i64(value: i64) -> Self {
        Self {
            mantissa: i128::from(value),
            scale: 0,
        }
    }

    /// Parses `[-+]digits[.digits]` (also `.5` and `5.`). No exponent, no thousands separators.
    pub fn parse(text: &str) -> Result<Self, ParseDecimalError> {
        let text = text.trim();
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let mut mantissa: i128 = 0;
        let mut scale: u32 = 0;
        let mut seen_point = false;
        let mut digits = 0usize;
        let mut significant = 0usize;
        for c in body.chars() {
            match c {
                '0'..='9' => {
                    digits += 1;
                    let d = i128::from(c as u8 - b'0');
                    if significant > 0 || d != 0 {
                        significant += 1;
                    }
                    if significant > MAX_DIGITS {
                        return Err(ParseDecimalError::TooManyDigits);
                    }
                    mantissa = mantissa * 10 + d;
                    if seen_point {
                        scale += 1;
                        if scale > MAX_SCALE {
                            return Err(ParseDecimalError::TooManyDigits);
                        }
                    }
                }
                '.' if !seen_point => seen_point = true,
                other => return Err(ParseDecimalError::InvalidChar(other)),
            }
        }
        if digits == 0 {
            return Err(ParseDecimalError::Empty);
        }
        if negative {
            mantissa = -mantissa;
        }
        Ok(Self { mantissa, scale }.normalised())
    }

    /// Converts a JSON float exactly as it was written on the wire.
    ///
    /// serde_json parses `1259.4` to the nearest `f64`; Rust prints an `f64` as the shortest
    /// string that reads back to the same `f64`, which is the wire text for every number of at
    /// most 15 significant digits (all SSI prices, volumes and ratios).
    pub fn from_f64_shortest(value: f64) -> Result<Self, ParseDecimalError> {
        if !value.is_finite() {
            return Err(ParseDecimalError::NotFinite);
        }
        Self::parse(&format!("{value}"))
    }

    /// The mantissa: the number is `mantissa × 10^-scale`.
    pub fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// The number of fractional digits.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// The value as a whole number (e.g. a stock price in VND), or `None` if it has a
    /// fractional part or does not fit an `i64`.
    pub fn to_i64_exact(&self) -> Option<i64> {
        if self.scale == 0 {
            i64::try_from(self.mantissa).ok()
        } else {
            None
        }
    }

    /// The nearest `f64` — for display or statistics only, never for money.
    pub fn to_f64_lossy(&self) -> f64 {
        // Going through the text keeps the nearest-f64 rounding of the standard library.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    fn normalised(mut self) -> Self {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }
}

impl Default for Decimal {
    fn default() -> Self {
        Self::ZERO
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Decimal {
    type Err = ParseDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        fn rescale(d: &Decimal, scale: u32) -> Option<i128> {
            10i128
                .checked_pow(scale - d.scale)
                .and_then(|f| d.mantissa.checked_mul(f))
        }
        let scale = self.scale.max(other.scale);
        match (rescale(self, scale), rescale(other, scale)) {
            (Some(a), Some(b)) => a.cmp(&b),
            // Rescaling only overflows for a magnitude beyond any other accepted value.
            (None, _) => self.mantissa.signum().cmp(&0),
            (_, None) => 0.cmp(&other.mantissa.signum()),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Decimal {
    /// Serialises as a JSON number (`23500`, `1259.4`), as FC Trading expects in order bodies.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.to_i64_exact() {
            Some(whole) => serializer.serialize_i64(whole),
            None => serializer.serialize_f64(self.to_f64_lossy()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_ssi_value_strings_exactly() {
        let d = Decimal::parse("663258204999.9850").unwrap();
        assert_eq!(d.mantissa(), 663_258_204_999_985);
        assert_eq!(d.scale(), 3);
        assert_eq!(d.to_string(), "663258204999.985");
        assert_eq!(Decimal::parse("28600").unwrap().to_i64_exact(), Some(28600));
        assert_eq!(Decimal::parse("28600.0").unwrap(), Decimal::from_i64(28600));
        assert_eq!(Decimal::parse("-0.05").unwrap().to_string(), "-0.05");
        assert_eq!(Decimal::parse(".5").unwrap().to_string(), "0.5");
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert_eq!(Decimal::parse(""), Err(ParseDecimalError::Empty));
        assert_eq!(Decimal::parse("-"), Err(ParseDecimalError::Empty));
        assert_eq!(
            Decimal::parse("1,000"),
            Err(ParseDecimalError::InvalidChar(','))
        );
        assert_eq!(
            Decimal::parse("1.2.3"),
            Err(ParseDecimalError::InvalidChar('.'))
        );
        assert_eq!(
            Decimal::parse("1e5"),
            Err(ParseDecimalError::InvalidChar('e'))
        );
        assert_eq!(
            Decimal::parse(&"9".repeat(40)),
            Err(ParseDecimalError::TooManyDigits)
        );
    }

    #[test]
    fn floats_from_the_wire_keep_their_written_digits() {
        assert_eq!(
            Decimal::from_f64_shortest(1259.4).unwrap().to_string(),
            "1259.4"
        );
        assert_eq!(
            Decimal::from_f64_shortest(22950.0).unwrap().to_i64_exact(),
            Some(22950)
        );
        assert!(Decimal::from_f64_shortest(f64::NAN).is_err());
    }

    #[test]
    fn ordering_compares_values_not_representations() {
        let a = Decimal::parse("10.5").unwrap();
        let b = Decimal::parse("10.45").unwrap();
        assert!(a > b);
        assert!(Decimal::parse("-1").unwrap() < Decimal::ZERO);
    }

    proptest! {
        #[test]
        fn prop_display_then_parse_round_trips(m in any::<i64>(), s in 0u32..12) {
            let d = Decimal::new(i128::from(m), s).unwrap();
            prop_assert_eq!(Decimal::parse(&d.to_string()).unwrap(), d);
        }

        #[test]
        fn prop_parse_matches_integer_and_fraction(int in 0u64..1_000_000_000_000, frac in "[0-9]{0,6}") {
            let text = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
            let d = Decimal::parse(&text).unwrap();
            let expected = format!("{int}{frac}").parse::<i128>().unwrap();
            let reference = Decimal::new(expected, frac.len() as u32).unwrap();
            prop_assert_eq!(d, reference);
        }

        #[test]
        fn prop_wire_floats_with_fifteen_digits_are_exact(m in -999_999_999_999_999i64..999_999_999_999_999, s in 0u32..6) {
            let d = Decimal::new(i128::from(m), s).unwrap();
            let as_float: f64 = d.to_string().parse().unwrap();
            prop_assert_eq!(Decimal::from_f64_shortest(as_float).unwrap(), d);
        }

        #[test]
        fn prop_ordering_agrees_with_f64_for_distinct_values(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, sa in 0u32..4, sb in 0u32..4) {
            let x = Decimal::new(i128::from(a), sa).unwrap();
            let y = Decimal::new(i128::from(b), sb).unwrap();
            let (fx, fy) = (x.to_f64_lossy(), y.to_f64_lossy());
            if fx != fy {
                prop_assert_eq!(x < y, fx < fy);
            } else {
                prop_assert_eq!(x, y);
            }
        }

        #[test]
        fn prop_parse_never_panics(s in "\\PC{0,40}") {
            let _ = Decimal::parse(&s);
        }
    }
}
