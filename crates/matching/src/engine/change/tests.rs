use market::order::{Amendment, ChangeViolation, Priority};
use market::{Quantity, Side, Violation, Vnd};

use crate::engine::Engine;
use crate::engine::test_support::{CASH, acct, at, engine, events_of, lo, px, status, sym};
use crate::error::Error;
use crate::types::{ChangeRejection, Event, OrderId, OrderStatus};

#[test]
fn quantity_decrease_keeps_priority_price_change_and_increase_lose_it() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let a1 = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 300);
    let b1 = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    assert_eq!(
        e.amend(a1, Amendment::Quantity(Quantity::new(200)))
            .unwrap(),
        Priority::Kept
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 100);
    assert_eq!(e.order(a1).unwrap().filled.units(), 100, "A still first");
    assert_eq!(
        e.amend(a1, Amendment::Quantity(Quantity::new(300)))
            .unwrap(),
        Priority::Lost
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 100);
    assert_eq!(status(&e, b1), OrderStatus::Filled, "B moved ahead of A");
    let b2 = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    assert_eq!(
        e.amend(a1, Amendment::Price(px(98_900))).unwrap(),
        Priority::Lost
    );
    assert_eq!(
        e.amend(a1, Amendment::Price(px(99_000))).unwrap(),
        Priority::Lost
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 100);
    assert_eq!(
        status(&e, b2),
        OrderStatus::Filled,
        "price change re-queues A"
    );
}

#[test]
fn amending_to_a_crossing_price_matches_at_once() {
    let mut e = engine();
    at(&mut e, 10, 0);
    lo(&mut e, "A", "FPT", Side::Sell, 100_000, 100);
    let b = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    e.amend(b, Amendment::Price(px(100_000))).unwrap();
    assert_eq!(status(&e, b), OrderStatus::Filled);
}

#[test]
fn amendments_must_pass_the_band_and_below_filled_is_refused() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let b = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 200);
    lo(&mut e, "A", "FPT", Side::Sell, 99_000, 100);
    assert!(matches!(
        e.amend(b, Amendment::Price(px(108_000))),
        Err(Error::ChangeRefused {
            reason: ChangeRejection::Rules { .. },
            ..
        })
    ));
    assert!(matches!(
        e.amend(b, Amendment::Quantity(Quantity::new(100))),
        Err(Error::ChangeRefused {
            reason: ChangeRejection::Window { .. },
            ..
        })
    ));
}

#[test]
fn cancel_releases_holds_and_is_blocked_in_call_auctions() {
    let mut e = engine();
    at(&mut e, 9, 5);
    let ato = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
    assert!(matches!(
        e.cancel(ato),
        Err(Error::ChangeRefused {
            reason: ChangeRejection::Window { .. },
            ..
        })
    ));
    at(&mut e, 9, 20);
    let bp_before = e.buying_power(&acct("A")).unwrap();
    e.cancel(ato).unwrap();
    let bp_after = e.buying_power(&acct("A")).unwrap();
    assert_eq!(bp_after, Vnd::new(CASH));
    assert!(bp_after > bp_before);
    assert!(e.cancel(ato).is_err(), "already cancelled");
}

#[test]
fn price_and_quantity_amended_together_give_one_event_and_lose_priority() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let a = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 500);
    let b = lo(&mut e, "B", "FPT", Side::Buy, 99_100, 100);
    events_of(&mut e);
    // A quantity decrease alone keeps priority; with a price change the order is re-queued.
    let both = [
        Amendment::Price(px(99_100)),
        Amendment::Quantity(Quantity::new(300)),
    ];
    assert_eq!(e.amend_all(a, &both).unwrap(), Priority::Lost);
    let o = e.order(a).unwrap();
    assert_eq!(
        (o.price, o.quantity),
        (Some(px(99_100)), Quantity::new(300))
    );
    let amended: Vec<Event> = events_of(&mut e);
    assert!(
        matches!(amended.as_slice(), [Event::OrderAmended { order, price, quantity, priority: Priority::Lost, .. }]
            if *order == a && *price == Some(px(99_100)) && *quantity == Quantity::new(300)),
        "{amended:?}"
    );
    // The hold follows the new price and quantity (fees on top).
    let hold = e.account(&acct("A")).unwrap().hold_of(a);
    assert!(
        hold.amount() > 99_100 * 300 && hold.amount() < 99_100 * 301,
        "{hold:?}"
    );
    lo(&mut e, "C", "FPT", Side::Sell, 99_100, 100);
    assert_eq!(status(&e, b), OrderStatus::Filled, "B was first at 99,100");
    assert_eq!(e.order(a).unwrap().filled, Quantity::ZERO);
}

/// The order, its account and its instrument (book included), to compare before and after.
fn snapshot(e: &Engine, id: OrderId) -> String {
    let o = e.order(id).unwrap();
    format!(
        "{:?}\n{:?}\n{:?}",
        o,
        e.account(&o.account).unwrap(),
        e.instrument(o.symbol).unwrap()
    )
}

fn refused_with(e: &mut Engine, id: OrderId, amendments: &[Amendment]) -> ChangeRejection {
    let before = snapshot(e, id);
    events_of(e);
    let Err(Error::ChangeRefused { order, reason }) = e.amend_all(id, amendments) else {
        panic!("{amendments:?} was not refused");
    };
    assert_eq!(order, id);
    assert_eq!(snapshot(e, id), before, "{amendments:?} changed something");
    let events = events_of(e);
    assert!(
        matches!(events.as_slice(), [Event::AmendRejected { order, reason: r }] if *order == id && *r == reason),
        "one AmendRejected and nothing else: {events:?}"
    );
    reason
}

fn violation(reason: &ChangeRejection) -> Option<&Violation> {
    match reason {
        ChangeRejection::Rules { violations } => violations.as_slice().first(),
        ChangeRejection::UnknownOrder { .. }
        | ChangeRejection::NotWorking { .. }
        | ChangeRejection::Window { .. }
        | ChangeRejection::InsufficientBuyingPower { .. }
        | ChangeRejection::Overflow => None,
    }
}

#[test]
fn a_refused_part_refuses_the_whole_amendment_and_changes_nothing() {
    let mut e = engine();
    at(&mut e, 10, 0);
    let a = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 200);
    let b = lo(&mut e, "B", "FPT", Side::Buy, 99_000, 100);
    let qty = |q| Amendment::Quantity(Quantity::new(q));
    // Price above the ceiling (107,000) with a valid quantity increase: neither applies.
    let r = refused_with(&mut e, a, &[Amendment::Price(px(107_100)), qty(300)]);
    assert!(
        matches!(violation(&r), Some(Violation::PriceAboveCeiling { .. })),
        "{r:?}"
    );
    // Same the other way round: a valid price with a quantity that is not a round lot.
    let r = refused_with(&mut e, a, &[Amendment::Price(px(99_100)), qty(250)]);
    assert!(
        matches!(violation(&r), Some(Violation::NotRoundLot { .. })),
        "{r:?}"
    );
    // Off tick, below the floor.
    let r = refused_with(&mut e, a, &[Amendment::Price(px(99_050)), qty(100)]);
    assert!(
        matches!(violation(&r), Some(Violation::PriceOffTick { .. })),
        "{r:?}"
    );
    let r = refused_with(&mut e, a, &[qty(100), Amendment::Price(px(92_900))]);
    assert!(
        matches!(violation(&r), Some(Violation::PriceBelowFloor { .. })),
        "{r:?}"
    );
    // More than the account can pay for, at a valid price and lot.
    let r = refused_with(&mut e, a, &[Amendment::Price(px(99_100)), qty(200_000)]);
    assert!(
        matches!(r, ChangeRejection::InsufficientBuyingPower { .. }),
        "{r:?}"
    );
    // A part that changes nothing, and parts that cancel out.
    let r = refused_with(&mut e, a, &[Amendment::Price(px(99_000)), qty(300)]);
    assert!(
        matches!(
            r,
            ChangeRejection::Window {
                violation: ChangeViolation::NoChange
            }
        ),
        "{r:?}"
    );
    let r = refused_with(&mut e, a, &[qty(300), qty(200)]);
    assert!(
        matches!(
            r,
            ChangeRejection::Window {
                violation: ChangeViolation::NoChange
            }
        ),
        "{r:?}"
    );
    let r = refused_with(&mut e, a, &[]);
    assert!(
        matches!(
            r,
            ChangeRejection::Window {
                violation: ChangeViolation::NoChange
            }
        ),
        "{r:?}"
    );
    // A kept its place ahead of B all along.
    lo(&mut e, "C", "FPT", Side::Sell, 99_000, 200);
    assert_eq!(status(&e, a), OrderStatus::Filled);
    assert_eq!(status(&e, b), OrderStatus::Queued);
    assert_eq!(
        e.instrument(sym("FPT")).unwrap().main.volume,
        Quantity::new(200)
    );
}
