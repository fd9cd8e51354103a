//! Master data's types: a security as stored and served, the filters of a listing, an audit
//! entry, a sync report. No transport or storage types here.

use std::collections::BTreeSet;

use market::limits::PriceLimits;
use market::{Board, Exchange, InstrumentKind, SecurityStatus, Symbol};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// One security as master data holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// Ticker.
    pub symbol: Symbol,
    /// Exchange.
    pub exchange: Exchange,
    /// Instrument kind.
    pub kind: InstrumentKind,
    /// Vietnamese name ("" when unknown).
    pub name: String,
    /// English name ("" when unknown).
    pub name_en: String,
    /// Sector ("" when unknown).
    pub sector: String,
    /// Trading status.
    pub status: SecurityStatus,
    /// Round lot on the main board.
    pub lot_size: u64,
    /// Listed shares (0 when unknown).
    pub listed_shares: u64,
    /// Foreign room left, when the broker sent it.
    pub foreign_room: Option<u64>,
    /// The band of the latest synced trading day, when known.
    pub band: Option<DayBand>,
    /// Index codes the security belongs to, sorted.
    pub indexes: Vec<String>,
    /// Fields a manual edit set: a sync leaves them alone.
    pub pinned: BTreeSet<Field>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl Security {
    /// Whether `other` differs in anything but `updated_at`.
    pub fn differs(&self, other: &Security) -> bool {
        let strip = |s: &Security| Security {
            updated_at: OffsetDateTime::UNIX_EPOCH,
            ..s.clone()
        };
        strip(self) != strip(other)
    }
}

/// Reference, ceiling and floor of one trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBand {
    /// The trading day.
    pub day: Date,
    /// Reference, ceiling and floor.
    pub limits: PriceLimits,
    /// Derived by master data with `market`'s rules (the broker had none for the day yet).
    pub derived: bool,
}

/// A field a manual edit may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Vietnamese name.
    Name,
    /// Sector.
    Sector,
    /// Status.
    Status,
}

impl Field {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Sector => "sector",
            Field::Status => "status",
        }
    }

    /// The field of a stored name.
    pub fn parse(text: &str) -> Option<Field> {
        match text {
            "name" => Some(Field::Name),
            "sector" => Some(Field::Sector),
            "status" => Some(Field::Status),
            _ => None,
        }
    }
}

/// A manual edit: the fields to set, who and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Who edits (required until identity lands).
    pub actor: String,
    /// New name.
    pub name: Option<String>,
    /// New sector.
    pub sector: Option<String>,
    /// New status.
    pub status: Option<SecurityStatus>,
    /// Why.
    pub reason: String,
}

/// One audited manual edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sequence.
    pub id: i64,
    /// Security.
    pub symbol: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: OffsetDateTime,
    /// The edited fields before, as a JSON object.
    pub before: serde_json::Value,
    /// The edited fields after, as a JSON object.
    pub after: serde_json::Value,
    /// Why.
    pub reason: String,
}

/// Filters of a securities listing; `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exchange.
    pub exchange: Option<Exchange>,
    /// A board the security trades on (per `market`'s timetables and order-type matrix).
    pub board: Option<Board>,
    /// Index membership.
    pub index: Option<String>,
    /// Status.
    pub status: Option<SecurityStatus>,
    /// Sector, exactly.
    pub sector: Option<String>,
    /// Kind.
    pub kind: Option<InstrumentKind>,
}

/// A page request: at most `limit` rows after `after` (a symbol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows, 1..=[`MAX_PAGE`].
    pub limit: u32,
    /// The last symbol of the previous page.
    pub after: Option<String>,
}

/// The largest page.
pub const MAX_PAGE: u32 = 1000;
/// The page size when none is asked.
pub const DEFAULT_PAGE: u32 = 100;

/// An index and its constituents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Exchange ("" when unknown).
    pub exchange: String,
    /// Constituents, sorted.
    pub members: Vec<String>,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// The trading day synced for.
    pub trading_day: Date,
    /// Securities the broker listed.
    pub securities: u32,
    /// Securities whose record changed (published).
    pub changed: u32,
    /// Bands derived with `market`'s rules.
    pub derived: u32,
    /// Indexes stored.
    pub indexes: u32,
    /// What could not be synced.
    pub warnings: Vec<String>,
}

/// `market::InstrumentKind`'s serde name.
pub fn kind_name(kind: InstrumentKind) -> &'static str {
    match kind {
        InstrumentKind::Stock => "stock",
        InstrumentKind::FundCertificate => "fund_certificate",
        InstrumentKind::Etf => "etf",
        InstrumentKind::CoveredWarrant => "covered_warrant",
        InstrumentKind::IndexFuture => "index_future",
        InstrumentKind::Bond => "bond",
    }
}

/// The kind of a serde name.
pub fn parse_kind(text: &str) -> Option<InstrumentKind> {
    InstrumentKind::ALL
        .into_iter()
        .find(|k| kind_name(*k) == text.trim().to_ascii_lowercase())
}

/// `market::SecurityStatus`'s serde name.
pub fn status_name(status: SecurityStatus) -> &'static str {
    status.name()
}

/// Every status, for parsing and listing.
pub const STATUSES: [SecurityStatus; 7] = SecurityStatus::ALL;

/// The status of a serde name.
pub fn parse_status(text: &str) -> Option<SecurityStatus> {
    SecurityStatus::parse(text)
}

/// `market::Board`'s serde name.
pub fn board_name(board: Board) -> &'static str {
    match board {
        Board::Main => "main",
        Board::OddLot => "odd_lot",
        Board::PutThrough => "put_through",
    }
}

/// `market::Phase`'s serde name (periodic auctions as `periodic_auction_N`).
pub fn phase_name(phase: market::Phase) -> String {
    use market::Phase as P;
    match phase {
        P::Closed => "closed".into(),
        P::PreOpen => "pre_open".into(),
        P::OpeningAuction => "opening_auction".into(),
        P::Continuous => "continuous".into(),
        P::Break => "break".into(),
        P::PeriodicAuction(n) => format!("periodic_auction_{n}"),
        P::ClosingAuction => "closing_auction".into(),
        P::PloCollection => "plo_collection".into(),
        P::PloMatching => "plo_matching".into(),
        P::PutThrough => "put_through".into(),
        P::PutThroughAfterHours => "put_through_after_hours".into(),
        P::PutThroughOnly => "put_through_only".into(),
        P::Halted => "halted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_markets_serde_names() {
        for k in InstrumentKind::ALL {
            assert_eq!(parse_kind(kind_name(k)), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(kind_name(k).to_owned())
            );
        }
        for s in STATUSES {
            assert_eq!(parse_status(status_name(s)), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(status_name(s).to_owned())
            );
        }
        assert_eq!(parse_kind("option"), None);
        assert_eq!(parse_status("halted"), None);
        for b in Board::ALL {
            assert_eq!(
                serde_json::to_value(b).unwrap(),
                serde_json::Value::String(board_name(b).to_owned())
            );
        }
    }
}
