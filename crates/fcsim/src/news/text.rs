//! Numbers, dates and names as each language writes them (`27.500 đồng`, `4,2%`,
//! `10/06/2025` in Vietnamese; `27,500 dong`, `4.2%`, `June 10, 2025` in English), and
//! the `{key}` substitution that fills the templates of `stories`.

use time::{Date, Month};

use super::Lang;

/// `x` with `places` decimals in `lang`'s notation: thousands grouped by `.` and decimals
/// after `,` in Vietnamese, the other way round in English.
pub(super) fn fixed(x: f64, places: u32, lang: Lang) -> String {
    let (group, point) = match lang {
        Lang::Vi => ('.', ','),
        Lang::En => (',', '.'),
    };
    let scale = 10_u64.pow(places);
    let scaled = (x.abs() * scale as f64).round() as u64;
    let (whole, frac) = (scaled / scale, scaled % scale);
    let mut out = String::new();
    if x < 0.0 && scaled != 0 {
        out.push('-');
    }
    let digits = whole.to_string();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if places > 0 {
        out.push(point);
        out.push_str(&format!("{frac:0width$}", width = places as usize));
    }
    out
}

/// A whole number (a price in dong, a share count).
pub(super) fn whole(n: i64, lang: Lang) -> String {
    fixed(n as f64, 0, lang)
}

/// `x` with a sign in front (`+4,2`, `-2,1`; zero unsigned).
pub(super) fn signed(x: f64, places: u32, lang: Lang) -> String {
    let text = fixed(x, places, lang);
    if text.starts_with('-') || text.chars().all(|c| c == '0' || c == ',' || c == '.') {
        text
    } else {
        format!("+{text}")
    }
}

/// A money amount in billions of dong (tỷ đồng), without the unit: whole above 10, one
/// decimal below.
pub(super) fn billions(vnd: f64, lang: Lang) -> String {
    let b = vnd / 1e9;
    if b >= 10.0 {
        fixed(b, 0, lang)
    } else {
        fixed(b.max(0.1), 1, lang)
    }
}

/// A count in millions (shares, dollars), without the unit: whole above 100, one decimal
/// below.
pub(super) fn millions(n: f64, lang: Lang) -> String {
    let m = n / 1e6;
    if m >= 100.0 {
        fixed(m, 0, lang)
    } else {
        fixed(m.max(0.1), 1, lang)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: Month) -> &'static str {
    MONTHS
        .get(usize::from(u8::from(month)).saturating_sub(1))
        .copied()
        .unwrap_or("")
}

/// `10/06/2025` or `June 10, 2025`.
pub(super) fn date(d: Date, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year()),
        Lang::En => format!("{} {}, {}", month_name(d.month()), d.day(), d.year()),
    }
}

/// The month before `d`'s: `tháng 5` or `May`.
pub(super) fn last_month(d: Date, lang: Lang) -> String {
    let month = d.month().previous();
    match lang {
        Lang::Vi => format!("tháng {}", u8::from(month)),
        Lang::En => month_name(month).to_owned(),
    }
}

/// The last complete quarter before `d`: `2/2025` (after "quý") or `Q2 2025`.
pub(super) fn last_quarter(d: Date, lang: Lang) -> String {
    let quarter = (u8::from(d.month()) - 1) / 3;
    let (q, year) = if quarter == 0 {
        (4, d.year() - 1)
    } else {
        (quarter, d.year())
    };
    match lang {
        Lang::Vi => format!("{q}/{year}"),
        Lang::En => format!("Q{q} {year}"),
    }
}

/// `2` → `thứ hai`'s `hai` / `second`, up to 10.
pub(super) fn ordinal(n: u32, lang: Lang) -> String {
    const VI: [&str; 11] = [
        "", "nhất", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười",
    ];
    const EN: [&str; 11] = [
        "", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ];
    let table = match lang {
        Lang::Vi => VI,
        Lang::En => EN,
    };
    table
        .get(n as usize)
        .map_or_else(|| n.to_string(), |s| (*s).to_owned())
}

/// The short name a headline uses: `Hòa Phát` for `Công ty Cổ phần Tập đoàn Hòa Phát`,
/// `Hoa Phat` for `Hoa Phat Group`; `None` when nothing shorter than the full name and
/// different from the ticker remains.
pub(super) fn short_name(name: &str, symbol: &str, lang: Lang) -> Option<String> {
    let mut s = name.trim().to_owned();
    match lang {
        Lang::Vi => {
            for prefix in [
                "Tổng Công ty Cổ phần ",
                "Công ty Cổ phần ",
                "Tổng Công ty ",
                "Công ty ",
            ] {
                if let Some(rest) = s.strip_prefix(prefix) {
                    s = rest.to_owned();
                    break;
                }
            }
            if let Some(rest) = s.strip_prefix("Tập đoàn ") {
                s = rest.to_owned();
            }
            if let Some(rest) = s.strip_prefix("Ngân hàng TMCP ") {
                s = format!("Ngân hàng {rest}");
            }
        }
        Lang::En => loop {
            let before = s.len();
            for suffix in [
                " Joint Stock Company",
                " Joint Stock Corporation",
                " Corporation",
                " Group",
                " Holdings",
                " JSC",
            ] {
                if let Some(rest) = s.strip_suffix(suffix) {
                    s = rest.to_owned();
                }
            }
            if s.len() == before {
                break;
            }
        },
    }
    if let Some(rest) = s.strip_suffix(&format!(" {symbol}")) {
        s = rest.to_owned();
    }
    let s = s.trim();
    (!s.is_empty() && s != symbol && s.chars().count() <= 28).then(|| s.to_owned())
}

/// `Hòa Phát (HPG)`; the short name alone when it holds the ticker (`ABC Steel`), the
/// ticker alone when the name is long.
pub(super) fn company(name: &str, symbol: &str, lang: Lang) -> String {
    match short_name(name, symbol, lang) {
        Some(s) if s.split(' ').any(|word| word == symbol) => s,
        Some(s) => format!("{s} ({symbol})"),
        None => symbol.to_owned(),
    }
}

/// The first letter in upper case (`the United States …` opening a headline).
pub(super) fn capitalised(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        Some(_) | None => text,
    }
}

/// The values of a template's `{key}` placeholders.
#[derive(Debug, Default)]
pub(super) struct Vars(Vec<(&'static str, String)>);

impl Vars {
    /// Sets `{key}`.
    pub(super) fn set(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// `template` with every known `{key}` replaced; unknown ones are left as they are
    /// (the templates' test finds them).
    pub(super) fn render(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let key = &after[..close];
                    match self.0.iter().find(|(k, _)| *k == key) {
                        Some((_, value)) => out.push_str(value),
                        None => {
                            out.push('{');
                            out.push_str(key);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        capitalised(out)
    }
}
