//! Trading phases and the daily timetables per exchange and board (reference §2).
//!
//! A [`Timetable`] is a list of `[start, end)` segments of local time, each with a
//! [`Phase`]. [`SessionRules`] holds one timetable per (exchange, board) plus the HOSE
//! restricted-stock periodic-auction timetable (§2.2) and the HNX/UPCoM restricted
//! weekdays (§2.3 \[S\]/\[U\]). All times are `Asia/Ho_Chi_Minh` (UTC+7, no DST). Which phase
//! applies at an instant, including weekends and holidays, is answered by
//! [`crate::calendar::TradingCalendar::session`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Weekday};

use crate::venue::{Board, Exchange, InstrumentKind};

/// Why a time or timetable is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not `HH:MM` or `HH:MM:SS` within a day.
    #[error("invalid time of day {0:?}: expected HH:MM or HH:MM:SS")]
    TimeSyntax(String),
    /// Segments must be non-empty, ordered and non-overlapping.
    #[error("timetable {name}: {reason}")]
    Timetable {
        /// Which timetable.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A wall-clock time in Vietnam, seconds since local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// `hh:mm`; hours and minutes beyond a day saturate to 23:59:59.
    pub const fn hm(hour: u32, minute: u32) -> Self {
        let s = hour * 3600 + minute * 60;
        Self(if s < 86_400 { s } else { 86_399 })
    }

    /// From seconds since midnight (clamped to the day).
    pub const fn from_seconds(seconds: u32) -> Self {
        Self(if seconds < 86_400 { seconds } else { 86_399 })
    }

    /// From a `time::Time`.
    pub fn from_time(t: time::Time) -> Self {
        let (h, m, s) = t.as_hms();
        Self(u32::from(h) * 3600 + u32::from(m) * 60 + u32::from(s))
    }

    /// Seconds since midnight.
    pub const fn seconds(self) -> u32 {
        self.0
    }

    /// Whole minutes from `self` until `later` (0 if `later` is not later).
    pub const fn minutes_until(self, later: TimeOfDay) -> u32 {
        later.0.saturating_sub(self.0) / 60
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 / 60 % 60, self.0 % 60);
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

impl FromStr for TimeOfDay {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = || Error::TimeSyntax(text.to_owned());
        let field = |p: &str, max: u32| -> Result<u32, Error> {
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let v: u32 = p.parse().map_err(|_| bad())?;
            if v < max { Ok(v) } else { Err(bad()) }
        };
        let (h, m, s) = match text.trim().split(':').collect::<Vec<_>>().as_slice() {
            [h, m] => (field(h, 24)?, field(m, 60)?, 0),
            [h, m, s] => (field(h, 24)?, field(m, 60)?, field(s, 60)?),
            _ => return Err(bad()),
        };
        Ok(Self(h * 3600 + m * 60 + s))
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

/// What a board is doing at an instant (reference §2, §13 suggested `SessionPhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Not a trading day, or after the board's last phase.
    Closed,
    /// A trading day before the board's first phase. The exchange takes no orders;
    /// brokers queue them (reference §3.1, §15 item 10 \[U\]).
    PreOpen,
    /// Opening call auction (ATO): HOSE 09:00–09:15, futures 08:45–09:00.
    OpeningAuction,
    /// Continuous matching.
    Continuous,
    /// Lunch break 11:30–13:00: no entry, amend or cancel at the exchange (§3.3).
    Break,
    /// HOSE restricted stocks: periodic call auction number 1–15 (§2.2).
    PeriodicAuction(u8),
    /// Closing call auction (ATC) 14:30–14:45.
    ClosingAuction,
    /// HNX post-close 14:45–14:55: PLO orders collected, no matching (§2.3).
    PloCollection,
    /// HNX post-close 14:55–15:00: PLO continuous matching at the closing price (§2.3).
    PloMatching,
    /// Put-through board, in-session window.
    PutThrough,
    /// Put-through board, after-hours window 14:45–15:00 (deals entered anew, §2.1).
    PutThroughAfterHours,
    /// Matching boards are shut; only the put-through board trades (HOSE 14:45–15:00).
    PutThroughOnly,
    /// Exchange-level halt (operational failure, §11.1). Never produced by the timetable;
    /// set from the feed (SSI `F` stream `HALT`) by the caller.
    Halted,
}

impl Phase {
    /// Whether this is a call auction in which the same investor may not hold both a buy
    /// and a sell (reference §3.5): opening, periodic and closing auctions.
    pub const fn is_call_auction(self) -> bool {
        matches!(
            self,
            Phase::OpeningAuction | Phase::PeriodicAuction(_) | Phase::ClosingAuction
        )
    }

    /// Whether a matching board entering this phase has left its last regular matching
    /// phase of the day, so day orders resting on it expire (reference §3.1: an LO rests
    /// until the end of the closing auction; §2.1–§2.5 give what follows it). Driven by the
    /// timetable: HOSE and HNX odd lot go from the ATC to [`Phase::PutThroughOnly`], the
    /// HNX round-lot board to the PLO session ([`Phase::PloCollection`]), futures after
    /// their ATC and UPCoM (no ATC, §2.4) after continuous trading to [`Phase::Closed`].
    /// PLO orders live on through the PLO session: see [`crate::order::order_expires`].
    /// The lunch break, call auctions and halts end nothing.
    pub const fn ends_day_orders(self) -> bool {
        match self {
            Phase::Closed | Phase::PutThroughOnly | Phase::PloCollection | Phase::PloMatching => {
                true
            }
            Phase::PreOpen
            | Phase::OpeningAuction
            | Phase::Continuous
            | Phase::Break
            | Phase::PeriodicAuction(_)
            | Phase::ClosingAuction
            | Phase::PutThrough
            | Phase::PutThroughAfterHours
            | Phase::Halted => false,
        }
    }

    /// Whether the phase matches orders or deals of some kind (as opposed to closed,
    /// pre-open, break, put-through-only on a matching board, or halted).
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Phase::OpeningAuction
                | Phase::Continuous
                | Phase::PeriodicAuction(_)
                | Phase::ClosingAuction
                | Phase::PloCollection
                | Phase::PloMatching
                | Phase::PutThrough
                | Phase::PutThroughAfterHours
        )
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Closed => f.write_str("closed"),
            Phase::PreOpen => f.write_str("pre-open"),
            Phase::OpeningAuction => f.write_str("opening auction (ATO)"),
            Phase::Continuous => f.write_str("continuous"),
            Phase::Break => f.write_str("lunch break"),
            Phase::PeriodicAuction(n) => write!(f, "periodic auction {n}"),
            Phase::ClosingAuction => f.write_str("closing auction (ATC)"),
            Phase::PloCollection => f.write_str("PLO collection"),
            Phase::PloMatching => f.write_str("PLO matching"),
            Phase::PutThrough => f.write_str("put-through"),
            Phase::PutThroughAfterHours => f.write_str("after-hours put-through"),
            Phase::PutThroughOnly => f.write_str("put-through only"),
            Phase::Halted => f.write_str("halted"),
        }
    }
}

/// One `[start, end)` stretch of a timetable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// First second of the segment.
    pub start: TimeOfDay,
    /// First second after the segment.
    pub end: TimeOfDay,
    /// The phase during the segment.
    pub phase: Phase,
}

/// A board's trading day: ordered, non-overlapping segments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timetable {
    /// The segments, in time order.
    pub segments: Vec<Segment>,
}

impl Timetable {
    fn of(segments: &[(TimeOfDay, TimeOfDay, Phase)]) -> Self {
        Self {
            segments: segments
                .iter()
                .map(|&(start, end, phase)| Segment { start, end, phase })
                .collect(),
        }
    }

    /// The segment containing `t`, if any.
    pub fn segment_at(&self, t: TimeOfDay) -> Option<&Segment> {
        self.segments.iter().find(|s| s.start <= t && t < s.end)
    }

    /// Start of the first segment.
    pub fn opens_at(&self) -> Option<TimeOfDay> {
        self.segments.first().map(|s| s.start)
    }

    /// End of the last segment.
    pub fn closes_at(&self) -> Option<TimeOfDay> {
        self.segments.last().map(|s| s.end)
    }

    fn validate(&self, name: &'static str) -> Result<(), Error> {
        let bad = |reason| Err(Error::Timetable { name, reason });
        if self.segments.is_empty() {
            return bad("no segments");
        }
        if self.segments.iter().any(|s| s.end <= s.start) {
            return bad("a segment ends before it starts");
        }
        if self.segments.windows(2).any(|w| match w {
            [a, b] => b.start < a.end,
            _ => false,
        }) {
            return bad("segments overlap or are out of order");
        }
        if self.segments.iter().any(|s| s.phase == Phase::Halted) {
            return bad("halted is set by the caller, not the timetable");
        }
        Ok(())
    }
}

/// Timetables of one cash exchange's three boards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardTimetables {
    /// Round-lot board.
    pub main: Timetable,
    /// Odd-lot board.
    pub odd_lot: Timetable,
    /// Put-through board.
    pub put_through: Timetable,
}

/// All timetables, with defaults from reference §2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionRules {
    /// HOSE (§2.1) \[C\].
    pub hose: BoardTimetables,
    /// HOSE restricted stocks: ATO, PCA1–9, break, PCA10–15, ATC (§2.2) \[C\].
    pub hose_restricted: Timetable,
    /// HOSE bonds: put-through only, 09:00–11:30 and 13:00–15:00 (§2.1) \[C\].
    pub hose_bond: Timetable,
    /// HNX listed (§2.3) \[C\].
    pub hnx: BoardTimetables,
    /// UPCoM (§2.4) \[C\].
    pub upcom: BoardTimetables,
    /// Derivatives round-lot board (§2.5) \[C\].
    pub derivatives: Timetable,
    /// Derivatives put-through 08:45–11:30, 13:00–14:45 (§2.5) \[C\].
    pub derivatives_put_through: Timetable,
    /// ISO weekdays (1 = Monday … 7 = Sunday) on which HNX restricted stocks trade, with
    /// the normal HNX timetable. Default `[5]`, Fridays only (§2.3 \[S\]; KRX-era hours \[U\]).
    pub hnx_restricted_weekdays: Vec<u8>,
    /// Same for UPCoM restricted stocks; default `[5]` by analogy with HNX (§15 item 5 \[U\]).
    pub upcom_restricted_weekdays: Vec<u8>,
    /// Amend/cancel blackout at the end of each HOSE periodic auction: 5 minutes (§2.2) \[C\].
    pub pca_amend_blackout_minutes: u32,
}

const fn t(h: u32, m: u32) -> TimeOfDay {
    TimeOfDay::hm(h, m)
}

fn hose_restricted_default() -> Timetable {
    let mut segs = vec![(t(9, 0), t(9, 15), Phase::OpeningAuction)];
    // PCA1..PCA9: 09:15-11:30 in 15-minute auctions; PCA10..PCA15: 13:00-14:30.
    let mut n = 1u8;
    for (from, count) in [(t(9, 15), 9u32), (t(13, 0), 6u32)] {
        for i in 0..count {
            let s = TimeOfDay::from_seconds(from.seconds() + i * 900);
            let e = TimeOfDay::from_seconds(s.seconds() + 900);
            segs.push((s, e, Phase::PeriodicAuction(n)));
            n += 1;
        }
        if n == 10 {
            segs.push((t(11, 30), t(13, 0), Phase::Break));
        }
    }
    segs.push((t(14, 30), t(14, 45), Phase::ClosingAuction));
    segs.push((t(14, 45), t(15, 0), Phase::PutThroughOnly));
    Timetable::of(&segs)
}

impl Default for SessionRules {
    fn default() -> Self {
        use Phase::*;
        let hose_main = Timetable::of(&[
            (t(9, 0), t(9, 15), OpeningAuction),
            (t(9, 15), t(11, 30), Continuous),
            (t(11, 30), t(13, 0), Break),
            (t(13, 0), t(14, 30), Continuous),
            (t(14, 30), t(14, 45), ClosingAuction),
            (t(14, 45), t(15, 0), PutThroughOnly),
        ]);
        let pt_with_after_hours = Timetable::of(&[
            (t(9, 0), t(11, 30), PutThrough),
            (t(11, 30), t(13, 0), Break),
            (t(13, 0), t(14, 45), PutThrough),
            (t(14, 45), t(15, 0), PutThroughAfterHours),
        ]);
        let hnx_main = Timetable::of(&[
            (t(9, 0), t(11, 30), Continuous),
            (t(11, 30), t(13, 0), Break),
            (t(13, 0), t(14, 30), Continuous),
            (t(14, 30), t(14, 45), ClosingAuction),
            (t(14, 45), t(14, 55), PloCollection),
            (t(14, 55), t(15, 0), PloMatching),
        ]);
        let hnx_odd = Timetable::of(&[
            (t(9, 0), t(11, 30), Continuous),
            (t(11, 30), t(13, 0), Break),
            (t(13, 0), t(14, 30), Continuous),
            (t(14, 30), t(14, 45), ClosingAuction),
            (t(14, 45), t(15, 0), PutThroughOnly),
        ]);
        let upcom_main = Timetable::of(&[
            (t(9, 0), t(11, 30), Continuous),
            (t(11, 30), t(13, 0), Break),
            (t(13, 0), t(15, 0), Continuous),
        ]);
        let upcom_pt = Timetable::of(&[
            (t(9, 0), t(11, 30), PutThrough),
            (t(11, 30), t(13, 0), Break),
            (t(13, 0), t(15, 0), PutThrough),
        ]);
        Self {
            hose: BoardTimetables {
                main: hose_main.clone(),
                odd_lot: hose_main,
                put_through: pt_with_after_hours.clone(),
            },
            hose_restricted: hose_restricted_default(),
            hose_bond: upcom_pt.clone(),
            hnx: BoardTimetables {
                main: hnx_main,
                odd_lot: hnx_odd,
                put_through: pt_with_after_hours,
            },
            upcom: BoardTimetables {
                main: upcom_main.clone(),
                odd_lot: upcom_main,
                put_through: upcom_pt,
            },
            derivatives: Timetable::of(&[
                (t(8, 45), t(9, 0), OpeningAuction),
                (t(9, 0), t(11, 30), Continuous),
                (t(11, 30), t(13, 0), Break),
                (t(13, 0), t(14, 30), Continuous),
                (t(14, 30), t(14, 45), ClosingAuction),
            ]),
            derivatives_put_through: Timetable::of(&[
                (t(8, 45), t(11, 30), PutThrough),
                (t(11, 30), t(13, 0), Break),
                (t(13, 0), t(14, 45), PutThrough),
            ]),
            hnx_restricted_weekdays: vec![5],
            upcom_restricted_weekdays: vec![5],
            pca_amend_blackout_minutes: 5,
        }
    }
}

/// Which timetable applies: the security's exchange, board and kind, and whether it is
/// restricted (see [`crate::status::StatusRules::is_restricted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionKey {
    /// Exchange.
    pub exchange: Exchange,
    /// Board the order goes to.
    pub board: Board,
    /// Instrument kind (bonds on HOSE trade put-through only).
    pub kind: InstrumentKind,
    /// Restricted trading status (§2.2, §11.2).
    pub restricted: bool,
}

impl SessionRules {
    /// Checks every timetable (ordered, non-overlapping, non-empty) and the weekday lists.
    pub fn validate(&self) -> Result<(), Error> {
        let all: [(&'static str, &Timetable); 13] = [
            ("hose.main", &self.hose.main),
            ("hose.odd_lot", &self.hose.odd_lot),
            ("hose.put_through", &self.hose.put_through),
            ("hose_restricted", &self.hose_restricted),
            ("hose_bond", &self.hose_bond),
            ("hnx.main", &self.hnx.main),
            ("hnx.odd_lot", &self.hnx.odd_lot),
            ("hnx.put_through", &self.hnx.put_through),
            ("upcom.main", &self.upcom.main),
            ("upcom.odd_lot", &self.upcom.odd_lot),
            ("upcom.put_through", &self.upcom.put_through),
            ("derivatives", &self.derivatives),
            ("derivatives_put_through", &self.derivatives_put_through),
        ];
        for (name, tt) in all {
            tt.validate(name)?;
        }
        let days = self
            .hnx_restricted_weekdays
            .iter()
            .chain(&self.upcom_restricted_weekdays);
        for d in days {
            if !(1..=7).contains(d) {
                return Err(Error::Timetable {
                    name: "restricted_weekdays",
                    reason: "weekdays are 1 (Monday) to 7 (Sunday)",
                });
            }
        }
        Ok(())
    }

    /// The timetable for `key` on `date`, or `None` when that board does not trade that
    /// day (HNX/UPCoM restricted stocks outside their weekdays). Holidays and weekends are
    /// the calendar's business, not this function's.
    pub fn timetable(&self, key: &SessionKey, date: Date) -> Option<&Timetable> {
        let boards = match key.exchange {
            Exchange::Hose => {
                if key.kind == InstrumentKind::Bond {
                    return Some(&self.hose_bond);
                }
                if key.restricted && key.board == Board::Main {
                    return Some(&self.hose_restricted);
                }
                &self.hose
            }
            Exchange::Hnx | Exchange::Upcom => {
                let days = if key.exchange == Exchange::Hnx {
                    &self.hnx_restricted_weekdays
                } else {
                    &self.upcom_restricted_weekdays
                };
                if key.restricted && !days.contains(&iso_weekday(date.weekday())) {
                    return None;
                }
                if key.exchange == Exchange::Hnx {
                    &self.hnx
                } else {
                    &self.upcom
                }
            }
            Exchange::HnxDeriv => {
                return Some(match key.board {
                    Board::PutThrough => &self.derivatives_put_through,
                    Board::Main | Board::OddLot => &self.derivatives,
                });
            }
        };
        Some(match key.board {
            Board::Main => &boards.main,
            Board::OddLot => &boards.odd_lot,
            Board::PutThrough => &boards.put_through,
        })
    }
}

/// ISO weekday number, 1 = Monday … 7 = Sunday.
pub fn iso_weekday(w: Weekday) -> u8 {
    w.number_from_monday()
}

/// Where a board stands at one instant (returned by the calendar, consumed by
/// [`crate::validate::validate_order`] and the amend/cancel checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Local trading date.
    pub date: Date,
    /// Local time of day.
    pub time: TimeOfDay,
    /// Whether `date` is a trading day (not a weekend or holiday).
    pub trading_day: bool,
    /// The phase.
    pub phase: Phase,
    /// When the current phase ends, if it is a timetable segment.
    pub phase_end: Option<TimeOfDay>,
}

impl SessionState {
    /// The same state with the phase replaced by [`Phase::Halted`] (exchange halt from
    /// the feed, reference §11.1).
    pub fn halted(self) -> Self {
        Self {
            phase: Phase::Halted,
            phase_end: None,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_parses_and_prints() {
        assert_eq!("09:15".parse::<TimeOfDay>(), Ok(TimeOfDay::hm(9, 15)));
        assert_eq!(
            "14:29:59".parse::<TimeOfDay>().map(TimeOfDay::seconds),
            Ok(14 * 3600 + 29 * 60 + 59)
        );
        for bad in [
            "9:15",
            "24:00",
            "12:60",
            "12:00:60",
            "12",
            "12:00:00:00",
            "ab:cd",
        ] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
        assert_eq!(TimeOfDay::hm(9, 5).to_string(), "09:05");
        assert_eq!(TimeOfDay::from_seconds(3661).to_string(), "01:01:01");
        assert_eq!(TimeOfDay::hm(9, 20).minutes_until(TimeOfDay::hm(9, 30)), 10);
    }

    #[test]
    fn default_timetables_are_valid() {
        assert_eq!(SessionRules::default().validate(), Ok(()));
    }

    #[test]
    fn hose_restricted_has_fifteen_periodic_auctions() {
        let tt = SessionRules::default().hose_restricted;
        let pcas: Vec<_> = tt
            .segments
            .iter()
            .filter_map(|s| {
                if let Phase::PeriodicAuction(n) = s.phase {
                    Some((n, s.start, s.end))
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(pcas.len(), 15);
        assert_eq!(pcas[0], (1, TimeOfDay::hm(9, 15), TimeOfDay::hm(9, 30)));
        assert_eq!(pcas[8], (9, TimeOfDay::hm(11, 15), TimeOfDay::hm(11, 30)));
        assert_eq!(pcas[9], (10, TimeOfDay::hm(13, 0), TimeOfDay::hm(13, 15)));
        assert_eq!(pcas[14], (15, TimeOfDay::hm(14, 15), TimeOfDay::hm(14, 30)));
    }

    #[test]
    fn overlapping_segments_are_rejected() {
        let mut r = SessionRules::default();
        r.hnx.main.segments[1].start = TimeOfDay::hm(11, 0);
        assert!(r.validate().is_err());
        let r = SessionRules {
            upcom_restricted_weekdays: vec![8],
            ..SessionRules::default()
        };
        assert!(r.validate().is_err());
        let mut r = SessionRules::default();
        r.derivatives.segments.clear();
        assert!(r.validate().is_err());
    }

    #[test]
    fn restricted_hnx_trades_only_on_configured_weekdays() {
        let r = SessionRules::default();
        let key = SessionKey {
            exchange: Exchange::Hnx,
            board: Board::Main,
            kind: InstrumentKind::Stock,
            restricted: true,
        };
        let friday = time::macros::date!(2025 - 06 - 06);
        let thursday = time::macros::date!(2025 - 06 - 05);
        assert!(r.timetable(&key, friday).is_some());
        assert!(r.timetable(&key, thursday).is_none());
    }

    #[test]
    fn phase_serde_round_trips_in_toml() {
        let tt = SessionRules::default().hose_restricted;
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct W {
            t: Timetable,
        }
        let text = toml::to_string(&W { t: tt.clone() }).unwrap();
        let back: W = toml::from_str(&text).unwrap();
        assert_eq!(back.t, tt);
    }
}
