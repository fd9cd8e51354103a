//! The simulated news site over real HTTP: `GET /news/rss` on the FC Data port, read as a
//! feed reader would, and `GET /news/{id}`.

use fcsim::{Lang, NewsKind, NewsQuery, Polarity, SimConfig, UniverseSize};
use quick_xml::Reader;
use quick_xml::events::Event;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use time::macros::datetime;

/// A small market after the close of 10 June 2025 (that day's wraps and movers are out).
async fn local() -> fcsim::Local {
    fcsim::Local::start(SimConfig {
        start: datetime!(2025-06-10 16:00:00 +7),
        universe: UniverseSize {
            hose: 60,
            hnx: 20,
            upcom: 20,
        },
        history_days: 30,
        ..SimConfig::demo()
    })
    .await
    .unwrap()
}

/// One `<item>`: (element, `domain` attribute, text) of each child.
type Item = Vec<(String, Option<String>, String)>;

/// The items of an RSS document and its channel's `<language>`, checking the XML nests.
fn items_of(xml: &str) -> (String, Vec<Item>) {
    let mut reader = Reader::from_str(xml);
    let mut depth: Vec<String> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let mut language = String::new();
    let mut open: Option<(String, Option<String>, String)> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = e.name().0.to_owned();
                if name == "item" {
                    items.push(Item::new());
                }
                let domain = e
                    .try_get_attribute("domain")
                    .unwrap()
                    .map(|a| a.value.into_owned());
                open = Some((name.clone(), domain, String::new()));
                depth.push(name);
            }
            Event::Text(t) => {
                if let Some(o) = open.as_mut() {
                    o.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(o) = open.as_mut() {
                    let name = r.xml10_content();
                    o.2.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap());
                }
            }
            Event::End(e) => {
                let name = e.name().0.to_owned();
                assert_eq!(depth.pop(), Some(name));
                if let Some(field) = open.take() {
                    match depth.last().map(String::as_str) {
                        Some("item") => items.last_mut().unwrap().push(field),
                        Some("channel") if field.0 == "language" => language = field.2,
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
    assert!(depth.is_empty());
    (language, items)
}

fn one<'i>(item: &'i Item, name: &str) -> &'i str {
    let found: Vec<&str> = item
        .iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, _, t)| t.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name} in {item:?}");
    found[0]
}

fn categories<'i>(item: &'i Item, domain: &str) -> Vec<&'i str> {
    item.iter()
        .filter(|(n, d, _)| n == "category" && d.as_deref() == Some(domain))
        .map(|(_, _, t)| t.as_str())
        .collect()
}

async fn get(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, kind, response.text().await.unwrap())
}

#[tokio::test]
async fn the_news_feed_is_rss_over_http_with_nothing_after_the_simulated_now() {
    let t = local().await;
    let (status, kind, xml) = get(&format!("{}/news/rss?lang=vi&limit=40", t.data_url)).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(kind, "application/rss+xml; charset=utf-8");
    let now = t.sim.now();
    let (language, items) = items_of(&xml);
    assert_eq!(language, "vi");
    assert_eq!(items.len(), 40);
    let mut kinds = std::collections::HashSet::new();
    for item in &items {
        assert!(!one(item, "title").is_empty());
        assert!(!one(item, "description").is_empty());
        let id = one(item, "guid");
        assert!(id.starts_with("fcsim-news-") && id.ends_with("-vi"), "{id}");
        assert_eq!(one(item, "link"), format!("{}/news/{id}", t.data_url));
        let published = OffsetDateTime::parse(one(item, "pubDate"), &Rfc2822).unwrap();
        assert!(published <= now, "{id} published {published}, now {now}");
        assert!(one(item, "pubDate").ends_with("+0700"));
        let polarity = categories(item, "fcsim:polarity");
        assert!(
            matches!(polarity[..], ["positive" | "neutral" | "negative"]),
            "{polarity:?}"
        );
        assert_eq!(categories(item, "fcsim:lang"), ["vi"]);
        kinds.insert(categories(item, "fcsim:kind")[0].to_owned());
    }
    assert!(
        kinds.contains("wrap") && kinds.contains("move"),
        "{kinds:?}"
    );
    assert!(xml.contains("<guid isPermaLink=\"false\">"));

    // The same items as the Rust API, in the same order.
    let api = t.sim.news(&NewsQuery {
        lang: Some(Lang::Vi),
        limit: 40,
        ..NewsQuery::default()
    });
    let ids: Vec<&str> = items.iter().map(|i| one(i, "guid")).collect();
    let api_ids: Vec<&str> = api.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, api_ids);

    // English, a symbol, and the `.xml` spelling.
    let (_, _, xml) = get(&format!("{}/news/rss.xml?lang=en", t.data_url)).await;
    let (language, items) = items_of(&xml);
    assert_eq!(language, "en");
    assert_eq!(items.len(), 50);
    assert!(items.iter().all(|i| categories(i, "fcsim:lang") == ["en"]));
    let mover = api.iter().find(|i| i.kind == NewsKind::Move).unwrap();
    let symbol = &mover.symbols[0];
    let (status, _, xml) = get(&format!("{}/news/rss?symbol={symbol}", t.data_url)).await;
    assert_eq!(status, 200);
    let (_, items) = items_of(&xml);
    assert!(items.len() >= 4, "{}", items.len());
    assert!(
        items
            .iter()
            .all(|i| categories(i, "symbol") == [symbol.as_str()])
    );
    // The day's pre-open event about it says which way it closed.
    let event = items
        .iter()
        .find(|i| categories(i, "fcsim:kind") == ["event"])
        .unwrap();
    let expected = match mover.polarity {
        Polarity::Positive => "positive",
        Polarity::Negative => "negative",
        Polarity::Neutral => "neutral",
    };
    assert_eq!(categories(event, "fcsim:polarity"), [expected]);

    // Both languages by default.
    let (_, _, xml) = get(&format!("{}/news/rss?limit=200", t.data_url)).await;
    let (_, items) = items_of(&xml);
    assert_eq!(items.len(), 200);
    let vi = items
        .iter()
        .filter(|i| categories(i, "fcsim:lang") == ["vi"])
        .count();
    assert!((60..=140).contains(&vi), "{vi} of 200 in Vietnamese");
}

#[tokio::test]
async fn a_news_item_has_its_own_page() {
    let t = local().await;
    let item = t.sim.news(&NewsQuery::default()).remove(0);
    let (status, kind, html) = get(&format!("{}/news/{}", t.data_url, item.id)).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "text/html; charset=utf-8");
    assert!(html.contains(&quick_xml::escape::escape(&item.title).into_owned()));
    // Tomorrow's news does not exist yet.
    let tomorrow = item.id.replace("2025-06-10", "2025-06-11");
    let (status, _, _) = get(&format!("{}/news/{tomorrow}", t.data_url)).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&format!("{}/news/nothing-here", t.data_url)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_news_queries_answer_400_in_plain_text() {
    let t = local().await;
    for (query, says) in [
        (
            "limit=0",
            "limit must be a whole number from 1 to 500, got '0'",
        ),
        (
            "limit=501",
            "limit must be a whole number from 1 to 500, got '501'",
        ),
        (
            "limit=ten",
            "limit must be a whole number from 1 to 500, got 'ten'",
        ),
        (
            "limit=-3",
            "limit must be a whole number from 1 to 500, got '-3'",
        ),
        ("lang=fr", "lang must be vi or en, got 'fr'"),
        (
            "symbol=NOPE1",
            "symbol 'NOPE1' is not listed in the simulated market",
        ),
    ] {
        let (status, kind, body) = get(&format!("{}/news/rss?{query}", t.data_url)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(kind, "text/plain; charset=utf-8");
        assert_eq!(body, says);
    }
    let (status, _, _) = get(&format!("{}/news/rss?limit=500&lang=EN", t.data_url)).await;
    assert_eq!(status, 200);
}
