//! gRPC adapter for `qts.notification.v1.NotificationService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::notification::v1::notification_service_server::{
    NotificationService, NotificationServiceServer,
};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
) -> NotificationServiceServer<impl NotificationService> {
    NotificationServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl NotificationService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
