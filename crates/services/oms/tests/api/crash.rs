//! The OMS binary killed with SIGKILL in the middle of a burst of orders, on PostgreSQL, and
//! started again: every order the clients asked for exists exactly once at the broker, none
//! twice, and the account's holdings moved by exactly the fills the OMS recorded.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::service::testing::{fresh_database, server};
use fcsim::config::DEMO_CASH_ACCOUNT;
use serde_json::{Value, json};

use crate::helpers::{TestSim, market, start_sim};

/// Free loopback ports (bound and released: the child process binds them next).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

struct Child {
    process: tokio::process::Child,
    base: String,
}

/// Starts the `oms` binary as a deployment would: environment settings only.
async fn start(env: &[(String, String)], http: &reqwest::Client) -> Child {
    let process = tokio::process::Command::new(env!("CARGO_BIN_EXE_oms"))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the oms binary");
    let port = &env.iter().find(|(k, _)| k == "OMS__HTTP__PORT").unwrap().1;
    let base = format!("http://127.0.0.1:{port}/api/oms/v1");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/status")).send().await
            && let Ok(s) = r.json::<Value>().await
            && s["accepting"] == true
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "oms never accepted orders"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Child { process, base }
}

/// The order `i` of the burst: every third a market-to-limit buy that fills, the rest limit
/// buys at the floor that rest.
fn order(i: usize, symbol: &str, floor: i64) -> Value {
    if i.is_multiple_of(3) {
        json!({"client_id": format!("burst-{i}"), "account": DEMO_CASH_ACCOUNT, "symbol": symbol,
               "side": "buy", "order_type": "MTL", "quantity": 100})
    } else {
        json!({"client_id": format!("burst-{i}"), "account": DEMO_CASH_ACCOUNT, "symbol": symbol,
               "side": "buy", "order_type": "LO", "price": floor, "quantity": 100})
    }
}

async fn place(http: &reqwest::Client, base: &str, body: &Value) -> Option<Value> {
    let r = http
        .post(format!("{base}/orders"))
        .json(body)
        .send()
        .await
        .ok()?;
    if r.status() != 201 {
        return None;
    }
    r.json().await.ok()
}

/// The broker's holdings of the demo cash account, by symbol.
async fn holdings(sim: &TestSim) -> HashMap<String, u64> {
    sim.broker_client()
        .positions(DEMO_CASH_ACCOUNT)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.symbol.to_string(), p.quantity.units()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_in_a_burst_of_orders_loses_none_and_doubles_none() {
    let Some(pg) = server("TEST_DATABASE_URL") else {
        return;
    };
    let database = fresh_database(&pg, "oms_crash").await.unwrap();
    let sim = start_sim(market()).await;
    let (symbol, band) = sim.hose_stock();
    let data = tempfile::tempdir().unwrap();
    let [http_port, grpc_port, admin_port] = free_ports();
    let mut env = sim.env();
    env.extend([
        ("OMS__DATABASE__URL".to_owned(), database),
        (
            "OMS__DATA_DIR".to_owned(),
            data.path().display().to_string(),
        ),
        ("OMS__HTTP__PORT".to_owned(), http_port.to_string()),
        ("OMS__GRPC__PORT".to_owned(), grpc_port.to_string()),
        ("OMS__ADMIN__PORT".to_owned(), admin_port.to_string()),
        // The crash, not tokens: the burst is sent without them.
        ("OMS__AUTH__ENABLED".to_owned(), "false".to_owned()),
    ]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let before = holdings(&sim).await;

    // A burst of 24 orders from 24 clients at once; SIGKILL once a third are answered.
    const N: usize = 24;
    let mut child = start(&env, &http).await;
    let (tx, mut answered) = tokio::sync::mpsc::unbounded_channel();
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..N {
        let (http, base, tx) = (http.clone(), child.base.clone(), tx.clone());
        let body = order(i, symbol.as_str(), band.floor.units());
        burst.spawn(async move {
            let r = place(&http, &base, &body).await;
            let _ = tx.send(());
            (i, r)
        });
    }
    for _ in 0..N / 3 {
        answered.recv().await.unwrap();
    }
    child.process.start_kill().unwrap();
    child.process.wait().await.unwrap();
    let mut first: HashMap<usize, Value> = HashMap::new();
    while let Some(r) = burst.join_next().await {
        let (i, r) = r.unwrap();
        if let Some(o) = r {
            first.insert(i, o);
        }
    }
    assert!(
        first.len() >= N / 3 && first.len() < N,
        "killed mid-burst: {} answered",
        first.len()
    );

    // Started again, every client retries with its own client id, as a client must after an
    // error: an answered order comes back the same, an unanswered one is placed (once).
    let child = start(&env, &http).await;
    for i in 0..N {
        let again = place(
            &http,
            &child.base,
            &order(i, symbol.as_str(), band.floor.units()),
        )
        .await
        .unwrap_or_else(|| panic!("burst-{i} refused after the restart"));
        if let Some(o) = first.get(&i) {
            assert_eq!(again["id"], o["id"], "burst-{i} answered the same order");
        }
    }
    // Settled: nothing unconfirmed, every marketable order filled.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let orders = loop {
        let status: Value = http
            .get(format!("{}/status", child.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let orders: Value = http
            .get(format!("{}/orders?limit=1000", child.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let orders = orders.as_array().unwrap().clone();
        let settled = status["unconfirmed_actions"] == 0
            && orders
                .iter()
                .all(|o| o["order_type"] != "MTL" || o["status"] == "filled")
            && orders.iter().all(|o| o["status"] != "pending_new");
        if settled {
            break orders;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not settled: {status} {orders:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(orders.len(), N, "one order per client id");

    // The broker has each exactly once, and nothing else.
    let book = sim
        .broker_client()
        .order_book(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    assert_eq!(book.len(), N, "{book:#?}");
    for o in &orders {
        let rid = o["request_id"].as_u64().unwrap();
        let at_broker = book
            .iter()
            .filter(|b| {
                b.client_order_id
                    .or(b.last_action_id)
                    .map(|c| u64::from(c.get()))
                    == Some(rid)
            })
            .count();
        assert_eq!(
            at_broker, 1,
            "{} (requestID {rid}) at the broker",
            o["client_id"]
        );
    }
    // Holdings moved by exactly what the OMS recorded as filled.
    let fills: Value = http
        .get(format!("{}/fills?limit=1000", child.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let filled: u64 = fills
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["quantity"].as_u64().unwrap())
        .sum();
    let broker_filled: u64 = book.iter().map(|b| b.filled.units()).sum();
    assert_eq!(
        filled, broker_filled,
        "fills recorded = fills at the broker"
    );
    let after = holdings(&sim).await;
    let moved = after.get(symbol.as_str()).copied().unwrap_or(0)
        - before.get(symbol.as_str()).copied().unwrap_or(0);
    assert_eq!(moved, filled, "holdings of {symbol} moved by the fills");
    assert!(filled >= 100 * (N as u64 / 3), "every MTL filled: {filled}");
}
