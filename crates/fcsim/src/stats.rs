//! Statistics of the simulated market as a client sees it: a simulator is started in this
//! process, its FC Data REST API is served on a free local port, and
//! `fastconnect::DataClient` fetches daily prices (`DailyStockPrice`), the index
//! (`DailyIndex`), 1-minute bars (`IntradayOhlc`) and index members (`IndexComponents`)
//! exactly as a strategy would. From those, [`measure`] computes the stylized facts of
//! equity returns (fat tails, volatility clustering, no linear predictability,
//! co-movement, limit days, liquidity by class, the intraday U-shape) and checks each
//! against the range real markets show ([`Report::facts`]). `qts sim stats` prints the
//! report; `docs/simulator.md` ("Market model") shows the figures next to the ranges.
//!
//! One figure is not read over REST: the odd-lot share (FC Data publishes odd lots only on
//! the hub's `OL` channel, whose messages are [`Generator::odd_lot_tape`]); it is read from
//! the generator. The put-through share is `DailyStockPrice.TotalDealVal`.

mod compute;
mod estimators;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use fastconnect::data::{
    DailyIndexQuery, DailyStockPriceQuery, IndexComponentsQuery, IntradayOhlcQuery,
};
use fastconnect::{DataClient, DataConfig, Decimal, HttpConfig};
use market::session::Phase;
use market::{Exchange, InstrumentKind};
use time::Date;
use tokio_util::sync::CancellationToken;

use crate::config::{DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, SimConfig};
use crate::sim::Simulator;
use crate::tape::Generator;
use crate::universe::{Liquidity, UniverseSize};

pub use report::{Fact, HalfHour, IntradayShape, LimitRow, LiquidityRow, Report, Returns};

/// Why the statistics could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan cannot be measured (no days, unknown symbols, ...).
    #[error("{0}")]
    Plan(String),
    /// The simulator did not start.
    #[error("start the simulator")]
    Simulator(#[from] crate::sim::Error),
    /// The local FC Data port could not be bound.
    #[error("bind a local port for FC Data")]
    Io(#[from] std::io::Error),
    /// An FC Data request failed.
    #[error("FC Data {what}")]
    Data {
        /// Which request.
        what: String,
        /// Cause.
        #[source]
        source: fastconnect::Error,
    },
}

/// Which stocks the return statistics are computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The members of an index (`VN30`), compared with that index.
    Index(String),
    /// These symbols, compared with VN30.
    Symbols(Vec<String>),
}

impl FromStr for Selection {
    type Err = Error;

    /// `VN30` (an index code) or `SSI,FPT,HPG` (symbols; two or more).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(Error::Plan("--symbols is empty".to_owned()));
        }
        if s.contains(',') {
            let list: Vec<String> = s
                .split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect();
            if list.len() < 2 {
                return Err(Error::Plan(
                    "--symbols needs an index code or two or more symbols".to_owned(),
                ));
            }
            return Ok(Selection::Symbols(list));
        }
        Ok(Selection::Index(s))
    }
}

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Seed of the simulated market.
    pub seed: u64,
    /// Trading days of daily history, ending the day before the simulator's start.
    pub days: u32,
    /// Stocks of the return statistics.
    pub symbols: Selection,
    /// The simulated universe.
    pub universe: UniverseSize,
    /// Stocks per exchange and liquidity class for the limit-day and liquidity statistics
    /// (spread evenly over the universe's stocks of that class).
    pub sample: usize,
    /// Trading days of 1-minute bars (at most 30 calendar days: SSI's range limit).
    pub intraday_days: u32,
}

impl Plan {
    /// A year (250 trading days) of the VN30 constituents in the demo universe, 12 stocks
    /// per exchange and class, 15 days of 1-minute bars.
    pub fn vn30_year(seed: u64) -> Self {
        Self {
            seed,
            days: 250,
            symbols: Selection::Index("VN30".to_owned()),
            universe: UniverseSize::default(),
            sample: 12,
            intraday_days: 15,
        }
    }
}

/// One stock-day as `DailyStockPrice` shows it (prices in VND).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DailyRow {
    pub(crate) date: Date,
    pub(crate) ceiling: f64,
    pub(crate) floor: f64,
    pub(crate) close: f64,
    pub(crate) volume: u64,
    pub(crate) value: f64,
    /// Put-through (negotiated) value, VND.
    pub(crate) deal_value: f64,
}

/// One 1-minute bar as `IntradayOhlc` shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MinuteBar {
    pub(crate) date: Date,
    /// Start of the minute, seconds since local midnight.
    pub(crate) secs: u32,
    pub(crate) close: f64,
    pub(crate) volume: u64,
}

/// When a board trades continuously and when its auctions print (`market`'s timetable).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SessionShape {
    continuous: Vec<(u32, u32)>,
    opening_print: Option<u32>,
    closing_print: Option<u32>,
}

impl SessionShape {
    fn minute(secs: u32) -> u32 {
        secs / 60 * 60
    }

    /// Whether the bar starting at `secs` holds only continuous trades.
    pub(crate) fn is_continuous_minute(&self, secs: u32) -> bool {
        let auction = [self.opening_print, self.closing_print]
            .iter()
            .flatten()
            .any(|p| Self::minute(*p) == secs);
        !auction
            && self
                .continuous
                .iter()
                .any(|(a, b)| (*a..*b).contains(&secs))
    }

    /// Whether the bar starting at `secs` holds the closing auction's print.
    pub(crate) fn is_closing_auction_minute(&self, secs: u32) -> bool {
        self.closing_print.is_some_and(|p| Self::minute(p) == secs)
    }

    /// Whether `secs` falls in the break between the continuous sessions.
    pub(crate) fn is_break(&self, secs: u32) -> bool {
        self.continuous
            .windows(2)
            .any(|w| matches!(w, [a, b] if (a.1..b.0).contains(&secs)))
    }

    /// Whether `secs` is in the first or last 30 minutes of continuous trading.
    pub(crate) fn is_session_edge(&self, secs: u32) -> bool {
        let first = self.continuous.first().map(|s| s.0);
        let last = self.continuous.last().map(|s| s.1);
        first.is_some_and(|a| secs < a + 1_800) || last.is_some_and(|b| secs + 1_800 >= b)
    }
}

/// One symbol's data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) symbol: String,
    /// `HOSE`, `HNX` or `UPCOM`.
    pub(crate) exchange: &'static str,
    pub(crate) liquidity: Liquidity,
    pub(crate) shape: SessionShape,
    pub(crate) daily: Vec<DailyRow>,
    pub(crate) minutes: Vec<MinuteBar>,
}

/// Everything fetched for one plan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) seed: u64,
    /// The measured trading days, ascending.
    pub(crate) dates: Vec<Date>,
    pub(crate) index_code: String,
    /// The index's daily closes.
    pub(crate) index: Vec<(Date, f64)>,
    /// The index used to tell turbulent from calm days (the same index).
    pub(crate) market: Vec<(Date, f64)>,
    pub(crate) selected: Vec<Series>,
    pub(crate) sampled: Vec<Series>,
    pub(crate) odd_lot_volume: u64,
    pub(crate) round_lot_volume: u64,
    /// Value of the selected symbols' put-through deals over the measured days, VND.
    pub(crate) put_through_value: f64,
}

/// Starts a simulator for `plan` in this process, serves its FC Data on a free local port,
/// fetches the plan's data with `fastconnect::DataClient` and computes the [`Report`].
pub async fn measure(plan: &Plan) -> Result<Report, Error> {
    if plan.days < 30 {
        return Err(Error::Plan(format!(
            "--days {} is too short: at least 30 trading days",
            plan.days
        )));
    }
    let config = SimConfig {
        seed: plan.seed,
        universe: plan.universe,
        history_days: plan.days + 1,
        data_port: 0,
        trading_port: 0,
        ..SimConfig::demo()
    };
    let sim = Simulator::new(config)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let cancel = CancellationToken::new();
    let server = tokio::spawn(crate::server::serve(sim.clone(), listener, cancel.clone()));
    let sample = collect(&sim, &url, plan).await;
    cancel.cancel();
    // The server only stops serving; its own result adds nothing to ours.
    let _ = server.await;
    Ok(compute::report(&sample?))
}

fn data_error(what: impl Into<String>) -> impl FnOnce(fastconnect::Error) -> Error {
    let what = what.into();
    move |source| Error::Data { what, source }
}

fn number(d: Option<Decimal>) -> f64 {
    d.map_or(0.0, |d| d.to_f64_lossy())
}

fn exchange_name(e: Exchange) -> &'static str {
    match e {
        Exchange::Hose => "HOSE",
        Exchange::Hnx => "HNX",
        Exchange::Upcom => "UPCOM",
        Exchange::HnxDeriv => "DER",
    }
}

/// Up to `n` of `items`, spread evenly.
fn spread_pick<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n)
        .filter_map(|k| items.get(k * items.len() / n).copied())
        .collect()
}

fn session_shape(g: &Generator, i: usize, date: Date) -> SessionShape {
    let Some(inst) = g.universe().instrument(i) else {
        return SessionShape::default();
    };
    let Some(table) = g
        .calendar()
        .sessions()
        .timetable(&g.session_key(inst), date)
    else {
        return SessionShape::default();
    };
    let mut shape = SessionShape::default();
    for s in &table.segments {
        match s.phase {
            Phase::Continuous => shape.continuous.push((s.start.seconds(), s.end.seconds())),
            Phase::OpeningAuction => shape.opening_print = Some(s.end.seconds()),
            Phase::ClosingAuction => shape.closing_print = Some(s.end.seconds()),
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
    shape
}

async fn fetch_series(
    client: DataClient,
    symbol: String,
    (from, to, intraday_from): (Date, Date, Date),
) -> Result<(String, Vec<DailyRow>, Vec<MinuteBar>), Error> {
    let rows = client
        .all(&DailyStockPriceQuery {
            symbol: Some(symbol.clone()),
            market: None,
            from,
            to,
        })
        .await
        .map_err(data_error(format!("DailyStockPrice {symbol}")))?;
    let mut daily: Vec<DailyRow> = rows
        .iter()
        .map(|r| DailyRow {
            date: r.trading_date,
            ceiling: number(r.ceiling_price),
            floor: number(r.floor_price),
            close: number(r.close_price),
            volume: r.total_match_vol.unwrap_or(0).max(0).unsigned_abs(),
            value: number(r.total_match_val),
            deal_value: number(r.total_deal_val),
        })
        .collect();
    daily.sort_by_key(|r| r.date);
    let bars = client
        .all(&IntradayOhlcQuery::new(&symbol, intraday_from, to))
        .await
        .map_err(data_error(format!("IntradayOhlc {symbol}")))?;
    let minutes = bars
        .iter()
        .map(|b| MinuteBar {
            date: b.trading_date,
            secs: b.time.map_or(0, |t| {
                u32::from(t.hour()) * 3600 + u32::from(t.minute()) * 60 + u32::from(t.second())
            }),
            close: b.close.to_f64_lossy(),
            volume: b.volume.max(0).unsigned_abs(),
        })
        .collect();
    Ok((symbol, daily, minutes))
}

async fn fetch_index(
    client: &DataClient,
    code: &str,
    from: Date,
    to: Date,
) -> Result<Vec<(Date, f64)>, Error> {
    let rows = client
        .all(&DailyIndexQuery::new(code, from, to))
        .await
        .map_err(data_error(format!("DailyIndex {code}")))?;
    let mut out: Vec<(Date, f64)> = rows
        .iter()
        .map(|r| (r.trading_date, r.index_value.to_f64_lossy()))
        .collect();
    out.sort_by_key(|x| x.0);
    Ok(out)
}

/// Days of odd-lot boards read (the share is stable from day to day).
const ODD_LOT_DAYS: usize = 3;

/// Requests in flight at once (the simulator answers on the same two cores).
const IN_FLIGHT: usize = 4;

async fn collect(sim: &Simulator, url: &str, plan: &Plan) -> Result<Sample, Error> {
    let g = sim.generator();
    let today = sim.now().date();
    let t0 = g.days().partition_point(|d| *d < today);
    let first = t0.saturating_sub(plan.days as usize);
    let dates: Vec<Date> = g.days().get(first..t0).unwrap_or_default().to_vec();
    let (Some(&from), Some(&to)) = (dates.first(), dates.last()) else {
        return Err(Error::Plan("no trading day before the start".to_owned()));
    };
    let intraday_from = dates
        .len()
        .checked_sub(plan.intraday_days.max(1) as usize)
        .and_then(|k| dates.get(k).copied())
        .unwrap_or(from)
        .max(Generator::shift(to, -29));
    let mut config = DataConfig::new(
        DEMO_DATA_CONSUMER_ID,
        DEMO_DATA_CONSUMER_SECRET.to_owned().into(),
    );
    config.url = url.to_owned();
    config.hub_url = url.to_owned();
    config.http = HttpConfig {
        timeout_ms: 600_000,
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    };
    let client = DataClient::new(config).map_err(data_error("client"))?;

    let (index_code, selected): (String, Vec<String>) = match &plan.symbols {
        Selection::Index(code) => {
            let members = client
                .all(&IndexComponentsQuery {
                    index_code: code.clone(),
                })
                .await
                .map_err(|e| {
                    Error::Plan(format!(
                        "{code} is not an index of the simulated market ({e}); give an index \
                         code such as VN30, VN100, HNX30, or two or more symbols separated by commas"
                    ))
                })?;
            let symbols: Vec<String> = members
                .iter()
                .flat_map(|m| &m.index_component)
                .map(|c| c.stock_symbol.clone())
                .collect();
            (code.clone(), symbols)
        }
        Selection::Symbols(list) => ("VN30".to_owned(), list.clone()),
    };
    if selected.len() < 2 {
        return Err(Error::Plan(format!(
            "{index_code} has {} members in this universe: at least 2 are needed",
            selected.len()
        )));
    }
    for s in &selected {
        if g.universe().find(s).is_none() {
            return Err(Error::Plan(format!(
                "{s} is not a symbol of the simulated market"
            )));
        }
    }

    // The limit-day and liquidity sample: `sample` stocks of each exchange and class.
    let mut sampled: Vec<String> = Vec::new();
    for exchange in [Exchange::Hose, Exchange::Hnx, Exchange::Upcom] {
        for class in Liquidity::ALL {
            let of_class: Vec<usize> = g
                .universe()
                .instruments()
                .iter()
                .enumerate()
                .filter(|(_, x)| {
                    x.exchange == exchange
                        && x.kind == InstrumentKind::Stock
                        && x.liquidity == class
                })
                .map(|(i, _)| i)
                .collect();
            for i in spread_pick(&of_class, plan.sample) {
                if let Some(x) = g.universe().instrument(i) {
                    sampled.push(x.symbol.clone());
                }
            }
        }
    }

    let wanted: BTreeSet<String> = selected.iter().chain(&sampled).cloned().collect();
    let mut fetched: BTreeMap<String, (Vec<DailyRow>, Vec<MinuteBar>)> = BTreeMap::new();
    let mut pending = wanted.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < IN_FLIGHT {
            let Some(symbol) = pending.next() else { break };
            running.spawn(fetch_series(
                client.clone(),
                symbol,
                (from, to, intraday_from),
            ));
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (symbol, daily, minutes) =
            done.map_err(|e| Error::Plan(format!("a fetch task stopped: {e}")))??;
        fetched.insert(symbol, (daily, minutes));
    }
    let index = fetch_index(&client, &index_code, from, to).await?;

    let series = |symbol: &String| -> Option<Series> {
        let i = g.universe().find(symbol)?;
        let x = g.universe().instrument(i)?;
        let (daily, minutes) = fetched.get(symbol)?.clone();
        Some(Series {
            symbol: symbol.clone(),
            exchange: exchange_name(x.exchange),
            liquidity: x.liquidity,
            shape: session_shape(g, i, to),
            daily,
            minutes,
        })
    };
    let selected_series: Vec<Series> = selected.iter().filter_map(series).collect();
    let sampled_series: Vec<Series> = sampled.iter().filter_map(series).collect();

    // Odd lots: the `OL` board of the selected symbols on the last few days.
    let (mut odd, mut round) = (0u64, 0u64);
    for s in &selected {
        let Some(i) = g.universe().find(s) else {
            continue;
        };
        for day in first.max(t0.saturating_sub(ODD_LOT_DAYS))..t0 {
            let Ok(tape) = g.tape(i, day) else { continue };
            round += tape.trades.iter().map(|t| t.volume).sum::<u64>();
            odd += g
                .odd_lot_tape(&tape)
                .updates
                .last()
                .map_or(0, |u| u.odd_volume);
        }
    }

    // Put-throughs: `DailyStockPrice.TotalDealVal` of the selected symbols.
    let put_through_value = selected_series
        .iter()
        .flat_map(|s| &s.daily)
        .map(|r| r.deal_value)
        .sum();

    Ok(Sample {
        seed: plan.seed,
        put_through_value,
        dates,
        index_code,
        market: index.clone(),
        index,
        selected: selected_series,
        sampled: sampled_series,
        odd_lot_volume: odd,
        round_lot_volume: round,
    })
}

#[cfg(test)]
mod tests;
