//! Cache: Redis in production, an in-process map in embedded mode, behind one trait.
//!
//! Every key is prefixed with the owning service's prefix (default `{service}:`), so services
//! sharing one Redis never collide. Values are bytes; TTLs are optional. The conformance tests in
//! `tests/backends/cache.rs` run the same assertions against both implementations.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use tokio::time::Instant;

use crate::error::{Classify, Kind};

/// Cache failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis refused or is unreachable.
    #[error("redis failed")]
    Redis(#[from] redis::RedisError),
    /// The stored value is not what the operation needs (e.g. `incr` on non-numbers).
    #[error("value at {key} is not {expected}")]
    WrongType {
        /// Key (without prefix).
        key: String,
        /// What the operation needed.
        expected: &'static str,
    },
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Redis(_) => Kind::Unavailable,
            Error::WrongType { .. } => Kind::FailedPrecondition,
        }
    }
}

/// A shared cache handle.
pub type SharedCache = Arc<dyn Cache>;

/// Key-value cache operations the fleet needs.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The value at `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Stores `value`, replacing any value, expiring after `ttl` if given.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), Error>;
    /// Stores `value` only if `key` is absent; returns whether it was stored (locks, dedup).
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, Error>;
    /// Removes `key`; returns whether it existed.
    async fn delete(&self, key: &str) -> Result<bool, Error>;
    /// Adds `by` to the integer at `key` (0 if absent) and returns the new value. When the key
    /// is created by this call and `ttl` is given, it expires after `ttl` (rate-limit windows).
    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, Error>;
    /// `"memory"` or `"redis"`.
    fn kind(&self) -> &'static str;
}

/// The in-process cache.
///
/// Expired entries are dropped on every write path (`set`, `set_if_absent`, `incr`,
/// `delete`): each write removes up to [`SWEEP_PER_WRITE`] entries whose time has passed,
/// found through an index ordered by expiry, so the work per write is bounded (no full scan)
/// and, as each write adds at most one entry, expired entries never pile up. A read of an
/// expired key removes it too.
#[derive(Default, Clone)]
pub struct MemoryCache {
    prefix: String,
    inner: Arc<Mutex<Entries>>,
}

/// Expired entries removed per write.
pub const SWEEP_PER_WRITE: usize = 4;

#[derive(Clone)]
struct Entry {
    value: Vec<u8>,
    expires: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|t| t > now)
    }
}

/// The map and its expiry index; every entry with a TTL has exactly one index entry.
#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    expiry: BTreeSet<(Instant, String)>,
}

impl Entries {
    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.map.get(key).filter(|e| e.live(now))
    }

    fn insert(&mut self, key: String, entry: Entry) {
        if let Some(t) = self.map.get(&key).and_then(|old| old.expires) {
            self.expiry.remove(&(t, key.clone()));
        }
        if let Some(t) = entry.expires {
            self.expiry.insert((t, key.clone()));
        }
        self.map.insert(key, entry);
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.map.remove(key)?;
        if let Some(t) = entry.expires {
            self.expiry.remove(&(t, key.to_owned()));
        }
        Some(entry)
    }

    /// Removes up to `SWEEP_PER_WRITE` expired entries, oldest expiry first.
    fn sweep(&mut self, now: Instant) {
        for _ in 0..SWEEP_PER_WRITE {
            match self.expiry.first() {
                Some((t, _)) if *t <= now => {}
                _ => return,
            }
            if let Some((_, key)) = self.expiry.pop_first() {
                self.map.remove(&key);
            }
        }
    }
}
impl MemoryCache {
    /// An empty cache whose keys start with `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            inner: Arc::default(),
        }
    }

    /// A view of the same storage with another prefix (one per service in `qts up`).
    pub fn with_prefix(&self, prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            inner: self.inner.clone(),
        }
    }

    /// Entries held in the shared storage, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let now = Instant::now();
        let k = self.key(key);
        let mut entries = self.lock();
        match entries.map.get(&k) {
            Some(e) if e.live(now) => Ok(Some(e.value.clone())),
            Some(_) => {
                entries.remove(&k);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), Error> {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        entries.insert(
            self.key(key),
            Entry {
                value: value.to_vec(),
                expires: ttl.map(|t| now + t),
            },
        );
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, Error> {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        let k = self.key(key);
        if entries.live(&k, now).is_some() {
            return Ok(false);
        }
        entries.insert(
            k,
            Entry {
                value: value.to_vec(),
                expires: ttl.map(|t| now + t),
            },
        );
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<bool, Error> {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        Ok(entries.remove(&self.key(key)).is_some_and(|e| e.live(now)))
    }

    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, Error> {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        let k = self.key(key);
        let current = match entries.live(&k, now) {
            None => None,
            Some(e) => Some((
                std::str::from_utf8(&e.value)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| Error::WrongType {
                        key: key.to_owned(),
                        expected: "an integer",
                    })?,
                e.expires,
            )),
        };
        let (value, expires) = match current {
            Some((v, expires)) => (
                v.checked_add(by).ok_or_else(|| Error::WrongType {
                    key: key.to_owned(),
                    expected: "an integer that does not overflow",
                })?,
                expires,
            ),
            None => (by, ttl.map(|t| now + t)),
        };
        entries.insert(
            k,
            Entry {
                value: value.to_string().into_bytes(),
                expires,
            },
        );
        Ok(value)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

/// The Redis cache (one multiplexed connection that reconnects by itself).
#[derive(Clone)]
pub struct RedisCache {
    prefix: String,
    conn: redis::aio::ConnectionManager,
}

impl RedisCache {
    /// Connects to `url`; fails if the server cannot be reached now.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, Error> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = redis::aio::ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            prefix: prefix.into(),
            conn,
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.conn.clone().get(self.key(key)).await?)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        match ttl {
            Some(ttl) => {
                conn.pset_ex::<_, _, ()>(self.key(key), value, ttl_ms(ttl))
                    .await?
            }
            None => conn.set::<_, _, ()>(self.key(key), value).await?,
        }
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, Error> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("NX");
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl_ms(ttl));
        }
        let reply: Option<String> = cmd.query_async(&mut self.conn.clone()).await?;
        Ok(reply.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, Error> {
        let n: i64 = self.conn.clone().del(self.key(key)).await?;
        Ok(n > 0)
    }

    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, Error> {
        // INCRBY and the first-time PEXPIRE run atomically in one script.
        let script = redis::Script::new(
            r"local existed = redis.call('EXISTS', KEYS[1])
              local v = redis.call('INCRBY', KEYS[1], ARGV[1])
              if existed == 0 and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
              return v",
        );
        let ttl = ttl.map_or(0, ttl_ms);
        let result: Result<i64, redis::RedisError> = script
            .key(self.key(key))
            .arg(by)
            .arg(ttl)
            .invoke_async(&mut self.conn.clone())
            .await;
        match result {
            Ok(v) => Ok(v),
            Err(e) if e.to_string().contains("not an integer") => Err(Error::WrongType {
                key: key.to_owned(),
                expected: "an integer",
            }),
            Err(e) => Err(e.into()),
        }
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
