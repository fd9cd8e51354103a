//! The same cache assertions against the in-memory cache and a real Redis.

use std::time::Duration;

use common::cache::{Cache, Error, MemoryCache, RedisCache};

use crate::helpers::{server, unique};

async fn memory() -> Option<Box<dyn Cache>> {
    Some(Box::new(MemoryCache::new(format!("{}:", unique("t")))))
}

async fn redis() -> Option<Box<dyn Cache>> {
    let url = server("TEST_REDIS_URL")?;
    Some(Box::new(
        RedisCache::connect(&url, format!("{}:", unique("t")))
            .await
            .unwrap(),
    ))
}

async fn set_get_delete(c: Box<dyn Cache>) {
    assert_eq!(c.get("a").await.unwrap(), None);
    c.set("a", b"1", None).await.unwrap();
    assert_eq!(c.get("a").await.unwrap().as_deref(), Some(&b"1"[..]));
    c.set("a", b"2", None).await.unwrap();
    assert_eq!(c.get("a").await.unwrap().as_deref(), Some(&b"2"[..]));
    assert!(c.delete("a").await.unwrap());
    assert!(!c.delete("a").await.unwrap());
    assert_eq!(c.get("a").await.unwrap(), None);
}

async fn values_expire_after_their_ttl(c: Box<dyn Cache>) {
    c.set("t", b"x", Some(Duration::from_millis(150)))
        .await
        .unwrap();
    assert!(c.get("t").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.get("t").await.unwrap(), None);
    assert!(
        c.set_if_absent("t", b"y", None).await.unwrap(),
        "an expired key is absent"
    );
}

async fn set_if_absent_stores_only_once(c: Box<dyn Cache>) {
    assert!(
        c.set_if_absent("lock", b"me", Some(Duration::from_secs(30)))
            .await
            .unwrap()
    );
    assert!(!c.set_if_absent("lock", b"you", None).await.unwrap());
    assert_eq!(c.get("lock").await.unwrap().as_deref(), Some(&b"me"[..]));
}

async fn incr_counts_and_starts_its_window_once(c: Box<dyn Cache>) {
    assert_eq!(
        c.incr("n", 1, Some(Duration::from_millis(300)))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        c.incr("n", 5, Some(Duration::from_secs(60))).await.unwrap(),
        6
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        c.incr("n", 1, None).await.unwrap(),
        1,
        "the first window's TTL held"
    );
    c.set("s", b"abc", None).await.unwrap();
    assert!(matches!(
        c.incr("s", 1, None).await,
        Err(Error::WrongType { .. })
    ));
}

macro_rules! on_both {
    ($($case:ident),*) => {
        mod memory { $( #[tokio::test] async fn $case() { super::$case(super::memory().await.unwrap()).await } )* }
        mod redis { $( #[tokio::test] async fn $case() { let Some(c) = super::redis().await else { return }; super::$case(c).await } )* }
    };
}

on_both!(
    set_get_delete,
    values_expire_after_their_ttl,
    set_if_absent_stores_only_once,
    incr_counts_and_starts_its_window_once
);

#[tokio::test]
async fn prefixes_keep_services_apart() {
    let shared = MemoryCache::new("oms:");
    let risk = shared.with_prefix("risk:");
    shared.set("k", b"oms", None).await.unwrap();
    risk.set("k", b"risk", None).await.unwrap();
    assert_eq!(shared.get("k").await.unwrap().as_deref(), Some(&b"oms"[..]));
    assert_eq!(risk.get("k").await.unwrap().as_deref(), Some(&b"risk"[..]));
}
