//! SSI's code tables as Rust enums.
//!
//! Open tables (exchanges, security types, sessions, statuses, order statuses) keep values we
//! do not know in an `Other` variant, because SSI adds and mis-documents codes (`"S"` for a
//! stock, `NT` as a status). Closed tables (buy/sell) reject unknown values with
//! [`crate::Error::UnknownValue`]. Matching is case-insensitive; printing gives the wire form.

use std::fmt;

use crate::error::{Error, Result};

/// An open code table: every wire string maps to a value.
pub(crate) trait Code: Sized {
    fn from_wire(text: &str) -> Self;
}

macro_rules! open_code {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal $(| $alias:literal)*,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value not in SSI's documentation, kept as sent.
            Other(String),
        }

        impl $name {
            /// Reads a wire value; unknown values become `Other`.
            pub fn parse(text: &str) -> Self {
                let t = text.trim();
                $(if t.eq_ignore_ascii_case($wire) $(|| t.eq_ignore_ascii_case($alias))* {
                    return $name::$variant;
                })+
                $name::Other(t.to_owned())
            }

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl crate::codes::Code for $name {
            fn from_wire(text: &str) -> Self {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                Ok(Self::parse(&text))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

open_code!(
    /// Market / exchange id (`MarketId`, `Exchange`, `market` query parameter).
    Exchange {
        /// Ho Chi Minh City Stock Exchange.
        Hose = "HOSE",
        /// Hanoi Stock Exchange.
        Hnx = "HNX",
        /// HNX bond board.
        HnxBond = "HNXBOND",
        /// Unlisted public company market.
        Upcom = "UPCOM",
        /// Derivatives (an old sample says `DERIVATIVES`).
        Der = "DER" | "DERIVATIVES",
        /// Bonds (DailyStockPrice `market` filter).
        Bond = "BOND",
    }
);

open_code!(
    /// `SecType` of SecuritiesDetails.
    SecurityType {
        /// Stock (a current sample sends `S`).
        Stock = "ST" | "S",
        /// Covered warrant.
        CoveredWarrant = "CW",
        /// Futures.
        Futures = "FU",
        /// ETF.
        Etf = "EF",
        /// Bond.
        Bond = "BO",
        /// Open-ended fund.
        OpenEndedFund = "OF",
        /// Mutual fund.
        MutualFund = "MF",
    }
);

open_code!(
    /// `TradingSession` of streams and DailyIndex.
    TradingSession {
        /// Opening auction.
        Ato = "ATO",
        /// Continuous matching.
        Lo = "LO",
        /// Closing auction.
        Atc = "ATC",
        /// Put-through.
        PutThrough = "PT",
        /// Closed.
        Closed = "C" | "CLOSE" | "CLOSED",
        /// Lunch break.
        Break = "BREAK",
        /// Halted.
        Halt = "HALT" | "H",
    }
);

open_code!(
    /// `TradingStatus` of a security.
    TradingStatus {
        /// Normal.
        Normal = "N",
        /// Delisted.
        Delisted = "D",
        /// Halted intraday.
        Halted = "H",
        /// Suspended.
        Suspended = "S",
        /// Newly listed.
        NewlyListed = "NL",
        /// About to be delisted.
        PendingDelisting = "ND",
        /// Special trading.
        Special = "ST",
        /// Suspended for matched orders.
        SuspendedMatching = "SA",
        /// Suspended for put-through.
        SuspendedPutThrough = "SP",
    }
);

open_code!(
    /// `Side` of an X-TRADE tick.
    TradeSide {
        /// Buy-up (aggressive buyer).
        BuyUp = "BU",
        /// Sell-down (aggressive seller).
        SellDown = "SD",
    }
);

open_code!(
    /// Order type (`orderType`).
    OrderType {
        /// Limit.
        Lo = "LO",
        /// At the opening auction.
        Ato = "ATO",
        /// At the closing auction.
        Atc = "ATC",
        /// Market (HOSE).
        Mp = "MP",
        /// Market-to-limit.
        Mtl = "MTL",
        /// Match-or-kill.
        Mok = "MOK",
        /// Match-and-kill.
        Mak = "MAK",
        /// Post-close limit.
        Plo = "PLO",
    }
);

open_code!(
    /// Order status (`orderStatus`).
    OrderStatus {
        /// Waiting approval.
        WaitingApproval = "WA",
        /// Ready to send to the exchange.
        ReadyToSend = "RS",
        /// Sent to the exchange.
        Sent = "SD",
        /// Queued at the exchange (working).
        Queued = "QU",
        /// Partially filled.
        PartiallyFilled = "PF",
        /// Fully filled.
        Filled = "FF",
        /// Partially filled, remainder cancelled.
        FilledPartlyCancelled = "FFPC",
        /// Waiting modify.
        WaitingModify = "WM",
        /// Waiting cancel.
        WaitingCancel = "WC",
        /// Cancelled.
        Cancelled = "CL",
        /// Rejected.
        Rejected = "RJ",
        /// Expired.
        Expired = "EX",
        /// Stop order waiting for its trigger.
        StopReady = "SOR",
        /// Stop order triggered and sent.
        StopSent = "SOS",
        /// Pre-session order.
        PreSession = "IAV",
        /// Pre-session stop order.
        PreSessionStop = "SOI",
    }
);

impl OrderStatus {
    /// True when the order can no longer trade.
    pub fn is_final(&self) -> bool {
        match self {
            OrderStatus::Filled
            | OrderStatus::FilledPartlyCancelled
            | OrderStatus::Cancelled
            | OrderStatus::Rejected
            | OrderStatus::Expired => true,
            OrderStatus::WaitingApproval
            | OrderStatus::ReadyToSend
            | OrderStatus::Sent
            | OrderStatus::Queued
            | OrderStatus::PartiallyFilled
            | OrderStatus::WaitingModify
            | OrderStatus::WaitingCancel
            | OrderStatus::StopReady
            | OrderStatus::StopSent
            | OrderStatus::PreSession
            | OrderStatus::PreSessionStop
            | OrderStatus::Other(_) => false,
        }
    }
}

/// Buy or sell (`buySell`): a closed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// `B`.
    Buy,
    /// `S`.
    Sell,
}

impl Side {
    /// Reads `B`/`S` (any case).
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "B" | "b" => Ok(Side::Buy),
            "S" | "s" => Ok(Side::Sell),
            other => Err(Error::UnknownValue {
                kind: "buySell",
                value: other.to_owned(),
            }),
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "B",
            Side::Sell => "S",
        }
    }
}

impl<'de> serde::Deserialize<'de> for Side {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        Side::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Side {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// FC Trading market of an order (`market`/`marketID`): cash or derivatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TradingMarket {
    /// Cash (equity) market, `VN`.
    #[serde(rename = "VN")]
    Vn,
    /// Derivatives market, `VNFE`.
    #[serde(rename = "VNFE")]
    Vnfe,
}

impl TradingMarket {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            TradingMarket::Vn => "VN",
            TradingMarket::Vnfe => "VNFE",
        }
    }
}

/// Stop-order type (`stopType`), derivatives only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StopType {
    /// `D`: triggers when the price falls to the stop price.
    #[serde(rename = "D")]
    Down,
    /// `U`: triggers when the price rises to the stop price.
    #[serde(rename = "U")]
    Up,
    /// `V`: trailing up.
    #[serde(rename = "V")]
    TrailingUp,
    /// `E`: trailing down.
    #[serde(rename = "E")]
    TrailingDown,
    /// `O`: one-cancels-other.
    #[serde(rename = "O")]
    Oco,
    /// `B`: bull-bear (take profit and stop loss).
    #[serde(rename = "B")]
    BullBear,
}

impl StopType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            StopType::Down => "D",
            StopType::Up => "U",
            StopType::TrailingUp => "V",
            StopType::TrailingDown => "E",
            StopType::Oco => "O",
            StopType::BullBear => "B",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_tables_keep_unknown_values() {
        assert_eq!(SecurityType::parse("S"), SecurityType::Stock);
        assert_eq!(SecurityType::parse("ZZ"), SecurityType::Other("ZZ".into()));
        assert_eq!(TradingStatus::parse("NT").as_str(), "NT");
        assert_eq!(Exchange::parse("derivatives"), Exchange::Der);
        assert_eq!(
            OrderStatus::parse("FFPC"),
            OrderStatus::FilledPartlyCancelled
        );
        assert!(OrderStatus::parse("CL").is_final());
    }

    #[test]
    fn closed_tables_reject_unknown_values() {
        assert_eq!(Side::parse("B").unwrap(), Side::Buy);
        let err = Side::parse("X").unwrap_err();
        assert_eq!(err.to_string(), "unknown buySell value \"X\"");
    }
}
