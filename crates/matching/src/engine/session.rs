//! Session transitions driven by the caller's clock (reference §2): phase changes, call
//! auctions at their phase end, day-order expiry, the close, the end of day and the
//! next day's reference price.

use std::collections::BTreeSet;

use market::limits::{LimitCase, PreviousSession};
use market::order::{closing_price, order_expires};
use market::session::TimeOfDay;
use market::{
    Board, InstrumentKind, Phase, Price, Security, SessionState, Symbol, TradingCalendar, Vnd,
};
use time::macros::offset;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{Clock, Close, Engine, Instrument};
use crate::error::Error;
use crate::types::{Event, TradeKind};

impl Engine {
    /// Moves the engine clock to `now` (any offset; converted to UTC+7) and performs every
    /// session transition on the way, in time order (reference §2): call auctions uncross
    /// when their phase ends, ATO/ATC remainders are cancelled, day orders expire after
    /// the closing auction (or the close), PLO matches from 14:55 and expires at 15:00,
    /// sale proceeds become usable at T+2 13:00. The first call only sets the clock.
    pub fn advance_to(&mut self, now: OffsetDateTime) -> Result<(), Error> {
        let (date, time) = TradingCalendar::local(now);
        let target = Clock { date, time };
        let Some(mut cur) = self.state.clock else {
            self.state.clock = Some(target);
            self.state.instant = Some(now);
            let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
            for s in syms {
                self.refresh_symbol(s, true)?;
            }
            return Ok(());
        };
        if target < cur {
            return Err(Error::TimeWentBackwards {
                now: format!("{} {}", cur.date, cur.time),
                asked: format!("{date} {time}"),
            });
        }
        while cur.date < date {
            self.run_boundaries(cur.date, cur.time, TimeOfDay::from_seconds(86_399))?;
            self.end_of_day(cur.date)?;
            let next = cur.date.next_day().ok_or(Error::Calendar(cur.date))?;
            cur = Clock {
                date: next,
                time: TimeOfDay::from_seconds(0),
            };
            self.set_clock(cur);
            let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
            for s in syms {
                self.refresh_symbol(s, false)?;
            }
        }
        self.run_boundaries(cur.date, cur.time, time)?;
        self.state.clock = Some(target);
        self.state.instant = Some(now);
        for a in self.state.accounts.values_mut() {
            a.roll_receivables(date, time)?;
        }
        Ok(())
    }

    fn set_clock(&mut self, c: Clock) {
        self.state.clock = Some(c);
        let t = Time::from_hms(
            u8::try_from(c.time.seconds() / 3600).unwrap_or(0),
            u8::try_from(c.time.seconds() / 60 % 60).unwrap_or(0),
            u8::try_from(c.time.seconds() % 60).unwrap_or(0),
        )
        .unwrap_or(Time::MIDNIGHT);
        self.state.instant = Some(PrimitiveDateTime::new(c.date, t).assume_offset(offset!(+7)));
    }

    fn run_boundaries(&mut self, date: Date, from: TimeOfDay, to: TimeOfDay) -> Result<(), Error> {
        let mut points: BTreeSet<TimeOfDay> = BTreeSet::new();
        for inst in self.state.instruments.values() {
            for board in [Board::Main, Board::OddLot] {
                let key = self.key(&inst.security, board);
                if let Some(tt) = self.calendar.sessions().timetable(&key, date) {
                    for seg in &tt.segments {
                        for t in [seg.start, seg.end] {
                            if from < t && t <= to {
                                points.insert(t);
                            }
                        }
                    }
                }
            }
        }
        let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
        for t in points {
            self.set_clock(Clock { date, time: t });
            for s in &syms {
                self.refresh_symbol(*s, false)?;
            }
        }
        Ok(())
    }

    fn key(&self, sec: &Security, board: Board) -> market::SessionKey {
        self.rules
            .session_key(sec.exchange, sec.kind, sec.status, board)
    }

    pub(super) fn timetable_session(
        &self,
        inst: &Instrument,
        board: Board,
        c: Clock,
    ) -> SessionState {
        let s = self
            .calendar
            .session_at(c.date, c.time, &self.key(&inst.security, board));
        if inst.halted { s.halted() } else { s }
    }

    /// The session of a board now, as `market` sees it (cached phase, current time).
    pub(super) fn session_now(
        &self,
        inst: &Instrument,
        board: Board,
    ) -> Result<SessionState, Error> {
        let c = self.clock_now()?;
        if board == Board::PutThrough {
            return Ok(self.timetable_session(inst, board, c));
        }
        let b = inst.board(board);
        Ok(SessionState {
            date: c.date,
            time: c.time,
            trading_day: b.trading_day,
            phase: b.phase,
            phase_end: b.phase_end,
        })
    }

    pub(super) fn refresh_symbol(&mut self, sym: Symbol, silent: bool) -> Result<(), Error> {
        let c = self.clock_now()?;
        for board in [Board::Main, Board::OddLot] {
            let inst = self.instrument_ref(sym)?;
            let s = self.timetable_session(inst, board, c);
            let from = inst.board(board).phase;
            {
                let b = self.instrument_mut(sym)?.board_mut(board);
                b.phase_end = s.phase_end;
                b.trading_day = s.trading_day;
            }
            if s.phase != from {
                if silent {
                    self.instrument_mut(sym)?.board_mut(board).phase = s.phase;
                } else {
                    self.transition(sym, board, from, s.phase)?;
                }
            }
        }
        Ok(())
    }

    fn transition(
        &mut self,
        sym: Symbol,
        board: Board,
        from: Phase,
        to: Phase,
    ) -> Result<(), Error> {
        if from.is_call_auction() {
            self.run_auction(sym, board, from)?;
        }
        self.instrument_mut(sym)?.board_mut(board).phase = to;
        self.emit(Event::PhaseChanged {
            symbol: sym,
            board,
            from,
            to,
        });
        if board == Board::Main && to.ends_day_orders() {
            self.fix_close(sym, None)?;
        }
        if to == Phase::PloMatching {
            self.uncross(sym, board, TradeKind::PostClose)?;
        }
        if to.ends_day_orders() {
            let entries = self.instrument_ref(sym)?.board(board).book.entries();
            for e in entries {
                let expires = self
                    .order(e.order)
                    .is_none_or(|o| order_expires(o.order_type, to));
                if expires {
                    self.close_open(e.order, Close::Expire)?;
                }
            }
        }
        Ok(())
    }

    /// Fixes today's close if not yet fixed with `market::order::closing_price`: the ATC
    /// price (`atc_price`, when the main board's ATC just traded), else the last trade of
    /// the day on the main board, else none (the previous close carries over, reference
    /// §3.4).
    pub(super) fn fix_close(&mut self, sym: Symbol, atc_price: Option<Price>) -> Result<(), Error> {
        let inst = self.instrument_mut(sym)?;
        if inst.closing_fixed {
            return Ok(());
        }
        inst.closing_fixed = true;
        inst.closing_price = closing_price(atc_price, inst.main.last_price);
        let price = inst.closing_price;
        self.emit(Event::ClosingPrice { symbol: sym, price });
        Ok(())
    }

    fn end_of_day(&mut self, date: Date) -> Result<(), Error> {
        let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
        let trading_day = self.calendar.is_trading_day(date);
        for sym in syms {
            for board in [Board::Main, Board::OddLot] {
                let entries = self.instrument_ref(sym)?.board(board).book.entries();
                for e in entries {
                    self.close_open(e.order, Close::Expire)?;
                }
            }
            if trading_day {
                self.fix_close(sym, None)?;
                if self.state.config.roll_reference {
                    self.roll_reference(sym)?;
                }
            }
            let inst = self.instrument_mut(sym)?;
            if inst.main.trades > 0 {
                inst.security.awaiting_first_match = false;
            }
            inst.main.reset_day();
            inst.odd_lot.reset_day();
            inst.put_through.reset_day();
            inst.closing_price = None;
            inst.closing_fixed = false;
            inst.continuous_trades.clear();
        }
        for a in self.state.accounts.values_mut() {
            a.daily_value = Vnd::ZERO;
            for f in a.futures.values_mut() {
                f.realised = Vnd::ZERO;
            }
        }
        Ok(())
    }

    /// Next day's reference with `MarketRules::next_reference` (reference §5.3: the close
    /// on HOSE/HNX and, standing in for VSDC's settlement price, futures; the round-lot
    /// continuous VWAP on UPCoM). The band comes from `MarketRules::price_limits`.
    fn roll_reference(&mut self, sym: Symbol) -> Result<(), Error> {
        let inst = self.instrument_ref(sym)?;
        let sec = inst.security;
        let lim = inst.limits()?;
        match sec.kind {
            InstrumentKind::CoveredWarrant | InstrumentKind::Bond => return Ok(()),
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::IndexFuture => {}
        }
        let previous = PreviousSession {
            reference: lim.reference,
            close: inst.closing_price,
            continuous: inst
                .continuous_trades
                .iter()
                .map(|(p, q)| (*p, *q))
                .collect(),
        };
        let reference = self
            .rules
            .next_reference(sec.exchange, sec.kind, &previous)?;
        let limits =
            self.rules
                .price_limits(sec.exchange, sec.kind, reference, LimitCase::Normal)?;
        self.instrument_mut(sym)?.security.limits = Some(limits);
        self.emit(Event::ReferenceRolled {
            symbol: sym,
            limits,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests;
