//! gRPC adapter for `qts.risk.v1.RiskService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::risk::v1::risk_service_server::{RiskService, RiskServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> RiskServiceServer<impl RiskService> {
    RiskServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl RiskService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
