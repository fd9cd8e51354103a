//! The tools `qts backfill`, `qts export` and `qts bench bars`: the historical store used
//! without the fleet, given a database URL (and, to backfill, a broker config file). Long runs
//! show a progress bar with an ETA.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use common::shutdown::CancellationToken;
use common::store::Db;
use indicatif::{ProgressBar, ProgressStyle};
use time::{Date, OffsetDateTime};

use crate::backfill::{BackfillKind, BackfillRequest, Backfills};
use crate::domain::{Bar, Resolution, vn_midnight};
use crate::metrics::Metrics;
use crate::service::{BarsQuery, Queries, parse_date};
use crate::settings::{BackfillSettings, QuerySettings};
use crate::store::{OnConflict, Store, upsert_minute_bars};

/// `qts backfill`.
#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The database (`postgres://...` or `sqlite:...`); migrated first.
    #[arg(long, env = "HISTORICAL__DATABASE__URL")]
    pub database_url: String,
    /// The broker settings as TOML (`generation = "v2"` + `[data]`, or `generation = "v3"` + keys;
    /// see crates/broker/src/settings.rs).
    #[arg(long, value_name = "FILE")]
    pub broker: PathBuf,
    /// What to fetch: daily, intraday, index, price, repair (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "daily")]
    pub kinds: Vec<String>,
    /// Tickers (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Index codes (comma-separated), for `index`.
    #[arg(long, value_delimiter = ',')]
    pub indexes: Vec<String>,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<String>,
    /// Continue an interrupted job (its id was printed when it started); skips what it did.
    #[arg(long, value_name = "JOB_ID")]
    pub resume: Option<uuid::Uuid>,
    /// Days per broker request window.
    #[arg(long, default_value_t = 30)]
    pub window_days: u32,
    /// Broker requests per second at most.
    #[arg(long, default_value_t = 5.0)]
    pub requests_per_second: f64,
}

/// `qts export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The database (`postgres://...` or `sqlite:...`).
    #[arg(long, env = "HISTORICAL__DATABASE__URL")]
    pub database_url: String,
    /// Ticker.
    #[arg(long)]
    pub symbol: String,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last day (inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
    /// 1m, 5m, 15m, 30m, 1h or 1D.
    #[arg(long, default_value = "1m")]
    pub resolution: String,
    /// Output file (CSV); standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `qts bench bars`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// A PostgreSQL (or SQLite) database to write into; it is migrated, and the benchmark's
    /// symbols (`B0000`..., `BYEAR`) are overwritten.
    #[arg(long, env = "HISTORICAL__DATABASE__URL")]
    pub database_url: String,
    /// Symbols of the ingest run (a whole market is ~1,550).
    #[arg(long, default_value_t = 1550)]
    pub symbols: u32,
    /// Minutes per symbol of the ingest run (a trading day has ~270).
    #[arg(long, default_value_t = 270)]
    pub minutes: u32,
    /// Bars per transaction.
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
    /// Concurrent writer connections of the ingest run (each writes its share of the batches).
    #[arg(long, default_value_t = 1)]
    pub writers: usize,
    /// Timed queries of one symbol's year of one-minute bars.
    #[arg(long, default_value_t = 50)]
    pub queries: usize,
    /// Trades per symbol and minute of the live run (trades through the bar builder).
    #[arg(long, default_value_t = 10)]
    pub live_trades_per_minute: u32,
    /// Minutes of the live run (every symbol trades every minute).
    #[arg(long, default_value_t = 20)]
    pub live_minutes: u32,
}

async fn open(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url, 8, Duration::from_secs(10))
        .await
        .context("open the database")?;
    db.migrate(Some(&crate::MIGRATIONS))
        .await
        .context("migrate the database")?;
    Ok(db)
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} (ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_owned());
    pb
}

fn kinds(names: &[String]) -> anyhow::Result<Vec<BackfillKind>> {
    names
        .iter()
        .map(|k| {
            serde_json::from_value(serde_json::Value::String(k.trim().to_owned())).map_err(|_| {
                anyhow::anyhow!(
                    "unknown kind {k:?} (expected daily, intraday, index, price or repair)"
                )
            })
        })
        .collect()
}

/// Runs (or resumes) a backfill to its end, with a progress bar; Ctrl-C stops it resumable.
pub async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.broker)
        .with_context(|| format!("read {}", args.broker.display()))?;
    let settings: broker::Settings =
        toml::from_str(&text).with_context(|| format!("parse {}", args.broker.display()))?;
    let db = open(&args.database_url).await?;
    let store = Store::new(db);
    let token = CancellationToken::new();
    let backfills = Backfills::new(
        store,
        crate::market_data(Some(&settings), None)?,
        Arc::new(market::TradingCalendar::embedded().context("trading calendar")?),
        BackfillSettings {
            window_days: args.window_days.clamp(1, 366),
            requests_per_second: args.requests_per_second,
            max_attempts: 8,
            retry_backoff_ms: 500,
        },
        Metrics::unregistered(),
        token.clone(),
    );
    let id = match args.resume {
        Some(id) => id,
        None => {
            let req = BackfillRequest {
                kinds: kinds(&args.kinds)?,
                symbols: args.symbols.clone(),
                indexes: args.indexes.clone(),
                from: args.from.clone().context("--from is required")?,
                to: args.to.clone().context("--to is required")?,
            };
            let job = backfills.create(&req).await?;
            writeln!(
                std::io::stderr(),
                "backfill job {} (resume with --resume {0})",
                job.id
            )?;
            job.id
        }
    };
    let pb = bar(0, "backfill");
    let shown = pb.clone();
    let progress: crate::backfill::Progress = Arc::new(move |done, total| {
        shown.set_length(total);
        shown.set_position(done);
    });
    let stop = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let job = backfills.run(id, Some(progress)).await?;
    pb.finish();
    writeln!(
        std::io::stdout(),
        "job {}: {} ({}/{} units, {} rows){}",
        job.id,
        job.state,
        job.done_units,
        job.total_units,
        job.rows_written,
        job.error.map(|e| format!(": {e}")).unwrap_or_default()
    )?;
    match job.state.as_str() {
        "done" => Ok(()),
        "running" => anyhow::bail!("interrupted; resume with --resume {}", job.id),
        _ => anyhow::bail!("backfill failed"),
    }
}

/// Queries over the database at `url` (migrated first), for tools that read bars.
pub async fn open_queries(url: &str) -> anyhow::Result<Queries> {
    let db = open(url).await?;
    Ok(Queries::new(
        Store::new(db),
        Arc::new(market::TradingCalendar::embedded().context("trading calendar")?),
        QuerySettings {
            max_intraday_days: 40,
            max_daily_days: 40,
            max_symbols: 1,
        },
    ))
}

/// `symbol`'s bars at `resolution` over `from ..= to`, read a month at a time: `each` gets
/// every month's bars and the days it covered.
pub async fn each_month(
    queries: &Queries,
    symbol: &str,
    resolution: &str,
    from: Date,
    to: Date,
    mut each: impl FnMut(Vec<Bar>, u64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    let mut a = from;
    while a <= to {
        let b: Date = (a + time::Duration::days(29)).min(to);
        let q = BarsQuery::parse(symbol, resolution, &a.to_string(), &b.to_string())?;
        each(
            queries.bars(&q).await?,
            u64::try_from((b - a).whole_days() + 1).unwrap_or(0),
        )?;
        match b.next_day() {
            Some(n) => a = n,
            None => break,
        }
    }
    Ok(())
}

/// Writes a symbol's bars as CSV, a month at a time, with a progress bar.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let queries = open_queries(&args.database_url).await?;
    let from = parse_date(&args.from, "from")?;
    let to = parse_date(&args.to, "to")?;
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let days = (to - from).whole_days() + 1;
    let pb = bar(u64::try_from(days).unwrap_or(0), "export");
    let mut first = true;
    let mut rows = 0usize;
    each_month(
        &queries,
        &args.symbol,
        &args.resolution,
        from,
        to,
        |bars, days| {
            rows += bars.len();
            let csv = crate::bars_csv(&bars);
            let body = if first {
                csv.as_str()
            } else {
                csv.split_once('\n').map_or("", |(_, rest)| rest)
            };
            out.write_all(body.as_bytes())?;
            first = false;
            pb.inc(days);
            Ok(())
        },
    )
    .await?;
    out.flush()?;
    pb.finish();
    writeln!(std::io::stderr(), "{rows} bars exported")?;
    Ok(())
}

fn synthetic(symbol: &str, start: OffsetDateTime, i: u32) -> Bar {
    let p = 10_000 + i64::from(i % 97) * 50;
    Bar {
        symbol: symbol.to_owned(),
        start,
        seconds: 60,
        open: p,
        high: p + 100,
        low: p - 50,
        close: p + 50,
        volume: 100 + i64::from(i % 1000),
        trades: 1 + i64::from(i % 17),
    }
}

/// Minute starts of continuous trading over `days` trading days from `first`.
fn session_minutes(
    calendar: &market::TradingCalendar,
    first: Date,
    days: usize,
) -> Vec<OffsetDateTime> {
    let mut out = Vec::new();
    let mut day = first;
    let mut n = 0;
    while n < days {
        if calendar.is_trading_day(day) {
            out.extend(crate::domain::DayShape::hose(calendar, day).continuous_minutes(day));
            n += 1;
        }
        match day.next_day() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Measures bulk bar ingest (bars/s) and one year of one symbol's minute bars queried.
pub async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let db = open(&args.database_url).await?;
    let calendar = Arc::new(market::TradingCalendar::embedded().context("trading calendar")?);
    let first = time::macros::date!(2025 - 01 - 02);
    let minutes: Vec<OffsetDateTime> = {
        let mut m = session_minutes(&calendar, first, 2);
        m.truncate(args.minutes as usize);
        m
    };
    let mut bars = Vec::with_capacity(args.symbols as usize * minutes.len());
    for s in 0..args.symbols {
        let symbol = format!("B{s:04}");
        for (i, t) in minutes.iter().enumerate() {
            bars.push(synthetic(&symbol, *t, s + i as u32));
        }
    }
    let pb = bar(bars.len() as u64, "ingest");
    let writers = args.writers.clamp(1, 64);
    let chunks: Vec<Vec<Bar>> = bars
        .chunks(args.batch.max(1))
        .map(<[Bar]>::to_vec)
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(chunks));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (db, queue, pb) = (db.clone(), queue.clone(), pb.clone());
        tasks.spawn(async move {
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("writer queue poisoned"))?
                    .pop();
                let Some(chunk) = next else {
                    return anyhow::Ok(());
                };
                let mut tx = db.begin().await?;
                upsert_minute_bars(&mut tx, &chunk, OnConflict::Update).await?;
                tx.commit().await?;
                pb.inc(chunk.len() as u64);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("writer task")??;
    }
    let took = started.elapsed();
    pb.finish_and_clear();
    let rate = bars.len() as f64 / took.as_secs_f64();
    let mut out = std::io::stdout();
    writeln!(
        out,
        "ingest: {} bars ({} symbols x {} minutes) in {:.2} s = {:.0} bars/s ({} bars per transaction, {} writer(s), {})",
        bars.len(),
        args.symbols,
        minutes.len(),
        took.as_secs_f64(),
        rate,
        args.batch,
        writers,
        db.engine().as_str()
    )?;
    // What a backfill does when its job ends: vacuum and analyze the months it wrote.
    let store = Store::new(db.clone());
    let (first_start, last_start) = (
        minutes.first().copied().unwrap_or(vn_midnight(first)),
        minutes.last().copied().unwrap_or(vn_midnight(first)),
    );
    let started = Instant::now();
    let parts = store.vacuum_minute_bars(first_start, last_start).await?;
    writeln!(
        out,
        "vacuum (analyze) of the {} partition(s) written, as a backfill ends: {:.2} s",
        parts.len(),
        started.elapsed().as_secs_f64()
    )?;

    // One year of one symbol: every continuous minute of 250 trading days.
    let year = session_minutes(&calendar, first, 250);
    let year_bars: Vec<Bar> = year
        .iter()
        .enumerate()
        .map(|(i, t)| synthetic("BYEAR", *t, i as u32))
        .collect();
    for chunk in year_bars.chunks(args.batch.max(1)) {
        let mut tx = db.begin().await?;
        upsert_minute_bars(&mut tx, chunk, OnConflict::Update).await?;
        tx.commit().await?;
    }
    if let (Some(a), Some(b)) = (year.first(), year.last()) {
        store.vacuum_minute_bars(*a, *b).await?;
    }
    let queries = Queries::new(
        store,
        calendar,
        QuerySettings {
            max_intraday_days: 400,
            max_daily_days: 400,
            max_symbols: 1,
        },
    );
    live(&db, &args, &mut out).await?;

    let last = year.last().copied().unwrap_or(vn_midnight(first));
    for resolution in [Resolution::M1, Resolution::H1, Resolution::D1] {
        let q = BarsQuery {
            symbol: "BYEAR".into(),
            resolution,
            from: vn_midnight(first),
            to: last + time::Duration::minutes(1),
        };
        let mut times = Vec::with_capacity(args.queries);
        let mut n = 0;
        for _ in 0..args.queries.max(1) {
            let t = Instant::now();
            n = queries.bars(&q).await?.len();
            times.push(t.elapsed());
        }
        times.sort();
        writeln!(
            out,
            "query one year of BYEAR at {resolution}: {n} bars from {} minute rows; p50 {:.1} ms, p99 {:.1} ms over {} runs",
            year_bars.len(),
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.len()
        )?;
    }
    Ok(())
}

/// Trades through the live bar builder (in-memory bus, the given database): trades/s from the
/// first poll until every bar a later trade closes is stored.
async fn live(db: &Db, args: &BenchArgs, out: &mut impl Write) -> anyhow::Result<()> {
    use common::bus::EventBus;
    use common::bus::embedded::EmbeddedBus;

    let per_minute = args.live_trades_per_minute.max(1);
    let minutes = args.live_minutes.max(2);
    let total = u64::from(args.symbols) * u64::from(per_minute) * u64::from(minutes);
    // A rerun starts clean: the builder's saved state would take the trades for redeliveries.
    for table in ["hist_live_state", "hist_bars_1m"] {
        common::on_engine!(db.pool(), |p| sqlx::query(&format!(
            "DELETE FROM {table} WHERE symbol LIKE 'L%'"
        ))
        .execute(p)
        .await
        .map(drop))?;
    }
    let bus = EmbeddedBus::in_memory(usize::try_from(total).unwrap_or(usize::MAX));
    bus.create_topics(common::bus::topics::TOPICS).await?;
    let bus: common::bus::SharedBus = Arc::new(bus);
    let open = time::macros::datetime!(2025-01-03 09:15 +7);
    let pb = bar(total, "publish");
    for m in 0..minutes {
        for k in 0..per_minute {
            let at = open
                + time::Duration::minutes(i64::from(m))
                + time::Duration::seconds(i64::from(k * 59 / per_minute));
            for s in 0..args.symbols {
                let n = u64::from(m * per_minute + k + 1);
                let trade = proto::market::v1::Trade {
                    symbol: format!("L{s:04}"),
                    price: 10_000 + i64::from((s + k) % 20) * 50,
                    quantity: 100,
                    total_volume: n * 100,
                    exchange_time: Some(prost_types::Timestamp {
                        seconds: at.unix_timestamp(),
                        nanos: 0,
                    }),
                    received_at: None,
                    security: None,
                };
                let key = trade.symbol.clone();
                let envelope = common::bus::Envelope::new("bench", key, &trade);
                bus.publish(&common::bus::topics::MARKET_TRADE.name, &envelope)
                    .await?;
            }
            pb.inc(u64::from(args.symbols));
        }
    }
    pb.finish_and_clear();
    // A clock that stays at the day's open: only later trades close bars.
    let clock = common::settings::ClockSettings::simulated(open, OffsetDateTime::now_utc(), 0.001)
        .clock()
        .map_err(|e| anyhow::anyhow!(e))?;
    let live = crate::live::LiveBars::new(
        db.clone(),
        bus,
        clock,
        crate::live::LiveConfig {
            grace: Duration::from_secs(3600),
            batch: args.batch.clamp(1, 100_000),
            poll_timeout: Duration::from_millis(100),
        },
        Metrics::unregistered(),
    );
    let token = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(live.run(token.clone()));
    let expected = i64::from(args.symbols) * i64::from(minutes - 1);
    let from = common::store::Timestamp::from(open);
    loop {
        let n: i64 = common::on_engine!(db.pool(), |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM hist_bars_1m WHERE symbol LIKE 'L%' AND start >= $1"
        )
        .bind(from)
        .fetch_one(p)
        .await)?;
        if n >= expected {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "the live run did not finish in 30 minutes ({n}/{expected} bars)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    token.cancel();
    task.await.context("live task")??;
    writeln!(
        out,
        "live: {total} trades ({} symbols x {minutes} minutes x {per_minute}) into {expected} closed bars in {:.2} s = {:.0} trades/s (batches of up to {}, {})",
        args.symbols,
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        args.batch.clamp(1, 100_000),
        db.engine().as_str()
    )?;
    Ok(())
}
