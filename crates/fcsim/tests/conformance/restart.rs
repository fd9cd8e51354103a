//! Durable FC Trading state: a simulator stopped and started again on the same data
//! directory keeps its orders, fills, accounts, stream notices and used requestIDs.

use std::time::Duration;

use fastconnect::trading::{NewOrder, RequestId};
use fastconnect::{
    Decimal, Error, OrderStatus, OrderType, ResumeFrom, Side, TradingEvent, TradingEvents,
    TradingMarket,
};
use fcsim::config::{DEMO_CASH_ACCOUNT, DEMO_PIN};
use market::{Exchange, InstrumentKind};
use secrecy::{ExposeSecret as _, SecretString};

use crate::helpers::{
    TestSim, hub_messages, spawn_with, temp_data_dir, trading_client, trading_client_config,
    trading_config,
};

fn pin() -> SecretString {
    DEMO_PIN.to_owned().into()
}

fn rid(n: u32) -> Option<RequestId> {
    Some(RequestId::new(n).unwrap())
}

/// A HOSE stock of the test universe and today's floor in VND.
fn hose_stock(t: &TestSim) -> (String, i64) {
    let g = t.sim.generator();
    let day = g
        .day_index(t.sim.now().to_offset(market::calendar::VN_OFFSET).date())
        .unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    (x.symbol.clone(), g.limits(i, day).unwrap().floor.units())
}

async fn next_where(
    events: &mut TradingEvents,
    what: &str,
    pred: impl Fn(&TradingEvent) -> bool,
) -> TradingEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(e)) if pred(&e) => return e,
            Ok(Some(_)) => {}
            Ok(None) => panic!("stream closed waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn is_order(e: &TradingEvent, id: u32, status: OrderStatus) -> bool {
    matches!(e, TradingEvent::Order(o)
        if o.unique_id.as_deref() == Some(id.to_string().as_str()) && o.order_status == Some(status))
}

fn notify_ids(messages: &[serde_json::Value]) -> Vec<i64> {
    messages
        .iter()
        .map(|m| m["data"]["notifyID"].as_i64().unwrap())
        .collect()
}

async fn token_of(client: &fastconnect::TradingClient) -> String {
    client
        .access_token()
        .await
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_simulator_keeps_orders_fills_accounts_notices_and_request_ids() {
    let dir = temp_data_dir("restart");
    let config = fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    };

    // Before the restart: a filled MTL buy and a resting limit buy at the floor.
    let t = spawn_with(config.clone()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    next_where(&mut events, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    let (symbol, floor) = hose_stock(&t);
    let mut buy = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::ZERO,
        100,
    );
    buy.order_type = OrderType::Mtl;
    buy.request_id = rid(7001);
    client.new_order(buy).await.unwrap();
    next_where(&mut events, "FF of 7001", |e| {
        is_order(e, 7001, OrderStatus::Filled)
    })
    .await;
    let resting = |n: u32| {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(floor),
            200,
        );
        o.request_id = rid(n);
        o
    };
    client.new_order(resting(7002)).await.unwrap();
    next_where(&mut events, "QU of 7002", |e| {
        is_order(e, 7002, OrderStatus::Queued)
    })
    .await;
    let book_before = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let cash_before = client
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    let positions_before = client.stock_position(DEMO_CASH_ACCOUNT).await.unwrap();
    let today = t.sim.now().date();
    let history_before = client
        .order_history(DEMO_CASH_ACCOUNT, today, today)
        .await
        .unwrap();
    let before = hub_messages(&t, &token_of(&client).await, "0").await;
    let ids_before = notify_ids(&before);
    assert!(
        before.len() >= 4,
        "QU, match, FF of 7001, QU of 7002: {before:?}"
    );
    assert_eq!(
        ids_before,
        (1..=i64::try_from(before.len()).unwrap()).collect::<Vec<_>>()
    );
    let last = *ids_before.last().unwrap();
    let mid = ids_before[1];
    let stopped_at = t.sim.now();
    drop(events);
    t.stop().await;
    assert!(dir.join(fcsim::store::STATE_FILE).exists());

    // After the restart, on the same data directory (tokens do not survive: log in again).
    let t = spawn_with(config).await;
    assert!(
        t.sim.now() >= stopped_at,
        "the simulated clock resumes: {} < {stopped_at}",
        t.sim.now()
    );
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    assert_eq!(
        client.order_book(DEMO_CASH_ACCOUNT).await.unwrap(),
        book_before
    );
    assert_eq!(
        client
            .order_history(DEMO_CASH_ACCOUNT, today, today)
            .await
            .unwrap(),
        history_before
    );
    assert_eq!(
        client
            .cash_account_balance(DEMO_CASH_ACCOUNT)
            .await
            .unwrap(),
        cash_before
    );
    assert_eq!(
        client.stock_position(DEMO_CASH_ACCOUNT).await.unwrap(),
        positions_before
    );

    // A requestID used before the restart is still used.
    let err = client.new_order(resting(7001)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("Duplicate requestID")),
        "{err}"
    );

    // A client resuming from its last notifyID gets what is new, nothing twice.
    let (_sub, mut resumed) = client.stream(Some(ResumeFrom::After(last))).unwrap();
    next_where(&mut resumed, "Connected", |e| {
        matches!(e, TradingEvent::Connected)
    })
    .await;
    client.new_order(resting(7003)).await.unwrap();
    let first = next_where(&mut resumed, "first event after the restart", |e| {
        e.notify_id().is_some()
    })
    .await;
    assert!(is_order(&first, 7003, OrderStatus::Queued), "{first:?}");
    assert_eq!(first.notify_id(), Some(last + 1));

    let token = token_of(&client).await;
    let after_last = hub_messages(&t, &token, &last.to_string()).await;
    assert_eq!(notify_ids(&after_last), [last + 1]);
    assert_eq!(after_last[0]["data"]["uniqueID"], "7003");
    // A cursor from the middle of the pre-restart notices misses none of them.
    let after_mid = hub_messages(&t, &token, &mid.to_string()).await;
    assert_eq!(
        notify_ids(&after_mid),
        ((mid + 1)..=(last + 1)).collect::<Vec<_>>()
    );
    assert_eq!(after_mid[..after_mid.len() - 1], before[2..]);
    // NotifyID 0 replays the whole day, the notices from before the restart included.
    let day = hub_messages(&t, &token, "0").await;
    assert_eq!(day[..before.len()], before[..]);
    assert_eq!(notify_ids(&day), (1..=(last + 1)).collect::<Vec<_>>());

    // The new order is in the book next to the old ones.
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(book.orders.len(), book_before.orders.len() + 1);
    assert!(
        book.orders
            .iter()
            .any(|o| o.unique_id.as_deref() == Some("7003")
                && o.order_status == Some(OrderStatus::Queued))
    );
    t.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_stops_the_start_with_its_name() {
    let dir = temp_data_dir("corrupt");
    std::fs::write(dir.join(fcsim::store::STATE_FILE), b"not json").unwrap();
    let config = fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    };
    let err = fcsim::Simulator::new(config).unwrap_err();
    assert!(
        matches!(err, fcsim::Error::State(fcsim::StoreError::Corrupt { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&dir.join(fcsim::store::STATE_FILE).display().to_string()),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_on_disk_right_after_an_ack_already_holds_the_order() {
    let dir = temp_data_dir("crash");
    let t = spawn_with(fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    let mut o = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(8001);
    client.new_order(o.clone()).await.unwrap();
    // A crash right after the ack: copy the state files as they are (not the lock), with
    // the first simulator still running (it never gets to save on stop), and start a
    // second one on the copy. The order is in the journal, not yet in the snapshot.
    let crashed = temp_data_dir("crash-copy");
    for file in [fcsim::store::STATE_FILE, fcsim::store::JOURNAL_FILE] {
        std::fs::copy(dir.join(file), crashed.join(file)).unwrap();
    }
    let after = spawn_with(fcsim::SimConfig {
        data_dir: Some(crashed.clone()),
        ..trading_config()
    })
    .await;
    let client = trading_client(&after);
    client.login(&pin(), true).await.unwrap();
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(
        book.orders
            .iter()
            .any(|o| o.unique_id.as_deref() == Some("8001")
                && o.order_status == Some(OrderStatus::Queued)),
        "{book:?}"
    );
    let err = client.new_order(o).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { message, .. } if message.contains("Duplicate requestID")),
        "{err}"
    );
    let day = hub_messages(&after, &token_of(&client).await, "0").await;
    assert_eq!(day.len(), 1, "{day:?}");
    assert_eq!(day[0]["data"]["uniqueID"], "8001");
    assert_eq!(day[0]["data"]["orderStatus"], "QU");
    after.stop().await;
    t.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(crashed).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_market_maker_quotes_do_not_pile_up_in_the_saved_state() {
    let dir = temp_data_dir("requotes");
    let config = fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        speed: 120.0,
        ..trading_config()
    };
    let t = spawn_with(config).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    // A resting buy at the floor keeps the market maker quoting this symbol.
    let mut buy = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    buy.request_id = rid(8001);
    client.new_order(buy).await.unwrap();
    let start = t.sim.now();
    // Ten simulated minutes: the generator prints many trades, each one a re-quote.
    while t.sim.now() - start < time::Duration::minutes(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.stop().await;
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(fcsim::store::STATE_FILE)).unwrap())
            .unwrap();
    let orders = saved["engine"]["orders"]
        .as_object()
        .expect("orders by id")
        .len();
    let quoted: usize = saved["broker"]["mm_quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q[1][2].as_array().unwrap().len())
        .sum();
    // The client's order plus the market maker's live quotes; replaced quotes are gone.
    assert!(
        orders <= 1 + quoted,
        "{orders} orders kept for {quoted} live quotes"
    );
    let next = saved["engine"]["next_order"].as_u64().unwrap();
    assert!(
        next > orders as u64 + 10,
        "the market maker re-quoted ({next} ids used), so something was dropped"
    );
}

/// Environment variable that turns [`child_simulator`] into a simulator process.
const CHILD_DIR: &str = "FCSIM_TEST_CHILD_DATA_DIR";

/// Not a test on its own: run by [`acknowledged_orders_survive_kill_9`] as a separate process
/// (this test binary, filtered to this test, with `FCSIM_TEST_CHILD_DATA_DIR` set), it
/// serves a simulator on that directory and prints its trading URL, until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_simulator() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let t = spawn_with(fcsim::SimConfig {
        data_dir: Some(dir.into()),
        ..trading_config()
    })
    .await;
    #[allow(clippy::print_stdout)]
    {
        println!("trading {}", t.trading_url);
    }
    std::future::pending::<()>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_kill_9() {
    use std::io::BufRead as _;
    let dir = temp_data_dir("kill9");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "restart::child_simulator",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, &dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                // libtest prints `test <name> ... ` on the same line first.
                l.split_once("trading http://")
                    .map(|(_, rest)| format!("http://{}", rest.trim()))
            })
    });
    let url = match tokio::time::timeout(Duration::from_secs(120), read).await {
        Ok(url) => url.unwrap().expect("the child simulator printed its URL"),
        Err(_) => {
            let _ = child.kill();
            panic!("the child simulator did not start within 120 s");
        }
    };
    let mut config = trading_client_config(&url);
    config.url = url.clone();
    let client = fastconnect::TradingClient::new(config).unwrap();
    client.login(&pin(), true).await.unwrap();
    let g = fcsim::Simulator::new(trading_config()).unwrap();
    let (symbol, floor) = {
        let t = g.generator();
        let day = t.day_index(g.now().date()).unwrap();
        let (i, x) = t
            .universe()
            .instruments()
            .iter()
            .enumerate()
            .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
            .unwrap();
        (x.symbol.clone(), t.limits(i, day).unwrap().floor.units())
    };
    drop(g);
    for n in 9001..=9020 {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(floor),
            100,
        );
        o.request_id = rid(n);
        client.new_order(o).await.unwrap();
    }
    // SIGKILL right after the last acknowledgement: no stop, no final snapshot.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        dir.join(fcsim::store::LOCK_FILE).exists(),
        "the dead child's lock is left"
    );

    let t = spawn_with(fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    })
    .await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let ids: std::collections::BTreeSet<String> = book
        .orders
        .iter()
        .filter_map(|o| o.unique_id.clone())
        .collect();
    let expected: std::collections::BTreeSet<String> =
        (9001..=9020).map(|n: u32| n.to_string()).collect();
    assert_eq!(ids, expected);
    t.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_simulator_on_the_same_data_directory_refuses_to_start() {
    let dir = temp_data_dir("second");
    let config = fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    };
    let first = spawn_with(config.clone()).await;
    let err = fcsim::Simulator::new(config.clone()).unwrap_err();
    assert!(
        matches!(err, fcsim::Error::State(fcsim::StoreError::Locked { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(fcsim::store::LOCK_FILE), "{err}");
    // The running one is untouched and keeps serving.
    let client = trading_client(&first);
    client.login(&pin(), true).await.unwrap();
    client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    // Once it has stopped, the directory is free again.
    first.stop().await;
    assert!(!dir.join(fcsim::store::LOCK_FILE).exists());
    let second = spawn_with(config).await;
    second.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_of_the_previous_format_is_still_read() {
    let dir = temp_data_dir("format2");
    let config = fcsim::SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    };
    let t = spawn_with(config.clone()).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    let (symbol, floor) = hose_stock(&t);
    for (n, price) in [(8101, floor), (8102, floor - 1_000)] {
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(price),
            100,
        );
        o.request_id = rid(n);
        client.new_order(o).await.unwrap();
    }
    let audit_before = client.audit_order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(
        audit_before
            .orders
            .iter()
            .any(|o| o.last_error_event.is_some())
    );
    t.stop().await;
    // Rewrite the snapshot as the previous revision wrote it: format 2, no journal record
    // number, no retention mark or ledger, errors as JSON objects, no journal.
    let path = dir.join(fcsim::store::STATE_FILE);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["format"] = serde_json::json!(2);
    v.as_object_mut().unwrap().remove("journal_seq");
    let broker = v["broker"].as_object_mut().unwrap();
    broker.remove("pruned");
    broker.remove("ledger");
    for entry in broker["meta"].as_array_mut().unwrap() {
        let meta = &mut entry[1];
        if let Some(text) = meta["last_error"].as_str().map(str::to_owned) {
            meta["last_error"] = serde_json::from_str(&text).unwrap();
        }
    }
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    std::fs::remove_file(dir.join(fcsim::store::JOURNAL_FILE)).unwrap();

    let t = spawn_with(config).await;
    let client = trading_client(&t);
    client.login(&pin(), true).await.unwrap();
    assert_eq!(
        client.audit_order_book(DEMO_CASH_ACCOUNT).await.unwrap(),
        audit_before
    );
    t.stop().await;
    // The next snapshot is written in the current format.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["format"], 3);
    std::fs::remove_dir_all(dir).unwrap();
}
