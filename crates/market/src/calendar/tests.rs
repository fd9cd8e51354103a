use super::*;
use crate::ticker::Underlying;
use crate::venue::{Board, Exchange, InstrumentKind};
use proptest::prelude::*;
use time::macros::{date, datetime};

fn cal() -> TradingCalendar {
    TradingCalendar::embedded().unwrap()
}

fn key(exchange: Exchange, board: Board) -> SessionKey {
    let kind = if exchange == Exchange::HnxDeriv {
        InstrumentKind::IndexFuture
    } else {
        InstrumentKind::Stock
    };
    SessionKey {
        exchange,
        board,
        kind,
        restricted: false,
    }
}

fn phase(c: &TradingCalendar, k: &SessionKey, h: u32, m: u32, s: u32) -> Phase {
    // Monday 2 June 2025 is an ordinary trading day.
    let t = TimeOfDay::from_seconds(h * 3600 + m * 60 + s);
    c.session_at(date!(2025 - 06 - 02), t, k).phase
}

#[test]
fn embedded_holidays_parse_and_are_weekdays() {
    let c = cal();
    assert!(c.holidays().count() >= 50);
    assert!(
        c.holidays()
            .all(|h| !matches!(h.date.weekday(), Weekday::Saturday | Weekday::Sunday))
    );
    assert!(c.is_holiday(date!(2025 - 04 - 30)));
    assert!(c.is_holiday(date!(2025 - 09 - 02)));
    assert!(c.holidays().any(|h| h.estimated));
    assert_eq!(c.last_listed_holiday().map(|d| d.year()), Some(2027));
}

#[test]
fn weekends_and_holidays_are_not_trading_days() {
    let c = cal();
    assert!(c.is_trading_day(date!(2025 - 06 - 02)));
    assert!(!c.is_trading_day(date!(2025 - 06 - 07)));
    assert!(!c.is_trading_day(date!(2025 - 06 - 08)));
    assert!(!c.is_trading_day(date!(2025 - 01 - 29)));
}

#[test]
fn next_and_previous_trading_day_skip_tet() {
    let c = cal();
    assert_eq!(
        c.next_trading_day(date!(2025 - 01 - 24)),
        Some(date!(2025 - 02 - 03))
    );
    assert_eq!(
        c.previous_trading_day(date!(2025 - 02 - 03)),
        Some(date!(2025 - 01 - 24))
    );
    assert_eq!(
        c.next_trading_day(date!(2025 - 06 - 06)),
        Some(date!(2025 - 06 - 09))
    );
    assert_eq!(
        c.this_or_next_trading_day(date!(2025 - 06 - 02)),
        Some(date!(2025 - 06 - 02))
    );
}

#[test]
fn t_plus_two_crosses_the_reunification_holidays() {
    let c = cal();
    // Tue 29 Apr 2025 is T+1 of Mon 28 Apr; 30 Apr-2 May are holidays, 3-4 May a weekend.
    assert_eq!(
        c.add_trading_days(date!(2025 - 04 - 28), 1),
        Some(date!(2025 - 04 - 29))
    );
    assert_eq!(
        c.add_trading_days(date!(2025 - 04 - 28), 2),
        Some(date!(2025 - 05 - 05))
    );
    assert_eq!(
        c.add_trading_days(date!(2025 - 04 - 28), 0),
        Some(date!(2025 - 04 - 28))
    );
    assert_eq!(
        c.trading_days_between(date!(2025 - 04 - 28), date!(2025 - 05 - 05)),
        2
    );
    assert_eq!(
        c.trading_days_between(date!(2025 - 05 - 05), date!(2025 - 04 - 28)),
        0
    );
}

#[test]
fn holidays_can_be_added_removed_and_extended() {
    let mut c = cal();
    let d = date!(2025 - 06 - 03);
    assert!(c.is_trading_day(d));
    c.add_holiday(Holiday {
        date: d,
        name: "test closure".into(),
        estimated: false,
    });
    assert!(!c.is_trading_day(d));
    assert!(c.remove_holiday(d));
    assert!(!c.remove_holiday(d));
    let n = c
        .extend_from_toml("[[holiday]]\ndate = \"2028-01-03\"\nname = \"New Year (in lieu)\"\n")
        .unwrap();
    assert_eq!(n, 1);
    assert!(c.is_holiday(date!(2028 - 01 - 03)));
    assert!(matches!(
        c.extend_from_toml("[[holiday]]\ndate = 3"),
        Err(Error::HolidayToml(_))
    ));
    assert_eq!(
        c.extend_from_toml("[[holiday]]\ndate = \"2028-13-01\"\nname = \"x\"\n"),
        Err(Error::HolidayDate("2028-13-01".into()))
    );
}

#[test]
fn hose_main_board_phases_at_every_boundary() {
    let c = cal();
    let k = key(Exchange::Hose, Board::Main);
    assert_eq!(phase(&c, &k, 8, 59, 59), Phase::PreOpen);
    assert_eq!(phase(&c, &k, 9, 0, 0), Phase::OpeningAuction);
    assert_eq!(phase(&c, &k, 9, 14, 59), Phase::OpeningAuction);
    assert_eq!(phase(&c, &k, 9, 15, 0), Phase::Continuous);
    assert_eq!(phase(&c, &k, 11, 29, 59), Phase::Continuous);
    assert_eq!(phase(&c, &k, 11, 30, 0), Phase::Break);
    assert_eq!(phase(&c, &k, 12, 59, 59), Phase::Break);
    assert_eq!(phase(&c, &k, 13, 0, 0), Phase::Continuous);
    assert_eq!(phase(&c, &k, 14, 29, 59), Phase::Continuous);
    assert_eq!(phase(&c, &k, 14, 30, 0), Phase::ClosingAuction);
    assert_eq!(phase(&c, &k, 14, 44, 59), Phase::ClosingAuction);
    assert_eq!(phase(&c, &k, 14, 45, 0), Phase::PutThroughOnly);
    assert_eq!(phase(&c, &k, 15, 0, 0), Phase::Closed);
    let odd = key(Exchange::Hose, Board::OddLot);
    assert_eq!(phase(&c, &odd, 9, 5, 0), Phase::OpeningAuction);
    let pt = key(Exchange::Hose, Board::PutThrough);
    assert_eq!(phase(&c, &pt, 9, 0, 0), Phase::PutThrough);
    assert_eq!(phase(&c, &pt, 11, 30, 0), Phase::Break);
    assert_eq!(phase(&c, &pt, 14, 44, 59), Phase::PutThrough);
    assert_eq!(phase(&c, &pt, 14, 45, 0), Phase::PutThroughAfterHours);
    assert_eq!(phase(&c, &pt, 15, 0, 0), Phase::Closed);
}

#[test]
fn hnx_has_no_opening_auction_and_a_split_plo_session() {
    let c = cal();
    let k = key(Exchange::Hnx, Board::Main);
    assert_eq!(phase(&c, &k, 8, 59, 59), Phase::PreOpen);
    assert_eq!(phase(&c, &k, 9, 0, 0), Phase::Continuous);
    assert_eq!(phase(&c, &k, 14, 30, 0), Phase::ClosingAuction);
    assert_eq!(phase(&c, &k, 14, 45, 0), Phase::PloCollection);
    assert_eq!(phase(&c, &k, 14, 54, 59), Phase::PloCollection);
    assert_eq!(phase(&c, &k, 14, 55, 0), Phase::PloMatching);
    assert_eq!(phase(&c, &k, 15, 0, 0), Phase::Closed);
    let odd = key(Exchange::Hnx, Board::OddLot);
    assert_eq!(phase(&c, &odd, 14, 50, 0), Phase::PutThroughOnly);
}

#[test]
fn upcom_trades_continuously_until_three() {
    let c = cal();
    let k = key(Exchange::Upcom, Board::Main);
    assert_eq!(phase(&c, &k, 9, 0, 0), Phase::Continuous);
    assert_eq!(phase(&c, &k, 14, 30, 0), Phase::Continuous);
    assert_eq!(phase(&c, &k, 14, 59, 59), Phase::Continuous);
    assert_eq!(phase(&c, &k, 15, 0, 0), Phase::Closed);
    let pt = key(Exchange::Upcom, Board::PutThrough);
    assert_eq!(phase(&c, &pt, 14, 50, 0), Phase::PutThrough);
}

#[test]
fn futures_open_fifteen_minutes_early_and_close_at_1445() {
    let c = cal();
    let k = key(Exchange::HnxDeriv, Board::Main);
    assert_eq!(phase(&c, &k, 8, 44, 59), Phase::PreOpen);
    assert_eq!(phase(&c, &k, 8, 45, 0), Phase::OpeningAuction);
    assert_eq!(phase(&c, &k, 9, 0, 0), Phase::Continuous);
    assert_eq!(phase(&c, &k, 14, 30, 0), Phase::ClosingAuction);
    assert_eq!(phase(&c, &k, 14, 45, 0), Phase::Closed);
    let pt = key(Exchange::HnxDeriv, Board::PutThrough);
    assert_eq!(phase(&c, &pt, 8, 45, 0), Phase::PutThrough);
    assert_eq!(phase(&c, &pt, 14, 45, 0), Phase::Closed);
}

#[test]
fn restricted_hose_stocks_trade_in_periodic_auctions() {
    let c = cal();
    let k = SessionKey {
        restricted: true,
        ..key(Exchange::Hose, Board::Main)
    };
    let s = c.session_at(date!(2025 - 06 - 02), TimeOfDay::hm(9, 20), &k);
    assert_eq!(s.phase, Phase::PeriodicAuction(1));
    assert_eq!(s.phase_end, Some(TimeOfDay::hm(9, 30)));
    assert_eq!(phase(&c, &k, 11, 29, 59), Phase::PeriodicAuction(9));
    assert_eq!(phase(&c, &k, 13, 0, 0), Phase::PeriodicAuction(10));
    assert_eq!(phase(&c, &k, 14, 29, 0), Phase::PeriodicAuction(15));
    assert_eq!(phase(&c, &k, 14, 30, 0), Phase::ClosingAuction);
}

#[test]
fn instants_in_any_offset_are_converted_to_vietnam_time() {
    let c = cal();
    let k = key(Exchange::Hose, Board::Main);
    let s = c.session(datetime!(2025-06-02 02:00 UTC), &k);
    assert_eq!(s.phase, Phase::OpeningAuction);
    assert_eq!(s.time, TimeOfDay::hm(9, 0));
    // 23:30 UTC on Sunday is 06:30 Monday in Hanoi.
    let s = c.session(datetime!(2025-06-01 23:30 UTC), &k);
    assert_eq!((s.date, s.phase), (date!(2025 - 06 - 02), Phase::PreOpen));
}

#[test]
fn weekends_and_holidays_are_closed_all_day() {
    let c = cal();
    let k = key(Exchange::Hose, Board::Main);
    let sat = c.session_at(date!(2025 - 06 - 07), TimeOfDay::hm(10, 0), &k);
    assert_eq!((sat.phase, sat.trading_day), (Phase::Closed, false));
    let hol = c.session_at(date!(2025 - 09 - 02), TimeOfDay::hm(10, 0), &k);
    assert_eq!(hol.phase, Phase::Closed);
    let hnx_restricted = SessionKey {
        restricted: true,
        ..key(Exchange::Hnx, Board::Main)
    };
    assert_eq!(phase(&c, &hnx_restricted, 10, 0, 0), Phase::Closed);
    let fri = c.session_at(date!(2025 - 06 - 06), TimeOfDay::hm(10, 0), &hnx_restricted);
    assert_eq!(fri.phase, Phase::Continuous);
}

#[test]
fn futures_expire_on_the_third_thursday() {
    let c = cal();
    let jun = FutureContract::new(Underlying::Vn30, 2025, 6).unwrap();
    assert_eq!(c.last_trading_day(&jun), Some(date!(2025 - 06 - 19)));
    assert_eq!(c.final_settlement_day(&jun), Some(date!(2025 - 06 - 20)));
    let apr = FutureContract::new(Underlying::Vn30, 2025, 4).unwrap();
    assert_eq!(c.last_trading_day(&apr), Some(date!(2025 - 04 - 17)));
    // May 2025 starts on a Thursday: 1 (holiday), 8, 15.
    let may = FutureContract::new(Underlying::Vn30, 2025, 5).unwrap();
    assert_eq!(c.last_trading_day(&may), Some(date!(2025 - 05 - 15)));
    let mut c2 = c.clone();
    c2.add_holiday(Holiday {
        date: date!(2025 - 06 - 19),
        name: "test".into(),
        estimated: false,
    });
    assert_eq!(c2.last_trading_day(&jun), Some(date!(2025 - 06 - 18)));
}

#[test]
fn listed_contracts_roll_after_the_last_trading_day() {
    let c = cal();
    let m = |y, mo| FutureContract::new(Underlying::Vn30, y, mo).unwrap();
    assert_eq!(
        c.listed_contracts(Underlying::Vn30, date!(2025 - 06 - 19)),
        Some([m(2025, 6), m(2025, 7), m(2025, 9), m(2025, 12)])
    );
    assert_eq!(
        c.listed_contracts(Underlying::Vn30, date!(2025 - 06 - 20)),
        Some([m(2025, 7), m(2025, 8), m(2025, 9), m(2025, 12)])
    );
    assert_eq!(
        c.listed_contracts(Underlying::Vn30, date!(2025 - 11 - 25)),
        Some([m(2025, 12), m(2026, 1), m(2026, 3), m(2026, 6)])
    );
    assert_eq!(
        c.listed_contracts(Underlying::Vn30, date!(2025 - 02 - 03)),
        Some([m(2025, 2), m(2025, 3), m(2025, 6), m(2025, 9)])
    );
    let alias = FutureAlias {
        underlying: Underlying::Vn30,
        series: AliasSeries::FrontMonth,
    };
    assert_eq!(
        c.resolve_alias(&alias, date!(2025 - 06 - 20)),
        Some(m(2025, 7))
    );
    let q2 = FutureAlias {
        series: AliasSeries::SecondQuarter,
        ..alias
    };
    assert_eq!(
        c.resolve_alias(&q2, date!(2025 - 06 - 20)),
        Some(m(2025, 12))
    );
}

proptest! {
    #[test]
    fn prop_next_and_previous_trading_days_invert(days in 0i64..2_000) {
        let c = cal();
        let d = date!(2023 - 01 - 01) + Duration::days(days);
        let n = c.next_trading_day(d).unwrap();
        prop_assert!(n > d && c.is_trading_day(n));
        let p = c.previous_trading_day(n).unwrap();
        prop_assert!(p <= d || !c.is_trading_day(d) || p == d);
        prop_assert_eq!(c.next_trading_day(p), Some(n));
    }
}
