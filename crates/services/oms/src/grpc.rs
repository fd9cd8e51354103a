//! gRPC adapter for `qts.oms.v1.OmsService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::oms::v1::oms_service_server::{OmsService, OmsServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> OmsServiceServer<impl OmsService> {
    OmsServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl OmsService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
