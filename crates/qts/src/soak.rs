//! `qts bench soak`: a simulated trading day of market data through the persisted embedded
//! bus, compressed into minutes, sampling the process's memory and the bus's disk use.
//!
//! The traffic (docs/performance.md, "embedded bus soak", derives it from the market-rules
//! reference's §10.2, market scale):
//! - ~1,600 symbols: 640 on HOSE (quotes with 3 price levels, as HOSE publishes) and 960 on
//!   HNX/UPCoM (10 levels). Activity is skewed like a real board: symbol `i` gets a share
//!   proportional to 1/(i+1).
//! - 10 million quotes and 1.1 million trades a day by default: every order event (the reference's
//!   planning figure is 5–10 million a day on HOSE) moves a book, and HOSE's ~1.1 billion
//!   shares a day at an assumed ~1,000 shares per match is ~1.1 million trades.
//! - spread over HOSE's 4 h 15 min of trading (09:00–11:30, 13:00–14:45) with the open
//!   (09:00–09:30) at 2.5×, 13:00–13:15 at 1.5× and the closing auction (14:30–14:45) at 2×
//!   the rate of the rest.
//! - payloads shaped like SSI FastConnect's X-QUOTE and X-TRADE messages, in protobuf, in the
//!   bus's envelope with a W3C `traceparent`, as the ingestion service would publish them.
//!
//! Producers (one per shard of symbols, so a symbol's events stay in order) publish on
//! schedule to `market.quotes.v1` and `market.trades.v1`; one consumer group member reads both, decodes
//! every payload and commits, as a service in `qts up` would. Every `sample_secs` the resident
//! memory of the process and the bus directory's size on disk are printed; the summary gives
//! their range after warm-up, which retention should keep flat.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use common::bus::embedded::{DiskOptions, EmbeddedBus};
use common::bus::{Envelope, EventBus, TopicSpec};

/// Seconds of HOSE trading in a day: 09:00–11:30 and 13:00–14:45.
pub const TRADING_SECONDS: f64 = 15_300.0;
const MORNING_SECONDS: f64 = 9_000.0;

/// Options of `qts bench soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Symbols traded (40% HOSE with 3-level quotes, the rest HNX/UPCoM with 10 levels).
    #[arg(long, default_value_t = 1600)]
    pub symbols: usize,
    /// Quote updates in a whole trading day.
    #[arg(long, default_value_t = 10_000_000)]
    pub quotes_per_day: u64,
    /// Trades in a whole trading day.
    #[arg(long, default_value_t = 1_100_000)]
    pub trades_per_day: u64,
    /// Simulated seconds per wall-clock second (60: the 4 h 15 min day in 4 min 15 s).
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Trading hours to simulate from 09:00 (at most 4.25, the whole day).
    #[arg(long, default_value_t = 4.25)]
    pub hours: f64,
    /// Partitions of the quote topic (the trade topic gets half).
    #[arg(long, default_value_t = 8)]
    pub partitions: i32,
    /// Producer tasks (each owns a shard of the symbols).
    #[arg(long, default_value_t = 8)]
    pub producers: usize,
    /// The consumer commits after this many events (1: after every event).
    #[arg(long, default_value_t = 1)]
    pub commit_every: u64,
    /// Wall-clock seconds between samples.
    #[arg(long, default_value_t = 10)]
    pub sample_secs: u64,
    /// Part of the simulated run counted as warm-up in the summary.
    #[arg(long, default_value_t = 0.3)]
    pub warmup: f64,
    /// Events kept in memory per partition (`bus.embedded.retention_per_partition`).
    #[arg(long, default_value_t = 100_000)]
    pub retention_per_partition: usize,
    /// Segment size in MiB (`bus.embedded.segment_mib`).
    #[arg(long, default_value_t = 4)]
    pub segment_mib: u64,
    /// Retention by size per partition in MiB (`bus.embedded.retention_mib_per_partition`);
    /// far below the default, so that every partition, the trade ones too (~80 MB a day
    /// each), reaches it early in the day and the disk use can be seen to stay flat.
    #[arg(long, default_value_t = 16)]
    pub retention_mib: u64,
    /// fsync interval in ms (`bus.embedded.fsync_interval_ms`).
    #[arg(long, default_value_t = 1000)]
    pub fsync_interval_ms: u64,
    /// Directory of the bus (default: a new directory under the system's temporary
    /// directory, removed at the end).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// One sample.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Since the start.
    pub wall: Duration,
    /// Simulated trading seconds since 09:00.
    pub session_secs: f64,
    /// Events published so far.
    pub published: u64,
    /// Events consumed so far.
    pub consumed: u64,
    /// Resident memory of the process.
    pub rss_bytes: u64,
    /// Space the bus directory takes on disk.
    pub disk_bytes: u64,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every sample, the last taken at the end.
    pub samples: Vec<Sample>,
    /// Quotes published.
    pub quotes: u64,
    /// Trades published.
    pub trades: u64,
    /// Events consumed (and committed).
    pub consumed: u64,
    /// Mean encoded envelope size (sampled every 64th event).
    pub mean_event_bytes: f64,
    /// Wall time.
    pub elapsed: Duration,
    /// Most the producers were behind schedule, in events.
    pub max_behind: u64,
}

/// A quote update shaped like FastConnect's X-QUOTE (prices in VND, volumes in shares).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Quote {
    /// Ticker.
    #[prost(string, tag = "1")]
    pub symbol: String,
    /// HOSE, HNX or UPCOM.
    #[prost(string, tag = "2")]
    pub exchange: String,
    /// dd/MM/yyyy.
    #[prost(string, tag = "3")]
    pub trading_date: String,
    /// HH:mm:ss.
    #[prost(string, tag = "4")]
    pub time: String,
    /// Best bids, best first.
    #[prost(int64, repeated, tag = "5")]
    pub bid_price: Vec<i64>,
    /// Volumes at the bids.
    #[prost(int64, repeated, tag = "6")]
    pub bid_vol: Vec<i64>,
    /// Best asks, best first.
    #[prost(int64, repeated, tag = "7")]
    pub ask_price: Vec<i64>,
    /// Volumes at the asks.
    #[prost(int64, repeated, tag = "8")]
    pub ask_vol: Vec<i64>,
    /// e.g. LO, ATO, ATC.
    #[prost(string, tag = "9")]
    pub trading_session: String,
}

impl prost::Name for Quote {
    const NAME: &'static str = "Quote";
    const PACKAGE: &'static str = "qts.bench.v1";
}

/// A trade shaped like FastConnect's X-TRADE (prices in VND, volumes in shares).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Trade {
    /// Ticker.
    #[prost(string, tag = "1")]
    pub symbol: String,
    /// HOSE, HNX or UPCOM.
    #[prost(string, tag = "2")]
    pub exchange: String,
    /// dd/MM/yyyy.
    #[prost(string, tag = "3")]
    pub trading_date: String,
    /// HH:mm:ss.
    #[prost(string, tag = "4")]
    pub time: String,
    /// ISIN.
    #[prost(string, tag = "5")]
    pub isin: String,
    /// Ceiling, floor, reference and average prices.
    #[prost(int64, tag = "6")]
    pub ceiling: i64,
    /// Floor price.
    #[prost(int64, tag = "7")]
    pub floor: i64,
    /// Reference price.
    #[prost(int64, tag = "8")]
    pub ref_price: i64,
    /// Average matched price.
    #[prost(int64, tag = "9")]
    pub avg_price: i64,
    /// Last matched price and volume.
    #[prost(int64, tag = "10")]
    pub last_price: i64,
    /// Last matched volume.
    #[prost(int64, tag = "11")]
    pub last_vol: i64,
    /// Matched value and volume of the day.
    #[prost(int64, tag = "12")]
    pub total_val: i64,
    /// Matched volume of the day.
    #[prost(int64, tag = "13")]
    pub total_vol: i64,
    /// Day's high.
    #[prost(int64, tag = "14")]
    pub highest: i64,
    /// Day's low.
    #[prost(int64, tag = "15")]
    pub lowest: i64,
    /// Change from the reference.
    #[prost(int64, tag = "16")]
    pub change: i64,
    /// Change in percent.
    #[prost(double, tag = "17")]
    pub ratio_change: f64,
    /// BU (buy-up) or SD (sell-down).
    #[prost(string, tag = "18")]
    pub side: String,
    /// e.g. LO, ATC.
    #[prost(string, tag = "19")]
    pub trading_session: String,
}

impl prost::Name for Trade {
    const NAME: &'static str = "Trade";
    const PACKAGE: &'static str = "qts.bench.v1";
}

/// Topic of the quotes (the name docs/architecture.md plans for ingestion's quotes).
pub const QUOTES: &str = "market.quotes.v1";
/// Topic of the trades.
pub const TRADES: &str = "market.trades.v1";

/// splitmix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Relative activity of the session at `t` seconds after 09:00 (trading time only).
fn intensity(t: f64) -> f64 {
    if t < 1_800.0 {
        2.5
    } else if t < MORNING_SECONDS {
        1.0
    } else if t < MORNING_SECONDS + 900.0 {
        1.5
    } else if t < TRADING_SECONDS - 900.0 {
        1.0
    } else {
        2.0
    }
}

/// The integral of [`intensity`] from 0 to `t`.
fn cumulative(t: f64) -> f64 {
    let bounds = [
        0.0,
        1_800.0,
        MORNING_SECONDS,
        MORNING_SECONDS + 900.0,
        TRADING_SECONDS - 900.0,
        TRADING_SECONDS,
    ];
    let t = t.clamp(0.0, TRADING_SECONDS);
    bounds
        .windows(2)
        .map(|w| (t.min(w[1]) - w[0]).max(0.0) * intensity(w[0]))
        .sum()
}

/// The wall clock at `t` trading seconds after 09:00, as `HH:mm:ss`.
fn clock(t: f64) -> String {
    let secs = if t < MORNING_SECONDS {
        9.0 * 3600.0 + t
    } else {
        13.0 * 3600.0 + t - MORNING_SECONDS
    } as u64;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[derive(Clone)]
struct Symbol {
    name: String,
    hose: bool,
    reference: i64,
    weight: f64,
}

fn universe(n: usize) -> Vec<Symbol> {
    (0..n)
        .map(|i| {
            let hose = i % 5 < 2;
            // 10,000 to 150,000 VND on the 100 VND tick.
            let reference = 10_000 + ((i as i64 * 7_919) % 1_400) * 100;
            let letters: String = [i / 676, i / 26 % 26, i % 26]
                .iter()
                .map(|d| char::from(b'A' + (*d % 26) as u8))
                .collect();
            Symbol {
                name: letters,
                hose,
                reference,
                weight: 1.0 / (i as f64 + 1.0),
            }
        })
        .collect()
}

fn quote(s: &Symbol, rng: &mut Rng, time: &str) -> Quote {
    let levels = if s.hose { 3 } else { 10 };
    let mid = s.reference + (rng.below(11) as i64 - 5) * 100;
    let mut q = Quote {
        symbol: s.name.clone(),
        exchange: if s.hose { "HOSE" } else { "HNX" }.to_owned(),
        trading_date: "10/06/2025".to_owned(),
        time: time.to_owned(),
        trading_session: "LO".to_owned(),
        ..Quote::default()
    };
    for level in 0..levels {
        q.bid_price.push(mid - 100 * (level + 1));
        q.ask_price.push(mid + 100 * (level + 1));
        q.bid_vol.push(100 * (1 + rng.below(500) as i64));
        q.ask_vol.push(100 * (1 + rng.below(500) as i64));
    }
    q
}

fn trade(s: &Symbol, rng: &mut Rng, time: &str, total_vol: i64) -> Trade {
    let last = s.reference + (rng.below(11) as i64 - 5) * 100;
    let vol = 100 * (1 + rng.below(50) as i64);
    Trade {
        symbol: s.name.clone(),
        exchange: if s.hose { "HOSE" } else { "HNX" }.to_owned(),
        trading_date: "10/06/2025".to_owned(),
        time: time.to_owned(),
        isin: format!("VN000000{}{}", s.name, 0),
        ceiling: s.reference * 107 / 100,
        floor: s.reference * 93 / 100,
        ref_price: s.reference,
        avg_price: s.reference,
        last_price: last,
        last_vol: vol,
        total_val: total_vol * s.reference,
        total_vol,
        highest: s.reference + 500,
        lowest: s.reference - 500,
        change: last - s.reference,
        ratio_change: (last - s.reference) as f64 * 100.0 / s.reference as f64,
        side: if rng.below(2) == 0 { "BU" } else { "SD" }.to_owned(),
        trading_session: "LO".to_owned(),
    }
}

fn traced<M: prost::Message + prost::Name>(symbol: &str, msg: &M, rng: &mut Rng) -> Envelope {
    let mut env = Envelope::new("ingestion", symbol, msg);
    env.trace_context.insert(
        "traceparent".to_owned(),
        format!(
            "00-{:016x}{:016x}-{:016x}-01",
            rng.next(),
            rng.next(),
            rng.next()
        ),
    );
    env
}

struct Counters {
    quotes: AtomicU64,
    trades: AtomicU64,
    consumed: AtomicU64,
    behind: AtomicU64,
    size_sum: AtomicU64,
    size_count: AtomicU64,
    producers_done: AtomicBool,
}

/// One producer: publishes its symbols' share of the day on schedule.
async fn produce(
    bus: EmbeddedBus,
    symbols: Vec<Symbol>,
    (quotes_quota, trades_quota): (u64, u64),
    args: Args,
    start: Instant,
    seed: u64,
    counters: Arc<Counters>,
) -> anyhow::Result<()> {
    let total: f64 = symbols.iter().map(|s| s.weight).sum();
    let mut cumulative_weights = Vec::with_capacity(symbols.len());
    let mut acc = 0.0;
    for s in &symbols {
        acc += s.weight / total;
        cumulative_weights.push(acc);
    }
    let end = (args.hours * 3600.0).min(TRADING_SECONDS);
    let run = cumulative(end);
    let (quotes_day, trades_day) = (quotes_quota as f64, trades_quota as f64);
    let mut rng = Rng(seed);
    let mut volumes = vec![0i64; symbols.len()];
    let (mut quotes, mut trades) = (0u64, 0u64);
    let mut n = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    loop {
        tick.tick().await;
        let t = (start.elapsed().as_secs_f64() * args.speed).min(end);
        let (quotes_due, trades_due) = if t >= end {
            (quotes_quota, trades_quota)
        } else {
            let due = cumulative(t) / run;
            ((quotes_day * due) as u64, (trades_day * due) as u64)
        };
        let behind = (quotes_due - quotes.min(quotes_due)) + (trades_due - trades.min(trades_due));
        counters.behind.fetch_max(behind, Ordering::Relaxed);
        let time = clock(t);
        while quotes < quotes_due || trades < trades_due {
            let x = rng.unit();
            let i = cumulative_weights
                .partition_point(|c| *c < x)
                .min(symbols.len() - 1);
            let s = &symbols[i];
            // Interleave: whichever kind is further behind its own schedule goes next.
            let quote_next = trades >= trades_due
                || (quotes < quotes_due
                    && (quotes as f64 / quotes_day.max(1.0))
                        <= (trades as f64 / trades_day.max(1.0)));
            let (topic, env) = if quote_next {
                quotes += 1;
                (
                    QUOTES,
                    traced(&s.name, &quote(s, &mut rng, &time), &mut rng),
                )
            } else {
                trades += 1;
                volumes[i] += 100;
                (
                    TRADES,
                    traced(&s.name, &trade(s, &mut rng, &time, volumes[i]), &mut rng),
                )
            };
            n += 1;
            if n.is_multiple_of(64) {
                counters
                    .size_sum
                    .fetch_add(env.to_bytes().len() as u64, Ordering::Relaxed);
                counters.size_count.fetch_add(1, Ordering::Relaxed);
            }
            bus.publish(topic, &env)
                .await
                .with_context(|| format!("publish to {topic}"))?;
            if quote_next {
                counters.quotes.fetch_add(1, Ordering::Relaxed);
            } else {
                counters.trades.fetch_add(1, Ordering::Relaxed);
            }
        }
        if t >= end {
            return Ok(());
        }
    }
}

/// The consumer: one member of a group on both topics, decoding and committing.
async fn consume(bus: EmbeddedBus, args: Args, counters: Arc<Counters>) -> anyhow::Result<()> {
    let mut sub = bus
        .subscribe("soak-consumer", &[QUOTES, TRADES])
        .await
        .context("subscribe")?;
    let mut since_commit = 0u64;
    let mut last = None;
    loop {
        // Once the producers are done everything is published: nothing new for a while means
        // the consumer has read to the end (events it fell too far behind on are gone).
        let done = counters.producers_done.load(Ordering::Acquire);
        let Some(d) = sub.poll(Duration::from_millis(200)).await? else {
            if done {
                if let Some(d) = last.take() {
                    sub.commit(&d).await?;
                }
                return Ok(());
            }
            continue;
        };
        if d.topic == QUOTES {
            let q: Quote = d.envelope.decode()?;
            anyhow::ensure!(q.symbol == d.envelope.key, "quote of the wrong symbol");
        } else {
            let t: Trade = d.envelope.decode()?;
            anyhow::ensure!(t.symbol == d.envelope.key, "trade of the wrong symbol");
        }
        counters.consumed.fetch_add(1, Ordering::Relaxed);
        since_commit += 1;
        if since_commit >= args.commit_every {
            sub.commit(&d).await?;
            since_commit = 0;
            last = None;
        } else {
            last = Some(d);
        }
    }
}

/// Resident memory of this process (Linux `/proc/self/status`), 0 elsewhere.
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Space the files under `dir` take on disk (allocated blocks, as `du` counts).
pub fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs the soak, printing samples and the summary to `out`.
pub async fn run(args: &Args, out: &mut dyn Write) -> anyhow::Result<Report> {
    anyhow::ensure!(args.symbols > 0, "--symbols must be at least 1");
    anyhow::ensure!(
        args.speed.is_finite() && args.speed > 0.0,
        "--speed must be positive"
    );
    anyhow::ensure!(
        args.hours > 0.0 && args.hours <= 4.25,
        "--hours must be in (0, 4.25]"
    );
    anyhow::ensure!(args.partitions >= 1, "--partitions must be at least 1");
    anyhow::ensure!(args.producers >= 1, "--producers must be at least 1");
    anyhow::ensure!(args.commit_every >= 1, "--commit-every must be at least 1");
    let (dir, remove) = match &args.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("qts-soak-{}", std::process::id())),
            true,
        ),
    };
    let opts = DiskOptions {
        segment_bytes: args.segment_mib * 1024 * 1024,
        retention_bytes: args.retention_mib * 1024 * 1024,
        retention: Duration::from_secs(72 * 3600),
        fsync_interval: Duration::from_millis(args.fsync_interval_ms),
    };
    let bus = EmbeddedBus::persistent_with(&dir, args.retention_per_partition, opts)
        .with_context(|| format!("open the bus in {}", dir.display()))?;
    bus.create_topics(&[
        TopicSpec::new(QUOTES, "qts.bench.v1.Quote", args.partitions),
        TopicSpec::new(TRADES, "qts.bench.v1.Trade", (args.partitions / 2).max(1)),
    ])
    .await?;

    let end = (args.hours * 3600.0).min(TRADING_SECONDS);
    let share_of_day = cumulative(end) / cumulative(TRADING_SECONDS);
    writeln!(
        out,
        "soak: {} symbols, {} quotes + {} trades over {:.2} trading hours from 09:00 at {}x \
         ({:.0} s wall), {} quote / {} trade partitions, {} producers, commit every {}",
        args.symbols,
        (args.quotes_per_day as f64 * share_of_day) as u64,
        (args.trades_per_day as f64 * share_of_day) as u64,
        end / 3600.0,
        args.speed,
        end / args.speed,
        args.partitions,
        (args.partitions / 2).max(1),
        args.producers,
        args.commit_every
    )?;
    writeln!(
        out,
        "bus: {} (window {} events/partition, segments {} MiB, retention {} MiB/partition, fsync every {} ms)",
        dir.display(),
        args.retention_per_partition,
        args.segment_mib,
        args.retention_mib,
        args.fsync_interval_ms
    )?;
    writeln!(
        out,
        "{:>7} {:>8} {:>11} {:>11} {:>9} {:>9} {:>9}",
        "wall_s", "clock", "published", "consumed", "ev/s", "rss_MiB", "disk_MiB"
    )?;

    let counters = Arc::new(Counters {
        quotes: AtomicU64::new(0),
        trades: AtomicU64::new(0),
        consumed: AtomicU64::new(0),
        behind: AtomicU64::new(0),
        size_sum: AtomicU64::new(0),
        size_count: AtomicU64::new(0),
        producers_done: AtomicBool::new(false),
    });
    let symbols = universe(args.symbols);
    let total_weight: f64 = symbols.iter().map(|s| s.weight).sum();
    let quotes_total = (args.quotes_per_day as f64 * share_of_day) as u64;
    let trades_total = (args.trades_per_day as f64 * share_of_day) as u64;
    let shards = args.producers.min(args.symbols);
    let (mut quotes_left, mut trades_left) = (quotes_total, trades_total);
    let start = Instant::now();
    let mut producers = tokio::task::JoinSet::new();
    // Busiest symbols first, each to the least loaded shard: shards carry similar traffic,
    // and each symbol stays with one producer, so its events stay in order.
    let mut shard_symbols: Vec<Vec<Symbol>> = vec![Vec::new(); shards];
    let mut shard_weight = vec![0.0f64; shards];
    for s in &symbols {
        let (k, _) = shard_weight
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (k, w)| if *w < best.1 { (k, *w) } else { best },
            );
        shard_weight[k] += s.weight;
        shard_symbols[k].push(s.clone());
    }
    for (k, mine) in shard_symbols.into_iter().enumerate() {
        let share = mine.iter().map(|s| s.weight).sum::<f64>() / total_weight;
        // Whole events per shard; the last takes what rounding left.
        let quota = if k + 1 == shards {
            (quotes_left, trades_left)
        } else {
            (
                ((quotes_total as f64 * share) as u64).min(quotes_left),
                ((trades_total as f64 * share) as u64).min(trades_left),
            )
        };
        quotes_left -= quota.0;
        trades_left -= quota.1;
        producers.spawn(produce(
            bus.clone(),
            mine,
            quota,
            args.clone(),
            start,
            k as u64 + 1,
            counters.clone(),
        ));
    }
    let consumer = tokio::spawn(consume(bus.clone(), args.clone(), counters.clone()));

    let mut samples = Vec::new();
    let mut last_published = 0u64;
    let mut last_wall = Duration::ZERO;
    let mut take = |out: &mut dyn Write, samples: &mut Vec<Sample>| -> anyhow::Result<()> {
        let wall = start.elapsed();
        let published =
            counters.quotes.load(Ordering::Relaxed) + counters.trades.load(Ordering::Relaxed);
        let s = Sample {
            wall,
            session_secs: (wall.as_secs_f64() * args.speed).min(end),
            published,
            consumed: counters.consumed.load(Ordering::Relaxed),
            rss_bytes: rss_bytes(),
            disk_bytes: disk_bytes(&dir),
        };
        let rate = (published - last_published) as f64
            / (wall - last_wall).as_secs_f64().max(f64::MIN_POSITIVE);
        writeln!(
            out,
            "{:>7.0} {:>8} {:>11} {:>11} {:>9.0} {:>9.1} {:>9.1}",
            wall.as_secs_f64(),
            clock(s.session_secs),
            s.published,
            s.consumed,
            rate,
            mib(s.rss_bytes),
            mib(s.disk_bytes)
        )?;
        out.flush()?;
        last_published = published;
        last_wall = wall;
        samples.push(s);
        Ok(())
    };
    let mut every = tokio::time::interval(Duration::from_secs(args.sample_secs.max(1)));
    every.tick().await;
    take(out, &mut samples)?;
    loop {
        tokio::select! {
            joined = producers.join_next() => match joined {
                Some(result) => result.context("producer task")??,
                None => break,
            },
            _ = every.tick() => take(out, &mut samples)?,
        }
    }
    counters.producers_done.store(true, Ordering::Release);
    let mut consumer = consumer;
    loop {
        tokio::select! {
            result = &mut consumer => { result.context("consumer task")??; break; }
            _ = every.tick() => take(out, &mut samples)?,
        }
    }
    take(out, &mut samples)?;
    let elapsed = start.elapsed();
    drop(bus);

    let report = Report {
        quotes: counters.quotes.load(Ordering::Relaxed),
        trades: counters.trades.load(Ordering::Relaxed),
        consumed: counters.consumed.load(Ordering::Relaxed),
        mean_event_bytes: counters.size_sum.load(Ordering::Relaxed) as f64
            / counters.size_count.load(Ordering::Relaxed).max(1) as f64,
        elapsed,
        max_behind: counters.behind.load(Ordering::Relaxed),
        samples,
    };
    summarise(&report, args, end, out)?;
    if remove {
        std::fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()))?;
    }
    Ok(report)
}

fn summarise(report: &Report, args: &Args, end: f64, out: &mut dyn Write) -> anyhow::Result<()> {
    let published = report.quotes + report.trades;
    writeln!(
        out,
        "done: {} events ({} quotes, {} trades) published and {} consumed ({} lost: deleted \
         by retention before it was read) in {:.0} s ({:.0} events/s), mean event {:.0} bytes \
         ({:.2} GiB written), at most {} events behind schedule",
        published,
        report.quotes,
        report.trades,
        report.consumed,
        published.saturating_sub(report.consumed),
        report.elapsed.as_secs_f64(),
        published as f64 / report.elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
        report.mean_event_bytes,
        published as f64 * report.mean_event_bytes / (1024.0 * 1024.0 * 1024.0),
        report.max_behind
    )?;
    let steady: Vec<&Sample> = report
        .samples
        .iter()
        .filter(|s| s.session_secs >= end * args.warmup)
        .collect();
    if let (Some(first), Some(last)) = (steady.first(), steady.last()) {
        let range = |f: fn(&Sample) -> u64| {
            let v = steady.iter().map(|s| f(s));
            (v.clone().min().unwrap_or(0), v.max().unwrap_or(0))
        };
        let (rss_lo, rss_hi) = range(|s| s.rss_bytes);
        let (disk_lo, disk_hi) = range(|s| s.disk_bytes);
        writeln!(
            out,
            "after warm-up ({} samples from {} to {}): rss {:.0}–{:.0} MiB (first {:.0}, last {:.0}); \
             disk {:.0}–{:.0} MiB (first {:.0}, last {:.0})",
            steady.len(),
            clock(first.session_secs),
            clock(last.session_secs),
            mib(rss_lo),
            mib(rss_hi),
            mib(first.rss_bytes),
            mib(last.rss_bytes),
            mib(disk_lo),
            mib(disk_hi),
            mib(first.disk_bytes),
            mib(last.disk_bytes)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_profile_covers_the_session_and_peaks_at_the_open() {
        assert_eq!(cumulative(0.0), 0.0);
        assert_eq!(cumulative(TRADING_SECONDS), 19_350.0);
        assert!(intensity(60.0) > intensity(3_600.0));
        assert_eq!(clock(0.0), "09:00:00");
        assert_eq!(clock(MORNING_SECONDS - 1.0), "11:29:59");
        assert_eq!(clock(MORNING_SECONDS), "13:00:00");
        assert_eq!(clock(TRADING_SECONDS), "14:45:00");
    }

    #[test]
    fn payloads_have_the_size_of_real_quotes_and_trades() {
        let symbols = universe(1600);
        let mut rng = Rng(1);
        let hose = quote(&symbols[0], &mut rng, "09:15:00");
        let hnx = quote(&symbols[2], &mut rng, "09:15:00");
        assert_eq!((hose.bid_price.len(), hnx.bid_price.len()), (3, 10));
        let names: std::collections::HashSet<&str> =
            symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), 1600, "symbols are distinct");
        let env = traced(
            "AAA",
            &trade(&symbols[0], &mut rng, "09:15:00", 100),
            &mut rng,
        );
        let size = env.to_bytes().len();
        assert!((200..600).contains(&size), "trade envelope of {size} bytes");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_soak_delivers_every_event_and_samples_memory_and_disk() {
        let dir = tempfile::tempdir().unwrap();
        let args = Args {
            symbols: 50,
            quotes_per_day: 40_000,
            trades_per_day: 4_000,
            speed: 15_300.0,
            hours: 4.25,
            partitions: 2,
            producers: 2,
            commit_every: 10,
            sample_secs: 1,
            warmup: 0.3,
            retention_per_partition: 1_000,
            segment_mib: 1,
            retention_mib: 1,
            fsync_interval_ms: 100,
            data_dir: Some(dir.path().join("bus")),
        };
        let mut out = Vec::new();
        let report = run(&args, &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(report.quotes, 40_000, "{text}");
        assert_eq!(report.trades, 4_000, "{text}");
        assert_eq!(report.consumed, 44_000, "{text}");
        assert!(report.samples.len() >= 2, "{text}");
        let last = report.samples.last().unwrap();
        assert!(last.rss_bytes > 0 && last.disk_bytes > 0, "{text}");
        // Three partitions of at most about retention + one segment each, and the commits.
        assert!(
            last.disk_bytes <= 7 * 1024 * 1024,
            "retention bounds the disk: {text}"
        );
        assert!(text.contains("after warm-up"), "{text}");
    }
}
