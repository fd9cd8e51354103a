//! Answers that come from `crates/market` alone: the trading calendar of a date and a
//! security's trading rules (ticks, lot, band, sessions, order types now, settlement).

use market::order::accepted_order_types;
use market::session::{SessionKey, Timetable};
use market::{Board, Exchange, InstrumentKind, MarketRules, Price, TradingCalendar};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::domain::{Security, board_name, kind_name, phase_name, status_name};

/// One stretch of a timetable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SegmentView {
    /// `HH:MM[:SS]`, Vietnam time.
    pub start: String,
    /// First instant after the segment.
    pub end: String,
    /// `market::Phase` name.
    pub phase: String,
}

/// A board's timetable for one exchange and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BoardSessions {
    /// `HOSE`, `HNX`, `UPCOM`, `DER`.
    pub exchange: String,
    /// `main`, `odd_lot`, `put_through`.
    pub board: String,
    /// Instrument kind.
    pub kind: String,
    /// Segments in time order.
    pub segments: Vec<SegmentView>,
}

/// One date of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Whether the exchanges trade that day.
    pub trading_day: bool,
    /// The holiday's name, when it is one.
    pub holiday: Option<String>,
    /// The next trading day after `date`.
    pub next_trading_day: Option<String>,
    /// The trading day before `date`.
    pub previous_trading_day: Option<String>,
    /// Every exchange's boards (stocks; futures on the derivatives market), when trading.
    pub sessions: Vec<BoardSessions>,
}

/// An exchange holiday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HolidayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Name.
    pub name: String,
    /// Not yet confirmed by an exchange notice.
    pub estimated: bool,
}

/// Prices from `from` up (to the next band) move in steps of `tick`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TickBandView {
    /// Lowest price of the band.
    pub from: i64,
    /// Step.
    pub tick: i64,
}

/// One board's rules now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BoardRules {
    /// `main`, `odd_lot`, `put_through`.
    pub board: String,
    /// The phase now.
    pub phase: String,
    /// Order types the exchange accepts now.
    pub order_types: Vec<String>,
    /// Today's timetable (empty when the board does not trade today).
    pub segments: Vec<SegmentView>,
}

/// Everything an order check needs about one security.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TradingRules {
    /// Ticker.
    pub symbol: String,
    /// Exchange.
    pub exchange: String,
    /// Kind.
    pub kind: String,
    /// Status.
    pub status: String,
    /// Whether the status lets orders in.
    pub tradable: bool,
    /// Round lot.
    pub lot_size: u64,
    /// Largest main-board order, when limited.
    pub max_order_quantity: Option<u64>,
    /// The tick table on the main board.
    pub ticks: Vec<TickBandView>,
    /// The tick at the asked price.
    pub tick_at_price: Option<i64>,
    /// The band's trading day.
    pub trading_day: Option<String>,
    /// Reference.
    pub reference: Option<i64>,
    /// Ceiling.
    pub ceiling: Option<i64>,
    /// Floor.
    pub floor: Option<i64>,
    /// Each board now.
    pub boards: Vec<BoardRules>,
    /// Settlement cycle in trading days.
    pub settlement_days: u32,
    /// Settlement date of a trade today (a trading day: today or the next).
    pub settlement_date: Option<String>,
    /// The market-clock instant the phases were read at.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

fn day(d: Date) -> String {
    crate::store::format_day(d)
}

fn segments(t: &Timetable) -> Vec<SegmentView> {
    t.segments
        .iter()
        .map(|s| SegmentView {
            start: s.start.to_string(),
            end: s.end.to_string(),
            phase: phase_name(s.phase),
        })
        .collect()
}

fn typical_kind(exchange: Exchange) -> InstrumentKind {
    if exchange == Exchange::HnxDeriv {
        InstrumentKind::IndexFuture
    } else {
        InstrumentKind::Stock
    }
}

/// The calendar's answer for `date`.
pub fn calendar_day(rules: &MarketRules, calendar: &TradingCalendar, date: Date) -> CalendarDay {
    let trading = calendar.is_trading_day(date);
    let mut sessions = Vec::new();
    if trading {
        for exchange in Exchange::ALL {
            let kind = typical_kind(exchange);
            for board in Board::ALL {
                if exchange == Exchange::HnxDeriv && board == Board::OddLot {
                    continue;
                }
                let key = SessionKey {
                    exchange,
                    board,
                    kind,
                    restricted: false,
                };
                if let Some(t) = rules.sessions.timetable(&key, date) {
                    sessions.push(BoardSessions {
                        exchange: exchange.ssi_code().to_owned(),
                        board: board_name(board).to_owned(),
                        kind: kind_name(kind).to_owned(),
                        segments: segments(t),
                    });
                }
            }
        }
    }
    CalendarDay {
        date: day(date),
        trading_day: trading,
        holiday: calendar
            .holidays()
            .find(|h| h.date == date)
            .map(|h| h.name.clone()),
        next_trading_day: calendar.next_trading_day(date).map(day),
        previous_trading_day: calendar.previous_trading_day(date).map(day),
        sessions,
    }
}

/// The holidays of `year`.
pub fn holidays(calendar: &TradingCalendar, year: i32) -> Vec<HolidayView> {
    let mut out: Vec<HolidayView> = calendar
        .holidays()
        .filter(|h| h.date.year() == year)
        .map(|h| HolidayView {
            date: day(h.date),
            name: h.name.clone(),
            estimated: h.estimated,
        })
        .collect();
    out.sort_by(|a, b| a.date.cmp(&b.date));
    out
}

/// Whether `kind` on `exchange` trades on `board` at all: some phase of its timetable accepts
/// an order type (`market::order::accepted_order_types`).
pub fn trades_on(
    rules: &MarketRules,
    exchange: Exchange,
    kind: InstrumentKind,
    board: Board,
) -> bool {
    let key = SessionKey {
        exchange,
        board,
        kind,
        restricted: false,
    };
    // Timetables differ by weekday only for restricted securities; any weekday answers.
    let monday = time::macros::date!(2025 - 06 - 09);
    rules.sessions.timetable(&key, monday).is_some_and(|t| {
        t.segments
            .iter()
            .any(|s| !accepted_order_types(exchange, board, kind, s.phase).is_empty())
    })
}

/// The main board's tick table of `kind` on `exchange`, read from `market`'s tick rule by
/// finding where the tick changes (prices up to 1,000,000,000 units).
pub fn tick_table(
    rules: &MarketRules,
    exchange: Exchange,
    kind: InstrumentKind,
) -> Vec<TickBandView> {
    const TOP: i64 = 1_000_000_000;
    let tick = |units: i64| {
        Price::new(units).map_or(0, |p| {
            rules.tick_size(exchange, kind, Board::Main, p).units()
        })
    };
    let mut bands = vec![TickBandView {
        from: 1,
        tick: tick(1),
    }];
    let mut from = 1_i64;
    loop {
        let current = tick(from);
        let mut hi = from;
        while tick(hi) == current && hi < TOP {
            hi = hi.saturating_mul(2).min(TOP);
        }
        if tick(hi) == current {
            return bands;
        }
        let mut lo = from;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if tick(mid) == current {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        bands.push(TickBandView {
            from: hi,
            tick: tick(hi),
        });
        from = hi;
        if bands.len() > 16 {
            return bands;
        }
    }
}

/// `security`'s trading rules at the market instant `now`, with the tick at `price`.
pub fn trading_rules(
    rules: &MarketRules,
    calendar: &TradingCalendar,
    security: &Security,
    price: Option<Price>,
    now: OffsetDateTime,
) -> TradingRules {
    let (exchange, kind) = (security.exchange, security.kind);
    let (today, _) = TradingCalendar::local(now);
    let boards = Board::ALL
        .into_iter()
        .filter(|b| trades_on(rules, exchange, kind, *b))
        .map(|board| {
            let key = rules.session_key(exchange, kind, security.status, board);
            let state = calendar.session(now, &key);
            BoardRules {
                board: board_name(board).to_owned(),
                phase: phase_name(state.phase),
                order_types: accepted_order_types(exchange, board, kind, state.phase)
                    .iter()
                    .map(|t| t.code().to_owned())
                    .collect(),
                segments: if state.trading_day {
                    rules
                        .sessions
                        .timetable(&key, today)
                        .map(segments)
                        .unwrap_or_default()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let settlement_days = match kind {
        InstrumentKind::Bond => rules.settlement.bond_cycle_days,
        InstrumentKind::IndexFuture => 0,
        InstrumentKind::Stock
        | InstrumentKind::FundCertificate
        | InstrumentKind::Etf
        | InstrumentKind::CoveredWarrant => rules.settlement.equity_cycle_days,
    };
    let trade_day = calendar.this_or_next_trading_day(today);
    let band = security.band.as_ref();
    TradingRules {
        symbol: security.symbol.as_str().to_owned(),
        exchange: exchange.ssi_code().to_owned(),
        kind: kind_name(kind).to_owned(),
        status: status_name(security.status).to_owned(),
        tradable: rules.status.effects(exchange, security.status).tradable,
        lot_size: security.lot_size,
        max_order_quantity: rules.lots.max_order_quantity(exchange),
        ticks: tick_table(rules, exchange, kind),
        tick_at_price: price.map(|p| rules.tick_size(exchange, kind, Board::Main, p).units()),
        trading_day: band.map(|b| day(b.day)),
        reference: band.map(|b| b.limits.reference.units()),
        ceiling: band.map(|b| b.limits.ceiling.units()),
        floor: band.map(|b| b.limits.floor.units()),
        boards,
        settlement_days,
        settlement_date: trade_day
            .and_then(|d| rules.settlement.settlement_date(calendar, d, kind))
            .map(day),
        at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hose_stock_ticks_come_from_market() {
        let rules = MarketRules::default();
        let t = tick_table(&rules, Exchange::Hose, InstrumentKind::Stock);
        let pairs: Vec<(i64, i64)> = t.iter().map(|b| (b.from, b.tick)).collect();
        assert_eq!(pairs, [(1, 10), (10_000, 50), (50_000, 100)]);
        let t = tick_table(&rules, Exchange::Upcom, InstrumentKind::Stock);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].tick, 100);
    }

    #[test]
    fn boards_follow_markets_order_type_matrix() {
        let rules = MarketRules::default();
        assert!(trades_on(
            &rules,
            Exchange::Hose,
            InstrumentKind::Stock,
            Board::OddLot
        ));
        assert!(!trades_on(
            &rules,
            Exchange::HnxDeriv,
            InstrumentKind::IndexFuture,
            Board::OddLot
        ));
        assert!(!trades_on(
            &rules,
            Exchange::Hose,
            InstrumentKind::Bond,
            Board::Main
        ));
        assert!(trades_on(
            &rules,
            Exchange::Hose,
            InstrumentKind::Bond,
            Board::PutThrough
        ));
    }
}
