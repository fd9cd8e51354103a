//! A panel of daily bars: dates × symbols, closes and volumes, NaN where a symbol has no bar.

/// Why a panel could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PanelError {
    /// The arrays do not have dates × symbols values.
    #[error("{what} has {got} values; {dates} dates × {symbols} symbols need {}", dates * symbols)]
    Shape {
        /// `close` or `volume`.
        what: &'static str,
        /// Values given.
        got: usize,
        /// Dates.
        dates: usize,
        /// Symbols.
        symbols: usize,
    },
    /// A close is zero, negative or infinite.
    #[error("close of {symbol} on date {date} is {value}; closes are positive (NaN for no bar)")]
    Close {
        /// Symbol.
        symbol: String,
        /// Date index.
        date: usize,
        /// The value.
        value: f64,
    },
}

/// Closes and volumes of many symbols, one row per date (ascending), row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    symbols: Vec<String>,
    dates: Vec<i64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl Panel {
    /// A panel from row-major `close` and `volume` (`dates.len() × symbols.len()` each; NaN
    /// where a symbol has no bar; volume may be all NaN when unknown). `dates` are any
    /// increasing keys, e.g. Unix seconds of each day.
    pub fn new(
        symbols: Vec<String>,
        dates: Vec<i64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    ) -> Result<Self, PanelError> {
        let (d, s) = (dates.len(), symbols.len());
        for (what, v) in [("close", &close), ("volume", &volume)] {
            if v.len() != d * s {
                return Err(PanelError::Shape {
                    what,
                    got: v.len(),
                    dates: d,
                    symbols: s,
                });
            }
        }
        if let Some(at) = close.iter().position(|c| c.is_infinite() || *c <= 0.0) {
            return Err(PanelError::Close {
                symbol: symbols[at % s].clone(),
                date: at / s,
                value: close[at],
            });
        }
        Ok(Self {
            symbols,
            dates,
            close,
            volume,
        })
    }

    /// The symbols, by column.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The date keys, by row.
    pub fn dates(&self) -> &[i64] {
        &self.dates
    }

    /// Closes of date `d` (one per symbol).
    pub fn closes(&self, d: usize) -> &[f64] {
        let s = self.symbols.len();
        &self.close[d * s..(d + 1) * s]
    }

    /// Volumes of date `d` (one per symbol).
    pub fn volumes(&self, d: usize) -> &[f64] {
        let s = self.symbols.len();
        &self.volume[d * s..(d + 1) * s]
    }

    /// A panel from one point per (date key, symbol index): its close and volume. Dates are
    /// the keys seen, ascending; a symbol without a point on a date gets NaN; a later point for
    /// the same date and symbol wins, except that a point with a NaN close (a bar without a
    /// price) only makes its date a row.
    pub fn pivot(
        symbols: Vec<String>,
        points: impl IntoIterator<Item = (i64, usize, f64, f64)>,
    ) -> Result<Self, PanelError> {
        let points: Vec<(i64, usize, f64, f64)> = points.into_iter().collect();
        let mut dates: Vec<i64> = points.iter().map(|p| p.0).collect();
        dates.sort_unstable();
        dates.dedup();
        let n = symbols.len();
        let mut close = vec![f64::NAN; dates.len() * n];
        let mut volume = vec![f64::NAN; dates.len() * n];
        for (key, s, c, v) in points {
            if c.is_nan() {
                continue;
            }
            if let (Ok(d), true) = (dates.binary_search(&key), s < n) {
                close[d * n + s] = c;
                volume[d * n + s] = v;
            }
        }
        Self::new(symbols, dates, close, volume)
    }

    /// The first `dates` rows: what was known on date `dates − 1`.
    pub fn truncated(&self, dates: usize) -> Panel {
        let d = dates.min(self.dates.len());
        let s = self.symbols.len();
        Panel {
            symbols: self.symbols.clone(),
            dates: self.dates[..d].to_vec(),
            close: self.close[..d * s].to_vec(),
            volume: self.volume[..d * s].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn shapes_and_closes_are_checked_and_missing_bars_are_nan() {
        let names = || vec!["A".to_owned(), "B".to_owned()];
        let p = Panel::new(
            names(),
            vec![1, 2],
            vec![1.0, f64::NAN, 2.0, 3.0],
            vec![f64::NAN; 4],
        )
        .unwrap();
        assert_eq!(p.closes(1), &[2.0, 3.0]);
        let q = Panel::pivot(
            names(),
            [
                (2, 1, 3.0, 5.0),
                (1, 0, 1.0, 4.0),
                (2, 0, 2.0, 6.0),
                (2, 0, f64::NAN, f64::NAN),
                (3, 1, f64::NAN, f64::NAN),
            ],
        )
        .unwrap();
        assert_eq!(q.dates(), &[1, 2, 3]);
        assert!(q.closes(2).iter().all(|c| c.is_nan()));
        assert!(q.closes(0)[1].is_nan() && q.volumes(1) == [6.0, 5.0]);
        assert_eq!(q.closes(1), p.closes(1));
        assert_eq!(p.truncated(1).dates(), &[1]);
        let err = Panel::new(names(), vec![1, 2], vec![1.0; 3], vec![0.0; 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "close has 3 values; 2 dates × 2 symbols need 4"
        );
        let err = Panel::new(names(), vec![1], vec![1.0, -2.0], vec![0.0; 2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "close of B on date 0 is -2; closes are positive (NaN for no bar)"
        );
    }
}
