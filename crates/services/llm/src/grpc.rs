//! gRPC adapter for `qts.llm.v1.LlmService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::llm::v1::llm_service_server::{LlmService, LlmServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> LlmServiceServer<impl LlmService> {
    LlmServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl LlmService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
