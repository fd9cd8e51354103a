use market::TradingCalendar;
use market::bars::{DayShape, Resolution};
use time::macros::datetime;

use super::*;

fn minute(h: u8, m: u8) -> OffsetDateTime {
    datetime!(2025-06-10 00:00 +7)
        .replace_hour(h)
        .unwrap()
        .replace_minute(m)
        .unwrap()
        .to_offset(time::UtcOffset::UTC)
}

fn bar(start: OffsetDateTime, close: i64) -> Bar {
    Bar {
        symbol: "FPT".into(),
        start,
        seconds: 60,
        open: close - 50,
        high: close + 100,
        low: close - 100,
        close,
        volume: 1_000,
        trades: 3,
    }
}

fn study(id: &str, function: &str, params: &[(&str, f64)]) -> StudyConfig {
    StudyConfig {
        id: id.into(),
        function: function.into(),
        params: params.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        input: None,
    }
}

fn shape() -> DayShape {
    DayShape::hose(
        &TradingCalendar::embedded().unwrap(),
        time::macros::date!(2025 - 06 - 10),
    )
}

#[test]
fn values_match_the_library_and_multi_output_ids_are_prefixed() {
    let set = StudySet::new(
        &[
            study("sma3", "SMA", &[("timeperiod", 3.0)]),
            study("bb", "BBANDS", &[("timeperiod", 3.0)]),
        ],
        &[],
    )
    .unwrap();
    let mut s = set.start();
    let closes = [10_000, 10_100, 10_300, 10_200];
    let mut last = Vec::new();
    for (i, c) in closes.iter().enumerate() {
        match s.apply(&set, &bar(minute(9, 15 + i as u8), *c)) {
            Update::Applied { values, .. } => last = values,
            other @ (Update::Corrected { .. } | Update::Ignored) => panic!("{other:?}"),
        }
    }
    let get = |id: &str| last.iter().find(|(k, _)| k == id).map(|(_, v)| *v);
    assert_eq!(get("sma3"), Some((10_100.0 + 10_300.0 + 10_200.0) / 3.0));
    assert_eq!(get("bb.middleband"), get("sma3"));
    assert!(get("bb.upperband").unwrap() > get("sma3").unwrap());
}

#[test]
fn a_corrected_last_bar_replaces_it_and_a_redelivery_changes_nothing() {
    let set = StudySet::new(&[study("sma2", "SMA", &[("timeperiod", 2.0)])], &[]).unwrap();
    let mut s = set.start();
    s.apply(&set, &bar(minute(9, 15), 10_000));
    let b = bar(minute(9, 16), 10_200);
    assert!(matches!(s.apply(&set, &b), Update::Applied { .. }));
    assert_eq!(s.apply(&set, &b), Update::Ignored, "redelivered");
    let late = Bar {
        close: 10_400,
        volume: 2_000,
        ..b.clone()
    };
    let Update::Corrected { values, .. } = s.apply(&set, &late) else {
        panic!("a correction")
    };
    assert_eq!(
        values,
        [("sma2".to_owned(), 10_200.0)],
        "(10000 + 10400) / 2"
    );
    assert_eq!(
        s.apply(&set, &bar(minute(9, 14), 1)),
        Update::Ignored,
        "older than the last"
    );
}

#[test]
fn crossovers_levels_and_band_breaks_are_signalled_once() {
    let set = StudySet::new(
        &[
            study("fast", "SMA", &[("timeperiod", 2.0)]),
            study("slow", "SMA", &[("timeperiod", 4.0)]),
        ],
        &[
            Rule::Cross {
                fast: "fast".into(),
                slow: "slow".into(),
                up: "golden_cross".into(),
                down: "death_cross".into(),
            },
            Rule::Level {
                name: "fast".into(),
                value: "fast".into(),
                upper: 10_500.0,
                lower: 9_500.0,
            },
        ],
    )
    .unwrap();
    let mut s = set.start();
    let closes = [
        10_000, 9_800, 9_600, 9_400, 9_300, 10_200, 10_900, 11_000, 10_000,
    ];
    let mut seen = Vec::new();
    for (i, c) in closes.iter().enumerate() {
        if let Update::Applied { signals, .. } = s.apply(&set, &bar(minute(9, 15 + i as u8), *c)) {
            seen.extend(signals.into_iter().map(|g| (i, g.name, g.direction)));
        }
    }
    assert_eq!(
        seen,
        [
            (5, "golden_cross".to_owned(), 1),
            (5, "fast_left_oversold".to_owned(), 1),
            (8, "death_cross".to_owned(), -1),
            (8, "fast_left_overbought".to_owned(), -1),
        ]
    );
}

#[test]
fn a_breakout_needs_volume_upwards_and_reads_the_channel_before_the_bar() {
    let mut high = study("top", "MAX", &[("timeperiod", 3.0)]);
    high.input = Some("high".into());
    let mut low = study("bottom", "MIN", &[("timeperiod", 3.0)]);
    low.input = Some("low".into());
    let mut volume = study("vol", "SMA", &[("timeperiod", 3.0)]);
    volume.input = Some("volume".into());
    let set = StudySet::new(
        &[high, low, volume],
        &[Rule::Breakout {
            name: "channel".into(),
            upper: "top".into(),
            lower: "bottom".into(),
            volume: "vol".into(),
            factor: 1.5,
        }],
    )
    .unwrap();
    let mut s = set.start();
    let mut signals = Vec::new();
    // Three quiet bars: highs 10,100, lows 9,900, volume 1,000.
    for m in 0..3 {
        assert!(s.advance(&set, &bar(minute(10, m), 10_000), &mut signals));
    }
    assert!(signals.is_empty());
    let slot = set.slot("vol").unwrap();
    assert_eq!(s.value(slot), Some(1_000.0), "an SMA of the volume column");
    // Above the top on the average volume: not confirmed.
    let mut thin = bar(minute(10, 3), 10_200);
    s.advance(&set, &thin, &mut signals);
    assert!(signals.is_empty(), "{signals:?}");
    // Above the (new) top on twice the volume: confirmed.
    thin.start = minute(10, 4);
    thin.close = 10_500;
    thin.high = 10_600;
    thin.volume = 2_500;
    s.advance(&set, &thin, &mut signals);
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(
        (signals[0].name.as_str(), signals[0].direction),
        ("channel_up", 1)
    );
    assert_eq!(signals[0].kind, "breakout");
    signals.clear();
    // Below the bottom of the three bars before: an exit, volume or not.
    let mut fall = bar(minute(10, 5), 9_800);
    fall.volume = 10;
    s.advance(&set, &fall, &mut signals);
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(signals[0].name, "channel_down");
    // Redelivered and older bars change nothing through `advance`.
    assert!(!s.advance(&set, &fall, &mut signals));
    let mut both = study("x", "BBANDS", &[]);
    both.input = Some("volume".into());
    assert!(
        StudySet::new(&[both], &[]).is_ok(),
        "BBANDS reads one series"
    );
    let mut two = study("y", "BETA", &[]);
    two.input = Some("volume".into());
    let e = StudySet::new(&[two], &[]).unwrap_err().0;
    assert!(e.contains("only a one-series function"), "{e}");
    let mut bad = study("z", "SMA", &[]);
    bad.input = Some("vwap".into());
    assert!(
        StudySet::new(&[bad], &[])
            .unwrap_err()
            .0
            .contains("\"vwap\"")
    );
}

#[test]
fn bad_configurations_are_named() {
    let err = StudySet::new(&[study("x", "NOPE", &[])], &[]).unwrap_err();
    assert!(err.0.contains("study x"), "{err}");
    let err = StudySet::new(&[study("x", "SMA", &[("timeperiod", 0.0)])], &[]).unwrap_err();
    assert!(err.0.contains("study x"), "{err}");
    let err = StudySet::new(&[study("m", "MAVP", &[])], &[]).unwrap_err();
    assert!(err.0.contains("periods"), "{err}");
    let err = StudySet::new(&[study("a", "SMA", &[]), study("a", "EMA", &[])], &[]).unwrap_err();
    assert!(err.0.contains("twice"), "{err}");
    let err = StudySet::new(
        &[study("a", "SMA", &[])],
        &[Rule::Band {
            name: "bb".into(),
            upper: "bb.upperband".into(),
            lower: "a".into(),
        }],
    )
    .unwrap_err();
    assert!(err.0.contains("bb.upperband"), "{err}");
}

#[test]
fn candlestick_patterns_become_signals() {
    let set = StudySet::new(&[study("doji", "CDLDOJI", &[])], &[]).unwrap();
    let mut s = set.start();
    let mut fired = 0;
    for i in 0..20u8 {
        let mut b = bar(minute(9, 15 + i), 10_000 + i64::from(i) * 100);
        if i == 15 {
            b.open = b.close; // a doji: no body
        }
        if let Update::Applied { signals, .. } = s.apply(&set, &b) {
            for g in signals {
                assert_eq!(
                    (g.kind, g.name.as_str(), g.value),
                    ("pattern", "CDLDOJI", 100.0)
                );
                fired += 1;
            }
        }
    }
    assert_eq!(fired, 1);
}

#[test]
fn five_minute_buckets_close_on_their_last_minute_and_never_span_lunch() {
    let mut r = Rollup::new(Resolution::M5, shape());
    assert!(r.push(&bar(minute(9, 15), 100)).is_empty());
    assert!(r.push(&bar(minute(9, 17), 110)).is_empty());
    let closed = r.push(&bar(minute(9, 19), 90));
    assert_eq!(closed.len(), 1);
    let b = &closed[0];
    assert_eq!((b.start, b.seconds), (minute(9, 15), 300));
    assert_eq!((b.open, b.close, b.volume, b.trades), (50, 90, 3_000, 9));
    // A gap: the 9:20 bucket closes when a 9:26 minute arrives.
    r.push(&bar(minute(9, 21), 100));
    let closed = r.push(&bar(minute(9, 26), 100));
    assert_eq!(
        closed.iter().map(|b| b.start).collect::<Vec<_>>(),
        [minute(9, 20)]
    );
    // An hour bucket that starts at 11:00 ends at the break (11:30).
    let mut h = Rollup::new(Resolution::H1, shape());
    assert!(h.push(&bar(minute(11, 0), 100)).is_empty());
    let closed = h.push(&bar(minute(11, 29), 100));
    assert_eq!(closed.len(), 1, "closed by the lunch break");
    // The afternoon's 13:00 hour bucket.
    assert!(h.push(&bar(minute(13, 0), 100)).is_empty());
    assert_eq!(h.open_start(), Some(minute(13, 0)));
}

#[test]
fn a_day_bucket_closes_at_the_end_of_its_day_and_a_late_minute_is_dropped() {
    let mut d = Rollup::new(Resolution::D1, shape());
    d.push(&bar(minute(9, 15), 100));
    d.push(&bar(minute(14, 45), 120));
    assert_eq!(
        d.close_day(minute(14, 0) - Duration::days(1)),
        None,
        "not yet its day"
    );
    let day = d.close_day(minute(15, 0)).unwrap();
    assert_eq!((day.open, day.close, day.seconds), (50, 120, 86_400));
    assert!(d.push(&bar(minute(10, 0), 1)).is_empty(), "its day closed");
    assert_eq!(d.open_start(), None);
    let mut m = Rollup::new(Resolution::M15, shape());
    m.push(&bar(minute(9, 31), 100));
    m.push(&bar(minute(9, 46), 100));
    assert!(
        m.push(&bar(minute(9, 32), 1)).is_empty(),
        "its bucket closed"
    );
}
