//! The deterministic market generator. For every instrument and trading day it derives a
//! reference price (`market`'s rule applied to the previous day: its close on HOSE, HNX and
//! futures, the VWAP of its continuous tape on UPCoM), the day's band, an open and a close,
//! and a tape of trades between them timed by the exchange's session timetable.
//!
//! Daily returns follow a factor model (`factors`): a market factor with GARCH(1,1)
//! volatility, Student-t shocks and sell-off/rally jumps, calm and turbulent regimes, one
//! factor per sector, and each stock's own GARCH, fat-tailed shocks and jumps. The band
//! truncates them (limit-up and limit-down days, locked at the limit). The number of trades
//! grows with the day's volatility and surprise; trades print at the bid or the ask of a
//! spread set by the stock's liquidity class, along a Brownian bridge from the open to the
//! close, at U-shaped intraday times. Parameters: [`MarketModel`]. Every price goes through
//! `market` for ticks, bands and reference prices; lots come from `market` too. Nothing here
//! is an exchange rule.

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

mod book;
mod factors;
mod odd_lot;
mod params;
mod put_through;

pub use book::Level;
pub use odd_lot::{ODD_LOT_DEPTH, OddLotPrint, OddLotTape, OddLotUpdate};
pub use params::{
    ClassParams, ExchangeParams, Exchanges, FuturesModel, Intraday, LiquidityClasses, MarketFactor,
    MarketModel, ModelError, Regimes, SectorParams, Sectors, StockShocks, VolumeModel,
};
pub use put_through::PutThroughDeal;

use factors::{GARCH_CAP, MarketPath, gauss, poisson, student, turbulent_share};

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
    /// A market-model parameter is outside its domain.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// One instrument's day as the daily pass decided it, in price units.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DayPrices {
    reference: i64,
    close: i64,
    open: i64,
    /// ln(latent close / reference): beyond the band on a locked limit day.
    target: f32,
    /// The day's conditional daily volatility.
    sigma: f32,
    /// Candidate continuous trades (0: the instrument does not trade that day).
    trades: u32,
}

impl DayPrices {
    /// A day without trades: every price is the reference.
    fn flat(reference: i64) -> Self {
        Self {
            reference,
            close: reference,
            open: reference,
            target: 0.0,
            sigma: 0.0,
            trades: 0,
        }
    }
}

/// One continuous print before it is placed in time.
#[derive(Debug, Clone, Copy)]
struct Print {
    /// Seconds since local midnight.
    secs: u32,
    price: i64,
    volume: u64,
    side: Aggressor,
}

/// How a stock's daily return loads on the factors.
#[derive(Debug, Clone, Copy)]
struct Loadings {
    beta: f64,
    sector: usize,
    /// Daily volatility of the stock's own shock (calm regime, long-run GARCH level).
    own: f64,
}

/// A bid and ask and the interval `[low, high)` of efficient prices they stand for.
#[derive(Debug, Clone, Copy)]
struct QuoteCache {
    low: f64,
    high: f64,
    bid: i64,
    ask: i64,
}

/// One minute (or less) of continuous trading and its share of the day's activity.
#[derive(Debug, Clone, Copy)]
struct Bin {
    /// Clock second the bin starts at.
    start: u32,
    /// Seconds in the bin.
    len: u32,
    /// Cumulative intensity up to the end of this bin.
    cumulative: f64,
    /// Price variance weight of a trade in this bin: (intensity / the day's mean
    /// intensity) ^ `volatility_elasticity`.
    weight: f64,
}

/// The intensity bins of one continuous-session layout.
type Bins = Arc<[Bin]>;

/// The generator: universe, rules, calendar, market model and the daily prices of every
/// instrument.
#[derive(Debug)]
pub struct Generator {
    seed: u64,
    rules: MarketRules,
    calendar: TradingCalendar,
    universe: Universe,
    model: MarketModel,
    days: Vec<Date>,
    path: MarketPath,
    /// `history[instrument][day]`: that day's reference, open, close and tape parameters.
    history: Vec<Vec<DayPrices>>,
    summaries: Mutex<HashMap<(usize, usize), DaySummary>>,
    /// Intraday intensity bins by continuous-session layout.
    bins: Mutex<HashMap<Vec<(u32, u32)>, Bins>>,
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

/// Price units per index point of a VN30 futures contract (prices in 0.1 point).
const FUTURES_UNITS_PER_POINT: f64 = 10.0;

impl Generator {
    /// Generates `history_days` trading days before `today` and `horizon_days` after it
    /// with the default [`MarketModel`]. On UPCoM each day's reference is the VWAP of the
    /// previous day's continuous tape, so those tapes are generated here once (the
    /// costliest part of start-up; `docs/performance.md` "## fcsim" has the figure).
    pub fn new(
        seed: u64,
        rules: MarketRules,
        calendar: TradingCalendar,
        universe: Universe,
        today: Date,
        history_days: u32,
        horizon_days: u32,
    ) -> Self {
        Self::build(
            seed,
            rules,
            calendar,
            universe,
            today,
            (history_days, horizon_days),
            MarketModel::default(),
        )
    }

    /// [`Self::new`] with `model`'s parameters (checked first). Pass a universe made by
    /// `Universe::generate_with` with the same model, so per-instrument numbers agree.
    #[allow(clippy::too_many_arguments)]
    pub fn with_model(
        seed: u64,
        rules: MarketRules,
        calendar: TradingCalendar,
        universe: Universe,
        today: Date,
        history_days: u32,
        horizon_days: u32,
        model: MarketModel,
    ) -> Result<Self, Error> {
        model.validate()?;
        Ok(Self::build(
            seed,
            rules,
            calendar,
            universe,
            today,
            (history_days, horizon_days),
            model,
        ))
    }

    fn build(
        seed: u64,
        rules: MarketRules,
        calendar: TradingCalendar,
        universe: Universe,
        today: Date,
        (history_days, horizon_days): (u32, u32),
        model: MarketModel,
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
        let path = MarketPath::generate(seed, days.len(), &model);
        let mut generator = Self {
            seed,
            rules,
            calendar,
            universe,
            model,
            days,
            path,
            history: Vec::new(),
            summaries: Mutex::new(HashMap::new()),
            bins: Mutex::new(HashMap::new()),
        };
        generator.history = generator.price_history();
        generator
    }

    /// Every instrument's [`Self::price_series`]: the stocks spread over the available
    /// cores, then the futures, which follow the VN30 index of those stocks' closes.
    /// Worker `w` of `n` takes instruments `w`, `w + n`, … (the costly UPCoM ones sit
    /// together at the end of the universe); each stock's series is independent given the
    /// market path, so the result does not depend on the split.
    fn price_history(&self) -> Vec<Vec<DayPrices>> {
        let count = self.universe.instruments().len();
        let is_future = |i: usize| {
            self.universe
                .instrument(i)
                .is_some_and(|x| x.kind == InstrumentKind::IndexFuture)
        };
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, count.max(1));
        let series = |i: usize| {
            if is_future(i) {
                Vec::new()
            } else {
                self.price_series(i, None)
            }
        };
        let share = |w: usize| (w..count).step_by(workers);
        let mut parts: Vec<std::vec::IntoIter<Vec<DayPrices>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| scope.spawn(move || share(w).map(series).collect()))
                .collect();
            handles
                .into_iter()
                .enumerate()
                .map(|(w, handle)| {
                    // A worker cannot panic short of a bug; redo its share here if it did.
                    let done: Vec<_> = handle
                        .join()
                        .unwrap_or_else(|_| share(w).map(series).collect());
                    done.into_iter()
                })
                .collect()
        });
        let mut history: Vec<Vec<DayPrices>> = (0..count)
            .map(|i| {
                parts
                    .get_mut(i % workers)
                    .and_then(Iterator::next)
                    .unwrap_or_default()
            })
            .collect();
        if (0..count).any(is_future) {
            let vn30: Vec<f64> = match self.universe.index("VN30") {
                Some((pos, _)) => (0..self.days.len())
                    .map(|day| {
                        self.index_value(pos, |m| {
                            history
                                .get(m)
                                .and_then(|h| h.get(day))
                                .map_or(1, |d| d.close)
                        })
                    })
                    .collect(),
                None => Vec::new(),
            };
            for i in (0..count).filter(|&i| is_future(i)) {
                let futures = self.price_series(i, Some(&vn30));
                if let Some(slot) = history.get_mut(i) {
                    *slot = futures;
                }
            }
        }
        history
    }

    /// Day by day: the reference (`MarketRules::next_reference` of the day before; the
    /// instrument's base price on the first day), the day's return and volatility (a
    /// stock's factor model, or the VN30 index plus a basis for futures, given as
    /// `vn30` closes), the number of trades, the open and the close inside the band.
    fn price_series(&self, i: usize, vn30: Option<&[f64]>) -> Vec<DayPrices> {
        let Some(inst) = self.universe.instrument(i) else {
            return Vec::new();
        };
        let basis = self.rules.limits.reference_basis(inst.exchange);
        let loadings = self.loadings(inst);
        let ln_base = (inst.base_price.max(1) as f64).ln();
        let overnight = self.model.intraday.overnight_share;
        let mut latent = ln_base;
        let mut garch = 1.0;
        let mut reference = inst.base_price;
        // The previous close-to-close log return, for the planted reversal (off by default).
        let planted = self.model.stock.planted_reversal;
        let mut last_close: Option<i64> = None;
        let mut last_return = 0.0;
        let mut out = Vec::with_capacity(self.days.len());
        for day in 0..self.days.len() {
            let mut rng = Rng::new(self.seed, i as u64, day as u64, 1);
            let Ok(limits) = self.limits_for(inst, reference) else {
                out.push(DayPrices::flat(reference));
                continue;
            };
            let (mut r, sigma) = match vn30 {
                Some(index) => self.futures_return(day, latent, index, &mut rng),
                None => self.stock_return(&loadings, day, latent - ln_base, &mut garch, &mut rng),
            };
            if planted != 0.0 && vn30.is_none() {
                r -= planted * last_return;
            }
            let trades = self.trade_count(inst, sigma, r, &mut rng);
            if trades == 0 {
                // Nothing trades: no price is revealed, the latent price moves on.
                last_return = 0.0;
                out.push(DayPrices {
                    sigma: sigma as f32,
                    ..DayPrices::flat(reference)
                });
                latent += r;
                let previous = PreviousSession {
                    reference: limits.reference,
                    close: None,
                    continuous: Vwap::EMPTY,
                };
                reference = self
                    .rules
                    .next_reference(inst.exchange, inst.kind, &previous)
                    .map_or(reference, Price::units);
                continue;
            }
            let target = latent + r;
            let open_ln = latent
                + overnight * r
                + f64::sqrt(overnight * (1.0 - overnight)) * sigma * gauss(&mut rng);
            let mut open = self.on_tick(inst, open_ln.exp(), &limits);
            let close = self.on_tick(inst, target.exp(), &limits);
            let layout = self.layout(inst, day);
            if trades == 1 && layout.opening.is_none() && layout.closing.is_none() {
                open = close; // one print is both the open and the close
            }
            let prices = DayPrices {
                reference,
                close,
                open,
                target: (target - (reference.max(1) as f64).ln()) as f32,
                sigma: sigma as f32,
                trades,
            };
            out.push(prices);
            last_return = last_close.map_or(0.0, |c| (close.max(1) as f64 / c.max(1) as f64).ln());
            last_close = Some(close);
            // The close is what the market saw; the part of the move the band cut off is
            // gone (carrying it over would make returns predictable).
            latent = (close.max(1) as f64).ln();
            let continuous = match basis {
                ReferenceBasis::Close => Vwap::EMPTY,
                ReferenceBasis::ContinuousVwap => {
                    let mut vwap = Vwap::EMPTY;
                    self.continuous_prints(inst, i, day, &limits, &prices, &layout, |p| {
                        if let Ok(price) = Price::new(p.price) {
                            vwap.add(price, Quantity::new(p.volume));
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

    /// `inst`'s factor loadings: beta and sector from the universe, and the own
    /// volatility that makes its long-run total volatility `inst.volatility` (what the
    /// factors, regimes and jumps leave over, at least a quarter of it).
    fn loadings(&self, inst: &Instrument) -> Loadings {
        let m = &self.model;
        let turbulent = turbulent_share(m);
        let factor_var = (1.0 - turbulent) + turbulent * m.regimes.factor_scale.powi(2);
        let stock_var = (1.0 - turbulent) + turbulent * m.regimes.stock_scale.powi(2);
        let jump_rate = (1.0 - turbulent) + turbulent * m.regimes.jump_scale;
        // E[(0.6 + 0.8u)²] and E[(0.5 + u)²] for u uniform in [0, 1).
        let market_jumps = m.market.jump_prob * jump_rate * m.market.jump_size.powi(2) * 1.0533;
        let own_jumps = m.stock.jump_prob * m.stock.jump_size.powi(2) * 13.0 / 12.0;
        let sector = m.sectors.of(inst.sector).factor_vol;
        let systematic = (inst.beta.powi(2) * m.market.vol.powi(2) + sector.powi(2)) * factor_var
            + inst.beta.powi(2) * market_jumps;
        let total = inst.volatility.powi(2);
        let own_var = (total - systematic).max(total / 16.0);
        Loadings {
            beta: inst.beta,
            sector: inst.sector.index(),
            own: f64::sqrt(own_var / (stock_var + own_jumps)),
        }
    }

    /// A stock's log return on `day` and its conditional volatility: beta times the market
    /// factor, plus the sector factor, plus its own shock (GARCH variance `garch`, updated
    /// here), less a slight pull of the log price's `deviation` from its start.
    fn stock_return(
        &self,
        l: &Loadings,
        day: usize,
        deviation: f64,
        garch: &mut f64,
        rng: &mut Rng,
    ) -> (f64, f64) {
        let m = &self.model;
        let s = &m.stock;
        let turbulent = self.path.turbulent.get(day).copied().unwrap_or(false);
        let scale = self.path.factor_scale.get(day).copied().unwrap_or(1.0);
        let market = self.path.market.get(day).copied().unwrap_or(0.0);
        let sector = self
            .path
            .sectors
            .get(day)
            .and_then(|f| f.get(l.sector))
            .copied()
            .unwrap_or(0.0);
        let sector_vol = crate::universe::Sector::ALL
            .get(l.sector)
            .map_or(0.0, |&x| m.sectors.of(x).factor_vol);
        let own_scale = if turbulent {
            m.regimes.stock_scale
        } else {
            1.0
        };
        let own_vol = l.own * own_scale;
        let sigma = f64::sqrt(
            (l.beta * m.market.vol * scale).powi(2)
                + (sector_vol * scale).powi(2)
                + own_vol.powi(2) * *garch,
        );
        let z = student(rng, s.tail_dof);
        let jump = if rng.unit() < s.jump_prob {
            let sign = if rng.unit() < 0.5 { -1.0 } else { 1.0 };
            sign * l.own * s.jump_size * (0.5 + rng.unit())
        } else {
            0.0
        };
        let own = own_vol * garch.sqrt() * z + jump;
        let standardized = if own_vol > 0.0 { own / own_vol } else { 0.0 };
        *garch = ((1.0 - s.garch_alpha - s.garch_beta)
            + s.garch_alpha * standardized * standardized
            + s.garch_beta * *garch)
            .min(GARCH_CAP);
        let r = l.beta * market + sector + own - s.mean_reversion * deviation;
        (r, sigma)
    }

    /// A VN30 future's log return on `day` from its `latent` log price: the VN30 index
    /// close (in price units) times a small random basis; volatility: the market's.
    fn futures_return(&self, day: usize, latent: f64, vn30: &[f64], rng: &mut Rng) -> (f64, f64) {
        let scale = self.path.factor_scale.get(day).copied().unwrap_or(1.0);
        let sigma = self.model.market.vol * scale;
        let basis = self.model.futures.basis_sd * gauss(rng);
        match vn30.get(day).filter(|v| **v > 0.0) {
            Some(index) => (
                (index * FUTURES_UNITS_PER_POINT).ln() + basis - latent,
                sigma,
            ),
            None => (sigma * gauss(rng), sigma),
        }
    }

    /// The day's number of candidate continuous trades: the instrument's rate × log-normal
    /// noise × (volatility / its average)^elasticity × (1 + surprise term), Poisson.
    fn trade_count(&self, inst: &Instrument, sigma: f64, r: f64, rng: &mut Rng) -> u32 {
        let v = &self.model.volume;
        let noise = (v.activity_sd * gauss(rng) - v.activity_sd.powi(2) / 2.0).exp();
        let ratio = if inst.volatility > 0.0 && sigma > 0.0 {
            sigma / inst.volatility
        } else {
            1.0
        };
        let surprise = if sigma > 0.0 { r.abs() / sigma } else { 0.8 };
        let activity = noise
            * ratio.powf(v.vol_elasticity)
            * (1.0 + v.abs_return_elasticity * (surprise - 0.8)).max(0.2);
        poisson(rng, inst.trade_rate * activity)
    }

    /// Rounds `x` to the nearest tick inside the band.
    fn on_tick(&self, inst: &Instrument, x: f64, limits: &PriceLimits) -> i64 {
        let units = if x.is_finite() {
            x.round().clamp(1.0, 1e15) as i64
        } else {
            limits.reference.units()
        };
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

    /// One tick up (`up`) or down from `units`, staying inside `limits`.
    fn tick_step(&self, inst: &Instrument, limits: &PriceLimits, units: i64, up: bool) -> i64 {
        let ticks = &self.rules.ticks;
        Price::new(units)
            .ok()
            .and_then(|p| {
                if up {
                    ticks.tick_up(inst.exchange, inst.kind, Board::Main, p)
                } else {
                    ticks.tick_down(inst.exchange, inst.kind, Board::Main, p)
                }
            })
            .map_or(units, Price::units)
            .clamp(limits.floor.units(), limits.ceiling.units())
    }

    /// `inst`'s quoted spread in ticks at `price`: its `spread_bps` of the price, at least
    /// one tick (the tick size is `market`'s).
    fn spread_ticks(&self, inst: &Instrument, price: f64) -> u32 {
        if inst.spread_bps <= 0.0 {
            return 1;
        }
        let tick = Price::new(price.max(1.0) as i64).map_or(1, |p| {
            self.rules
                .tick_size(inst.exchange, inst.kind, Board::Main, p)
                .units()
        });
        (inst.spread_bps * 1e-4 * price / tick.max(1) as f64)
            .round()
            .clamp(1.0, 50.0) as u32
    }

    /// The best bid and ask around the efficient price `mid`: the bid is `mid` rounded
    /// down to a tick less half the spread, the ask the spread above it, inside the band.
    /// `cache` holds the last answer and the tick interval of mids it holds for: the
    /// efficient price moves far less than a tick between most trades, so `market` is
    /// asked again only when it leaves that interval.
    fn quote_around(
        &self,
        inst: &Instrument,
        limits: &PriceLimits,
        mid: f64,
        cache: &mut Option<QuoteCache>,
    ) -> (i64, i64) {
        if let Some(c) = cache.as_ref().filter(|c| mid >= c.low && mid < c.high) {
            return (c.bid, c.ask);
        }
        let (floor, ceiling) = (limits.floor.units(), limits.ceiling.units());
        let spread = self.spread_ticks(inst, mid);
        let below = (mid.floor().clamp(1.0, 1e15) as i64).clamp(floor, ceiling);
        let below = Price::new(below)
            .ok()
            .and_then(|p| {
                self.rules
                    .round_to_tick(inst.exchange, inst.kind, Board::Main, p, Rounding::Down)
            })
            .map_or(floor, Price::units)
            .clamp(floor, ceiling);
        let mut bid = below;
        for _ in 0..(spread - 1) / 2 {
            bid = self.tick_step(inst, limits, bid, false);
        }
        let mut ask = bid;
        for _ in 0..spread {
            ask = self.tick_step(inst, limits, ask, true);
        }
        let above = self.tick_step(inst, limits, below, true);
        *cache = (above > below).then_some(QuoteCache {
            low: below as f64,
            high: above as f64,
            bid,
            ask,
        });
        (bid, ask)
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

    /// The market model the generator draws from.
    pub fn model(&self) -> &MarketModel {
        &self.model
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

    /// Whether the market is in its turbulent regime on day `day` (higher factor
    /// volatility and more jumps; see [`Regimes`]).
    pub fn turbulent(&self, day: usize) -> bool {
        self.path.turbulent.get(day).copied().unwrap_or(false)
    }

    /// Reference price of instrument `i` on day `day` (reference §5.3, by
    /// `MarketRules::next_reference`: the previous close on HOSE, HNX and futures, the
    /// previous day's continuous VWAP on UPCoM, the previous reference after a day without
    /// trades; the base price on the first day).
    pub fn reference(&self, i: usize, day: usize) -> i64 {
        self.day_prices(i, day).map_or_else(
            || self.universe.instrument(i).map_or(1, |x| x.base_price),
            |d| d.reference,
        )
    }

    /// Close of instrument `i` on day `day` (the reference on a day without trades).
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

    /// The full tape of instrument `i` on day `day` (empty on a day without trades).
    pub fn tape(&self, i: usize, day: usize) -> Result<DayTape, Error> {
        let inst = self
            .universe
            .instrument(i)
            .ok_or(Error::UnknownInstrument(i))?;
        let limits = self.limits(i, day)?;
        Ok(DayTape {
            instrument: i,
            date: self.date(day)?,
            limits,
            trades: self.day_trades(inst, i, day, &limits)?,
        })
    }

    /// The trades of `inst` (at position `i`) on `day`, in time order: the ATO print at
    /// the open and the ATC print at the close where the timetable has those auctions
    /// (volumes: stream 4), and the continuous prints of [`Self::continuous_prints`].
    fn day_trades(
        &self,
        inst: &Instrument,
        i: usize,
        day: usize,
        limits: &PriceLimits,
    ) -> Result<Vec<Trade>, Error> {
        self.date(day)?;
        let Some(prices) = self.day_prices(i, day) else {
            return Ok(Vec::new());
        };
        let layout = self.layout(inst, day);
        let mut prints = Vec::with_capacity(prices.trades as usize);
        self.continuous_prints(inst, i, day, limits, &prices, &layout, |p| {
            prints.push(p);
        });
        if prints.is_empty() {
            return Ok(Vec::new());
        }
        let lot = self.rules.lots.round_lot(inst.exchange).max(1);
        let continuous_volume: u64 = prints.iter().map(|p| p.volume).sum();
        let intraday = &self.model.intraday;
        let rest = (1.0 - intraday.ato_volume_share - intraday.atc_volume_share).max(0.01);
        let mut rng = Rng::new(self.seed, i as u64, day as u64, 4);
        let mut auction_volume = |share: f64, at_limit: bool| {
            let thin = if at_limit {
                intraday.locked_trade_share
            } else {
                1.0
            };
            let shares = continuous_volume as f64 * share / rest * (0.3 * rng.normal()).exp();
            ((shares * thin / lot as f64).round() as u64).max(1) * lot
        };
        let at_limit = |p: i64| p >= limits.ceiling.units() || p <= limits.floor.units();
        let ato_volume = auction_volume(intraday.ato_volume_share, at_limit(prices.open));
        let atc_volume = auction_volume(intraday.atc_volume_share, at_limit(prices.close));
        let mut trades = Vec::with_capacity(prints.len() + 2);
        if let Some(secs) = layout.opening {
            trades.push(Trade {
                secs,
                price: prices.open,
                volume: ato_volume,
                side: Aggressor::Auction,
                phase: Phase::OpeningAuction,
            });
        }
        trades.extend(prints.iter().map(|p| Trade {
            secs: p.secs,
            price: p.price,
            volume: p.volume,
            side: p.side,
            phase: Phase::Continuous,
        }));
        if let Some(secs) = layout.closing {
            trades.push(Trade {
                secs,
                price: prices.close,
                volume: atc_volume,
                side: Aggressor::Auction,
                phase: Phase::ClosingAuction,
            });
        }
        Ok(trades)
    }

    /// The continuous prints of `inst` on `day` in time order. Their times are the day's
    /// candidate trade times ([`Self::candidate_times`], U-shaped). The efficient log
    /// price runs a Brownian bridge over the candidates (stream 2), from the open to the
    /// day's latent close (beyond the band on a limit day), with a variance per trade that
    /// grows with the intensity at its time, so volatility is U-shaped like activity. Each
    /// trade prints at the ask (buyer) or the bid (seller) of the spread around the
    /// efficient price. On a limit day, once the price reaches the limit it is locked
    /// there: only a share of the candidates still print, at the limit, sellers hitting the
    /// ceiling queue or buyers lifting the floor. The first print is the open without an
    /// opening auction, the last the close without a closing auction. The UPCoM reference
    /// needs only these, so [`Self::price_series`] calls this alone.
    #[allow(clippy::too_many_arguments)]
    fn continuous_prints(
        &self,
        inst: &Instrument,
        i: usize,
        day: usize,
        limits: &PriceLimits,
        prices: &DayPrices,
        layout: &Layout,
        mut print: impl FnMut(Print),
    ) {
        let n = prices.trades as usize;
        if n == 0 {
            return;
        }
        let times = self.candidate_times(i, day, &layout.continuous, n);
        // Variance of each step: its bin's weight, scaled so the day's variance is the
        // continuous session's share of the day's. `remaining[k]`: weight of steps k..n.
        let mut remaining = vec![0.0; n + 1];
        for k in (0..n).rev() {
            let w = times.get(k).map_or(1.0, |t| t.1);
            let next = remaining.get(k + 1).copied().unwrap_or(0.0);
            if let Some(slot) = remaining.get_mut(k) {
                *slot = next + w;
            }
        }
        let overnight = self.model.intraday.overnight_share;
        let day_var = f64::from(prices.sigma).powi(2) * (1.0 - overnight);
        let unit = day_var
            / remaining
                .first()
                .copied()
                .unwrap_or(1.0)
                .max(f64::MIN_POSITIVE);
        let mut rng = Rng::new(self.seed, i as u64, day as u64, 2);
        let lot = self.rules.lots.round_lot(inst.exchange).max(1);
        let (floor, ceiling) = (limits.floor.units(), limits.ceiling.units());
        let target = (limits.reference.units().max(1) as f64).ln() + f64::from(prices.target);
        let lock_up = prices.close >= ceiling && target >= (ceiling as f64).ln();
        let lock_down = !lock_up && prices.close <= floor && target <= (floor as f64).ln();
        let mut locked = (lock_up && prices.open >= ceiling) || (lock_down && prices.open <= floor);
        let keep_locked = self.model.intraday.locked_trade_share;
        let (opening, closing) = (layout.opening.is_some(), layout.closing.is_some());
        let mut x = (prices.open.max(1) as f64).ln();
        let mut quotes = None;
        for k in 0..n {
            // Brownian bridge to `target` at k = n − 1: this step's variance `v` out of the
            // `left` that remain.
            let v = times.get(k).map_or(1.0, |t| t.1);
            let left = remaining.get(k).copied().unwrap_or(v).max(v);
            let spread = (v * (left - v) / left * unit).max(0.0).sqrt();
            x += (target - x) * v / left + spread * quick_normal(&mut rng);
            let mid = x.exp();
            if (lock_up && mid >= ceiling as f64) || (lock_down && mid <= floor as f64) {
                locked = true;
            }
            let buyer = rng.unit() < 0.5;
            let keep = locked && rng.unit() < keep_locked;
            let volume = lots(&mut rng, inst) * lot;
            let (first, last) = (k == 0, k + 1 == n);
            let (price, side) = if locked && lock_up {
                (ceiling, Aggressor::Sell)
            } else if locked {
                (floor, Aggressor::Buy)
            } else {
                let (bid, ask) = self.quote_around(inst, limits, mid, &mut quotes);
                if buyer {
                    (ask, Aggressor::Buy)
                } else {
                    (bid, Aggressor::Sell)
                }
            };
            let price = if first && !opening {
                prices.open
            } else if last && !closing {
                prices.close
            } else {
                price
            };
            if locked && !first && !last && !keep {
                continue;
            }
            print(Print {
                secs: times.get(k).map_or(0, |t| t.0),
                price,
                volume,
                side,
            });
        }
    }

    /// Seconds of `n` candidate trades over the `continuous` segments, in order, with the
    /// price variance weight of their bin: order statistics of `n` uniforms
    /// (exponential spacings, stream 3) mapped through the cumulative U-shaped intensity of
    /// [`Self::intensity_bins`].
    fn candidate_times(
        &self,
        i: usize,
        day: usize,
        continuous: &[(u32, u32)],
        n: usize,
    ) -> Vec<(u32, f64)> {
        let bins = self.intensity_bins(continuous);
        let Some(total) = bins.last().map(|b| b.cumulative) else {
            return vec![(0, 1.0); n];
        };
        let mut rng = Rng::new(self.seed, i as u64, day as u64, 3);
        let spacings: Vec<f64> = (0..=n).map(|_| -(1.0 - rng.unit()).ln()).collect();
        let sum: f64 = spacings.iter().sum();
        let mut out = Vec::with_capacity(n);
        let (mut acc, mut b) = (0.0, 0);
        for e in spacings.iter().take(n) {
            acc += e;
            let want = acc / sum * total;
            while b + 1 < bins.len() && bins.get(b).is_some_and(|x| x.cumulative < want) {
                b += 1;
            }
            let before = b
                .checked_sub(1)
                .and_then(|p| bins.get(p))
                .map_or(0.0, |x| x.cumulative);
            let Some(bin) = bins.get(b) else { break };
            let width = (bin.cumulative - before).max(f64::MIN_POSITIVE);
            let frac = ((want - before) / width).clamp(0.0, 1.0);
            let offset = ((frac * f64::from(bin.len)) as u32).min(bin.len.saturating_sub(1));
            out.push((bin.start + offset, bin.weight));
        }
        out
    }

    /// Minute bins of the `continuous` segments with the cumulative intraday intensity
    /// 1 + open boost (decaying from the first open) + close boost (growing into the last
    /// close) + afternoon boost (decaying from the second segment's start), and each bin's
    /// price variance weight; cached per layout.
    fn intensity_bins(&self, continuous: &[(u32, u32)]) -> Arc<[Bin]> {
        if let Ok(cache) = self.bins.lock()
            && let Some(bins) = cache.get(continuous)
        {
            return bins.clone();
        }
        let d = &self.model.intraday;
        let first = continuous.first().map_or(0, |s| s.0);
        let last = continuous.last().map_or(0, |s| s.1);
        let afternoon = continuous.get(1).map(|s| s.0);
        let intensity = |t: f64| {
            let mut x = 1.0
                + d.open_boost * (-(t - f64::from(first)) / (60.0 * d.open_decay_minutes)).exp()
                + d.close_boost * (-(f64::from(last) - t) / (60.0 * d.close_decay_minutes)).exp();
            if let Some(a) = afternoon.filter(|a| t >= f64::from(*a)) {
                x += d.afternoon_boost
                    * (-(t - f64::from(a)) / (60.0 * d.afternoon_decay_minutes)).exp();
            }
            x
        };
        let mut bins = Vec::new();
        let mut cumulative = 0.0;
        for &(start, end) in continuous {
            let mut t = start;
            while t < end {
                let len = (end - t).min(60);
                let level = intensity(f64::from(t) + f64::from(len) / 2.0);
                cumulative += level * f64::from(len);
                bins.push(Bin {
                    start: t,
                    len,
                    cumulative,
                    weight: level,
                });
                t += len;
            }
        }
        let seconds: u32 = continuous.iter().map(|(a, b)| b.saturating_sub(*a)).sum();
        let mean = cumulative / f64::from(seconds.max(1));
        for bin in &mut bins {
            bin.weight = (bin.weight / mean).powf(d.volatility_elasticity);
        }
        let bins: Arc<[Bin]> = bins.into();
        if let Ok(mut cache) = self.bins.lock() {
            cache.insert(continuous.to_vec(), bins.clone());
        }
        bins
    }

    /// The continuous segments and auction prints of `inst`'s round-lot board on `day`
    /// (`market`'s timetable).
    fn layout(&self, inst: &Instrument, day: usize) -> Layout {
        let timetable = self.date(day).ok().and_then(|date| {
            self.calendar
                .sessions()
                .timetable(&self.session_key(inst), date)
        });
        let mut layout = Layout::default();
        for s in timetable.iter().flat_map(|t| t.segments.iter()) {
            match s.phase {
                Phase::Continuous => layout.continuous.push((s.start.seconds(), s.end.seconds())),
                Phase::OpeningAuction => layout.opening = Some(s.end.seconds()),
                Phase::ClosingAuction => layout.closing = Some(s.end.seconds()),
                Phase::PreOpen
                | Phase::PeriodicAuction(_)
                | Phase::Break
                | Phase::PutThrough
                | Phase::PutThroughAfterHours
                | Phase::PutThroughOnly
                | Phase::PloCollection
                | Phase::PloMatching
                | Phase::Halted
                | Phase::Closed => {}
            }
        }
        layout
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
        let inst = self
            .universe
            .instrument(i)
            .ok_or(Error::UnknownInstrument(i))?;
        let limits = self.limits(i, day)?;
        let tape = DayTape {
            instrument: i,
            date: self.date(day)?,
            limits,
            trades: self.day_trades(inst, i, day, &limits)?,
        };
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

/// A day's timetable as the tape needs it: continuous segments, and the seconds of the
/// opening and closing auction prints (the ends of those auctions), where there are any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layout {
    continuous: Vec<(u32, u32)>,
    opening: Option<u32>,
    closing: Option<u32>,
}

/// A trade's size in round lots: log-normal around the instrument's median.
fn lots(rng: &mut Rng, inst: &Instrument) -> u64 {
    ((0.9 * quick_normal(rng)).exp() * inst.trade_lots)
        .round()
        .max(1.0) as u64
}

/// An approximately standard normal draw from one 64-bit word: four 16-bit uniforms
/// summed, centred and scaled (bounded, |x| < 3.5, like the sum of four uniforms of
/// `Rng::normal`, at a quarter of the draws: it runs once or twice per generated trade).
fn quick_normal(rng: &mut Rng) -> f64 {
    let x = rng.next_u64();
    let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
    ((sum as f64 + 2.0) / 65_536.0 - 2.0) * 1.732_050_8
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
