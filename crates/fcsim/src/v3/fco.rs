//! v3 FCO REST: `POST`/`DELETE trading/fco/order` (signed), `GET trading/fco/list`,
//! `trading/fco/orderbook` and `trading/fco/statusHistory`. The broker holds and triggers
//! the orders (`broker::fco`); this module reads and writes SSI's wire shapes.

use std::sync::Arc;

use market::Side;
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, PrimitiveDateTime};

use super::trading::account_of;
use super::{Caller, V3Error, text};
use crate::broker::fco::{Fco, FcoKind, FcoRequest, Operator};
use crate::broker::{Command, Outcome, status_code};
use crate::rest::Params;
use crate::sim::Core;

/// A wire number (JSON number or numeric string); absent is 0.
fn number(m: &Map<String, Value>, name: &str) -> Result<f64, V3Error> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(0.0),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| V3Error::bad(format!("{name} is not a number"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(0.0),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| V3Error::bad(format!("{name} '{s}' is not a number"))),
        Some(_) => Err(V3Error::bad(format!("{name} is not a number"))),
    }
}

/// A price: a positive number, or a market-priced word (`MTL`, `MP`, `ATO`, …) as `None`.
fn price(m: &Map<String, Value>, name: &str) -> Result<Option<f64>, V3Error> {
    let Some(t) = text(m, name) else {
        return Ok(None);
    };
    if t.bytes().all(|b| b.is_ascii_alphabetic()) {
        return match t.to_ascii_uppercase().as_str() {
            "MTL" | "MP" | "ATO" | "ATC" | "MOK" | "MAK" => Ok(None),
            _ => Err(V3Error::bad(format!("{name} '{t}' is not a price"))),
        };
    }
    let p = number(m, name)?;
    if p > 0.0 {
        Ok(Some(p))
    } else {
        Err(V3Error::bad(format!("{name} must be greater than 0")))
    }
}

/// `YYYY/MM/DD HH:MM:SS` (or a bare date: the start of `from`'s day, the end of `to`'s),
/// Vietnam time.
fn instant(m: &Map<String, Value>, name: &str, end: bool) -> Result<OffsetDateTime, V3Error> {
    let t = text(m, name).ok_or_else(|| V3Error::bad(format!("{name} is required")))?;
    let full = if t.contains(' ') {
        t.clone()
    } else if end {
        format!("{t} 23:59:59")
    } else {
        format!("{t} 00:00:00")
    };
    let format = time::macros::format_description!("[year]/[month]/[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(&full, format)
        .map(|p| p.assume_offset(market::calendar::VN_OFFSET))
        .map_err(|_| V3Error::code(400_213, format!("{name} '{t}' is not YYYY/MM/DD HH:MM:SS")))
}

fn wire_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(market::calendar::VN_OFFSET);
    format!(
        "{}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The checked request of an FCO place body.
fn request(
    core: &Core,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<FcoRequest, V3Error> {
    let account = account_of(caller, core, text(m, "accountNo"))?;
    let kind_text = text(m, "type").ok_or_else(|| V3Error::bad("type is required"))?;
    let kind = FcoKind::parse(&kind_text)
        .ok_or_else(|| V3Error::bad(format!("type '{kind_text}' is not an FCO type")))?;
    let symbol = text(m, "symbol")
        .ok_or_else(|| V3Error::code(400_104, "symbol is required"))?
        .to_ascii_uppercase();
    let side = match text(m, "side")
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "B" => Side::Buy,
        "S" => Side::Sell,
        _ => return Err(V3Error::bad("side must be B or S")),
    };
    let quantity = number(m, "quantity")?;
    if !(quantity >= 1.0 && quantity.fract() == 0.0 && quantity < 1e12) {
        return Err(V3Error::bad(
            "quantity must be a whole number greater than 0",
        ));
    }
    let from = instant(m, "from", false)?;
    let to = instant(m, "to", true)?;
    if from > to {
        return Err(V3Error::code(400_202, "from is after to"));
    }
    let operator = match text(m, "operator") {
        Some(o) => {
            Operator::parse(&o).ok_or_else(|| V3Error::bad(format!("operator '{o}' is invalid")))?
        }
        None => match side {
            Side::Buy => Operator::GreaterOrEqual,
            Side::Sell => Operator::LesserOrEqual,
        },
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let r = FcoRequest {
        consumer: caller.customer().to_owned(),
        account,
        kind,
        symbol,
        side,
        quantity: quantity as u64,
        price: price(m, "price")?,
        price_text: text(m, "price").unwrap_or_default(),
        price_slip: number(m, "priceSlip")?,
        from,
        to,
        stop_price: number(m, "stopPrice")?,
        operator,
        active_price: number(m, "activePrice")?,
        trailing_amount: number(m, "trailingAmount")?,
        tp_active_price: number(m, "tpActivePrice")?,
        sl_active_price: number(m, "slActivePrice")?,
        tp_price: price(m, "tpPrice")?,
        sl_price: price(m, "slPrice")?,
    };
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(V3Error::bad(format!("{} needs {what}", kind.code())))
        }
    };
    match kind {
        FcoKind::Gtd => need(text(m, "price").is_some(), "price")?,
        FcoKind::Stop => need(r.stop_price > 0.0, "stopPrice")?,
        FcoKind::StopLimit => need(
            r.stop_price > 0.0 && r.price.is_some(),
            "stopPrice and price",
        )?,
        FcoKind::TrailingStop | FcoKind::TrailingStopLimit => {
            need(
                r.trailing_amount > 0.0 && r.active_price >= 0.0,
                "trailingAmount",
            )?;
        }
        FcoKind::Oco => need(
            r.tp_active_price > 0.0 && r.sl_active_price > 0.0,
            "tpActivePrice and slActivePrice",
        )?,
        FcoKind::BullBear => need(
            r.price.is_some() && r.tp_active_price > 0.0 && r.sl_active_price > 0.0,
            "price, tpActivePrice and slActivePrice",
        )?,
    }
    Ok(r)
}

pub(super) async fn place(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    let r = request(core, caller, m)?;
    match core.desk.apply(Command::FcoPlace(Box::new(r))).await? {
        Outcome::Transaction(id) => Ok(json!({"fcoId": id})),
        Outcome::Done | Outcome::Order(_) => {
            Err(V3Error::internal("the broker did not answer an FCO id"))
        }
    }
}

pub(super) async fn cancel(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    m: &Map<String, Value>,
) -> Result<Value, V3Error> {
    let id_text = text(m, "fcoId").ok_or_else(|| V3Error::bad("fcoId is required"))?;
    let id = id_text
        .parse::<u64>()
        .map_err(|_| V3Error::code(404, format!("FCO {id_text} does not exist")))?;
    core.desk
        .apply(Command::FcoCancel {
            consumer: caller.customer().to_owned(),
            id,
        })
        .await?;
    Ok(json!({"fcoId": id_text}))
}

fn item(b: &crate::broker::Broker, f: &Fco, api_key: &str) -> Value {
    let r = &f.request;
    let matched: u64 = f
        .children
        .iter()
        .filter_map(|c| b.engine.order(c.order))
        .map(|o| o.filled.units())
        .sum();
    json!({"fcoId": f.id.to_string(), "username": api_key, "accountNo": r.account, "symbol": r.symbol,
        "type": r.kind.code(), "quantity": r.quantity, "price": r.price_text, "priceSlip": r.price_slip,
        "from": wire_time(r.from), "to": wire_time(r.to), "matchedQuantity": matched,
        "isPlaceOrder": !f.children.is_empty(), "status": f.status, "detail": f.detail, "orderType": "LO",
        "params": {"stopPrice": r.stop_price, "side": side(r.side), "activePrice": r.active_price,
            "trailingAmount": r.trailing_amount, "tpActivePrice": r.tp_active_price,
            "slActivePrice": r.sl_active_price, "tpPrice": r.tp_price, "slPrice": r.sl_price,
            "tpSlip": 0, "slSlip": 0, "operator": r.operator.code()}})
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "B",
        Side::Sell => "S",
    }
}

fn page(rows: Vec<Value>, p: &Params) -> Value {
    let size = p
        .get("pagesize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(20);
    let index = p
        .get("pageindex")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|i| *i > 0)
        .unwrap_or(1);
    let total = rows.len();
    let data: Vec<Value> = rows
        .into_iter()
        .skip((index - 1).saturating_mul(size))
        .take(size)
        .collect();
    json!({"pageIndex": index, "pageSize": size, "itemsCount": total, "pagesCount": total.div_ceil(size), "data": data})
}

pub(super) async fn list(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    p: &Params,
) -> Result<Value, V3Error> {
    let account = account_of(caller, core, p.get("accountno").map(str::to_owned))?;
    let customer = caller.customer().to_owned();
    let api_key = caller.grant.api_key.clone();
    let want = |k: &str| p.get(k).map(str::to_owned);
    let (id, kind, status, symbol, side_f) = (
        want("fcoid"),
        want("type"),
        want("processstatus").map(|s| s.to_ascii_uppercase()),
        want("symbol").map(|s| s.to_ascii_uppercase()),
        want("side").map(|s| s.to_ascii_uppercase()),
    );
    let rows = core
        .desk
        .read(move |b| {
            b.fcos_of(&customer)
                .filter(|f| f.request.account == account)
                .filter(|f| id.as_deref().is_none_or(|i| f.id.to_string() == i))
                .filter(|f| {
                    kind.as_deref()
                        .is_none_or(|k| f.request.kind.code().eq_ignore_ascii_case(k))
                })
                .filter(|f| status.as_deref().is_none_or(|s| f.status == s))
                .filter(|f| symbol.as_deref().is_none_or(|s| f.request.symbol == s))
                .filter(|f| side_f.as_deref().is_none_or(|s| side(f.request.side) == s))
                .map(|f| item(b, f, &api_key))
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(page(rows, p))
}

fn fco_id(p: &Params) -> Result<u64, V3Error> {
    let t = p
        .get("fcoid")
        .ok_or_else(|| V3Error::bad("fcoId is required"))?;
    t.parse::<u64>()
        .map_err(|_| V3Error::code(404, format!("FCO {t} does not exist")))
}

pub(super) async fn order_book(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    p: &Params,
) -> Result<Value, V3Error> {
    let id = fco_id(p)?;
    let customer = caller.customer().to_owned();
    let rows = core
        .desk
        .read(move |b| {
            let f = b.fcos_of(&customer).find(|f| f.id == id)?;
            Some(
                f.children
                    .iter()
                    .filter_map(|c| {
                        let o = b.engine.order(c.order)?;
                        let meta = b.meta.get(&c.order)?;
                        let avg = if o.filled.units() > 0 {
                            o.filled_value.amount() as f64 / o.filled.units() as f64
                        } else {
                            0.0
                        };
                        Some(json!({"fcoId": id.to_string(), "accountNo": f.request.account,
                            "symbol": f.request.symbol, "side": side(o.side), "orderType": "LO",
                            "quantity": o.quantity.units(),
                            "price": o.price.map_or(0, market::Price::units),
                            "isMainOrder": c.main, "isAttachedOrder": !c.main,
                            "createdTime": wire_time(f.created), "updatedTime": wire_time(meta.modified),
                            "uniqueId": meta.orig_request, "orderId": c.order.to_string(),
                            "matchedQuantity": o.filled.units(),
                            "osQuantity": if o.status.is_final() { 0 } else { o.remaining().units() },
                            "avgPrice": avg, "status": status_code(o.status, o.filled.units()),
                            "detail": ""}))
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?
        .ok_or_else(|| V3Error::code(404, format!("FCO {id} does not exist")))?;
    Ok(page(rows, p))
}

pub(super) async fn status_history(
    core: &Arc<Core>,
    caller: &Caller<'_>,
    p: &Params,
) -> Result<Value, V3Error> {
    let id = fco_id(p)?;
    let customer = caller.customer().to_owned();
    let rows = core
        .desk
        .read(move |b| {
            let f = b.fcos_of(&customer).find(|f| f.id == id)?;
            Some(
                f.history
                    .iter()
                    .map(|s| {
                        let t = s.at.to_offset(market::calendar::VN_OFFSET);
                        json!({"state": s.state, "code": s.state, "detail": s.detail,
                            "time": format!("{:02}/{:02}/{} {:02}:{:02}:{:02}", t.day(), u8::from(t.month()),
                                t.year(), t.hour(), t.minute(), t.second())})
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?
        .ok_or_else(|| V3Error::code(404, format!("FCO {id} does not exist")))?;
    Ok(json!({"data": rows}))
}
