//! Which language a text is in: Vietnamese, English, or another.
//!
//! Vietnamese with its marks is unmistakable (letters like `ư`, `ơ`, `đ`, tones with a dot below
//! or a hook). Without marks (forum posts typed on a phone) and for English, common function
//! words decide; `whatlang`'s trigram models, limited to the two languages, settle the rest.

use serde::{Deserialize, Serialize};

use crate::fold;

/// A language we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Vietnamese (`vi`).
    Vi,
    /// English (`en`).
    En,
    /// Anything else, or too little text to tell (`und`).
    #[serde(rename = "und")]
    Other,
}

impl Lang {
    /// The BCP 47 code: `vi`, `en`, `und`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
            Lang::Other => "und",
        }
    }

    /// The language of a BCP 47 code (`vi`, `vi-VN`, `en-US`, ...); `Other` for the rest.
    pub fn from_code(code: &str) -> Lang {
        let primary = code
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Lang::Vi,
            "en" => Lang::En,
            _ => Lang::Other,
        }
    }
}

/// Vietnamese function words and common finance syllables, written without marks.
const VI_PLAIN: &[&str] = &[
    "cua", "va", "cac", "nhung", "duoc", "trong", "khong", "cho", "voi", "nay", "den", "tu", "nam",
    "ty", "dong", "tang", "giam", "co", "phieu", "loi", "nhuan", "thi", "truong", "ngan", "hang",
    "chung", "khoan", "ban", "mua", "rong", "tran", "san", "lai", "quy", "ke", "hoach", "dau",
    "gia", "manh", "nhe", "von", "dieu", "chinh", "phien", "hom", "nhieu", "it", "da", "se",
    "dang", "cung", "vi", "nen", "hon", "nhat",
];

/// English function words and common finance words.
const EN_PLAIN: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "on",
    "with",
    "as",
    "at",
    "by",
    "is",
    "are",
    "was",
    "be",
    "from",
    "its",
    "after",
    "shares",
    "stock",
    "stocks",
    "profit",
    "rises",
    "falls",
    "up",
    "down",
    "market",
    "bank",
    "year",
    "quarter",
    "says",
    "will",
    "than",
    "amid",
    "over",
    "into",
    "new",
    "record",
    "net",
    "sales",
    "investors",
    "rate",
    "rates",
];

/// The language of `text`.
pub fn detect(text: &str) -> Lang {
    if fold::has_vietnamese_marks(text) {
        return Lang::Vi;
    }
    let words = fold::tokens(&fold::fold(text));
    let (mut vi, mut en) = (0usize, 0usize);
    for w in &words {
        vi += usize::from(VI_PLAIN.contains(&w.as_str()));
        en += usize::from(EN_PLAIN.contains(&w.as_str()));
    }
    if vi >= 2 && vi > en * 2 {
        return Lang::Vi;
    }
    if en >= 2 && en > vi * 2 {
        return Lang::En;
    }
    let detector =
        whatlang::Detector::with_allowlist(vec![whatlang::Lang::Eng, whatlang::Lang::Vie]);
    match detector.detect(text) {
        Some(info) if info.confidence() >= 0.5 && info.lang() == whatlang::Lang::Vie => Lang::Vi,
        Some(info) if info.confidence() >= 0.5 && info.lang() == whatlang::Lang::Eng => Lang::En,
        Some(_) | None if en > vi => Lang::En,
        Some(_) | None if vi > en => Lang::Vi,
        Some(_) | None => Lang::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_with_and_without_marks_is_vietnamese() {
        assert_eq!(detect("Hòa Phát báo lãi quý III tăng 40%"), Lang::Vi);
        assert_eq!(
            detect("Co phieu HPG tang tran, khoi ngoai mua rong"),
            Lang::Vi
        );
        assert_eq!(detect("gia vang hom nay giam manh"), Lang::Vi);
    }

    #[test]
    fn english_is_english() {
        assert_eq!(
            detect("Vinamilk profit rises 12% on strong export sales"),
            Lang::En
        );
        assert_eq!(
            detect("Foreign investors net sell Vietnamese stocks for a fifth week"),
            Lang::En
        );
        assert_eq!(detect("HPG beats estimates"), Lang::En);
    }

    #[test]
    fn too_little_or_foreign_text_is_other() {
        assert_eq!(detect("123 456"), Lang::Other);
        assert_eq!(detect(""), Lang::Other);
    }

    #[test]
    fn codes_round_trip() {
        for lang in [Lang::Vi, Lang::En, Lang::Other] {
            assert_eq!(Lang::from_code(lang.code()), lang);
        }
        assert_eq!(Lang::from_code("vi-VN"), Lang::Vi);
        assert_eq!(Lang::from_code("en_US"), Lang::En);
    }
}
