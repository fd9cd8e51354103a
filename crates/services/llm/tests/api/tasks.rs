//! The tasks, over a real emotion service (news and sentiment) with the other peers away:
//! answers cite the items they read, say what they could not read, and are in the asker's
//! language; summaries count and cite a day's news; explanations need the decision engine.

use common::service::testing::{Spawned, spawn};
use proto::llm::v1::llm_service_client::LlmServiceClient;
use serde_json::{Value, json};

use crate::helpers::{NO_PEERS, TestApp};

/// The market clock of the tests: noon of 2026-12-01 in Vietnam, whenever they run.
const NOON: &str = "2026-12-01T12:00:00+07:00";

/// An emotion service that knows FPT and VNM and holds three items of 2026-12-01.
async fn emotion_with_news() -> Spawned {
    let emotion = spawn::<emotion::App>(&[("EMOTION__CLOCK__START", NOON)])
        .await
        .unwrap();
    for (symbol, name) in [
        ("FPT", "Công ty Cổ phần FPT"),
        ("VNM", "Công ty Cổ phần Sữa Việt Nam"),
    ] {
        let security = proto::market::v1::Security {
            symbol: symbol.into(),
            name: name.into(),
            exchange: "HOSE".into(),
            ..Default::default()
        };
        emotion
            .bus
            .publish(
                common::bus::topics::MASTERDATA_SECURITY.static_name(),
                &common::bus::Envelope::new("test", symbol, &security),
            )
            .await
            .unwrap();
    }
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let s: Value = http
            .get(emotion.http_url("/api/emotion/v1/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["securities"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let items = json!({"source": "cafef", "items": [
        {"id": "a", "title": "FPT reports record profit, shares jump", "url": "https://cafef.example/a",
         "published": "2026-12-01T02:00:00Z", "lang": "en"},
        {"id": "b", "title": "FPT loses a large contract, analysts cut targets", "url": "https://cafef.example/b",
         "published": "2026-12-01T03:00:00Z", "lang": "en"},
        {"id": "c", "title": "Cổ phiếu VNM giảm sàn sau khi Vinamilk báo lỗ", "url": "https://cafef.example/c",
         "published": "2026-12-01T04:00:00Z", "lang": "vi"},
    ]});
    let r = http
        .post(emotion.http_url("/api/emotion/v1/items"))
        .json(&items)
        .send()
        .await
        .unwrap();
    let outcomes: Value = r.json().await.unwrap();
    assert!(
        outcomes
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "new"),
        "{outcomes}"
    );
    emotion
}

fn kinds(answer: &Value) -> Vec<&str> {
    answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect()
}

fn titles(answer: &Value, kind: &str) -> Vec<String> {
    answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == kind)
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn with_emotion(emotion: &Spawned, env: &[(&str, &str)]) -> TestApp {
    let url = emotion.grpc_url();
    let mut all: Vec<(&str, &str)> = NO_PEERS
        .iter()
        .copied()
        .filter(|(k, _)| *k != "LLM__PEERS__EMOTION")
        .collect();
    all.push(("LLM__PEERS__EMOTION", url.as_str()));
    all.push(("LLM__CLOCK__START", NOON));
    all.extend_from_slice(env);
    crate::helpers::spawn_with(&all).await
}

#[tokio::test]
async fn questions_summaries_and_explanations_cite_what_they_read() {
    let emotion = emotion_with_news().await;
    let app = with_emotion(&emotion, &[]).await;

    let (status, a) = app
        .call(
            "POST",
            "/v1/tasks/ask",
            Some(json!({"question": "What is the news on FPT?"})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["symbols"], json!(["FPT"]));
    assert_eq!(a["lang"], "en");
    assert_eq!(a["model"], "extractive");
    assert_eq!(kinds(&a), ["sentiment", "news", "news"], "{a}");
    assert_eq!(
        titles(&a, "news"),
        [
            "FPT loses a large contract, analysts cut targets",
            "FPT reports record profit, shares jump"
        ]
    );
    assert_eq!(a["sources"][1]["url"], "https://cafef.example/b");
    assert_eq!(a["sources"][1]["at"], "2026-12-01T03:00:00Z");
    let text = a["text"].as_str().unwrap();
    assert!(
        text.contains("Latest news on FPT: \"FPT loses a large contract"),
        "{text}"
    );
    assert!(text.contains("[1]") && text.contains("[3]"), "{text}");
    // what could not be read is said, not hidden
    assert!(text.contains("Not available now: master data"), "{text}");
    assert!(text.contains("market data"), "{text}");

    // asked in Vietnamese, answered in Vietnamese; a market question reads the market's news
    let (status, vi) = app
        .call(
            "POST",
            "/v1/tasks/ask",
            Some(json!({"question": "Thị trường hôm nay có tin gì?"})),
        )
        .await;
    assert_eq!(status, 200, "{vi}");
    assert_eq!(vi["lang"], "vi");
    assert_eq!(vi["symbols"], json!([]));
    assert!(
        vi["text"]
            .as_str()
            .unwrap()
            .contains("Tin mới nhất về thị trường"),
        "{vi}"
    );
    assert_eq!(titles(&vi, "news").len(), 3, "{vi}");

    // a portfolio asked for is read from the OMS, which is away here
    let (status, p) = app
        .call(
            "POST",
            "/v1/tasks/ask",
            Some(json!({"question": "How is my FPT?", "account": "A1"})),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert!(p["text"].as_str().unwrap().contains("portfolio:"), "{p}");

    // the same over gRPC
    let mut grpc = LlmServiceClient::connect(app.app.grpc_url()).await.unwrap();
    let g = grpc
        .ask(proto::llm::v1::AskRequest {
            question: "What is the news on FPT?".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(g.text, a["text"].as_str().unwrap());
    assert_eq!(g.sources.len(), 3);

    // a day's news, counted and cited
    let (status, s) = app
        .call(
            "POST",
            "/v1/tasks/summarise",
            Some(json!({"symbol": "fpt", "date": "2026-12-01"})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let text = s["text"].as_str().unwrap();
    assert!(
        text.starts_with("2 news items on FPT on 2026-12-01: 1 positive, 1 negative, 0 neutral"),
        "{text}"
    );
    assert_eq!(kinds(&s), ["news", "news"]);
    let (_, market) = app
        .call(
            "POST",
            "/v1/tasks/summarise",
            Some(json!({"date": "2026-12-01", "lang": "vi"})),
        )
        .await;
    assert!(
        market["text"]
            .as_str()
            .unwrap()
            .starts_with("3 tin về thị trường ngày 2026-12-01"),
        "{market}"
    );
    let (_, none) = app
        .call(
            "POST",
            "/v1/tasks/summarise",
            Some(json!({"symbol": "FPT", "date": "2026-11-30"})),
        )
        .await;
    assert_eq!(none["text"], "No news on FPT on 2026-11-30.");
    let s = grpc
        .summarise(proto::llm::v1::SummariseRequest {
            symbol: "VNM".into(),
            date: "2026-12-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        s.sources[0].title,
        "Cổ phiếu VNM giảm sàn sau khi Vinamilk báo lỗ"
    );

    // an explanation needs the decision engine
    let (status, e) = app
        .call(
            "POST",
            "/v1/tasks/explain",
            Some(json!({"decision_id": "golden:s1"})),
        )
        .await;
    assert_eq!(status, 503, "{e}");

    // refusals
    for (path, body) in [
        ("/v1/tasks/ask", json!({"question": " "})),
        ("/v1/tasks/ask", json!({"question": "x", "lang": "fr"})),
        ("/v1/tasks/ask", json!({"question": "x", "symbol": "F T"})),
        ("/v1/tasks/ask", json!({"question": "x", "account": "a b"})),
        ("/v1/tasks/ask", json!({"question": "x", "extra": 1})),
        ("/v1/tasks/summarise", json!({"date": "1 Dec"})),
        ("/v1/tasks/explain", json!({"decision_id": ""})),
    ] {
        let (status, body) = app.call("POST", path, Some(body)).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    let (status, body) = app
        .call(
            "POST",
            "/v1/tasks/ask",
            Some(json!({"question": "x", "model": "gpt-9"})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn an_answer_recalls_the_askers_memory_and_a_model_can_write_it() {
    let Some(dir) = crate::helpers::models_dir() else {
        return;
    };
    let emotion = emotion_with_news().await;
    // a short written answer: the model is unoptimised in test builds
    let app = with_emotion(
        &emotion,
        &[
            ("LLM__LLM__MODELS_DIR", dir.as_str()),
            ("LLM__LLM__TASKS__MAX_TOKENS", "16"),
        ],
    )
    .await;
    let (status, _) = app
        .call(
            "POST",
            "/v1/memory",
            Some(json!({"text": "I bought FPT for its dividends"})),
        )
        .await;
    assert_eq!(status, 200);
    // what the asker states while asking is remembered too
    let (status, a) = app
        .call(
            "POST",
            "/v1/tasks/ask",
            Some(json!({"question": "My FPT target is 150,000. Why did I buy FPT?"})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    let memories = titles(&a, "memory");
    assert!(
        memories.contains(&"I bought FPT for its dividends".to_owned()),
        "{a}"
    );
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("You told me: \"I bought FPT for its dividends\""),
        "{a}"
    );
    let (_, mine) = app.call("GET", "/v1/memory", None).await;
    let texts: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"My FPT target is 150,000"), "{mine}");

    // the offline chat model writes from the same numbered sources
    let (status, w) = app
        .call(
            "POST",
            "/v1/tasks/ask",
            Some(json!({"question": "What is the news on FPT?", "model": "smollm2-135m-instruct"})),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["model"], "smollm2-135m-instruct");
    assert!(!w["text"].as_str().unwrap().trim().is_empty());
    assert_eq!(titles(&w, "news").len(), 2, "{w}");
}
