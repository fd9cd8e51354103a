//! HTTP adapter: the OpenAI API (`/v1/models`, `/v1/embeddings`, `/v1/chat/completions` with
//! server-sent events when `stream` is true), so that any OpenAI client pointed at
//! `<gateway>/api/llm/v1` works unchanged. Refusals are the fleet's `{"code","message"}` body
//! with the HTTP status OpenAI uses for them.

use std::convert::Infallible;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use common::error::{ApiError, Kind};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openai::{self, AssistantMessage, Choice, Chunk, ChunkChoice, Delta};
use crate::service::{Llm, Piece, finish_reason};

/// The service's routes.
pub(crate) fn router(llm: Llm) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_models))
        .routes(routes!(embeddings))
        .routes(routes!(chat_completions))
        .with_state(llm)
}

/// A JSON request body as `T`.
fn parse<T: serde::de::DeserializeOwned>(b: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(b)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))
}

/// The `model` a JSON request body names.
fn model_of(b: &Bytes) -> Result<String, ApiError> {
    #[derive(serde::Deserialize)]
    struct Named {
        model: String,
    }
    parse::<Named>(b).map(|n| n.model)
}

/// The models served.
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses((status = 200, description = "Models", body = openai::ModelList)))]
async fn list_models(State(llm): State<Llm>) -> Json<openai::ModelList> {
    Json(openai::ModelList {
        object: "list".to_owned(),
        data: llm.models(),
    })
}

/// Embeddings of one text or several (OpenAI's `POST /v1/embeddings`).
#[utoipa::path(post, path = "/v1/embeddings", tag = "openai",
    request_body = openai::EmbeddingRequest,
    responses((status = 200, description = "One embedding per input", body = openai::EmbeddingResponse),
              (status = 400, description = "A bad input", body = common::error::ErrorBody),
              (status = 404, description = "No such model", body = common::error::ErrorBody),
              (status = 422, description = "The model is not installed here", body = common::error::ErrorBody)))]
async fn embeddings(State(llm): State<Llm>, b: Bytes) -> Result<Response, ApiError> {
    if let Some(remote) = llm.remote_for(&model_of(&b)?, false) {
        return remote.forward("/embeddings", b).await;
    }
    Ok(Json(llm.embeddings(parse(&b)?).await?).into_response())
}

/// A chat completion (OpenAI's `POST /v1/chat/completions`); with `"stream": true`, server-sent
/// events of `chat.completion.chunk`s ending with `data: [DONE]`.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai",
    request_body = openai::ChatRequest,
    responses((status = 200, description = "The completion, or its chunks as server-sent events", body = openai::ChatResponse),
              (status = 400, description = "A bad request", body = common::error::ErrorBody),
              (status = 404, description = "No such model", body = common::error::ErrorBody),
              (status = 422, description = "The model is not installed here", body = common::error::ErrorBody)))]
async fn chat_completions(State(llm): State<Llm>, b: Bytes) -> Result<Response, ApiError> {
    if let Some(remote) = llm.remote_for(&model_of(&b)?, true) {
        return remote.forward("/chat/completions", b).await;
    }
    let request: openai::ChatRequest = parse(&b)?;
    let stream = request.stream.unwrap_or(false);
    let include_usage = request
        .stream_options
        .as_ref()
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    let job = llm.chat_job(request)?;
    let model = job.model.clone();
    let mut pieces = llm.chat(job).await?;
    let id = format!("chatcmpl-{}", uuid::Uuid::now_v7().simple());
    let created = time::OffsetDateTime::now_utc().unix_timestamp();
    if !stream {
        let mut text = String::new();
        loop {
            match pieces.recv().await {
                Some(Piece::Text(t)) => text.push_str(&t),
                Some(Piece::Done(finish, usage)) => {
                    return Ok(Json(openai::ChatResponse {
                        id,
                        object: "chat.completion".to_owned(),
                        created,
                        model,
                        choices: vec![Choice {
                            index: 0,
                            message: AssistantMessage {
                                role: "assistant".to_owned(),
                                content: text,
                            },
                            finish_reason: finish_reason(finish).to_owned(),
                        }],
                        usage,
                    })
                    .into_response());
                }
                Some(Piece::Failed(e)) => return Err(ApiError::new(Kind::Internal, e)),
                None => return Err(ApiError::new(Kind::Internal, "the model stopped")),
            }
        }
    }
    let chunk = move |delta: Delta, finish: Option<&str>, usage: Option<openai::Usage>| {
        let c = Chunk {
            id: id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created,
            model: model.clone(),
            choices: if usage.is_some() && delta.content.is_none() && finish.is_none() {
                Vec::new()
            } else {
                vec![ChunkChoice {
                    index: 0,
                    delta,
                    finish_reason: finish.map(str::to_owned),
                }]
            },
            usage,
        };
        Event::default().data(serde_json::to_string(&c).unwrap_or_default())
    };
    let first = chunk(
        Delta {
            role: Some("assistant".to_owned()),
            content: Some(String::new()),
        },
        None,
        None,
    );
    // The events: the role, each piece, the finish, the usage when asked, `[DONE]`.
    let events = futures::stream::unfold(
        (Some(first), pieces, false, chunk),
        move |(pending, mut pieces, done, chunk)| async move {
            if let Some(e) = pending {
                return Some((vec![e], (None, pieces, done, chunk)));
            }
            if done {
                return None;
            }
            let events = match pieces.recv().await {
                Some(Piece::Text(t)) => vec![chunk(
                    Delta {
                        role: None,
                        content: Some(t),
                    },
                    None,
                    None,
                )],
                Some(Piece::Done(finish, usage)) => {
                    let mut v = vec![chunk(
                        Delta {
                            role: None,
                            content: None,
                        },
                        Some(finish_reason(finish)),
                        None,
                    )];
                    if include_usage {
                        v.push(chunk(
                            Delta {
                                role: None,
                                content: None,
                            },
                            None,
                            Some(usage),
                        ));
                    }
                    v.push(Event::default().data("[DONE]"));
                    return Some((v, (None, pieces, true, chunk)));
                }
                Some(Piece::Failed(e)) => {
                    tracing::warn!(error = %e, "generation failed midway");
                    return Some((
                        vec![Event::default().data("[DONE]")],
                        (None, pieces, true, chunk),
                    ));
                }
                None => return None,
            };
            Some((events, (None, pieces, false, chunk)))
        },
    );
    let events = futures::StreamExt::flat_map(events, |v| {
        futures::stream::iter(v.into_iter().map(Ok::<Event, Infallible>))
    });
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    // nginx (the gateway) passes each event on at once instead of buffering the stream
    response.headers_mut().insert(
        axum::http::HeaderName::from_static("x-accel-buffering"),
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(response)
}
