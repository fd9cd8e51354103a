//! gRPC adapter for `qts.prediction.v1.PredictionService`.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::prediction::v1 as pp;
use proto::prediction::v1::prediction_service_server::{
    PredictionService, PredictionServiceServer,
};

use crate::predictor::{ModelView, Predictor, TrainInput};
use crate::service::{Input, Optimiser, Security};

struct Api {
    info: Arc<ServiceInfo>,
    optimiser: Optimiser,
    predictor: Predictor,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    optimiser: Optimiser,
    predictor: Predictor,
) -> PredictionServiceServer<impl PredictionService> {
    PredictionServiceServer::new(Api {
        info,
        optimiser,
        predictor,
    })
}

fn status(e: crate::predictor::Error) -> tonic::Status {
    tonic::Status::from(ApiError::from(e))
}

/// A model as the API answers it.
pub(crate) fn model(m: ModelView) -> pp::Model {
    let a = m.artefact;
    let finite = |v: f64| v.is_finite().then_some(v);
    pp::Model {
        version: a.version,
        created: a.created,
        features: a.features,
        horizon: a.horizon as u32,
        trained_from: ml::days::name(a.trained_on.0),
        trained_to: ml::days::name(a.trained_on.1),
        metrics: a.metrics.map(|s| pp::Scores {
            dates: s.dates as u64,
            ic: finite(s.ic),
            ic_std: finite(s.ic_std),
            icir: finite(s.icir),
            t_stat: finite(s.t_stat),
            rank_ic: finite(s.rank_ic),
            hit_rate: finite(s.hit_rate),
        }),
        recipe: a.recipe.map(|r| pp::Recipe {
            horizon: r.horizon as u32,
            lambda: r.lambda,
            test_dates: r.test_dates as u32,
            min_train_dates: r.min_train_dates as u32,
            embargo: r.embargo as u32,
            model: r.model.name().to_owned(),
            trees: r.trees.trees as u32,
            learning_rate: r.trees.learning_rate,
            depth: r.trees.depth as u32,
            min_leaf: r.trees.min_leaf,
            width: r.net.width as u32,
            layers: r.net.layers as u32,
            epochs: r.net.epochs as u32,
            net_learning_rate: r.net.learning_rate,
            weight_decay: r.net.weight_decay,
            batch: r.net.batch as u32,
        }),
        promoted: m.promoted,
    }
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

    async fn get_predictions(
        &self,
        request: tonic::Request<pp::GetPredictionsRequest>,
    ) -> Result<tonic::Response<pp::GetPredictionsResponse>, tonic::Status> {
        let latest = self
            .predictor
            .predictions(&request.into_inner().symbols)
            .map_err(status)?;
        Ok(tonic::Response::new(pp::GetPredictionsResponse {
            date: latest.date.to_string(),
            model_version: latest.model_version,
            predictions: latest.signals,
        }))
    }

    async fn list_models(
        &self,
        _request: tonic::Request<pp::ListModelsRequest>,
    ) -> Result<tonic::Response<pp::ListModelsResponse>, tonic::Status> {
        let models = self.predictor.models().map_err(status)?;
        Ok(tonic::Response::new(pp::ListModelsResponse {
            models: models.into_iter().map(model).collect(),
        }))
    }

    async fn train_model(
        &self,
        request: tonic::Request<pp::TrainModelRequest>,
    ) -> Result<tonic::Response<pp::Model>, tonic::Status> {
        let r = request.into_inner();
        let input = TrainInput {
            horizon: r.horizon.map(|v| v as usize),
            lambda: r.lambda,
            test_dates: r.test_dates.map(|v| v as usize),
            min_train_dates: r.min_train_dates.map(|v| v as usize),
            embargo: r.embargo.map(|v| v as usize),
            model: r.model,
            promote: r.promote,
            dry_run: r.dry_run,
        };
        let m = self.predictor.train(input).await.map_err(status)?;
        Ok(tonic::Response::new(model(m)))
    }

    async fn promote_model(
        &self,
        request: tonic::Request<pp::PromoteModelRequest>,
    ) -> Result<tonic::Response<pp::Model>, tonic::Status> {
        let m = self
            .predictor
            .promote(request.into_inner().version)
            .map_err(status)?;
        Ok(tonic::Response::new(model(m)))
    }
}
