//! Date keys of daily panels: the Julian day number of the trading day, what the prediction
//! service, `qts ml` and `qts backtest --registry` key dates by (and artefacts record as their
//! training range).

use time::Date;

/// The key of `date`.
pub fn key(date: Date) -> i64 {
    i64::from(date.to_julian_day())
}

/// The date of `key`, if it is one.
pub fn date(key: i64) -> Option<Date> {
    i32::try_from(key)
        .ok()
        .and_then(|k| Date::from_julian_day(k).ok())
}

/// `key` as YYYY-MM-DD (a key that is no date, as the number).
pub fn name(key: i64) -> String {
    date(key).map_or_else(|| key.to_string(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_name_their_day() {
        let d = time::macros::date!(2025 - 06 - 09);
        assert_eq!(date(key(d)), Some(d));
        assert_eq!(name(key(d)), "2025-06-09");
        assert_eq!(name(1_749_427_200), "1749427200");
    }
}
