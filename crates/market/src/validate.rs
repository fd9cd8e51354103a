//! `validate_order`: every exchange rule an order can break, all reported at once.
//!
//! Risk, OMS, the simulator and the backtester call [`validate_order`] instead of encoding
//! rules of their own. It never stops at the first problem: the `Err` lists **every**
//! violated rule with its numbers, so a rejection can be explained in one go. It does not
//! allocate when the order is valid (it sits on the risk hot path).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::MarketRules;
use crate::investor::InvestorProfile;
use crate::limits::PriceLimits;
use crate::order::{Order, OrderType, Side, accepted_order_types, funding_price};
use crate::price::{Price, Quantity, Vnd};
use crate::session::{Phase, SessionState, iso_weekday};
use crate::status::SecurityStatus;
use crate::ticker::Symbol;
use crate::venue::{Board, Exchange, InstrumentKind};

/// What the rules need to know about the instrument today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// Ticker.
    pub symbol: Symbol,
    /// Exchange.
    pub exchange: Exchange,
    /// Instrument kind.
    pub kind: InstrumentKind,
    /// Status on the ladder (§11.2).
    pub status: SecurityStatus,
    /// Today's reference, ceiling and floor; `None` for bonds (no band) or when unknown
    /// (then band checks are skipped).
    pub limits: Option<PriceLimits>,
    /// First trading day or first day back after a ≥25-session suspension, before the first
    /// matched price: odd-lot and put-through trading are blocked (§5.3).
    pub awaiting_first_match: bool,
}

/// The account-side facts for one order. Every `Option` left `None` skips its check (the
/// caller does not track it).
#[derive(Clone, Copy, Debug)]
pub struct OrderContext<'a> {
    /// The rule numbers to apply.
    pub rules: &'a MarketRules,
    /// Who is ordering.
    pub investor: InvestorProfile,
    /// Cash (or margin) available for a buy, or for futures the margin available (§3.5).
    pub buying_power: Option<Vnd>,
    /// Sellable quantity of this security now (§7.1, §14).
    pub sellable: Option<Quantity>,
    /// Live current foreign room of this security (§9).
    pub foreign_room: Option<Quantity>,
    /// Whether today produced a closing price (PLO may be entered only then, §2.3).
    pub has_closing_price: bool,
    /// Whether the investor already has an opposite-side order in this security in the
    /// current call auction, not carried over from continuous trading (§3.5).
    pub opposite_order_in_auction: bool,
    /// Whether the opposite side of the book is empty: market orders (MTL, MOK, MAK) are
    /// then rejected (§3.1). Leave `false` when unknown.
    pub opposite_side_empty: bool,
    /// Net futures position in scope for the position limit before this order (long
    /// positive), see [`crate::lot::LotRules::position_in_scope`] (§6).
    pub futures_position: Option<i64>,
}

impl<'a> OrderContext<'a> {
    /// A context that checks only the exchange rules (no account facts).
    pub fn exchange_only(rules: &'a MarketRules, investor: InvestorProfile) -> Self {
        Self {
            rules,
            investor,
            buying_power: None,
            sellable: None,
            foreign_room: None,
            has_closing_price: true,
            opposite_order_in_auction: false,
            opposite_side_empty: false,
            futures_position: None,
        }
    }
}

/// One broken rule, with the numbers involved. The reference section is in each doc line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Violation {
    /// Suspended or delisted securities do not trade (§11.2).
    #[error("{status} securities cannot be traded")]
    SecurityNotTradable {
        /// The status.
        status: SecurityStatus,
    },
    /// HOSE restricted stocks trade only in call auctions (§2.2).
    #[error("restricted securities on HOSE trade only in call auctions, not during {phase}")]
    RestrictedOutsideCallAuction {
        /// Current phase.
        phase: Phase,
    },
    /// HOSE restricted stocks trade round lots on the main board only (§2.2).
    #[error("restricted securities trade round lots only, not on the {board} board")]
    RestrictedRoundLotOnly {
        /// Board requested.
        board: Board,
    },
    /// HNX/UPCoM restricted stocks trade only on their weekdays (§2.3).
    #[error("restricted securities on {exchange} do not trade on ISO weekday {weekday}")]
    RestrictedWeekday {
        /// Exchange.
        exchange: Exchange,
        /// ISO weekday of the session date.
        weekday: u8,
    },
    /// The board is not open for orders (§2).
    #[error("the {board} board is not taking orders during {phase}")]
    MarketNotOpen {
        /// Board.
        board: Board,
        /// Current phase.
        phase: Phase,
    },
    /// The order type is not accepted in this phase on this board (§3.2).
    #[error("{order_type} is not accepted on {exchange} {board} board during {phase}")]
    OrderTypeNotAccepted {
        /// Order type.
        order_type: OrderType,
        /// Exchange.
        exchange: Exchange,
        /// Board.
        board: Board,
        /// Phase.
        phase: Phase,
    },
    /// No such board for this instrument (futures have no odd lot; HOSE bonds trade
    /// put-through only) (§2.1, §6).
    #[error("{kind} on {exchange} has no {board} board")]
    BoardNotAvailable {
        /// Exchange.
        exchange: Exchange,
        /// Board.
        board: Board,
        /// Kind.
        kind: InstrumentKind,
    },
    /// LO orders and put-through deals need a price (§3.1).
    #[error("{order_type} orders need a price")]
    PriceRequired {
        /// Order type.
        order_type: OrderType,
    },
    /// Only LO carries a client price (§14).
    #[error("{order_type} orders carry no price")]
    PriceNotAllowed {
        /// Order type.
        order_type: OrderType,
    },
    /// Price is not a multiple of the tick at that price (§4).
    #[error("price {price} is not on the {tick} tick")]
    PriceOffTick {
        /// Price.
        price: Price,
        /// Tick at that price.
        tick: Price,
    },
    /// Price above today's ceiling (§5).
    #[error("price {price} is above the ceiling {ceiling}")]
    PriceAboveCeiling {
        /// Price.
        price: Price,
        /// Ceiling.
        ceiling: Price,
    },
    /// Price below today's floor (§5).
    #[error("price {price} is below the floor {floor}")]
    PriceBelowFloor {
        /// Price.
        price: Price,
        /// Floor.
        floor: Price,
    },
    /// Quantity zero.
    #[error("quantity must be positive")]
    ZeroQuantity,
    /// Main-board quantity must be a multiple of the round lot (§6).
    #[error("quantity {quantity} is not a multiple of the round lot {round_lot}")]
    NotRoundLot {
        /// Quantity.
        quantity: Quantity,
        /// Round lot.
        round_lot: u64,
    },
    /// Odd-lot board takes 1 .. round lot − 1 (§6).
    #[error("odd-lot quantity {quantity} exceeds {max}")]
    OddLotTooLarge {
        /// Quantity.
        quantity: Quantity,
        /// Largest odd lot.
        max: u64,
    },
    /// Above the maximum order quantity (§6).
    #[error("quantity {quantity} exceeds the per-order maximum {max}")]
    QuantityAboveMaximum {
        /// Quantity.
        quantity: Quantity,
        /// Maximum.
        max: u64,
    },
    /// Below the put-through minimum (§6).
    #[error("put-through quantity {quantity} is below the minimum {min}")]
    BelowPutThroughMinimum {
        /// Quantity.
        quantity: Quantity,
        /// Minimum.
        min: u64,
    },
    /// First day / resumption: odd-lot and put-through wait for a matched price (§5.3).
    #[error("the {board} board opens only after the first matched price today")]
    BlockedUntilFirstMatch {
        /// Board.
        board: Board,
    },
    /// Market orders need a resting opposite order at entry (§3.1).
    #[error("{order_type} needs a resting opposite order")]
    NoOppositeOrders {
        /// Order type.
        order_type: OrderType,
    },
    /// PLO needs a closing price for the day (§2.3).
    #[error("PLO orders need a closing price for the day")]
    NoClosingPrice,
    /// Same investor may not buy and sell one symbol in the same call auction (§3.5).
    #[error("an opposite-side order already sits in this {phase}")]
    OppositeOrderInAuction {
        /// The auction.
        phase: Phase,
    },
    /// Not enough cash or margin (§3.5, §7.1, §7.4).
    #[error("order needs {required} but only {available} is available")]
    InsufficientBuyingPower {
        /// Needed.
        required: Vnd,
        /// Available.
        available: Vnd,
    },
    /// Selling more than is sellable: no short selling, no T+0 (§7.3).
    #[error("sell of {requested} exceeds the sellable {sellable}")]
    InsufficientSellable {
        /// Requested.
        requested: Quantity,
        /// Sellable now.
        sellable: Quantity,
    },
    /// Foreign buy above the current foreign room (§9).
    #[error("foreign buy of {requested} exceeds the current foreign room {available}")]
    ForeignRoomExceeded {
        /// Requested.
        requested: Quantity,
        /// Current room.
        available: Quantity,
    },
    /// Futures position limit (VSDC) (§6).
    #[error("resulting futures position {resulting} exceeds the limit {limit}")]
    PositionLimitExceeded {
        /// Position after the order.
        resulting: i64,
        /// Limit.
        limit: u64,
    },
    /// Order value does not fit the integer types.
    #[error("order value overflows")]
    ValueOverflow,
}

/// Every violation of one order (never empty when returned as an error).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Whether `v` is among them.
    pub fn contains(&self, v: &Violation) -> bool {
        self.0.contains(v)
    }

    /// The violations.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// Checks `order` against every exchange rule and the account facts in `ctx`, and returns
/// all violations (reference §2–§9, §11.2, §14). `session` is the state of the order's
/// board, from [`crate::calendar::TradingCalendar::session`] (with the key from
/// [`MarketRules::session_key`]).
///
/// Checks, in order: security status and restricted trading; board availability; session
/// and order-type matrix; price presence, tick and band; quantity (zero, round lot, odd-lot
/// size, maximum, put-through minimum); first-match block; market order against an empty
/// book; PLO closing price; same-auction opposite orders; buying power; sellable quantity; foreign room; futures position limit.
pub fn validate_order(
    order: &Order,
    security: &Security,
    session: &SessionState,
    ctx: &OrderContext<'_>,
) -> Result<(), Violations> {
    let mut out = Vec::new();
    let rules = ctx.rules;
    let (ex, kind, board) = (security.exchange, security.kind, order.board);
    let phase = session.phase;

    // Status (§11.2) and restricted trading (§2.2, §2.3).
    let effects = rules.status.effects(ex, security.status);
    if !effects.tradable {
        out.push(Violation::SecurityNotTradable {
            status: security.status,
        });
    }
    if effects.restricted {
        match ex {
            Exchange::Hose => {
                if board != Board::Main {
                    out.push(Violation::RestrictedRoundLotOnly { board });
                } else if !phase.is_call_auction() && phase.is_open() {
                    out.push(Violation::RestrictedOutsideCallAuction { phase });
                }
            }
            Exchange::Hnx | Exchange::Upcom => {
                let days = if ex == Exchange::Hnx {
                    &rules.sessions.hnx_restricted_weekdays
                } else {
                    &rules.sessions.upcom_restricted_weekdays
                };
                let weekday = iso_weekday(session.date.weekday());
                if !days.contains(&weekday) {
                    out.push(Violation::RestrictedWeekday {
                        exchange: ex,
                        weekday,
                    });
                }
            }
            Exchange::HnxDeriv => {}
        }
    }

    // Board availability.
    let board_ok = !((ex == Exchange::HnxDeriv && board == Board::OddLot)
        || (ex == Exchange::Hose && kind == InstrumentKind::Bond && board != Board::PutThrough));
    if !board_ok {
        out.push(Violation::BoardNotAvailable {
            exchange: ex,
            board,
            kind,
        });
    }

    // Session and order-type matrix (§2, §3.2).
    if !phase.is_open() {
        out.push(Violation::MarketNotOpen { board, phase });
    } else if board_ok && !accepted_order_types(ex, board, kind, phase).contains(&order.order_type)
    {
        out.push(Violation::OrderTypeNotAccepted {
            order_type: order.order_type,
            exchange: ex,
            board,
            phase,
        });
    }

    // Price (§3.1, §4, §5).
    let needs_price = order.order_type.carries_price();
    match (needs_price, order.price) {
        (true, None) => out.push(Violation::PriceRequired {
            order_type: order.order_type,
        }),
        (false, Some(_)) => out.push(Violation::PriceNotAllowed {
            order_type: order.order_type,
        }),
        (true, Some(price)) => {
            let tick = rules
                .ticks
                .tick_units(ex, kind, board, price.units())
                .max(1);
            if price.units() % tick != 0 {
                out.push(Violation::PriceOffTick {
                    price,
                    tick: Price::new(tick).unwrap_or(price),
                });
            }
            let band_applies =
                board != Board::PutThrough || rules.validation.put_through_within_band;
            if let (Some(lim), true) = (security.limits, band_applies) {
                if price > lim.ceiling {
                    out.push(Violation::PriceAboveCeiling {
                        price,
                        ceiling: lim.ceiling,
                    });
                }
                if price < lim.floor {
                    out.push(Violation::PriceBelowFloor {
                        price,
                        floor: lim.floor,
                    });
                }
            }
        }
        (false, None) => {}
    }

    // Quantity (§6).
    let q = order.quantity.units();
    let lots = rules.lots.for_exchange(ex);
    let round_lot = lots.round_lot.max(1);
    if q == 0 {
        out.push(Violation::ZeroQuantity);
    } else {
        match board {
            Board::Main => {
                if !q.is_multiple_of(round_lot) {
                    out.push(Violation::NotRoundLot {
                        quantity: order.quantity,
                        round_lot,
                    });
                }
            }
            Board::OddLot => {
                if q >= round_lot {
                    out.push(Violation::OddLotTooLarge {
                        quantity: order.quantity,
                        max: round_lot - 1,
                    });
                }
            }
            Board::PutThrough => {
                if let Some(min) = rules.lots.put_through_min(ex, kind)
                    && q < min
                {
                    out.push(Violation::BelowPutThroughMinimum {
                        quantity: order.quantity,
                        min,
                    });
                }
            }
        }
        if board != Board::PutThrough
            && let Some(max) = lots.max_order_quantity
            && q > max
        {
            out.push(Violation::QuantityAboveMaximum {
                quantity: order.quantity,
                max,
            });
        }
    }

    // First day / resumption (§5.3), PLO (§2.3), self-cross in auctions (§3.5).
    if security.awaiting_first_match && board != Board::Main {
        out.push(Violation::BlockedUntilFirstMatch { board });
    }
    if order.order_type.is_market() && ctx.opposite_side_empty {
        out.push(Violation::NoOppositeOrders {
            order_type: order.order_type,
        });
    }
    if order.order_type == OrderType::Plo && !ctx.has_closing_price {
        out.push(Violation::NoClosingPrice);
    }
    if phase.is_call_auction() && ctx.opposite_order_in_auction {
        out.push(Violation::OppositeOrderInAuction { phase });
    }

    // Account checks.
    if kind == InstrumentKind::IndexFuture {
        check_futures_account(order, security, ctx, &mut out);
    } else {
        check_cash_account(order, security, ctx, &mut out);
    }

    if out.is_empty() {
        Ok(())
    } else {
        Err(Violations(out))
    }
}

fn check_cash_account(
    order: &Order,
    security: &Security,
    ctx: &OrderContext<'_>,
    out: &mut Vec<Violation>,
) {
    match order.side {
        Side::Buy => {
            if let (Some(available), Some(price), false) = (
                ctx.buying_power,
                funding_price(order.price, security.limits),
                ctx.investor.uses_non_prefunding(),
            ) {
                match i64::try_from(order.quantity.units())
                    .ok()
                    .and_then(|q| price.units().checked_mul(q))
                {
                    Some(required) if required > available.amount() => {
                        out.push(Violation::InsufficientBuyingPower {
                            required: Vnd::new(required),
                            available,
                        });
                    }
                    Some(_) => {}
                    None => out.push(Violation::ValueOverflow),
                }
            }
            if ctx.investor.is_foreign()
                && ctx.rules.foreign.reject_when_room_insufficient
                && let Some(room) = ctx.foreign_room
                && order.quantity > room
            {
                out.push(Violation::ForeignRoomExceeded {
                    requested: order.quantity,
                    available: room,
                });
            }
        }
        Side::Sell => {
            if let Some(sellable) = ctx.sellable
                && order.quantity > sellable
            {
                out.push(Violation::InsufficientSellable {
                    requested: order.quantity,
                    sellable,
                });
            }
        }
    }
}

fn check_futures_account(
    order: &Order,
    security: &Security,
    ctx: &OrderContext<'_>,
    out: &mut Vec<Violation>,
) {
    let Ok(q) = order.quantity.as_i64() else {
        out.push(Violation::ValueOverflow);
        return;
    };
    let before = ctx.futures_position.unwrap_or(0);
    let after = match order.side {
        Side::Buy => before.saturating_add(q),
        Side::Sell => before.saturating_sub(q),
    };
    let opening = after.unsigned_abs() > before.unsigned_abs();
    if ctx.futures_position.is_some() {
        let limit = ctx
            .rules
            .lots
            .position_limit(ctx.investor.position_limit_class());
        if opening && after.unsigned_abs() > limit {
            out.push(Violation::PositionLimitExceeded {
                resulting: after,
                limit,
            });
        }
    }
    if let (Some(available), Some(price), true) = (
        ctx.buying_power,
        funding_price(order.price, security.limits),
        opening,
    ) {
        let new_contracts = after.unsigned_abs() - before.unsigned_abs().min(after.unsigned_abs());
        match ctx
            .rules
            .settlement
            .futures_initial_margin(price, new_contracts)
        {
            Ok(required) if required > available => {
                out.push(Violation::InsufficientBuyingPower {
                    required,
                    available,
                });
            }
            Ok(_) => {}
            Err(_) => out.push(Violation::ValueOverflow),
        }
    }
}

#[cfg(test)]
mod tests;
