//! FC Data: market data over REST ([`DataClient`]) and SignalR ([`DataClient::stream`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), fastconnect::Error> {
//! use fastconnect::data::{DailyOhlcQuery, DataClient};
//! use fastconnect::{Channel, ChannelKind, DataConfig};
//!
//! let config = DataConfig::new("consumer-id", "consumer-secret".to_owned().into());
//! let client = DataClient::new(config)?;
//! let from = time::macros::date!(2024 - 01 - 02);
//! let bars = client.all(&DailyOhlcQuery::new("SSI", from, from)).await?;
//! let (subscription, mut events) = client.stream([Channel::all(ChannelKind::Quote)])?;
//! while let Some(event) = events.recv().await {
//!     // ...
//! }
//! subscription.shutdown();
//! # Ok(()) }
//! ```

pub mod model;
pub mod stream;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use time::Date;

use crate::codes::Exchange;
use crate::config::DataConfig;
use crate::error::{Error, Result};
use crate::http::{Rest, RestRequest, TokenSource};
use crate::provider::{IssuedToken, SharedTokenProvider, TokenKind};
use crate::token::{Rejected, Token, TokenCache};
use crate::wire::format_date;

pub use model::{
    DailyIndex, DailyOhlc, DailyStockPrice, IndexComponent, IndexComponents, IndexInfo,
    IntradayOhlc, SecuritiesDetails, Security, SecurityDetail, TickBand,
};
pub use stream::{Channel, ChannelKind, MarketEvent, MarketEvents, MarketSubscription};

/// REST root of FC Data.
pub const API_ROOT: &str = "/api/v2/Market";

/// Page sizes SSI accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageSize {
    /// 10 rows (SSI's default).
    S10,
    /// 20 rows.
    S20,
    /// 50 rows.
    S50,
    /// 100 rows.
    S100,
    /// 1000 rows (the largest; used by [`DataClient::all`]).
    S1000,
}

impl PageSize {
    /// Rows per page.
    pub fn rows(self) -> u32 {
        match self {
            PageSize::S10 => 10,
            PageSize::S20 => 20,
            PageSize::S50 => 50,
            PageSize::S100 => 100,
            PageSize::S1000 => 1000,
        }
    }
}

/// The last `pageIndex` SSI serves.
pub const MAX_PAGE_INDEX: u32 = 10;

/// Which page to fetch: `index` 1..=10 of `size` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    index: u32,
    size: PageSize,
}

impl Paging {
    /// Page `index` (1..=10) of `size` rows.
    pub fn new(index: u32, size: PageSize) -> Result<Self> {
        if !(1..=MAX_PAGE_INDEX).contains(&index) {
            return Err(Error::InvalidRequest(format!(
                "pageIndex {index} outside 1..={MAX_PAGE_INDEX}"
            )));
        }
        Ok(Self { index, size })
    }

    /// The first page of `size` rows.
    pub fn first(size: PageSize) -> Self {
        Self { index: 1, size }
    }

    /// The page index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The page size.
    pub fn size(&self) -> PageSize {
        self.size
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// SSI's `totalRecord`: rows across all pages, when sent.
    pub total_record: Option<u64>,
    /// Which page this is.
    pub paging: Paging,
}

/// A FC Data REST query: its endpoint, row type and parameters.
pub trait DataQuery {
    /// Row type of `data[]`.
    type Item: DeserializeOwned;
    /// Endpoint name under [`API_ROOT`], e.g. `DailyOhlc`.
    const ENDPOINT: &'static str;
    /// Query parameters except paging, with SSI's names.
    fn params(&self) -> Vec<(&'static str, String)>;
}

fn push_opt(params: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<String>) {
    if let Some(v) = value {
        params.push((key, v));
    }
}

/// `Securities`: the securities list, optionally of one market.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecuritiesQuery {
    /// `market`: HOSE, HNX, UPCOM or DER; all when `None`.
    pub market: Option<Exchange>,
}

impl DataQuery for SecuritiesQuery {
    type Item = Security;
    const ENDPOINT: &'static str = "Securities";
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        push_opt(
            &mut p,
            "market",
            self.market.as_ref().map(|m| m.to_string()),
        );
        p
    }
}

/// `SecuritiesDetails`: reference data of one symbol or of a whole market.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecuritiesDetailsQuery {
    /// `market`.
    pub market: Option<Exchange>,
    /// `symbol`; the whole market when `None`.
    pub symbol: Option<String>,
}

impl DataQuery for SecuritiesDetailsQuery {
    type Item = SecuritiesDetails;
    const ENDPOINT: &'static str = "SecuritiesDetails";
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        push_opt(
            &mut p,
            "market",
            self.market.as_ref().map(|m| m.to_string()),
        );
        push_opt(&mut p, "symbol", self.symbol.clone());
        p
    }
}

/// `IndexComponents`: constituents of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexComponentsQuery {
    /// `indexCode`, e.g. `VN30`.
    pub index_code: String,
}

impl DataQuery for IndexComponentsQuery {
    type Item = IndexComponents;
    const ENDPOINT: &'static str = "IndexComponents";
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![("indexCode", self.index_code.clone())]
    }
}

/// `IndexList`: indexes of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexListQuery {
    /// `exchange`: HOSE or HNX.
    pub exchange: Exchange,
}

impl DataQuery for IndexListQuery {
    type Item = IndexInfo;
    const ENDPOINT: &'static str = "IndexList";
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![("exchange", self.exchange.to_string())]
    }
}

/// `DailyOhlc`: daily bars of a symbol (SSI caps the range at 30 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyOhlcQuery {
    /// `symbol`: stock, index or derivative.
    pub symbol: String,
    /// `fromDate`.
    pub from: Date,
    /// `toDate`.
    pub to: Date,
    /// `ascending`: oldest first.
    pub ascending: bool,
}

impl DailyOhlcQuery {
    /// Bars of `symbol` from `from` to `to`, oldest first.
    pub fn new(symbol: impl Into<String>, from: Date, to: Date) -> Self {
        Self {
            symbol: symbol.into(),
            from,
            to,
            ascending: true,
        }
    }
}

impl DataQuery for DailyOhlcQuery {
    type Item = DailyOhlc;
    const ENDPOINT: &'static str = "DailyOhlc";
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("symbol", self.symbol.clone()),
            ("fromDate", format_date(self.from)),
            ("toDate", format_date(self.to)),
            ("ascending", self.ascending.to_string()),
        ]
    }
}

/// `IntradayOhlc`: intraday bars of a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntradayOhlcQuery {
    /// `symbol`.
    pub symbol: String,
    /// `fromDate`.
    pub from: Date,
    /// `toDate`.
    pub to: Date,
    /// `ascending`.
    pub ascending: bool,
    /// `resolution` (SSI: "default 1 minute"; samples use 1, 10, 60).
    pub resolution: u32,
}

impl IntradayOhlcQuery {
    /// One-minute bars of `symbol`, oldest first.
    pub fn new(symbol: impl Into<String>, from: Date, to: Date) -> Self {
        Self {
            symbol: symbol.into(),
            from,
            to,
            ascending: true,
            resolution: 1,
        }
    }
}

impl DataQuery for IntradayOhlcQuery {
    type Item = IntradayOhlc;
    const ENDPOINT: &'static str = "IntradayOhlc";
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("symbol", self.symbol.clone()),
            ("fromDate", format_date(self.from)),
            ("toDate", format_date(self.to)),
            ("ascending", self.ascending.to_string()),
            ("resolution", self.resolution.to_string()),
        ]
    }
}

/// `DailyIndex`: daily statistics of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyIndexQuery {
    /// `indexId`, e.g. `VN30`, `HNXIndex`.
    pub index_id: String,
    /// `fromDate`.
    pub from: Date,
    /// `toDate`.
    pub to: Date,
    /// `ascending`.
    pub ascending: bool,
}

impl DailyIndexQuery {
    /// Days of `index_id` from `from` to `to`, oldest first.
    pub fn new(index_id: impl Into<String>, from: Date, to: Date) -> Self {
        Self {
            index_id: index_id.into(),
            from,
            to,
            ascending: true,
        }
    }
}

impl DataQuery for DailyIndexQuery {
    type Item = DailyIndex;
    const ENDPOINT: &'static str = "DailyIndex";
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("indexId", self.index_id.clone()),
            ("fromDate", format_date(self.from)),
            ("toDate", format_date(self.to)),
            ("ascending", self.ascending.to_string()),
        ]
    }
}

/// `DailyStockPrice`: daily price/volume/foreign-flow statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyStockPriceQuery {
    /// `symbol`; all of `market` when `None`.
    pub symbol: Option<String>,
    /// `market`: HOSE, HNX, UPCOM, DER or BOND.
    pub market: Option<Exchange>,
    /// `fromDate`.
    pub from: Date,
    /// `toDate`.
    pub to: Date,
}

impl DataQuery for DailyStockPriceQuery {
    type Item = DailyStockPrice;
    const ENDPOINT: &'static str = "DailyStockPrice";
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        push_opt(&mut p, "symbol", self.symbol.clone());
        p.push(("fromDate", format_date(self.from)));
        p.push(("toDate", format_date(self.to)));
        push_opt(
            &mut p,
            "market",
            self.market.as_ref().map(|m| m.to_string()),
        );
        p
    }
}

/// FC Data REST client. Cheap to clone; clones share the token, limiter and connection pool.
#[derive(Debug, Clone)]
pub struct DataClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: DataConfig,
    pub(crate) http: reqwest::Client,
    rest: Rest,
    tokens: TokenCache,
    /// Where tokens come from when not from this client's own login.
    provider: Option<SharedTokenProvider>,
    rejected: Rejected,
}

impl TokenSource for Inner {
    fn token(&self) -> impl std::future::Future<Output = Result<Token>> + Send {
        self.tokens.get(|| async {
            match &self.provider {
                Some(p) => Ok(p.token(TokenKind::Data, self.rejected.take()).await?.into()),
                None => self.fetch_token().await,
            }
        })
    }

    fn invalidate(&self, stale: &Token) -> impl std::future::Future<Output = ()> + Send {
        self.rejected.set(&stale.value);
        self.tokens.invalidate(stale)
    }
}

#[derive(serde::Serialize)]
struct AccessTokenBody<'a> {
    #[serde(rename = "consumerID")]
    consumer_id: &'a str,
    #[serde(rename = "consumerSecret")]
    consumer_secret: &'a str,
}

#[derive(serde::Deserialize)]
struct AccessTokenData {
    #[serde(rename = "accessToken")]
    access_token: String,
}

impl Inner {
    async fn fetch_token(&self) -> Result<Token> {
        let body = serde_json::to_vec(&AccessTokenBody {
            consumer_id: &self.config.consumer_id,
            consumer_secret: self.config.consumer_secret.expose_secret(),
        })
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let request = RestRequest::post(format!("{API_ROOT}/AccessToken"), body);
        let data: AccessTokenData = self
            .rest
            .call(None::<&crate::http::NoAuth>, &request)
            .await?
            .parse()?;
        tracing::debug!("FC Data access token renewed");
        Ok(Token::from_jwt(
            SecretString::from(data.access_token),
            Duration::from_secs(self.config.http.fallback_token_lifetime_secs),
        ))
    }
}

impl DataClient {
    /// A client for `config`. Nothing is sent until the first call.
    pub fn new(config: DataConfig) -> Result<Self> {
        Self::build(config, None)
    }

    /// A client whose tokens come from `provider` instead of its own login (the credentials
    /// in `config` are then not used, and may be empty).
    pub fn with_token_provider(config: DataConfig, provider: SharedTokenProvider) -> Result<Self> {
        Self::build(config, Some(provider))
    }

    fn build(config: DataConfig, provider: Option<SharedTokenProvider>) -> Result<Self> {
        if provider.is_none() {
            crate::config::require_credentials(
                "data.consumer_id and data.consumer_secret",
                &config.consumer_id,
                &config.consumer_secret,
            )?;
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.http.timeout_ms))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let rest = Rest::new(http.clone(), &config.url, &config.http)?;
        let tokens = TokenCache::new(Duration::from_secs(config.http.token_refresh_margin_secs));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                rest,
                tokens,
                provider,
                rejected: Rejected::default(),
            }),
        })
    }

    /// Logs in with the configured credentials now, bypassing the cache: what a
    /// [`crate::TokenProvider`] calls to obtain the token it hands out.
    pub async fn issue_token(&self) -> Result<IssuedToken> {
        Ok(self.inner.fetch_token().await?.issued(false))
    }

    /// The configuration in use.
    pub fn config(&self) -> &DataConfig {
        &self.inner.config
    }

    /// A valid access token (cached; renewed when less than the configured margin is left
    /// before its `exp`). The same token authenticates the streaming hub.
    pub async fn access_token(&self) -> Result<SecretString> {
        Ok(self.inner.token().await?.value)
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// One page of `query`.
    pub async fn page<Q: DataQuery>(&self, query: &Q, paging: Paging) -> Result<Page<Q::Item>> {
        let mut params = query.params();
        params.push(("pageIndex", paging.index.to_string()));
        params.push(("pageSize", paging.size.rows().to_string()));
        let request = RestRequest::get(format!("{API_ROOT}/{}", Q::ENDPOINT), params);
        let envelope = self.inner.rest.call(Some(&*self.inner), &request).await?;
        let total_record = envelope.total_record;
        let items = match envelope.data {
            // SSI answers `data: null` for an empty result.
            serde_json::Value::Null => Vec::new(),
            serde_json::Value::Bool(_)
            | serde_json::Value::Number(_)
            | serde_json::Value::String(_)
            | serde_json::Value::Array(_)
            | serde_json::Value::Object(_) => envelope.parse()?,
        };
        Ok(Page {
            items,
            total_record,
            paging,
        })
    }

    /// Every row of `query`, fetched page by page with 1000-row pages.
    pub async fn all<Q: DataQuery>(&self, query: &Q) -> Result<Vec<Q::Item>> {
        self.all_with(query, PageSize::S1000).await
    }

    /// Every row of `query`, fetched page by page with `size`-row pages. SSI serves at most
    /// 10 pages: when `totalRecord` says more exist, the result is [`Error::PageLimit`].
    pub async fn all_with<Q: DataQuery>(&self, query: &Q, size: PageSize) -> Result<Vec<Q::Item>> {
        let mut items = Vec::new();
        let mut total = None;
        for index in 1..=MAX_PAGE_INDEX {
            let page = self.page(query, Paging { index, size }).await?;
            let rows = page.items.len();
            total = page.total_record.or(total);
            items.extend(page.items);
            let reached_total = total.is_some_and(|t| items.len() as u64 >= t);
            if rows < size.rows() as usize || reached_total {
                return Ok(items);
            }
        }
        match total {
            Some(total_record) if total_record > items.len() as u64 => Err(Error::PageLimit {
                endpoint: Q::ENDPOINT.to_owned(),
                total_record,
                reachable: u64::from(MAX_PAGE_INDEX) * u64::from(size.rows()),
            }),
            Some(_) | None => Ok(items),
        }
    }

    /// Opens the market-data stream with `channels` subscribed; see [`stream`].
    pub fn stream(
        &self,
        channels: impl IntoIterator<Item = Channel>,
    ) -> Result<(MarketSubscription, MarketEvents)> {
        stream::open(self.clone(), channels.into_iter().collect())
    }
}
