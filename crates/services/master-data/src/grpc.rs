//! gRPC adapter for `qts.master_data.v1.MasterDataService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::master_data::v1::master_data_service_server::{
    MasterDataService, MasterDataServiceServer,
};

struct Api {
    info: Arc<ServiceInfo>,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>) -> MasterDataServiceServer<impl MasterDataService> {
    MasterDataServiceServer::new(Api { info })
}

#[tonic::async_trait]
impl MasterDataService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }
}
