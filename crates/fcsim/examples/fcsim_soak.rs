//! Memory over a simulated trading day: the simulator in-process (full demo universe,
//! journal in a data directory), C trading clients driving orders through
//! `fastconnect::TradingClient` (new, amend, cancel, marketable buys and sells, queries,
//! each with its trading stream open) and one FC Data client streaming `X-TRADE:ALL` and
//! `X-QUOTE:ALL`, while the process's resident memory is sampled. Figures in
//! docs/performance.md ("fcsim: memory over a day"). Run in release:
//!
//! ```text
//! cargo run --release -p fcsim --example fcsim_soak -- 6.5 20 4 250
//! ```
//!
//! Arguments: simulated hours from 08:50 (6.5: past the close), speed, clients, wall
//! milliseconds between a client's actions, and optionally `retention_days` (default 30;
//! with 1 and several simulated days, old days are dropped at each day roll). Prints one line per sample (every 30 wall
//! seconds) and a summary: RSS after warm-up (the first sample after 10:00 simulated) and
//! at the end, and how much of the difference the day's orders account for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fastconnect::trading::{CancelOrder, ModifyOrder, NewOrder};
use fastconnect::{
    Channel, ChannelKind, DataClient, DataConfig, Decimal, HttpConfig, OrderType, ResumeFrom, Side,
    TradingClient, TradingConfig, TradingMarket,
};
use fcsim::config::{
    AccountConfig, DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN,
    DEMO_PRIVATE_KEY_XML_B64, DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
};
use fcsim::{SimConfig, Simulator};
use market::{Exchange, InstrumentKind};
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

fn out(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Resident set size of this process, MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn account(n: usize) -> String {
    format!("0009{n:02}1")
}

#[derive(Default)]
struct Counters {
    orders: AtomicU64,
    refused: AtomicU64,
    events: AtomicU64,
    market: AtomicU64,
}

#[allow(clippy::too_many_arguments)]
async fn client_loop(
    n: usize,
    url: String,
    symbols: Arc<Vec<(String, i64)>>,
    sim: Simulator,
    end: time::OffsetDateTime,
    every: Duration,
    counters: Arc<Counters>,
    cancel: CancellationToken,
) {
    let mut config = TradingConfig::new(
        DEMO_TRADING_CONSUMER_ID,
        DEMO_TRADING_CONSUMER_SECRET.to_owned().into(),
        DEMO_PRIVATE_KEY_XML_B64.to_owned().into(),
    );
    config.url = url.clone();
    config.hub_url = url;
    config.pin = Some(DEMO_PIN.to_owned().into());
    config.http = HttpConfig {
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    };
    let client = TradingClient::new(config).unwrap();
    client
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    let seen = counters.clone();
    let acct = account(n);
    // Order ids of this client's orders as they queue (uniqueID -> orderID), from the stream.
    let (queued_tx, mut queued) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let mine = acct.clone();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            if e.notify_id().is_some() {
                seen.events.fetch_add(1, Ordering::Relaxed);
            }
            if let fastconnect::TradingEvent::Order(o) = e
                && o.order_status == Some(fastconnect::OrderStatus::Queued)
                && o.account.as_deref() == Some(mine.as_str())
                && let Some(unique) = o.unique_id
            {
                let _ = queued_tx.send((unique, o.order_id));
            }
        }
    });
    let mut k: usize = 0;
    let mut tick = tokio::time::interval(every);
    while sim.now() < end && !cancel.is_cancelled() {
        tick.tick().await;
        k += 1;
        let (symbol, floor) = &symbols[(k + n * 7) % symbols.len()];
        let mut o = NewOrder::limit(
            &acct,
            symbol,
            TradingMarket::Vn,
            if k.is_multiple_of(5) {
                Side::Sell
            } else {
                Side::Buy
            },
            Decimal::from_i64(*floor),
            100,
        );
        if k % 5 < 2 {
            // Marketable: fills against the market maker.
            o.order_type = OrderType::Mtl;
            o.price = Decimal::ZERO;
        }
        // Request ids are per consumer and day: each client has its own range.
        o.request_id = fastconnect::trading::RequestId::new(
            u32::try_from(n * 10_000_000 + k % 10_000_000).unwrap(),
        )
        .ok();
        let resting = o.order_type == OrderType::Lo;
        let request = o
            .request_id
            .map(|r| r.get().to_string())
            .unwrap_or_default();
        let (symbol, side) = (o.instrument_id.clone(), o.side);
        counters.orders.fetch_add(1, Ordering::Relaxed);
        if client.new_order(o).await.is_err() {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if k.is_multiple_of(50) {
            // An occasional poll, as an SDK client does.
            let _ = client.order_book(&acct).await;
        }
        if !resting || k.is_multiple_of(3) {
            continue;
        }
        // Amend then cancel the order just placed, once the stream says it queued.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut order_id = None;
        while let Ok(Some((unique, id))) = tokio::time::timeout_at(deadline, queued.recv()).await {
            if unique == request {
                order_id = Some(id);
                break;
            }
        }
        let Some(order_id) = order_id else {
            continue;
        };
        struct Last {
            instrument_id: String,
            order_id: String,
        }
        let last = Last {
            instrument_id: symbol,
            order_id,
        };
        let _ = client
            .modify_order(ModifyOrder {
                account: acct.clone(),
                instrument_id: last.instrument_id.clone(),
                market: TradingMarket::Vn,
                side,
                order_type: OrderType::Lo,
                order_id: last.order_id.clone(),
                price: Decimal::from_i64(*floor),
                quantity: 200,
                request_id: fastconnect::trading::RequestId::new(
                    u32::try_from(n * 10_000_000 + 5_000_000 + k % 5_000_000).unwrap(),
                )
                .ok(),
                code: None,
            })
            .await;
        let _ = client
            .cancel_order(CancelOrder {
                account: acct.clone(),
                instrument_id: last.instrument_id.clone(),
                market: TradingMarket::Vn,
                side,
                order_id: last.order_id.clone(),
                request_id: fastconnect::trading::RequestId::new(
                    u32::try_from(n * 10_000_000 + 2_500_000 + k % 2_500_000).unwrap(),
                )
                .ok(),
                code: None,
            })
            .await;
        if k.is_multiple_of(20) {
            let _ = client.cash_account_balance(&acct).await;
            let _ = client.stock_position(&acct).await;
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: usize, d: &str| args.get(k).cloned().unwrap_or_else(|| d.to_owned());
    let hours: f64 = arg(1, "6.5").parse().unwrap();
    let speed: f64 = arg(2, "20").parse().unwrap();
    let clients: usize = arg(3, "4").parse().unwrap();
    let every = Duration::from_millis(arg(4, "250").parse().unwrap());
    let retention_days: u32 = arg(5, "30").parse().unwrap();
    let dir = std::env::temp_dir().join(format!("fcsim-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let start = datetime!(2025-06-10 08:50 +7);
    let mut config = SimConfig {
        start,
        speed,
        history_days: 60,
        rate_limits: Vec::new(),
        data_dir: Some(dir.clone()),
        retention_days,
        ..SimConfig::demo()
    };
    for n in 0..clients {
        config.trading_consumers[0].accounts.push(AccountConfig {
            id: account(n),
            cash: 1_000_000_000_000_000,
            positions: vec![
                ("SSI".to_owned(), 100_000_000),
                ("FPT".to_owned(), 100_000_000),
            ],
        });
    }
    let sim = Simulator::new(config).unwrap();
    let g = sim.generator();
    let day = g.day_index(start.date()).unwrap();
    let symbols: Vec<(String, i64)> = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .filter(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .filter(|(_, x)| x.symbol == "SSI" || x.symbol == "FPT" || x.symbol.len() == 3)
        .take(20)
        .map(|(i, x)| (x.symbol.clone(), g.limits(i, day).unwrap().floor.units()))
        .collect();
    let symbols = Arc::new(symbols);
    let data = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trading = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let data_url = format!("http://{}", data.local_addr().unwrap());
    let trading_url = format!("http://{}", trading.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let served = tokio::spawn(fcsim::serve_all(sim.clone(), data, trading, cancel.clone()));

    let counters = Arc::new(Counters::default());
    {
        let mut c = DataConfig::new(
            DEMO_DATA_CONSUMER_ID,
            DEMO_DATA_CONSUMER_SECRET.to_owned().into(),
        );
        c.url = data_url.clone();
        c.hub_url = data_url;
        let data = DataClient::new(c).unwrap();
        let counters = counters.clone();
        tokio::spawn(async move {
            let (_sub, mut events) = data
                .stream([
                    Channel::all(ChannelKind::Trade),
                    Channel::all(ChannelKind::Quote),
                ])
                .unwrap();
            while events.recv().await.is_some() {
                counters.market.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let end = start + time::Duration::seconds_f64(hours * 3600.0);
    let mut tasks = Vec::new();
    for n in 0..clients {
        tasks.push(tokio::spawn(client_loop(
            n,
            trading_url.clone(),
            symbols.clone(),
            sim.clone(),
            end,
            every,
            counters.clone(),
            cancel.clone(),
        )));
    }
    out(&format!(
        "soak: {clients} clients, one action each per {} ms, speed {speed}x, simulated {} to {}",
        every.as_millis(),
        start,
        end
    ));
    out(
        "wall_s  simulated       rss_mb  orders_sent  client_orders  engine_orders  working  notices  stream_events  market_msgs  journal_kb",
    );
    let began = Instant::now();
    let mut warm: Option<(f64, usize)> = None;
    let mut peak = 0.0f64;
    let mut last: (f64, usize);
    loop {
        let done = sim.now() >= end;
        let sizes = sim.sizes().await;
        let rss = rss_mb();
        peak = peak.max(rss);
        let journal =
            std::fs::metadata(dir.join(fcsim::store::JOURNAL_FILE)).map_or(0, |m| m.len());
        out(&format!(
            "{:>6.0}  {}  {:>6.1}  {:>11}  {:>13}  {:>13}  {:>7}  {:>7}  {:>13}  {:>11}  {:>10}",
            began.elapsed().as_secs_f64(),
            {
                let (d, t) = (sim.now().date(), sim.now().time());
                format!(
                    "{:02}-{:02} {:02}:{:02}:{:02}",
                    u8::from(d.month()),
                    d.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            },
            rss,
            counters.orders.load(Ordering::Relaxed),
            sizes.client_orders,
            sizes.orders,
            sizes.working,
            sizes.notices,
            counters.events.load(Ordering::Relaxed),
            counters.market.load(Ordering::Relaxed),
            journal / 1024
        ));
        if warm.is_none() && sim.now().time() >= time::macros::time!(10:00) {
            warm = Some((rss, sizes.client_orders));
        }
        last = (rss, sizes.client_orders);
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    cancel.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let _ = served.await;
    let (warm_rss, warm_orders) = warm.unwrap_or(last);
    let grown = last.0 - warm_rss;
    let orders = last.1.saturating_sub(warm_orders);
    out(&format!(
        "soak: RSS {warm_rss:.1} MB after warm-up (10:00), {:.1} MB at the end, peak {peak:.1} MB; +{grown:.1} MB for {orders} more client orders kept for the day ({:.2} KB each); {} refused",
        last.0,
        if orders > 0 {
            grown * 1024.0 / orders as f64
        } else {
            0.0
        },
        counters.refused.load(Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(dir);
}
