//! gRPC adapter for `qts.sso_ui.v1.SsoUiService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::sso_ui::v1::sso_ui_service_server::{SsoUiService, SsoUiServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> SsoUiServiceServer<impl SsoUiService> {
    SsoUiServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl SsoUiService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
