//! Prices between SSI's decimal wire and `market`'s integer units.
//!
//! SSI quotes cash instruments in whole VND and index futures in points with one decimal;
//! [`market::Price`] counts whole VND, or tenths of a point for futures. Which one a symbol
//! is comes from its shape ([`market::ticker::classify`]).

use fastconnect::Decimal;
use market::ticker::{TickerKind, classify};
use market::{Price, Quantity, Symbol, Vnd};

use crate::error::{Error, Result};
use crate::types::IndexValue;

/// Units per wire unit of `symbol`: 10 for futures (tenths of a point), 1 otherwise.
pub(crate) fn scale(symbol: &str) -> i128 {
    match classify(symbol) {
        Ok(TickerKind::Future { .. } | TickerKind::FutureAlias(_)) => 10,
        Ok(_) | Err(_) => 1,
    }
}

/// `value × 10^exp` as an exact integer, if it is one.
fn exact(value: Decimal, factor: i128) -> Option<i64> {
    let m = value.mantissa().checked_mul(factor)?;
    let div = 10i128.checked_pow(value.scale())?;
    if m % div != 0 {
        return None;
    }
    i64::try_from(m / div).ok()
}

/// A wire price of `symbol` as a [`Price`]; errors on fractions of a unit and on zero or
/// negative values.
pub(crate) fn price(symbol: &str, value: Decimal) -> Result<Price> {
    let units = exact(value, scale(symbol)).ok_or_else(|| Error::Mapping {
        what: format!("price {value} of {symbol} is not a whole number of units"),
    })?;
    Price::new(units).map_err(|e| Error::Mapping {
        what: format!("price of {symbol}: {e}"),
    })
}

/// Like [`price`], but SSI's `0` (no price: market orders, no trade yet) is `None`.
pub(crate) fn opt_price(symbol: &str, value: Option<Decimal>) -> Result<Option<Price>> {
    match value {
        Some(v) if !v.is_zero() => price(symbol, v).map(Some),
        Some(_) | None => Ok(None),
    }
}

/// A [`Price`] of `symbol` on the wire.
pub(crate) fn wire(symbol: &str, price: Price) -> Decimal {
    match scale(symbol) {
        10 => Decimal::new(i128::from(price.units()), 1).unwrap_or(Decimal::ZERO),
        _ => Decimal::from_i64(price.units()),
    }
}

/// A wire distance of `symbol` (a trailing amount) in price units; zero is allowed, a
/// fraction of a unit or a negative value is not.
pub(crate) fn distance(symbol: &str, value: Decimal) -> Result<i64> {
    exact(value, scale(symbol))
        .filter(|u| *u >= 0)
        .ok_or_else(|| Error::Mapping {
            what: format!("distance {value} of {symbol} is not a whole number of units"),
        })
}

/// A distance of `symbol` in price units on the wire.
pub(crate) fn wire_distance(symbol: &str, units: i64) -> Decimal {
    match scale(symbol) {
        10 => Decimal::new(i128::from(units), 1).unwrap_or(Decimal::ZERO),
        _ => Decimal::from_i64(units),
    }
}

/// A wire quantity (never negative).
pub(crate) fn quantity(what: &str, value: Option<i64>) -> Result<Quantity> {
    let v = value.unwrap_or(0);
    u64::try_from(v)
        .map(Quantity::new)
        .map_err(|_| Error::Mapping {
            what: format!("negative {what} {v}"),
        })
}

/// A wire amount of money as whole VND (fractions of a đồng are dropped toward zero: SSI
/// sometimes sends interest with decimals).
pub(crate) fn vnd(value: Option<Decimal>) -> Option<Vnd> {
    let v = value?;
    let div = 10i128.checked_pow(v.scale())?;
    i64::try_from(v.mantissa() / div).ok().map(Vnd::new)
}

/// An index value in hundredths of a point (rounded toward zero beyond two decimals).
pub(crate) fn index_value(value: Decimal) -> Result<IndexValue> {
    let m = value.mantissa().checked_mul(100);
    let div = 10i128.checked_pow(value.scale());
    m.zip(div)
        .and_then(|(m, d)| i64::try_from(m / d).ok())
        .map(IndexValue)
        .ok_or_else(|| Error::Mapping {
            what: format!("index value {value} out of range"),
        })
}

/// A wire symbol as a [`Symbol`].
pub(crate) fn symbol(text: &str) -> Result<Symbol> {
    Symbol::parse(text).map_err(|e| Error::Mapping {
        what: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn stocks_are_whole_vnd_and_futures_tenths_of_a_point() {
        assert_eq!(price("SSI", d("23500")).unwrap().units(), 23_500);
        assert_eq!(price("SSI", d("23500.0")).unwrap().units(), 23_500);
        assert!(price("SSI", d("23500.5")).is_err());
        assert_eq!(price("VN30F2506", d("1234.5")).unwrap().units(), 12_345);
        assert!(price("VN30F2506", d("1234.55")).is_err());
        assert!(price("SSI", d("0")).is_err());
        assert_eq!(opt_price("SSI", Some(d("0"))).unwrap(), None);
        assert_eq!(
            wire("VN30F2506", Price::new(12_345).unwrap()).to_string(),
            "1234.5"
        );
        assert_eq!(
            wire("SSI", Price::new(23_500).unwrap()).to_string(),
            "23500"
        );
    }

    #[test]
    fn money_index_values_and_quantities() {
        assert_eq!(vnd(Some(d("1000.75"))), Some(Vnd::new(1000)));
        assert_eq!(index_value(d("1234.56")).unwrap(), IndexValue(123_456));
        assert_eq!(index_value(d("1234.5")).unwrap(), IndexValue(123_450));
        assert_eq!(quantity("qty", Some(100)).unwrap(), Quantity::new(100));
        assert!(quantity("qty", Some(-1)).is_err());
    }
}
