//! gRPC adapter for `qts.sso.v1.SsoService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::sso::v1::sso_service_server::{SsoService, SsoServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> SsoServiceServer<impl SsoService> {
    SsoServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl SsoService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
