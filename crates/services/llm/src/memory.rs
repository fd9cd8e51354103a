//! Long-term memory: facts learnt from news and from what people say, kept per user and per
//! security, and changed the way a careful note-taker changes notes.
//!
//! A fact is a sentence with its source. News gives each security it mentions the item's
//! headline (the market, when it names none); a conversation gives its speaker the
//! first-person statements they make ("I hold 1,000 FPT", "tôi đang nắm 500 VNM") — never
//! questions, never what the assistant said. Each new fact is compared with the subject's
//! memories by the cosine of their embeddings ([`decide`]):
//!
//! - the same fact again (nearly the same meaning, the same numbers, tickers and direction):
//!   **keep** the memory, adding the new source to its citations;
//! - the same subject matter with other numbers or the other direction ("profit rose 12%" after
//!   "profit rose 9%", "profit fell" after "profit rose" — the direction is the sentiment
//!   lexicons' label): **update** the memory to the newer statement;
//! - a retraction ("I no longer hold FPT", "tôi đã bán hết FPT") of a related memory, naming
//!   the securities it names if it names any: **delete** that memory;
//! - anything else: **add** a memory.
//!
//! Every change is audited with what was there before, what is there after, and why. The
//! thresholds were measured with MiniLM-L6 on the pairs of `tests/api/memory.rs`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use text::{Label, Lang, Lexicon};
use time::OffsetDateTime;

/// Cosine from which two statements are the same fact (kept, or updated when their numbers,
/// tickers or direction differ).
pub const SAME: f32 = 0.86;
/// Cosine from which a retraction retracts a memory.
pub const RELATED: f32 = 0.55;
/// Most sources a memory cites (the newest).
pub const MAX_SOURCES: usize = 20;
/// Longest fact, in characters.
pub const MAX_FACT_CHARS: usize = 400;

/// Whose a memory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A person's own facts (subject: their user id).
    User,
    /// Facts about a security (subject: its ticker; empty: the market).
    Symbol,
}

impl Scope {
    /// `user` or `symbol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Symbol => "symbol",
        }
    }

    /// The scope named `s`.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "user" => Some(Scope::User),
            "symbol" => Some(Scope::Symbol),
            _ => None,
        }
    }
}

/// Where a fact was learnt.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cite {
    /// `news`, `conversation` or `note` (said to the memory directly).
    pub kind: String,
    /// The news item's id; empty for a conversation.
    #[serde(default)]
    pub id: String,
    /// The headline, or who said it.
    #[serde(default)]
    pub title: String,
    /// Link to the item.
    #[serde(default)]
    pub url: String,
    /// When it was published or said (Unix seconds).
    pub at: i64,
}

/// A statement to remember.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// Whose.
    pub scope: Scope,
    /// The user id or the ticker.
    pub subject: String,
    /// The statement.
    pub text: String,
    /// Where it was learnt.
    pub cite: Cite,
}

/// What to do with a new fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Remember it.
    Add,
    /// It is memory `id` again: cite the new source.
    Keep(String),
    /// It is a newer version of memory `id`: replace its text.
    Update(String),
    /// It retracts memory `id`: forget it.
    Delete(String),
}

impl Action {
    /// `add`, `keep`, `update` or `delete`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Keep(_) => "keep",
            Action::Update(_) => "update",
            Action::Delete(_) => "delete",
        }
    }
}

/// A memory the new fact is compared with.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its text.
    pub text: &'a str,
    /// Its embedding (unit length).
    pub vector: &'a [f32],
}

/// Cosine of two unit vectors (0 when their lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// What to do with a new statement `text` (embedding `vector`) given the subject's memories.
pub fn decide(text: &str, vector: &[f32], known: &[Known<'_>]) -> Action {
    let best = known
        .iter()
        .map(|k| (k, cosine(vector, k.vector)))
        .filter(|(k, _)| !k.text.is_empty())
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((best, similarity)) = best else {
        return Action::Add;
    };
    let (new_tickers, old_tickers) = (tickers(text), tickers(best.text));
    let same_tickers = new_tickers == old_tickers || new_tickers.is_empty();
    // forgetting is the costly mistake: a retraction of a memory naming securities must name
    // one of them ("I no longer hold FPT", not "I no longer hold banks")
    let names_them = old_tickers.is_empty() || !old_tickers.is_disjoint(&new_tickers);
    if retraction(text) && !retraction(best.text) && similarity >= RELATED && names_them {
        return Action::Delete(best.id.to_owned());
    }
    if similarity < SAME || !same_tickers {
        return Action::Add;
    }
    if numbers(text) == numbers(best.text) && direction(text) == direction(best.text) {
        Action::Keep(best.id.to_owned())
    } else {
        Action::Update(best.id.to_owned())
    }
}

/// The tickers a statement names: words of 3 to 10 capitals and digits starting with a capital
/// (`FPT`, `VN30F2412`).
pub fn tickers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            (3..=10).contains(&w.len())
                && w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
}

const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];

/// The numbers in a statement, as written without separators (`1,000` and `1.000` are `1000`;
/// `12.5` stays `12.5` when what follows the point is not three digits), and English number
/// words to twelve as digits.
pub fn numbers(text: &str) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter_map(|w| {
            NUMBER_WORDS
                .iter()
                .position(|n| n.eq_ignore_ascii_case(w))
                .map(|i| i.to_string())
        })
        .collect();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i <= chars.len() {
        let c = chars.get(i).copied();
        match c {
            Some(d) if d.is_ascii_digit() => current.push(d),
            Some('.' | ',') if !current.is_empty() => {
                let run = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if run == 3 {
                    // a thousands separator
                } else if run > 0 {
                    current.push('.');
                } else {
                    out.insert(std::mem::take(&mut current));
                }
            }
            _ => {
                if !current.is_empty() {
                    out.insert(std::mem::take(&mut current));
                }
            }
        }
        i += 1;
    }
    out
}

/// +1 when a statement reads as good news or a rise, −1 as bad news or a fall, 0 neither: the
/// label the emotion service's lexicons give it (`text::sentiment`, both languages, negation
/// and burdens handled).
pub fn direction(statement: &str) -> i8 {
    static LEXICON: OnceLock<Option<Lexicon>> = OnceLock::new();
    let Some(lexicon) = LEXICON.get_or_init(|| Lexicon::embedded().ok()).as_ref() else {
        return 0;
    };
    let lang = match text::lang::detect(statement) {
        Lang::Vi => Lang::Vi,
        Lang::En | Lang::Other => Lang::En,
    };
    match lexicon.score(statement, lang).label {
        Label::Positive => 1,
        Label::Negative => -1,
        Label::Neutral => 0,
    }
}

const RETRACTIONS: &[&str] = &[
    "no longer",
    "not anymore",
    "any more",
    "anymore",
    "sold all",
    "sold my",
    "sold out",
    "closed my",
    "exited",
    "stopped",
    "don't hold",
    "do not hold",
    "don't own",
    "do not own",
    "no position",
    "forget",
    "không còn",
    "đã bán hết",
    "bán hết",
    "đã bán",
    "đã thoát",
    "cắt lỗ hết",
    "không nắm",
    "không giữ",
    "thôi không",
    "bỏ qua",
];

/// Whether a statement takes something back ("I no longer hold FPT", "tôi đã bán hết FPT").
pub fn retraction(text: &str) -> bool {
    let lower = text.to_lowercase();
    RETRACTIONS.iter().any(|r| lower.contains(r))
}

/// The facts in a news item: its headline for each security it mentions, or for the market
/// (subject `""`) when it names none. A near-duplicate (`duplicate_of` set) gives its
/// original's facts again, so they are kept with one more citation.
pub fn facts_of_news(item: &proto::emotion::v1::NewsItem) -> Vec<Fact> {
    let text = clip(item.title.trim());
    if text.chars().count() < 8 {
        return Vec::new();
    }
    let at = item.published.as_ref().map_or(0, |t| t.seconds);
    let cite = Cite {
        kind: "news".to_owned(),
        id: item.id.clone(),
        title: item.title.trim().to_owned(),
        url: item.url.clone(),
        at,
    };
    let subjects: Vec<String> = if item.symbols.is_empty() {
        vec![String::new()]
    } else {
        item.symbols.clone()
    };
    subjects
        .into_iter()
        .map(|subject| Fact {
            scope: Scope::Symbol,
            subject,
            text: text.clone(),
            cite: cite.clone(),
        })
        .collect()
}

const FIRST_PERSON: &[&str] = &[
    "i", "i'm", "im", "i've", "i'd", "i'll", "my", "me", "mine", "we", "we're", "our", "us", "tôi",
    "mình", "tao", "tớ",
];
const QUESTION_STARTS: &[&str] = &[
    "what",
    "why",
    "how",
    "when",
    "where",
    "which",
    "who",
    "should",
    "could",
    "would",
    "can",
    "do",
    "does",
    "did",
    "is",
    "are",
    "will",
    "tell",
    "show",
    "explain",
    "give",
    "list",
    "please",
    "có nên",
    "tại sao",
    "vì sao",
    "bao nhiêu",
    "khi nào",
    "thế nào",
    "như thế nào",
    "hãy",
    "cho tôi",
    "giải thích",
];

/// The statements a person makes about themselves in `said` (one message of theirs): its
/// sentences that speak in the first person and are neither questions nor requests.
pub fn facts_of_message(user: &str, said: &str, at: OffsetDateTime) -> Vec<Fact> {
    let mut out = Vec::new();
    for sentence in sentences(said) {
        let lower = sentence.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() < 3 || sentence.ends_with('?') {
            continue;
        }
        if QUESTION_STARTS
            .iter()
            .any(|q| lower.starts_with(q) && lower[q.len()..].starts_with([' ', ',']))
        {
            continue;
        }
        if !words.iter().any(|w| FIRST_PERSON.contains(w)) {
            continue;
        }
        out.push(Fact {
            scope: Scope::User,
            subject: user.to_owned(),
            text: clip(&sentence),
            cite: Cite {
                kind: "conversation".to_owned(),
                id: String::new(),
                title: user.to_owned(),
                url: String::new(),
                at: at.unix_timestamp(),
            },
        });
    }
    out
}

/// The sentences of `text`: split after `.`, `!`, `?`, `;` and at line ends, trimmed, with
/// their closing `?` kept (so questions can be told).
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let ends = match c {
            '\n' => true,
            '!' | '?' | ';' => true,
            // not the point of a number (`12.5`) or of an abbreviation run (`e.g.`)
            '.' => next.is_none_or(char::is_whitespace),
            _ => false,
        };
        if c != '\n' {
            current.push(c);
        }
        if ends {
            let s = current
                .trim()
                .trim_end_matches(['.', '!', ';'])
                .trim()
                .to_owned();
            if !s.is_empty() {
                out.push(s);
            }
            current.clear();
        }
    }
    let s = current.trim().trim_end_matches(['.', '!', ';']).trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    out
}

/// `text` cut to [`MAX_FACT_CHARS`].
fn clip(text: &str) -> String {
    text.chars().take(MAX_FACT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known<'a>(id: &'a str, text: &'a str, v: &'a [f32]) -> Known<'a> {
        Known {
            id,
            text,
            vector: v,
        }
    }

    #[test]
    fn numbers_read_separators_the_vietnamese_and_english_way() {
        let n = numbers("Tôi nắm 1.000 cổ FPT giá 120,500; lãi 12.5% (2 lần)");
        let want: BTreeSet<String> = ["1000", "120500", "12.5", "2"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(n, want);
        assert_eq!(numbers("I hold 1,000 FPT."), numbers("I hold 1000 FPT"));
    }

    #[test]
    fn tickers_are_capital_words() {
        let t = tickers("I hold FPT and VN30F2412, not Vinamilk; I am OK");
        assert_eq!(
            t.into_iter().collect::<Vec<_>>(),
            vec!["FPT".to_owned(), "VN30F2412".to_owned()]
        );
    }

    #[test]
    fn the_action_follows_similarity_numbers_direction_and_retraction() {
        let a = [1.0, 0.0];
        let near = [0.95, 0.312_25];
        let far = [0.0, 1.0];
        let mems = [known("m1", "I hold 1000 FPT shares", &a)];
        assert_eq!(
            decide("I hold 1000 FPT shares", &near, &mems),
            Action::Keep("m1".into())
        );
        assert_eq!(
            decide("I hold 2000 FPT shares", &near, &mems),
            Action::Update("m1".into())
        );
        assert_eq!(decide("I hold 1000 VNM shares", &near, &mems), Action::Add);
        assert_eq!(decide("My target is 150", &far, &mems), Action::Add);
        assert_eq!(
            decide("I no longer hold FPT", &[0.7, 0.714_14], &mems),
            Action::Delete("m1".into())
        );
        assert_eq!(decide("I no longer hold FPT", &far, &mems), Action::Add);
        let news = [known("n1", "FPT profit rises 20%", &a)];
        assert_eq!(
            decide("FPT profit falls 20%", &near, &news),
            Action::Update("n1".into())
        );
        assert_eq!(decide("anything", &a, &[]), Action::Add);
    }

    #[test]
    fn a_person_states_facts_in_the_first_person_and_not_in_questions() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let said = "I hold 1,000 FPT at 118,000. What do you think of FPT? My horizon is two \
                    years! Should I buy more? The market is calm. Tôi không thích rủi ro cao.";
        let facts: Vec<String> = facts_of_message("u1", said, at)
            .into_iter()
            .map(|f| f.text)
            .collect();
        assert_eq!(
            facts,
            vec![
                "I hold 1,000 FPT at 118,000",
                "My horizon is two years",
                "Tôi không thích rủi ro cao",
            ]
        );
        assert!(facts_of_message("u1", "Tell me about my FPT position", at).is_empty());
        assert!(facts_of_message("u1", "hãy cho tôi biết về FPT", at).is_empty());
    }

    #[test]
    fn news_gives_each_mentioned_security_its_headline() {
        let item = proto::emotion::v1::NewsItem {
            id: "n1".into(),
            title: "FPT và VNM cùng tăng mạnh".into(),
            symbols: vec!["FPT".into(), "VNM".into()],
            ..Default::default()
        };
        let facts = facts_of_news(&item);
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[1].subject, "VNM");
        assert_eq!(facts[0].cite.id, "n1");
        let market = proto::emotion::v1::NewsItem {
            title: "VN-Index vượt 1.300 điểm".into(),
            ..Default::default()
        };
        assert_eq!(facts_of_news(&market)[0].subject, "");
    }

    #[test]
    fn retractions_in_both_languages() {
        assert!(retraction("I no longer hold FPT"));
        assert!(retraction("Tôi đã bán hết FPT"));
        assert!(!retraction("I hold FPT"));
        assert_eq!(direction("FPT profit rises"), 1);
        assert_eq!(direction("VNM giảm sàn"), -1);
    }
}
