//! Hot lookups are cached and dropped by the change events on `masterdata.security.v1`, on the
//! embedded backends and on real PostgreSQL and Redis.

use std::time::Duration;

use common::bus::Envelope;

use crate::helpers::{TestApp, fresh_database, server, synced};

/// Caches a lookup, changes the row behind the cache's back (as another instance would),
/// checks the cache still answers, then publishes the change event and waits for the
/// lookup to show the change.
async fn a_change_event_drops_the_cached_entry(app: &TestApp, symbol: &str, events: i64) {
    // Every event on the topic (at least one per security: the sync's, published through
    // the outbox) has reached the invalidation follower before the cache is looked at.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let on_topic = events_on_topic(app).await;
        let handled = app.metric("master_data_cache_invalidations_total").await;
        if on_topic >= events && handled >= on_topic as f64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{handled} of {on_topic} events handled (at least {events} expected)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let path = format!("/api/master-data/v1/securities/{symbol}");
    let before = app.get_json(&path, 200).await;
    assert_eq!(before["sector"], "");
    common::on_engine!(app.app.db.pool(), |p| sqlx::query(
        "UPDATE md_securities SET sector = 'Utilities' WHERE symbol = $1"
    )
    .bind(symbol)
    .execute(p)
    .await
    .map(drop))
    .unwrap();
    assert_eq!(
        app.get_json(&path, 200).await["sector"],
        "",
        "served from the cache"
    );

    let event = proto::market::v1::Security {
        symbol: symbol.to_owned(),
        sector: "Utilities".into(),
        ..Default::default()
    };
    app.app
        .bus
        .publish(
            "masterdata.security.v1",
            &Envelope::new("another-instance", symbol, &event),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if app.get_json(&path, 200).await["sector"] == "Utilities" {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache was not invalidated"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many events `masterdata.security.v1` holds now (read by a group of its own).
async fn events_on_topic(app: &TestApp) -> i64 {
    let group = format!("test.count.{}", uuid::Uuid::new_v4().simple());
    let mut sub = app
        .app
        .bus
        .subscribe(&group, &["masterdata.security.v1"])
        .await
        .unwrap();
    let mut n = 0;
    while sub
        .poll(Duration::from_millis(300))
        .await
        .unwrap()
        .is_some()
    {
        n += 1;
    }
    n
}

fn first_symbol(s: &crate::helpers::Sim) -> String {
    s.sim.generator().universe().instruments()[0].symbol.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_the_change_event_invalidates_the_memory_cache() {
    // One sync (the explicit one): a scheduled one could publish while the cache is checked.
    let (s, app) = synced(&[("MASTER_DATA__SYNC__SCHEDULED".into(), "false".into())]).await;
    let n = s.sim.generator().universe().instruments().len();
    a_change_event_drops_the_cached_entry(&app, &first_symbol(&s), n as i64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_and_redis_the_change_event_invalidates_the_shared_cache() {
    let (Some(pg), Some(redis)) = (server("TEST_DATABASE_URL"), server("TEST_REDIS_URL")) else {
        return;
    };
    let db = fresh_database(&pg).await;
    let prefix = format!("md-test-{}:", uuid::Uuid::new_v4().simple());
    let (s, app) = synced(&[
        ("MASTER_DATA__DATABASE__URL".into(), db),
        ("MASTER_DATA__CACHE__KIND".into(), "redis".into()),
        ("MASTER_DATA__CACHE__URL".into(), redis),
        ("MASTER_DATA__CACHE__KEY_PREFIX".into(), prefix),
        ("MASTER_DATA__SYNC__SCHEDULED".into(), "false".into()),
    ])
    .await;
    let info = app.get_json("/api/master-data/v1/info", 200).await;
    assert_eq!(info["backends"]["database"], "postgres");
    assert_eq!(info["backends"]["cache"], "redis");
    let n = s.sim.generator().universe().instruments().len();
    assert_eq!(app.all_securities("", 1000).await.len(), n);
    assert_eq!(
        app.published(n).await.len(),
        n,
        "published from PostgreSQL's outbox"
    );
    a_change_event_drops_the_cached_entry(&app, &first_symbol(&s), n as i64).await;
}
