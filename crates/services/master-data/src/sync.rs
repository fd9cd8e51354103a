//! The sync from the broker: what the broker says about every exchange's securities on a
//! trading day ([`fetch`]), the band derived with `market`'s rules where the broker has none
//! yet, and when the daily sync runs ([`next_run`]).

use std::collections::BTreeMap;

use broker::{DailyPrice, MarketData, SecurityDetail};
use market::calendar::VN_OFFSET;
use market::limits::{LimitCase, PreviousSession, Vwap};
use market::session::{SessionKey, TimeOfDay};
use market::ticker::TickerKind;
use market::{Board, Exchange, InstrumentKind, MarketRules, Symbol, TradingCalendar};
use time::{Date, OffsetDateTime};

use crate::domain::{DayBand, Index};

/// One security as the broker describes it on the synced day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Incoming {
    pub(crate) symbol: Symbol,
    pub(crate) exchange: Exchange,
    pub(crate) kind: InstrumentKind,
    pub(crate) name: Option<String>,
    pub(crate) name_en: Option<String>,
    pub(crate) sector: Option<String>,
    pub(crate) lot_size: u64,
    pub(crate) listed_shares: Option<u64>,
    pub(crate) foreign_room: Option<u64>,
    pub(crate) band: Option<DayBand>,
}

/// What [`fetch`] found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fetched {
    pub(crate) securities: Vec<Incoming>,
    pub(crate) indexes: Vec<Index>,
    pub(crate) derived: u32,
    pub(crate) warnings: Vec<String>,
}

/// The exchanges that publish indexes.
const INDEX_EXCHANGES: [Exchange; 2] = [Exchange::Hose, Exchange::Hnx];

/// Everything the broker says about `day`: every exchange's securities with details and the
/// day's band (derived from the previous trading day's where the broker has none yet), and
/// every index with its constituents.
pub(crate) async fn fetch(
    broker: &dyn MarketData,
    rules: &MarketRules,
    calendar: &TradingCalendar,
    day: Date,
) -> Result<Fetched, broker::Error> {
    let mut out = Fetched::default();
    let previous_day = calendar.previous_trading_day(day);
    for exchange in Exchange::ALL {
        let details = match broker.security_details(exchange).await {
            Ok(d) => d,
            // v3 lists no derivatives board: its contracts come from the daily list.
            Err(broker::Error::Unsupported { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let today = broker.daily_prices(exchange, day).await?;
        let today: BTreeMap<Symbol, DailyPrice> =
            today.into_iter().map(|p| (p.symbol, p)).collect();
        let mut symbols: BTreeMap<Symbol, Option<SecurityDetail>> =
            details.into_iter().map(|d| (d.symbol, Some(d))).collect();
        for s in today.keys() {
            symbols.entry(*s).or_insert(None);
        }
        let complete = symbols.keys().all(|s| today.get(s).is_some_and(has_band));
        let previous: BTreeMap<Symbol, DailyPrice> = match (complete, previous_day) {
            (false, Some(prev)) => broker
                .daily_prices(exchange, prev)
                .await?
                .into_iter()
                .map(|p| (p.symbol, p))
                .collect(),
            (true, _) | (false, None) => BTreeMap::new(),
        };
        if !complete {
            for s in previous.keys() {
                symbols.entry(*s).or_insert(None);
            }
        }
        for (symbol, detail) in symbols {
            let Some(kind) = detail
                .as_ref()
                .and_then(|d| d.kind)
                .or_else(|| kind_from_ticker(symbol, exchange))
            else {
                out.warnings.push(format!(
                    "{symbol}: the broker sent no kind and the ticker names none"
                ));
                continue;
            };
            let band = match today.get(&symbol).and_then(|p| band_of(p, day)) {
                Some(b) => Some(b),
                None => match previous.get(&symbol) {
                    Some(prev) => match derive(rules, exchange, kind, prev, day) {
                        Ok(b) => {
                            out.derived += 1;
                            Some(b)
                        }
                        Err(why) => {
                            out.warnings.push(format!("{symbol}: {why}"));
                            None
                        }
                    },
                    None => {
                        out.warnings
                            .push(format!("{symbol}: no band for {day} and no previous day"));
                        None
                    }
                },
            };
            let foreign_room = today
                .get(&symbol)
                .and_then(|p| p.foreign_room)
                .or_else(|| previous.get(&symbol).and_then(|p| p.foreign_room))
                .map(|q| q.units());
            let detail = detail.as_ref();
            out.securities.push(Incoming {
                symbol,
                exchange: detail.map_or(exchange, |d| d.exchange),
                kind,
                name: detail.and_then(|d| d.name.clone()),
                name_en: detail.and_then(|d| d.name_en.clone()),
                sector: detail.and_then(|d| d.sector.clone()),
                lot_size: detail
                    .and_then(|d| d.lot_size)
                    .unwrap_or_else(|| rules.lots.round_lot(exchange)),
                listed_shares: detail.and_then(|d| d.listed_shares),
                foreign_room,
                band,
            });
        }
    }
    for exchange in INDEX_EXCHANGES {
        for info in broker.indexes(exchange).await? {
            let members = match broker.index_components(&info.code).await {
                Ok(m) => m.iter().map(|s| s.as_str().to_owned()).collect(),
                Err(e) => {
                    out.warnings.push(format!(
                        "index {}: constituents not read: {}",
                        info.code,
                        common::error::chain(&e)
                    ));
                    Vec::new()
                }
            };
            out.indexes.push(Index {
                exchange: info
                    .exchange
                    .map(|e| e.ssi_code().to_owned())
                    .unwrap_or_default(),
                name: info.name.unwrap_or_default(),
                code: info.code,
                members,
            });
        }
    }
    out.indexes.sort_by(|a, b| a.code.cmp(&b.code));
    out.indexes.dedup_by(|a, b| a.code == b.code);
    Ok(out)
}

fn has_band(p: &DailyPrice) -> bool {
    p.reference.is_some() && p.ceiling.is_some() && p.floor.is_some()
}

fn band_of(p: &DailyPrice, day: Date) -> Option<DayBand> {
    Some(DayBand {
        day,
        limits: market::PriceLimits {
            reference: p.reference?,
            ceiling: p.ceiling?,
            floor: p.floor?,
        },
        derived: false,
    })
}

/// The kind a ticker's shape names (`market::ticker`), for securities the broker sent no
/// type of.
fn kind_from_ticker(symbol: Symbol, exchange: Exchange) -> Option<InstrumentKind> {
    if exchange == Exchange::HnxDeriv {
        return Some(InstrumentKind::IndexFuture);
    }
    match market::ticker::classify(symbol.as_str()).ok()? {
        TickerKind::Stock => Some(InstrumentKind::Stock),
        TickerKind::Etf => Some(InstrumentKind::Etf),
        TickerKind::FundCertificate => Some(InstrumentKind::FundCertificate),
        TickerKind::CoveredWarrant { .. } => Some(InstrumentKind::CoveredWarrant),
        TickerKind::Future { .. } | TickerKind::FutureAlias(_) => Some(InstrumentKind::IndexFuture),
    }
}

/// `day`'s band from the previous trading day's prices (`prev`), by `market`'s rules: the next
/// reference (§5.3: the close on HOSE/HNX/futures, the continuous VWAP on UPCoM; the
/// reference carries over when nothing traded) and the normal band around it (§5.1). The
/// day's matched value and volume stand in for the continuous VWAP's sums.
pub(crate) fn derive(
    rules: &MarketRules,
    exchange: Exchange,
    kind: InstrumentKind,
    prev: &DailyPrice,
    day: Date,
) -> Result<DayBand, String> {
    let reference = prev
        .reference
        .ok_or_else(|| format!("no reference on {}", prev.date))?;
    let volume = prev.volume.map_or(0, |q| q.units());
    if volume == 0 && prev.volume.is_none() && prev.close.is_none() {
        return Err(format!(
            "the broker sent no close for {}: the next reference cannot be derived",
            prev.date
        ));
    }
    let traded = volume > 0;
    let continuous = match prev.value {
        Some(v) if traded => Vwap::from_totals(i128::from(v.amount()), i128::from(volume)),
        Some(_) | None => Vwap::EMPTY,
    };
    let previous = PreviousSession {
        reference,
        close: if traded { prev.close } else { None },
        continuous,
    };
    let next = rules
        .next_reference(exchange, kind, &previous)
        .map_err(|e| format!("next reference: {e}"))?;
    let limits = rules
        .price_limits(exchange, kind, next, LimitCase::Normal)
        .map_err(|e| format!("band: {e}"))?;
    Ok(DayBand {
        day,
        limits,
        derived: true,
    })
}

/// The earliest first session of `day` over every exchange's main board (the derivatives
/// market opens first).
pub(crate) fn first_open(rules: &MarketRules, day: Date) -> Option<TimeOfDay> {
    Exchange::ALL
        .into_iter()
        .filter_map(|exchange| {
            let kind = if exchange == Exchange::HnxDeriv {
                InstrumentKind::IndexFuture
            } else {
                InstrumentKind::Stock
            };
            let key = SessionKey {
                exchange,
                board: Board::Main,
                kind,
                restricted: false,
            };
            rules.sessions.timetable(&key, day)?.opens_at()
        })
        .min()
}

/// The next sync: the trading day it is for and when it runs (`lead_minutes` before that
/// day's first session), given the market's `now` and the last day synced. Holidays and
/// weekends are skipped by the calendar. The instant may be past (a missed sync runs now).
pub(crate) fn next_run(
    rules: &MarketRules,
    calendar: &TradingCalendar,
    now: OffsetDateTime,
    last_synced: Option<Date>,
    lead_minutes: u32,
) -> Option<(Date, OffsetDateTime)> {
    let (today, _) = TradingCalendar::local(now);
    let mut day = calendar.this_or_next_trading_day(today)?;
    if last_synced.is_some_and(|last| last >= day) {
        day = calendar.next_trading_day(day)?;
    }
    let open = first_open(rules, day)?;
    let at = open
        .seconds()
        .saturating_sub(lead_minutes.saturating_mul(60));
    let time = time::Time::from_hms(
        u8::try_from(at / 3600).ok()?,
        u8::try_from(at / 60 % 60).ok()?,
        u8::try_from(at % 60).ok()?,
    )
    .ok()?;
    Some((day, day.with_time(time).assume_offset(VN_OFFSET)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use market::{Price, Quantity, Vnd};
    use time::macros::{date, datetime};

    fn calendar() -> (MarketRules, TradingCalendar) {
        let rules = MarketRules::default();
        let calendar = rules.calendar().unwrap();
        (rules, calendar)
    }

    #[test]
    fn the_daily_sync_runs_before_the_derivatives_open_and_skips_weekends() {
        let (rules, cal) = calendar();
        // Tuesday 07:00, nothing synced yet: today at 08:15 (futures open 08:45).
        let (day, at) = next_run(&rules, &cal, datetime!(2025-06-10 07:00 +7), None, 30).unwrap();
        assert_eq!(day, date!(2025 - 06 - 10));
        assert_eq!(at, datetime!(2025-06-10 08:15 +7));
        // Synced today: tomorrow.
        let (day, _) = next_run(
            &rules,
            &cal,
            datetime!(2025-06-10 09:00 +7),
            Some(date!(2025 - 06 - 10)),
            30,
        )
        .unwrap();
        assert_eq!(day, date!(2025 - 06 - 11));
        // Friday synced: Monday, across the weekend.
        let (day, at) = next_run(
            &rules,
            &cal,
            datetime!(2025-06-13 16:00 +7),
            Some(date!(2025 - 06 - 13)),
            30,
        )
        .unwrap();
        assert_eq!(
            (day, at),
            (date!(2025 - 06 - 16), datetime!(2025-06-16 08:15 +7))
        );
        // A missed sync (started at noon, today not synced) is due now.
        let (day, at) = next_run(&rules, &cal, datetime!(2025-06-10 12:00 +7), None, 30).unwrap();
        assert_eq!(day, date!(2025 - 06 - 10));
        assert!(at < datetime!(2025-06-10 12:00 +7));
    }

    #[test]
    fn holidays_are_skipped() {
        let (rules, cal) = calendar();
        let holiday = cal
            .holidays()
            .map(|h| h.date)
            .find(|d| {
                d.weekday() != time::Weekday::Saturday && d.weekday() != time::Weekday::Sunday
            })
            .unwrap();
        let before = cal.previous_trading_day(holiday).unwrap();
        let (day, _) = next_run(
            &rules,
            &cal,
            before.with_hms(16, 0, 0).unwrap().assume_offset(VN_OFFSET),
            Some(before),
            30,
        )
        .unwrap();
        assert!(day > holiday, "{holiday} skipped, got {day}");
        assert!(cal.is_trading_day(day));
    }

    fn prev(reference: i64, close: Option<i64>, volume: u64, value: i64) -> DailyPrice {
        DailyPrice {
            symbol: Symbol::parse("AAA").unwrap(),
            exchange: None,
            date: date!(2025 - 06 - 09),
            reference: Some(Price::new(reference).unwrap()),
            ceiling: None,
            floor: None,
            close: close.map(|c| Price::new(c).unwrap()),
            volume: Some(Quantity::new(volume)),
            value: Some(Vnd::new(value)),
            foreign_room: None,
        }
    }

    #[test]
    fn a_derived_band_follows_markets_next_reference_and_band() {
        let rules = MarketRules::default();
        let day = date!(2025 - 06 - 10);
        // HOSE: the close becomes the reference, ±7%.
        let b = derive(
            &rules,
            Exchange::Hose,
            InstrumentKind::Stock,
            &prev(48_000, Some(49_000), 1_000, 49_000_000),
            day,
        )
        .unwrap();
        assert!(b.derived);
        assert_eq!(
            (
                b.limits.reference.units(),
                b.limits.ceiling.units(),
                b.limits.floor.units()
            ),
            (49_000, 52_400, 45_600)
        );
        // Nothing traded: the reference carries over.
        let b = derive(
            &rules,
            Exchange::Hose,
            InstrumentKind::Stock,
            &prev(48_000, Some(48_000), 0, 0),
            day,
        )
        .unwrap();
        assert_eq!(b.limits.reference.units(), 48_000);
        // UPCoM: the day's VWAP, on tick.
        let b = derive(
            &rules,
            Exchange::Upcom,
            InstrumentKind::Stock,
            &prev(10_000, Some(10_500), 300, 3_090_000),
            day,
        )
        .unwrap();
        assert_eq!(b.limits.reference.units(), 10_300);
        // Without a close or a volume nothing can be derived.
        let mut unknown = prev(10_000, None, 0, 0);
        unknown.volume = None;
        unknown.value = None;
        assert!(derive(&rules, Exchange::Hose, InstrumentKind::Stock, &unknown, day).is_err());
    }
}
