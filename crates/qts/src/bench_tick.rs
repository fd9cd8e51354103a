//! `qts bench tick-to-order`: from a closing bar on the bus to the order at the broker, through
//! the whole embedded fleet — the bar on `market.bar.v1` → the TA service (studies, a crossover,
//! the signal stored and relayed to `ta.signal.v1`) → the decision engine (its decision stored,
//! `PlaceOrder` over gRPC) → the OMS (stored, the risk service's `CheckOrder`, the simulator's FC
//! Trading `NewOrder`) → the OMS's events on `oms.order.v1`. p50/p99 of the time from publishing
//! the bar until the order's `created` event (the OMS has it) and the broker's answer (its
//! `sent` event, or `accepted` when the account stream's report comes first), over sequential
//! samples, each on its own symbol.
//!
//! The TA service and the decision engine run a configuration of their own (written to the
//! temporary directory): SMA 2 and 3 on one-minute bars with a crossover rule, and one strategy
//! buying on it. Every sample publishes three flat bars then a higher one, whose close crosses
//! the averages. The simulated market runs at 0.001× from 10:00 (continuous trading, nearly no
//! trades of its own), so only the benchmark's bars reach the studies. `--set bus.kind=kafka`
//! measures the same path over a Kafka-protocol broker.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use common::bus::Envelope;
use common::bus::topics::{MARKET_BAR, MARKET_TRADE, OMS_ORDER};
use serde_json::Value;

use crate::bench_orders::{get_json, quantile};
use crate::fleet::{Fleet, Market, Options, SimOptions};

/// `qts bench tick-to-order` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Samples (each on its own HOSE stock).
    #[arg(long, default_value_t = 60)]
    pub samples: usize,
    /// Milliseconds between samples (SSI allows 5 trading requests per second).
    #[arg(long, default_value_t = 250)]
    pub spacing_ms: u64,
    /// A setting for every service as section.key=value (repeatable), e.g. bus.kind=kafka.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = crate::fleet::parse_key_value)]
    pub overrides: Vec<(String, String)>,
}

const TA_CONFIG: &str = r#"
[analysis]
timeframes = ["1m"]

[[studies]]
id = "fast"
function = "SMA"
params = { timeperiod = 2 }

[[studies]]
id = "slow"
function = "SMA"
params = { timeperiod = 3 }

[rules]
level = []
band = []
breakout = []

[[rules.cross]]
fast = "fast"
slow = "slow"
up = "t2o_up"
down = "t2o_down"
"#;

const DECISION_CONFIG: &str = r#"
[[strategies]]
id = "t2o"
enabled = true
buy_on = ["t2o_up"]
timeframes = ["1m"]
sizing = { kind = "fixed", quantity = 100 }
"#;

/// What one run measured (seconds, sorted).
#[derive(Debug, Clone)]
pub struct Report {
    /// Bar published → the OMS's `created` event.
    pub created: Vec<f64>,
    /// Bar published → the broker's answer (`sent` or `accepted`).
    pub sent: Vec<f64>,
}

/// Runs the benchmark and writes the report to `out`.
pub async fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<Report> {
    let dir = std::env::temp_dir().join(format!("qts-bench-t2o-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let (ta, decision) = (dir.join("ta.toml"), dir.join("decision.toml"));
    std::fs::write(&ta, TA_CONFIG)?;
    std::fs::write(&decision, DECISION_CONFIG)?;
    let config = fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 10:00:00 +7),
        speed: 0.001,
        universe: fcsim::UniverseSize {
            hose: (args.samples + 10).min(400),
            hnx: 5,
            upcom: 5,
        },
        history_days: 30,
        data_port: 0,
        trading_port: 0,
        ..fcsim::SimConfig::demo()
    };
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.insert("TA_CONFIG".into(), ta.display().to_string());
    env.insert("DECISION_CONFIG".into(), decision.display().to_string());
    let options = Options {
        market: Market::Simulator(Box::new(SimOptions::new(config))),
        data_dir: Some(dir.join("data")),
        ephemeral_ports: true,
        overrides: crate::bench_orders::fleet_overrides(&args.overrides),
        env,
    };
    let token = common::shutdown::CancellationToken::new();
    let fleet = Fleet::start(&options, token.clone()).await?;
    let result = measure(&fleet, args, out).await;
    token.cancel();
    fleet.wait().await?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(fleet: &Fleet, args: &Args, out: &mut impl Write) -> anyhow::Result<Report> {
    crate::gateway::wait_ready(fleet.http_routes(), Duration::from_secs(60)).await?;
    let bus = fleet.event_bus(&args.overrides).await?;
    let addr = |name: &str| fleet.addrs(name).map(|a| a.http);
    let (oms, md) = (addr("oms")?, addr("master-data")?);
    let (ta, decision) = (addr("ta")?, addr("decision")?);
    let http = reqwest::Client::new();
    let get = |url: String| get_json(&http, url);
    // Ready: the OMS reconciled, master data synced (the risk service knows the bands).
    let deadline = Instant::now() + Duration::from_secs(120);
    let securities = loop {
        let status = get(format!("http://{oms}/api/oms/v1/status")).await?;
        let page = get(format!(
            "http://{md}/api/master-data/v1/securities?exchange=HOSE&kind=stock&limit={}",
            args.samples
        ))
        .await?;
        let list = page["securities"].as_array().cloned().unwrap_or_default();
        if status["accepting"] == true
            && list.len() >= args.samples
            && list.iter().all(|s| s["reference"].is_i64())
        {
            break list;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the fleet did not get ready: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let symbols: Vec<(String, i64)> = securities
        .iter()
        .filter_map(|s| Some((s["symbol"].as_str()?.to_owned(), s["reference"].as_i64()?)))
        .collect();
    // The OMS's order events, as they arrive.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut sub = bus
        .subscribe(
            &format!("bench.t2o.{}", std::process::id()),
            &[OMS_ORDER.static_name()],
        )
        .await
        .map_err(|e| anyhow::anyhow!("subscribe: {e}"))?;
    let reader = tokio::spawn(async move {
        while let Ok(Some(d)) = sub.poll(Duration::from_secs(60)).await {
            if let Ok(ev) = d.envelope.decode::<proto::oms::v1::OrderEvent>()
                && let Some(o) = ev.order
                && tx.send((Instant::now(), o.client_id, ev.kind)).is_err()
            {
                break;
            }
        }
    });
    // A last trade of every symbol at its reference: the strategy's price and the risk
    // service's fat-finger base.
    for (symbol, reference) in &symbols {
        let t = proto::market::v1::Trade {
            symbol: symbol.clone(),
            price: *reference,
            quantity: 100,
            ..Default::default()
        };
        bus.publish(
            MARKET_TRADE.static_name(),
            &Envelope::new("bench", symbol, &t),
        )
        .await
        .map_err(|e| anyhow::anyhow!("publish: {e}"))?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let day = time::macros::datetime!(2025-06-10 09:50:00 +7);
    let bar = |symbol: &str, minute: i64, close: i64| proto::market::v1::Bar {
        symbol: symbol.to_owned(),
        start: Some(common::bus::proto_time(
            day + time::Duration::minutes(minute),
        )),
        seconds: 60,
        open: close,
        high: close,
        low: close,
        close,
        volume: 1_000,
        trades: 1,
    };
    let mut created = Vec::new();
    let mut sent = Vec::new();
    let mut missed = 0;
    for (symbol, reference) in symbols.iter().take(args.samples) {
        for m in 0..3 {
            let b = bar(symbol, m, *reference);
            bus.publish(
                MARKET_BAR.static_name(),
                &Envelope::new("bench", symbol, &b),
            )
            .await
            .map_err(|e| anyhow::anyhow!("publish: {e}"))?;
        }
        // The flat bars first (a new symbol is warmed up from historical): then the timed one.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let up = bar(symbol, 3, reference + reference / 50);
        let start = day + time::Duration::minutes(3);
        let client_id = format!(
            "t2o:{}",
            ta::domain::signal_id(symbol, "1m", start, "t2o_up")
        );
        let t0 = Instant::now();
        bus.publish(
            MARKET_BAR.static_name(),
            &Envelope::new("bench", symbol, &up),
        )
        .await
        .map_err(|e| anyhow::anyhow!("publish: {e}"))?;
        let (mut c, mut s) = (None, None);
        let until = t0 + Duration::from_secs(10);
        while s.is_none() {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some((at, id, kind))) if id == client_id => match kind.as_str() {
                    "created" => c = Some(at - t0),
                    // The broker's answer or its stream's report, whichever comes first.
                    "sent" | "accepted" | "rejected" => s = Some((at - t0, kind)),
                    _ => {}
                },
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        match (c, s) {
            (Some(c), Some((s, kind))) => {
                anyhow::ensure!(kind != "rejected", "{client_id} was rejected");
                created.push(c.as_secs_f64());
                sent.push(s.as_secs_f64());
            }
            (c, s) => {
                missed += 1;
                // What the services saw of the sample, for the report.
                let signals = get(format!("http://{ta}/api/ta/v1/signals?symbol={symbol}")).await?;
                let decided = get(format!("http://{decision}/api/decision/v1/decisions")).await?;
                let mine: Vec<&Value> = decided
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|d| d["symbol"] == symbol.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                anyhow::ensure!(
                    missed <= args.samples / 10,
                    "{missed} samples produced no order within 10 s; the last, {client_id}: \
                     created {c:?}, answered {s:?}; TA signals {signals}; decisions {mine:?}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(args.spacing_ms)).await;
    }
    reader.abort();
    created.sort_by(f64::total_cmp);
    sent.sort_by(f64::total_cmp);
    let ms = |v: f64| v * 1e3;
    writeln!(
        out,
        "{} samples on the {} bus ({missed} without an order): bar -> TA -> signal -> decision -> OMS created p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        created.len(),
        bus.kind(),
        ms(quantile(&created, 0.5)),
        ms(quantile(&created, 0.99)),
        ms(quantile(&created, 1.0)),
    )?;
    writeln!(
        out,
        "bar -> ... -> risk -> simulator's answer p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(quantile(&sent, 0.5)),
        ms(quantile(&sent, 0.99)),
        ms(quantile(&sent, 1.0)),
    )?;
    Ok(Report { created, sent })
}
