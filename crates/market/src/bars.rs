//! Bar sizes and the shape of a trading day: the session-aware buckets every service that
//! resamples one-minute bars uses (historical's queries, the TA service's timeframes), so a
//! bucket never spans the lunch break or two days wherever it is computed.

use std::fmt;
use std::str::FromStr;

use time::{Date, Duration, OffsetDateTime, Time};

use crate::calendar::VN_OFFSET;
use crate::session::{Phase, TimeOfDay, Timetable};
use crate::{Board, Exchange, InstrumentKind, SessionKey, TradingCalendar};

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

/// A bar size of the query API.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
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
    pub fn bucket(&self, t: OffsetDateTime, seconds: u32) -> (Date, OffsetDateTime) {
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
