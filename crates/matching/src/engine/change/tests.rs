use market::order::{Amendment, Priority};
use market::{Quantity, Side, Vnd};

use crate::engine::test_support::{CASH, acct, at, engine, lo, px, status};
use crate::error::Error;
use crate::types::{ChangeRejection, OrderStatus};

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
