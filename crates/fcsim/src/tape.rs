//! The deterministic price generator. For every instrument and trading day it derives a
//! reference price (`market`'s rule applied to the previous day: its close on HOSE, HNX and
//! futures, the VWAP of its continuous tape on UPCoM), the day's band, an open and a close
//! (a daily random walk), and a tape of trades between them (a Brownian bridge) timed by the
//! exchange's session timetable. Every price goes through `market` for ticks, bands and
//! reference prices; lots come from `market` too. Nothing here is an exchange rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fastconnect::Decimal;
use market::limits::{LimitCase, PreviousSession, ReferenceBasis, Vwap};
use market::session::Phase;
use market::tick::Rounding;
use market::{
    Board, Exchange, InstrumentKind, MarketRules, Price, PriceLimits, Quantity, SecurityStatus,
    SessionKey, TradingCalendar,
};
use time::{Date, Duration};

use crate::rng::Rng;
use crate::universe::{Instrument, Universe};

mod odd_lot;

pub use odd_lot::{ODD_LOT_DEPTH, OddLotPrint, OddLotTape, OddLotUpdate};

/// Which side initiated a trade (SSI `Side`: `BU` buy-up, `SD` sell-down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggressor {
    /// Buyer lifted the offer (`BU`).
    Buy,
    /// Seller hit the bid (`SD`).
    Sell,
    /// Auction print, no aggressor.
    Auction,
}

impl Aggressor {
    /// SSI wire code.
    pub fn code(self) -> &'static str {
        match self {
            Aggressor::Buy => "BU",
            Aggressor::Sell => "SD",
            Aggressor::Auction => "",
        }
    }
}

/// One generated trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Seconds since local midnight.
    pub secs: u32,
    /// Price in units (VND, or 0.1 point for futures).
    pub price: i64,
    /// Matched quantity.
    pub volume: u64,
    /// Aggressor.
    pub side: Aggressor,
    /// Phase the trade belongs to.
    pub phase: Phase,
}

/// One instrument's trading day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayTape {
    /// Position of the instrument in the universe.
    pub instrument: usize,
    /// Trading date.
    pub date: Date,
    /// Reference, ceiling and floor.
    pub limits: PriceLimits,
    /// Trades in time order.
    pub trades: Vec<Trade>,
}

/// Daily statistics of one instrument, aggregated from its tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySummary {
    /// Trading date.
    pub date: Date,
    /// Reference, ceiling, floor.
    pub limits: PriceLimits,
    /// Open.
    pub open: i64,
    /// High.
    pub high: i64,
    /// Low.
    pub low: i64,
    /// Close.
    pub close: i64,
    /// Matched volume.
    pub volume: u64,
    /// Σ price units × volume.
    pub value_units: i128,
    /// Number of trades.
    pub trades: u64,
    /// Trades initiated by buyers / sellers.
    pub buy_trades: u64,
    /// Trades initiated by sellers.
    pub sell_trades: u64,
}

/// Errors of the generator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The date is outside the generated history or not a trading day.
    #[error("{0} is not a trading day of the simulated history")]
    NotATradingDay(Date),
    /// An instrument position is unknown.
    #[error("no instrument #{0}")]
    UnknownInstrument(usize),
    /// `market` refused a band computation.
    #[error("price band: {0}")]
    Limits(String),
}

/// One instrument's reference and close on one day, in price units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DayPrices {
    reference: i64,
    close: i64,
}

/// The generator: universe, rules, calendar and the daily reference and close of every
/// instrument.
#[derive(Debug)]
pub struct Generator {
    seed: u64,
    rules: MarketRules,
    calendar: TradingCalendar,
    universe: Universe,
    days: Vec<Date>,
    /// `history[instrument][day]`: that day's reference and close.
    history: Vec<Vec<DayPrices>>,
    summaries: Mutex<HashMap<(usize, usize), DaySummary>>,
}

const SUMMARY_CACHE_MAX: usize = 400_000;

/// Price units of `p` for `inst` as the wire shows them (futures in points).
pub fn display_price(inst: &Instrument, units: i64) -> Decimal {
    match inst.kind {
        InstrumentKind::IndexFuture => Decimal::new(i128::from(units), 1).unwrap_or_default(),
        InstrumentKind::Stock
        | InstrumentKind::FundCertificate
        | InstrumentKind::Etf
        | InstrumentKind::CoveredWarrant
        | InstrumentKind::Bond => Decimal::from_i64(units),
    }
}

/// Σ price × volume in wire money (futures: points × contracts).
pub fn display_value(inst: &Instrument, value_units: i128) -> Decimal {
    match inst.kind {
        InstrumentKind::IndexFuture => Decimal::new(value_units, 1).unwrap_or_default(),
        InstrumentKind::Stock
        | InstrumentKind::FundCertificate
        | InstrumentKind::Etf
        | InstrumentKind::CoveredWarrant
        | InstrumentKind::Bond => Decimal::new(value_units, 0).unwrap_or_default(),
    }
}

impl Generator {
    /// Generates `history_days` trading days of references and closes before `today`, and
    /// `horizon_days` after it. On UPCoM each day's reference is the VWAP of the previous
    /// day's continuous tape, so those tapes are generated here once (the costliest part
    /// of start-up; `docs/performance.md` "## fcsim" has the figure).
    pub fn new(
        seed: u64,
        rules: MarketRules,
        calendar: TradingCalendar,
        universe: Universe,
        today: Date,
        history_days: u32,
        horizon_days: u32,
    ) -> Self {
        let mut first = calendar.this_or_next_trading_day(today).unwrap_or(today);
        for _ in 0..history_days {
            match calendar.previous_trading_day(first) {
                Some(d) => first = d,
                None => break,
            }
        }
        let mut days = vec![first];
        let mut d = first;
        while days.len() < (history_days + horizon_days + 1) as usize {
            match calendar.next_trading_day(d) {
                Some(n) => {
                    days.push(n);
                    d = n;
                }
                None => break,
            }
        }
        let mut generator = Self {
            seed,
            rules,
            calendar,
            universe,
            days,
            history: Vec::new(),
            summaries: Mutex::new(HashMap::new()),
        };
        generator.history = generator.price_history();
        generator
    }

    /// Every instrument's [`Self::price_series`], spread over the available cores. Worker
    /// `w` of `n` takes instruments `w`, `w + n`, … (the costly UPCoM ones sit together at
    /// the end of the universe); each series is independent, so the result does not
    /// depend on the split.
    fn price_history(&self) -> Vec<Vec<DayPrices>> {
        let count = self.universe.instruments().len();
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, count.max(1));
        let share = |w: usize| (w..count).step_by(workers);
        let mut parts: Vec<std::vec::IntoIter<Vec<DayPrices>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| scope.spawn(move || share(w).map(|i| self.price_series(i)).collect()))
                .collect();
            handles
                .into_iter()
                .enumerate()
                .map(|(w, handle)| {
                    // A worker cannot panic short of a bug; redo its share here if it did.
                    let series: Vec<_> = handle
                        .join()
                        .unwrap_or_else(|_| share(w).map(|i| self.price_series(i)).collect());
                    series.into_iter()
                })
                .collect()
        });
        (0..count)
            .map(|i| {
                parts
                    .get_mut(i % workers)
                    .and_then(Iterator::next)
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Day by day: the reference (`MarketRules::next_reference` of the day before; the
    /// instrument's base price on the first day), then the close.
    fn price_series(&self, i: usize) -> Vec<DayPrices> {
        let Some(inst) = self.universe.instrument(i) else {
            return Vec::new();
        };
        let basis = self.rules.limits.reference_basis(inst.exchange);
        let mut out = Vec::with_capacity(self.days.len());
        let mut reference = inst.base_price;
        for day in 0..self.days.len() {
            let mut rng = Rng::new(self.seed, i as u64, day as u64, 1);
            let Ok(limits) = self.limits_for(inst, reference) else {
                out.push(DayPrices {
                    reference,
                    close: reference,
                });
                continue;
            };
            // Daily return with a gentle pull back to the starting level, so three years
            // of history stay in a realistic range.
            let drift = -0.03 * (reference as f64 / inst.base_price as f64).ln();
            let r = inst.volatility * rng.normal() + drift * inst.volatility;
            let close = self.on_tick(inst, reference as f64 * (1.0 + r), &limits);
            out.push(DayPrices { reference, close });
            let continuous = match basis {
                ReferenceBasis::Close => Vwap::EMPTY,
                ReferenceBasis::ContinuousVwap => {
                    let mut vwap = Vwap::EMPTY;
                    let auctions = self.auctions(inst, day);
                    self.continuous_prints(inst, i, day, &limits, close, auctions, |p, v| {
                        if let Ok(p) = Price::new(p) {
                            vwap.add(p, Quantity::new(v));
                        }
                    });
                    vwap
                }
            };
            let previous = PreviousSession {
                reference: limits.reference,
                close: Price::new(close).ok(),
                continuous,
            };
            reference = self
                .rules
                .next_reference(inst.exchange, inst.kind, &previous)
                .map_or(reference, Price::units);
        }
        out
    }

    /// Rounds `x` to the nearest tick inside the band.
    fn on_tick(&self, inst: &Instrument, x: f64, limits: &PriceLimits) -> i64 {
        let units = x.round().max(1.0) as i64;
        let rounded = Price::new(units)
            .ok()
            .and_then(|p| {
                self.rules.round_to_tick(
                    inst.exchange,
                    inst.kind,
                    Board::Main,
                    p,
                    Rounding::Nearest,
                )
            })
            .map_or(limits.reference.units(), Price::units);
        rounded.clamp(limits.floor.units(), limits.ceiling.units())
    }

    fn limits_for(&self, inst: &Instrument, reference: i64) -> Result<PriceLimits, Error> {
        let reference = Price::new(reference).map_err(|e| Error::Limits(e.to_string()))?;
        self.rules
            .price_limits(inst.exchange, inst.kind, reference, LimitCase::Normal)
            .map_err(|e| Error::Limits(e.to_string()))
    }

    /// The rules in force.
    pub fn rules(&self) -> &MarketRules {
        &self.rules
    }

    /// The calendar.
    pub fn calendar(&self) -> &TradingCalendar {
        &self.calendar
    }

    /// The universe.
    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every generated trading day, ascending.
    pub fn days(&self) -> &[Date] {
        &self.days
    }

    /// Position of `date` in [`Self::days`].
    pub fn day_index(&self, date: Date) -> Option<usize> {
        self.days.binary_search(&date).ok()
    }

    /// Reference price of instrument `i` on day `day` (reference §5.3, by
    /// `MarketRules::next_reference`: the previous close on HOSE, HNX and futures, the
    /// previous day's continuous VWAP on UPCoM; the base price on the first day).
    pub fn reference(&self, i: usize, day: usize) -> i64 {
        self.day_prices(i, day).map_or_else(
            || self.universe.instrument(i).map_or(1, |x| x.base_price),
            |d| d.reference,
        )
    }

    /// Close of instrument `i` on day `day`.
    pub fn close(&self, i: usize, day: usize) -> i64 {
        self.day_prices(i, day).map_or(1, |d| d.close)
    }

    /// Close of instrument `i` on the trading day before `day` (its base price before the
    /// first day). Not the reference on UPCoM.
    pub fn previous_close(&self, i: usize, day: usize) -> i64 {
        match day.checked_sub(1) {
            Some(prev) => self.close(i, prev),
            None => self.universe.instrument(i).map_or(1, |x| x.base_price),
        }
    }

    fn day_prices(&self, i: usize, day: usize) -> Option<DayPrices> {
        self.history.get(i).and_then(|h| h.get(day)).copied()
    }

    /// Reference, ceiling and floor of instrument `i` on day `day`.
    pub fn limits(&self, i: usize, day: usize) -> Result<PriceLimits, Error> {
        let inst = self
            .universe
            .instrument(i)
            .ok_or(Error::UnknownInstrument(i))?;
        self.limits_for(inst, self.reference(i, day))
    }

    /// The session key of an instrument's round-lot board.
    pub fn session_key(&self, inst: &Instrument) -> SessionKey {
        self.rules.session_key(
            inst.exchange,
            inst.kind,
            SecurityStatus::Normal,
            Board::Main,
        )
    }

    /// The full tape of instrument `i` on day `day`.
    pub fn tape(&self, i: usize, day: usize) -> Result<DayTape, Error> {
        let inst = self
            .universe
            .instrument(i)
            .ok_or(Error::UnknownInstrument(i))?;
        let limits = self.limits(i, day)?;
        self.build_tape(inst, i, day, limits, self.close(i, day))
    }

    /// The tape of `inst` (at position `i`) on `day`, inside `limits`, ending at `close`:
    /// the continuous prints of [`Self::continuous_prints`] placed at random seconds of the
    /// continuous session (stream 3, which also draws aggressor ties and auction volumes),
    /// plus the ATO and ATC prints where the timetable has those auctions.
    fn build_tape(
        &self,
        inst: &Instrument,
        i: usize,
        day: usize,
        limits: PriceLimits,
        close: i64,
    ) -> Result<DayTape, Error> {
        let date = self.date(day)?;
        let segments = self
            .calendar
            .sessions()
            .timetable(&self.session_key(inst), date)
            .map(|t| t.segments.clone())
            .unwrap_or_default();
        let auctions = Auctions::of(segments.iter().map(|s| s.phase));
        let mut prints = Vec::new();
        let open = self.continuous_prints(inst, i, day, &limits, close, auctions, |p, v| {
            prints.push((p, v));
        });
        let continuous: Vec<(u32, u32)> = segments
            .iter()
            .filter(|s| s.phase == Phase::Continuous)
            .map(|s| (s.start.seconds(), s.end.seconds()))
            .collect();
        let total: u32 = continuous.iter().map(|(a, b)| b - a).sum();
        let mut rng = Rng::new(self.seed, i as u64, day as u64, 3);
        let mut offsets: Vec<u32> = (0..prints.len())
            .map(|_| u32::try_from(rng.range(0, u64::from(total.max(1) - 1))).unwrap_or(0))
            .collect();
        offsets.sort_unstable();
        let lot = self.rules.lots.round_lot(inst.exchange).max(1);
        let mut trades = Vec::with_capacity(prints.len() + 2);
        for s in &segments {
            if s.phase == Phase::OpeningAuction {
                trades.push(Trade {
                    secs: s.end.seconds(),
                    price: open,
                    volume: lots(&mut rng, inst) * lot * 5,
                    side: Aggressor::Auction,
                    phase: Phase::OpeningAuction,
                });
            }
        }
        let mut previous = open;
        for (&(price, volume), &off) in prints.iter().zip(&offsets) {
            let side = match price.cmp(&previous) {
                std::cmp::Ordering::Greater => Aggressor::Buy,
                std::cmp::Ordering::Less => Aggressor::Sell,
                std::cmp::Ordering::Equal if rng.unit() < 0.5 => Aggressor::Buy,
                std::cmp::Ordering::Equal => Aggressor::Sell,
            };
            previous = price;
            trades.push(Trade {
                secs: locate(&continuous, off),
                price,
                volume,
                side,
                phase: Phase::Continuous,
            });
        }
        for s in &segments {
            if s.phase == Phase::ClosingAuction {
                trades.push(Trade {
                    secs: s.end.seconds(),
                    price: close,
                    volume: lots(&mut rng, inst) * lot * 8,
                    side: Aggressor::Auction,
                    phase: Phase::ClosingAuction,
                });
            }
        }
        trades.sort_by_key(|t| t.secs);
        Ok(DayTape {
            instrument: i,
            date,
            limits,
            trades,
        })
    }

    /// The continuous trades of `inst` on `day` in time order, as `print(price, volume)`,
    /// and the day's open (returned). Stream 2 draws the open around the reference, the
    /// number of trades, a Brownian bridge from the open to `close` and a volume per trade;
    /// the first trade is at the open without an opening auction, the last at the close
    /// without a closing auction. The UPCoM reference needs only these, so
    /// [`Self::price_series`] calls this alone, without placing trades in time.
    #[allow(clippy::too_many_arguments)]
    fn continuous_prints(
        &self,
        inst: &Instrument,
        i: usize,
        day: usize,
        limits: &PriceLimits,
        close: i64,
        auctions: Auctions,
        mut print: impl FnMut(i64, u64),
    ) -> i64 {
        let reference = limits.reference.units();
        let mut rng = Rng::new(self.seed, i as u64, day as u64, 2);
        let open = self.on_tick(
            inst,
            reference as f64 * (1.0 + inst.volatility * 0.4 * rng.normal()),
            limits,
        );
        let lot = self.rules.lots.round_lot(inst.exchange).max(1);
        let activity = 0.5 + rng.unit();
        let n = ((f64::from(inst.trades_per_day) * activity) as usize).max(2);
        // Brownian bridge from open to close over the continuous session.
        let mut walk = Vec::with_capacity(n + 1);
        let mut w = 0.0;
        walk.push(0.0);
        for _ in 0..n {
            w += rng.normal() / (n as f64).sqrt();
            walk.push(w);
        }
        let w_end = w;
        let sigma = inst.volatility * 0.8 * reference as f64;
        for k in 0..n {
            let f = (k + 1) as f64 / (n + 1) as f64;
            let bridge = walk.get(k + 1).copied().unwrap_or(0.0) - f * w_end;
            let price = if k == 0 && !auctions.opening {
                open
            } else if k + 1 == n && !auctions.closing {
                close
            } else {
                self.on_tick(
                    inst,
                    open as f64 + (close - open) as f64 * f + sigma * bridge,
                    limits,
                )
            };
            print(price, lots(&mut rng, inst) * lot);
        }
        open
    }

    /// The call auctions of `inst`'s round-lot board on `day`.
    fn auctions(&self, inst: &Instrument, day: usize) -> Auctions {
        let timetable = self.date(day).ok().and_then(|date| {
            self.calendar
                .sessions()
                .timetable(&self.session_key(inst), date)
        });
        Auctions::of(
            timetable
                .into_iter()
                .flat_map(|t| t.segments.iter().map(|s| s.phase)),
        )
    }

    /// Day `day`'s date.
    fn date(&self, day: usize) -> Result<Date, Error> {
        self.days.get(day).copied().ok_or(Error::NotATradingDay(
            self.days.last().copied().unwrap_or(Date::MIN),
        ))
    }

    /// Daily statistics of instrument `i` on day `day` (cached).
    pub fn summary(&self, i: usize, day: usize) -> Result<DaySummary, Error> {
        if let Ok(cache) = self.summaries.lock()
            && let Some(s) = cache.get(&(i, day))
        {
            return Ok(*s);
        }
        let tape = self.tape(i, day)?;
        let summary = summarize(&tape);
        if let Ok(mut cache) = self.summaries.lock() {
            if cache.len() > SUMMARY_CACHE_MAX {
                cache.clear();
            }
            cache.insert((i, day), summary);
        }
        Ok(summary)
    }

    /// Value of index `code`'s definition at the given constituent prices.
    pub fn index_value(&self, index: usize, price_of: impl Fn(usize) -> i64) -> f64 {
        let Some(def) = self.universe.indices().get(index) else {
            return 0.0;
        };
        let (mut now, mut base) = (0.0, 0.0);
        for &m in &def.members {
            if let Some(inst) = self.universe.instrument(m) {
                let shares = inst.listed_shares as f64;
                now += shares * price_of(m) as f64;
                base += shares * inst.base_price as f64;
            }
        }
        if base <= 0.0 {
            return def.base_value;
        }
        (def.base_value * now / base * 100.0).round() / 100.0
    }

    /// The local date `days` calendar days after `date`, clamped.
    pub fn shift(date: Date, days: i64) -> Date {
        date.checked_add(Duration::days(days)).unwrap_or(date)
    }

    /// Whether an exchange's board is in a phase at `secs` on `date`.
    pub fn phase(&self, exchange: Exchange, kind: InstrumentKind, date: Date, secs: u32) -> Phase {
        let key = self
            .rules
            .session_key(exchange, kind, SecurityStatus::Normal, Board::Main);
        self.calendar
            .session_at(date, market::session::TimeOfDay::from_seconds(secs), &key)
            .phase
    }
}

/// Time of the `offset`-th second of continuous trading.
fn locate(segments: &[(u32, u32)], mut offset: u32) -> u32 {
    for &(start, end) in segments {
        let len = end - start;
        if offset < len {
            return start + offset;
        }
        offset -= len;
    }
    segments.last().map_or(0, |&(_, end)| end.saturating_sub(1))
}

/// Which call auctions a day's timetable has (they print the open and the close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Auctions {
    opening: bool,
    closing: bool,
}

impl Auctions {
    fn of(mut phases: impl Iterator<Item = Phase> + Clone) -> Self {
        Self {
            opening: phases.clone().any(|p| p == Phase::OpeningAuction),
            closing: phases.any(|p| p == Phase::ClosingAuction),
        }
    }
}

/// A trade's size in round lots: log-normal, larger for more liquid instruments.
fn lots(rng: &mut Rng, inst: &Instrument) -> u64 {
    let scale = 1.0 + f64::from(inst.trades_per_day).sqrt() / 4.0;
    (rng.normal().exp() * scale).ceil().max(1.0) as u64
}

pub(crate) fn summarize(tape: &DayTape) -> DaySummary {
    let reference = tape.limits.reference.units();
    let mut s = DaySummary {
        date: tape.date,
        limits: tape.limits,
        open: tape.trades.first().map_or(reference, |t| t.price),
        high: i64::MIN,
        low: i64::MAX,
        close: tape.trades.last().map_or(reference, |t| t.price),
        volume: 0,
        value_units: 0,
        trades: tape.trades.len() as u64,
        buy_trades: 0,
        sell_trades: 0,
    };
    for t in &tape.trades {
        s.high = s.high.max(t.price);
        s.low = s.low.min(t.price);
        s.volume += t.volume;
        s.value_units += i128::from(t.price) * i128::from(t.volume);
        match t.side {
            Aggressor::Buy => s.buy_trades += 1,
            Aggressor::Sell => s.sell_trades += 1,
            Aggressor::Auction => {}
        }
    }
    if tape.trades.is_empty() {
        s.high = reference;
        s.low = reference;
    }
    s
}

/// Shared handle.
pub type SharedGenerator = Arc<Generator>;

#[cfg(test)]
mod tests;
