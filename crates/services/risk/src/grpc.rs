//! gRPC adapter for `qts.risk.v1.RiskService`.

use std::sync::Arc;

use common::auth::Principal;
use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::risk::v1 as pb;
use proto::risk::v1::risk_service_server::{RiskService, RiskServiceServer};
use tonic::{Request, Response, Status};

use crate::domain::{Limits, Scope};
use crate::service::{Error, Risk};

struct Api {
    info: Arc<ServiceInfo>,
    risk: Risk,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>, risk: Risk) -> RiskServiceServer<impl RiskService> {
    RiskServiceServer::new(Api { info, risk })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

fn scope(s: Option<pb::ScopeRef>) -> Result<Scope, Status> {
    let s = s.unwrap_or_default();
    Scope::parse(&s.scope, &s.key).map_err(|e| status(Error::Invalid(e)))
}

/// Who asks, as audited: the token's user when tokens are checked, else the request's `actor`
/// (or `grpc`).
fn actor<'a>(caller: Option<&'a Principal>, given: &'a str) -> &'a str {
    match caller {
        Some(p) => &p.username,
        None if given.is_empty() => "grpc",
        None => given,
    }
}

/// Limits as the proto carries them.
pub(crate) fn limits_pb(l: &Limits) -> pb::Limits {
    pb::Limits {
        max_order_quantity: l.max_order_quantity,
        max_order_value: l.max_order_value,
        max_symbol_exposure: l.max_symbol_exposure,
        max_exposure: l.max_exposure,
        max_open_orders: l.max_open_orders,
        max_orders_per_minute: l.max_orders_per_minute,
        fat_finger_bps: l.fat_finger_bps,
        max_daily_loss: l.max_daily_loss,
        duplicate_window_secs: l.duplicate_window_secs,
        max_drawdown: l.max_drawdown,
        max_margin: l.max_margin,
    }
}

fn limits_of(l: pb::Limits) -> Limits {
    Limits {
        max_order_quantity: l.max_order_quantity,
        max_order_value: l.max_order_value,
        max_symbol_exposure: l.max_symbol_exposure,
        max_exposure: l.max_exposure,
        max_open_orders: l.max_open_orders,
        max_orders_per_minute: l.max_orders_per_minute,
        fat_finger_bps: l.fat_finger_bps,
        max_daily_loss: l.max_daily_loss,
        duplicate_window_secs: l.duplicate_window_secs,
        max_drawdown: l.max_drawdown,
        max_margin: l.max_margin,
    }
}

#[tonic::async_trait]
impl RiskService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn check_order(
        &self,
        request: Request<pb::CheckOrderRequest>,
    ) -> Result<Response<pb::CheckOrderResponse>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        common::auth::check_account(caller.as_ref(), &r.account).map_err(Status::from)?;
        let check = self
            .risk
            .parse_check(
                &r.client_id,
                &r.account,
                &r.strategy,
                &r.symbol,
                &r.side,
                &r.order_type,
                r.price,
                r.quantity,
            )
            .map_err(status)?;
        let verdict = if r.dry_run {
            self.risk.preview(&check)
        } else {
            self.risk.check(&check).await
        }
        .map_err(status)?;
        Ok(Response::new(pb::CheckOrderResponse {
            accepted: verdict.accepted(),
            rejections: verdict
                .rejections
                .into_iter()
                .map(|r| pb::Rejection {
                    rule: r.rule.to_owned(),
                    message: r.message,
                })
                .collect(),
        }))
    }

    async fn get_limits(
        &self,
        request: Request<pb::ScopeRef>,
    ) -> Result<Response<pb::Limits>, Status> {
        let scope = scope(Some(request.into_inner()))?;
        Ok(Response::new(limits_pb(&self.risk.limits(&scope))))
    }

    async fn set_limits(
        &self,
        request: Request<pb::SetLimitsRequest>,
    ) -> Result<Response<pb::Limits>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let scope = scope(r.scope)?;
        let actor = actor(caller.as_ref(), &r.actor);
        let l = self
            .risk
            .set_limits(scope, r.limits.map(limits_of), actor)
            .await
            .map_err(status)?;
        Ok(Response::new(limits_pb(&l)))
    }

    async fn set_kill_switch(
        &self,
        request: Request<pb::SetKillSwitchRequest>,
    ) -> Result<Response<pb::KillSwitch>, Status> {
        let caller = common::grpc::caller(&request);
        let r = request.into_inner();
        let s = scope(r.scope.clone())?;
        let actor = actor(caller.as_ref(), &r.actor);
        self.risk
            .set_kill(s, r.engaged, &r.reason, actor)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::KillSwitch {
            scope: r.scope,
            engaged: r.engaged,
            reason: r.reason,
            at: None,
        }))
    }

    async fn list_kill_switches(
        &self,
        _request: Request<pb::ListKillSwitchesRequest>,
    ) -> Result<Response<pb::ListKillSwitchesResponse>, Status> {
        Ok(Response::new(pb::ListKillSwitchesResponse {
            switches: self
                .risk
                .kills()
                .into_iter()
                .map(|(s, reason)| pb::KillSwitch {
                    scope: Some(pb::ScopeRef {
                        scope: s.name().to_owned(),
                        key: s.key().to_owned(),
                    }),
                    engaged: true,
                    reason,
                    at: None,
                })
                .collect(),
        }))
    }
}
