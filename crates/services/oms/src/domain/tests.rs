use broker::{ClientOrderId, OrderState, OrderStatus};
use market::order::Amendment;
use market::{OrderType, Price, Quantity, Side, Symbol};
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2025-06-10 10:00 +7);

fn order() -> Order {
    let request = NewOrder::parse(
        "c-1",
        "0001001",
        "SSI",
        "buy",
        "LO",
        Some(25_000),
        1_000,
        None,
    )
    .unwrap();
    let rid = ClientOrderId::new(7).unwrap();
    Order::create(request, order_id(NOW.date(), rid), rid, NOW).0
}

fn report(o: &Order, status: OrderStatus, filled: u64) -> OrderState {
    OrderState {
        account: o.account.clone(),
        order_id: "B1".to_owned(),
        client_order_id: Some(o.request_id),
        last_action_id: None,
        symbol: o.symbol,
        side: o.side,
        order_type: Some(o.order_type),
        price: o.price,
        quantity: o.quantity,
        filled: Quantity::new(filled),
        cancelled: Quantity::new(0),
        avg_price: None,
        status,
        reject_reason: None,
        updated_at: None,
    }
}

fn fill(id: &str, price: i64, quantity: u64) -> Fill {
    Fill {
        id: id.to_owned(),
        price: Price::new(price).unwrap(),
        quantity: Quantity::new(quantity),
        time: NOW,
        reconciled: false,
    }
}

#[test]
fn the_transition_table_moves_forward_only_and_final_states_never_change() {
    use Status::*;
    let allowed = [
        (PendingNew, New),
        (PendingNew, PartiallyFilled),
        (PendingNew, Filled),
        (PendingNew, Cancelled),
        (PendingNew, Rejected),
        (PendingNew, Expired),
        (New, PartiallyFilled),
        (New, Filled),
        (New, Cancelled),
        (New, Rejected),
        (New, Expired),
        (PartiallyFilled, Filled),
        (PartiallyFilled, Cancelled),
        (PartiallyFilled, Expired),
    ];
    for from in Status::ALL {
        for to in Status::ALL {
            let expected = from == to || allowed.contains(&(from, to));
            assert_eq!(from.can_become(to), expected, "{from} -> {to}");
        }
    }
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Some(s));
    }
}

#[test]
fn requests_are_checked_before_anything_is_stored() {
    let bad = [
        (
            "",
            "0001001",
            "SSI",
            "buy",
            "LO",
            Some(25_000),
            100,
            "client_id",
        ),
        (
            "a b",
            "0001001",
            "SSI",
            "buy",
            "LO",
            Some(25_000),
            100,
            "client_id",
        ),
        (
            "c",
            "00-01",
            "SSI",
            "buy",
            "LO",
            Some(25_000),
            100,
            "account",
        ),
        ("c", "0001001", "", "buy", "LO", Some(25_000), 100, "symbol"),
        (
            "c",
            "0001001",
            "SSI",
            "hold",
            "LO",
            Some(25_000),
            100,
            "side",
        ),
        (
            "c",
            "0001001",
            "SSI",
            "buy",
            "GTC",
            Some(25_000),
            100,
            "order_type",
        ),
        (
            "c",
            "0001001",
            "SSI",
            "buy",
            "LO",
            None,
            100,
            "need a price",
        ),
        (
            "c",
            "0001001",
            "SSI",
            "buy",
            "ATO",
            Some(25_000),
            100,
            "take no price",
        ),
        ("c", "0001001", "SSI", "buy", "LO", Some(-5), 100, "price"),
        (
            "c",
            "0001001",
            "SSI",
            "buy",
            "LO",
            Some(25_000),
            0,
            "quantity",
        ),
    ];
    for (id, account, symbol, side, ty, price, qty, needle) in bad {
        let err = NewOrder::parse(id, account, symbol, side, ty, price, qty, None).unwrap_err();
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    let ok = NewOrder::parse(
        "x:1",
        "0001001",
        "ssi",
        "S",
        "mak",
        Some(0),
        100,
        Some("ma-cross"),
    )
    .unwrap();
    assert_eq!(
        (ok.side, ok.order_type, ok.price, ok.strategy.as_deref()),
        (Side::Sell, OrderType::Mak, None, Some("ma-cross"))
    );
    assert_eq!(ok.symbol, Symbol::parse("SSI").unwrap());
}

#[test]
fn an_order_goes_through_its_life_and_each_step_is_one_change() {
    let mut o = order();
    assert_eq!(o.id, "20250610-00000007");
    let c = o.accepted(Some("B1".to_owned()), NOW).unwrap();
    assert_eq!((c.kind, o.version), ("sent", 1));
    assert!(
        o.accepted(Some("B1".to_owned()), NOW).is_none(),
        "a repeated ack is no change"
    );

    let c = o
        .apply_report(&report(&o, OrderStatus::New, 0), NOW)
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.kind, c.from, c.to),
        ("accepted", Status::PendingNew, Status::New)
    );
    assert!(
        o.apply_report(&report(&o, OrderStatus::New, 0), NOW)
            .unwrap()
            .is_none()
    );

    let (counted, c) = o.apply_fill(&fill("n1", 25_000, 400), NOW).unwrap();
    assert_eq!(counted.units(), 400);
    assert_eq!(c.unwrap().to, Status::PartiallyFilled);
    // A late `New` report after the fill changes nothing.
    assert!(
        o.apply_report(&report(&o, OrderStatus::New, 0), NOW)
            .unwrap()
            .is_none()
    );
    assert_eq!(o.status, Status::PartiallyFilled);

    o.apply_fill(&fill("n2", 24_900, 600), NOW).unwrap();
    assert_eq!(o.status, Status::Filled);
    assert_eq!(o.avg_price(), Some((25_000 * 400 + 24_900 * 600) / 1_000));
    assert!(
        o.apply_fill(&fill("n3", 25_000, 1), NOW).is_err(),
        "overfill"
    );
    assert!(
        o.request_cancel(ClientOrderId::new(8).unwrap(), NOW)
            .is_err()
    );
    // A final order takes no other final status: refused, and it stays as it was.
    let err = o
        .apply_report(&report(&o, OrderStatus::Cancelled, 1_000), NOW)
        .unwrap_err();
    assert!(err.to_string().contains("when it is filled"), "{err}");
    assert_eq!(o.status, Status::Filled);
    // Older news (a `New` report) is no change, not an error.
    assert_eq!(
        o.apply_report(&report(&o, OrderStatus::New, 0), NOW),
        Ok(None)
    );
}

#[test]
fn illegal_changes_name_the_state_they_met() {
    let mut o = order();
    // No cancel or amend before the broker told its id.
    let e = o
        .request_cancel(ClientOrderId::new(8).unwrap(), NOW)
        .unwrap_err();
    assert!(e.to_string().contains("before the broker told"), "{e}");
    o.accepted(Some("B1".to_owned()), NOW);
    let e = o
        .request_amend(
            Amendment::Price(Price::new(25_100).unwrap()),
            ClientOrderId::new(8).unwrap(),
            NOW,
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("pending_new"),
        "amend needs a working order: {e}"
    );
    o.apply_report(&report(&o, OrderStatus::New, 0), NOW)
        .unwrap();
    o.request_cancel(ClientOrderId::new(9).unwrap(), NOW)
        .unwrap();
    let e = o
        .request_cancel(ClientOrderId::new(10).unwrap(), NOW)
        .unwrap_err();
    assert!(e.to_string().contains("with a pending cancel"), "{e}");
    let c = o.pending_failed("ORD: too late".to_owned(), NOW).unwrap();
    assert_eq!(c.kind, "cancel_failed");
    assert!(o.pending.is_none());
    o.reject("x".to_owned(), NOW).unwrap();
    assert!(o.reject("again".to_owned(), NOW).is_err());
    assert!(
        o.apply_fill(&fill("f", 25_000, 100), NOW).is_err(),
        "no fill on a rejected order"
    );
}

#[test]
fn an_amendment_applies_when_the_broker_reports_the_new_terms() {
    let mut o = order();
    o.accepted(Some("B1".to_owned()), NOW);
    o.apply_report(&report(&o, OrderStatus::New, 0), NOW)
        .unwrap();
    let new_price = Price::new(25_100).unwrap();
    o.request_amend(
        Amendment::Price(new_price),
        ClientOrderId::new(8).unwrap(),
        NOW,
    )
    .unwrap();
    // A report with the old terms leaves it pending.
    assert!(
        o.apply_report(&report(&o, OrderStatus::New, 0), NOW)
            .unwrap()
            .is_none()
    );
    let mut r = report(&o, OrderStatus::New, 0);
    r.price = Some(new_price);
    let c = o.apply_report(&r, NOW).unwrap().unwrap();
    assert_eq!(c.kind, "amended");
    assert_eq!((o.price, o.pending), (Some(new_price), None));
}

#[test]
fn fills_the_stream_missed_come_from_the_order_book_once() {
    let mut o = order();
    o.accepted(Some("B1".to_owned()), NOW);
    o.apply_fill(&fill("n1", 25_000, 300), NOW).unwrap();
    // The broker says 700 filled at an average of 25,100: 400 more at the price that makes it so.
    let missing = o
        .missing_fill(Quantity::new(700), Some(Price::new(25_100).unwrap()), NOW)
        .unwrap();
    assert_eq!(missing.id, "cum:700");
    assert_eq!(missing.quantity.units(), 400);
    assert_eq!(missing.price.units(), (25_100 * 700 - 25_000 * 300) / 400);
    let (counted, _) = o.apply_fill(&missing, NOW).unwrap();
    assert_eq!((counted.units(), o.filled.units()), (400, 700));
    assert!(o.missing_fill(Quantity::new(700), None, NOW).is_none());
    // The stream's own events for those 400 arrive late: they confirm, they do not add.
    let (counted, change) = o.apply_fill(&fill("n2", 25_175, 250), NOW).unwrap();
    assert_eq!((counted.units(), change), (0, None));
    let (counted, _) = o.apply_fill(&fill("n3", 25_175, 150), NOW).unwrap();
    assert_eq!(counted.units(), 0);
    // Beyond them, a fill counts again.
    let (counted, _) = o.apply_fill(&fill("n4", 25_200, 100), NOW).unwrap();
    assert_eq!((counted.units(), o.filled.units()), (100, 800));
}
