//! One order book (one instrument, one board): price-time priority (reference §3.4
//! "price then time priority in all books").
//!
//! The book holds only keys: `(price, sequence) -> order id` per side, plus the priced-less
//! ATO/ATC orders of a call auction in sequence order. Quantities and accounts live in
//! the engine's order records. A lower sequence number is earlier in time.

use std::collections::BTreeMap;

use market::{Price, Side};
use serde::{Deserialize, Serialize};

use crate::types::OrderId;

/// Key of a priced order: bids store the negated price so that the first key of either
/// side is the best price, earliest first.
type Key = (i64, u64);

/// A resting order as the book sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookEntry {
    /// Side.
    pub side: Side,
    /// Limit price; `None` for ATO/ATC orders waiting for their call auction.
    pub price: Option<Price>,
    /// Time priority (lower is earlier).
    pub seq: u64,
    /// The order.
    pub order: OrderId,
}

/// Price-time priority book of one board. Serialises as the list of its entries in
/// priority order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<BookEntry>", from = "Vec<BookEntry>")]
pub struct Book {
    bids: BTreeMap<Key, OrderId>,
    asks: BTreeMap<Key, OrderId>,
    market_bids: BTreeMap<u64, OrderId>,
    market_asks: BTreeMap<u64, OrderId>,
}

fn key(side: Side, price: Price, seq: u64) -> Key {
    match side {
        Side::Buy => (-price.units(), seq),
        Side::Sell => (price.units(), seq),
    }
}

fn price_of(side: Side, k: Key) -> Option<Price> {
    let units = match side {
        Side::Buy => -k.0,
        Side::Sell => k.0,
    };
    Price::new(units).ok()
}

impl Book {
    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<Key, OrderId> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn side(&self, side: Side) -> &BTreeMap<Key, OrderId> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn market_mut(&mut self, side: Side) -> &mut BTreeMap<u64, OrderId> {
        match side {
            Side::Buy => &mut self.market_bids,
            Side::Sell => &mut self.market_asks,
        }
    }

    fn market(&self, side: Side) -> &BTreeMap<u64, OrderId> {
        match side {
            Side::Buy => &self.market_bids,
            Side::Sell => &self.market_asks,
        }
    }

    /// Adds an order at `(price, seq)`; `price = None` queues an ATO/ATC order.
    pub fn insert(&mut self, entry: BookEntry) {
        match entry.price {
            Some(p) => {
                self.side_mut(entry.side)
                    .insert(key(entry.side, p, entry.seq), entry.order);
            }
            None => {
                self.market_mut(entry.side).insert(entry.seq, entry.order);
            }
        }
    }

    /// Removes the order at `(side, price, seq)`; returns its id if it was there.
    pub fn remove(&mut self, side: Side, price: Option<Price>, seq: u64) -> Option<OrderId> {
        match price {
            Some(p) => self.side_mut(side).remove(&key(side, p, seq)),
            None => self.market_mut(side).remove(&seq),
        }
    }

    /// Best priced order of a side: the highest bid or lowest ask, earliest first.
    pub fn best(&self, side: Side) -> Option<BookEntry> {
        self.side(side)
            .first_key_value()
            .and_then(|(k, id)| entry(side, *k, *id))
    }

    /// Priced orders of one side in priority order.
    pub fn priced(&self, side: Side) -> impl Iterator<Item = BookEntry> + '_ {
        self.side(side)
            .iter()
            .filter_map(move |(k, id)| entry(side, *k, *id))
    }

    /// ATO/ATC orders of one side in time order.
    pub fn unpriced(&self, side: Side) -> impl Iterator<Item = BookEntry> + '_ {
        self.market(side).iter().map(move |(seq, id)| BookEntry {
            side,
            price: None,
            seq: *seq,
            order: *id,
        })
    }

    /// Whether a side has no order at all (priced or not).
    pub fn is_side_empty(&self, side: Side) -> bool {
        self.side(side).is_empty() && self.market(side).is_empty()
    }

    /// Number of resting orders.
    pub fn len(&self) -> usize {
        self.bids.len() + self.asks.len() + self.market_bids.len() + self.market_asks.len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry: bids (priced, then unpriced) then asks, each in priority order.
    pub fn entries(&self) -> Vec<BookEntry> {
        let mut out = Vec::with_capacity(self.len());
        for side in [Side::Buy, Side::Sell] {
            out.extend(self.priced(side));
            out.extend(self.unpriced(side));
        }
        out
    }
}

fn entry(side: Side, k: Key, id: OrderId) -> Option<BookEntry> {
    Some(BookEntry {
        side,
        price: Some(price_of(side, k)?),
        seq: k.1,
        order: id,
    })
}

impl From<Book> for Vec<BookEntry> {
    fn from(book: Book) -> Self {
        book.entries()
    }
}

impl From<Vec<BookEntry>> for Book {
    fn from(entries: Vec<BookEntry>) -> Self {
        let mut book = Book::default();
        for e in entries {
            book.insert(e);
        }
        book
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(u: i64) -> Option<Price> {
        Price::new(u).ok()
    }

    fn e(side: Side, price: Option<Price>, seq: u64) -> BookEntry {
        BookEntry {
            side,
            price,
            seq,
            order: OrderId(seq),
        }
    }

    #[test]
    fn best_bid_is_highest_then_earliest_and_best_ask_lowest_then_earliest() {
        let mut b = Book::default();
        b.insert(e(Side::Buy, p(100), 3));
        b.insert(e(Side::Buy, p(101), 5));
        b.insert(e(Side::Buy, p(101), 4));
        b.insert(e(Side::Sell, p(105), 1));
        b.insert(e(Side::Sell, p(103), 9));
        b.insert(e(Side::Sell, p(103), 2));
        assert_eq!(b.best(Side::Buy).map(|x| x.order), Some(OrderId(4)));
        assert_eq!(b.best(Side::Sell).map(|x| x.order), Some(OrderId(2)));
        let bids: Vec<u64> = b.priced(Side::Buy).map(|x| x.seq).collect();
        assert_eq!(bids, vec![4, 5, 3]);
        let asks: Vec<u64> = b.priced(Side::Sell).map(|x| x.seq).collect();
        assert_eq!(asks, vec![2, 9, 1]);
    }

    #[test]
    fn unpriced_orders_queue_separately_and_count_for_emptiness() {
        let mut b = Book::default();
        b.insert(e(Side::Buy, None, 7));
        assert!(b.best(Side::Buy).is_none());
        assert!(!b.is_side_empty(Side::Buy));
        assert_eq!(b.remove(Side::Buy, None, 7), Some(OrderId(7)));
        assert!(b.is_empty());
    }

    #[test]
    fn serde_round_trip_keeps_priority() {
        let mut b = Book::default();
        for (i, side) in [Side::Buy, Side::Sell, Side::Buy].into_iter().enumerate() {
            b.insert(e(side, p(100 + i as i64), i as u64));
        }
        b.insert(e(Side::Sell, None, 10));
        let text = serde_json::to_string(&b).unwrap();
        let back: Book = serde_json::from_str(&text).unwrap();
        assert_eq!(back, b);
    }
}
