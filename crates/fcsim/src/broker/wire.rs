//! SSI's wire shapes of the broker's orders: `OrderItem` (orderBook, orderHistory), the
//! stream's `orderEvent` / `orderMatchEvent` / `orderError` / `clientPortfolioEvent`, and
//! the open futures positions.

use market::{InstrumentKind, Price, Side};
use matching::{AccountId, Event, EventRecord, OrderId, OrderRecord, OrderStatus};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::{Broker, Notice, OrderMeta, change_code, reject_code, scale, status_code};
use crate::tape::display_price;
use crate::universe::Instrument;

pub(super) fn epoch_ms(t: OffsetDateTime) -> String {
    (t.unix_timestamp_nanos() / 1_000_000).to_string()
}

fn side_code(side: Side) -> &'static str {
    match side {
        Side::Buy => "B",
        Side::Sell => "S",
    }
}

impl Broker {
    fn instrument(&self, o: &OrderRecord) -> Option<Instrument> {
        self.instrument_of(o.symbol)
            .and_then(|i| self.generator.universe().instrument(i))
            .cloned()
    }

    fn order_json(&self, o: &OrderRecord, meta: &OrderMeta, x: Option<&Instrument>) -> Value {
        let price = |units: i64| -> Value {
            match x {
                Some(x) => json!(display_price(x, units).to_f64_lossy()),
                None => json!(units),
            }
        };
        let avg = if o.filled.units() > 0 {
            let v = o.filled_value.amount() as f64 / o.filled.units() as f64;
            json!(match x {
                Some(x) => v / scale(x.kind),
                None => v,
            })
        } else {
            json!(0)
        };
        let input = OffsetDateTime::new_in_offset(
            o.date,
            time::Time::MIDNIGHT,
            market::calendar::VN_OFFSET,
        ) + time::Duration::seconds(i64::from(o.entered_at.seconds()));
        let cancelled = if matches!(o.status, OrderStatus::Cancelled | OrderStatus::Expired) {
            o.remaining().units()
        } else {
            0
        };
        json!({
            "orderID": o.id.to_string(),
            "instrumentID": o.symbol.as_str(),
            "uniqueID": meta.last_request,
            "origRequestID": meta.orig_request,
            "origOrderId": o.id.to_string(),
            "buySell": side_code(o.side),
            "orderType": o.order_type.code(),
            "ipAddress": "127.0.0.1",
            "price": o.price.map_or(json!(0), |p| price(p.units())),
            "prefix": "",
            "quantity": o.quantity.units(),
            "marketID": meta.market,
            "account": o.account.as_str(),
            "cancelQty": cancelled,
            "osQty": if o.status.is_final() { 0 } else { o.remaining().units() },
            "filledQty": o.filled.units(),
            "avgPrice": avg,
            "channel": meta.channel,
            "inputTime": epoch_ms(input),
            "modifiedTime": epoch_ms(meta.modified),
            "isForceSell": "F",
            "isShortSell": "F",
            "orderStatus": status_code(o.status, o.filled.units()),
            "rejectReason": "0",
            "stopOrder": false,
            "stopPrice": 0,
            "stopType": "",
            "stopStep": 0,
            "profitPrice": 0
        })
    }

    /// The wire `OrderItem` of a client order (orderBook, orderHistory).
    pub(crate) fn order_item(&self, o: &OrderRecord, audit: bool) -> Option<Value> {
        let meta = self.meta.get(&o.id)?;
        let x = self.instrument(o);
        let mut v = self.order_json(o, meta, x.as_ref());
        let last_error = meta
            .last_error
            .as_deref()
            .and_then(|e| serde_json::from_str::<Value>(e).ok());
        let reject = last_error
            .as_ref()
            .and_then(|e| e["message"].as_str())
            .filter(|_| o.status == OrderStatus::Rejected)
            .unwrap_or("0");
        v["rejectReason"] = json!(reject);
        if let Some(m) = v.as_object_mut() {
            m.remove("isForceSell");
            m.remove("isShortSell");
        }
        v["isForcesell"] = json!("F");
        v["isShortsell"] = json!("F");
        if audit {
            v["lastErrorEvent"] = last_error.unwrap_or(Value::Null);
        }
        Some(v)
    }

    fn push(&mut self, consumer: &str, date: Date, kind: &str, mut data: Value) {
        self.next_notify += 1;
        data["notifyID"] = json!(self.next_notify);
        let payload = json!({"type": kind, "data": data}).to_string();
        self.pending.push(Notice {
            id: self.next_notify,
            date,
            consumer: consumer.into(),
            payload: payload.into(),
        });
    }

    fn error_data(&self, id: OrderId, code: &str, message: &str, unique: &str) -> Value {
        let mut data = match (self.engine.order(id), self.meta.get(&id)) {
            (Some(o), Some(m)) => self.order_json(o, m, self.instrument(o).as_ref()),
            (Some(_) | None, _) => json!({"orderID": id.to_string()}),
        };
        data["message"] = json!(message);
        data["errorCode"] = json!(code);
        data["uniqueID"] = json!(unique);
        data["connectionID"] = json!("");
        data["data"] = Value::Null;
        data["modifiable"] = json!(true);
        data["note"] = json!("");
        data
    }

    /// One engine event of a client order → its stream notices (and the working index).
    pub(super) fn translate(&mut self, rec: EventRecord) {
        let date = rec.at.date();
        let order_id = match &rec.event {
            Event::OrderAccepted { order } | Event::OrderRejected { order, .. } => Some(order.id),
            Event::OrderAmended { order, .. }
            | Event::AmendRejected { order, .. }
            | Event::CancelRejected { order, .. }
            | Event::OrderCancelled { order, .. }
            | Event::MtlConverted { order, .. }
            | Event::OrderExpired { order, .. } => Some(*order),
            Event::OrderFilled(f) => Some(f.order),
            Event::Trade(_)
            | Event::PhaseChanged { .. }
            | Event::AuctionUncrossed { .. }
            | Event::ClosingPrice { .. }
            | Event::ReferenceRolled { .. } => None,
        };
        let Some(id) = order_id else { return };
        let Some(meta) = self.meta.get_mut(&id) else {
            return;
        };
        meta.modified = rec.at;
        let meta = meta.clone();
        let Some(o) = self.engine.order(id).cloned() else {
            return;
        };
        if o.status.is_final() {
            self.working.remove(&id);
        } else {
            self.working.insert(id);
        }
        let consumer = meta.consumer.clone();
        let unique = meta.last_request.clone();
        let x = self.instrument(&o);
        let mut ev = self.order_json(&o, &meta, x.as_ref());
        match rec.event {
            Event::OrderAccepted { order } => {
                ev["orderStatus"] = json!("QU");
                ev["filledQty"] = json!(0);
                ev["osQty"] = json!(order.quantity.units());
                ev["quantity"] = json!(order.quantity.units());
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::OrderRejected { reason, .. } => {
                let code = reject_code(&reason);
                let data = self.error_data(id, code, &reason.to_string(), &unique);
                if let Some(m) = self.meta.get_mut(&id) {
                    m.last_error = Some(data.to_string().into());
                }
                self.push(&consumer, date, "orderError", data);
            }
            Event::AmendRejected { reason, .. } | Event::CancelRejected { reason, .. } => {
                let code = change_code(&reason);
                let data = self.error_data(id, code, &reason.to_string(), &unique);
                if let Some(m) = self.meta.get_mut(&id) {
                    m.last_error = Some(data.to_string().into());
                }
                self.push(&consumer, date, "orderError", data);
            }
            Event::OrderAmended {
                price, quantity, ..
            } => {
                if let (Some(p), Some(x)) = (price, x.as_ref()) {
                    ev["price"] = json!(display_price(x, p.units()).to_f64_lossy());
                }
                ev["quantity"] = json!(quantity.units());
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::OrderCancelled {
                cancelled, filled, ..
            } => {
                ev["orderStatus"] = json!(if filled.units() > 0 { "FFPC" } else { "CL" });
                ev["cancelQty"] = json!(cancelled.units());
                ev["osQty"] = json!(0);
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::OrderExpired { expired, .. } => {
                ev["orderStatus"] = json!("EX");
                ev["cancelQty"] = json!(expired.units());
                ev["osQty"] = json!(0);
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::MtlConverted { .. } => self.push(&consumer, date, "orderEvent", ev),
            Event::OrderFilled(fill) => {
                if let Some(x) = x.as_ref() {
                    self.record_sale(&fill, rec.at, x.kind);
                }
                let price = x.as_ref().map_or(json!(fill.price.units()), |x| {
                    json!(display_price(x, fill.price.units()).to_f64_lossy())
                });
                let m = json!({
                    "orderID": id.to_string(), "instrumentID": o.symbol.as_str(),
                    "uniqueID": unique, "buySell": side_code(fill.side),
                    "matchPrice": price, "matchQty": fill.quantity.units(), "ipAddress": "127.0.0.1",
                    "prefix": "", "account": o.account.as_str(), "matchTime": epoch_ms(rec.at)
                });
                self.push(&consumer, date, "orderMatchEvent", m);
                ev["orderStatus"] = json!(if fill.remaining.units() == 0 {
                    "FF"
                } else {
                    "PF"
                });
                ev["filledQty"] = json!(fill.filled.units());
                ev["osQty"] = json!(fill.remaining.units());
                self.push(&consumer, date, "orderEvent", ev);
                if x.as_ref()
                    .is_some_and(|x| x.kind == InstrumentKind::IndexFuture)
                {
                    // SSI's stream sample spells the market key `martketID`.
                    let open: Vec<Value> = self
                        .portfolio(&o.account)
                        .into_iter()
                        .map(|mut p| {
                            if let Some(m) = p.as_object_mut()
                                && let Some(v) = m.remove("marketID")
                            {
                                m.insert("martketID".to_owned(), v);
                            }
                            p
                        })
                        .collect();
                    let p = json!({
                        "account": o.account.as_str(), "data": null,
                        "clientPortfoliosOpen": open, "clientPortfoliosClose": null,
                        "uniqueID": unique, "connectionID": "", "ipAddress": "127.0.0.1", "prefix": ""
                    });
                    self.push(&consumer, date, "clientPortfolioEvent", p);
                }
            }
            Event::Trade(_)
            | Event::PhaseChanged { .. }
            | Event::AuctionUncrossed { .. }
            | Event::ClosingPrice { .. }
            | Event::ReferenceRolled { .. } => {}
        }
    }

    /// Open futures positions of `account` in the stream/REST shape.
    pub(crate) fn portfolio(&self, account: &AccountId) -> Vec<Value> {
        let Some(a) = self.engine.account(account) else {
            return Vec::new();
        };
        a.futures
            .iter()
            .map(|(sym, p)| {
                let x = self
                    .instrument_of(*sym)
                    .and_then(|i| self.generator.universe().instrument(i));
                let last = self
                    .engine
                    .instrument(*sym)
                    .and_then(|inst| inst.main.last_price)
                    .map_or(0, Price::units);
                let points = |u: i64| x.map_or(u as f64, |x| u as f64 / scale(x.kind));
                let avg = if p.net != 0 {
                    p.open_value.amount().abs() as f64
                        / p.net.unsigned_abs() as f64
                        / self.multiplier as f64
                } else {
                    0.0
                };
                json!({
                    "marketID": "VNFE", "instrumentID": sym.as_str(),
                    "longQty": p.net.max(0), "shortQty": (-p.net).max(0), "net": p.net,
                    "bidAvgPrice": if p.net > 0 { avg } else { 0.0 },
                    "askAvgPrice": if p.net < 0 { avg } else { 0.0 },
                    "tradePrice": avg, "marketPrice": points(last),
                    "floatingPL": 0, "tradingPL": p.realised.amount()
                })
            })
            .collect()
    }
}
