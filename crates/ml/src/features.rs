//! The feature pipeline: per symbol, returns, volatility, RSI, distance from the moving
//! average, volume surprise; across symbols, the market's average returns and each symbol's
//! cross-sectional ranks. [`Pipeline::push`] takes one date's bars and gives that date's
//! features from what has been pushed so far, so no value can see a later date;
//! [`batch`] is the same pipeline replayed over a [`Panel`].

use std::collections::VecDeque;

use indicators::Streaming;
use indicators::momentum::Rsi;

use crate::Panel;
use crate::stats::{mean, stdev};

/// The features, in column order.
pub const NAMES: [&str; 15] = [
    "ret_1",
    "ret_5",
    "ret_20",
    "vol_20",
    "rsi_14",
    "ma_gap_20",
    "zscore_20",
    "volume_z_20",
    "mkt_ret_1",
    "mkt_ret_5",
    "rank_ret_1",
    "rank_ret_5",
    "rank_ret_20",
    "rank_vol_20",
    "rank_rsi_14",
];

/// Number of features.
pub const COUNT: usize = NAMES.len();
/// Bars a symbol needs before every one of its features is defined.
pub const WARM_UP: usize = 21;
const WINDOW: usize = 20;

/// Feature values: dates × symbols × features, NaN where undefined (warm-up, no bar).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    names: Vec<String>,
    dates: usize,
    symbols: usize,
    values: Vec<f64>,
}

impl Features {
    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Dates (rows of the panel).
    pub fn dates(&self) -> usize {
        self.dates
    }

    /// Symbols.
    pub fn symbols(&self) -> usize {
        self.symbols
    }

    /// The features of symbol `s` on date `d`.
    pub fn row(&self, d: usize, s: usize) -> &[f64] {
        let f = self.names.len();
        let at = (d * self.symbols + s) * f;
        &self.values[at..at + f]
    }

    /// Appends a column (one value per date and symbol, row-major): a custom feature.
    pub fn with_column(mut self, name: &str, column: &[f64]) -> Self {
        let f = self.names.len();
        let mut values = Vec::with_capacity(self.values.len() + column.len());
        for (row, extra) in self.values.chunks_exact(f).zip(column) {
            values.extend_from_slice(row);
            values.push(*extra);
        }
        self.values = values;
        self.names.push(name.to_owned());
        self
    }
}

/// One symbol's running state.
#[derive(Debug, Clone)]
struct SymbolState {
    /// The last `WINDOW + 1` closes.
    closes: VecDeque<f64>,
    /// The last `WINDOW` log returns.
    returns: VecDeque<f64>,
    /// The last `WINDOW` log volumes.
    log_volumes: VecDeque<f64>,
    rsi: Rsi,
}

impl SymbolState {
    #[expect(clippy::expect_used, reason = "14 is a valid RSI period")]
    fn new() -> Self {
        Self {
            closes: VecDeque::with_capacity(WINDOW + 2),
            returns: VecDeque::with_capacity(WINDOW + 1),
            log_volumes: VecDeque::with_capacity(WINDOW + 1),
            rsi: Rsi::new(14).expect("RSI(14)"),
        }
    }

    /// Consumes a bar; writes the per-symbol features (the first eight columns).
    fn push(&mut self, close: f64, volume: f64, out: &mut [f64]) {
        if let Some(&previous) = self.closes.back() {
            push_capped(&mut self.returns, (close / previous).ln(), WINDOW);
        }
        push_capped(&mut self.closes, close, WINDOW + 1);
        let mut rsi = [f64::NAN];
        self.rsi.update(&[close], &mut rsi);
        let back = |k: usize| {
            let n = self.closes.len();
            (n > k).then(|| (close / self.closes[n - 1 - k]).ln())
        };
        out[0] = back(1).unwrap_or(f64::NAN);
        out[1] = back(5).unwrap_or(f64::NAN);
        out[2] = back(20).unwrap_or(f64::NAN);
        out[3] = if self.returns.len() == WINDOW {
            stdev(self.returns.iter().copied())
        } else {
            f64::NAN
        };
        out[4] = (rsi[0] - 50.0) / 50.0;
        if self.closes.len() >= WINDOW {
            let last = self.closes.iter().rev().take(WINDOW).copied();
            let mean = last.clone().sum::<f64>() / WINDOW as f64;
            let sd = stdev(last);
            out[5] = close / mean - 1.0;
            out[6] = if sd > 0.0 { (close - mean) / sd } else { 0.0 };
        } else {
            out[5] = f64::NAN;
            out[6] = f64::NAN;
        }
        out[7] = f64::NAN;
        if volume.is_finite() && volume > 0.0 {
            let lv = volume.ln();
            if self.log_volumes.len() == WINDOW {
                let mean = self.log_volumes.iter().sum::<f64>() / WINDOW as f64;
                let sd = stdev(self.log_volumes.iter().copied());
                out[7] = if sd > 0.0 { (lv - mean) / sd } else { 0.0 };
            }
            push_capped(&mut self.log_volumes, lv, WINDOW);
        }
    }
}

fn push_capped(q: &mut VecDeque<f64>, v: f64, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(v);
}

/// The incremental pipeline: push each date's bars in order.
#[derive(Debug, Clone)]
pub struct Pipeline {
    states: Vec<SymbolState>,
}

impl Pipeline {
    /// A pipeline for `symbols` symbols.
    pub fn new(symbols: usize) -> Self {
        Self {
            states: (0..symbols).map(|_| SymbolState::new()).collect(),
        }
    }

    /// Consumes one date's closes and volumes (one per symbol; NaN for no bar) and returns
    /// that date's features, symbol by symbol ([`COUNT`] values each).
    pub fn push(&mut self, closes: &[f64], volumes: &[f64]) -> Vec<f64> {
        let n = self.states.len();
        let mut out = vec![f64::NAN; n * COUNT];
        for (s, state) in self.states.iter_mut().enumerate() {
            let close = closes.get(s).copied().unwrap_or(f64::NAN);
            if close.is_finite() && close > 0.0 {
                let volume = volumes.get(s).copied().unwrap_or(f64::NAN);
                state.push(close, volume, &mut out[s * COUNT..s * COUNT + 8]);
            }
        }
        // The market's context: the average of each symbol's own returns.
        for (column, source) in [(8, 0), (9, 1)] {
            let m = mean((0..n).map(|s| out[s * COUNT + source]));
            for s in 0..n {
                if closes.get(s).is_some_and(|c| c.is_finite()) {
                    out[s * COUNT + column] = m;
                }
            }
        }
        // Cross-sectional percentile ranks in [−0.5, 0.5].
        for (column, source) in [(10, 0), (11, 1), (12, 2), (13, 3), (14, 4)] {
            let values: Vec<(usize, f64)> = (0..n)
                .map(|s| (s, out[s * COUNT + source]))
                .filter(|(_, v)| v.is_finite())
                .collect();
            for (s, rank) in ranks(&values) {
                out[s * COUNT + column] = rank;
            }
        }
        out
    }
}

/// Percentile ranks in [−0.5, 0.5] (ties share their average rank); none for fewer than two.
pub(crate) fn ranks(values: &[(usize, f64)]) -> Vec<(usize, f64)> {
    if values.len() < 2 {
        return Vec::new();
    }
    let mut sorted: Vec<(usize, f64)> = values.to_vec();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
    let last = (sorted.len() - 1) as f64;
    let mut out = Vec::with_capacity(sorted.len());
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1].1 == sorted[i].1 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 / last - 0.5;
        out.extend(sorted[i..=j].iter().map(|&(s, _)| (s, rank)));
        i = j + 1;
    }
    out
}

/// The pipeline over a whole panel: every date pushed in order.
pub fn batch(panel: &Panel) -> Features {
    let symbols = panel.symbols().len();
    let dates = panel.dates().len();
    let mut pipeline = Pipeline::new(symbols);
    let mut values = Vec::with_capacity(dates * symbols * COUNT);
    for d in 0..dates {
        values.extend(pipeline.push(panel.closes(d), panel.volumes(d)));
    }
    Features {
        names: NAMES.iter().map(|n| (*n).to_owned()).collect(),
        dates,
        symbols,
        values,
    }
}

#[cfg(test)]
mod tests;
