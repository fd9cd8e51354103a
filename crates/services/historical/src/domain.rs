//! Bars, trades and the rules over them: building one-minute bars from trades (with duplicate
//! and late-trade detection), session-aware resampling and the minutes a session should have.
//! No transport or storage here.

use std::collections::BTreeMap;

pub use market::bars::{DayShape, Resolution, UnknownResolution, vn_date, vn_midnight};
use time::{Date, Duration, OffsetDateTime};

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
