//! gRPC adapter for `qts.llm.v1.LlmService`: the tasks and the memory search.

use std::sync::Arc;

use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::llm::v1 as pb;
use proto::llm::v1::llm_service_server::{LlmService, LlmServiceServer};
use tonic::{Request, Response, Status};

use crate::memories::Memories;
use crate::tasks::Tasks;

struct Api {
    info: Arc<ServiceInfo>,
    memories: Memories,
    tasks: Tasks,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    memories: Memories,
    tasks: Tasks,
) -> LlmServiceServer<impl LlmService> {
    LlmServiceServer::new(Api {
        info,
        memories,
        tasks,
    })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

#[tonic::async_trait]
impl LlmService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn ask(&self, request: Request<pb::AskRequest>) -> Result<Response<pb::Answer>, Status> {
        let caller = common::grpc::caller(&request);
        let answer = self
            .tasks
            .ask(caller.as_ref(), request.into_inner())
            .await
            .map_err(status)?;
        Ok(Response::new(answer))
    }

    async fn summarise(
        &self,
        request: Request<pb::SummariseRequest>,
    ) -> Result<Response<pb::Answer>, Status> {
        let answer = self
            .tasks
            .summarise(request.into_inner())
            .await
            .map_err(status)?;
        Ok(Response::new(answer))
    }

    async fn explain(
        &self,
        request: Request<pb::ExplainRequest>,
    ) -> Result<Response<pb::Answer>, Status> {
        let caller = common::grpc::caller(&request);
        let answer = self
            .tasks
            .explain(caller.as_ref(), request.into_inner())
            .await
            .map_err(status)?;
        Ok(Response::new(answer))
    }

    async fn search_memory(
        &self,
        request: Request<pb::SearchMemoryRequest>,
    ) -> Result<Response<pb::SearchMemoryResponse>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let found = crate::http_tasks::search(
            &self.memories,
            caller.as_ref(),
            &r.query,
            &r.symbol,
            r.mine,
            r.limit,
        )
        .await
        .map_err(status)?;
        Ok(Response::new(pb::SearchMemoryResponse {
            memories: found
                .into_iter()
                .map(|f| pb::ScoredMemory {
                    score: f64::from(f.score),
                    memory: Some(crate::http_tasks::memory_pb(f.memory)),
                })
                .collect(),
        }))
    }
}
