//! `qts backtest`: reads bars (CSV files, a historical database, feed recordings or a generated
//! market), runs the fleet's strategies over them (`backtest::run`) and writes the report; with
//! `--param`, searches parameters instead (`backtest::search`), walk-forward with
//! `--train-days`/`--test-days`; with `--registry`, trades a saved model's predictions instead
//! of the technical signals (`backtest::run::run_with`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use backtest::Config;
use backtest::data::{Bars, BarsBuilder};
use backtest::report::{Input, Report};
use backtest::run::{Window, run_with};
use backtest::search::{Objective, Param, Space, Walk, search};
use market::bars::Resolution;
use market::{Exchange, Symbol};
use time::Date;

/// Where bars come from: the sources of `qts backtest`, `qts portfolio` and `qts ml`, one of them.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// Bars as CSV: a file or a directory of `*.csv` (repeatable). Columns: `open,high,low,
    /// close,volume`, `time` or `start`, and optionally `symbol` (else the file's name is the
    /// symbol), `seconds` and `exchange` — what `qts export` writes, or `qts ta`'s input.
    #[arg(long, value_name = "PATH")]
    pub csv: Vec<PathBuf>,
    /// Stored bars: a historical database (`postgres://...` or `sqlite:...`), with --symbols.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Tickers to read from --database (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Feed recordings (`qts record` day files): their bars (repeatable).
    #[arg(long, value_name = "FILE")]
    pub recording: Vec<PathBuf>,
    /// A generated market of this many HOSE stocks (a seeded random walk on ticks within
    /// bands; see `backtest::data::synthetic`) for demos and benchmarks.
    #[arg(long, value_name = "SYMBOLS")]
    pub synthetic: Option<usize>,
    /// Trading days of the generated market.
    #[arg(long, default_value_t = 750)]
    pub days: usize,
    /// Plant a known signal in the generated market (testing the prediction pipeline): each
    /// day's return gets minus this share of the previous day's (0 to 0.5; 0: a random walk).
    #[arg(long, default_value_t = 0.0)]
    pub planted_reversal: f64,
    /// Seed of the generated market (and of `qts backtest`'s random parameter draws).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bar length of CSV files without a `seconds` column, and of --database reads: 1m, 5m,
    /// 15m, 30m, 1h or 1D.
    #[arg(long, default_value = "1D")]
    pub resolution: String,
    /// First day of the bars used, YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the bars used, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<String>,
}

impl Source {
    /// `--resolution`, parsed.
    pub fn resolution(&self) -> anyhow::Result<Resolution> {
        self.resolution
            .parse()
            .map_err(|e| anyhow::anyhow!("--resolution: {e}"))
    }

    /// `--from` and `--to`, parsed.
    pub fn range(&self) -> anyhow::Result<(Option<Date>, Option<Date>)> {
        Ok((date(&self.from, "from")?, date(&self.to, "to")?))
    }

    /// The bars this source names, between `--from` and `--to` (`exchange`: of symbols whose
    /// source does not say), and where they came from.
    pub async fn bars(
        &self,
        exchange: Exchange,
        rules: &market::MarketRules,
        calendar: &market::TradingCalendar,
    ) -> anyhow::Result<(Bars, String)> {
        let (from, to) = self.range()?;
        load(
            self,
            exchange,
            self.resolution()?,
            from,
            to,
            rules,
            calendar,
        )
        .await
    }

    /// [`Source::bars`] with the default market rules and calendar, HOSE for symbols whose
    /// source does not say.
    pub async fn read(&self) -> anyhow::Result<(Bars, String)> {
        let rules = market::MarketRules::default();
        let calendar = rules.calendar().context("trading calendar")?;
        self.bars(Exchange::Hose, &rules, &calendar).await
    }
}

/// `qts backtest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the bars come from.
    #[command(flatten)]
    pub source: Source,
    /// Roll one-minute bars up into this timeframe first (the TA service's roll-up).
    #[arg(long)]
    pub timeframe: Option<String>,
    /// First day traded; earlier bars only warm the indicators up.
    #[arg(long)]
    pub trade_from: Option<String>,
    /// Settings (TOML): `[backtest]`, `[limits]`, `[[studies]]`, `[rules]`, `[[strategies]]`;
    /// what it leaves out is the fleet's (crates/backtest/config/default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory the report goes to (report.json, report.html, equity.csv, trades.csv,
    /// orders.csv; search.json for a search).
    #[arg(long, default_value = "backtest-report")]
    pub out: PathBuf,
    /// Search this parameter (repeatable): `studies.sma50.timeperiod=20,50,100` (a grid) or
    /// `strategies.ma-cross.percent=1..10` (a range, with --samples).
    #[arg(long = "param", value_name = "PATH=VALUES")]
    pub params: Vec<String>,
    /// Random draws instead of the whole grid.
    #[arg(long)]
    pub samples: Option<usize>,
    /// What ranks parameter sets: sharpe, sortino, return, cagr or calmar.
    #[arg(long, default_value = "sharpe")]
    pub objective: String,
    /// Walk-forward: trading days of each train window (with --test-days).
    #[arg(long)]
    pub train_days: Option<usize>,
    /// Walk-forward: trading days of each test window.
    #[arg(long)]
    pub test_days: Option<usize>,
    /// Threads of a search (default: the cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Backtest a saved model without retraining it: its predictions from each daily close
    /// (ranked: the top --long-fraction is `prediction_long`, the bottom --exit-fraction
    /// `prediction_exit`) traded by the strategies that follow predictions (the decision
    /// engine's `prediction` strategy unless --config names others). A registry of `qts ml
    /// evaluate --registry` or of the prediction service.
    #[arg(long, value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// The version to backtest (default: the promoted one).
    #[arg(long, requires = "registry")]
    pub model: Option<u32>,
    /// Share of each day's predictions, from the top, that is `prediction_long`.
    #[arg(long, default_value_t = 0.2)]
    pub long_fraction: f64,
    /// Share, from the bottom, that is `prediction_exit`.
    #[arg(long, default_value_t = 0.2)]
    pub exit_fraction: f64,
}

/// The predictions of a saved model over daily `bars`, as signals at each bar's close, with
/// what to say about them.
fn predictions(
    bars: &Bars,
    args: &Args,
    dir: &Path,
    trade_from: Option<Date>,
) -> anyhow::Result<(backtest::run::Predictions, String)> {
    for (what, f) in [
        ("--long-fraction", args.long_fraction),
        ("--exit-fraction", args.exit_fraction),
    ] {
        anyhow::ensure!(f > 0.0 && f <= 0.5, "{what} must be in (0, 0.5]");
    }
    let registry = ml::registry::Registry::open(dir)?;
    let artefact = match args.model {
        Some(v) => registry.load(v)?,
        None => registry
            .current()?
            .context("no version is promoted; name one with --model")?,
    };
    let panel = crate::ml_cli::panel(bars)?;
    let predicted = ml::train::predict(&artefact, &panel)?;
    let n = panel.symbols().len();
    let mut starts: Vec<i64> = bars.rows().iter().map(|r| r.start).collect();
    starts.dedup();
    let mut out = backtest::run::Predictions::new();
    for (d, &start) in starts.iter().enumerate() {
        let day = &predicted[d * n..(d + 1) * n];
        let ranked = ml::train::rank_day(day, args.long_fraction, args.exit_fraction);
        let date = panel
            .dates()
            .get(d)
            .map_or_else(String::new, |&k| ml::days::name(k));
        for (s, r) in ranked.into_iter().enumerate() {
            let Some(r) = r else { continue };
            out.insert(
                (start, s as u32),
                ta::domain::Signal {
                    kind: "prediction",
                    name: r.call.name().to_owned(),
                    direction: r.call.direction(),
                    value: day[s],
                    detail: r.describe(artefact.version, artefact.horizon, day[s], &date),
                },
            );
        }
    }
    // Traded dates inside the training range (dates before --trade-from only warm up).
    let (from, to) = artefact.trained_on;
    let first_traded = trade_from.map_or(i64::MIN, |d| i64::from(d.to_julian_day()));
    let inside = panel
        .dates()
        .iter()
        .filter(|&&d| d >= first_traded && (from..=to).contains(&d))
        .count();
    let mut note = format!(
        "model {} ({}, horizon {}): {} predictions",
        artefact.version,
        artefact.model.kind().name(),
        artefact.horizon,
        out.len()
    );
    if inside > 0 {
        note.push_str(&format!(
            "\nwarning: {inside} of these dates are inside the model's training range; trading them is in-sample"
        ));
    }
    Ok((out, note))
}

pub(crate) fn date(text: &Option<String>, what: &str) -> anyhow::Result<Option<Date>> {
    text.as_deref()
        .map(|t| {
            Date::parse(t, time::macros::format_description!("[year]-[month]-[day]"))
                .with_context(|| format!("--{what} {t:?}: YYYY-MM-DD"))
        })
        .transpose()
}

/// Runs `qts backtest`.
pub async fn main(args: Args, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            Config::parse(&p.display().to_string(), &text)?
        }
        None => Config::fleet()?,
    };
    let resolution = args.source.resolution()?;
    let (from, to) = args.source.range()?;
    let trade_from = date(&args.trade_from, "trade-from")?;
    let rules = market::MarketRules::default();
    let calendar = rules.calendar().context("trading calendar")?;
    let (bars, source) = load(
        &args.source,
        config.exchange()?,
        resolution,
        from,
        to,
        &rules,
        &calendar,
    )
    .await?;
    let bars = match &args.timeframe {
        Some(t) => {
            let r: Resolution = t.parse().map_err(|e| anyhow::anyhow!("--timeframe: {e}"))?;
            bars.rollup(r, &calendar)?
        }
        None => bars,
    };
    anyhow::ensure!(!bars.is_empty(), "no bars in {source}");
    let predictions = match &args.registry {
        Some(dir) => {
            anyhow::ensure!(
                args.params.is_empty(),
                "--param searches the technical strategies; drop it to backtest a model"
            );
            let (p, note) = predictions(&bars, &args, dir, trade_from)?;
            writeln!(out, "{note}")?;
            config.follow_predictions()?;
            Some(p)
        }
        None => None,
    };
    let (first, last) = bars.span().unzip();
    let input = Input {
        source: source.clone(),
        symbols: bars.symbols().len(),
        seconds: bars.seconds(),
        first,
        last,
        trade_from,
    };
    if !args.params.is_empty() {
        let space = Space {
            params: args
                .params
                .iter()
                .map(|p| Param::parse(p))
                .collect::<Result<_, _>>()?,
            samples: args.samples,
            seed: args.source.seed,
        };
        let walk = match (args.train_days, args.test_days) {
            (Some(train_days), Some(test_days)) => Some(Walk {
                train_days,
                test_days,
            }),
            (None, None) => None,
            _ => anyhow::bail!("--train-days and --test-days go together"),
        };
        let threads = args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let objective = Objective::parse(&args.objective)?;
        let report = tokio::task::spawn_blocking(move || {
            search(&config, &bars, &space, objective, walk, threads)
        })
        .await??;
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("create {}", args.out.display()))?;
        let path = args.out.join("search.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("write {}", path.display()))?;
        print_search(&report, out)?;
        writeln!(out, "search written to {}", path.display())?;
        return Ok(());
    }
    let outcome = {
        let (config, bars) = (config.clone(), Arc::new(bars));
        tokio::task::spawn_blocking(move || {
            let mut predictions = predictions;
            run_with(
                &config,
                &bars,
                Window { trade_from },
                predictions
                    .as_mut()
                    .map(|p| p as &mut dyn backtest::run::Actor),
            )
        })
        .await??
    };
    let report = Report::new(input, &config, &outcome);
    report.write(&args.out)?;
    let m = &report.summary.total;
    writeln!(
        out,
        "{} bar events of {} symbols ({source}), {} signals, {} orders ({} refused), {} fills",
        outcome.bar_events,
        report.input.symbols,
        outcome.signals,
        outcome.orders.len(),
        m.rejected,
        m.trades
    )?;
    writeln!(
        out,
        "{:<16} {:>9} {:>8} {:>7} {:>7} {:>8} {:>9} {:>8}",
        "", "return", "CAGR", "Sharpe", "Sortino", "max DD", "turnover", "exposure"
    )?;
    let row = |out: &mut dyn std::io::Write, name: &str, m: &backtest::metrics::Metrics| {
        writeln!(
            out,
            "{:<16} {:>8.2}% {:>7.2}% {:>7.2} {:>7.2} {:>7.2}% {:>9.2} {:>7.1}%",
            name,
            m.total_return * 100.0,
            m.cagr * 100.0,
            m.sharpe,
            m.sortino,
            m.max_drawdown * 100.0,
            m.turnover,
            m.exposure * 100.0
        )
    };
    row(out, "account", m)?;
    for (id, m) in &report.summary.strategies {
        row(out, id, m)?;
    }
    writeln!(
        out,
        "report written to {}",
        args.out.join("report.html").display()
    )?;
    Ok(())
}

fn print_search(
    r: &backtest::search::SearchReport,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let show = |p: &backtest::search::Point| {
        p.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    writeln!(
        out,
        "{} parameter sets, objective {:?}",
        r.candidates, r.objective
    )?;
    for s in r.ranking.iter().take(10) {
        writeln!(
            out,
            "score {:>8.3}  return {:>7.2}%  max DD {:>6.2}%  {}",
            s.score,
            s.metrics.total_return * 100.0,
            s.metrics.max_drawdown * 100.0,
            show(&s.params)
        )?;
    }
    for f in &r.folds {
        writeln!(
            out,
            "train {}..{} test {}..{}: in-sample Sharpe {:>6.2}, out-of-sample Sharpe {:>6.2} \
             (return {:>6.2}%)  {}",
            f.train.0,
            f.train.1,
            f.test.0,
            f.test.1,
            f.in_sample.sharpe,
            f.out_of_sample.sharpe,
            f.out_of_sample.total_return * 100.0,
            show(&f.best)
        )?;
    }
    if let (Some(i), Some(o)) = (&r.in_sample, &r.out_of_sample) {
        writeln!(
            out,
            "chained: in-sample return {:.2}% (Sharpe {:.2}); out-of-sample return {:.2}% \
             (Sharpe {:.2}, max DD {:.2}%)",
            i.total_return * 100.0,
            i.sharpe,
            o.total_return * 100.0,
            o.sharpe,
            o.max_drawdown * 100.0
        )?;
    }
    Ok(())
}

/// The bars the source names (`exchange`: of symbols whose source does not say), and a
/// description of where they came from.
pub async fn load(
    args: &Source,
    exchange: Exchange,
    resolution: Resolution,
    from: Option<Date>,
    to: Option<Date>,
    rules: &market::MarketRules,
    calendar: &market::TradingCalendar,
) -> anyhow::Result<(Bars, String)> {
    let sources = usize::from(!args.csv.is_empty())
        + usize::from(args.database.is_some())
        + usize::from(!args.recording.is_empty())
        + usize::from(args.synthetic.is_some());
    anyhow::ensure!(
        sources == 1,
        "name one source of bars: --csv, --database, --recording or --synthetic"
    );
    if let Some(n) = args.synthetic {
        let first = from.unwrap_or(time::macros::date!(2016 - 01 - 04));
        let bars = backtest::data::synthetic(
            n,
            args.days,
            first,
            args.seed,
            args.planted_reversal,
            rules,
            calendar,
        )?;
        let bars = bars.between(from, to);
        return Ok((
            bars,
            format!(
                "generated market: {n} symbols, {} days, seed {}{}",
                args.days,
                args.seed,
                if args.planted_reversal > 0.0 {
                    format!(", planted reversal {}", args.planted_reversal)
                } else {
                    String::new()
                }
            ),
        ));
    }
    let mut builder = BarsBuilder::new();
    let source;
    if !args.csv.is_empty() {
        let mut files = Vec::new();
        for p in &args.csv {
            if p.is_dir() {
                let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                    .with_context(|| format!("read {}", p.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x == "csv"))
                    .collect();
                found.sort();
                anyhow::ensure!(!found.is_empty(), "{}: no .csv files", p.display());
                files.extend(found);
            } else {
                files.push(p.clone());
            }
        }
        for f in &files {
            let file = std::fs::File::open(f).with_context(|| format!("open {}", f.display()))?;
            let stem_symbol = f
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| Symbol::parse(s).ok());
            builder.read_csv(
                &f.display().to_string(),
                std::io::BufReader::new(file),
                stem_symbol,
                exchange,
                resolution.seconds(),
            )?;
        }
        source = format!("{} CSV file(s)", files.len());
    } else if let Some(url) = &args.database {
        anyhow::ensure!(!args.symbols.is_empty(), "--database needs --symbols");
        let (from, to) = (
            from.context("--database needs --from")?,
            to.context("--database needs --to")?,
        );
        read_database(
            url,
            &args.symbols,
            resolution,
            from,
            to,
            exchange,
            &mut builder,
        )
        .await?;
        source = format!("{url} ({} symbols)", args.symbols.len());
    } else {
        let n = read_recordings(&args.recording, exchange, &mut builder)?;
        source = format!("{} recording(s), {n} bars", args.recording.len());
    }
    let bars = builder.finish()?.between(from, to);
    Ok((bars, source))
}

/// Bars of `symbols` from a historical database, a month at a time.
async fn read_database(
    url: &str,
    symbols: &[String],
    resolution: Resolution,
    from: Date,
    to: Date,
    exchange: Exchange,
    builder: &mut BarsBuilder,
) -> anyhow::Result<()> {
    let queries = historical::cli::open_queries(url).await?;
    for symbol in symbols {
        let sym = Symbol::parse(symbol).with_context(|| format!("--symbols {symbol:?}"))?;
        historical::cli::each_month(
            &queries,
            symbol,
            resolution.as_str(),
            from,
            to,
            |bars, _| {
                for bar in bars {
                    builder.push(
                        &format!("{url}: {symbol} {}", bar.start),
                        sym,
                        exchange,
                        bar.start,
                        bar.seconds,
                        [bar.open, bar.high, bar.low, bar.close],
                        u64::try_from(bar.volume).unwrap_or(0),
                    )?;
                }
                Ok(())
            },
        )
        .await?;
    }
    Ok(())
}

/// The bars of feed recordings (the last version of each, as the feed may update a bar), with
/// each symbol's exchange from the master data recorded with them.
fn read_recordings(
    files: &[PathBuf],
    default_exchange: Exchange,
    builder: &mut BarsBuilder,
) -> anyhow::Result<usize> {
    use proto::market::v1::feed_event::Event;
    let mut exchanges: BTreeMap<String, Exchange> = BTreeMap::new();
    let mut bars: BTreeMap<(String, i64), (proto::market::v1::Bar, String)> = BTreeMap::new();
    for f in files {
        for (i, event) in ingestion::record::DayReader::open(f)?.enumerate() {
            let event = event?;
            match event.event {
                Some(Event::Security(s)) => {
                    if let Ok(e) = backtest::config::parse_exchange(&s.exchange) {
                        exchanges.insert(s.symbol.clone(), e);
                    }
                }
                Some(Event::Bar(b)) => {
                    let start = b.start.as_ref().map_or(0, |t| t.seconds);
                    let at = format!("{}: event {}", display(f), i + 1);
                    bars.insert((b.symbol.clone(), start), (b, at));
                }
                _ => {}
            }
        }
    }
    let n = bars.len();
    for ((symbol, start), (b, at)) in bars {
        let sym = Symbol::parse(&symbol).with_context(|| format!("{at}: symbol {symbol:?}"))?;
        let start = time::OffsetDateTime::from_unix_timestamp(start)
            .with_context(|| format!("{at}: bar start"))?;
        builder.push(
            &at,
            sym,
            exchanges.get(&symbol).copied().unwrap_or(default_exchange),
            start,
            b.seconds,
            [b.open, b.high, b.low, b.close],
            b.volume,
        )?;
    }
    Ok(n)
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(list: &[&str]) -> Args {
        Cli::parse_from(std::iter::once("backtest").chain(list.iter().copied())).args
    }

    /// Three daily bars of `symbol` from `close`, as a feed recording and as CSV rows.
    fn bars(symbol: &str, close: i64) -> Vec<proto::market::v1::Bar> {
        (0..3)
            .map(|d| proto::market::v1::Bar {
                symbol: symbol.to_owned(),
                start: Some(common::bus::proto_time(
                    market::bars::vn_midnight(time::macros::date!(2025 - 06 - 09))
                        + time::Duration::days(d),
                )),
                seconds: 86_400,
                open: close,
                high: close + 100,
                low: close - 100,
                close,
                volume: 1_000,
                trades: 1,
            })
            .collect()
    }

    async fn backtest(list: &[&str]) -> anyhow::Result<String> {
        let mut out = Vec::new();
        main(args(list), &mut out).await?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[tokio::test]
    async fn a_saved_model_is_backtested_without_retraining() {
        let dir = tempfile::tempdir().unwrap();
        let (reg, report) = (dir.path().join("models"), dir.path().join("report"));
        let (reg, report) = (reg.to_str().unwrap(), report.to_str().unwrap());
        let mut out = Vec::new();
        crate::ml_cli::main(
            crate::ml_cli::Command::Evaluate(Box::new(crate::ml_cli::EvaluateArgs {
                source: args(&["--synthetic", "20", "--days", "160"]).source,
                horizon: 1,
                model: ml::model::ModelKind::Ridge,
                lambda: 0.01,
                trees: 200,
                learning_rate: 0.05,
                depth: 3,
                min_leaf: 200.0,
                width: 32,
                layers: 2,
                epochs: 20,
                net_learning_rate: 0.003,
                weight_decay: 0.0001,
                batch: 1024,
                test_dates: 20,
                min_train_dates: 80,
                embargo: 1,
                select: None,
                select_alpha: 1.0,
                registry: Some(reg.into()),
            })),
            &mut out,
        )
        .await
        .unwrap();
        // Other bars (another seed) traded with version 1 (named: none is promoted).
        let common = ["--synthetic", "20", "--days", "160", "--seed", "7"];
        let text = backtest(
            &[
                &common[..],
                &["--registry", reg, "--model", "1", "--out", report],
            ]
            .concat(),
        )
        .await
        .unwrap();
        assert!(
            text.contains("model 1 (ridge, horizon 1): ") && text.contains("in-sample"),
            "{text}"
        );
        // Only the prediction strategy trades, and it does.
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("report/report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            json["strategies"],
            serde_json::json!(["prediction"]),
            "{text}"
        );
        assert!(
            json["summary"]["total"]["trades"].as_u64().unwrap() > 0,
            "{text}"
        );
        for (extra, needle) in [
            (&["--registry", reg][..], "no version is promoted"),
            (
                &["--registry", reg, "--model", "9"][..],
                "no model version 9",
            ),
            (
                &["--registry", reg, "--model", "1", "--long-fraction", "0.7"][..],
                "--long-fraction",
            ),
            (
                &[
                    "--registry",
                    reg,
                    "--model",
                    "1",
                    "--param",
                    "strategies.prediction.percent=1,2",
                ][..],
                "--param",
            ),
        ] {
            let e = backtest(&[&common[..], extra].concat())
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{extra:?}: {e}");
        }
    }

    #[tokio::test]
    async fn bars_load_from_csv_files_and_recordings_and_one_source_is_required() {
        let rules = market::MarketRules::default();
        let calendar = rules.calendar().unwrap();
        let config = Config::fleet().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("csv");
        std::fs::create_dir_all(&csv).unwrap();
        std::fs::write(
            csv.join("FPT.csv"),
            "time,open,high,low,close,volume\n2025-06-09,100000,100500,99500,100000,500\n",
        )
        .unwrap();
        std::fs::write(csv.join("notes.txt"), "not bars").unwrap();
        let a = args(&["--csv", &csv.display().to_string()]);
        let (b, source) = a
            .source
            .bars(config.exchange().unwrap(), &rules, &calendar)
            .await
            .unwrap();
        assert_eq!((b.len(), source.as_str()), (1, "1 CSV file(s)"));

        // A recording: bars (an updated version of one of them too) and the master data.
        let rec = dir.path().join("rec");
        let mut w = ingestion::record::DayWriter::new(&rec).unwrap();
        let event = |e| proto::market::v1::FeedEvent {
            source: "test".into(),
            trading_day: "2025-06-09".into(),
            event: Some(e),
            ..Default::default()
        };
        use proto::market::v1::feed_event::Event;
        w.write(&event(Event::Security(proto::market::v1::Security {
            symbol: "SHS".into(),
            exchange: "HNX".into(),
            ..Default::default()
        })))
        .unwrap();
        for bar in bars("SHS", 20_000).into_iter().chain(bars("SHS", 20_100)) {
            w.write(&event(Event::Bar(bar))).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let file = ingestion::record::day_path(&rec, "2025-06-09");
        let a = args(&["--recording", &file.display().to_string()]);
        let (b, _) = a
            .source
            .bars(config.exchange().unwrap(), &rules, &calendar)
            .await
            .unwrap();
        assert_eq!(b.len(), 3, "the last version of each bar");
        assert!(b.rows().iter().all(|r| r.close == 20_100));
        assert_eq!(b.symbols()[0].exchange, Exchange::Hnx);

        let none = args(&[]);
        let e = none
            .source
            .bars(config.exchange().unwrap(), &rules, &calendar)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("one source"), "{e}");
        let two = args(&["--synthetic", "5", "--csv", "x"]);
        assert!(
            two.source
                .bars(config.exchange().unwrap(), &rules, &calendar)
                .await
                .is_err()
        );
    }
}
