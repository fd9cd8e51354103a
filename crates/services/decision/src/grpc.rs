//! gRPC adapter for `qts.decision.v1.DecisionService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::decision::v1::decision_service_server::{DecisionService, DecisionServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> DecisionServiceServer<impl DecisionService> {
    DecisionServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl DecisionService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
