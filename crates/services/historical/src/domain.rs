//! Bars, trades and the rules over them: building one-minute bars from trades (with duplicate
//! and late-trade detection), session-aware resampling and the minutes a session should have.
//! No transport or storage here.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use market::calendar::VN_OFFSET;
use market::session::{Phase, TimeOfDay, Timetable};
use market::{Board, Exchange, InstrumentKind, SessionKey, TradingCalendar};
use time::{Date, Duration, OffsetDateTime, Time};

/// Seconds of a one-minute bar.
pub const MINUTE: i64 = 60;

/// One OHLCV bar. Prices in the instrument's unit (đồng; futures: tenths of a point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Ticker.
    pub symbol: String,
    /// Bar start (UTC).
    pub start: OffsetDateTime,
    /// Length in seconds (60, 300, ..., 86400).
    pub seconds: u32,
    /// Open.
    pub open: i64,
    /// High.
    pub high: i64,
    /// Low.
    pub low: i64,
    /// Close.
    pub close: i64,
    /// Volume.
    pub volume: i64,
    /// Trades in the bar (0 when the source does not say).
    pub trades: i64,
}

impl Bar {
    /// A one-minute bar opened by one trade.
    pub fn opened_by(t: &Trade, start: OffsetDateTime) -> Self {
        Self {
            symbol: t.symbol.clone(),
            start,
            seconds: 60,
            open: t.price,
            high: t.price,
            low: t.price,
            close: t.price,
            volume: t.quantity,
            trades: 1,
        }
    }

    /// The first instant after the bar.
    pub fn end(&self) -> OffsetDateTime {
        self.start + Duration::seconds(i64::from(self.seconds))
    }

    pub fn absorb(&mut self, t: &Trade) {
        self.high = self.high.max(t.price);
        self.low = self.low.min(t.price);
        self.close = t.price;
        self.volume = self.volume.saturating_add(t.quantity);
        self.trades += 1;
    }

    fn merge(&mut self, later: &Bar) {
        self.high = self.high.max(later.high);
        self.low = self.low.min(later.low);
        self.close = later.close;
        self.volume = self.volume.saturating_add(later.volume);
        self.trades += later.trades;
    }
}

/// A validated trade from `market.trade.v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// Ticker.
    pub symbol: String,
    /// Price (positive).
    pub price: i64,
    /// Quantity (positive).
    pub quantity: i64,
    /// The day's cumulative volume after this trade; 0 when the feed did not send it.
    pub total_volume: i64,
    /// Exchange time.
    pub time: OffsetDateTime,
}

/// The minute `t` falls in (Vietnam is a whole-hour offset, so UTC minutes are local minutes).
pub fn minute_of(t: OffsetDateTime) -> OffsetDateTime {
    let secs = t.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(secs - secs.rem_euclid(MINUTE)).unwrap_or(t)
}

/// The Vietnam trading day of an instant.
pub fn vn_date(t: OffsetDateTime) -> Date {
    t.to_offset(VN_OFFSET).date()
}

/// 00:00 Vietnam time of `day`, in UTC.
pub fn vn_midnight(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT)
        .assume_offset(VN_OFFSET)
        .to_offset(time::UtcOffset::UTC)
}

/// What one trade did to its symbol's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Counted into the open bar (closing the previous one if it opened a new minute).
    Counted,
    /// Its cumulative volume is not above the last seen that day: a redelivery.
    Duplicate,
    /// Its minute's bar is already closed (or it is older than the open bar): merged into the
    /// stored bar by the caller.
    Late,
}

/// The live builder's state of one symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolState {
    /// The bar being built.
    pub open: Option<Bar>,
    /// Start of the last closed bar.
    pub last_closed: Option<OffsetDateTime>,
    /// The Vietnam day of `last_total_volume`.
    pub volume_day: Option<Date>,
    /// The largest cumulative volume seen on `volume_day`.
    pub last_total_volume: i64,
}

impl SymbolState {
    /// Applies `t`; a bar it closes is pushed to `closed`.
    pub fn apply(&mut self, t: &Trade, closed: &mut Vec<Bar>) -> Applied {
        if t.total_volume > 0 {
            let day = vn_date(t.time);
            if self.volume_day == Some(day) && t.total_volume <= self.last_total_volume {
                return Applied::Duplicate;
            }
            self.volume_day = Some(day);
            self.last_total_volume = t.total_volume;
        }
        let minute = minute_of(t.time);
        if self.last_closed.is_some_and(|c| minute <= c) {
            return Applied::Late;
        }
        match &mut self.open {
            Some(bar) if bar.start == minute => bar.absorb(t),
            Some(bar) if bar.start > minute => return Applied::Late,
            Some(_) => {
                if let Some(done) = self.open.replace(Bar::opened_by(t, minute)) {
                    self.last_closed = Some(done.start);
                    closed.push(done);
                }
            }
            None => self.open = Some(Bar::opened_by(t, minute)),
        }
        Applied::Counted
    }

    /// Closes the open bar if the market clock `now` has passed its end plus `grace`.
    pub fn close_due(&mut self, now: OffsetDateTime, grace: Duration) -> Option<Bar> {
        if self.open.as_ref().is_some_and(|b| b.end() + grace <= now) {
            let done = self.open.take()?;
            self.last_closed = Some(done.start);
            return Some(done);
        }
        None
    }
}

/// A bar size of the query API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Resolution {
    /// One minute (stored).
    #[serde(rename = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// Thirty minutes.
    #[serde(rename = "30m")]
    M30,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// One day.
    #[serde(rename = "1D")]
    D1,
}

impl Resolution {
    /// Every resolution, smallest first.
    pub const ALL: [Resolution; 6] = [
        Resolution::M1,
        Resolution::M5,
        Resolution::M15,
        Resolution::M30,
        Resolution::H1,
        Resolution::D1,
    ];

    /// Its name in the API (`1m`, `5m`, `15m`, `30m`, `1h`, `1D`).
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::M1 => "1m",
            Resolution::M5 => "5m",
            Resolution::M15 => "15m",
            Resolution::M30 => "30m",
            Resolution::H1 => "1h",
            Resolution::D1 => "1D",
        }
    }

    /// Bar length in seconds.
    pub fn seconds(self) -> u32 {
        match self {
            Resolution::M1 => 60,
            Resolution::M5 => 300,
            Resolution::M15 => 900,
            Resolution::M30 => 1800,
            Resolution::H1 => 3600,
            Resolution::D1 => 86_400,
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resolution name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resolution {0:?} (expected one of 1m, 5m, 15m, 30m, 1h, 1D)")]
pub struct UnknownResolution(pub String);

impl FromStr for Resolution {
    type Err = UnknownResolution;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "1m" | "1" => Resolution::M1,
            "5m" | "5" => Resolution::M5,
            "15m" | "15" => Resolution::M15,
            "30m" | "30" => Resolution::M30,
            "1h" | "1H" | "60" => Resolution::H1,
            "1D" | "1d" | "D" => Resolution::D1,
            other => return Err(UnknownResolution(other.to_owned())),
        })
    }
}

/// The shape of a trading day as the exchange rules give it: where the lunch break splits it
/// and which minutes are continuous trading (where every liquid symbol has a bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayShape {
    /// Start of the lunch break (local time).
    pub break_start: TimeOfDay,
    /// End of the lunch break.
    pub break_end: TimeOfDay,
    /// `[start, end)` stretches of continuous matching.
    pub continuous: Vec<(TimeOfDay, TimeOfDay)>,
}

impl DayShape {
    /// The shape of a board's timetable (the break is its `Break` segment; a timetable without
    /// one has its break at the end of the day).
    pub fn of(timetable: &Timetable) -> Self {
        let brk = timetable.segments.iter().find(|s| s.phase == Phase::Break);
        let (break_start, break_end) = match brk {
            Some(s) => (s.start, s.end),
            None => (TimeOfDay::hm(23, 59), TimeOfDay::hm(23, 59)),
        };
        Self {
            break_start,
            break_end,
            continuous: timetable
                .segments
                .iter()
                .filter(|s| s.phase == Phase::Continuous)
                .map(|s| (s.start, s.end))
                .collect(),
        }
    }

    /// The HOSE main board's shape from the market rules (the cash boards share the break).
    pub fn hose(calendar: &TradingCalendar, day: Date) -> Self {
        let key = SessionKey {
            exchange: Exchange::Hose,
            board: Board::Main,
            kind: InstrumentKind::Stock,
            restricted: false,
        };
        match calendar.sessions().timetable(&key, day) {
            Some(tt) => Self::of(tt),
            None => Self::of(&calendar.sessions().hose.main),
        }
    }

    /// The minute starts (UTC) of continuous trading on `day`.
    pub fn continuous_minutes(&self, day: Date) -> Vec<OffsetDateTime> {
        let midnight = vn_midnight(day);
        let mut out = Vec::new();
        for &(a, b) in &self.continuous {
            let mut s = a.seconds() - a.seconds() % 60;
            while s < b.seconds() {
                out.push(midnight + Duration::seconds(i64::from(s)));
                s += 60;
            }
        }
        out
    }

    /// The bucket start of a bar starting at `t` for an intraday resolution of `seconds`: the
    /// grid from local midnight, clamped so a bucket never starts before its half of the day
    /// (the lunch break splits every bucket).
    fn bucket(&self, t: OffsetDateTime, seconds: u32) -> (Date, OffsetDateTime) {
        let local = t.to_offset(VN_OFFSET);
        let day = local.date();
        let tod = TimeOfDay::from_time(local.time()).seconds();
        let grid = tod - tod % seconds;
        let half_start = if tod >= self.break_end.seconds() {
            self.break_end.seconds()
        } else {
            0
        };
        let start = grid.max(half_start);
        (day, vn_midnight(day) + Duration::seconds(i64::from(start)))
    }
}

/// Resamples one symbol's one-minute bars (oldest first) to `resolution`. Buckets follow the
/// local clock grid, but no bucket spans the lunch break or two days; a daily bar starts at
/// 00:00 Vietnam time. Volumes and trade counts add up; open is the first bar's, close the last's.
pub fn resample(bars: &[Bar], resolution: Resolution, shape: &DayShape) -> Vec<Bar> {
    if resolution == Resolution::M1 {
        return bars.to_vec();
    }
    let mut out: BTreeMap<OffsetDateTime, Bar> = BTreeMap::new();
    for b in bars {
        let start = if resolution == Resolution::D1 {
            vn_midnight(vn_date(b.start))
        } else {
            shape.bucket(b.start, resolution.seconds()).1
        };
        match out.get_mut(&start) {
            Some(acc) => acc.merge(b),
            None => {
                out.insert(
                    start,
                    Bar {
                        start,
                        seconds: resolution.seconds(),
                        ..b.clone()
                    },
                );
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests;
