//! Exchanges, markets, boards and instrument kinds (reference §1.1–§1.3, §13).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A name that is not an exchange, board or instrument kind we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Unknown exchange / market code.
    #[error("unknown exchange {0:?}")]
    UnknownExchange(String),
    /// Unknown board code.
    #[error("unknown board {0:?}")]
    UnknownBoard(String),
    /// Unknown instrument kind code.
    #[error("unknown instrument kind {0:?}")]
    UnknownInstrumentKind(String),
}

/// One of the four markets in scope (reference §1.1): HOSE, the HNX listed board, UPCoM
/// (run by HNX) and HNX derivatives. Every rule in this crate is keyed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exchange {
    /// Ho Chi Minh City Stock Exchange (HOSE / HSX).
    Hose,
    /// Hanoi Stock Exchange, listed board.
    Hnx,
    /// UPCoM (unlisted public companies), operated by HNX.
    Upcom,
    /// HNX derivatives market (VN30 / VN100 index futures).
    HnxDeriv,
}

impl Exchange {
    /// All exchanges, for iteration in tests and tables.
    pub const ALL: [Exchange; 4] = [
        Exchange::Hose,
        Exchange::Hnx,
        Exchange::Upcom,
        Exchange::HnxDeriv,
    ];

    /// The SSI FastConnect Data market code: `HOSE | HNX | UPCOM | DER` (reference §13).
    pub const fn ssi_code(self) -> &'static str {
        match self {
            Exchange::Hose => "HOSE",
            Exchange::Hnx => "HNX",
            Exchange::Upcom => "UPCOM",
            Exchange::HnxDeriv => "DER",
        }
    }

    /// The KRX market id (`STO`, `STX`, `UPX`, `FIO`). Reference §1.2 tags these \[U\]: use
    /// for display and logs, never as a protocol constant.
    pub const fn krx_market_id(self) -> &'static str {
        match self {
            Exchange::Hose => "STO",
            Exchange::Hnx => "STX",
            Exchange::Upcom => "UPX",
            Exchange::HnxDeriv => "FIO",
        }
    }

    /// Whether this is the derivatives market.
    pub const fn is_derivatives(self) -> bool {
        matches!(self, Exchange::HnxDeriv)
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ssi_code())
    }
}

impl FromStr for Exchange {
    type Err = Error;
    /// Accepts SSI codes, common aliases and the KRX market ids, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "HOSE" | "HSX" | "STO" => Ok(Exchange::Hose),
            "HNX" | "STX" => Ok(Exchange::Hnx),
            "UPCOM" | "UPX" => Ok(Exchange::Upcom),
            "DER" | "FIO" | "HNXDERIV" | "HNX_DERIV" | "DERIVATIVES" => Ok(Exchange::HnxDeriv),
            _ => Err(Error::UnknownExchange(s.to_owned())),
        }
    }
}

/// A separate order book on one exchange (reference §1.2: key instruments by market,
/// symbol and board; odd-lot and put-through books are separate from the round-lot book).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    /// The main round-lot board (KRX `G1`, the default board).
    Main,
    /// The odd-lot board, 1–99 shares, LO only (KRX `G4`).
    OddLot,
    /// The negotiated (put-through) board (KRX `G3`).
    PutThrough,
}

impl Board {
    /// All boards.
    pub const ALL: [Board; 3] = [Board::Main, Board::OddLot, Board::PutThrough];

    /// The KRX board id (`G1`, `G4`, `G3`); reference §1.2 tags these \[U\].
    pub const fn krx_board_id(self) -> &'static str {
        match self {
            Board::Main => "G1",
            Board::OddLot => "G4",
            Board::PutThrough => "G3",
        }
    }
}

impl fmt::Display for Board {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Board::Main => "main",
            Board::OddLot => "odd-lot",
            Board::PutThrough => "put-through",
        })
    }
}

impl FromStr for Board {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MAIN" | "G1" | "ROUND" | "ROUND_LOT" => Ok(Board::Main),
            "ODD" | "ODD_LOT" | "ODD-LOT" | "G4" => Ok(Board::OddLot),
            "PUT_THROUGH" | "PUT-THROUGH" | "PT" | "G3" => Ok(Board::PutThrough),
            _ => Err(Error::UnknownBoard(s.to_owned())),
        }
    }
}

/// What kind of instrument a security is (reference §1.3, §13 SSI security types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    /// Common stock (SSI `ST`).
    Stock,
    /// Closed-end fund certificate (HOSE `FUC…`, SSI `MF`).
    FundCertificate,
    /// Exchange-traded fund (`FUE…`, `E1VFVN30`; SSI `EF`).
    Etf,
    /// Covered warrant, HOSE only (SSI `CW`).
    CoveredWarrant,
    /// VN30 / VN100 index future (SSI `FU`).
    IndexFuture,
    /// Bond (SSI `BO`); put-through only on HOSE, no tick step and no band.
    Bond,
}

impl InstrumentKind {
    /// All kinds.
    pub const ALL: [InstrumentKind; 6] = [
        InstrumentKind::Stock,
        InstrumentKind::FundCertificate,
        InstrumentKind::Etf,
        InstrumentKind::CoveredWarrant,
        InstrumentKind::IndexFuture,
        InstrumentKind::Bond,
    ];

    /// The SSI FastConnect security type code (reference §13).
    pub const fn ssi_code(self) -> &'static str {
        match self {
            InstrumentKind::Stock => "ST",
            InstrumentKind::FundCertificate => "MF",
            InstrumentKind::Etf => "EF",
            InstrumentKind::CoveredWarrant => "CW",
            InstrumentKind::IndexFuture => "FU",
            InstrumentKind::Bond => "BO",
        }
    }

    /// Whether the instrument settles T+2 on the cash market and is subject to the
    /// no-short-selling rule (reference §7.1, §7.3): everything except futures and bonds
    /// (bonds settle T+1).
    pub const fn is_cash_equity(self) -> bool {
        matches!(
            self,
            InstrumentKind::Stock
                | InstrumentKind::FundCertificate
                | InstrumentKind::Etf
                | InstrumentKind::CoveredWarrant
        )
    }
}

impl fmt::Display for InstrumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstrumentKind::Stock => "stock",
            InstrumentKind::FundCertificate => "fund certificate",
            InstrumentKind::Etf => "ETF",
            InstrumentKind::CoveredWarrant => "covered warrant",
            InstrumentKind::IndexFuture => "index future",
            InstrumentKind::Bond => "bond",
        })
    }
}

impl FromStr for InstrumentKind {
    type Err = Error;
    /// Accepts the SSI codes and the snake_case names.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ST" | "STOCK" => Ok(InstrumentKind::Stock),
            "MF" | "FUND_CERTIFICATE" | "FUND" => Ok(InstrumentKind::FundCertificate),
            "EF" | "ETF" => Ok(InstrumentKind::Etf),
            "CW" | "COVERED_WARRANT" => Ok(InstrumentKind::CoveredWarrant),
            "FU" | "INDEX_FUTURE" | "FUTURE" => Ok(InstrumentKind::IndexFuture),
            "BO" | "BOND" => Ok(InstrumentKind::Bond),
            _ => Err(Error::UnknownInstrumentKind(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_codes_round_trip_through_from_str() {
        for e in Exchange::ALL {
            assert_eq!(e.ssi_code().parse::<Exchange>(), Ok(e));
            assert_eq!(e.krx_market_id().parse::<Exchange>(), Ok(e));
        }
        assert_eq!("hsx".parse::<Exchange>(), Ok(Exchange::Hose));
        assert!("NYSE".parse::<Exchange>().is_err());
    }

    #[test]
    fn board_and_kind_codes_round_trip() {
        for b in Board::ALL {
            assert_eq!(b.krx_board_id().parse::<Board>(), Ok(b));
        }
        for k in InstrumentKind::ALL {
            assert_eq!(k.ssi_code().parse::<InstrumentKind>(), Ok(k));
        }
        assert!("XX".parse::<InstrumentKind>().is_err());
        assert!("G9".parse::<Board>().is_err());
    }

    #[test]
    fn only_cash_equities_are_cash_equities() {
        assert!(InstrumentKind::Stock.is_cash_equity());
        assert!(InstrumentKind::CoveredWarrant.is_cash_equity());
        assert!(!InstrumentKind::IndexFuture.is_cash_equity());
        assert!(!InstrumentKind::Bond.is_cash_equity());
    }
}
