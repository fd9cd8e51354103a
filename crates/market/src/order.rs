//! Order types, the order-type × session matrix, and amend/cancel rules (reference §3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::limits::PriceLimits;
use crate::price::{Price, Quantity};
use crate::session::{Phase, SessionState};
use crate::venue::{Board, Exchange, InstrumentKind};

/// Unknown order type code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not one of LO, ATO, ATC, MTL, MOK, MAK, PLO (or the retired MP).
    #[error("unknown order type {0:?}")]
    UnknownOrderType(String),
}

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// The name the APIs and events use: `buy` or `sell`.
    pub const fn name(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// A side by name, `buy` or `sell`, or by SSI's code, `B` or `S` (any case).
    pub fn parse(text: &str) -> Option<Side> {
        match text.trim().to_ascii_lowercase().as_str() {
            "buy" | "b" => Some(Side::Buy),
            "sell" | "s" => Some(Side::Sell),
            _ => None,
        }
    }
}

/// Exchange order types (reference §3.1). The futures set is LO, ATO, ATC, MTL, MOK, MAK.
/// Put-through deals are orders of type [`OrderType::Lo`] on [`Board::PutThrough`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderType {
    /// Limit order: rests until filled, cancelled, or the end of the closing auction.
    Lo,
    /// Market-on-open: opening call only; remainder cancelled.
    Ato,
    /// Market-on-close: closing call only; remainder cancelled.
    Atc,
    /// Market-to-limit: sweeps the opposite side; the rest becomes an LO (replaced HOSE MP).
    Mtl,
    /// Market fill-or-kill.
    Mok,
    /// Market immediate-or-cancel (fill-and-kill).
    Mak,
    /// HNX post-close order at the day's closing price.
    Plo,
}

impl OrderType {
    /// All order types.
    pub const ALL: [OrderType; 7] = [
        OrderType::Lo,
        OrderType::Ato,
        OrderType::Atc,
        OrderType::Mtl,
        OrderType::Mok,
        OrderType::Mak,
        OrderType::Plo,
    ];

    /// Whether the client gives a price: only LO (ATO/ATC/MTL/MOK/MAK carry none, PLO
    /// trades at the closing price; reference §14).
    pub const fn carries_price(self) -> bool {
        matches!(self, OrderType::Lo)
    }

    /// Market orders that need a resting opposite order at entry (reference §3.1).
    pub const fn is_market(self) -> bool {
        matches!(self, OrderType::Mtl | OrderType::Mok | OrderType::Mak)
    }

    /// The SSI FastConnect code (reference §13).
    pub const fn code(self) -> &'static str {
        match self {
            OrderType::Lo => "LO",
            OrderType::Ato => "ATO",
            OrderType::Atc => "ATC",
            OrderType::Mtl => "MTL",
            OrderType::Mok => "MOK",
            OrderType::Mak => "MAK",
            OrderType::Plo => "PLO",
        }
    }
}

impl OrderType {
    /// The type of an exchange code (any case). Unlike [`FromStr`], which still reads the
    /// retired HOSE `MP` as MTL, only today's codes: what an API takes from a client.
    pub fn from_code(code: &str) -> Option<OrderType> {
        let upper = code.trim().to_ascii_uppercase();
        OrderType::ALL.into_iter().find(|t| t.code() == upper)
    }
}

impl fmt::Display for OrderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for OrderType {
    type Err = Error;
    /// Parses the codes; the retired HOSE `MP` maps to MTL, which replaced it at KRX
    /// go-live (reference §3.1).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "LO" => Ok(OrderType::Lo),
            "ATO" => Ok(OrderType::Ato),
            "ATC" => Ok(OrderType::Atc),
            "MTL" | "MP" => Ok(OrderType::Mtl),
            "MOK" => Ok(OrderType::Mok),
            "MAK" => Ok(OrderType::Mak),
            "PLO" => Ok(OrderType::Plo),
            _ => Err(Error::UnknownOrderType(s.to_owned())),
        }
    }
}

/// An order as the exchange sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Target board (round lot, odd lot or put-through).
    pub board: Board,
    /// Limit price for LO (and put-through deals); `None` for the other types.
    pub price: Option<Price>,
    /// Quantity (shares, units, warrants or contracts).
    pub quantity: Quantity,
}

const NONE: &[OrderType] = &[];
const LO: &[OrderType] = &[OrderType::Lo];
const LO_ATO: &[OrderType] = &[OrderType::Lo, OrderType::Ato];
const LO_ATC: &[OrderType] = &[OrderType::Lo, OrderType::Atc];
const LO_MTL: &[OrderType] = &[OrderType::Lo, OrderType::Mtl];
const LO_MTL_MOK_MAK: &[OrderType] = &[
    OrderType::Lo,
    OrderType::Mtl,
    OrderType::Mok,
    OrderType::Mak,
];
const PLO: &[OrderType] = &[OrderType::Plo];

/// The order types the exchange accepts on `(exchange, board, kind)` during `phase`
/// (reference §2.1–§2.5 and the matrix in §3.2). Odd lots and put-through deals are LO only;
/// bonds are LO only; restricted HOSE stocks take LO in periodic auctions (§2.2).
pub fn accepted_order_types(
    exchange: Exchange,
    board: Board,
    kind: InstrumentKind,
    phase: Phase,
) -> &'static [OrderType] {
    match board {
        Board::PutThrough => {
            return match phase {
                Phase::PutThrough | Phase::PutThroughAfterHours => LO,
                Phase::Closed
                | Phase::PreOpen
                | Phase::OpeningAuction
                | Phase::Continuous
                | Phase::Break
                | Phase::PeriodicAuction(_)
                | Phase::ClosingAuction
                | Phase::PloCollection
                | Phase::PloMatching
                | Phase::PutThroughOnly
                | Phase::Halted => NONE,
            };
        }
        Board::OddLot => {
            if exchange == Exchange::HnxDeriv {
                return NONE;
            }
            return match phase {
                Phase::OpeningAuction
                | Phase::Continuous
                | Phase::ClosingAuction
                | Phase::PeriodicAuction(_) => LO,
                Phase::Closed
                | Phase::PreOpen
                | Phase::Break
                | Phase::PloCollection
                | Phase::PloMatching
                | Phase::PutThrough
                | Phase::PutThroughAfterHours
                | Phase::PutThroughOnly
                | Phase::Halted => NONE,
            };
        }
        Board::Main => {}
    }
    let round = match (exchange, phase) {
        (Exchange::Hose | Exchange::HnxDeriv, Phase::OpeningAuction) => LO_ATO,
        (Exchange::Hose, Phase::Continuous) => LO_MTL,
        (Exchange::Hnx | Exchange::HnxDeriv, Phase::Continuous) => LO_MTL_MOK_MAK,
        (Exchange::Upcom, Phase::Continuous) => LO,
        (Exchange::Hose, Phase::PeriodicAuction(_)) => LO,
        (Exchange::Hose | Exchange::Hnx | Exchange::HnxDeriv, Phase::ClosingAuction) => LO_ATC,
        (Exchange::Hnx, Phase::PloCollection | Phase::PloMatching) => PLO,
        _ => NONE,
    };
    if kind == InstrumentKind::Bond && round.contains(&OrderType::Lo) {
        // Listed bonds: LO only in continuous and ATC (§2.3); HOSE bonds never reach here
        // (their timetable is put-through only).
        return LO;
    }
    round
}

/// Whether `order_type` is accepted (see [`accepted_order_types`]).
pub fn is_accepted(
    exchange: Exchange,
    board: Board,
    kind: InstrumentKind,
    phase: Phase,
    order_type: OrderType,
) -> bool {
    accepted_order_types(exchange, board, kind, phase).contains(&order_type)
}

/// The price an order is funded at for buying power and holds (reference §3.1, §3.5,
/// §14): its own price when it has one (an LO's limit; a PLO once priced at the closing
/// price), otherwise the day's ceiling, the worst price an order without a price
/// (ATO, ATC, MTL, MOK, MAK, an unpriced PLO) can trade at. `None` when the order has no
/// price and the ceiling is unknown. [`crate::validate::validate_order`] funds buys (and
/// futures initial margin) at this price.
pub fn funding_price(price: Option<Price>, limits: Option<PriceLimits>) -> Option<Price> {
    price.or(limits.map(|l| l.ceiling))
}

/// Whether an open order of `order_type` resting on a matching board is no longer valid
/// once the board enters `phase`, so its remainder expires (reference §3.1, §2.3). Day
/// orders end when the board leaves its last regular matching phase
/// ([`Phase::ends_day_orders`]: after the closing auction; UPCoM and futures at the
/// close). PLO orders live through the HNX post-close session and expire at its end
/// (15:00, when the board closes). ATO/ATC remainders are cancelled by the auction itself.
pub const fn order_expires(order_type: OrderType, phase: Phase) -> bool {
    match order_type {
        OrderType::Plo => matches!(phase, Phase::Closed),
        OrderType::Lo
        | OrderType::Ato
        | OrderType::Atc
        | OrderType::Mtl
        | OrderType::Mok
        | OrderType::Mak => phase.ends_day_orders(),
    }
}

/// Whether a trade matched during `phase` counts towards the day's closing price
/// (reference §3.4): every phase except the HNX post-close (PLO) session, whose trades
/// happen at the closing price and never move it.
pub const fn trade_sets_close(phase: Phase) -> bool {
    !matches!(phase, Phase::PloCollection | Phase::PloMatching)
}

/// The day's closing price on HOSE and HNX (reference §3.4): the ATC match price; if the
/// ATC produced no trade (or there is no ATC, as on UPCoM, §2.4), the last trade of the
/// day (trades for which [`trade_sets_close`] holds; PLO trades never count). `None` when
/// there was no trade at all: the day produced no closing price (PLO orders are then
/// refused, §2.3) and the previous close carries over, see [`carried_close`].
pub fn closing_price(atc_price: Option<Price>, last_trade: Option<Price>) -> Option<Price> {
    atc_price.or(last_trade)
}

/// The close that stands for the day (reference §3.4, §5.3): today's
/// [`closing_price`], or the previous close carried over when the day produced none.
pub fn carried_close(today: Option<Price>, previous_close: Price) -> Price {
    today.unwrap_or(previous_close)
}

/// One amendment: price **or** quantity, never both (reference §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amendment {
    /// New limit price.
    Price(Price),
    /// New total order quantity (including what is already filled).
    Quantity(Quantity),
}

/// What an accepted amendment does to time priority (reference §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Quantity decrease: keeps its place in the queue.
    Kept,
    /// Price change or quantity increase: re-queued.
    Lost,
}

/// Why an amendment or a cancellation is refused (reference §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum ChangeViolation {
    /// No amend/cancel in this phase: call auctions (ATO/ATC), the lunch break, outside
    /// trading hours, halts.
    #[error("orders cannot be amended or cancelled during {phase}")]
    PhaseBlocksChanges {
        /// The phase.
        phase: Phase,
    },
    /// HOSE periodic auctions: no amend/cancel in the last minutes of each auction.
    #[error(
        "periodic auction {number}: amend/cancel blocked in the last {blackout_minutes} minutes"
    )]
    PeriodicAuctionBlackout {
        /// Auction number 1–15.
        number: u8,
        /// Blackout length.
        blackout_minutes: u32,
    },
    /// PLO orders can never be amended or cancelled.
    #[error("PLO orders cannot be amended or cancelled")]
    PloIsFinal,
    /// Executed put-through deals cannot be amended or cancelled.
    #[error("executed put-through deals cannot be amended or cancelled")]
    PutThroughExecuted,
    /// Nothing left to change: the order is fully filled.
    #[error("order is fully filled ({filled} of {quantity})")]
    FullyFilled {
        /// Filled so far.
        filled: Quantity,
        /// Order quantity.
        quantity: Quantity,
    },
    /// Only the unfilled part can change: the new total must exceed what is filled.
    #[error("new quantity {requested} does not exceed the filled {filled}")]
    BelowFilled {
        /// Requested new total.
        requested: Quantity,
        /// Filled so far.
        filled: Quantity,
    },
    /// The amendment changes nothing.
    #[error("amendment changes nothing")]
    NoChange,
    /// Only LO orders have a price to amend.
    #[error("{order_type} orders carry no price to amend")]
    NoPriceToAmend {
        /// The order type.
        order_type: OrderType,
    },
    /// Price and quantity changed at once: send two requests (reference §3.3).
    #[error("one amendment changes either price or quantity, never both")]
    PriceAndQuantity,
}

/// Builds the single [`Amendment`] from a requested (price, quantity) pair, rejecting a
/// request that changes both or neither (reference §3.3).
pub fn classify_amendment(
    order: &Order,
    new_price: Option<Price>,
    new_quantity: Quantity,
) -> Result<Amendment, ChangeViolation> {
    let price_changed = new_price != order.price;
    let qty_changed = new_quantity != order.quantity;
    match (price_changed, qty_changed, new_price) {
        (true, true, _) => Err(ChangeViolation::PriceAndQuantity),
        (false, false, _) => Err(ChangeViolation::NoChange),
        (true, false, Some(p)) => Ok(Amendment::Price(p)),
        (true, false, None) => Err(ChangeViolation::NoPriceToAmend {
            order_type: order.order_type,
        }),
        (false, true, _) => Ok(Amendment::Quantity(new_quantity)),
    }
}

fn check_change_window(
    order: &Order,
    filled: Quantity,
    session: &SessionState,
    pca_blackout_minutes: u32,
) -> Result<(), ChangeViolation> {
    if order.order_type == OrderType::Plo {
        return Err(ChangeViolation::PloIsFinal);
    }
    if order.board == Board::PutThrough && filled > Quantity::ZERO {
        return Err(ChangeViolation::PutThroughExecuted);
    }
    if filled >= order.quantity {
        return Err(ChangeViolation::FullyFilled {
            filled,
            quantity: order.quantity,
        });
    }
    match session.phase {
        Phase::Continuous | Phase::PutThrough | Phase::PutThroughAfterHours => Ok(()),
        Phase::PeriodicAuction(number) => {
            let left = session.phase_end.map_or(0, |end| {
                end.seconds().saturating_sub(session.time.seconds())
            });
            if left <= pca_blackout_minutes * 60 {
                Err(ChangeViolation::PeriodicAuctionBlackout {
                    number,
                    blackout_minutes: pca_blackout_minutes,
                })
            } else {
                Ok(())
            }
        }
        phase @ (Phase::Closed
        | Phase::PreOpen
        | Phase::OpeningAuction
        | Phase::Break
        | Phase::ClosingAuction
        | Phase::PloCollection
        | Phase::PloMatching
        | Phase::PutThroughOnly
        | Phase::Halted) => Err(ChangeViolation::PhaseBlocksChanges { phase }),
    }
}

/// Whether `order` (with `filled` already executed) may be cancelled now (reference
/// §3.3): not in call auctions, the break, HOSE PCA blackouts, for PLO, or for executed
/// put-through deals. `session` is the state of the order's board.
pub fn check_cancel(
    order: &Order,
    filled: Quantity,
    session: &SessionState,
    pca_blackout_minutes: u32,
) -> Result<(), ChangeViolation> {
    check_change_window(order, filled, session, pca_blackout_minutes)
}

/// Whether `amendment` is allowed now and what it does to priority (reference §3.3). The
/// amended order must still pass [`crate::validate::validate_order`] (tick, band, lot).
pub fn check_amend(
    order: &Order,
    filled: Quantity,
    amendment: Amendment,
    session: &SessionState,
    pca_blackout_minutes: u32,
) -> Result<Priority, ChangeViolation> {
    check_change_window(order, filled, session, pca_blackout_minutes)?;
    match amendment {
        Amendment::Price(p) => {
            if !order.order_type.carries_price() {
                return Err(ChangeViolation::NoPriceToAmend {
                    order_type: order.order_type,
                });
            }
            if Some(p) == order.price {
                return Err(ChangeViolation::NoChange);
            }
            Ok(Priority::Lost)
        }
        Amendment::Quantity(q) => {
            if q == order.quantity {
                Err(ChangeViolation::NoChange)
            } else if q <= filled {
                Err(ChangeViolation::BelowFilled {
                    requested: q,
                    filled,
                })
            } else if q > order.quantity {
                Ok(Priority::Lost)
            } else {
                Ok(Priority::Kept)
            }
        }
    }
}

/// Rules for MTL conversion (reference §3.1): after sweeping, an unfilled MTL buy becomes
/// an LO at last price + `offset` ticks (capped at the ceiling), a sell at last − `offset`
/// ticks (floored at the floor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderRules {
    /// Tick offset on HOSE: 1 \[C\].
    pub mtl_offset_ticks_hose: u32,
    /// Tick offset on HNX: default 1 (KRX behaviour; pre-KRX it was 0, §3.1 \[U\]).
    pub mtl_offset_ticks_hnx: u32,
    /// Tick offset on derivatives: 1 \[C\].
    pub mtl_offset_ticks_derivatives: u32,
}

impl Default for OrderRules {
    fn default() -> Self {
        Self {
            mtl_offset_ticks_hose: 1,
            mtl_offset_ticks_hnx: 1,
            mtl_offset_ticks_derivatives: 1,
        }
    }
}

impl OrderRules {
    /// The MTL conversion offset for an exchange (UPCoM has no MTL: 0).
    pub fn mtl_offset_ticks(&self, exchange: Exchange) -> u32 {
        match exchange {
            Exchange::Hose => self.mtl_offset_ticks_hose,
            Exchange::Hnx => self.mtl_offset_ticks_hnx,
            Exchange::HnxDeriv => self.mtl_offset_ticks_derivatives,
            Exchange::Upcom => 0,
        }
    }
}

#[cfg(test)]
mod tests;
