//! Ticker symbols: validation, classification and futures codes (reference §1.3).
//!
//! [`Symbol`] is a validated, allocation-free ticker (`Copy`). [`classify`] tells what a
//! ticker looks like: a 3-character stock, an ETF, a closed-end fund, a covered warrant,
//! a futures contract in either the legacy `VN30FYYMM` or the KRX `41I1F4000` style, or a
//! vendor alias such as `VN30F1M`. Pattern facts tagged \[U\] in the reference (covered
//! warrant layout, KRX year alphabet base) are in [`TickerRules`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest ticker we accept; the longest real codes are 9 characters (`VN30F2506`).
pub const MAX_SYMBOL_LEN: usize = 16;

/// Why a ticker or futures code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Empty, too long, or contains something other than `A–Z`/`0–9`.
    #[error("invalid symbol {0:?}: expected 1-{MAX_SYMBOL_LEN} ASCII upper-case letters or digits")]
    InvalidSymbol(String),
    /// Valid characters but no known ticker pattern matches.
    #[error("symbol {0:?} matches no known ticker pattern")]
    UnknownPattern(String),
    /// A futures code with an impossible month or year.
    #[error("futures code {code:?}: {reason}")]
    InvalidFuturesCode {
        /// The code as given.
        code: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The contract cannot be written in the requested code style.
    #[error("{0}")]
    Unrepresentable(String),
}

/// A validated ticker: 1–16 ASCII upper-case letters or digits, stored inline (`Copy`).
/// Lower-case input is upper-cased. Reference §1.2: instruments are keyed by (market,
/// symbol, board), so a `Symbol` alone is not a unique key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol {
    len: u8,
    bytes: [u8; MAX_SYMBOL_LEN],
}

impl Symbol {
    /// Validates and upper-cases `text`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let t = text.trim();
        if t.is_empty() || t.len() > MAX_SYMBOL_LEN || !t.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::InvalidSymbol(text.to_owned()));
        }
        let mut bytes = [0u8; MAX_SYMBOL_LEN];
        for (slot, b) in bytes.iter_mut().zip(t.bytes()) {
            *slot = b.to_ascii_uppercase();
        }
        Ok(Self {
            len: t.len() as u8,
            bytes,
        })
    }

    /// The ticker text.
    pub fn as_str(&self) -> &str {
        let b = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(b).unwrap_or_default()
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Symbol {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Symbol {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        s.as_str().to_owned()
    }
}

/// The underlying of a futures contract (reference §1.1, §1.3 KRX chars 3–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Underlying {
    /// VN30 index (KRX `I1`).
    Vn30,
    /// VN100 index (KRX `I2`), listed since 10 Oct 2025.
    Vn100,
    /// 5-year government bond (KRX `B5`); recognised in codes only, rules not researched.
    Gb05,
    /// 10-year government bond (KRX `BA`); recognised in codes only, rules not researched.
    Gb10,
}

impl Underlying {
    /// The two KRX code characters for the underlying.
    pub const fn krx_code(self) -> &'static str {
        match self {
            Underlying::Vn30 => "I1",
            Underlying::Vn100 => "I2",
            Underlying::Gb05 => "B5",
            Underlying::Gb10 => "BA",
        }
    }

    /// Whether the underlying is an equity index (the instruments this crate prices).
    pub const fn is_index(self) -> bool {
        matches!(self, Underlying::Vn30 | Underlying::Vn100)
    }

    /// The vendor alias stem, e.g. `VN30F` (reference §1.3 vendor aliases).
    pub const fn alias_stem(self) -> &'static str {
        match self {
            Underlying::Vn30 => "VN30F",
            Underlying::Vn100 => "VN100F",
            Underlying::Gb05 => "GB05F",
            Underlying::Gb10 => "GB10F",
        }
    }
}

/// How a futures contract code is written (reference §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeStyle {
    /// `VN30FYYMM`, used by contracts listed before KRX go-live (kept until expiry).
    Legacy,
    /// The 9-character KRX code `41` + underlying + year + month + `000`.
    Krx,
}

/// A futures contract: underlying and expiry month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FutureContract {
    /// The underlying.
    pub underlying: Underlying,
    /// Expiry year, e.g. 2025.
    pub year: u16,
    /// Expiry month, 1–12.
    pub month: u8,
}

impl FutureContract {
    /// A contract; rejects a month outside 1–12.
    pub fn new(underlying: Underlying, year: u16, month: u8) -> Result<Self, Error> {
        if !(1..=12).contains(&month) {
            return Err(Error::InvalidFuturesCode {
                code: format!("{}{year}-{month}", underlying.alias_stem()),
                reason: "month must be 1-12",
            });
        }
        Ok(Self {
            underlying,
            year,
            month,
        })
    }

    /// The legacy `VN30FYYMM` code (VN30 only; reference §1.3 \[C\]).
    pub fn legacy_code(&self) -> Result<String, Error> {
        if self.underlying != Underlying::Vn30 {
            return Err(Error::Unrepresentable(format!(
                "{:?} futures have no legacy VN30FYYMM code",
                self.underlying
            )));
        }
        Ok(format!("VN30F{:02}{:02}", self.year % 100, self.month))
    }

    /// The KRX code, e.g. `41I1F4000` for April 2025 VN30 (reference §1.3).
    pub fn krx_code(&self, rules: &TickerRules) -> Result<String, Error> {
        let idx = i32::from(self.year) - i32::from(rules.krx_year_base);
        let alphabet = KRX_YEAR_ALPHABET.as_bytes();
        let year_char = usize::try_from(idx)
            .ok()
            .and_then(|i| alphabet.get(i))
            .copied()
            .ok_or_else(|| {
                Error::Unrepresentable(format!(
                    "year {} outside the KRX year cycle starting {}",
                    self.year, rules.krx_year_base
                ))
            })?;
        let month_char = KRX_MONTHS
            .as_bytes()
            .get(usize::from(self.month).wrapping_sub(1))
            .copied()
            .ok_or_else(|| Error::Unrepresentable(format!("month {}", self.month)))?;
        Ok(format!(
            "41{}{}{}000",
            self.underlying.krx_code(),
            char::from(year_char),
            char::from(month_char)
        ))
    }
}

/// The KRX 30-symbol year alphabet: `0–9` then `A–W` without `I`, `O`, `U` (reference §1.3).
pub const KRX_YEAR_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRSTVW";
const KRX_MONTHS: &str = "123456789ABC";

/// A vendor alias for a rolling futures contract (reference §1.3: `VN30F1M`, `VN30F2M`,
/// `VN30F1Q`, `VN30F2Q`). Resolve with [`crate::calendar::TradingCalendar::resolve_alias`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FutureAlias {
    /// The underlying.
    pub underlying: Underlying,
    /// Which listed series.
    pub series: AliasSeries,
}

/// Which of the four listed series an alias names (reference §1.3: current month, next
/// month, and the last months of the next two quarters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasSeries {
    /// `1M`: front month.
    FrontMonth,
    /// `2M`: next month.
    NextMonth,
    /// `1Q`: nearest quarter month after the two monthly contracts.
    FirstQuarter,
    /// `2Q`: the quarter after that.
    SecondQuarter,
}

/// What a ticker is, by its shape (reference §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TickerKind {
    /// Three alphanumerics starting with a letter (`FPT`, `C32`, `HT1`).
    Stock,
    /// `FUE…` or legacy `E1…` ETF codes.
    Etf,
    /// `FUC…` closed-end fund certificates.
    FundCertificate,
    /// `C` + underlying (3) + year (2) + serial (2), e.g. `CFPT2501` (\[U\] pattern).
    CoveredWarrant {
        /// The underlying stock.
        underlying: Symbol,
        /// Issue year, e.g. 2025.
        year: u16,
        /// Serial within the year.
        serial: u8,
    },
    /// A concrete futures contract.
    Future {
        /// The contract.
        contract: FutureContract,
        /// How it was written.
        style: CodeStyle,
    },
    /// A rolling vendor alias.
    FutureAlias(FutureAlias),
}

/// Ticker-shape facts the reference tags \[U\], with their defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TickerRules {
    /// Year whose KRX year character is `0`; default 2010 (derived from `F` = 2025,
    /// reference §1.3 \[U\]). The cycle covers `krx_year_base .. krx_year_base + 30`.
    pub krx_year_base: u16,
    /// Century added to the two-digit year of covered-warrant and legacy futures codes;
    /// default 2000.
    pub two_digit_year_base: u16,
    /// Whether covered-warrant codes of the form `C` + 3 + YY + NN are recognised;
    /// default true (reference §1.3 \[U\] pattern from observed codes).
    pub covered_warrant_pattern: bool,
}

impl Default for TickerRules {
    fn default() -> Self {
        Self {
            krx_year_base: 2010,
            two_digit_year_base: 2000,
            covered_warrant_pattern: true,
        }
    }
}

/// Classifies `text` with the default [`TickerRules`].
pub fn classify(text: &str) -> Result<TickerKind, Error> {
    classify_with(text, &TickerRules::default())
}

/// Classifies `text` by its shape (reference §1.3). Lower case is accepted.
pub fn classify_with(text: &str, rules: &TickerRules) -> Result<TickerKind, Error> {
    let sym = Symbol::parse(text)?;
    let s = sym.as_str();
    let b = s.as_bytes();
    let digits = |r: &[u8]| !r.is_empty() && r.iter().all(u8::is_ascii_digit);
    let two = |r: &[u8]| -> u16 { r.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0')) };

    if b.len() == 3 && b.first().is_some_and(u8::is_ascii_alphabetic) {
        return Ok(TickerKind::Stock);
    }
    if let Some(rest) = s.strip_prefix("VN30F").or_else(|| s.strip_prefix("VN100F")) {
        let underlying = if s.starts_with("VN30F") {
            Underlying::Vn30
        } else {
            Underlying::Vn100
        };
        let series = match rest {
            "1M" => Some(AliasSeries::FrontMonth),
            "2M" => Some(AliasSeries::NextMonth),
            "1Q" => Some(AliasSeries::FirstQuarter),
            "2Q" => Some(AliasSeries::SecondQuarter),
            _ => None,
        };
        if let Some(series) = series {
            return Ok(TickerKind::FutureAlias(FutureAlias { underlying, series }));
        }
        if underlying == Underlying::Vn30 && rest.len() == 4 && digits(rest.as_bytes()) {
            let rb = rest.as_bytes();
            let yy = two(rb.get(..2).unwrap_or_default());
            let mm = two(rb.get(2..).unwrap_or_default());
            let month = u8::try_from(mm).unwrap_or(0);
            let contract =
                FutureContract::new(Underlying::Vn30, rules.two_digit_year_base + yy, month)
                    .map_err(|_| Error::InvalidFuturesCode {
                        code: s.to_owned(),
                        reason: "month must be 01-12",
                    })?;
            return Ok(TickerKind::Future {
                contract,
                style: CodeStyle::Legacy,
            });
        }
    }
    if b.len() == 9 && s.starts_with("41") && s.ends_with("000") {
        return parse_krx_future(s, rules);
    }
    if (s.starts_with("FUE") || s.starts_with("E1")) && (6..=10).contains(&b.len()) {
        return Ok(TickerKind::Etf);
    }
    if s.starts_with("FUC") && (6..=10).contains(&b.len()) {
        return Ok(TickerKind::FundCertificate);
    }
    if rules.covered_warrant_pattern
        && b.len() == 8
        && b.first() == Some(&b'C')
        && digits(b.get(4..).unwrap_or_default())
    {
        let underlying = Symbol::parse(s.get(1..4).unwrap_or_default())?;
        if underlying
            .as_str()
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
        {
            let yy = two(b.get(4..6).unwrap_or_default());
            let serial = two(b.get(6..8).unwrap_or_default());
            return Ok(TickerKind::CoveredWarrant {
                underlying,
                year: rules.two_digit_year_base + yy,
                serial: u8::try_from(serial).unwrap_or(0),
            });
        }
    }
    Err(Error::UnknownPattern(s.to_owned()))
}

fn parse_krx_future(s: &str, rules: &TickerRules) -> Result<TickerKind, Error> {
    let bad = |reason| Error::InvalidFuturesCode {
        code: s.to_owned(),
        reason,
    };
    let underlying = match s.get(2..4) {
        Some("I1") => Underlying::Vn30,
        Some("I2") => Underlying::Vn100,
        Some("B5") => Underlying::Gb05,
        Some("BA") => Underlying::Gb10,
        _ => return Err(bad("unknown underlying (expected I1, I2, B5 or BA)")),
    };
    let year_char = s.as_bytes().get(4).copied().unwrap_or(b'?');
    let month_char = s.as_bytes().get(5).copied().unwrap_or(b'?');
    let year_idx = KRX_YEAR_ALPHABET
        .bytes()
        .position(|c| c == year_char)
        .ok_or_else(|| bad("year character not in the KRX year alphabet"))?;
    let month_idx = KRX_MONTHS
        .bytes()
        .position(|c| c == month_char)
        .ok_or_else(|| bad("month character must be 1-9, A, B or C"))?;
    let year = rules.krx_year_base + year_idx as u16;
    let contract = FutureContract::new(underlying, year, month_idx as u8 + 1)?;
    Ok(TickerKind::Future {
        contract,
        style: CodeStyle::Krx,
    })
}

#[cfg(test)]
mod tests;
