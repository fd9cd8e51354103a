//! The FastConnect v2 adapter: [`V2Data`] over [`fastconnect::DataClient`] and
//! [`V2Trading`] over [`fastconnect::TradingClient`].
//!
//! - Exactly-once: the [`ClientOrderId`] is sent as `requestID`; SSI refuses a reused one
//!   ("Duplicate requestID"), answered as [`Error::Duplicate`].
//! - The account stream resumes by NotifyID (start of day on first open, or the cursor file
//!   `notify_id_file`), so a reconnect misses nothing: it reports
//!   [`AccountEvent::Reconnected`], never a gap.
//! - v2's order book names an order by the `requestID` of its *latest* action; this adapter
//!   also learns each order's placing id from the stream's `origRequestID`, so
//!   [`OrderState::client_order_id`] is known for every order seen on the stream.
//! - Conditional orders: [`Error::Unsupported`] (v2's stop orders exist on derivatives only,
//!   so the OMS holds conditional orders itself).
//! - History (`DailyOhlc`, `IntradayOhlc`, `DailyIndex`) is asked in 30-day windows, SSI's
//!   limit per query, and each window paged to the end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fastconnect::data::{
    DailyIndexQuery, DailyOhlcQuery, DailyStockPriceQuery, IndexComponentsQuery, IndexListQuery,
    IntradayOhlcQuery, MAX_PAGE_INDEX, PageSize, Paging, SecuritiesDetailsQuery, SecuritiesQuery,
};
use fastconnect::trading::stream::{OrderErrorEvent, OrderEvent, OrderMatchEvent};
use fastconnect::trading::{CancelOrder, ModifyOrder, NewOrder, OrderItem, RequestId};
use fastconnect::{Channel, ChannelKind, DataClient, Decimal, TradingClient, TradingMarket};
use market::calendar::VN_OFFSET;
use market::order::Amendment;
use market::{Board, Exchange, Price, Quantity, Symbol};
use time::{Date, OffsetDateTime, Time};

use crate::error::{Error, Generation, Result};
use crate::map::{
    count, instrument_kind, mapped, order_type, side, status, wire_order_type, wire_side,
};
use crate::price::{index_value, opt_price, price, quantity, symbol, vnd, wire};
use crate::types::{
    AccountEvent, AmendRequest, Balance, Bar, BarsQuery, CancelRequest, ClientOrderId,
    ConditionalOrder, ConditionalRequest, ConditionalStep, ConditionalSupport, DailyPrice, Fill,
    IndexInfo, IndexPoint, Level, MarketEvent, MaxQuantities, OrderAck, OrderKey, OrderRequest,
    OrderState, OrderStatus, Position, SecurityDetail, SecurityInfo, SecuritySnapshot,
    Subscription,
};
use crate::{EventStream, MarketData, Trading};
use crate::{OtpRequested, TradingSession};

const GEN: Generation = Generation::V2;

fn ssi(e: fastconnect::Error) -> Error {
    Error::from_ssi(GEN, e)
}

fn trading_market(s: Symbol) -> TradingMarket {
    if crate::price::scale(s.as_str()) == 10 {
        TradingMarket::Vnfe
    } else {
        TradingMarket::Vn
    }
}

fn request_id(id: ClientOrderId) -> Result<RequestId> {
    RequestId::new(id.get()).map_err(|e| Error::Invalid(e.to_string()))
}

fn wire_price(s: Symbol, p: Option<Price>) -> Decimal {
    p.map_or(Decimal::ZERO, |p| wire(s.as_str(), p))
}

fn at(date: Date, t: Option<Time>) -> OffsetDateTime {
    date.with_time(t.unwrap_or(Time::MIDNIGHT))
        .assume_offset(VN_OFFSET)
}

/// The v2 channels of a subscription (`ALL` for the whole market or every index).
pub(crate) fn channels(subscription: &Subscription) -> Result<Vec<Channel>> {
    if subscription.is_empty() {
        return Err(Error::Invalid(
            "subscribe to at least one symbol or index".into(),
        ));
    }
    let mut kinds = Vec::new();
    if subscription.all_symbols || !subscription.symbols.is_empty() {
        kinds.extend([
            ChannelKind::Trade,
            ChannelKind::Quote,
            ChannelKind::SecurityStatus,
        ]);
        if subscription.foreign_room {
            kinds.push(ChannelKind::ForeignRoom);
        }
        if subscription.bars {
            kinds.push(ChannelKind::Bar);
        }
        if subscription.odd_lot {
            kinds.push(ChannelKind::OddLot);
        }
    }
    let mut out = Vec::new();
    for kind in kinds {
        out.push(if subscription.all_symbols {
            Channel::all(kind)
        } else {
            Channel::symbols(kind, subscription.symbols.iter().map(Symbol::as_str)).map_err(ssi)?
        });
    }
    if subscription.all_indexes {
        out.push(Channel::all(ChannelKind::Index));
    } else if !subscription.indexes.is_empty() {
        out.push(
            Channel::symbols(ChannelKind::Index, subscription.indexes.iter().cloned())
                .map_err(ssi)?,
        );
    }
    Ok(out)
}

/// SSI v2 answers at most 30 days per history query: `from..=to` in such windows.
fn windows(from: Date, to: Date) -> Vec<(Date, Date)> {
    let mut out = Vec::new();
    let mut a = from;
    while a <= to {
        let b = a.saturating_add(time::Duration::days(29)).min(to);
        out.push((a, b));
        match b.next_day() {
            Some(next) => a = next,
            None => break,
        }
    }
    out
}

/// v2 market data.
#[derive(Debug, Clone)]
pub struct V2Data {
    client: DataClient,
}

impl V2Data {
    /// An adapter over `client`.
    pub fn new(client: DataClient) -> Self {
        Self { client }
    }
}

/// Book levels of `sym`, best first, without SSI's empty (zero) levels.
fn levels(sym: &str, side: &[fastconnect::data::stream::PriceLevel]) -> Result<Vec<Level>> {
    side.iter()
        .filter(|l| !l.price.is_zero())
        .map(|l| {
            Ok(Level {
                price: price(sym, l.price)?,
                volume: quantity("volume", Some(l.volume))?,
            })
        })
        .collect()
}

fn market_event(state: &mut bool, e: fastconnect::MarketEvent) -> Option<Result<MarketEvent>> {
    use fastconnect::MarketEvent as E;
    let out = match e {
        E::Connected => {
            let again = std::mem::replace(state, true);
            return again.then_some(Ok(MarketEvent::Reconnected));
        }
        E::Disconnected { reason } => Ok(MarketEvent::Gap { reason }),
        E::Trade(t) => {
            let last = t.last_price.filter(|p| !p.is_zero())?;
            (|| {
                Ok(MarketEvent::Trade {
                    symbol: symbol(&t.symbol)?,
                    price: price(&t.symbol, last)?,
                    quantity: quantity("LastVol", t.last_vol)?,
                    total_volume: t
                        .total_vol
                        .map(|v| quantity("TotalVol", Some(v)))
                        .transpose()?,
                    time: t.time,
                })
            })()
        }
        E::Quote(q) => (|| {
            Ok(MarketEvent::Quote {
                symbol: symbol(&q.symbol)?,
                board: Board::Main,
                bids: levels(&q.symbol, &q.bids)?,
                asks: levels(&q.symbol, &q.asks)?,
            })
        })(),
        E::OddLot(q) => (|| {
            Ok(MarketEvent::Quote {
                symbol: symbol(&q.symbol)?,
                board: Board::OddLot,
                bids: levels(&q.symbol, &q.bids)?,
                asks: levels(&q.symbol, &q.asks)?,
            })
        })(),
        E::Index(i) => index_value(i.index_value).map(|value| MarketEvent::Index {
            index: i.index_id,
            value,
        }),
        E::ForeignRoom(r) => (|| {
            Ok(MarketEvent::ForeignRoom {
                symbol: symbol(&r.symbol)?,
                current_room: r
                    .current_room
                    .map(|v| quantity("CurrentRoom", Some(v)))
                    .transpose()?,
                total_room: r
                    .total_room
                    .map(|v| quantity("TotalRoom", Some(v)))
                    .transpose()?,
            })
        })(),
        E::Bar(b) => (|| {
            let p = |v: Option<Decimal>| {
                v.ok_or_else(|| Error::Mapping {
                    what: format!("bar of {} without a price", b.symbol),
                })
                .and_then(|v| price(&b.symbol, v))
            };
            let today = OffsetDateTime::now_utc().to_offset(VN_OFFSET).date();
            Ok(MarketEvent::Bar(Bar {
                symbol: symbol(&b.symbol)?,
                time: at(today, b.time),
                open: p(b.open)?,
                high: p(b.high)?,
                low: p(b.low)?,
                close: p(b.close)?,
                volume: quantity("Volume", b.volume)?,
            }))
        })(),
        E::SecurityStatus(s) => {
            let status = match (&s.trading_status, &s.trading_session) {
                (Some(st), _) => st.to_string(),
                (None, Some(session)) => session.to_string(),
                (None, None) => return None,
            };
            symbol(&s.symbol).map(|sym| MarketEvent::Status {
                symbol: Some(sym),
                status,
            })
        }
        E::Snapshot(_) => return None,
        E::HubError(message) => Err(ssi(fastconnect::Error::Protocol(message))),
        E::Malformed { error, .. } => Err(ssi(error)),
    };
    Some(out)
}

fn wire_exchange(exchange: Exchange) -> fastconnect::Exchange {
    fastconnect::Exchange::parse(exchange.ssi_code())
}

fn exchange_of(e: Option<&fastconnect::Exchange>) -> Option<Exchange> {
    e.and_then(|e| e.as_str().parse().ok())
}

/// A `SecuritiesDetails` row as a [`SecurityDetail`] (`exchange`: the market asked for).
fn detail(exchange: Exchange, d: fastconnect::data::SecurityDetail) -> Result<SecurityDetail> {
    Ok(SecurityDetail {
        symbol: symbol(&d.symbol)?,
        exchange: exchange_of(d.exchange.as_ref())
            .or(exchange_of(d.market_id.as_ref()))
            .unwrap_or(exchange),
        kind: d
            .sec_type
            .as_ref()
            .and_then(|t| instrument_kind(t.as_str())),
        name: d.symbol_name,
        name_en: d.symbol_eng_name,
        isin: d.isin,
        lot_size: count(d.lot_size),
        listed_shares: count(d.listed_share),
        underlying: d.underlying,
        maturity: d.maturity_date,
        first_trading_day: d.first_trading_date,
        last_trading_day: d.last_trading_date,
        sector: None,
    })
}

/// A `DailyStockPrice` row as a [`DailyPrice`].
fn daily(exchange: Exchange, r: fastconnect::data::DailyStockPrice) -> Result<DailyPrice> {
    let s = r.symbol.as_str();
    Ok(DailyPrice {
        symbol: symbol(s)?,
        exchange: Some(exchange),
        date: r.trading_date,
        reference: opt_price(s, r.ref_price)?,
        ceiling: opt_price(s, r.ceiling_price)?,
        floor: opt_price(s, r.floor_price)?,
        close: opt_price(s, r.close_price)?,
        volume: r
            .total_match_vol
            .map(|v| quantity("TotalMatchVol", Some(v)))
            .transpose()?,
        value: vnd(r.total_match_val),
        foreign_room: r
            .foreign_current_room
            .map(|v| quantity("ForeignCurrentRoom", Some(v)))
            .transpose()?,
    })
}

#[async_trait]
impl MarketData for V2Data {
    fn generation(&self) -> Generation {
        GEN
    }

    async fn securities(&self, exchange: Exchange) -> Result<Vec<SecurityInfo>> {
        let query = SecuritiesQuery {
            market: Some(fastconnect::Exchange::parse(exchange.ssi_code())),
        };
        let rows = self.client.all(&query).await.map_err(ssi)?;
        rows.into_iter()
            .map(|s| {
                Ok(SecurityInfo {
                    symbol: symbol(&s.symbol)?,
                    exchange: s.market.and_then(|m| m.as_str().parse().ok()),
                    name: s.stock_name,
                })
            })
            .collect()
    }

    async fn security_details(&self, exchange: Exchange) -> Result<Vec<SecurityDetail>> {
        // One `SecuritiesDetails` item holds a page of securities (`RepeatedInfo`), so
        // `DataClient::all`, which counts items, cannot see further pages: page here by
        // the securities, up to `totalRecord`.
        let query = SecuritiesDetailsQuery {
            market: Some(wire_exchange(exchange)),
            symbol: None,
        };
        let size = PageSize::S1000;
        let mut out = Vec::new();
        let mut total = None;
        for index in 1..=MAX_PAGE_INDEX {
            let paging = Paging::new(index, size).map_err(ssi)?;
            let page = self.client.page(&query, paging).await.map_err(ssi)?;
            total = page.total_record.or(total);
            let mut rows = 0_usize;
            for report in page.items {
                for d in report.repeated_info {
                    rows += 1;
                    out.push(detail(exchange, d)?);
                }
            }
            let reached = total.is_some_and(|t| out.len() as u64 >= t);
            if rows < size.rows() as usize || reached {
                return Ok(out);
            }
        }
        match total {
            Some(t) if t > out.len() as u64 => Err(ssi(fastconnect::Error::PageLimit {
                endpoint: "SecuritiesDetails".to_owned(),
                total_record: t,
                reachable: out.len() as u64,
            })),
            Some(_) | None => Ok(out),
        }
    }

    async fn indexes(&self, exchange: Exchange) -> Result<Vec<IndexInfo>> {
        let rows = self
            .client
            .all(&IndexListQuery {
                exchange: wire_exchange(exchange),
            })
            .await
            .map_err(ssi)?;
        Ok(rows
            .into_iter()
            .map(|r| IndexInfo {
                code: r.index_code,
                name: r.index_name,
                exchange: exchange_of(r.exchange.as_ref()).or(Some(exchange)),
            })
            .collect())
    }

    async fn index_components(&self, index: &str) -> Result<Vec<Symbol>> {
        let rows = self
            .client
            .all(&IndexComponentsQuery {
                index_code: index.to_owned(),
            })
            .await
            .map_err(ssi)?;
        let mut out = rows
            .into_iter()
            .filter(|r| r.index_code.eq_ignore_ascii_case(index))
            .flat_map(|r| r.index_component)
            .map(|c| symbol(&c.stock_symbol))
            .collect::<Result<Vec<_>>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn daily_prices(&self, exchange: Exchange, date: Date) -> Result<Vec<DailyPrice>> {
        let query = DailyStockPriceQuery {
            symbol: None,
            market: Some(wire_exchange(exchange)),
            from: date,
            to: date,
        };
        let rows = self.client.all(&query).await.map_err(ssi)?;
        rows.into_iter()
            .filter(|r| r.trading_date == date)
            .map(|r| daily(exchange, r))
            .collect()
    }

    async fn snapshot(&self, sym: Symbol, date: Date) -> Result<SecuritySnapshot> {
        let query = DailyStockPriceQuery {
            symbol: Some(sym.as_str().to_owned()),
            market: None,
            from: date,
            to: date,
        };
        let rows = self.client.all(&query).await.map_err(ssi)?;
        let row = rows
            .into_iter()
            .find(|r| r.symbol.eq_ignore_ascii_case(sym.as_str()))
            .ok_or_else(|| Error::NotFound(format!("no daily price of {sym} on {date}")))?;
        let s = sym.as_str();
        Ok(SecuritySnapshot {
            symbol: sym,
            date: row.trading_date,
            reference: opt_price(s, row.ref_price)?,
            ceiling: opt_price(s, row.ceiling_price)?,
            floor: opt_price(s, row.floor_price)?,
            open: opt_price(s, row.open_price)?,
            high: opt_price(s, row.highest_price)?,
            low: opt_price(s, row.lowest_price)?,
            close: opt_price(s, row.close_price)?,
            volume: row
                .total_match_vol
                .map(|v| quantity("TotalMatchVol", Some(v)))
                .transpose()?,
            foreign_room: row
                .foreign_current_room
                .map(|v| quantity("ForeignCurrentRoom", Some(v)))
                .transpose()?,
        })
    }

    async fn bars(&self, query: &BarsQuery) -> Result<Vec<Bar>> {
        if query.from > query.to {
            return Err(Error::Invalid(format!(
                "bars from {} after to {}",
                query.from, query.to
            )));
        }
        let s = query.symbol.as_str();
        let bar = |date: Date,
                   t: Option<Time>,
                   o: Decimal,
                   h: Decimal,
                   l: Decimal,
                   c: Decimal,
                   v: i64| {
            Ok(Bar {
                symbol: query.symbol,
                time: at(date, t),
                open: price(s, o)?,
                high: price(s, h)?,
                low: price(s, l)?,
                close: price(s, c)?,
                volume: quantity("Volume", Some(v))?,
            })
        };
        let mut out = Vec::new();
        for (from, to) in windows(query.from, query.to) {
            match query.resolution.minutes() {
                None => {
                    let rows = self
                        .client
                        .all(&DailyOhlcQuery::new(s, from, to))
                        .await
                        .map_err(ssi)?;
                    for r in rows {
                        out.push(bar(
                            r.trading_date,
                            None,
                            r.open,
                            r.high,
                            r.low,
                            r.close,
                            r.volume,
                        )?);
                    }
                }
                Some(minutes) => {
                    let mut q = IntradayOhlcQuery::new(s, from, to);
                    q.resolution = minutes;
                    let rows = self.client.all(&q).await.map_err(ssi)?;
                    for r in rows {
                        out.push(bar(
                            r.trading_date,
                            r.time,
                            r.open,
                            r.high,
                            r.low,
                            r.close,
                            r.volume,
                        )?);
                    }
                }
            }
        }
        out.sort_by_key(|b| b.time);
        out.dedup_by_key(|b| b.time);
        Ok(out)
    }

    async fn index_history(&self, index: &str, from: Date, to: Date) -> Result<Vec<IndexPoint>> {
        if from > to {
            return Err(Error::Invalid(format!(
                "index history from {from} after to {to}"
            )));
        }
        let mut out = Vec::new();
        for (a, b) in windows(from, to) {
            let rows = self
                .client
                .all(&DailyIndexQuery::new(index, a, b))
                .await
                .map_err(ssi)?;
            for r in rows {
                out.push(IndexPoint {
                    index: r.index_id,
                    date: r.trading_date,
                    value: index_value(r.index_value)?,
                });
            }
        }
        out.sort_by_key(|p| p.date);
        Ok(out)
    }

    async fn stream(&self, subscription: Subscription) -> Result<EventStream<MarketEvent>> {
        let channels = channels(&subscription)?;
        let (handle, events) = self.client.stream(channels).map_err(ssi)?;
        let mut connected = false;
        Ok(mapped(events, handle, move |e| {
            market_event(&mut connected, e)
        }))
    }
}

/// v2 trading.
#[derive(Debug, Clone)]
pub struct V2Trading {
    client: TradingClient,
    /// order id → the id it was placed with, learned from the stream.
    placed_with: Arc<Mutex<HashMap<String, ClientOrderId>>>,
}

impl V2Trading {
    /// An adapter over `client` (logged in with its PIN, or by [`TradingClient::login`]).
    pub fn new(client: TradingClient) -> Self {
        Self {
            client,
            placed_with: Arc::default(),
        }
    }

    /// The wire client, for what the interface does not cover (OTP login, history).
    pub fn client(&self) -> &TradingClient {
        &self.client
    }

    fn learned(&self, order_id: &str) -> Option<ClientOrderId> {
        let map = match self.placed_with.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(order_id).copied()
    }
}

fn learn(map: &Mutex<HashMap<String, ClientOrderId>>, order_id: &str, id: ClientOrderId) {
    let mut map = match map.lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.insert(order_id.to_owned(), id);
}

fn opt_id(text: Option<&str>) -> Option<ClientOrderId> {
    text.and_then(ClientOrderId::parse)
}

/// An order book row as an [`OrderState`].
pub(crate) fn book_row(
    account: &str,
    o: &OrderItem,
    placed_with: Option<ClientOrderId>,
) -> Result<OrderState> {
    let s = o.instrument_id.as_str();
    Ok(OrderState {
        account: account.to_owned(),
        order_id: o.order_id.clone(),
        client_order_id: placed_with,
        last_action_id: opt_id(o.unique_id.as_deref()),
        symbol: symbol(s)?,
        side: side(o.side),
        order_type: o.order_type.as_ref().and_then(order_type),
        price: opt_price(s, o.price)?,
        quantity: quantity("quantity", o.quantity)?,
        filled: quantity("filledQty", o.filled_qty)?,
        cancelled: quantity("cancelQty", o.cancel_qty)?,
        avg_price: opt_price(s, o.avg_price)?,
        status: o
            .order_status
            .as_ref()
            .map_or(OrderStatus::Other(String::new()), status),
        reject_reason: o
            .reject_reason
            .clone()
            .filter(|r| !r.is_empty() && r != "0"),
        updated_at: o.modified_time.or(o.input_time),
    })
}

/// An `orderEvent` as an [`OrderState`].
pub(crate) fn order_event(e: &OrderEvent) -> Result<OrderState> {
    let s = e.instrument_id.as_str();
    Ok(OrderState {
        account: e.account.clone().unwrap_or_default(),
        order_id: e.order_id.clone(),
        client_order_id: opt_id(e.orig_request_id.as_deref()),
        last_action_id: opt_id(e.unique_id.as_deref()),
        symbol: symbol(s)?,
        side: side(e.side),
        order_type: e.order_type.as_ref().and_then(order_type),
        price: opt_price(s, e.price)?,
        quantity: quantity("quantity", e.quantity)?,
        filled: quantity("filledQty", e.filled_qty)?,
        cancelled: quantity("cancelQty", e.cancel_qty)?,
        avg_price: opt_price(s, e.avg_price)?,
        status: e
            .order_status
            .as_ref()
            .map_or(OrderStatus::Other(String::new()), status),
        reject_reason: e
            .reject_reason
            .clone()
            .filter(|r| !r.is_empty() && r != "0"),
        updated_at: e.modified_time.or(e.input_time),
    })
}

/// An `orderMatchEvent` as a [`Fill`].
pub(crate) fn match_event(e: &OrderMatchEvent) -> Result<Fill> {
    let s = e.instrument_id.as_str();
    Ok(Fill {
        account: e.account.clone().unwrap_or_default(),
        order_id: e.order_id.clone(),
        client_order_id: opt_id(e.unique_id.as_deref()),
        symbol: symbol(s)?,
        side: side(e.side),
        price: price(s, e.match_price)?,
        quantity: quantity("matchQty", Some(e.match_qty))?,
        time: e.match_time,
        fill_id: Some(e.notify_id.to_string()),
    })
}

fn error_event(e: OrderErrorEvent) -> AccountEvent {
    AccountEvent::ActionFailed {
        client_order_id: opt_id(e.unique_id.as_deref()),
        order_id: e.order_id,
        code: e.error_code,
        message: e.message.unwrap_or_default(),
    }
}

fn deriv_position(account: &str, p: &fastconnect::trading::DerivPosition) -> Result<Position> {
    let s = p.instrument_id.as_str();
    Ok(Position {
        account: account.to_owned(),
        symbol: symbol(s)?,
        quantity: quantity("longQty", p.long_qty)?,
        sellable: quantity("longQty", p.long_qty)?,
        short: quantity("shortQty", p.short_qty)?,
        avg_price: match p.long_qty {
            Some(long) if long > 0 => opt_price(s, p.bid_avg_price)?,
            Some(_) | None => opt_price(s, p.ask_avg_price)?,
        },
    })
}

fn is_derivatives_account(account: &str) -> bool {
    account.ends_with('8')
}

#[async_trait]
impl Trading for V2Trading {
    fn generation(&self) -> Generation {
        GEN
    }

    async fn place(&self, order: &OrderRequest) -> Result<OrderAck> {
        order.check_price()?;
        let wire_order = NewOrder {
            account: order.account.clone(),
            instrument_id: order.symbol.as_str().to_owned(),
            market: trading_market(order.symbol),
            side: wire_side(order.side),
            order_type: wire_order_type(order.order_type),
            price: wire_price(order.symbol, order.price),
            quantity: order.quantity.units(),
            stop: None,
            request_id: Some(request_id(order.client_order_id)?),
            code: None,
        };
        self.client
            .new_order(wire_order)
            .await
            .map_err(|e| Error::from_ssi_order(GEN, order.client_order_id, e))?;
        Ok(OrderAck {
            client_order_id: order.client_order_id,
            order_id: None,
            status: None,
        })
    }

    async fn amend(&self, amend: &AmendRequest) -> Result<OrderAck> {
        let o = &amend.order;
        let (price, qty) = match amend.change {
            Amendment::Price(p) => (Some(p), o.quantity),
            Amendment::Quantity(q) => (o.price, q),
        };
        let wire_modify = ModifyOrder {
            account: o.account.clone(),
            instrument_id: o.symbol.as_str().to_owned(),
            market: trading_market(o.symbol),
            side: wire_side(o.side),
            order_type: wire_order_type(o.order_type),
            order_id: o.order_id.clone(),
            price: wire_price(o.symbol, price),
            quantity: qty.units(),
            request_id: Some(request_id(amend.client_order_id)?),
            code: None,
        };
        self.client
            .modify_order(wire_modify)
            .await
            .map_err(|e| Error::from_ssi_order(GEN, amend.client_order_id, e))?;
        Ok(OrderAck {
            client_order_id: amend.client_order_id,
            order_id: Some(o.order_id.clone()),
            status: None,
        })
    }

    async fn cancel(&self, cancel: &CancelRequest) -> Result<OrderAck> {
        let o: &OrderKey = &cancel.order;
        let wire_cancel = CancelOrder {
            account: o.account.clone(),
            instrument_id: o.symbol.as_str().to_owned(),
            market: trading_market(o.symbol),
            side: wire_side(o.side),
            order_id: o.order_id.clone(),
            request_id: Some(request_id(cancel.client_order_id)?),
            code: None,
        };
        self.client
            .cancel_order(wire_cancel)
            .await
            .map_err(|e| Error::from_ssi_order(GEN, cancel.client_order_id, e))?;
        Ok(OrderAck {
            client_order_id: cancel.client_order_id,
            order_id: Some(o.order_id.clone()),
            status: None,
        })
    }

    async fn order_book(&self, account: &str) -> Result<Vec<OrderState>> {
        let book = self.client.order_book(account).await.map_err(ssi)?;
        book.orders
            .iter()
            .map(|o| book_row(account, o, self.learned(&o.order_id)))
            .collect()
    }

    async fn order_history(&self, account: &str, from: Date, to: Date) -> Result<Vec<OrderState>> {
        if from > to {
            return Err(Error::Invalid(format!("history from {from} after to {to}")));
        }
        let history = self
            .client
            .order_history(account, from, to)
            .await
            .map_err(ssi)?;
        history
            .orders
            .iter()
            .map(|o| book_row(account, o, self.learned(&o.order_id)))
            .collect()
    }

    async fn find_order(&self, account: &str, id: ClientOrderId) -> Result<Option<OrderState>> {
        let book = self.order_book(account).await?;
        Ok(book.into_iter().find(|o| {
            o.client_order_id == Some(id)
                || (o.client_order_id.is_none() && o.last_action_id == Some(id))
        }))
    }

    async fn positions(&self, account: &str) -> Result<Vec<Position>> {
        if is_derivatives_account(account) {
            let p = self
                .client
                .deriv_position(account, true)
                .await
                .map_err(ssi)?;
            return p
                .open_position
                .iter()
                .map(|p| deriv_position(account, p))
                .collect();
        }
        let p = self.client.stock_position(account).await.map_err(ssi)?;
        p.stock_positions
            .iter()
            .map(|p| {
                let s = p.instrument_id.as_str();
                Ok(Position {
                    account: account.to_owned(),
                    symbol: symbol(s)?,
                    quantity: quantity("onHand", p.on_hand)?,
                    sellable: quantity("sellableQty", p.sellable_qty)?,
                    short: Quantity::ZERO,
                    avg_price: opt_price(s, p.avg_price)?,
                })
            })
            .collect()
    }

    async fn balance(&self, account: &str) -> Result<Balance> {
        if is_derivatives_account(account) {
            let b = self
                .client
                .deriv_account_balance(account)
                .await
                .map_err(ssi)?;
            return Ok(Balance {
                account: account.to_owned(),
                cash: vnd(b.account_balance),
                buying_power: None,
                withdrawable: vnd(b.withdrawable),
            });
        }
        let b = self
            .client
            .cash_account_balance(account)
            .await
            .map_err(ssi)?;
        Ok(Balance {
            account: account.to_owned(),
            cash: vnd(b.cash_bal),
            buying_power: vnd(b.purchasing_power),
            withdrawable: vnd(b.withdrawable),
        })
    }

    async fn max_quantities(
        &self,
        account: &str,
        sym: Symbol,
        at_price: Price,
    ) -> Result<MaxQuantities> {
        let p = wire(sym.as_str(), at_price);
        let buy = self
            .client
            .max_buy_qty(account, sym.as_str(), p)
            .await
            .map_err(ssi)?;
        let sell = self
            .client
            .max_sell_qty(account, sym.as_str(), Some(p))
            .await
            .map_err(ssi)?;
        Ok(MaxQuantities {
            max_buy: quantity("maxBuyQty", Some(buy.max_buy_qty))?,
            max_sell: quantity("maxSellQty", Some(sell.max_sell_qty))?,
        })
    }

    async fn account_events(&self, account: &str) -> Result<EventStream<AccountEvent>> {
        let (handle, events) = self.client.stream(None).map_err(ssi)?;
        let account = account.to_owned();
        let placed_with = self.placed_with.clone();
        let mut connected = false;
        let mine = move |a: Option<&str>| a.is_none_or(|a| a == account);
        Ok(mapped(events, handle, move |e| {
            use fastconnect::TradingEvent as E;
            let out = match e {
                E::Connected => {
                    let again = std::mem::replace(&mut connected, true);
                    return again.then_some(Ok(AccountEvent::Reconnected));
                }
                // The replay after the reconnect covers the gap.
                E::Disconnected { .. } => return None,
                E::Order(o) if mine(o.account.as_deref()) => order_event(&o)
                    .inspect(|s| {
                        if let Some(id) = s.client_order_id {
                            learn(&placed_with, &s.order_id, id);
                        }
                    })
                    .map(AccountEvent::Order),
                E::Match(m) if mine(m.account.as_deref()) => {
                    match_event(&m).map(AccountEvent::Fill)
                }
                E::OrderError(err) if mine(err.account.as_deref()) => Ok(error_event(err)),
                E::Portfolio(p) if mine(p.account.as_deref()) => {
                    let acct = p.account.clone().unwrap_or_default();
                    p.open
                        .iter()
                        .map(|x| deriv_position(&acct, x))
                        .collect::<Result<Vec<_>>>()
                        .map(AccountEvent::Positions)
                }
                E::Order(_) | E::Match(_) | E::OrderError(_) | E::Portfolio(_) => return None,
                E::HubError(message) => Err(ssi(fastconnect::Error::Protocol(message))),
                E::Malformed { error, .. } => Err(ssi(error)),
            };
            Some(out)
        }))
    }

    async fn session(&self) -> TradingSession {
        let (expires, renews_itself) = self.client.session().await;
        TradingSession {
            // A PIN-configured client opens its session on first use.
            open: expires.is_some() || renews_itself,
            expires_at: expires
                .and_then(|e| i64::try_from(e).ok())
                .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok()),
            renews_itself,
        }
    }

    async fn request_otp(&self) -> Result<OtpRequested> {
        self.client.request_otp().await.map_err(ssi)?;
        Ok(OtpRequested {
            transaction_id: None,
            message: "SSI sends the OTP by SMS/e-mail".to_owned(),
        })
    }

    async fn login_otp(&self, code: &secrecy::SecretString) -> Result<TradingSession> {
        self.client.login(code, true).await.map_err(ssi)?;
        Ok(self.session().await)
    }

    fn conditional_support(&self) -> ConditionalSupport {
        ConditionalSupport { broker_held: false }
    }

    async fn place_conditional(&self, _order: &ConditionalRequest) -> Result<String> {
        Err(Error::Unsupported {
            generation: GEN,
            operation: "conditional orders",
        })
    }

    async fn cancel_conditional(&self, _account: &str, _id: &str) -> Result<()> {
        Err(Error::Unsupported {
            generation: GEN,
            operation: "conditional orders",
        })
    }

    async fn conditional_orders(&self, _account: &str) -> Result<Vec<ConditionalOrder>> {
        Err(Error::Unsupported {
            generation: GEN,
            operation: "conditional orders",
        })
    }

    async fn conditional_history(&self, _account: &str, _id: &str) -> Result<Vec<ConditionalStep>> {
        Err(Error::Unsupported {
            generation: GEN,
            operation: "conditional orders",
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn history_is_asked_in_30_day_windows() {
        assert_eq!(
            windows(date!(2025 - 04 - 01), date!(2025 - 06 - 09)),
            [
                (date!(2025 - 04 - 01), date!(2025 - 04 - 30)),
                (date!(2025 - 05 - 01), date!(2025 - 05 - 30)),
                (date!(2025 - 05 - 31), date!(2025 - 06 - 09)),
            ]
        );
        assert_eq!(
            windows(date!(2025 - 06 - 09), date!(2025 - 06 - 09)),
            [(date!(2025 - 06 - 09), date!(2025 - 06 - 09))]
        );
        assert!(windows(date!(2025 - 06 - 09), date!(2025 - 06 - 08)).is_empty());
    }
}
