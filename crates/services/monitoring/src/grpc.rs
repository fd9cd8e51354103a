//! gRPC adapter for `qts.monitoring.v1.MonitoringService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::monitoring::v1::monitoring_service_server::{
    MonitoringService, MonitoringServiceServer,
};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> MonitoringServiceServer<impl MonitoringService> {
    MonitoringServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl MonitoringService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
