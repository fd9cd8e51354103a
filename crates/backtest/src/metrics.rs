//! The numbers of a run, in total and per strategy: return, CAGR, volatility, Sharpe, Sortino,
//! maximum drawdown, turnover, exposure, trades, fees and tax, wins and losses.
//!
//! Conventions: daily returns of the end-of-day equity (the first against the starting
//! equity); 252 trading days a year; Sharpe = mean excess daily return / its sample standard
//! deviation × √252; Sortino = mean excess daily return / downside deviation (root mean square
//! of the negative excess returns over all days) × √252; CAGR over calendar time
//! (365.25-day years) from the day before the first trading day; turnover = traded value /
//! mean equity / years; exposure = mean of holdings / equity. A ratio with a zero
//! denominator is 0.

use serde::Serialize;
use time::Date;

use crate::run::{Outcome, Trade};

/// Trading days a year.
pub const YEAR_DAYS: f64 = 252.0;

/// The numbers of one equity series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Equity at the start, VND.
    pub start_equity: i64,
    /// Equity at the end, VND.
    pub end_equity: i64,
    /// end / start − 1.
    pub total_return: f64,
    /// Compound annual growth rate.
    pub cagr: f64,
    /// Annualised standard deviation of daily returns.
    pub volatility: f64,
    /// Annualised Sharpe ratio.
    pub sharpe: f64,
    /// Annualised Sortino ratio.
    pub sortino: f64,
    /// Largest fall from a peak, as a fraction (0.25 = 25%).
    pub max_drawdown: f64,
    /// Longest time under a previous peak, trading days.
    pub max_drawdown_days: u32,
    /// Traded value / mean equity / years.
    pub turnover: f64,
    /// Mean holdings / equity.
    pub exposure: f64,
    /// Trading days measured.
    pub days: u32,
    /// Fills.
    pub trades: u64,
    /// Value traded, VND.
    pub traded_value: i64,
    /// Brokerage and exchange fees, VND.
    pub fees: i64,
    /// Sale tax, VND.
    pub tax: i64,
    /// Realised P&L of sales after fees and tax, VND.
    pub realised: i64,
    /// Sales with a realised gain.
    pub wins: u64,
    /// Sales with a realised loss.
    pub losses: u64,
    /// wins / (wins + losses).
    pub win_rate: f64,
    /// Orders decided.
    pub orders: u64,
    /// Orders refused by risk or the exchange.
    pub rejected: u64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        0.0
    } else {
        a / b
    }
}

/// Drawdown of each point of `equity` (0 at a peak, −0.1 ten percent below it).
pub fn drawdowns(start: i64, equity: &[i64]) -> Vec<f64> {
    let mut peak = start as f64;
    equity
        .iter()
        .map(|e| {
            let e = *e as f64;
            peak = peak.max(e);
            ratio(e, peak) - 1.0
        })
        .collect()
}

/// The numbers of one series: `equity` and `holdings` at the end of each of `dates`, from
/// `start`, with its `trades` and its orders (`orders` decided, `rejected` of them).
#[expect(clippy::too_many_arguments, reason = "one series and what it traded")]
pub fn measure<'a>(
    start: i64,
    dates: &[Date],
    equity: &[i64],
    holdings: &[i64],
    trades: impl Iterator<Item = &'a Trade>,
    orders: u64,
    rejected: u64,
    risk_free_rate: f64,
) -> Metrics {
    let n = equity.len();
    let end = equity.last().copied().unwrap_or(start);
    let mut returns = Vec::with_capacity(n);
    let mut prev = start as f64;
    for e in equity {
        let e = *e as f64;
        returns.push(ratio(e, prev) - if prev == 0.0 { 0.0 } else { 1.0 });
        prev = e;
    }
    let rf = (1.0 + risk_free_rate).powf(1.0 / YEAR_DAYS) - 1.0;
    let excess: Vec<f64> = returns.iter().map(|r| r - rf).collect();
    let mean = ratio(excess.iter().sum(), n as f64);
    let var = if n > 1 {
        excess.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let sd = var.sqrt();
    let downside = ratio(
        excess.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>(),
        n as f64,
    )
    .sqrt();
    let dd = drawdowns(start, equity);
    let deepest = -dd.iter().copied().fold(0.0, f64::min);
    // `f64::max` may keep a negative zero; a flat series has no drawdown at all.
    let max_drawdown = if deepest > 0.0 { deepest } else { 0.0 };
    let (mut longest, mut run) = (0u32, 0u32);
    for d in &dd {
        run = if *d < 0.0 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let years = match (dates.first(), dates.last()) {
        (Some(a), Some(b)) => ((*b - *a).whole_days() as f64 + 1.0) / 365.25,
        _ => 0.0,
    };
    let total_return = ratio(end as f64, start as f64) - 1.0;
    let cagr = if years > 0.0 && end > 0 && start > 0 {
        (end as f64 / start as f64).powf(1.0 / years) - 1.0
    } else {
        0.0
    };
    let mut m = Metrics {
        start_equity: start,
        end_equity: end,
        total_return,
        cagr,
        volatility: sd * YEAR_DAYS.sqrt(),
        sharpe: ratio(mean, sd) * YEAR_DAYS.sqrt(),
        sortino: ratio(mean, downside) * YEAR_DAYS.sqrt(),
        max_drawdown,
        max_drawdown_days: longest,
        turnover: 0.0,
        exposure: ratio(
            holdings
                .iter()
                .zip(equity)
                .map(|(h, e)| ratio(*h as f64, *e as f64))
                .sum(),
            n as f64,
        ),
        days: n as u32,
        trades: 0,
        traded_value: 0,
        fees: 0,
        tax: 0,
        realised: 0,
        wins: 0,
        losses: 0,
        win_rate: 0.0,
        orders,
        rejected,
    };
    for t in trades {
        m.trades += 1;
        m.traded_value += t.price * t.quantity as i64;
        m.fees += t.fees;
        m.tax += t.tax;
        if t.side == "sell" {
            m.realised += t.realised;
            if t.realised > 0 {
                m.wins += 1;
            } else {
                m.losses += 1;
            }
        }
    }
    let mean_equity = ratio(equity.iter().map(|e| *e as f64).sum(), n as f64);
    m.turnover = ratio(ratio(m.traded_value as f64, mean_equity), years);
    m.win_rate = ratio(m.wins as f64, (m.wins + m.losses) as f64);
    m
}

/// The account's numbers and each strategy's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The account.
    pub total: Metrics,
    /// Each strategy, by id, in configuration order.
    pub strategies: Vec<(String, Metrics)>,
}

/// Measures `outcome`.
pub fn summarise(outcome: &Outcome, risk_free_rate: f64) -> Summary {
    let dates: Vec<Date> = outcome.days.iter().map(|d| d.date).collect();
    let rejected = |s: Option<&str>| {
        outcome
            .orders
            .iter()
            .filter(|o| s.is_none_or(|s| o.strategy == s) && o.rejection.is_some())
            .count() as u64
    };
    let total = measure(
        outcome.cash,
        &dates,
        &outcome.days.iter().map(|d| d.equity).collect::<Vec<_>>(),
        &outcome.days.iter().map(|d| d.holdings).collect::<Vec<_>>(),
        outcome.trades.iter(),
        outcome.orders.len() as u64,
        rejected(None),
        risk_free_rate,
    );
    let strategies = outcome
        .strategies
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let m = measure(
                outcome.strategy_capital,
                &dates,
                &outcome
                    .days
                    .iter()
                    .map(|d| d.strategies[k])
                    .collect::<Vec<_>>(),
                &outcome
                    .days
                    .iter()
                    .map(|d| d.strategy_holdings[k])
                    .collect::<Vec<_>>(),
                outcome.trades.iter().filter(|t| t.strategy == *id),
                outcome.orders.iter().filter(|o| o.strategy == *id).count() as u64,
                rejected(Some(id)),
                risk_free_rate,
            );
            (id.clone(), m)
        })
        .collect();
    Summary { total, strategies }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_numbers_of_a_known_series() {
        let dates = [
            date!(2024 - 01 - 02),
            date!(2024 - 01 - 03),
            date!(2024 - 01 - 04),
            date!(2024 - 01 - 05),
        ];
        // +10%, −20%, +25%, 0%: ends where it started; the trough is 20% under the peak.
        let equity = [110, 88, 110, 110];
        let m = measure(100, &dates, &equity, &[0, 44, 0, 0], [].iter(), 0, 0, 0.0);
        assert!((m.total_return - 0.1).abs() < 1e-12);
        assert!((m.max_drawdown - 0.2).abs() < 1e-12, "{}", m.max_drawdown);
        assert_eq!(m.max_drawdown_days, 1);
        let r = [0.1, -0.2, 0.25, 0.0];
        let mean = r.iter().sum::<f64>() / 4.0;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        assert!((m.sharpe - mean / sd * 252f64.sqrt()).abs() < 1e-12);
        let down = (0.04f64 / 4.0).sqrt();
        assert!((m.sortino - mean / down * 252f64.sqrt()).abs() < 1e-12);
        assert!((m.exposure - 0.5 / 4.0).abs() < 1e-12);
        // Four calendar days: 1.1^(365.25/4) − 1.
        assert!((m.cagr - (1.1f64.powf(365.25 / 4.0) - 1.0)).abs() < 1e-6);
        let flat = measure(
            100,
            &dates,
            &[100, 100, 100, 100],
            &[0; 4],
            [].iter(),
            0,
            0,
            0.0,
        );
        assert_eq!(
            (flat.sharpe, flat.sortino, flat.max_drawdown),
            (0.0, 0.0, 0.0)
        );
    }
}
