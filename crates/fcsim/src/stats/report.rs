//! What `qts sim stats` prints: the measured figures, and each stylized fact with the range
//! real markets show (the ranges and their references are documented in
//! `docs/simulator.md`, "Market model"; the test suite asserts every fact).

use std::fmt;

use serde::Serialize;

/// Every figure measured over one [`super::Plan`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Seed of the simulated market.
    pub seed: u64,
    /// First and last trading day measured.
    pub from: String,
    /// Last trading day measured.
    pub to: String,
    /// Trading days measured.
    pub days: usize,
    /// Index the selected symbols are compared with.
    pub index: String,
    /// The selected symbols (return statistics).
    pub symbols: Vec<String>,
    /// Daily return statistics of the selected symbols.
    pub returns: Returns,
    /// Limit-up and limit-down days per exchange (sampled stocks), then of the selected
    /// symbols (named after their index).
    pub limits: Vec<LimitRow>,
    /// Volume, value, days without trades and spreads per exchange and liquidity class.
    pub liquidity: Vec<LiquidityRow>,
    /// Intraday shape of the selected symbols.
    pub intraday: IntradayShape,
    /// Odd-lot volume as a share of round-lot volume (the selected symbols' `OL` board
    /// over the last 3 days).
    pub odd_lot_volume_share: f64,
    /// Put-through value as a share of matched value (the selected symbols, the measured
    /// days, `Generator::put_throughs`).
    pub put_through_value_share: f64,
    /// Each stylized fact with its real-market range.
    pub facts: Vec<Fact>,
}

/// Daily return statistics (log close-to-close returns; a return is counted when both
/// days traded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Returns {
    /// Stock-day returns pooled.
    pub observations: usize,
    /// Mean over stocks of the standard deviation of daily returns.
    pub daily_vol: f64,
    /// Standard deviation of the index's daily returns.
    pub index_daily_vol: f64,
    /// Excess kurtosis of all returns pooled.
    pub excess_kurtosis: f64,
    /// Largest |return| seen.
    pub max_abs_return: f64,
    /// Autocorrelation of |r| at lags 1..=10, averaged over stocks.
    pub abs_autocorrelation: Vec<f64>,
    /// Mean of [`Self::abs_autocorrelation`].
    pub abs_autocorrelation_mean: f64,
    /// Lag-1 autocorrelation of r, averaged over stocks.
    pub autocorrelation_lag1: f64,
    /// Mean pairwise correlation of the stocks.
    pub pairwise_correlation: f64,
    /// Mean daily co-movement of the stocks: each day's mean pairwise product of demeaned
    /// returns over their mean square (every day weighs alike).
    pub comovement: f64,
    /// The same on turbulent days (the index's volatility over the 10 days before and the
    /// 10 after, the day itself left out, in its top third).
    pub comovement_turbulent: f64,
    /// The same on calm days.
    pub comovement_calm: f64,
    /// Turbulent days.
    pub turbulent_days: usize,
    /// Calm days.
    pub calm_days: usize,
    /// Mean correlation of each stock with the index.
    pub index_correlation: f64,
    /// Mean over stocks of the correlation of daily volume with |r|.
    pub volume_abs_return_correlation: f64,
}

/// Stock-days closing at the ceiling or the floor on one exchange (or of the selected
/// symbols).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitRow {
    /// HOSE, HNX or UPCOM, or the selected symbols' index.
    pub exchange: String,
    /// Stocks sampled.
    pub symbols: usize,
    /// Stock-days with trades.
    pub stock_days: usize,
    /// Share closing at the ceiling.
    pub limit_up: f64,
    /// Share closing at the floor.
    pub limit_down: f64,
    /// Share at either limit on turbulent days.
    pub limit_turbulent: f64,
    /// Share at either limit on calm days.
    pub limit_calm: f64,
    /// Stock-days with trades on turbulent days.
    pub turbulent_stock_days: usize,
    /// Stock-days with trades on calm days.
    pub calm_stock_days: usize,
}

/// Trading activity of one exchange's stocks of one liquidity class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiquidityRow {
    /// HOSE, HNX or UPCOM.
    pub exchange: String,
    /// `liquid`, `mid` or `illiquid`.
    pub class: String,
    /// Stocks sampled.
    pub symbols: usize,
    /// Stock-days.
    pub stock_days: usize,
    /// Mean matched volume per stock-day, shares.
    pub mean_volume: f64,
    /// Mean matched value per stock-day, billion VND.
    pub mean_value_bn: f64,
    /// Share of stock-days without a trade.
    pub no_trade_share: f64,
    /// Median over stocks of Roll's effective spread from 1-minute closes, basis points.
    pub roll_spread_bps: f64,
}

/// Intraday shape of the selected symbols' 1-minute bars.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntradayShape {
    /// Days of 1-minute bars.
    pub days: usize,
    /// Volume share and mean |1-minute return| per clock half-hour (auctions included).
    pub half_hours: Vec<HalfHour>,
    /// Continuous volume per minute in the first and last 30 minutes of continuous trading
    /// over the rest of the continuous session.
    pub u_volume: f64,
    /// The same ratio for the mean |1-minute return|.
    pub u_volatility: f64,
    /// Closing-auction volume as a share of the day's volume.
    pub atc_share: f64,
    /// Volume traded during the lunch break (must be 0).
    pub lunch_volume: u64,
}

/// One clock half-hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HalfHour {
    /// `09:00`.
    pub start: String,
    /// Share of the day's volume.
    pub volume_share: f64,
    /// Mean |1-minute log return|, basis points.
    pub abs_return_bps: f64,
}

/// One stylized fact: the measured value and the range real markets show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// Stable key (`returns.excess_kurtosis`).
    pub key: String,
    /// What is measured.
    pub label: String,
    /// The measured value.
    pub value: f64,
    /// Lowest value of the range.
    pub low: f64,
    /// Highest value of the range (infinite when unbounded: `null` in JSON).
    pub high: f64,
    /// Where the range comes from.
    pub reference: String,
}

impl Fact {
    /// Whether the value is in its range.
    pub fn holds(&self) -> bool {
        self.value >= self.low && self.value <= self.high
    }
}

impl Report {
    /// The facts outside their ranges.
    pub fn failures(&self) -> Vec<&Fact> {
        self.facts.iter().filter(|f| !f.holds()).collect()
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.returns;
        writeln!(
            f,
            "seed {}, {} trading days {}..{}, {} symbols vs {}",
            self.seed,
            self.days,
            self.from,
            self.to,
            self.symbols.len(),
            self.index
        )?;
        writeln!(f)?;
        writeln!(f, "daily returns ({} stock-days)", r.observations)?;
        writeln!(f, "  mean daily volatility           {}", pct(r.daily_vol))?;
        writeln!(
            f,
            "  index daily volatility          {}",
            pct(r.index_daily_vol)
        )?;
        writeln!(
            f,
            "  pooled excess kurtosis          {:.2}",
            r.excess_kurtosis
        )?;
        writeln!(
            f,
            "  largest |return|                {}",
            pct(r.max_abs_return)
        )?;
        writeln!(
            f,
            "  mean acf of |r|, lags 1-10      {:.3}",
            r.abs_autocorrelation_mean
        )?;
        let lags: Vec<String> = r
            .abs_autocorrelation
            .iter()
            .map(|x| format!("{x:.2}"))
            .collect();
        writeln!(f, "    by lag                        {}", lags.join(" "))?;
        writeln!(
            f,
            "  mean lag-1 acf of r             {:.3}",
            r.autocorrelation_lag1
        )?;
        writeln!(
            f,
            "  mean pairwise correlation       {:.3}",
            r.pairwise_correlation
        )?;
        writeln!(f, "  mean daily co-movement          {:.3}", r.comovement)?;
        writeln!(
            f,
            "    turbulent / calm days         {:.3} ({} days) / {:.3} ({} days)",
            r.comovement_turbulent, r.turbulent_days, r.comovement_calm, r.calm_days
        )?;
        writeln!(
            f,
            "  mean correlation with {:<9} {:.3}",
            self.index, r.index_correlation
        )?;
        writeln!(
            f,
            "  corr(volume, |r|)               {:.3}",
            r.volume_abs_return_correlation
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "limit days     stocks  stock-days  limit-up  limit-down  turbulent  calm"
        )?;
        for l in &self.limits {
            writeln!(
                f,
                "  {:<12} {:>6}  {:>10}  {:>8}  {:>10}  {:>9}  {:>5}",
                l.exchange,
                l.symbols,
                l.stock_days,
                pct(l.limit_up),
                pct(l.limit_down),
                pct(l.limit_turbulent),
                pct(l.limit_calm)
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "liquidity            stocks  stock-days   volume/day  value bn/day  no-trade days  Roll spread"
        )?;
        for l in &self.liquidity {
            writeln!(
                f,
                "  {:<6} {:<9} {:>7}  {:>10}  {:>11.0}  {:>12.2}  {:>13}  {:>8.0} bps",
                l.exchange,
                l.class,
                l.symbols,
                l.stock_days,
                l.mean_volume,
                l.mean_value_bn,
                pct(l.no_trade_share),
                l.roll_spread_bps
            )?;
        }
        let i = &self.intraday;
        writeln!(f)?;
        writeln!(f, "intraday ({} days of 1-minute bars)", i.days)?;
        for h in &i.half_hours {
            let bar = "#".repeat((h.volume_share * 200.0).round() as usize);
            writeln!(
                f,
                "  {}  {:>6}  |r| {:>5.1} bps  {bar}",
                h.start,
                pct(h.volume_share),
                h.abs_return_bps
            )?;
        }
        writeln!(
            f,
            "  U ratio: volume {:.2}, volatility {:.2}",
            i.u_volume, i.u_volatility
        )?;
        writeln!(
            f,
            "  closing auction share {}, lunch-break volume {}",
            pct(i.atc_share),
            i.lunch_volume
        )?;
        writeln!(
            f,
            "  odd-lot volume / round-lot volume {}",
            pct(self.odd_lot_volume_share)
        )?;
        writeln!(
            f,
            "  put-through value / matched value {}",
            pct(self.put_through_value_share)
        )?;
        writeln!(f)?;
        writeln!(f, "stylized facts (measured vs real-market range)")?;
        for fact in &self.facts {
            writeln!(
                f,
                "  {} {:<52} {:>9.4}  in [{}, {}]",
                if fact.holds() { "ok  " } else { "FAIL" },
                fact.label,
                fact.value,
                fact.low,
                fact.high
            )?;
        }
        Ok(())
    }
}
