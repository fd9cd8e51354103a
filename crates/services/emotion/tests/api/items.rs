//! Items pushed by integrations: read, linked, deduplicated, scored, stored and published; the
//! series; the queries and their refusals; a restart keeps everything.

use std::time::Duration;

use common::bus::topics::{NEWS_ITEM, SENTIMENT_ITEM, SENTIMENT_SERIES};
use proto::emotion::v1 as pb;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_with};

fn post(id: &str, text: &str) -> Value {
    json!({"id": id, "text": text, "published": "2026-12-01T02:00:00Z"})
}

#[tokio::test]
async fn a_post_is_linked_scored_stored_and_published_once() {
    let app = spawn_app().await;
    app.with_securities().await;
    let mut sub = app
        .app
        .bus
        .subscribe(
            "test",
            &[
                NEWS_ITEM.static_name(),
                SENTIMENT_ITEM.static_name(),
                SENTIMENT_SERIES.static_name(),
            ],
        )
        .await
        .unwrap();
    let a = app
        .call(
            "POST",
            "/v1/items",
            Some(json!({"source": "forum.f319", "items": [
                post("p1", "Hòa Phát báo lãi kỷ lục, cổ phiếu HPG tăng trần"),
                post("p2", "Vinamilk lỗ nặng, cổ phiếu giảm sàn"),
                {"id": "p3", "title": "", "text": "   "},
            ]})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let outcomes = a.body.as_array().unwrap();
    assert_eq!(outcomes[0]["status"], "new");
    assert_eq!(outcomes[1]["status"], "new");
    assert_eq!(outcomes[2]["status"], "rejected");
    assert_eq!(outcomes[2]["detail"], "no title and no text");
    let id = outcomes[0]["item_id"].as_str().unwrap().to_owned();

    let item = app.call("GET", &format!("/v1/items/{id}"), None).await.body;
    assert_eq!(item["symbols"], json!(["HPG"]));
    assert_eq!(item["lang"], "vi");
    assert_eq!(item["source"], "forum.f319");
    assert_eq!(item["published"], "2026-12-01T02:00:00Z");
    assert_eq!(item["sentiment"]["label"], "positive");
    assert!(
        item["sentiment"]["hits"].as_array().unwrap().len() >= 2,
        "{item}"
    );
    let other = app
        .call(
            "GET",
            &format!("/v1/items/{}", outcomes[1]["item_id"].as_str().unwrap()),
            None,
        )
        .await
        .body;
    // "Vinamilk" is not master data's name (Sữa Việt Nam) and no ticker is written: no link
    assert_eq!(other["symbols"], json!([]));
    assert_eq!(other["sentiment"]["label"], "negative");

    // one news item, one score and two series points (HPG and MARKET) for the first item
    let mut seen: Vec<(String, String)> = Vec::new();
    while seen.len() < 7 {
        let d = tokio::time::timeout(Duration::from_secs(10), sub.poll(Duration::from_secs(1)))
            .await
            .expect("events")
            .unwrap();
        let Some(d) = d else { continue };
        let what = match d.topic.as_str() {
            "news.item.v1" => d.envelope.decode::<pb::NewsItem>().unwrap().id,
            "sentiment.item.v1" => d.envelope.decode::<pb::ItemSentiment>().unwrap().item_id,
            _ => {
                let p = d.envelope.decode::<pb::SentimentPoint>().unwrap();
                assert!((-1.0..=1.0).contains(&p.value));
                p.subject
            }
        };
        seen.push((d.topic.clone(), what));
    }
    assert!(seen.contains(&("news.item.v1".to_owned(), id.clone())));
    assert!(seen.contains(&("sentiment.item.v1".to_owned(), id.clone())));
    assert!(seen.contains(&("sentiment.series.v1".to_owned(), "HPG".to_owned())));
    assert_eq!(
        seen.iter()
            .filter(|(t, s)| t == "sentiment.series.v1" && s == "MARKET")
            .count(),
        2
    );

    // the same posts again are known; nothing more is published
    let again = app
        .call("POST", "/v1/items", Some(json!({"source": "forum.f319", "items": [post("p1", "Hòa Phát báo lãi kỷ lục, cổ phiếu HPG tăng trần")]})))
        .await;
    assert_eq!(again.body[0]["status"], "known");
    assert_eq!(again.body[0]["item_id"], id.as_str());
    assert!(
        sub.poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_near_duplicate_is_stored_but_not_counted_again() {
    let app = spawn_app().await;
    app.with_securities().await;
    let first = app
        .call("POST", "/v1/items", Some(json!({"source": "cafef", "items": [
            post("a", "Hòa Phát báo lãi quý III tăng 40% so với cùng kỳ, cổ phiếu HPG tăng mạnh")]})))
        .await;
    let original = first.body[0]["item_id"].as_str().unwrap().to_owned();
    let copy = app
        .call("POST", "/v1/items", Some(json!({"source": "vietstock", "items": [
            post("b", "HOÀ PHÁT báo lãi quý III tăng 40% so với cùng kỳ; cổ phiếu HPG tăng mạnh!")]})))
        .await;
    assert_eq!(copy.body[0]["status"], "duplicate", "{:?}", copy.body);
    assert_eq!(
        copy.body[0]["detail"],
        format!("near-duplicate of {original}")
    );
    let hpg = app.call("GET", "/v1/sentiment/HPG", None).await.body;
    assert_eq!(hpg["items_24h"], 1, "{hpg}");
    assert_eq!(hpg["last_item_id"], original.as_str());
    let listed = app.call("GET", "/v1/items?symbol=HPG", None).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let all = app
        .call("GET", "/v1/items?symbol=HPG&duplicates=true", None)
        .await
        .body;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["duplicate_of"], original.as_str());
}

#[tokio::test]
async fn the_series_moves_with_the_news_and_lists_filter() {
    let app = spawn_app().await;
    app.with_securities().await;
    let items = json!({"source": "wire", "items": [
        {"id": "1", "title": "FPT wins record $200 million contract, shares surge", "published": "2026-12-01T01:00:00Z"},
        {"id": "2", "title": "FPT beats estimates as profit soars", "published": "2026-12-01T02:00:00Z"},
        {"id": "3", "title": "Cổ phiếu VCB lao dốc, khối ngoại bán ròng mạnh", "published": "2026-12-01T03:00:00Z"},
    ]});
    let a = app.call("POST", "/v1/items", Some(items)).await;
    assert!(
        a.body
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "new"),
        "{:?}",
        a.body
    );
    let fpt = app.call("GET", "/v1/sentiment/fpt", None).await;
    assert_eq!(fpt.status, 200);
    assert!(fpt.body["value"].as_f64().unwrap() > 0.3, "{:?}", fpt.body);
    assert_eq!(fpt.body["items_24h"], 2);
    let vcb = app.call("GET", "/v1/sentiment/VCB", None).await.body;
    assert!(vcb["value"].as_f64().unwrap() < -0.3, "{vcb}");
    let market = app.call("GET", "/v1/sentiment/MARKET", None).await.body;
    assert_eq!(market["items_24h"], 3);
    let all = app.call("GET", "/v1/sentiment", None).await.body;
    let subjects: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["FPT", "MARKET", "VCB"]);

    let en = app.call("GET", "/v1/items?lang=en", None).await.body;
    assert_eq!(en.as_array().unwrap().len(), 2);
    assert_eq!(en[0]["guid"], "2", "newest first");
    let negative = app.call("GET", "/v1/items?label=negative", None).await.body;
    assert_eq!(negative[0]["guid"], "3");
    let page = app
        .call("GET", "/v1/items?before=2026-12-01T02:00:00Z", None)
        .await
        .body;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["guid"], "1");

    let history = app
        .call(
            "GET",
            "/v1/sentiment/FPT/history?hours=2160&step_minutes=1440",
            None,
        )
        .await;
    assert_eq!(history.status, 200, "{:?}", history.body);
    let last = history.body.as_array().unwrap().last().unwrap().clone();
    assert!((last["value"].as_f64().unwrap() - fpt.body["value"].as_f64().unwrap()).abs() < 1e-9);
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_reason() {
    let app = spawn_app().await;
    for (method, path, body, needle) in [
        (
            "POST",
            "/v1/items",
            json!({"source": "Bad Name", "items": []}),
            "source",
        ),
        (
            "POST",
            "/v1/items",
            json!({"source": "ok", "items": [{"text": "x", "published": "yesterday"}]}),
            "RFC 3339",
        ),
        (
            "POST",
            "/v1/items",
            json!({"source": "ok", "items": [{"text": "x", "lang": "fr"}]}),
            "lang",
        ),
        (
            "POST",
            "/v1/items",
            json!({"source": "ok", "items": [], "extra": 1}),
            "unknown field",
        ),
        ("POST", "/v1/score", json!({"text": ""}), "empty"),
        (
            "POST",
            "/v1/score",
            json!({"text": "x".repeat(20_001)}),
            "longer",
        ),
        ("GET", "/v1/items?limit=501", Value::Null, "limit"),
        (
            "GET",
            "/v1/items?symbol=not%20a%20ticker",
            Value::Null,
            "ticker",
        ),
        ("GET", "/v1/items?label=happy", Value::Null, "label"),
        ("GET", "/v1/items?before=soon", Value::Null, "RFC 3339"),
        ("GET", "/v1/sentiment/!!", Value::Null, "MARKET"),
        (
            "GET",
            "/v1/sentiment/FPT/history?step_minutes=0",
            Value::Null,
            "step_minutes",
        ),
        (
            "GET",
            "/v1/sentiment/FPT/history?hours=9999",
            Value::Null,
            "hours",
        ),
    ] {
        let body = (!body.is_null()).then_some(body);
        let a = app.call(method, path, body).await;
        assert_eq!(a.status, 400, "{path}: {:?}", a.body);
        assert!(
            a.body["message"].as_str().unwrap().contains(needle),
            "{path}: {:?}",
            a.body
        );
    }
    let many: Vec<Value> = (0..501)
        .map(|i| json!({"text": format!("post {i}")}))
        .collect();
    let a = app
        .call(
            "POST",
            "/v1/items",
            Some(json!({"source": "ok", "items": many})),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body["message"].as_str().unwrap().contains("at most 500"));
    assert_eq!(app.call("GET", "/v1/items/nope", None).await.status, 404);
    assert_eq!(app.call("GET", "/v1/sentiment/HPG", None).await.status, 404);
}

#[tokio::test]
async fn scoring_a_text_over_http_and_grpc_agree() {
    let app = spawn_app().await;
    let a = app
        .call(
            "POST",
            "/v1/score",
            Some(json!({"text": "Lợi nhuận không đạt kế hoạch, cổ phiếu giảm mạnh"})),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["lang"], "vi");
    assert_eq!(a.body["label"], "negative");
    let g = app
        .grpc()
        .await
        .score_text(pb::ScoreTextRequest {
            text: "Lợi nhuận không đạt kế hoạch, cổ phiếu giảm mạnh".into(),
            lang: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!((g.compound - a.body["compound"].as_f64().unwrap()).abs() < 1e-12);
    let submitted = app
        .grpc()
        .await
        .submit_items(pb::SubmitItemsRequest {
            source: "grpc-test".into(),
            items: vec![pb::SubmittedItem {
                title: "Vietcombank profit jumps to a record".into(),
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.outcomes[0].status, "new");
    assert!(
        submitted.outcomes[0].guid.starts_with("text-"),
        "an id from the text"
    );
    let listed = app
        .grpc()
        .await
        .list_items(pb::ListItemsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        listed.items[0].sentiment.as_ref().unwrap().label,
        "positive"
    );
    let market = app
        .grpc()
        .await
        .get_sentiment(pb::GetSentimentRequest {
            subject: "market".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(market.items_24h, 1);
    let bad = app
        .grpc()
        .await
        .get_sentiment(pb::GetSentimentRequest {
            subject: "??".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn items_and_series_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("emotion.db").display()
    );
    let env = [("EMOTION__DATABASE__URL", db.as_str())];
    let app = spawn_with(&env).await;
    let text = "Masan báo lãi kỷ lục nhờ mảng bán lẻ khởi sắc";
    app.call(
        "POST",
        "/v1/items",
        Some(json!({"source": "s", "items": [post("m1", text)]})),
    )
    .await;
    let before = app.call("GET", "/v1/sentiment/MARKET", None).await.body;
    app.app.stop().await.unwrap();

    let again = spawn_with(&env).await;
    let after = again.call("GET", "/v1/sentiment/MARKET", None).await.body;
    assert_eq!(after["value"], before["value"]);
    assert_eq!(after["last_item_id"], before["last_item_id"]);
    // the near-duplicate window is rebuilt too
    let copy = again
        .call(
            "POST",
            "/v1/items",
            Some(json!({"source": "other", "items": [post("m2", &format!("{text}!"))]})),
        )
        .await;
    assert_eq!(copy.body[0]["status"], "duplicate");
}

#[tokio::test]
async fn postgres_stores_and_lists_like_sqlite() {
    let Some(url) = common::service::testing::server("TEST_DATABASE_URL") else {
        return;
    };
    let db = common::service::testing::fresh_database(&url, "emotion")
        .await
        .unwrap();
    let app = spawn_with(&[("EMOTION__DATABASE__URL", db.as_str())]).await;
    app.with_securities().await;
    let a = app
        .call(
            "POST",
            "/v1/items",
            Some(json!({"source": "pg", "items": [
                post("1", "HPG tăng trần, khối ngoại mua ròng"),
                post("2", "HPG tăng trần, khối ngoại mua ròng!"),
            ]})),
        )
        .await;
    assert_eq!(a.body[0]["status"], "new", "{:?}", a.body);
    assert_eq!(a.body[1]["status"], "duplicate");
    let listed = app
        .call("GET", "/v1/items?symbol=HPG&duplicates=true", None)
        .await
        .body;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["sentiment"]["label"], "positive");
    let known = app
        .call(
            "POST",
            "/v1/items",
            Some(json!({"source": "pg", "items": [post("1", "x")]})),
        )
        .await;
    assert_eq!(known.body[0]["status"], "known");
}
