//! Finance-aware sentiment of news and posts, in Vietnamese and English, from lexicons and rules.
//!
//! The text is cut into words by longest match against the lexicon (Vietnamese words are
//! several syllables: `lợi nhuận`, `tăng trần`), then each sentiment word's valence (−4 … +4,
//! from the point of view of an investor in what the text is about) is adjusted by the words
//! around it, in the same clause:
//! - boosters and dampeners (`sharply`, `slightly`; `mạnh`, `nhẹ` — Vietnamese puts them after
//!   the word too) scale it;
//! - a negation up to three words before (`not`, `fails to`; `không`, `chưa`) flips and damps it
//!   (×−0.74, as VADER does);
//! - a direction word next to something bad (`losses narrow`, `nợ xấu tăng`, `lạm phát giảm`)
//!   counts for what happens to the bad thing, not for the direction alone;
//! - before a contrast (`but`, `nhưng`, `tuy nhiên`) words count half, after it one and a half
//!   times.
//!
//! The sum `S` becomes a compound score `S / √(S² + 15)` in (−1, 1) (VADER's normalisation);
//! the label is negative below `−band`, positive above `band`. The intensity of emotion,
//! whatever its direction, is `1 − e^(−Σ|v|/4)`.
//!
//! The lexicons (`data/lexicon`) are the project's own; the evaluation set
//! (`data/sentiment/eval.tsv`, labelled by hand and split in two) measures them: rules and
//! words are tuned on its dev half only, and `tests/eval.rs` holds the test half's macro-F1.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::fold;
use crate::lang::Lang;

/// Compound scores within ±this are neutral (tuned on the dev half of the evaluation set).
pub const NEUTRAL_BAND: f64 = 0.05;

/// VADER's normalisation constant: `S / √(S² + ALPHA)`.
const ALPHA: f64 = 15.0;
/// How much a negation keeps of the valence it flips.
const NEGATION: f64 = -0.74;
/// How far before a sentiment word a negation reaches, in words.
const NEGATION_REACH: usize = 3;

/// A sentiment class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Likely bad for investors in what the text is about.
    Negative,
    /// Factual, procedural, mixed or without a direction.
    Neutral,
    /// Likely good for investors in what the text is about.
    Positive,
}

impl Label {
    /// `negative`, `neutral`, `positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }

    /// The label of its name.
    pub fn parse(s: &str) -> Option<Label> {
        match s {
            "negative" => Some(Label::Negative),
            "neutral" => Some(Label::Neutral),
            "positive" => Some(Label::Positive),
            _ => None,
        }
    }

    /// The label of a compound score with a neutral band of ±`band`.
    pub fn of(compound: f64, band: f64) -> Label {
        if compound > band {
            Label::Positive
        } else if compound < -band {
            Label::Negative
        } else {
            Label::Neutral
        }
    }
}

/// One word that moved the score, with its valence after the words around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The word or phrase as the lexicon has it.
    pub term: String,
    /// Its contribution, −4 … +4 scaled by boosters, flipped by negations, weighted by
    /// contrast and by the part of the text it is in.
    pub valence: f64,
}

/// The sentiment of one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// −1 (very negative) … +1 (very positive).
    pub compound: f64,
    /// Sum of the positive contributions.
    pub positive: f64,
    /// Sum of the negative contributions, as a positive number.
    pub negative: f64,
    /// 0 (no emotion) … 1 (highly charged), whatever the direction.
    pub intensity: f64,
    /// The class, with [`NEUTRAL_BAND`].
    pub label: Label,
    /// The lexicon used.
    pub lang: Lang,
    /// The words that counted, in text order.
    pub hits: Vec<Hit>,
}

/// What a lexicon word does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Modifier {
    /// Flips the next sentiment words.
    Negate,
    /// Scales a sentiment word next to it by `1 + weight`.
    Scale(f64),
    /// Everything before counts less, everything after more.
    Contrast,
    /// The rest of its clause is conceded (`despite`, `dù`): it counts half.
    Concession,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Entry {
    valence: Option<f64>,
    modifier: Option<Modifier>,
    /// `+1` for words saying something rises, `−1` falls (see [`Lexicon::score`]).
    direction: i8,
    /// Bad when it rises: costs, debt, inflation, losses.
    burden: bool,
}

#[derive(Debug, Clone, Default)]
struct Dict {
    entries: HashMap<String, Entry>,
    longest: usize,
}

/// A problem with a lexicon file.
#[derive(Debug, thiserror::Error)]
#[error("{file} line {line}: {problem}")]
pub struct Error {
    file: &'static str,
    line: usize,
    problem: String,
}

/// Words that say something rises or falls, per language: next to a burden they count for the
/// burden (`chi phí tăng` is bad, `lỗ thu hẹp` good).
const UP: &[(Lang, &[&str])] = &[
    (
        Lang::En,
        &[
            "rise",
            "rises",
            "rose",
            "rising",
            "up",
            "increase",
            "increases",
            "increased",
            "jump",
            "jumps",
            "jumped",
            "surge",
            "surges",
            "surged",
            "soar",
            "soars",
            "soared",
            "climb",
            "climbs",
            "climbed",
            "widen",
            "widens",
            "widened",
            "grow",
            "grows",
            "grew",
            "higher",
            "hike",
            "hikes",
            "raise",
            "raises",
            "raised",
            "ticks up",
        ],
    ),
    (
        Lang::Vi,
        &[
            "tăng",
            "tăng mạnh",
            "tăng vọt",
            "gia tăng",
            "leo thang",
            "nhích lên",
            "đi lên",
            "tang",
        ],
    ),
];
const DOWN: &[(Lang, &[&str])] = &[
    (
        Lang::En,
        &[
            "fall",
            "falls",
            "fell",
            "falling",
            "down",
            "decrease",
            "decreases",
            "decreased",
            "drop",
            "drops",
            "dropped",
            "decline",
            "declines",
            "declined",
            "ease",
            "eases",
            "eased",
            "narrow",
            "narrows",
            "narrowed",
            "shrink",
            "shrinks",
            "lower",
            "lowers",
            "lowered",
            "cut",
            "cuts",
            "reduce",
            "reduces",
            "reduced",
        ],
    ),
    (
        Lang::Vi,
        &[
            "giảm",
            "giảm mạnh",
            "giảm nhẹ",
            "thu hẹp",
            "hạ",
            "hạ nhiệt",
            "giảm bớt",
            "giam",
        ],
    ),
];
/// Words that open a conceded clause (`despite losses, shares rise`; `dù lãi suất giảm, ...`):
/// the rest of their clause counts half.
const CONCESSIONS: &[(Lang, &[&str])] = &[
    (
        Lang::En,
        &[
            "although",
            "though",
            "even though",
            "despite",
            "in spite of",
        ],
    ),
    (Lang::Vi, &["dù", "mặc dù", "dù cho", "bất chấp", "tuy"]),
];
/// Things that are bad when they rise (and good when they fall).
const BURDENS: &[(Lang, &[&str])] = &[
    (
        Lang::En,
        &[
            "cost",
            "costs",
            "expenses",
            "debt",
            "debts",
            "bad debt",
            "bad debts",
            "npl",
            "npls",
            "inflation",
            "unemployment",
            "inventory",
            "inventories",
            "provisions",
            "loss",
            "losses",
            "net loss",
            "deficit",
            "interest rates",
            "rate",
            "rates",
            "policy rates",
            "yields",
            "pressure",
            "pressures",
            "risk",
            "risks",
        ],
    ),
    (
        Lang::Vi,
        &[
            "chi phí",
            "nợ",
            "nợ xấu",
            "nợ vay",
            "lạm phát",
            "thất nghiệp",
            "tồn kho",
            "dự phòng",
            "trích lập",
            "lỗ",
            "thua lỗ",
            "lỗ ròng",
            "thâm hụt",
            "lãi suất",
            "áp lực",
            "rủi ro",
            "nợ nhóm 5",
            "chi phí đầu vào",
            "lỗ lũy kế",
            "lai suat",
            "no xau",
            "chi phi",
        ],
    ),
];

/// The Vietnamese and English lexicons with their modifiers.
#[derive(Debug, Clone)]
pub struct Lexicon {
    en: Dict,
    vi: Dict,
}

impl Lexicon {
    /// The lexicons shipped in this crate (`data/lexicon`).
    pub fn embedded() -> Result<Lexicon, Error> {
        Lexicon::parse(
            include_str!("../data/lexicon/en.tsv"),
            include_str!("../data/lexicon/vi.tsv"),
            include_str!("../data/lexicon/modifiers.tsv"),
        )
    }

    /// Lexicons from their files' text: `term<TAB>valence` per language and
    /// `lang<TAB>term<TAB>kind<TAB>weight` for the modifiers, each with a header line.
    pub fn parse(en: &str, vi: &str, modifiers: &str) -> Result<Lexicon, Error> {
        let mut lexicon = Lexicon {
            en: Dict::default(),
            vi: Dict::default(),
        };
        for (file, text, lang) in [("en.tsv", en, Lang::En), ("vi.tsv", vi, Lang::Vi)] {
            for (line, fields) in rows(file, text, 2)? {
                let bad = |problem: String| Error {
                    file,
                    line,
                    problem,
                };
                let valence: f64 = fields[1]
                    .parse()
                    .map_err(|_| bad(format!("valence {:?} is not a number", fields[1])))?;
                if !(-4.0..=4.0).contains(&valence) {
                    return Err(bad(format!("valence {valence} is outside −4 … 4")));
                }
                lexicon.dict_mut(lang).entry(fields[0]).valence = Some(valence);
            }
        }
        for (line, fields) in rows("modifiers.tsv", modifiers, 4)? {
            let bad = |problem: String| Error {
                file: "modifiers.tsv",
                line,
                problem,
            };
            let lang = match fields[0] {
                "en" => Lang::En,
                "vi" => Lang::Vi,
                other => return Err(bad(format!("language {other:?} is not en or vi"))),
            };
            let weight: f64 = fields[3]
                .parse()
                .map_err(|_| bad(format!("weight {:?} is not a number", fields[3])))?;
            let modifier = match fields[2] {
                "negate" => Modifier::Negate,
                "contrast" => Modifier::Contrast,
                "boost" | "dampen" if (-0.9..=2.0).contains(&weight) => Modifier::Scale(weight),
                "boost" | "dampen" => {
                    return Err(bad(format!("weight {weight} is outside −0.9 … 2")));
                }
                other => {
                    return Err(bad(format!(
                        "kind {other:?} is not negate, boost, dampen or contrast"
                    )));
                }
            };
            lexicon.dict_mut(lang).entry(fields[1]).modifier = Some(modifier);
        }
        for (lang, terms) in UP {
            for term in *terms {
                lexicon.dict_mut(*lang).entry(term).direction = 1;
            }
        }
        for (lang, terms) in DOWN {
            for term in *terms {
                lexicon.dict_mut(*lang).entry(term).direction = -1;
            }
        }
        for (lang, terms) in CONCESSIONS {
            for term in *terms {
                lexicon.dict_mut(*lang).entry(term).modifier = Some(Modifier::Concession);
            }
        }
        for (lang, terms) in BURDENS {
            for term in *terms {
                lexicon.dict_mut(*lang).entry(term).burden = true;
            }
        }
        Ok(lexicon)
    }

    fn dict_mut(&mut self, lang: Lang) -> &mut Dict {
        match lang {
            Lang::Vi => &mut self.vi,
            Lang::En | Lang::Other => &mut self.en,
        }
    }

    fn dict(&self, lang: Lang) -> &Dict {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En | Lang::Other => &self.en,
        }
    }

    /// How many words of each lexicon: (English, Vietnamese) sentiment words.
    pub fn sizes(&self) -> (usize, usize) {
        let count = |d: &Dict| d.entries.values().filter(|e| e.valence.is_some()).count();
        (count(&self.en), count(&self.vi))
    }

    /// Cuts `text` into the lexicon's words of `lang` by longest match (Vietnamese word
    /// segmentation by maximal matching); words not in the lexicon stay one token each.
    /// Clause ends are `.` and `,` tokens.
    pub fn segment(&self, text: &str, lang: Lang) -> Vec<String> {
        let dict = self.dict(lang);
        cut(dict, &fold::tokens(text), lang)
            .into_iter()
            .map(|u| u.text)
            .collect()
    }

    /// The sentiment of `text` in `lang` (`Other` reads it as English).
    pub fn score(&self, text: &str, lang: Lang) -> Score {
        self.score_parts(&[(text, 1.0)], lang)
    }

    /// The sentiment of a text made of parts with weights (a headline counting twice its
    /// article: `[(title, 2.0), (body, 1.0)]`).
    pub fn score_parts(&self, parts: &[(&str, f64)], lang: Lang) -> Score {
        let dict = self.dict(lang);
        let mut hits = Vec::new();
        for &(text, weight) in parts {
            let units = cut(dict, &fold::tokens(text), lang);
            for (term, valence) in valences(&units, lang) {
                hits.push(Hit {
                    term,
                    valence: valence * weight,
                });
            }
        }
        let sum: f64 = hits.iter().map(|h| h.valence).sum();
        let positive: f64 = hits.iter().map(|h| h.valence.max(0.0)).sum();
        let negative: f64 = hits.iter().map(|h| (-h.valence).max(0.0)).sum();
        let compound = sum / (sum * sum + ALPHA).sqrt();
        Score {
            compound,
            positive,
            negative,
            intensity: 1.0 - (-(positive + negative) / 4.0).exp(),
            label: Label::of(compound, NEUTRAL_BAND),
            lang,
            hits,
        }
    }
}

/// The data rows of a TSV file with a header, each with `width` fields.
fn rows<'a>(
    file: &'static str,
    text: &'a str,
    width: usize,
) -> Result<Vec<(usize, Vec<&'a str>)>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if fields.len() != width || fields[..width - 1].iter().any(|f| f.is_empty()) {
            return Err(Error {
                file,
                line: i + 1,
                problem: format!("expected {width} tab-separated fields"),
            });
        }
        out.push((i + 1, fields));
    }
    Ok(out)
}

impl Dict {
    fn entry(&mut self, term: &str) -> &mut Entry {
        let term = fold::normalise(term);
        self.longest = self.longest.max(term.split(' ').count());
        self.entries.entry(term).or_default()
    }

    /// The entry of a word, or of an English word's stem (`plunged` → `plunge`).
    fn find(&self, word: &str, lang: Lang) -> Option<(&str, Entry)> {
        if let Some((k, e)) = self.entries.get_key_value(word) {
            return Some((k.as_str(), *e));
        }
        if lang == Lang::Vi || word.contains(' ') {
            return None;
        }
        stems(word).into_iter().find_map(|s| {
            self.entries
                .get_key_value(s.as_str())
                .map(|(k, e)| (k.as_str(), *e))
        })
    }
}

/// Candidate stems of an inflected English word.
fn stems(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    for suffix in ["ing", "ed", "es", "s", "d", "ly"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.len() >= 3
        {
            out.push(stem.to_owned());
            out.push(format!("{stem}e"));
            // doubled consonants: slipped → slip
            let b = stem.as_bytes();
            if b.len() >= 4 && b[b.len() - 1] == b[b.len() - 2] {
                out.push(stem[..stem.len() - 1].to_owned());
            }
            if let Some(y) = stem.strip_suffix('i') {
                out.push(format!("{y}y"));
            }
        }
    }
    out
}

/// A word or phrase of the text with what the lexicon says of it.
#[derive(Debug, Clone)]
struct Unit {
    text: String,
    entry: Entry,
    /// `,` or `.`: clauses end here.
    clause_end: bool,
}

/// Longest-match segmentation of `tokens` against `dict`.
fn cut(dict: &Dict, tokens: &[String], lang: Lang) -> Vec<Unit> {
    let mut units = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "," || tokens[i] == "." {
            units.push(Unit {
                text: tokens[i].clone(),
                entry: Entry::default(),
                clause_end: true,
            });
            i += 1;
            continue;
        }
        let mut matched = None;
        let longest = dict.longest.min(tokens.len() - i);
        for n in (1..=longest).rev() {
            let words = &tokens[i..i + n];
            if words.iter().any(|w| w == "," || w == ".") {
                continue;
            }
            let phrase = words.join(" ");
            if let Some((term, entry)) = dict.find(&phrase, lang) {
                matched = Some((n, term.to_owned(), entry));
                break;
            }
        }
        let (n, text, entry) = matched.unwrap_or_else(|| (1, tokens[i].clone(), Entry::default()));
        units.push(Unit {
            text,
            entry,
            clause_end: false,
        });
        i += n;
    }
    units
}

/// The contributions of the sentiment words of `units`.
fn valences(units: &[Unit], lang: Lang) -> Vec<(String, f64)> {
    // Boosters reach three words back in English; Vietnamese puts them after the word too.
    let (before, after) = match lang {
        Lang::Vi => (2usize, 2usize),
        Lang::En | Lang::Other => (3, 0),
    };
    let same_clause = |a: usize, b: usize| {
        let (lo, hi) = (a.min(b), a.max(b));
        !units[lo..=hi].iter().any(|u| u.clause_end)
    };
    let sentiment_near = |i: usize| {
        (i.saturating_sub(after)..(i + before + 1).min(units.len()))
            .any(|j| j != i && units[j].entry.valence.is_some() && same_clause(i, j))
    };
    // A modifier next to a sentiment word acts as a modifier, otherwise as a word of its own.
    let acts_as_modifier: Vec<bool> = (0..units.len())
        .map(|i| {
            units[i].entry.modifier.is_some()
                && (units[i].entry.valence.is_none() || sentiment_near(i))
        })
        .collect();
    // Whether the direction word at `d` says what happens to the burden at `b`: the burden
    // comes up to three words before (`losses narrow`, `lãi suất liên ngân hàng tăng`), or up
    // to two after (`rising costs`, `thu hẹp lỗ`, `cuts policy rates`).
    let moves = |b: usize, d: usize| {
        let ahead = b < d && d - b <= 3;
        let behind = d < b && b - d <= 2;
        let (lo, hi) = (b.min(d), b.max(d));
        let turn = units[lo..=hi].iter().any(|u| {
            matches!(
                u.entry.modifier,
                Some(Modifier::Contrast | Modifier::Concession)
            )
        });
        (ahead || behind) && same_clause(b, d) && !turn
    };
    let contrast = (0..units.len())
        .rev()
        .find(|&i| acts_as_modifier[i] && units[i].entry.modifier == Some(Modifier::Contrast));
    let mut out = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        if acts_as_modifier[i] {
            continue;
        }
        let entry = unit.entry;
        let mut v = match entry.valence {
            Some(v) => v,
            None if entry.direction != 0 => 0.0,
            None => continue,
        };
        // A direction next to a burden counts for the burden (`costs rise`, `lỗ thu hẹp`).
        if entry.direction != 0 {
            let burden = (i.saturating_sub(3)..(i + 3).min(units.len()))
                .find(|&j| units[j].entry.burden && moves(j, i));
            // (the burden's own valence is left out below: this counts for it)
            if burden.is_some() {
                v = -f64::from(entry.direction) * v.abs().max(1.5);
            }
        } else if entry.burden {
            let moved = (i.saturating_sub(2)..(i + 4).min(units.len()))
                .any(|j| units[j].entry.direction != 0 && moves(i, j));
            if moved {
                continue;
            }
        }
        if v == 0.0 {
            continue;
        }
        let mut scale = 1.0;
        let mut negated = false;
        let lo = i.saturating_sub(before.max(NEGATION_REACH));
        let hi = (i + after + 1).min(units.len());
        for j in lo..hi {
            if j == i || !acts_as_modifier[j] || !same_clause(i, j) {
                continue;
            }
            match units[j].entry.modifier {
                Some(Modifier::Scale(w))
                    if (j < i && i - j <= before) || (j > i && j - i <= after) =>
                {
                    let distance = i.abs_diff(j);
                    scale += w * (1.0 - 0.05 * (distance as f64 - 1.0));
                }
                Some(Modifier::Negate) if j < i && i - j <= NEGATION_REACH => negated = !negated,
                Some(
                    Modifier::Scale(_)
                    | Modifier::Negate
                    | Modifier::Contrast
                    | Modifier::Concession,
                )
                | None => {}
            }
        }
        v *= f64::max(scale, 0.1);
        if negated {
            v *= NEGATION;
        }
        if let Some(c) = contrast {
            v *= if i < c { 0.5 } else { 1.5 };
        }
        let conceded = (0..i)
            .rev()
            .take_while(|&j| !units[j].clause_end)
            .any(|j| acts_as_modifier[j] && units[j].entry.modifier == Some(Modifier::Concession));
        if conceded {
            v *= 0.5;
        }
        out.push((unit.text.clone(), v));
    }
    out
}

#[cfg(test)]
mod tests;
