//! The trading calendar: holidays, trading days, the session at any instant, and futures
//! expiry dates (reference §2, §2.6, §7.4).
//!
//! Holidays are data (`data/holidays.toml`, embedded at compile time) and can be extended
//! or corrected at run time. Weekends are never trading days. Vietnam is UTC+7 with no
//! daylight saving time, so a fixed offset is exact.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::macros::{format_description, offset};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

use crate::session::{Phase, SessionKey, SessionRules, SessionState, TimeOfDay};
use crate::ticker::{AliasSeries, FutureAlias, FutureContract};

/// `Asia/Ho_Chi_Minh`: UTC+7 all year (reference §0 conventions).
pub const VN_OFFSET: UtcOffset = offset!(+7);

/// The holiday list shipped with the crate.
pub const EMBEDDED_HOLIDAYS: &str = include_str!("../data/holidays.toml");

/// Why holiday data or a calendar question could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The holiday TOML does not parse.
    #[error("holiday data: {0}")]
    HolidayToml(String),
    /// A date in the holiday data is not `YYYY-MM-DD`.
    #[error("holiday data: invalid date {0:?}")]
    HolidayDate(String),
    /// The session timetables are inconsistent.
    #[error(transparent)]
    Sessions(#[from] crate::session::Error),
}

/// One exchange holiday.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The closed date.
    pub date: Date,
    /// Why it is closed.
    pub name: String,
    /// Not yet confirmed by an exchange notice.
    pub estimated: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    #[serde(default)]
    holiday: Vec<HolidayRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayRow {
    date: String,
    name: String,
    #[serde(default)]
    estimated: bool,
}

/// Parses holiday TOML (`[[holiday]] date = "YYYY-MM-DD" name = "…" estimated = false`).
pub fn parse_holidays(text: &str) -> Result<Vec<Holiday>, Error> {
    let file: HolidayFile = toml::from_str(text).map_err(|e| Error::HolidayToml(e.to_string()))?;
    let fmt = format_description!("[year]-[month]-[day]");
    file.holiday
        .into_iter()
        .map(|row| {
            let date =
                Date::parse(&row.date, &fmt).map_err(|_| Error::HolidayDate(row.date.clone()))?;
            Ok(Holiday {
                date,
                name: row.name,
                estimated: row.estimated,
            })
        })
        .collect()
}

/// Holidays plus session timetables: answers every "is the market open" question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradingCalendar {
    holidays: BTreeMap<Date, Holiday>,
    sessions: SessionRules,
}

impl TradingCalendar {
    /// The embedded holiday list with the default timetables (reference §2).
    pub fn embedded() -> Result<Self, Error> {
        Self::new(SessionRules::default(), EMBEDDED_HOLIDAYS)
    }

    /// A calendar from timetables and holiday TOML; checks the timetables.
    pub fn new(sessions: SessionRules, holidays_toml: &str) -> Result<Self, Error> {
        sessions.validate()?;
        let mut cal = Self {
            holidays: BTreeMap::new(),
            sessions,
        };
        cal.extend_from_toml(holidays_toml)?;
        Ok(cal)
    }

    /// Adds (or replaces) holidays from TOML; returns how many rows were read.
    pub fn extend_from_toml(&mut self, text: &str) -> Result<usize, Error> {
        let rows = parse_holidays(text)?;
        let n = rows.len();
        for h in rows {
            self.add_holiday(h);
        }
        Ok(n)
    }

    /// Adds or replaces one holiday (e.g. a bridge day announced during the year).
    pub fn add_holiday(&mut self, holiday: Holiday) {
        self.holidays.insert(holiday.date, holiday);
    }

    /// Removes a holiday (a wrong estimate); returns whether it was listed.
    pub fn remove_holiday(&mut self, date: Date) -> bool {
        self.holidays.remove(&date).is_some()
    }

    /// The holidays, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = &Holiday> {
        self.holidays.values()
    }

    /// The last listed holiday: the calendar knows nothing about holidays after its year.
    pub fn last_listed_holiday(&self) -> Option<Date> {
        self.holidays.keys().next_back().copied()
    }

    /// The timetables in use.
    pub fn sessions(&self) -> &SessionRules {
        &self.sessions
    }

    /// Whether `date` is a listed holiday.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains_key(&date)
    }

    /// Monday–Friday and not a holiday (reference §0: ~250 trading days a year).
    pub fn is_trading_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.is_holiday(date)
    }

    /// The first trading day strictly after `date` (`None` only at the end of `Date`'s range).
    pub fn next_trading_day(&self, date: Date) -> Option<Date> {
        let mut d = date.next_day()?;
        while !self.is_trading_day(d) {
            d = d.next_day()?;
        }
        Some(d)
    }

    /// The last trading day strictly before `date`.
    pub fn previous_trading_day(&self, date: Date) -> Option<Date> {
        let mut d = date.previous_day()?;
        while !self.is_trading_day(d) {
            d = d.previous_day()?;
        }
        Some(d)
    }

    /// `date` itself if it is a trading day, else the next one.
    pub fn this_or_next_trading_day(&self, date: Date) -> Option<Date> {
        if self.is_trading_day(date) {
            Some(date)
        } else {
            self.next_trading_day(date)
        }
    }

    /// The trading day `n` trading days after `date` (T+n). If `date` is not a trading day
    /// the count starts from the next one (a trade is always dated on a trading day).
    pub fn add_trading_days(&self, date: Date, n: u32) -> Option<Date> {
        let mut d = self.this_or_next_trading_day(date)?;
        for _ in 0..n {
            d = self.next_trading_day(d)?;
        }
        Some(d)
    }

    /// Number of trading days in `(from, to]` (0 if `to <= from`).
    pub fn trading_days_between(&self, from: Date, to: Date) -> u32 {
        let mut n = 0;
        let mut d = from;
        while let Some(next) = self.next_trading_day(d) {
            if next > to {
                break;
            }
            n += 1;
            d = next;
        }
        n
    }

    /// `instant` as a Vietnamese local date and time of day.
    pub fn local(instant: OffsetDateTime) -> (Date, TimeOfDay) {
        let local = instant.to_offset(VN_OFFSET);
        (local.date(), TimeOfDay::from_time(local.time()))
    }

    /// The session state for `key` at `instant` (any offset; converted to UTC+7)
    /// (reference §2).
    pub fn session(&self, instant: OffsetDateTime, key: &SessionKey) -> SessionState {
        let (date, time) = Self::local(instant);
        self.session_at(date, time, key)
    }

    /// The session state for `key` at a local date and time (reference §2). Weekends and
    /// holidays are [`Phase::Closed`]; a trading day before the first segment is
    /// [`Phase::PreOpen`]; after the last, `Closed`. Restricted HNX/UPCoM stocks are
    /// `Closed` outside their weekdays.
    pub fn session_at(&self, date: Date, time: TimeOfDay, key: &SessionKey) -> SessionState {
        let trading_day = self.is_trading_day(date);
        let closed = SessionState {
            date,
            time,
            trading_day,
            phase: Phase::Closed,
            phase_end: None,
        };
        if !trading_day {
            return closed;
        }
        let Some(tt) = self.sessions.timetable(key, date) else {
            return closed;
        };
        if let Some(seg) = tt.segment_at(time) {
            return SessionState {
                phase: seg.phase,
                phase_end: Some(seg.end),
                ..closed
            };
        }
        match tt.opens_at() {
            Some(open) if time < open => SessionState {
                phase: Phase::PreOpen,
                phase_end: Some(open),
                ..closed
            },
            Some(_) | None => closed,
        }
    }

    /// Last trading day of a futures contract: the third Thursday of the expiry month, or
    /// the previous trading day if that is a holiday (reference §7.4) \[C\].
    pub fn last_trading_day(&self, contract: &FutureContract) -> Option<Date> {
        let month = Month::try_from(contract.month).ok()?;
        let first = Date::from_calendar_date(i32::from(contract.year), month, 1).ok()?;
        let offset = (7 + i64::from(Weekday::Thursday.number_days_from_monday())
            - i64::from(first.weekday().number_days_from_monday()))
            % 7;
        let third_thursday = first.checked_add(Duration::days(offset + 14))?;
        if self.is_trading_day(third_thursday) {
            Some(third_thursday)
        } else {
            self.previous_trading_day(third_thursday)
        }
    }

    /// Final settlement day: the trading day after the last trading day (reference §7.4).
    pub fn final_settlement_day(&self, contract: &FutureContract) -> Option<Date> {
        self.next_trading_day(self.last_trading_day(contract)?)
    }

    /// The four contracts of `underlying` listed on `today`: current month (rolled after its
    /// last trading day), next month, and the last months of the next two quarters
    /// (reference §1.3) \[C\].
    pub fn listed_contracts(
        &self,
        underlying: crate::ticker::Underlying,
        today: Date,
    ) -> Option<[FutureContract; 4]> {
        let mk = |y: i32, m: u8| FutureContract::new(underlying, u16::try_from(y).ok()?, m).ok();
        let next = |(y, m): (i32, u8)| if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let mut cur = (today.year(), u8::from(today.month()));
        let front = mk(cur.0, cur.1)?;
        if today > self.last_trading_day(&front)? {
            cur = next(cur);
        }
        let second = next(cur);
        let mut q = next(second);
        while q.1 % 3 != 0 {
            q = next(q);
        }
        let mut q2 = next(q);
        while q2.1 % 3 != 0 {
            q2 = next(q2);
        }
        Some([
            mk(cur.0, cur.1)?,
            mk(second.0, second.1)?,
            mk(q.0, q.1)?,
            mk(q2.0, q2.1)?,
        ])
    }

    /// Resolves a vendor alias (`VN30F1M` …) to the concrete contract on `today`
    /// (reference §1.3, §14: map aliases to concrete codes daily).
    pub fn resolve_alias(&self, alias: &FutureAlias, today: Date) -> Option<FutureContract> {
        let [m1, m2, q1, q2] = self.listed_contracts(alias.underlying, today)?;
        Some(match alias.series {
            AliasSeries::FrontMonth => m1,
            AliasSeries::NextMonth => m2,
            AliasSeries::FirstQuarter => q1,
            AliasSeries::SecondQuarter => q2,
        })
    }
}

#[cfg(test)]
mod tests;
