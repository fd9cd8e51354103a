//! gRPC adapter for `qts.prediction.v1.PredictionService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::prediction::v1::prediction_service_server::{
    PredictionService, PredictionServiceServer,
};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> PredictionServiceServer<impl PredictionService> {
    PredictionServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl PredictionService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
