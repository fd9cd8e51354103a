//! gRPC adapter for `qts.rule.v1.RuleService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::rule::v1::rule_service_server::{RuleService, RuleServiceServer};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> RuleServiceServer<impl RuleService> {
    RuleServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl RuleService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
