//! gRPC adapter for `qts.rule.v1.RuleService`.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::rule::v1 as pb;
use proto::rule::v1::rule_service_server::{RuleService, RuleServiceServer};
use rules::Target;
use tonic::{Request, Response, Status};

use crate::service::RuleBook;

struct Api {
    info: Arc<ServiceInfo>,
    book: RuleBook,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    book: RuleBook,
) -> RuleServiceServer<impl RuleService> {
    RuleServiceServer::new(Api { info, book })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

#[tonic::async_trait]
impl RuleService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn list_active(
        &self,
        _request: Request<pb::ListActiveRequest>,
    ) -> Result<Response<pb::ListActiveResponse>, Status> {
        let sets = self.book.active().await.map_err(status)?;
        Ok(Response::new(pb::ListActiveResponse { sets }))
    }

    async fn evaluate(
        &self,
        request: Request<pb::EvaluateRequest>,
    ) -> Result<Response<pb::EvaluateResponse>, Status> {
        let r = request.into_inner();
        let target = Target::parse(&r.target).ok_or_else(|| {
            Status::invalid_argument(format!("target {:?}: order, decision or alert", r.target))
        })?;
        if r.inputs_json.len() > 64 * 1024 {
            return Err(Status::invalid_argument("inputs_json above 64 KiB"));
        }
        let inputs: serde_json::Value = serde_json::from_str(&r.inputs_json)
            .map_err(|e| Status::invalid_argument(format!("inputs_json: {e}")))?;
        let out = self.book.evaluate(target, &inputs).await.map_err(status)?;
        Ok(Response::new(pb::EvaluateResponse {
            allowed: out.allowed(),
            rejections: out
                .rejections
                .iter()
                .map(rules::Finding::to_proto)
                .collect(),
            warnings: out.warnings.iter().map(rules::Finding::to_proto).collect(),
            values_json: serde_json::to_string(&out.values).unwrap_or_default(),
        }))
    }
}
