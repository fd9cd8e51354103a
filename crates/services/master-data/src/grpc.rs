//! gRPC adapter for `qts.master_data.v1.MasterDataService`: the same use cases as HTTP, the
//! same validation (shared with [`crate::http`]), errors as `tonic::Status`.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::market::v1 as market_pb;
use proto::master_data::v1 as md_pb;
use proto::master_data::v1::master_data_service_server::{
    MasterDataService, MasterDataServiceServer,
};
use tonic::{Request, Response, Status};

use crate::convert::{timestamp, to_proto};
use crate::domain::{DEFAULT_PAGE, Index, PageRequest};
use crate::rules::{BoardSessions, SegmentView};
use crate::service::MasterData;
use crate::store::{format_day, parse_day};

struct Api {
    info: Arc<ServiceInfo>,
    md: Arc<MasterData>,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    md: Arc<MasterData>,
) -> MasterDataServiceServer<impl MasterDataService> {
    MasterDataServiceServer::new(Api { info, md })
}

fn status(e: impl Into<ApiError>) -> Status {
    Status::from(e.into())
}

fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|t| !t.is_empty())
}

fn limit(n: u32) -> u32 {
    if n == 0 { DEFAULT_PAGE } else { n }
}

fn index(i: Index) -> md_pb::Index {
    md_pb::Index {
        code: i.code,
        name: i.name,
        exchange: i.exchange,
        members: i.members,
    }
}

fn segments(v: Vec<SegmentView>) -> Vec<md_pb::Segment> {
    v.into_iter()
        .map(|s| md_pb::Segment {
            start: s.start,
            end: s.end,
            phase: s.phase,
        })
        .collect()
}

fn board_sessions(v: Vec<BoardSessions>) -> Vec<md_pb::BoardSessions> {
    v.into_iter()
        .map(|b| md_pb::BoardSessions {
            exchange: b.exchange,
            board: b.board,
            kind: b.kind,
            segments: segments(b.segments),
        })
        .collect()
}

fn day(text: &str, what: &str) -> Result<Option<time::Date>, Status> {
    opt(text)
        .map(|d| {
            parse_day(d)
                .ok_or_else(|| Status::invalid_argument(format!("{what} {d:?} is not YYYY-MM-DD")))
        })
        .transpose()
}

#[tonic::async_trait]
impl MasterDataService for Api {
    async fn get_info(
        &self,
        _request: Request<pb::GetInfoRequest>,
    ) -> Result<Response<pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn list_securities(
        &self,
        request: Request<md_pb::ListSecuritiesRequest>,
    ) -> Result<Response<md_pb::ListSecuritiesResponse>, Status> {
        let r = request.into_inner();
        let filter = crate::http::filter(
            opt(&r.exchange),
            opt(&r.board),
            opt(&r.index),
            opt(&r.status),
            opt(&r.sector),
            opt(&r.kind),
        )
        .map_err(status)?;
        let page = PageRequest {
            limit: limit(r.limit),
            after: opt(&r.cursor).map(str::to_owned),
        };
        let (rows, next) = self.md.securities(&filter, &page).await.map_err(status)?;
        Ok(Response::new(md_pb::ListSecuritiesResponse {
            securities: rows.iter().map(to_proto).collect(),
            next_cursor: next.unwrap_or_default(),
        }))
    }

    async fn get_security(
        &self,
        request: Request<md_pb::GetSecurityRequest>,
    ) -> Result<Response<market_pb::Security>, Status> {
        let s = self
            .md
            .security(&request.into_inner().symbol)
            .await
            .map_err(status)?;
        Ok(Response::new(to_proto(&s)))
    }

    async fn update_security(
        &self,
        request: Request<md_pb::UpdateSecurityRequest>,
    ) -> Result<Response<market_pb::Security>, Status> {
        let caller = common::grpc::caller(&request).map(|p| p.username);
        let r = request.into_inner();
        // With tokens, the token's user is audited, not what the request says.
        let actor = caller.unwrap_or(r.actor);
        let edit =
            crate::http::edit_of(actor, r.name, r.sector, r.status, r.reason).map_err(status)?;
        let s = self.md.edit(&r.symbol, edit).await.map_err(status)?;
        Ok(Response::new(to_proto(&s)))
    }

    async fn list_audit(
        &self,
        request: Request<md_pb::ListAuditRequest>,
    ) -> Result<Response<md_pb::ListAuditResponse>, Status> {
        let r = request.into_inner();
        let rows = self
            .md
            .audit(&r.symbol, limit(r.limit))
            .await
            .map_err(status)?;
        Ok(Response::new(md_pb::ListAuditResponse {
            entries: rows
                .into_iter()
                .map(|a| md_pb::AuditEntry {
                    id: a.id,
                    symbol: a.symbol,
                    actor: a.actor,
                    at: Some(timestamp(a.at)),
                    before_json: a.before.to_string(),
                    after_json: a.after.to_string(),
                    reason: a.reason,
                })
                .collect(),
        }))
    }

    async fn list_indexes(
        &self,
        request: Request<md_pb::ListIndexesRequest>,
    ) -> Result<Response<md_pb::ListIndexesResponse>, Status> {
        let r = request.into_inner();
        let exchange = opt(&r.exchange)
            .map(|e| {
                e.parse()
                    .map_err(|_| Status::invalid_argument(format!("unknown exchange {e:?}")))
            })
            .transpose()?;
        let rows = self.md.indexes(exchange).await.map_err(status)?;
        Ok(Response::new(md_pb::ListIndexesResponse {
            indexes: rows.into_iter().map(index).collect(),
        }))
    }

    async fn get_index(
        &self,
        request: Request<md_pb::GetIndexRequest>,
    ) -> Result<Response<md_pb::Index>, Status> {
        let i = self
            .md
            .index(&request.into_inner().code)
            .await
            .map_err(status)?;
        Ok(Response::new(index(i)))
    }

    async fn get_calendar(
        &self,
        request: Request<md_pb::GetCalendarRequest>,
    ) -> Result<Response<md_pb::CalendarDay>, Status> {
        let date = day(&request.into_inner().date, "date")?;
        let c = self.md.calendar_day(date);
        Ok(Response::new(md_pb::CalendarDay {
            date: c.date,
            trading_day: c.trading_day,
            holiday: c.holiday.unwrap_or_default(),
            next_trading_day: c.next_trading_day.unwrap_or_default(),
            previous_trading_day: c.previous_trading_day.unwrap_or_default(),
            sessions: board_sessions(c.sessions),
        }))
    }

    async fn list_holidays(
        &self,
        request: Request<md_pb::ListHolidaysRequest>,
    ) -> Result<Response<md_pb::ListHolidaysResponse>, Status> {
        let rows = self
            .md
            .holidays(request.into_inner().year)
            .map_err(status)?;
        Ok(Response::new(md_pb::ListHolidaysResponse {
            holidays: rows
                .into_iter()
                .map(|h| md_pb::Holiday {
                    date: h.date,
                    name: h.name,
                    estimated: h.estimated,
                })
                .collect(),
        }))
    }

    async fn get_trading_rules(
        &self,
        request: Request<md_pb::GetTradingRulesRequest>,
    ) -> Result<Response<md_pb::TradingRules>, Status> {
        let r = request.into_inner();
        let price = (r.price != 0).then_some(r.price);
        let t = self
            .md
            .trading_rules(&r.symbol, price)
            .await
            .map_err(status)?;
        Ok(Response::new(md_pb::TradingRules {
            symbol: t.symbol,
            exchange: t.exchange,
            kind: t.kind,
            status: t.status,
            tradable: t.tradable,
            lot_size: t.lot_size,
            max_order_quantity: t.max_order_quantity.unwrap_or(0),
            ticks: t
                .ticks
                .iter()
                .map(|b| md_pb::TickBand {
                    from: b.from,
                    tick: b.tick,
                })
                .collect(),
            tick_at_price: t.tick_at_price.unwrap_or(0),
            trading_day: t.trading_day.unwrap_or_default(),
            reference: t.reference.unwrap_or(0),
            ceiling: t.ceiling.unwrap_or(0),
            floor: t.floor.unwrap_or(0),
            boards: t
                .boards
                .into_iter()
                .map(|b| md_pb::BoardRules {
                    board: b.board,
                    phase: b.phase,
                    order_types: b.order_types,
                    segments: segments(b.segments),
                })
                .collect(),
            settlement_days: t.settlement_days,
            settlement_date: t.settlement_date.unwrap_or_default(),
            at: Some(timestamp(t.at)),
        }))
    }

    async fn sync(
        &self,
        request: Request<md_pb::SyncRequest>,
    ) -> Result<Response<md_pb::SyncReport>, Status> {
        let day = day(&request.into_inner().trading_day, "trading_day")?;
        let r = self.md.sync(day).await.map_err(status)?;
        Ok(Response::new(md_pb::SyncReport {
            trading_day: format_day(r.trading_day),
            securities: r.securities,
            changed: r.changed,
            derived: r.derived,
            indexes: r.indexes,
            warnings: r.warnings,
        }))
    }
}
