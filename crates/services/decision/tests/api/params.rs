//! A strategy's parameters set over the API outlive a restart (stored over the settings).

use common::service::testing::spawn;
use serde_json::{Value, json};

use crate::helpers::put_json;

async fn strategy(url: String, id: &str) -> Value {
    let all: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn parameters_set_over_the_api_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("decision.db").display()
    );
    let env = [("DECISION__DATABASE__URL", db.as_str())];
    let app = spawn::<decision::App>(&env).await.unwrap();
    let r = put_json(app.http_url("/api/decision/v1/strategies/rsi-reversion/params"), &json!({"timeframes": ["1h"], "symbols": ["FPT", "SSI"],
                      "sizing": {"kind": "percent_of_capital", "capital": 500000000, "percent": 2.5}})).await;
    assert_eq!(r.status(), 200);
    app.stop().await.unwrap();

    let again = spawn::<decision::App>(&env).await.unwrap();
    let s = strategy(
        again.http_url("/api/decision/v1/strategies"),
        "rsi-reversion",
    )
    .await;
    assert_eq!(
        (&s["timeframes"], &s["symbols"], &s["sizing"]["percent"]),
        (&json!(["1h"]), &json!(["FPT", "SSI"]), &json!(2.5)),
        "{s}"
    );
    // The others keep their settings.
    let ma = strategy(again.http_url("/api/decision/v1/strategies"), "ma-cross").await;
    assert_eq!(ma["timeframes"], json!(["1D", "1h"]), "{ma}");
    again.stop().await.unwrap();
}
