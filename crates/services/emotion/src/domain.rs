//! Types and rules: what an incoming item is, what became of it, and the time-decayed sentiment
//! series.

use std::collections::{HashMap, VecDeque};

use text::Lang;
use time::{Duration, OffsetDateTime};

/// The subject of the market-wide series.
pub const MARKET: &str = "MARKET";

/// Longest id at the source kept, in bytes.
pub const MAX_GUID_BYTES: usize = 512;
/// Longest URL kept, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest author kept, in characters.
pub const MAX_AUTHOR_CHARS: usize = 200;
/// How far in the future a published time may be before it is taken as the collection time.
pub const FUTURE_SLACK: Duration = Duration::minutes(5);

/// An item from a feed or an integration, before the service reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Incoming {
    /// Its id at the source; empty: one is made from the text.
    pub guid: String,
    /// Title, plain text.
    pub title: String,
    /// Body, plain text.
    pub body: String,
    /// Link.
    pub url: String,
    /// When published; `None`: when collected.
    pub published: Option<OffsetDateTime>,
    /// The language the source declares.
    pub lang: Option<Lang>,
    /// Author.
    pub author: String,
    /// Tickers the source tags it with (RSS `<category domain="symbol">`).
    pub tagged: Vec<String>,
}

/// What became of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Stored, scored and published.
    New,
    /// Stored as a near-duplicate of an earlier item; not counted again in the series.
    Duplicate,
    /// Seen before from this source (same id): nothing done.
    Known,
    /// Not stored: nothing readable in it.
    Rejected,
}

impl Status {
    /// `new`, `duplicate`, `known`, `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Duplicate => "duplicate",
            Status::Known => "known",
            Status::Rejected => "rejected",
        }
    }
}

/// What became of one item, with its id at the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Its id at the source.
    pub guid: String,
    /// What became of it.
    pub status: Status,
    /// Its id here (empty when rejected).
    pub item_id: String,
    /// Why it was rejected, or what it duplicates.
    pub detail: String,
}

/// Whether `name` is a valid source name: 1 … 64 of `a-z`, `0-9`, `.`, `_`, `-`.
pub fn valid_source(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// The weight an item of age `age` keeps with a half-life of `half_life_hours`.
pub fn decay(age: Duration, half_life_hours: f64) -> f64 {
    let hours = age.as_seconds_f64() / 3600.0;
    (-std::f64::consts::LN_2 * hours / half_life_hours).exp()
}

/// One point of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// A ticker or [`MARKET`].
    pub subject: String,
    /// When.
    pub at: OffsetDateTime,
    /// Decayed mean compound score, −1 … +1 (0 with no items).
    pub value: f64,
    /// Total decayed weight of the items.
    pub weight: f64,
    /// Items in the 24 hours up to `at`.
    pub items_24h: u32,
    /// The last item counted.
    pub last_item: String,
}

#[derive(Debug, Clone)]
struct Decayed {
    /// Σ weight × compound and Σ weight, both as of `at`.
    sum: f64,
    weight: f64,
    at: OffsetDateTime,
    last_item: String,
    /// Publication times of the items of the last 24 hours (to `at`).
    recent: VecDeque<OffsetDateTime>,
}

/// The time-decayed sentiment of every subject: each item's compound score counts with weight
/// `2^(−age / half-life)`; the value is the weighted mean.
#[derive(Debug, Clone)]
pub struct Series {
    half_life_hours: f64,
    subjects: HashMap<String, Decayed>,
}

impl Series {
    /// Empty series with this half-life.
    pub fn new(half_life_hours: f64) -> Self {
        Series {
            half_life_hours,
            subjects: HashMap::new(),
        }
    }

    /// The half-life, hours.
    pub fn half_life_hours(&self) -> f64 {
        self.half_life_hours
    }

    /// Counts an item published `at` with `compound` for `subject`; the subject's point after
    /// it (at the later of `at` and the subject's last item).
    pub fn add(&mut self, subject: &str, at: OffsetDateTime, compound: f64, item: &str) -> Point {
        let h = self.half_life_hours;
        let d = self
            .subjects
            .entry(subject.to_owned())
            .or_insert_with(|| Decayed {
                sum: 0.0,
                weight: 0.0,
                at,
                last_item: String::new(),
                recent: VecDeque::new(),
            });
        if at >= d.at {
            let keep = decay(at - d.at, h);
            d.sum *= keep;
            d.weight *= keep;
            d.sum += compound;
            d.weight += 1.0;
            d.at = at;
        } else {
            // an item published before the last one counted (feeds are not in order)
            let w = decay(d.at - at, h);
            d.sum += w * compound;
            d.weight += w;
        }
        d.last_item = item.to_owned();
        let pos = d.recent.partition_point(|t| *t <= at);
        d.recent.insert(pos, at);
        let horizon = d.at - Duration::hours(24);
        while d.recent.front().is_some_and(|t| *t <= horizon) {
            d.recent.pop_front();
        }
        point(subject, d, d.at, h)
    }

    /// The subject's point now (`None` when no item ever mentioned it).
    pub fn get(&self, subject: &str, now: OffsetDateTime) -> Option<Point> {
        let d = self.subjects.get(subject)?;
        Some(point(subject, d, now.max(d.at), self.half_life_hours))
    }

    /// Subjects known, with how many items of the last 24 hours each has (as of `now`).
    pub fn subjects(&self, now: OffsetDateTime) -> Vec<Point> {
        let mut out: Vec<Point> = self
            .subjects
            .iter()
            .map(|(s, d)| point(s, d, now.max(d.at), self.half_life_hours))
            .collect();
        out.sort_by(|a, b| a.subject.cmp(&b.subject));
        out
    }
}

fn point(subject: &str, d: &Decayed, at: OffsetDateTime, h: f64) -> Point {
    let keep = decay(at - d.at, h);
    let horizon = at - Duration::hours(24);
    Point {
        subject: subject.to_owned(),
        at,
        value: if d.weight > 0.0 {
            d.sum / d.weight
        } else {
            0.0
        },
        weight: d.weight * keep,
        items_24h: u32::try_from(d.recent.iter().filter(|t| **t > horizon).count())
            .unwrap_or(u32::MAX),
        last_item: d.last_item.clone(),
    }
}

/// The series of `items` (publication time, compound; any order) at each step from `from` to
/// `to`: what [`Series`] would have said then.
pub fn history(
    items: &[(OffsetDateTime, f64)],
    from: OffsetDateTime,
    to: OffsetDateTime,
    step: Duration,
    half_life_hours: f64,
) -> Vec<(OffsetDateTime, f64, f64)> {
    let mut out = Vec::new();
    if step <= Duration::ZERO {
        return out;
    }
    let mut at = from;
    while at <= to {
        let (mut sum, mut weight) = (0.0, 0.0);
        for (t, c) in items.iter().filter(|(t, _)| *t <= at) {
            let w = decay(at - *t, half_life_hours);
            sum += w * c;
            weight += w;
        }
        out.push((at, if weight > 0.0 { sum / weight } else { 0.0 }, weight));
        at += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_item_weighs_half_after_one_half_life() {
        assert!((decay(Duration::hours(6), 6.0) - 0.5).abs() < 1e-12);
        assert!((decay(Duration::ZERO, 6.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_series_is_the_decayed_mean() {
        let mut s = Series::new(6.0);
        let t0 = datetime!(2026-12-01 01:00 UTC);
        let p = s.add("HPG", t0, 0.8, "a");
        assert_eq!((p.value, p.weight, p.items_24h), (0.8, 1.0, 1));
        // six hours later the first weighs half: (0.5·0.8 + 1·(−0.4)) / 1.5 = 0
        let p = s.add("HPG", t0 + Duration::hours(6), -0.4, "b");
        assert!(p.value.abs() < 1e-12, "{p:?}");
        assert!((p.weight - 1.5).abs() < 1e-12);
        assert_eq!(p.last_item, "b");
        // the value holds as time passes; the weight decays
        let later = s.get("HPG", t0 + Duration::hours(12)).unwrap();
        assert!((later.weight - 0.75).abs() < 1e-12);
        assert!(s.get("FPT", t0).is_none());
    }

    #[test]
    fn an_item_out_of_order_counts_with_its_age() {
        let t0 = datetime!(2026-12-01 01:00 UTC);
        let mut in_order = Series::new(6.0);
        in_order.add("X", t0, 1.0, "a");
        let a = in_order.add("X", t0 + Duration::hours(3), -1.0, "b");
        let mut reversed = Series::new(6.0);
        reversed.add("X", t0 + Duration::hours(3), -1.0, "b");
        let b = reversed.add("X", t0, 1.0, "a");
        assert!((a.value - b.value).abs() < 1e-12);
        assert!((a.weight - b.weight).abs() < 1e-12);
    }

    #[test]
    fn only_the_last_day_counts_in_items_24h() {
        let t0 = datetime!(2026-12-01 01:00 UTC);
        let mut s = Series::new(6.0);
        s.add(MARKET, t0, 0.1, "a");
        s.add(MARKET, t0 + Duration::hours(20), 0.1, "b");
        assert_eq!(
            s.get(MARKET, t0 + Duration::hours(20)).unwrap().items_24h,
            2
        );
        assert_eq!(
            s.get(MARKET, t0 + Duration::hours(30)).unwrap().items_24h,
            1
        );
        assert_eq!(s.subjects(t0).len(), 1);
    }

    #[test]
    fn history_agrees_with_the_series() {
        let t0 = datetime!(2026-12-01 01:00 UTC);
        let items = [(t0, 0.8), (t0 + Duration::hours(6), -0.4)];
        let mut s = Series::new(6.0);
        for (i, (t, c)) in items.iter().enumerate() {
            s.add("X", *t, *c, &i.to_string());
        }
        let h = history(
            &items,
            t0,
            t0 + Duration::hours(12),
            Duration::hours(6),
            6.0,
        );
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].1, 0.8);
        let now = s.get("X", t0 + Duration::hours(12)).unwrap();
        assert!((h[2].1 - now.value).abs() < 1e-12 && (h[2].2 - now.weight).abs() < 1e-12);
    }

    #[test]
    fn source_names_are_checked() {
        assert!(valid_source("fcsim-vi"));
        assert!(valid_source("forum.f319_posts"));
        assert!(!valid_source(""));
        assert!(!valid_source("Has Spaces"));
        assert!(!valid_source(&"a".repeat(65)));
    }
}
