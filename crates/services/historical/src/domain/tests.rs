use market::TradingCalendar;
use market::session::TimeOfDay;
use time::macros::{date, datetime};

use super::*;

fn t(symbol: &str, at: OffsetDateTime, price: i64, qty: i64, total: i64) -> Trade {
    Trade {
        symbol: symbol.into(),
        price,
        quantity: qty,
        total_volume: total,
        time: at,
    }
}

#[test]
fn a_later_minute_closes_the_bar_and_duplicates_and_late_trades_do_not_count() {
    let mut s = SymbolState::default();
    let mut closed = Vec::new();
    let m0 = datetime!(2025-06-10 09:00:10 +7);
    assert_eq!(
        s.apply(&t("A", m0, 100, 10, 10), &mut closed),
        Applied::Counted
    );
    assert_eq!(
        s.apply(&t("A", m0, 120, 10, 20), &mut closed),
        Applied::Counted
    );
    assert_eq!(
        s.apply(&t("A", m0, 90, 10, 20), &mut closed),
        Applied::Duplicate
    );
    let m1 = m0 + Duration::minutes(1);
    assert_eq!(
        s.apply(&t("A", m1, 110, 5, 25), &mut closed),
        Applied::Counted
    );
    assert_eq!(closed.len(), 1);
    let bar = &closed[0];
    assert_eq!(bar.start, datetime!(2025-06-10 02:00 UTC));
    assert_eq!(
        (bar.open, bar.high, bar.low, bar.close),
        (100, 120, 100, 120)
    );
    assert_eq!((bar.volume, bar.trades), (20, 2));
    assert_eq!(s.apply(&t("A", m0, 95, 5, 30), &mut closed), Applied::Late);
    assert_eq!(closed.len(), 1);
}

#[test]
fn a_new_day_resets_the_cumulative_volume() {
    let mut s = SymbolState::default();
    let mut closed = Vec::new();
    let d1 = datetime!(2025-06-10 14:29:00 +7);
    assert_eq!(
        s.apply(&t("A", d1, 100, 10, 5_000), &mut closed),
        Applied::Counted
    );
    let d2 = datetime!(2025-06-11 09:15:00 +7);
    assert_eq!(
        s.apply(&t("A", d2, 100, 10, 10), &mut closed),
        Applied::Counted
    );
}

#[test]
fn the_clock_closes_a_bar_only_after_its_end_and_the_grace() {
    let mut s = SymbolState::default();
    let mut closed = Vec::new();
    let m0 = datetime!(2025-06-10 09:00:10 +7);
    s.apply(&t("A", m0, 100, 10, 0), &mut closed);
    let grace = Duration::seconds(5);
    assert!(
        s.close_due(datetime!(2025-06-10 09:01:04 +7), grace)
            .is_none()
    );
    assert!(
        s.close_due(datetime!(2025-06-10 09:01:05 +7), grace)
            .is_some()
    );
    assert_eq!(s.apply(&t("A", m0, 100, 10, 0), &mut closed), Applied::Late);
}

#[test]
fn resolutions_parse_and_unknown_ones_are_named() {
    for r in Resolution::ALL {
        assert_eq!(r.as_str().parse::<Resolution>(), Ok(r));
    }
    let err = "2m".parse::<Resolution>().unwrap_err();
    assert!(err.to_string().contains("\"2m\""), "{err}");
}

#[test]
fn no_resampled_bar_spans_the_lunch_break() {
    let cal = TradingCalendar::embedded().unwrap();
    let day = date!(2025 - 06 - 10);
    let shape = DayShape::hose(&cal, day);
    assert_eq!(shape.break_start, TimeOfDay::hm(11, 30));
    assert_eq!(shape.break_end, TimeOfDay::hm(13, 0));
    let bar = |h: u8, m: u8| Bar {
        symbol: "A".into(),
        start: datetime!(2025-06-10 00:00 +7)
            .replace_hour(h)
            .unwrap()
            .replace_minute(m)
            .unwrap(),
        seconds: 60,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
        trades: 1,
    };
    let bars = vec![bar(11, 29), bar(13, 0), bar(13, 1)];
    for r in [
        Resolution::M5,
        Resolution::M15,
        Resolution::M30,
        Resolution::H1,
    ] {
        let out = resample(&bars, r, &shape);
        assert_eq!(out.len(), 2, "{r}");
        assert!(
            out[0].end() <= vn_midnight(day) + Duration::hours(13),
            "{r}"
        );
    }
    assert_eq!(resample(&bars, Resolution::D1, &shape).len(), 1);
    assert_eq!(shape.continuous_minutes(day).len(), 135 + 90);
}
