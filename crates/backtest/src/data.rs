//! The bars a backtest reads: from CSV (what `qts export` and the historical service's
//! `/v1/bars?format=csv` write, or `time,open,high,low,close,volume` per symbol), from any
//! source the caller converts ([`BarsBuilder::push`]), or generated ([`synthetic`]). Held
//! compactly (one [`Row`] of 56 bytes per bar, symbols interned) in time order, checked: a bad
//! row is an error naming its file and line, never skipped.

use std::collections::BTreeMap;
use std::io::BufRead;

use market::bars::{vn_date, vn_midnight};
use market::{Exchange, Symbol};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::Error;

/// One bar, its symbol by index into [`Bars::symbols`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Symbol index.
    pub sym: u32,
    /// Length in seconds (86,400 for a day).
    pub seconds: u32,
    /// Start, Unix seconds.
    pub start: i64,
    /// Open, VND.
    pub open: i64,
    /// High.
    pub high: i64,
    /// Low.
    pub low: i64,
    /// Close.
    pub close: i64,
    /// Volume, shares.
    pub volume: u64,
}

/// A symbol and where it trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// Ticker.
    pub symbol: Symbol,
    /// Exchange.
    pub exchange: Exchange,
}

/// Bars of many symbols, ordered by start then symbol, one resolution.
#[derive(Debug, Clone, Default)]
pub struct Bars {
    symbols: Vec<Listed>,
    rows: Vec<Row>,
}

impl Bars {
    /// The symbols, by index.
    pub fn symbols(&self) -> &[Listed] {
        &self.symbols
    }

    /// Every bar, by start then symbol.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The bars' length in seconds (0 when empty).
    pub fn seconds(&self) -> u32 {
        self.rows.first().map_or(0, |r| r.seconds)
    }

    /// The first and last trading day.
    pub fn span(&self) -> Option<(Date, Date)> {
        Some((
            day_of(self.rows.first()?.start),
            day_of(self.rows.last()?.start),
        ))
    }

    /// Only the bars starting on `from ..= to` (trading days, Vietnam time).
    pub fn between(&self, from: Option<Date>, to: Option<Date>) -> Bars {
        let lo = from.map_or(i64::MIN, |d| vn_midnight(d).unix_timestamp());
        let hi = to
            .and_then(|d| d.next_day())
            .map_or(i64::MAX, |d| vn_midnight(d).unix_timestamp());
        Bars {
            symbols: self.symbols.clone(),
            rows: self
                .rows
                .iter()
                .filter(|r| r.start >= lo && r.start < hi)
                .copied()
                .collect(),
        }
    }
}

impl Bars {
    /// The bars of trading days `from ..= to` plus the `warm` bar starts before `from` (to warm
    /// indicators up).
    pub fn window(&self, warm: usize, from: Date, to: Date) -> Bars {
        let lo = vn_midnight(from).unix_timestamp();
        let hi = to
            .next_day()
            .map_or(i64::MAX, |d| vn_midnight(d).unix_timestamp());
        let first = self.rows.partition_point(|r| r.start < lo);
        // Step back over whole groups of bars with the same start, `warm` of them.
        let mut begin = first;
        let mut groups = 0;
        while begin > 0 {
            let s = self.rows[begin - 1].start;
            let new_group = begin == first || self.rows[begin].start != s;
            if new_group {
                groups += 1;
                if groups > warm {
                    break;
                }
            }
            begin -= 1;
        }
        let end = self.rows.partition_point(|r| r.start < hi);
        Bars {
            symbols: self.symbols.clone(),
            rows: self.rows[begin..end.max(begin)].to_vec(),
        }
    }

    /// One-minute bars rolled up into `resolution` by the TA service's own roll-up (buckets on
    /// the exchange's sessions: none spans the lunch break or two days).
    pub fn rollup(
        &self,
        resolution: market::bars::Resolution,
        calendar: &market::TradingCalendar,
    ) -> Result<Bars, Error> {
        if resolution.seconds() == self.seconds() || self.is_empty() {
            return Ok(self.clone());
        }
        if self.seconds() != 60 {
            return Err(Error::Data(format!(
                "bars of {} s cannot be rolled up into {resolution}: only one-minute bars can",
                self.seconds()
            )));
        }
        let (first, _) = self.span().unwrap_or((Date::MIN, Date::MIN));
        let shape = market::bars::DayShape::hose(calendar, first);
        let mut rollups: Vec<(ta::domain::Rollup, Option<Date>)> = self
            .symbols
            .iter()
            .map(|_| (ta::domain::Rollup::new(resolution, shape.clone()), None))
            .collect();
        let mut rows = Vec::with_capacity(self.rows.len() / 4);
        let mut emit = |sym: u32, b: ta::domain::Bar| {
            rows.push(Row {
                sym,
                seconds: resolution.seconds(),
                start: b.start.unix_timestamp(),
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
            });
        };
        for r in &self.rows {
            let (rollup, day) = &mut rollups[r.sym as usize];
            let today = day_of(r.start);
            if let Some(d) = *day
                && d != today
                && let Some(b) = rollup.close_day(vn_midnight(d) + time::Duration::hours(23))
            {
                emit(r.sym, b);
            }
            *day = Some(today);
            let minute = ta::domain::Bar {
                symbol: String::new(),
                start: OffsetDateTime::from_unix_timestamp(r.start)
                    .map_err(|e| Error::Data(e.to_string()))?,
                seconds: 60,
                open: r.open,
                high: r.high,
                low: r.low,
                close: r.close,
                volume: r.volume,
                trades: 0,
            };
            for b in rollup.push(&minute) {
                emit(r.sym, b);
            }
        }
        for (sym, (rollup, day)) in rollups.iter_mut().enumerate() {
            if let Some(d) = *day
                && let Some(b) = rollup.close_day(vn_midnight(d) + time::Duration::hours(23))
            {
                emit(sym as u32, b);
            }
        }
        rows.sort_by_key(|r| (r.start, r.sym));
        Ok(Bars {
            symbols: self.symbols.clone(),
            rows,
        })
    }

    /// The distinct trading days, in order.
    pub fn days(&self) -> Vec<Date> {
        let mut out: Vec<Date> = Vec::new();
        for r in &self.rows {
            let d = day_of(r.start);
            if out.last() != Some(&d) {
                out.push(d);
            }
        }
        out
    }
}

/// The trading day (Vietnam time) of a Unix time.
pub fn day_of(unix: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix).map_or(Date::MIN, vn_date)
}

/// Collects bars from any number of sources, then checks and orders them.
#[derive(Debug, Default)]
pub struct BarsBuilder {
    index: BTreeMap<Symbol, u32>,
    symbols: Vec<Listed>,
    rows: Vec<Row>,
}

impl BarsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one bar; `at` names it in errors (`file:line`). Prices must be positive with
    /// `low <= open, close <= high`.
    #[expect(clippy::too_many_arguments, reason = "the columns of one bar")]
    pub fn push(
        &mut self,
        at: &str,
        symbol: Symbol,
        exchange: Exchange,
        start: OffsetDateTime,
        seconds: u32,
        [open, high, low, close]: [i64; 4],
        volume: u64,
    ) -> Result<(), Error> {
        let bad = |why: String| Error::Data(format!("{at}: {why}"));
        if seconds == 0 || seconds > 86_400 {
            return Err(bad(format!("bar length {seconds} s: 1 to 86400")));
        }
        if low <= 0 || open <= 0 || close <= 0 {
            return Err(bad(format!(
                "prices must be positive (open {open}, low {low}, close {close})"
            )));
        }
        if !(low <= open && low <= close && high >= open && high >= close) {
            return Err(bad(format!(
                "low {low} / high {high} do not contain open {open} and close {close}"
            )));
        }
        let sym = match self.index.get(&symbol) {
            Some(i) => *i,
            None => {
                let i = u32::try_from(self.symbols.len())
                    .map_err(|_| bad("too many symbols".to_owned()))?;
                self.index.insert(symbol, i);
                self.symbols.push(Listed { symbol, exchange });
                i
            }
        };
        self.rows.push(Row {
            sym,
            seconds,
            start: start.unix_timestamp(),
            open,
            high,
            low,
            close,
            volume,
        });
        Ok(())
    }

    /// Reads CSV with a header: `open,high,low,close,volume`, a start column (`time` or
    /// `start`: RFC 3339, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]` in Vietnam time), and
    /// optionally `symbol` (else `symbol` must be given), `seconds` (else `seconds`) and
    /// `exchange` (else `exchange`). Other columns are ignored.
    pub fn read_csv(
        &mut self,
        name: &str,
        input: impl BufRead,
        symbol: Option<Symbol>,
        exchange: Exchange,
        seconds: u32,
    ) -> Result<usize, Error> {
        let mut lines = input.lines();
        let header = match lines.next() {
            Some(h) => h.map_err(|e| Error::Data(format!("{name}: {e}")))?,
            None => return Err(Error::Data(format!("{name}: empty, no header"))),
        };
        let cols: Vec<String> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        let find = |n: &str| cols.iter().position(|c| c == n);
        let need = |n: &str| {
            find(n).ok_or_else(|| {
                Error::Data(format!(
                    "{name}:1: no {n:?} column (header {header:?}; wanted time,open,high,low,close,volume)"
                ))
            })
        };
        let time_col = find("time")
            .or_else(|| find("start"))
            .ok_or_else(|| Error::Data(format!("{name}:1: no \"time\" or \"start\" column")))?;
        let [o, h, l, c, v] = [
            need("open")?,
            need("high")?,
            need("low")?,
            need("close")?,
            need("volume")?,
        ];
        let (sym_col, sec_col, exch_col) = (find("symbol"), find("seconds"), find("exchange"));
        if sym_col.is_none() && symbol.is_none() {
            return Err(Error::Data(format!(
                "{name}:1: no \"symbol\" column and no symbol given for the file"
            )));
        }
        let mut n = 0;
        for (i, line) in lines.enumerate() {
            let at = format!("{name}:{}", i + 2);
            let line = line.map_err(|e| Error::Data(format!("{at}: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let field = |k: usize, what: &str| {
                fields
                    .get(k)
                    .copied()
                    .ok_or_else(|| Error::Data(format!("{at}: missing {what} (line {line:?})")))
            };
            let int = |k: usize, what: &str| -> Result<i64, Error> {
                let f = field(k, what)?;
                f.parse::<i64>()
                    .or_else(|_| {
                        f.parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite() && x.fract() == 0.0)
                            .map(|x| x as i64)
                            .ok_or(())
                    })
                    .map_err(|()| Error::Data(format!("{at}: {what} {f:?} is not a whole number")))
            };
            let sym = match sym_col {
                Some(k) => Symbol::parse(field(k, "symbol")?)
                    .map_err(|e| Error::Data(format!("{at}: {e}")))?,
                None => symbol.ok_or_else(|| Error::Data(format!("{at}: no symbol")))?,
            };
            let exch = match exch_col {
                Some(k) => crate::config::parse_exchange(field(k, "exchange")?)
                    .map_err(|e| Error::Data(format!("{at}: {e}")))?,
                None => exchange,
            };
            let secs = match sec_col {
                Some(k) => u32::try_from(int(k, "seconds")?)
                    .map_err(|_| Error::Data(format!("{at}: seconds out of range")))?,
                None => seconds,
            };
            let start = parse_time(field(time_col, "time")?).ok_or_else(|| {
                Error::Data(format!(
                    "{at}: time {:?}: RFC 3339, YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]",
                    fields.get(time_col).copied().unwrap_or_default()
                ))
            })?;
            let volume = u64::try_from(int(v, "volume")?)
                .map_err(|_| Error::Data(format!("{at}: volume must not be negative")))?;
            self.push(
                &at,
                sym,
                exch,
                start,
                secs,
                [
                    int(o, "open")?,
                    int(h, "high")?,
                    int(l, "low")?,
                    int(c, "close")?,
                ],
                volume,
            )?;
            n += 1;
        }
        Ok(n)
    }

    /// Orders the bars (start, then symbol), drops exact repeats and checks that one
    /// resolution is used and no bar of a symbol is given twice with other numbers.
    pub fn finish(mut self) -> Result<Bars, Error> {
        let symbols = &self.symbols;
        self.rows.sort_by(|a, b| {
            (a.start, symbols[a.sym as usize].symbol, a.seconds).cmp(&(
                b.start,
                symbols[b.sym as usize].symbol,
                b.seconds,
            ))
        });
        self.rows.dedup();
        if let Some(first) = self.rows.first()
            && let Some(other) = self.rows.iter().find(|r| r.seconds != first.seconds)
        {
            return Err(Error::Data(format!(
                "bars of {} s and of {} s are mixed: a backtest runs on one resolution",
                first.seconds, other.seconds
            )));
        }
        if let Some(w) = self
            .rows
            .windows(2)
            .find(|w| w[0].start == w[1].start && w[0].sym == w[1].sym)
        {
            return Err(Error::Data(format!(
                "{} has two different bars starting at {}",
                symbols[w[0].sym as usize].symbol,
                OffsetDateTime::from_unix_timestamp(w[0].start)
                    .map_or_else(|_| w[0].start.to_string(), |t| t.to_string())
            )));
        }
        // Renumber symbols in ticker order, so the same bars give the same run whatever order
        // the sources came in.
        let mut order: Vec<u32> = (0..self.symbols.len() as u32).collect();
        order.sort_by_key(|i| self.symbols[*i as usize].symbol);
        let mut new_index = vec![0u32; order.len()];
        for (new, old) in order.iter().enumerate() {
            new_index[*old as usize] = new as u32;
        }
        let listed = order.iter().map(|i| self.symbols[*i as usize]).collect();
        for r in &mut self.rows {
            r.sym = new_index[r.sym as usize];
        }
        Ok(Bars {
            symbols: listed,
            rows: self.rows,
        })
    }
}

/// RFC 3339, `YYYY-MM-DD` (midnight in Vietnam) or `YYYY-MM-DD HH:MM[:SS]` (Vietnam time).
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    if let Ok(d) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
        return Some(vn_midnight(d));
    }
    let local = PrimitiveDateTime::parse(
        text,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            text,
            format_description!("[year]-[month]-[day] [hour]:[minute]"),
        )
    })
    .ok()?;
    Some(local.assume_offset(market::calendar::VN_OFFSET))
}

/// SplitMix64: a seeded generator whose sequence never changes with a crate's version (what
/// makes a seed reproduce a run byte for byte).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately standard normal (sum of 12 uniforms − 6).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

/// A generated market for benchmarks and demos: `symbols` HOSE stocks (`AAA`, `AAB`, ...)
/// over `days` trading days from `first` (the trading calendar's), each a seeded random walk
/// (daily volatility 2%, slight drift) on the exchange's ticks within its ±7% band, with
/// consistent OHLC and volume. With `reversal` > 0 a known signal is planted for testing the
/// prediction pipeline: each day's return gets `−reversal ×` the symbol's previous
/// close-to-close return (0: a pure random walk). The same arguments give the same bars.
pub fn synthetic(
    symbols: usize,
    days: usize,
    first: Date,
    seed: u64,
    reversal: f64,
    rules: &market::MarketRules,
    calendar: &market::TradingCalendar,
) -> Result<Bars, Error> {
    if !(0.0..=0.5).contains(&reversal) {
        return Err(Error::Data(format!(
            "synthetic: the planted reversal must be 0 to 0.5, not {reversal}"
        )));
    }
    if symbols == 0 || symbols > 26 * 26 * 26 {
        return Err(Error::Data(format!(
            "synthetic: 1 to 17576 symbols, not {symbols}"
        )));
    }
    let mut dates = Vec::with_capacity(days);
    let mut d = calendar
        .this_or_next_trading_day(first)
        .ok_or_else(|| Error::Data(format!("synthetic: no trading day from {first}")))?;
    while dates.len() < days {
        dates.push(d);
        d = calendar
            .next_trading_day(d)
            .ok_or_else(|| Error::Data(format!("synthetic: no trading day after {d}")))?;
    }
    let mut listed = Vec::with_capacity(symbols);
    for i in 0..symbols {
        let b = |k: usize| (b'A' + (k % 26) as u8) as char;
        let name: String = [b(i / 676), b(i / 26), b(i)].iter().collect();
        listed.push(Listed {
            symbol: Symbol::parse(&name).map_err(|e| Error::Data(e.to_string()))?,
            exchange: Exchange::Hose,
        });
    }
    let round = |units: i64, up: bool| {
        rules
            .ticks
            .round_units(
                Exchange::Hose,
                market::InstrumentKind::Stock,
                market::Board::Main,
                units,
                if up {
                    market::tick::Rounding::Up
                } else {
                    market::tick::Rounding::Down
                },
            )
            .map_or(units, |p| p.units())
    };
    let mut rng = Rng::new(seed);
    let mut close: Vec<i64> = (0..symbols)
        .map(|_| round(5_000 + (rng.unit() * 95_000.0) as i64, false))
        .collect();
    let mut rows = Vec::with_capacity(symbols * days);
    let mut last = vec![0.0; symbols];
    for day in &dates {
        let start = vn_midnight(*day).unix_timestamp();
        for (sym, c) in close.iter_mut().enumerate() {
            let reference = *c;
            let floor = round(reference * 93 / 100, true);
            let ceiling = round(reference * 107 / 100, false);
            let clamp = |p: f64| round((p as i64).clamp(floor, ceiling), false).max(floor);
            let open = clamp(reference as f64 * (1.0 + 0.006 * rng.normal()));
            let drift = 0.0004 - reversal * last[sym];
            let next = clamp(reference as f64 * (1.0 + drift + 0.02 * rng.normal()));
            last[sym] = next as f64 / reference as f64 - 1.0;
            let high = round(
                ((open.max(next) as f64) * (1.0 + 0.008 * rng.unit())) as i64,
                false,
            )
            .clamp(open.max(next), ceiling);
            let low = round(
                ((open.min(next) as f64) * (1.0 - 0.008 * rng.unit())) as i64,
                true,
            )
            .clamp(floor, open.min(next));
            let volume = (10_000.0 + rng.unit() * 2_000_000.0) as u64 / 100 * 100;
            rows.push(Row {
                sym: sym as u32,
                seconds: 86_400,
                start,
                open,
                high,
                low,
                close: next,
                volume,
            });
            *c = next;
        }
    }
    Ok(Bars {
        symbols: listed,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_export_and_per_symbol_files_and_names_bad_lines() {
        let export = "symbol,start,seconds,open,high,low,close,volume,trades\n\
                      FPT,2025-06-03T02:00:00Z,86400,100000,101000,99500,100500,12300,5\n\
                      FPT,2025-06-02T02:00:00Z,86400,99000,100500,98800,100000,9000,4\n";
        let mut b = BarsBuilder::new();
        let n = b
            .read_csv("e.csv", export.as_bytes(), None, Exchange::Hose, 86_400)
            .unwrap();
        assert_eq!(n, 2);
        let plain = "time,open,high,low,close,volume\n2025-06-02,20000,20500,19800,20100,5000\n";
        b.read_csv(
            "SHS.csv",
            plain.as_bytes(),
            Some(Symbol::parse("SHS").unwrap()),
            Exchange::Hnx,
            86_400,
        )
        .unwrap();
        let bars = b.finish().unwrap();
        assert_eq!(bars.len(), 3);
        assert_eq!(bars.symbols()[1].symbol.as_str(), "SHS");
        assert_eq!(bars.symbols()[1].exchange, Exchange::Hnx);
        assert!(bars.rows().windows(2).all(|w| w[0].start <= w[1].start));

        let bad = "time,open,high,low,close,volume\n2025-06-02,20000,20500,19800,20100,5000\n\
                   2025-06-03,20000,19000,19800,20100,5000\n";
        let e = BarsBuilder::new()
            .read_csv(
                "x.csv",
                bad.as_bytes(),
                Symbol::parse("X").ok(),
                Exchange::Hose,
                86_400,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv:3") && e.contains("high 19000"), "{e}");
        let e = BarsBuilder::new()
            .read_csv(
                "y.csv",
                "time,open\n".as_bytes(),
                None,
                Exchange::Hose,
                86_400,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("y.csv:1") && e.contains("high"), "{e}");
        let e = BarsBuilder::new()
            .read_csv(
                "z.csv",
                "time,open,high,low,close,volume\nyesterday,1,1,1,1,1\n".as_bytes(),
                Symbol::parse("Z").ok(),
                Exchange::Hose,
                86_400,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("z.csv:2") && e.contains("yesterday"), "{e}");
    }

    #[test]
    fn a_planted_reversal_makes_returns_revert_and_is_bounded() {
        let rules = market::MarketRules::default();
        let cal = rules.calendar().unwrap();
        let first = time::macros::date!(2024 - 01 - 02);
        // The lag-1 correlation of daily returns, pooled over symbols.
        let lag1 = |reversal: f64| {
            let bars = synthetic(40, 400, first, 3, reversal, &rules, &cal).unwrap();
            let mut closes: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
            for r in bars.rows() {
                closes.entry(r.sym).or_default().push(r.close as f64);
            }
            let (mut xy, mut xx) = (0.0, 0.0);
            for c in closes.values() {
                let ret: Vec<f64> = c.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
                for w in ret.windows(2) {
                    xy += w[0] * w[1];
                    xx += w[0] * w[0];
                }
            }
            xy / xx
        };
        let (walk, planted) = (lag1(0.0), lag1(0.3));
        assert!(walk.abs() < 0.05, "random walk: {walk}");
        assert!(planted < -0.2, "planted 0.3: {planted}");
        for bad in [-0.1, 0.6, f64::NAN] {
            assert!(synthetic(5, 10, first, 3, bad, &rules, &cal).is_err());
        }
    }

    #[test]
    fn a_synthetic_market_is_reproducible_on_tick_and_in_band() {
        let rules = market::MarketRules::default();
        let cal = rules.calendar().unwrap();
        let first = time::macros::date!(2024 - 01 - 02);
        let a = synthetic(30, 60, first, 7, 0.0, &rules, &cal).unwrap();
        let b = synthetic(30, 60, first, 7, 0.0, &rules, &cal).unwrap();
        assert_eq!(a.rows(), b.rows());
        assert_eq!(a.len(), 30 * 60);
        let mut prev: BTreeMap<u32, i64> = BTreeMap::new();
        for r in a.rows() {
            assert!(
                r.low <= r.open.min(r.close) && r.high >= r.open.max(r.close),
                "{r:?}"
            );
            for p in [r.open, r.high, r.low, r.close] {
                let price = market::Price::new(p).unwrap();
                assert!(
                    rules.is_on_tick(
                        Exchange::Hose,
                        market::InstrumentKind::Stock,
                        market::Board::Main,
                        price
                    ),
                    "{p}"
                );
            }
            if let Some(c) = prev.insert(r.sym, r.close) {
                assert!(
                    r.high <= c * 107 / 100 && r.low >= c * 93 / 100,
                    "{r:?} after {c}"
                );
            }
        }
    }
}
