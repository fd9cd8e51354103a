//! The broker's live stream as raw feed events: [`Recorder`] numbers and stamps each
//! `broker::MarketEvent` as a `qts.market.v1.FeedEvent`, and [`Schedule`] says when to be
//! connected (the market calendar: before the first session until after the last, trading
//! days only). `qts record` uses both too.

use broker::{MarketEvent, Subscription};
use market::session::SessionKey;
use market::{Board, Exchange, InstrumentKind, TradingCalendar};
use proto::market::v1 as pb;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::domain::{format_day, to_timestamp};

/// The subscription ingestion asks for: the whole market.
pub fn whole_market() -> Subscription {
    Subscription {
        symbols: Vec::new(),
        all_symbols: true,
        indexes: Vec::new(),
        all_indexes: true,
        foreign_room: true,
        bars: true,
        odd_lot: true,
    }
}

/// Describes a subscription for the status.
pub fn describe(s: &Subscription) -> String {
    let mut parts = vec![if s.all_symbols {
        "all symbols".to_owned()
    } else {
        format!("{} symbols", s.symbols.len())
    }];
    parts.push(if s.all_indexes {
        "all indexes".to_owned()
    } else {
        format!("{} indexes", s.indexes.len())
    });
    for (on, what) in [
        (s.foreign_room, "foreign room"),
        (s.bars, "bars"),
        (s.odd_lot, "odd lot"),
    ] {
        if on {
            parts.push(what.to_owned());
        }
    }
    parts.join(", ")
}

/// Turns broker events into numbered, stamped raw feed events.
#[derive(Debug)]
pub struct Recorder {
    source: String,
    sequence: u64,
}

impl Recorder {
    /// A recorder for `source` ("fastconnect-v2", "fastconnect-v3").
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            sequence: 0,
        }
    }

    /// The source name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A connection-state event (connected, disconnected, ...).
    pub fn state(
        &mut self,
        state: pb::feed_state::State,
        reason: impl Into<String>,
        now: OffsetDateTime,
    ) -> pb::FeedEvent {
        let feed = pb::FeedState {
            source: self.source.clone(),
            state: state as i32,
            reason: reason.into(),
            at: Some(to_timestamp(now)),
        };
        self.wrap(pb::feed_event::Event::Feed(feed), now)
    }

    /// One broker event received at `now` (market clock).
    pub fn event(&mut self, event: MarketEvent, now: OffsetDateTime) -> pb::FeedEvent {
        use pb::feed_event::Event;
        let day = TradingCalendar::local(now).0;
        let ts = Some(to_timestamp(now));
        let inner = match event {
            MarketEvent::Trade {
                symbol,
                price,
                quantity,
                total_volume,
                time,
            } => Event::Trade(pb::Trade {
                symbol: symbol.as_str().to_owned(),
                price: price.units(),
                quantity: quantity.units(),
                total_volume: total_volume.map_or(0, |v| v.units()),
                exchange_time: time.map(|t| {
                    to_timestamp(
                        PrimitiveDateTime::new(day, t).assume_offset(market::calendar::VN_OFFSET),
                    )
                }),
                received_at: ts,
                security: None,
            }),
            MarketEvent::Quote {
                symbol,
                board,
                bids,
                asks,
            } => {
                let levels = |v: Vec<broker::Level>| {
                    v.into_iter()
                        .map(|l| pb::Level {
                            price: l.price.units(),
                            volume: l.volume.units(),
                        })
                        .collect()
                };
                Event::Quote(pb::Quote {
                    symbol: symbol.as_str().to_owned(),
                    board: match board {
                        Board::OddLot => "odd_lot",
                        Board::Main | Board::PutThrough => "main",
                    }
                    .to_owned(),
                    bids: levels(bids),
                    asks: levels(asks),
                    received_at: ts,
                    security: None,
                })
            }
            MarketEvent::Index { index, value } => Event::Index(pb::IndexTick {
                index,
                value: value.0,
                received_at: ts,
            }),
            MarketEvent::ForeignRoom {
                symbol,
                current_room,
                total_room,
            } => Event::ForeignRoom(pb::ForeignRoom {
                symbol: symbol.as_str().to_owned(),
                current_room: current_room.map(|q| q.units()),
                total_room: total_room.map(|q| q.units()),
                received_at: ts,
                security: None,
            }),
            MarketEvent::Bar(bar) => Event::Bar(pb::Bar {
                symbol: bar.symbol.as_str().to_owned(),
                start: Some(to_timestamp(bar.time)),
                seconds: 60,
                open: bar.open.units(),
                high: bar.high.units(),
                low: bar.low.units(),
                close: bar.close.units(),
                volume: bar.volume.units(),
                trades: 0,
            }),
            MarketEvent::Status { symbol, status } => Event::Status(pb::SecurityStatus {
                symbol: symbol.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                status,
                received_at: ts,
            }),
            MarketEvent::Gap { reason } => {
                return self.state(pb::feed_state::State::Gap, reason, now);
            }
            MarketEvent::Reconnected => {
                return self.state(
                    pb::feed_state::State::Reconnected,
                    "every subscription resent",
                    now,
                );
            }
        };
        self.wrap(inner, now)
    }

    fn wrap(&mut self, event: pb::feed_event::Event, now: OffsetDateTime) -> pb::FeedEvent {
        self.sequence += 1;
        pb::FeedEvent {
            source: self.source.clone(),
            sequence: self.sequence,
            received_at: Some(to_timestamp(now)),
            trading_day: format_day(TradingCalendar::local(now).0),
            event: Some(event),
        }
    }
}

/// The bus key of a raw event: its symbol or index code (the source for connection events).
pub fn key(event: &pb::FeedEvent) -> &str {
    use pb::feed_event::Event;
    match &event.event {
        Some(Event::Trade(t)) => &t.symbol,
        Some(Event::Quote(q)) => &q.symbol,
        Some(Event::Index(i)) => &i.index,
        Some(Event::ForeignRoom(r)) => &r.symbol,
        Some(Event::Bar(b)) => &b.symbol,
        Some(Event::Status(s)) => &s.symbol,
        Some(Event::Security(s)) => &s.symbol,
        Some(Event::Feed(_)) | None => &event.source,
    }
}

/// When the feed should be connected: from `lead` before the first session of a trading day
/// to `linger` after its last, by `market`'s calendar.
#[derive(Debug, Clone)]
pub struct Schedule {
    calendar: TradingCalendar,
    lead: time::Duration,
    linger: time::Duration,
}

/// What the schedule says at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Be connected until this instant.
    Open {
        /// The trading day.
        day: Date,
        /// When to disconnect.
        until: OffsetDateTime,
    },
    /// Stay disconnected until this instant.
    Closed {
        /// The next trading day.
        day: Date,
        /// When to connect.
        until: OffsetDateTime,
    },
}

impl Schedule {
    /// A schedule over `calendar`.
    pub fn new(calendar: TradingCalendar, lead: time::Duration, linger: time::Duration) -> Self {
        Self {
            calendar,
            lead,
            linger,
        }
    }

    /// The first open and last close of any board on `day`.
    pub fn sessions(&self, day: Date) -> Option<(OffsetDateTime, OffsetDateTime)> {
        let mut open = None::<u32>;
        let mut close = None::<u32>;
        let keys = [
            (Exchange::Hose, InstrumentKind::Stock),
            (Exchange::Hnx, InstrumentKind::Stock),
            (Exchange::Upcom, InstrumentKind::Stock),
            (Exchange::HnxDeriv, InstrumentKind::IndexFuture),
        ];
        for (exchange, kind) in keys {
            for board in Board::ALL {
                let key = SessionKey {
                    exchange,
                    board,
                    kind,
                    restricted: false,
                };
                if let Some(t) = self.calendar.sessions().timetable(&key, day) {
                    if let Some(o) = t.opens_at() {
                        open = Some(open.map_or(o.seconds(), |v| v.min(o.seconds())));
                    }
                    if let Some(c) = t.closes_at() {
                        close = Some(close.map_or(c.seconds(), |v| v.max(c.seconds())));
                    }
                }
            }
        }
        let at = |secs: u32| {
            PrimitiveDateTime::new(day, time::Time::MIDNIGHT)
                .assume_offset(market::calendar::VN_OFFSET)
                + time::Duration::seconds(i64::from(secs))
        };
        Some((at(open?), at(close?)))
    }

    /// Where `now` falls.
    pub fn window(&self, now: OffsetDateTime) -> Window {
        let mut day = TradingCalendar::local(now).0;
        for _ in 0..400 {
            if let Some(d) = self.calendar.this_or_next_trading_day(day) {
                day = d;
            }
            if let Some((open, close)) = self.sessions(day) {
                let (from, until) = (open - self.lead, close + self.linger);
                if now < from {
                    return Window::Closed { day, until: from };
                }
                if now < until {
                    return Window::Open { day, until };
                }
            }
            day = day.next_day().unwrap_or(day);
        }
        // A calendar without a trading day in 400 days: look again tomorrow.
        Window::Closed {
            day,
            until: now + time::Duration::days(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn schedule() -> Schedule {
        Schedule::new(
            TradingCalendar::embedded().unwrap(),
            time::Duration::minutes(10),
            time::Duration::minutes(5),
        )
    }

    #[test]
    fn the_feed_is_open_from_before_the_first_session_to_after_the_last() {
        let s = schedule();
        // Tuesday 2025-06-10: derivatives open at 08:45, the put-through boards close at 15:00.
        let (open, close) = s.sessions(time::macros::date!(2025 - 06 - 10)).unwrap();
        assert_eq!(open, datetime!(2025-06-10 08:45 +7));
        assert_eq!(close, datetime!(2025-06-10 15:00 +7));
        assert_eq!(
            s.window(datetime!(2025-06-10 08:00 +7)),
            Window::Closed {
                day: time::macros::date!(2025 - 06 - 10),
                until: datetime!(2025-06-10 08:35 +7)
            }
        );
        assert_eq!(
            s.window(datetime!(2025-06-10 10:00 +7)),
            Window::Open {
                day: time::macros::date!(2025 - 06 - 10),
                until: datetime!(2025-06-10 15:05 +7)
            }
        );
    }

    #[test]
    fn after_the_close_and_over_weekends_and_holidays_it_waits_for_the_next_trading_day() {
        let s = schedule();
        // Friday evening → Monday.
        assert_eq!(
            s.window(datetime!(2025-06-13 16:00 +7)),
            Window::Closed {
                day: time::macros::date!(2025 - 06 - 16),
                until: datetime!(2025-06-16 08:35 +7)
            }
        );
        // 2 September (National Day) 2025 is a holiday: the 1st and 2nd are both off.
        let Window::Closed { day, .. } = s.window(datetime!(2025-08-29 16:00 +7)) else {
            panic!("closed")
        };
        assert_eq!(day, time::macros::date!(2025 - 09 - 03));
    }

    #[test]
    fn a_trade_is_stamped_with_its_exchange_time_on_the_trading_day() {
        let mut r = Recorder::new("fastconnect-v2");
        let now = datetime!(2025-06-10 10:00:01 +7);
        let e = r.event(
            MarketEvent::Trade {
                symbol: market::Symbol::parse("SSI").unwrap(),
                price: market::Price::new(25_000).unwrap(),
                quantity: market::Quantity::new(100),
                total_volume: Some(market::Quantity::new(1_000)),
                time: Some(time::macros::time!(10:00:00)),
            },
            now,
        );
        assert_eq!(e.sequence, 1);
        assert_eq!(e.trading_day, "2025-06-10");
        assert_eq!(key(&e), "SSI");
        let Some(pb::feed_event::Event::Trade(t)) = &e.event else {
            panic!("trade")
        };
        assert_eq!(
            crate::domain::to_time(t.exchange_time.unwrap()),
            datetime!(2025-06-10 10:00 +7)
        );
        let gap = r.event(MarketEvent::Gap { reason: "x".into() }, now);
        assert_eq!(gap.sequence, 2);
        assert_eq!(key(&gap), "fastconnect-v2");
    }
}
