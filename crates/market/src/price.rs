//! Exact numbers: prices, money and quantities as checked integer newtypes.
//!
//! Reference §0 (conventions): prices are integer VND with no minor unit; futures are
//! quoted in index points with one decimal. Nothing here is ever an `f64`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a number could not be built or an arithmetic step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A price must be strictly positive (reference §0: prices are positive VND or points).
    #[error("price must be positive, got {0}")]
    NonPositivePrice(i64),
    /// The text is not a price in the expected notation.
    #[error("not a price: {0:?}")]
    PriceSyntax(String),
    /// A ratio needs a positive denominator and a non-negative numerator.
    #[error("invalid ratio {num}/{den}")]
    InvalidRatio {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// The result does not fit the integer type.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
}

/// A price in the instrument's price unit, always positive.
///
/// The unit is whole VND for every cash-market instrument (stocks, fund certificates,
/// ETFs, covered warrants, bonds) and **tenths of an index point** for index futures
/// (reference §0 and §4: futures tick is 0.1 point). `Price::new(1_234_5)` on a VN30
/// future therefore means 1,234.5 points. Use [`Price::parse_points`] / [`Price::points`]
/// to move between points text and units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Price(i64);

impl Price {
    /// A price of `units` (VND, or tenths of an index point for futures); rejects zero and
    /// negatives.
    pub fn new(units: i64) -> Result<Self, Error> {
        if units > 0 {
            Ok(Self(units))
        } else {
            Err(Error::NonPositivePrice(units))
        }
    }

    /// The raw number of units (VND, or tenths of a point for futures).
    pub const fn units(self) -> i64 {
        self.0
    }

    /// Parses a futures quote in index points with at most one decimal, e.g. `"1234.5"`
    /// (reference §0: futures are quoted in points with one decimal).
    pub fn parse_points(text: &str) -> Result<Self, Error> {
        let bad = || Error::PriceSyntax(text.to_owned());
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, "0"),
        };
        if whole.is_empty()
            || frac.len() != 1
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = frac.parse().map_err(|_| bad())?;
        let units = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(frac))
            .ok_or(Error::Overflow("parse_points"))?;
        Self::new(units)
    }

    /// The price as index points text with one decimal (for futures), e.g. `"1234.5"`.
    pub fn points(self) -> String {
        format!("{}.{}", self.0 / 10, self.0 % 10)
    }
}

impl TryFrom<i64> for Price {
    type Error = Error;
    fn try_from(units: i64) -> Result<Self, Error> {
        Self::new(units)
    }
}

impl From<Price> for i64 {
    fn from(p: Price) -> i64 {
        p.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Price {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let units: i64 = s
            .trim()
            .parse()
            .map_err(|_| Error::PriceSyntax(s.to_owned()))?;
        Self::new(units)
    }
}

/// An amount of money in whole VND; may be negative (cash flows, mark-to-market).
///
/// All arithmetic is checked: overflow is an [`Error::Overflow`], never a wrap or panic.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Vnd(i64);

impl Vnd {
    /// Zero VND.
    pub const ZERO: Vnd = Vnd(0);

    /// `amount` whole VND.
    pub const fn new(amount: i64) -> Self {
        Self(amount)
    }

    /// The amount in whole VND.
    pub const fn amount(self) -> i64 {
        self.0
    }

    /// `self + other`, or an overflow error.
    pub fn checked_add(self, other: Vnd) -> Result<Vnd, Error> {
        self.0
            .checked_add(other.0)
            .map(Vnd)
            .ok_or(Error::Overflow("Vnd add"))
    }

    /// `self - other`, or an overflow error.
    pub fn checked_sub(self, other: Vnd) -> Result<Vnd, Error> {
        self.0
            .checked_sub(other.0)
            .map(Vnd)
            .ok_or(Error::Overflow("Vnd sub"))
    }

    /// `self * n`, or an overflow error.
    pub fn checked_mul(self, n: i64) -> Result<Vnd, Error> {
        self.0
            .checked_mul(n)
            .map(Vnd)
            .ok_or(Error::Overflow("Vnd mul"))
    }

    /// `-self`, or an overflow error.
    pub fn checked_neg(self) -> Result<Vnd, Error> {
        self.0
            .checked_neg()
            .map(Vnd)
            .ok_or(Error::Overflow("Vnd neg"))
    }

    /// `self × rate`, with the rate in parts per million, rounded half away from zero to
    /// whole VND (fee and tax rounding; the exchanges do not document it, reference §8 \[U\]).
    pub fn apply_ppm(self, rate_ppm: u32) -> Result<Vnd, Error> {
        let product = i128::from(self.0) * i128::from(rate_ppm);
        let rounded = div_round_half_away(product, 1_000_000);
        i64::try_from(rounded)
            .map(Vnd)
            .map_err(|_| Error::Overflow("Vnd apply_ppm"))
    }
}

impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} VND", self.0)
    }
}

/// A number of shares, fund units, warrants or contracts. Zero is representable (an
/// empty holding); order validation rejects zero-quantity orders.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(u64);

impl Quantity {
    /// Zero units.
    pub const ZERO: Quantity = Quantity(0);

    /// `units` shares or contracts.
    pub const fn new(units: u64) -> Self {
        Self(units)
    }

    /// The count.
    pub const fn units(self) -> u64 {
        self.0
    }

    /// `self + other`, or an overflow error.
    pub fn checked_add(self, other: Quantity) -> Result<Quantity, Error> {
        self.0
            .checked_add(other.0)
            .map(Quantity)
            .ok_or(Error::Overflow("Quantity add"))
    }

    /// `self - other`, floored at zero.
    pub const fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_sub(other.0))
    }

    /// The quantity as a signed count (contracts in a position), or an overflow error.
    pub fn as_i64(self) -> Result<i64, Error> {
        i64::try_from(self.0).map_err(|_| Error::Overflow("Quantity as i64"))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An exact non-negative rational `num/den`, used for corporate-action ratios and
/// covered-warrant conversion ratios (reference §5.2, §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RatioRepr", into = "RatioRepr")]
pub struct Ratio {
    num: u64,
    den: u64,
}

#[derive(Serialize, Deserialize)]
struct RatioRepr {
    num: u64,
    den: u64,
}

impl TryFrom<RatioRepr> for Ratio {
    type Error = Error;
    fn try_from(r: RatioRepr) -> Result<Self, Error> {
        Ratio::new(r.num, r.den)
    }
}

impl From<Ratio> for RatioRepr {
    fn from(r: Ratio) -> Self {
        RatioRepr {
            num: r.num,
            den: r.den,
        }
    }
}

impl Ratio {
    /// Zero.
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    /// `num/den`; the denominator must be positive.
    pub fn new(num: u64, den: u64) -> Result<Self, Error> {
        if den == 0 {
            Err(Error::InvalidRatio { num, den })
        } else {
            Ok(Self { num, den })
        }
    }

    /// Numerator.
    pub const fn num(self) -> u64 {
        self.num
    }

    /// Denominator.
    pub const fn den(self) -> u64 {
        self.den
    }
}

/// `n / d` rounded down (toward negative infinity); `d` must be positive.
pub(crate) fn div_floor(n: i128, d: i128) -> i128 {
    let q = n / d;
    if (n % d != 0) && ((n < 0) != (d < 0)) {
        q - 1
    } else {
        q
    }
}

/// `n / d` rounded up (toward positive infinity); `d` must be positive.
pub(crate) fn div_ceil(n: i128, d: i128) -> i128 {
    -div_floor(-n, d)
}

/// `n / d` rounded half away from zero; `d` must be positive.
pub(crate) fn div_round_half_away(n: i128, d: i128) -> i128 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_negative_prices_are_rejected() {
        assert_eq!(Price::new(0), Err(Error::NonPositivePrice(0)));
        assert_eq!(Price::new(-5), Err(Error::NonPositivePrice(-5)));
        assert_eq!(Price::new(1).map(Price::units), Ok(1));
    }

    #[test]
    fn futures_points_parse_with_one_decimal() {
        assert_eq!(Price::parse_points("1234.5").map(Price::units), Ok(12345));
        assert_eq!(Price::parse_points("1300").map(Price::units), Ok(13000));
        assert!(Price::parse_points("1234.55").is_err());
        assert!(Price::parse_points("-1.0").is_err());
        assert!(Price::parse_points(".5").is_err());
        assert!(Price::parse_points("0.0").is_err());
        assert_eq!(
            Price::new(12345).map(Price::points),
            Ok("1234.5".to_owned())
        );
    }

    #[test]
    fn price_serde_rejects_non_positive() {
        assert!(serde_json::from_str::<Price>("0").is_err());
        assert_eq!(
            serde_json::from_str::<Price>("100").ok(),
            Price::new(100).ok()
        );
    }

    #[test]
    fn money_overflow_is_an_error_not_a_wrap() {
        assert!(Vnd::new(i64::MAX).checked_add(Vnd::new(1)).is_err());
        assert!(Vnd::new(i64::MIN).checked_neg().is_err());
        assert_eq!(Vnd::new(5).checked_mul(3), Ok(Vnd::new(15)));
    }

    #[test]
    fn ppm_rounds_half_away_from_zero() {
        // 0.1% of 1,234,500 = 1,234.5 -> 1,235
        assert_eq!(Vnd::new(1_234_500).apply_ppm(1_000), Ok(Vnd::new(1_235)));
        assert_eq!(Vnd::new(-1_234_500).apply_ppm(1_000), Ok(Vnd::new(-1_235)));
        assert_eq!(Vnd::new(1_234_400).apply_ppm(1_000), Ok(Vnd::new(1_234)));
    }

    #[test]
    fn integer_division_helpers_round_as_named() {
        assert_eq!(div_floor(7, 2), 3);
        assert_eq!(div_floor(-7, 2), -4);
        assert_eq!(div_ceil(7, 2), 4);
        assert_eq!(div_ceil(-7, 2), -3);
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(-5, 2), -3);
    }

    #[test]
    fn ratio_needs_positive_denominator() {
        assert!(Ratio::new(1, 0).is_err());
        assert!(serde_json::from_str::<Ratio>(r#"{"num":1,"den":0}"#).is_err());
    }
}
