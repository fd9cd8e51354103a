//! The v3 stream (`/ws/v3`, and over TLS on `v3_tls_port`): plain WebSocket JSON.
//!
//! Client frames `{method, channel, topics}` (`subscribe`, `unsubscribe`, `ping_pong`,
//! `list_subscription`) of at most 4,096 bytes (a larger one closes the socket with 1009);
//! topics `<type>.<filter>[@interval]`. Market topics are fed from the same live day as the
//! FC Data hub (its messages, reshaped to v3's terse keys); account topics (`order.<acct>`,
//! `portfolio.<acct>`) from the broker's published notices. At most
//! [`MAX_SOCKETS`] sockets per apiKey: the next one is accepted, told
//! `{"code":429,...}` and closed; a socket holds at most `hub_max_subscriptions` topics.
//! The bearer token is checked only at connect, as at SSI.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use market::Exchange;
use serde_json::{Value, json};

use super::V3Error;
use super::session::Grant;
use crate::data_hub::{Kind, Subscription, collect};
use crate::sim::Core;

/// Largest client frame (SSI's `MaxMessageSize`).
pub(crate) const MAX_FRAME: usize = 4096;
/// Most sockets per apiKey.
pub(crate) const MAX_SOCKETS: usize = 10;
/// How often market data is pushed, wall time.
const PUMP_MS: u64 = 100;
/// WebSocket ping period, wall time.
const HEARTBEAT_SECS: u64 = 10;

pub(super) async fn upgrade(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    axum::Extension(closing): axum::Extension<crate::http::Closing>,
    ws: WebSocketUpgrade,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(grant) = core.v3().check(auth) else {
        return V3Error::new(
            StatusCode::UNAUTHORIZED,
            401,
            "Unauthorized: the access token is missing, expired or replaced",
        )
        .into_response();
    };
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| closing.run(run(core, grant, socket)))
}

/// Topic types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Type {
    Trade,
    Bar1,
    Bar5,
    Quote,
    Room,
    Put,
    OddLot,
    Market,
    Flag,
    TradeIndex,
    IndexSummary,
    Order,
    Portfolio,
}

impl Type {
    fn trading(self) -> bool {
        matches!(self, Type::Order | Type::Portfolio)
    }
}

/// One subscribed topic: its text (as listed back), type and what its filter selects
/// (`None`: everything).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Topic {
    text: String,
    kind: Type,
    filter: Option<BTreeSet<String>>,
}

impl Topic {
    fn wants(&self, item: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| f.contains(item))
    }
}

fn invalid(topic: &str, why: &str) -> String {
    format!("Invalid topic '{topic}': {why}")
}

/// Parses a topic; market filters resolve boards and indices to their symbols.
fn parse(core: &Core, text: &str) -> Result<Topic, String> {
    let (body, interval) = match text.split_once('@') {
        Some((b, i)) => (b, Some(i)),
        None => (text, None),
    };
    let lower = body.to_ascii_lowercase();
    let (kind, filter) = if lower == "market.flag" {
        (Type::Flag, "*")
    } else if let Some(f) = lower.strip_prefix("trade.index.") {
        (Type::TradeIndex, &body[body.len() - f.len()..])
    } else {
        let (t, f) = body
            .split_once('.')
            .ok_or_else(|| invalid(text, "expected <type>.<filter>"))?;
        let kind = match t.to_ascii_lowercase().as_str() {
            "trade" => Type::Trade,
            "quote" => Type::Quote,
            "room" => Type::Room,
            "put" => Type::Put,
            "oddlot" => Type::OddLot,
            "market" => Type::Market,
            "indexsummary" => Type::IndexSummary,
            "order" => Type::Order,
            "portfolio" => Type::Portfolio,
            "asset" | "margin" => return Err(invalid(text, "not live")),
            other => return Err(invalid(text, &format!("unknown type '{other}'"))),
        };
        (kind, f)
    };
    let kind = match (kind, interval.map(str::to_ascii_lowercase).as_deref()) {
        (k, None | Some("tick"))
            if interval.is_none() || matches!(k, Type::Trade | Type::TradeIndex) =>
        {
            k
        }
        (Type::Trade, Some("1m")) => Type::Bar1,
        (Type::Trade, Some("5m")) => Type::Bar5,
        (Type::TradeIndex, Some("1m" | "5m")) => Type::TradeIndex,
        _ => {
            return Err(invalid(
                text,
                "an interval (tick, 1m, 5m) applies to trade only",
            ));
        }
    };
    if filter.is_empty() {
        return Err(invalid(text, "empty filter"));
    }
    let universe = core.generator.universe();
    let resolved = if filter == "*" {
        None
    } else {
        let mut set = BTreeSet::new();
        for item in filter.split(',') {
            let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
            if kind.trading() {
                if !ok(item) {
                    return Err(invalid(text, "bad account"));
                }
                set.insert(item.to_owned());
                continue;
            }
            let item = item.to_ascii_uppercase();
            let item = if item == "UPCOMINDEX" {
                "HNXUPCOMINDEX".to_owned()
            } else {
                item
            };
            if let Some((a, b)) = item.split_once('-') {
                if !ok(a) || !ok(b) {
                    return Err(invalid(text, "bad range"));
                }
                set.extend(
                    universe
                        .instruments()
                        .iter()
                        .filter(|x| x.symbol.as_str() >= a && x.symbol.as_str() <= b)
                        .map(|x| x.symbol.clone()),
                );
                continue;
            }
            if !ok(&item) {
                return Err(invalid(text, "items are letters and digits"));
            }
            let index_kind = matches!(kind, Type::TradeIndex | Type::IndexSummary | Type::Flag);
            let board = match item.as_str() {
                "HOSE" => Some(Exchange::Hose),
                "HNX" => Some(Exchange::Hnx),
                "UPCOM" => Some(Exchange::Upcom),
                "DER" => Some(Exchange::HnxDeriv),
                _ => None,
            };
            match (board, universe.index(&item)) {
                (Some(_), _) | (None, Some(_)) if index_kind => {
                    set.insert(item);
                }
                // A board: its instruments.
                (Some(b), _) => set.extend(
                    universe
                        .instruments()
                        .iter()
                        .filter(|x| x.exchange == b)
                        .map(|x| x.symbol.clone()),
                ),
                (None, Some((_, def))) => set.extend(
                    def.members
                        .iter()
                        .filter_map(|&m| universe.instrument(m))
                        .map(|x| x.symbol.clone()),
                ),
                (None, None) => {
                    set.insert(item);
                }
            }
        }
        Some(set)
    };
    let normal = if kind == Type::Flag {
        "market.FLAG".to_owned()
    } else if kind.trading() {
        text.to_owned()
    } else {
        let (t, rest) = body.split_at(body.len() - filter.len());
        format!(
            "{}{}{}",
            t.to_ascii_lowercase(),
            rest.to_ascii_uppercase(),
            interval.map(|i| format!("@{i}")).unwrap_or_default()
        )
    };
    Ok(Topic {
        text: normal,
        kind,
        filter: resolved,
    })
}

/// A connection's subscriptions.
#[derive(Debug, Default)]
struct Subs {
    topics: Vec<Topic>,
}

impl Subs {
    fn wants(&self, kind: Type, item: &str) -> bool {
        self.topics.iter().any(|t| t.kind == kind && t.wants(item))
    }

    fn has(&self, kind: Type) -> bool {
        self.topics.iter().any(|t| t.kind == kind)
    }

    /// The FC Data hub subscriptions that feed these topics.
    fn v2(&self) -> Vec<Subscription> {
        let mut out = Vec::new();
        for t in &self.topics {
            let kind = match t.kind {
                Type::Trade | Type::Bar1 | Type::Bar5 => Kind::Trade,
                Type::Quote => Kind::Quote,
                Type::OddLot => Kind::OddLot,
                Type::TradeIndex | Type::IndexSummary => Kind::Index,
                Type::Room
                | Type::Put
                | Type::Market
                | Type::Flag
                | Type::Order
                | Type::Portfolio => continue,
            };
            out.push(Subscription {
                kind,
                symbols: t
                    .filter
                    .as_ref()
                    .map(|f| f.iter().cloned().collect::<HashSet<_>>()),
            });
        }
        out
    }

    fn listed(&self, trading: bool) -> String {
        self.topics
            .iter()
            .filter(|t| t.kind.trading() == trading)
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }
}

fn ack(method: &str, channel: &str, ok: bool, message: &str) -> String {
    json!({"method": method, "channel": channel, "status": if ok { "ok" } else { "error" }, "message": message})
        .to_string()
}

/// Handles a client frame; returns the reply frames.
fn on_frame(
    core: &Core,
    grant: &Grant,
    customer: &str,
    subs: &mut Subs,
    text: &str,
    fresh: &mut Vec<Topic>,
) -> String {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return json!({"code": 400, "msg": "Invalid message: not JSON"}).to_string();
    };
    let method = frame["method"].as_str().unwrap_or("").to_ascii_lowercase();
    let channel = frame["channel"].as_str().unwrap_or("").to_ascii_uppercase();
    match method.as_str() {
        "ping_pong" => json!({"method": "PING_PONG", "channel": "HEARTBEAT", "status": "ok", "message": "pong"}).to_string(),
        "list_subscription" => json!({"trading": subs.listed(true), "data": subs.listed(false)}).to_string(),
        "subscribe" | "unsubscribe" => {
            let Some(topics) = frame["topics"].as_array() else {
                return ack(&method, &channel, false, "Invalid request: topics must be a list");
            };
            let mut parsed = Vec::new();
            for t in topics {
                let Some(t) = t.as_str() else {
                    return ack(&method, &channel, false, "Invalid request: topics are strings");
                };
                let topic = match parse(core, t) {
                    Ok(p) => p,
                    Err(e) => return ack(&method, &channel, false, &e),
                };
                if topic.kind.trading() {
                    if !grant.trading {
                        return ack(&method, &channel, false, &format!("Denied (scope): {t} needs a token issued with OTP"));
                    }
                    if let Some(f) = &topic.filter
                        && let Some(a) = f.iter().find(|a| !core.owns(customer, a))
                    {
                        return ack(&method, &channel, false, &format!("Denied (account): {a}"));
                    }
                }
                parsed.push(topic);
            }
            if method == "subscribe" {
                let fresh_count = parsed.iter().filter(|t| !subs.topics.contains(t)).count();
                let max = core.config.hub_max_subscriptions;
                if subs.topics.len() + fresh_count > max {
                    return ack(
                        &method,
                        &channel,
                        false,
                        &format!("Invalid request: at most {max} topics per socket"),
                    );
                }
                for t in parsed {
                    if !subs.topics.contains(&t) {
                        fresh.push(t.clone());
                        subs.topics.push(t);
                    }
                }
            } else {
                subs.topics.retain(|t| !parsed.iter().any(|p| p.text == t.text));
            }
            ack(&method, &channel, true, &format!("{} topics", topics.len()))
        }
        other => ack(other, &channel, false, &format!("Invalid method '{other}'")),
    }
}

fn data(topic: String, data: Value) -> Value {
    json!({"channel": "DATA", "topic": topic, "data": data})
}

/// Bars being built per (interval seconds, symbol).
type Bars = BTreeMap<(u32, String), (u32, Value)>;

fn secs_of(t: &str) -> u32 {
    let p: Vec<u32> = t.split(':').filter_map(|x| x.parse().ok()).collect();
    match p.as_slice() {
        [h, m, s] => h * 3600 + m * 60 + s,
        _ => 0,
    }
}

fn hms(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// v3 messages of one FC Data hub payload.
fn reshape(subs: &Subs, payload: &Value, bars: &mut Bars, out: &mut Vec<Value>) {
    let Some(outer) = payload
        .as_str()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return;
    };
    let Some(c) = outer["Content"]
        .as_str()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return;
    };
    let sym = c["Symbol"].as_str().unwrap_or("").to_owned();
    match outer["DataType"].as_str().unwrap_or("") {
        "X-TRADE" => {
            if subs.wants(Type::Trade, &sym) {
                out.push(data(format!("trade.{sym}"), json!({"t": c["Time"], "s": sym, "p": c["LastPrice"].clone(),
                    "q": c["LastVol"].clone(), "si": c["Side"], "v": c["TotalVol"].clone(), "o": c["Open"].clone(),
                    "h": c["High"].clone(), "l": c["Low"].clone(), "a": c["AvgPrice"].clone()})));
            }
            for (kind, len, name) in [(Type::Bar1, 60u32, "1m"), (Type::Bar5, 300, "5m")] {
                if !subs.wants(kind, &sym) {
                    continue;
                }
                let secs = secs_of(c["Time"].as_str().unwrap_or(""));
                let start = secs / len * len;
                let price = c["LastPrice"].as_f64().unwrap_or(0.0);
                let qty = c["LastVol"].as_u64().unwrap_or(0);
                let bar = bars
                    .entry((len, sym.clone()))
                    .or_insert((start, Value::Null));
                if bar.0 != start || bar.1.is_null() {
                    *bar = (
                        start,
                        json!({"st": hms(start), "t": c["Time"], "s": sym, "o": price, "h": price, "l": price, "c": price, "v": 0}),
                    );
                }
                let b = &mut bar.1;
                b["t"] = c["Time"].clone();
                if price > b["h"].as_f64().unwrap_or(price) {
                    b["h"] = json!(price);
                }
                if price < b["l"].as_f64().unwrap_or(price) {
                    b["l"] = json!(price);
                }
                b["c"] = json!(price);
                b["v"] = json!(b["v"].as_u64().unwrap_or(0) + qty);
                out.push(data(format!("trade.{sym}@{name}"), b.clone()));
            }
        }
        "X-QUOTE" if subs.wants(Type::Quote, &sym) => {
            let side = |p: &str, v: &str| -> Vec<Value> {
                (1..=10)
                    .map(|i| (c[format!("{p}{i}")].clone(), c[format!("{v}{i}")].clone()))
                    .filter(|(_, vol)| vol.as_u64().unwrap_or(0) > 0)
                    .map(|(p, v)| json!([p, v]))
                    .collect()
            };
            out.push(data(
                format!("quote.{sym}"),
                json!({"t": c["Time"], "s": sym,
                    "bids": side("BidPrice", "BidVol"), "asks": side("AskPrice", "AskVol")}),
            ));
        }
        "OL" if subs.wants(Type::OddLot, &sym) => {
            let side = |p: &str, v: &str| -> Vec<Value> {
                (1..=3)
                    .map(|i| (c[format!("{p}{i}")].clone(), c[format!("{v}{i}")].clone()))
                    .filter(|(_, vol)| vol.as_u64().unwrap_or(0) > 0)
                    .map(|(p, v)| json!([p, v]))
                    .collect()
            };
            out.push(data(format!("oddlot.{sym}"), json!({"t": c["Time"], "s": sym, "p": c["LastPrice"],
                    "q": c["LastVol"], "bids": side("BidPrice", "BidVol"), "asks": side("AskPrice", "AskVol")})));
        }
        "MI" => {
            let idx = c["IndexId"].as_str().unwrap_or("").to_owned();
            let v = json!({"s": idx, "b": c["Exchange"], "ss": c["TradingSession"], "t": c["Time"],
                "v": c["IndexValue"], "c": c["Change"], "cr": c["RatioChange"], "adv": c["Advances"],
                "dec": c["Declines"], "nc": c["NoChanges"], "ce": c["Ceilings"], "fl": c["Floors"],
                "tmv": c["TotalValue"], "tmq": c["TotalQtty"], "tvp": c["TotalValuePt"],
                "tqp": c["TotalQttyPt"], "tq": c["AllQty"], "tv": c["AllValue"]});
            if subs.wants(Type::TradeIndex, &idx) {
                out.push(data(format!("trade.index.{idx}"), v.clone()));
            }
            if subs.wants(Type::IndexSummary, &idx) {
                out.push(data(format!("indexsummary.{idx}"), v));
            }
        }
        _ => {}
    }
}

/// Messages sent right after a subscription: `market` (bands), `market.flag`, `room`.
fn snapshot(core: &Core, live: &crate::live::LiveDay, t: &Topic, secs: u32, out: &mut Vec<Value>) {
    let universe = core.generator.universe();
    match t.kind {
        Type::Flag => {
            for b in [
                Exchange::Hose,
                Exchange::Hnx,
                Exchange::Upcom,
                Exchange::HnxDeriv,
            ] {
                out.push(data("market.FLAG".to_owned(), flag(core, live, b, secs)));
            }
        }
        Type::Market | Type::Room => {
            for tape in &live.tapes {
                let Some(x) = universe.instrument(tape.instrument) else {
                    continue;
                };
                if !t.wants(&x.symbol) {
                    continue;
                }
                let l = tape.limits;
                let px = |u: i64| json!(crate::tape::display_price(x, u).to_f64_lossy());
                if t.kind == Type::Market {
                    out.push(data(
                        format!("market.{}", x.symbol),
                        json!({"s": x.symbol, "b": x.exchange.ssi_code(),
                        "t": hms(secs), "ce": px(l.ceiling.units()), "fl": px(l.floor.units()),
                        "ref": px(l.reference.units())}),
                    ));
                } else {
                    let total = i128::from(x.listed_shares)
                        * i128::from(core.generator.rules().foreign.default_limit_bps)
                        / 10_000;
                    out.push(data(
                        format!("room.{}", x.symbol),
                        json!({"t": hms(secs), "s": x.symbol,
                        "tr": total, "cr": total, "bq": 0, "bv": 0, "sq": 0, "sv": 0}),
                    ));
                }
            }
        }
        Type::Trade
        | Type::Bar1
        | Type::Bar5
        | Type::Quote
        | Type::Put
        | Type::OddLot
        | Type::TradeIndex
        | Type::IndexSummary
        | Type::Order
        | Type::Portfolio => {}
    }
}

fn flag(core: &Core, live: &crate::live::LiveDay, b: Exchange, secs: u32) -> Value {
    let kind = if b == Exchange::HnxDeriv {
        market::InstrumentKind::IndexFuture
    } else {
        market::InstrumentKind::Stock
    };
    let phase = core.generator.phase(b, kind, live.date, secs);
    let code = crate::data_hub::session_code(phase);
    json!({"b": if b == Exchange::HnxDeriv { "DER" } else { b.ssi_code() }, "t": hms(secs), "f": code})
}

/// Put-through deals in `(from, to]` for the `put` topics.
fn puts(
    core: &Core,
    live: &crate::live::LiveDay,
    subs: &Subs,
    from: u32,
    to: u32,
    out: &mut Vec<Value>,
) {
    let universe = core.generator.universe();
    for (i, deals) in live.put_throughs.iter().enumerate() {
        let Some(x) = live
            .tapes
            .get(i)
            .and_then(|t| universe.instrument(t.instrument))
        else {
            continue;
        };
        if !subs.wants(Type::Put, &x.symbol) {
            continue;
        }
        let (mut tq, mut tv) = (0u64, 0i128);
        for d in deals.iter().take_while(|d| d.secs <= to) {
            tq += d.volume;
            tv += i128::from(d.price) * i128::from(d.volume);
            if d.secs > from {
                out.push(data(format!("put.{}", x.symbol), json!({"t": hms(d.secs), "s": x.symbol,
                    "p": crate::tape::display_price(x, d.price).to_f64_lossy(), "q": d.volume, "tq": tq,
                    "tv": crate::tape::display_value(x, tv)})));
            }
        }
    }
}

/// A broker notice (v2 `{type, data}`) as v3 account messages for `subs`.
fn account(subs: &Subs, payload: &str, out: &mut Vec<Value>) {
    let Ok(n) = serde_json::from_str::<Value>(payload) else {
        return;
    };
    let d = &n["data"];
    let acct = d["account"].as_str().unwrap_or("").to_owned();
    let time = super::trading::v3_time;
    let msg = match n["type"].as_str().unwrap_or("") {
        t @ ("orderEvent" | "orderError") if subs.wants(Type::Order, &acct) => {
            let error = t == "orderError";
            json!({"eventType": "orderEvent", "accountNo": acct, "clientRequestId": d["origRequestID"],
                "orderId": d["orderID"], "symbol": d["instrumentID"], "side": d["buySell"],
                "orderType": d["orderType"], "price": super::trading::price_text(d), "avgPrice": d["avgPrice"],
                "quantity": d["quantity"], "osQty": d["osQty"], "filledQty": d["filledQty"],
                "cancelQty": d["cancelQty"], "orderStatus": d["orderStatus"],
                "inputTime": time(&d["inputTime"]), "modifiedTime": time(&d["modifiedTime"]),
                "rejectReason": if error { d["message"].clone() } else { d["rejectReason"].clone() },
                "errorCode": if error { d["errorCode"].clone() } else { json!("") },
                "errorMessage": if error { d["message"].clone() } else { json!("") },
                "systemRequestId": d["uniqueID"], "notifyId": d["notifyID"], "connectionId": ""})
        }
        "orderMatchEvent" if subs.wants(Type::Order, &acct) => {
            json!({"eventType": "orderMatchEvent", "notifyId": d["notifyID"], "connectionId": "",
                "clientRequestId": d["uniqueID"], "orderId": d["orderID"], "symbol": d["instrumentID"],
                "side": d["buySell"], "accountNo": acct, "matchPrice": d["matchPrice"].to_string(),
                "matchQty": d["matchQty"], "matchTime": time(&d["matchTime"])})
        }
        "clientPortfolioEvent" if subs.wants(Type::Portfolio, &acct) => {
            for p in d["clientPortfoliosOpen"].as_array().into_iter().flatten() {
                let mut m = json!({"eventType": "clientPortfolioEvent", "accountNo": acct, "positionType": "open"});
                for (k, v) in p.as_object().into_iter().flatten() {
                    let mut key = k.clone();
                    if let Some(first) = key.get(..1) {
                        key = format!("{}{}", first.to_ascii_lowercase(), &key[1..]);
                    }
                    m[key] = v.clone();
                }
                m["symbol"] = p["instrumentID"].clone();
                out.push(
                    json!({"channel": "TRADING", "topic": format!("portfolio.{acct}"), "data": m}),
                );
            }
            return;
        }
        _ => return,
    };
    out.push(json!({"channel": "TRADING", "topic": format!("order.{acct}"), "data": msg}));
}

/// Releases a socket slot of an apiKey when the connection ends.
struct Slot<'a>(&'a Core, String);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.v3().close_socket(&self.1);
    }
}

async fn run(core: Arc<Core>, grant: Grant, mut socket: WebSocket) {
    if !core.v3().open_socket(&grant.api_key, MAX_SOCKETS) {
        let text = json!({"code": 429, "msg": format!("Too many sockets: at most {MAX_SOCKETS} per apiKey")});
        let _ = socket.send(Message::Text(text.to_string().into())).await;
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    let _slot = Slot(&core, grant.api_key.clone());
    let customer = core
        .v3_keys
        .iter()
        .find(|(c, _)| c.api_key == grant.api_key)
        .map(|(c, _)| c.trading_consumer.clone())
        .unwrap_or_default();
    let mut subs = Subs::default();
    let mut bars = Bars::new();
    let (mut date, mut last) = core.local_now();
    // The trading day whose bands and rooms the subscribers have (sent at subscription).
    let mut banded = date;
    let log = core.desk.log().clone();
    let mut notices = log.subscribe();
    let mut cursor = Some(log.latest());
    let mut flags: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut pump = tokio::time::interval(Duration::from_millis(PUMP_MS));
    pump.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECS));
    loop {
        let mut out: Vec<Value> = Vec::new();
        let mut replies: Vec<String> = Vec::new();
        tokio::select! {
            _ = pump.tick() => {
                let (today, now) = core.local_now();
                if today != date {
                    date = today;
                    last = 0;
                    bars.clear();
                }
                if now > last && !subs.topics.is_empty() && let Some(live) = core.live.get(today).await {
                    // A new day brings new bands and rooms: the `market` and `room`
                    // subscribers get them as they got the first day's.
                    if banded != today {
                        banded = today;
                        for t in subs.topics.iter().filter(|t| matches!(t.kind, Type::Market | Type::Room)) {
                            snapshot(&core, &live, t, now, &mut out);
                        }
                    }
                    let from = last.max(now.saturating_sub(crate::data_hub::MAX_LAG_SECS));
                    let v2 = subs.v2();
                    if !v2.is_empty() {
                        let mut raw = Vec::new();
                        collect(&core, &live, &v2, from, now, &mut raw);
                        for p in &raw {
                            reshape(&subs, p, &mut bars, &mut out);
                        }
                    }
                    if subs.has(Type::Put) {
                        puts(&core, &live, &subs, from, now, &mut out);
                    }
                    if subs.has(Type::Flag) {
                        for b in [Exchange::Hose, Exchange::Hnx, Exchange::Upcom, Exchange::HnxDeriv] {
                            let f = flag(&core, &live, b, now);
                            let key = b.ssi_code();
                            if flags.get(key).is_some_and(|old| old["f"] != f["f"]) {
                                out.push(data("market.FLAG".to_owned(), f.clone()));
                            }
                            flags.insert(key, f);
                        }
                    }
                }
                last = last.max(now);
            }
            _ = heartbeat.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() { return }
            }
            changed = notices.changed() => {
                if changed.is_err() { return }
                loop {
                    let (payloads, next) = log.after(&customer, cursor, date, 256);
                    let advanced = next != cursor;
                    cursor = next.or(cursor);
                    for p in &payloads {
                        account(&subs, p, &mut out);
                    }
                    if !advanced || payloads.len() < 256 { break }
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let mut fresh = Vec::new();
                    replies.push(on_frame(&core, &grant, &customer, &mut subs, text.as_str(), &mut fresh));
                    if !fresh.is_empty() && let Some(live) = core.live.get(date).await {
                        for t in &fresh {
                            snapshot(&core, &live, t, last, &mut out);
                            if t.kind == Type::Flag {
                                for b in [Exchange::Hose, Exchange::Hnx, Exchange::Upcom, Exchange::HnxDeriv] {
                                    flags.insert(b.ssi_code(), flag(&core, &live, b, last));
                                }
                            }
                        }
                    }
                }
                Some(Err(e)) => {
                    if crate::signalr::too_big(&e) {
                        crate::signalr::close_too_big(&mut socket, MAX_FRAME).await;
                    }
                    return;
                }
                Some(Ok(Message::Close(_))) | None => return,
                Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
            },
        }
        for text in replies.into_iter().chain(out.iter().map(Value::to_string)) {
            if socket.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> crate::Simulator {
        crate::Simulator::new(crate::SimConfig {
            universe: crate::UniverseSize {
                hose: 30,
                hnx: 10,
                upcom: 10,
            },
            history_days: 5,
            ..crate::SimConfig::demo()
        })
        .unwrap()
    }

    #[test]
    fn topic_grammar() {
        let s = sim();
        let core = &s.core;
        let t = parse(core, "trade.ssi").unwrap();
        assert_eq!((t.kind, t.text.as_str()), (Type::Trade, "trade.SSI"));
        assert_eq!(t.filter, Some(BTreeSet::from(["SSI".to_owned()])));
        assert_eq!(parse(core, "trade.SSI@1m").unwrap().kind, Type::Bar1);
        assert_eq!(parse(core, "trade.SSI@tick").unwrap().kind, Type::Trade);
        assert!(parse(core, "quote.SSI@1m").is_err());
        assert!(parse(core, "trade.SSI@1h").is_err());
        assert_eq!(parse(core, "market.flag").unwrap().text, "market.FLAG");
        assert_eq!(parse(core, "trade.*").unwrap().filter, None);
        let hnx = parse(core, "quote.HNX").unwrap().filter.unwrap();
        assert_eq!(hnx.len(), 10);
        let vn30 = parse(core, "trade.VN30").unwrap().filter.unwrap();
        assert!(vn30.len() > 1 && !vn30.contains("VN30"));
        let idx = parse(core, "trade.index.vnindex").unwrap();
        assert_eq!(
            (idx.kind, idx.filter),
            (
                Type::TradeIndex,
                Some(BTreeSet::from(["VNINDEX".to_owned()]))
            )
        );
        let up = parse(core, "indexsummary.UPCOMINDEX")
            .unwrap()
            .filter
            .unwrap();
        assert!(up.contains("HNXUPCOMINDEX"));
        let range = parse(core, "trade.A-B").unwrap().filter.unwrap();
        assert!(range.iter().all(|s| s.as_str() >= "A" && s.as_str() <= "B"));
        assert_eq!(parse(core, "order.0001001").unwrap().text, "order.0001001");
        assert!(
            parse(core, "asset.0001001")
                .unwrap_err()
                .contains("not live")
        );
        assert!(parse(core, "trade.SS;I").is_err());
        assert!(parse(core, "nonsense").is_err());
    }
}
