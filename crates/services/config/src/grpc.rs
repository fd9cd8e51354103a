//! gRPC adapter for `qts.config.v1.ConfigService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::config::v1::config_service_server::{ConfigService, ConfigServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> ConfigServiceServer<impl ConfigService> {
    ConfigServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl ConfigService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
