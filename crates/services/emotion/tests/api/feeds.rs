//! The collectors: a feed file re-read when it changes, and the simulator's news feed over HTTP,
//! whose generated news moves with the simulated prices.

use crate::helpers::spawn_with;

fn rss(items: &[(&str, &str, &str)]) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description><language>vi</language>"#,
    );
    for (guid, title, date) in items {
        out.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><pubDate>{date}</pubDate><category domain=\"symbol\">VNM</category></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

#[tokio::test]
async fn a_feed_file_is_collected_and_read_again_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("news.xml");
    std::fs::write(
        &path,
        rss(&[(
            "n1",
            "Cổ phiếu HPG tăng trần",
            "Tue, 01 Dec 2026 08:15:00 +0700",
        )]),
    )
    .unwrap();
    let feed = path.display().to_string();
    let app = spawn_with(&[
        ("EMOTION__EMOTION__FEEDS", feed.as_str()),
        ("EMOTION__EMOTION__POLL_SECS", "1"),
        ("EMOTION__EMOTION__SECURITIES_WAIT_SECS", "0"),
    ])
    .await;
    let items = app
        .until(|b| b.as_array().is_some_and(|a| a.len() == 1), "/v1/items")
        .await;
    assert_eq!(items[0]["source"], "file-news.xml");
    assert_eq!(items[0]["published"], "2026-12-01T01:15:00Z");
    // tagged by the feed; no master data yet, so any well-formed ticker counts
    assert_eq!(items[0]["symbols"], serde_json::json!(["VNM"]));
    std::fs::write(
        &path,
        rss(&[
            (
                "n1",
                "Cổ phiếu HPG tăng trần",
                "Tue, 01 Dec 2026 08:15:00 +0700",
            ),
            (
                "n2",
                "Vinamilk bị phạt vì vi phạm công bố thông tin",
                "Tue, 01 Dec 2026 09:00:00 +0700",
            ),
        ]),
    )
    .unwrap();
    let items = app
        .until(|b| b.as_array().is_some_and(|a| a.len() == 2), "/v1/items")
        .await;
    assert_eq!(items[0]["guid"], "n2");
    let status = app.call("GET", "/v1/status", None).await.body;
    let source = &status["sources"][0];
    assert_eq!(source["new"], 2);
    assert_eq!(
        source["known"], 1,
        "n1 was read again and recognised: {status}"
    );
    assert_eq!(source["last_error"], "");
}

#[tokio::test]
async fn a_broken_feed_is_reported_and_nothing_else_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.xml");
    std::fs::write(&path, "<html>not a feed</html>").unwrap();
    let feed = path.display().to_string();
    let app = spawn_with(&[
        ("EMOTION__EMOTION__FEEDS", feed.as_str()),
        ("EMOTION__EMOTION__POLL_SECS", "1"),
        ("EMOTION__EMOTION__SECURITIES_WAIT_SECS", "0"),
    ])
    .await;
    let status = app
        .until(
            |b| b["sources"][0]["failures"].as_u64() >= Some(1),
            "/v1/status",
        )
        .await;
    assert!(
        status["sources"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("not a readable"),
        "{status}"
    );
    // the service still answers
    assert_eq!(app.call("GET", "/v1/items", None).await.status, 200);
}

/// The simulator's news over its real RSS feed: collected in both languages, linked to the
/// tickers the simulator tags, and scored in the direction the simulator meant (its pre-open
/// events say which way the stock closes that day).
#[tokio::test]
async fn the_simulators_news_is_collected_and_its_sentiment_points_the_way_prices_move() {
    let start = time::macros::datetime!(2025-06-11 10:00 +7);
    let sim = fcsim::Local::start(fcsim::SimConfig {
        start,
        speed: 1.0,
        universe: fcsim::UniverseSize {
            hose: 120,
            hnx: 60,
            upcom: 60,
        },
        history_days: 40,
        ..fcsim::SimConfig::demo()
    })
    .await
    .unwrap();
    let intended: std::collections::HashMap<String, i8> = sim
        .sim
        .news(&fcsim::NewsQuery {
            limit: 300,
            ..Default::default()
        })
        .into_iter()
        .map(|n| (n.id, n.polarity.sign()))
        .collect();
    assert!(intended.len() >= 100, "{} items", intended.len());
    let feed = format!("{}/news/rss?limit=300", sim.data_url);
    let app = spawn_with(&[
        ("EMOTION__EMOTION__FEEDS", feed.as_str()),
        ("EMOTION__EMOTION__SECURITIES_WAIT_SECS", "0"),
    ])
    .await;
    let status = app
        .until(|s| s["sources"][0]["new"].as_u64() > Some(0), "/v1/status")
        .await;
    let source = &status["sources"][0];
    assert_eq!(source["rejected"], 0, "{status}");
    let (mut agree, mut directed, mut langs) = (0, 0, std::collections::BTreeSet::new());
    let items = app
        .call("GET", "/v1/items?limit=500&duplicates=true", None)
        .await
        .body;
    let items = items.as_array().unwrap();
    assert_eq!(
        items.len() as u64,
        source["new"].as_u64().unwrap() + source["duplicates"].as_u64().unwrap()
    );
    for item in items {
        langs.insert(item["lang"].as_str().unwrap().to_owned());
        let guid = item["guid"].as_str().unwrap();
        let sign = intended[guid];
        if guid.contains("-move-") {
            assert!(!item["symbols"].as_array().unwrap().is_empty(), "{item}");
        }
        if sign != 0 {
            directed += 1;
            let label = item["sentiment"]["label"].as_str().unwrap();
            agree +=
                usize::from((sign > 0 && label == "positive") || (sign < 0 && label == "negative"));
        }
    }
    assert_eq!(langs.into_iter().collect::<Vec<_>>(), ["en", "vi"]);
    let share = agree as f64 / directed as f64;
    eprintln!(
        "simulated news scored in the intended direction: {agree}/{directed} ({share:.3}); {} new, {} near-duplicates",
        source["new"], source["duplicates"]
    );
    // stories about different stocks or days are different news, however alike their wording
    for item in items.iter().filter(|i| !i["duplicate_of"].is_null()) {
        let original = items
            .iter()
            .find(|o| o["id"] == item["duplicate_of"])
            .unwrap();
        assert_eq!(
            (
                &original["symbols"],
                &original["published"].as_str().unwrap()[..10]
            ),
            (&item["symbols"], &item["published"].as_str().unwrap()[..10]),
            "{item} duplicates {original}"
        );
    }
    assert!(directed >= 50 && share >= 0.8, "{agree}/{directed}");
}
