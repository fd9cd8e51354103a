//! What the tasks share with the API: the securities from master data, the feed's state and
//! the latest snapshot of every symbol.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};

use common::settings::MarketClock;
use proto::market::v1 as pb;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::domain::{Normalised, References};
use crate::metrics::Metrics;

/// The feed connection's state.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedState {
    /// `disabled`, `waiting`, `connecting`, `connected`, `reconnecting`, `closed`.
    pub state: &'static str,
    /// The broker's name, "" when disabled.
    pub source: String,
    /// What is subscribed.
    pub subscription: String,
    /// When `state` began (market clock).
    pub since: OffsetDateTime,
    /// The next scheduled connect or disconnect (market clock).
    pub next_change: Option<OffsetDateTime>,
    /// Last raw message (market clock).
    pub last_message_at: Option<OffsetDateTime>,
}

/// One symbol's latest state today.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Trading day.
    pub trading_day: String,
    /// Latest main-board quote.
    pub quote: Option<pb::Quote>,
    /// Latest trade.
    pub last_trade: Option<pb::Trade>,
    /// Day open, high, low, close from trades (0 before the first).
    pub ohlc: [i64; 4],
    /// Day volume (the feed's cumulative volume when sent, else the sum of trades).
    pub volume: u64,
    /// Latest foreign room.
    pub foreign_room: Option<pb::ForeignRoom>,
    /// Latest status.
    pub status: String,
    /// From master data.
    pub security: Option<pb::SecurityRef>,
}

/// Shared by the feed, the normaliser, the reference follower and the API.
pub struct Shared {
    /// The market clock.
    pub clock: MarketClock,
    /// Securities from master data.
    pub references: RwLock<References>,
    /// Woken when `references` change.
    pub references_changed: Notify,
    /// The feed connection.
    feed: Mutex<FeedState>,
    snapshots: RwLock<HashMap<String, Snapshot>>,
    /// Metrics (also the status counters).
    pub metrics: Metrics,
}

impl Shared {
    /// Empty state.
    pub fn new(clock: MarketClock, metrics: Metrics, source: &str, subscription: String) -> Self {
        let state = if source.is_empty() {
            "disabled"
        } else {
            "waiting"
        };
        Self {
            clock,
            references: RwLock::default(),
            references_changed: Notify::new(),
            feed: Mutex::new(FeedState {
                state,
                source: source.to_owned(),
                subscription,
                since: clock.now(),
                next_change: None,
                last_message_at: None,
            }),
            snapshots: RwLock::default(),
            metrics,
        }
    }

    /// The feed's state now.
    pub fn feed(&self) -> FeedState {
        self.feed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Moves the feed to `state`.
    pub fn set_feed(&self, state: &'static str, next_change: Option<OffsetDateTime>) {
        let mut f = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        if f.state != state {
            f.state = state;
            f.since = self.clock.now();
        }
        f.next_change = next_change;
        self.metrics.connected.set(i64::from(state == "connected"));
    }

    /// Notes a raw message's arrival.
    pub fn message_at(&self, at: OffsetDateTime) {
        self.feed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last_message_at = Some(at);
    }

    /// Folds a published message into its symbol's snapshot.
    pub fn fold(&self, day: &str, message: &Normalised) {
        let symbol = match message {
            Normalised::Trade(t) => &t.symbol,
            Normalised::Quote(q) if q.board == "main" => &q.symbol,
            Normalised::ForeignRoom(r) => &r.symbol,
            Normalised::Status(s) if !s.symbol.is_empty() => &s.symbol,
            Normalised::Quote(_)
            | Normalised::Status(_)
            | Normalised::Index(_)
            | Normalised::Bar(_)
            | Normalised::Feed(_) => return,
        };
        let mut all = self
            .snapshots
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let snap = match all.get_mut(symbol.as_str()) {
            Some(s) => s,
            None => all.entry(symbol.clone()).or_default(),
        };
        if snap.trading_day != day {
            *snap = Snapshot {
                trading_day: day.to_owned(),
                security: snap.security.take(),
                ..Snapshot::default()
            };
        }
        match message {
            Normalised::Trade(t) => {
                let [open, high, low, close] = &mut snap.ohlc;
                if *open == 0 {
                    *open = t.price;
                    *high = t.price;
                    *low = t.price;
                }
                *high = (*high).max(t.price);
                *low = (*low).min(t.price);
                *close = t.price;
                snap.volume = if t.total_volume > 0 {
                    t.total_volume
                } else {
                    snap.volume + t.quantity
                };
                snap.security.clone_from(&t.security);
                snap.last_trade = Some(t.clone());
            }
            Normalised::Quote(q) => {
                snap.security.clone_from(&q.security);
                snap.quote = Some(q.clone());
            }
            Normalised::ForeignRoom(r) => snap.foreign_room = Some(r.clone()),
            Normalised::Status(s) => snap.status.clone_from(&s.status),
            Normalised::Index(_) | Normalised::Bar(_) | Normalised::Feed(_) => {}
        }
    }

    /// The latest snapshots of `symbols` (each says its trading day) and the symbols this
    /// instance has seen nothing of.
    pub fn snapshots(&self, symbols: &[String]) -> (Vec<(String, Snapshot)>, Vec<String>) {
        let all = self
            .snapshots
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for s in symbols {
            match all.get(s) {
                Some(snap) => found.push((s.clone(), snap.clone())),
                None => missing.push(s.clone()),
            }
        }
        (found, missing)
    }
}
