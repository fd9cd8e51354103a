//! Use cases: bar queries with resampling, latest bars, index history, gaps. The only place the
//! query rules live; the HTTP and gRPC adapters translate to and from these.

use std::sync::Arc;

use common::error::{Classify, Kind};
use market::TradingCalendar;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

use crate::domain::{Bar, DayShape, Resolution, resample, vn_date, vn_midnight};
use crate::settings::QuerySettings;
use crate::store::{self, IndexPoint, Store};

/// Why a query was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The range is longer than the resolution allows.
    #[error("range too large: {days} days for {resolution} (at most {max})")]
    RangeTooLarge {
        /// Days asked.
        days: i64,
        /// The resolution.
        resolution: String,
        /// The limit.
        max: u32,
    },
    /// A backfill job that does not exist.
    #[error("no backfill job {0}")]
    NotFound(String),
    /// Backfill needs `[broker]`.
    #[error(
        "no broker configured: set the [broker] section (HISTORICAL__BROKER__GENERATION, ...) to backfill"
    )]
    NoBroker,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) | Error::RangeTooLarge { .. } => Kind::InvalidArgument,
            Error::NotFound(_) => Kind::NotFound,
            Error::NoBroker => Kind::FailedPrecondition,
            Error::Store(e) => e.kind(),
        }
    }
}

/// A day (`YYYY-MM-DD`).
pub fn parse_date(text: &str, what: &str) -> Result<Date, Error> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .map_err(|_| Error::Invalid(format!("{what} {text:?} is not a date (YYYY-MM-DD)")))
}

/// One end of a range: an RFC 3339 instant, or a day (`YYYY-MM-DD`, Vietnam time: a `from` day
/// starts at its midnight, a `to` day includes the whole day).
pub fn parse_bound(text: &str, what: &str, end: bool) -> Result<OffsetDateTime, Error> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let day = parse_date(text, what).map_err(|_| {
        Error::Invalid(format!(
            "{what} {text:?} is neither an RFC 3339 time nor a date (YYYY-MM-DD)"
        ))
    })?;
    Ok(if end {
        vn_midnight(day) + Duration::days(1)
    } else {
        vn_midnight(day)
    })
}

/// A checked ticker or index code: 1–20 letters, digits, `_` or `-`, upper-cased.
pub fn parse_symbol(text: &str) -> Result<String, Error> {
    let s = text.trim().to_ascii_uppercase();
    if s.is_empty()
        || s.len() > 20
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::Invalid(format!(
            "symbol {text:?} is not a ticker (1-20 letters and digits)"
        )));
    }
    Ok(s)
}

/// A bars query, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarsQuery {
    /// Ticker.
    pub symbol: String,
    /// Bar size.
    pub resolution: Resolution,
    /// First instant (inclusive).
    pub from: OffsetDateTime,
    /// Last instant (exclusive).
    pub to: OffsetDateTime,
}

impl BarsQuery {
    /// Parses the query parameters every adapter takes.
    pub fn parse(symbol: &str, resolution: &str, from: &str, to: &str) -> Result<Self, Error> {
        let resolution: Resolution = resolution
            .parse()
            .map_err(|e: crate::domain::UnknownResolution| Error::Invalid(e.to_string()))?;
        let (from, to) = (
            parse_bound(from, "from", false)?,
            parse_bound(to, "to", true)?,
        );
        if from >= to {
            return Err(Error::Invalid(format!(
                "from {} is not before to {}",
                from.format(&Rfc3339).unwrap_or_default(),
                to.format(&Rfc3339).unwrap_or_default()
            )));
        }
        Ok(Self {
            symbol: parse_symbol(symbol)?,
            resolution,
            from,
            to,
        })
    }
}

/// Minutes missing from one day's continuous sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayGaps {
    /// The trading day.
    pub day: Date,
    /// Minutes the sessions have.
    pub expected: usize,
    /// Starts of the minutes without a bar.
    pub missing: Vec<OffsetDateTime>,
}

/// The query use cases.
#[derive(Clone)]
pub struct Queries {
    store: Store,
    calendar: Arc<TradingCalendar>,
    limits: QuerySettings,
}

impl Queries {
    /// Queries over `store`, sessions from `calendar`.
    pub fn new(store: Store, calendar: Arc<TradingCalendar>, limits: QuerySettings) -> Self {
        Self {
            store,
            calendar,
            limits,
        }
    }

    /// The calendar.
    pub fn calendar(&self) -> &Arc<TradingCalendar> {
        &self.calendar
    }

    fn check_range(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        daily: bool,
        what: &str,
    ) -> Result<(), Error> {
        if from > to {
            return Err(Error::Invalid(format!("from {from} is after to {to}")));
        }
        let days = (to - from).whole_days();
        let max = if daily {
            self.limits.max_daily_days
        } else {
            self.limits.max_intraday_days
        };
        if days > i64::from(max) {
            return Err(Error::RangeTooLarge {
                days,
                resolution: what.to_owned(),
                max,
            });
        }
        Ok(())
    }

    /// Bars of one symbol at `resolution`: intraday bars resampled from the stored minutes
    /// (session-aware); daily bars from the broker's daily bars, with days that have only
    /// minute bars resampled from them.
    #[tracing::instrument(skip_all, fields(symbol = %q.symbol, resolution = %q.resolution), err)]
    pub async fn bars(&self, q: &BarsQuery) -> Result<Vec<Bar>, Error> {
        let daily = q.resolution == Resolution::D1;
        self.check_range(q.from, q.to, daily, q.resolution.as_str())?;
        let shape = DayShape::hose(&self.calendar, vn_date(q.from));
        if !daily {
            let minutes = self
                .store
                .minute_bars(&q.symbol, q.from, q.to, i64::MAX)
                .await?;
            if q.resolution == Resolution::M1 {
                // As stored: no copy of a year of bars to resample nothing.
                return Ok(minutes);
            }
            return Ok(resample(&minutes, q.resolution, &shape));
        }
        let from = vn_midnight(vn_date(q.from));
        let stored = self.store.daily_bars(&q.symbol, from, q.to).await?;
        let mut by_day: std::collections::BTreeMap<OffsetDateTime, Bar> =
            stored.into_iter().map(|b| (b.start, b)).collect();
        let days = (q.to - from).whole_days();
        if days <= i64::from(self.limits.max_intraday_days) {
            let minutes = self
                .store
                .minute_bars(&q.symbol, from, q.to, i64::MAX)
                .await?;
            for b in resample(&minutes, Resolution::D1, &shape) {
                by_day.entry(b.start).or_insert(b);
            }
        }
        Ok(by_day.into_values().collect())
    }

    /// The latest one-minute bar of each symbol (symbols without bars are left out).
    pub async fn latest(&self, symbols: &[String]) -> Result<Vec<Bar>, Error> {
        if symbols.is_empty() {
            return Err(Error::Invalid("no symbols".into()));
        }
        if symbols.len() > self.limits.max_symbols {
            return Err(Error::Invalid(format!(
                "{} symbols asked, at most {}",
                symbols.len(),
                self.limits.max_symbols
            )));
        }
        let symbols = symbols
            .iter()
            .map(|s| parse_symbol(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.store.latest_bars(&symbols).await?)
    }

    /// Daily values of an index, oldest first.
    pub async fn index_history(
        &self,
        index: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<IndexPoint>, Error> {
        let index = parse_symbol(index)?;
        self.check_range(vn_midnight(from), vn_midnight(to), true, "index history")?;
        Ok(self.store.index_history(&index, from, to).await?)
    }

    /// Daily price rows of a symbol, oldest first.
    pub async fn daily_prices(
        &self,
        symbol: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<store::DailyPrice>, Error> {
        let symbol = parse_symbol(symbol)?;
        self.check_range(vn_midnight(from), vn_midnight(to), true, "daily prices")?;
        Ok(self.store.daily_prices(&symbol, from, to).await?)
    }

    /// Minutes of continuous trading without a bar, per trading day from `from` to `to`. Days
    /// without any bar are reported too (every minute missing).
    pub async fn gaps(&self, symbol: &str, from: Date, to: Date) -> Result<Vec<DayGaps>, Error> {
        let symbol = parse_symbol(symbol)?;
        self.check_range(vn_midnight(from), vn_midnight(to), false, "gaps")?;
        gaps(&self.store, &self.calendar, &symbol, from, to).await
    }
}

/// See [`Queries::gaps`].
pub async fn gaps(
    store: &Store,
    calendar: &TradingCalendar,
    symbol: &str,
    from: Date,
    to: Date,
) -> Result<Vec<DayGaps>, Error> {
    let have = store
        .minute_starts(
            symbol,
            vn_midnight(from),
            vn_midnight(to) + Duration::days(1),
        )
        .await?;
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        if calendar.is_trading_day(day) {
            let expected = DayShape::hose(calendar, day).continuous_minutes(day);
            let missing: Vec<OffsetDateTime> = expected
                .iter()
                .filter(|m| !have.contains(m))
                .copied()
                .collect();
            if !missing.is_empty() {
                out.push(DayGaps {
                    day,
                    expected: expected.len(),
                    missing,
                });
            }
        }
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(out)
}
