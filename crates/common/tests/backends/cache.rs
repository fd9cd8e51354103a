//! The same cache assertions against the in-memory cache and a real Redis.

use std::time::Duration;

use common::cache::{Cache, Error, MemoryCache, RedisCache};

use crate::helpers::{server, unique};

async fn memory() -> Option<Box<dyn Cache>> {
    Some(Box::new(MemoryCache::new(format!("{}:", unique("t")))))
}

/// Lets `d` pass: the memory cache runs on tokio's paused clock, so time is advanced, not
/// slept; Redis keeps its own clock, so its tests wait for real.
async fn pass(c: &dyn Cache, d: Duration) {
    if c.kind() == "memory" {
        tokio::time::advance(d).await;
    } else {
        tokio::time::sleep(d).await;
    }
}

async fn redis() -> Option<Box<dyn Cache>> {
    let url = server("TEST_REDIS_URL")?;
    Some(Box::new(
        RedisCache::connect(&url, format!("{}:", unique("t")))
            .await
            .unwrap(),
    ))
}

/// The same Redis over TLS (`rediss://`; scripts/test.sh serves a TLS port with a
/// self-signed certificate, so the URL says `#insecure`), as managed Redis requires.
async fn redis_tls() -> Option<Box<dyn Cache>> {
    let url = server("TEST_REDIS_TLS_URL")?;
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
    pass(c.as_ref(), Duration::from_millis(400)).await;
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
    pass(c.as_ref(), Duration::from_millis(500)).await;
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
        mod memory { $( #[tokio::test(start_paused = true)] async fn $case() { super::$case(super::memory().await.unwrap()).await } )* }
        mod redis { $( #[tokio::test] async fn $case() { let Some(c) = super::redis().await else { return }; super::$case(c).await } )* }
        mod redis_tls { $( #[tokio::test] async fn $case() { let Some(c) = super::redis_tls().await else { return }; super::$case(c).await } )* }
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

/// Fills the cache with `n` keys that expire after a second, through one write path.
async fn fill(cache: &MemoryCache, path: &str, n: usize) {
    let ttl = Some(Duration::from_secs(1));
    for i in 0..n {
        let key = format!("{path}-{i}");
        match path {
            "set" => cache.set(&key, b"v", ttl).await.unwrap(),
            "set_if_absent" => assert!(cache.set_if_absent(&key, b"v", ttl).await.unwrap()),
            "incr" => assert_eq!(cache.incr(&key, 1, ttl).await.unwrap(), 1),
            other => unreachable!("{other}"),
        }
    }
}

/// Writes one long-lived key `n` times through one write path.
async fn write(cache: &MemoryCache, path: &str, n: usize) {
    for _ in 0..n {
        match path {
            "set" => cache.set("keep", b"v", None).await.unwrap(),
            "set_if_absent" => {
                cache.set_if_absent("keep", b"v", None).await.unwrap();
            }
            "incr" => {
                cache.incr("keep", 1, None).await.unwrap();
            }
            "delete" => {
                cache.delete("gone").await.unwrap();
            }
            other => unreachable!("{other}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn memory_expiry_is_swept_on_every_write_path_in_bounded_steps() {
    use common::cache::SWEEP_PER_WRITE;
    for (fill_path, write_path) in [
        ("set", "set"),
        ("set_if_absent", "set_if_absent"),
        ("incr", "incr"),
        ("set", "delete"),
    ] {
        let cache = MemoryCache::new("t:");
        fill(&cache, fill_path, 10_000).await;
        assert_eq!(cache.len(), 10_000);
        tokio::time::advance(Duration::from_secs(2)).await;
        write(&cache, write_path, 1).await;
        let after_one = cache.len();
        let added = usize::from(write_path != "delete");
        assert_eq!(
            after_one,
            10_000 - SWEEP_PER_WRITE + added,
            "{write_path}: one write does a bounded amount of sweeping"
        );
        write(&cache, write_path, 10_000 / SWEEP_PER_WRITE).await;
        assert_eq!(
            cache.len(),
            added,
            "{write_path}: every expired entry was swept by later writes"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn memory_entries_that_keep_being_rewritten_do_not_pile_up() {
    let cache = MemoryCache::new("t:");
    for round in 0..1_000 {
        // The same keys, re-written with fresh TTLs: the expiry index holds one entry per key.
        for k in 0..10 {
            cache
                .set(&format!("k{k}"), b"v", Some(Duration::from_secs(60)))
                .await
                .unwrap();
            cache
                .incr(&format!("n{k}"), 1, Some(Duration::from_secs(1)))
                .await
                .unwrap();
        }
        if round % 100 == 0 {
            tokio::time::advance(Duration::from_secs(2)).await;
        }
    }
    assert!(cache.len() <= 20, "{}", cache.len());
    tokio::time::advance(Duration::from_secs(120)).await;
    assert_eq!(cache.get("k1").await.unwrap(), None);
    write(&cache, "set", 10).await;
    assert_eq!(
        cache.len(),
        1,
        "expired keys swept, the reads removed the rest"
    );
}
