//! gRPC adapter for `qts.decision.v1.DecisionService`.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::decision::v1 as pb;
use proto::decision::v1::decision_service_server::{DecisionService, DecisionServiceServer};
use tonic::{Request, Response, Status};

use crate::service::Engine;

struct Api {
    info: Arc<ServiceInfo>,
    engine: Engine,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    engine: Engine,
) -> DecisionServiceServer<impl DecisionService> {
    DecisionServiceServer::new(Api { info, engine })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

#[tonic::async_trait]
impl DecisionService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn list_strategies(
        &self,
        _request: Request<pb::ListStrategiesRequest>,
    ) -> Result<Response<pb::ListStrategiesResponse>, Status> {
        Ok(Response::new(pb::ListStrategiesResponse {
            strategies: self.engine.strategies(),
        }))
    }

    async fn set_strategy_enabled(
        &self,
        request: Request<pb::SetStrategyEnabledRequest>,
    ) -> Result<Response<pb::Strategy>, Status> {
        let caller = common::grpc::caller(&request);
        self.engine
            .check_caller(caller.as_ref())
            .await
            .map_err(status)?;
        let r = request.into_inner();
        let s = self
            .engine
            .set_enabled(&r.id, r.enabled)
            .await
            .map_err(status)?;
        Ok(Response::new(s))
    }

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        let caller = common::grpc::caller(&request);
        self.engine
            .check_caller(caller.as_ref())
            .await
            .map_err(status)?;
        let r = request.into_inner();
        let decisions = self
            .engine
            .decisions(&r.strategy, r.limit)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListDecisionsResponse { decisions }))
    }

    async fn get_decision(
        &self,
        request: Request<pb::GetDecisionRequest>,
    ) -> Result<Response<pb::Decision>, Status> {
        let caller = common::grpc::caller(&request);
        self.engine
            .check_caller(caller.as_ref())
            .await
            .map_err(status)?;
        let d = self
            .engine
            .decision(&request.into_inner().id)
            .await
            .map_err(status)?;
        Ok(Response::new(d))
    }
}
