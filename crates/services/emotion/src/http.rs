//! HTTP adapter: scoring a text, the collected items, items pushed by integrations, the
//! sentiment series and the collectors' state. Every refusal is the `{"code","message"}` body.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use text::Lang;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Incoming, Point};
use crate::service::{Emotion, SourceStatus};
use crate::store::{Filter, Scored};

/// The service's routes.
pub(crate) fn router(emotion: Emotion) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(score))
        .routes(routes!(list_items, submit_items))
        .routes(routes!(get_item))
        .routes(routes!(all_sentiment))
        .routes(routes!(get_sentiment))
        .routes(routes!(sentiment_history))
        .routes(routes!(status))
        .with_state(emotion)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn proto_rfc3339(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .and_then(common::bus::time_of)
        .map(rfc3339)
        .unwrap_or_default()
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(b)| b)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))
}

fn lang_of(s: Option<&str>) -> Result<Option<Lang>, ApiError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some("vi") => Ok(Some(Lang::Vi)),
        Some("en") => Ok(Some(Lang::En)),
        Some(other) => Err(ApiError::new(
            Kind::InvalidArgument,
            format!("lang {other:?}: vi, en, or leave it out to detect"),
        )),
    }
}

/// A word that moved a score.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HitDto {
    term: String,
    /// Its contribution after the words around it.
    valence: f64,
}

/// The sentiment of a text.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SentimentDto {
    /// −1 (very negative) … +1 (very positive).
    compound: f64,
    /// `negative`, `neutral` or `positive`.
    label: String,
    /// 0 (no emotion) … 1 (highly charged), whatever the direction.
    intensity: f64,
    positive: f64,
    negative: f64,
    /// The lexicon used: `vi` or `en`.
    lang: String,
    hits: Vec<HitDto>,
}

impl From<proto::emotion::v1::Sentiment> for SentimentDto {
    fn from(s: proto::emotion::v1::Sentiment) -> Self {
        SentimentDto {
            compound: s.compound,
            label: s.label,
            intensity: s.intensity,
            positive: s.positive,
            negative: s.negative,
            lang: s.lang,
            hits: s
                .hits
                .into_iter()
                .map(|h| HitDto {
                    term: h.term,
                    valence: h.valence,
                })
                .collect(),
        }
    }
}

/// A text to score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoreBody {
    /// At most 20,000 characters.
    text: String,
    /// `vi` or `en`; left out: detected.
    lang: Option<String>,
}

/// The sentiment of a text (nothing is stored).
#[utoipa::path(post, path = "/v1/score", tag = "sentiment", request_body = ScoreBody,
    responses((status = 200, description = "Its sentiment", body = SentimentDto),
              (status = 400, description = "Empty or too long", body = common::error::ErrorBody)))]
async fn score(
    State(e): State<Emotion>,
    b: Result<Json<ScoreBody>, JsonRejection>,
) -> Result<Json<SentimentDto>, ApiError> {
    let b = body(b)?;
    let score = e.score(&b.text, lang_of(b.lang.as_deref())?)?;
    Ok(Json(crate::service::sentiment_pb(&score).into()))
}

/// A collected item with its sentiment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ItemDto {
    id: String,
    /// The feed or integration it came from.
    source: String,
    /// Its id at the source.
    guid: String,
    url: String,
    title: String,
    body: String,
    author: String,
    /// `vi`, `en` or `und`.
    lang: String,
    /// Tickers it mentions.
    symbols: Vec<String>,
    /// RFC 3339.
    published: String,
    /// RFC 3339.
    collected: String,
    /// The item it near-duplicates (not counted in the series); absent for an original.
    duplicate_of: Option<String>,
    sentiment: SentimentDto,
}

impl From<Scored> for ItemDto {
    fn from(s: Scored) -> Self {
        let i = s.item;
        ItemDto {
            published: proto_rfc3339(&i.published),
            collected: proto_rfc3339(&i.collected),
            id: i.id,
            source: i.source,
            guid: i.guid,
            url: i.url,
            title: i.title,
            body: i.body,
            author: i.author,
            lang: i.lang,
            symbols: i.symbols,
            duplicate_of: (!i.duplicate_of.is_empty()).then_some(i.duplicate_of),
            sentiment: s.sentiment.into(),
        }
    }
}

/// Filters of the item list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ItemQuery {
    /// Only items mentioning this ticker.
    symbol: Option<String>,
    /// Only this language: `vi`, `en`, `und`.
    lang: Option<String>,
    /// Only this label: `negative`, `neutral`, `positive`.
    label: Option<String>,
    /// Only items published before this instant (RFC 3339; for paging).
    before: Option<String>,
    /// Near-duplicates too.
    duplicates: Option<bool>,
    /// 1 to 500; default 50.
    limit: Option<u32>,
}

/// Collected items, newest first.
#[utoipa::path(get, path = "/v1/items", tag = "items", params(ItemQuery),
    responses((status = 200, description = "Items", body = [ItemDto]),
              (status = 400, description = "A bad filter", body = common::error::ErrorBody)))]
async fn list_items(
    State(e): State<Emotion>,
    Query(q): Query<ItemQuery>,
) -> Result<Json<Vec<ItemDto>>, ApiError> {
    let before = match q.before.as_deref() {
        None | Some("") => None,
        Some(b) => Some(OffsetDateTime::parse(b, &Rfc3339).map_err(|_| {
            ApiError::new(
                Kind::InvalidArgument,
                format!("before {b:?} is not RFC 3339"),
            )
        })?),
    };
    let items = e
        .items(Filter {
            symbol: q.symbol.filter(|s| !s.is_empty()),
            lang: q.lang.filter(|s| !s.is_empty()),
            label: q.label.filter(|s| !s.is_empty()),
            before,
            since: None,
            duplicates: q.duplicates.unwrap_or(false),
            limit: q.limit.unwrap_or(0),
        })
        .await?;
    Ok(Json(items.into_iter().map(ItemDto::from).collect()))
}

/// One collected item.
#[utoipa::path(get, path = "/v1/items/{id}", tag = "items",
    params(("id" = String, Path, description = "Item id")),
    responses((status = 200, description = "The item", body = ItemDto),
              (status = 404, description = "No such item", body = common::error::ErrorBody)))]
async fn get_item(
    State(e): State<Emotion>,
    Path(id): Path<String>,
) -> Result<Json<ItemDto>, ApiError> {
    Ok(Json(e.item(&id).await?.into()))
}

/// An item an integration pushes (a post, a message).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmittedDto {
    /// Its id at the source; left out: one is made from the text (the same text is then the
    /// same item).
    id: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    url: String,
    /// RFC 3339; left out: now.
    published: Option<String>,
    /// `vi` or `en` when the source knows; detected otherwise.
    lang: Option<String>,
    #[serde(default)]
    author: String,
}

/// Items from one integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitBody {
    /// The integration's name: 1 to 64 of a-z, 0-9, '.', '_', '-'.
    source: String,
    /// At most `emotion.max_submit_items`.
    items: Vec<SubmittedDto>,
}

/// What became of a pushed item.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OutcomeDto {
    /// Its id at the source.
    guid: String,
    /// `new`, `duplicate` (stored, not counted in the series), `known` (seen before) or
    /// `rejected` (nothing stored; `detail` says why).
    status: String,
    item_id: Option<String>,
    detail: String,
}

/// Takes items in from an integration (social or forum posts, a webhook): each is stored,
/// scored and published like a feed's.
#[utoipa::path(post, path = "/v1/items", tag = "items", request_body = SubmitBody,
    security(("bearer" = ["service", "ops", "admin"])),
    responses((status = 200, description = "What became of each item, in order", body = [OutcomeDto]),
              (status = 400, description = "A bad source, too many items or a bad field", body = common::error::ErrorBody)))]
async fn submit_items(
    State(e): State<Emotion>,
    b: Result<Json<SubmitBody>, JsonRejection>,
) -> Result<Json<Vec<OutcomeDto>>, ApiError> {
    let b = body(b)?;
    let max = e.settings().max_submit_items;
    if b.items.len() > max {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("items: at most {max} per request"),
        ));
    }
    let mut items = Vec::with_capacity(b.items.len());
    for (i, item) in b.items.into_iter().enumerate() {
        let published = match item.published.as_deref() {
            None | Some("") => None,
            Some(p) => Some(OffsetDateTime::parse(p, &Rfc3339).map_err(|_| {
                ApiError::new(
                    Kind::InvalidArgument,
                    format!("items[{i}].published {p:?} is not RFC 3339"),
                )
            })?),
        };
        items.push(Incoming {
            guid: item.id.unwrap_or_default(),
            title: item.title,
            body: item.text,
            url: item.url,
            published,
            lang: lang_of(item.lang.as_deref())?,
            author: item.author,
            tagged: Vec::new(),
        });
    }
    let outcomes = e.ingest(&b.source, items).await?;
    Ok(Json(
        outcomes
            .into_iter()
            .map(|o| OutcomeDto {
                guid: o.guid,
                status: o.status.as_str().to_owned(),
                item_id: (!o.item_id.is_empty()).then_some(o.item_id),
                detail: o.detail,
            })
            .collect(),
    ))
}

/// The time-decayed sentiment of a ticker or of the market.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PointDto {
    /// A ticker, or `MARKET`.
    subject: String,
    /// RFC 3339.
    at: String,
    /// Mean compound score of its items, each weighted by 2^(−age / half-life): −1 … +1.
    value: f64,
    /// The items' total weight now (the news flow, decayed).
    weight: f64,
    /// Items in the last 24 hours.
    items_24h: u32,
    half_life_hours: f64,
    /// The last item counted.
    last_item_id: String,
}

fn point_dto(p: Point, half_life_hours: f64) -> PointDto {
    PointDto {
        subject: p.subject,
        at: rfc3339(p.at),
        value: p.value,
        weight: p.weight,
        items_24h: p.items_24h,
        half_life_hours,
        last_item_id: p.last_item,
    }
}

/// The sentiment of every ticker any item mentioned, and of the market.
#[utoipa::path(get, path = "/v1/sentiment", tag = "sentiment",
    responses((status = 200, description = "Every subject's sentiment now", body = [PointDto])))]
async fn all_sentiment(State(e): State<Emotion>) -> Json<Vec<PointDto>> {
    let h = e.half_life_hours();
    Json(
        e.all_sentiment()
            .await
            .into_iter()
            .map(|p| point_dto(p, h))
            .collect(),
    )
}

/// The sentiment of a ticker, or of the market (`MARKET`), now.
#[utoipa::path(get, path = "/v1/sentiment/{subject}", tag = "sentiment",
    params(("subject" = String, Path, description = "A ticker, or MARKET")),
    responses((status = 200, description = "Its sentiment now", body = PointDto),
              (status = 400, description = "Neither a ticker nor MARKET", body = common::error::ErrorBody),
              (status = 404, description = "No item has mentioned it", body = common::error::ErrorBody)))]
async fn get_sentiment(
    State(e): State<Emotion>,
    Path(subject): Path<String>,
) -> Result<Json<PointDto>, ApiError> {
    Ok(Json(point_dto(
        e.sentiment(&subject).await?,
        e.half_life_hours(),
    )))
}

/// The window of a history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// Hours back from now, 1 to 2160; default 24.
    hours: Option<u32>,
    /// Minutes between points, 1 to 1440 (at most 2000 points); default 60.
    step_minutes: Option<u32>,
}

/// One point of a history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryPointDto {
    /// RFC 3339.
    at: String,
    value: f64,
    weight: f64,
}

/// A ticker's or the market's sentiment over time, recomputed from the stored items.
#[utoipa::path(get, path = "/v1/sentiment/{subject}/history", tag = "sentiment",
    params(("subject" = String, Path, description = "A ticker, or MARKET"), HistoryQuery),
    responses((status = 200, description = "Points, oldest first", body = [HistoryPointDto]),
              (status = 400, description = "A bad subject or window", body = common::error::ErrorBody)))]
async fn sentiment_history(
    State(e): State<Emotion>,
    Path(subject): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Vec<HistoryPointDto>>, ApiError> {
    let points = e
        .history(
            &subject,
            q.hours.unwrap_or(24),
            q.step_minutes.unwrap_or(60),
        )
        .await?;
    Ok(Json(
        points
            .into_iter()
            .map(|(at, value, weight)| HistoryPointDto {
                at: rfc3339(at),
                value,
                weight,
            })
            .collect(),
    ))
}

/// A collector and how its reads went.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceDto {
    source: String,
    /// The feed's URL or path.
    feed: String,
    /// RFC 3339.
    last_read: Option<String>,
    /// RFC 3339.
    last_ok: Option<String>,
    /// What went wrong with the last read (empty when it worked).
    last_error: String,
    reads: u64,
    failures: u64,
    new: u64,
    duplicates: u64,
    known: u64,
    rejected: u64,
}

impl From<SourceStatus> for SourceDto {
    fn from(s: SourceStatus) -> Self {
        SourceDto {
            source: s.source,
            feed: s.feed,
            last_read: s.last_read.map(rfc3339),
            last_ok: s.last_ok.map(rfc3339),
            last_error: s.last_error,
            reads: s.reads,
            failures: s.failures,
            new: s.new,
            duplicates: s.duplicates,
            known: s.known,
            rejected: s.rejected,
        }
    }
}

/// What the service knows and how its collectors are doing.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusDto {
    /// Securities known for linking (from master data).
    securities: usize,
    /// Subjects with a sentiment series (tickers and MARKET).
    subjects: usize,
    /// The feeds collected and how their reads went.
    sources: Vec<SourceDto>,
}

/// What the service knows (securities for linking, series) and how each collector's reads went.
#[utoipa::path(get, path = "/v1/status", tag = "items",
    responses((status = 200, description = "Status", body = StatusDto)))]
async fn status(State(e): State<Emotion>) -> Json<StatusDto> {
    Json(StatusDto {
        securities: e.securities(),
        subjects: e.all_sentiment().await.len(),
        sources: e.sources().into_iter().map(SourceDto::from).collect(),
    })
}
