//! The FC Data hub: classic ASP.NET SignalR (`negotiate`, `connect`, `start`, `abort`,
//! `ping`) with hub `FcMarketDataV2Hub`, client method `SwitchChannels(channel)` and server
//! method `Broadcast(payload)` whose payload is double-encoded JSON, fed from the
//! generator's tapes at simulated time.
//!
//! A connection holds at most `hub_max_subscriptions` channel subscriptions and
//! `hub_max_symbols` symbols over all of them (a `SwitchChannels` past either is a hub
//! error, and changes nothing), and may send messages of at most `hub_max_message_bytes`
//! (larger ones close it with 1009, as SignalR does). Each push covers at most
//! `MAX_LAG_SECS` (600) simulated seconds, so a very fast clock cannot make one push
//! unbounded.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use fastconnect::wire::format_date;
use market::InstrumentKind;
use serde_json::{Value, json};

use crate::auth::Audience;
use crate::live::{Level, LiveDay, quote_levels};
use crate::rest::Params;
use crate::signalr::{abort, error_result, frame, invocation_id, negotiate_body, ping, start};
use crate::sim::Core;
use crate::tape::{DayTape, OddLotUpdate, Trade, display_price, display_value};
use crate::universe::Instrument;

/// Hub name.
pub const HUB: &str = "FcMarketDataV2Hub";

/// How often the hub pushes, in wall time.
const PUMP_MS: u64 = 100;
/// Keep-alive period, wall time (negotiate advertises 20 s).
const KEEP_ALIVE_SECS: u64 = 10;
/// Index values are published every this many simulated seconds.
const INDEX_EVERY_SECS: u32 = 5;
/// Most simulated seconds one push covers; older messages are skipped at extreme speeds.
pub(crate) const MAX_LAG_SECS: u32 = 600;

pub(crate) fn router() -> Router<Arc<Core>> {
    Router::new()
        .route("/v2.0/signalr/negotiate", any(negotiate))
        .route("/v2.0/signalr/connect", get(connect))
        .route("/v2.0/signalr/reconnect", get(connect))
        .route("/v2.0/signalr/start", any(start))
        .route("/v2.0/signalr/abort", any(abort))
        .route("/v2.0/signalr/ping", any(ping))
}

/// Bearer from the header, or `access_token` in the query (Java SDK).
pub(crate) fn authorized(
    core: &Core,
    headers: &HeaderMap,
    query: Option<&str>,
    audience: Audience,
) -> bool {
    let header_value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let from_query = Params::parse(query)
        .get("access_token")
        .map(|t| format!("Bearer {t}"));
    core.tokens()
        .check(header_value.or(from_query.as_deref()), audience)
        .is_ok()
}

async fn negotiate(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if !authorized(&core, &headers, q.as_deref(), Audience::Data) {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    negotiate_body(&Params::parse(q.as_deref()))
}

async fn connect(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    axum::Extension(closing): axum::Extension<crate::http::Closing>,
    ws: WebSocketUpgrade,
) -> Response {
    if !authorized(&core, &headers, q.as_deref(), Audience::Data) {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    let max = core.config.hub_max_message_bytes;
    crate::signalr::limited(ws, max).on_upgrade(move |socket| closing.run(run(core, socket)))
}

/// One `SwitchChannels` subscription: a channel type and its symbols (`None` = `ALL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscription {
    pub(crate) kind: Kind,
    pub(crate) symbols: Option<HashSet<String>>,
}

/// Channel types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Status,
    Snapshot,
    Quote,
    Trade,
    Room,
    Index,
    Bar,
    OddLot,
}

impl Kind {
    fn wire(self) -> &'static str {
        match self {
            Kind::Status => "F",
            Kind::Snapshot => "X",
            Kind::Quote => "X-QUOTE",
            Kind::Trade => "X-TRADE",
            Kind::Room => "R",
            Kind::Index => "MI",
            Kind::Bar => "B",
            Kind::OddLot => "OL",
        }
    }
}

/// Parses `X-QUOTE:SSI-ACB`, `MI:ALL`, `F: SSI` (channel grammar of reference §4.2).
pub(crate) fn parse_channel(text: &str) -> Result<Subscription, String> {
    let (kind, list) = text
        .split_once(':')
        .ok_or_else(|| format!("Channel '{text}' is invalid: expected <TYPE>:<symbols|ALL>"))?;
    let kind = match kind.trim().to_ascii_uppercase().as_str() {
        "F" => Kind::Status,
        "X" => Kind::Snapshot,
        "X-QUOTE" | "QUOTE" => Kind::Quote,
        "X-TRADE" | "TRADE" => Kind::Trade,
        "R" => Kind::Room,
        "MI" => Kind::Index,
        "B" => Kind::Bar,
        "OL" => Kind::OddLot,
        other => return Err(format!("Channel type '{other}' is invalid")),
    };
    let list = list.trim();
    if list.is_empty() {
        return Err(format!("Channel '{text}' has no symbols"));
    }
    let symbols = if list.eq_ignore_ascii_case("ALL") {
        None
    } else {
        Some(
            list.split('-')
                .map(|s| s.trim().to_ascii_uppercase())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    };
    Ok(Subscription { kind, symbols })
}

fn wants(subs: &[Subscription], kind: Kind, symbol: &str) -> bool {
    subs.iter().any(|s| {
        s.kind == kind
            && s.symbols
                .as_ref()
                .is_none_or(|set| set.contains(&symbol.to_ascii_uppercase()))
    })
}

fn hms(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

pub(crate) fn session_code(phase: market::session::Phase) -> &'static str {
    use market::session::Phase;
    match phase {
        Phase::OpeningAuction => "ATO",
        Phase::Continuous
        | Phase::PeriodicAuction(_)
        | Phase::PloMatching
        | Phase::PloCollection => "LO",
        Phase::ClosingAuction => "ATC",
        Phase::Break => "BREAK",
        Phase::PutThrough | Phase::PutThroughAfterHours | Phase::PutThroughOnly => "PT",
        Phase::Halted => "HALT",
        Phase::Closed | Phase::PreOpen => "C",
    }
}

/// `StockType` of the `OL` payload (reference §4.4: "Stock/Bond/ETF...").
fn stock_type(kind: InstrumentKind) -> &'static str {
    match kind {
        InstrumentKind::Stock => "Stock",
        InstrumentKind::Etf => "ETF",
        InstrumentKind::FundCertificate => "Fund",
        InstrumentKind::CoveredWarrant => "CW",
        InstrumentKind::Bond => "Bond",
        InstrumentKind::IndexFuture => "Future",
    }
}

/// The double-encoded `Broadcast` argument.
pub(crate) fn payload(kind: Kind, content: &Value) -> Value {
    Value::String(json!({"DataType": kind.wire(), "Content": content.to_string()}).to_string())
}

/// Market-data messages of one instrument after trade `k` of its tape.
struct Ctx<'a> {
    core: &'a Core,
    x: &'a Instrument,
    tape: &'a DayTape,
}

impl Ctx<'_> {
    fn levels(&self, k: usize) -> (Vec<Level>, Vec<Level>) {
        quote_levels(&self.core.generator, self.x, self.tape, k)
    }

    fn common(&self, kind: Kind, secs: u32) -> Value {
        let phase = self
            .core
            .generator
            .phase(self.x.exchange, self.x.kind, self.tape.date, secs);
        json!({"RType": kind.wire(), "TradingDate": format_date(self.tape.date), "Time": hms(secs),
            "Symbol": self.x.symbol, "Exchange": self.x.exchange.ssi_code(), "MarketId": self.x.exchange.ssi_code(),
            "TradingSession": session_code(phase), "TradingStatus": "N"})
    }

    fn quote_fields(&self, v: &mut Value, k: usize) {
        let (bids, asks) = self.levels(k);
        for n in 1..=10 {
            let b = bids.get(n - 1).copied().unwrap_or((0, 0));
            let a = asks.get(n - 1).copied().unwrap_or((0, 0));
            v[format!("BidPrice{n}")] = json!(display_price(self.x, b.0));
            v[format!("BidVol{n}")] = json!(b.1);
            v[format!("AskPrice{n}")] = json!(display_price(self.x, a.0));
            v[format!("AskVol{n}")] = json!(a.1);
        }
    }

    fn trade_fields(&self, v: &mut Value, k: usize) {
        let trades = &self.tape.trades[..=k.min(self.tape.trades.len().saturating_sub(1))];
        let Some(last) = trades.last() else { return };
        let x = self.x;
        let l = self.tape.limits;
        let (vol, val) = trades.iter().fold((0u64, 0i128), |(v, s), t| {
            (v + t.volume, s + i128::from(t.price) * i128::from(t.volume))
        });
        let high = trades.iter().map(|t| t.price).max().unwrap_or(last.price);
        let low = trades.iter().map(|t| t.price).min().unwrap_or(last.price);
        let reference = l.reference.units();
        let avg = if vol > 0 {
            (val / i128::from(vol)) as i64
        } else {
            reference
        };
        let change = last.price - reference;
        let est = matches!(
            last.phase,
            market::session::Phase::OpeningAuction | market::session::Phase::ClosingAuction
        );
        v["Isin"] = json!(x.isin);
        v["Ceiling"] = json!(display_price(x, l.ceiling.units()));
        v["Floor"] = json!(display_price(x, l.floor.units()));
        v["RefPrice"] = json!(display_price(x, reference));
        v["PriorVal"] = json!(display_price(x, reference));
        v["AvgPrice"] = json!(display_price(x, avg));
        v["LastPrice"] = json!(display_price(x, last.price));
        v["LastVol"] = json!(last.volume);
        v["TotalVal"] = json!(crate::tape::display_value(x, val));
        v["TotalVol"] = json!(vol);
        v["Highest"] = json!(display_price(x, high));
        v["Lowest"] = json!(display_price(x, low));
        v["Open"] = json!(display_price(
            x,
            trades.first().map_or(reference, |t| t.price)
        ));
        v["High"] = json!(display_price(x, high));
        v["Low"] = json!(display_price(x, low));
        v["Close"] = json!(display_price(x, last.price));
        v["Change"] = json!(display_price(x, change));
        v["RatioChange"] =
            json!(((change as f64 / reference.max(1) as f64) * 10_000.0).round() / 100.0);
        v["EstMatchedPrice"] = json!(if est {
            display_price(x, last.price)
        } else {
            display_price(x, 0)
        });
        v["Side"] = json!(last.side.code());
    }

    fn messages(&self, k: usize, subs: &[Subscription], out: &mut Vec<Value>) {
        let Some(t): Option<&Trade> = self.tape.trades.get(k) else {
            return;
        };
        let sym = &self.x.symbol;
        if wants(subs, Kind::Trade, sym) {
            let mut v = self.common(Kind::Trade, t.secs);
            self.trade_fields(&mut v, k);
            out.push(payload(Kind::Trade, &v));
        }
        if wants(subs, Kind::Quote, sym) {
            let mut v = self.common(Kind::Quote, t.secs);
            self.quote_fields(&mut v, k);
            out.push(payload(Kind::Quote, &v));
        }
        if wants(subs, Kind::Snapshot, sym) {
            let mut v = self.common(Kind::Snapshot, t.secs);
            self.trade_fields(&mut v, k);
            self.quote_fields(&mut v, k);
            out.push(payload(Kind::Snapshot, &v));
        }
        if wants(subs, Kind::Bar, sym) {
            let p = json!(display_price(self.x, t.price));
            let v = json!({"RType": "B", "Symbol": sym, "TradingTime": hms(t.secs), "Time": hms(t.secs),
                "Open": p, "High": p, "Low": p, "Close": p, "Volume": t.volume, "Value": 0});
            out.push(payload(Kind::Bar, &v));
        }
    }

    /// The `OL` message of one odd-lot board update (reference §4.4).
    fn odd_lot(&self, u: &OddLotUpdate) -> Value {
        let (x, l) = (self.x, self.tape.limits);
        let price = |p: Option<i64>| json!(display_price(x, p.unwrap_or(0)));
        let reference = l.reference.units();
        let change = u.last.map_or(0, |p| p.price - reference);
        let mut v = json!({"RType": Kind::OddLot.wire(), "TradingDate": format_date(self.tape.date),
            "Time": hms(u.secs), "StockNo": self.tape.instrument + 1, "Symbol": x.symbol,
            "Ceiling": display_price(x, l.ceiling.units()), "Floor": display_price(x, l.floor.units()),
            "RefPrice": display_price(x, reference), "Open": price(u.open), "High": price(u.high),
            "Low": price(u.low), "LastPrice": price(u.last.map(|p| p.price)),
            "LastVol": u.last.map_or(0, |p| p.volume),
            "TotalVal": display_value(x, u.round_value_units + u.odd_value_units),
            "TotalVol": u.round_volume + u.odd_volume, "Exchange": x.exchange.ssi_code(),
            "TradingSession": session_code(u.phase), "TradingStatus": "N",
            "Change": display_price(x, change),
            "RatioChange": ((change as f64 / reference.max(1) as f64) * 10_000.0).round() / 100.0,
            "StockType": stock_type(x.kind)});
        for n in 1..=crate::tape::ODD_LOT_DEPTH {
            let b = u.bids.get(n - 1).copied().unwrap_or((0, 0));
            let a = u.asks.get(n - 1).copied().unwrap_or((0, 0));
            v[format!("BidPrice{n}")] = json!(display_price(x, b.0));
            v[format!("BidVol{n}")] = json!(b.1);
            v[format!("AskPrice{n}")] = json!(display_price(x, a.0));
            v[format!("AskVol{n}")] = json!(a.1);
        }
        payload(Kind::OddLot, &v)
    }

    fn status(&self, secs: u32) -> Value {
        let mut v = self.common(Kind::Status, secs);
        let phase = self
            .core
            .generator
            .phase(self.x.exchange, self.x.kind, self.tape.date, secs);
        v["TradingSession"] = json!(match session_code(phase) {
            "H" => "HALT",
            c => c,
        });
        payload(Kind::Status, &v)
    }

    fn room(&self, secs: u32) -> Value {
        let mut v = self.common(Kind::Room, secs);
        let total = i128::from(self.x.listed_shares)
            * i128::from(self.core.generator.rules().foreign.default_limit_bps)
            / 10_000;
        v["Isin"] = json!(self.x.isin);
        v["TotalRoom"] = json!(total);
        v["CurrentRoom"] = json!(total);
        for k in ["BuyVol", "SellVol", "BuyVal", "SellVal"] {
            v[k] = json!(0);
        }
        payload(Kind::Room, &v)
    }
}

/// Every message due in the simulated window `(from, to]` of today, for `subs`.
pub(crate) fn collect(
    core: &Core,
    live: &LiveDay,
    subs: &[Subscription],
    from: u32,
    to: u32,
    out: &mut Vec<Value>,
) {
    let universe = core.generator.universe();
    for tape in &live.tapes {
        let Some(x) = universe.instrument(tape.instrument) else {
            continue;
        };
        let interested = [Kind::Trade, Kind::Quote, Kind::Snapshot, Kind::Bar]
            .iter()
            .any(|k| wants(subs, *k, &x.symbol));
        let odd_lot = wants(subs, Kind::OddLot, &x.symbol);
        if !interested && !odd_lot {
            continue;
        }
        let start = tape.trades.partition_point(|t| t.secs <= from);
        let end = tape.trades.partition_point(|t| t.secs <= to);
        if start >= end {
            continue;
        }
        let odd = odd_lot.then(|| live.odd_lot(&core.generator, tape));
        let odd_updates = odd.as_deref().map_or(&[][..], |o| {
            let a = o.updates.partition_point(|u| u.trade < start);
            let b = o.updates.partition_point(|u| u.trade < end);
            o.updates.get(a..b).unwrap_or_default()
        });
        let mut odd_updates = odd_updates.iter().peekable();
        let ctx = Ctx { core, x, tape };
        for k in start..end {
            ctx.messages(k, subs, out);
            while let Some(u) = odd_updates.next_if(|u| u.trade == k) {
                out.push(ctx.odd_lot(u));
            }
        }
    }
    let first_tick = from / INDEX_EVERY_SECS + 1;
    let last_tick = to / INDEX_EVERY_SECS;
    if first_tick <= last_tick {
        let secs = last_tick * INDEX_EVERY_SECS;
        for (i, def) in universe.indices().iter().enumerate() {
            if !wants(subs, Kind::Index, &def.code) {
                continue;
            }
            let price_at = |m: usize| {
                live.tapes.get(m).map_or(1, |t| {
                    let n = t.trades.partition_point(|tr| tr.secs <= secs);
                    n.checked_sub(1)
                        .and_then(|k| t.trades.get(k))
                        .map_or(t.limits.reference.units(), |tr| tr.price)
                })
            };
            let prior = core.generator.index_value(i, |m| {
                live.tapes.get(m).map_or(1, |t| t.limits.reference.units())
            });
            let value = core.generator.index_value(i, price_at);
            let (mut vol, mut val, mut adv, mut dec, mut unch) = (0u64, 0i128, 0, 0, 0);
            let (mut pt_vol, mut pt_val) = (0u64, 0i128);
            for &m in &def.members {
                if let Some(deals) = live.put_throughs.get(m) {
                    let (v, units) = crate::history::deal_totals(deals, Some(secs));
                    pt_vol += v;
                    pt_val += units;
                }
                if let Some(t) = live.tapes.get(m) {
                    for tr in t.trades.iter().take_while(|tr| tr.secs <= secs) {
                        vol += tr.volume;
                        val += i128::from(tr.price) * i128::from(tr.volume);
                    }
                    match price_at(m).cmp(&t.limits.reference.units()) {
                        std::cmp::Ordering::Greater => adv += 1,
                        std::cmp::Ordering::Less => dec += 1,
                        std::cmp::Ordering::Equal => unch += 1,
                    }
                }
            }
            let phase = core
                .generator
                .phase(def.exchange, InstrumentKind::Stock, live.date, secs);
            let change = ((value - prior) * 100.0).round() / 100.0;
            let v = json!({"RType": "MI", "IndexId": def.code, "IndexValue": value, "IndexValEst": 0,
                "PriorIndexValue": prior, "TradingDate": format_date(live.date), "Time": hms(secs),
                "Change": change, "RatioChange": ((change / prior.max(0.01)) * 10_000.0).round() / 100.0,
                "TotalTrade": 0, "TotalQtty": vol, "TotalValue": val, "IndexName": def.name, "IndexType": "Main",
                "Advances": adv, "NoChanges": unch, "Declines": dec, "Ceilings": 0, "Floors": 0,
                "TotalQttyPt": pt_vol, "TotalValuePt": pt_val, "TotalQttyOd": 0, "TotalValueOd": 0,
                "AllQty": vol + pt_vol, "AllValue": val + pt_val, "Exchange": def.exchange.ssi_code(),
                "TradingSession": session_code(phase), "MarketId": def.exchange.ssi_code()});
            out.push(payload(Kind::Index, &v));
        }
    }
}

/// Snapshot messages sent right after a subscription: `F` status and `R` room.
fn on_subscribe(core: &Core, live: &LiveDay, sub: &Subscription, secs: u32, out: &mut Vec<Value>) {
    if !matches!(sub.kind, Kind::Status | Kind::Room) {
        return;
    }
    let universe = core.generator.universe();
    for tape in &live.tapes {
        let Some(x) = universe.instrument(tape.instrument) else {
            continue;
        };
        if sub.symbols.as_ref().is_some_and(|s| !s.contains(&x.symbol)) {
            continue;
        }
        let ctx = Ctx { core, x, tape };
        out.push(match sub.kind {
            Kind::Room => ctx.room(secs),
            Kind::Status
            | Kind::Snapshot
            | Kind::Quote
            | Kind::Trade
            | Kind::Index
            | Kind::Bar
            | Kind::OddLot => ctx.status(secs),
        });
    }
}

/// Messages per frame: keeps frames small for slow clients.
const BATCH: usize = 64;

/// What a connection subscribed to, within its caps.
#[derive(Debug, Default)]
struct Subscriptions {
    subs: Vec<Subscription>,
    symbols: usize,
}

async fn run(core: Arc<Core>, mut socket: WebSocket) {
    if socket
        .send(Message::Text(crate::signalr::init_frame().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut subs = Subscriptions::default();
    let mut cursor: u64 = 1;
    let (mut date, mut last) = core.local_now();
    let mut pump = tokio::time::interval(Duration::from_millis(PUMP_MS));
    pump.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut keep_alive = tokio::time::interval(Duration::from_secs(KEEP_ALIVE_SECS));
    loop {
        let mut out = Vec::new();
        tokio::select! {
            _ = pump.tick() => {
                let (today, now) = core.local_now();
                if today != date {
                    date = today;
                    last = 0;
                }
                if now > last && !subs.subs.is_empty() && let Some(live) = core.live.get(today).await {
                    let from = last.max(now.saturating_sub(MAX_LAG_SECS));
                    collect(&core, &live, &subs.subs, from, now, &mut out);
                }
                last = last.max(now);
            }
            _ = keep_alive.tick() => {
                if socket.send(Message::Text("{}".into())).await.is_err() { return }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let live = core.live.get(date).await;
                    let reply = invoke(&core, live.as_deref(), text.as_str(), &mut subs, last, &mut out);
                    if socket.send(Message::Text(reply.into())).await.is_err() { return }
                }
                Some(Err(e)) => {
                    if crate::signalr::too_big(&e) {
                        crate::signalr::close_too_big(&mut socket, core.config.hub_max_message_bytes).await;
                    }
                    return;
                }
                Some(Ok(Message::Close(_))) | None => return,
                Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
            },
        }
        for chunk in out.chunks(BATCH) {
            cursor += 1;
            if socket
                .send(Message::Text(frame(HUB, cursor, chunk.to_vec()).into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// Handles one client frame; returns the result frame.
fn invoke(
    core: &Core,
    live: Option<&LiveDay>,
    text: &str,
    subs: &mut Subscriptions,
    now: u32,
    out: &mut Vec<Value>,
) -> String {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return error_result("0", "Invalid message: not JSON");
    };
    let id = invocation_id(&frame);
    let hub = frame["H"].as_str().unwrap_or_default();
    let method = frame["M"].as_str().unwrap_or_default();
    if !hub.eq_ignore_ascii_case(HUB) {
        return error_result(&id, &format!("'{hub}' Hub could not be resolved."));
    }
    if !method.eq_ignore_ascii_case("SwitchChannels") {
        return error_result(&id, &format!("'{method}' method could not be resolved."));
    }
    let Some(channel) = frame["A"].get(0).and_then(Value::as_str) else {
        return error_result(&id, "SwitchChannels expects one string argument");
    };
    let sub = match parse_channel(channel) {
        Ok(sub) => sub,
        Err(e) => return error_result(&id, &e),
    };
    if !subs.subs.contains(&sub) {
        let (max_subs, max_symbols) = (
            core.config.hub_max_subscriptions,
            core.config.hub_max_symbols,
        );
        if subs.subs.len() >= max_subs {
            return error_result(
                &id,
                &format!("Too many subscriptions on this connection: at most {max_subs}"),
            );
        }
        let n = sub.symbols.as_ref().map_or(0, HashSet::len);
        if subs.symbols.saturating_add(n) > max_symbols {
            return error_result(
                &id,
                &format!(
                    "Too many symbols on this connection: at most {max_symbols} (use ALL for every symbol)"
                ),
            );
        }
        subs.symbols += n;
        subs.subs.push(sub.clone());
    }
    if let Some(live) = live {
        on_subscribe(core, live, &sub, now, out);
    }
    json!({"I": id}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_grammar_accepts_ssi_forms_and_rejects_garbage() {
        let s = parse_channel("X-QUOTE:SSI-ACB").unwrap();
        assert_eq!(s.kind, Kind::Quote);
        assert_eq!(s.symbols.unwrap().len(), 2);
        assert_eq!(parse_channel("mi:ALL").unwrap().symbols, None);
        assert_eq!(parse_channel("F: SSI").unwrap().kind, Kind::Status);
        assert!(parse_channel("X-QUOTE").is_err());
        assert!(parse_channel("NOPE:SSI").is_err());
        assert!(parse_channel("X:").is_err());
    }

    #[test]
    fn broadcast_payload_is_double_encoded() {
        let p = payload(Kind::Trade, &json!({"RType": "X-TRADE", "Symbol": "SSI"}));
        let outer: Value = serde_json::from_str(p.as_str().unwrap()).unwrap();
        assert_eq!(outer["DataType"], "X-TRADE");
        let inner: Value = serde_json::from_str(outer["Content"].as_str().unwrap()).unwrap();
        assert_eq!(inner["Symbol"], "SSI");
    }

    fn small_sim(seed: u64) -> crate::Simulator {
        crate::Simulator::new(crate::SimConfig {
            seed,
            start: time::macros::datetime!(2025-06-10 09:14:40 +7),
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

    /// The `Content` objects of the whole day's messages for `channels`.
    fn day_of(sim: &crate::Simulator, channels: &[&str]) -> Vec<Value> {
        window_of(sim, channels, 0, 86_399)
    }

    /// The `Content` objects of the messages due in `(from, to]` for `channels`.
    fn window_of(sim: &crate::Simulator, channels: &[&str], from: u32, to: u32) -> Vec<Value> {
        let core = &sim.core;
        let (today, _) = core.local_now();
        let live = core.live.get_blocking(today).unwrap();
        let subs: Vec<Subscription> = channels.iter().map(|c| parse_channel(c).unwrap()).collect();
        let mut out = Vec::new();
        collect(core, &live, &subs, from, to, &mut out);
        out.iter()
            .map(|p| {
                let outer: Value = serde_json::from_str(p.as_str().unwrap()).unwrap();
                serde_json::from_str(outer["Content"].as_str().unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn odd_lot_messages_carry_exactly_the_reference_keys() {
        let sim = small_sim(1);
        let day = day_of(&sim, &["OL:SSI"]);
        assert!(day.len() > 50, "{} OL messages", day.len());
        let mut expected: Vec<String> = [
            "RType",
            "TradingDate",
            "Time",
            "StockNo",
            "Symbol",
            "Ceiling",
            "Floor",
            "RefPrice",
            "Open",
            "High",
            "Low",
            "LastPrice",
            "LastVol",
            "TotalVal",
            "TotalVol",
            "Exchange",
            "TradingSession",
            "TradingStatus",
            "Change",
            "RatioChange",
            "StockType",
        ]
        .map(str::to_owned)
        .to_vec();
        for n in 1..=3 {
            for k in ["BidPrice", "BidVol", "AskPrice", "AskVol"] {
                expected.push(format!("{k}{n}"));
            }
        }
        expected.sort();
        for m in &day {
            let mut keys: Vec<String> = m.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            assert_eq!(keys, expected);
            assert_eq!(m["RType"], "OL");
            assert_eq!(m["Symbol"], "SSI");
            assert_eq!(m["Exchange"], "HOSE");
            assert_eq!(m["StockType"], "Stock");
            assert!(m["LastVol"].as_u64().unwrap() < 100);
        }
        assert!(day.iter().any(|m| m["LastVol"].as_u64() > Some(0)));
    }

    #[test]
    fn odd_lot_subscriptions_select_symbols_and_skip_futures() {
        let sim = small_sim(1);
        let symbols = |day: &[Value]| -> HashSet<String> {
            day.iter()
                .map(|m| m["Symbol"].as_str().unwrap().to_owned())
                .collect()
        };
        let pair = day_of(&sim, &["OL:SSI-FPT"]);
        assert_eq!(
            symbols(&pair),
            HashSet::from(["SSI".to_owned(), "FPT".to_owned()])
        );
        // 10:00 to 10:10: a busy stretch of continuous trading.
        let all = window_of(&sim, &["OL:ALL"], 36_000, 36_600);
        let all_symbols = symbols(&all);
        assert!(all_symbols.len() > 40, "{} symbols", all_symbols.len());
        assert!(!all_symbols.iter().any(|s| s.starts_with("VN30F")));
        assert!(all.iter().all(|m| m["RType"] == "OL"));
    }

    #[test]
    fn the_odd_lot_feed_is_a_function_of_the_seed() {
        let feed = |seed| day_of(&small_sim(seed), &["OL:SSI-FPT"]);
        let first = feed(1);
        assert!(!first.is_empty());
        assert_eq!(feed(1), first);
        assert_ne!(feed(2), first);
    }
}
