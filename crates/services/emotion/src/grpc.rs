//! gRPC adapter for `qts.emotion.v1.EmotionService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::emotion::v1::emotion_service_server::{EmotionService, EmotionServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> EmotionServiceServer<impl EmotionService> {
    EmotionServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl EmotionService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
