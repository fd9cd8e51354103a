//! The simulated market's instruments and indices: the whole VN universe (HOSE, HNX, UPCoM
//! stocks, VN30 futures, main indices). Real tickers and names where we know them
//! (`names`), generated ones otherwise; everything is a pure function of the seed.

mod names;

use std::collections::{BTreeSet, HashMap};

use market::ticker::Underlying;
use market::{Exchange, InstrumentKind, TradingCalendar};
use serde::Deserialize;
use time::Date;

use crate::rng::Rng;

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
    /// Typical number of trades per day.
    pub trades_per_day: u32,
    /// Daily volatility as a fraction of price.
    pub volatility: f64,
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

impl Universe {
    /// Builds the universe for `seed` at `size`; futures are the four VN30 contracts
    /// listed on `today` per the calendar.
    pub fn generate(
        seed: u64,
        size: UniverseSize,
        calendar: &TradingCalendar,
        today: Date,
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
                let big = shares >= 1_000;
                instruments.push(Instrument {
                    symbol: symbol.to_owned(),
                    name: name.to_owned(),
                    en_name: en.to_owned(),
                    exchange,
                    kind,
                    isin: isin(symbol, i),
                    listed_shares: shares * 1_000_000,
                    base_price: price,
                    trades_per_day: if big { 1_500 } else { 600 },
                    volatility: 0.018,
                    maturity: None,
                    underlying: None,
                });
            }
            for i in named.len().min(count)..count {
                let symbol = generated_symbol(&mut rng, &taken);
                taken.insert(symbol.clone());
                let (stem_vn, stem_en) =
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
                    trades_per_day: match exchange {
                        Exchange::Upcom => 10 + (liquid * liquid * 200.0) as u32,
                        Exchange::Hose | Exchange::Hnx | Exchange::HnxDeriv => {
                            40 + (liquid * liquid * 500.0) as u32
                        }
                    },
                    volatility: 0.012 + rng.unit() * 0.02,
                    maturity: None,
                    underlying: None,
                    symbol,
                });
            }
        }
        if let Some(contracts) = calendar.listed_contracts(Underlying::Vn30, today) {
            for (i, c) in contracts.iter().enumerate() {
                let Ok(symbol) = c.legacy_code() else {
                    continue;
                };
                instruments.push(Instrument {
                    name: format!("Hợp đồng tương lai chỉ số VN30 {:02}/{}", c.month, c.year),
                    en_name: format!("VN30 Index Futures {:02}/{}", c.month, c.year),
                    exchange: Exchange::HnxDeriv,
                    kind: InstrumentKind::IndexFuture,
                    isin: isin(&symbol, i),
                    listed_shares: 0,
                    base_price: 13_200,
                    trades_per_day: if i == 0 { 3_000 } else { 300 },
                    volatility: 0.012,
                    maturity: calendar.last_trading_day(c),
                    underlying: Some("VN30".to_owned()),
                    symbol,
                });
            }
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
