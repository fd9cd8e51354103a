//! Measured throughput of the simulator, in-process on free ports (figures in
//! docs/performance.md, "## fcsim"). Run in release:
//!
//! ```text
//! cargo run --release -p fcsim --example fcsim_bench -- orders 20000 16
//! cargo run --release -p fcsim --example fcsim_bench -- orders 20000 16 /tmp/fcsim-bench
//! cargo run --release -p fcsim --example fcsim_bench -- orders 20000 16 /tmp/fcsim-bench fsync
//! cargo run --release -p fcsim --example fcsim_bench -- stream 10 60
//! cargo run --release -p fcsim --example fcsim_bench -- history 3
//! ```
//!
//! `orders N C`: N signed `NewOrder` requests from C concurrent HTTP clients (bodies signed
//! beforehand with the demo key, so the figure is the server: HTTP, bearer check, quota,
//! `X-Signature` verification, JSON, `requestID`, engine entry and stream notices). Every
//! answer must be `status: 200` and the order book must hold N orders. With DIR, the
//! simulator journals its trading state there (`data_dir`, emptied first) before every
//! answer; with `fsync` too, it also `fdatasync`s the journal (`journal_fsync`).
//!
//! `history H`: H (at most 3) `DailyIndex` requests over the whole history (561 trading
//! days) of HNXUpcomIndex, VNINDEX and HNXIndex (disjoint constituents, so no cache helps)
//! run at once, while `orderBook` is queried every
//! 20 ms; prints how long the history took and the `orderBook` latencies meanwhile.
//!
//! `stream S X`: the full universe at X× speed from 10:00; `fastconnect::DataClient`
//! subscribed to `X-TRADE:ALL` and `X-QUOTE:ALL` counts decoded messages for S wall seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use fastconnect::trading::RequestSigner;
use fastconnect::{Channel, ChannelKind, DataClient, DataConfig, HttpConfig, MarketEvent};
use fcsim::config::{
    AccountConfig, DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN,
    DEMO_PRIVATE_KEY_XML_B64, DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
};
use fcsim::{SimConfig, Simulator};
use market::{Exchange, InstrumentKind};
use serde_json::{Value, json};
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "0009001";

fn out(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

async fn start(config: SimConfig) -> (Simulator, String, String, CancellationToken) {
    let sim = Simulator::new(config).unwrap();
    let data = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trading = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let data_url = format!("http://{}", data.local_addr().unwrap());
    let trading_url = format!("http://{}", trading.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(fcsim::serve_all(sim.clone(), data, trading, cancel.clone()));
    (sim, data_url, trading_url, cancel)
}

async fn orders(n: usize, concurrency: usize, dir: Option<std::path::PathBuf>, fsync: bool) {
    if let Some(dir) = &dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut config = SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        history_days: 60,
        rate_limits: Vec::new(),
        data_dir: dir.clone(),
        journal_fsync: fsync,
        ..SimConfig::demo()
    };
    config.trading_consumers[0].accounts.push(AccountConfig {
        id: ACCOUNT.to_owned(),
        cash: 1_000_000_000_000_000,
        positions: Vec::new(),
    });
    let (sim, _, url, cancel) = start(config).await;
    let g = sim.generator();
    let day = g
        .day_index(sim.now().to_offset(market::calendar::VN_OFFSET).date())
        .unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    let floor = g.limits(i, day).unwrap().floor.units();
    let symbol = x.symbol.clone();

    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{url}/api/v2/Trading/AccessToken"))
        .json(&json!({"consumerID": DEMO_TRADING_CONSUMER_ID, "consumerSecret": DEMO_TRADING_CONSUMER_SECRET,
            "twoFactorType": 0, "code": DEMO_PIN, "isSave": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["accessToken"].as_str().unwrap().to_owned();
    let signer = RequestSigner::from_key(&DEMO_PRIVATE_KEY_XML_B64.to_owned().into()).unwrap();
    let bodies: Vec<(String, String)> = (0..n)
        .map(|k| {
            let body =
                json!({"instrumentID": symbol, "market": "VN", "buySell": "B", "orderType": "LO",
                "channelID": "TA", "price": floor, "quantity": 100, "account": ACCOUNT,
                "requestID": format!("{}", 10_000_000 + k), "stopOrder": false, "stopPrice": 0,
                "stopType": "", "stopStep": 0, "lossStep": 0, "profitStep": 0,
                "deviceId": "00:11:22:33:44:55", "userAgent": "fcsim-bench"})
                .to_string();
            let sig = signer.sign(body.as_bytes()).unwrap();
            (body, sig)
        })
        .collect();
    let chunks: Vec<Vec<(String, String)>> = bodies
        .chunks(n.div_ceil(concurrency).max(1))
        .map(<[_]>::to_vec)
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(chunk.len());
            for (body, sig) in chunk {
                let t = Instant::now();
                let v: Value = http
                    .post(format!("{url}/api/v2/Trading/NewOrder"))
                    .header("Authorization", format!("Bearer {token}"))
                    .header("X-Signature", sig)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(v["status"], 200, "{v}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    lat.sort();
    let book: Value = http
        .get(format!("{url}/api/v2/Trading/orderBook?account={ACCOUNT}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let held = book["data"]["orders"].as_array().map_or(0, Vec::len);
    assert_eq!(held, n, "every order reached the engine");
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let saved = dir.map_or_else(String::new, |d| {
        let size = |f: &str| std::fs::metadata(d.join(f)).map_or(0, |m| m.len()) / 1024;
        format!(
            ", journaled to {}{} (journal {} KB, snapshot {} KB at the end)",
            d.display(),
            if fsync { " with fdatasync" } else { "" },
            size(fcsim::store::JOURNAL_FILE),
            size(fcsim::store::STATE_FILE)
        )
    });
    out(&format!(
        "orders: {n} NewOrder via HTTP+signature+engine, {concurrency} clients: {:.2} s, {:.0} orders/s, latency p50 {:.2} ms, p99 {:.2} ms{saved}",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    ));
    cancel.cancel();
}

async fn stream(secs: u64, speed: f64) {
    let config = SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        speed,
        history_days: 60,
        ..SimConfig::demo()
    };
    let (_sim, url, _, cancel) = start(config).await;
    let mut config = DataConfig::new(
        DEMO_DATA_CONSUMER_ID,
        DEMO_DATA_CONSUMER_SECRET.to_owned().into(),
    );
    config.url = url.clone();
    config.hub_url = url;
    config.http = HttpConfig {
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    };
    let client = DataClient::new(config).unwrap();
    let (_sub, mut events) = client
        .stream([
            Channel::all(ChannelKind::Trade),
            Channel::all(ChannelKind::Quote),
        ])
        .unwrap();
    loop {
        if let Some(MarketEvent::Connected) = events.recv().await {
            break;
        }
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let (mut trades, mut quotes) = (0u64, 0u64);
    while let Ok(Some(e)) = tokio::time::timeout(
        until.saturating_duration_since(Instant::now()),
        events.recv(),
    )
    .await
    {
        match e {
            MarketEvent::Trade(_) => trades += 1,
            MarketEvent::Quote(_) => quotes += 1,
            MarketEvent::Connected
            | MarketEvent::Disconnected { .. }
            | MarketEvent::SecurityStatus(_)
            | MarketEvent::Snapshot(_)
            | MarketEvent::ForeignRoom(_)
            | MarketEvent::Index(_)
            | MarketEvent::Bar(_)
            | MarketEvent::OddLot(_) => {}
            other @ (MarketEvent::HubError(_) | MarketEvent::Malformed { .. }) => {
                out(&format!("unexpected: {other:?}"));
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    out(&format!(
        "stream: X-TRADE:ALL + X-QUOTE:ALL, {} instruments at {speed}x: {} messages in {wall:.1} s = {:.0} messages/s ({trades} trades, {quotes} quotes), decoded by fastconnect::DataClient",
        _sim.generator().universe().instruments().len(),
        trades + quotes,
        (trades + quotes) as f64 / wall
    ));
    cancel.cancel();
}

async fn history(requests: usize) {
    let config = SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        rate_limits: Vec::new(),
        ..SimConfig::demo()
    };
    let (sim, data_url, url, cancel) = start(config).await;
    let http = reqwest::Client::new();
    let login = |url: String, body: Value| {
        let http = http.clone();
        async move {
            let v: Value = http
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["data"]["accessToken"].as_str().unwrap().to_owned()
        }
    };
    let data_token = login(
        format!("{data_url}/api/v2/Market/AccessToken"),
        json!({"consumerID": DEMO_DATA_CONSUMER_ID, "consumerSecret": DEMO_DATA_CONSUMER_SECRET}),
    )
    .await;
    let token = login(
        format!("{url}/api/v2/Trading/AccessToken"),
        json!({"consumerID": DEMO_TRADING_CONSUMER_ID, "consumerSecret": DEMO_TRADING_CONSUMER_SECRET,
            "twoFactorType": 0, "code": DEMO_PIN, "isSave": true}),
    )
    .await;
    let book = format!("{url}/api/v2/Trading/orderBook?account=0001001");
    // Indices with disjoint constituents, biggest first.
    let indices: Vec<String> = ["HNXUpcomIndex", "VNINDEX", "HNXIndex"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let first = sim.generator().days().first().copied().unwrap();
    let from = format!(
        "{:02}/{:02}/{}",
        first.day(),
        u8::from(first.month()),
        first.year()
    );
    let started = Instant::now();
    let tasks: Vec<_> = indices
        .iter()
        .take(requests)
        .map(|index| {
            let url = format!(
                "{data_url}/api/v2/Market/DailyIndex?indexId={index}&fromDate={from}&toDate=10/06/2025&pageIndex=1&pageSize=1000"
            );
            let (http, token, index) = (http.clone(), data_token.clone(), index.clone());
            tokio::spawn(async move {
                let v: Value = http
                    .get(url)
                    .header("Authorization", format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(v["status"], "Success", "{v}");
                (index, started.elapsed())
            })
        })
        .collect();
    let mut lat = Vec::new();
    while tasks.iter().any(|t| !t.is_finished()) {
        let t = Instant::now();
        let v: Value = http
            .get(&book)
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], 200, "{v}");
        lat.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut done = Vec::new();
    for t in tasks {
        let (index, took) = t.await.unwrap();
        done.push(format!("{index} {:.1} s", took.as_secs_f64()));
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    out(&format!(
        "history: {requests} DailyIndex requests over {} trading days ({}), meanwhile {} orderBook queries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sim.generator().days().len(),
        done.join(", "),
        lat.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    ));
    cancel.cancel();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: usize, d: &str| args.get(k).cloned().unwrap_or_else(|| d.to_owned());
    match arg(1, "orders").as_str() {
        "orders" => {
            orders(
                arg(2, "20000").parse().unwrap(),
                arg(3, "16").parse().unwrap(),
                args.get(4).map(std::path::PathBuf::from),
                args.get(5).is_some_and(|a| a == "fsync"),
            )
            .await
        }
        "stream" => stream(arg(2, "10").parse().unwrap(), arg(3, "60").parse().unwrap()).await,
        "history" => history(arg(2, "3").parse().unwrap()).await,
        other => {
            panic!("unknown mode {other}: orders N C [DIR [fsync]] | stream SECS SPEED | history H")
        }
    }
}
