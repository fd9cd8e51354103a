//! The broker's view of each account on `oms.account.v1`: published at start and again soon
//! after the account's orders fill, with what the broker reports.

use std::time::Duration;

use common::bus::topics::OMS_ACCOUNT;
use fcsim::config::DEMO_CASH_ACCOUNT;
use proto::oms::v1::AccountSnapshot;

use crate::helpers::{limit, market, spawn_trading, start_sim};

/// The next snapshot of the demo cash account that `accept`s, within 20 s.
async fn next_snapshot(
    sub: &mut Box<dyn common::bus::Subscription>,
    accept: impl Fn(&AccountSnapshot) -> bool,
) -> AccountSnapshot {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot as expected"
        );
        let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() else {
            continue;
        };
        assert_eq!(d.envelope.key, DEMO_CASH_ACCOUNT);
        let s: AccountSnapshot = d.envelope.decode().unwrap();
        if accept(&s) {
            return s;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_snapshot_follows_its_fills() {
    let sim = start_sim(market()).await;
    // Only the start and the changes publish (the interval is an hour).
    let app = spawn_trading(&sim, &[("OMS__ORDERS__ACCOUNT_INTERVAL_SECS", "3600")]).await;
    let mut sub = app
        .app
        .bus
        .subscribe("test.accounts", &[OMS_ACCOUNT.static_name()])
        .await
        .unwrap();
    let (symbol, band) = sim.hose_stock();
    let broker = sim.broker_client();
    let first = next_snapshot(&mut sub, |_| true).await;
    let balance = broker.balance(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(
        first.buying_power,
        balance.buying_power.map(market::Vnd::amount),
        "{first:?}"
    );
    assert!(first.at.is_some());
    assert!(
        !first.positions.iter().any(|p| p.symbol == symbol.as_str()),
        "{first:?}"
    );

    // A buy at the ceiling fills: the broker's view moves, published without waiting an hour.
    let (status, order) = app
        .place(&limit("snap-1", symbol, "buy", band.ceiling.units(), 100))
        .await;
    assert_eq!(status, 201, "{order}");
    let after = next_snapshot(&mut sub, |s| {
        s.positions
            .iter()
            .any(|p| p.symbol == symbol.as_str() && p.quantity == 100)
    })
    .await;
    let held = after
        .positions
        .iter()
        .find(|p| p.symbol == symbol.as_str())
        .unwrap();
    // Bought today: held, not sellable yet (T+2).
    assert_eq!((held.quantity, held.sellable), (100, 0), "{after:?}");
    assert!(
        after.buying_power.unwrap() < first.buying_power.unwrap(),
        "{first:?} -> {after:?}"
    );
    let metrics = app.app.metrics().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("oms_account_snapshots_total{result=\"published\"}")),
        "{metrics}"
    );
}
