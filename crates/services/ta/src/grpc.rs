//! gRPC adapter for `qts.ta.v1.TaService`: converts, calls one use case, converts back.

use std::sync::{Arc, PoisonError};

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::ta::v1 as tpb;
use proto::ta::v1::ta_service_server::{TaService, TaServiceServer};
use tonic::{Request, Response, Status};

use crate::service::{Compute, Error, Latest, timestamp};

struct Api {
    info: Arc<ServiceInfo>,
    compute: Compute,
    latest: Latest,
    db: common::store::Db,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    compute: Compute,
    latest: Latest,
    db: common::store::Db,
) -> TaServiceServer<impl TaService> {
    TaServiceServer::new(Api {
        info,
        compute,
        latest,
        db,
    })
}

fn status(err: Error) -> Status {
    Status::from(ApiError::from(err))
}

/// Every function of the library as the API describes it.
pub(crate) fn functions() -> Vec<tpb::FunctionInfo> {
    indicators::specs()
        .iter()
        .map(|s| tpb::FunctionInfo {
            name: s.name.to_owned(),
            group: s.group.name().to_owned(),
            description: s.description.to_owned(),
            inputs: s.inputs.iter().map(|i| i.name().to_owned()).collect(),
            params: s
                .params
                .iter()
                .map(|p| tpb::FunctionParam {
                    name: p.name.to_owned(),
                    kind: match p.kind {
                        indicators::ParamKind::Integer => "int",
                        indicators::ParamKind::Real => "real",
                        indicators::ParamKind::MaType => "matype",
                    }
                    .to_owned(),
                    default_value: p.default,
                    min: p.min,
                    max: p.max,
                })
                .collect(),
            outputs: s.outputs.iter().map(|o| (*o).to_owned()).collect(),
        })
        .collect()
}

/// The latest snapshots of `symbol` (upper-cased), one per timeframe.
pub(crate) fn latest_of(latest: &Latest, symbol: &str) -> Vec<tpb::IndicatorSnapshot> {
    latest
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&symbol.trim().to_ascii_uppercase())
        .cloned()
        .unwrap_or_default()
}

/// Checks a signals listing's limit (0 means 100).
pub(crate) fn limit(limit: u32, max: u32) -> Result<u32, Error> {
    match limit {
        0 => Ok(100.min(max)),
        n if n <= max => Ok(n),
        n => Err(Error::Invalid(format!("limit {n}: at most {max}"))),
    }
}

#[tonic::async_trait]
impl TaService for Api {
    async fn get_info(
        &self,
        _request: Request<pb::GetInfoRequest>,
    ) -> Result<Response<pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn list_functions(
        &self,
        _request: Request<tpb::ListFunctionsRequest>,
    ) -> Result<Response<tpb::ListFunctionsResponse>, Status> {
        Ok(Response::new(tpb::ListFunctionsResponse {
            functions: functions(),
        }))
    }

    async fn compute(
        &self,
        request: Request<tpb::ComputeRequest>,
    ) -> Result<Response<tpb::ComputeResponse>, Status> {
        let r = request.into_inner();
        let params: Vec<(String, f64)> = r.params.into_iter().collect();
        let c = self
            .compute
            .run(
                &r.symbol,
                &r.resolution,
                &r.from,
                &r.to,
                &r.function,
                &params,
            )
            .await
            .map_err(status)?;
        let points = c
            .times
            .iter()
            .enumerate()
            .map(|(i, t)| tpb::ComputedPoint {
                time: Some(timestamp(*t)),
                values: c.values.iter().map(|v| v[i]).collect(),
            })
            .collect();
        Ok(Response::new(tpb::ComputeResponse {
            function: c.function,
            outputs: c.outputs,
            lookback: u32::try_from(c.lookback).unwrap_or(u32::MAX),
            points,
        }))
    }

    async fn get_latest(
        &self,
        request: Request<tpb::GetLatestRequest>,
    ) -> Result<Response<tpb::GetLatestResponse>, Status> {
        let symbol = request.into_inner().symbol;
        if symbol.trim().is_empty() {
            return Err(status(Error::Invalid("symbol is required".to_owned())));
        }
        Ok(Response::new(tpb::GetLatestResponse {
            snapshots: latest_of(&self.latest, &symbol),
        }))
    }

    async fn list_signals(
        &self,
        request: Request<tpb::ListSignalsRequest>,
    ) -> Result<Response<tpb::ListSignalsResponse>, Status> {
        let r = request.into_inner();
        let n = limit(r.limit, self.compute.max_signals()).map_err(status)?;
        let signals = crate::store::list(&self.db, &r.symbol.to_ascii_uppercase(), &r.kind, n)
            .await
            .map_err(|e| status(Error::Store(e)))?;
        Ok(Response::new(tpb::ListSignalsResponse { signals }))
    }
}
