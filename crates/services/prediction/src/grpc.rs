//! gRPC adapter for `qts.prediction.v1.PredictionService`.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::prediction::v1 as pp;
use proto::prediction::v1::prediction_service_server::{
    PredictionService, PredictionServiceServer,
};

use crate::service::{Input, Optimiser, Security};

struct Api {
    info: Arc<ServiceInfo>,
    optimiser: Optimiser,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    optimiser: Optimiser,
) -> PredictionServiceServer<impl PredictionService> {
    PredictionServiceServer::new(Api { info, optimiser })
}

#[tonic::async_trait]
impl PredictionService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }

    async fn optimise_portfolio(
        &self,
        request: tonic::Request<pp::OptimisePortfolioRequest>,
    ) -> Result<tonic::Response<pp::OptimisePortfolioResponse>, tonic::Status> {
        let r = request.into_inner();
        let input = Input {
            securities: r
                .securities
                .into_iter()
                .map(|c| Security {
                    symbol: c.symbol,
                    price: c.price,
                    lot: if c.lot == 0 { 100 } else { c.lot },
                    returns: c.returns,
                })
                .collect(),
            k: r.k as usize,
            budget: r.budget,
            risk_aversion: r.risk_aversion,
            solver: Some(r.solver),
            time_limit_ms: (r.time_limit_ms > 0).then_some(r.time_limit_ms),
            seed: Some(r.seed),
        };
        let a = self
            .optimiser
            .optimise(input)
            .await
            .map_err(|e| tonic::Status::from(ApiError::from(e)))?;
        Ok(tonic::Response::new(pp::OptimisePortfolioResponse {
            holdings: a
                .holdings
                .into_iter()
                .map(|h| pp::Holding {
                    symbol: h.symbol,
                    shares: h.shares,
                    weight: h.weight,
                })
                .collect(),
            objective: a.objective,
            expected_return: a.expected_return,
            stdev: a.stdev,
            best_objective: a.best_objective,
            proven: a.proven,
            gap: a.gap,
            bound: a.bound,
            solver: a.solver.name().to_owned(),
            solver_ms: a.solver_ms,
        }))
    }
}
