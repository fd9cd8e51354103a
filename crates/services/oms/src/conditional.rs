//! Conditional orders the exchanges lack, held by the OMS and fired through it: stop, stop-limit,
//! take-profit and trailing stop, any of them linked into an OCO group (one fires or is
//! cancelled, the others are cancelled). No I/O here: [`crate::service`] feeds trades in,
//! stores every change and places the child order.
//!
//! A conditional watches the last trade of its symbol (`market.trade.v1`):
//!
//! | kind | sell fires when the last trade is | buy fires when it is | child order |
//! |---|---|---|---|
//! | `stop` | at or below `trigger_price` | at or above it | LO at the day's floor (sell) / ceiling (buy): executes at once at the best prices |
//! | `stop_limit` | at or below `trigger_price` | at or above it | LO at `limit_price` |
//! | `take_profit` | at or above `trigger_price` | at or below it | LO at `limit_price`, else at `trigger_price` |
//! | `trailing_stop` | `trail` below the highest trade since it was placed | `trail` above the lowest | as `stop` |
//!
//! `trail` is an amount in VND (`trail_amount`) or a share of the extreme (`trail_bps`). The
//! child carries the client id `<client_id>:fire`, so however often a firing is retried (after a
//! crash, a broker outage) one order exists; the risk check applies to it like any order.

use market::{Price, Side, Symbol};
use time::OffsetDateTime;

use crate::domain::{CLIENT_ID_MAX, Invalid, parse_name, parse_parent};

/// The conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Fires a marketable order when the price crosses the trigger against the position.
    Stop,
    /// Fires a limit order when the price crosses the trigger.
    StopLimit,
    /// Fires a limit order when the price reaches the target.
    TakeProfit,
    /// A stop that follows the best price by a distance.
    TrailingStop,
}

impl Kind {
    /// `stop`, `stop_limit`, `take_profit`, `trailing_stop`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stop => "stop",
            Kind::StopLimit => "stop_limit",
            Kind::TakeProfit => "take_profit",
            Kind::TrailingStop => "trailing_stop",
        }
    }

    /// Reads [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Stop,
            Kind::StopLimit,
            Kind::TakeProfit,
            Kind::TrailingStop,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where a conditional is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Watching prices.
    Active,
    /// Fired: its child order exists (or is being placed).
    Triggered,
    /// Cancelled by a user or by its OCO group.
    Cancelled,
}

impl Status {
    /// `active`, `triggered`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Triggered => "triggered",
            Status::Cancelled => "cancelled",
        }
    }

    /// Reads [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Active, Status::Triggered, Status::Cancelled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// How far a trailing stop follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trail {
    /// VND.
    Amount(i64),
    /// Basis points of the extreme.
    Bps(u32),
}

/// One conditional order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditional {
    /// The caller's idempotency key, also its id.
    pub client_id: String,
    /// Broker sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Side of the child order.
    pub side: Side,
    /// The condition.
    pub kind: Kind,
    /// Trigger price (all kinds but `trailing_stop`).
    pub trigger_price: Option<i64>,
    /// Limit price of the child (`stop_limit`; optional for `take_profit`).
    pub limit_price: Option<i64>,
    /// Distance of a trailing stop.
    pub trail: Option<Trail>,
    /// Shares.
    pub quantity: u64,
    /// OCO group: the first of the group to fire or be cancelled cancels the others.
    pub oco_group: Option<String>,
    /// Strategy, if any (the child carries it).
    pub strategy: Option<String>,
    /// Where it is.
    pub status: Status,
    /// The best price since it was placed (trailing stops): highest for a sale, lowest for a
    /// buy.
    pub extreme: Option<i64>,
    /// The trade price that fired it.
    pub fired_at_price: Option<i64>,
    /// Why it ended (fired at, cancelled by whom).
    pub detail: String,
    /// When it was placed.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// Longest client id of a conditional (its child's is `<client id>:fire`).
pub const CONDITIONAL_ID_MAX: usize = CLIENT_ID_MAX - 5;

/// A request for a conditional order, as the API takes it.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// Idempotency key.
    pub client_id: &'a str,
    /// Account.
    pub account: &'a str,
    /// Symbol.
    pub symbol: &'a str,
    /// `buy` or `sell`.
    pub side: &'a str,
    /// [`Kind::as_str`].
    pub kind: &'a str,
    /// Trigger.
    pub trigger_price: Option<i64>,
    /// Limit.
    pub limit_price: Option<i64>,
    /// Trail in VND.
    pub trail_amount: Option<i64>,
    /// Trail in basis points.
    pub trail_bps: Option<u32>,
    /// Shares.
    pub quantity: u64,
    /// OCO group.
    pub oco_group: Option<&'a str>,
    /// Strategy.
    pub strategy: Option<&'a str>,
}

impl Conditional {
    /// Checks a request: the fields each kind needs and no others, positive prices, whole
    /// lots, short ids.
    pub fn parse(r: &Request<'_>, now: OffsetDateTime) -> Result<Conditional, Invalid> {
        let field = |m: String| Invalid::Field(m);
        let (symbol, side) = parse_parent(
            "a conditional order",
            r.client_id,
            CONDITIONAL_ID_MAX,
            r.account,
            r.symbol,
            r.side,
        )?;
        let kind = Kind::parse(r.kind).ok_or_else(|| {
            field(format!(
                "kind {:?}: stop, stop_limit, take_profit or trailing_stop",
                r.kind
            ))
        })?;
        let positive = |name: &str, v: Option<i64>| match v {
            Some(p) if Price::new(p).is_err() || p <= 0 => {
                Err(field(format!("{name} {p} must be a positive price")))
            }
            _ => Ok(v),
        };
        let trigger_price = positive("trigger_price", r.trigger_price)?;
        let limit_price = positive("limit_price", r.limit_price)?;
        let trail = match (r.trail_amount, r.trail_bps) {
            (Some(a), None) if a > 0 => Some(Trail::Amount(a)),
            (None, Some(b)) if (1..10_000).contains(&b) => Some(Trail::Bps(b)),
            (None, None) => None,
            _ => {
                return Err(field(
                    "trail: one of trail_amount (> 0 VND) or trail_bps (1 to 9999)".to_owned(),
                ));
            }
        };
        let need = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(field(format!("a {} order {what}", kind.as_str())))
            }
        };
        match kind {
            Kind::Stop => {
                need(trigger_price.is_some(), "needs trigger_price")?;
                need(
                    limit_price.is_none(),
                    "takes no limit_price (use stop_limit)",
                )?;
                need(trail.is_none(), "takes no trail")?;
            }
            Kind::StopLimit => {
                need(
                    trigger_price.is_some() && limit_price.is_some(),
                    "needs trigger_price and limit_price",
                )?;
                need(trail.is_none(), "takes no trail")?;
            }
            Kind::TakeProfit => {
                need(trigger_price.is_some(), "needs trigger_price")?;
                need(trail.is_none(), "takes no trail")?;
            }
            Kind::TrailingStop => {
                need(trail.is_some(), "needs trail_amount or trail_bps")?;
                need(
                    trigger_price.is_none() && limit_price.is_none(),
                    "takes no trigger_price or limit_price",
                )?;
            }
        }
        if r.quantity == 0 || !r.quantity.is_multiple_of(100) {
            return Err(field(format!(
                "quantity {}: whole lots of 100 (odd lots cannot be held conditionally)",
                r.quantity
            )));
        }
        Ok(Conditional {
            client_id: r.client_id.to_owned(),
            account: r.account.to_owned(),
            symbol,
            side,
            kind,
            trigger_price,
            limit_price,
            trail,
            quantity: r.quantity,
            oco_group: parse_name("oco_group", r.oco_group)?,
            strategy: parse_name("strategy", r.strategy)?,
            status: Status::Active,
            extreme: None,
            fired_at_price: None,
            detail: String::new(),
            created_at: now,
            updated_at: now,
        })
    }

    /// The client id of the order it fires.
    pub fn child_client_id(&self) -> String {
        format!("{}:fire", self.client_id)
    }

    /// The level a trailing stop fires at, from its extreme.
    pub fn trailing_level(&self) -> Option<i64> {
        let (extreme, trail) = (self.extreme?, self.trail?);
        let distance = match trail {
            Trail::Amount(a) => a,
            Trail::Bps(b) => extreme * i64::from(b) / 10_000,
        };
        Some(match self.side {
            Side::Sell => extreme - distance,
            Side::Buy => extreme + distance,
        })
    }

    /// What a trade at `price` does to an active conditional: it fires, its trailing extreme
    /// moves (`Moved`), or nothing.
    pub fn on_trade(&self, price: i64) -> Reaction {
        if self.status != Status::Active {
            return Reaction::None;
        }
        let sell = self.side == Side::Sell;
        let fires = match self.kind {
            Kind::Stop | Kind::StopLimit => {
                let t = self.trigger_price.unwrap_or(0);
                if sell { price <= t } else { price >= t }
            }
            Kind::TakeProfit => {
                let t = self.trigger_price.unwrap_or(0);
                if sell { price >= t } else { price <= t }
            }
            Kind::TrailingStop => {
                let better = match self.extreme {
                    None => true,
                    Some(e) => {
                        if sell {
                            price > e
                        } else {
                            price < e
                        }
                    }
                };
                if better {
                    return Reaction::Moved(price);
                }
                match self.trailing_level() {
                    Some(level) => {
                        if sell {
                            price <= level
                        } else {
                            price >= level
                        }
                    }
                    None => false,
                }
            }
        };
        if fires {
            Reaction::Fire
        } else {
            Reaction::None
        }
    }

    /// The child's limit price once fired, given the day's floor and ceiling (a stop sells at
    /// the floor and buys at the ceiling: at once, at the best prices in the book).
    pub fn child_price(&self, floor: Option<i64>, ceiling: Option<i64>) -> Option<i64> {
        match self.kind {
            Kind::StopLimit => self.limit_price,
            Kind::TakeProfit => self.limit_price.or(self.trigger_price),
            Kind::Stop | Kind::TrailingStop => match self.side {
                Side::Sell => floor,
                Side::Buy => ceiling,
            },
        }
    }
}

/// What a trade does to a conditional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Nothing.
    None,
    /// A trailing stop's extreme moved to this price.
    Moved(i64),
    /// It fires now.
    Fire,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(kind: &'a str, side: &'a str) -> Request<'a> {
        Request {
            client_id: "c-1",
            account: "0001001",
            symbol: "FPT",
            side,
            kind,
            quantity: 100,
            ..Request::default()
        }
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2025-06-10 03:00 UTC)
    }

    #[test]
    fn each_kind_fires_on_its_side_of_the_trigger() {
        let stop = Conditional::parse(
            &Request {
                trigger_price: Some(95_000),
                ..req("stop", "sell")
            },
            now(),
        )
        .unwrap();
        assert_eq!(stop.on_trade(95_100), Reaction::None);
        assert_eq!(stop.on_trade(95_000), Reaction::Fire, "at the trigger");
        assert_eq!(stop.child_price(Some(93_000), Some(107_000)), Some(93_000));
        let buy_stop = Conditional {
            side: Side::Buy,
            ..stop.clone()
        };
        assert_eq!(buy_stop.on_trade(94_900), Reaction::None);
        assert_eq!(buy_stop.on_trade(95_000), Reaction::Fire);
        assert_eq!(
            buy_stop.child_price(Some(93_000), Some(107_000)),
            Some(107_000)
        );

        let tp = Conditional::parse(
            &Request {
                trigger_price: Some(110_000),
                ..req("take_profit", "sell")
            },
            now(),
        )
        .unwrap();
        assert_eq!(tp.on_trade(109_900), Reaction::None);
        assert_eq!(tp.on_trade(110_500), Reaction::Fire);
        assert_eq!(tp.child_price(None, None), Some(110_000));

        let sl = Conditional::parse(
            &Request {
                trigger_price: Some(95_000),
                limit_price: Some(94_500),
                ..req("stop_limit", "sell")
            },
            now(),
        )
        .unwrap();
        assert_eq!(sl.on_trade(94_000), Reaction::Fire);
        assert_eq!(sl.child_price(Some(1), Some(2)), Some(94_500));
        assert_eq!(sl.child_client_id(), "c-1:fire");
    }

    #[test]
    fn a_trailing_stop_follows_the_best_price_and_fires_on_the_pullback() {
        let mut t = Conditional::parse(
            &Request {
                trail_bps: Some(500),
                ..req("trailing_stop", "sell")
            },
            now(),
        )
        .unwrap();
        assert_eq!(t.on_trade(100_000), Reaction::Moved(100_000));
        t.extreme = Some(100_000);
        assert_eq!(t.trailing_level(), Some(95_000));
        assert_eq!(t.on_trade(96_000), Reaction::None);
        assert_eq!(t.on_trade(104_000), Reaction::Moved(104_000));
        t.extreme = Some(104_000);
        assert_eq!(t.trailing_level(), Some(98_800));
        assert_eq!(t.on_trade(99_000), Reaction::None);
        assert_eq!(t.on_trade(98_800), Reaction::Fire);
        t.status = Status::Triggered;
        assert_eq!(t.on_trade(1), Reaction::None, "fires once");
        let mut b = Conditional::parse(
            &Request {
                trail_amount: Some(1_000),
                ..req("trailing_stop", "buy")
            },
            now(),
        )
        .unwrap();
        b.extreme = Some(50_000);
        assert_eq!(b.on_trade(49_000), Reaction::Moved(49_000));
        b.extreme = Some(49_000);
        assert_eq!(b.on_trade(49_900), Reaction::None);
        assert_eq!(b.on_trade(50_000), Reaction::Fire);
    }

    #[test]
    fn requests_name_what_is_wrong() {
        let e = |r: Request<'_>| match Conditional::parse(&r, now()) {
            Err(Invalid::Field(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(e(req("stop", "sell")).contains("needs trigger_price"));
        assert!(e(req("nope", "sell")).contains("kind"));
        assert!(e(req("stop_limit", "sell")).contains("limit_price"));
        assert!(
            e(Request {
                trigger_price: Some(1),
                limit_price: Some(1),
                ..req("stop", "sell")
            })
            .contains("no limit_price")
        );
        assert!(e(req("trailing_stop", "sell")).contains("trail"));
        assert!(
            e(Request {
                trail_amount: Some(1),
                trail_bps: Some(1),
                ..req("trailing_stop", "sell")
            })
            .contains("one of")
        );
        assert!(
            e(Request {
                quantity: 150,
                trigger_price: Some(1),
                ..req("stop", "sell")
            })
            .contains("whole lots")
        );
        assert!(
            e(Request {
                trigger_price: Some(-5),
                ..req("stop", "sell")
            })
            .contains("positive")
        );
        let long = "x".repeat(60);
        assert!(
            e(Request {
                client_id: &long,
                trigger_price: Some(1),
                ..req("stop", "sell")
            })
            .contains("at most")
        );
        assert!(
            e(Request {
                oco_group: Some("a b"),
                trigger_price: Some(1),
                ..req("stop", "sell")
            })
            .contains("oco_group")
        );
    }
}
