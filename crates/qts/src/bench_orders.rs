//! `qts bench orders`: the order round trip of `qts up` — a REST order through the OMS, the
//! risk service's check and the simulator's FC Trading API until the broker's answer — and the
//! time until a marketable order is filled, p50/p99 over sequential orders.
//!
//! Orders are spaced below SSI's trading rate limit (5 requests/s, which the client keeps), so
//! what is measured is latency, not the client waiting for its quota.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::fleet::{Fleet, Market, Options, SimOptions};

/// `qts bench orders` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Resting limit orders to time (placed one by one).
    #[arg(long, default_value_t = 60)]
    pub orders: usize,
    /// Marketable orders timed until filled.
    #[arg(long, default_value_t = 20)]
    pub fills: usize,
    /// Milliseconds between orders (SSI allows 5 trading requests per second).
    #[arg(long, default_value_t = 250)]
    pub spacing_ms: u64,
}

/// What one run measured (seconds).
#[derive(Debug, Clone)]
pub struct Report {
    /// Placement round trips (REST in, broker's answer out), sorted.
    pub placed: Vec<f64>,
    /// Order to filled, sorted.
    pub filled: Vec<f64>,
}

/// The settings every benchmark's fleet runs with: `given`, then tokens off (a benchmark of
/// the trading path, not of access control).
pub(crate) fn fleet_overrides(given: &[(String, String)]) -> Vec<(String, String)> {
    given
        .iter()
        .cloned()
        .chain([("auth.enabled".to_owned(), "false".to_owned())])
        .collect()
}

/// The `q` quantile of `sorted` (nearest rank); NaN when empty.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// GETs `url` as JSON.
pub(crate) async fn get_json(http: &reqwest::Client, url: String) -> anyhow::Result<Value> {
    Ok(http.get(url).send().await?.json::<Value>().await?)
}

/// Runs the benchmark and writes the report to `out`.
pub async fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<Report> {
    let dir = std::env::temp_dir().join(format!("qts-bench-orders-{}", std::process::id()));
    let config = fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 09:30:00 +7),
        speed: 1.0,
        universe: fcsim::UniverseSize {
            hose: 30,
            hnx: 10,
            upcom: 10,
        },
        history_days: 30,
        data_port: 0,
        trading_port: 0,
        ..fcsim::SimConfig::demo()
    };
    let options = Options {
        market: Market::Simulator(Box::new(SimOptions::new(config))),
        data_dir: Some(dir.clone()),
        ephemeral_ports: true,
        overrides: fleet_overrides(&[]),
        env: HashMap::new(),
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
    let (oms, md) = (fleet.addrs("oms")?.http, fleet.addrs("master-data")?.http);
    let http = reqwest::Client::new();
    let get = |url: String| get_json(&http, url);
    // Ready: the OMS reconciled, master data synced (the risk service knows the securities).
    let deadline = Instant::now() + Duration::from_secs(120);
    let security = loop {
        let status = get(format!("http://{oms}/api/oms/v1/status")).await?;
        let page = get(format!(
            "http://{md}/api/master-data/v1/securities?exchange=HOSE&kind=stock&limit=1"
        ))
        .await?;
        if status["accepting"] == true && page["securities"][0]["floor"].is_i64() {
            break page["securities"][0].clone();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the fleet did not get ready: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let symbol = security["symbol"].as_str().context("a symbol")?.to_owned();
    let floor = security["floor"].as_i64().context("a floor")?;
    // The risk service reads the bus once the fleet is up: give it a first order to answer.
    let spacing = Duration::from_millis(args.spacing_ms);
    let place = |client_id: String, body: Value| {
        let http = http.clone();
        async move {
            let started = Instant::now();
            let r = http
                .post(format!("http://{oms}/api/oms/v1/orders"))
                .json(&body)
                .send()
                .await?;
            let elapsed = started.elapsed().as_secs_f64();
            let order: Value = r.json().await?;
            anyhow::ensure!(
                order["status"] != "rejected",
                "{client_id} was rejected: {order}"
            );
            Ok::<_, anyhow::Error>((elapsed, order))
        }
    };
    let run = std::process::id();
    let mut placed = Vec::new();
    let mut warm = 0;
    while placed.len() < args.orders {
        let id = format!("bench-{run}-lo-{}", placed.len() + warm);
        let body = json!({"client_id": id, "account": fcsim::config::DEMO_CASH_ACCOUNT,
            "symbol": symbol, "side": "buy", "order_type": "LO", "price": floor, "quantity": 100});
        match place(id, body).await {
            Ok((t, _)) => placed.push(t),
            // Only while the risk service is still reading the bus.
            Err(e) if warm < 100 && e.to_string().contains("risk check unavailable") => warm += 1,
            Err(e) => return Err(e),
        }
        tokio::time::sleep(spacing).await;
    }
    let mut filled = Vec::new();
    for i in 0..args.fills {
        let id = format!("bench-{run}-mtl-{i}");
        let body = json!({"client_id": id, "account": fcsim::config::DEMO_CASH_ACCOUNT,
            "symbol": symbol, "side": "buy", "order_type": "MTL", "quantity": 100});
        let started = Instant::now();
        let (_, order) = place(id, body).await?;
        let oid = order["id"].as_str().context("an order id")?.to_owned();
        loop {
            let o = get(format!("http://{oms}/api/oms/v1/orders/{oid}")).await?;
            if o["status"] == "filled" {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "not filled: {o}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        filled.push(started.elapsed().as_secs_f64());
        tokio::time::sleep(spacing).await;
    }
    placed.sort_by(f64::total_cmp);
    filled.sort_by(f64::total_cmp);
    let ms = |v: f64| v * 1e3;
    writeln!(
        out,
        "placed {} resting LO orders ({} ms apart): REST -> risk -> OMS -> simulator answer p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        placed.len(),
        args.spacing_ms,
        ms(quantile(&placed, 0.5)),
        ms(quantile(&placed, 0.99)),
        ms(quantile(&placed, 1.0)),
    )?;
    writeln!(
        out,
        "{} marketable MTL orders until the OMS recorded them filled: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        filled.len(),
        ms(quantile(&filled, 0.5)),
        ms(quantile(&filled, 0.99)),
        ms(quantile(&filled, 1.0)),
    )?;
    Ok(Report { placed, filled })
}
