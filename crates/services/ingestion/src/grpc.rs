//! gRPC adapter for `qts.ingestion.v1.IngestionService`.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as pb;
use proto::ingestion::v1 as api;
use proto::ingestion::v1::ingestion_service_server::{IngestionService, IngestionServiceServer};

use crate::domain::to_timestamp;
use crate::http::{Api, parse_symbols, status};

struct Grpc {
    info: Arc<ServiceInfo>,
    api: Api,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    api: Api,
) -> IngestionServiceServer<impl IngestionService> {
    IngestionServiceServer::new(Grpc { info, api })
}

fn counts(v: Vec<crate::http::Count>) -> Vec<api::Count> {
    v.into_iter()
        .map(|c| api::Count {
            name: c.name.to_owned(),
            value: c.value,
        })
        .collect()
}

#[tonic::async_trait]
impl IngestionService for Grpc {
    async fn get_info(
        &self,
        _request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }

    async fn get_status(
        &self,
        _request: tonic::Request<api::GetStatusRequest>,
    ) -> Result<tonic::Response<api::FeedStatus>, tonic::Status> {
        let s = status(&self.api.shared);
        Ok(tonic::Response::new(api::FeedStatus {
            state: s.state.to_owned(),
            source: s.source,
            subscription: s.subscription,
            since: Some(to_timestamp(s.since)),
            next_change: s.next_change.map(to_timestamp),
            received: counts(s.received),
            published: counts(s.published),
            rejected: counts(s.rejected),
            duplicates: counts(s.duplicates),
            reconnects: s.reconnects,
            gaps: s.gaps,
            securities: s.securities,
            reference_day: s.reference_day.unwrap_or_default(),
            last_message_at: s.last_message_at.map(to_timestamp),
        }))
    }

    async fn get_snapshots(
        &self,
        request: tonic::Request<api::GetSnapshotsRequest>,
    ) -> Result<tonic::Response<api::GetSnapshotsResponse>, tonic::Status> {
        let symbols = parse_symbols(&request.into_inner().symbols, self.api.max_symbols)?;
        let (found, missing) = self.api.shared.snapshots(&symbols);
        Ok(tonic::Response::new(api::GetSnapshotsResponse {
            snapshots: found
                .into_iter()
                .map(|(symbol, s)| api::Snapshot {
                    symbol,
                    trading_day: s.trading_day,
                    quote: s.quote,
                    last_trade: s.last_trade,
                    open: s.ohlc[0],
                    high: s.ohlc[1],
                    low: s.ohlc[2],
                    close: s.ohlc[3],
                    volume: s.volume,
                    foreign_room: s.foreign_room,
                    status: s.status,
                    security: s.security,
                })
                .collect(),
            missing,
        }))
    }
}
