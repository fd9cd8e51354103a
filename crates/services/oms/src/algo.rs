//! Execution algorithms that slice a parent order into child orders placed through the OMS:
//! TWAP (equal slices at equal intervals between a start and an end), VWAP (slices at the same
//! times, sized by the symbol's historical volume profile: the share of the day's volume each
//! minute of the day trades, from the historical service's one-minute bars of the last days)
//! and iceberg (one visible slice at a time, the next when it has filled). No I/O here: [`crate::service`] runs the
//! schedule, stores the progress and places the children.
//!
//! Children are limit orders at the parent's price, in whole lots, with client ids
//! `<client_id>:<n>`: placing slice n again (after a crash, a lost answer) answers the order
//! already placed, so a slice is never sent twice. Each child goes through the risk check like
//! any order (ticks, bands, lots, sessions).

use market::{Side, Symbol};
use time::{Duration, OffsetDateTime};

use crate::domain::{Invalid, parse_name, parse_parent};

/// The algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Time-weighted: `slices` equal slices, one every (end − start) / slices.
    Twap,
    /// Volume-weighted: TWAP's times, each slice sized by the historical volume of its
    /// interval ([`Algo::weights`]).
    Vwap,
    /// `display` shares visible at a time; the next slice when the visible one has filled.
    Iceberg,
}

impl Kind {
    /// `twap`, `iceberg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Twap => "twap",
            Kind::Vwap => "vwap",
            Kind::Iceberg => "iceberg",
        }
    }

    /// Reads [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Twap, Kind::Vwap, Kind::Iceberg]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Where a parent order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Placing slices.
    Active,
    /// Every slice placed (TWAP) or the whole quantity filled (iceberg), or a slice ended
    /// unfilled (iceberg: the rest is not shown).
    Done,
    /// Cancelled: no more slices (and the working one cancelled).
    Cancelled,
}

impl Status {
    /// `active`, `done`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    /// Reads [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Active, Status::Done, Status::Cancelled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Longest client id of a parent (its children's are `<client id>:<n>`).
pub const ALGO_ID_MAX: usize = crate::domain::CLIENT_ID_MAX - 5;

/// Most slices of a TWAP.
pub const MAX_SLICES: u32 = 1_000;

/// A parent order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algo {
    /// The caller's idempotency key, also its id.
    pub client_id: String,
    /// Broker sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// The algorithm.
    pub kind: Kind,
    /// Limit price of every child.
    pub price: i64,
    /// Total shares.
    pub quantity: u64,
    /// TWAP: number of slices.
    pub slices: Option<u32>,
    /// TWAP: first slice.
    pub start_at: Option<OffsetDateTime>,
    /// TWAP: the last slice is due before this.
    pub end_at: Option<OffsetDateTime>,
    /// Iceberg: shares shown at a time.
    pub display: Option<u64>,
    /// VWAP: the historical volume of each slice's interval (see [`profile_weights`]); empty
    /// for the other kinds.
    pub weights: Vec<u64>,
    /// Strategy (the children carry it).
    pub strategy: Option<String>,
    /// Slices placed so far (the next child is `<client_id>:<next_slice>`).
    pub next_slice: u32,
    /// Where it is.
    pub status: Status,
    /// What happened last.
    pub detail: String,
    /// When it was placed.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A request, as the API takes it.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// Idempotency key.
    pub client_id: &'a str,
    /// Account.
    pub account: &'a str,
    /// Symbol.
    pub symbol: &'a str,
    /// `buy` or `sell`.
    pub side: &'a str,
    /// `twap`, `vwap` or `iceberg`.
    pub kind: &'a str,
    /// Limit price of the children.
    pub price: i64,
    /// Total shares.
    pub quantity: u64,
    /// TWAP: slices.
    pub slices: Option<u32>,
    /// TWAP: start (default now).
    pub start_at: Option<OffsetDateTime>,
    /// TWAP: end.
    pub end_at: Option<OffsetDateTime>,
    /// Iceberg: shares shown.
    pub display: Option<u64>,
    /// Strategy.
    pub strategy: Option<&'a str>,
}

/// Shares of the round lot.
const LOT: u64 = 100;

impl Algo {
    /// Checks a request at `now`.
    pub fn parse(r: &Request<'_>, now: OffsetDateTime) -> Result<Algo, Invalid> {
        let field = |m: String| Invalid::Field(m);
        let (symbol, side) = parse_parent(
            "an algorithmic order",
            r.client_id,
            ALGO_ID_MAX,
            r.account,
            r.symbol,
            r.side,
        )?;
        let kind = Kind::parse(r.kind)
            .ok_or_else(|| field(format!("kind {:?}: twap, vwap or iceberg", r.kind)))?;
        if market::Price::new(r.price).is_err() || r.price <= 0 {
            return Err(field(format!("price {} must be a positive price", r.price)));
        }
        if r.quantity == 0 || !r.quantity.is_multiple_of(LOT) {
            return Err(field(format!(
                "quantity {}: whole lots of {LOT}",
                r.quantity
            )));
        }
        let (mut slices, mut start_at, mut end_at, mut display) = (None, None, None, None);
        match kind {
            Kind::Twap | Kind::Vwap => {
                let name = kind.as_str();
                let n = r
                    .slices
                    .filter(|n| (1..=MAX_SLICES).contains(n))
                    .ok_or_else(|| {
                        field(format!("a {name} order needs slices, 1 to {MAX_SLICES}"))
                    })?;
                if u64::from(n) > r.quantity / LOT {
                    return Err(field(format!(
                        "{n} slices of {} shares: fewer slices than lots",
                        r.quantity
                    )));
                }
                let start = r.start_at.unwrap_or(now);
                let end = r
                    .end_at
                    .ok_or_else(|| field(format!("a {name} order needs end_at")))?;
                if end <= start || end - start > Duration::days(7) {
                    return Err(field(
                        "end_at must be after start_at, within 7 days".to_owned(),
                    ));
                }
                if r.display.is_some() {
                    return Err(field(format!("a {name} order takes no display")));
                }
                (slices, start_at, end_at) = (Some(n), Some(start), Some(end));
            }
            Kind::Iceberg => {
                let d = r
                    .display
                    .filter(|d| *d > 0 && d.is_multiple_of(LOT) && *d <= r.quantity)
                    .ok_or_else(|| {
                        field(
                            "an iceberg needs display: whole lots, at most the quantity".to_owned(),
                        )
                    })?;
                if r.slices.is_some() || r.start_at.is_some() || r.end_at.is_some() {
                    return Err(field(
                        "an iceberg takes no slices, start_at or end_at".to_owned(),
                    ));
                }
                display = Some(d);
            }
        }
        let strategy = parse_name("strategy", r.strategy)?;
        Ok(Algo {
            client_id: r.client_id.to_owned(),
            account: r.account.to_owned(),
            symbol,
            side,
            kind,
            price: r.price,
            quantity: r.quantity,
            slices,
            start_at,
            end_at,
            display,
            weights: Vec::new(),
            strategy,
            next_slice: 0,
            status: Status::Active,
            detail: String::new(),
            created_at: now,
            updated_at: now,
        })
    }

    /// The client id of slice `n`.
    pub fn child_client_id(&self, n: u32) -> String {
        format!("{}:{n}", self.client_id)
    }

    /// TWAP and VWAP: when slice `n` is due.
    pub fn due(&self, n: u32) -> Option<OffsetDateTime> {
        let (start, end, slices) = (self.start_at?, self.end_at?, self.slices?);
        Some(start + (end - start) * f64::from(n) / f64::from(slices))
    }

    /// TWAP: the shares of slice `n`: the whole lots of the cumulative share, so the slices
    /// add up to the quantity exactly.
    pub fn twap_slice(&self, n: u32) -> u64 {
        let Some(slices) = self.slices else {
            return 0;
        };
        let lots = self.quantity / LOT;
        let upto = |k: u32| lots * u64::from(k) / u64::from(slices);
        (upto(n + 1) - upto(n)) * LOT
    }

    /// VWAP: the shares of slice `n`: the whole lots of the cumulative share of the volume
    /// profile, so the slices add up to the quantity exactly (a slice of a quiet interval may
    /// be empty).
    pub fn vwap_slice(&self, n: u32) -> u64 {
        let total: u128 = self.weights.iter().map(|w| u128::from(*w)).sum();
        if total == 0 {
            return 0;
        }
        let lots = u128::from(self.quantity / LOT);
        let upto = |k: u32| {
            let w: u128 = self
                .weights
                .iter()
                .take(k as usize)
                .map(|w| u128::from(*w))
                .sum();
            lots * w / total
        };
        u64::try_from(upto(n + 1) - upto(n)).unwrap_or(0) * LOT
    }

    /// The shares of slice `n` of a TWAP or VWAP.
    pub fn scheduled_slice(&self, n: u32) -> u64 {
        match self.kind {
            Kind::Vwap => self.vwap_slice(n),
            Kind::Twap | Kind::Iceberg => self.twap_slice(n),
        }
    }

    /// Iceberg: the next slice once `filled` shares of the parent have filled.
    pub fn iceberg_slice(&self, filled: u64) -> u64 {
        self.display
            .unwrap_or(0)
            .min(self.quantity.saturating_sub(filled))
    }
}

/// Minutes in a day.
const DAY_MINUTES: usize = 1_440;

/// The volume profile of one-minute `bars` (start, volume): volume by minute of the day,
/// Vietnam time.
pub fn volume_profile(bars: impl IntoIterator<Item = (OffsetDateTime, u64)>) -> Vec<u64> {
    let mut profile = vec![0u64; DAY_MINUTES];
    for (start, volume) in bars {
        let t = start.to_offset(market::calendar::VN_OFFSET).time();
        let minute = usize::from(t.hour()) * 60 + usize::from(t.minute());
        profile[minute] = profile[minute].saturating_add(volume);
    }
    profile
}

/// VWAP: the profile's volume in each slice's interval of `a` (see [`Algo::due`]), counting
/// only the minutes of days `trading_day` accepts. `None` when the whole window has no
/// historical volume (nothing to weigh by).
pub fn profile_weights(
    a: &Algo,
    profile: &[u64],
    trading_day: impl Fn(time::Date) -> bool,
) -> Option<Vec<u64>> {
    let slices = a.slices?;
    let minute_of = |t: OffsetDateTime| {
        let l = t.to_offset(market::calendar::VN_OFFSET);
        (
            l.date(),
            usize::from(l.hour()) * 60 + usize::from(l.minute()),
        )
    };
    let mut weights = Vec::with_capacity(slices as usize);
    for n in 0..slices {
        let (from, to) = (a.due(n)?, a.due(n + 1)?);
        let mut w = 0u64;
        let mut t = from;
        while t < to {
            let (day, minute) = minute_of(t);
            if trading_day(day) {
                w = w.saturating_add(profile.get(minute).copied().unwrap_or(0));
            }
            t += Duration::MINUTE;
        }
        weights.push(w);
    }
    weights.iter().any(|w| *w > 0).then_some(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2025-06-10 03:00 UTC)
    }

    fn twap(q: u64, n: u32) -> Algo {
        Algo::parse(
            &Request {
                client_id: "p-1",
                account: "0001001",
                symbol: "FPT",
                side: "buy",
                kind: "twap",
                price: 100_000,
                quantity: q,
                slices: Some(n),
                end_at: Some(now() + Duration::minutes(30)),
                ..Request::default()
            },
            now(),
        )
        .unwrap()
    }

    #[test]
    fn twap_slices_add_up_in_whole_lots_at_equal_intervals() {
        let a = twap(1_000, 3);
        let sizes: Vec<u64> = (0..3).map(|n| a.twap_slice(n)).collect();
        assert_eq!(sizes, vec![300, 300, 400]);
        assert_eq!(sizes.iter().sum::<u64>(), 1_000);
        assert_eq!(a.due(0), Some(now()));
        assert_eq!(a.due(1), Some(now() + Duration::minutes(10)));
        assert_eq!(a.child_client_id(2), "p-1:2");
        let b = twap(700, 7);
        assert!((0..7).all(|n| b.twap_slice(n) == 100));
    }

    #[test]
    fn vwap_slices_follow_the_volume_profile_of_their_intervals() {
        // 10:00–10:30 Vietnam time in three 10-minute slices; history trades 1, 2 and 7 parts
        // of its volume in them (two days of bars, plus volume outside the window).
        let day = |d: u8, h: u8, m: u8, v: u64| {
            (
                time::macros::datetime!(2025-06-01 00:00 +7)
                    .replace_day(d)
                    .unwrap()
                    .replace_hour(h)
                    .unwrap()
                    .replace_minute(m)
                    .unwrap(),
                v,
            )
        };
        let profile = volume_profile([
            day(5, 10, 0, 500),
            day(6, 10, 9, 500),
            day(5, 10, 15, 2_000),
            day(5, 10, 20, 3_000),
            day(6, 10, 29, 4_000),
            day(6, 10, 30, 9_999),
            day(6, 9, 15, 9_999),
        ]);
        let mut a = Algo::parse(
            &Request {
                kind: "vwap",
                quantity: 2_000,
                ..twap_request()
            },
            now(),
        )
        .unwrap();
        let weights = profile_weights(&a, &profile, |_| true).unwrap();
        assert_eq!(weights, vec![1_000, 2_000, 7_000]);
        a.weights = weights;
        let sizes: Vec<u64> = (0..3).map(|n| a.scheduled_slice(n)).collect();
        assert_eq!(sizes, vec![200, 400, 1_400]);
        // A day the calendar closes weighs nothing; a window without history has no weights.
        assert_eq!(profile_weights(&a, &profile, |_| false), None);
        assert_eq!(profile_weights(&a, &vec![0; 1_440], |_| true), None);
        // Rounding to lots still adds up: 700 shares over 1:2:7 → 0, 100... in whole lots.
        a.quantity = 700;
        let sizes: Vec<u64> = (0..3).map(|n| a.scheduled_slice(n)).collect();
        assert_eq!(sizes.iter().sum::<u64>(), 700, "{sizes:?}");
        assert_eq!(sizes, vec![0, 200, 500]);
    }

    fn twap_request() -> Request<'static> {
        Request {
            client_id: "p-1",
            account: "0001001",
            symbol: "FPT",
            side: "buy",
            kind: "twap",
            price: 100_000,
            quantity: 1_000,
            slices: Some(3),
            end_at: Some(now() + Duration::minutes(30)),
            ..Request::default()
        }
    }

    #[test]
    fn an_iceberg_shows_its_display_until_the_rest_is_smaller() {
        let a = Algo::parse(
            &Request {
                client_id: "i-1",
                account: "0001001",
                symbol: "FPT",
                side: "sell",
                kind: "iceberg",
                price: 100_000,
                quantity: 500,
                display: Some(200),
                ..Request::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(a.iceberg_slice(0), 200);
        assert_eq!(a.iceberg_slice(400), 100);
        assert_eq!(a.iceberg_slice(500), 0);
    }

    #[test]
    fn requests_name_what_is_wrong() {
        let e = |r: Request<'_>| match Algo::parse(&r, now()) {
            Err(Invalid::Field(m)) => m,
            other => panic!("{other:?}"),
        };
        let base = Request {
            client_id: "p",
            account: "0001001",
            symbol: "FPT",
            side: "buy",
            kind: "twap",
            price: 1_000,
            quantity: 300,
            slices: Some(3),
            end_at: Some(now() + Duration::minutes(1)),
            ..Request::default()
        };
        assert!(
            e(Request {
                slices: Some(4),
                ..base.clone()
            })
            .contains("fewer slices")
        );
        assert!(
            e(Request {
                end_at: None,
                ..base.clone()
            })
            .contains("end_at")
        );
        assert!(
            e(Request {
                end_at: Some(now()),
                ..base.clone()
            })
            .contains("after")
        );
        assert!(
            e(Request {
                quantity: 250,
                ..base.clone()
            })
            .contains("whole lots")
        );
        assert!(
            e(Request {
                kind: "pov",
                ..base.clone()
            })
            .contains("twap, vwap or iceberg")
        );
        assert!(
            e(Request {
                kind: "iceberg",
                ..base.clone()
            })
            .contains("display")
        );
        assert!(
            e(Request {
                kind: "iceberg",
                display: Some(100),
                ..base.clone()
            })
            .contains("no slices")
        );
        assert!(e(Request { price: 0, ..base }).contains("price"));
    }
}
