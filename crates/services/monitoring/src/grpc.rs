//! gRPC adapter for `qts.monitoring.v1.MonitoringService`: the fleet, consumer lag and the
//! alerts firing (role `ops`), as the HTTP API serves them.

use std::sync::Arc;

use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::monitoring::v1 as pb;
use proto::monitoring::v1::monitoring_service_server::{
    MonitoringService, MonitoringServiceServer,
};
use tonic::{Request, Response, Status};

use crate::watch::{Fleet, Lag, Watch};

struct Api {
    info: Arc<ServiceInfo>,
    watch: Watch,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    watch: Watch,
) -> MonitoringServiceServer<impl MonitoringService> {
    MonitoringServiceServer::new(Api { info, watch })
}

fn ts(t: time::OffsetDateTime) -> prost_types::Timestamp {
    common::bus::proto_time(t)
}

fn fleet_pb(f: Fleet) -> pb::Fleet {
    pb::Fleet {
        status: f.status.to_owned(),
        at: Some(ts(f.at)),
        services: f
            .services
            .into_iter()
            .map(|s| pb::ServiceStatus {
                name: s.name.to_owned(),
                maturity: s.maturity.to_owned(),
                health: s.health.as_str().to_owned(),
                target: s.target,
                checked_at: s.checked_at.map(ts),
                detail: s.detail,
                probe_ms: s.probe_ms,
                instances: s
                    .instances
                    .into_iter()
                    .map(|i| pb::Instance {
                        instance_id: i.instance_id,
                        version: i.version,
                        state: i.state.to_owned(),
                        since: Some(ts(i.since)),
                    })
                    .collect(),
                slo: Some(pb::Slo {
                    known: s.slo.known,
                    objective: s.slo.objective,
                    error_ratio_1h: s.slo.error_ratio_1h,
                    error_ratio_6h: s.slo.error_ratio_6h,
                    burn_rate_1h: s.slo.burn_rate_1h,
                }),
            })
            .collect(),
    }
}

fn lag_pb(l: Lag) -> pb::ConsumerLag {
    pb::ConsumerLag {
        at: l.at.map(ts),
        groups: l
            .groups
            .into_iter()
            .map(|g| pb::GroupLag {
                group: g.group,
                topic: g.topic,
                lag: g.lag,
                members: g.members,
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl MonitoringService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn get_fleet(
        &self,
        _request: Request<pb::GetFleetRequest>,
    ) -> Result<Response<pb::Fleet>, Status> {
        Ok(Response::new(fleet_pb(self.watch.fleet().await)))
    }

    async fn get_consumer_lag(
        &self,
        _request: Request<pb::GetConsumerLagRequest>,
    ) -> Result<Response<pb::ConsumerLag>, Status> {
        Ok(Response::new(lag_pb(self.watch.lag())))
    }

    async fn list_alerts(
        &self,
        _request: Request<pb::ListAlertsRequest>,
    ) -> Result<Response<pb::ListAlertsResponse>, Status> {
        let a = self.watch.alerts().await;
        Ok(Response::new(pb::ListAlertsResponse {
            known: a.known,
            detail: a.detail,
            alerts: a
                .alerts
                .into_iter()
                .map(|a| pb::Alert {
                    name: a.name,
                    severity: a.severity,
                    service: a.service,
                    summary: a.summary,
                    description: a.description,
                    starts_at: time::OffsetDateTime::parse(
                        &a.starts_at,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .ok()
                    .map(ts),
                    labels: a.labels.into_iter().collect(),
                    state: a.state,
                })
                .collect(),
        }))
    }
}
