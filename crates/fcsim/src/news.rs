//! The simulated market's news: Vietnamese and English headlines and short articles
//! generated from the market's own closes, so tests and demos can relate what the news says
//! to how prices move. Synthetic: no item is real news.
//!
//! Each trading day has:
//! - for the stocks whose close-to-close move is large for them (|r| ≥ 2.5 × their daily
//!   volatility, or a close at the ceiling or floor; at most 12, the largest
//!   |r / volatility| of the stocks that trade first, thinly traded ones after), a company
//!   event published before the open (07:30–08:45: earnings, contracts, ratings, dividends,
//!   probes, defaults, fires, export orders, …) whose polarity is the sign of that day's
//!   move, and an after-close item (15:05–15:30) with the real close and change;
//! - a market wrap at 15:15 with VN-Index's and VN30's points and change, breadth, and the
//!   turbulent regime when the generator is in it;
//! - three neutral procedural notices (meetings, record dates, appointments, listings) of
//!   stocks that trade and did not move.
//!
//! Every event is two items, one per language. Items are a pure function of the seed, the
//! day and the instrument (closes and bands only, never intraday tapes: a day of the default
//! universe takes about 1.5 ms); [`latest`] serves only what is published by the simulated now.
//! [`rss`] writes them as an RSS 2.0 feed (`news_api` serves it on the FC Data port).

mod rss;
mod stories;
mod text;

use market::calendar::VN_OFFSET;
use market::{InstrumentKind, TradingCalendar};
use time::{Date, Duration, OffsetDateTime};

use crate::rng::Rng;
use crate::tape::Generator;
use crate::universe::{Instrument, Liquidity};

pub use rss::{Channel, Error, page, rss};
use stories::Story;
use text::{Vars, billions, company, fixed, millions, signed, whole};

/// Items a feed holds unless asked otherwise.
pub const DEFAULT_LIMIT: usize = 50;
/// The most items one feed holds.
pub const MAX_LIMIT: usize = 500;
/// How many trading days [`latest`] walks back to fill a feed.
pub const LOOKBACK_DAYS: usize = 30;
/// Company events a day at most (the largest moves).
pub const MOVERS_PER_DAY: usize = 12;
/// A move is news from this many daily volatilities (or at the ceiling or floor).
pub const MOVE_THRESHOLD: f64 = 2.5;
/// Procedural notices a day.
pub const NOTICES_PER_DAY: usize = 3;
/// A market wrap is neutral when VN-Index moved less than this, in percent.
pub const WRAP_NEUTRAL_PCT: f64 = 0.3;

/// Every item's id starts with this.
const ID_PREFIX: &str = "fcsim-news-";
/// Keeps news draws apart from the market's own (same seed).
const SALT: u64 = 0x6E65_7773_4E45_5753;

/// The language of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Vietnamese.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Both, Vietnamese first.
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// `vi` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Reads `vi` or `en` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// What the generator meant an item to say about prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Bad news: the price falls (or fell).
    Negative,
    /// No direction.
    Neutral,
    /// Good news: the price rises (or rose).
    Positive,
}

impl Polarity {
    /// -1, 0 or +1.
    pub fn sign(self) -> i8 {
        match self {
            Polarity::Negative => -1,
            Polarity::Neutral => 0,
            Polarity::Positive => 1,
        }
    }

    /// `negative`, `neutral` or `positive` (the RSS category).
    pub fn label(self) -> &'static str {
        match self {
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
            Polarity::Positive => "positive",
        }
    }

    fn of(x: f64) -> Self {
        if x > 0.0 {
            Polarity::Positive
        } else if x < 0.0 {
            Polarity::Negative
        } else {
            Polarity::Neutral
        }
    }
}

/// What an item reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NewsKind {
    /// A company event published before the open of the day it moves the stock.
    Event,
    /// A stock's move, after the close.
    Move,
    /// The market wrap after the close.
    Wrap,
    /// A procedural announcement (meeting, record date, appointment, listing).
    Notice,
}

impl NewsKind {
    /// `event`, `move`, `wrap` or `notice` (in ids and the RSS).
    pub fn label(self) -> &'static str {
        match self {
            NewsKind::Event => "event",
            NewsKind::Move => "move",
            NewsKind::Wrap => "wrap",
            NewsKind::Notice => "notice",
        }
    }
}

/// One generated news item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsItem {
    /// Stable id: `fcsim-news-<date>-<symbol|market>-<kind>-<lang>`.
    pub id: String,
    /// When it is published, Vietnam time (UTC+7).
    pub published: OffsetDateTime,
    /// Its language.
    pub lang: Lang,
    /// What it reports.
    pub kind: NewsKind,
    /// Headline.
    pub title: String,
    /// A short article, 2–4 sentences with the numbers.
    pub summary: String,
    /// Tickers it is about (empty for market news).
    pub symbols: Vec<String>,
    /// What the generator meant it to say.
    pub polarity: Polarity,
}

/// Which items a feed wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsQuery {
    /// Only this language; both when `None`.
    pub lang: Option<Lang>,
    /// Only items about this ticker (any case).
    pub symbol: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

impl Default for NewsQuery {
    fn default() -> Self {
        Self {
            lang: None,
            symbol: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl NewsQuery {
    fn matches(&self, item: &NewsItem) -> bool {
        self.lang.is_none_or(|l| l == item.lang)
            && self.symbol.as_deref().is_none_or(|s| {
                item.symbols
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(s.trim()))
            })
    }
}

/// The newest `query.limit` items matching `query` published by `now`, newest first: today's
/// so far, then earlier trading days', at most [`LOOKBACK_DAYS`] back.
pub fn latest(generator: &Generator, now: OffsetDateTime, query: &NewsQuery) -> Vec<NewsItem> {
    let (today, _) = TradingCalendar::local(now);
    let end = generator.days().partition_point(|d| *d <= today);
    let mut found = Vec::new();
    for day in (0..end).rev().take(LOOKBACK_DAYS) {
        if found.len() >= query.limit {
            break;
        }
        found.extend(
            day_news(generator, day)
                .into_iter()
                .filter(|item| item.published <= now && query.matches(item)),
        );
    }
    found.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| b.id.cmp(&a.id)));
    found.truncate(query.limit);
    found
}

/// The item `id` if it is published by `now`.
pub fn find(generator: &Generator, id: &str, now: OffsetDateTime) -> Option<NewsItem> {
    let date = id.strip_prefix(ID_PREFIX)?.get(..10)?;
    let date = Date::parse(
        date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    let day = generator.day_index(date)?;
    day_news(generator, day)
        .into_iter()
        .find(|item| item.id == id && item.published <= now)
}

/// Every item of trading day `day` (an index into [`Generator::days`]), published or not,
/// in publication order; empty for a day the generator does not have.
pub fn day_news(generator: &Generator, day: usize) -> Vec<NewsItem> {
    let Some(&date) = generator.days().get(day) else {
        return Vec::new();
    };
    let ctx = Day {
        generator,
        day,
        date,
        stamp: u64::try_from(date.to_julian_day()).unwrap_or(0),
    };
    let moves = ctx.moves();
    let mut movers: Vec<&Move> = moves.iter().filter(|m| m.is_news()).collect();
    movers.sort_by(|a, b| {
        a.thin()
            .cmp(&b.thin())
            .then_with(|| b.z.abs().total_cmp(&a.z.abs()))
            .then_with(|| a.inst.symbol.cmp(&b.inst.symbol))
    });
    movers.truncate(MOVERS_PER_DAY);
    let mut items = Vec::new();
    for m in &movers {
        ctx.event(m, &mut items);
        ctx.mover(m, &mut items);
    }
    ctx.wrap(&moves, &mut items);
    ctx.notices(&moves, &movers, &mut items);
    items.sort_by(|a, b| a.published.cmp(&b.published).then_with(|| a.id.cmp(&b.id)));
    items
}

/// Random streams of a day, one per coordinate.
const STREAM_EVENT: u64 = 1;
const STREAM_MOVE: u64 = 2;
const STREAM_NOTICE: u64 = 3;
const STREAM_WRAP: u64 = 4;
const STREAM_PICK: u64 = 5;
/// The instrument coordinate of market-wide draws.
const MARKET: u64 = u64::MAX;

/// A stock's day, from closes and the band only.
#[derive(Debug, Clone, Copy)]
struct Move<'a> {
    i: usize,
    inst: &'a Instrument,
    previous: i64,
    close: i64,
    reference: i64,
    ceiling: i64,
    floor: i64,
    /// ln(close / previous close) in daily volatilities.
    z: f64,
}

impl Move<'_> {
    fn at_ceiling(&self) -> bool {
        self.close >= self.ceiling
    }

    fn at_floor(&self) -> bool {
        self.close <= self.floor
    }

    /// Change from the reference, in percent (what the exchange and FC Data's
    /// `PerPriceChange` show).
    fn pct(&self) -> f64 {
        (self.close - self.reference) as f64 / self.reference.max(1) as f64 * 100.0
    }

    /// Large for the stock, and the same direction from the previous close and from the
    /// reference (they differ on UPCoM, whose reference is the previous day's average).
    fn is_news(&self) -> bool {
        let from_close = (self.close - self.previous).signum();
        let from_reference = (self.close - self.reference).signum();
        from_close != 0
            && from_close == from_reference
            && (self.z.abs() >= MOVE_THRESHOLD || self.at_ceiling() || self.at_floor())
    }

    fn polarity(&self) -> Polarity {
        Polarity::of((self.close - self.previous) as f64)
    }

    /// A thinly traded stock (mostly UPCoM and HNX penny stocks, where one tick is several
    /// percent): its moves make the news only after those of stocks one can trade.
    fn thin(&self) -> bool {
        self.inst.liquidity == Liquidity::Illiquid
    }
}

/// A story's two items, before rendering.
struct Pair<'s> {
    subject: &'s str,
    kind: NewsKind,
    /// Publication times (seconds after local midnight), Vietnamese then English.
    times: [u64; 2],
    titles: [&'s str; 2],
    bodies: [&'s str; 2],
    vars: [Vars; 2],
    symbols: Vec<String>,
    polarity: Polarity,
}

struct Day<'a> {
    generator: &'a Generator,
    day: usize,
    date: Date,
    /// The date as a number: news draws are keyed by date, not by the day's position.
    stamp: u64,
}

impl<'a> Day<'a> {
    fn rng(&self, i: u64, stream: u64) -> Rng {
        Rng::new(self.generator.seed() ^ SALT, self.stamp, i, stream)
    }

    /// The day's moves of every stock (not funds, futures or warrants).
    fn moves(&self) -> Vec<Move<'a>> {
        let g = self.generator;
        g.universe()
            .instruments()
            .iter()
            .enumerate()
            .filter(|(_, x)| x.kind == InstrumentKind::Stock)
            .filter_map(|(i, inst)| {
                let limits = g.limits(i, self.day).ok()?;
                let previous = g.previous_close(i, self.day);
                let close = g.close(i, self.day);
                let r = (close.max(1) as f64 / previous.max(1) as f64).ln();
                Some(Move {
                    i,
                    inst,
                    previous,
                    close,
                    reference: limits.reference.units(),
                    ceiling: limits.ceiling.units(),
                    floor: limits.floor.units(),
                    z: r / inst.volatility.max(1e-4),
                })
            })
            .collect()
    }

    /// `date` at `secs` after local midnight, Vietnam time.
    fn at(&self, secs: u64) -> OffsetDateTime {
        let midnight = self.date.midnight().assume_offset(VN_OFFSET);
        midnight
            .checked_add(Duration::seconds(i64::try_from(secs).unwrap_or(0)))
            .unwrap_or(midnight)
    }

    fn id(&self, subject: &str, kind: NewsKind, lang: Lang) -> String {
        format!(
            "{ID_PREFIX}{}-{subject}-{}-{}",
            self.date,
            kind.label(),
            lang.code()
        )
    }

    /// The Vietnamese and the English item of one story.
    fn push(&self, items: &mut Vec<NewsItem>, pair: Pair<'_>) {
        let texts = pair.titles.into_iter().zip(pair.bodies);
        for (((lang, secs), (title, body)), vars) in Lang::ALL
            .into_iter()
            .zip(pair.times)
            .zip(texts)
            .zip(pair.vars)
        {
            items.push(NewsItem {
                id: self.id(pair.subject, pair.kind, lang),
                published: self.at(secs),
                lang,
                kind: pair.kind,
                title: vars.render(title),
                summary: vars.render(body),
                symbols: pair.symbols.clone(),
                polarity: pair.polarity,
            });
        }
    }

    /// The pre-open event explaining `m`, in both languages.
    fn event(&self, m: &Move<'_>, items: &mut Vec<NewsItem>) {
        let mut rng = self.rng(m.i as u64, STREAM_EVENT);
        let polarity = m.polarity();
        let pool = match polarity {
            Polarity::Positive => stories::GOOD,
            Polarity::Negative | Polarity::Neutral => stories::BAD,
        };
        let Some(story) = pick_story(pool, m.inst, &mut rng) else {
            return;
        };
        let facts = Facts::draw(&mut rng, m.inst, m.previous, polarity);
        let vi_at = rng.range(7 * 3600 + 30 * 60, 8 * 3600 + 40 * 60);
        let en_at = vi_at + rng.range(60, 300);
        self.push(
            items,
            Pair {
                subject: &m.inst.symbol,
                kind: NewsKind::Event,
                times: [vi_at, en_at],
                titles: [story.vi_title, story.en_title],
                bodies: [story.vi_body, story.en_body],
                vars: Lang::ALL.map(|lang| facts.vars(self, m.inst, m.previous, lang)),
                symbols: vec![m.inst.symbol.clone()],
                polarity,
            },
        );
    }

    /// The after-close report of `m`'s move, in both languages.
    fn mover(&self, m: &Move<'_>, items: &mut Vec<NewsItem>) {
        let mut rng = self.rng(m.i as u64, STREAM_MOVE);
        let polarity = m.polarity();
        let up = polarity == Polarity::Positive;
        let titles = match (up, m.at_ceiling(), m.at_floor()) {
            (true, true, _) => stories::CEILING,
            (true, false, _) => stories::UP,
            (false, _, true) => stories::FLOOR,
            (false, _, false) => stories::DOWN,
        };
        let (vi_title, en_title) =
            choose(titles, &mut rng).unwrap_or(("{ticker} {pct}%", "{ticker} {pct}%"));
        let streak = self.streak(m.i, polarity);
        // The change over the last (up to) 20 sessions, from the close before them.
        let sessions = self.day.min(20);
        let base = self.generator.previous_close(m.i, self.day + 1 - sessions);
        let run = (m.close as f64 / base.max(1) as f64 - 1.0) * 100.0;
        let vi_at = rng.range(15 * 3600 + 5 * 60, 15 * 3600 + 25 * 60);
        let en_at = vi_at + rng.range(60, 300);
        let vars = Lang::ALL.map(|lang| {
            let mut v = names(m.inst, lang);
            v.set("close", whole(m.close, lang));
            v.set("ref", whole(m.reference, lang));
            v.set("change", whole((m.close - m.reference).abs(), lang));
            v.set("pct", fixed(m.pct().abs(), 1, lang));
            v.set("date", text::date(self.date, lang));
            let (level, verb) = match (lang, up, m.at_ceiling(), m.at_floor()) {
                (Lang::Vi, true, true, _) => ("giá trần ", "tăng"),
                (Lang::Vi, true, false, _) => ("mức ", "tăng"),
                (Lang::Vi, false, _, true) => ("giá sàn ", "giảm"),
                (Lang::Vi, false, _, false) => ("mức ", "giảm"),
                (Lang::En, true, true, _) => ("its ceiling price of ", "up"),
                (Lang::En, true, false, _) => ("", "up"),
                (Lang::En, false, _, true) => ("its floor price of ", "down"),
                (Lang::En, false, _, false) => ("", "down"),
            };
            v.set("level", level);
            v.set("verb", verb);
            v.set("streak", streak_sentence(streak, up, lang));
            v.set("run", run_sentence(run, sessions as u32, lang));
            v
        });
        self.push(
            items,
            Pair {
                subject: &m.inst.symbol,
                kind: NewsKind::Move,
                times: [vi_at, en_at],
                titles: [vi_title, en_title],
                bodies: [stories::MOVE_BODY_VI, stories::MOVE_BODY_EN],
                vars,
                symbols: vec![m.inst.symbol.clone()],
                polarity,
            },
        );
    }

    /// Sessions in a row, up to today, that moved `polarity`'s way (at most 10).
    fn streak(&self, i: usize, polarity: Polarity) -> u32 {
        let mut n = 0;
        let mut day = self.day;
        while n < 10 {
            let change = self.generator.close(i, day) - self.generator.previous_close(i, day);
            if Polarity::of(change as f64) != polarity {
                break;
            }
            n += 1;
            match day.checked_sub(1) {
                Some(d) => day = d,
                None => break,
            }
        }
        n
    }

    /// VN-Index's (and VN30's) day, in both languages.
    fn wrap(&self, moves: &[Move<'_>], items: &mut Vec<NewsItem>) {
        let g = self.generator;
        let Some((vni, vni_def)) = g.universe().index("VNINDEX") else {
            return;
        };
        let index = |k: usize| {
            let value = g.index_value(k, |m| g.close(m, self.day));
            let before = g.index_value(k, |m| g.previous_close(m, self.day));
            let pct = if before > 0.0 {
                (value / before - 1.0) * 100.0
            } else {
                0.0
            };
            (value, value - before, pct)
        };
        let (value, points, pct) = index(vni);
        let polarity = if pct.abs() < WRAP_NEUTRAL_PCT {
            Polarity::Neutral
        } else {
            Polarity::of(pct)
        };
        let members = members_of(moves, &vni_def.members);
        let count = |f: &dyn Fn(&Move<'_>) -> bool| members.iter().filter(|m| f(m)).count();
        let advances = count(&|m| m.close > m.reference);
        let declines = count(&|m| m.close < m.reference);
        let unchanged = members.len() - advances - declines;
        let ceilings = count(&|m| m.at_ceiling() && m.close > m.reference);
        let floors = count(&|m| m.at_floor() && m.close < m.reference);
        let vn30 = g.universe().index("VN30").map(|(k, def)| {
            let (v, p, c) = index(k);
            let in_vn30 = members_of(moves, &def.members);
            let best = in_vn30
                .iter()
                .max_by(|a, b| a.pct().total_cmp(&b.pct()))
                .map(|m| (m.inst.symbol.clone(), m.pct()));
            let worst = in_vn30
                .iter()
                .min_by(|a, b| a.pct().total_cmp(&b.pct()))
                .map(|m| (m.inst.symbol.clone(), m.pct()));
            (v, p, c, best, worst)
        });
        let mut rng = self.rng(MARKET, STREAM_WRAP);
        let titles = match polarity {
            Polarity::Positive => stories::WRAP_UP,
            Polarity::Negative => stories::WRAP_DOWN,
            Polarity::Neutral => stories::WRAP_FLAT,
        };
        let (vi_title, en_title) =
            choose(titles, &mut rng).unwrap_or(("VN-Index {value}", "VN-Index {value}"));
        let turbulent = g.turbulent(self.day);
        let bodies = Lang::ALL.map(|lang| {
            let mut body = match lang {
                Lang::Vi => format!(
                    "Kết thúc phiên {}, VN-Index {}",
                    text::date(self.date, lang),
                    index_move(value, points, pct, lang)
                ),
                Lang::En => format!(
                    "VN-Index {} on {}",
                    index_move(value, points, pct, lang),
                    text::date(self.date, lang)
                ),
            };
            if let Some((v, p, c, _, _)) = &vn30 {
                body.push_str(&match lang {
                    Lang::Vi => format!("; VN30 {}.", index_move(*v, *p, *c, lang)),
                    Lang::En => format!(", while VN30 {}.", index_move(*v, *p, *c, lang)),
                });
            } else {
                body.push('.');
            }
            body.push_str(&match lang {
                Lang::Vi => format!(
                    " Trên sàn HOSE có {advances} mã tăng ({ceilings} mã tăng trần), {declines} mã giảm ({floors} mã giảm sàn) và {unchanged} mã đứng giá."
                ),
                Lang::En => format!(
                    " On HOSE, {advances} stocks advanced ({ceilings} at the ceiling), {declines} declined ({floors} at the floor) and {unchanged} were unchanged."
                ),
            });
            if let Some((_, _, _, Some((best, best_pct)), Some((worst, worst_pct)))) = &vn30 {
                let (b, w) = (signed(*best_pct, 1, lang), signed(*worst_pct, 1, lang));
                body.push_str(&match lang {
                    Lang::Vi => format!(
                        " Trong rổ VN30, {best} có diễn biến tốt nhất ({b}%), {worst} kém nhất ({w}%)."
                    ),
                    Lang::En => format!(
                        " Among VN30 stocks, {best} did best ({b}%) and {worst} worst ({w}%)."
                    ),
                });
            }
            if turbulent {
                body.push_str(match lang {
                    Lang::Vi => " Thị trường vẫn trong giai đoạn biến động mạnh, biên độ dao động của chỉ số cao hơn bình thường.",
                    Lang::En => " The market remains in a turbulent phase, with index swings wider than usual.",
                });
            }
            body
        });
        let vars = Lang::ALL.map(|lang| {
            let mut v = Vars::default();
            v.set("value", fixed(value, 2, lang));
            v.set("points", fixed(points.abs(), 2, lang));
            v.set("pct", fixed(pct.abs(), 2, lang));
            v.set("signed_pct", signed(pct, 2, lang));
            v
        });
        let at = 15 * 3600 + 15 * 60;
        let [vi_body, en_body] = &bodies;
        self.push(
            items,
            Pair {
                subject: "market",
                kind: NewsKind::Wrap,
                times: [at, at],
                titles: [vi_title, en_title],
                bodies: [vi_body, en_body],
                vars,
                symbols: Vec::new(),
                polarity,
            },
        );
    }

    /// [`NOTICES_PER_DAY`] procedural notices of stocks that trade (the liquid and mid
    /// classes, which hold every named company) and are not the day's movers.
    fn notices(&self, moves: &[Move<'_>], movers: &[&Move<'_>], items: &mut Vec<NewsItem>) {
        let quiet = |m: &&Move<'_>| !movers.iter().any(|x| x.i == m.i);
        let mut pool: Vec<&Move<'_>> = moves.iter().filter(|m| !m.thin()).filter(quiet).collect();
        if pool.len() < NOTICES_PER_DAY {
            pool = moves.iter().filter(quiet).collect();
        }
        let mut pick = self.rng(MARKET, STREAM_PICK);
        let mut chosen: Vec<&Move<'_>> = Vec::new();
        while chosen.len() < NOTICES_PER_DAY && !pool.is_empty() {
            let k = pick.range(0, pool.len() as u64 - 1) as usize;
            if k < pool.len() {
                chosen.push(pool.swap_remove(k));
            }
        }
        for (n, m) in chosen.into_iter().enumerate() {
            let mut rng = self.rng(m.i as u64, STREAM_NOTICE);
            let Some(story) = choose(stories::NOTICES, &mut rng) else {
                continue;
            };
            let facts = Facts::draw(&mut rng, m.inst, m.previous, Polarity::Neutral);
            let vi_at = if n == 0 {
                rng.range(11 * 3600 + 35 * 60, 12 * 3600 + 50 * 60)
            } else {
                rng.range(16 * 3600, 17 * 3600 + 50 * 60)
            };
            let en_at = vi_at + rng.range(60, 480);
            self.push(
                items,
                Pair {
                    subject: &m.inst.symbol,
                    kind: NewsKind::Notice,
                    times: [vi_at, en_at],
                    titles: [story.vi_title, story.en_title],
                    bodies: [story.vi_body, story.en_body],
                    vars: Lang::ALL.map(|lang| facts.vars(self, m.inst, m.previous, lang)),
                    symbols: vec![m.inst.symbol.clone()],
                    polarity: Polarity::Neutral,
                },
            );
        }
    }
}

/// One of `items`, uniformly.
fn choose<T: Copy>(items: &[T], rng: &mut Rng) -> Option<T> {
    let last = u64::try_from(items.len().checked_sub(1)?).ok()?;
    items
        .get(usize::try_from(rng.range(0, last)).ok()?)
        .copied()
}

/// A story for `inst` from `pool`: the general ones and its sector's own.
fn pick_story(pool: &[Story], inst: &Instrument, rng: &mut Rng) -> Option<Story> {
    let fitting: Vec<Story> = pool
        .iter()
        .filter(|s| s.sectors.is_empty() || s.sectors.contains(&inst.sector))
        .copied()
        .collect();
    choose(&fitting, rng)
}

/// The moves of an index's members.
fn members_of<'m, 'a>(moves: &'m [Move<'a>], members: &[usize]) -> Vec<&'m Move<'a>> {
    let size = moves.iter().map(|m| m.i + 1).max().unwrap_or(0);
    let mut is_member = vec![false; size];
    for &m in members {
        if let Some(slot) = is_member.get_mut(m) {
            *slot = true;
        }
    }
    moves
        .iter()
        .filter(|m| is_member.get(m.i).copied().unwrap_or(false))
        .collect()
}

/// `{co}`, `{name}`, `{ticker}` of an instrument.
fn names(inst: &Instrument, lang: Lang) -> Vars {
    let mut v = Vars::default();
    let full = match lang {
        Lang::Vi => &inst.name,
        Lang::En => &inst.en_name,
    };
    // Generated names end with their ticker, which "{name} ({ticker})" repeats.
    let full = full
        .strip_suffix(&format!(" {}", inst.symbol))
        .unwrap_or(full);
    v.set("co", company(full, &inst.symbol, lang));
    v.set("name", full);
    v.set("ticker", inst.symbol.clone());
    v
}

/// "tăng 12,35 điểm (+0,98%) lên 1.285,43 điểm" / "rose 12.35 points (+0.98%) to 1,285.43".
fn index_move(value: f64, points: f64, pct: f64, lang: Lang) -> String {
    let (v, p, c) = (
        fixed(value, 2, lang),
        fixed(points.abs(), 2, lang),
        signed(pct, 2, lang),
    );
    let flat = fixed(points.abs(), 2, lang) == fixed(0.0, 2, lang);
    match (lang, flat, points > 0.0) {
        (Lang::Vi, true, _) => format!("đứng yên ở {v} điểm"),
        (Lang::Vi, false, true) => format!("tăng {p} điểm ({c}%) lên {v} điểm"),
        (Lang::Vi, false, false) => format!("giảm {p} điểm ({c}%) xuống {v} điểm"),
        (Lang::En, true, _) => format!("was unchanged at {v}"),
        (Lang::En, false, true) => format!("rose {p} points ({c}%) to {v}"),
        (Lang::En, false, false) => format!("fell {p} points ({c}%) to {v}"),
    }
}

/// " Đây là phiên tăng thứ 3 liên tiếp." / " It was the stock's third straight gain."
fn streak_sentence(n: u32, up: bool, lang: Lang) -> String {
    if n < 2 {
        return String::new();
    }
    let nth = text::ordinal(n, lang);
    match (lang, up) {
        (Lang::Vi, true) => format!(" Đây là phiên tăng thứ {nth} liên tiếp."),
        (Lang::Vi, false) => format!(" Đây là phiên giảm thứ {nth} liên tiếp."),
        (Lang::En, true) => format!(" It was the stock's {nth} straight gain."),
        (Lang::En, false) => format!(" It was the stock's {nth} straight loss."),
    }
}

/// " Tính chung 20 phiên gần nhất, cổ phiếu tăng 12,4%." / " Over the past 20 sessions the
/// stock is up 12.4%."
fn run_sentence(pct: f64, sessions: u32, lang: Lang) -> String {
    if sessions < 2 {
        return String::new();
    }
    let p = fixed(pct.abs(), 1, lang);
    let flat = p == fixed(0.0, 1, lang);
    match (lang, flat, pct > 0.0) {
        (Lang::Vi, true, _) => {
            format!(" Tính chung {sessions} phiên gần nhất, cổ phiếu đi ngang.")
        }
        (Lang::Vi, false, true) => {
            format!(" Tính chung {sessions} phiên gần nhất, cổ phiếu tăng {p}%.")
        }
        (Lang::Vi, false, false) => {
            format!(" Tính chung {sessions} phiên gần nhất, cổ phiếu giảm {p}%.")
        }
        (Lang::En, true, _) => format!(" Over the past {sessions} sessions the stock is flat."),
        (Lang::En, false, true) => {
            format!(" Over the past {sessions} sessions the stock is up {p}%.")
        }
        (Lang::En, false, false) => {
            format!(" Over the past {sessions} sessions the stock is down {p}%.")
        }
    }
}

/// Countries of partners, buyers and trade authorities: Vietnamese, English noun, English
/// adjective.
const COUNTRIES: [(&str, &str, &str); 8] = [
    ("Nhật Bản", "Japan", "Japanese"),
    ("Hàn Quốc", "South Korea", "South Korean"),
    ("Hoa Kỳ", "the United States", "US"),
    ("Singapore", "Singapore", "Singaporean"),
    ("Thái Lan", "Thailand", "Thai"),
    ("Úc", "Australia", "Australian"),
    ("Ấn Độ", "India", "Indian"),
    ("Đài Loan", "Taiwan", "Taiwanese"),
];

/// Provinces, with and without diacritics.
const PROVINCES: [(&str, &str); 10] = [
    ("Bình Dương", "Binh Duong"),
    ("Đồng Nai", "Dong Nai"),
    ("Long An", "Long An"),
    ("Bắc Ninh", "Bac Ninh"),
    ("Hải Phòng", "Hai Phong"),
    ("Quảng Ngãi", "Quang Ngai"),
    ("Hà Tĩnh", "Ha Tinh"),
    ("Bà Rịa - Vũng Tàu", "Ba Ria - Vung Tau"),
    ("Thái Nguyên", "Thai Nguyen"),
    ("Cần Thơ", "Can Tho"),
];

/// Executives: with the honorific in Vietnamese, the plain name in English.
const PEOPLE: [(&str, &str); 8] = [
    ("ông Nguyễn Văn Hùng", "Nguyen Van Hung"),
    ("bà Trần Thị Lan", "Tran Thi Lan"),
    ("ông Lê Minh Tuấn", "Le Minh Tuan"),
    ("bà Phạm Thu Hương", "Pham Thu Huong"),
    ("ông Hoàng Đức Anh", "Hoang Duc Anh"),
    ("bà Vũ Ngọc Mai", "Vu Ngoc Mai"),
    ("ông Đặng Quốc Bảo", "Dang Quoc Bao"),
    ("bà Bùi Thanh Hà", "Bui Thanh Ha"),
];

/// The numbers of one company story, drawn in a fixed order whatever the template, sized to
/// the company (its market value at the previous close).
#[derive(Debug, Clone)]
struct Facts {
    profit: f64,
    revenue: f64,
    month_revenue: f64,
    plan: f64,
    contract: f64,
    contract_share: f64,
    capex: f64,
    fine: f64,
    profit_share: f64,
    bond: f64,
    bond_total: f64,
    usd: f64,
    growth: f64,
    target: i64,
    upside: f64,
    dividend: i64,
    old_dividend: i64,
    stake: f64,
    shares: f64,
    etf_shares: f64,
    liquidity_days: f64,
    capacity: f64,
    duty: f64,
    export_share: f64,
    absorb: u64,
    units: u64,
    credit: f64,
    loans: f64,
    extra_loans: f64,
    npl_old: f64,
    npl_new: f64,
    market_share: f64,
    progress: u64,
    project_share: u64,
    leverage: f64,
    months: u64,
    years: u64,
    tenure: u64,
    changes: u32,
    penalty: u64,
    country: usize,
    province: usize,
    person: usize,
    from_days: u64,
    to_days: u64,
}

fn between(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.unit()
}

fn round_to(x: f64, step: i64) -> i64 {
    ((x / step as f64).round() as i64).max(1) * step
}

impl Facts {
    fn draw(rng: &mut Rng, inst: &Instrument, previous: i64, polarity: Polarity) -> Self {
        let good = polarity == Polarity::Positive;
        let shares_out = inst.listed_shares.max(1_000_000) as f64;
        let cap = shares_out * previous.max(100) as f64;
        let profit = cap * between(rng, 0.006, 0.02);
        let revenue = profit * between(rng, 4.0, 10.0);
        let month_revenue = revenue / 3.0 * between(rng, 1.0, 1.25);
        let plan = profit * 4.0 * between(rng, 0.9, 1.2);
        let contract_share = between(rng, 8.0, 40.0);
        let contract = revenue * 4.0 * contract_share / 100.0;
        let capex = cap * between(rng, 0.05, 0.25);
        let fine = profit * between(rng, 0.15, 0.6);
        let profit_share = fine / (profit * 4.0) * 100.0;
        let bond = cap * between(rng, 0.02, 0.08);
        let bond_total = bond * between(rng, 2.0, 5.0);
        let usd = contract / 25_400.0;
        let growth = if good {
            between(rng, 18.0, 95.0)
        } else {
            between(rng, 20.0, 70.0)
        };
        let target_ratio = if good {
            between(rng, 1.15, 1.45)
        } else {
            between(rng, 0.6, 0.88)
        };
        let target = round_to(previous as f64 * target_ratio, 100);
        let upside = ((target as f64 / previous.max(1) as f64) - 1.0).abs() * 100.0;
        let dividend = rng.range(8, 30) as i64 * 100;
        let old_dividend = if good {
            (dividend - rng.range(3, 7) as i64 * 100).max(100)
        } else {
            dividend + rng.range(5, 15) as i64 * 100
        };
        let stake = between(rng, 2.0, 12.0);
        let shares = shares_out * stake / 100.0;
        let etf_shares = shares_out * between(rng, 0.003, 0.015);
        let npl_old = between(rng, 1.2, 2.5);
        let npl_new = npl_old + between(rng, 0.6, 1.8);
        Self {
            profit,
            revenue,
            month_revenue,
            plan,
            contract,
            contract_share,
            capex,
            fine,
            profit_share,
            bond,
            bond_total,
            usd,
            growth,
            target,
            upside,
            dividend,
            old_dividend,
            stake,
            shares,
            etf_shares,
            liquidity_days: between(rng, 1.5, 6.0),
            capacity: between(rng, 15.0, 45.0),
            duty: between(rng, 8.0, 45.0),
            export_share: between(rng, 15.0, 60.0),
            absorb: rng.range(75, 98),
            units: rng.range(3, 25) * 100,
            credit: between(rng, 12.0, 20.0),
            loans: cap * between(rng, 3.0, 8.0),
            extra_loans: cap * between(rng, 0.1, 0.5),
            npl_old,
            npl_new,
            market_share: between(rng, 3.0, 12.0),
            progress: rng.range(45, 75),
            project_share: rng.range(15, 40),
            leverage: between(rng, 0.6, 1.5),
            months: rng.range(3, 18),
            years: rng.range(2, 5),
            tenure: rng.range(2, 12),
            changes: rng.range(2, 4) as u32,
            penalty: rng.range(50, 190) * 5,
            country: rng.range(0, COUNTRIES.len() as u64 - 1) as usize,
            province: rng.range(0, PROVINCES.len() as u64 - 1) as usize,
            person: rng.range(0, PEOPLE.len() as u64 - 1) as usize,
            from_days: rng.range(7, 21),
            to_days: rng.range(10, 35),
        }
    }

    fn vars(&self, day: &Day<'_>, inst: &Instrument, previous: i64, lang: Lang) -> Vars {
        let mut v = names(inst, lang);
        let pct = |x: f64| fixed(x, 1, lang);
        let bn = |x: f64| billions(x, lang);
        let trillions = |x: f64| {
            let t = x / 1e12;
            fixed(t, if t >= 10.0 { 0 } else { 1 }, lang)
        };
        let (country_vi, country_en, nationality) =
            COUNTRIES.get(self.country).copied().unwrap_or(("", "", ""));
        let (province_vi, province_en) = PROVINCES.get(self.province).copied().unwrap_or(("", ""));
        let (person_vi, person_en) = PEOPLE.get(self.person).copied().unwrap_or(("", ""));
        let from = Generator::shift(day.date, self.from_days as i64);
        let to = Generator::shift(from, self.to_days as i64);
        let year = day.date.year();
        v.set("q", text::last_quarter(day.date, lang));
        v.set("month", text::last_month(day.date, lang));
        v.set("date", text::date(day.date, lang));
        v.set("date_from", text::date(from, lang));
        v.set("date_to", text::date(to, lang));
        v.set("year", year.to_string());
        v.set("last_year", (year - 1).to_string());
        v.set("years_range", format!("{}-{}", year - 4, year - 1));
        v.set("prev", whole(previous, lang));
        v.set("profit", bn(self.profit));
        v.set("revenue", bn(self.revenue));
        v.set("month_revenue", bn(self.month_revenue));
        v.set("plan", bn(self.plan));
        v.set("contract", bn(self.contract));
        v.set("contract_share", fixed(self.contract_share, 0, lang));
        v.set("capex", bn(self.capex));
        v.set("fine", bn(self.fine));
        v.set("profit_share", pct(self.profit_share));
        v.set("bond", bn(self.bond));
        v.set("bond_total", bn(self.bond_total));
        v.set("deal", bn(self.shares * previous as f64));
        v.set("placement", bn(self.shares * self.target as f64));
        v.set(
            "payout",
            bn(self.dividend as f64 * inst.listed_shares as f64),
        );
        v.set("charter", bn(inst.listed_shares as f64 * 10_000.0));
        v.set("usd", millions(self.usd, lang));
        v.set("growth", pct(self.growth));
        v.set("target", whole(self.target, lang));
        v.set("upside", pct(self.upside));
        v.set("dividend", whole(self.dividend, lang));
        v.set("old_dividend", whole(self.old_dividend, lang));
        v.set("div_rate", pct(self.dividend as f64 / 100.0));
        v.set(
            "yield",
            pct(self.dividend as f64 / previous.max(1) as f64 * 100.0),
        );
        v.set("stake", pct(self.stake));
        v.set("shares", millions(self.shares, lang));
        v.set("etf_shares", millions(self.etf_shares, lang));
        v.set("outstanding", whole(inst.listed_shares, lang));
        v.set("liquidity_days", pct(self.liquidity_days));
        v.set("capacity", fixed(self.capacity, 0, lang));
        v.set("duty", pct(self.duty));
        v.set("export_share", fixed(self.export_share, 0, lang));
        v.set("absorb", self.absorb.to_string());
        v.set("units", whole(self.units as i64, lang));
        v.set("credit", pct(self.credit));
        v.set("loans", trillions(self.loans));
        v.set("extra_loans", trillions(self.extra_loans));
        v.set("npl_old", fixed(self.npl_old, 2, lang));
        v.set("npl_new", fixed(self.npl_new, 2, lang));
        v.set("market_share", pct(self.market_share));
        v.set("progress", self.progress.to_string());
        v.set("project_share", self.project_share.to_string());
        v.set("leverage", pct(self.leverage));
        v.set("months", self.months.to_string());
        v.set("years", self.years.to_string());
        v.set("tenure", self.tenure.to_string());
        v.set("changes", text::ordinal(self.changes, lang));
        v.set("penalty", whole(self.penalty as i64, lang));
        match lang {
            Lang::Vi => {
                v.set("country", country_vi);
                v.set("nationality", country_vi);
                v.set("province", province_vi);
                v.set("person", person_vi);
            }
            Lang::En => {
                v.set("country", country_en);
                v.set("nationality", nationality);
                v.set("province", province_en);
                v.set("person", person_en);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests;
