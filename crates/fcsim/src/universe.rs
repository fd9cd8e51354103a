//! The simulated market's instruments and indices: the whole VN universe (HOSE, HNX, UPCoM
//! stocks, VN30 futures, main indices). Real tickers, names and sectors where we know them
//! (`names`), generated ones otherwise; everything is a pure function of the seed. Each
//! instrument carries its sector and liquidity class and the generator's per-instrument
//! numbers drawn from the [`MarketModel`] (beta, volatility, trade rate, spread, sizes).

mod names;

use std::collections::{BTreeSet, HashMap};

use market::ticker::Underlying;
use market::{Exchange, InstrumentKind, TradingCalendar};
use serde::Deserialize;
use time::Date;

use crate::rng::Rng;
use crate::tape::MarketModel;

/// How many stocks each exchange lists (real named ones first, generated ones after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UniverseSize {
    /// HOSE stocks, funds and ETFs.
    pub hose: usize,
    /// HNX listed stocks.
    pub hnx: usize,
    /// UPCoM stocks.
    pub upcom: usize,
}

impl Default for UniverseSize {
    /// The real market's scale: about 400 HOSE, 300 HNX and 850 UPCoM securities.
    fn default() -> Self {
        Self {
            hose: 400,
            hnx: 300,
            upcom: 850,
        }
    }
}

/// The business sector of a company (ICB-like groups that move together in Vietnam).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sector {
    /// Commercial banks.
    Banks,
    /// Securities brokers.
    Securities,
    /// Insurers.
    Insurance,
    /// Residential and industrial-park developers.
    RealEstate,
    /// Construction, engineering, building materials, machinery.
    Industrials,
    /// Steel makers.
    Steel,
    /// Chemicals, fertiliser, rubber, plastics, minerals.
    Materials,
    /// Oil and gas.
    Energy,
    /// Power and water.
    Utilities,
    /// Food, beverages, retail, agriculture, textiles.
    Consumer,
    /// IT and telecoms.
    Technology,
    /// Airlines, airports, ports, shipping, post.
    Logistics,
    /// Pharmaceuticals.
    Healthcare,
    /// ETFs, funds and index futures.
    Funds,
}

impl Sector {
    /// Every sector, in a stable order (the order of their factors).
    pub const ALL: [Sector; 14] = [
        Sector::Banks,
        Sector::Securities,
        Sector::Insurance,
        Sector::RealEstate,
        Sector::Industrials,
        Sector::Steel,
        Sector::Materials,
        Sector::Energy,
        Sector::Utilities,
        Sector::Consumer,
        Sector::Technology,
        Sector::Logistics,
        Sector::Healthcare,
        Sector::Funds,
    ];

    /// The configuration key (`real_estate`).
    pub fn key(self) -> &'static str {
        match self {
            Sector::Banks => "banks",
            Sector::Securities => "securities",
            Sector::Insurance => "insurance",
            Sector::RealEstate => "real_estate",
            Sector::Industrials => "industrials",
            Sector::Steel => "steel",
            Sector::Materials => "materials",
            Sector::Energy => "energy",
            Sector::Utilities => "utilities",
            Sector::Consumer => "consumer",
            Sector::Technology => "technology",
            Sector::Logistics => "logistics",
            Sector::Healthcare => "healthcare",
            Sector::Funds => "funds",
        }
    }

    /// Position in [`Sector::ALL`].
    pub fn index(self) -> usize {
        Sector::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }
}

/// How actively an instrument trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Liquidity {
    /// Large caps: thousands of trades a day, one-tick spreads, deep books.
    Liquid,
    /// Mid caps: hundreds of trades a day, spreads of one to a few ticks.
    Mid,
    /// Thinly traded names: a few trades a day or none, wide spreads, thin books.
    Illiquid,
}

impl Liquidity {
    /// Every class, most liquid first.
    pub const ALL: [Liquidity; 3] = [Liquidity::Liquid, Liquidity::Mid, Liquidity::Illiquid];

    /// The configuration key (`liquid`, `mid`, `illiquid`).
    pub fn key(self) -> &'static str {
        match self {
            Liquidity::Liquid => "liquid",
            Liquidity::Mid => "mid",
            Liquidity::Illiquid => "illiquid",
        }
    }
}

/// One tradable instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// Ticker (`SSI`, `VN30F2506`).
    pub symbol: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub en_name: String,
    /// Exchange.
    pub exchange: Exchange,
    /// Kind.
    pub kind: InstrumentKind,
    /// ISIN (synthetic for generated tickers).
    pub isin: String,
    /// Listed shares (open interest scale for futures).
    pub listed_shares: i64,
    /// Price on the first day of generated history (VND, or 0.1 point for futures).
    pub base_price: i64,
    /// Typical number of continuous trades per day, rounded ([`Self::trade_rate`] exactly).
    pub trades_per_day: u32,
    /// Unconditional daily volatility of returns, as a fraction of price.
    pub volatility: f64,
    /// Business sector.
    pub sector: Sector,
    /// Liquidity class.
    pub liquidity: Liquidity,
    /// Loading on the market factor.
    pub beta: f64,
    /// Expected continuous trades per day on an average day (may be below 1: days
    /// without a trade).
    pub trade_rate: f64,
    /// Quoted spread in basis points of the price (never below one tick; 0 = one tick).
    pub spread_bps: f64,
    /// Median trade size in round lots.
    pub trade_lots: f64,
    /// Typical size of one book level in round lots.
    pub book_lots: u64,
    /// Expiry of a futures contract.
    pub maturity: Option<Date>,
    /// Underlying index of a futures contract.
    pub underlying: Option<String>,
}

/// An index computed from its constituents.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    /// Code as SSI spells it (`VNINDEX`, `VN30`, `HNXIndex`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Exchange that publishes it.
    pub exchange: Exchange,
    /// Positions of the constituents in [`Universe::instruments`].
    pub members: Vec<usize>,
    /// Index value on the first day of history.
    pub base_value: f64,
}

/// All instruments and indices of the simulated market.
#[derive(Debug, Clone)]
pub struct Universe {
    instruments: Vec<Instrument>,
    by_symbol: HashMap<String, usize>,
    indices: Vec<IndexDef>,
}

fn isin(symbol: &str, n: usize) -> String {
    let mut body: String = symbol
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect();
    while body.len() < 6 {
        body.push('0');
    }
    format!("VN000{body}{}", n % 10)
}

fn generated_symbol(rng: &mut Rng, taken: &BTreeSet<String>) -> String {
    loop {
        let s: String = (0..3)
            .map(|_| char::from(b'A' + u8::try_from(rng.range(0, 25)).unwrap_or(0)))
            .collect();
        if !taken.contains(&s) {
            return s;
        }
    }
}

fn log_uniform_price(rng: &mut Rng, lo: f64, hi: f64) -> i64 {
    let x = (lo.ln() + (hi.ln() - lo.ln()) * rng.unit()).exp();
    // Whole hundreds of VND: on tick on every exchange at any price.
    (x / 100.0).round() as i64 * 100
}

/// An instrument of `sector` and `liquidity` whose other fields the caller fills in and
/// [`profile`] completes.
fn placeholder(sector: Sector, liquidity: Liquidity) -> Instrument {
    Instrument {
        symbol: String::new(),
        name: String::new(),
        en_name: String::new(),
        exchange: Exchange::Hose,
        kind: InstrumentKind::Stock,
        isin: String::new(),
        listed_shares: 0,
        base_price: 0,
        trades_per_day: 0,
        volatility: 0.0,
        sector,
        liquidity,
        beta: 0.0,
        trade_rate: 0.0,
        spread_bps: 0.0,
        trade_lots: 1.0,
        book_lots: 1,
        maturity: None,
        underlying: None,
    }
}

/// The class of a named company: VN30 members and large caps are liquid, the rest mid.
fn named_liquidity(
    symbol: &str,
    exchange: Exchange,
    kind: InstrumentKind,
    shares: i64,
) -> Liquidity {
    let large = match exchange {
        Exchange::Hose => names::VN30.contains(&symbol) || shares >= 500,
        Exchange::Hnx => shares >= 400,
        Exchange::Upcom | Exchange::HnxDeriv => shares >= 3_000,
    };
    if large && kind == InstrumentKind::Stock {
        Liquidity::Liquid
    } else {
        Liquidity::Mid
    }
}

/// The class of a generated company from its liquidity draw `u` in `[0, 1)`: a few liquid
/// and many mid caps on HOSE; mostly illiquid names on HNX and UPCoM.
fn generated_liquidity(exchange: Exchange, u: f64) -> Liquidity {
    let (liquid, mid) = match exchange {
        Exchange::Hose => (0.9, 0.4),
        Exchange::Hnx => (1.0, 0.8),
        Exchange::Upcom | Exchange::HnxDeriv => (1.0, 0.92),
    };
    if u >= liquid {
        Liquidity::Liquid
    } else if u >= mid {
        Liquidity::Mid
    } else {
        Liquidity::Illiquid
    }
}

/// Draws `inst`'s generator numbers from `model` (its own stream, so they do not disturb
/// the tickers and prices drawn before).
fn profile(inst: &mut Instrument, rng: &mut Rng, model: &MarketModel) {
    let class = model.liquidity.of(inst.liquidity);
    let sector = model.sectors.of(inst.sector);
    let exchange = model.exchanges.of(inst.exchange);
    let lognormal = |rng: &mut Rng, sd: f64| (sd * rng.normal()).exp();
    let between = |rng: &mut Rng, [lo, hi]: [f64; 2]| lo + (hi - lo) * rng.unit();
    let log_between = |rng: &mut Rng, [lo, hi]: [f64; 2]| {
        if lo > 0.0 {
            (lo.ln() + (hi.ln() - lo.ln()) * rng.unit()).exp()
        } else {
            hi * rng.unit()
        }
    };
    inst.volatility = class.vol * sector.vol_scale * exchange.vol_scale * lognormal(rng, 0.12);
    inst.beta = (sector.beta * exchange.beta_scale * (1.0 + 0.08 * rng.normal())).max(0.0);
    inst.trade_rate = log_between(rng, class.trades_per_day);
    inst.trades_per_day = inst.trade_rate.round() as u32;
    inst.spread_bps = between(rng, class.spread_bps);
    inst.trade_lots = class.trade_lots * lognormal(rng, 0.25);
    let [lo, hi] = class.book_lots;
    inst.book_lots = rng.range(lo, hi.max(lo));
}

impl Universe {
    /// Builds the universe for `seed` at `size` with the default [`MarketModel`]; futures
    /// are the four VN30 contracts listed on `today` per the calendar.
    pub fn generate(
        seed: u64,
        size: UniverseSize,
        calendar: &TradingCalendar,
        today: Date,
    ) -> Self {
        Self::generate_with(seed, size, calendar, today, &MarketModel::default())
    }

    /// [`Self::generate`] with the per-instrument numbers (beta, volatility, trade rate,
    /// spread, sizes) drawn from `model`'s sector, exchange and liquidity-class
    /// parameters. Tickers, names, prices, sectors and classes do not depend on `model`.
    pub fn generate_with(
        seed: u64,
        size: UniverseSize,
        calendar: &TradingCalendar,
        today: Date,
        model: &MarketModel,
    ) -> Self {
        let mut rng = Rng::new(seed, 0x756e_6976, 0, 0);
        let mut instruments = Vec::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for named in [names::HOSE, names::HNX, names::UPCOM] {
            for n in named {
                taken.insert(n.0.to_owned());
            }
        }
        for (exchange, named, count) in [
            (Exchange::Hose, names::HOSE, size.hose),
            (Exchange::Hnx, names::HNX, size.hnx),
            (Exchange::Upcom, names::UPCOM, size.upcom),
        ] {
            for (i, &(symbol, name, en, price, shares)) in named.iter().take(count).enumerate() {
                let kind = if symbol.starts_with("E1") || symbol.starts_with("FUE") {
                    InstrumentKind::Etf
                } else {
                    InstrumentKind::Stock
                };
                let sector = names::sector_of(symbol).unwrap_or(Sector::Consumer);
                instruments.push(Instrument {
                    symbol: symbol.to_owned(),
                    name: name.to_owned(),
                    en_name: en.to_owned(),
                    exchange,
                    kind,
                    isin: isin(symbol, i),
                    listed_shares: shares * 1_000_000,
                    base_price: price,
                    maturity: None,
                    underlying: None,
                    ..placeholder(sector, named_liquidity(symbol, exchange, kind, shares))
                });
            }
            for i in named.len().min(count)..count {
                let symbol = generated_symbol(&mut rng, &taken);
                taken.insert(symbol.clone());
                let (stem_vn, stem_en, sector) =
                    names::NAME_STEMS[usize::try_from(rng.range(0, 15)).unwrap_or(0)];
                let place = names::NAME_PLACES[usize::try_from(rng.range(0, 11)).unwrap_or(0)];
                let liquid = rng.unit();
                let (lo, hi) = match exchange {
                    Exchange::Upcom => (1_000.0, 60_000.0),
                    Exchange::Hose | Exchange::Hnx | Exchange::HnxDeriv => (3_000.0, 120_000.0),
                };
                let price = log_uniform_price(&mut rng, lo, hi);
                instruments.push(Instrument {
                    name: format!("Công ty Cổ phần {stem_vn} {place} {symbol}"),
                    en_name: format!("{symbol} {stem_en} Joint Stock Company"),
                    exchange,
                    kind: InstrumentKind::Stock,
                    isin: isin(&symbol, i),
                    listed_shares: i64::try_from(rng.range(5, 800)).unwrap_or(5) * 1_000_000,
                    base_price: price,
                    maturity: None,
                    underlying: None,
                    symbol,
                    ..placeholder(sector, generated_liquidity(exchange, liquid))
                });
            }
        }
        if let Some(contracts) = calendar.listed_contracts(Underlying::Vn30, today) {
            for (i, c) in contracts.iter().enumerate() {
                let Ok(symbol) = c.legacy_code() else {
                    continue;
                };
                let liquidity = if i == 0 {
                    Liquidity::Liquid
                } else {
                    Liquidity::Mid
                };
                instruments.push(Instrument {
                    name: format!("Hợp đồng tương lai chỉ số VN30 {:02}/{}", c.month, c.year),
                    en_name: format!("VN30 Index Futures {:02}/{}", c.month, c.year),
                    exchange: Exchange::HnxDeriv,
                    kind: InstrumentKind::IndexFuture,
                    isin: isin(&symbol, i),
                    listed_shares: 0,
                    base_price: 13_200,
                    maturity: calendar.last_trading_day(c),
                    underlying: Some("VN30".to_owned()),
                    symbol,
                    ..placeholder(Sector::Funds, liquidity)
                });
            }
        }
        for (i, inst) in instruments.iter_mut().enumerate() {
            profile(inst, &mut Rng::new(seed, 0x7072_6f66, i as u64, 0), model);
        }
        let by_symbol = instruments
            .iter()
            .enumerate()
            .map(|(i, x)| (x.symbol.clone(), i))
            .collect::<HashMap<_, _>>();
        let indices = Self::build_indices(&instruments, &by_symbol);
        Self {
            instruments,
            by_symbol,
            indices,
        }
    }

    fn build_indices(
        instruments: &[Instrument],
        by_symbol: &HashMap<String, usize>,
    ) -> Vec<IndexDef> {
        let stocks_of = |e: Exchange| -> Vec<usize> {
            instruments
                .iter()
                .enumerate()
                .filter(|(_, x)| x.exchange == e && x.kind == InstrumentKind::Stock)
                .map(|(i, _)| i)
                .collect()
        };
        let top = |mut members: Vec<usize>, n: usize| -> Vec<usize> {
            members.sort_by_key(|&i| {
                instruments
                    .get(i)
                    .map_or(0, |x| -(x.listed_shares.saturating_mul(x.base_price)))
            });
            members.truncate(n);
            members.sort_unstable();
            members
        };
        let vn30: Vec<usize> = names::VN30
            .iter()
            .filter_map(|s| by_symbol.get(*s).copied())
            .collect();
        let def = |code: &str, name: &str, exchange, members, base_value| IndexDef {
            code: code.to_owned(),
            name: name.to_owned(),
            exchange,
            members,
            base_value,
        };
        vec![
            def(
                "VNINDEX",
                "VN-Index",
                Exchange::Hose,
                stocks_of(Exchange::Hose),
                1_250.0,
            ),
            def("VN30", "VN30", Exchange::Hose, vn30, 1_320.0),
            def(
                "VN100",
                "VN100",
                Exchange::Hose,
                top(stocks_of(Exchange::Hose), 100),
                1_280.0,
            ),
            def(
                "HNXIndex",
                "HNX-Index",
                Exchange::Hnx,
                stocks_of(Exchange::Hnx),
                230.0,
            ),
            def(
                "HNX30",
                "HNX30",
                Exchange::Hnx,
                top(stocks_of(Exchange::Hnx), 30),
                480.0,
            ),
            def(
                "HNXUpcomIndex",
                "UPCoM-Index",
                Exchange::Hnx,
                stocks_of(Exchange::Upcom),
                95.0,
            ),
        ]
    }

    /// Every instrument, in a stable order (HOSE, HNX, UPCoM, futures).
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The instrument at `index`.
    pub fn instrument(&self, index: usize) -> Option<&Instrument> {
        self.instruments.get(index)
    }

    /// Position of `symbol` (exact, upper case as listed).
    pub fn find(&self, symbol: &str) -> Option<usize> {
        self.by_symbol
            .get(symbol)
            .or_else(|| self.by_symbol.get(&symbol.to_ascii_uppercase()))
            .copied()
    }

    /// The indices.
    pub fn indices(&self) -> &[IndexDef] {
        &self.indices
    }

    /// The index called `code` (case-insensitive).
    pub fn index(&self, code: &str) -> Option<(usize, &IndexDef)> {
        self.indices
            .iter()
            .enumerate()
            .find(|(_, d)| d.code.eq_ignore_ascii_case(code))
    }
}

#[cfg(test)]
mod tests;
