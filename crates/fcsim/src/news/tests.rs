use std::collections::{HashMap, HashSet};

use market::{MarketRules, TradingCalendar};
use quick_xml::Reader;
use quick_xml::events::Event;
use time::macros::{date, datetime};

use super::text::{company, date as date_text, fixed, last_quarter, signed};
use super::*;
use crate::universe::{Universe, UniverseSize};

fn generator_with(seed: u64, size: UniverseSize, history: u32) -> Generator {
    let calendar = TradingCalendar::embedded().unwrap();
    let today = date!(2025 - 06 - 10);
    let universe = Universe::generate(seed, size, &calendar, today);
    Generator::new(
        seed,
        MarketRules::default(),
        calendar,
        universe,
        today,
        history,
        5,
    )
}

fn generator(seed: u64) -> Generator {
    let size = UniverseSize {
        hose: 60,
        hnx: 20,
        upcom: 30,
    };
    generator_with(seed, size, 60)
}

fn all_days(g: &Generator) -> Vec<NewsItem> {
    (0..g.days().len()).flat_map(|d| day_news(g, d)).collect()
}

fn instrument<'g>(g: &'g Generator, item: &NewsItem) -> (usize, &'g Instrument) {
    let symbol = item.symbols.first().unwrap();
    let i = g.universe().find(symbol).unwrap();
    (i, g.universe().instrument(i).unwrap())
}

fn day_of(g: &Generator, item: &NewsItem) -> usize {
    g.day_index(item.published.date()).unwrap()
}

fn seconds(item: &NewsItem) -> u32 {
    let t = item.published.time();
    u32::from(t.hour()) * 3600 + u32::from(t.minute()) * 60 + u32::from(t.second())
}

#[test]
fn the_same_simulator_gives_the_same_items_whatever_the_order() {
    let a = generator(7);
    let b = generator(7);
    let days = [3, 40, 12, 59, 0];
    let forward: Vec<Vec<NewsItem>> = days.iter().map(|&d| day_news(&a, d)).collect();
    let mut backward: Vec<Vec<NewsItem>> = days.iter().rev().map(|&d| day_news(&b, d)).collect();
    backward.reverse();
    assert_eq!(forward, backward);
    assert!(forward.iter().all(|items| !items.is_empty()));
    let now = datetime!(2025-06-10 16:00 +7);
    let query = NewsQuery {
        limit: 300,
        ..NewsQuery::default()
    };
    assert_eq!(latest(&a, now, &query), latest(&b, now, &query));
    assert_ne!(day_news(&generator(8), 40), day_news(&a, 40));
}

#[test]
fn ids_are_unique_and_name_the_date_subject_kind_and_language() {
    let g = generator(3);
    let items = all_days(&g);
    let ids: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), items.len());
    for item in &items {
        let subject = item.symbols.first().map_or("market", String::as_str);
        let expected = format!(
            "fcsim-news-{}-{subject}-{}-{}",
            item.published.date(),
            item.kind.label(),
            item.lang.code()
        );
        assert_eq!(item.id, expected);
        assert_eq!(item.published.offset(), VN_OFFSET);
    }
}

#[test]
fn pre_open_events_point_the_way_the_stock_closes_that_day() {
    let g = generator(5);
    let events: Vec<NewsItem> = all_days(&g)
        .into_iter()
        .filter(|i| i.kind == NewsKind::Event)
        .collect();
    assert!(events.len() > 50, "{} events", events.len());
    let mut signs = HashSet::new();
    for item in &events {
        let (i, inst) = instrument(&g, item);
        assert_eq!(inst.kind, InstrumentKind::Stock, "{}", item.id);
        let day = day_of(&g, item);
        let change = g.close(i, day) - g.previous_close(i, day);
        assert_eq!(item.polarity.sign(), change.signum() as i8, "{}", item.id);
        signs.insert(item.polarity);
        let secs = seconds(item);
        assert!(
            (7 * 3600 + 30 * 60..=8 * 3600 + 45 * 60).contains(&secs),
            "{} at {}",
            item.id,
            item.published
        );
    }
    assert!(signs.contains(&Polarity::Positive) && signs.contains(&Polarity::Negative));
}

#[test]
fn after_close_items_report_the_real_close_and_change() {
    let g = generator(5);
    let moves: Vec<NewsItem> = all_days(&g)
        .into_iter()
        .filter(|i| i.kind == NewsKind::Move)
        .collect();
    assert!(!moves.is_empty());
    let mut limit_days = 0;
    for item in &moves {
        let (i, inst) = instrument(&g, item);
        let day = day_of(&g, item);
        let close = g.close(i, day);
        let limits = g.limits(i, day).unwrap();
        let reference = limits.reference.units();
        let pct = (close - reference) as f64 / reference as f64 * 100.0;
        let text = format!("{} {}", item.title, item.summary);
        assert!(
            text.contains(&format!("{} ", whole(close, item.lang))),
            "{}: close {close} not in {text}",
            item.id
        );
        assert!(
            text.contains(&format!("{}%", fixed(pct.abs(), 1, item.lang))),
            "{}: {pct:.1}% not in {text}",
            item.id
        );
        assert!(text.contains(&inst.symbol));
        assert_eq!(
            item.polarity.sign(),
            (close - g.previous_close(i, day)).signum() as i8
        );
        let secs = seconds(item);
        assert!((15 * 3600 + 5 * 60..=15 * 3600 + 30 * 60).contains(&secs));
        let z = ((close as f64 / g.previous_close(i, day) as f64).ln() / inst.volatility).abs();
        let at_limit = close == limits.ceiling.units() || close == limits.floor.units();
        assert!(
            z >= MOVE_THRESHOLD || at_limit,
            "{} is not a large move",
            item.id
        );
        if at_limit {
            limit_days += 1;
            let word = match (item.lang, close == limits.ceiling.units()) {
                (Lang::Vi, true) => "trần",
                (Lang::Vi, false) => "sàn",
                (Lang::En, true) => "ceiling",
                (Lang::En, false) => "floor",
            };
            assert!(item.summary.contains(word), "{}: {}", item.id, item.summary);
        }
    }
    assert!(limit_days > 0);
}

#[test]
fn movers_are_the_largest_moves_and_at_most_twelve_a_day() {
    let size = UniverseSize {
        hose: 400,
        hnx: 100,
        upcom: 100,
    };
    let g = generator_with(11, size, 20);
    let mut busiest = 0;
    for day in 0..g.days().len() {
        let items = day_news(&g, day);
        let events: Vec<&NewsItem> = items
            .iter()
            .filter(|i| i.kind == NewsKind::Event && i.lang == Lang::Vi)
            .collect();
        assert!(events.len() <= MOVERS_PER_DAY);
        busiest = busiest.max(events.len());
        let named: HashSet<&str> = events.iter().map(|i| i.symbols[0].as_str()).collect();
        // Tradable stocks first, then the largest |return / volatility|: every large move
        // left out ranks after every one in.
        let rank = |i: usize| {
            let inst = g.universe().instrument(i).unwrap();
            let z =
                (g.close(i, day) as f64 / g.previous_close(i, day) as f64).ln() / inst.volatility;
            (
                inst.liquidity == crate::universe::Liquidity::Illiquid,
                -z.abs(),
            )
        };
        let last_in = named
            .iter()
            .map(|s| rank(g.universe().find(s).unwrap()))
            .fold((false, f64::NEG_INFINITY), |a, b| if b > a { b } else { a });
        for (i, inst) in g.universe().instruments().iter().enumerate() {
            if inst.kind != InstrumentKind::Stock || named.contains(inst.symbol.as_str()) {
                continue;
            }
            let limits = g.limits(i, day).unwrap();
            let (c, p) = (g.close(i, day), g.previous_close(i, day));
            let at_limit = c == limits.ceiling.units() || c == limits.floor.units();
            let same_way = (c - p).signum() == (c - limits.reference.units()).signum();
            if c != p && same_way && (-rank(i).1 >= MOVE_THRESHOLD || at_limit) {
                assert_eq!(events.len(), MOVERS_PER_DAY, "{} left out", inst.symbol);
                assert!(rank(i) >= last_in, "{} left out", inst.symbol);
            }
        }
    }
    assert_eq!(busiest, MOVERS_PER_DAY, "no day filled the cap");
}

#[test]
fn every_story_comes_in_both_languages() {
    let g = generator(2);
    let items = all_days(&g);
    let mut per_lang: HashMap<Lang, usize> = HashMap::new();
    for item in &items {
        *per_lang.entry(item.lang).or_default() += 1;
        let stem = item
            .id
            .strip_suffix(&format!("-{}", item.lang.code()))
            .unwrap();
        let twin_id = match item.lang {
            Lang::Vi => format!("{stem}-en"),
            Lang::En => format!("{stem}-vi"),
        };
        let twin = items.iter().find(|i| i.id == twin_id).unwrap();
        assert_eq!(twin.polarity, item.polarity);
        assert_eq!(twin.symbols, item.symbols);
        assert_ne!(twin.title, item.title);
    }
    assert_eq!(per_lang.get(&Lang::Vi), per_lang.get(&Lang::En));
    assert!(per_lang.get(&Lang::Vi).copied().unwrap_or(0) > 200);
}

#[test]
fn vietnamese_items_have_diacritics_and_english_items_do_not() {
    let g = generator(2);
    for item in (20..40).flat_map(|d| day_news(&g, d)) {
        let text = format!("{} {}", item.title, item.summary);
        let accented = text.chars().filter(|c| !c.is_ascii()).count();
        match item.lang {
            Lang::Vi => assert!(accented >= 5, "{text}"),
            Lang::En => assert_eq!(accented, 0, "{text}"),
        }
        let sentences = item.summary.matches(". ").count() + 1;
        assert!((2..=4).contains(&sentences), "{}", item.summary);
        assert!(item.summary.chars().any(|c| c.is_ascii_digit()));
    }
}

#[test]
fn the_market_wrap_follows_vn_index() {
    let g = generator(4);
    let (vni, _) = g.universe().index("VNINDEX").unwrap();
    let mut polarities = HashSet::new();
    for day in 1..g.days().len() {
        let wraps: Vec<NewsItem> = day_news(&g, day)
            .into_iter()
            .filter(|i| i.kind == NewsKind::Wrap)
            .collect();
        assert_eq!(wraps.len(), 2);
        let value = g.index_value(vni, |m| g.close(m, day));
        let before = g.index_value(vni, |m| g.previous_close(m, day));
        let pct = (value / before - 1.0) * 100.0;
        for wrap in &wraps {
            assert!(wrap.symbols.is_empty());
            assert_eq!(wrap.published.time(), time::macros::time!(15:15));
            let expected = if pct.abs() < WRAP_NEUTRAL_PCT {
                Polarity::Neutral
            } else if pct > 0.0 {
                Polarity::Positive
            } else {
                Polarity::Negative
            };
            assert_eq!(wrap.polarity, expected, "{}: {pct}", wrap.id);
            polarities.insert(wrap.polarity);
            let text = format!("{} {}", wrap.title, wrap.summary);
            assert!(text.contains(&fixed(value, 2, wrap.lang)), "{text}");
            assert!(text.contains(&signed(pct, 2, wrap.lang)), "{text}");
            assert!(text.contains("VN30"));
        }
    }
    assert_eq!(polarities.len(), 3, "{polarities:?}");
}

#[test]
fn the_wrap_names_the_turbulent_regime() {
    let (g, day) = (1..20)
        .find_map(|seed| {
            let g = generator(seed);
            let day = (1..g.days().len()).find(|&d| g.turbulent(d))?;
            Some((g, day))
        })
        .unwrap();
    let calm = (1..g.days().len()).find(|&d| !g.turbulent(d)).unwrap();
    for (d, turbulent) in [(day, true), (calm, false)] {
        for wrap in day_news(&g, d).iter().filter(|i| i.kind == NewsKind::Wrap) {
            let says = match wrap.lang {
                Lang::Vi => wrap.summary.contains("biến động mạnh"),
                Lang::En => wrap.summary.contains("turbulent"),
            };
            assert_eq!(says, turbulent, "{}", wrap.summary);
        }
    }
}

#[test]
fn notices_are_neutral_and_about_stocks_that_did_not_make_news() {
    let g = generator(6);
    for day in 0..g.days().len() {
        let items = day_news(&g, day);
        let notices: Vec<&NewsItem> = items
            .iter()
            .filter(|i| i.kind == NewsKind::Notice)
            .collect();
        assert_eq!(notices.len(), NOTICES_PER_DAY * 2);
        for n in notices {
            assert_eq!(n.polarity, Polarity::Neutral);
            assert_eq!(n.symbols.len(), 1);
            let (_, inst) = instrument(&g, n);
            assert_ne!(inst.liquidity, crate::universe::Liquidity::Illiquid);
            assert!(
                !items
                    .iter()
                    .any(|i| i.kind == NewsKind::Event && i.symbols == n.symbols)
            );
        }
    }
}

#[test]
fn nothing_is_served_before_it_is_published() {
    let g = generator(5);
    let query = NewsQuery {
        limit: MAX_LIMIT,
        ..NewsQuery::default()
    };
    for now in [
        datetime!(2025-06-10 08:00 +7),
        datetime!(2025-06-10 15:10 +7),
        datetime!(2025-06-10 02:00 +7),
        datetime!(2025-06-09 01:00 UTC),
    ] {
        let items = latest(&g, now, &query);
        assert!(!items.is_empty());
        assert!(items.iter().all(|i| i.published <= now), "{now}");
        assert!(items.windows(2).all(|w| w[0].published >= w[1].published));
    }
    // Today's events are out at 08:00, its close is not.
    let today = date!(2025 - 06 - 10);
    let morning = latest(&g, datetime!(2025-06-10 08:46 +7), &query);
    let of_today: Vec<&NewsItem> = morning
        .iter()
        .filter(|i| i.published.date() == today)
        .collect();
    let day = g.day_index(today).unwrap();
    let expected_events = day_news(&g, day)
        .iter()
        .filter(|i| i.kind == NewsKind::Event)
        .count();
    assert_eq!(of_today.len(), expected_events);
    assert!(of_today.iter().all(|i| i.kind == NewsKind::Event));
    // The generator has days after today; none of them is served.
    assert!(g.days().iter().any(|d| *d > today));
    let evening = latest(&g, datetime!(2025-06-10 23:59 +7), &query);
    assert!(evening.iter().all(|i| i.published.date() <= today));
}

#[test]
fn the_feed_walks_back_day_by_day_to_fill_the_limit() {
    let g = generator(5);
    let now = datetime!(2025-06-10 09:00 +7);
    let query = NewsQuery {
        limit: 200,
        ..NewsQuery::default()
    };
    let items = latest(&g, now, &query);
    assert_eq!(items.len(), 200);
    let dates: HashSet<Date> = items.iter().map(|i| i.published.date()).collect();
    assert!(dates.len() >= 3, "{dates:?}");
    let oldest = items.last().unwrap().published;
    // Nothing newer than the oldest served item is missing.
    let day = g.day_index(oldest.date()).unwrap();
    let newer = (day..g.days().len())
        .flat_map(|d| day_news(&g, d))
        .filter(|i| i.published > oldest && i.published <= now)
        .count();
    assert_eq!(newer, items.iter().filter(|i| i.published > oldest).count());
    // A month back at most.
    let far = NewsQuery {
        symbol: Some("NOPE".to_owned()),
        ..query
    };
    assert!(latest(&g, now, &far).is_empty());
}

#[test]
fn language_and_symbol_filters_keep_only_their_items() {
    let g = generator(5);
    let now = datetime!(2025-06-10 16:00 +7);
    for lang in Lang::ALL {
        let query = NewsQuery {
            lang: Some(lang),
            limit: 100,
            ..NewsQuery::default()
        };
        let items = latest(&g, now, &query);
        assert_eq!(items.len(), 100);
        assert!(items.iter().all(|i| i.lang == lang));
    }
    let some_event = latest(&g, now, &NewsQuery::default())
        .into_iter()
        .find(|i| i.kind == NewsKind::Event)
        .unwrap();
    let symbol = some_event.symbols[0].to_ascii_lowercase();
    let query = NewsQuery {
        symbol: Some(symbol.clone()),
        limit: 20,
        ..NewsQuery::default()
    };
    let items = latest(&g, now, &query);
    assert!(items.len() >= 2);
    assert!(
        items
            .iter()
            .all(|i| i.symbols.iter().any(|s| s.eq_ignore_ascii_case(&symbol)))
    );
}

#[test]
fn an_item_is_found_by_its_id_once_published() {
    let g = generator(5);
    let day = g.day_index(date!(2025 - 06 - 10)).unwrap();
    let items = day_news(&g, day);
    let wrap = items.iter().find(|i| i.kind == NewsKind::Wrap).unwrap();
    assert_eq!(
        find(&g, &wrap.id, datetime!(2025-06-10 16:00 +7)).as_ref(),
        Some(wrap)
    );
    assert_eq!(find(&g, &wrap.id, datetime!(2025-06-10 15:14 +7)), None);
    assert_eq!(
        find(&g, "fcsim-news-2025-06-10-XXX-event-vi", wrap.published),
        None
    );
    assert_eq!(find(&g, "nonsense", wrap.published), None);
}

#[test]
fn numbers_dates_and_names_are_written_each_language_s_way() {
    assert_eq!(whole(27_500, Lang::Vi), "27.500");
    assert_eq!(whole(27_500, Lang::En), "27,500");
    assert_eq!(whole(1_234_567_890, Lang::Vi), "1.234.567.890");
    assert_eq!(fixed(4.2, 1, Lang::Vi), "4,2");
    assert_eq!(fixed(4.2, 1, Lang::En), "4.2");
    assert_eq!(fixed(1285.426, 2, Lang::Vi), "1.285,43");
    assert_eq!(fixed(1285.426, 2, Lang::En), "1,285.43");
    assert_eq!(fixed(-0.04, 1, Lang::En), "0.0");
    assert_eq!(signed(0.98, 2, Lang::Vi), "+0,98");
    assert_eq!(signed(-2.1, 1, Lang::En), "-2.1");
    assert_eq!(signed(0.0, 1, Lang::En), "0.0");
    assert_eq!(text::billions(1_245e9, Lang::Vi), "1.245");
    assert_eq!(text::billions(4.56e9, Lang::En), "4.6");
    assert_eq!(text::millions(12_500_000.0, Lang::Vi), "12,5");
    assert_eq!(date_text(date!(2025 - 06 - 10), Lang::Vi), "10/06/2025");
    assert_eq!(date_text(date!(2025 - 06 - 10), Lang::En), "June 10, 2025");
    assert_eq!(last_quarter(date!(2025 - 06 - 10), Lang::Vi), "1/2025");
    assert_eq!(last_quarter(date!(2025 - 02 - 03), Lang::En), "Q4 2024");
    assert_eq!(
        company("Công ty Cổ phần Tập đoàn Hòa Phát", "HPG", Lang::Vi),
        "Hòa Phát (HPG)"
    );
    assert_eq!(company("Hoa Phat Group", "HPG", Lang::En), "Hoa Phat (HPG)");
    assert_eq!(company("Công ty Cổ phần FPT", "FPT", Lang::Vi), "FPT");
    assert_eq!(
        company("Ngân hàng TMCP Á Châu", "ACB", Lang::Vi),
        "Ngân hàng Á Châu (ACB)"
    );
    assert_eq!(
        company(
            "Joint Stock Commercial Bank for Foreign Trade of Vietnam",
            "VCB",
            Lang::En
        ),
        "VCB"
    );
    assert_eq!(
        company("Công ty Cổ phần Thép Hải Phòng ABC", "ABC", Lang::Vi),
        "Thép Hải Phòng (ABC)"
    );
    assert_eq!(
        company("ABC Steel Joint Stock Company", "ABC", Lang::En),
        "ABC Steel"
    );
}

#[test]
fn every_template_fills_all_its_placeholders() {
    let g = generator(1);
    let day = Day {
        generator: &g,
        day: 10,
        date: g.days()[10],
        stamp: 1,
    };
    let inst = g.universe().instrument(0).unwrap();
    let mut rng = Rng::new(1, 2, 3, 4);
    let tables = [stories::GOOD, stories::BAD, stories::NOTICES];
    for (k, table) in tables.iter().enumerate() {
        let polarity = [Polarity::Positive, Polarity::Negative, Polarity::Neutral][k];
        for story in *table {
            let facts = Facts::draw(&mut rng, inst, 25_000, polarity);
            for lang in Lang::ALL {
                let vars = facts.vars(&day, inst, 25_000, lang);
                let (title, body) = match lang {
                    Lang::Vi => (story.vi_title, story.vi_body),
                    Lang::En => (story.en_title, story.en_body),
                };
                for text in [vars.render(title), vars.render(body)] {
                    assert!(!text.contains('{') && !text.contains('}'), "{text}");
                }
                let sentences = vars.render(body).matches(". ").count() + 1;
                assert!((2..=4).contains(&sentences), "{body}");
            }
        }
    }
    let mut vars = names(inst, Lang::Vi);
    for key in [
        "close",
        "ref",
        "change",
        "pct",
        "date",
        "level",
        "verb",
        "streak",
        "run",
        "value",
        "points",
        "signed_pct",
    ] {
        vars.set(key, "1");
    }
    let moves = [
        stories::CEILING,
        stories::UP,
        stories::FLOOR,
        stories::DOWN,
        stories::WRAP_UP,
        stories::WRAP_DOWN,
        stories::WRAP_FLAT,
    ];
    for (vi, en) in moves.iter().flat_map(|t| t.iter()) {
        for text in [vi, en, &stories::MOVE_BODY_VI, &stories::MOVE_BODY_EN] {
            assert!(!vars.render(text).contains('{'), "{text}");
        }
    }
}

#[test]
fn there_are_at_least_ten_company_stories_per_polarity_and_language() {
    for table in [stories::GOOD, stories::BAD] {
        let general: Vec<&Story> = table.iter().filter(|s| s.sectors.is_empty()).collect();
        assert!(general.len() >= 10);
        let vi: HashSet<&str> = general.iter().map(|s| s.vi_title).collect();
        let en: HashSet<&str> = general.iter().map(|s| s.en_title).collect();
        assert_eq!(vi.len(), general.len());
        assert_eq!(en.len(), general.len());
    }
    assert!(stories::NOTICES.len() >= 5);
    // And a month of news uses many of them.
    let g = generator(9);
    let titles: HashSet<String> = all_days(&g)
        .iter()
        .filter(|i| i.kind == NewsKind::Event && i.lang == Lang::En)
        .map(|i| {
            i.title
                .split(|c: char| c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert!(titles.len() >= 15, "{titles:?}");
}

/// A parsed RSS item: its child elements' (name, domain attribute, text).
type Fields = Vec<(String, Option<String>, String)>;

/// Channel fields and items of an RSS document, checking it is well-formed XML.
fn parse_rss(xml: &str) -> (Fields, Vec<Fields>) {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut channel = Fields::new();
    let mut items: Vec<Fields> = Vec::new();
    let mut current: Option<(String, Option<String>, String)> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = e.name().0.to_owned();
                if name == "item" {
                    items.push(Fields::new());
                }
                let domain = e
                    .try_get_attribute("domain")
                    .unwrap()
                    .map(|a| a.value.into_owned());
                current = Some((name.clone(), domain, String::new()));
                path.push(name);
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = current.as_mut() {
                    let name = r.xml10_content();
                    c.2.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap());
                }
            }
            Event::End(e) => {
                let name = e.name().0.to_owned();
                assert_eq!(path.pop().as_deref(), Some(name.as_str()));
                if let Some(field) = current.take() {
                    match path.last().map(String::as_str) {
                        Some("item") => items.last_mut().unwrap().push(field),
                        Some("channel") => channel.push(field),
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            Event::Empty(_)
            | Event::CData(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
    assert!(path.is_empty());
    (channel, items)
}

fn field<'f>(fields: &'f Fields, name: &str) -> Vec<&'f str> {
    fields
        .iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, _, t)| t.as_str())
        .collect()
}

fn category<'f>(fields: &'f Fields, domain: &str) -> Vec<&'f str> {
    fields
        .iter()
        .filter(|(n, d, _)| n == "category" && d.as_deref() == Some(domain))
        .map(|(_, _, t)| t.as_str())
        .collect()
}

#[test]
fn the_rss_feed_is_well_formed_and_carries_every_field() {
    let g = generator(5);
    let now = datetime!(2025-06-10 16:00 +7);
    let mut items = latest(
        &g,
        now,
        &NewsQuery {
            limit: 80,
            ..NewsQuery::default()
        },
    );
    // Markup in a title is escaped, not interpreted.
    items[0].title = "A & B <b>\"bold\"</b>".to_owned();
    let xml = rss(
        &items,
        &Channel {
            base_url: "http://127.0.0.1:18400/",
            lang: None,
            symbol: None,
            built: now,
        },
    )
    .unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(xml.contains("<rss version=\"2.0\">"));
    let (channel, parsed) = parse_rss(&xml);
    assert_eq!(field(&channel, "link"), ["http://127.0.0.1:18400/news/rss"]);
    assert_eq!(field(&channel, "language"), ["vi"]);
    assert_eq!(
        field(&channel, "lastBuildDate"),
        ["Tue, 10 Jun 2025 16:00:00 +0700"]
    );
    assert_eq!(field(&channel, "title").len(), 1);
    assert_eq!(field(&channel, "description").len(), 1);
    assert_eq!(parsed.len(), items.len());
    for (item, fields) in items.iter().zip(&parsed) {
        assert_eq!(field(fields, "title"), [item.title.as_str()]);
        assert_eq!(field(fields, "description"), [item.summary.as_str()]);
        assert_eq!(
            field(fields, "link"),
            [format!("http://127.0.0.1:18400/news/{}", item.id).as_str()]
        );
        assert_eq!(field(fields, "guid"), [item.id.as_str()]);
        let date = field(fields, "pubDate")[0];
        assert!(date.ends_with(" +0700"), "{date}");
        let parsed_date =
            OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822).unwrap();
        assert_eq!(parsed_date, item.published);
        assert_eq!(category(fields, "symbol"), item.symbols);
        assert_eq!(category(fields, "fcsim:polarity"), [item.polarity.label()]);
        assert_eq!(category(fields, "fcsim:lang"), [item.lang.code()]);
        assert_eq!(category(fields, "fcsim:kind"), [item.kind.label()]);
    }
    assert!(xml.contains("isPermaLink=\"false\""));
    assert!(xml.contains("A &amp; B &lt;b&gt;"));
}

#[test]
fn an_item_page_is_escaped_html() {
    let g = generator(5);
    let mut item = day_news(&g, 10).remove(0);
    item.title = "<script>alert(1)</script>".to_owned();
    let html = page(&item);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("<script>"));
    assert!(html.contains(&quick_xml::escape::escape(&item.summary).into_owned()));
}

#[test]
fn a_day_of_the_default_universe_takes_milliseconds() {
    let g = generator_with(1, UniverseSize::default(), 3);
    let stocks = g
        .universe()
        .instruments()
        .iter()
        .filter(|x| x.kind == InstrumentKind::Stock)
        .count();
    assert!(stocks > 1_500);
    let started = std::time::Instant::now();
    let items = day_news(&g, 2);
    let took = started.elapsed();
    assert!(!items.is_empty());
    // Unoptimised and on a busy machine: well under a second (release: about a millisecond).
    // A day that generated intraday tapes would take many seconds here.
    assert!(took < std::time::Duration::from_millis(500), "{took:?}");
    eprintln!(
        "news: one day of {stocks} stocks, {} items, in {took:?}",
        items.len()
    );
}
