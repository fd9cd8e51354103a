//! The feed's rules: what a raw feed message must satisfy to be published, and what it
//! becomes. Pure: no I/O, no clock (times come in the message), so a recorded day gives the
//! same output every time.
//!
//! [`Normaliser::process`] takes one `FeedEvent` (as received, `market.raw.v1`) and the
//! securities master data serves ([`References`]) and answers an [`Outcome`]: a normalised
//! message for its topic, a rejection with a fixed reason (the feed's dead letter,
//! `market.rejected.v1`), or a duplicate (counted, not published again).

use std::collections::HashMap;

use market::session::{SessionKey, TimeOfDay};
use market::{Board, Exchange, InstrumentKind, MarketRules, Price, TradingCalendar};
use prost_types::Timestamp;
use proto::market::v1 as pb;
use time::{Date, OffsetDateTime};

/// Why a message was rejected: the fixed set of `FeedReject.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Master data does not list the symbol.
    UnknownSymbol,
    /// A price is not a multiple of its tick.
    OffTick,
    /// A price is outside the day's floor–ceiling band.
    OutsideBand,
    /// The day's cumulative volume went down.
    VolumeBackwards,
    /// The exchange time is missing, outside the trading day's sessions, or in the future.
    BadTime,
    /// A value is impossible (empty symbol, zero quantity, inconsistent bar, unordered book).
    BadValue,
}

impl RejectReason {
    /// Every reason, for metrics.
    pub const ALL: [RejectReason; 6] = [
        RejectReason::UnknownSymbol,
        RejectReason::OffTick,
        RejectReason::OutsideBand,
        RejectReason::VolumeBackwards,
        RejectReason::BadTime,
        RejectReason::BadValue,
    ];

    /// The reason as `FeedReject.reason` and the metric label spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::UnknownSymbol => "unknown_symbol",
            RejectReason::OffTick => "off_tick",
            RejectReason::OutsideBand => "outside_band",
            RejectReason::VolumeBackwards => "volume_backwards",
            RejectReason::BadTime => "bad_time",
            RejectReason::BadValue => "bad_value",
        }
    }
}

/// The feed's channels, for metrics and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Trades.
    Trade,
    /// Best bids and asks.
    Quote,
    /// Index values.
    Index,
    /// Foreign room.
    ForeignRoom,
    /// Streamed bars.
    Bar,
    /// Security and board status.
    Status,
    /// Connection state.
    Feed,
}

impl Channel {
    /// Every channel, for metrics.
    pub const ALL: [Channel; 7] = [
        Channel::Trade,
        Channel::Quote,
        Channel::Index,
        Channel::ForeignRoom,
        Channel::Bar,
        Channel::Status,
        Channel::Feed,
    ];

    /// The metric label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Trade => "trade",
            Channel::Quote => "quote",
            Channel::Index => "index",
            Channel::ForeignRoom => "foreign_room",
            Channel::Bar => "bar",
            Channel::Status => "status",
            Channel::Feed => "feed",
        }
    }

    /// The channel of a raw event (`None` when it carries nothing).
    pub fn of(event: &pb::FeedEvent) -> Option<Self> {
        use pb::feed_event::Event;
        Some(match event.event.as_ref()? {
            Event::Trade(_) => Channel::Trade,
            Event::Quote(_) => Channel::Quote,
            Event::Index(_) => Channel::Index,
            Event::ForeignRoom(_) => Channel::ForeignRoom,
            Event::Bar(_) => Channel::Bar,
            Event::Status(_) => Channel::Status,
            Event::Feed(_) | Event::Security(_) => Channel::Feed,
        })
    }
}

/// What master data says about one security on one trading day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Exchange.
    pub exchange: Exchange,
    /// Instrument kind.
    pub kind: InstrumentKind,
    /// Sector code ("" when unknown).
    pub sector: String,
    /// Round lot.
    pub lot_size: u64,
    /// The day of `band`.
    pub day: Option<Date>,
    /// `(floor, ceiling)` of `day`, when master data has them.
    pub band: Option<(i64, i64)>,
}

impl Reference {
    /// Reads a master-data security; `None` with the reason when it cannot be used.
    pub fn from_security(s: &pb::Security) -> Result<Self, String> {
        let exchange: Exchange = s
            .exchange
            .parse()
            .map_err(|e| format!("{}: {e}", s.symbol))?;
        let kind: InstrumentKind = if s.kind.is_empty() {
            InstrumentKind::Stock
        } else {
            s.kind.parse().map_err(|e| format!("{}: {e}", s.symbol))?
        };
        let day = parse_day(&s.trading_day).ok();
        let band = (s.floor > 0 && s.ceiling >= s.floor).then_some((s.floor, s.ceiling));
        Ok(Self {
            exchange,
            kind,
            sector: s.sector.clone(),
            lot_size: s.lot_size,
            day,
            band,
        })
    }

    fn security_ref(&self) -> pb::SecurityRef {
        pb::SecurityRef {
            exchange: self.exchange.ssi_code().to_owned(),
            kind: serde_name(self.kind).to_owned(),
            sector: self.sector.clone(),
            lot_size: self.lot_size,
        }
    }
}

/// `market::InstrumentKind` as its serde name (what `SecurityRef.kind` carries).
pub const fn serde_name(kind: InstrumentKind) -> &'static str {
    match kind {
        InstrumentKind::Stock => "stock",
        InstrumentKind::FundCertificate => "fund_certificate",
        InstrumentKind::Etf => "etf",
        InstrumentKind::CoveredWarrant => "covered_warrant",
        InstrumentKind::IndexFuture => "index_future",
        InstrumentKind::Bond => "bond",
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Result<Date, String> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| format!("trading day {text:?}: {e}"))
}

/// Formats `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The securities master data serves, by symbol.
#[derive(Debug, Default, Clone)]
pub struct References {
    by_symbol: HashMap<String, Reference>,
    latest_day: Option<Date>,
    settled_day: Option<Date>,
}

impl References {
    /// Adds or replaces a security.
    pub fn upsert(&mut self, symbol: &str, reference: Reference) {
        if let Some(day) = reference.day {
            self.latest_day = Some(self.latest_day.map_or(day, |d| d.max(day)));
        }
        self.by_symbol.insert(symbol.to_owned(), reference);
    }

    /// The security, if listed.
    pub fn get(&self, symbol: &str) -> Option<&Reference> {
        self.by_symbol.get(symbol)
    }

    /// Securities known.
    pub fn len(&self) -> usize {
        self.by_symbol.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.by_symbol.is_empty()
    }

    /// The newest trading day any security's band belongs to.
    pub fn latest_day(&self) -> Option<Date> {
        self.latest_day
    }

    /// Notes that everything master data had published was read (the follower found no more):
    /// the newest day is then complete.
    pub fn settle(&mut self) {
        self.settled_day = self.latest_day;
    }

    /// The newest day whose securities were all read (see [`References::settle`]).
    pub fn settled_day(&self) -> Option<Date> {
        self.settled_day
    }
}

/// A normalised message and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalised {
    /// `market.trade.v1`.
    Trade(pb::Trade),
    /// `market.quote.v1`.
    Quote(pb::Quote),
    /// `market.index.v1`.
    Index(pb::IndexTick),
    /// `market.foreign_room.v1`.
    ForeignRoom(pb::ForeignRoom),
    /// `market.stream_bar.v1`.
    Bar(pb::Bar),
    /// `market.status.v1`.
    Status(pb::SecurityStatus),
    /// `market.feed.v1`.
    Feed(pb::FeedState),
}

impl Normalised {
    /// The envelope it travels in, keyed by symbol (index code, feed source).
    pub fn envelope(&self, source: &str) -> common::bus::Envelope {
        use common::bus::Envelope;
        match self {
            Normalised::Trade(m) => Envelope::new(source, &m.symbol, m),
            Normalised::Quote(m) => Envelope::new(source, &m.symbol, m),
            Normalised::Index(m) => Envelope::new(source, &m.index, m),
            Normalised::ForeignRoom(m) => Envelope::new(source, &m.symbol, m),
            Normalised::Bar(m) => Envelope::new(source, &m.symbol, m),
            Normalised::Status(m) => Envelope::new(source, &m.symbol, m),
            Normalised::Feed(m) => Envelope::new(source, &m.source, m),
        }
    }

    /// Its topic.
    pub fn topic(&self) -> &'static str {
        use common::bus::topics as t;
        match self {
            Normalised::Trade(_) => t::MARKET_TRADE.static_name(),
            Normalised::Quote(_) => t::MARKET_QUOTE.static_name(),
            Normalised::Index(_) => t::MARKET_INDEX.static_name(),
            Normalised::ForeignRoom(_) => t::MARKET_FOREIGN_ROOM.static_name(),
            Normalised::Bar(_) => t::MARKET_STREAM_BAR.static_name(),
            Normalised::Status(_) => t::MARKET_STATUS.static_name(),
            Normalised::Feed(_) => t::MARKET_FEED.static_name(),
        }
    }
}

/// What became of one raw message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Publish this.
    Publish(Normalised),
    /// Refused, with why (goes to `market.rejected.v1`).
    Reject(RejectReason, String),
    /// Already seen: counted, not published again.
    Duplicate,
}

/// A failed rule: why and the detail (what [`Outcome::Reject`] carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(pub RejectReason, pub String);

impl From<Rejection> for Outcome {
    fn from(r: Rejection) -> Self {
        Outcome::Reject(r.0, r.1)
    }
}

/// Per-symbol state of one trading day.
#[derive(Debug, Default)]
struct SymbolState {
    total_volume: u64,
    quotes: [Option<(Vec<pb::Level>, Vec<pb::Level>)>; 2],
    room: Option<(Option<u64>, Option<u64>)>,
    last_bar: Option<(i64, [i64; 4], u64)>,
    status: Option<String>,
}

/// Validates, enriches and de-duplicates raw feed messages; keeps per-symbol state for the
/// trading day (reset when the day changes).
pub struct Normaliser {
    rules: MarketRules,
    calendar: TradingCalendar,
    /// How far outside the day's sessions (and ahead of the receive time) an exchange time
    /// may lie.
    time_margin: time::Duration,
    day: Option<Date>,
    symbols: HashMap<String, SymbolState>,
    indexes: HashMap<String, i64>,
}

impl Normaliser {
    /// A normaliser with `market`'s rules and calendar.
    pub fn new(rules: MarketRules, calendar: TradingCalendar, time_margin: time::Duration) -> Self {
        Self {
            rules,
            calendar,
            time_margin,
            day: None,
            symbols: HashMap::new(),
            indexes: HashMap::new(),
        }
    }

    /// A normaliser with the reference rules, the embedded holiday calendar and a 15-minute
    /// time margin.
    pub fn with_defaults() -> Result<Self, market::calendar::Error> {
        Ok(Self::new(
            MarketRules::default(),
            TradingCalendar::embedded()?,
            time::Duration::minutes(15),
        ))
    }

    /// Processes one raw message.
    pub fn process(&mut self, event: &pb::FeedEvent, refs: &References) -> Outcome {
        use pb::feed_event::Event;
        let day = match parse_day(&event.trading_day) {
            Ok(day) => day,
            Err(e) => return Outcome::Reject(RejectReason::BadTime, e),
        };
        if self.day != Some(day) {
            self.day = Some(day);
            self.symbols.clear();
            self.indexes.clear();
        }
        let Some(received_at) = event.received_at else {
            return Outcome::Reject(RejectReason::BadTime, "no receive time".to_owned());
        };
        match &event.event {
            None => Outcome::Reject(RejectReason::BadValue, "empty feed event".to_owned()),
            Some(Event::Trade(t)) => self.trade(t, day, received_at, refs),
            Some(Event::Quote(q)) => self.quote(q, day, received_at, refs),
            Some(Event::Index(i)) => self.index(i, received_at),
            Some(Event::ForeignRoom(r)) => self.room(r, received_at, refs),
            Some(Event::Bar(b)) => self.bar(b, day, refs),
            Some(Event::Status(s)) => self.status(s, received_at, refs),
            Some(Event::Feed(f)) => Outcome::Publish(Normalised::Feed(f.clone())),
            Some(Event::Security(s)) => Outcome::Reject(
                RejectReason::BadValue,
                format!(
                    "a security ({}) belongs on masterdata.security.v1, not the raw feed",
                    s.symbol
                ),
            ),
        }
    }

    fn known<'r>(symbol: &str, refs: &'r References) -> Result<&'r Reference, Rejection> {
        if symbol.is_empty() {
            return Err(Rejection(RejectReason::BadValue, "empty symbol".to_owned()));
        }
        refs.get(symbol).ok_or_else(|| {
            Rejection(
                RejectReason::UnknownSymbol,
                format!("{symbol} is not listed in master data"),
            )
        })
    }

    /// Checks one price: positive, on tick, inside the band of `day` (when known).
    fn check_price(
        &self,
        what: &str,
        units: i64,
        r: &Reference,
        board: Board,
        day: Date,
    ) -> Result<(), Rejection> {
        let Ok(price) = Price::new(units) else {
            return Err(Rejection(
                RejectReason::BadValue,
                format!("{what} {units} is not positive"),
            ));
        };
        if !self
            .rules
            .ticks
            .is_on_tick(r.exchange, r.kind, board, price)
        {
            let tick = self
                .rules
                .ticks
                .tick_units(r.exchange, r.kind, board, units);
            return Err(Rejection(
                RejectReason::OffTick,
                format!("{what} {units} is not on the {tick} tick"),
            ));
        }
        if let (Some((floor, ceiling)), Some(band_day)) = (r.band, r.day)
            && band_day == day
            && !(floor..=ceiling).contains(&units)
        {
            return Err(Rejection(
                RejectReason::OutsideBand,
                format!("{what} {units} is outside the band {floor}–{ceiling}"),
            ));
        }
        Ok(())
    }

    /// The exchange time must lie on `day`, within its sessions (with the margin) and not
    /// ahead of the receive time by more than the margin.
    fn check_time(
        &self,
        at: OffsetDateTime,
        day: Date,
        received_at: OffsetDateTime,
        r: &Reference,
    ) -> Result<(), Rejection> {
        let (date, time) = TradingCalendar::local(at);
        let bad = |detail: String| Err(Rejection(RejectReason::BadTime, detail));
        if date != day {
            return bad(format!(
                "exchange time {at} is not on the trading day {day}"
            ));
        }
        if at > received_at + self.time_margin {
            return bad(format!(
                "exchange time {at} is ahead of the receive time {received_at}"
            ));
        }
        let key = SessionKey {
            exchange: r.exchange,
            board: Board::Main,
            kind: r.kind,
            restricted: false,
        };
        if let Some(table) = self.calendar.sessions().timetable(&key, day)
            && let (Some(open), Some(close)) = (table.opens_at(), table.closes_at())
        {
            let margin = u32::try_from(self.time_margin.whole_seconds()).unwrap_or(0);
            let t = time.seconds();
            if t + margin < open.seconds() || t > close.seconds() + margin {
                return bad(format!(
                    "exchange time {} is outside the sessions {open}–{close}",
                    TimeOfDay::from_seconds(t)
                ));
            }
        }
        Ok(())
    }

    fn trade(
        &mut self,
        t: &pb::Trade,
        day: Date,
        received_at: Timestamp,
        refs: &References,
    ) -> Outcome {
        let r = match Self::known(&t.symbol, refs) {
            Ok(r) => r,
            Err(r) => return r.into(),
        };
        if t.quantity == 0 {
            return Outcome::Reject(RejectReason::BadValue, "quantity 0".to_owned());
        }
        if let Err(r) = self.check_price("price", t.price, r, Board::Main, day) {
            return r.into();
        }
        let received = to_time(received_at);
        let exchange_time = t.exchange_time.unwrap_or(received_at);
        if let Err(r) = self.check_time(to_time(exchange_time), day, received, r) {
            return r.into();
        }
        let state = self.state(&t.symbol);
        if t.total_volume > 0 {
            if t.total_volume < state.total_volume {
                return Outcome::Reject(
                    RejectReason::VolumeBackwards,
                    format!(
                        "cumulative volume {} after {}",
                        t.total_volume, state.total_volume
                    ),
                );
            }
            if t.total_volume == state.total_volume {
                return Outcome::Duplicate;
            }
            state.total_volume = t.total_volume;
        }
        Outcome::Publish(Normalised::Trade(pb::Trade {
            symbol: t.symbol.clone(),
            price: t.price,
            quantity: t.quantity,
            total_volume: t.total_volume,
            exchange_time: Some(exchange_time),
            received_at: Some(received_at),
            security: Some(r.security_ref()),
        }))
    }

    fn quote(
        &mut self,
        q: &pb::Quote,
        day: Date,
        received_at: Timestamp,
        refs: &References,
    ) -> Outcome {
        let r = match Self::known(&q.symbol, refs) {
            Ok(r) => r,
            Err(r) => return r.into(),
        };
        let (board, slot) = match q.board.as_str() {
            "main" => (Board::Main, 0),
            "odd_lot" => (Board::OddLot, 1),
            other => {
                return Outcome::Reject(RejectReason::BadValue, format!("board {other:?}"));
            }
        };
        for (side, levels) in [("bid", &q.bids), ("ask", &q.asks)] {
            for level in levels {
                if let Err(r) = self.check_price(side, level.price, r, board, day) {
                    return r.into();
                }
            }
        }
        let sorted = q.bids.windows(2).all(|w| w[0].price > w[1].price)
            && q.asks.windows(2).all(|w| w[0].price < w[1].price);
        if !sorted {
            return Outcome::Reject(
                RejectReason::BadValue,
                "bids must fall and asks rise, best first".to_owned(),
            );
        }
        let security = r.security_ref();
        let state = self.state(&q.symbol);
        let book = (q.bids.clone(), q.asks.clone());
        if state.quotes[slot].as_ref() == Some(&book) {
            return Outcome::Duplicate;
        }
        state.quotes[slot] = Some(book);
        Outcome::Publish(Normalised::Quote(pb::Quote {
            symbol: q.symbol.clone(),
            board: q.board.clone(),
            bids: q.bids.clone(),
            asks: q.asks.clone(),
            received_at: Some(received_at),
            security: Some(security),
        }))
    }

    fn index(&mut self, i: &pb::IndexTick, received_at: Timestamp) -> Outcome {
        if i.index.is_empty() || i.value <= 0 {
            return Outcome::Reject(
                RejectReason::BadValue,
                format!("index {:?} value {}", i.index, i.value),
            );
        }
        if self.indexes.get(&i.index) == Some(&i.value) {
            return Outcome::Duplicate;
        }
        match self.indexes.get_mut(&i.index) {
            Some(v) => *v = i.value,
            None => {
                self.indexes.insert(i.index.clone(), i.value);
            }
        }
        Outcome::Publish(Normalised::Index(pb::IndexTick {
            index: i.index.clone(),
            value: i.value,
            received_at: Some(received_at),
        }))
    }

    fn room(&mut self, f: &pb::ForeignRoom, received_at: Timestamp, refs: &References) -> Outcome {
        let r = match Self::known(&f.symbol, refs) {
            Ok(r) => r,
            Err(r) => return r.into(),
        };
        if let (Some(current), Some(total)) = (f.current_room, f.total_room)
            && current > total
        {
            return Outcome::Reject(
                RejectReason::BadValue,
                format!("room left {current} is above the total room {total}"),
            );
        }
        let security = r.security_ref();
        let state = self.state(&f.symbol);
        let room = Some((f.current_room, f.total_room));
        if state.room == room {
            return Outcome::Duplicate;
        }
        state.room = room;
        Outcome::Publish(Normalised::ForeignRoom(pb::ForeignRoom {
            symbol: f.symbol.clone(),
            current_room: f.current_room,
            total_room: f.total_room,
            received_at: Some(received_at),
            security: Some(security),
        }))
    }

    fn bar(&mut self, b: &pb::Bar, day: Date, refs: &References) -> Outcome {
        let r = match Self::known(&b.symbol, refs) {
            Ok(r) => r,
            Err(r) => return r.into(),
        };
        let ohlc = [b.open, b.high, b.low, b.close];
        let consistent = b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close);
        if !consistent || b.seconds == 0 {
            return Outcome::Reject(
                RejectReason::BadValue,
                format!(
                    "bar o={} h={} l={} c={} over {}s is inconsistent",
                    b.open, b.high, b.low, b.close, b.seconds
                ),
            );
        }
        for (what, p) in ["open", "high", "low", "close"].into_iter().zip(ohlc) {
            if let Err(r) = self.check_price(what, p, r, Board::Main, day) {
                return r.into();
            }
        }
        let start = b.start.map_or(0, |t| t.seconds);
        let state = self.state(&b.symbol);
        let key = Some((start, ohlc, b.volume));
        if state.last_bar == key {
            return Outcome::Duplicate;
        }
        state.last_bar = key;
        Outcome::Publish(Normalised::Bar(b.clone()))
    }

    fn status(
        &mut self,
        s: &pb::SecurityStatus,
        received_at: Timestamp,
        refs: &References,
    ) -> Outcome {
        if s.status.is_empty() {
            return Outcome::Reject(RejectReason::BadValue, "empty status".to_owned());
        }
        if !s.symbol.is_empty()
            && let Err(r) = Self::known(&s.symbol, refs)
        {
            return r.into();
        }
        let state = self.state(&s.symbol);
        if state.status.as_deref() == Some(s.status.as_str()) {
            return Outcome::Duplicate;
        }
        state.status = Some(s.status.clone());
        Outcome::Publish(Normalised::Status(pb::SecurityStatus {
            symbol: s.symbol.clone(),
            status: s.status.clone(),
            received_at: Some(received_at),
        }))
    }

    fn state(&mut self, symbol: &str) -> &mut SymbolState {
        self.symbols.entry(symbol.to_owned()).or_default()
    }
}

/// A protobuf timestamp as an instant (out-of-range values clamp to the epoch).
pub fn to_time(t: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos),
    )
    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An instant as a protobuf timestamp.
pub fn to_timestamp(t: OffsetDateTime) -> Timestamp {
    let nanos = t.unix_timestamp_nanos();
    Timestamp {
        seconds: i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX),
        nanos: i32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const DAY: &str = "2025-06-10";

    fn refs() -> References {
        let mut r = References::default();
        r.upsert(
            "SSI",
            Reference {
                exchange: Exchange::Hose,
                kind: InstrumentKind::Stock,
                sector: "securities".into(),
                lot_size: 100,
                day: Some(time::macros::date!(2025 - 06 - 10)),
                band: Some((23_250, 26_750)),
            },
        );
        r
    }

    fn at(t: OffsetDateTime) -> Option<Timestamp> {
        Some(to_timestamp(t))
    }

    fn raw(event: pb::feed_event::Event) -> pb::FeedEvent {
        pb::FeedEvent {
            source: "fastconnect-v2".into(),
            sequence: 1,
            received_at: at(datetime!(2025-06-10 10:00:01 +7)),
            trading_day: DAY.into(),
            event: Some(event),
        }
    }

    fn trade(price: i64, total: u64, t: OffsetDateTime) -> pb::FeedEvent {
        raw(pb::feed_event::Event::Trade(pb::Trade {
            symbol: "SSI".into(),
            price,
            quantity: 100,
            total_volume: total,
            exchange_time: at(t),
            received_at: None,
            security: None,
        }))
    }

    fn reason(o: Outcome) -> &'static str {
        match o {
            Outcome::Reject(r, _) => r.as_str(),
            other @ (Outcome::Publish(_) | Outcome::Duplicate) => {
                panic!("expected a reject, got {other:?}")
            }
        }
    }

    #[test]
    fn a_valid_trade_is_enriched_and_a_repeat_is_a_duplicate() {
        let mut n = Normaliser::with_defaults().unwrap();
        let e = trade(25_000, 1_000, datetime!(2025-06-10 10:00 +7));
        let Outcome::Publish(Normalised::Trade(t)) = n.process(&e, &refs()) else {
            panic!("published")
        };
        let s = t.security.unwrap();
        assert_eq!(
            (s.exchange.as_str(), s.kind.as_str(), s.lot_size),
            ("HOSE", "stock", 100)
        );
        assert_eq!(t.received_at, e.received_at);
        assert_eq!(n.process(&e, &refs()), Outcome::Duplicate);
        let later = trade(25_050, 1_100, datetime!(2025-06-10 10:00:02 +7));
        assert!(matches!(n.process(&later, &refs()), Outcome::Publish(_)));
        let back = trade(25_050, 900, datetime!(2025-06-10 10:00:03 +7));
        assert_eq!(reason(n.process(&back, &refs())), "volume_backwards");
    }

    #[test]
    fn every_rule_rejects_with_its_reason() {
        let mut n = Normaliser::with_defaults().unwrap();
        let ok_time = datetime!(2025-06-10 10:00 +7);
        // 25,010 is not on HOSE's 50-đồng tick for 10,000–49,950.
        assert_eq!(
            reason(n.process(&trade(25_010, 1, ok_time), &refs())),
            "off_tick"
        );
        assert_eq!(
            reason(n.process(&trade(27_000, 2, ok_time), &refs())),
            "outside_band"
        );
        let night = datetime!(2025-06-10 20:00 +7);
        assert_eq!(
            reason(n.process(&trade(25_000, 3, night), &refs())),
            "bad_time"
        );
        let future = datetime!(2025-06-10 11:00 +7);
        assert_eq!(
            reason(n.process(&trade(25_000, 4, future), &refs())),
            "bad_time"
        );
        let mut unknown = trade(25_000, 5, ok_time);
        if let Some(pb::feed_event::Event::Trade(t)) = &mut unknown.event {
            t.symbol = "ZZZ".into();
        }
        assert_eq!(reason(n.process(&unknown, &refs())), "unknown_symbol");
        let mut bad_day = trade(25_000, 6, ok_time);
        bad_day.trading_day = "10/06/2025".into();
        assert_eq!(reason(n.process(&bad_day, &refs())), "bad_time");
        let crossed = raw(pb::feed_event::Event::Quote(pb::Quote {
            symbol: "SSI".into(),
            board: "main".into(),
            bids: vec![
                pb::Level {
                    price: 24_900,
                    volume: 10,
                },
                pb::Level {
                    price: 24_950,
                    volume: 10,
                },
            ],
            asks: vec![],
            ..Default::default()
        }));
        assert_eq!(reason(n.process(&crossed, &refs())), "bad_value");
        let bar = raw(pb::feed_event::Event::Bar(pb::Bar {
            symbol: "SSI".into(),
            seconds: 60,
            open: 25_000,
            high: 24_900,
            low: 24_800,
            close: 24_900,
            ..Default::default()
        }));
        assert_eq!(reason(n.process(&bar, &refs())), "bad_value");
        let room = raw(pb::feed_event::Event::ForeignRoom(pb::ForeignRoom {
            symbol: "SSI".into(),
            current_room: Some(10),
            total_room: Some(5),
            ..Default::default()
        }));
        assert_eq!(reason(n.process(&room, &refs())), "bad_value");
    }

    #[test]
    fn quotes_rooms_and_indexes_repeat_as_duplicates_and_a_new_day_starts_afresh() {
        let mut n = Normaliser::with_defaults().unwrap();
        let quote = raw(pb::feed_event::Event::Quote(pb::Quote {
            symbol: "SSI".into(),
            board: "main".into(),
            bids: vec![pb::Level {
                price: 24_950,
                volume: 10,
            }],
            asks: vec![pb::Level {
                price: 25_000,
                volume: 20,
            }],
            ..Default::default()
        }));
        assert!(matches!(
            n.process(&quote, &refs()),
            Outcome::Publish(Normalised::Quote(_))
        ));
        assert_eq!(n.process(&quote, &refs()), Outcome::Duplicate);
        let index = raw(pb::feed_event::Event::Index(pb::IndexTick {
            index: "VN30".into(),
            value: 134_567,
            received_at: None,
        }));
        assert!(matches!(
            n.process(&index, &refs()),
            Outcome::Publish(Normalised::Index(_))
        ));
        assert_eq!(n.process(&index, &refs()), Outcome::Duplicate);
        let e = trade(25_000, 1_000, datetime!(2025-06-10 10:00 +7));
        assert!(matches!(n.process(&e, &refs()), Outcome::Publish(_)));
        // The next day: volume starts again from zero, the same quote is news.
        let mut next = trade(25_000, 100, datetime!(2025-06-11 10:00 +7));
        next.trading_day = "2025-06-11".into();
        next.received_at = at(datetime!(2025-06-11 10:00:01 +7));
        assert!(matches!(n.process(&next, &refs()), Outcome::Publish(_)));
        let mut q2 = quote.clone();
        q2.trading_day = "2025-06-11".into();
        assert!(matches!(n.process(&q2, &refs()), Outcome::Publish(_)));
    }
}
