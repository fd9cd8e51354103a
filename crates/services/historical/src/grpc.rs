//! gRPC adapter for `qts.historical.v1.HistoricalService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::historical::v1::historical_service_server::{
    HistoricalService, HistoricalServiceServer,
};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> HistoricalServiceServer<impl HistoricalService> {
    HistoricalServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl HistoricalService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
