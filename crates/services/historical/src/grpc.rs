//! gRPC adapter for `qts.historical.v1.HistoricalService`: converts, calls one use case,
//! converts back.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::historical::v1 as hpb;
use proto::historical::v1::historical_service_server::{
    HistoricalService, HistoricalServiceServer,
};
use tonic::{Request, Response, Status};

use crate::backfill::{BackfillKind, BackfillRequest, Backfills};
use crate::live::bar_proto;
use crate::service::{BarsQuery, Error, Queries, parse_date};
use crate::store::JobRow;

struct Api {
    info: Arc<ServiceInfo>,
    queries: Queries,
    backfills: Backfills,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    queries: Queries,
    backfills: Backfills,
) -> HistoricalServiceServer<impl HistoricalService> {
    HistoricalServiceServer::new(Api {
        info,
        queries,
        backfills,
    })
}

fn status(err: Error) -> Status {
    Status::from(ApiError::from(err))
}

/// A job as the API shows it.
pub(crate) fn job_proto(j: &JobRow) -> hpb::BackfillJob {
    hpb::BackfillJob {
        id: j.id.to_string(),
        state: j.state.clone(),
        total_units: u64::try_from(j.total_units).unwrap_or(0),
        done_units: u64::try_from(j.done_units).unwrap_or(0),
        rows_written: u64::try_from(j.rows_written).unwrap_or(0),
        error: j.error.clone().unwrap_or_default(),
    }
}

fn kind(text: &str) -> Result<BackfillKind, Error> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        Error::Invalid(format!(
            "unknown backfill kind {text:?} (expected daily, intraday, index, price or repair)"
        ))
    })
}

#[tonic::async_trait]
impl HistoricalService for Api {
    async fn get_info(
        &self,
        _request: Request<pb::GetInfoRequest>,
    ) -> Result<Response<pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn get_bars(
        &self,
        request: Request<hpb::GetBarsRequest>,
    ) -> Result<Response<hpb::GetBarsResponse>, Status> {
        let r = request.into_inner();
        let q = BarsQuery::parse(&r.symbol, &r.resolution, &r.from, &r.to).map_err(status)?;
        let bars = self.queries.bars(&q).await.map_err(status)?;
        Ok(Response::new(hpb::GetBarsResponse {
            bars: bars.iter().map(bar_proto).collect(),
        }))
    }

    async fn get_latest_bars(
        &self,
        request: Request<hpb::GetLatestBarsRequest>,
    ) -> Result<Response<hpb::GetLatestBarsResponse>, Status> {
        let bars = self
            .queries
            .latest(&request.into_inner().symbols)
            .await
            .map_err(status)?;
        Ok(Response::new(hpb::GetLatestBarsResponse {
            bars: bars.iter().map(bar_proto).collect(),
        }))
    }

    async fn get_index_history(
        &self,
        request: Request<hpb::GetIndexHistoryRequest>,
    ) -> Result<Response<hpb::GetIndexHistoryResponse>, Status> {
        let r = request.into_inner();
        let from = parse_date(&r.from, "from").map_err(status)?;
        let to = parse_date(&r.to, "to").map_err(status)?;
        let points = self
            .queries
            .index_history(&r.index, from, to)
            .await
            .map_err(status)?;
        Ok(Response::new(hpb::GetIndexHistoryResponse {
            points: points
                .into_iter()
                .map(|p| hpb::IndexPoint {
                    index: p.index,
                    date: p.day.to_string(),
                    value: p.value,
                })
                .collect(),
        }))
    }

    async fn start_backfill(
        &self,
        request: Request<hpb::StartBackfillRequest>,
    ) -> Result<Response<hpb::BackfillJob>, Status> {
        let r = request.into_inner();
        let req = BackfillRequest {
            kinds: r
                .kinds
                .iter()
                .map(|k| kind(k))
                .collect::<Result<_, _>>()
                .map_err(status)?,
            symbols: r.symbols,
            indexes: r.indexes,
            from: r.from,
            to: r.to,
        };
        let job = self.backfills.start(&req).await.map_err(status)?;
        Ok(Response::new(job_proto(&job)))
    }

    async fn get_backfill(
        &self,
        request: Request<hpb::GetBackfillRequest>,
    ) -> Result<Response<hpb::BackfillJob>, Status> {
        let id = request.into_inner().id;
        let id = uuid::Uuid::parse_str(&id)
            .map_err(|_| status(Error::Invalid(format!("job id {id:?} is not a UUID"))))?;
        let job = self.backfills.job(id).await.map_err(status)?;
        Ok(Response::new(job_proto(&job)))
    }
}
