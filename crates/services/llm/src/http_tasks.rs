//! HTTP adapter of the memory (`/v1/memory...`) and the tasks (`/v1/tasks/...`). A person's
//! memories are theirs alone; a security's are everyone's to read, and ops' to delete.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use common::auth::Principal;
use common::error::{ApiError, Kind};
use proto::llm::v1 as pb;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::memories::{Change, Found, Memories};
use crate::memory::{Cite, Scope};
use crate::service::Error;
use crate::store::{Audit, Stored};
use crate::tasks::{Tasks, user_of};

/// Most memories one list or search returns.
pub(crate) const MAX_LIST: u32 = 200;
/// Most messages of one conversation handed to the memory.
pub(crate) const MAX_MESSAGES: usize = 100;

#[derive(Clone)]
struct Api {
    memories: Memories,
    tasks: Tasks,
}

/// The memory's and the tasks' routes.
pub(crate) fn router(memories: Memories, tasks: Tasks) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_memories, add_note))
        .routes(routes!(search_memories))
        .routes(routes!(learn_conversation))
        .routes(routes!(get_memory, delete_memory))
        .routes(routes!(memory_history))
        .routes(routes!(ask))
        .routes(routes!(summarise))
        .routes(routes!(explain))
        .with_state(Api { memories, tasks })
}

/// The caller, when tokens are checked; `None` when they are not.
type Caller = Option<Extension<Principal>>;

fn who(caller: &Caller) -> Option<&Principal> {
    caller.as_ref().map(|Extension(p)| p)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn unix(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(rfc3339)
        .unwrap_or_default()
}

/// The ticker of a symbol argument: `""` for `MARKET`.
fn subject_of(symbol: &str) -> Result<String, Error> {
    let s = symbol.trim().to_uppercase();
    if s == "MARKET" {
        return Ok(String::new());
    }
    if !crate::tasks::valid_symbol(&s) {
        return Err(Error::Invalid(format!("symbol {symbol:?}")));
    }
    Ok(s)
}

/// Whether `caller` may read memory `m`: a security's, or their own.
fn may_read(caller: Option<&Principal>, m: &Stored) -> bool {
    m.scope != Scope::User.as_str() || m.subject == user_of(caller)
}

/// Where a memory was learnt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CiteDto {
    /// `news`, `conversation` or `note`.
    kind: String,
    /// The news item's id.
    id: String,
    /// The headline, or who said it.
    title: String,
    url: String,
    /// RFC 3339.
    at: String,
}

impl From<Cite> for CiteDto {
    fn from(c: Cite) -> Self {
        CiteDto {
            kind: c.kind,
            id: c.id,
            title: c.title,
            url: c.url,
            at: unix(c.at),
        }
    }
}

/// A remembered fact.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemoryDto {
    id: String,
    /// `user` (a person's own) or `symbol` (a security's; subject `MARKET`: the market's).
    scope: String,
    /// The user id or the ticker.
    subject: String,
    text: String,
    /// What it was learnt from, newest first.
    sources: Vec<CiteDto>,
    /// RFC 3339.
    created: String,
    /// RFC 3339: last changed or confirmed.
    updated: String,
    /// 1, and one more at each update.
    revision: i32,
    /// Cosine similarity with the query (searches only).
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
}

fn subject_out(scope: &str, subject: String) -> String {
    if scope == Scope::Symbol.as_str() && subject.is_empty() {
        "MARKET".to_owned()
    } else {
        subject
    }
}

impl MemoryDto {
    fn of(m: Stored, score: Option<f32>) -> Self {
        MemoryDto {
            subject: subject_out(&m.scope, m.subject),
            id: m.id,
            scope: m.scope,
            text: m.text,
            sources: m.sources.into_iter().map(CiteDto::from).collect(),
            created: rfc3339(m.created),
            updated: rfc3339(m.updated),
            revision: m.revision,
            score,
        }
    }
}

/// A memory as protobuf.
pub(crate) fn memory_pb(m: Stored) -> pb::Memory {
    let ts = |t: OffsetDateTime| Some(common::bus::proto_time(t));
    pb::Memory {
        subject: subject_out(&m.scope, m.subject),
        id: m.id,
        scope: m.scope,
        text: m.text,
        sources: m
            .sources
            .into_iter()
            .map(|c| pb::Source {
                r#ref: String::new(),
                kind: c.kind,
                id: c.id,
                title: c.title,
                url: c.url,
                at: Some(prost_types::Timestamp {
                    seconds: c.at,
                    nanos: 0,
                }),
            })
            .collect(),
        created: ts(m.created),
        updated: ts(m.updated),
        revision: u32::try_from(m.revision).unwrap_or(0),
    }
}

/// What became of a fact.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangeDto {
    /// `add`, `keep` (cited again), `update` or `delete`.
    action: String,
    memory_id: String,
    /// The fact.
    text: String,
    /// The memory's text before (updates and deletes).
    before: String,
}

impl From<Change> for ChangeDto {
    fn from(c: Change) -> Self {
        ChangeDto {
            action: c.action.to_owned(),
            memory_id: c.memory_id,
            text: c.text,
            before: c.before,
        }
    }
}

/// One change to a memory.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditDto {
    memory_id: String,
    /// `add`, `keep`, `update` or `delete`.
    action: String,
    before: String,
    after: String,
    /// The source that caused it.
    source: Option<CiteDto>,
    /// A user id, `news`, or `capacity (...)`.
    actor: String,
    /// RFC 3339.
    at: String,
}

impl From<Audit> for AuditDto {
    fn from(a: Audit) -> Self {
        AuditDto {
            memory_id: a.memory_id,
            action: a.action,
            before: a.before,
            after: a.after,
            source: a.source.map(CiteDto::from),
            actor: a.actor,
            at: rfc3339(a.at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// A ticker (or `MARKET`): that security's memories; absent: the caller's own.
    symbol: Option<String>,
    /// 1 … 200; default 50.
    limit: Option<u32>,
}

/// Memories, most recently confirmed first: a security's, or the caller's own.
#[utoipa::path(get, path = "/v1/memory", tag = "memory", params(ListQuery),
    responses((status = 200, description = "Memories", body = [MemoryDto]),
              (status = 400, description = "A bad symbol or limit", body = common::error::ErrorBody)))]
async fn list_memories(
    State(api): State<Api>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<MemoryDto>>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Error::Invalid(format!("limit: 1 to {MAX_LIST}")).into());
    }
    let (scope, subject) = match &q.symbol {
        Some(s) => (Scope::Symbol, subject_of(s)?),
        None => (Scope::User, user_of(who(&caller))),
    };
    let list = api.memories.list(scope, &subject, limit).await?;
    Ok(Json(
        list.into_iter().map(|m| MemoryDto::of(m, None)).collect(),
    ))
}

/// A note to remember.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteDto {
    /// The fact as the caller wants it remembered, 1 to 400 characters.
    text: String,
}

/// Remembers a fact for the caller (kept, updated or deleting a memory it retracts, as a fact
/// from a conversation would).
#[utoipa::path(post, path = "/v1/memory", tag = "memory", request_body = NoteDto,
    responses((status = 200, description = "What became of it", body = ChangeDto),
              (status = 400, description = "A bad text", body = common::error::ErrorBody),
              (status = 422, description = "The embedding model is not installed", body = common::error::ErrorBody)))]
async fn add_note(
    State(api): State<Api>,
    caller: Caller,
    b: Result<Json<NoteDto>, JsonRejection>,
) -> Result<Json<ChangeDto>, ApiError> {
    let note = body(b)?;
    let change = api
        .memories
        .note(&user_of(who(&caller)), &note.text)
        .await?;
    Ok(Json(change.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// What to look for, 1 to 2000 characters.
    q: String,
    /// That security's memories and the market's.
    symbol: Option<String>,
    /// The caller's own memories too (default: true when no symbol is given).
    mine: Option<bool>,
    /// 1 … 50; default 10.
    limit: Option<u32>,
}

/// Memories nearest in meaning to `query` among the caller's own (when `mine`) and a
/// security's with the market's (when `symbol` is set).
pub(crate) async fn search(
    memories: &Memories,
    caller: Option<&Principal>,
    query: &str,
    symbol: &str,
    mine: bool,
    limit: u32,
) -> Result<Vec<Found>, Error> {
    let limit = if limit == 0 { 10 } else { limit };
    if limit > 50 {
        return Err(Error::Invalid("limit: 1 to 50".to_owned()));
    }
    let mut subjects = Vec::new();
    if mine {
        subjects.push((Scope::User, user_of(caller)));
    }
    if !symbol.trim().is_empty() {
        let s = subject_of(symbol)?;
        if !s.is_empty() {
            subjects.push((Scope::Symbol, s));
        }
        subjects.push((Scope::Symbol, String::new()));
    }
    if subjects.is_empty() {
        return Err(Error::Invalid(
            "search the caller's memories (mine), a symbol's, or both".to_owned(),
        ));
    }
    memories.search(query, &subjects, limit as usize).await
}

/// Memories nearest in meaning to a query, best first, with the sources each was learnt from.
#[utoipa::path(get, path = "/v1/memory/search", tag = "memory", params(SearchQuery),
    responses((status = 200, description = "Memories with their scores", body = [MemoryDto]),
              (status = 400, description = "A bad query", body = common::error::ErrorBody),
              (status = 422, description = "The embedding model is not installed", body = common::error::ErrorBody)))]
async fn search_memories(
    State(api): State<Api>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<MemoryDto>>, ApiError> {
    let symbol = q.symbol.unwrap_or_default();
    let mine = q.mine.unwrap_or(symbol.is_empty());
    let found = search(
        &api.memories,
        who(&caller),
        &q.q,
        &symbol,
        mine,
        q.limit.unwrap_or(10),
    )
    .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|f| MemoryDto::of(f.memory, Some(f.score)))
            .collect(),
    ))
}

/// One message of a conversation.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct MessageDto {
    /// `user`, `assistant` or `system`: only the user's are read.
    role: String,
    content: String,
}

/// A conversation to learn from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConversationDto {
    /// In order, 1 to 100 (OpenAI's `messages`).
    messages: Vec<MessageDto>,
}

/// Learns what the caller says about themselves in a conversation: the first-person statements
/// of their own messages (not questions, not the assistant's words) are added, kept, updated or
/// retract a memory.
#[utoipa::path(post, path = "/v1/memory/conversations", tag = "memory",
    request_body = ConversationDto,
    responses((status = 200, description = "What became of each fact", body = [ChangeDto]),
              (status = 400, description = "A bad conversation", body = common::error::ErrorBody),
              (status = 422, description = "The embedding model is not installed", body = common::error::ErrorBody)))]
async fn learn_conversation(
    State(api): State<Api>,
    caller: Caller,
    b: Result<Json<ConversationDto>, JsonRejection>,
) -> Result<Json<Vec<ChangeDto>>, ApiError> {
    let c = body(b)?;
    if c.messages.is_empty() || c.messages.len() > MAX_MESSAGES {
        return Err(Error::Invalid(format!("messages: 1 to {MAX_MESSAGES}")).into());
    }
    let mut messages = Vec::with_capacity(c.messages.len());
    for (i, m) in c.messages.into_iter().enumerate() {
        if !matches!(
            m.role.as_str(),
            "user" | "assistant" | "system" | "developer"
        ) {
            return Err(Error::Invalid(format!(
                "messages[{i}].role {:?}: user, assistant, system or developer",
                m.role
            ))
            .into());
        }
        if m.content.chars().count() > crate::memories::MAX_QUERY_CHARS * 4 {
            return Err(
                Error::Invalid(format!("messages[{i}]: longer than 8000 characters")).into(),
            );
        }
        messages.push((m.role, m.content));
    }
    let changes = api
        .memories
        .learn_from_conversation(&user_of(who(&caller)), &messages)
        .await?;
    Ok(Json(changes.into_iter().map(ChangeDto::from).collect()))
}

/// One memory with its sources.
#[utoipa::path(get, path = "/v1/memory/{id}", tag = "memory",
    params(("id" = String, Path, description = "The memory's id")),
    responses((status = 200, description = "The memory", body = MemoryDto),
              (status = 404, description = "No such memory of the caller's", body = common::error::ErrorBody)))]
async fn get_memory(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MemoryDto>, ApiError> {
    let m = api.memories.get(&id).await?;
    if !may_read(who(&caller), &m) {
        // another person's memory is not there for the caller
        return Err(Error::NotFound(format!("no memory {id:?}")).into());
    }
    Ok(Json(MemoryDto::of(m, None)))
}

/// Forgets a memory: the caller's own, or (ops) a security's. The audit keeps what it said.
#[utoipa::path(delete, path = "/v1/memory/{id}", tag = "memory",
    params(("id" = String, Path, description = "The memory's id")),
    responses((status = 200, description = "The memory forgotten", body = MemoryDto),
              (status = 403, description = "A security's memory, and the caller is not ops", body = common::error::ErrorBody),
              (status = 404, description = "No such memory of the caller's", body = common::error::ErrorBody)))]
async fn delete_memory(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MemoryDto>, ApiError> {
    let caller = who(&caller);
    let m = api.memories.get(&id).await?;
    if !may_read(caller, &m) {
        return Err(Error::NotFound(format!("no memory {id:?}")).into());
    }
    if m.scope == Scope::Symbol.as_str() && caller.is_some_and(|p| !p.has_role("ops")) {
        return Err(Error::Forbidden("a security's memories are deleted by ops".to_owned()).into());
    }
    let m = api.memories.forget(&id, &user_of(caller)).await?;
    Ok(Json(MemoryDto::of(m, None)))
}

/// Every change to a memory, oldest first — a deleted one's too.
#[utoipa::path(get, path = "/v1/memory/{id}/history", tag = "memory",
    params(("id" = String, Path, description = "The memory's id")),
    responses((status = 200, description = "Its audit entries", body = [AuditDto]),
              (status = 404, description = "No such memory of the caller's", body = common::error::ErrorBody)))]
async fn memory_history(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditDto>>, ApiError> {
    let history = api.memories.history(&id).await?;
    let mine = history
        .first()
        .is_some_and(|a| a.scope != Scope::User.as_str() || a.subject == user_of(who(&caller)));
    if !mine {
        return Err(Error::NotFound(format!("no memory {id:?}")).into());
    }
    Ok(Json(history.into_iter().map(AuditDto::from).collect()))
}

/// One source of an answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceDto {
    /// How the text cites it: `1` for `[1]`.
    r#ref: String,
    /// `news`, `sentiment`, `memory`, `market`, `portfolio`, `decision` or `order`.
    kind: String,
    id: String,
    title: String,
    url: String,
    /// RFC 3339, when it has a time.
    at: Option<String>,
}

/// A task's answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AnswerDto {
    /// The answer, citing its sources as `[1]`, `[2]`, ...
    text: String,
    sources: Vec<SourceDto>,
    /// The chat model that wrote the text, or `extractive` (composed from the sources).
    model: String,
    /// The securities it is about.
    symbols: Vec<String>,
    /// `vi` or `en`.
    lang: String,
}

impl From<pb::Answer> for AnswerDto {
    fn from(a: pb::Answer) -> Self {
        AnswerDto {
            text: a.text,
            sources: a
                .sources
                .into_iter()
                .map(|s| SourceDto {
                    r#ref: s.r#ref,
                    kind: s.kind,
                    id: s.id,
                    title: s.title,
                    url: s.url,
                    at: s.at.map(|t| unix(t.seconds)),
                })
                .collect(),
            model: a.model,
            symbols: a.symbols,
            lang: a.lang,
        }
    }
}

/// A trader's question.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskDto {
    /// 1 to 2000 characters, Vietnamese or English.
    question: String,
    /// The security it is about; absent: the tickers the question names.
    symbol: Option<String>,
    /// The account whose portfolio to read (one of the caller's); absent: a trader's first.
    account: Option<String>,
    /// A chat model to write the answer (`smollm2-135m-instruct`, a remote one, or
    /// `extractive`); absent: `llm.tasks.model`.
    model: Option<String>,
    /// `vi` or `en`; absent: the question's language.
    lang: Option<String>,
}

/// Answers a trader's question over the news, the market data, their own portfolio (read only)
/// and the memory, citing every source it used.
#[utoipa::path(post, path = "/v1/tasks/ask", tag = "tasks", request_body = AskDto,
    responses((status = 200, description = "The answer with its sources", body = AnswerDto),
              (status = 400, description = "A bad question", body = common::error::ErrorBody),
              (status = 403, description = "Not one of the caller's accounts", body = common::error::ErrorBody)))]
async fn ask(
    State(api): State<Api>,
    caller: Caller,
    b: Result<Json<AskDto>, JsonRejection>,
) -> Result<Json<AnswerDto>, ApiError> {
    let a = body(b)?;
    let answer = api
        .tasks
        .ask(
            who(&caller),
            pb::AskRequest {
                question: a.question,
                symbol: a.symbol.unwrap_or_default(),
                account: a.account.unwrap_or_default(),
                model: a.model.unwrap_or_default(),
                lang: a.lang.unwrap_or_default(),
            },
        )
        .await?;
    Ok(Json(answer.into()))
}

/// A day's news to summarise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SummariseDto {
    /// A ticker; absent: the whole market.
    symbol: Option<String>,
    /// `YYYY-MM-DD` (Vietnam time); absent: today.
    date: Option<String>,
    model: Option<String>,
    /// `vi` or `en` (default).
    lang: Option<String>,
}

/// Summarises a day's news for a security or the market: how many items, their sentiment, the
/// most telling ones cited.
#[utoipa::path(post, path = "/v1/tasks/summarise", tag = "tasks", request_body = SummariseDto,
    responses((status = 200, description = "The summary with its sources", body = AnswerDto),
              (status = 400, description = "A bad symbol or date", body = common::error::ErrorBody),
              (status = 503, description = "The emotion service did not answer", body = common::error::ErrorBody)))]
async fn summarise(
    State(api): State<Api>,
    b: Result<Json<SummariseDto>, JsonRejection>,
) -> Result<Json<AnswerDto>, ApiError> {
    let s = body(b)?;
    let answer = api
        .tasks
        .summarise(pb::SummariseRequest {
            symbol: s.symbol.unwrap_or_default(),
            date: s.date.unwrap_or_default(),
            model: s.model.unwrap_or_default(),
            lang: s.lang.unwrap_or_default(),
        })
        .await?;
    Ok(Json(answer.into()))
}

/// A decision to explain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExplainDto {
    /// The decision's id (`<strategy>:<signal id>`).
    decision_id: String,
    model: Option<String>,
    /// `vi` or `en` (default).
    lang: Option<String>,
}

/// Explains a decision of the decision engine from what it recorded: the signal and inputs it
/// acted on, what became of its order, the news known at the time.
#[utoipa::path(post, path = "/v1/tasks/explain", tag = "tasks", request_body = ExplainDto,
    responses((status = 200, description = "The explanation with its sources", body = AnswerDto),
              (status = 403, description = "Not a decision of the caller's accounts", body = common::error::ErrorBody),
              (status = 404, description = "No such decision", body = common::error::ErrorBody),
              (status = 503, description = "The decision engine or the OMS did not answer", body = common::error::ErrorBody)))]
async fn explain(
    State(api): State<Api>,
    caller: Caller,
    b: Result<Json<ExplainDto>, JsonRejection>,
) -> Result<Json<AnswerDto>, ApiError> {
    let e = body(b)?;
    let answer = api
        .tasks
        .explain(
            who(&caller),
            pb::ExplainRequest {
                decision_id: e.decision_id,
                model: e.model.unwrap_or_default(),
                lang: e.lang.unwrap_or_default(),
            },
        )
        .await?;
    Ok(Json(answer.into()))
}
