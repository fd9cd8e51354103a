//! Which securities a text is about: their tickers (`HPG`, `VN30F2612`) and their company names
//! (`Hòa Phát`, typed with or without accents), from master data.
//!
//! A ticker counts when it stands as an upper-case word of the text. Tickers that are also
//! common abbreviations (`CEO`, `GDP`) count only with a sign that the ticker is meant: in
//! brackets, after `mã`/`cổ phiếu`/`ticker`/an exchange's name, or before `shares`/`stock`. In a
//! text mostly in capitals every ticker needs that sign. A name counts by its distinctive part:
//! the legal form and generic words are cut (`Công ty Cổ phần Tập đoàn Hòa Phát` → `hoa phat`),
//! and what is left must be at least two words (or one brand of six letters or more: `Vinamilk`),
//! matched folded, on word boundaries.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::fold;

/// Abbreviations that are also tickers somewhere: they need a sign to count as tickers.
const AMBIGUOUS: &[&str] = &[
    "CEO", "CFO", "GDP", "CPI", "USD", "VND", "ETF", "IPO", "AGM", "FDI", "SBV", "IMF", "NPL",
    "ROE", "EPS", "PMI", "FED", "ECB", "OTC", "ESG", "API", "THE", "AND", "FOR", "NEW", "TOP",
    "BIG", "CAR", "ART", "ONE", "ALL", "HOT", "BOT", "EVS", "TIN", "VAT", "GAS",
];

/// Words before a ticker that say it is one.
const BEFORE: &[&str] = &[
    "mã",
    "cổ phiếu",
    "cp",
    "ticker",
    "hose",
    "hnx",
    "upcom",
    "symbol",
    "shares of",
    "hsx",
];
/// Words after a ticker that say it is one.
const AFTER: &[&str] = &["shares", "stock", "stocks", "share"];

/// Legal forms and generic words cut from the front of a company's name, folded.
const NAME_PREFIXES: &[&str] = &[
    "cong ty co phan",
    "cong ty tnhh mot thanh vien",
    "cong ty tnhh",
    "cong ty",
    "ctcp",
    "tong cong ty co phan",
    "tong cong ty",
    "tap doan",
    "ngan hang thuong mai co phan",
    "ngan hang tmcp",
    "ngan hang",
    "quy dau tu",
    "quy etf",
    "joint stock company",
    "corporation",
    "group",
    "jsc",
];

/// Names (folded) too generic to identify one company even when left after the cut.
const GENERIC: &[&str] = &[
    "dau tu",
    "phat trien",
    "xay dung",
    "thuong mai",
    "dich vu",
    "viet nam",
];

/// A security as the linker knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// Ticker.
    pub symbol: String,
    /// Company names (Vietnamese and English, any that the text may use).
    pub names: Vec<String>,
}

/// Finds the securities a text mentions.
#[derive(Debug, Clone, Default)]
pub struct Linker {
    symbols: HashSet<String>,
    /// folded name words → ticker
    names: HashMap<Vec<String>, String>,
    longest_name: usize,
}

impl Linker {
    /// A linker for these securities.
    pub fn new(securities: &[Security]) -> Linker {
        let mut linker = Linker::default();
        for s in securities {
            let symbol = s.symbol.trim().to_uppercase();
            if symbol.is_empty() {
                continue;
            }
            for name in &s.names {
                if let Some(words) = distinctive(name)
                    && !words.iter().all(|w| *w == symbol.to_lowercase())
                {
                    linker.longest_name = linker.longest_name.max(words.len());
                    linker.names.entry(words).or_insert_with(|| symbol.clone());
                }
            }
            linker.symbols.insert(symbol);
        }
        linker
    }

    /// How many securities it knows.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Whether it knows none.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The tickers `text` mentions, sorted.
    pub fn link(&self, text: &str) -> Vec<String> {
        let mut found = BTreeSet::new();
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        let shouting = !letters.is_empty() && upper * 2 > letters.len();
        let raw = raw_words(text);
        let lower: Vec<String> = raw.iter().map(|w| fold::normalise(&w.text)).collect();
        for (i, w) in raw.iter().enumerate() {
            let t = &w.text;
            let looks = t.len() >= 3
                && t.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && t.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if !looks || !self.symbols.contains(t.as_str()) {
                continue;
            }
            let needs_sign = shouting || AMBIGUOUS.contains(&t.as_str());
            if !needs_sign || w.bracketed || has_sign(&lower, i) {
                found.insert(t.clone());
            }
        }
        let folded: Vec<String> = fold::tokens(&fold::fold(text))
            .into_iter()
            .filter(|w| w != "," && w != ".")
            .collect();
        for n in 1..=self.longest_name.min(folded.len()) {
            for window in folded.windows(n) {
                if let Some(symbol) = self.names.get(window) {
                    found.insert(symbol.clone());
                }
            }
        }
        found.into_iter().collect()
    }
}

/// A word of the original text, and whether it stood in brackets.
struct RawWord {
    text: String,
    bracketed: bool,
}

fn raw_words(text: &str) -> Vec<RawWord> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut opened = false;
    let mut prev = ' ';
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() {
            if word.is_empty() {
                opened = prev == '(' || prev == '[';
            }
            word.push(c);
        } else if !word.is_empty() {
            out.push(RawWord {
                text: std::mem::take(&mut word),
                bracketed: opened && (c == ')' || c == ']'),
            });
        }
        prev = c;
    }
    out
}

/// Whether the words around position `i` say it is a ticker.
fn has_sign(lower: &[String], i: usize) -> bool {
    let before = |n: usize| (i >= n).then(|| lower[i - n..i].join(" "));
    let after = lower.get(i + 1).map(String::as_str);
    BEFORE
        .iter()
        .any(|b| before(b.split(' ').count()).is_some_and(|s| s == *b))
        || after.is_some_and(|a| AFTER.contains(&a))
}

/// The distinctive words of a company name, folded: legal form and generic words cut; `None`
/// when fewer than two words, or only generic ones, are left.
fn distinctive(name: &str) -> Option<Vec<String>> {
    let mut folded = fold::tokens(&fold::fold(name))
        .into_iter()
        .filter(|w| w != "," && w != ".")
        .collect::<Vec<_>>()
        .join(" ");
    loop {
        let before = folded.len();
        for p in NAME_PREFIXES {
            if let Some(rest) = folded.strip_prefix(p)
                && (rest.is_empty() || rest.starts_with(' '))
            {
                folded = rest.trim_start().to_owned();
            }
            if let Some(rest) = folded.strip_suffix(p)
                && (rest.is_empty() || rest.ends_with(' '))
            {
                folded = rest.trim_end().to_owned();
            }
        }
        if folded.len() == before {
            break;
        }
    }
    let words: Vec<String> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    // one word is enough when it is a long brand (`vinamilk`, `petrolimex`)
    let brand = words.len() == 1 && words[0].chars().count() >= 6;
    if (words.len() < 2 && !brand) || GENERIC.contains(&folded.as_str()) {
        return None;
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linker() -> Linker {
        let s = |symbol: &str, names: &[&str]| Security {
            symbol: symbol.to_owned(),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        };
        Linker::new(&[
            s(
                "HPG",
                &[
                    "Công ty Cổ phần Tập đoàn Hòa Phát",
                    "Hoa Phat Group Joint Stock Company",
                ],
            ),
            s("VNM", &["Công ty Cổ phần Sữa Việt Nam", "Vinamilk"]),
            s("CEO", &["Công ty Cổ phần Tập đoàn C.E.O"]),
            s("FPT", &["Công ty Cổ phần FPT"]),
            s("TCB", &["Ngân hàng Thương mại Cổ phần Kỹ thương Việt Nam"]),
            s("VN30F2612", &[]),
            s("DTV", &["Công ty Cổ phần Đầu tư"]),
        ])
    }

    #[test]
    fn tickers_in_capitals_are_found() {
        assert_eq!(
            linker().link("HPG và FPT tăng mạnh, VNM giảm"),
            ["FPT", "HPG", "VNM"]
        );
        assert_eq!(linker().link("VN30F2612 giảm sàn"), ["VN30F2612"]);
        assert!(
            linker().link("hpg tăng").is_empty(),
            "lower case is a word, not a ticker"
        );
    }

    #[test]
    fn names_are_found_with_or_without_accents() {
        assert_eq!(linker().link("Hòa Phát báo lãi kỷ lục"), ["HPG"]);
        assert_eq!(linker().link("hoa phat bao lai ky luc"), ["HPG"]);
        assert_eq!(linker().link("Hoa Phat posts record profit"), ["HPG"]);
        assert_eq!(linker().link("Sữa Việt Nam chia cổ tức"), ["VNM"]);
        assert_eq!(
            linker().link("Techcombank: Kỹ Thương Việt Nam báo lãi"),
            ["TCB"]
        );
    }

    #[test]
    fn ambiguous_tickers_need_a_sign() {
        assert!(
            linker()
                .link("The CEO of Vinamilk resigned")
                .contains(&"VNM".to_owned())
        );
        assert!(
            !linker()
                .link("The CEO resigned")
                .contains(&"CEO".to_owned())
        );
        assert_eq!(linker().link("Cổ phiếu CEO tăng trần"), ["CEO"]);
        assert_eq!(linker().link("Tập đoàn C.E.O (CEO) báo lỗ"), ["CEO"]);
        assert_eq!(linker().link("CEO shares jump"), ["CEO"]);
    }

    #[test]
    fn shouting_texts_need_signs_for_every_ticker() {
        assert!(linker().link("THE FPT WAY TO WIN").is_empty());
        assert_eq!(linker().link("MÃ FPT TĂNG TRẦN"), ["FPT"]);
    }

    #[test]
    fn generic_or_one_word_names_are_not_matched() {
        assert!(linker().link("Đầu tư vào cổ phiếu ngân hàng").is_empty());
    }
}
