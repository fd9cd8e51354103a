//! HTTP adapter: portfolio optimisation, predictions and models, documented with utoipa. Every
//! refusal is the `{"code","message"}` body.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::predictor::{Predictor, TrainInput};
use crate::service::{Input, Optimiser, Security};

/// The state of the routes.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) optimiser: Optimiser,
    pub(crate) predictor: Predictor,
}

/// The service's routes.
pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(optimise_portfolio))
        .routes(routes!(get_predictions))
        .routes(routes!(list_models, train_model))
        .routes(routes!(promote_model))
        // 500 securities × 1,000 returns as JSON fit; the default 2 MB does not.
        .layer(axum::extract::DefaultBodyLimit::max(16 << 20))
        .with_state(state)
}

/// A candidate security.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecurityDto {
    /// Ticker.
    symbol: String,
    /// Price of one share, VND.
    price: f64,
    /// Shares per lot (default 100).
    #[serde(default)]
    lot: Option<u64>,
    /// Past returns, oldest first, aligned with every other security's (e.g. daily).
    returns: Vec<f64>,
}

/// A portfolio to choose.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortfolioBody {
    /// 2 to 500 candidates (a body of at most 16 MB).
    securities: Vec<SecurityDto>,
    /// How many to hold; each is bought with budget/k in whole lots.
    k: usize,
    /// Money to invest, VND.
    budget: f64,
    /// λ in `return − λ·variance` (default 5).
    #[serde(default)]
    risk_aversion: Option<f64>,
    /// `sa`, `sqa`, `sb`, `dsb`, `pt`, `tabu` (default) or `exact` (at most 32 affordable).
    #[serde(default)]
    solver: Option<String>,
    /// The solver's time, and the branch and bound's (default 1000, at most 10000).
    #[serde(default)]
    time_limit_ms: Option<u64>,
    /// Seed of the solver (default 0).
    #[serde(default)]
    seed: Option<u64>,
}

/// A holding of the answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldingDto {
    symbol: String,
    /// Shares to buy, whole lots.
    shares: u64,
    /// Share of the budget.
    weight: f64,
}

/// The chosen portfolio and what to judge it by.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PortfolioDto {
    /// Empty when the solver found no k-subset.
    holdings: Vec<HoldingDto>,
    /// `return − λ·variance` per period.
    objective: Option<f64>,
    expected_return: Option<f64>,
    stdev: Option<f64>,
    /// The best k-subset's objective found by branch and bound.
    best_objective: Option<f64>,
    /// Whether the branch and bound finished, proving `best_objective` optimal.
    proven: bool,
    /// Short of the best k-subset, as a share of it (0: the best).
    gap: Option<f64>,
    /// The continuous mean-variance optimum (no lots, no cardinality): an upper bound.
    bound: f64,
    solver: String,
    solver_ms: f64,
}

/// Chooses k securities as a QUBO solved by the named quantum-inspired solver, then checks the
/// answer against a branch and bound (the proven best subset when it finishes in time) and the
/// continuous mean-variance optimum. One optimisation runs at a time.
#[utoipa::path(post, path = "/v1/portfolio", tag = "portfolio", request_body = PortfolioBody,
    responses((status = 200, description = "The chosen portfolio", body = PortfolioDto),
              (status = 400, description = "Out of range, unaligned returns, unaffordable k, unknown solver", body = common::error::ErrorBody),
              (status = 429, description = "Another optimisation is running", body = common::error::ErrorBody)))]
async fn optimise_portfolio(
    State(s): State<AppState>,
    body: Result<Json<PortfolioBody>, JsonRejection>,
) -> Result<Json<PortfolioDto>, ApiError> {
    let Json(b) =
        body.map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))?;
    let answer = s
        .optimiser
        .optimise(Input {
            securities: b
                .securities
                .into_iter()
                .map(|s| Security {
                    symbol: s.symbol,
                    price: s.price,
                    lot: s.lot.unwrap_or(100),
                    returns: s.returns,
                })
                .collect(),
            k: b.k,
            budget: b.budget,
            risk_aversion: b.risk_aversion,
            solver: b.solver,
            time_limit_ms: b.time_limit_ms,
            seed: b.seed,
        })
        .await?;
    Ok(Json(PortfolioDto {
        gap: answer.gap,
        holdings: answer
            .holdings
            .into_iter()
            .map(|h| HoldingDto {
                symbol: h.symbol,
                shares: h.shares,
                weight: h.weight,
            })
            .collect(),
        objective: answer.objective,
        expected_return: answer.expected_return,
        stdev: answer.stdev,
        best_objective: answer.best_objective,
        proven: answer.proven,
        bound: answer.bound,
        solver: answer.solver.name().to_owned(),
        solver_ms: answer.solver_ms,
    }))
}

fn bad_request(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(Kind::InvalidArgument, format!("{what}: {e}"))
}

/// Which predictions.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PredictionsQuery {
    /// Comma-separated symbols (at most 2000); every symbol of the universe when absent.
    #[serde(default)]
    symbols: Option<String>,
}

/// One symbol's prediction (also the payload of `prediction.signal.v1`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PredictionDto {
    /// `prediction-<model version>-<date>-<symbol>`.
    id: String,
    symbol: String,
    /// Predicted log return over the model's horizon.
    score: f64,
    /// Cross-sectional rank that day, 0 (lowest) to 1 (highest).
    percentile: f64,
    /// `prediction_long`, `prediction_exit` or `prediction_hold`.
    name: String,
    /// +1 long, -1 exit, 0 hold.
    direction: i32,
    /// In words.
    detail: String,
}

/// The latest predictions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PredictionsDto {
    /// YYYY-MM-DD of the close predicted from.
    date: String,
    model_version: u32,
    /// Trading days the predicted returns span.
    horizon: u32,
    predictions: Vec<PredictionDto>,
}

/// The promoted model's latest predictions, one per symbol of the universe, made from the last
/// complete daily close (the same the service publishes to `prediction.signal.v1`).
#[utoipa::path(get, path = "/v1/predictions", tag = "predictions", params(PredictionsQuery),
    responses((status = 200, description = "The latest predictions", body = PredictionsDto),
              (status = 400, description = "A malformed symbol or too many", body = common::error::ErrorBody),
              (status = 422, description = "No predictions yet (history loading, no model)", body = common::error::ErrorBody)))]
async fn get_predictions(
    State(s): State<AppState>,
    query: Result<Query<PredictionsQuery>, QueryRejection>,
) -> Result<Json<PredictionsDto>, ApiError> {
    let Query(q) = query.map_err(|e| bad_request("query", e))?;
    let symbols: Vec<String> = q
        .symbols
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let latest = s.predictor.predictions(&symbols)?;
    Ok(Json(PredictionsDto {
        date: latest.date.to_string(),
        model_version: latest.model_version,
        horizon: latest.signals.first().map_or(0, |p| p.horizon),
        predictions: latest
            .signals
            .into_iter()
            .map(|p| PredictionDto {
                id: p.id,
                symbol: p.symbol,
                score: p.score,
                percentile: p.percentile,
                name: p.name,
                direction: p.direction,
                detail: p.detail,
            })
            .collect(),
    }))
}

/// Out-of-sample scores of a walk-forward (absent values: too few dates).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoresDto {
    /// Dates scored.
    dates: u64,
    /// Mean daily information coefficient (Pearson).
    ic: Option<f64>,
    ic_std: Option<f64>,
    /// `ic / ic_std`.
    icir: Option<f64>,
    /// t-statistic of the mean IC over non-overlapping dates.
    t_stat: Option<f64>,
    /// Mean daily Spearman IC.
    rank_ic: Option<f64>,
    hit_rate: Option<f64>,
}

/// How a model was trained.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecipeDto {
    horizon: u32,
    lambda: f64,
    test_dates: u32,
    min_train_dates: u32,
    embargo: u32,
    /// `ridge`, `gbt` or `mlp`.
    model: String,
    /// Of `gbt`: trees, shrinkage, depth, fewest rows per leaf.
    trees: u32,
    learning_rate: f64,
    depth: u32,
    min_leaf: f64,
    /// Of `mlp`: units per hidden layer, hidden layers, training passes, AdamW's step size and
    /// weight decay, rows per step.
    width: u32,
    layers: u32,
    epochs: u32,
    net_learning_rate: f64,
    weight_decay: f64,
    batch: u32,
}

/// A model of the registry (version 0: evaluated by a dry run, not saved).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ModelDto {
    version: u32,
    /// Unix seconds.
    created: i64,
    features: Vec<String>,
    horizon: u32,
    /// First and last date (YYYY-MM-DD) of its training rows.
    trained_from: String,
    trained_to: String,
    metrics: Option<ScoresDto>,
    recipe: Option<RecipeDto>,
    /// Whether it is the one predicting.
    promoted: bool,
}

fn model_dto(m: crate::predictor::ModelView) -> ModelDto {
    let m = crate::grpc::model(m);
    ModelDto {
        version: m.version,
        created: m.created,
        features: m.features,
        horizon: m.horizon,
        trained_from: m.trained_from,
        trained_to: m.trained_to,
        metrics: m.metrics.map(|s| ScoresDto {
            dates: s.dates,
            ic: s.ic,
            ic_std: s.ic_std,
            icir: s.icir,
            t_stat: s.t_stat,
            rank_ic: s.rank_ic,
            hit_rate: s.hit_rate,
        }),
        recipe: m.recipe.map(|r| RecipeDto {
            horizon: r.horizon,
            lambda: r.lambda,
            test_dates: r.test_dates,
            min_train_dates: r.min_train_dates,
            embargo: r.embargo,
            model: r.model,
            trees: r.trees,
            learning_rate: r.learning_rate,
            depth: r.depth,
            min_leaf: r.min_leaf,
            width: r.width,
            layers: r.layers,
            epochs: r.epochs,
            net_learning_rate: r.net_learning_rate,
            weight_decay: r.weight_decay,
            batch: r.batch,
        }),
        promoted: m.promoted,
    }
}

/// The registry's model versions, oldest first, with their training range, recipe and
/// out-of-sample scores.
#[utoipa::path(get, path = "/v1/models", tag = "models",
    responses((status = 200, description = "Models", body = [ModelDto])))]
async fn list_models(State(s): State<AppState>) -> Result<Json<Vec<ModelDto>>, ApiError> {
    Ok(Json(
        s.predictor.models()?.into_iter().map(model_dto).collect(),
    ))
}

/// What to train; absent numbers take the configured recipe.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrainBody {
    /// Label horizon, trading days (1 to 60).
    #[serde(default)]
    horizon: Option<usize>,
    /// Ridge penalty (0 to 1e6).
    #[serde(default)]
    lambda: Option<f64>,
    /// Dates of each walk-forward test block.
    #[serde(default)]
    test_dates: Option<usize>,
    /// Dates before the first test block.
    #[serde(default)]
    min_train_dates: Option<usize>,
    /// Dates dropped after the purge.
    #[serde(default)]
    embargo: Option<usize>,
    /// `ridge`, `gbt` (gradient-boosted trees) or `mlp` (a small neural network), shaped as
    /// configured.
    #[serde(default)]
    model: Option<String>,
    /// Promote the new version at once.
    #[serde(default)]
    promote: bool,
    /// Evaluate only: score the recipe walk-forward and save nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Trains a model on the daily bars the service holds: scored walk-forward (purged, embargoed
/// test blocks), then fitted on every labelled date and saved as a new version (unless
/// `dry_run`: an evaluation). One training at a time.
#[utoipa::path(post, path = "/v1/models", tag = "models",
    security(("bearer" = ["ops", "service"])), request_body = TrainBody,
    responses((status = 200, description = "The trained (or evaluated) model", body = ModelDto),
              (status = 400, description = "A bad recipe or too few dates", body = common::error::ErrorBody),
              (status = 429, description = "Another training is running", body = common::error::ErrorBody),
              (status = 422, description = "No bars held yet", body = common::error::ErrorBody)))]
async fn train_model(
    State(s): State<AppState>,
    body: Result<Json<TrainBody>, JsonRejection>,
) -> Result<Json<ModelDto>, ApiError> {
    let Json(b) = body.map_err(|e| bad_request("request body", e))?;
    let m = s
        .predictor
        .train(TrainInput {
            horizon: b.horizon,
            lambda: b.lambda,
            test_dates: b.test_dates,
            min_train_dates: b.min_train_dates,
            embargo: b.embargo,
            model: b.model,
            promote: b.promote,
            dry_run: b.dry_run,
        })
        .await?;
    Ok(Json(model_dto(m)))
}

/// Makes a saved version the one that predicts; predictions are made again with it at once
/// (and published at the next publishing time).
#[utoipa::path(post, path = "/v1/models/{version}/promote", tag = "models",
    security(("bearer" = ["ops", "service"])),
    params(("version" = u32, Path, description = "Model version")),
    responses((status = 200, description = "The promoted model", body = ModelDto),
              (status = 400, description = "Not a version, or a model this pipeline cannot feed", body = common::error::ErrorBody),
              (status = 404, description = "No such version", body = common::error::ErrorBody)))]
async fn promote_model(
    State(s): State<AppState>,
    version: Result<Path<u32>, PathRejection>,
) -> Result<Json<ModelDto>, ApiError> {
    let Path(version) = version.map_err(|e| bad_request("version", e))?;
    Ok(Json(model_dto(s.predictor.promote(version)?)))
}
