//! The price board: one row per security — reference, ceiling and floor from master data, the
//! three best bids and asks, the last trade and the day's totals from the market feed — kept in
//! memory and numbered, so a browser takes a snapshot and then only the rows that changed.
//!
//! Every change takes the next sequence number; a row remembers the number of its last change.
//! Numbers start at the process's start time in microseconds, so a browser that saw an earlier
//! instance (a smaller number) is told to take a new snapshot instead of missing rows.

use std::collections::{HashMap, VecDeque};
use std::sync::{PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use proto::ingestion::v1 as ingestion_pb;
use proto::market::v1 as market_pb;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

/// One security on the board. Prices are whole đồng (tenths of a point for index futures);
/// 0 means none yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Row {
    /// The security.
    pub symbol: String,
    /// `HOSE`, `HNX`, `UPCOM`, `DER`.
    pub exchange: String,
    /// The company or instrument name.
    pub name: String,
    /// Index codes it belongs to (VN30, HNX30, ...).
    pub indexes: Vec<String>,
    /// The day's reference price.
    #[serde(rename = "ref")]
    pub reference: i64,
    /// The day's ceiling.
    pub ceil: i64,
    /// The day's floor.
    pub floor: i64,
    /// Best bids, best first: `[price, volume]`, at most three.
    #[schema(value_type = Vec<Vec<i64>>)]
    pub bids: Vec<[i64; 2]>,
    /// Best asks, best first: `[price, volume]`, at most three.
    #[schema(value_type = Vec<Vec<i64>>)]
    pub asks: Vec<[i64; 2]>,
    /// Last matched price.
    pub last: i64,
    /// Last matched quantity.
    pub last_vol: u64,
    /// Last price minus the reference.
    pub change: i64,
    /// That change in percent of the reference.
    pub change_pct: f64,
    /// The day's matched volume.
    pub volume: u64,
    /// The day's high.
    pub high: i64,
    /// The day's low.
    pub low: i64,
    /// Shares foreigners may still buy, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_room: Option<u64>,
    /// Trading status (`normal`, `halted`, ...).
    pub status: String,
    /// The sequence number of the row's last change.
    pub seq: u64,
    /// When the event behind the last change was published (Unix milliseconds, wall clock):
    /// what a browser measures its update latency from.
    pub at: i64,
    /// The trading day of the reference prices (YYYY-MM-DD); empty until master data says.
    #[serde(rename = "day")]
    trading_day: String,
    /// When the feed sent the last quote and trade applied (Unix nanoseconds), so an older
    /// event (replayed from the bus after a snapshot) is not applied over a newer state.
    #[serde(skip)]
    quote_at: i128,
    #[serde(skip)]
    trade_at: i128,
}

impl Row {
    fn new(symbol: &str) -> Self {
        Self {
            symbol: symbol.to_owned(),
            ..Self::default()
        }
    }

    fn set_last(&mut self, price: i64) {
        self.last = price;
        self.change = if self.reference > 0 {
            price - self.reference
        } else {
            0
        };
        self.change_pct = if self.reference > 0 {
            // Two decimals, as boards show it.
            ((self.change as f64) * 10_000.0 / self.reference as f64).round() / 100.0
        } else {
            0.0
        };
    }

    fn security(&mut self, s: Option<&market_pb::SecurityRef>) {
        if let Some(s) = s
            && self.exchange.is_empty()
        {
            self.exchange = s.exchange.clone();
        }
    }
}

fn levels(levels: &[market_pb::Level]) -> Vec<[i64; 2]> {
    levels
        .iter()
        .take(3)
        .map(|l| [l.price, i64::try_from(l.volume).unwrap_or(i64::MAX)])
        .collect()
}

fn nanos(t: Option<&prost_types::Timestamp>) -> i128 {
    t.map_or(0, |t| {
        i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos)
    })
}

/// Trades kept per symbol for the time and sales list.
pub const TRADES_KEPT: usize = 50;

/// One trade of the time and sales list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Tick {
    /// Price.
    pub price: i64,
    /// Quantity.
    pub quantity: u64,
    /// Exchange time (Unix milliseconds).
    pub time: i64,
    /// When ingestion received it (Unix nanoseconds): a replayed trade is not kept twice.
    #[serde(skip)]
    sent: i128,
}

struct Inner {
    rows: HashMap<String, Row>,
    /// The latest trades per symbol, newest last.
    trades: HashMap<String, VecDeque<Tick>>,
    seq: u64,
}

/// The board. Shared by the feed (writes) and the HTTP handlers (reads).
pub struct Board {
    inner: RwLock<Inner>,
    base: u64,
    changed: watch::Sender<u64>,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board").field("base", &self.base).finish()
    }
}

impl Default for Board {
    fn default() -> Self {
        Self::new()
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Board {
    /// An empty board numbering from now.
    pub fn new() -> Self {
        let base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2));
        let (changed, _) = watch::channel(base);
        Self {
            inner: RwLock::new(Inner {
                rows: HashMap::new(),
                trades: HashMap::new(),
                seq: base,
            }),
            base,
            changed,
        }
    }

    /// The first sequence number of this instance: a browser's number below it is from an
    /// earlier one.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Wakes on every change (the value is the last sequence number).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Every row, by symbol, and the sequence number they are current to.
    pub fn snapshot(&self) -> (u64, Vec<Row>) {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut rows: Vec<Row> = inner.rows.values().cloned().collect();
        rows.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        (inner.seq, rows)
    }

    /// The rows changed after `seq`, and the sequence number they are current to.
    pub fn since(&self, seq: u64) -> (u64, Vec<Row>) {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let rows = inner
            .rows
            .values()
            .filter(|r| r.seq > seq)
            .cloned()
            .collect();
        (inner.seq, rows)
    }

    /// Changes the row of `symbol` (made if new) with `f`; numbered and announced when `f`
    /// says it changed something.
    fn update(&self, symbol: &str, at: i64, f: impl FnOnce(&mut Row) -> bool) {
        if symbol.is_empty() {
            return;
        }
        let seq = {
            let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
            let next = inner.seq + 1;
            let row = inner
                .rows
                .entry(symbol.to_owned())
                .or_insert_with(|| Row::new(symbol));
            if !f(row) {
                return;
            }
            row.seq = next;
            row.at = at;
            inner.seq = next;
            next
        };
        self.changed.send_replace(seq);
    }

    /// Master data's view of a security: name, exchange, indexes, status and the day's prices.
    /// A new trading day clears the day's trading.
    pub fn security(&self, s: &market_pb::Security, at: i64) {
        self.update(&s.symbol, at, |row| {
            let before = row.clone();
            if !s.trading_day.is_empty() && s.trading_day != row.trading_day {
                if !row.trading_day.is_empty() {
                    *row = Row {
                        seq: row.seq,
                        ..Row::new(&s.symbol)
                    };
                }
                row.trading_day = s.trading_day.clone();
            }
            row.exchange = s.exchange.clone();
            row.name = s.name.clone();
            row.indexes = s.indexes.clone();
            row.status = s.status.clone();
            row.reference = s.reference;
            row.ceil = s.ceiling;
            row.floor = s.floor;
            if let Some(room) = s.foreign_room {
                row.foreign_room = Some(room);
            }
            if row.last > 0 {
                row.set_last(row.last);
            }
            *row != before
        });
    }

    /// Ingestion's latest state of a symbol today (what a new instance starts from).
    pub fn snapshot_of(&self, s: &ingestion_pb::Snapshot, at: i64) {
        if let Some(q) = &s.quote {
            self.quote(q, at);
        }
        if let Some(t) = &s.last_trade {
            self.trade(t, at);
        }
        self.update(&s.symbol, at, |row| {
            let before = row.clone();
            if s.volume > row.volume {
                row.volume = s.volume;
            }
            if s.high > 0 {
                row.high = row.high.max(s.high);
            }
            if s.low > 0 {
                row.low = if row.low == 0 {
                    s.low
                } else {
                    row.low.min(s.low)
                };
            }
            if let Some(room) = s.foreign_room.as_ref().and_then(|f| f.current_room) {
                row.foreign_room = Some(room);
            }
            *row != before
        });
    }

    /// A trade: last price and quantity, the day's volume, high and low.
    pub fn trade(&self, t: &market_pb::Trade, at: i64) {
        let sent = nanos(t.received_at.as_ref());
        self.update(&t.symbol, at, |row| {
            if sent < row.trade_at {
                return false;
            }
            row.trade_at = sent;
            row.security(t.security.as_ref());
            row.set_last(t.price);
            row.last_vol = t.quantity;
            row.volume = if t.total_volume > 0 {
                t.total_volume
            } else {
                row.volume + t.quantity
            };
            row.high = row.high.max(t.price);
            row.low = if row.low == 0 {
                t.price
            } else {
                row.low.min(t.price)
            };
            true
        });
        if t.symbol.is_empty() {
            return;
        }
        let time = i64::try_from(nanos(t.exchange_time.as_ref()) / 1_000_000).unwrap_or(0);
        let tick = Tick {
            price: t.price,
            quantity: t.quantity,
            time,
            sent,
        };
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let kept = inner.trades.entry(t.symbol.clone()).or_default();
        // A replayed trade (received no later than the last kept) is not kept twice.
        if kept.back().is_some_and(|last| last.sent >= sent) {
            return;
        }
        kept.push_back(tick);
        if kept.len() > TRADES_KEPT {
            kept.pop_front();
        }
    }

    /// Best bids and asks of the main board (odd lots are not on the board).
    pub fn quote(&self, q: &market_pb::Quote, at: i64) {
        if q.board != "main" && !q.board.is_empty() {
            return;
        }
        let sent = nanos(q.received_at.as_ref());
        self.update(&q.symbol, at, |row| {
            if sent < row.quote_at {
                return false;
            }
            row.quote_at = sent;
            row.security(q.security.as_ref());
            let (bids, asks) = (levels(&q.bids), levels(&q.asks));
            let changed = bids != row.bids || asks != row.asks;
            row.bids = bids;
            row.asks = asks;
            changed
        });
    }

    /// The foreign room left.
    pub fn foreign_room(&self, f: &market_pb::ForeignRoom, at: i64) {
        let Some(room) = f.current_room else {
            return;
        };
        self.update(&f.symbol, at, |row| {
            row.security(f.security.as_ref());
            let changed = row.foreign_room != Some(room);
            row.foreign_room = Some(room);
            changed
        });
    }

    /// The row of `symbol` and its latest trades (newest first), if it is on the board.
    pub fn symbol(&self, symbol: &str) -> Option<(Row, Vec<Tick>)> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let row = inner.rows.get(symbol)?.clone();
        let trades = inner
            .trades
            .get(symbol)
            .map(|t| t.iter().rev().cloned().collect())
            .unwrap_or_default();
        Some((row, trades))
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .rows
            .len()
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(symbol: &str, day: &str, reference: i64) -> market_pb::Security {
        market_pb::Security {
            symbol: symbol.to_owned(),
            exchange: "HOSE".to_owned(),
            name: "Công ty".to_owned(),
            trading_day: day.to_owned(),
            reference,
            ceiling: reference * 107 / 100,
            floor: reference * 93 / 100,
            indexes: vec!["VN30".to_owned()],
            status: "normal".to_owned(),
            ..Default::default()
        }
    }

    fn trade(symbol: &str, price: i64, qty: u64, total: u64, at: i64) -> market_pb::Trade {
        market_pb::Trade {
            symbol: symbol.to_owned(),
            price,
            quantity: qty,
            total_volume: total,
            received_at: Some(prost_types::Timestamp {
                seconds: at,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn trades_and_quotes_make_the_row_and_only_changes_are_numbered() {
        let board = Board::new();
        board.security(&security("SSI", "2025-06-10", 25_000), 0);
        let (seq0, rows) = board.snapshot();
        assert!(seq0 > board.base());
        assert_eq!(rows[0].reference, 25_000);

        board.trade(&trade("SSI", 25_500, 100, 1_000, 10), 0);
        board.trade(&trade("SSI", 24_900, 200, 1_200, 11), 0);
        let (seq, changed) = board.since(seq0);
        assert_eq!(changed.len(), 1);
        let r = &changed[0];
        assert_eq!((r.last, r.last_vol, r.volume), (24_900, 200, 1_200));
        assert_eq!((r.high, r.low, r.change), (25_500, 24_900, -100));
        assert!((r.change_pct + 0.4).abs() < 1e-9, "{}", r.change_pct);
        assert_eq!(r.seq, seq);

        // An older trade (replayed after a snapshot) is not applied; an unchanged quote is
        // not a change.
        board.trade(&trade("SSI", 26_000, 5, 900, 9), 0);
        assert_eq!(board.since(seq).1.len(), 0);
        let quote = market_pb::Quote {
            symbol: "SSI".to_owned(),
            board: "main".to_owned(),
            bids: (0..5)
                .map(|i| market_pb::Level {
                    price: 24_900 - i * 50,
                    volume: 10,
                })
                .collect(),
            asks: vec![market_pb::Level {
                price: 25_000,
                volume: 30,
            }],
            ..Default::default()
        };
        board.quote(&quote, 0);
        let (seq2, changed) = board.since(seq);
        assert_eq!(changed[0].bids.len(), 3, "three levels on the board");
        assert_eq!(changed[0].asks, vec![[25_000, 30]]);
        board.quote(&quote, 0);
        assert!(board.since(seq2).1.is_empty());
        let odd = market_pb::Quote {
            board: "odd_lot".to_owned(),
            ..quote
        };
        board.quote(&odd, 0);
        assert!(
            board.since(seq2).1.is_empty(),
            "odd lots are not on the board"
        );
    }

    #[test]
    fn time_and_sales_keeps_the_latest_trades_once() {
        let board = Board::new();
        for i in 0..(TRADES_KEPT as i64 + 5) {
            board.trade(&trade("VNM", 60_000 + i * 100, 10, 0, 100 + i), 0);
        }
        // Replayed: not kept again.
        board.trade(&trade("VNM", 1, 1, 0, 120), 0);
        let (_, ticks) = board.symbol("VNM").unwrap();
        assert_eq!(ticks.len(), TRADES_KEPT);
        assert_eq!(
            ticks[0].price,
            60_000 + (TRADES_KEPT as i64 + 4) * 100,
            "newest first"
        );
        assert!(board.symbol("NONE").is_none());
    }

    #[test]
    fn a_new_trading_day_clears_the_days_trading() {
        let board = Board::new();
        board.security(&security("FPT", "2025-06-10", 100_000), 0);
        board.trade(&trade("FPT", 101_000, 10, 10, 1), 0);
        board.security(&security("FPT", "2025-06-11", 101_000), 0);
        let (_, rows) = board.snapshot();
        assert_eq!(
            (rows[0].last, rows[0].volume, rows[0].reference),
            (0, 0, 101_000)
        );
    }
}
