//! gRPC adapter for `qts.portal.v1.PortalService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::portal::v1::portal_service_server::{PortalService, PortalServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> PortalServiceServer<impl PortalService> {
    PortalServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl PortalService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
