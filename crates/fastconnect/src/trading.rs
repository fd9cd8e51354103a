//! FC Trading: orders and account queries over REST ([`TradingClient`]), order/fill/error/
//! portfolio events over SignalR ([`TradingClient::stream`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), fastconnect::Error> {
//! use fastconnect::trading::{NewOrder, ResumeFrom, TradingClient};
//! use fastconnect::{Decimal, Side, TradingConfig, TradingMarket};
//!
//! let mut config = TradingConfig::new(
//!     "consumer-id",
//!     "consumer-secret".to_owned().into(),
//!     "<base64 RSAKeyValue from iBoard>".to_owned().into(),
//! );
//! config.pin = Some("123456".to_owned().into());
//! let client = TradingClient::new(config)?;
//! let (stream, mut events) = client.stream(None)?;
//! let order = NewOrder::limit("0001231", "SSI", TradingMarket::Vn, Side::Buy,
//!     Decimal::from_i64(23_500), 100);
//! let ack = client.new_order(order).await?; // outcome arrives on `events`
//! # drop((stream, ack)); Ok(()) }
//! ```

pub mod model;
pub mod sign;
pub mod stream;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::codes::{OrderType, TradingMarket};
use crate::config::{TradingConfig, TwoFactorType};
use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::http::{NoAuth, Rest, RestRequest, TokenSource};
use crate::provider::{IssuedToken, SharedTokenProvider, TokenKind};
use crate::token::{Rejected, Token, TokenCache};
use crate::wire::{VIETNAM_OFFSET, format_date};

pub use model::{
    CancelOrder, CashAccountBalance, DerivAccountBalance, DerivAssets, DerivMargin, DerivPosition,
    DerivPositions, MaxBuyQty, MaxSellQty, ModifyOrder, NewOrder, OrderAck, OrderBook,
    OrderHistory, OrderItem, PpmmrAccount, RateLimitRule, RequestId, StockPosition, StockPositions,
    StopOrder,
};
pub use sign::RequestSigner;
pub use stream::{ResumeFrom, TradingEvent, TradingEvents, TradingSubscription};

/// REST root of FC Trading.
pub const API_ROOT: &str = "/api/v2/Trading";

/// How the client obtains tokens when the cached one runs out.
#[derive(Debug, Clone)]
enum Renewal {
    /// Log in again with the configured PIN (`isSave=true`).
    Pin(SecretString),
    /// Log in again unverified (`isSave=false`): queries and streaming only.
    ReadOnly,
    /// A person must log in again with a fresh OTP.
    Manual,
    /// Ask the client's [`crate::TokenProvider`].
    Provider,
}

/// Assigns `requestID`s: 8 digits, unique per day and across restarts, because they start
/// from the milliseconds since Vietnam midnight divided to leave 1000 ids per second.
#[derive(Debug, Default)]
struct RequestIds {
    last: Mutex<Option<(Date, u32)>>,
}

impl RequestIds {
    fn next(&self) -> Result<RequestId> {
        let now = OffsetDateTime::now_utc().to_offset(VIETNAM_OFFSET);
        let floor = u32::from(now.hour()) * 3_600_000
            + u32::from(now.minute()) * 60_000
            + u32::from(now.second()) * 1_000;
        let mut last = match self.last.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let next = match *last {
            Some((date, n)) if date == now.date() => (n + 1).max(floor),
            Some(_) | None => floor,
        };
        let id = RequestId::new(next)?;
        *last = Some((now.date(), next));
        Ok(id)
    }
}

/// FC Trading REST client. Cheap to clone; clones share token, limiter and request ids.
#[derive(Debug, Clone)]
pub struct TradingClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: TradingConfig,
    pub(crate) http: reqwest::Client,
    rest: Rest,
    tokens: TokenCache,
    signer: RequestSigner,
    renewal: Mutex<Renewal>,
    request_ids: RequestIds,
    provider: Option<SharedTokenProvider>,
    rejected: Rejected,
}

impl TokenSource for Inner {
    fn token(&self) -> impl std::future::Future<Output = Result<Token>> + Send {
        self.tokens.get(move || async move {
            let renewal = match self.renewal.lock() {
                Ok(r) => r.clone(),
                Err(poisoned) => poisoned.into_inner().clone(),
            };
            match renewal {
                Renewal::Pin(pin) => self.access_token(TwoFactorType::Pin, &pin, true).await,
                Renewal::ReadOnly => {
                    let placeholder = SecretString::from("0".to_owned());
                    self.access_token(self.config.two_factor, &placeholder, false)
                        .await
                }
                Renewal::Manual => Err(Error::LoginRequired(
                    "the OTP session expired; call request_otp and login again".to_owned(),
                )),
                Renewal::Provider => match &self.provider {
                    Some(p) => Ok(p
                        .token(TokenKind::Trading, self.rejected.take())
                        .await?
                        .into()),
                    None => Err(Error::Config("no token provider".to_owned())),
                },
            }
        })
    }

    fn invalidate(&self, stale: &Token) -> impl std::future::Future<Output = ()> + Send {
        self.rejected.set(&stale.value);
        self.tokens.invalidate(stale)
    }
}

#[derive(Serialize)]
struct Credentials<'a> {
    #[serde(rename = "consumerID")]
    consumer_id: &'a str,
    #[serde(rename = "consumerSecret")]
    consumer_secret: &'a str,
}

#[derive(Serialize)]
struct AccessTokenBody<'a> {
    #[serde(rename = "consumerID")]
    consumer_id: &'a str,
    #[serde(rename = "consumerSecret")]
    consumer_secret: &'a str,
    #[serde(rename = "twoFactorType")]
    two_factor_type: u8,
    code: &'a str,
    #[serde(rename = "isSave")]
    is_save: bool,
}

#[derive(serde::Deserialize)]
struct AccessTokenData {
    #[serde(rename = "accessToken")]
    access_token: String,
}

#[derive(Serialize)]
struct NewOrderBody<'a> {
    #[serde(rename = "instrumentID")]
    instrument_id: &'a str,
    market: &'static str,
    #[serde(rename = "buySell")]
    buy_sell: &'static str,
    #[serde(rename = "orderType")]
    order_type: &'a str,
    #[serde(rename = "channelID")]
    channel_id: &'a str,
    price: Decimal,
    quantity: u64,
    account: &'a str,
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(rename = "stopOrder")]
    stop_order: bool,
    #[serde(rename = "stopPrice")]
    stop_price: Decimal,
    #[serde(rename = "stopType")]
    stop_type: &'static str,
    #[serde(rename = "stopStep")]
    stop_step: Decimal,
    #[serde(rename = "lossStep")]
    loss_step: Decimal,
    #[serde(rename = "profitStep")]
    profit_step: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(rename = "deviceId")]
    device_id: &'a str,
    #[serde(rename = "userAgent")]
    user_agent: &'a str,
}

#[derive(Serialize)]
struct ModifyOrderBody<'a> {
    #[serde(rename = "orderID")]
    order_id: &'a str,
    price: Decimal,
    quantity: u64,
    account: &'a str,
    #[serde(rename = "instrumentID")]
    instrument_id: &'a str,
    #[serde(rename = "marketID")]
    market_id: &'static str,
    #[serde(rename = "buySell")]
    buy_sell: &'static str,
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(rename = "orderType")]
    order_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(rename = "deviceId")]
    device_id: &'a str,
    #[serde(rename = "userAgent")]
    user_agent: &'a str,
}

#[derive(Serialize)]
struct CancelOrderBody<'a> {
    #[serde(rename = "orderID")]
    order_id: &'a str,
    account: &'a str,
    #[serde(rename = "marketID")]
    market_id: &'static str,
    #[serde(rename = "instrumentID")]
    instrument_id: &'a str,
    #[serde(rename = "buySell")]
    buy_sell: &'static str,
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(rename = "deviceId")]
    device_id: &'a str,
    #[serde(rename = "userAgent")]
    user_agent: &'a str,
}

#[derive(serde::Deserialize)]
struct AckData {
    #[serde(default, rename = "requestData")]
    request_data: serde_json::Value,
}

/// `AccessToken` with `config`'s consumer key and `code` (verified when `is_save`).
async fn access_token(
    rest: &Rest,
    config: &TradingConfig,
    two_factor: TwoFactorType,
    code: &SecretString,
    is_save: bool,
) -> Result<Token> {
    let body = serde_json::to_vec(&AccessTokenBody {
        consumer_id: &config.consumer_id,
        consumer_secret: config.consumer_secret.expose_secret(),
        two_factor_type: two_factor.wire(),
        code: code.expose_secret(),
        is_save,
    })
    .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let request = RestRequest::post(format!("{API_ROOT}/AccessToken"), body);
    let data: AccessTokenData = match rest.call(None::<&NoAuth>, &request).await {
        Ok(envelope) => envelope.parse()?,
        // A wrong PIN/OTP or key is a 400 with a message: it is an auth failure.
        Err(Error::Rejected {
            endpoint, message, ..
        }) => return Err(Error::Unauthorized { endpoint, message }),
        Err(other) => return Err(other),
    };
    tracing::debug!(is_save, "FC Trading access token obtained");
    Ok(Token::from_jwt(
        SecretString::from(data.access_token),
        Duration::from_secs(config.http.fallback_token_lifetime_secs),
    ))
}

/// Logs in to FC Trading with `config`'s consumer key, without a client (no private key is
/// needed): what a [`crate::TokenProvider`] calls to obtain the token it hands out. With
/// `two_factor = "pin"` and a `pin` the token is verified (`isSave=true`: it can trade);
/// otherwise it is a read token (`isSave=false`: queries and streaming; orders need a code).
pub async fn issue_token(config: &TradingConfig) -> Result<IssuedToken> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(config.http.timeout_ms))
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
    let rest = Rest::new(http, &config.url, &config.http)?;
    match (&config.pin, config.two_factor) {
        (Some(pin), TwoFactorType::Pin) => {
            Ok(access_token(&rest, config, TwoFactorType::Pin, pin, true)
                .await?
                .issued(true))
        }
        (Some(_) | None, TwoFactorType::Pin | TwoFactorType::Otp) => {
            let placeholder = SecretString::from("0".to_owned());
            Ok(
                access_token(&rest, config, config.two_factor, &placeholder, false)
                    .await?
                    .issued(false),
            )
        }
    }
}

impl Inner {
    async fn access_token(
        &self,
        two_factor: TwoFactorType,
        code: &SecretString,
        is_save: bool,
    ) -> Result<Token> {
        access_token(&self.rest, &self.config, two_factor, code, is_save).await
    }

    async fn signed_post<B: Serialize>(&self, endpoint: &str, body: &B) -> Result<OrderAckRaw> {
        // Serialise once; the signature covers exactly these bytes and they are sent as is.
        let bytes = serde_json::to_vec(body).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let signature = self.signer.sign(&bytes)?;
        let mut request = RestRequest::post(format!("{API_ROOT}/{endpoint}"), bytes);
        request.headers.push(("X-Signature", signature));
        let data: AckData = self.rest.call(Some(self), &request).await?.parse()?;
        Ok(OrderAckRaw {
            request_data: data.request_data,
        })
    }

    async fn query<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        params: Vec<(&'static str, String)>,
    ) -> Result<T> {
        let request = RestRequest::get(format!("{API_ROOT}/{endpoint}"), params);
        self.rest.call(Some(self), &request).await?.parse()
    }
}

struct OrderAckRaw {
    request_data: serde_json::Value,
}

fn check_market_order_type(market: TradingMarket, order_type: &OrderType) -> Result<()> {
    let allowed = match market {
        TradingMarket::Vn => matches!(
            order_type,
            OrderType::Lo
                | OrderType::Ato
                | OrderType::Atc
                | OrderType::Mp
                | OrderType::Mtl
                | OrderType::Mok
                | OrderType::Mak
                | OrderType::Plo
        ),
        TradingMarket::Vnfe => matches!(
            order_type,
            OrderType::Lo
                | OrderType::Ato
                | OrderType::Atc
                | OrderType::Mtl
                | OrderType::Mok
                | OrderType::Mak
        ),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "order type {order_type} is not accepted on {}",
            market.as_str()
        )))
    }
}

fn check_price(order_type: &OrderType, price: Decimal) -> Result<()> {
    let is_limit = matches!(order_type, OrderType::Lo);
    if is_limit && price <= Decimal::ZERO {
        return Err(Error::InvalidRequest(
            "a LO order needs a price above 0".to_owned(),
        ));
    }
    if !is_limit && !price.is_zero() {
        return Err(Error::InvalidRequest(format!(
            "price must be 0 for {order_type} orders"
        )));
    }
    Ok(())
}

fn check_text(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidRequest(format!("{name} must not be empty")));
    }
    Ok(())
}

impl TradingClient {
    /// A client for `config`. Fails early if the private key cannot be read. With a
    /// configured PIN (`two_factor = "pin"`) it logs in by itself on first use; otherwise call
    /// [`login`](Self::login) or [`login_read_only`](Self::login_read_only) first.
    pub fn new(config: TradingConfig) -> Result<Self> {
        Self::build(config, None)
    }

    /// A client whose tokens come from `provider` (see [`crate::provider`]) whenever no
    /// explicit [`login`](Self::login) token is current; the consumer key and PIN in `config`
    /// are then used only for an explicit OTP login.
    pub fn with_token_provider(
        config: TradingConfig,
        provider: SharedTokenProvider,
    ) -> Result<Self> {
        Self::build(config, Some(provider))
    }

    fn build(config: TradingConfig, provider: Option<SharedTokenProvider>) -> Result<Self> {
        if provider.is_none() {
            crate::config::require_credentials(
                "trading.consumer_id and trading.consumer_secret",
                &config.consumer_id,
                &config.consumer_secret,
            )?;
        }
        let signer = RequestSigner::from_key(&config.private_key)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.http.timeout_ms))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let rest = Rest::new(http.clone(), &config.url, &config.http)?;
        let tokens = TokenCache::new(Duration::from_secs(config.http.token_refresh_margin_secs));
        let renewal = match (&config.pin, config.two_factor) {
            _ if provider.is_some() => Renewal::Provider,
            (Some(pin), TwoFactorType::Pin) => Renewal::Pin(pin.clone()),
            (Some(_) | None, TwoFactorType::Pin | TwoFactorType::Otp) => Renewal::Manual,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                rest,
                tokens,
                signer,
                renewal: Mutex::new(renewal),
                request_ids: RequestIds::default(),
                provider,
                rejected: Rejected::default(),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &TradingConfig {
        &self.inner.config
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    fn set_renewal(&self, renewal: Renewal) {
        match self.inner.renewal.lock() {
            Ok(mut r) => *r = renewal,
            Err(poisoned) => *poisoned.into_inner() = renewal,
        }
    }

    /// `GetOTP`: asks SSI to send an OTP by SMS/e-mail (Smart OTP users read it in the app).
    pub async fn request_otp(&self) -> Result<()> {
        let body = serde_json::to_vec(&Credentials {
            consumer_id: &self.inner.config.consumer_id,
            consumer_secret: self.inner.config.consumer_secret.expose_secret(),
        })
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let request = RestRequest::post(format!("{API_ROOT}/GetOTP"), body);
        self.inner.rest.call(None::<&NoAuth>, &request).await?;
        Ok(())
    }

    /// `AccessToken` with a PIN or OTP (per `config.two_factor`). With `save = true` the code
    /// is verified and the token can trade without per-order codes. An OTP login cannot be
    /// renewed automatically: after expiry calls fail with [`Error::LoginRequired`].
    pub async fn login(&self, code: &SecretString, save: bool) -> Result<()> {
        let two_factor = self.inner.config.two_factor;
        let token = self.inner.access_token(two_factor, code, save).await?;
        self.inner.tokens.set(token).await;
        self.set_renewal(match two_factor {
            // When this token runs out the provider's take over again.
            _ if self.inner.provider.is_some() => Renewal::Provider,
            TwoFactorType::Pin if save => Renewal::Pin(code.clone()),
            TwoFactorType::Pin | TwoFactorType::Otp => Renewal::Manual,
        });
        Ok(())
    }

    /// `AccessToken` with `isSave=false`: a token for queries and streaming (orders then need
    /// a `code`). Renewed automatically.
    pub async fn login_read_only(&self) -> Result<()> {
        if self.inner.provider.is_none() {
            self.set_renewal(Renewal::ReadOnly);
        }
        self.inner.token().await?;
        Ok(())
    }

    /// The trading session: when the current token expires (Unix seconds; `None` before a
    /// login or after expiry), and whether the client renews it by itself (a configured PIN)
    /// or a person must log in again with an OTP.
    pub async fn session(&self) -> (Option<u64>, bool) {
        let renews = match self.inner.renewal.lock() {
            Ok(r) => matches!(*r, Renewal::Pin(_) | Renewal::Provider),
            Err(p) => matches!(*p.into_inner(), Renewal::Pin(_) | Renewal::Provider),
        };
        (self.inner.tokens.expires_at().await, renews)
    }

    /// A valid access token (cached; renewed before expiry when possible).
    pub async fn access_token(&self) -> Result<SecretString> {
        Ok(self.inner.token().await?.value)
    }

    fn request_id(&self, given: Option<RequestId>) -> Result<RequestId> {
        match given {
            Some(id) => Ok(id),
            None => self.inner.request_ids.next(),
        }
    }

    /// Places an order: `NewOrder` for `VN`, `derNewOrder` for `VNFE`, signed.
    pub async fn new_order(&self, order: NewOrder) -> Result<OrderAck> {
        check_text("account", &order.account)?;
        check_text("instrumentID", &order.instrument_id)?;
        check_market_order_type(order.market, &order.order_type)?;
        check_price(&order.order_type, order.price)?;
        if order.quantity == 0 {
            return Err(Error::InvalidRequest("quantity must be above 0".to_owned()));
        }
        if order.stop.is_some() && order.market != TradingMarket::Vnfe {
            return Err(Error::InvalidRequest(
                "stop orders exist only on the derivatives market".to_owned(),
            ));
        }
        let request_id = self.request_id(order.request_id)?;
        let config = &self.inner.config;
        let stop = order.stop.as_ref();
        let body = NewOrderBody {
            instrument_id: &order.instrument_id,
            market: order.market.as_str(),
            buy_sell: order.side.as_str(),
            order_type: order.order_type.as_str(),
            channel_id: &config.channel_id,
            price: order.price,
            quantity: order.quantity,
            account: &order.account,
            request_id: request_id.to_string(),
            stop_order: stop.is_some(),
            stop_price: stop.map_or(Decimal::ZERO, |s| s.stop_price),
            stop_type: stop.map_or("", |s| s.stop_type.as_str()),
            stop_step: stop.map_or(Decimal::ZERO, |s| s.stop_step),
            loss_step: stop.map_or(Decimal::ZERO, |s| s.loss_step),
            profit_step: stop.map_or(Decimal::ZERO, |s| s.profit_step),
            code: order.code.as_ref().map(|c| c.expose_secret()),
            device_id: &config.device_id,
            user_agent: &config.user_agent,
        };
        let endpoint = match order.market {
            TradingMarket::Vn => "NewOrder",
            TradingMarket::Vnfe => "derNewOrder",
        };
        let raw = self.inner.signed_post(endpoint, &body).await?;
        Ok(OrderAck {
            request_id,
            request_data: raw.request_data,
        })
    }

    /// Modifies an order: `ModifyOrder` / `derModifyOrder`, signed.
    pub async fn modify_order(&self, order: ModifyOrder) -> Result<OrderAck> {
        check_text("account", &order.account)?;
        check_text("orderID", &order.order_id)?;
        check_text("instrumentID", &order.instrument_id)?;
        if order.quantity == 0 {
            return Err(Error::InvalidRequest("quantity must be above 0".to_owned()));
        }
        let request_id = self.request_id(order.request_id)?;
        let config = &self.inner.config;
        let body = ModifyOrderBody {
            order_id: &order.order_id,
            price: order.price,
            quantity: order.quantity,
            account: &order.account,
            instrument_id: &order.instrument_id,
            market_id: order.market.as_str(),
            buy_sell: order.side.as_str(),
            request_id: request_id.to_string(),
            order_type: order.order_type.as_str(),
            code: order.code.as_ref().map(|c| c.expose_secret()),
            device_id: &config.device_id,
            user_agent: &config.user_agent,
        };
        let endpoint = match order.market {
            TradingMarket::Vn => "ModifyOrder",
            TradingMarket::Vnfe => "derModifyOrder",
        };
        let raw = self.inner.signed_post(endpoint, &body).await?;
        Ok(OrderAck {
            request_id,
            request_data: raw.request_data,
        })
    }

    /// Cancels an order: `CancelOrder` / `derCancelOrder`, signed.
    pub async fn cancel_order(&self, order: CancelOrder) -> Result<OrderAck> {
        check_text("account", &order.account)?;
        check_text("orderID", &order.order_id)?;
        check_text("instrumentID", &order.instrument_id)?;
        let request_id = self.request_id(order.request_id)?;
        let config = &self.inner.config;
        let body = CancelOrderBody {
            order_id: &order.order_id,
            account: &order.account,
            market_id: order.market.as_str(),
            instrument_id: &order.instrument_id,
            buy_sell: order.side.as_str(),
            request_id: request_id.to_string(),
            code: order.code.as_ref().map(|c| c.expose_secret()),
            device_id: &config.device_id,
            user_agent: &config.user_agent,
        };
        let endpoint = match order.market {
            TradingMarket::Vn => "CancelOrder",
            TradingMarket::Vnfe => "derCancelOrder",
        };
        let raw = self.inner.signed_post(endpoint, &body).await?;
        Ok(OrderAck {
            request_id,
            request_data: raw.request_data,
        })
    }

    /// `orderHistory` between two dates.
    pub async fn order_history(&self, account: &str, from: Date, to: Date) -> Result<OrderHistory> {
        self.inner
            .query(
                "orderHistory",
                vec![
                    ("account", account.to_owned()),
                    ("startDate", format_date(from)),
                    ("endDate", format_date(to)),
                ],
            )
            .await
    }

    /// `orderBook`: today's orders.
    pub async fn order_book(&self, account: &str) -> Result<OrderBook> {
        self.inner
            .query("orderBook", vec![("account", account.to_owned())])
            .await
    }

    /// `auditOrderBook`: today's orders with the last error the stream reported for each —
    /// the way to resynchronise after a stream gap.
    pub async fn audit_order_book(&self, account: &str) -> Result<OrderBook> {
        self.inner
            .query("auditOrderBook", vec![("account", account.to_owned())])
            .await
    }

    /// `maxBuyQty` at `price`.
    pub async fn max_buy_qty(
        &self,
        account: &str,
        instrument_id: &str,
        price: Decimal,
    ) -> Result<MaxBuyQty> {
        self.inner
            .query(
                "maxBuyQty",
                vec![
                    ("account", account.to_owned()),
                    ("instrumentID", instrument_id.to_owned()),
                    ("price", price.to_string()),
                ],
            )
            .await
    }

    /// `maxSellQty` (the SDKs also send a price; pass it when known).
    pub async fn max_sell_qty(
        &self,
        account: &str,
        instrument_id: &str,
        price: Option<Decimal>,
    ) -> Result<MaxSellQty> {
        let mut params = vec![
            ("account", account.to_owned()),
            ("instrumentID", instrument_id.to_owned()),
        ];
        if let Some(price) = price {
            params.push(("price", price.to_string()));
        }
        self.inner.query("maxSellQty", params).await
    }

    /// `cashAcctBal`.
    pub async fn cash_account_balance(&self, account: &str) -> Result<CashAccountBalance> {
        self.inner
            .query("cashAcctBal", vec![("account", account.to_owned())])
            .await
    }

    /// `derivAcctBal`.
    pub async fn deriv_account_balance(&self, account: &str) -> Result<DerivAccountBalance> {
        self.inner
            .query("derivAcctBal", vec![("account", account.to_owned())])
            .await
    }

    /// `ppmmraccount`: purchasing power and margin.
    pub async fn ppmmr_account(&self, account: &str) -> Result<PpmmrAccount> {
        self.inner
            .query("ppmmraccount", vec![("account", account.to_owned())])
            .await
    }

    /// `stockPosition`.
    pub async fn stock_position(&self, account: &str) -> Result<StockPositions> {
        self.inner
            .query("stockPosition", vec![("account", account.to_owned())])
            .await
    }

    /// `derivPosition`; `query_summary = true` gives net positions.
    pub async fn deriv_position(
        &self,
        account: &str,
        query_summary: bool,
    ) -> Result<DerivPositions> {
        self.inner
            .query(
                "derivPosition",
                vec![
                    ("account", account.to_owned()),
                    ("querySummary", query_summary.to_string()),
                ],
            )
            .await
    }

    /// `rateLimit`: this account's quota rules.
    pub async fn rate_limit(&self) -> Result<Vec<RateLimitRule>> {
        let rules: Option<Vec<RateLimitRule>> = self.inner.query("rateLimit", Vec::new()).await?;
        Ok(rules.unwrap_or_default())
    }

    /// Opens the trading event stream; see [`stream`].
    pub fn stream(
        &self,
        resume: Option<ResumeFrom>,
    ) -> Result<(TradingSubscription, TradingEvents)> {
        stream::open(self.clone(), resume)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_orders_must_have_zero_price() {
        assert!(check_price(&OrderType::Lo, Decimal::from_i64(23_500)).is_ok());
        assert!(check_price(&OrderType::Lo, Decimal::ZERO).is_err());
        assert!(check_price(&OrderType::Atc, Decimal::ZERO).is_ok());
        assert!(check_price(&OrderType::Mp, Decimal::from_i64(1)).is_err());
    }

    #[test]
    fn derivatives_accept_only_their_order_types() {
        assert!(check_market_order_type(TradingMarket::Vnfe, &OrderType::Mtl).is_ok());
        assert!(check_market_order_type(TradingMarket::Vnfe, &OrderType::Mp).is_err());
        assert!(
            check_market_order_type(TradingMarket::Vn, &OrderType::Other("GTD".into())).is_err()
        );
    }

    #[test]
    fn request_ids_are_eight_digits_and_increasing() {
        let ids = RequestIds::default();
        let a = ids.next().unwrap();
        let b = ids.next().unwrap();
        assert!(b > a);
        assert!(b.get() <= RequestId::MAX);
        assert!(RequestId::new(100_000_000).is_err());
    }

    #[test]
    fn rate_limit_periods_are_read() {
        let rule = |p: &str| RateLimitRule {
            endpoint: "*".into(),
            period: p.into(),
            limit: 5,
        };
        assert_eq!(rule("1s").period_ms(), Some(1_000));
        assert_eq!(rule("5m").period_ms(), Some(300_000));
        assert_eq!(rule("x").period_ms(), None);
    }
}
