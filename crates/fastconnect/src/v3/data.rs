//! v3 market-data REST (`/api/v3/data/...`), all GET.

use std::sync::Arc;

use serde::Deserialize;
use time::{Date, PrimitiveDateTime};

use crate::decimal::Decimal;
use crate::error::{Error, Result};
use crate::v3::client::{Core, decode_rows, rows};
use crate::v3::rest::Reply;
use crate::v3::wire::{
    de_date, de_decimal, de_int, de_string, de_text, format_date, format_datetime,
};

const OHLC: &str = "/api/v3/data/ohlc";
const INDEX_LIST: &str = "/api/v3/data/indexList";
const INDEX_SUMMARY: &str = "/api/v3/data/indexSummary";
const SECURITIES_BY_BOARD: &str = "/api/v3/data/securitiesByBoard";
const SECURITIES_SUMMARY: &str = "/api/v3/data/securitiesSummary";
const MASTER_DATA: &str = "/api/v3/data/masterdata";
const CORPORATE_ACTIONS: &str = "/api/v3/data/corporateActions";

/// Rows per page when fetching everything (the SDK's choice; SSI's default is 10).
pub const ALL_PAGE_SIZE: u32 = 1_000;
/// Most pages [`DataClient`]'s `*_all` calls fetch before giving up (a server that never
/// answers a short page would otherwise loop forever).
pub const MAX_PAGES: u32 = 10_000;

/// An exchange board of the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Board {
    /// HOSE.
    Hose,
    /// HNX.
    Hnx,
    /// UPCoM.
    Upcom,
}

impl Board {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Board::Hose => "HOSE",
            Board::Hnx => "HNX",
            Board::Upcom => "UPCOM",
        }
    }
}

/// `timeFrame` of OHLC bars (`1w`/`1M` are refused by SSI: 400210).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFrame {
    /// 1 minute.
    M1,
    /// 3 minutes.
    M3,
    /// 5 minutes.
    M5,
    /// 15 minutes.
    M15,
    /// 1 hour.
    H1,
    /// 1 day.
    D1,
}

impl TimeFrame {
    /// Every time frame.
    pub const ALL: [TimeFrame; 6] = [
        TimeFrame::M1,
        TimeFrame::M3,
        TimeFrame::M5,
        TimeFrame::M15,
        TimeFrame::H1,
        TimeFrame::D1,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeFrame::M1 => "1m",
            TimeFrame::M3 => "3m",
            TimeFrame::M5 => "5m",
            TimeFrame::M15 => "15m",
            TimeFrame::H1 => "1h",
            TimeFrame::D1 => "1d",
        }
    }
}

/// One page request: `pageIndex` from 1, `pageSize` from 1 (SSI validates neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page.
    pub index: u32,
    /// Rows per page.
    pub size: u32,
}

impl PageRequest {
    /// A page; 0 is refused.
    pub fn new(index: u32, size: u32) -> Result<Self> {
        if index == 0 || size == 0 {
            return Err(Error::InvalidRequest(
                "pageIndex and pageSize start at 1".to_owned(),
            ));
        }
        Ok(Self { index, size })
    }

    fn params(self, q: &mut Vec<(&'static str, String)>) {
        q.push(("pageIndex", self.index.to_string()));
        q.push(("pageSize", self.size.to_string()));
    }
}

/// One page of rows with SSI's page count when it sends one.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// `pagesCount`, if sent.
    pub pages_count: Option<u32>,
}

/// An OHLC query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OhlcQuery {
    /// One symbol.
    pub symbol: String,
    /// From (local time).
    pub from: PrimitiveDateTime,
    /// To (local time).
    pub to: PrimitiveDateTime,
    /// Bar size.
    pub time_frame: TimeFrame,
}

/// An OHLC bar. `ohlc` answers newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OhlcBar {
    /// Symbol.
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    /// Bar time as SSI wrote it (format varies; see [`OhlcBar::time`]).
    #[serde(default, deserialize_with = "de_text")]
    pub trading_date: String,
    /// Open.
    #[serde(default, with = "de_decimal")]
    pub open: Option<Decimal>,
    /// High.
    #[serde(default, with = "de_decimal")]
    pub high: Option<Decimal>,
    /// Low.
    #[serde(default, with = "de_decimal")]
    pub low: Option<Decimal>,
    /// Close.
    #[serde(default, with = "de_decimal")]
    pub close: Option<Decimal>,
    /// Volume.
    #[serde(default, with = "de_int")]
    pub volume: Option<i64>,
    /// Value (VND).
    #[serde(default, with = "de_decimal")]
    pub value: Option<Decimal>,
}

impl OhlcBar {
    /// `tradingDate` parsed (`YYYY/MM/DD[ HH:MM:SS]`, `DD/MM/YYYY ...` or ISO).
    pub fn time(&self) -> Option<PrimitiveDateTime> {
        crate::v3::wire::parse_datetime(&self.trading_date)
    }
}

/// An index of `indexList`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexInfo {
    /// Index code (`VN30`).
    #[serde(default, deserialize_with = "de_text")]
    pub index: String,
    /// Name.
    #[serde(default, deserialize_with = "de_text")]
    pub index_name: String,
    /// Board.
    #[serde(default, deserialize_with = "de_text")]
    pub board: String,
}

/// Which indexes `indexSummary` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSelector {
    /// One index.
    Index(String),
    /// Every index of a board.
    Board(Board),
}

/// A row of `indexSummary`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct IndexSummary {
    /// Index code, when sent.
    #[serde(default, with = "de_string", alias = "indexId")]
    pub index: Option<String>,
    /// Trading date.
    #[serde(default, with = "de_date")]
    pub trading_date: Option<Date>,
    #[serde(default, with = "de_decimal")]
    pub index_value: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub index_change: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub index_change_percentage: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_trade: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_trade_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_match: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_match_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_deal: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_deal_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_advance_stock: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_decline_stock: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_no_change_stock: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_ceiling_stock: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_floor_stock: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_prop_buy: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_prop_buy_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_prop_sell: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_prop_sell_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_buy_foreign: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_buy_foreign_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_sell_foreign: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_sell_foreign_value: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub net_purchases_foreign_volume: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub net_purchases_foreign_value: Option<Decimal>,
}

/// Which securities `securitiesByBoard` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecuritySelector {
    /// One symbol.
    Symbol(String),
    /// A board.
    Board(Board),
    /// An index's constituents.
    Index(String),
}

/// A security of `securitiesByBoard`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct SecurityInfo {
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_string")]
    pub board: Option<String>,
    #[serde(default, with = "de_string")]
    pub index: Option<String>,
    /// Vietnamese name (the portal sample misspells the key `symboNameVi`).
    #[serde(default, with = "de_string", alias = "symboNameVi")]
    pub symbol_name_vi: Option<String>,
    #[serde(default, with = "de_string")]
    pub symbol_name_en: Option<String>,
    #[serde(default, with = "de_int")]
    pub lot_size: Option<i64>,
    #[serde(default, with = "de_date")]
    pub maturity_date: Option<Date>,
    #[serde(default, with = "de_date")]
    pub first_trading_date: Option<Date>,
    #[serde(default, with = "de_date")]
    pub last_trading_date: Option<Date>,
    #[serde(default, with = "de_string")]
    pub cw_underlying_symbol: Option<String>,
    #[serde(default, with = "de_decimal")]
    pub cw_exercise_price: Option<Decimal>,
    /// Conversion ratio as sent (`"5:1"` or a number).
    #[serde(default, with = "de_string")]
    pub cw_execution_ratio: Option<String>,
    #[serde(default, with = "de_int")]
    pub listed_share: Option<i64>,
    #[serde(default, with = "de_string")]
    pub icb_code: Option<String>,
    #[serde(default, with = "de_string")]
    pub icb_name: Option<String>,
    #[serde(default, with = "de_decimal")]
    pub i_nav: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub open_interest: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub settlement_price: Option<Decimal>,
    #[serde(default, with = "de_string")]
    pub stock_type: Option<String>,
}

/// `securitiesSummary` needs a symbol XOR an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummarySelector {
    /// One symbol.
    Symbol(String),
    /// An index's constituents.
    Index(String),
}

/// A row of `securitiesSummary`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct SecuritySummary {
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_date")]
    pub trading_date: Option<Date>,
    #[serde(default, with = "de_decimal")]
    pub price_change: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub price_change_percentage: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub open: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub high: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub low: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub close: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub average: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_match: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_match_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_buy: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_trade_buy: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_sell: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_trade_sell: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_foreign_buy: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_foreign_buy_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub total_foreign_sell: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_foreign_sell_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub remain_foreign_room: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_foreign_room: Option<i64>,
    #[serde(default, with = "de_int")]
    pub total_deal: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub total_deal_value: Option<Decimal>,
    #[serde(default, with = "de_int")]
    pub open_interest: Option<i64>,
    #[serde(default, with = "de_decimal")]
    pub settlement_price: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub ceiling: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub floor: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub ref_price: Option<Decimal>,
}

/// A row of `masterdata`: a symbol's price band on a day.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct MasterDataRow {
    #[serde(default, with = "de_string")]
    pub board: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_date")]
    pub trading_date: Option<Date>,
    #[serde(default, with = "de_decimal")]
    pub ceiling: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub floor: Option<Decimal>,
    #[serde(default, with = "de_decimal")]
    pub ref_price: Option<Decimal>,
}

/// Language of `corporateActions` texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Vietnamese (`vn`).
    Vietnamese,
    /// English (`en`).
    English,
}

/// A `corporateActions` query: at most 5 days, page size 10/20/50/100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorporateActionsQuery {
    /// From.
    pub from: Date,
    /// To (at most 5 days after `from`).
    pub to: Date,
    /// Only this symbol.
    pub symbol: Option<String>,
    /// Text language.
    pub language: Language,
    /// Page (from 1).
    pub page_index: u32,
    /// 10, 20, 50 or 100.
    pub page_size: u32,
}

/// A corporate action.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CorporateAction {
    #[serde(default, deserialize_with = "de_text")]
    pub symbol: String,
    #[serde(default, with = "de_string")]
    pub event_title: Option<String>,
    #[serde(default, with = "de_date")]
    pub exright_date: Option<Date>,
    #[serde(default, with = "de_date")]
    pub record_date: Option<Date>,
    #[serde(default, with = "de_date")]
    pub issue_date: Option<Date>,
    #[serde(default, with = "de_string")]
    pub exchange: Option<String>,
    /// Ratio as sent.
    #[serde(default, with = "de_string")]
    pub ratio: Option<String>,
}

/// v3 market-data REST. Get one from [`crate::v3::Client::data`].
#[derive(Debug, Clone)]
pub struct DataClient {
    pub(crate) core: Arc<Core>,
}

fn check_code(name: &str, value: &str) -> Result<()> {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::InvalidRequest(format!(
            "{name} must be letters and digits, got {value:?}"
        )));
    }
    Ok(())
}

fn check_range<T: PartialOrd>(from: T, to: T) -> Result<()> {
    if from > to {
        return Err(Error::InvalidRequest("from is after to".to_owned()));
    }
    Ok(())
}

/// Minute/hour bars: SSI answers nothing at all when `to` is after today (SDK
/// `_clamp_future_end`), so a range that starts today or earlier and ends later is cut to the
/// end of today. Daily bars and ranges starting in the future are left alone.
fn clamp_future_end(
    time_frame: TimeFrame,
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
    today: Date,
) -> PrimitiveDateTime {
    if time_frame != TimeFrame::D1 && to.date() > today && from.date() <= today {
        PrimitiveDateTime::new(today, time::macros::time!(23:59:59))
    } else {
        to
    }
}

fn pages_count(reply: &Reply) -> Option<u32> {
    match reply {
        Reply::Json(v) => crate::v3::wire::opt_int(v.get("pagesCount")?)
            .ok()
            .flatten()
            .and_then(|n| u32::try_from(n).ok()),
        Reply::Empty => None,
    }
}

impl DataClient {
    async fn paged<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<Paged<T>> {
        let reply = self.core.get(path, query).await?;
        let pages_count = pages_count(&reply);
        let rows = decode_rows(path, rows(path, reply)?)?;
        Ok(Paged { rows, pages_count })
    }

    /// Pages from 1 until `pagesCount` is reached or a page is short.
    async fn all<T, F>(&self, path: &str, base: F) -> Result<Vec<T>>
    where
        T: serde::de::DeserializeOwned,
        F: Fn() -> Vec<(&'static str, String)>,
    {
        let mut out = Vec::new();
        for index in 1..=MAX_PAGES {
            let mut q = base();
            PageRequest {
                index,
                size: ALL_PAGE_SIZE,
            }
            .params(&mut q);
            let page: Paged<T> = self.paged(path, q).await?;
            let short = page.rows.len() < ALL_PAGE_SIZE as usize;
            let last = page.pages_count.is_some_and(|n| index >= n);
            out.extend(page.rows);
            if short || last {
                return Ok(out);
            }
        }
        Err(Error::Protocol(format!(
            "{path} still had rows after {MAX_PAGES} pages"
        )))
    }

    fn ohlc_params(q: &OhlcQuery) -> Result<Vec<(&'static str, String)>> {
        check_code("symbol", &q.symbol)?;
        check_range(q.from, q.to)?;
        let today = time::OffsetDateTime::now_utc()
            .to_offset(crate::wire::VIETNAM_OFFSET)
            .date();
        let to = clamp_future_end(q.time_frame, q.from, q.to, today);
        Ok(vec![
            ("symbol", q.symbol.to_ascii_uppercase()),
            ("from", format_datetime(q.from)),
            ("to", format_datetime(to)),
            ("timeFrame", q.time_frame.as_str().to_owned()),
        ])
    }

    /// `ohlc`: one page of bars (newest first; SSI sends no page count).
    pub async fn ohlc(&self, query: &OhlcQuery, page: PageRequest) -> Result<Vec<OhlcBar>> {
        let mut q = Self::ohlc_params(query)?;
        page.params(&mut q);
        Ok(self.paged(OHLC, q).await?.rows)
    }

    /// `ohlc`: every bar of the range, paging by [`ALL_PAGE_SIZE`].
    pub async fn ohlc_all(&self, query: &OhlcQuery) -> Result<Vec<OhlcBar>> {
        let base = Self::ohlc_params(query)?;
        self.all(OHLC, || base.clone()).await
    }

    /// `indexList`, optionally of one board.
    pub async fn index_list(&self, board: Option<Board>) -> Result<Vec<IndexInfo>> {
        let q = board
            .map(|b| vec![("board", b.as_str().to_owned())])
            .unwrap_or_default();
        let reply = self.core.get(INDEX_LIST, q).await?;
        decode_rows(INDEX_LIST, rows(INDEX_LIST, reply)?)
    }

    /// `indexSummary` of one index or a board, optionally on a date.
    pub async fn index_summary(
        &self,
        selector: &IndexSelector,
        trading_date: Option<Date>,
    ) -> Result<Vec<IndexSummary>> {
        let mut q = match selector {
            IndexSelector::Index(index) => {
                check_code("index", index)?;
                vec![("index", index.to_ascii_uppercase())]
            }
            IndexSelector::Board(board) => vec![("board", board.as_str().to_owned())],
        };
        if let Some(date) = trading_date {
            q.push(("tradingDate", format_date(date)));
        }
        let reply = self.core.get(INDEX_SUMMARY, q).await?;
        decode_rows(INDEX_SUMMARY, rows(INDEX_SUMMARY, reply)?)
    }

    /// `securitiesByBoard` by symbol, board or index.
    pub async fn securities_by_board(
        &self,
        selector: &SecuritySelector,
    ) -> Result<Vec<SecurityInfo>> {
        let q = match selector {
            SecuritySelector::Symbol(s) => {
                check_code("symbol", s)?;
                vec![("symbol", s.to_ascii_uppercase())]
            }
            SecuritySelector::Board(b) => vec![("board", b.as_str().to_owned())],
            SecuritySelector::Index(i) => {
                check_code("index", i)?;
                vec![("index", i.to_ascii_uppercase())]
            }
        };
        let reply = self.core.get(SECURITIES_BY_BOARD, q).await?;
        decode_rows(SECURITIES_BY_BOARD, rows(SECURITIES_BY_BOARD, reply)?)
    }

    fn summary_params(
        selector: &SummarySelector,
        from: Date,
        to: Date,
    ) -> Result<Vec<(&'static str, String)>> {
        check_range(from, to)?;
        let mut q = match selector {
            SummarySelector::Symbol(s) => {
                check_code("symbol", s)?;
                vec![("symbol", s.to_ascii_uppercase())]
            }
            SummarySelector::Index(i) => {
                check_code("index", i)?;
                vec![("index", i.to_ascii_uppercase())]
            }
        };
        q.push(("from", format_date(from)));
        q.push(("to", format_date(to)));
        Ok(q)
    }

    /// `securitiesSummary`: one page.
    pub async fn securities_summary(
        &self,
        selector: &SummarySelector,
        from: Date,
        to: Date,
        page: PageRequest,
    ) -> Result<Paged<SecuritySummary>> {
        let mut q = Self::summary_params(selector, from, to)?;
        page.params(&mut q);
        self.paged(SECURITIES_SUMMARY, q).await
    }

    /// `securitiesSummary`: every page.
    pub async fn securities_summary_all(
        &self,
        selector: &SummarySelector,
        from: Date,
        to: Date,
    ) -> Result<Vec<SecuritySummary>> {
        let base = Self::summary_params(selector, from, to)?;
        self.all(SECURITIES_SUMMARY, || base.clone()).await
    }

    /// `masterdata`: one page.
    pub async fn master_data(
        &self,
        from: Date,
        to: Date,
        page: PageRequest,
    ) -> Result<Paged<MasterDataRow>> {
        check_range(from, to)?;
        let mut q = vec![("from", format_date(from)), ("to", format_date(to))];
        page.params(&mut q);
        self.paged(MASTER_DATA, q).await
    }

    /// `masterdata`: every page.
    pub async fn master_data_all(&self, from: Date, to: Date) -> Result<Vec<MasterDataRow>> {
        check_range(from, to)?;
        self.all(MASTER_DATA, || {
            vec![("from", format_date(from)), ("to", format_date(to))]
        })
        .await
    }

    /// `corporateActions` (one page; SSI caps the range at 5 days).
    pub async fn corporate_actions(
        &self,
        query: &CorporateActionsQuery,
    ) -> Result<Vec<CorporateAction>> {
        check_range(query.from, query.to)?;
        if (query.to - query.from).whole_days() > 5 {
            return Err(Error::InvalidRequest(
                "corporateActions covers at most 5 days".to_owned(),
            ));
        }
        if ![10, 20, 50, 100].contains(&query.page_size) || query.page_index == 0 {
            return Err(Error::InvalidRequest(
                "corporateActions pageSize is 10, 20, 50 or 100 and pageIndex starts at 1"
                    .to_owned(),
            ));
        }
        let mut q = vec![
            ("from", format_date(query.from)),
            ("to", format_date(query.to)),
            (
                "language",
                match query.language {
                    Language::Vietnamese => "vn",
                    Language::English => "en",
                }
                .to_owned(),
            ),
            ("pageIndex", query.page_index.to_string()),
            ("pageSize", query.page_size.to_string()),
        ];
        if let Some(symbol) = &query.symbol {
            check_code("symbol", symbol)?;
            q.push(("symbol", symbol.to_ascii_uppercase()));
        }
        let reply = self.core.get(CORPORATE_ACTIONS, q).await?;
        decode_rows(CORPORATE_ACTIONS, rows(CORPORATE_ACTIONS, reply)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn intraday_ranges_ending_after_today_are_cut_to_the_end_of_today() {
        let today = date!(2026 - 05 - 04);
        let from = datetime!(2026-05-04 09:00);
        let far = datetime!(2026-06-01 15:00);
        assert_eq!(
            clamp_future_end(TimeFrame::M5, from, far, today),
            datetime!(2026-05-04 23:59:59)
        );
        assert_eq!(clamp_future_end(TimeFrame::D1, from, far, today), far);
        let future = datetime!(2026-05-05 09:00);
        assert_eq!(clamp_future_end(TimeFrame::M1, future, far, today), far);
        let past_to = datetime!(2026-05-04 15:00);
        assert_eq!(
            clamp_future_end(TimeFrame::H1, from, past_to, today),
            past_to
        );
    }
}
