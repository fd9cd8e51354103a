//! HTTP adapter: rule sets and their versions (write, submit, send back, approve, roll back,
//! retire), validation, evaluation, what-if and the audit of evaluations. Every refusal is the
//! `{"code","message"}` body; a document's problems are each named by where they are.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use common::error::{ApiError, Kind};
use rules::{Outcome, RuleSetDoc, Target};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::{Evaluation, HistoryEntry, RuleBook, SetSummary, Version, WhatIf};

/// The service's routes.
pub(crate) fn router(book: RuleBook) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(schema))
        .routes(routes!(validate))
        .routes(routes!(list_sets, create))
        .routes(routes!(versions))
        .routes(routes!(history))
        .routes(routes!(get_version, edit))
        .routes(routes!(submit))
        .routes(routes!(send_back))
        .routes(routes!(approve))
        .routes(routes!(what_if))
        .routes(routes!(rollback))
        .routes(routes!(retire))
        .routes(routes!(evaluate))
        .routes(routes!(evaluations))
        .with_state(book)
}

/// The caller, when tokens are checked.
type Caller = Option<Extension<common::auth::Principal>>;

fn actor(caller: &Caller) -> String {
    caller
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), |Extension(p)| p.username.clone())
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(b)| b).map_err(|e| {
        ApiError::new(
            Kind::InvalidArgument,
            format!("request body: {}", e.body_text()),
        )
    })
}

/// One variable rules may read.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VariableDto {
    name: &'static str,
    doc: &'static str,
    /// `int`, `double`, `string`, `bool` by field; empty for a map variable.
    fields: Vec<FieldDto>,
    /// For a map variable: its values' type.
    #[serde(skip_serializing_if = "Option::is_none")]
    map_of: Option<&'static str>,
}

/// One field of a variable.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldDto {
    name: &'static str,
    #[serde(rename = "type")]
    ty: &'static str,
    doc: &'static str,
}

/// What a target's rules read.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TargetDto {
    /// `order` or `decision`.
    target: &'static str,
    variables: Vec<VariableDto>,
}

fn scalar(s: rules::inputs::Scalar) -> &'static str {
    match s {
        rules::inputs::Scalar::Bool => "bool",
        rules::inputs::Scalar::Int => "int",
        rules::inputs::Scalar::Double => "double",
        rules::inputs::Scalar::String => "string",
    }
}

/// The targets and the typed variables their rules read (what an editor completes).
#[utoipa::path(get, path = "/v1/schema", tag = "rules",
    responses((status = 200, description = "Targets and their variables", body = [TargetDto])))]
async fn schema() -> Json<Vec<TargetDto>> {
    Json(
        Target::ALL
            .into_iter()
            .map(|t| TargetDto {
                target: t.name(),
                variables: t
                    .variables()
                    .iter()
                    .map(|v| VariableDto {
                        name: v.name,
                        doc: v.doc,
                        fields: v
                            .fields
                            .iter()
                            .map(|f| FieldDto {
                                name: f.name,
                                ty: scalar(f.ty),
                                doc: f.doc,
                            })
                            .collect(),
                        map_of: v.map_of.map(scalar),
                    })
                    .collect(),
            })
            .collect(),
    )
}

/// What validation found.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Validation {
    /// Whether it would compile and could be activated.
    valid: bool,
    /// Every problem, each named by where it is.
    problems: Vec<rules::Problem>,
    /// Estimated evaluation steps (when valid).
    cost: u64,
}

/// Checks a rule set document without saving it: parse, types, cost.
#[utoipa::path(post, path = "/v1/validate", tag = "rules", request_body = RuleSetDoc,
    responses((status = 200, description = "What validation found", body = Validation),
              (status = 400, description = "Not a rule set document", body = common::error::ErrorBody)))]
async fn validate(
    b: Result<Json<RuleSetDoc>, JsonRejection>,
) -> Result<Json<Validation>, ApiError> {
    let doc = body(b)?;
    Ok(Json(match doc.compile(1) {
        Ok(set) => Validation {
            valid: true,
            problems: Vec::new(),
            cost: set.cost(),
        },
        Err(problems) => Validation {
            valid: false,
            problems,
            cost: 0,
        },
    }))
}

/// Every rule set with its active and newest versions.
#[utoipa::path(get, path = "/v1/sets", tag = "rules",
    responses((status = 200, description = "Rule sets", body = [SetSummary])))]
async fn list_sets(State(b): State<RuleBook>) -> Result<Json<Vec<SetSummary>>, ApiError> {
    Ok(Json(b.sets().await?))
}

/// Saves a document as the next draft version of its set (the set is created at its first).
/// Refused with every problem when it does not compile.
#[utoipa::path(post, path = "/v1/sets", tag = "rules", request_body = RuleSetDoc,
    security(("bearer" = ["risk_officer"])),
    responses((status = 201, description = "The draft", body = Version),
              (status = 400, description = "The document's problems", body = common::error::ErrorBody)))]
async fn create(
    State(book): State<RuleBook>,
    caller: Caller,
    b: Result<Json<RuleSetDoc>, JsonRejection>,
) -> Result<(StatusCode, Json<Version>), ApiError> {
    let doc = body(b)?;
    Ok((
        StatusCode::CREATED,
        Json(book.create(&doc, &actor(&caller)).await?),
    ))
}

/// Every version of a set, newest first.
#[utoipa::path(get, path = "/v1/sets/{name}", tag = "rules",
    params(("name" = String, Path, description = "The set")),
    responses((status = 200, description = "Versions", body = [Version]),
              (status = 404, description = "No such set", body = common::error::ErrorBody)))]
async fn versions(
    State(b): State<RuleBook>,
    Path(name): Path<String>,
) -> Result<Json<Vec<Version>>, ApiError> {
    Ok(Json(b.versions(&name).await?))
}

/// How many.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Limit {
    /// At most this many (1 to 1000; default 100).
    limit: Option<u32>,
}

/// A set's history: every version created, edited, submitted, sent back, activated, rolled
/// back and retired, with who and when; newest first.
#[utoipa::path(get, path = "/v1/sets/{name}/history", tag = "rules",
    params(("name" = String, Path, description = "The set"), Limit),
    responses((status = 200, description = "History", body = [HistoryEntry]),
              (status = 404, description = "No such set", body = common::error::ErrorBody)))]
async fn history(
    State(b): State<RuleBook>,
    Path(name): Path<String>,
    Query(q): Query<Limit>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    Ok(Json(
        b.history(&name, q.limit.unwrap_or(100).clamp(1, 1000))
            .await?,
    ))
}

/// One version.
#[utoipa::path(get, path = "/v1/sets/{name}/versions/{version}", tag = "rules",
    params(("name" = String, Path, description = "The set"),
           ("version" = i64, Path, description = "The version")),
    responses((status = 200, description = "The version", body = Version),
              (status = 404, description = "No such version", body = common::error::ErrorBody)))]
async fn get_version(
    State(b): State<RuleBook>,
    Path((name, version)): Path<(String, i64)>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(b.version(&name, version).await?))
}

/// Replaces a draft's document (same name and target).
#[utoipa::path(put, path = "/v1/sets/{name}/versions/{version}", tag = "rules",
    request_body = RuleSetDoc, security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set"),
           ("version" = i64, Path, description = "The version")),
    responses((status = 200, description = "The draft", body = Version),
              (status = 400, description = "The document's problems", body = common::error::ErrorBody),
              (status = 422, description = "Not a draft", body = common::error::ErrorBody)))]
async fn edit(
    State(book): State<RuleBook>,
    caller: Caller,
    Path((name, version)): Path<(String, i64)>,
    b: Result<Json<RuleSetDoc>, JsonRejection>,
) -> Result<Json<Version>, ApiError> {
    let doc = body(b)?;
    Ok(Json(
        book.edit((&name, version), &doc, &actor(&caller)).await?,
    ))
}

/// Submits a draft for review.
#[utoipa::path(post, path = "/v1/sets/{name}/versions/{version}/submit", tag = "rules",
    security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set"),
           ("version" = i64, Path, description = "The version")),
    responses((status = 200, description = "Under review", body = Version),
              (status = 422, description = "Not a draft", body = common::error::ErrorBody)))]
async fn submit(
    State(book): State<RuleBook>,
    caller: Caller,
    Path((name, version)): Path<(String, i64)>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(book.submit((&name, version), &actor(&caller)).await?))
}

/// Why a version goes back to draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendBack {
    /// The reviewer's comment (1 to 2000 characters).
    comment: String,
}

/// Sends a version under review back to draft, with the reviewer's comment.
#[utoipa::path(post, path = "/v1/sets/{name}/versions/{version}/send-back", tag = "rules",
    request_body = SendBack, security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set"),
           ("version" = i64, Path, description = "The version")),
    responses((status = 200, description = "A draft again", body = Version),
              (status = 422, description = "Not under review", body = common::error::ErrorBody)))]
async fn send_back(
    State(book): State<RuleBook>,
    caller: Caller,
    Path((name, version)): Path<(String, i64)>,
    b: Result<Json<SendBack>, JsonRejection>,
) -> Result<Json<Version>, ApiError> {
    let b = body(b)?;
    Ok(Json(
        book.send_back((&name, version), &actor(&caller), &b.comment)
            .await?,
    ))
}

/// Approves a version under review: it becomes the set's active version at once, for the next
/// order or decision of every service that consults it.
#[utoipa::path(post, path = "/v1/sets/{name}/versions/{version}/approve", tag = "rules",
    security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set"),
           ("version" = i64, Path, description = "The version")),
    responses((status = 200, description = "Active", body = Version),
              (status = 403, description = "Four eyes: its author or submitter may not approve it", body = common::error::ErrorBody),
              (status = 422, description = "Not under review", body = common::error::ErrorBody)))]
async fn approve(
    State(book): State<RuleBook>,
    caller: Caller,
    Path((name, version)): Path<(String, i64)>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(book.approve((&name, version), &actor(&caller)).await?))
}

/// What to replay a version on.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WhatIfBody {
    /// Inputs to replay (`{"order": {...}, ...}` each); absent: the newest recorded
    /// evaluations of the set's target.
    #[schema(value_type = Option<Vec<Object>>)]
    inputs: Option<Vec<serde_json::Value>>,
    /// At most this many recorded evaluations (default 1000; the settings cap it).
    limit: Option<u32>,
}

/// Replays a version (a draft, typically) on recorded evaluations, or on given inputs, against
/// the set's active version: what it would refuse that was let through, what it would let
/// through that was refused, by rule.
#[utoipa::path(post, path = "/v1/sets/{name}/versions/{version}/what-if", tag = "rules",
    request_body = WhatIfBody, security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set"),
           ("version" = i64, Path, description = "The version")),
    responses((status = 200, description = "What would have changed", body = WhatIf),
              (status = 400, description = "Bad inputs, named", body = common::error::ErrorBody),
              (status = 404, description = "No such version", body = common::error::ErrorBody)))]
async fn what_if(
    State(book): State<RuleBook>,
    Path((name, version)): Path<(String, i64)>,
    b: Result<Json<WhatIfBody>, JsonRejection>,
) -> Result<Json<WhatIf>, ApiError> {
    let b = body(b)?;
    Ok(Json(
        book.what_if(
            (&name, version),
            b.inputs.as_deref(),
            b.limit.unwrap_or(1000),
        )
        .await?,
    ))
}

/// Rolls a set back to the version active before the current one, at once.
#[utoipa::path(post, path = "/v1/sets/{name}/rollback", tag = "rules",
    security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set")),
    responses((status = 200, description = "The version active now", body = Version),
              (status = 422, description = "Nothing to roll back to", body = common::error::ErrorBody)))]
async fn rollback(
    State(book): State<RuleBook>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(book.rollback(&name, &actor(&caller)).await?))
}

/// Retires a set: no version of it applies any more.
#[utoipa::path(post, path = "/v1/sets/{name}/retire", tag = "rules",
    security(("bearer" = ["risk_officer"])),
    params(("name" = String, Path, description = "The set")),
    responses((status = 204, description = "Retired"),
              (status = 422, description = "Not active", body = common::error::ErrorBody)))]
async fn retire(
    State(book): State<RuleBook>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    book.retire(&name, &actor(&caller)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Inputs to evaluate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvaluateBody {
    /// What they are for.
    target: Target,
    /// The target's variables: `{"order": {...}, "security": {...}, ...}` (see /v1/schema).
    #[schema(value_type = Object)]
    inputs: serde_json::Value,
}

/// Evaluates the active sets of a target on inputs (an order ticket's preview; the services
/// on the order path evaluate locally).
#[utoipa::path(post, path = "/v1/evaluate", tag = "rules", request_body = EvaluateBody,
    responses((status = 200, description = "The outcome", body = Outcome),
              (status = 400, description = "Inputs that do not fit, named", body = common::error::ErrorBody)))]
async fn evaluate(
    State(book): State<RuleBook>,
    b: Result<Json<EvaluateBody>, JsonRejection>,
) -> Result<Json<Outcome>, ApiError> {
    let b = body(b)?;
    Ok(Json(book.evaluate(b.target, &b.inputs).await?))
}

/// Which evaluations.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EvaluationQuery {
    /// `order` or `decision` (absent: both).
    target: Option<String>,
    /// Only the refused ones (the audit trail; default true).
    refused: Option<bool>,
    /// Only those a set judged.
    set: Option<String>,
    /// At most this many (1 to 1000; default 100).
    limit: Option<u32>,
}

/// The evaluations the risk service and the decision engine reported, newest first: by default
/// only refusals, each with its findings and the inputs the rules saw.
#[utoipa::path(get, path = "/v1/evaluations", tag = "rules", params(EvaluationQuery),
    security(("bearer" = ["risk_officer", "ops"])),
    responses((status = 200, description = "Evaluations", body = [Evaluation]),
              (status = 400, description = "Bad query", body = common::error::ErrorBody)))]
async fn evaluations(
    State(book): State<RuleBook>,
    Query(q): Query<EvaluationQuery>,
) -> Result<Json<Vec<Evaluation>>, ApiError> {
    let target = q.target.unwrap_or_default();
    if !target.is_empty() && Target::parse(&target).is_none() {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("target {target:?}: order, decision or alert"),
        ));
    }
    let set = q.set.unwrap_or_default();
    if set.len() > 64 {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            "set: at most 64 characters",
        ));
    }
    Ok(Json(
        book.evaluations(
            (&target, q.refused.unwrap_or(true), &set),
            q.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?,
    ))
}
