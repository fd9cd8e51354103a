//! The FC Trading query GETs (§5.6). Each reads the broker on the desk's thread between
//! two batches of changes, so it only ever shows durable state.

use std::sync::Arc;

use axum::response::Response;
use market::{Board, Price, Side};
use matching::AccountId;
use serde_json::{Value, json};

use super::{Refused, business};
use crate::broker::{Broker, Command, to_units};
use crate::rest::{ApiError, Params, ok};
use crate::sim::Core;

const KNOWN: [&str; 10] = [
    "orderhistory",
    "orderbook",
    "auditorderbook",
    "stockposition",
    "derivposition",
    "maxbuyqty",
    "maxsellqty",
    "cashacctbal",
    "derivacctbal",
    "ppmmraccount",
];

pub(super) async fn query(
    core: &Arc<Core>,
    info: &crate::auth::TokenInfo,
    api: &str,
    p: &Params,
) -> Result<Response, Refused> {
    query_data(core, &info.consumer, api, p).await.map(ok)
}

/// The `data` of a query GET of `consumer` (FastConnect v3 maps it to its own shapes).
pub(crate) async fn query_data(
    core: &Arc<Core>,
    consumer: &str,
    api: &str,
    p: &Params,
) -> Result<Value, Refused> {
    if api == "ratelimit" {
        let rules: Vec<Value> = core
            .config
            .rate_limits
            .iter()
            .map(|r| json!({"endpoint": r.endpoint, "period": r.period, "limit": r.limit}))
            .collect();
        return Ok(Value::Array(rules));
    }
    if !KNOWN.contains(&api) {
        return Err(ApiError::not_found(api).into());
    }
    let account = p
        .get("account")
        .ok_or_else(|| ApiError::bad("'Account' must not be empty."))?
        .to_owned();
    if !core.owns(consumer, &account) {
        return Err(business("Account is not exist.").into());
    }
    let id = AccountId::new(account.clone());
    let (today, _) = core.local_now();
    let data = match api {
        "orderhistory" => {
            let from = p
                .get("startdate")
                .ok_or_else(|| ApiError::bad("'Start Date' must not be empty."))?;
            let to = p
                .get("enddate")
                .ok_or_else(|| ApiError::bad("'End Date' must not be empty."))?;
            let from = fastconnect::wire::parse_date(from)
                .ok_or_else(|| ApiError::bad("'Start Date' is not a date (dd/MM/yyyy)"))?;
            let to = fastconnect::wire::parse_date(to)
                .ok_or_else(|| ApiError::bad("'End Date' is not a date (dd/MM/yyyy)"))?;
            let items = core
                .desk
                .read(move |b| orders(b, &id, |d| d >= from && d <= to, false))
                .await
                .map_err(ApiError::from)?;
            json!({"account": account, "orderHistories": items})
        }
        "orderbook" | "auditorderbook" => {
            let audit = api == "auditorderbook";
            let items = core
                .desk
                .read(move |b| orders(b, &id, |d| d == today, audit))
                .await
                .map_err(ApiError::from)?;
            json!({"account": account, "orders": items})
        }
        "maxbuyqty" | "maxsellqty" => {
            let symbol = p
                .get("instrumentid")
                .ok_or_else(|| ApiError::bad("'Instrument ID' must not be empty."))?
                .to_ascii_uppercase();
            let universe = core.generator.universe();
            let x = universe
                .find(&symbol)
                .and_then(|i| universe.instrument(i))
                .ok_or_else(|| business(format!("Symbol {symbol} does not exist")))?;
            let price = match p.get("price").map(str::parse::<f64>) {
                None => None,
                Some(Ok(v)) if !v.is_finite() => {
                    return Err(ApiError::bad("'Price' is not a number").into());
                }
                Some(Ok(v)) if v <= 0.0 => None,
                Some(Ok(v)) => to_units(x.kind, v).and_then(|u| Price::new(u).ok()),
                Some(Err(_)) => return Err(ApiError::bad("'Price' is not a number").into()),
            };
            let sym = market::Symbol::parse(&x.symbol).map_err(|e| business(e.to_string()))?;
            let listed = {
                let symbol = symbol.clone();
                core.desk
                    .read(move |b| b.is_listed(&symbol, today))
                    .await
                    .map_err(ApiError::from)?
            };
            if !listed {
                core.desk
                    .apply(Command::List {
                        symbol: symbol.clone(),
                    })
                    .await
                    .map_err(ApiError::from)?;
            }
            let buy = api == "maxbuyqty";
            let account = account.clone();
            core.desk
                .read(move |b| -> Result<Value, ApiError> {
                    let engine_err = |e: matching::Error| business(e.to_string());
                    if buy {
                        let q = b
                            .engine
                            .max_buy_qty(&id, sym, Board::Main, price)
                            .map_err(engine_err)?;
                        let pp = b.engine.buying_power(&id).map_err(engine_err)?;
                        Ok(
                            json!({"account": account, "maxBuyQty": q.units(), "marginRatio": "100%", "purchasingPower": pp.amount()}),
                        )
                    } else {
                        let q = b
                            .engine
                            .max_sell_qty(&id, sym, Board::Main, price)
                            .map_err(engine_err)?;
                        Ok(json!({"account": account, "maxSellQty": q.units()}))
                    }
                })
                .await
                .map_err(ApiError::from)??
        }
        _ => {
            let api = api.to_owned();
            let p = p.clone();
            core.desk
                .read(move |b| account_data(b, &id, &api, &p, today))
                .await
                .map_err(ApiError::from)??
        }
    };
    Ok(data)
}

fn orders(
    broker: &Broker,
    id: &AccountId,
    keep: impl Fn(time::Date) -> bool,
    audit: bool,
) -> Vec<Value> {
    broker
        .orders_of(id)
        .filter(|o| keep(o.date))
        .filter_map(|o| broker.order_item(o, audit))
        .collect()
}

fn account_data(
    broker: &Broker,
    id: &AccountId,
    api: &str,
    p: &Params,
    today: time::Date,
) -> Result<Value, ApiError> {
    let a = broker
        .engine
        .account(id)
        .ok_or_else(|| business("Account is not exist."))?;
    let err = |e: matching::Error| business(e.to_string());
    let pp = a.buying_power().map_err(err)?.amount();
    let receivable = a.receivable_total().map_err(err)?.amount();
    let margin = a.margin_used().map_err(err)?.amount();
    let cash = a.cash.amount();
    let held = a.held.amount();
    let last_price = |sym: market::Symbol| -> i64 {
        broker
            .engine
            .instrument(sym)
            .and_then(|i| i.main.last_price.or(i.security.limits.map(|l| l.reference)))
            .map_or(0, Price::units)
    };
    Ok(match api {
        "stockposition" => {
            let mut total = 0i64;
            let rows: Vec<Value> = a
                .positions
                .iter()
                .filter(|(_, pos)| pos.total().units() > 0)
                .map(|(sym, pos)| {
                    let on_hand = pos.total().units();
                    let pending: u64 = on_hand.saturating_sub(pos.settled.units());
                    let sellable = broker
                        .engine
                        .sellable(id, *sym)
                        .map_or(0, |q| q.units());
                    let mp = last_price(*sym);
                    total = total.saturating_add(mp.saturating_mul(i64::try_from(on_hand).unwrap_or(0)));
                    json!({"marketID": "VN", "instrumentID": sym.as_str(), "onHand": on_hand, "block": 0,
                        "bonus": 0, "buyT0": pending, "buyT1": 0, "buyT2": 0, "sellT0": 0, "sellT1": 0,
                        "sellT2": 0, "avgPrice": pos.average_price(), "mortgage": 0, "sellableQty": sellable,
                        "holdForTrade": pos.sell_hold.units(), "marketPrice": mp})
                })
                .collect();
            json!({"account": id.as_str(), "totalMarketValue": total, "stockPositions": rows})
        }
        "derivposition" => {
            let _ = p.bool("querysummary", true)?;
            json!({"account": id.as_str(), "openPosition": broker.portfolio(id), "closePosition": []})
        }
        "cashacctbal" => {
            // Matched and unmatched value of today's orders, by side (VND).
            let (mut matched_buy, mut matched_sell, mut open_sell) = (0i64, 0i64, 0i64);
            for o in broker.orders_of(id).filter(|o| o.date == today) {
                let filled = o.filled_value.amount();
                match o.side {
                    Side::Buy => matched_buy = matched_buy.saturating_add(filled),
                    Side::Sell => {
                        matched_sell = matched_sell.saturating_add(filled);
                        if !o.status.is_final() {
                            let units = i64::try_from(o.remaining().units()).unwrap_or(0);
                            let price = o.price.map_or(0, Price::units);
                            open_sell = open_sell.saturating_add(units.saturating_mul(price));
                        }
                    }
                }
            }
            json!({
                "account": id.as_str(), "cashBal": cash, "cashOnHold": held, "secureAmount": held,
                "withdrawable": pp, "receivingCashT1": receivable, "receivingCashT2": 0,
                "matchedBuyVolume": matched_buy, "matchedSellVolume": matched_sell, "debt": 0,
                "unMatchedBuyVolume": held, "unMatchedSellVolume": open_sell, "paidCashT1": 0,
                "paidCashT2": 0, "cia": broker.advanced(id), "purchasingPower": pp,
                "totalAssets": cash.saturating_add(receivable)
            })
        }
        "derivacctbal" => {
            let assets = json!({"cash": cash, "validNonCash": 0, "totalValue": cash,
                "maxValidNonCash": 0, "cashWithdrawable": pp, "ee": pp});
            let ratio = if cash > 0 {
                margin as f64 / cash as f64
            } else {
                0.0
            };
            json!({
                "account": id.as_str(), "accountBalance": cash, "fee": a.fees_paid.amount(),
                "commission": 0, "interest": 0, "loan": 0, "deliveryAmount": 0,
                "floatingPL": 0, "totalPL": a.futures.values().map(|f| f.realised.amount()).sum::<i64>(),
                "marginable": pp, "depositable": 0, "rcCall": 0, "withdrawable": pp,
                "nonCashDrawableRCCall": 0, "internalAssets": assets, "exchangeAssets": assets,
                "internalMargin": {"initialMargin": margin, "deliveryMargin": 0, "marginReq": margin,
                    "accountRatio": ratio, "usedLimitWarningLevel1": 0.8, "usedLimitWarningLevel2": 0.9,
                    "usedLimitWarningLevel3": 1.0, "marginCall": 0},
                "exchangeMargin": {"marginReq": margin, "accountRatio": ratio,
                    "usedLimitWarningLevel1": 0.8, "usedLimitWarningLevel2": 0.9,
                    "usedLimitWarningLevel3": 1.0, "marginCall": 0}
            })
        }
        _ => {
            let lmv: i64 = a
                .positions
                .iter()
                .map(|(s, pos)| {
                    last_price(*s).saturating_mul(i64::try_from(pos.total().units()).unwrap_or(0))
                })
                .sum();
            let total = cash.saturating_add(receivable).saturating_add(lmv);
            json!({
                "collateralAsset": lmv, "callLMW": 0, "liability": 0, "eeOrigin": pp, "forceLMV": 0,
                "equity": total, "ee": pp, "callMargin": 0, "cashBalance": cash, "purchasingPower": pp,
                "callForcesell": 0, "lmv": lmv, "marginCall": 0, "withdrawal": pp, "collateralA": 0,
                "action": "", "marginRatio": 0.0, "debt": 0, "accruedInterest": 0, "holdRight": 0,
                "preLoan": 0, "fees": a.fees_paid.amount(), "buyUnmatch": held, "ap": 0, "apT1": 0,
                "sellUnmatch": 0, "cia": 0, "ar": receivable, "arT1": 0, "ppCredit": 0, "creditLimit": 0,
                "totalAssets": total, "marginCallLMVSold": 0, "lmvNonMarginable": 0, "eeCredit": 0,
                "totalEquity": total, "eE90": pp, "eE80": pp, "eE70": pp, "eE60": pp, "eE50": pp
            })
        }
    })
}
