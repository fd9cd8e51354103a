//! HTTP adapter: portfolio optimisation, documented with utoipa. Every refusal is the
//! `{"code","message"}` body.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::{Input, Optimiser, Security};

/// The state of the routes.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) optimiser: Optimiser,
}

/// The service's routes.
pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(optimise_portfolio))
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
