//! gRPC adapter for `qts.oms.v1.OmsService`.

use std::sync::Arc;

use common::error::ApiError;
use common::grpc::caller;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::oms::v1 as pb;
use proto::oms::v1::oms_service_server::{OmsService, OmsServiceServer};
use tonic::{Request, Response, Status};

use crate::domain::{Invalid, NewOrder, parse_order_type, parse_side};
use crate::service::{Oms, PreviewRequest, amendment};
use crate::store::order_pb;

struct Api {
    info: Arc<ServiceInfo>,
    oms: Oms,
}

/// The tonic server for this service.
pub(crate) fn server(info: Arc<ServiceInfo>, oms: Oms) -> OmsServiceServer<impl OmsService> {
    OmsServiceServer::new(Api { info, oms })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

/// The status message of the OMS.
pub(crate) fn status_pb(s: crate::service::Status) -> pb::OmsStatus {
    pb::OmsStatus {
        accepting: s.accepting,
        reason: s.reason,
        broker: s.broker.map(|g| g.to_string()).unwrap_or_default(),
        accounts: s.accounts,
        open_orders: s.open_orders,
        unconfirmed_actions: s.unconfirmed,
    }
}

#[tonic::async_trait]
impl OmsService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn place_order(
        &self,
        request: Request<pb::PlaceOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        common::auth::check_account(caller.as_ref(), &r.account)?;
        let order = NewOrder::parse(
            &r.client_id,
            &r.account,
            &r.symbol,
            &r.side,
            &r.order_type,
            Some(r.price),
            r.quantity,
            Some(&r.strategy),
        )
        .map_err(|e| status(crate::service::Error::from(e)))?;
        let placed = self.oms.place(order).await.map_err(status)?;
        Ok(Response::new(order_pb(&placed)))
    }

    async fn amend_order(
        &self,
        request: Request<pb::AmendOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        crate::http::check_order_owner(&self.oms, caller.as_ref(), &r.order_id).await?;
        let change = amendment(Some(r.price), Some(r.quantity))
            .map_err(|e| status(crate::service::Error::from(e)))?;
        let order = self.oms.amend(&r.order_id, change).await.map_err(status)?;
        Ok(Response::new(order_pb(&order)))
    }

    async fn cancel_order(
        &self,
        request: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let caller = caller(&request);
        let id = request.into_inner().order_id;
        crate::http::check_order_owner(&self.oms, caller.as_ref(), &id).await?;
        let order = self.oms.cancel(&id).await.map_err(status)?;
        Ok(Response::new(order_pb(&order)))
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        let order = if r.order_id.is_empty() {
            self.oms.by_client_id(&r.client_id).await
        } else {
            self.oms.current(&r.order_id).await
        }
        .map_err(status)?;
        common::auth::check_account(caller.as_ref(), &order.account)?;
        Ok(Response::new(order_pb(&order)))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        let account = common::auth::account_filter(caller.as_ref(), Some(&r.account))?;
        let orders = self
            .oms
            .list(&account, &r.symbol, r.open_only, r.limit)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListOrdersResponse {
            orders: orders.iter().map(order_pb).collect(),
        }))
    }

    async fn list_fills(
        &self,
        request: Request<pb::ListFillsRequest>,
    ) -> Result<Response<pb::ListFillsResponse>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        let account = common::auth::account_filter(caller.as_ref(), Some(&r.account))?;
        let fills = self
            .oms
            .fills(&account, &r.order_id, r.limit)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListFillsResponse { fills }))
    }

    async fn list_order_events(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::ListOrderEventsResponse>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        let id = if r.order_id.is_empty() {
            self.oms
                .by_client_id(&r.client_id)
                .await
                .map_err(status)?
                .id
        } else {
            r.order_id
        };
        crate::http::check_order_owner(&self.oms, caller.as_ref(), &id).await?;
        let events = self.oms.events(&id).await.map_err(status)?;
        Ok(Response::new(pb::ListOrderEventsResponse { events }))
    }

    async fn get_portfolio(
        &self,
        request: Request<pb::GetPortfolioRequest>,
    ) -> Result<Response<pb::Portfolio>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        common::auth::check_account(caller.as_ref(), &r.account)?;
        let strategy = (!r.strategy.is_empty()).then_some(r.strategy.as_str());
        let valued = self
            .oms
            .portfolio(&r.account, strategy)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::Portfolio {
            account: r.account,
            holdings: valued
                .into_iter()
                .map(|v| pb::Holding {
                    symbol: v.symbol.to_string(),
                    strategy: v.strategy.unwrap_or_default(),
                    quantity: v.holding.quantity,
                    sellable: v.sellable,
                    cost: v.holding.cost,
                    last: v.last.unwrap_or(0),
                    unrealised: v.unrealised,
                    realised: v.holding.realised,
                    fees: v.holding.fees,
                    tax: v.holding.tax,
                    bought: v.holding.bought,
                    sold: v.holding.sold,
                    settling_t0: v.settling[0],
                    settling_t1: v.settling[1],
                    settling_t2: v.settling[2],
                    net: v.holding.net,
                })
                .collect(),
        }))
    }

    async fn preview_order(
        &self,
        request: Request<pb::PreviewOrderRequest>,
    ) -> Result<Response<pb::OrderPreview>, Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        common::auth::check_account(caller.as_ref(), &r.account)?;
        let invalid = |m: String| status(crate::service::Error::from(Invalid::Field(m)));
        let symbol = market::Symbol::parse(r.symbol.trim())
            .map_err(|e| invalid(format!("symbol {:?}: {e}", r.symbol)))?;
        let side = parse_side(&r.side).map_err(invalid)?;
        let order_type = if r.order_type.is_empty() {
            market::OrderType::Lo
        } else {
            parse_order_type(&r.order_type).map_err(invalid)?
        };
        let price = match (order_type.carries_price(), r.price) {
            (_, p) if p < 0 => return Err(invalid(format!("price {p}: not negative"))),
            (true, 0) | (false, _) => None,
            (true, p) => {
                Some(market::Price::new(p).map_err(|e| invalid(format!("price {p}: {e}")))?)
            }
        };
        let p = self
            .oms
            .preview(&PreviewRequest {
                account: r.account,
                symbol,
                side,
                price,
                market_priced: !order_type.carries_price(),
                quantity: r.quantity,
            })
            .await
            .map_err(status)?;
        let cost = p.cost.unwrap_or(market::fees::FillCost {
            gross_value: market::Vnd::ZERO,
            brokerage: market::Vnd::ZERO,
            exchange_fee: market::Vnd::ZERO,
            tax: market::Vnd::ZERO,
            total_cost: market::Vnd::ZERO,
            net_cash: market::Vnd::ZERO,
        });
        let (max_buy, max_sell, max_error) = match p.max {
            Some(Ok(m)) => (
                Some(m.max_buy.units()),
                Some(m.max_sell.units()),
                String::new(),
            ),
            Some(Err(e)) => (None, None, e),
            None => (None, None, String::new()),
        };
        Ok(Response::new(pb::OrderPreview {
            priced_at: p.priced_at.map_or(0, market::Price::units),
            gross_value: cost.gross_value.amount(),
            brokerage: cost.brokerage.amount(),
            exchange_fee: cost.exchange_fee.amount(),
            tax: cost.tax.amount(),
            total_cost: cost.total_cost.amount(),
            net_cash: cost.net_cash.amount(),
            max_buy,
            max_sell,
            max_error,
            session_open: p.session.as_ref().is_some_and(|s| s.open),
            session_renews_itself: p.session.as_ref().is_some_and(|s| s.renews_itself),
            accepting: p.accepting,
            reason: p.reason,
        }))
    }

    async fn get_status(
        &self,
        _request: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::OmsStatus>, Status> {
        Ok(Response::new(status_pb(self.oms.status().await)))
    }
}
