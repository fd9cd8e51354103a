//! gRPC adapter for `qts.ingestion.v1.IngestionService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::ingestion::v1::ingestion_service_server::{IngestionService, IngestionServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> IngestionServiceServer<impl IngestionService> {
    IngestionServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl IngestionService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
