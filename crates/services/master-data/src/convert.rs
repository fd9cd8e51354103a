//! Domain to protobuf: the `qts.market.v1.Security` master data publishes and serves.

use proto::market::v1 as pb;

use crate::domain::{Security, kind_name, status_name};
use crate::store::format_day;

pub(crate) use common::bus::proto_time as timestamp;

/// The published and served form of `s`.
pub(crate) fn to_proto(s: &Security) -> pb::Security {
    let band = s.band.as_ref();
    pb::Security {
        symbol: s.symbol.as_str().to_owned(),
        exchange: s.exchange.ssi_code().to_owned(),
        kind: kind_name(s.kind).to_owned(),
        name: s.name.clone(),
        sector: s.sector.clone(),
        lot_size: s.lot_size,
        trading_day: band.map(|b| format_day(b.day)).unwrap_or_default(),
        reference: band.map_or(0, |b| b.limits.reference.units()),
        ceiling: band.map_or(0, |b| b.limits.ceiling.units()),
        floor: band.map_or(0, |b| b.limits.floor.units()),
        listed_shares: s.listed_shares,
        foreign_room: s.foreign_room,
        status: status_name(s.status).to_owned(),
        indexes: s.indexes.clone(),
        updated_at: Some(timestamp(s.updated_at)),
    }
}
