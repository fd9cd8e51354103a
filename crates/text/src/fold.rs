//! Normalising text: Unicode NFC, lower case, and folding Vietnamese diacritics away (`Hòa Phát`
//! → `hoa phat`, `đ` → `d`) so that text typed without accents, as on forums, still matches.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `text` in Unicode NFC and lower case (the form lexicons and dictionaries are written in).
pub fn normalise(text: &str) -> String {
    text.nfc().flat_map(char::to_lowercase).collect()
}

/// `text` in lower case without diacritics: decomposed, combining marks dropped, `đ` to `d`.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// Whether `text` has a letter only Vietnamese uses among the languages we read (a
/// Vietnamese-only vowel or tone mark, or `đ`).
pub fn has_vietnamese_marks(text: &str) -> bool {
    text.nfd().any(|c| {
        matches!(
            c,
            // horn (ơ, ư), breve (ă), dot below (ạ), hook above (ả), tilde (ã) and `đ`
            '\u{031B}' | '\u{0306}' | '\u{0323}' | '\u{0309}' | '\u{0303}' | 'đ' | 'Đ'
        )
    })
}

/// Splits `text` into word tokens: runs of letters and digits (with `.`, `,` or `%` inside a
/// number kept, so `4,2%` and `27.500` stay one token), lower case, NFC. Punctuation that
/// separates clauses is kept as the token `,` or `.` (the sentiment scorer stops at clause
/// ends); everything else separates.
pub fn tokens(text: &str) -> Vec<String> {
    let text = normalise(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let in_number = word.chars().last().is_some_and(|l| l.is_ascii_digit());
        if c.is_alphanumeric()
            || (in_number && (c == '%' || (matches!(c, '.' | ',') && next_digit)))
        {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if matches!(c, '.' | ',' | ';' | ':' | '!' | '?') {
            out.push(if c == ',' {
                ",".to_owned()
            } else {
                ".".to_owned()
            });
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_vietnamese_marks() {
        assert_eq!(fold("Tập đoàn Hòa Phát"), "tap doan hoa phat");
        assert_eq!(fold("ĐƯỜNG Quảng Ngãi"), "duong quang ngai");
        assert_eq!(fold("Thế Giới Di Động"), "the gioi di dong");
    }

    #[test]
    fn decomposed_input_is_normalised_to_nfc() {
        let decomposed = "ha\u{0300}ng"; // "hàng" as a plus a combining grave accent
        assert_eq!(normalise(decomposed), "hàng");
    }

    #[test]
    fn vietnamese_marks_are_told_from_french_or_plain_ascii() {
        assert!(has_vietnamese_marks("Lợi nhuận tăng"));
        assert!(has_vietnamese_marks("đồng"));
        assert!(!has_vietnamese_marks("loi nhuan tang"));
        assert!(!has_vietnamese_marks("Profits rise at Vinamilk"));
    }

    #[test]
    fn tokens_keep_numbers_whole_and_mark_clause_ends() {
        assert_eq!(
            tokens("HPG tăng 4,2% lên 27.500 đồng, nhưng..."),
            [
                "hpg", "tăng", "4,2%", "lên", "27.500", "đồng", ",", "nhưng", ".", ".", "."
            ]
        );
        assert_eq!(tokens("Profit up 12.5%!"), ["profit", "up", "12.5%", "."]);
    }
}
