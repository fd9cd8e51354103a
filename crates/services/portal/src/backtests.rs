//! Backtests from the web app: the fleet's strategies (the decision engine's, with the TA
//! service's studies and rules and the risk service's limits, `backtest::Config::fleet`) run by
//! `backtest::run` over the historical service's bars of the symbols asked. One at a time per
//! instance and bounded in size: it is CPU work in the request path.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use backtest::data::BarsBuilder;
use backtest::metrics::Metrics;
use backtest::run::Window;
use common::error::{ApiError, Kind};
use market::Symbol;
use proto::historical::v1 as historical_pb;
use proto::historical::v1::historical_service_client::HistoricalServiceClient;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::http::{Api, check_symbol, from_peer};

/// Most symbols one backtest takes.
const MAX_SYMBOLS: usize = 20;
/// Most bars one backtest reads.
const MAX_BARS: usize = 200_000;
/// Most fills a report lists (the metrics count them all).
const MAX_TRADES: usize = 500;

/// A backtest to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BacktestBody {
    /// 1 to 20 tickers.
    symbols: Vec<String>,
    /// `1D` (default), `1h`, `30m`, `15m`, `5m` or `1m`.
    #[serde(default)]
    resolution: Option<String>,
    /// First day of bars, YYYY-MM-DD.
    from: String,
    /// Last day of bars, YYYY-MM-DD.
    to: String,
    /// First day traded (earlier bars warm the indicators up); default `from`.
    #[serde(default)]
    trade_from: Option<String>,
}

/// The numbers of one equity series.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MetricsDto {
    /// `account` or a strategy id.
    name: String,
    start_equity: i64,
    end_equity: i64,
    /// Fractions (0.05 is 5 %).
    total_return: f64,
    cagr: f64,
    volatility: f64,
    sharpe: f64,
    sortino: f64,
    max_drawdown: f64,
    trades: u64,
    fees: i64,
    tax: i64,
    realised: i64,
    win_rate: f64,
}

fn metrics(name: &str, m: &Metrics) -> MetricsDto {
    MetricsDto {
        name: name.to_owned(),
        start_equity: m.start_equity,
        end_equity: m.end_equity,
        total_return: m.total_return,
        cagr: m.cagr,
        volatility: m.volatility,
        sharpe: m.sharpe,
        sortino: m.sortino,
        max_drawdown: m.max_drawdown,
        trades: m.trades,
        fees: m.fees,
        tax: m.tax,
        realised: m.realised,
        win_rate: m.win_rate,
    }
}

/// The account at the end of a trading day.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EquityDto {
    /// YYYY-MM-DD.
    date: String,
    equity: i64,
    holdings: i64,
}

/// One fill.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FillDto {
    /// RFC 3339.
    time: String,
    strategy: String,
    symbol: String,
    side: String,
    quantity: u64,
    price: i64,
    fees: i64,
    tax: i64,
    realised: i64,
}

/// A backtest's report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BacktestDto {
    /// What asking the historical service to fill the days in from the broker did.
    backfill: String,
    /// Bars read.
    bars: usize,
    symbols: usize,
    bar_events: u64,
    signals: u64,
    orders: usize,
    /// The account first, then each strategy.
    metrics: Vec<MetricsDto>,
    equity: Vec<EquityDto>,
    /// The first 500 fills.
    fills: Vec<FillDto>,
}

/// How long a backtest waits for its backfill before it runs on what is stored.
const BACKFILL_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Asks the historical service to fill the days in from the broker (it skips what it holds)
/// and waits up to [`BACKFILL_WAIT`]; answers what happened, in words. A failure is not the
/// backtest's: it runs on the bars stored.
async fn backfill(
    historical: &mut HistoricalServiceClient<common::grpc::Channel>,
    symbols: &[String],
    seconds: u32,
    from: Date,
    to: Date,
) -> String {
    let kind = if seconds == 86_400 {
        "daily"
    } else {
        "intraday"
    };
    let started = historical
        .start_backfill(historical_pb::StartBackfillRequest {
            kinds: vec![kind.to_owned()],
            symbols: symbols.to_vec(),
            indexes: Vec::new(),
            from: from.to_string(),
            to: to.to_string(),
        })
        .await;
    let mut job = match started {
        Ok(job) => job.into_inner(),
        Err(s) => return format!("no backfill ({}): the bars stored", s.message()),
    };
    let deadline = tokio::time::Instant::now() + BACKFILL_WAIT;
    while job.state == "running" && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        match historical
            .get_backfill(historical_pb::GetBackfillRequest { id: job.id.clone() })
            .await
        {
            Ok(j) => job = j.into_inner(),
            Err(s) => return format!("backfill {}: {}", job.id, s.message()),
        }
    }
    match job.state.as_str() {
        "done" => format!("{kind} bars backfilled: {} rows written", job.rows_written),
        "running" => format!(
            "backfill {} still running ({} of {}): run again when it is done",
            job.id, job.done_units, job.total_units
        ),
        _ => format!("backfill {} failed: {}", job.id, job.error),
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Kind::InvalidArgument, message)
}

fn day(what: &str, v: &str) -> Result<Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(v.trim(), &format).map_err(|e| invalid(format!("{what} {v:?}: YYYY-MM-DD ({e})")))
}

/// Runs the fleet's strategies over the symbols' bars from the historical service and answers
/// the report: each strategy's and the account's return, CAGR, Sharpe, Sortino, drawdown,
/// fees and tax, the daily equity and the fills. One backtest at a time per instance (429 while
/// one runs).
#[utoipa::path(post, path = "/v1/backtests", tag = "backtests", security(("bearer" = [])),
    request_body = BacktestBody,
    responses((status = 200, description = "The report", body = BacktestDto),
              (status = 400, description = "Bad symbols, days or resolution; no bars", body = common::error::ErrorBody),
              (status = 429, description = "A backtest is running", body = common::error::ErrorBody),
              (status = 503, description = "The historical service did not answer", body = common::error::ErrorBody)))]
pub(crate) async fn run(
    State(api): State<Api>,
    b: Result<Json<BacktestBody>, JsonRejection>,
) -> Result<Json<BacktestDto>, ApiError> {
    let Json(b) = b.map_err(|e| invalid(format!("request body: {e}")))?;
    if b.symbols.is_empty() || b.symbols.len() > MAX_SYMBOLS {
        return Err(invalid(format!("symbols: 1 to {MAX_SYMBOLS}")));
    }
    for s in &b.symbols {
        check_symbol(s)?;
    }
    let resolution = b.resolution.unwrap_or_else(|| "1D".to_owned());
    let seconds = match resolution.as_str() {
        "1m" => 60,
        "5m" => 300,
        "15m" => 900,
        "30m" => 1_800,
        "1h" => 3_600,
        "1D" => 86_400,
        other => {
            return Err(invalid(format!(
                "resolution {other:?}: one of 1m, 5m, 15m, 30m, 1h, 1D"
            )));
        }
    };
    let (from, to) = (day("from", &b.from)?, day("to", &b.to)?);
    if to < from {
        return Err(invalid(format!("to {to} is before from {from}")));
    }
    let trade_from = b
        .trade_from
        .as_deref()
        .map(|v| day("trade_from", v))
        .transpose()?;
    let Ok(_permit) = api.backtests.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            Kind::ResourceExhausted,
            "a backtest is running on this instance; try again when it ends",
        ));
    };
    let config = backtest::Config::fleet()
        .map_err(|e| ApiError::new(Kind::Internal, format!("the fleet's configuration: {e}")))?;
    let mut historical = api.historical.clone();
    let backfill = backfill(&mut historical, &b.symbols, seconds, from, to).await;
    let mut builder = BarsBuilder::new();
    let mut read = 0;
    for s in &b.symbols {
        let symbol = Symbol::parse(s).map_err(|e| invalid(format!("symbol {s:?}: {e}")))?;
        let exchange = api
            .board
            .symbol(s)
            .map_or_else(
                || config.exchange(),
                |(row, _)| backtest::config::parse_exchange(&row.exchange),
            )
            .map_err(|e| invalid(format!("{s}: {e}")))?;
        let bars = historical
            .get_bars(historical_pb::GetBarsRequest {
                symbol: s.clone(),
                resolution: resolution.clone(),
                from: from.to_string(),
                to: to.to_string(),
            })
            .await
            .map_err(|status| from_peer("the historical service", &status))?
            .into_inner()
            .bars;
        read += bars.len();
        if read > MAX_BARS {
            return Err(invalid(format!(
                "more than {MAX_BARS} bars: fewer symbols, fewer days or a longer resolution"
            )));
        }
        for bar in bars {
            let start = bar
                .start
                .as_ref()
                .and_then(common::bus::time_of)
                .ok_or_else(|| {
                    ApiError::new(Kind::Internal, format!("{s}: a bar without a start"))
                })?;
            builder
                .push(
                    s,
                    symbol,
                    exchange,
                    start,
                    seconds,
                    [bar.open, bar.high, bar.low, bar.close],
                    bar.volume,
                )
                .map_err(|e| {
                    ApiError::new(
                        Kind::Internal,
                        format!("the historical service's bars: {e}"),
                    )
                })?;
        }
    }
    let bars = builder
        .finish()
        .map_err(|e| ApiError::new(Kind::Internal, format!("bars: {e}")))?;
    if bars.is_empty() {
        return Err(invalid(format!(
            "the historical service has no {resolution} bars of these symbols from {from} to {to}"
        )));
    }
    let symbols = bars.symbols().len();
    let bar_count = bars.len();
    let config = Arc::new(config);
    let run_config = config.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        backtest::run::run(&run_config, &bars, Window { trade_from })
    })
    .await
    .map_err(|e| ApiError::new(Kind::Internal, format!("the backtest stopped: {e}")))?
    .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("backtest: {e}")))?;
    let summary = backtest::metrics::summarise(&outcome, config.backtest.risk_free_rate);
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Ok(Json(BacktestDto {
        backfill,
        bars: bar_count,
        symbols,
        bar_events: outcome.bar_events,
        signals: outcome.signals,
        orders: outcome.orders.len(),
        metrics: std::iter::once(metrics("account", &summary.total))
            .chain(summary.strategies.iter().map(|(id, m)| metrics(id, m)))
            .collect(),
        equity: outcome
            .days
            .iter()
            .map(|d| EquityDto {
                date: d.date.to_string(),
                equity: d.equity,
                holdings: d.holdings,
            })
            .collect(),
        fills: outcome
            .trades
            .iter()
            .take(MAX_TRADES)
            .map(|t| FillDto {
                time: rfc(t.time),
                strategy: t.strategy.clone(),
                symbol: t.symbol.clone(),
                side: t.side.to_owned(),
                quantity: t.quantity,
                price: t.price,
                fees: t.fees,
                tax: t.tax,
                realised: t.realised,
            })
            .collect(),
    }))
}
