//! The OMS's order and fill events as they happen, for the pages that show a trader's orders:
//! the feed puts each one here ([`Activity::order`], [`Activity::fill`]) and every open stream
//! (`GET /v1/orders/stream`) passes on those of its user's accounts, so the pages reload what
//! changed instead of asking again and again.

use serde::Serialize;
use tokio::sync::broadcast;

use proto::oms::v1 as oms_pb;

/// Events kept for a stream that falls behind; past it, the stream says to reload everything.
const BACKLOG: usize = 1_024;

/// One change of an order, or a fill.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// `order` or `fill`.
    pub kind: &'static str,
    /// Broker sub-account.
    pub account: String,
    /// The OMS's order id.
    pub order_id: String,
    /// Instrument.
    pub symbol: String,
    /// The order's status after the change (`filled` for a fill).
    pub status: String,
}

/// Where the feed puts order and fill events for the streams.
#[derive(Debug)]
pub struct Activity {
    tx: broadcast::Sender<Note>,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Activity {
    /// An order changed.
    pub fn order(&self, e: &oms_pb::OrderEvent) {
        if let Some(o) = &e.order {
            self.send(Note {
                kind: "order",
                account: o.account.clone(),
                order_id: o.id.clone(),
                symbol: o.symbol.clone(),
                status: o.status.clone(),
            });
        }
    }

    /// An order filled (in part).
    pub fn fill(&self, f: &oms_pb::Fill) {
        self.send(Note {
            kind: "fill",
            account: f.account.clone(),
            order_id: f.order_id.clone(),
            symbol: f.symbol.clone(),
            status: "filled".to_owned(),
        });
    }

    fn send(&self, note: Note) {
        // Nobody listening is fine: the event stays on the bus for its owners.
        let _ = self.tx.send(note);
    }

    /// The events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Note> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_fills_reach_each_subscriber_once() {
        let activity = Activity::default();
        let mut rx = activity.subscribe();
        activity.order(&oms_pb::OrderEvent {
            order: Some(oms_pb::Order {
                id: "20250610-1".into(),
                account: "0001001".into(),
                symbol: "SSI".into(),
                status: "new".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        // An event without its order carries nothing to show.
        activity.order(&oms_pb::OrderEvent::default());
        activity.fill(&oms_pb::Fill {
            order_id: "20250610-1".into(),
            account: "0001001".into(),
            symbol: "SSI".into(),
            ..Default::default()
        });
        let first = rx.try_recv().unwrap();
        assert_eq!((first.kind, first.status.as_str()), ("order", "new"));
        let second = rx.try_recv().unwrap();
        assert_eq!(
            (second.kind, second.order_id.as_str()),
            ("fill", "20250610-1")
        );
        assert!(rx.try_recv().is_err());
    }
}
