//! [`Timestamp`]: a UTC instant stored as `timestamptz` on PostgreSQL and as INTEGER unix
//! microseconds on SQLite.
//!
//! sqlx stores `OffsetDateTime` on SQLite as RFC 3339 text, whose width varies with the
//! fraction (`…:05Z` sorts after `…:05.1Z`), so `WHERE t < $1` and `ORDER BY t` would be wrong
//! near whole seconds. Integers compare correctly, and microseconds are PostgreSQL's
//! precision, so a value reads back the same on both engines.

use std::time::Duration;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use time::{OffsetDateTime, UtcOffset};

/// A UTC instant with microsecond precision, typed for both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Now, truncated to microseconds.
    pub fn now() -> Self {
        Self::from(OffsetDateTime::now_utc())
    }

    /// The instant as a UTC `OffsetDateTime`.
    pub fn get(self) -> OffsetDateTime {
        self.0
    }

    /// Microseconds since the Unix epoch (saturating far outside ±292,000 years).
    pub fn unix_micros(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000).unwrap_or(if self.0.year() < 1970 {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    /// The instant `micros` microseconds after the Unix epoch.
    pub fn from_unix_micros(micros: i64) -> Result<Self, time::error::ComponentRange> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map(Self)
    }

    /// `d` earlier (or the earliest representable instant).
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self::from(
            self.0
                .checked_sub(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    }

    /// How long ago this was (zero if in the future).
    pub fn elapsed(self) -> Duration {
        Duration::try_from(OffsetDateTime::now_utc() - self.0).unwrap_or(Duration::ZERO)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        Self(
            t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
                .unwrap_or(t),
        )
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &<Postgres as Database>::TypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::from(
            <OffsetDateTime as Decode<'r, Postgres>>::decode(value)?,
        ))
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &<Sqlite as Database>::TypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Sqlite>>::encode(self.unix_micros(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let micros = <i64 as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self::from_unix_micros(micros)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_are_utc_and_truncated_to_microseconds() {
        let t = Timestamp::from(datetime!(2025-03-04 09:15:00.123456789 +07:00));
        assert_eq!(t.get(), datetime!(2025-03-04 02:15:00.123456 UTC));
        assert_eq!(t.get().offset(), UtcOffset::UTC);
        assert_eq!(Timestamp::from_unix_micros(t.unix_micros()).unwrap(), t);
    }

    #[test]
    fn micros_order_like_the_instants() {
        let whole = Timestamp::from(datetime!(2025-01-01 00:00:05 UTC));
        let later = Timestamp::from(datetime!(2025-01-01 00:00:05.1 UTC));
        assert!(whole < later);
        assert!(whole.unix_micros() < later.unix_micros());
        assert_eq!(
            later
                .saturating_sub(Duration::from_millis(100))
                .unix_micros(),
            whole.unix_micros()
        );
    }
}
