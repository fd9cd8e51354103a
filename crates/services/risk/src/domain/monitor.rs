//! Real-time monitoring: what the engine watches between checks, and what it reports.
//!
//! - **P&L and drawdown** per account and strategy: every fill and every trade of a held
//!   symbol marks the book's positions to the last trade; today's P&L (realised plus the
//!   change of unrealised since the day began), its high and the largest fall from it are
//!   followed event by event, so a rebuild from the bus finds the same numbers. Beyond
//!   `max_drawdown` only orders that reduce a position pass (rule `max_drawdown`).
//! - **Margin**: initial margin of futures positions (at their marks) and open futures orders
//!   against `max_margin`.
//! - **Halts**: a symbol the feed reports halted or suspended (`market.status.v1`) takes no
//!   order (rule `halted`).
//! - **Breakers**: a symbol whose trades span more than [`Breakers::symbol_move_bps`] within
//!   [`Breakers::symbol_window_secs`] takes no order for [`Breakers::symbol_cooldown_secs`]
//!   (rule `breaker`); when the watched index falls [`Breakers::market_drop_bps`] below the
//!   previous day's close (else the day's first value) no order adds to a position anywhere
//!   until it recovers half of that fall (rule `market_breaker`).
//! - **Alerts** ([`Engine::alerts`]): each condition above, and each limit used past the
//!   warning share, as an [`Alert`] with a stable id, so whoever publishes them can publish
//!   each once.

use std::collections::VecDeque;

use hashbrown::HashMap;
use market::{Price, Side, Symbol};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

use super::{Book, Check, Engine, Rejection, Scope};

/// How the market is watched for abnormal moves. Zero (or an empty index) turns a breaker off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Breakers {
    /// A symbol whose trades span more than this many basis points (high over low) within
    /// `symbol_window_secs` trips its breaker.
    pub symbol_move_bps: u32,
    /// The window of the symbol breaker, seconds.
    pub symbol_window_secs: u32,
    /// How long a tripped symbol breaker refuses orders, seconds.
    pub symbol_cooldown_secs: u32,
    /// The index of the market-wide breaker (`VNINDEX`, `VN30`, ...).
    pub market_index: String,
    /// How far below the previous close (else the day's first value) the index must fall, in
    /// basis points, to trip the market-wide breaker.
    pub market_drop_bps: u32,
}

impl Default for Breakers {
    fn default() -> Self {
        Self {
            symbol_move_bps: 0,
            symbol_window_secs: 300,
            symbol_cooldown_secs: 300,
            market_index: String::new(),
            market_drop_bps: 0,
        }
    }
}

impl Breakers {
    /// Checks the numbers make sense.
    pub fn check(&self) -> Result<(), String> {
        if self.symbol_move_bps > 10_000 || self.market_drop_bps > 10_000 {
            return Err("symbol_move_bps and market_drop_bps must be at most 10000".to_owned());
        }
        if self.symbol_move_bps > 0
            && (!(1..=86_400).contains(&self.symbol_window_secs)
                || !(1..=86_400).contains(&self.symbol_cooldown_secs))
        {
            return Err(
                "symbol_window_secs and symbol_cooldown_secs must be between 1 and 86400"
                    .to_owned(),
            );
        }
        if self.market_drop_bps > 0 && self.market_index.trim().is_empty() {
            return Err("market_drop_bps needs a market_index".to_owned());
        }
        Ok(())
    }
}

/// A tripped breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Trip {
    at: OffsetDateTime,
    /// When it ends (the symbol breaker's cooldown) or ended (the index recovered).
    until: Option<OffsetDateTime>,
    reason: String,
}

impl Trip {
    fn active(&self, now: OffsetDateTime) -> bool {
        self.until.is_none_or(|u| now < u)
    }
}

/// Trades of one symbol within the window: the lows and highs still able to be the window's
/// extreme (monotonic queues), oldest first.
#[derive(Debug, Default)]
struct Window {
    lows: VecDeque<(OffsetDateTime, i64)>,
    highs: VecDeque<(OffsetDateTime, i64)>,
}

#[derive(Debug, Default)]
struct IndexWatch {
    day: Option<Date>,
    base: Option<i64>,
    last: Option<i64>,
    trip: Option<Trip>,
}

/// What the engine watches besides its books.
#[derive(Debug, Default)]
pub(super) struct Watch {
    settings: Breakers,
    windows: HashMap<Symbol, Window>,
    trips: HashMap<Symbol, Trip>,
    /// Halted symbols: since when, and the status the feed sent.
    halted: HashMap<Symbol, (OffsetDateTime, String)>,
    index: IndexWatch,
}

/// A condition worth telling the risk officers, with a stable id: the same condition reported
/// again (every pass of the monitor, or after a restart) has the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable id (`2025-06-10:drawdown_breached:account:0001001`, `breaker_tripped:SSI:<ms>`).
    pub id: String,
    /// `exposure_warning`, `daily_loss_warning`, `daily_loss_breached`, `drawdown_warning`,
    /// `drawdown_breached`, `margin_warning`, `margin_breached`, `halted_holding`,
    /// `breaker_tripped`, `breaker_cleared`, `market_breaker_tripped`, `market_breaker_cleared`.
    pub kind: &'static str,
    /// Whom it concerns (global for breakers).
    pub scope: Scope,
    /// What happened, with the numbers.
    pub detail: String,
}

/// The feed's statuses that stop trading in a symbol (reference §4.5).
const HALTING: [&str; 5] = ["H", "HALT", "S", "SA", "D"];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn millis(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos() / 1_000_000
}

/// A book as the monitor reports it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BookView {
    /// `account` or `strategy`.
    pub scope: String,
    /// The account or strategy id.
    pub key: String,
    /// The trading day the numbers are of.
    pub day: Option<String>,
    /// Holdings at cost plus open buys (stocks), VND.
    pub exposure: i64,
    /// Orders open.
    pub open_orders: u32,
    /// P&L realised today after fees and tax, VND.
    pub realised_today: i64,
    /// Marks minus costs of the positions, VND.
    pub unrealised: i64,
    /// Realised today plus the change of unrealised since the day began, VND.
    pub pnl_today: i64,
    /// Today's highest P&L, VND.
    pub peak_today: i64,
    /// How far P&L is below today's high now, VND.
    pub drawdown: i64,
    /// The largest drawdown today, VND (what `max_drawdown` is checked against).
    pub worst_drawdown_today: i64,
    /// Initial margin of futures positions and open futures orders, VND.
    pub margin_used: i64,
    /// Positions held.
    pub positions: Vec<PositionView>,
    /// How much of each limit the book uses.
    pub usage: Vec<Usage>,
}

/// One position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PositionView {
    /// Instrument.
    pub symbol: String,
    /// Shares or contracts (below zero: short futures).
    pub quantity: i64,
    /// Cost with fees (short: what the sale brought in, below zero), VND.
    pub cost: i64,
    /// Value at the last trade, VND.
    pub mark: i64,
    /// Halted now.
    pub halted: bool,
}

/// A limit and how much of it is used.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Usage {
    /// `max_exposure`, `max_daily_loss`, `max_drawdown` or `max_margin`.
    pub limit: String,
    /// What counts against it, VND.
    pub used: i64,
    /// The limit, VND.
    pub max: i64,
    /// `used` as a percentage of `max`.
    pub percent: f64,
}

/// A breaker that tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BreakerView {
    /// The symbol or index.
    pub code: String,
    /// When it tripped.
    pub at: String,
    /// When it ends or ended (none: until the index recovers).
    pub until: Option<String>,
    /// Whether it refuses orders now.
    pub active: bool,
    /// Why, with the numbers.
    pub reason: String,
}

/// A halted symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HaltView {
    /// The symbol.
    pub symbol: String,
    /// The status the feed sent.
    pub status: String,
    /// Since when.
    pub since: String,
}

/// Everything the monitor watches, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Monitor {
    /// Every account, then every strategy, by id.
    pub books: Vec<BookView>,
    /// Symbol breakers that tripped (active or not yet forgotten).
    pub breakers: Vec<BreakerView>,
    /// The market-wide breaker, if it tripped today.
    pub market_breaker: Option<BreakerView>,
    /// Halted symbols.
    pub halted: Vec<HaltView>,
}

fn breaker_view(code: String, t: &Trip, now: OffsetDateTime) -> BreakerView {
    BreakerView {
        code,
        at: rfc3339(t.at),
        until: t.until.map(rfc3339),
        active: t.active(now),
        reason: t.reason.clone(),
    }
}

impl Engine {
    /// Sets the breakers (off until set).
    pub fn set_breakers(&mut self, breakers: Breakers) {
        self.watch.settings = breakers;
    }

    /// Feeds the symbol breaker with a trade.
    pub(super) fn watch_trade(&mut self, symbol: Symbol, price: Price, at: OffsetDateTime) {
        let settings = &self.watch.settings;
        if settings.symbol_move_bps == 0 {
            return;
        }
        let since = at - Duration::seconds(i64::from(settings.symbol_window_secs));
        let p = price.units();
        let w = self.watch.windows.entry(symbol).or_default();
        for q in [&mut w.lows, &mut w.highs] {
            while q.front().is_some_and(|(t, _)| *t < since) {
                q.pop_front();
            }
        }
        while w.lows.back().is_some_and(|(_, v)| *v >= p) {
            w.lows.pop_back();
        }
        w.lows.push_back((at, p));
        while w.highs.back().is_some_and(|(_, v)| *v <= p) {
            w.highs.pop_back();
        }
        w.highs.push_back((at, p));
        let (Some(&(low_at, low)), Some(&(high_at, high))) = (w.lows.front(), w.highs.front())
        else {
            return;
        };
        if low <= 0 {
            return;
        }
        let moved = i128::from(high - low) * 10_000 / i128::from(low);
        if moved < i128::from(settings.symbol_move_bps)
            || self.watch.trips.get(&symbol).is_some_and(|t| t.active(at))
        {
            return;
        }
        let (from, to) = if low_at <= high_at {
            (low, high)
        } else {
            (high, low)
        };
        let reason = format!(
            "{symbol} moved {moved} bps ({from} to {to}) within {} s, more than {}",
            settings.symbol_window_secs, settings.symbol_move_bps
        );
        let until = at + Duration::seconds(i64::from(settings.symbol_cooldown_secs));
        // The range that tripped it does not trip it again when the cooldown ends.
        w.lows.clear();
        w.highs.clear();
        w.lows.push_back((at, p));
        w.highs.push_back((at, p));
        self.watch.trips.insert(
            symbol,
            Trip {
                at,
                until: Some(until),
                reason,
            },
        );
    }

    /// An index value (hundredths of a point) of `code`: feeds the market-wide breaker.
    pub fn index_tick(&mut self, code: &str, value: i64, at: OffsetDateTime) {
        let settings = &self.watch.settings;
        if settings.market_drop_bps == 0
            || value <= 0
            || !code.eq_ignore_ascii_case(settings.market_index.trim())
        {
            return;
        }
        let day = at.to_offset(market::calendar::VN_OFFSET).date();
        let w = &mut self.watch.index;
        if w.day != Some(day) {
            let previous_close = if w.day.is_some() { w.last } else { None };
            w.day = Some(day);
            w.base = Some(previous_close.unwrap_or(value));
            if let Some(t) = &mut w.trip
                && t.until.is_none()
            {
                t.until = Some(at);
            }
        }
        w.last = Some(value);
        let base = w.base.unwrap_or(value);
        let drop = i128::from(base - value) * 10_000 / i128::from(base);
        let bps = i128::from(settings.market_drop_bps);
        let active = w.trip.as_ref().is_some_and(|t| t.until.is_none());
        if !active && drop >= bps {
            w.trip = Some(Trip {
                at,
                until: None,
                reason: format!(
                    "{code} at {value} is {drop} bps below {base}, more than {bps}: no order adds to a position until it is back within {} bps",
                    bps / 2
                ),
            });
        } else if active
            && drop * 2 < bps
            && let Some(t) = &mut w.trip
        {
            t.until = Some(at);
        }
    }

    /// A status of `symbol` from the feed: a halting one (`H`, `HALT`, `S`, `SA`, `D`) stops
    /// its orders until another status comes.
    pub fn status(&mut self, symbol: Symbol, status: &str, at: OffsetDateTime) {
        let s = status.trim();
        if HALTING.iter().any(|h| h.eq_ignore_ascii_case(s)) {
            self.watch
                .halted
                .entry(symbol)
                .or_insert_with(|| (at, s.to_owned()));
        } else {
            self.watch.halted.remove(&symbol);
        }
    }

    /// The halt, breaker and market-breaker rules.
    pub(super) fn check_watch(&self, c: &Check, now: OffsetDateTime, out: &mut Vec<Rejection>) {
        if let Some((since, status)) = self.watch.halted.get(&c.symbol) {
            out.push(Rejection {
                rule: "halted",
                message: format!(
                    "{} is halted (status {status} since {})",
                    c.symbol,
                    rfc3339(*since)
                ),
            });
        }
        if let Some(t) = self.watch.trips.get(&c.symbol)
            && t.active(now)
        {
            out.push(Rejection {
                rule: "breaker",
                message: format!(
                    "the breaker of {} tripped at {} until {}: {}",
                    c.symbol,
                    rfc3339(t.at),
                    t.until.map(rfc3339).unwrap_or_default(),
                    t.reason
                ),
            });
        }
        if let Some(t) = &self.watch.index.trip
            && t.active(now)
        {
            let futures = self.multiplier(c.symbol).is_some();
            let increases = self
                .accounts
                .get(&c.account)
                .map_or(c.side == Side::Buy, |b| {
                    b.increases(c.symbol, c.side, futures)
                });
            if increases {
                out.push(Rejection {
                    rule: "market_breaker",
                    message: format!(
                        "the market-wide breaker tripped at {}: {}",
                        rfc3339(t.at),
                        t.reason
                    ),
                });
            }
        }
    }

    /// Each limit of a book with what counts against it: (limit, warning kind, breached
    /// kind, used, max).
    fn usage_of(
        &self,
        book: &Book,
        limits: &super::Limits,
    ) -> Vec<(&'static str, &'static str, &'static str, i64, i64)> {
        let all = [
            (
                "max_exposure",
                "exposure_warning",
                "exposure_breached",
                book.exposure,
                limits.max_exposure,
            ),
            (
                "max_daily_loss",
                "daily_loss_warning",
                "daily_loss_breached",
                (-book.realised).max(0),
                limits.max_daily_loss,
            ),
            (
                "max_drawdown",
                "drawdown_warning",
                "drawdown_breached",
                book.worst_drawdown,
                limits.max_drawdown,
            ),
            (
                "max_margin",
                "margin_warning",
                "margin_breached",
                self.margin_used(book),
                limits.max_margin,
            ),
        ];
        all.into_iter()
            .filter_map(|(l, w, b, used, max)| max.map(|m| (l, w, b, used, m)))
            .collect()
    }

    fn books(&self) -> impl Iterator<Item = (Scope, &Book)> {
        let mut accounts: Vec<_> = self.accounts.iter().collect();
        accounts.sort_by(|a, b| a.0.cmp(b.0));
        let mut strategies: Vec<_> = self.strategies.iter().collect();
        strategies.sort_by(|a, b| a.0.cmp(b.0));
        accounts
            .into_iter()
            .map(|(k, b)| (Scope::Account(k.clone()), b))
            .chain(
                strategies
                    .into_iter()
                    .map(|(k, b)| (Scope::Strategy(k.clone()), b)),
            )
    }

    /// Every condition worth an alert at `now`: limits used to `warn_percent` or past them,
    /// positions in halted symbols, breakers tripped and cleared. Ids are stable (see
    /// [`Alert`]); a limit's alerts are per trading day.
    pub fn alerts(&self, now: OffsetDateTime, warn_percent: u32) -> Vec<Alert> {
        let mut out = Vec::new();
        for (scope, book) in self.books() {
            let Some(day) = book.day else { continue };
            let limits = self.limits(&scope);
            let who = format!("{} {}", scope.name(), scope.key());
            for (limit, warning, breached, used, max) in self.usage_of(book, &limits) {
                let kind = if used > max {
                    breached
                } else if used > 0
                    && i128::from(used) * 100 >= i128::from(warn_percent) * i128::from(max)
                {
                    warning
                } else {
                    continue;
                };
                out.push(Alert {
                    id: format!("{day}:{kind}:{}:{}", scope.name(), scope.key()),
                    kind,
                    scope: scope.clone(),
                    detail: format!("{who} uses {used} VND of its {limit} of {max} VND"),
                });
            }
            let mut held: Vec<_> = book
                .positions
                .iter()
                .filter(|(_, p)| p.quantity != 0)
                .collect();
            held.sort_by_key(|(s, _)| **s);
            for (symbol, p) in held {
                if let Some((since, status)) = self.watch.halted.get(symbol) {
                    out.push(Alert {
                        id: format!(
                            "{day}:halted_holding:{}:{}:{symbol}:{}",
                            scope.name(),
                            scope.key(),
                            millis(*since)
                        ),
                        kind: "halted_holding",
                        scope: scope.clone(),
                        detail: format!(
                            "{who} holds {} of {symbol}, halted (status {status}) since {}",
                            p.quantity,
                            rfc3339(*since)
                        ),
                    });
                }
            }
        }
        let mut trips: Vec<_> = self.watch.trips.iter().collect();
        trips.sort_by_key(|(s, _)| **s);
        let index = self.watch.index.trip.as_ref().map(|t| {
            (
                self.watch.settings.market_index.as_str(),
                t,
                "market_breaker",
            )
        });
        let symbols = trips.into_iter().map(|(s, t)| (s.as_str(), t, "breaker"));
        for (code, t, what) in symbols.chain(index) {
            let (kind, detail) = if t.active(now) {
                (
                    if what == "breaker" {
                        "breaker_tripped"
                    } else {
                        "market_breaker_tripped"
                    },
                    t.reason.clone(),
                )
            } else {
                (
                    if what == "breaker" {
                        "breaker_cleared"
                    } else {
                        "market_breaker_cleared"
                    },
                    format!(
                        "the {what} of {code} that tripped at {} is cleared",
                        rfc3339(t.at)
                    ),
                )
            };
            out.push(Alert {
                id: format!("{kind}:{code}:{}", millis(t.at)),
                kind,
                scope: Scope::Global,
                detail,
            });
        }
        out
    }

    /// Everything the monitor watches at `now`.
    pub fn monitor(&self, now: OffsetDateTime) -> Monitor {
        let books = self
            .books()
            .map(|(scope, b)| {
                let limits = self.limits(&scope);
                let mut positions: Vec<PositionView> = b
                    .positions
                    .iter()
                    .filter(|(_, p)| p.quantity != 0)
                    .map(|(s, p)| PositionView {
                        symbol: s.to_string(),
                        quantity: p.quantity,
                        cost: p.cost,
                        mark: p.mark,
                        halted: self.watch.halted.contains_key(s),
                    })
                    .collect();
                positions.sort_by(|a, b| a.symbol.cmp(&b.symbol));
                let pnl = b.pnl_today();
                BookView {
                    scope: scope.name().to_owned(),
                    key: scope.key().to_owned(),
                    day: b.day.map(|d| d.to_string()),
                    exposure: b.exposure,
                    open_orders: b.open_orders,
                    realised_today: b.realised,
                    unrealised: b.marked - b.costs,
                    pnl_today: pnl,
                    peak_today: b.peak,
                    drawdown: b.peak - pnl,
                    worst_drawdown_today: b.worst_drawdown,
                    margin_used: self.margin_used(b),
                    positions,
                    usage: self
                        .usage_of(b, &limits)
                        .into_iter()
                        .map(|(limit, _, _, used, max)| Usage {
                            limit: limit.to_owned(),
                            used,
                            max,
                            percent: if max > 0 {
                                (used as f64 * 100.0 / max as f64 * 100.0).round() / 100.0
                            } else {
                                0.0
                            },
                        })
                        .collect(),
                }
            })
            .collect();
        let mut breakers: Vec<_> = self
            .watch
            .trips
            .iter()
            .map(|(s, t)| breaker_view(s.to_string(), t, now))
            .collect();
        breakers.sort_by(|a, b| a.code.cmp(&b.code));
        let mut halted: Vec<_> = self
            .watch
            .halted
            .iter()
            .map(|(s, (since, status))| HaltView {
                symbol: s.to_string(),
                status: status.clone(),
                since: rfc3339(*since),
            })
            .collect();
        halted.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        Monitor {
            books,
            breakers,
            market_breaker: self
                .watch
                .index
                .trip
                .as_ref()
                .map(|t| breaker_view(self.watch.settings.market_index.clone(), t, now)),
            halted,
        }
    }
}
