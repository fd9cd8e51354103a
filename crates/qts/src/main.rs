//! `qts`: run the whole QTS fleet on one machine, generate the gateway config, list services.

use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use common::registry::{GATEWAY_HTTP_PORT, SERVICES};
use common::settings::{LogFormat, TelemetrySettings};
use qts::{fleet, gateway, nginx};

/// QTS: a trading system for the Vietnamese stock market (HOSE, HNX, UPCoM, VN30 futures).
#[derive(Parser)]
#[command(name = "qts", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run all 17 services in this process, with a gateway on one port.
    ///
    /// Embedded by default: an in-process event bus, SQLite files under the data directory, an
    /// in-memory cache. Any backend can be switched, for every service with `--set` (e.g.
    /// `--set bus.kind=kafka --set bus.kafka.brokers=host:9092`) or for one service with its
    /// environment (e.g. `OMS__DATABASE__URL=postgres://...`). Stops cleanly on Ctrl-C/SIGTERM.
    Up {
        /// Directory for SQLite files and the bus log.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Port of the gateway (every service under /api/<service>/).
        #[arg(long)]
        gateway_port: Option<u16>,
        /// Bind every service (and the gateway, unless --gateway-port is given) to a free port
        /// instead of the registry's defaults.
        #[arg(long)]
        ephemeral_ports: bool,
        /// A setting for every service, as section.key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = qts::fleet::parse_key_value)]
        overrides: Vec<(String, String)>,
        /// Seconds to wait for every service to answer /ready.
        #[arg(long, default_value_t = 30)]
        ready_timeout_secs: u64,
        /// Trade with a real broker instead of the simulator: a TOML file of `broker::Settings`
        /// (`generation = "v2"` with `[data]` (and `[trading]`), or `generation = "v3"` with
        /// `api_key`, ...; see crates/broker/src/settings.rs). Also `$QTS_BROKER_CONFIG`.
        #[arg(long, value_name = "FILE", env = "QTS_BROKER_CONFIG")]
        broker: Option<PathBuf>,
        /// Run the simulated market this many times faster than real time (0.001 to 100000;
        /// 360 plays a trading day in about a minute). Only without --broker.
        #[arg(long, default_value_t = 1.0)]
        sim_speed: f64,
        /// The OMS trades the simulator's FastConnect v3 key, whose trading session waits for
        /// an OTP as SSI's v3 keys do: the portal's order ticket asks for it, the simulator
        /// "sends" it to its log and to `<data-dir>/sim/otp.txt`. Only without --broker.
        #[arg(long, conflicts_with = "broker")]
        sim_otp: bool,
        /// Also write the raw feed (and master data) to day files in DIR, as `qts record`.
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Instead of a live market, replay these recorded days (`qts record` files) into the
        /// fleet once it is ready (repeatable; in the order given).
        #[arg(long = "replay", value_name = "FILE", conflicts_with = "broker")]
        replay: Vec<PathBuf>,
        /// Replay this many times faster than recorded (0 = as fast as possible).
        #[arg(long, default_value_t = 1.0)]
        replay_speed: f64,
        /// Also start a local Prometheus (scraping every service, with the rules of
        /// deploy/prometheus) and Alertmanager (routing to the notification service), when
        /// installed, and print their URLs. Their files go under <data-dir>/observability.
        #[arg(long)]
        observability: bool,
    },
    /// Record the raw market-data feed to compressed, append-only day files
    /// (`<DIR>/<YYYY-MM-DD>.qfeed.gz`).
    ///
    /// With --broker, straight from the broker (SSI with your credentials, or a simulator),
    /// following the market calendar (from before the first session to after the last),
    /// starting each day with the broker's securities. Without, from the bus of a running fleet
    /// (`--set bus.kind=kafka --set bus.kafka.brokers=...`), with master data. Stops on
    /// Ctrl-C/SIGTERM, after flushing.
    Record {
        /// Where the day files go.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// A broker settings file (as `qts up --broker`).
        #[arg(long, value_name = "FILE")]
        broker: Option<PathBuf>,
        /// Stop after this many trading days (with --broker).
        #[arg(long)]
        days: Option<u32>,
        /// The embedded bus's data directory (without --broker).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A bus setting as section.key=value (repeatable), e.g. bus.kind=kafka.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = qts::fleet::parse_key_value)]
        overrides: Vec<(String, String)>,
    },
    /// Publish recorded days into a bus: securities to masterdata.security.v1, the feed to
    /// market.raw.v1, where a running ingestion normalises it as it would the live feed.
    Replay {
        /// Day files from `qts record`, in the order to play them.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Play this many times faster than recorded (0 = as fast as possible).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// The embedded bus's data directory (when no fleet holds it).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A bus setting as section.key=value (repeatable), e.g. bus.kind=kafka.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = qts::fleet::parse_key_value)]
        overrides: Vec<(String, String)>,
    },
    /// List the services of the fleet with their ports and routes.
    Services {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write every service's OpenAPI document to a directory (what each serves at
    /// /api/<service>/openapi.json), taken from a throw-away fleet.
    Openapi {
        /// Where to write `<service>.json`.
        #[arg(long, default_value = "docs/openapi")]
        dir: PathBuf,
        /// Do not write; exit with status 1 if any file differs.
        #[arg(long)]
        check: bool,
    },
    /// Run the offline SSI FastConnect simulator (FC Data and FC Trading, REST and hubs).
    ///
    /// Serves a synthetic HOSE/HNX/UPCoM/VN30-futures market with SSI's own protocol, so
    /// `fastconnect` and SSI's SDKs run without SSI. Prints both base URLs and the demo
    /// credentials (see docs/simulator.md). Stops cleanly on Ctrl-C/SIGTERM.
    /// `qts sim stats` measures the simulated market instead of serving it.
    #[command(args_conflicts_with_subcommands = true)]
    Sim {
        #[command(subcommand)]
        command: Option<SimCommand>,
        /// The simulator's settings as TOML (every key of `fcsim::SimConfig`, all optional:
        /// trading consumers with their accounts, keys and PINs, limits, ...). The flags
        /// below override it. Default: the demo configuration.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Seed of every generated number (default 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Simulated seconds per wall-clock second, from 0.001 to 100000 (default 1).
        #[arg(long)]
        speed: Option<f64>,
        /// Simulated start instant, RFC 3339 (default 2025-06-10T09:00:00+07:00).
        #[arg(long)]
        start: Option<String>,
        /// FC Data port (REST and hub); 0 picks a free port (default 18400).
        #[arg(long)]
        data_port: Option<u16>,
        /// FC Trading port (REST and hub, and FastConnect v3 REST and stream in plain
        /// HTTP); 0 picks a free port (default 18401).
        #[arg(long)]
        trading_port: Option<u16>,
        /// FastConnect v3 over TLS (REST and the wss stream, self-signed certificate for
        /// localhost written next to the state or in the temp dir); 0 picks a free port
        /// (default 18402).
        #[arg(long)]
        v3_tls_port: Option<u16>,
        /// Keep the FC Trading state (orders, fills, cash, positions, stream notices, used
        /// request ids, simulated clock) in DIR (a snapshot and a journal) so a restart
        /// resumes it; one simulator per directory. The state belongs to one --seed/--start;
        /// use one directory per market. Default: none, everything in memory and a restart
        /// starts afresh.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Gateway configuration.
    Gateway {
        #[command(subcommand)]
        command: GatewayCommand,
    },
    /// Ops as code: the Prometheus, Alertmanager, Grafana, Helm and compose files generated
    /// from the service registry.
    Ops {
        #[command(subcommand)]
        command: OpsCommand,
    },
    /// Backfill bars, index values and daily prices through the broker into a historical
    /// database, without the fleet (resumable: Ctrl-C, then `--resume JOB_ID`).
    Backfill(historical::cli::BackfillArgs),
    /// Export a symbol's bars from a historical database as CSV, without the fleet.
    Export(historical::cli::ExportArgs),
    /// Run a technical-analysis function over OHLCV CSV on stdin (header
    /// `time,open,high,low,close,volume`), writing `time` and one column per output to stdout:
    /// `qts ta RSI --param timeperiod=14`. `qts ta --list` lists every function with its
    /// parameters and defaults.
    #[command(disable_help_flag = true)]
    Ta {
        /// FUNCTION [--param name=value ...] | --list
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run the fleet's strategies, risk checks and matching over historical bars (CSV, a
    /// historical database, feed recordings or a generated market) and write a report (JSON,
    /// CSV, HTML with the equity curve and drawdown); with --param, search parameters, with
    /// --train-days/--test-days walk-forward. Deterministic: the same input and seed give the
    /// same bytes.
    Backtest(Box<qts::backtest_cli::Args>),
    /// Choose K securities from bars as a QUBO and compare every QUBO solver with the proven
    /// best subset (branch and bound) and the continuous mean-variance optimum.
    Portfolio(Box<qts::portfolio_cli::Args>),
    /// The prediction pipeline: walk-forward evaluation of the baseline model over bars, and
    /// the model registry (list, promote).
    Ml {
        #[command(subcommand)]
        command: qts::ml_cli::Command,
    },
    /// A reinforcement-learning agent: trained by the cross-entropy method on bars up to
    /// --train-to, every episode through the backtest's matching engine, fees, tax and T+2;
    /// judged on the dates after against random policies and holding the market.
    Rl(Box<qts::rl_cli::Args>),
    /// Quantum-inspired optimisation: solve a QUBO given as JSON (sa, sqa, sb, dsb, pt, tabu,
    /// exact) or write a benchmark instance.
    Qubo {
        #[command(subcommand)]
        command: qts::qubo_cli::Command,
    },
    /// Benchmarks of the whole program (see docs/performance.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// A simulated trading day of market data through the persisted embedded bus, compressed
    /// into minutes, sampling memory and disk (they should stay flat after warm-up).
    Soak(qts::soak::Args),
    /// A recorded day (`qts record`) through the fleet as fast as it goes: replayed onto the
    /// bus and normalised by ingestion; prints events/s and the raw -> normalised lag
    /// (p50/p99). `--set bus.kind=kafka --set bus.kafka.brokers=...` measures on Kafka.
    Replay(qts::bench_replay::Args),
    /// Bulk one-minute bar ingest into a historical database (bars/s) and one year of one
    /// symbol's bars queried (p50/p99).
    Bars(historical::cli::BenchArgs),
    /// The order round trip of `qts up` (REST -> risk -> OMS -> simulator answer) and the time
    /// until a marketable order is filled, p50/p99.
    Orders(qts::bench_orders::Args),
    /// From a closing bar on the bus to the order at the broker through the fleet (TA signal,
    /// decision, OMS, risk, simulator), p50/p99; `--set bus.kind=kafka ...` over Kafka.
    TickToOrder(qts::bench_tick::Args),
    /// The trader portal's price board in headless Chromium over the whole simulated market:
    /// first load (time, bytes), bus-to-screen update latency (p50/p99) and frame times.
    Portal(qts::bench_portal::Args),
}

#[derive(Subcommand)]
enum SimCommand {
    /// Measure the simulated market's stylized facts through its own FC Data REST API.
    ///
    /// Starts a simulator in this process (serving FC Data on a free local port only), fetches
    /// the daily prices of the chosen stocks and of a sample of every exchange and liquidity
    /// class, their index and 1-minute bars with the FC Data client, and prints fat tails,
    /// volatility clustering, autocorrelation, correlations, limit days, liquidity and the
    /// intraday shape, each stylized fact next to the range real markets show
    /// (docs/simulator.md, "Market model"). Exits with status 1 if a fact is outside its range.
    Stats {
        /// Seed of the simulated market.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Trading days of daily history, ending the day before 2025-06-10 (at least 30).
        #[arg(long, default_value_t = 250)]
        days: u32,
        /// An index code (its members, compared with it) or two or more comma-separated
        /// symbols (compared with VN30).
        #[arg(long, default_value = "VN30")]
        symbols: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
        format: StatsFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StatsFormat {
    /// A human-readable report.
    Table,
    /// The whole report as JSON.
    Json,
}

#[derive(Subcommand)]
enum OpsCommand {
    /// Write every generated file (paths from the repository root) under --root.
    Render {
        /// The repository root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Do not write; exit with status 1 if a file differs from what would be written.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum GatewayCommand {
    /// Write the Nginx config generated from the service registry.
    Nginx {
        /// Where to write it.
        #[arg(long, default_value = "deploy/nginx/nginx.conf")]
        output: PathBuf,
        /// Do not write; exit with status 1 if the file differs from what would be written.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns.
    Table,
    /// A Markdown table.
    Markdown,
    /// JSON.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up {
            data_dir,
            gateway_port,
            ephemeral_ports,
            overrides,
            ready_timeout_secs,
            broker,
            sim_speed,
            sim_otp,
            record,
            replay,
            replay_speed,
            observability,
        } => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
            };
            let market = if replay.is_empty() {
                let sim = UpSim {
                    speed: sim_speed,
                    otp: sim_otp,
                };
                match market_source(broker.as_deref(), sim, &data_dir, ephemeral_ports) {
                    Ok(m) => m,
                    Err(err) => return fail(&err),
                }
            } else {
                fleet::Market::None
            };
            let feed = FeedOptions {
                record,
                replay,
                replay_speed,
                observability,
            };
            runtime.block_on(up(
                data_dir,
                gateway_port,
                ephemeral_ports,
                overrides,
                Duration::from_secs(ready_timeout_secs),
                market,
                feed,
            ))
        }
        Command::Record {
            dir,
            broker,
            days,
            data_dir,
            overrides,
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(record(dir, broker, days, data_dir, overrides)),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Replay {
            files,
            speed,
            data_dir,
            overrides,
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(replay(files, speed, data_dir, overrides)),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Services { format } => services(format),
        Command::Openapi { dir, check } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(openapi(&dir, check)),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Gateway {
            command: GatewayCommand::Nginx { output, check },
        } => gateway_nginx(&output, check),
        Command::Ops {
            command: OpsCommand::Render { root, check },
        } => ops_render(&root, check),
        Command::Sim {
            command:
                Some(SimCommand::Stats {
                    seed,
                    days,
                    symbols,
                    format,
                }),
            ..
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(sim_stats(seed, days, &symbols, format)),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Sim {
            command: None,
            config,
            seed,
            speed,
            start,
            data_port,
            trading_port,
            v3_tls_port,
            data_dir,
        } => {
            let flags = SimFlags {
                seed,
                speed,
                start,
                data_port,
                trading_port,
                v3_tls_port,
                data_dir,
            };
            match tokio::runtime::Runtime::new() {
                Ok(rt) => rt.block_on(sim(config, flags)),
                Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
            }
        }
        Command::Bench {
            command: BenchCommand::Soak(args),
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(soak(&args)),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Bench {
            command: BenchCommand::Portal(args),
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                qts::bench_portal::run(&args, &mut std::io::stdout()).await?;
                Ok(ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Bench {
            command: BenchCommand::Orders(args),
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                qts::bench_orders::run(&args, &mut std::io::stdout()).await?;
                Ok(ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Bench {
            command: BenchCommand::TickToOrder(args),
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                qts::bench_tick::run(&args, &mut std::io::stdout()).await?;
                Ok(ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Bench {
            command: BenchCommand::Replay(args),
        } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                qts::bench_replay::run(&args, &mut std::io::stdout()).await?;
                Ok(ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        // --- historical: the logic is in historical::cli ---
        Command::Backfill(args) => historical_tool(historical::cli::backfill(args)),
        Command::Export(args) => historical_tool(historical::cli::export(args)),
        Command::Backtest(args) => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                qts::backtest_cli::main(*args, &mut std::io::stdout()).await?;
                Ok(ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Ta { args } => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            indicators::cli::run(&args, stdin, stdout)
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::new)
        }
        Command::Bench {
            command: BenchCommand::Bars(args),
        } => historical_tool(historical::cli::bench(args)),
        Command::Portfolio(args) => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                let mut stdout = std::io::stdout().lock();
                qts::portfolio_cli::main(*args, &mut stdout)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Ml { command } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                let mut stdout = std::io::stdout().lock();
                qts::ml_cli::main(command, &mut stdout)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Rl(args) => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async {
                let mut stdout = std::io::stdout().lock();
                qts::rl_cli::main(*args, &mut stdout)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }),
            Err(err) => return fail(&anyhow::Error::new(err).context("start runtime")),
        },
        Command::Qubo { command } => {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            qts::qubo_cli::run(command, stdout).map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => fail(&err),
    }
}

/// Runs a `historical::cli` tool on a fresh runtime.
fn historical_tool(tool: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("start runtime")?;
    rt.block_on(tool)?;
    Ok(ExitCode::SUCCESS)
}

fn fail(err: &anyhow::Error) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "qts: error: {}",
        common::error::chain(err.as_ref())
    );
    ExitCode::FAILURE
}

/// `qts sim` flags that override the configuration file.
struct SimFlags {
    seed: Option<u64>,
    speed: Option<f64>,
    start: Option<String>,
    data_port: Option<u16>,
    trading_port: Option<u16>,
    v3_tls_port: Option<u16>,
    data_dir: Option<PathBuf>,
}

/// The simulator configuration: the file (or the demo), then the flags; validated.
fn sim_config(file: Option<PathBuf>, flags: SimFlags) -> anyhow::Result<fcsim::SimConfig> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("read the simulator configuration {}", path.display()))?;
            toml::from_str::<fcsim::SimConfig>(&text).with_context(|| {
                format!("the simulator configuration {} is invalid", path.display())
            })?
        }
        None => fcsim::SimConfig::demo(),
    };
    if let Some(seed) = flags.seed {
        config.seed = seed;
    }
    if let Some(speed) = flags.speed {
        fcsim::clock::check_speed(speed).context("--speed")?;
        config.speed = speed;
    }
    if let Some(start) = flags.start {
        config.start = fcsim::config::parse_start(&start)
            .with_context(|| format!("--start {start:?} is not an RFC 3339 instant"))?;
    }
    if let Some(port) = flags.data_port {
        config.data_port = port;
    }
    if let Some(port) = flags.trading_port {
        config.trading_port = port;
    }
    if let Some(port) = flags.v3_tls_port {
        config.v3_tls_port = port;
    }
    if flags.data_dir.is_some() {
        config.data_dir = flags.data_dir;
    }
    config.validate().context("the simulator configuration")?;
    Ok(config)
}

async fn sim(file: Option<PathBuf>, flags: SimFlags) -> anyhow::Result<ExitCode> {
    use fcsim::config::{DEMO_PIN, DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET};
    let config = sim_config(file, flags)?;
    let telemetry = TelemetrySettings {
        log_format: LogFormat::Pretty,
        log_level: "info".into(),
        otlp_endpoint: String::new(),
    };
    // Logs carry the OTPs that GetOTP would have sent by SMS.
    let _telemetry = common::telemetry::init("qts-sim", &telemetry).context("start telemetry")?;
    let (data_port, trading_port) = (config.data_port, config.trading_port);
    let data_consumers = config.data_consumers.clone();
    let trading_consumers = config.trading_consumers.clone();
    let v3_consumers: Vec<_> = config.live_v3_consumers().cloned().collect();
    let v3_tls_port = config.v3_tls_port;
    let otp_outbox = config.otp_outbox.clone();
    let cert_dir = config.data_dir.clone().unwrap_or_else(std::env::temp_dir);
    let simulator = fcsim::Simulator::new(config).context("build the simulated market")?;
    let data = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, data_port))
        .await
        .with_context(|| format!("bind FC Data port {data_port}"))?;
    let trading = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, trading_port))
        .await
        .with_context(|| format!("bind FC Trading port {trading_port}"))?;
    let v3_tls = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, v3_tls_port))
        .await
        .with_context(|| format!("bind the FastConnect v3 TLS port {v3_tls_port}"))?;
    let tls_port = v3_tls.local_addr()?.port();
    let cert_file = cert_dir.join(format!("fcsim-v3-cert-{tls_port}.pem"));
    let data_url = format!("http://{}/", data.local_addr()?);
    let trading_url = format!("http://{}/", trading.local_addr()?);
    let mut out = std::io::stdout().lock();
    writeln!(out, "fc-data     {data_url}")?;
    writeln!(out, "fc-trading  {trading_url}")?;
    for c in &data_consumers {
        // The demo's credentials are public; a configured secret is not printed.
        let secret = if c.consumer_id == fcsim::config::DEMO_DATA_CONSUMER_ID {
            c.consumer_secret.as_str()
        } else {
            "(from the configuration)"
        };
        writeln!(
            out,
            "FC Data     ConsumerID {}  ConsumerSecret {secret}",
            c.consumer_id
        )?;
    }
    for c in &trading_consumers {
        let accounts: Vec<&str> = c.accounts.iter().map(|a| a.id.as_str()).collect();
        if c.consumer_id == DEMO_TRADING_CONSUMER_ID {
            writeln!(
                out,
                "FC Trading  ConsumerID {DEMO_TRADING_CONSUMER_ID}  ConsumerSecret {DEMO_TRADING_CONSUMER_SECRET}  PIN {DEMO_PIN}  accounts {}",
                accounts.join(", ")
            )?;
            writeln!(out, "PrivateKey  crates/fcsim/demo/demo_key.xml.b64")?;
        } else {
            writeln!(
                out,
                "FC Trading  ConsumerID {}  accounts {}",
                c.consumer_id,
                accounts.join(", ")
            )?;
        }
    }
    let trading_base = trading_url.trim_end_matches('/');
    writeln!(
        out,
        "fc-v3       {trading_base}  stream {}/ws/v3",
        trading_base.replacen("http", "ws", 1)
    )?;
    writeln!(
        out,
        "fc-v3-tls   https://localhost:{tls_port}  stream wss://localhost:{tls_port}/ws/v3  certificate {} (trust it: SSL_CERT_FILE=<file>)",
        cert_file.display()
    )?;
    let sms = match &otp_outbox {
        Some(path) => format!("SMS OTP (in the log and {})", path.display()),
        None => "SMS OTP (in the log)".to_owned(),
    };
    for c in &v3_consumers {
        // The demo keys are public; a configured secret is not printed.
        let demo = [
            fcsim::config::DEMO_V3_API_KEY,
            fcsim::config::DEMO_V3_SMART_API_KEY,
        ];
        let secret = if demo.contains(&c.api_key.as_str()) {
            c.api_secret.as_str()
        } else {
            "(from the configuration)"
        };
        let otp = match c.otp {
            fcsim::config::OtpMethod::Sms => sms.as_str(),
            fcsim::config::OtpMethod::Smart => "Smart OTP (approved on the second poll)",
        };
        writeln!(
            out,
            "FC v3       apiKey {}  apiSecret {secret}  accounts of {}  {otp}",
            c.api_key, c.trading_consumer
        )?;
    }
    writeln!(out, "simulating from {}", simulator.now())?;
    out.flush()?;
    drop(out);
    let token = common::shutdown::on_signal();
    let tls = fcsim::serve_v3_tls(simulator.clone(), v3_tls, &cert_file, token.clone());
    let (served, tls) = tokio::join!(
        fcsim::serve_all(simulator.clone(), data, trading, token.clone()),
        tls
    );
    served.context("simulator stopped")?;
    tls.context("FastConnect v3 over TLS stopped")?;
    writeln!(std::io::stdout(), "stopped")?;
    Ok(ExitCode::SUCCESS)
}

async fn sim_stats(
    seed: u64,
    days: u32,
    symbols: &str,
    format: StatsFormat,
) -> anyhow::Result<ExitCode> {
    let plan = fcsim::stats::Plan {
        seed,
        days,
        symbols: symbols.parse().context("read --symbols")?,
        ..fcsim::stats::Plan::vn30_year(seed)
    };
    let report = fcsim::stats::measure(&plan)
        .await
        .context("measure the simulated market")?;
    let mut out = std::io::stdout().lock();
    match format {
        StatsFormat::Table => write!(out, "{report}")?,
        StatsFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
    }
    out.flush()?;
    let failures = report.failures();
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<&str> = failures.iter().map(|f| f.key.as_str()).collect();
    writeln!(
        std::io::stderr(),
        "qts: {} stylized fact(s) outside their range: {}",
        failures.len(),
        names.join(", ")
    )?;
    Ok(ExitCode::FAILURE)
}

/// The fleet's market: the broker in `broker` (a TOML file), else the simulator at `speed`
/// keeping its trading state under `<data_dir>/sim`.
fn market_source(
    broker: Option<&std::path::Path>,
    sim: UpSim,
    data_dir: &std::path::Path,
    ephemeral_ports: bool,
) -> anyhow::Result<fleet::Market> {
    if let Some(path) = broker {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read the broker settings {}", path.display()))?;
        // Checked here, so a bad file is named before anything starts.
        toml::from_str::<broker::Settings>(&text)
            .with_context(|| format!("the broker settings {} are invalid", path.display()))?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("the broker settings {} are invalid", path.display()))?;
        return Ok(fleet::Market::Broker(table));
    }
    fcsim::clock::check_speed(sim.speed).context("--sim-speed")?;
    let mut config = fcsim::SimConfig::demo();
    config.speed = sim.speed;
    config.data_dir = Some(data_dir.join("sim"));
    if sim.otp {
        config.otp_outbox = Some(data_dir.join("sim").join("otp.txt"));
    }
    if ephemeral_ports {
        config.data_port = 0;
        config.trading_port = 0;
    }
    Ok(fleet::Market::Simulator(Box::new(fleet::SimOptions {
        config,
        trading_v3: sim.otp,
    })))
}

/// `qts up --sim-speed/--sim-otp`.
#[derive(Debug, Clone, Copy)]
struct UpSim {
    speed: f64,
    otp: bool,
}

/// `qts up --record/--replay`.
struct FeedOptions {
    record: Option<PathBuf>,
    replay: Vec<PathBuf>,
    replay_speed: f64,
    /// Start a local Prometheus and Alertmanager too.
    observability: bool,
}

/// `Some(speed)`, or `None` for as fast as possible (0); refuses negative and non-finite.
fn replay_pace(speed: f64) -> anyhow::Result<Option<f64>> {
    if speed == 0.0 {
        return Ok(None);
    }
    fcsim::clock::check_speed(speed)
        .map(Some)
        .context("the replay speed (0 for as fast as possible)")
}

async fn record(
    dir: PathBuf,
    broker: Option<PathBuf>,
    days: Option<u32>,
    data_dir: Option<PathBuf>,
    overrides: Vec<(String, String)>,
) -> anyhow::Result<ExitCode> {
    let telemetry = TelemetrySettings {
        log_format: LogFormat::Pretty,
        log_level: "info".into(),
        otlp_endpoint: String::new(),
    };
    let _telemetry =
        common::telemetry::init("qts-record", &telemetry).context("start telemetry")?;
    let token = common::shutdown::on_signal();
    match broker {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("read the broker settings {}", path.display()))?;
            let settings: broker::Settings = toml::from_str(&text)
                .with_context(|| format!("the broker settings {} are invalid", path.display()))?;
            let b = broker::connect(settings).context("broker")?;
            let written = qts::feed::record_broker(
                b.market_data,
                dir.clone(),
                common::settings::MarketClock::wall(),
                days,
                token,
            )
            .await?;
            writeln!(
                std::io::stdout(),
                "recorded {written} events in {}",
                dir.display()
            )?;
        }
        None => {
            let bus = qts::feed::open_bus(data_dir, &overrides).await?;
            writeln!(
                std::io::stdout(),
                "recording the bus's raw feed into {}; Ctrl-C stops",
                dir.display()
            )?;
            ingestion::record::record_bus(bus, dir, Duration::from_secs(1), token).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn replay(
    files: Vec<PathBuf>,
    speed: f64,
    data_dir: Option<PathBuf>,
    overrides: Vec<(String, String)>,
) -> anyhow::Result<ExitCode> {
    let pace = replay_pace(speed)?;
    let token = common::shutdown::on_signal();
    let bus = qts::feed::open_bus(data_dir, &overrides).await?;
    let started = Instant::now();
    let stats = ingestion::record::replay(&files, &bus, pace, &token).await?;
    writeln!(
        std::io::stdout(),
        "replayed {} events and {} securities in {:.1}s",
        stats.events,
        stats.securities,
        started.elapsed().as_secs_f64()
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn up(
    data_dir: PathBuf,
    gateway_port: Option<u16>,
    ephemeral_ports: bool,
    overrides: Vec<(String, String)>,
    ready_timeout: Duration,
    market: fleet::Market,
    feed: FeedOptions,
) -> anyhow::Result<ExitCode> {
    let replay_pace = replay_pace(feed.replay_speed)?;
    let started = Instant::now();
    // Where the simulator "sends" the OTPs of the OMS's v3 session (`--sim-otp`).
    let otp_outbox = match &market {
        fleet::Market::Simulator(sim) if sim.trading_v3 => sim.config.otp_outbox.clone(),
        fleet::Market::Simulator(_) | fleet::Market::Broker(_) | fleet::Market::None => None,
    };
    // One process, one telemetry pipeline: `--set telemetry.*` applies to it (JSON logs, an
    // OTLP collector for the whole fleet's spans).
    let mut telemetry = TelemetrySettings {
        log_format: LogFormat::Pretty,
        log_level: "info,sqlx=warn".into(),
        otlp_endpoint: String::new(),
    };
    for (key, value) in &overrides {
        match key.as_str() {
            "telemetry.otlp_endpoint" => telemetry.otlp_endpoint.clone_from(value),
            "telemetry.log_level" => telemetry.log_level.clone_from(value),
            "telemetry.log_format" => {
                telemetry.log_format = match value.as_str() {
                    "json" => LogFormat::Json,
                    "pretty" => LogFormat::Pretty,
                    other => anyhow::bail!("telemetry.log_format: {other:?} is not json or pretty"),
                }
            }
            _ => {}
        }
    }
    let _telemetry = common::telemetry::init("qts", &telemetry).context("start telemetry")?;
    let token = common::shutdown::on_signal();
    // The gateway takes the same `--set limits.*` as every service behind it.
    let limits =
        common::settings::LimitsSettings::from_overrides(&overrides).context("gateway limits")?;
    // The gateway's port first: the SSO's tokens name it as their issuer.
    let port = gateway_port.unwrap_or(if ephemeral_ports {
        0
    } else {
        GATEWAY_HTTP_PORT
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .with_context(|| format!("bind gateway on port {port}"))?;
    let gateway_addr = listener.local_addr()?;
    let mut env = std::env::vars().collect::<HashMap<_, _>>();
    let issuer = format!(
        "http://localhost:{}{}",
        gateway_addr.port(),
        sso::SPEC.route_prefix()
    );
    let issuer = env
        .entry("SSO__TOKENS__ISSUER".to_owned())
        .or_insert(issuer)
        .clone();
    // A local Prometheus and Alertmanager: their ports now, so the fleet's settings name them.
    let observability = if feed.observability {
        Some(qts::observability::Plan::new(
            &data_dir.join("observability"),
            5,
        )?)
    } else {
        None
    };
    for (key, value) in observability.iter().flat_map(|p| p.env()) {
        env.entry(key).or_insert(value);
    }
    let alertmanager_secret = env.get("NOTIFICATION__ALERTMANAGER__SECRET").cloned();
    // Every service checks the tokens of this SSO (a --set auth.issuer given first wins).
    let mut overrides = overrides;
    overrides.push(("auth.issuer".to_owned(), issuer));
    let options = fleet::Options {
        market,
        data_dir: Some(data_dir.clone()),
        ephemeral_ports,
        overrides,
        env,
    };
    let fleet = fleet::Fleet::start(&options, token.clone()).await?;
    let routes = fleet.http_routes();
    let gateway_task = tokio::spawn(gateway::serve_with(
        listener,
        gateway::router_with(routes.clone(), &limits),
        &limits,
        token.clone(),
    ));
    gateway::wait_ready(routes, ready_timeout).await?;
    let stack = match observability {
        Some(plan) => Some(
            plan.start(&fleet.services, alertmanager_secret.as_deref())
                .await?,
        ),
        None => None,
    };

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "QTS is up: {} services, data in {}",
        fleet.services.len(),
        data_dir.display()
    )?;
    writeln!(out, "gateway  http://{gateway_addr}/")?;
    writeln!(
        out,
        "identity http://{gateway_addr}{}/.well-known/openid-configuration (first user: admin, \
         password from QTS_ADMIN_PASSWORD or printed once when the SSO made it)",
        sso::SPEC.route_prefix()
    )?;
    writeln!(
        out,
        "portal   http://{gateway_addr}{}/app (sign in as admin)",
        portal::SPEC.route_prefix()
    )?;
    match &fleet.simulator {
        Some(sim) => writeln!(
            out,
            "market   simulator (FC Data {}, FC Trading and v3 {}; demo credentials in docs/simulator.md), simulated from {} at {}x",
            sim.data_url, sim.trading_url, sim.started_at, sim.speed
        )?,
        None => writeln!(out, "market   the broker in the --broker settings")?,
    }
    if let Some(file) = &otp_outbox {
        writeln!(
            out,
            "otp      the trading session waits for an OTP: the order ticket asks for it; the simulator writes each code to {}",
            file.display()
        )?;
    }
    writeln!(
        out,
        "{:<14} {:<48} {:<22} {:<22}",
        "service", "swagger ui", "grpc", "admin"
    )?;
    for s in &fleet.services {
        writeln!(
            out,
            "{:<14} {:<48} {:<22} {:<22}",
            s.spec.name,
            format!("http://{gateway_addr}{}/swagger-ui/", s.spec.route_prefix()),
            s.addrs.grpc.to_string(),
            format!("http://{}/ready", s.addrs.admin),
        )?;
    }
    if let Some(stack) = &stack {
        if let Some(url) = &stack.prometheus {
            writeln!(
                out,
                "prometheus {url}/ (targets from the monitoring service's /sd)"
            )?;
        }
        if let Some(url) = &stack.alertmanager {
            writeln!(
                out,
                "alertmanager {url}/ (routes to the notification service)"
            )?;
        }
        for missing in &stack.missing {
            writeln!(out, "observability: {missing}")?;
        }
    }
    writeln!(
        out,
        "fleet status http://{gateway_addr}{}/v1/status",
        monitoring::SPEC.route_prefix()
    )?;
    writeln!(
        out,
        "ready in {:.1}s; Ctrl-C stops",
        started.elapsed().as_secs_f64()
    )?;
    out.flush()?;
    drop(out);

    let feed_bus = match (&fleet.bus, feed.record.is_some() || !feed.replay.is_empty()) {
        (_, false) => None,
        (Some(bus), true) => Some(bus.clone()),
        (None, true) => {
            Some(qts::feed::open_bus(Some(data_dir.clone()), &options.overrides).await?)
        }
    };
    let mut feed_tasks = tokio::task::JoinSet::new();
    if let (Some(dir), Some(bus)) = (feed.record, &feed_bus) {
        writeln!(
            std::io::stdout(),
            "recording the feed into {}",
            dir.display()
        )?;
        feed_tasks.spawn(ingestion::record::record_bus(
            bus.clone(),
            dir,
            Duration::from_secs(1),
            token.clone(),
        ));
    }
    if let (false, Some(bus)) = (feed.replay.is_empty(), &feed_bus) {
        let (bus, files, t) = (bus.clone(), feed.replay, token.clone());
        feed_tasks.spawn(async move {
            let stats = ingestion::record::replay(&files, &bus, replay_pace, &t).await?;
            tracing::info!(
                events = stats.events,
                securities = stats.securities,
                "replay finished"
            );
            Ok(())
        });
    }

    let result = fleet.wait().await;
    token.cancel();
    while let Some(done) = feed_tasks.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::error!(error = %common::error::chain(err.as_ref()), "feed task failed")
            }
            Err(err) => tracing::error!(error = %err, "feed task"),
        }
    }
    gateway_task.await.context("gateway task")??;
    if let Some(stack) = stack {
        stack.stop().await;
    }
    result?;
    writeln!(std::io::stdout(), "stopped")?;
    Ok(ExitCode::SUCCESS)
}

async fn soak(args: &qts::soak::Args) -> anyhow::Result<ExitCode> {
    let telemetry = TelemetrySettings {
        log_format: LogFormat::Pretty,
        log_level: "warn".into(),
        otlp_endpoint: String::new(),
    };
    let _telemetry = common::telemetry::init("qts-bench", &telemetry).context("start telemetry")?;
    qts::soak::run(args, &mut std::io::stdout()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn openapi(dir: &std::path::Path, check: bool) -> anyhow::Result<ExitCode> {
    let docs = qts::openapi::collect().await?;
    if check {
        let stale = qts::openapi::stale(dir, &docs);
        if !stale.is_empty() {
            writeln!(
                std::io::stderr(),
                "stale OpenAPI documents in {}: {}; run `qts openapi`",
                dir.display(),
                stale.join(", ")
            )?;
            return Ok(ExitCode::FAILURE);
        }
        writeln!(
            std::io::stdout(),
            "{} OpenAPI documents in {} are up to date",
            docs.len(),
            dir.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    for (name, doc) in &docs {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, doc).with_context(|| format!("write {}", path.display()))?;
    }
    writeln!(
        std::io::stdout(),
        "wrote {} OpenAPI documents to {}",
        docs.len(),
        dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn services(format: Format) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&SERVICES)?)?,
        Format::Markdown => {
            writeln!(
                out,
                "| service | owns | state | HTTP prefix | ports (http/grpc/admin) | gRPC service |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|")?;
            for s in &SERVICES {
                writeln!(
                    out,
                    "| {} | {} | {} | `{}/` | {}/{}/{} | `{}` |",
                    s.name,
                    s.description,
                    s.maturity.as_str(),
                    s.route_prefix(),
                    s.http_port,
                    s.grpc_port,
                    s.admin_port,
                    s.grpc_service
                )?;
            }
        }
        Format::Table => {
            writeln!(
                out,
                "{:<14} {:<9} {:<20} {:>5} {:>5} {:>5}  owns",
                "service", "state", "http prefix", "http", "grpc", "admin"
            )?;
            for s in &SERVICES {
                writeln!(
                    out,
                    "{:<14} {:<9} {:<20} {:>5} {:>5} {:>5}  {}",
                    s.name,
                    s.maturity.as_str(),
                    s.route_prefix(),
                    s.http_port,
                    s.grpc_port,
                    s.admin_port,
                    s.description
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ops_render(root: &std::path::Path, check: bool) -> anyhow::Result<ExitCode> {
    let mut stale = Vec::new();
    let files = ops::generated();
    for f in &files {
        let path = root.join(&f.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(f.content.as_str()) {
            continue;
        }
        if check {
            stale.push(f.path.clone());
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        std::fs::write(&path, &f.content).with_context(|| format!("write {}", path.display()))?;
        writeln!(std::io::stdout(), "wrote {}", f.path)?;
    }
    if !stale.is_empty() {
        for path in &stale {
            writeln!(std::io::stderr(), "{path} is stale: run `qts ops render`")?;
        }
        return Ok(ExitCode::FAILURE);
    }
    writeln!(
        std::io::stdout(),
        "{} generated files {}",
        files.len(),
        if check {
            "are current"
        } else {
            "written or current"
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

fn gateway_nginx(output: &std::path::Path, check: bool) -> anyhow::Result<ExitCode> {
    let config = nginx::kubernetes();
    if check {
        let current = std::fs::read_to_string(output)
            .with_context(|| format!("read {}", output.display()))?;
        if current != config {
            writeln!(
                std::io::stderr(),
                "{} is stale: run `qts gateway nginx`",
                output.display()
            )?;
            return Ok(ExitCode::FAILURE);
        }
        writeln!(std::io::stdout(), "{} is up to date", output.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(output, config).with_context(|| format!("write {}", output.display()))?;
    writeln!(std::io::stdout(), "wrote {}", output.display())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod sim_tests {
    use super::*;

    fn flags() -> SimFlags {
        SimFlags {
            seed: None,
            speed: None,
            start: None,
            data_port: None,
            trading_port: None,
            v3_tls_port: None,
            data_dir: None,
        }
    }

    #[test]
    fn speeds_the_clock_cannot_represent_are_refused_with_the_range() {
        for speed in [1e15, 1e10, 0.0, -2.0, f64::NAN] {
            let err = sim_config(
                None,
                SimFlags {
                    speed: Some(speed),
                    ..flags()
                },
            )
            .unwrap_err();
            let text = format!("{err:#}");
            assert!(text.contains("--speed"), "{text}");
            assert!(text.contains("between 0.001 and 100000"), "{text}");
        }
        assert_eq!(
            sim_config(
                None,
                SimFlags {
                    speed: Some(20.0),
                    ..flags()
                }
            )
            .unwrap()
            .speed,
            20.0
        );
    }

    #[test]
    fn a_configuration_file_adds_consumers_and_flags_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.toml");
        let pem = fcsim::config::DEMO_PUBLIC_KEY_PEM.replace('\n', "\\n");
        std::fs::write(
            &path,
            format!(
                r#"seed = 7
speed = 5.0

[[trading_consumers]]
consumer_id = "alice"
consumer_secret = "alice-secret"
public_key = """{pem}"""
pin = "111111"
accounts = [{{ id = "0003001", cash = 1000000000, positions = [["SSI", 100]] }}]

[[trading_consumers]]
consumer_id = "bob"
consumer_secret = "bob-secret"
public_key = """{pem}"""
pin = "222222"
accounts = [{{ id = "0004001", cash = 500000000 }}]
"#
            ),
        )
        .unwrap();
        let config = sim_config(
            Some(path.clone()),
            SimFlags {
                speed: Some(2.0),
                ..flags()
            },
        )
        .unwrap();
        assert_eq!(config.seed, 7);
        assert_eq!(config.speed, 2.0);
        let ids: Vec<&str> = config
            .trading_consumers
            .iter()
            .map(|c| c.consumer_id.as_str())
            .collect();
        assert_eq!(ids, ["alice", "bob"]);
        // An account given to two consumers is refused.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("0004001", "0003001");
        std::fs::write(&path, text).unwrap();
        let err = sim_config(Some(path.clone()), flags()).unwrap_err();
        assert!(format!("{err:#}").contains("already belongs"), "{err:#}");
        // An unknown key is refused too.
        std::fs::write(&path, "sped = 2.0\n").unwrap();
        assert!(sim_config(Some(path), flags()).is_err());
    }
}
