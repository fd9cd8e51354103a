//! `qts bench portal`: the trader portal's price board in headless Chromium against `qts up`'s
//! whole simulated market (about 1,550 securities), tokens checked as in production.
//!
//! Measured in the browser itself (the app's `?measure` mode, `assets/app.js`):
//! - first load: from the portal page's navigation (right after signing in) to the board
//!   rendered (`performance.mark("qts-board-ready")`), and the bytes transferred for it (the
//!   page, its script and stylesheet, the session and the board snapshot);
//! - update latency: from an event's publication on the bus (its envelope time) to the frame
//!   that shows it, for every update of a row on screen;
//! - frame times while the board updates (every `requestAnimationFrame` interval).
//!
//! Needs ChromeDriver and Chromium (Debian's `chromium-driver`, `chromium`).

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use crate::bench_orders::quantile;
use crate::fleet::{Fleet, Market, Options, SimOptions};
use crate::webdriver::Browser;

/// `qts bench portal` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many times faster than real time the simulated market runs.
    #[arg(long, default_value_t = 20.0)]
    pub sim_speed: f64,
    /// Seconds of updates to measure after the first load.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// The ChromeDriver binary (Chromium: `$TEST_CHROMIUM`, else /usr/bin/chromium).
    #[arg(long, default_value = "chromedriver")]
    pub chromedriver: String,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Navigation to the board rendered, milliseconds.
    pub first_load_ms: f64,
    /// Bytes transferred for the first load.
    pub first_load_bytes: u64,
    /// Rows on the first tab.
    pub rows: u64,
    /// Bus-to-screen latencies of the updates shown, milliseconds, sorted.
    pub latencies_ms: Vec<f64>,
    /// Frame intervals, milliseconds, sorted.
    pub frames_ms: Vec<f64>,
    /// Script time of each applied stream line (the DOM updates), milliseconds, sorted.
    pub work_ms: Vec<f64>,
}

fn numbers(v: &Value) -> Vec<f64> {
    let mut out: Vec<f64> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    out.sort_by(f64::total_cmp);
    out
}

/// Runs the benchmark and writes the report to `out`.
pub async fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<Report> {
    let dir = std::env::temp_dir().join(format!("qts-bench-portal-{}", std::process::id()));
    let config = fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 10:00:00 +7),
        speed: args.sim_speed,
        history_days: 30,
        data_port: 0,
        trading_port: 0,
        ..fcsim::SimConfig::demo()
    };
    let password = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let options = Options {
        market: Market::Simulator(Box::new(SimOptions::new(config))),
        data_dir: Some(dir.clone()),
        ephemeral_ports: true,
        overrides: Vec::new(),
        env: HashMap::from([
            (
                "SSO__BOOTSTRAP__ADMIN_PASSWORD".to_owned(),
                password.clone(),
            ),
            ("SSO__PASSWORDS__MEMORY_KIB".to_owned(), "8192".to_owned()),
        ]),
    };
    let token = common::shutdown::CancellationToken::new();
    let fleet = Fleet::start(&options, token.clone()).await?;
    let result = measure(&fleet, args, &password, token.clone(), out).await;
    token.cancel();
    fleet.wait().await?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    fleet: &Fleet,
    args: &Args,
    password: &str,
    token: common::shutdown::CancellationToken,
    out: &mut impl Write,
) -> anyhow::Result<Report> {
    let routes = fleet.http_routes();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let gateway = format!("http://{}", listener.local_addr()?);
    tokio::spawn(crate::gateway::serve(
        listener,
        crate::gateway::router(routes.clone()),
        token,
    ));
    crate::gateway::wait_ready(routes, Duration::from_secs(60)).await?;
    let browser = Browser::start(&args.chromedriver, 1500, 900).await?;
    browser
        .sign_in_to_portal(&gateway, "?measure", "admin", password)
        .await?;
    let load = browser
        .script(
            "const ready = performance.getEntriesByName('qts-board-ready')[0];
             const nav = performance.getEntriesByType('navigation')[0];
             const bytes = performance.getEntriesByType('resource')
               .reduce((sum, r) => sum + (r.transferSize || 0), nav.transferSize || 0);
             return {ready: ready ? ready.startTime : null, bytes,
                     rows: document.querySelectorAll('#rows tr').length};",
        )
        .await?;
    let first_load_ms = load["ready"].as_f64().context("the board's ready mark")?;
    let first_load_bytes = load["bytes"].as_u64().unwrap_or(0);
    let rows = load["rows"].as_u64().unwrap_or(0);
    // The market is trading: measure from now.
    browser
        .script(
            "qtsMetrics.latencies = []; qtsMetrics.frames = []; qtsMetrics.updates = 0; return 0",
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let m = browser
        .script("return {latencies: qtsMetrics.latencies, frames: qtsMetrics.frames, work: qtsMetrics.work, updates: qtsMetrics.updates};")
        .await?;
    let report = Report {
        first_load_ms,
        first_load_bytes,
        rows,
        latencies_ms: numbers(&m["latencies"]),
        frames_ms: numbers(&m["frames"]),
        work_ms: numbers(&m["work"]),
    };
    let over = report.frames_ms.iter().filter(|f| **f > 16.7).count();
    writeln!(
        out,
        "portal board, whole market at {}x, {} s, {} rows on screen",
        args.sim_speed, args.seconds, report.rows
    )?;
    writeln!(
        out,
        "first load: {:.0} ms to the board, {} bytes transferred",
        report.first_load_ms, report.first_load_bytes
    )?;
    let l = &report.latencies_ms;
    writeln!(
        out,
        "bus to screen: {} row updates shown, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        l.len(),
        quantile(l, 0.5),
        quantile(l, 0.99),
        l.last().copied().unwrap_or(f64::NAN)
    )?;
    let f = &report.frames_ms;
    writeln!(
        out,
        "frames: {} frames, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} over 16.7 ms",
        f.len(),
        quantile(f, 0.5),
        quantile(f, 0.95),
        quantile(f, 0.99),
        f.last().copied().unwrap_or(f64::NAN),
        over
    )?;
    browser.close().await?;
    let w = &report.work_ms;
    writeln!(
        out,
        "script per stream line: {} lines, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        w.len(),
        quantile(w, 0.5),
        quantile(w, 0.95),
        w.last().copied().unwrap_or(f64::NAN)
    )?;
    Ok(report)
}
